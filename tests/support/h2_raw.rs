//! An HTTP/2 server that writes raw frames: the hostile or malformed sequences the `h2`
//! crate's server will not send (a CONTINUATION flood, PUSH_PROMISE to a client that
//! disabled push, frames over the client's size limit, DATA on a stream never opened).
//!
//! Each connection: TLS (the test PKI's leaf, ALPN h2), our empty SETTINGS, the client's
//! preface and frames read until its request (HEADERS on stream 1, END_HEADERS) has
//! arrived, its SETTINGS acknowledged; then the script's frames, while a reader records
//! every frame the client sends (its GOAWAY, RST_STREAM) and notices when it closes.
//! Response heads are encoded with [`hpack`], a few lines of RFC 7541 by hand: no
//! Huffman coding, no dynamic table except where a test builds one on purpose.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::accept::serve_each;
use super::tls_server::default_tls_listener;

/// The longest a connection waits for its client (to send its request, to read, to
/// close) before the server gives up on it.
const CLIENT_BOUND: Duration = Duration::from_secs(20);

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The largest frame payload a peer must accept without asking (SETTINGS_MAX_FRAME_SIZE's
/// initial value): what hyper's client announces.
pub const MAX_FRAME: usize = 16_384;

/// Frame types (RFC 9113 §6).
pub mod kind {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// RST_STREAM.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE.
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// Frame flags.
pub mod flag {
    /// END_STREAM (DATA, HEADERS).
    pub const END_STREAM: u8 = 0x1;
    /// ACK (SETTINGS, PING).
    pub const ACK: u8 = 0x1;
    /// END_HEADERS (HEADERS, PUSH_PROMISE, CONTINUATION).
    pub const END_HEADERS: u8 = 0x4;
}

/// One frame: the 9-byte header's fields and the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The type (see [`kind`]).
    pub kind: u8,
    /// The flags (see [`flag`]).
    pub flags: u8,
    /// The stream identifier (31 bits).
    pub stream: u32,
    /// The payload, at most 2^24 - 1 bytes.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame of any kind.
    pub fn new(kind: u8, flags: u8, stream: u32, payload: impl Into<Vec<u8>>) -> Frame {
        Frame {
            kind,
            flags,
            stream,
            payload: payload.into(),
        }
    }

    /// DATA on `stream`, with END_STREAM if `end`.
    pub fn data(stream: u32, payload: impl Into<Vec<u8>>, end: bool) -> Frame {
        let flags = if end { flag::END_STREAM } else { 0 };
        Frame::new(kind::DATA, flags, stream, payload)
    }

    /// The 9-byte header and the payload, as they go on the wire.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let len = u32::try_from(self.payload.len()).expect("payload length");
        assert!(len < 1 << 24, "a frame payload is at most 2^24 - 1 bytes");
        out.extend_from_slice(&len.to_be_bytes()[1..]);
        out.push(self.kind);
        out.push(self.flags);
        out.extend_from_slice(&(self.stream & 0x7fff_ffff).to_be_bytes());
        out.extend_from_slice(&self.payload);
    }

    /// The error code of a GOAWAY or RST_STREAM frame.
    pub fn error_code(&self) -> Option<u32> {
        let at = match self.kind {
            kind::GOAWAY => 4,
            kind::RST_STREAM => 0,
            _ => return None,
        };
        let bytes = self.payload.get(at..at + 4)?;
        Some(u32::from_be_bytes(bytes.try_into().ok()?))
    }

    /// The debug data of a GOAWAY frame, as lossy text.
    pub fn goaway_debug(&self) -> String {
        String::from_utf8_lossy(self.payload.get(8..).unwrap_or_default()).into_owned()
    }
}

/// A response head on `stream`: HEADERS with `block`, split into CONTINUATION frames of at
/// most [`MAX_FRAME`] bytes, END_HEADERS on the last; END_STREAM on the HEADERS if `end`.
pub fn response_head(stream: u32, block: &[u8], end: bool) -> Vec<Step> {
    let mut chunks = block.chunks(MAX_FRAME).peekable();
    let mut steps = Vec::new();
    let mut first = true;
    while let Some(chunk) = chunks.next() {
        let mut flags = if chunks.peek().is_none() {
            flag::END_HEADERS
        } else {
            0
        };
        let kind = if first {
            if end {
                flags |= flag::END_STREAM;
            }
            kind::HEADERS
        } else {
            kind::CONTINUATION
        };
        steps.push(Step::Send(Frame::new(kind, flags, stream, chunk)));
        first = false;
    }
    steps
}

/// HPACK (RFC 7541), the little a test server needs: the static table's `:status: 200`,
/// literal fields without Huffman coding, and (for the HPACK bomb) one dynamic entry.
pub mod hpack {
    /// `:status: 200`: static table index 8, as an indexed field (§6.1).
    pub const STATUS_200: u8 = 0x88;

