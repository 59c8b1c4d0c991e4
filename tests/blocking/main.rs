//! The blocking client (`wireline::blocking`, the `blocking` feature), one binary: the main
//! paths of the async tests through the blocking API (requests and responses, TLS modes,
//! redirects, timeouts, bodies read and sent as streams) and what is its own (its thread,
//! clients shared and dropped across threads, calls from async code).
//!
//! Plain `#[test]`s, as a program without async code would be: the servers of
//! `tests/support` run on a tokio runtime of their own ([`serve`]), the client on the
//! test's thread, and each test body runs under [`within_bound`], so a blocking call that
//! hangs fails its test instead of the run.
//!
//! Not here: the memory of a large body read piece by piece, and the runtime thread's end,
//! which measure the whole process (`tests/blocking_process.rs`).

#[path = "../support/mod.rs"]
mod support;

mod bodies;
mod redirects;
mod requests;
mod threads;
mod timeouts;
mod tls;

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::OnceLock;
use std::thread;

use support::{test_ca_file, BOUND};
use wireline::blocking;

/// Runs `f` on the servers' runtime, whose worker threads keep serving after it returns.
fn serve<T>(f: impl Future<Output = T>) -> T {
    static SERVERS: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = SERVERS.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the servers' runtime")
    });
    runtime.block_on(f)
}

/// Runs `test` on a thread of its own, and fails the test if it takes longer than
/// [`BOUND`]; a panic in `test` is the test's.
fn within_bound<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = mpsc::channel();
    let runner = thread::spawn(move || {
        let _ = done.send(test());
    });
    match finished.recv_timeout(BOUND) {
        Ok(value) => value,
        Err(RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(runner.join().expect_err("the test panicked"))
        }
        Err(RecvTimeoutError::Timeout) => panic!("the test must finish within {BOUND:?}"),
    }
}

/// A blocking client builder that trusts only the test PKI's root.
fn trusting() -> blocking::ClientBuilder {
    blocking::Client::builder().ca_file(test_ca_file())
}
