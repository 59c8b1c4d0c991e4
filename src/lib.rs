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
//!   ([`ClientBuilder::danger_accept_invalid_hostnames`]). A version range
//!   ([`ClientBuilder::min_tls_version`], [`ClientBuilder::max_tls_version`]), client
//!   certificates ([`ClientBuilder::identity`] with an [`Identity`]), SNI
//!   ([`ClientBuilder::tls_sni`]), a key log for Wireshark ([`ClientBuilder::tls_keylog`]),
//!   and what each connection negotiated ([`Response::tls_info`]). A failed verification
//!   names the host, the certificate, the failed check and the fix.
//! - **HTTP/2** by ALPN, falling back to HTTP/1.1; keep-alive connection reuse.
//! - **Redirects**: up to 10 by default; credentials (`Authorization`, `Cookie`,
//!   `Proxy-Authorization`) never follow a redirect to another origin.
//! - **Timeouts**: [`ClientBuilder::timeout`] bounds the whole request including the body;
//!   [`ClientBuilder::connect_timeout`] bounds TCP connect and TLS handshake together.
//! - **Typed errors**: [`Error::kind`] and the `is_*` methods.
//! - **Cookies** (the `cookies` feature, off by default): see [below](#cookies).
//! - **Uploads**: multipart forms (the `multipart` feature, on by default) and file
//!   bodies, streamed from disk: see [below](#uploads).
//!
//! The guides in `docs/` cover TLS configuration in depth.
//!
//! ## Cookies
//! With the `cookies` Cargo feature (off by default, as in reqwest), a client built with
//! [`ClientBuilder::cookie_store`][cookie_store]`(true)` keeps the cookies servers set and
//! sends them back, by RFC 6265's Domain, Path, Secure and expiry rules
//! ([`cookie::Jar`][jar] lists what it enforces). `Set-Cookie` on a redirect response is
//! stored too, and each hop of a redirect gets the cookies for its own URL. To share a jar
//! between clients, or fill it before the first request, pass it to
//! [`ClientBuilder::cookie_provider`][cookie_provider].
//!
// Without the feature these items don't exist: the links point at this section instead.
#![cfg_attr(
    feature = "cookies",
    doc = "[cookie_store]: ClientBuilder::cookie_store"
)]
#![cfg_attr(
    feature = "cookies",
    doc = "[cookie_provider]: ClientBuilder::cookie_provider"
)]
#![cfg_attr(feature = "cookies", doc = "[jar]: cookie::Jar")]
#![cfg_attr(not(feature = "cookies"), doc = "[cookie_store]: #cookies")]
#![cfg_attr(not(feature = "cookies"), doc = "[cookie_provider]: #cookies")]
#![cfg_attr(not(feature = "cookies"), doc = "[jar]: #cookies")]
//!
//! ```toml
//! wireline = { version = "0.1", features = ["cookies"] }
//! ```
//!
#![cfg_attr(feature = "cookies", doc = "```no_run")]
#![cfg_attr(not(feature = "cookies"), doc = "```ignore")]
//! # async fn run() -> wireline::Result<()> {
//! use std::sync::Arc;
//! use wireline::cookie::Jar;
//!
//! let jar = Arc::new(Jar::default());
//! jar.add_cookie_str("consent=yes; Domain=example.com", &"https://example.com/".parse().unwrap());
//! let client = wireline::Client::builder().cookie_provider(jar.clone()).build()?;
//!
//! client.post("https://example.com/login").form(&[("user", "ada")]).send().await?;
//! // Sent with consent=yes and whatever session cookie the login set:
//! let me = client.get("https://example.com/me").send().await?.text().await?;
//! # Ok(()) }
//! ```
//!
//! A `Cookie` header you set on a request is sent instead of the jar's on the hops it
//! reaches; like `Authorization`, it never follows a redirect to another origin. Without
//! a cookie store a client keeps nothing and pays nothing for cookies.
//!
//! ## Uploads
//! A file given as a body, or as a part of a multipart form, is read while the request is
//! sent, so its size doesn't matter: uploading a 1 GiB file raises the process's peak
//! memory by under 2 MiB (the `upload` test measures it).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = wireline::Client::new();
//!
//! // The file as the whole body (chunked, unless you set Content-Length):
//! let file = tokio::fs::File::open("disk.img").await?;
//! client.put("https://example.com/images/disk.img").body(file).send().await?;
//! # Ok(()) }
//! ```
//!
//! A [`multipart::Form`] ([`RequestBuilder::multipart`]) carries text fields, bytes and
//! files; file parts get their name and a MIME type guessed from the extension, and the
//! request gets a `Content-Length` whenever every part's length is known. A form that is
//! all in memory is one buffer, sent again if a 307/308 redirect asks.
//!
#![cfg_attr(feature = "multipart", doc = "```no_run")]
#![cfg_attr(not(feature = "multipart"), doc = "```ignore")]
//! # async fn run() -> wireline::Result<()> {
//! use wireline::multipart::{Form, Part};
//!
//! let form = Form::new()
//!     .text("album", "2024")
//!     .part("cover", Part::bytes(std::fs::read("cover.jpg").unwrap()).file_name("cover.jpg"))
//!     .file("track", "01-intro.flac")
//!     .await?;
//! wireline::Client::new()
//!     .post("https://example.com/albums")
//!     .multipart(form)
//!     .send()
//!     .await?
//!     .error_for_status()?;
//! # Ok(()) }
//! ```
//!
//! ## Runtime
//! wireline runs on tokio with its timer enabled (`#[tokio::main]` does this).

mod body;
mod client;
mod conn;
mod connect;
#[cfg(feature = "cookies")]
pub mod cookie;
mod dns;
mod error;
mod into_url;
#[cfg(feature = "multipart")]
pub mod multipart;
pub mod redirect;
mod request;
mod response;
mod run;
mod tls;

pub use body::Body;
pub use client::{Client, ClientBuilder};
pub use error::{CertificateErrorKind, Error, ErrorKind, Result, TlsErrorKind};
pub use into_url::IntoUrl;
pub use request::{Request, RequestBuilder};
pub use response::Response;
pub use tls::{Certificate, Identity, PeerCertificate, TlsInfo, TlsVersion};

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
