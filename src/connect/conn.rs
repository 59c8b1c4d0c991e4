//! `Conn`: the connection the pool holds, delegating I/O to the TCP or TLS stream and
//! handing the pool what we learned at connect time (the `TlsInfo`, when asked for).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::connect::clock::Noted;
use crate::connect::origins::Slot;
use crate::connect::streams::{FirstFrame, Streams};
use crate::timings::ConnectionMarks;
use crate::tls::info::TlsInfo;

/// A connection the pool opened: plain or TLS, with its `TlsInfo` if the client was built
/// with `tls_info(true)`. What the layers of
/// [`connector_layer`](crate::ClientBuilder::connector_layer) get back from the service
/// they wrap and hand on; it can't be made outside wireline (as in reqwest).
pub struct Conn {
    stream: Stream,
    /// `None` unless asked for, so a client without `tls_info` pays nothing per response.
    tls_info: Option<TlsInfo>,
    /// What a request that fails on this connection may need to know about it.
    record: Arc<Record>,
    /// A connection to a proxy that takes `http://` requests in absolute form.
    forwarded: bool,
    /// Its place in the client's count per origin (`connect/origins.rs`), given back when
    /// hyper drops the connection; `None` for a pool without a gate.
    slot: Option<Slot>,
    /// An h2 connection of a pool with lanes, until the server's first frame is read: it
    /// tells the pool the server's stream limit (`streams.rs`). Boxed: read once.
    first_frame: Option<Box<(FirstFrame, Arc<Streams>)>>,
}

/// What a connection records for the requests that fail on it; the pool hands it back
/// with the failed request's error, and beside each response it carried
/// (`crate::pool::Reply`). One record per connection: HTTP/1
/// connections count their use for `crate::attempt` (and so for the retry policy),
/// h2 ones keep the TLS error that broke them (HTTP/1 gets that error with the failed
/// request itself). Both say when the connection is gone, for the watch on requests that
/// hyper loses (see `crate::pool`).
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) proto: Proto,
    /// Set once the connection is dropped: hyper will never read or write it again.
    closed: AtomicBool,
    /// Woken then, for the requests on it that hyper may have lost (`crate::pool`).
    closing: Arc<tokio::sync::Notify>,
    /// When it was opened, and its number, for `Timings`.
    pub(crate) marks: ConnectionMarks,
}

/// What a connection records, by protocol.
#[derive(Debug)]
pub(crate) enum Proto {
    Http1(Usage),
    H2(TlsFailure),
}

impl Record {
    fn new(proto: Proto, marks: ConnectionMarks) -> Record {
        Record {
            proto,
            closed: AtomicBool::new(false),
            closing: Arc::default(),
            marks,
        }
    }

    /// A record for tests, of an HTTP/1 connection.
    #[cfg(test)]
    pub(crate) fn for_test() -> Record {
        let now = std::time::Instant::now();
        let marks = ConnectionMarks::new(now, None, None, false);
        Record::new(Proto::Http1(Usage::default()), marks)
    }

    /// A record for tests, of an HTTP/1 connection that has carried one exchange.
    #[cfg(test)]
    pub(crate) fn for_test_used() -> Record {
        let record = Record::for_test();
        if let Proto::Http1(usage) = &record.proto {
            usage.writing();
            usage.wrote(1);
            usage.read(1);
        }
        record
    }

    /// Whether the connection was dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(SeqCst)
    }

    /// The TLS error that broke an h2 connection, if one did.
    pub(crate) fn tls_failure(&self) -> Option<rustls::Error> {
        match &self.proto {
            Proto::H2(failure) => failure.get().cloned(),
            Proto::Http1(_) => None,
        }
    }

    /// Marks the connection dropped, and wakes the requests watching it (`crate::pool`).
    pub(crate) fn close(&self) {
        self.closed.store(true, SeqCst);
        self.closing.notify_waiters();
    }

    /// Resolves once the connection is dropped, if registered (polled or enabled) before;
    /// see [`is_closed`](Self::is_closed) for a drop before that.
    pub(crate) fn closed(&self) -> tokio::sync::futures::OwnedNotified {
        self.closing.clone().notified_owned()
    }
}

