//! The in-memory server a real client connects to, the runtime inputs run on, and the
//! budgets every run must keep.
//!
//! Speed: one current-thread runtime per thread serves every input, and clients whose
//! settings don't come from the input are built once per thread ([`client`]). Nothing
//! carries over: a client keeps no idle connection, and after each input the runtime
//! must have no task left; one left behind (a connection the client still drives)
//! costs the runtime and the cached clients, which are made again for the next input.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Runtime;
use wireline::fuzzing::MemoryIo;
use wireline::{Client, ClientBuilder};

/// Wall-clock bound on one input: far above what any input needs (milliseconds), so only
/// a client that hangs reaches it.
pub const TIME_BUDGET: Duration = Duration::from_secs(10);

/// Bound on polls, of the client's future and of the connection's reads and writes
/// together: a client that spins without progress hits it long before the time budget.
pub const POLL_BUDGET: usize = 200_000;

/// How many times the runtime may yield, after an input, for its tasks to end.
const SETTLE_YIELDS: usize = 64;

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
    static SERVER: Server = Server::empty();
    static CLIENTS: RefCell<HashMap<u64, Client>> = RefCell::new(HashMap::new());
}

/// Runtimes replaced because an input left a task running, for `WIRELINE_FUZZ_DEBUG`.
static REPLACED: AtomicUsize = AtomicUsize::new(0);

/// Runs `f` on the thread's current-thread runtime under [`TIME_BUDGET`] and the server's
/// [`POLL_BUDGET`]; breaking either is a finding (a panic).
pub fn run<F: Future>(server: &Server, f: F) -> F::Output {
    let counted = Counted {
        inner: Box::pin(f),
        polls: server.state.polls.clone(),
    };
    RUNTIME.with(|slot| {
        let mut slot = slot.borrow_mut();
        let rt = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime")
        });
        let out = rt.block_on(async {
            match tokio::time::timeout(TIME_BUDGET, counted).await {
                Ok(out) => out,
                Err(_) => panic!("the client did not finish within {TIME_BUDGET:?}"),
            }
        });
        if !settle(rt) {
            *slot = None;
            CLIENTS.with(|clients| clients.borrow_mut().clear());
            REPLACED.fetch_add(1, Ordering::Relaxed);
        }
        out
    })
}

/// Lets the tasks the input spawned end; `false` if some are still alive.
fn settle(rt: &Runtime) -> bool {
    rt.block_on(async {
        let metrics = tokio::runtime::Handle::current().metrics();
        for _ in 0..SETTLE_YIELDS {
            if metrics.num_alive_tasks() == 0 {
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    })
}

/// A client from `builder`, connecting to the thread's [`Server`] and keeping no idle
/// connection. With a `key`, made once per thread and reused by every input with that key:
/// the key must name every setting `builder` takes from the input. `None` makes one for
/// this input alone (settings too varied to keep).
///
/// TLS is never used in memory: the system roots cost nothing after the first client, and
/// on a machine without them the client is made without verification instead. Other
/// errors are the target's to judge.
pub fn client(key: Option<u64>, builder: impl Fn() -> ClientBuilder) -> wireline::Result<Client> {
    if let Some(key) = key {
        if let Some(client) = CLIENTS.with(|clients| clients.borrow().get(&key).cloned()) {
            return Ok(client);
        }
    }
    let open = SERVER.with(Server::opener);
    let made = || {
        let open = open.clone();
        builder()
            .fuzzing_transport(move |dst| open(dst))
            .pool_max_idle_per_host(0)
    };
    let client = match made().build() {
        Err(e) if e.is_tls() => made().danger_accept_invalid_certs(true).build(),
        built => built,
    }?;
    if let Some(key) = key {
        CLIENTS.with(|clients| clients.borrow_mut().insert(key, client.clone()));
    }
    Ok(client)
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

/// What the server answers on each new connection: its index and destination in, the
/// reads out.
type Respond = Arc<dyn Fn(usize, &http::Uri) -> Vec<Vec<u8>> + Send + Sync>;

/// What opens a connection, as `ClientBuilder::fuzzing_transport` takes it.
type Opener = Arc<dyn Fn(&http::Uri) -> io::Result<Box<dyn MemoryIo>> + Send + Sync>;

/// The server side of a fuzz run, one per thread: answers each new connection with the
/// reads the input's `respond` returns for it, and records what the client wrote.
#[derive(Clone)]
pub struct Server {
    state: Arc<State>,
}

struct State {
    opened: Mutex<Vec<Opened>>,
    polls: Arc<AtomicUsize>,
    respond: Mutex<Respond>,
}

impl Server {
    fn empty() -> Server {
        Server {
            state: Arc::new(State {
                opened: Mutex::default(),
                polls: Arc::default(),
                respond: Mutex::new(Arc::new(|_, _| Vec::new())),
            }),
        }
    }

    /// The thread's server, reset for a new input: no connection opened, no poll spent,
    /// and new connections answered by `respond`.
    pub fn answering<R>(respond: R) -> Server
    where
        R: Fn(usize, &http::Uri) -> Vec<Vec<u8>> + Send + Sync + 'static,
    {
        SERVER.with(|server| {
            let state = &server.state;
            state.opened.lock().unwrap().clear();
            state.polls.store(0, Ordering::Relaxed);
            *state.respond.lock().unwrap() = Arc::new(respond);
            server.clone()
        })
    }

    /// The connection opener clients are given (`ClientBuilder::fuzzing_transport`).
    fn opener(&self) -> Opener {
        let state = self.state.clone();
        Arc::new(move |dst| {
            let written = Arc::new(Mutex::new(Vec::new()));
            let index = {
                let mut opened = state.opened.lock().unwrap();
                opened.push(Opened {
                    dst: dst.clone(),
                    written: written.clone(),
                });
                opened.len() - 1
            };
            let respond = state.respond.lock().unwrap().clone();
            let mut reads = respond(index, dst);
            reads.retain(|read| !read.is_empty());
            reads.reverse();
            Ok(Box::new(Scripted {
                reads,
                offset: 0,
                yield_next: false,
                head_arrived: false,
                reader: None,
                written,
                polls: state.polls.clone(),
            }))
        })
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
        eprintln!(
            "runtimes replaced so far: {}",
            REPLACED.load(Ordering::Relaxed)
        );
    }

    /// Each connection's destination and what the client wrote on it.
    pub fn heads(&self) -> Vec<(http::Uri, Vec<u8>)> {
        self.state
            .opened
            .lock()
            .unwrap()
            .iter()
            .map(|o| (o.dst.clone(), o.written.lock().unwrap().clone()))
            .collect()
    }
}

/// A connection whose reads return the scripted pieces one per read, with a `Pending` in
/// between (as when the next packet has not arrived), then EOF. Like a server, it answers
/// only once a request head (or h2's connection preface, which ends the same way) has
/// arrived: hyper rightly fails a connection that speaks first. Writes always succeed.
struct Scripted {
    /// Still to be read, last piece first.
    reads: Vec<Vec<u8>>,
    /// How much of the next piece was read already.
    offset: usize,
    yield_next: bool,
    /// Whether the client has written a blank line yet (looked for in new bytes only).
    head_arrived: bool,
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
        if !self.head_arrived {
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
        let mut written = self.written.lock().unwrap();
        let from = written.len().saturating_sub(3);
        written.extend_from_slice(buf);
        let arrived = !self.head_arrived && written[from..].windows(4).any(|w| w == b"\r\n\r\n");
        drop(written);
        if arrived {
            self.head_arrived = true;
            if let Some(reader) = self.reader.take() {
                reader.wake();
            }
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
