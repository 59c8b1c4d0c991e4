//! `Response`: the head's accessors, and the body read whole (`bytes`, `text`, `json`) or
//! piece by piece (`chunk`, `bytes_stream`), all under the request's deadline.

mod body;
pub(crate) mod decode;
mod upgrade;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use http::header::{HeaderMap, CONTENT_TYPE};
use http::{StatusCode, Version};
use hyper_util::client::legacy::connect::HttpInfo;
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use url::Url;

use body::{BytesStream, ResponseBody};
use decode::Decoding;
pub use upgrade::Upgraded;

use crate::body::Body;
use crate::connect::conn::Record;
use crate::error::{Error, ErrorKind, Result};
use crate::pool::Reply;
use crate::timeouts::{Deadline, Pacing};
use crate::timings::{RequestMarks, Timings};
use crate::tls::TlsInfo;

/// The most `bytes()` reserves up front for a body of announced length.
const MAX_RESERVED_BODY: u64 = 8 * 1024 * 1024;

/// A response whose head has arrived; the body is read on demand.
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let resp = wireline::get("https://example.com/").await?;
/// println!("{} {:?}", resp.status(), resp.headers().get("content-type"));
/// let text = resp.text().await?;
/// # Ok(()) }
/// ```
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    /// hyper's and hyper-util's: the connection's address (`HttpInfo`), its `TlsInfo`
    /// (with `tls_info(true)`), a reason phrase other than the standard one, the upgrade.
    extensions: http::Extensions,
    /// The record of the connection it came over: `None` for one made from an
    /// `http::Response` that didn't come from wireline.
    connection: Option<Arc<Record>>,
    body: ResponseBody,
}

/// A response's connection record in its extensions, while it is an `http::Response`
/// (the client's layers see it so): the conversion back takes it out again.
#[derive(Clone)]
struct ConnectionExtra(Arc<Record>);

impl Response {
    pub(crate) fn new(
        reply: Reply,
        url: Url,
        deadline: Option<Deadline>,
        pacing: Option<&Pacing>,
        decoding: &Decoding,
    ) -> Response {
        let Reply {
            response,
            record,
            stream,
        } = reply;
        let (mut parts, incoming) = response.into_parts();
        let mut body = ResponseBody::new(
            incoming,
            &mut parts.headers,
            url,
            deadline,
            pacing,
            decoding,
        );
        // A request routed to an h2 connection that went over HTTP/1 after all (its
        // connection closed, the next one spoke HTTP/1) holds no stream there.
        if let (Some(stream), Version::HTTP_2) = (stream, parts.version) {
            body.set_stream(stream);
        }
        Response {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            extensions: parts.extensions,
            connection: Some(record),
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version the server answered with (HTTP/2 when ALPN chose h2).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response headers, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The final URL, after any redirects.
    pub fn url(&self) -> &Url {
        self.body.url()
    }

    /// The body's length when the server announced it (`Content-Length`), else `None`;
    /// also `None` for a body being decompressed, whose length is known only at its end.
    pub fn content_length(&self) -> Option<u64> {
        self.body.announced_len()
    }

    /// Calls `progress(received, total)` as the body is read, by any of the reading
    /// methods: the bytes handed over so far, and the total when it is known (the
    /// server's `Content-Length`, for a body not being decompressed; a decompressed
    /// body counts its decoded bytes, total unknown). Called at most every 100 ms, and
    /// once at the end of the body.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let resp = wireline::get("https://example.com/big.iso")
    ///     .await?
    ///     .on_download_progress(|received, total| match total {
    ///         Some(total) => eprintln!("{}%", received * 100 / total.max(1)),
    ///         None => eprintln!("{received} bytes"),
    ///     });
    /// let body = resp.bytes().await?;
    /// # Ok(()) }
    /// ```
    pub fn on_download_progress<F>(mut self, progress: F) -> Response
    where
        F: FnMut(u64, Option<u64>) + Send + 'static,
    {
        let total = self.content_length();
        let callback = std::sync::Arc::new(std::sync::Mutex::new(progress));
        self.body
            .set_progress(crate::progress::Progress::new(callback, total));
        self
    }

    /// The address of the server this response came from: the proxy's, when the request
    /// went through one.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.extensions.get::<HttpInfo>().map(HttpInfo::remote_addr)
    }

    /// How long each phase of the request took (DNS, TCP, TLS, the wait for a connection,
    /// sending, the first byte) and the total so far, with the connection it went over;
    /// `None` unless the client was built with
    /// [`timings(true)`](crate::ClientBuilder::timings). See [`Timings`] for what each
    /// phase covers, and its curl `-w` names.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().timings(true).build()?;
    /// let resp = client.get("https://example.com/").send().await?;
    /// let ttfb = resp.timings().and_then(|t| t.starttransfer());
    /// # Ok(()) }
    /// ```
    pub fn timings(&self) -> Option<Timings> {
        let request = self.extensions.get::<RequestMarks>()?;
        let connection = self.connection.as_ref().map(|record| &record.marks);
        Some(Timings::new(request, connection, Instant::now()))
    }

    /// Whether the response came over a connection that was already open when the
    /// request's final attempt began (see [`Timings::connection_reused`]); `None` unless
    /// the client was built with [`timings(true)`](crate::ClientBuilder::timings).
    pub fn connection_reused(&self) -> Option<bool> {
        self.timings().map(|t| t.connection_reused())
    }

    /// The number of the connection the response came over, unique in the process: two
    /// responses with the same one shared a connection (an HTTP/1 connection one after
    /// the other, an h2 one also at once). Always there for a response from the network,
    /// whatever the settings; `None` for one made from an `http::Response`.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::new();
    /// let a = client.get("https://example.com/a").send().await?;
    /// let b = client.get("https://example.com/b").send().await?;
    /// println!("same connection: {}", a.connection_id() == b.connection_id());
    /// # Ok(()) }
    /// ```
    pub fn connection_id(&self) -> Option<u64> {
        Some(self.connection.as_ref()?.marks.id)
    }

    /// The response's extensions: what hyper and wireline attach to it, such as its
    /// [`TlsInfo`] (with [`tls_info(true)`](crate::ClientBuilder::tls_info)) or a
    /// `hyper::ext::ReasonPhrase` when the server's reason phrase isn't the standard one.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().tls_info(true).build()?;
    /// let resp = client.get("https://example.com/").send().await?;
    /// let tls = resp.extensions().get::<wireline::TlsInfo>();
    /// # Ok(()) }
    /// ```
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// The response's extensions, to change them.
    ///
    /// ```
    /// # fn run(mut resp: wireline::Response) {
    /// resp.extensions_mut().insert("fetched by the nightly job");
    /// # }
    /// ```
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        &mut self.extensions
    }

