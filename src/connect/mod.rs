//! The connector: TCP (hyper-util) or a Unix socket, through a proxy if the client has one
//! (HTTP or SOCKS), then TLS (hyper-rustls), under one connect timeout.

pub(crate) mod clock;
pub(crate) mod conn;
pub mod dns;
pub(crate) mod gate;
pub(crate) mod layer;
#[cfg(feature = "fuzzing")]
pub(crate) mod memory;
pub(crate) mod origins;
pub(crate) mod socket;
#[cfg(feature = "socks")]
pub(crate) mod socks;
pub(crate) mod streams;
pub(crate) mod tunnel;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::header::HeaderValue;
use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::connect::conn::Conn;
use crate::connect::dns::Resolver;
use crate::connect::socket::{Binding, SocketOptions};
use crate::error::BoxError;
use crate::proxy::{Proxies, Route};
use crate::timeouts::connect_within;
use crate::tls::explain::{self, CertificateProblem, TlsProblem};
use crate::tls::{TlsConfig, VersionRange};

/// What the TCP and TLS connectors return, before it becomes a [`Conn`].
type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;
/// A connection being opened.
type ConnFuture = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

/// What the pool calls to open a connection. The pool clones it for every dial, so its
/// state sits behind one `Arc` and a clone is one reference count.
#[derive(Clone)]
pub(crate) struct Connector(Arc<Shared>);

/// The connector's state: the dialers, and the gate in front of them (`gate.rs`).
struct Shared {
    dialers: Dialers,
    /// `None` for a pool that keeps no connections in a client without
    /// `pool_max_connections_per_host`: no dial then waits for anything.
    gate: Option<gate::Gate>,
}

/// The dialer, alone or inside the layers of `ClientBuilder::connector_layer`. Behind the
/// connector's one `Arc` either way, so the connector stays one pointer wide.
// One per pool, behind the `Arc`: the size of the rare variant doesn't matter.
#[allow(clippy::large_enum_variant)]
enum Dialers {
    Direct(Dialer),
    Layered(layer::Layered),
}

/// The connector's state, shared by its clones.
pub(crate) struct Dialer {
    /// `None` when https is impossible (see `tls_unavailable`).
    https: Option<Https>,
    http: HttpConnector<Resolver>,
    /// `None` for a client without proxies: connections go straight to the destination.
    proxies: Option<Arc<Proxies>>,
    /// The client's `User-Agent`, sent on a proxy's `CONNECT` too.
    user_agent: Option<HeaderValue>,
    /// Resolves a destination's name for `socks4://` and `socks5://` proxies.
    #[cfg(feature = "socks")]
    resolver: Resolver,
    /// Why https is impossible (no trusted roots), reported per request.
    tls_unavailable: Option<Arc<TlsProblem>>,
    connect_timeout: Option<Duration>,
    /// The configured versions, named when a handshake fails over the version; `None` for
    /// a preconfigured rustls config, whose versions are its own.
    versions: Option<VersionRange>,
    /// Read each connection's `TlsInfo` after its handshake.
    tls_info: bool,
    /// Every connection speaks h2, whatever ALPN said (`http2_prior_knowledge`).
    h2_prior_knowledge: bool,
    /// `tcp_nodelay(false)`: `TCP_NODELAY` stays on for the TLS handshake (its small
    /// records must not wait for an ACK), and is switched off after it.
    nodelay_after_handshake: bool,
    /// `local_address` and `interface`, named when a bind fails.
    binding: Option<Arc<Binding>>,
    /// `unix_socket`: every connection goes there instead of over TCP.
    #[cfg(unix)]
    unix_socket: Option<Arc<std::path::Path>>,
    /// The fuzz target's in-memory connections, used instead of TCP and TLS when set.
    #[cfg(feature = "fuzzing")]
    transport: Option<crate::connect::memory::Transport>,
}

/// TCP then TLS, and the TLS configuration alone for handshakes through a proxy's tunnel.
#[derive(Clone)]
struct Https {
    connector: HttpsConnector<TimedTcp>,
    config: Arc<rustls::ClientConfig>,
}