/// What an HTTP/1 connection has carried, as its reads and writes show it, so that a
/// request that failed on it can tell whether the connection was reused and whether any of
/// the response arrived (see `crate::attempt`).
///
/// An HTTP/1 client writes a request, then reads its response, and writes the next request
/// only once that response is complete, so an exchange starts at the first write after
/// response bytes were read. The one pattern this misreads is response bytes arriving
/// while a request body is still being written (an early 1xx or error head): the rest of
/// that upload then counts as a new exchange. Plaintext bytes only: the TLS handshake is
/// below this layer. Meaningless for h2, where requests interleave.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// Exchanges started on this connection, the current one included.
    exchanges: AtomicU32,
    /// Whether the current exchange has written any byte.
    written: AtomicBool,
    /// Whether the current exchange has read any byte of its response.
    read: AtomicBool,
    /// Set when a response on this connection had framing we refuse (see
    /// `crate::attempt::heads`): from then on the connection reads as closed and takes no write,
    /// so hyper closes it instead of handing it to the next request.
    retired: AtomicBool,
    /// When its first request began to be written: once per connection, so a connection
    /// that sat in the pool before carrying anything can count as reused.
    first_write: OnceLock<Instant>,
}

/// A connection whose first request came this long after it was ready had been waiting in
/// the pool (the pool keeps the connection a request dialled but did not use), where a
/// server may close it as idle: far above the time from a dial to its own request, far
/// below any server's idle timeout.
const IDLE_BEFORE_FIRST_REQUEST: Duration = Duration::from_millis(100);

impl Usage {
    /// Called before each write: the first write of an exchange starts it.
    #[inline]
    fn writing(&self) {
        let exchanges = self.exchanges.load(Relaxed);
        if self.read.load(Relaxed) || exchanges == 0 {
            if exchanges == 0 {
                let _ = self.first_write.set(Instant::now());
            }
            self.exchanges.fetch_add(1, Relaxed);
            self.read.store(false, Relaxed);
            self.written.store(false, Relaxed);
        }
    }

    #[inline]
    fn wrote(&self, n: usize) {
        if n > 0 && !self.written.load(Relaxed) {
            self.written.store(true, Relaxed);
        }
    }

    #[inline]
    fn read(&self, n: usize) {
        if n > 0 && !self.read.load(Relaxed) {
            self.read.store(true, Relaxed);
        }
    }

    /// The current exchange is not the connection's first, or the connection, `ready` at
    /// that instant, waited in the pool before its first (Go's rule counts every connection
    /// that was ever idle in the pool as reused).
    pub(crate) fn reused(&self, ready: Instant) -> bool {
        self.exchanges.load(Relaxed) >= 2
            || self.first_write.get().is_some_and(|first| {
                first.saturating_duration_since(ready) >= IDLE_BEFORE_FIRST_REQUEST
            })
    }

    /// Some request was written on this connection: one that never left hyper's channel
    /// to it (`crate::attempt`'s lost requests) found it reused.
    pub(crate) fn carried_a_request(&self) -> bool {
        self.exchanges.load(Relaxed) >= 1
    }

    /// Some of the current request reached the socket.
    pub(crate) fn request_written(&self) -> bool {
        self.written.load(Relaxed)
    }

    /// Some of the current response arrived.
    pub(crate) fn response_started(&self) -> bool {
        self.read.load(Relaxed)
    }

    /// Never use this connection again. Its current response is abandoned: it is only
    /// called on a response we refuse and drop unread.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Relaxed);
    }
}

/// What a retired connection answers a write with.
fn retired_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "connection retired after a response with invalid framing",
    )
}

/// The TLS error seen on a connection after its handshake (a client certificate refused
/// under TLS 1.3 arrives that way). When such an error ends an h2 connection, hyper fails
/// the requests in flight as merely "canceled: connection closed"; the pool hands us the
/// connection's record with that error, so [`crate::Error`] can still say what happened.
#[derive(Debug, Default)]
pub(crate) struct TlsFailure(OnceLock<rustls::Error>);

impl TlsFailure {
    pub(crate) fn get(&self) -> Option<&rustls::Error> {
        self.0.get()
    }
}