    /// The cookies the response sets (its `Set-Cookie` headers, parsed; ones that don't
    /// parse are left out), whether or not the client keeps cookies. Available with the
    /// `cookies` Cargo feature.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let resp = wireline::get("https://example.com/login").await?;
    /// for cookie in resp.cookies() {
    ///     println!("{} (secure: {})", cookie.name(), cookie.secure());
    /// }
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cookies")]
    pub fn cookies<'a>(&'a self) -> impl Iterator<Item = crate::cookie::Cookie<'a>> + 'a {
        crate::cookie::Cookie::all_in(&self.headers)
    }

    /// An [`is_status`](Error::is_status) error for 4xx and 5xx statuses, else the response.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let body = wireline::get("https://example.com/missing")
    ///     .await?
    ///     .error_for_status()?
    ///     .text()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn error_for_status(self) -> Result<Response> {
        match self.status_error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    /// Like [`error_for_status`](Response::error_for_status), by reference.
    pub fn error_for_status_ref(&self) -> Result<&Response> {
        match self.status_error() {
            Some(e) => Err(e),
            None => Ok(self),
        }
    }

    fn status_error(&self) -> Option<Error> {
        let failed = self.status.is_client_error() || self.status.is_server_error();
        failed.then(|| {
            let reason = self.extensions.get::<hyper::ext::ReasonPhrase>();
            Error::from_status(self.status, reason.map(|r| r.as_bytes()), self.body.url())
        })
    }

    /// The next piece of the body, or `None` at its end. Memory stays constant in the body
    /// size when you read this way.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let mut resp = wireline::get("https://example.com/big").await?;
    /// let mut total = 0;
    /// while let Some(chunk) = resp.chunk().await? {
    ///     total += chunk.len();
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Bytes>> {
        std::future::poll_fn(|cx| self.body.poll_data(cx)).await
    }

    /// The whole body. A body that ends before its `Content-Length` is an
    /// [`is_body`](Error::is_body) error, never a short success.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let body = wireline::get("https://example.com/").await?.bytes().await?;
    /// println!("{} bytes", body.len());
    /// # Ok(()) }
    /// ```
    // This and the other readers below are `async` blocks, not `async fn`s: an `async fn`'s
    // future keeps its arguments twice (as given, and the body's own copy:
    // rust-lang/rust#62958), and `self` is a whole response.
    #[allow(clippy::manual_async_fn)]
    pub fn bytes(mut self) -> impl Future<Output = Result<Bytes>> + Send {
        async move { self.read_all().await }
    }

    /// The body to its end: what the readers above and below hand over or decode.
    async fn read_all(&mut self) -> Result<Bytes> {
        let Some(first) = self.chunk().await? else {
            return Ok(Bytes::new());
        };
        let Some(second) = self.chunk().await? else {
            // One frame: hand it over without copying.
            return Ok(first);
        };
        // Content-Length is only the server's word: reserve up to a bound, then grow as
        // bytes actually arrive, or a server announcing 100 TB would abort the process.
        let expected = self.content_length().unwrap_or(0).min(MAX_RESERVED_BODY) as usize;
        let mut all = BytesMut::with_capacity(expected.max(first.len() + second.len()));
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(chunk) = self.chunk().await? {
            all.extend_from_slice(&chunk);
        }
        Ok(all.freeze())
    }

    /// The body as text, decoded with the charset of `Content-Type` (UTF-8 when none is
    /// given). Bytes that are invalid in that charset become U+FFFD, as in reqwest and
    /// requests: `text()` never fails on encoding; use [`bytes`](Response::bytes) to see
    /// the raw bytes.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let page = wireline::get("https://example.com/").await?.text().await?;
    /// println!("{page}");
    /// # Ok(()) }
    /// ```
    pub fn text(self) -> impl Future<Output = Result<String>> + Send {
        self.text_with_charset("utf-8")
    }

    /// Like [`text`](Response::text), with the charset to use when `Content-Type` names none.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let page = wireline::get("https://example.com/legacy")
    ///     .await?
    ///     .text_with_charset("windows-1252")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn text_with_charset(
        mut self,
        default_charset: &str,
    ) -> impl Future<Output = Result<String>> + Send {
        let encoding = self.text_encoding(default_charset);
        async move {
            let bytes = self.read_all().await?;
            let (text, _, _) = encoding.decode(&bytes);
            Ok(text.into_owned())
        }
    }

    /// What [`text_with_charset`](Response::text_with_charset) decodes with (also the
    /// blocking response's).
    pub(crate) fn text_encoding(&self, default_charset: &str) -> &'static encoding_rs::Encoding {
        let label = self.charset().unwrap_or_else(|| default_charset.to_owned());
        encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8)
    }

    fn charset(&self) -> Option<String> {
        let content_type = self.headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let mime: mime::Mime = content_type.parse().ok()?;
        mime.get_param(mime::CHARSET).map(|c| c.as_str().to_owned())
    }

    /// The body parsed as JSON; invalid JSON is an [`is_decode`](Error::is_decode) error.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Ip { origin: String }
    /// let ip: Ip = wireline::get("https://example.com/ip").await?.json().await?;
    /// # Ok(()) }
    /// ```
    #[allow(clippy::manual_async_fn)]
    pub fn json<T: DeserializeOwned>(mut self) -> impl Future<Output = Result<T>> + Send {
        async move {
            let bytes = self.read_all().await?;
            json_from(&bytes, self.body.url())
        }
    }

    /// The body as a `Stream` of chunks, for `futures` combinators.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// use futures_util::StreamExt;
    /// let mut stream = wireline::get("https://example.com/").await?.bytes_stream();
    /// while let Some(chunk) = stream.next().await {
    ///     let chunk = chunk?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn bytes_stream(self) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        BytesStream { body: self.body }
    }

    /// The TLS parameters of the connection this response came over: version, cipher
    /// suite, ALPN protocol, the server's certificates, and whether the session was
    /// resumed. `None` over plain HTTP, and unless the client was built with
    /// [`tls_info(true)`](crate::ClientBuilder::tls_info).
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().tls_info(true).build()?;
    /// let resp = client.get("https://example.com/").send().await?;
    /// if let Some(tls) = resp.tls_info() {
    ///     println!("{} {}", tls.protocol_version(), tls.cipher_suite());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.extensions.get::<TlsInfo>()
    }

    /// The connection itself, after a `101 Switching Protocols`: the request asked the
    /// server to switch (`Connection: upgrade` and `Upgrade: websocket`, say) and it did.
    /// The [`Upgraded`] stream reads and writes the new protocol, over TLS if the URL was
    /// https; the connection leaves the pool. Anything else fails with an
    /// [`is_upgrade`](Error::is_upgrade) error, as does a connection that ends first.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let resp = wireline::Client::new()
    ///     .get("https://example.com/chat")
    ///     .header("connection", "upgrade")
    ///     .header("upgrade", "my-protocol")
    ///     .send()
    ///     .await?;
    /// let mut stream = resp.upgrade().await?;
    /// stream.write_all(b"hello").await.unwrap();
    /// # Ok(()) }
    /// ```
    pub async fn upgrade(mut self) -> Result<Upgraded> {
        let url = self.body.url().clone();
        if self.status != StatusCode::SWITCHING_PROTOCOLS {
            let message = format!(
                "the server answered {} instead of 101 Switching Protocols: send the \
                 headers the protocol asks for (Connection: upgrade, Upgrade: …), over \
                 HTTP/1.1",
                self.status
            );
            return Err(Error::new(ErrorKind::Upgrade, message).for_url(&url));
        }
        let Some(pending) = self.extensions.remove::<hyper::upgrade::OnUpgrade>() else {
            let message = "the 101 came on a connection that can't be taken over (HTTP/2)";
            return Err(Error::new(ErrorKind::Upgrade, message).for_url(&url));
        };
        match pending.await {
            Ok(upgraded) => Ok(Upgraded(TokioIo::new(upgraded))),
            Err(e) => Err(Error::new(
                ErrorKind::Upgrade,
                format!("the connection ended before it could be taken over: {e}"),
            )
            .with_source(e)
            .for_url(&url)),
        }
    }
}

