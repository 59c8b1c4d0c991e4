//! An HTTP/2 server (the `h2` crate over TLS, ALPN h2) whose connections misbehave on
//! purpose: GOAWAY before any stream, REFUSED_STREAM, GOAWAY with an error mid-upload, or a
//! flow-control window that never opens.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::Reason;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::accept::serve_each;
use super::tls_server::default_tls_listener;

/// The longest a connection is kept when its client is gone or silent.
const CONNECTION_BOUND: Duration = Duration::from_secs(20);

/// What one connection does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H2Fault {
    /// Answer every stream 200 "ok".
    Serve,
    /// GOAWAY(reason, last_stream_id = 0) at once: no stream is processed.
    GoAwayFirst(Reason),
    /// Reset the first stream with REFUSED_STREAM, then serve the others.
    RefuseFirstStream,
    /// Reset every stream with REFUSED_STREAM.
    RefuseEveryStream,
    /// Reset every stream with this reason.
    ResetEveryStream(Reason),
    /// Take the first stream, read one DATA frame of its body, then GOAWAY(PROTOCOL_ERROR)
    /// naming it as processed, and close.
    GoAwayProtocolErrorMidBody,
    /// SETTINGS_INITIAL_WINDOW_SIZE 0, never raised: the client can't send a body byte.
    /// Streams are accepted and never answered.
    ZeroWindow,
}

/// A running fault server; stops when dropped.
pub struct H2FaultServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct Stats {
    accepts: AtomicUsize,
    streams: AtomicUsize,
}

impl H2FaultServer {
    /// Connection `i` (0 for the first) behaves as `fault(i)`.
    pub async fn start(fault: impl Fn(usize) -> H2Fault + Send + Sync + 'static) -> H2FaultServer {
        let (listener, addr, acceptor) = default_tls_listener().await;
        let stats = Arc::new(Stats::default());
        let task = tokio::spawn(accept_loop(
            listener,
            acceptor,
            Arc::new(fault),
            stats.clone(),
        ));
        H2FaultServer { addr, stats, task }
    }

    /// `https://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// TCP connections accepted.
    pub fn accepts(&self) -> usize {
        self.stats.accepts.load(Ordering::SeqCst)
    }

    /// Streams the server took (whatever it then did with them).
    pub fn streams(&self) -> usize {
        self.stats.streams.load(Ordering::SeqCst)
    }
}

impl Drop for H2FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type FaultFn = Arc<dyn Fn(usize) -> H2Fault + Send + Sync>;

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    fault: FaultFn,
    stats: Arc<Stats>,
) {
    serve_each(listener, |tcp| {
        let behaviour = fault(stats.accepts.fetch_add(1, Ordering::SeqCst));
        let (acceptor, stats) = (acceptor.clone(), stats.clone());
        async move {
            let _ = tokio::time::timeout(CONNECTION_BOUND, serve(tcp, acceptor, behaviour, stats))
                .await;
        }
    })
    .await
}

async fn serve(tcp: TcpStream, acceptor: TlsAcceptor, fault: H2Fault, stats: Arc<Stats>) {
    let Ok(tls) = acceptor.accept(tcp).await else {
        return;
    };
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "the client must pick h2"
    );
    let mut builder = h2::server::Builder::new();
    if fault == H2Fault::ZeroWindow {
        builder.initial_window_size(0);
    }
    let Ok(mut conn) = builder.handshake::<_, Bytes>(tls).await else {
        return;
    };
    if let H2Fault::GoAwayFirst(reason) = fault {
        // Before any HEADERS frame is read: last_stream_id 0.
        conn.abrupt_shutdown(reason);
    }
    let mut seen = 0;
    // Streams kept open (answered never) so the client sees them pending.
    let mut held = Vec::new();
    // A stream's task asks for the GOAWAY once it has read part of the body.
    let (go_away, mut go_away_asked) = tokio::sync::mpsc::unbounded_channel::<Reason>();
    loop {
        tokio::select! {
            accepted = conn.accept() => {
                let Some(Ok((request, mut respond))) = accepted else {
                    break;
                };
                stats.streams.fetch_add(1, Ordering::SeqCst);
                seen += 1;
                match fault {
                    H2Fault::Serve | H2Fault::GoAwayFirst(_) => ok(respond),
                    H2Fault::RefuseFirstStream if seen == 1 => {
                        respond.send_reset(Reason::REFUSED_STREAM)
                    }
                    H2Fault::RefuseFirstStream => ok(respond),
                    H2Fault::RefuseEveryStream => respond.send_reset(Reason::REFUSED_STREAM),
                    H2Fault::ResetEveryStream(reason) => respond.send_reset(reason),
                    H2Fault::GoAwayProtocolErrorMidBody => {
                        let go_away = go_away.clone();
                        tokio::spawn(async move {
                            let mut body = request.into_body();
                            // Read while the connection is polled below; the stream is
                            // processed from here on (its id is the last_stream_id).
                            let _ = body.data().await;
                            let _ = go_away.send(Reason::PROTOCOL_ERROR);
                            tokio::time::sleep(CONNECTION_BOUND).await;
                            drop((body, respond));
                        });
                    }
                    H2Fault::ZeroWindow => held.push((request.into_body(), respond)),
                }
            }
            Some(reason) = go_away_asked.recv() => conn.abrupt_shutdown(reason),
        }
    }
    drop(held);
    // Let the last frames go out before the socket closes.
    let _ = std::future::poll_fn(|cx| conn.poll_closed(cx)).await;
}

fn ok(mut respond: SendResponse<Bytes>) {
    let response = http::Response::builder().status(200).body(()).unwrap();
    if let Ok(mut stream) = respond.send_response(response, false) {
        let _ = stream.send_data(Bytes::from_static(b"ok"), true);
    }
}
