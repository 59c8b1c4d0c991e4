//! A TCP server whose connections a test drives byte by byte, for the responses and faults
//! hyper would never produce (short bodies, resets, silence).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::accept::serve_each;

/// How long any one read waits for the client before giving up.
const READ_BOUND: Duration = Duration::from_secs(10);
/// Longest a request head may be before `read_request` gives up on it.
const MAX_HEAD: usize = 1 << 20;

/// A running raw server on 127.0.0.1; stops (and drops its connections) when dropped.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stats: Arc<RawStats>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct RawStats {
    accepts: AtomicUsize,
    requests: Mutex<Vec<Vec<u8>>>,
}

/// One accepted connection, handed to the test's closure.
pub struct RawConn {
    /// The socket itself, for anything the helpers don't cover.
    pub stream: TcpStream,
    /// 0 for the first connection accepted, 1 for the next…
    pub index: usize,
    /// Bytes read past the end of the last request (pipelining).
    buffered: Vec<u8>,
    stats: Arc<RawStats>,
}

impl RawServer {
    /// TCP connections accepted so far.
    pub fn accepts(&self) -> usize {
        self.stats.accepts.load(Ordering::SeqCst)
    }

    /// Every request read with `read_request` (or recorded with `record`), as raw bytes:
    /// head and body exactly as sent, chunked framing included.
    pub fn requests(&self) -> Vec<Vec<u8>> {
        self.stats.requests.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawConn {
    /// Reads one HTTP/1.x request: the head up to the blank line, then a Content-Length
    /// or chunked body. Records and returns its bytes; `None` on EOF, error or timeout.
    pub async fn read_request(&mut self) -> Option<Vec<u8>> {
        let request = read_request_from(&mut self.stream, &mut self.buffered).await?;
        self.record(&request);
        Some(request)
    }

    /// Reads exactly `n` bytes (not recorded); `None` on EOF, error or timeout.
    pub async fn read_exact(&mut self, n: usize) -> Option<Vec<u8>> {
        while self.buffered.len() < n {
            if !self.fill().await {
                return None;
            }
        }
        Some(self.buffered.drain(..n).collect())
    }

    /// Adds `bytes` to the server's `requests()`, for closures that frame input themselves.
    pub fn record(&self, bytes: &[u8]) {
        self.stats.requests.lock().unwrap().push(bytes.to_vec());
    }

    /// Writes all of `bytes`; a client that already left is not an error here.
    pub async fn write(&mut self, bytes: &[u8]) {
        let _ = tokio::time::timeout(READ_BOUND, self.stream.write_all(bytes)).await;
    }

    /// Reads and discards until the client closes (or the read bound passes).
    pub async fn drain(&mut self) {
        while self.fill().await {
            self.buffered.clear();
        }
    }

    /// Closes the connection with a TCP RST instead of a FIN.
    pub fn reset(self) {
        // SO_LINGER 0: close() discards unsent data and sends RST.
        let _ = self.stream.set_zero_linger();
        drop(self.stream);
    }

    /// Writes what's pending, sends FIN, then waits for the client to close. Dropping a
    /// socket with unread input sends a RST, which could overtake the last bytes written.
    pub async fn close(mut self) {
        let _ = self.stream.shutdown().await;
        self.drain().await;
    }

    /// Reads more into `buffered`; false on EOF, error or timeout.
    async fn fill(&mut self) -> bool {
        fill(&mut self.stream, &mut self.buffered).await
    }
}

/// Reads one HTTP/1.x request from `stream` (after what `buffered` already holds): the
/// head up to the blank line, then a Content-Length or chunked body. Returns its bytes and
/// leaves anything after it in `buffered`; `None` on EOF, error or timeout.
pub async fn read_request_from<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffered: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    let head_len = loop {
        if let Some(at) = find(buffered, b"\r\n\r\n") {
            break at + 4;
        }
        if buffered.len() > MAX_HEAD || !fill(stream, buffered).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffered[..head_len]).to_ascii_lowercase();
    let mut len = head_len;
    if header(&head, "transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        len = chunked_end(stream, buffered, head_len).await?;
    } else if let Some(cl) = header(&head, "content-length") {
        len += cl.parse::<usize>().ok()?;
        while buffered.len() < len {
            if !fill(stream, buffered).await {
                return None;
            }
        }
    }
    Some(buffered.drain(..len).collect())
}

/// Reads more from `stream` into `buffered`; false on EOF, error or timeout.
async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buffered: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8192];
    match tokio::time::timeout(READ_BOUND, stream.read(&mut chunk)).await {
        Ok(Ok(n)) if n > 0 => {
            buffered.extend_from_slice(&chunk[..n]);
            true
        }
        _ => false,
    }
}