/// How a client's connections are opened, whatever their TLS configuration: the same for
/// each of its pools.
#[derive(Clone, Debug)]
pub(crate) struct Dial {
    /// Bounds TCP, any proxy tunnel and the TLS handshake together.
    pub(crate) connect_timeout: Option<Duration>,
    /// Read each connection's `TlsInfo` after its handshake.
    pub(crate) tls_info: bool,
    /// The same rules in every pool: a destination takes the same route whatever the
    /// TLS settings (see `crate::proxy` on why that keeps proxied and direct connections
    /// apart).
    pub(crate) proxies: Option<Arc<Proxies>>,
    /// How names become addresses: the overrides and the resolver (`dns/`).
    pub(crate) resolver: Resolver,
    /// The client's `User-Agent`, also sent on the `CONNECT` that opens a proxy's tunnel
    /// (as reqwest does).
    pub(crate) user_agent: Option<HeaderValue>,
    /// The TCP options, or the Unix socket used instead.
    pub(crate) sockets: SocketOptions,
    /// Speak h2 on every connection, whatever ALPN said (`http2_prior_knowledge`).
    pub(crate) h2_prior_knowledge: bool,
    /// `connector_layer`s, in the order installed; none for most clients.
    pub(crate) layers: Vec<layer::ConnectorLayer>,
}

impl Connector {
    /// `versions`: the configured TLS versions, to name when a handshake fails over them
    /// (`None` for a preconfigured rustls configuration, which has its own).
    /// `gate`: what the pool is in the client's table of connections per origin, when
    /// the pool has a gate.
    pub(crate) fn new(
        tls: TlsConfig,
        versions: Option<VersionRange>,
        dial: &Dial,
        gate: Option<gate::GatePlan>,
    ) -> Connector {
        let Dial {
            connect_timeout,
            tls_info,
            ref proxies,
            ref resolver,
            ref user_agent,
            ref sockets,
            h2_prior_knowledge,
            ref layers,
        } = *dial;
        let http = sockets.tcp(resolver.clone());
        let (https, tls_unavailable) = match tls {
            TlsConfig::Ready(config) => {
                let mut handshaking = http.clone();
                handshaking.set_nodelay(true);
                let connector = HttpsConnector::from((TimedTcp(handshaking), config.clone()));
                (Some(Https { connector, config }), None)
            }
            TlsConfig::Unavailable(problem) => (None, Some(problem)),
        };
        let gate = gate.map(gate::Gate::new);
        let dialer = Dialer {
            https,
            http,
            proxies: proxies.clone(),
            user_agent: user_agent.clone(),
            #[cfg(feature = "socks")]
            resolver: resolver.clone(),
            tls_unavailable,
            connect_timeout,
            versions,
            tls_info,
            h2_prior_knowledge,
            nodelay_after_handshake: !sockets.nodelay,
            binding: sockets.binding(),
            #[cfg(unix)]
            unix_socket: sockets.unix_socket.clone(),
            #[cfg(feature = "fuzzing")]
            transport: None,
        };
        let dialers = match layers.is_empty() {
            true => Dialers::Direct(dialer),
            false => Dialers::Layered(layer::Layered::new(dialer, layers, connect_timeout)),
        };
        Connector(Arc::new(Shared { dialers, gate }))
    }

    /// A dial to `dst`, past the gate.
    fn dial_now(&self, dst: Uri) -> ConnFuture {
        match &self.0.dialers {
            Dialers::Direct(dialer) => dialer.dial(dst, dialer.connect_timeout),
            Dialers::Layered(layered) => layered.call(dst),
        }
    }

    #[cfg(feature = "fuzzing")]
    pub(crate) fn with_transport(
        mut self,
        transport: Option<crate::connect::memory::Transport>,
    ) -> Self {
        let shared = Arc::get_mut(&mut self.0).expect("set before the connector is shared");
        if let Dialers::Direct(dialer) = &mut shared.dialers {
            dialer.transport = transport;
        }
        self
    }
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = ConnFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // The inner connectors are always ready (the resolver and HttpConnector are);
        // connector layers are made ready inside the connection's future, under the
        // connect timeout.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        match &self.0.gate {
            None => self.dial_now(dst),
            Some(gate) => gate.dial(dst, self.clone()),
        }
    }
}

