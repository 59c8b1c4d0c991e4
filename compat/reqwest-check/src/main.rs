//! The reqwest program of wireline's tests, compiled against reqwest 0.13.5 (see
//! Cargo.toml): if wireline's copy needed a change to compile on wireline, this check
//! would show it is no longer reqwest code.

#[path = "../../../tests/http/reqwest_port/program.rs"]
mod program;

fn main() {
    // Compiled, not run: running it needs the test's server.
    let _ = program::run;
}
