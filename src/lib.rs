//! # wireline
//!
//! An async HTTPS client for tokio, in the spirit of Python's `requests`: builders on top of
//! hyper's pooled client, with TLS by rustls and verification you can configure.
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! // One call:
//! let text = wireline::get("https://example.com/").await?.text().await?;
//!
//! // A client to reuse (it pools connections):
//! let client = wireline::Client::builder()
//!     .ca_file("ca.pem")                                  // trust only this CA
//!     .min_tls_version(wireline::TlsVersion::TLS_1_3)
//!     .timeout(std::time::Duration::from_secs(30))
//!     .build()?;
//! let resp = client
//!     .post("https://example.com/api")
//!     .bearer_auth("token")
//!     .json(&serde_json::json!({"hello": "world"}))
//!     .send()
//!     .await?
//!     .error_for_status()?;
//! println!("{} from {:?}", resp.status(), resp.remote_addr());
//! # Ok(()) }
//! ```
//!
//! ## What is built in
//! - **TLS**: the system's root certificates (loaded once per process, shared by every
//!   client), a CA file ([`ClientBuilder::ca_file`]), extra roots
//!   ([`ClientBuilder::add_root_certificate`]), or no verification
//!   ([`ClientBuilder::danger_accept_invalid_certs`], which still checks handshake
//!   signatures), or everything but the host name
//!   ([`ClientBuilder::danger_accept_invalid_hostnames`]). Public-key pins per host on top
//!   of any of these ([`ClientBuilder::pin_sha256`]), and certificate revocation lists
//!   ([`ClientBuilder::add_crl`] with a [`CertificateRevocationList`]). A version range
//!   ([`ClientBuilder::min_tls_version`], [`ClientBuilder::max_tls_version`]), client
//!   certificates ([`ClientBuilder::identity`] with an [`Identity`]), SNI
//!   ([`ClientBuilder::tls_sni`]), a key log for Wireshark ([`ClientBuilder::tls_keylog`]),
//!   and what each connection negotiated ([`Response::tls_info`]). A failed verification
//!   names the host, the certificate, the failed check and the fix.
//! - **HTTP/2** by ALPN, falling back to HTTP/1.1; keep-alive connection reuse.
//! - **Redirects**: up to 10 by default; credentials (`Authorization`, `Cookie`,
//!   `Proxy-Authorization`) never follow a redirect to another origin.
//! - **Timeouts**: [`ClientBuilder::timeout`] bounds the whole request including the body;
//!   [`ClientBuilder::connect_timeout`] bounds TCP connect and TLS handshake together;
//!   [`ClientBuilder::read_timeout`] and [`ClientBuilder::low_speed_limit`] bound a slow
//!   server (see below).
//! - **Decompression**: gzip, deflate, brotli and zstd bodies are decoded as they are read
//!   (see below).
//! - **Stale connections**: a request that meets a pooled connection the server closed
//!   while idle is sent again once, when that is safe (see below).
//! - **Typed errors**: [`Error::kind`] and the `is_*` methods.
//!
//! The guides in `docs/` cover TLS configuration in depth.
//!
//! ## Decompression
//! Every request asks for `Accept-Encoding: gzip, deflate, br, zstd` unless it sets its own
//! `Accept-Encoding`, and a response with one of those codings is decoded as you read it:
//! [`Response::bytes`], [`Response::text`], [`Response::chunk`] and the rest see the
//! original bytes, and the `Content-Encoding` and `Content-Length` headers are removed (so
//! [`Response::content_length`] is `None`). Responses without a coding we decode, or with a
//! list of several, arrive exactly as sent, and cost nothing extra. Corrupt data is an
//! [`is_decode`](Error::is_decode) error; an empty body (HEAD, 204, 304) is never one.
//!
//! Each coding has a switch ([`ClientBuilder::gzip`], [`ClientBuilder::deflate`],
//! [`ClientBuilder::brotli`], [`ClientBuilder::zstd`]) and a Cargo feature of the same name
//! (`brotli` for `br`), all on by default. Compressed data can inflate a thousandfold, so a
//! client that reads bodies whole from servers it doesn't trust should set
//! [`ClientBuilder::max_decoded_body`]:
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! let client = wireline::Client::builder()
//!     .max_decoded_body(50 * 1024 * 1024) // a 50 MiB body at most, once decoded
//!     .build()?;
//! match client.get("https://example.com/huge").send().await?.bytes().await {
//!     Ok(body) => println!("{} bytes", body.len()),
//!     Err(e) if e.is_decode() => eprintln!("refused: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Slow servers
//! [`ClientBuilder::timeout`] caps a request's total time. Two rules bound a server that is
//! merely slow, both off by default and free when off:
//! [`read_timeout`](ClientBuilder::read_timeout) is the longest it may keep us waiting for
//! the head or for the next piece of the body, and
//! [`low_speed_limit`](ClientBuilder::low_speed_limit) (curl's rule) fails a response slower
//! than a rate for a whole window. A server that trickles one byte just inside the read
//! timeout defeats the first rule but not the second. Only time spent waiting on the server
//! counts, never time your code takes between reads. Both fail with
//! [`is_timeout`](Error::is_timeout) errors that name the rule.
//!
//! ```
//! # fn run() -> wireline::Result<()> {
//! use std::time::Duration;
//! let client = wireline::Client::builder()
//!     .read_timeout(Duration::from_secs(15))
//!     .low_speed_limit(1024, Duration::from_secs(30)) // 1 KiB/s over 30 s
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! ## Stale connections
//! A server may close an idle keep-alive connection just as we send a request on it. The
//! pool keeps idle connections for 50 s by default
//! ([`ClientBuilder::pool_idle_timeout`]), less than nginx (75 s) and most load balancers
//! (60 s), so we usually close first. When a server closes sooner, hyper-util already
//! resends a request that never left; wireline adds the case of a request written into
//! the closing connection, which then ends before any byte of the answer. Such a request
//! is sent again once, on another connection, by Go's rule (`shouldRetryRequest`): only
//! on a reused HTTP/1 connection, never on a fresh one, never once any byte of the
//! response arrived, only with a body that is bytes (not a stream), and, since the server
//! may have seen it, only for GET, HEAD, OPTIONS and TRACE or a request carrying an
//! `Idempotency-Key` header. Anything else is returned as an
//! [`is_request`](Error::is_request) error.
//!
//! ## Runtime
//! wireline runs on tokio with its timer enabled (`#[tokio::main]` does this).