/// A body parsed as the JSON [`Response::json`] expects (also the blocking response's).
pub(crate) fn json_from<T: DeserializeOwned>(bytes: &[u8], url: &Url) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::decode(format!("the body is not the JSON expected: {e}"))
            .with_source(e)
            .for_url(url)
    })
}

impl fmt::Debug for Response {
    /// `Set-Cookie` values print as `Sensitive`: they are session credentials as much as
    /// the `Cookie` a request sends back. Read them with [`Response::headers`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.body.url().as_str())
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &crate::redact::Headers(&self.headers))
            .finish()
    }
}

/// The final URL of a response made into an `http::Response` (as reqwest keeps it), so
/// that one made back into a [`Response`] has it again. Set it on a response you build
/// with [`ResponseBuilderExt::url`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResponseUrl(pub(crate) Url);

/// Sets the URL a response made from an `http::Response` reports, as reqwest's
/// `ResponseBuilderExt`: for responses made by hand, in tests or by a layer.
///
/// ```
/// use wireline::ResponseBuilderExt;
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let url = wireline::Url::parse("https://example.com/cached")?;
/// let response = http::Response::builder().url(url.clone()).body("hello")?;
/// let response = wireline::Response::from(response);
/// assert_eq!(response.url(), &url);
/// # Ok(()) }
/// ```
pub trait ResponseBuilderExt {
    /// The URL the response will report as [`Response::url`].
    fn url(self, url: Url) -> Self;
}

