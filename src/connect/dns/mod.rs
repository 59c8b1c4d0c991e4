//! Name resolution: the names a custom resolver is written with ([`Resolve`], [`Name`],
//! [`Addrs`], [`Resolving`], as in reqwest 0.13), public as `wireline::dns`.
//!
//! A client resolves a host name by the first of these that applies:
//!
//! 1. an override given to [`ClientBuilder::resolve`](crate::ClientBuilder::resolve) or
//!    [`resolve_to_addrs`](crate::ClientBuilder::resolve_to_addrs) for that exact name
//!    (curl's `--resolve`);
//! 2. the resolver given to [`ClientBuilder::dns_resolver`](crate::ClientBuilder::dns_resolver);
//! 3. hickory-resolver, with the `hickory-dns` Cargo feature unless
//!    [`hickory_dns(false)`](crate::ClientBuilder::no_hickory_dns);
//! 4. the system's resolver (`getaddrinfo`, on tokio's blocking pool).
//!
//! An IP address in the URL is never resolved.
//!
//! **Ports.** A port in the URL is always the one connected to. When the URL has none, an
//! address's own port is used, and port `0` stands for the scheme's (80 or 443): so
//! `resolve("api.test", "10.0.0.7:0".parse()?)` keeps the URL's port, and
//! `resolve("api.test", "10.0.0.7:8443".parse()?)` sends `https://api.test/` to port 8443.
//! This is reqwest's rule, which hyper-util's `HttpConnector` applies to every answer.
//!
//! **TLS still checks the URL's name.** Only where the connection goes changes: the
//! handshake sends the URL's host as SNI and the certificate must be valid for it, as
//! with curl's `--resolve`. Overriding `api.example.com` to a server whose certificate
//! doesn't name it fails with
//! [`CertificateErrorKind::NameMismatch`](crate::CertificateErrorKind::NameMismatch).
//!
//! **Proxies.** A proxy's host name is resolved the same way as a destination's, so an
//! override or a custom resolver applies to it too (reqwest does the same: one resolver
//! under the connector). Through an HTTP proxy, an `https://` destination's name is sent
//! in the `CONNECT` and resolved by the proxy, and an `http://` one goes in the request
//! line: neither is resolved here. A `socks5h://` or `socks4a://` proxy resolves the name
//! too; through a `socks5://` or `socks4://` one (`socks` feature) the name is resolved
//! here, by the rules above, and the address sent to the proxy. With
//! [`unix_socket`](crate::ClientBuilder::unix_socket) nothing is resolved at all.
//!
//! **Failures.** A lookup that fails or finds no address is an
//! [`ErrorKind::Dns`](crate::ErrorKind::Dns) error ([`is_dns`](crate::Error::is_dns) and
//! [`is_connect`](crate::Error::is_connect)), whose message names the host, which
//! resolver failed, and its own error.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use wireline::dns::{Addrs, Name, Resolve, Resolving};
//!
//! /// Sends every name to one address, counting lookups.
//! struct Fixed {
//!     to: SocketAddr,
//!     lookups: AtomicUsize,
//! }
//!
//! impl Resolve for Fixed {
//!     fn resolve(&self, name: Name) -> Resolving {
//!         self.lookups.fetch_add(1, Ordering::Relaxed);
//!         let addrs: Addrs = Box::new(std::iter::once(self.to));
//!         Box::pin(async move { Ok(addrs) })
//!     }
//! }
//!
//! # fn run() -> wireline::Result<()> {
//! let resolver = Arc::new(Fixed { to: "127.0.0.1:0".parse().unwrap(), lookups: AtomicUsize::new(0) });
//! let client = wireline::Client::builder().dns_resolver(resolver.clone()).build()?;
//! # Ok(()) }
//! ```

#[cfg(feature = "hickory-dns")]
mod hickory;
mod resolver;

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;

use hyper_util::client::legacy::connect::dns::Name as HyperName;

pub(crate) use resolver::{DnsError, DnsSettings, Resolver};

/// The addresses a [`Resolve`] found, in the order to try them.
pub type Addrs = Box<dyn Iterator<Item = SocketAddr> + Send>;

/// What [`Resolve::resolve`] returns: the lookup, to be awaited.
pub type Resolving =
    Pin<Box<dyn Future<Output = Result<Addrs, Box<dyn StdError + Send + Sync>>> + Send>>;

/// A resolver of host names, for
/// [`ClientBuilder::dns_resolver`](crate::ClientBuilder::dns_resolver) (see the
/// [module docs](self) for where it stands among the overrides and the defaults).
pub trait Resolve: Send + Sync {
    /// Looks `name` up. An error, or no address at all, fails the request with an
    /// [`is_dns`](crate::Error::is_dns) error naming the host and carrying this error's
    /// message.
    ///
    /// A port in the URL replaces any port in the addresses; without one, port `0` is
    /// replaced by the scheme's (80 or 443) and any other port is kept.
    fn resolve(&self, name: Name) -> Resolving;
}

/// A host name to resolve: never an IP address, lowercase and IDNA-encoded as in the URL.
#[derive(Debug)]
pub struct Name(HyperName);

impl Name {
    pub(crate) fn new(name: HyperName) -> Name {
        Name(name)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl FromStr for Name {
    type Err = InvalidNameError;

    /// A name to hand to a resolver, for tests of your own [`Resolve`]. Fails for an
    /// empty name, and for one with a space, a control character or any of `/?#@`,
    /// which no host name in a URL has.
    fn from_str(host: &str) -> Result<Name, InvalidNameError> {
        let impossible = |c: char| c.is_whitespace() || c.is_control() || "/?#@".contains(c);
        if host.is_empty() || host.contains(impossible) {
            return Err(InvalidNameError(()));
        }
        HyperName::from_str(host)
            .map(Name)
            .map_err(|_| InvalidNameError(()))
    }
}

/// The error of `Name::from_str`: the text can't be a host name.
#[derive(Debug)]
pub struct InvalidNameError(());

impl fmt::Display for InvalidNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid DNS name")
    }
}

impl StdError for InvalidNameError {}

/// What [`ClientBuilder::dns_resolver`](crate::ClientBuilder::dns_resolver) accepts: a
/// [`Resolve`] itself, an `Arc` of one, or an `Arc<dyn Resolve>`.
pub trait IntoResolve {
    #[doc(hidden)]
    fn into_resolve(self) -> Arc<dyn Resolve>;
}

impl IntoResolve for Arc<dyn Resolve> {
    fn into_resolve(self) -> Arc<dyn Resolve> {
        self
    }
}

impl<R: Resolve + 'static> IntoResolve for Arc<R> {
    fn into_resolve(self) -> Arc<dyn Resolve> {
        self
    }
}

impl<R: Resolve + 'static> IntoResolve for R {
    fn into_resolve(self) -> Arc<dyn Resolve> {
        Arc::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_unless_no_host_could_have_them() {
        let name: Name = "api.example.com".parse().unwrap();
        assert_eq!(name.as_str(), "api.example.com");
        for bad in ["", "a b", "a/b", "user@host", "a\nb", "h?x", "h#x"] {
            assert!(bad.parse::<Name>().is_err(), "{bad:?}");
        }
        assert_eq!(
            "".parse::<Name>().unwrap_err().to_string(),
            "invalid DNS name"
        );
    }
}