    /// Appends `value` as an HPACK integer with an N-bit prefix (§5.1), the prefix's
    /// high bits taken from `first` (the representation's pattern).
    pub fn integer(value: usize, prefix_bits: u8, first: u8, out: &mut Vec<u8>) {
        let max = (1usize << prefix_bits) - 1;
        if value < max {
            out.push(first | value as u8);
            return;
        }
        out.push(first | max as u8);
        let mut rest = value - max;
        while rest >= 128 {
            out.push((rest % 128) as u8 | 0x80);
            rest /= 128;
        }
        out.push(rest as u8);
    }

    /// A string literal without Huffman coding (§5.2): H bit 0, 7-bit prefix length.
    pub fn string(s: &[u8], out: &mut Vec<u8>) {
        integer(s.len(), 7, 0x00, out);
        out.extend_from_slice(s);
    }

    /// A literal field without indexing, new name (§6.2.2): 0x00, name, value.
    pub fn literal(name: &str, value: &[u8], out: &mut Vec<u8>) {
        out.push(0x00);
        string(name.as_bytes(), out);
        string(value, out);
    }

    /// A literal field with incremental indexing, new name (§6.2.1): 0x40, name, value;
    /// the field becomes dynamic table index 62 (the first after the 61 static ones).
    pub fn literal_indexed(name: &str, value: &[u8], out: &mut Vec<u8>) {
        out.push(0x40);
        string(name.as_bytes(), out);
        string(value, out);
    }

    /// An indexed field (§6.1): one byte for an index below 127.
    pub fn indexed(index: usize, out: &mut Vec<u8>) {
        integer(index, 7, 0x80, out);
    }

    /// `:status: 200` and then `fields` as literals.
    pub fn status_200_with(fields: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut block = vec![STATUS_200];
        for (name, value) in fields {
            literal(name, value, &mut block);
        }
        block
    }

    /// The size of a header list as RFC 9113 §6.5.2 (and SETTINGS_MAX_HEADER_LIST_SIZE)
    /// counts it: name + value + 32 for each field, `:status: 200` included.
    pub fn list_size(fields: &[(String, Vec<u8>)]) -> usize {
        let status = ":status".len() + "200".len() + 32;
        status
            + fields
                .iter()
                .map(|(name, value)| name.len() + value.len() + 32)
                .sum::<usize>()
    }
}

/// One step of a connection's script, after the client's request has arrived.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write one frame.
    Send(Frame),
    /// Write this frame this many times (stops early if the client goes away).
    Repeat(Frame, usize),
    /// Write this frame again and again until a write fails or the client closes.
    UntilClosed(Frame),
    /// Pause this long.
    Pause(Duration),
}

/// A running raw h2 server; stops (dropping its connections) when dropped.
pub struct H2RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Stats {
    accepts: AtomicUsize,
    /// Frames the scripts wrote (the handshake's SETTINGS frames not counted).
    frames_written: AtomicUsize,
    /// Connections whose client closed (EOF or error on read, or a failed write).
    closed_by_client: AtomicUsize,
    /// Every frame the clients sent, the preface's SETTINGS included.
    received: Mutex<Vec<Frame>>,
    /// Woken whenever a frame arrives or a client closes.
    changed: Notify,
}

impl H2RawServer {
    /// Every connection plays `script` once the client's request has arrived, then waits
    /// for the client to close.
    pub async fn start(script: Vec<Step>) -> H2RawServer {
        let (listener, addr, acceptor) = default_tls_listener().await;
        let stats = Arc::new(Stats::default());
        let task = tokio::spawn(accept_loop(
            listener,
            acceptor,
            Arc::new(script),
            stats.clone(),
        ));
        H2RawServer { addr, stats, task }
    }

    /// `https://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// TCP connections accepted.
    pub fn accepts(&self) -> usize {
        self.stats.accepts.load(Ordering::SeqCst)
    }

    /// Frames written by the scripts so far.
    pub fn frames_written(&self) -> usize {
        self.stats.frames_written.load(Ordering::SeqCst)
    }

    /// Connections their client has closed.
    pub fn closed_by_client(&self) -> usize {
        self.stats.closed_by_client.load(Ordering::SeqCst)
    }

    /// Every frame received from clients so far.
    pub fn received(&self) -> Vec<Frame> {
        self.stats.received.lock().unwrap().clone()
    }