impl Conn {
    /// `forwarded`: the stream goes to a proxy that takes requests in absolute form.
    /// `h2_prior_knowledge`: the pool speaks h2 on it whatever ALPN said. `noted`: when
    /// its phases ended.
    pub(crate) fn new(
        stream: Stream,
        forwarded: bool,
        h2_prior_knowledge: bool,
        noted: Noted,
    ) -> Conn {
        let h2 =
            h2_prior_knowledge || stream.tls().and_then(|tls| tls.alpn_protocol()) == Some(b"h2");
        let proto = if h2 {
            Proto::H2(TlsFailure::default())
        } else {
            Proto::Http1(Usage::default())
        };
        let marks = noted.marks(stream.tls().is_some());
        crate::connect::clock::trace_opened(&marks, stream.tls());
        Conn {
            stream,
            tls_info: None,
            record: Arc::new(Record::new(proto, marks)),
            forwarded,
            slot: None,
            first_frame: None,
        }
    }

    /// A plaintext connection over the fuzz target's in-memory transport: h2 under
    /// `http2_prior_knowledge` (`h2`), else HTTP/1.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn memory(io: Box<dyn crate::connect::memory::MemoryIo>, h2: bool) -> Conn {
        let proto = if h2 {
            Proto::H2(TlsFailure::default())
        } else {
            Proto::Http1(Usage::default())
        };
        Conn {
            stream: Stream::Memory(TokioIo::new(io)),
            tls_info: None,
            record: Arc::new(Record::new(proto, Noted::now().marks(false))),
            forwarded: false,
            slot: None,
            first_frame: None,
        }
    }

    /// Holds `slot` until the connection is dropped.
    pub(crate) fn holding(mut self, slot: Slot) -> Conn {
        self.slot = Some(slot);
        self
    }

    /// Reads the server's stream limit into `streams` (an h2 connection).
    pub(crate) fn learning_limit(mut self, streams: Arc<Streams>) -> Conn {
        self.first_frame = Some(Box::new((FirstFrame::default(), streams)));
        self
    }

    /// What it records for the requests on it.
    pub(crate) fn record(&self) -> &Arc<Record> {
        &self.record
    }

    /// Whether the pool speaks h2 on it (ALPN or `http2_prior_knowledge`).
    pub(crate) fn is_h2(&self) -> bool {
        matches!(self.record.proto, Proto::H2(_))
    }

    /// Reads the TLS parameters off the finished handshake (nothing for plain HTTP).
    pub(crate) fn with_tls_info(mut self) -> Conn {
        if let Some(session) = self.stream.tls() {
            self.tls_info = Some(TlsInfo::of(session));
        }
        self
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.record.close();
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let connected = match &self.stream {
            Stream::Net(stream) => stream.connected().proxy(self.forwarded),
            #[cfg(unix)]
            Stream::Unix(stream) => stream.connected(),
            #[cfg(feature = "fuzzing")]
            Stream::Memory(_) => Connected::new(),
        };
        match &self.tls_info {
            // The pool copies the extra into the extensions of every response.
            Some(info) => connected.extra(info.clone()),
            None => connected,
        }
    }
}

impl Read for Conn {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let usage = match &this.record.proto {
            Proto::Http1(usage) => usage,
            Proto::H2(failure) => {
                let polled = match &mut this.first_frame {
                    None => ready!(Pin::new(&mut this.stream).poll_read(cx, buf)),
                    Some(first) => {
                        let (frame, streams) = &mut **first;
                        let mut read = false;
                        let polled = ready!(read_seeing(&mut this.stream, cx, buf, |bytes| {
                            read = frame.read(bytes, streams) || bytes.is_empty();
                        }));
                        if read || polled.is_err() {
                            this.first_frame = None;
                        }
                        polled
                    }
                };
                if let Err(e) = &polled {
                    if let Some(tls) =
                        crate::error::chain(e).find_map(|c| c.downcast_ref::<rustls::Error>())
                    {
                        let _ = failure.0.set(tls.clone());
                    }
                }
                return Poll::Ready(polled);
            }
        };
        if usage.retired.load(Relaxed) {
            // End of stream: an idle hyper connection closes at once, and one still
            // reading the refused response ends it (nobody reads that body).
            return Poll::Ready(Ok(()));
        }
        read_seeing(&mut this.stream, cx, buf, |bytes| usage.read(bytes.len()))
    }
}

