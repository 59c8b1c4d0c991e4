//! The connector: TCP (hyper-util), through a proxy if the client has one, then TLS
//! (hyper-rustls), under one connect timeout.

pub(crate) mod conn;
pub(crate) mod dns;
#[cfg(feature = "fuzzing")]
pub(crate) mod memory;
pub(crate) mod tunnel;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use crate::connect::conn::{Conn, Dialing};
use crate::connect::dns::Resolver;
use crate::error::BoxError;
use crate::proxy::Proxies;
use crate::timeouts::connect_within;
use crate::tls::explain::{self, CertificateProblem, TlsProblem};
use crate::tls::{TlsConfig, VersionRange};

/// What the TCP and TLS connectors return, before it becomes a [`Conn`].
type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;
type Connecting = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

/// What the pool calls to open a connection.
#[derive(Clone)]
pub(crate) struct Connector {
    /// `None` when https is impossible (see `tls_unavailable`).
    https: Option<Https>,
    http: HttpConnector<Resolver>,
    /// `None` for a client without proxies: connections go straight to the destination.
    proxies: Option<Arc<Proxies>>,
    /// Why https is impossible (no trusted roots), reported per request.
    tls_unavailable: Option<Arc<TlsProblem>>,
    connect_timeout: Option<Duration>,
    /// The configured versions, named when a handshake fails over the version; `None` for
    /// a preconfigured rustls config, whose versions are its own.
    versions: Option<VersionRange>,
    /// Read each connection's `TlsInfo` after its handshake.
    tls_info: bool,
    /// The opens in progress, shared by the clones of this connector (one per pool).
    dialing: Arc<Dialing>,
    /// The fuzz target's in-memory connections, used instead of TCP and TLS when set.
    #[cfg(feature = "fuzzing")]
    transport: Option<crate::connect::memory::Transport>,
}

/// TCP then TLS, and the TLS configuration alone for handshakes through a proxy's tunnel.
#[derive(Clone)]
struct Https {
    connector: HttpsConnector<HttpConnector<Resolver>>,
    config: Arc<rustls::ClientConfig>,
}

impl Connector {
    pub(crate) fn new(
        tls: TlsConfig,
        connect_timeout: Option<Duration>,
        versions: Option<VersionRange>,
        tls_info: bool,
        proxies: Option<Arc<Proxies>>,
    ) -> Connector {
        let mut http = HttpConnector::new_with_resolver(Resolver);
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_keepalive(Some(Duration::from_secs(30)));
        let (https, tls_unavailable) = match tls {
            TlsConfig::Ready(config) => {
                let connector = HttpsConnector::from((http.clone(), config.clone()));
                (Some(Https { connector, config }), None)
            }
            TlsConfig::Unavailable(problem) => (None, Some(problem)),
        };
        Connector {
            https,
            http,
            proxies,
            tls_unavailable,
            connect_timeout,
            versions,
            tls_info,
            dialing: Arc::default(),
            #[cfg(feature = "fuzzing")]
            transport: None,
        }
    }

    #[cfg(feature = "fuzzing")]
    pub(crate) fn with_transport(
        mut self,
        transport: Option<crate::connect::memory::Transport>,
    ) -> Self {
        self.transport = transport;
        self
    }
}

impl Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Both inner connectors are always ready (the resolver and HttpConnector are).
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        #[cfg(feature = "fuzzing")]
        if let Some(transport) = &self.transport {
            let opened = transport.open(&dst);
            let dialing = self.dialing.clone();
            return Box::pin(async move { Ok(Conn::memory(opened?, dialing)) });
        }
        // Counted from here until the connection is handed over, or the open fails or is
        // dropped.
        let dial = self.dialing.start();
        let host = dst.host().unwrap_or("").trim_matches(['[', ']']).to_owned();
        let is_https = dst.scheme() == Some(&http::uri::Scheme::HTTPS);
        let route = match &self.proxies {
            None => None,
            Some(proxies) => proxies.route(&dst),
        };
        // Whether hyper-util must send requests in absolute form, to a proxy.
        let forwarded = route.is_some() && !is_https;
        let connecting: Connecting = match (is_https, route, &mut self.https) {
            (false, None, _) => {
                let tcp = self.http.call(dst);
                Box::pin(async move { Ok(MaybeHttpsStream::Http(tcp.await?)) })
            }
            (false, Some(route), _) => {
                let tcp = tunnel::forward(&self.http, &route);
                Box::pin(async move { Ok(MaybeHttpsStream::Http(tcp.await?)) })
            }
            (true, None, Some(https)) => https.connector.call(dst),
            (true, Some(route), Some(https)) => {
                let tunnel = tunnel::tunnel(&self.http, route, &dst);
                let config = https.config.clone();
                Box::pin(async move {
                    let tcp = tunnel.await?;
                    HttpsConnector::from((Handoff(Some(tcp)), config))
                        .call(dst)
                        .await
                })
            }
            (true, _, None) => {
                let problem = self.tls_unavailable.clone().map(|p| TlsProblem::clone(&p));
                return Box::pin(async move {
                    Err(match problem {
                        Some(problem) => problem.into(),
                        None => "https is not configured".into(),
                    })
                });
            }
        };
        let timeout = self.connect_timeout;
        let versions = self.versions;
        let tls_info = self.tls_info;
        let dialing = self.dialing.clone();
        Box::pin(async move {
            let _dial = dial;
            let stream = connect_within(timeout, connecting)
                .await
                .map_err(|e| explain_handshake(e, &host, versions))?;
            let conn = Conn::new(stream, forwarded, dialing);
            Ok(if tls_info { conn.with_tls_info() } else { conn })
        })
    }
}

/// A connector that hands over a connection already open (a proxy's tunnel), so that
/// hyper-rustls runs the TLS handshake on it as it would on a fresh TCP connection: same
/// configuration, server name, ALPN and verification.
struct Handoff(Option<tunnel::Tcp>);

impl Service<Uri> for Handoff {
    type Response = tunnel::Tcp;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<tunnel::Tcp, std::io::Error>>;

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
