//! Faults, one binary: servers that break HTTP on purpose and callers that send hostile
//! input, the rows of docs/reliability.md's fault matrix (framing F, heads H, timeouts T,
//! the pool P, redirects R, h2 X, input and secrets B), with the pacing rules, stale
//! pooled connections and the fuzz targets' findings beside them. One module per former
//! binary, each test keeping its name under its module (`faults_framing::f01_…` is now
//! `faults::framing::f01_…`): the `faults_<module>.rs` files, and `pacing`,
//! `stale_connections`, `secrets` and `fuzz_regressions`, which kept their names.
//!
//! Tests here run in parallel with each other. The socket checks count per server port,
//! and the memory checks (`headers::h02_…`, the h2 floods in `h2_frames`) allow for
//! neighbours; the CPU checks read the test's own thread. Not here, each alone in a binary
//! because it would disturb or be disturbed by neighbours: `tests/faults_pool_many.rs` (P06:
//! 10,000 connections at once, and it runs its own binary again as the server process),
//! `tests/decode_bomb.rs` (D01: the whole process's peak RSS), `tests/secrets_tracing.rs`
//! (B03's logs: the process-wide `tracing` subscriber) and `tests/proxy_env.rs` (Y02: the
//! process's environment variables).

#[path = "../support/mod.rs"]
mod support;

mod framing;
mod fuzz_regressions;
mod h2;
mod h2_control;
mod h2_frames;
mod h2_graceful;
mod headers;
mod input;
mod pacing;
mod pool;
mod redirect;
mod secrets;
mod stale_connections;
mod timeouts;
