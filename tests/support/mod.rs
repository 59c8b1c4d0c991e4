//! Shared by every integration test: an rcgen PKI, real HTTPS and HTTP servers (hyper on
//! tokio-rustls), raw TCP servers for crafted bytes and TLS faults, the scripted fault
//! server, a raw HTTP/2 frame writer, socket leak checks, and recording HTTP and SOCKS
//! proxies.
//!
//! Each test binary compiles its own copy and uses only part of it, so unused items and
//! re-exports are expected: the topic binaries (`tests/tls/`, `tests/http/`, `tests/faults/`,
//! `tests/fetch_cli/`) with `#[path = "../support/mod.rs"] mod support;` in their `main.rs`,
//! and the single-file binaries of the tests that need a process of their own
//! (`tests/*.rs`) with `mod support;`. The module is private to each test binary: `pub` here
//! means "for the tests", hence no `pub(crate)` noise despite the crate's unreachable_pub.
#![allow(dead_code, unused_imports, unreachable_pub)]

mod accept;
mod client;
mod dials;
mod discard;
mod echo;
mod faults;
mod fds;
mod h2_faults;
mod h2_raw;
mod handler;
mod pki;
mod proxy;
mod raw;
mod scripted;
mod server;
mod socks;
mod temp;
mod tls_faults;
mod tls_server;
mod usage;

pub use accept::serve_each;
pub use client::{bounded, test_ca_file, trusting_test_ca, BOUND};
pub use dials::{around_dials, AroundDials, DialFuture};
pub use discard::{discard_server, DiscardServer};
pub use echo::{binary_body, echo_router};
pub use faults::{pause_ms, write, FaultServer, Step};
pub use fds::{assert_no_leak, client_sockets, open_fds, sockets_settle};
pub use h2_faults::{H2Fault, H2FaultServer};
pub use h2_raw::{flag, hpack, kind, response_head, Frame, H2RawServer, Step as H2Step, MAX_FRAME};
pub use handler::{handler, response, Handler, HandlerFuture};
pub use pki::{pki, CrlSigner, Leaf, Pki};
pub use proxy::{basic, proxy_server, ProxiedRequest, ProxyOptions, ProxyServer};
pub use raw::{h1_response, raw_server, read_request_from, silent_server, RawConn, RawServer};
pub use scripted::{scripted, Reply};
pub use server::{http_server, RecordedRequest, TestServer};
pub use socks::{socks_server, SocksOptions, SocksRequest, SocksServer, SocksTarget};
pub use temp::{temp_path, write_temp};
pub use tls_faults::{old_tls_server_hello, read_tls_record, tls_alert_server};
pub use tls_server::{
    default_tls_listener, https_server, https_server_with_chain, https_server_with_config,
    server_config, Alpn, ServerOptions, Versions,
};
pub use usage::{peak_rss_kib, reset_peak_rss, rss_kib, thread_cpu};
