//! Sockets: the TCP options as the client's own socket shows them (read with getsockopt on
//! this process's descriptor: the options of a socket are not visible from its peer),
//! `local_address` as the server sees it, `interface`, and `unix_socket` over HTTP/1 and
//! under TLS. Linux only: the options are read through `/proc/self/fd`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener, UnixStream};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::support::{
    bounded, echo_router, http_server, https_server, server_config, trusting_test_ca, ServerOptions,
};
use wireline::{CertificateErrorKind, Client, ErrorKind, Proxy};

/// The options of the client's socket, as getsockopt reads them.
#[derive(Debug, PartialEq)]
struct Options {
    nodelay: bool,
    keepalive: bool,
    /// Idle time, interval, probes: meaningful only with keepalive on.
    keepalive_params: Option<(Duration, Duration, u32)>,
    user_timeout: Option<Duration>,
    device: Option<Vec<u8>>,
}

/// The options of this process's one socket connected to `server`: the client's side of
/// the connection a test made (the server's side has `server` as its local address).
fn client_socket_options(server: SocketAddr) -> Options {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let Some(fd) = entry
            .unwrap()
            .file_name()
            .to_str()
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        // SAFETY: only getsockopt and getpeername are called on it. Other tests of the
        // binary may close the descriptor meanwhile: the calls then fail (EBADF) or read
        // another socket, whose peer is not `server`.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = SockRef::from(&fd);
        if socket.peer_addr().ok().and_then(|a| a.as_socket()) != Some(server) {
            continue;
        }
        let keepalive = socket.keepalive().unwrap();
        found.push(Options {
            nodelay: socket.tcp_nodelay().unwrap(),
            keepalive,
            keepalive_params: keepalive.then(|| {
                (
                    socket.tcp_keepalive_time().unwrap(),
                    socket.tcp_keepalive_interval().unwrap(),
                    socket.tcp_keepalive_retries().unwrap(),
                )
            }),
            user_timeout: socket.tcp_user_timeout().unwrap(),
            device: socket.device().unwrap(),
        });
    }
    assert_eq!(found.len(), 1, "one connection to {server}: {found:?}");
    found.pop().unwrap()
}

/// Makes one request with `client` to `url` and returns the options of the pooled
/// connection it left to `server`.
async fn options_after_a_request(client: Client, url: String, server: SocketAddr) -> Options {
    let body = bounded(async { client.get(&url).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(body, "hello");
    let options = client_socket_options(server);
    drop(client);
    options
}

#[tokio::test]
async fn sockets_have_reqwests_options_by_default() {
    let server = http_server(echo_router()).await;
    let client = Client::new();
    let options = options_after_a_request(client, server.url("/"), server.addr).await;
    assert!(options.nodelay);
    assert!(options.keepalive);
    let secs = Duration::from_secs;
    assert_eq!(options.keepalive_params, Some((secs(15), secs(15), 3)));
    #[cfg(target_os = "linux")]
    assert_eq!(options.user_timeout, Some(secs(30)));
    assert_eq!(options.device, None);
}

#[tokio::test]
async fn tcp_settings_reach_the_socket() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .tcp_nodelay(false)
        .tcp_keepalive(Duration::from_secs(40))
        .tcp_keepalive_interval(Duration::from_secs(7))
        .tcp_keepalive_retries(5)
        .tcp_user_timeout(Duration::from_secs(12))
        .build()
        .unwrap();
    let options = options_after_a_request(client, server.url("/"), server.addr).await;
    let secs = Duration::from_secs;
    assert_eq!(
        options,
        Options {
            nodelay: false,
            keepalive: true,
            keepalive_params: Some((secs(40), secs(7), 5)),
            user_timeout: Some(secs(12)),
            device: None,
        }
    );
}

#[tokio::test]
async fn none_leaves_keepalive_off_and_the_user_timeout_unset() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .tcp_keepalive(None)
        .tcp_user_timeout(None)
        .build()
        .unwrap();
    let options = options_after_a_request(client, server.url("/"), server.addr).await;
    assert!(!options.keepalive, "{options:?}");
    assert_eq!(options.user_timeout, None);
}

#[tokio::test]
async fn tcp_nodelay_false_is_off_after_the_tls_handshake() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().tcp_nodelay(false).build().unwrap();
    let options = options_after_a_request(client, server.url("/"), server.addr).await;
    assert!(!options.nodelay);
    let client = trusting_test_ca().build().unwrap();
    let options = options_after_a_request(client, server.url("/"), server.addr).await;
    assert!(options.nodelay);
}

#[tokio::test]
async fn interface_binds_the_socket_to_the_device() {
    let server = http_server(echo_router()).await;
    let client = Client::builder().interface("lo").build().unwrap();
    let options = options_after_a_request(client, server.url("/"), server.addr).await;
    assert_eq!(options.device.as_deref(), Some(&b"lo"[..]));

    let client = Client::builder().interface("wl-nowhere0").build().unwrap();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_connect() && !err.is_dns(), "{err}");
    let message = err.to_string();
    assert!(message.contains("interface \"wl-nowhere0\""), "{message}");
}

