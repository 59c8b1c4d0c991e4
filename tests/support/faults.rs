//! The fault-injection server: every accepted connection plays a script (read a request,
//! write bytes, pause, close with FIN or RST, stay silent), over TCP or TLS, while the
//! server records the requests it read and whether the client closed the connection.
//!
//! Each row of the fault matrix (`docs/reliability.md`) is then one short test: a script,
//! a request, and assertions on the error, the time, what the server saw and the sockets
//! left open (`client_sockets`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::accept::serve_each;
use super::raw::read_request_from;
use super::tls_server::{server_config, Alpn, ServerOptions};

/// The longest a connection waits for the client (to send, or to close) before the
/// server gives up on it: a script must never keep a task past the test.
const CLIENT_BOUND: Duration = Duration::from_secs(20);

/// One step of a connection's script.
#[derive(Clone, Debug)]
pub enum Step {
    /// Read one request (head and Content-Length or chunked body) and record it. If the
    /// client closes instead, the script ends there.
    Read,
    /// Read and record whatever arrives within this time (for requests whose body never
    /// comes complete, such as a stalled upload).
    ReadFor(Duration),
    /// Write these bytes.
    Write(Vec<u8>),
    /// Write these bytes this many times (a large stream without a large script).
    Repeat(Vec<u8>, usize),
    /// Write these bytes one at a time, pausing this long before each.
    Trickle(Vec<u8>, Duration),
    /// Do nothing for this long.
    Pause(Duration),
    /// Close cleanly: TLS close_notify (over TLS), then FIN; then wait for the client's close.
    Close,
    /// FIN without TLS close_notify, as a truncation attack would (plain FIN over TCP);
    /// then wait for the client's close.
    Fin,
    /// Close with a TCP RST (SO_LINGER 0), discarding anything unsent.
    Reset,
    /// Say nothing and read nothing more until the client closes.
    Silent,
}

/// Shorthand for `Step::Write` of text or bytes.
pub fn write(bytes: impl AsRef<[u8]>) -> Step {
    Step::Write(bytes.as_ref().to_vec())
}

/// Shorthand for `Step::Pause` in milliseconds.
pub fn pause_ms(ms: u64) -> Step {
    Step::Pause(Duration::from_millis(ms))
}

/// A running fault server on 127.0.0.1; stops (dropping its connections) when dropped.
pub struct FaultServer {
    /// Where it listens.
    pub addr: SocketAddr,
    tls: bool,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Stats {
    accepts: AtomicUsize,
    /// Connections whose client closed (EOF or error) while the script waited for it.
    closed_by_client: AtomicUsize,
    /// Connections whose script has ended (the socket is closed on our side).
    finished: AtomicUsize,
    requests: Mutex<Vec<Vec<u8>>>,
}

impl FaultServer {
    /// Plain TCP; every connection plays `script`.
    pub async fn start(script: Vec<Step>) -> FaultServer {
        FaultServer::by_connection(move |_| script.clone()).await
    }

    /// Plain TCP; connection `i` (0 for the first accepted) plays `script(i)`.
    pub async fn by_connection(
        script: impl Fn(usize) -> Vec<Step> + Send + Sync + 'static,
    ) -> FaultServer {
        FaultServer::listen(None, script).await
    }

    /// Plain TCP on another loopback address (`"127.0.0.2:0"`), for a second origin
    /// with another host; every connection plays `script`.
    pub async fn start_on(bind: &str, script: Vec<Step>) -> FaultServer {
        FaultServer::listen_on(bind, None, move |_| script.clone()).await
    }

    /// TLS with the test PKI's valid leaf and ALPN http/1.1 only; every connection plays
    /// `script` over the TLS stream.
    pub async fn tls(script: Vec<Step>) -> FaultServer {
        let config = server_config(&ServerOptions {
            alpn: Alpn::H1Only,
            ..ServerOptions::default()
        });
        FaultServer::listen(Some(TlsAcceptor::from(config)), move |_| script.clone()).await
    }

    async fn listen(
        tls: Option<TlsAcceptor>,
        script: impl Fn(usize) -> Vec<Step> + Send + Sync + 'static,
    ) -> FaultServer {
        FaultServer::listen_on("127.0.0.1:0", tls, script).await
    }

    async fn listen_on(
        bind: &str,
        tls: Option<TlsAcceptor>,
        script: impl Fn(usize) -> Vec<Step> + Send + Sync + 'static,
    ) -> FaultServer {
        let listener = TcpListener::bind(bind).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let stats = Arc::new(Stats::default());
        let is_tls = tls.is_some();
        let task = tokio::spawn(accept_loop(listener, tls, Arc::new(script), stats.clone()));
        FaultServer {
            addr,
            tls: is_tls,
            stats,
            task,
        }
    }

    /// `http://127.0.0.1:PORT/path` (`https://` for a TLS server).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn accepts(&self) -> usize {
        self.stats.accepts.load(Ordering::SeqCst)
    }

    /// Connections the client closed while their script waited for it or wrote to it.
    pub fn closed_by_client(&self) -> usize {
        self.stats.closed_by_client.load(Ordering::SeqCst)
    }

