//! Serves a [`Handler`] with hyper (HTTP/1.1 and h2) on every accepted connection, TLS or
//! plain, and records what arrived so tests can assert on it afterwards.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::{HandshakeKind, ProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::accept::serve_each;
use super::handler::{response, Handler};

/// A client that connects and then stalls must not hold a server task for long.
const HANDSHAKE_BOUND: Duration = Duration::from_secs(10);
const BODY_BOUND: Duration = Duration::from_secs(10);

/// One request as the server saw it, body collected.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The request method.
    pub method: Method,
    /// Origin form (`/path?q`) over HTTP/1.1, absolute form over h2.
    pub uri: Uri,
    /// Headers as received (h2 carries the host in `uri`, not in a `host` header).
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
    /// `HTTP_11` or `HTTP_2`.
    pub version: Version,
}

/// A running server on 127.0.0.1 or [::1]; stops when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    scheme: &'static str,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Stats {
    accepts: AtomicUsize,
    handshakes: AtomicUsize,
    handshakes_resumed: AtomicUsize,
    handshake_failures: AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
    /// The SNI of each completed handshake (`None`: the client sent none).
    server_names: Mutex<Vec<Option<String>>>,
    /// The protocol version of each completed handshake.
    versions: Mutex<Vec<ProtocolVersion>>,
}

impl TestServer {
    /// `https://127.0.0.1:PORT/path` (`http://` for [`http_server`], `[::1]` for IPv6).
    pub fn url(&self, path: &str) -> String {
        let host = match self.addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        self.url_host(&host, path)
    }

    /// The URL with another host name for the same port, e.g. `url_host("localhost", "/")`.
    pub fn url_host(&self, host: &str, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("{}://{host}:{}{slash}{path}", self.scheme, self.addr.port())
    }

    /// TCP connections accepted so far: equal to the number of requests only if nothing
    /// was reused.
    pub fn accepts(&self) -> usize {
        self.stats.accepts.load(Ordering::SeqCst)
    }

    /// TLS handshakes that completed.
    pub fn handshakes(&self) -> usize {
        self.stats.handshakes.load(Ordering::SeqCst)
    }

    /// Completed TLS handshakes that resumed an earlier session.
    pub fn handshakes_resumed(&self) -> usize {
        self.stats.handshakes_resumed.load(Ordering::SeqCst)
    }

    /// TLS handshakes that failed or timed out on the server's side.
    pub fn handshake_failures(&self) -> usize {
        self.stats.handshake_failures.load(Ordering::SeqCst)
    }

    /// The SNI host name each completed handshake carried, in order.
    pub fn server_names(&self) -> Vec<Option<String>> {
        self.stats.server_names.lock().unwrap().clone()
    }

    /// The TLS version each completed handshake agreed on, in order.
    pub fn negotiated_versions(&self) -> Vec<ProtocolVersion> {
        self.stats.versions.lock().unwrap().clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.stats.requests.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // The accept loop owns the connection tasks: aborting it ends them all.
        self.task.abort();
    }
}

/// A plain-HTTP server on 127.0.0.1 (HTTP/1.1; h2 only with prior knowledge).
pub async fn http_server(handler: Handler) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, None, handler)
}

/// Serves `handler` on every connection `listener` accepts, after a TLS handshake if
/// `tls` is given.
pub(super) fn start(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: Handler,
) -> TestServer {
    start_limited(listener, tls, handler, None)
}

/// [`start`], its h2 connections allowing `h2_max_streams` concurrent streams (hyper's
/// 200 without).
pub(super) fn start_limited(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: Handler,
    h2_max_streams: Option<u32>,
) -> TestServer {
    let addr = listener.local_addr().expect("local addr");
    let stats = Arc::new(Stats::default());
    let task = tokio::spawn(accept_loop(
        listener,
        tls.clone(),
        handler,
        stats.clone(),
        h2_max_streams,
    ));
    TestServer {
        addr,
        scheme: if tls.is_some() { "https" } else { "http" },
        stats,
        task,
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    handler: Handler,
    stats: Arc<Stats>,
    h2_max_streams: Option<u32>,
) {
    serve_each(listener, |tcp| {
        stats.accepts.fetch_add(1, Ordering::SeqCst);
        serve_tcp(
            tcp,
            tls.clone(),
            handler.clone(),
            stats.clone(),
            h2_max_streams,
        )
    })
    .await
}

async fn serve_tcp(
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    handler: Handler,
    stats: Arc<Stats>,
    h2_max_streams: Option<u32>,
) {
    let Some(acceptor) = tls else {
        return serve(tcp, None, handler, stats, h2_max_streams).await;
    };
    // A failed or stalled handshake ends this connection only, never the server.
    let stream = match tokio::time::timeout(HANDSHAKE_BOUND, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        _ => {
            stats.handshake_failures.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    let session = stream.get_ref().1;
    stats.handshakes.fetch_add(1, Ordering::SeqCst);
    stats
        .server_names
        .lock()
        .unwrap()
        .push(session.server_name().map(str::to_owned));
    if let Some(version) = session.protocol_version() {
        stats.versions.lock().unwrap().push(version);
    }
    if session.handshake_kind() == Some(HandshakeKind::Resumed) {
        stats.handshakes_resumed.fetch_add(1, Ordering::SeqCst);
    }
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);
    serve(stream, alpn, handler, stats, h2_max_streams).await;
}

/// Runs hyper on one connection until the client closes it; the negotiated ALPN protocol,
/// if any, fixes the HTTP version as a real server would.
async fn serve<I>(
    io: I,
    alpn: Option<Vec<u8>>,
    handler: Handler,
    stats: Arc<Stats>,
    h2_max_streams: Option<u32>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if let Some(limit) = h2_max_streams {
        builder.http2().max_concurrent_streams(limit);
    }
    let builder = match alpn.as_deref() {
        Some(b"h2") => builder.http2_only(),
        Some(b"http/1.1") => builder.http1_only(),
        _ => builder,
    };
    let service = service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        let stats = stats.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = match tokio::time::timeout(BODY_BOUND, body.collect()).await {
                Ok(Ok(collected)) => collected.to_bytes(),
                _ => return Ok::<_, Infallible>(response(400, &[], "body not received")),
            };
            stats.requests.lock().unwrap().push(RecordedRequest {
                method: parts.method.clone(),
                uri: parts.uri.clone(),
                headers: parts.headers.clone(),
                body: body.clone(),
                version: parts.version,
            });
            let head = parts.method == Method::HEAD;
            let resp = handler(Request::from_parts(parts, body)).await;
            Ok(if head { without_body(resp) } else { resp })
        }
    });
    // Errors here are the client's doing (reset, garbage): nothing to report.
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

/// The head of `resp` alone, with the length its body would have had.
///
/// hyper's h2 server sends a HEAD response's body as DATA frames, which clients reject as
/// a protocol error; real servers send only the head, over either version.
fn without_body(resp: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    let (mut parts, body) = resp.into_parts();
    let len = body.size_hint().exact().unwrap_or(0);
    if len > 0 {
        parts.headers.entry(CONTENT_LENGTH).or_insert(len.into());
    }
    Response::from_parts(parts, Full::default())
}
