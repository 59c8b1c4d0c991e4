//! Side-by-side benchmark of wireline, reqwest and raw hyper against one local TLS server.
//!
//! Four client binaries (`bench-wireline`, `bench-reqwest`, `bench-hyper` and
//! `bench-hyper-headers`, raw hyper sending wireline's default headers) share the CLI and
//! the measurement loops in this library; each only says how its library builds a client
//! and sends a request ([`client::Library`]; both raw hyper ones are in [`raw`]).
//! `bench-server` is the h1 + h2 TLS server they talk to, and `run` starts it all pinned
//! to separate cores, interleaves the clients round by round and writes
//! `docs/performance.md`.

pub mod cli;
pub mod client;
pub mod measure;
pub mod outcome;
pub mod payload;
pub mod raw;
pub mod runner;
pub mod rusage;
pub mod scenario;
pub mod server;
pub mod soak;

/// The error type of the benchmark: anything that can be shown, sent across threads.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
