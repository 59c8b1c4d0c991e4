//! HTTP, one binary: requests and responses, redirects, decompression, cookies, multipart
//! forms, the retry policy, uploads from files, connection reuse, and proxies given to the
//! builder, name resolution (`dns`) and socket options (`sockets`). One module per former
//! binary, each test keeping its name under its module
//! (`redirect::credentials_never_follow_to_another_origin` is now
//! `http::redirect::credentials_never_follow_to_another_origin`): `requests` was
//! `tests/http.rs`, the others kept their file names.
//!
//! `cookies` and `multipart` need their features, so their `mod` lines are behind the same
//! `cfg` (they were `required-features` binaries); so does `socks`, the SOCKS proxies.
//! The 1 GiB upload measurement is `#[ignore]`d and run alone (`upload::`): no other
//! ignored test is in this binary, so `--ignored` runs it with nothing beside it to blur
//! its peak RSS.
//!
//! Not here: the environment's proxies (`tests/proxy_env.rs`, which sets the process's
//! environment variables), and a decoded body's memory (`tests/decode_bomb.rs`, which
//! measures the whole process's RSS).

// `reqwest_port` is reqwest code as written: here `reqwest` names wireline, as the Cargo line
// `reqwest = { package = "wireline", … }` would.
extern crate wireline as reqwest;

#[path = "../support/mod.rs"]
mod support;

mod connector_layers;
#[cfg(feature = "cookies")]
mod cookies;
mod decode;
mod dns;
mod h2_lanes;
mod middleware;
mod middleware_example;
#[cfg(feature = "multipart")]
mod multipart;
mod pool;
mod pool_cap;
mod progress;
mod proxy;
mod proxy_options;
mod redirect;
mod requests;
// Its Cargo line asks for reqwest's `cookies` feature.
#[cfg(feature = "cookies")]
mod reqwest_port;
mod responses;
mod retry_policy;
#[cfg(target_os = "linux")]
mod sockets;
#[cfg(feature = "socks")]
mod socks;
mod timings;
mod upgrade;
mod upload;
mod versions;