impl Dialer {
    /// Opens a connection to `dst`: directly, through a proxy, or over the Unix socket,
    /// within `timeout` (`None` under connector layers: their timeout is around them).
    fn dial(&self, dst: Uri, timeout: Option<Duration>) -> ConnFuture {
        #[cfg(feature = "fuzzing")]
        if let Some(transport) = &self.transport {
            let opened = transport.open(&dst);
            let h2 = self.h2_prior_knowledge;
            return Box::pin(async move { Ok(Conn::memory(opened?, h2)) });
        }
        let started = Instant::now();
        let host = dst.host().unwrap_or("").trim_matches(['[', ']']).to_owned();
        #[cfg(unix)]
        if let Some(path) = &self.unix_socket {
            let connecting = self.unix(path.clone(), dst);
            return self.finish(connecting, host, false, started, timeout);
        }
        let is_https = dst.scheme() == Some(&http::uri::Scheme::HTTPS);
        let route = match self.proxies.as_deref().map(|p| p.route(&dst)) {
            None | Some(Ok(None)) => None,
            Some(Ok(Some(route))) => Some(route),
            Some(Err(invalid)) => {
                let invalid = tunnel::ProxyError::invalid(invalid);
                return Box::pin(async move { Err(invalid.into()) });
            }
        };
        // Whether the pool must send requests in absolute form, to a proxy.
        let forwarded = !is_https && route.as_ref().is_some_and(|r| !r.is_socks());
        // The inner connectors are cloned to be called (they take `&mut`): only when a
        // connection is opened, not for each clone of the connector.
        let connecting: Connecting = match (is_https, route, &self.https) {
            (false, None, _) => {
                let tcp = self.http.clone().call(dst);
                Box::pin(async move { Ok(MaybeHttpsStream::Http(tcp.await?)) })
            }
            (false, Some(route), _) => {
                let tcp = self.through(route, &dst);
                Box::pin(async move {
                    let tcp = tcp.await?;
                    clock::tcp_open();
                    Ok(MaybeHttpsStream::Http(tcp))
                })
            }
            (true, None, Some(https)) if self.nodelay_after_handshake => {
                let handshake = https.connector.clone().call(dst);
                Box::pin(async move {
                    let stream = handshake.await?;
                    if let MaybeHttpsStream::Https(tls) = &stream {
                        tls.inner().get_ref().0.inner().inner().set_nodelay(false)?;
                    }
                    Ok(stream)
                })
            }
            (true, None, Some(https)) => https.connector.clone().call(dst),
            (true, Some(route), Some(https)) => {
                let config = https.config.clone();
                let tunnel = self.through(route, &dst);
                Box::pin(async move {
                    let tcp = tunnel.await?;
                    clock::tcp_open();
                    HttpsConnector::from((Handoff(Some(tcp)), config))
                        .call(dst)
                        .await
                })
            }
            (true, _, None) => {
                let unavailable = self.tls_unavailable();
                return Box::pin(async move { Err(unavailable) });
            }
        };
        self.finish(connecting, host, forwarded, started, timeout)
    }

    /// A TCP connection for `dst` through the proxy of `route`: to an HTTP proxy for an
    /// `http://` URL (requests go in absolute form), a tunnel to `dst` for an `https://`
    /// one, or a connection to `dst` through a SOCKS proxy for either.
    fn through(&self, route: Route, dst: &Uri) -> tunnel::Opening {
        #[cfg(feature = "socks")]
        if let crate::proxy::Protocol::Socks {
            version,
            remote_dns,
        } = route.protocol
        {
            let socks = (version, remote_dns);
            return socks::connect(&self.http, &self.resolver, socks, route, dst);
        }
        match dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            true => tunnel::tunnel(&self.http, route, dst, self.user_agent.as_ref()),
            false => tunnel::forward(&self.http, &route),
        }
    }

    /// The connection `connecting` opens, within `timeout`, with its TLS errors explained
    /// for `host`. `forwarded`: it goes to a proxy that takes `http://` requests in
    /// absolute form. `started`: when it began.
    fn finish<S>(
        &self,
        connecting: Pin<Box<dyn Future<Output = Result<S, BoxError>> + Send>>,
        host: String,
        forwarded: bool,
        started: Instant,
        timeout: Option<Duration>,
    ) -> ConnFuture
    where
        S: Into<conn::Stream> + 'static,
    {
        let versions = self.versions;
        let tls_info = self.tls_info;
        let h2_prior_knowledge = self.h2_prior_knowledge;
        let binding = self.binding.clone();
        Box::pin(async move {
            let (stream, noted) = clock::timed(started, connect_within(timeout, connecting)).await;
            let stream = stream.map_err(|e| {
                let e = explain_handshake(e, &host, versions);
                match &binding {
                    Some(binding) => binding.explain(e),
                    None => e,
                }
            })?;
            let conn = Conn::new(stream.into(), forwarded, h2_prior_knowledge, noted);
            Ok(if tls_info { conn.with_tls_info() } else { conn })
        })
    }

    /// The error of an https request when the client has no TLS configuration.
    fn tls_unavailable(&self) -> BoxError {
        match &self.tls_unavailable {
            Some(problem) => TlsProblem::clone(problem).into(),
            None => "https is not configured".into(),
        }
    }

    /// A connection over the Unix socket at `path`, with TLS for `https://` (SNI and the
    /// certificate for the URL's host, as over TCP).
    #[cfg(unix)]
    fn unix(
        &self,
        path: Arc<std::path::Path>,
        dst: Uri,
    ) -> Pin<Box<dyn Future<Output = Result<UnixStream, BoxError>> + Send>> {
        let socket = UnixSocket(path);
        if dst.scheme() != Some(&http::uri::Scheme::HTTPS) {
            return Box::pin(async move { Ok(MaybeHttpsStream::Http(socket.open().await?)) });
        }
        let Some(https) = &self.https else {
            let unavailable = self.tls_unavailable();
            return Box::pin(async move { Err(unavailable) });
        };
        let mut connector = HttpsConnector::from((socket, https.config.clone()));
        Box::pin(async move { connector.call(dst).await })
    }
}