/// Reads from `stream` into `buf`, showing `seen` the bytes that came: through a `ReadBuf`
/// of our own over the caller's unfilled space, as the cursor can't show them once
/// handed on.
#[inline]
fn read_seeing(
    stream: &mut Stream,
    cx: &mut Context<'_>,
    mut buf: ReadBufCursor<'_>,
    seen: impl FnOnce(&[u8]),
) -> Poll<io::Result<()>> {
    // SAFETY: `as_mut` is only written to by the inner reader, through `inner`, which
    // tracks what it initialized; `advance` then covers exactly the bytes it filled.
    let mut inner = hyper::rt::ReadBuf::uninit(unsafe { buf.as_mut() });
    let polled = Pin::new(stream).poll_read(cx, inner.unfilled());
    ready!(polled)?;
    let filled = inner.filled();
    seen(filled);
    let filled = filled.len();
    unsafe { buf.advance(filled) };
    Poll::Ready(Ok(()))
}

impl Write for Conn {
    #[inline]
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Proto::Http1(usage) = &this.record.proto else {
            return Pin::new(&mut this.stream).poll_write(cx, buf);
        };
        if usage.retired.load(Relaxed) {
            return Poll::Ready(Err(retired_error()));
        }
        usage.writing();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            usage.wrote(n);
        }
        polled
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    #[inline]
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    #[inline]
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Proto::Http1(usage) = &this.record.proto else {
            return Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        };
        if usage.retired.load(Relaxed) {
            return Poll::Ready(Err(retired_error()));
        }
        usage.writing();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            usage.wrote(n);
        }
        polled
    }
}

/// The bytes under a [`Conn`]: TCP or TLS over TCP, the same over a Unix socket
/// (`unix_socket`), or with the `fuzzing` feature a fuzz target's in-memory transport.
/// Each read and write takes one branch on the variant.
// The size difference only exists with the fuzzing feature, where it doesn't matter;
// boxing the network stream would cost every real connection an indirection.
#[cfg_attr(feature = "fuzzing", allow(clippy::large_enum_variant))]
pub(crate) enum Stream {
    Net(MaybeHttpsStream<TokioIo<TcpStream>>),
    #[cfg(unix)]
    Unix(MaybeHttpsStream<TokioIo<tokio::net::UnixStream>>),
    #[cfg(feature = "fuzzing")]
    Memory(TokioIo<Box<dyn crate::connect::memory::MemoryIo>>),
}

impl Stream {
    /// The TLS session, for a TLS stream.
    fn tls(&self) -> Option<&rustls::ClientConnection> {
        match self {
            Stream::Net(MaybeHttpsStream::Https(tls)) => Some(tls.inner().get_ref().1),
            #[cfg(unix)]
            Stream::Unix(MaybeHttpsStream::Https(tls)) => Some(tls.inner().get_ref().1),
            _ => None,
        }
    }
}

impl From<MaybeHttpsStream<TokioIo<TcpStream>>> for Stream {
    fn from(stream: MaybeHttpsStream<TokioIo<TcpStream>>) -> Stream {
        Stream::Net(stream)
    }
}

#[cfg(unix)]
impl From<MaybeHttpsStream<TokioIo<tokio::net::UnixStream>>> for Stream {
    fn from(stream: MaybeHttpsStream<TokioIo<tokio::net::UnixStream>>) -> Stream {
        Stream::Unix(stream)
    }
}

/// Calls `$method` on whichever stream `$stream` (a `Pin<&mut Stream>`) holds.
macro_rules! delegate {
    ($stream:expr, $method:ident($($arg:expr),*)) => {
        match $stream.get_mut() {
            Stream::Net(s) => Pin::new(s).$method($($arg),*),
            #[cfg(unix)]
            Stream::Unix(s) => Pin::new(s).$method($($arg),*),
            #[cfg(feature = "fuzzing")]
            Stream::Memory(s) => Pin::new(s).$method($($arg),*),
        }
    };
}

impl Read for Stream {
    #[inline]
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, poll_read(cx, buf))
    }
}

impl Write for Stream {
    #[inline]
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, poll_write(cx, buf))
    }

    #[inline]
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, poll_flush(cx))
    }

    #[inline]
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, poll_shutdown(cx))
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Net(s) => s.is_write_vectored(),
            #[cfg(unix)]
            Stream::Unix(s) => s.is_write_vectored(),
            #[cfg(feature = "fuzzing")]
            Stream::Memory(s) => s.is_write_vectored(),
        }
    }

    #[inline]
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, poll_write_vectored(cx, bufs))
    }
}
