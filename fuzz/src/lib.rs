//! What the wireline fuzz targets share: the input format, the in-memory server a real
//! client connects to, the budgets every run must keep, and the check on request heads.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wireline::fuzzing::MemoryIo;

/// Separates the fields of a structured input (`url_and_headers`, `redirect`, and the
/// certificate/key split of `pem`): readable in hand-made seeds, and no byte a field
/// needs is taken (CR, LF, NUL and 0xFF all stay usable; only this exact sequence is).
pub const SEP: &[u8] = b"\n~\n";

/// The fields of `data`, split at each [`SEP`].
pub fn fields(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEP.len()).position(|w| w == SEP) {
        out.push(&rest[..at]);
        rest = &rest[at + SEP.len()..];
    }
    out.push(rest);
    out
}

/// Wall-clock bound on one input: far above what any input needs (milliseconds), so only
/// a client that hangs reaches it.
pub const TIME_BUDGET: Duration = Duration::from_secs(10);

/// Bound on polls, of the client's future and of the connection's reads and writes
/// together: a client that spins without progress hits it long before the time budget.
pub const POLL_BUDGET: usize = 200_000;

/// Runs `f` on a fresh single-threaded runtime (so nothing carries over between inputs)
/// under [`TIME_BUDGET`] and [`POLL_BUDGET`]; breaking either is a finding (a panic).
pub fn run<F: Future>(polls: Arc<AtomicUsize>, f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime");
    let counted = Counted {
        inner: Box::pin(f),
        polls,
    };
    rt.block_on(async {
        match tokio::time::timeout(TIME_BUDGET, counted).await {
            Ok(out) => out,
            Err(_) => panic!("the client did not finish within {TIME_BUDGET:?}"),
        }
    })
}

struct Counted<F: Future> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}

impl<F: Future> Future for Counted<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        spend(&self.polls);
        self.inner.as_mut().poll(cx)
    }
}

fn spend(polls: &AtomicUsize) {
    let n = polls.fetch_add(1, Ordering::Relaxed) + 1;
    assert!(
        n <= POLL_BUDGET,
        "more than {POLL_BUDGET} polls: the client spins"
    );
}

/// One connection the client opened: where to, and every byte it wrote.
#[derive(Clone, Debug)]
pub struct Opened {
    /// The destination the pool asked for, `scheme://host:port`.
    pub dst: http::Uri,
    pub written: Arc<Mutex<Vec<u8>>>,
}

/// The server side of a fuzz run: answers each new connection with the reads `respond`
/// returns for it (its index, then its destination), and records what the client wrote.
#[derive(Clone)]
pub struct Server {
    pub opened: Arc<Mutex<Vec<Opened>>>,
    pub polls: Arc<AtomicUsize>,
}

impl Server {
    pub fn new() -> Server {
        Server {
            opened: Arc::default(),
            polls: Arc::default(),
        }
    }

    /// The connection opener to give `ClientBuilder::fuzzing_transport`.
    pub fn transport<R>(
        &self,
        respond: R,
    ) -> impl Fn(&http::Uri) -> io::Result<Box<dyn MemoryIo>> + Send + Sync + 'static
    where
        R: Fn(usize, &http::Uri) -> Vec<Vec<u8>> + Send + Sync + 'static,
    {
        let server = self.clone();
        move |dst| {
            let written = Arc::new(Mutex::new(Vec::new()));
            let index = {
                let mut opened = server.opened.lock().unwrap();
                opened.push(Opened {
                    dst: dst.clone(),
                    written: written.clone(),
                });
                opened.len() - 1
            };
            let mut reads = respond(index, dst);
            reads.retain(|read| !read.is_empty());
            reads.reverse();
            Ok(Box::new(Scripted {
                reads,
                offset: 0,
                yield_next: false,
                reader: None,
                written,
                polls: server.polls.clone(),
            }))
        }
    }

    /// With `WIRELINE_FUZZ_DEBUG` set, prints `outcome` and what each connection saw, to
    /// see what a reproduced input does.
    pub fn debug(&self, outcome: &dyn std::fmt::Debug) {
        if std::env::var_os("WIRELINE_FUZZ_DEBUG").is_none() {
            return;
        }
        eprintln!("outcome: {outcome:?}");
        for (i, (dst, written)) in self.heads().iter().enumerate() {
            eprintln!(
                "connection {i} to {dst}: wrote {:?}",
                String::from_utf8_lossy(written)
            );
        }
    }