    /// Waits (up to 5 s) until `n` connections have been closed by their client, and
    /// returns how many were.
    pub async fn closed_within(&self, n: usize) -> usize {
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                let changed = self.stats.changed.notified();
                if self.closed_by_client() >= n {
                    return;
                }
                changed.await;
            }
        })
        .await;
        self.closed_by_client()
    }

    /// The first GOAWAY a client sent: (error code, debug data).
    pub fn client_goaway(&self) -> Option<(u32, String)> {
        self.received()
            .iter()
            .find(|f| f.kind == kind::GOAWAY)
            .map(|f| (f.error_code().unwrap_or(u32::MAX), f.goaway_debug()))
    }

    /// The parameters of the first SETTINGS frame a client sent (its preface's), as
    /// (identifier, value) pairs in the order sent (RFC 9113 §6.5.1).
    pub fn client_settings(&self) -> Vec<(u16, u32)> {
        let received = self.received();
        let settings = received
            .iter()
            .find(|f| f.kind == kind::SETTINGS && f.flags & flag::ACK == 0)
            .expect("the client's SETTINGS");
        settings
            .payload
            .chunks(6)
            .map(|entry| {
                let id = u16::from_be_bytes([entry[0], entry[1]]);
                (id, u32::from_be_bytes(entry[2..6].try_into().unwrap()))
            })
            .collect()
    }

    /// The PING frames (not acknowledgements) clients sent so far.
    pub fn client_pings(&self) -> usize {
        self.received()
            .iter()
            .filter(|f| f.kind == kind::PING && f.flags & flag::ACK == 0)
            .count()
    }

    /// The error codes of the RST_STREAM frames clients sent for `stream`.
    pub fn client_resets(&self, stream: u32) -> Vec<u32> {
        self.received()
            .iter()
            .filter(|f| f.kind == kind::RST_STREAM && f.stream == stream)
            .filter_map(Frame::error_code)
            .collect()
    }
}

impl Drop for H2RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    script: Arc<Vec<Step>>,
    stats: Arc<Stats>,
) {
    serve_each(listener, |tcp| {
        stats.accepts.fetch_add(1, Ordering::SeqCst);
        let (acceptor, script, stats) = (acceptor.clone(), script.clone(), stats.clone());
        async move {
            let _ = tokio::time::timeout(CLIENT_BOUND, serve(tcp, acceptor, &script, &stats)).await;
        }
    })
    .await
}

/// Reads one frame; `None` at EOF or on an error.
async fn read_frame(io: &mut (impl AsyncRead + Unpin)) -> Option<Frame> {
    let mut head = [0u8; 9];
    io.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let mut payload = vec![0; len];
    io.read_exact(&mut payload).await.ok()?;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    Some(Frame::new(head[3], head[4], stream, payload))
}

fn record(stats: &Stats, frame: Frame) {
    stats.received.lock().unwrap().push(frame);
    stats.changed.notify_waiters();
}

fn client_closed(stats: &Stats) {
    stats.closed_by_client.fetch_add(1, Ordering::SeqCst);
    stats.changed.notify_waiters();
}

async fn serve(tcp: TcpStream, acceptor: TlsAcceptor, script: &[Step], stats: &Stats) {
    let Ok(mut tls) = acceptor.accept(tcp).await else {
        return;
    };
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "the client must pick h2"
    );
    // Our SETTINGS (none changed from the defaults), then the client's preface.
    let mut out = Vec::new();
    Frame::new(kind::SETTINGS, 0, 0, []).encode_into(&mut out);
    if tls.write_all(&out).await.is_err() {
        return;
    }
    let mut preface = [0u8; 24];
    if tls.read_exact(&mut preface).await.is_err() {
        return;
    }
    assert_eq!(&preface, PREFACE, "the client's connection preface");
    // Until the request's header block is complete.
    loop {
        let Some(frame) = read_frame(&mut tls).await else {
            client_closed(stats);
            return;
        };
        let request_done = matches!(frame.kind, kind::HEADERS | kind::CONTINUATION)
            && frame.stream == 1
            && frame.flags & flag::END_HEADERS != 0;
        if frame.kind == kind::SETTINGS && frame.flags & flag::ACK == 0 {
            let mut ack = Vec::new();
            Frame::new(kind::SETTINGS, flag::ACK, 0, []).encode_into(&mut ack);
            if tls.write_all(&ack).await.is_err() {
                return;
            }
        }
        record(stats, frame);
        if request_done {
            break;
        }
    }

    let (mut reader, mut writer) = tokio::io::split(tls);
    let reading = async {
        while let Some(frame) = read_frame(&mut reader).await {
            record(stats, frame);
        }
        client_closed(stats);
    };
    let writing = async {
        play(&mut writer, script, stats).await;
        // Leave the socket open until the client closes it.
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = reading => {}
        _ = writing => {}
    }
    let _ = writer.shutdown().await;
}

/// Writes the script; stops at the first failed write (the client is gone).
async fn play(writer: &mut WriteHalf<TlsStream<TcpStream>>, script: &[Step], stats: &Stats) {
    for step in script {
        let (frame, times) = match step {
            Step::Send(frame) => (frame, 1),
            Step::Repeat(frame, n) => (frame, *n),
            Step::UntilClosed(frame) => (frame, usize::MAX),
            Step::Pause(pause) => {
                tokio::time::sleep(*pause).await;
                continue;
            }
        };
        let mut one = Vec::new();
        frame.encode_into(&mut one);
        // Batches of about 64 KiB: a flood of small frames without a write per frame.
        let per_batch = (64 * 1024 / one.len()).max(1);
        let mut left = times;
        while left > 0 {
            let n = left.min(per_batch);
            let batch = one.repeat(n);
            if writer.write_all(&batch).await.is_err() || writer.flush().await.is_err() {
                return;
            }
            stats.frames_written.fetch_add(n, Ordering::SeqCst);
            left -= n;
        }
    }
}
