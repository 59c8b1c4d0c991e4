//! How the connector opens its sockets: the TCP options given to the builder, applied to
//! hyper-util's `HttpConnector`, or the Unix socket that replaces TCP.

use std::io;
use std::net::IpAddr;
#[cfg(unix)]
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;

use crate::connect::dns::Resolver;
use crate::error::BoxError;

/// The socket settings, as plain data; the defaults are reqwest 0.13's.
#[derive(Clone, Debug)]
pub(crate) struct SocketOptions {
    /// `TCP_NODELAY` (default on).
    pub(crate) nodelay: bool,
    /// `SO_KEEPALIVE` and the idle time before the first probe (default 15 s).
    pub(crate) keepalive: Option<Duration>,
    /// The time between probes (default 15 s).
    pub(crate) keepalive_interval: Option<Duration>,
    /// The probes without answer before the connection is dropped (default 3).
    pub(crate) keepalive_retries: Option<u32>,
    /// `TCP_USER_TIMEOUT` (default 30 s).
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub(crate) user_timeout: Option<Duration>,
    /// The local address connections are bound to.
    pub(crate) local_address: Option<IpAddr>,
    /// The network interface connections are bound to.
    #[cfg(bind_interface)]
    pub(crate) interface: Option<String>,
    /// Every connection goes to this socket instead (no DNS, no TCP, no proxy).
    #[cfg(unix)]
    pub(crate) unix_socket: Option<Arc<Path>>,
}

impl Default for SocketOptions {
    fn default() -> SocketOptions {
        SocketOptions {
            nodelay: true,
            keepalive: Some(Duration::from_secs(15)),
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_retries: Some(3),
            #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
            user_timeout: Some(Duration::from_secs(30)),
            local_address: None,
            #[cfg(bind_interface)]
            interface: None,
            #[cfg(unix)]
            unix_socket: None,
        }
    }
}

impl SocketOptions {
    /// hyper-util's TCP connector with these options, resolving names with `resolver`.
    /// During a TLS handshake `TCP_NODELAY` is on whatever the setting (see
    /// `Connector::call`).
    pub(crate) fn tcp(&self, resolver: Resolver) -> HttpConnector<Resolver> {
        let mut http = HttpConnector::new_with_resolver(resolver);
        http.enforce_http(false);
        http.set_nodelay(self.nodelay);
        // hyper-util switches keepalive on for an interval or a count alone: `None` must
        // mean off.
        if self.keepalive.is_some() {
            http.set_keepalive(self.keepalive);
            http.set_keepalive_interval(self.keepalive_interval);
            http.set_keepalive_retries(self.keepalive_retries);
        }
        #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
        http.set_tcp_user_timeout(self.user_timeout);
        http.set_local_address(self.local_address);
        #[cfg(bind_interface)]
        if let Some(interface) = &self.interface {
            http.set_interface(interface.clone());
        }
        http
    }

    /// What a connection is bound to, for the errors of a failed bind; `None` when
    /// neither `local_address` nor `interface` is set.
    pub(crate) fn binding(&self) -> Option<Arc<Binding>> {
        #[cfg(bind_interface)]
        let interface = self.interface.clone();
        #[cfg(not(bind_interface))]
        let interface = None;
        if self.local_address.is_none() && interface.is_none() {
            return None;
        }
        Some(Arc::new(Binding {
            local_address: self.local_address,
            interface,
        }))
    }
}

/// Where the builder binds connections (`local_address`, `interface`).
#[derive(Debug)]
pub(crate) struct Binding {
    local_address: Option<IpAddr>,
    interface: Option<String>,
}

impl Binding {
    /// `err` in words that name the setting, when it is hyper-util's failure to bind
    /// (whose only words are "tcp bind local error" or "tcp bind interface error",
    /// test `sockets::a_local_address_this_machine_lacks_fails_naming_the_setting`).
    pub(crate) fn explain(&self, err: BoxError) -> BoxError {
        let failed =
            crate::error::chain(&*err).find_map(|cause| match cause.to_string().as_str() {
                "tcp bind local error" => Some(Bind::Local),
                "tcp bind interface error" => Some(Bind::Interface),
                _ => None,
            });
        let why = crate::error::innermost(&*err);
        let message = match (failed, self.local_address, &self.interface) {
            (Some(Bind::Local), Some(ip), _) => format!(
                "could not bind the connection to local_address {ip}: {why} (is it an \
                 address of this machine?)"
            ),
            (Some(Bind::Interface), _, Some(name)) => format!(
                "could not bind the connection to interface {name:?}: {why} (is it the name \
                 of a network interface of this machine?)"
            ),
            _ => return err,
        };
        let kind = crate::error::chain(&*err)
            .find_map(|c| c.downcast_ref::<io::Error>())
            .map_or(io::ErrorKind::Other, io::Error::kind);
        Box::new(io::Error::new(kind, message))
    }
}

enum Bind {
    Local,
    Interface,
}

#[cfg(unix)]
pub use uds::UnixSocketProvider;

/// reqwest's sealed trait for the paths `unix_socket` takes.
#[cfg(unix)]
mod uds {
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    /// A path to a Unix socket, for
    /// [`ClientBuilder::unix_socket`](crate::ClientBuilder::unix_socket): `String`, `&str`,
    /// `&Path`, `PathBuf` or `Arc<Path>`. Sealed: no other type can implement it.
    pub trait UnixSocketProvider {
        #[doc(hidden)]
        fn wireline_uds_path(&self, _: Internal) -> &Path;
    }

    /// Keeps [`UnixSocketProvider`] sealed: no type outside wireline can name it.
    #[allow(missing_debug_implementations, unreachable_pub)]
    pub struct Internal(pub(crate) ());

    macro_rules! as_path {
        ($($t:ty,)+) => {
            $(
                impl UnixSocketProvider for $t {
                    fn wireline_uds_path(&self, _: Internal) -> &Path {
                        self.as_ref()
                    }
                }
            )+
        }
    }

    as_path![String, &'_ str, &'_ Path, PathBuf, Arc<Path>,];
}

#[cfg(unix)]
pub(crate) use uds::Internal;