/// A server that answers each connection with the address it came from.
async fn peer_echo() -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((mut tcp, peer)) = listener.accept().await else {
                continue;
            };
            connections.spawn(async move {
                let mut head = [0u8; 2048];
                let _ = tcp.read(&mut head).await;
                let body = peer.ip().to_string();
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(reply.as_bytes()).await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn local_address_is_the_address_the_server_sees() {
    let (server, task) = peer_echo().await;
    let url = format!("http://{server}/");
    let seen = |client: Client| {
        let url = url.clone();
        async move { bounded(async { client.get(&url).send().await?.text().await }).await }
    };
    let bound = Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    assert_eq!(seen(bound).await.unwrap(), "127.0.0.2");
    assert_eq!(seen(Client::new()).await.unwrap(), "127.0.0.1");
    let unbound = Client::builder().local_address(None).build().unwrap();
    assert_eq!(seen(unbound).await.unwrap(), "127.0.0.1");
    task.abort();
}

#[tokio::test]
async fn a_local_address_this_machine_lacks_fails_naming_the_setting() {
    let server = http_server(echo_router()).await;
    // 192.0.2.0/24 is TEST-NET-1: never an address of this machine.
    let client = Client::builder()
        .local_address(std::net::IpAddr::from([192, 0, 2, 1]))
        .build()
        .unwrap();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_connect() && !err.is_dns(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Connect);
    let message = err.to_string();
    assert!(message.contains("local_address 192.0.2.1"), "{message}");
    assert_eq!(server.accepts(), 0);
}

/// A hyper server (HTTP/1 and h2) on a Unix socket, with TLS if `tls` is given; its
/// answer says which host and path it was asked for, and over which protocol.
struct UnixServer {
    path: PathBuf,
    /// The SNI of each TLS handshake.
    server_names: Arc<Mutex<Vec<Option<String>>>>,
    accepts: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn unix_server(tls: Option<TlsAcceptor>) -> UnixServer {
    // In the system's temp dir: a Unix socket path may not exceed 107 bytes, and the
    // target dir of a CI checkout may be deep.
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "wireline-{}-{}.sock",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let server_names = Arc::new(Mutex::new(Vec::new()));
    let accepts = Arc::new(AtomicUsize::new(0));
    let (names, count) = (server_names.clone(), accepts.clone());
    let task = tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            count.fetch_add(1, Ordering::SeqCst);
            connections.spawn(serve_unix(stream, tls.clone(), names.clone()));
        }
    });
    UnixServer {
        path,
        server_names,
        accepts,
        task,
    }
}

async fn serve_unix(
    stream: UnixStream,
    tls: Option<TlsAcceptor>,
    names: Arc<Mutex<Vec<Option<String>>>>,
) {
    let builder = auto::Builder::new(TokioExecutor::new());
    let Some(acceptor) = tls else {
        let _ = builder
            .serve_connection(TokioIo::new(stream), service_fn(where_to))
            .await;
        return;
    };
    let Ok(Ok(stream)) =
        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await
    else {
        return;
    };
    let sni = stream.get_ref().1.server_name().map(str::to_owned);
    names.lock().unwrap().push(sni);
    let _ = builder
        .serve_connection(TokioIo::new(stream), service_fn(where_to))
        .await;
}

/// "HOST PATH VERSION": the `Host` header (HTTP/1) or the URI's authority (h2).
async fn where_to(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let body = format!("{host} {} {:?}", req.uri().path(), req.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

async fn text(client: &Client, url: &str) -> wireline::Result<String> {
    bounded(async { client.get(url).send().await?.text().await }).await
}

#[tokio::test]
async fn unix_socket_carries_every_request_without_dns_or_proxy() {
    let server = unix_server(None).await;
    let client = Client::builder()
        // Ignored with a Unix socket: nothing listens there.
        .proxy(Proxy::all("http://127.0.0.1:9").unwrap())
        .unix_socket(server.path.as_path())
        .build()
        .unwrap();
    // `.invalid` resolves nowhere: it is never looked up.
    let answer = text(&client, "http://docker.invalid/v1.43/containers/json")
        .await
        .unwrap();
    assert_eq!(answer, "docker.invalid /v1.43/containers/json HTTP/1.1");
    let answer = text(&client, "http://other.invalid:8080/x").await.unwrap();
    assert_eq!(answer, "other.invalid:8080 /x HTTP/1.1");
    assert!(server.server_names.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unix_socket_carries_tls_for_https_checked_against_the_urls_host() {
    let acceptor = TlsAcceptor::from(server_config(&ServerOptions::default()));
    let server = unix_server(Some(acceptor)).await;
    // The path as a String (a &Path above, a PathBuf below).
    let client = trusting_test_ca()
        .unix_socket(server.path.to_str().unwrap().to_owned())
        .build()
        .unwrap();
    // Leaf::Valid names localhost; h2 by ALPN, as over TCP.
    let answer = text(&client, "https://localhost/secure").await.unwrap();
    assert_eq!(answer, "localhost /secure HTTP/2.0");
    assert_eq!(
        *server.server_names.lock().unwrap(),
        vec![Some("localhost".to_owned())]
    );

    let err = text(&client, "https://example.test/secure")
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::NameMismatch),
        "{err}"
    );
    assert!(err.to_string().contains("example.test"), "{err}");
    assert_eq!(server.accepts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unreachable_unix_socket_is_a_connect_error_naming_its_path() {
    let path = std::env::temp_dir().join(format!("wireline-{}-absent.sock", std::process::id()));
    let client = Client::builder().unix_socket(path.clone()).build().unwrap();
    let err = text(&client, "http://local/").await.unwrap_err();
    assert!(err.is_connect() && !err.is_dns(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Connect);
    let message = err.to_string();
    assert!(message.contains(path.to_str().unwrap()), "{message}");
    assert!(message.contains("unix_socket"), "{message}");
}