mod body;
mod client;
mod conn;
mod connect;
mod decode;
mod dns;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod into_url;
mod pacing;
mod pools;
pub mod redirect;
mod request;
mod response;
mod retry;
mod run;
mod tls;

pub use body::Body;
pub use client::{Client, ClientBuilder};
pub use error::{CertificateErrorKind, Error, ErrorKind, Result, TlsErrorKind};
pub use into_url::IntoUrl;
pub use request::{Request, RequestBuilder};
pub use response::Response;
pub use tls::{
    Certificate, CertificateRevocationList, Identity, PeerCertificate, TlsInfo, TlsOptions,
    TlsVersion,
};

pub use http::header;
pub use http::{Method, StatusCode, Version};
pub use url::Url;

/// Sends a GET request with a default [`Client`] and returns the response.
///
/// Each call makes a new client (cheap: the system roots are loaded once per process), so
/// connections are not reused between calls; make a [`Client`] for repeated requests.
///
/// ```no_run
/// # async fn run() -> wireline::Result<()> {
/// let body = wireline::get("https://example.com/").await?.text().await?;
/// # Ok(()) }
/// ```
pub async fn get<U: IntoUrl>(url: U) -> Result<Response> {
    Client::new().get(url).send().await
}

/// Guides, also in `docs/` as Markdown; their examples compile as doctests.
pub mod guide {
    #[doc = include_str!("../docs/tls.md")]
    pub mod tls {}
}