    /// Each connection's destination and what the client wrote on it.
    pub fn heads(&self) -> Vec<(http::Uri, Vec<u8>)> {
        self.opened
            .lock()
            .unwrap()
            .iter()
            .map(|o| (o.dst.clone(), o.written.lock().unwrap().clone()))
            .collect()
    }
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

/// A connection whose reads return the scripted pieces one per read, with a `Pending` in
/// between (as when the next packet has not arrived), then EOF. Like a server, it answers
/// only once a request head has arrived: hyper rightly fails a connection that speaks
/// first. Writes always succeed.
struct Scripted {
    /// Still to be read, last piece first.
    reads: Vec<Vec<u8>>,
    /// How much of the next piece was read already.
    offset: usize,
    yield_next: bool,
    /// Woken when the client writes: a read waiting for the request head.
    reader: Option<Waker>,
    written: Arc<Mutex<Vec<u8>>>,
    polls: Arc<AtomicUsize>,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        spend(&self.polls);
        let head_arrived = self
            .written
            .lock()
            .unwrap()
            .windows(4)
            .any(|w| w == b"\r\n\r\n");
        if !head_arrived {
            self.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if self.yield_next {
            self.yield_next = false;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let this = &mut *self;
        let Some(piece) = this.reads.last() else {
            return Poll::Ready(Ok(()));
        };
        let n = (piece.len() - this.offset).min(buf.remaining());
        buf.put_slice(&piece[this.offset..this.offset + n]);
        this.offset += n;
        if this.offset == piece.len() {
            this.reads.pop();
            this.offset = 0;
            this.yield_next = true;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        spend(&self.polls);
        self.written.lock().unwrap().extend_from_slice(buf);
        if let Some(reader) = self.reader.take() {
            reader.wake();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// A request head as the client wrote it.
#[derive(Debug)]
pub struct Head {
    pub method: String,
    pub target: String,
    /// Names lowercased; values as sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Head {
    pub fn has(&self, name: &str) -> bool {
        self.headers.iter().any(|(n, _)| n == name)
    }
}

/// Parses and checks the request head at the start of `written`, panicking (a finding) if
/// it breaks HTTP/1.1 framing: a bare CR or LF or a NUL anywhere, a request line that is
/// not `token SP target SP HTTP/1.1`, a header line that is not `token ":" value` (a
/// line starting with whitespace would be an obsolete fold). `None` when no complete head
/// was written.
pub fn check_head(written: &[u8]) -> Option<Head> {
    let end = written.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &written[..end];
    let mut lines = Vec::new();
    let mut rest = head;
    loop {
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(at) => {
                lines.push(&rest[..at]);
                rest = &rest[at + 2..];
            }
            None => {
                lines.push(rest);
                break;
            }
        }
    }
    for line in &lines {
        assert!(
            !line.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "a CR, LF or NUL inside a head line: {:?}",
            String::from_utf8_lossy(line)
        );
    }
    let request_line = std::str::from_utf8(lines[0]).expect("the request line is ASCII");
    let parts: Vec<&str> = request_line.split(' ').collect();
    assert_eq!(parts.len(), 3, "request line {request_line:?}");
    assert!(
        !parts[0].is_empty() && parts[0].bytes().all(is_tchar),
        "method {:?}",
        parts[0]
    );
    assert!(
        !parts[1].is_empty() && parts[1].bytes().all(|b| b.is_ascii_graphic()),
        "request target {:?}",
        parts[1]
    );
    assert_eq!(parts[2], "HTTP/1.1", "request line {request_line:?}");
    let mut headers = Vec::new();
    for line in &lines[1..] {
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .unwrap_or_else(|| panic!("header line without a colon: {line:?}"));
        let name = &line[..colon];
        assert!(
            !name.is_empty() && name.iter().copied().all(is_tchar),
            "header name {:?}",
            String::from_utf8_lossy(name)
        );
        let value = &line[colon + 1..];
        headers.push((
            String::from_utf8_lossy(name).to_ascii_lowercase(),
            value.trim_ascii().to_vec(),
        ));
    }
    Some(Head {
        method: parts[0].to_owned(),
        target: parts[1].to_owned(),
        headers,
    })
}

/// RFC 9110 `tchar`, what methods and header names are made of.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Builds the client a target configured in `builder`, keeping no idle connection (each
/// input starts clean). TLS is never used in memory: the system roots cost nothing after
/// the first input, and on a machine without them the client is made without
/// verification instead. Other errors are the target's to judge.
pub fn client(builder: impl Fn() -> wireline::ClientBuilder) -> wireline::Result<wireline::Client> {
    match builder().pool_max_idle_per_host(0).build() {
        Err(e) if e.is_tls() => builder()
            .pool_max_idle_per_host(0)
            .danger_accept_invalid_certs(true)
            .build(),
        built => built,
    }
}