impl ResponseBuilderExt for http::response::Builder {
    fn url(self, url: Url) -> Self {
        self.extension(ResponseUrl(url))
    }
}

/// The response as an `http::Response`, as reqwest converts one: the body streams as it
/// arrives (decoded, under the request's deadline), the URL goes into the extensions.
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let resp = wireline::get("https://example.com/").await?;
/// let resp: http::Response<wireline::Body> = resp.into();
/// # Ok(()) }
/// ```
impl From<Response> for http::Response<Body> {
    fn from(response: Response) -> http::Response<Body> {
        let Response {
            status,
            version,
            headers,
            mut extensions,
            connection,
            body,
        } = response;
        extensions.insert(ResponseUrl(body.url().clone()));
        if let Some(record) = connection {
            extensions.insert(ConnectionExtra(record));
        }
        let mut converted = http::Response::new(Body::from_http_body(body));
        *converted.status_mut() = status;
        *converted.version_mut() = version;
        *converted.headers_mut() = headers;
        *converted.extensions_mut() = extensions;
        converted
    }
}

/// A response from an `http::Response`, as reqwest makes one: its URL is the one set with
/// [`ResponseBuilderExt::url`] (or kept by the conversion the other way), else
/// `http://no.url.provided.local/`, as in reqwest.
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let response = http::Response::new("hello");
/// let response = wireline::Response::from(response);
/// assert_eq!(response.text().await?, "hello");
/// # Ok(()) }
/// ```
impl<T: Into<Body>> From<http::Response<T>> for Response {
    fn from(response: http::Response<T>) -> Response {
        let (mut parts, body) = response.into_parts();
        let url = match parts.extensions.remove::<ResponseUrl>() {
            Some(ResponseUrl(url)) => url,
            None => Url::parse("http://no.url.provided.local").expect("a valid URL"),
        };
        Response {
            status: parts.status,
            version: parts.version,
            connection: parts.extensions.remove::<ConnectionExtra>().map(|c| c.0),
            headers: parts.headers,
            extensions: parts.extensions,
            body: ResponseBody::layered(body.into(), url),
        }
    }
}

impl From<Response> for Body {
    /// The response's body as a request body, streamed as it arrives (and decoded, if it
    /// was compressed): a download sent on as an upload without holding it in memory.
    fn from(response: Response) -> Body {
        Body::wrap_stream(response.bytes_stream())
    }
}
