//! A blocking client, for code without an async runtime: scripts, command-line tools,
//! tests, what Python's `requests` is used for. It is wireline's async
//! [`Client`](crate::Client) run on a thread of its own, so it has every setting, every
//! check and every explained error of the async one, under reqwest's `blocking` names
//! (the `blocking` Cargo feature).
//!
//! ```no_run
//! # fn main() -> wireline::Result<()> {
//! // requests.get(url).text
//! let text = wireline::blocking::get("https://example.com/")?.text()?;
//!
//! // A client to reuse, as a requests.Session: it pools connections.
//! let client = wireline::blocking::Client::builder()
//!     .ca_file("ca.pem") // verify="ca.pem"
//!     .build()?;
//! let resp = client
//!     .post("https://example.com/api/items")
//!     .bearer_auth("token")
//!     .json(&serde_json::json!({ "name": "wireline" })) // json={...}
//!     .send()?
//!     .error_for_status()?; // r.raise_for_status()
//! let item: serde_json::Value = resp.json()?;
//! # Ok(()) }
//! ```
//!
//! ## From requests
//!
//! | requests | `wireline::blocking` |
//! |---|---|
//! | `requests.get(url)` | [`get(url)?`](get) |
//! | `requests.Session()` | [`Client::new()`], or [`Client::builder()`] then `.build()?` |
//! | `s.post(url, json=data)` | `client.post(url).json(&data).send()?` |
//! | `params=`, `data=`, `headers=` | `.query(&params)`, `.form(&data)`, `.header(name, value)` |
//! | `auth=(user, password)` | `.basic_auth(user, Some(password))` |
//! | `timeout=5` | `.timeout(Duration::from_secs(5))` on the request or the builder |
//! | `verify="ca.pem"`, `verify=False` | `.ca_file("ca.pem")`, `.danger_accept_invalid_certs(true)` |
//! | `r.status_code`, `r.headers` | `resp.status()`, `resp.headers()` |
//! | `r.text`, `r.json()`, `r.content` | `resp.text()?`, `resp.json()?`, `resp.bytes()?` |
//! | `r.raise_for_status()` | `resp.error_for_status()?` |
//! | `shutil.copyfileobj(r.raw, f)` with `stream=True` | `resp.copy_to(&mut f)?`, or [`std::io::Read`] |
//! | `data=open(path, "rb")` | `.body(std::fs::File::open(path)?)` |
//!
//! The [coming from requests](crate::guide::coming_from_requests) guide has the rest, in
//! async code; every method it names is the same on the blocking client's builders.
//!
//! ## Timeouts
//!
//! Unlike requests, which waits for ever unless told, and like reqwest's blocking client,
//! each wait of a request has a limit of 30 s by default
//! ([`ClientBuilder::timeout`], `timeout(None)` to turn it off): for the response head,
//! for each read of the body, and for a body read whole (`text`, `json`, `bytes`). A large
//! download read with [`copy_to`](Response::copy_to) or [`Read`](std::io::Read) goes on
//! as long as the server keeps sending. A request's own
//! [`timeout`](crate::RequestBuilder::timeout) bounds it as a whole, body included, as in
//! the async client. The other timeouts (`connect_timeout`, `read_timeout`,
//! `low_speed_limit`) are the async client's.
//!
//! ## Large bodies
//!
//! A [`Response`] is a [`std::io::Read`]: reading it takes one piece of the body from the
//! server at a time, so memory stays constant whatever the body's size.
//!
//! ```no_run
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mut resp = wireline::blocking::get("https://example.com/big.tar")?.error_for_status()?;
//! let mut file = std::fs::File::create("big.tar")?;
//! resp.copy_to(&mut file)?; // or std::io::copy(&mut resp, &mut file)
//! # Ok(()) }
//! ```
//!
//! Uploads stream too: a [`Body::new`] of any reader, or a [`std::fs::File`], which is sent
//! with its size as `Content-Length`, as reqwest's blocking client does.
//!
//! ## How it runs
//!
//! A client (with its clones, its requests and its responses) has one thread, which runs
//! a tokio runtime for its connections; the thread ends when the last of them is dropped,
//! whichever thread drops it. Each call blocks the calling thread until it is done, and a
//! client can be shared by threads (clones are cheap).
//!
//! Inside async code, use the async [`Client`](crate::Client): a blocking call there
//! would block a thread the runtime needs for its other tasks. As in reqwest, a debug
//! build panics there, with a message saying so; inside
//! [`tokio::task::spawn_blocking`](https://docs.rs/tokio/1/tokio/task/fn.spawn_blocking.html)
//! the blocking client is fine. A blocking call from a callback the client itself runs (a
//! resolver, a body stream) panics in every build, since it would wait for the thread it
//! blocks.

mod client;
mod response;
mod runtime;

pub use client::Client;
pub use response::Response;

pub use crate::body::Body;
pub use crate::request::Request;

/// A blocking client's settings: every setter of the async
/// [`ClientBuilder`](crate::ClientBuilder), with its own `new`, `build` (which returns a
/// blocking [`Client`]) and [`timeout`](ClientBuilder::timeout) (30 s by default).
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// use std::time::Duration;
/// let client = wireline::blocking::Client::builder()
///     .timeout(Duration::from_secs(10))
///     .connect_timeout(Duration::from_secs(5))
///     .min_tls_version(wireline::TlsVersion::TLS_1_3)
///     .user_agent("my-script/1.0")
///     .build()?;
/// # Ok(()) }
/// ```
pub type ClientBuilder = crate::builder::ClientBuilder<Client>;

/// A request being built for a blocking [`Client`]: every method of the async
/// [`RequestBuilder`](crate::RequestBuilder), whose [`send`](RequestBuilder::send) waits for
/// the response.
pub type RequestBuilder = crate::RequestBuilder<Client>;

/// Sends a GET request with a new client, and waits for the response head.
///
/// Each call makes a client, with its own thread and connections: make a [`Client`] for
/// repeated requests. The 30 s [`timeout`](ClientBuilder::timeout) applies.
///
/// ```no_run
/// # fn run() -> wireline::Result<()> {
/// let body = wireline::blocking::get("https://example.com/")?.text()?;
/// # Ok(()) }
/// ```
#[track_caller]
pub fn get<U: crate::IntoUrl>(url: U) -> crate::Result<Response> {
    Client::new_checked()?.get(url).send()
}