/// A TLS or plain stream over a Unix socket.
#[cfg(unix)]
type UnixStream = MaybeHttpsStream<TokioIo<tokio::net::UnixStream>>;

/// Connects to a Unix socket, whatever the URL: the inner connector of hyper-rustls for
/// [`ClientBuilder::unix_socket`](crate::ClientBuilder::unix_socket).
#[cfg(unix)]
#[derive(Clone)]
struct UnixSocket(Arc<std::path::Path>);

#[cfg(unix)]
impl UnixSocket {
    fn open(&self) -> impl Future<Output = Result<TokioIo<tokio::net::UnixStream>, io::Error>> {
        let path = self.0.clone();
        async move {
            match tokio::net::UnixStream::connect(&path).await {
                Ok(stream) => {
                    clock::tcp_open();
                    Ok(TokioIo::new(stream))
                }
                // The path is what the user needs to see: io errors don't carry it.
                Err(e) => Err(io::Error::new(
                    e.kind(),
                    format!(
                        "could not connect to the Unix socket {} (unix_socket): {e}",
                        path.display()
                    ),
                )),
            }
        }
    }
}

#[cfg(unix)]
impl Service<Uri> for UnixSocket {
    type Response = TokioIo<tokio::net::UnixStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, io::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _dst: Uri) -> Self::Future {
        Box::pin(self.open())
    }
}

/// hyper-util's TCP connector, noting when its connection is open in the dial's clock
/// (hyper-rustls then runs the TLS handshake on it).
#[derive(Clone)]
struct TimedTcp(HttpConnector<Resolver>);

impl Service<Uri> for TimedTcp {
    type Response = TokioIo<TcpStream>;
    type Error = <HttpConnector<Resolver> as Service<Uri>>::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connecting = self.0.call(dst);
        Box::pin(async move {
            let tcp = connecting.await?;
            clock::tcp_open();
            Ok(tcp)
        })
    }
}

/// A connector that hands over a connection already open (a proxy's tunnel), so that
/// hyper-rustls runs the TLS handshake on it as it would on a fresh TCP connection: same
/// configuration, server name, ALPN and verification; and so that hyper-util's SOCKS
/// handshake runs on a connection to the proxy opened here.
struct Handoff<T>(Option<T>);

impl<T: Send + 'static> Service<Uri> for Handoff<T> {
    type Response = T;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<T, std::io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), std::io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _dst: Uri) -> Self::Future {
        std::future::ready(
            self.0
                .take()
                .ok_or_else(|| std::io::Error::other("the tunnel was handed over already")),
        )
    }
}

/// Replaces a raw rustls handshake error with its explanation; here we still know the
/// host and the version range, which the pool's error no longer carries.
fn explain_handshake(err: BoxError, host: &str, versions: Option<VersionRange>) -> BoxError {
    let explained = crate::error::chain(&*err)
        .find_map(|cause| cause.downcast_ref::<rustls::Error>())
        .map(|tls| explain::rustls_error(tls, host, versions));
    match explained {
        Some((crate::ErrorKind::Certificate(kind), message)) => {
            Box::new(CertificateProblem { kind, message })
        }
        Some((crate::ErrorKind::Tls(kind), message)) => Box::new(TlsProblem { kind, message }),
        _ => err,
    }
}
