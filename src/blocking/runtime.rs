//! The blocking client's runtime: one thread that drives a current-thread tokio runtime,
//! and the wait that blocks a caller until a future of the async client is done.
//!
//! The caller's thread polls the future itself (as `Handle::block_on` would, with the
//! runtime's handle entered), while the runtime's thread drives the sockets, the timers
//! and the tasks the future spawns (hyper's connections, the pool's). The runtime's
//! thread is joined when the last client and response holding it are dropped.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use tokio::runtime::{EnterGuard, Handle};
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// What a blocking call made on a thread that runs async tasks is told (in debug builds,
/// as reqwest's blocking client does; release builds block the thread, as reqwest's do).
const IN_ASYNC_CONTEXT: &str = "wireline::blocking was called on a thread that runs async \
    tasks (inside an async fn, a #[tokio::main] or a spawned task), where waiting blocks \
    every task of that thread: use the async wireline::Client there and .await it, or move \
    the blocking call into tokio::task::spawn_blocking";

/// What a blocking call made on a blocking client's own runtime thread is told, in every
/// build: the thread would wait for itself.
const ON_RUNTIME_THREAD: &str = "wireline::blocking was called on the thread that runs a \
    blocking client's connections (from a resolver, a body stream or another callback the \
    client runs), where it would wait for the thread it blocks and never return: callbacks \
    must not make blocking requests; use the async wireline::Client in them";

thread_local! {
    /// Set on the runtime threads of blocking clients.
    static IS_RUNTIME_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// A current-thread tokio runtime driven by a thread of its own, for as long as a blocking
/// client or response holds it (behind an `Arc`).
pub(crate) struct Runtime {
    handle: Handle,
    /// Dropped to end the thread's `block_on`.
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Runtime {
    /// Starts the runtime and its thread.
    pub(crate) fn start() -> Result<Runtime> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                Error::builder(format!(
                    "the blocking client could not start its tokio runtime: {e}"
                ))
                .with_source(e)
            })?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name("wireline-blocking".into())
            .spawn(move || {
                IS_RUNTIME_THREAD.set(true);
                // Ends (with an error) when the sender is dropped.
                let _ = runtime.block_on(stopped);
                // The connections' tasks end now; a DNS lookup still running on the
                // blocking pool finishes on its own thread instead of holding up the drop
                // that joins this one.
                runtime.shutdown_background();
            })
            .map_err(|e| {
                Error::builder(format!(
                    "the blocking client could not start its runtime thread: {e}"
                ))
                .with_source(e)
            })?;
        Ok(Runtime {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// This runtime as the current one, for code that may spawn or start timers.
    pub(crate) fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// Runs `future` to its end on the calling thread, with this runtime's sockets, timers
    /// and tasks, blocking the thread meanwhile; `None` when `limit` ran out first (the
    /// future is then dropped, which cancels it).
    ///
    /// # Panics
    /// On a blocking client's runtime thread, always; on a thread that runs async tasks, in
    /// debug builds (see [`IN_ASYNC_CONTEXT`]).
    #[track_caller]
    pub(crate) fn wait<F: Future>(&self, future: F, limit: Option<Duration>) -> Option<F::Output> {
        if IS_RUNTIME_THREAD.get() {
            panic!("{ON_RUNTIME_THREAD}");
        }
        #[cfg(debug_assertions)]
        if Handle::try_current().is_ok() && !self.may_block_here() {
            panic!("{IN_ASYNC_CONTEXT}");
        }
        let _runtime = self.handle.enter();
        let deadline = limit.and_then(|limit| Instant::now().checked_add(limit));
        let wake = Arc::new(Unpark {
            thread: thread::current(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(wake.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Some(output);
            }
            // Parks until woken; the flag keeps a wake-up that came during the poll (or
            // was taken by a wait nested in it) from being lost.
            while !wake.woken.swap(false, Ordering::Acquire) {
                match deadline {
                    None => thread::park(),
                    Some(deadline) => {
                        let now = Instant::now();
                        if now >= deadline {
                            return None;
                        }
                        thread::park_timeout(deadline - now);
                    }
                }
            }
        }
    }

    /// Whether this thread may block: tokio knows (it refuses `block_on` where a runtime
    /// drives tasks, and allows it in `spawn_blocking` and on threads that only entered a
    /// runtime's handle) but doesn't say without panicking. Debug builds only: the probe's
    /// panic is caught, after the panic hook has printed tokio's message.
    #[cfg(debug_assertions)]
    fn may_block_here(&self) -> bool {
        let probe = std::panic::AssertUnwindSafe(|| self.handle.block_on(async {}));
        std::panic::catch_unwind(probe).is_ok()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // On the runtime's own thread (a callback held the last client), joining would
            // wait for itself: that thread ends once the running task returns.
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// Wakes a waiting caller.
struct Unpark {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