    /// Waits until the client has closed `n` connections (up to 5 s), and asserts it did.
    pub async fn assert_closed_by_client(&self, n: usize) {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while self.closed_by_client() < n && std::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(self.closed_by_client(), n, "the client closed the socket");
    }

    /// Connections whose script has ended.
    pub fn finished(&self) -> usize {
        self.stats.finished.load(Ordering::SeqCst)
    }

    /// Every request read by `Step::Read` or `Step::ReadFor`, as raw bytes.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.stats.requests.lock().unwrap().clone()
    }

    /// The requests read, as lossy text.
    pub fn request_texts(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| String::from_utf8_lossy(r).into_owned())
            .collect()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Script = Arc<dyn Fn(usize) -> Vec<Step> + Send + Sync>;

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    script: Script,
    stats: Arc<Stats>,
) {
    serve_each(listener, |tcp| {
        let steps = script(stats.accepts.fetch_add(1, Ordering::SeqCst));
        serve(tcp, tls.clone(), steps, stats.clone())
    })
    .await
}

/// Plays `steps` on one connection.
async fn serve(tcp: TcpStream, tls: Option<TlsAcceptor>, steps: Vec<Step>, stats: Arc<Stats>) {
    let stream = match tls {
        None => FaultStream::Tcp(tcp),
        Some(acceptor) => match tokio::time::timeout(CLIENT_BOUND, acceptor.accept(tcp)).await {
            Ok(Ok(tls)) => FaultStream::Tls(Box::new(tls)),
            _ => {
                stats.finished.fetch_add(1, Ordering::SeqCst);
                return;
            }
        },
    };
    let mut conn = Conn {
        stream,
        buffered: Vec::new(),
        stats: stats.clone(),
    };
    conn.play(steps).await;
    stats.finished.fetch_add(1, Ordering::SeqCst);
}

struct Conn {
    stream: FaultStream,
    buffered: Vec<u8>,
    stats: Arc<Stats>,
}

impl Conn {
    async fn play(&mut self, steps: Vec<Step>) {
        for step in steps {
            match step {
                Step::Read => {
                    let read = read_request_from(&mut self.stream, &mut self.buffered).await;
                    match read {
                        Some(request) => self.stats.requests.lock().unwrap().push(request),
                        None => {
                            self.stats.closed_by_client.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    }
                }
                Step::ReadFor(wait) => {
                    let until = tokio::time::Instant::now() + wait;
                    let mut got = std::mem::take(&mut self.buffered);
                    let mut chunk = [0u8; 8192];
                    while let Ok(Ok(n)) =
                        tokio::time::timeout_at(until, self.stream.read(&mut chunk)).await
                    {
                        if n == 0 {
                            break;
                        }
                        got.extend_from_slice(&chunk[..n]);
                    }
                    self.stats.requests.lock().unwrap().push(got);
                }
                Step::Write(bytes) => {
                    if !self.write(&bytes).await {
                        return;
                    }
                }
                Step::Repeat(bytes, times) => {
                    for _ in 0..times {
                        if !self.write(&bytes).await {
                            return;
                        }
                    }
                }
                Step::Trickle(bytes, every) => {
                    for byte in bytes {
                        tokio::time::sleep(every).await;
                        if !self.write(&[byte]).await {
                            return;
                        }
                    }
                }
                Step::Pause(d) => tokio::time::sleep(d).await,
                Step::Close => {
                    let _ = self.stream.shutdown().await;
                    self.wait_for_client_close().await;
                    return;
                }
                Step::Fin => {
                    // Over TLS, shut the TCP stream down underneath rustls: no close_notify.
                    let _ = self.stream.tcp_mut().shutdown().await;
                    self.wait_for_client_close().await;
                    return;
                }
                Step::Reset => {
                    let _ = self.stream.tcp_mut().set_zero_linger();
                    return;
                }
                Step::Silent => {
                    self.wait_for_client_close().await;
                    return;
                }
            }
        }
        // The script ran out: keep the connection as it is until the client leaves, so
        // the test sees the client's choice (reuse it or close it), not ours.
        self.wait_for_client_close().await;
    }

    /// Writes `bytes`; false (counted as the client's close) when the client is gone.
    async fn write(&mut self, bytes: &[u8]) -> bool {
        let wrote = tokio::time::timeout(CLIENT_BOUND, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await;
        let ok = matches!(wrote, Ok(Ok(())));
        if !ok {
            self.stats.closed_by_client.fetch_add(1, Ordering::SeqCst);
        }
        ok
    }

    /// Reads and discards until the client closes (counted) or the bound passes.
    async fn wait_for_client_close(&mut self) {
        let mut sink = [0u8; 8192];
        let closed = tokio::time::timeout(CLIENT_BOUND, async {
            loop {
                match self.stream.read(&mut sink).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        if closed.is_ok() {
            self.stats.closed_by_client.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A server-side connection, plain or TLS.
enum FaultStream {
    Tcp(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl FaultStream {
    fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            FaultStream::Tcp(tcp) => tcp,
            FaultStream::Tls(tls) => tls.get_mut().0,
        }
    }
}

impl AsyncRead for FaultStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            FaultStream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            FaultStream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for FaultStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            FaultStream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            FaultStream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            FaultStream::Tcp(s) => Pin::new(s).poll_flush(cx),
            FaultStream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            FaultStream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            FaultStream::Tls(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