/// The offset just past a chunked body starting at `at`.
async fn chunked_end<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffered: &mut Vec<u8>,
    mut at: usize,
) -> Option<usize> {
    loop {
        let size_line_end = line_end(stream, buffered, at).await?;
        let size_field = String::from_utf8_lossy(&buffered[at..size_line_end - 2]).into_owned();
        let size_hex = size_field.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_hex, 16).ok()?;
        at = size_line_end;
        if size == 0 {
            // Trailer fields, then the empty line.
            loop {
                let end = line_end(stream, buffered, at).await?;
                let empty = end - at == 2;
                at = end;
                if empty {
                    return Some(at);
                }
            }
        }
        at += size + 2;
        while buffered.len() < at {
            if !fill(stream, buffered).await {
                return None;
            }
        }
    }
}

/// The offset just past the CRLF ending the line that starts at `at`.
async fn line_end<S: AsyncRead + Unpin>(
    stream: &mut S,
    buffered: &mut Vec<u8>,
    at: usize,
) -> Option<usize> {
    loop {
        if let Some(i) = find(&buffered[at..], b"\r\n") {
            return Some(at + i + 2);
        }
        if !fill(stream, buffered).await {
            return None;
        }
    }
}

/// Starts a server on 127.0.0.1:0 that runs `f` on every accepted connection.
pub async fn raw_server<F, Fut>(f: F) -> RawServer
where
    F: Fn(RawConn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let stats = Arc::new(RawStats::default());
    let task = tokio::spawn(accept_loop(listener, f, stats.clone()));
    RawServer { addr, stats, task }
}

async fn accept_loop<F, Fut>(listener: TcpListener, f: F, stats: Arc<RawStats>)
where
    F: Fn(RawConn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    serve_each(listener, |stream| {
        let index = stats.accepts.fetch_add(1, Ordering::SeqCst);
        f(RawConn {
            stream,
            index,
            buffered: Vec::new(),
            stats: stats.clone(),
        })
    })
    .await
}

/// Accepts, reads whatever comes and never answers: for connect, handshake and response
/// timeouts. The connection stays open until the client leaves or the server is dropped.
pub async fn silent_server() -> RawServer {
    raw_server(|mut conn| async move {
        let mut sink = [0u8; 8192];
        // Not `drain`: that gives up after READ_BOUND, and silence must outlast any test.
        while let Ok(n) = conn.stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await
}

/// An HTTP/1.x response: `status_line` ("HTTP/1.1 200 OK", or just "200 OK"), the
/// headers in order, a blank line and `body`. Adds `content-length` only if the headers
/// have neither it nor `transfer-encoding`.
pub fn h1_response(status_line: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = if status_line.starts_with("HTTP/") {
        format!("{status_line}\r\n")
    } else {
        format!("HTTP/1.1 {status_line}\r\n")
    };
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    let framed = headers.iter().any(|(name, _)| {
        name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
    });
    if !framed {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of header `name` in a lowercased request head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        (n.trim() == name).then(|| v.trim())
    })
}
