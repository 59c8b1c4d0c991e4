//! `Error`: what failed, for which URL, and of which kind. A leaf but for the `Timings` it
//! carries: `attempt/failure.rs`, which knows the transport errors, maps them to kinds.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;
use url::Url;

use crate::timings::Timings;

mod tls_kinds;
pub use tls_kinds::{CertificateErrorKind, TlsErrorKind};

/// A `Result` alias where the error is [`wireline::Error`](Error).
pub type Result<T> = std::result::Result<T, Error>;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync>;

/// What went wrong with a request, a response, or a client's settings.
///
/// The `Display` output names what failed, the URL (without any password) and, for TLS
/// failures, which certificate and what to do about it. [`Error::kind`] tells the classes
/// apart programmatically; the `is_*` methods answer the common questions.
///
/// ```
/// # async fn run() {
/// match wireline::get("http://127.0.0.1:9/").await {
///     Ok(resp) => println!("{}", resp.status()),
///     Err(e) if e.is_connect() => eprintln!("server down: {e}"),
///     Err(e) => eprintln!("{e}"),
/// }
/// # }
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    url: Option<Url>,
    message: String,
    /// Set when the failure happened while opening the connection (DNS, TCP, TLS, or
    /// the connect timeout), so `is_connect()` holds for connect timeouts as in reqwest.
    during_connect: bool,
    /// Set when the proxy could not be reached or refused the tunnel.
    proxy: bool,
    source: Option<BoxError>,
    /// How far the request got, with `timings(true)`.
    timings: Option<Box<Timings>>,
}

/// The class of an [`Error`], from [`Error::kind`].
///
/// New variants may be added; match with a wildcard arm.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A setting or a request input was invalid: a header with CR/LF, an unreadable CA file…
    /// Nothing was sent.
    Builder,
    /// The URL could not be parsed, or its scheme is not `http` or `https`. Nothing was sent.
    /// `is_builder()` is true for it too.
    InvalidUrl,
    /// The host name did not resolve. `is_connect()` is true for it too.
    Dns,
    /// The TCP connection could not be opened (refused, unreachable…), to the server or to
    /// its proxy, or a SOCKS proxy did not open the connection through it (its reply
    /// code, or the credentials it refused, in the message; `is_proxy()` is true then).
    Connect,
    /// The proxy did not open a tunnel to an `https://` URL: it answered the `CONNECT`
    /// with this status instead of 200. `407 Proxy Authentication Required` means the
    /// proxy wants credentials, or refused the ones given; `403 Forbidden` usually that
    /// it doesn't allow the destination. `is_connect()` and `is_proxy()` are true for it
    /// too. (An `http://` request through a proxy gets the proxy's refusal as its
    /// response instead, as with curl.)
    ProxyTunnel(StatusCode),
    /// The TLS handshake failed for a reason other than the server's certificate.
    Tls(TlsErrorKind),
    /// The server's certificate was not accepted. `is_tls()` is true for it too.
    Certificate(CertificateErrorKind),
    /// A timeout ran out: `connect_timeout` while connecting, `timeout` at any point,
    /// `read_timeout` or `low_speed_limit` while waiting for the response.
    Timeout,
    /// No connection to the host became free within `pool_acquire_timeout`: all that
    /// `pool_max_connections_per_host` allows were busy (or the first one, opened alone,
    /// was not ready). Nothing was sent. Not `is_timeout()` nor `is_connect()`: the server
    /// was not asked.
    PoolTimeout,
    /// Too many redirects, or a redirect to a location that can't be followed.
    Redirect,
    /// The server answered with this error status (from `error_for_status`).
    Status(StatusCode),
    /// The connection failed while sending the request or waiting for the response head,
    /// or the head was refused: malformed, over `max_response_header_size`, or framed by
    /// both `Transfer-Encoding` and `Content-Length` (see the reliability guide).
    Request,
    /// Reading the response body failed: the connection closed early, a body shorter than
    /// its `Content-Length`, broken chunked framing; or, in the blocking client's
    /// `Response::copy_to`, writing it out failed (the message says how much was written).
    Body,
    /// The body was read but could not be decoded: invalid JSON, data that is not valid
    /// for its `Content-Encoding`, or a body that decoded past `max_decoded_body`.
    Decode,
    /// [`Response::upgrade`](crate::Response::upgrade) failed: the response was not a
    /// `101 Switching Protocols` on a connection that can be taken over, or the connection
    /// ended before it could be.
    Upgrade,
    /// A layer of [`ClientBuilder::layer`](crate::ClientBuilder::layer) failed with an
    /// error of its own, which is the [`source`](std::error::Error::source) (wireline's
    /// errors keep their kinds through layers; tower's timeout is a `Timeout`).
    Middleware,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                url: None,
                message: message.into(),
                during_connect: false,
                proxy: false,
                source: None,
                timings: None,
            }),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    /// The URL this error is about, shown without its password.
    pub(crate) fn for_url(mut self, url: &Url) -> Error {
        self.inner.url = Some(redact(url));
        self
    }

    /// How far the request got: the failed attempt's, or the request loop's if none set it.
    pub(crate) fn with_timings(mut self, timings: Timings) -> Error {
        self.inner.timings.get_or_insert_with(|| Box::new(timings));
        self
    }

    /// Adds a remark in parentheses to the message, such as how many attempts were made.
    pub(crate) fn noted(mut self, note: impl fmt::Display) -> Error {
        let message = &mut self.inner.message;
        *message = if message.is_empty() {
            format!("({note})")
        } else {
            format!("{message} ({note})")
        };
        self
    }

    pub(crate) fn builder(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Builder, message)
    }

    pub(crate) fn invalid_url(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidUrl, message)
    }

    pub(crate) fn timeout(after: Duration) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("timed out after {after:?} (the request's `timeout`)"),
        )
    }

    /// A timeout other than the request's `timeout`; the message names the rule.
    pub(crate) fn timeout_because(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Timeout, message)
    }

    pub(crate) fn redirect(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Redirect, message)
    }

    pub(crate) fn decode(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Decode, message)
    }

    /// A 4xx or 5xx status made an error by `error_for_status`. `reason` is the server's
    /// own reason phrase, when it differs from the standard one.
    pub(crate) fn from_status(status: StatusCode, reason: Option<&[u8]>, url: &Url) -> Error {
        let reason = match reason {
            Some(bytes) => escaped(bytes),
            None => status
                .canonical_reason()
                .unwrap_or("<unknown status code>")
                .to_owned(),
        };
        Error::new(ErrorKind::Status(status), reason).for_url(url)
    }

    /// Marks an error that happened while opening the connection (DNS, TCP, TLS, the
    /// connect timeout), so `is_connect()` holds whatever its kind.
    pub(crate) fn with_during_connect(mut self, during_connect: bool) -> Error {
        self.inner.during_connect = during_connect;
        self
    }

    /// Marks an error as the proxy's (`is_proxy()`).
    pub(crate) fn with_proxy(mut self, proxy: bool) -> Error {
        self.inner.proxy = proxy;
        self
    }

    /// The class of this error.
    ///
    /// ```
    /// # async fn run() {
    /// use wireline::{CertificateErrorKind, ErrorKind};
    /// if let Err(e) = wireline::get("https://127.0.0.1:9/").await {
    ///     match e.kind() {
    ///         ErrorKind::Certificate(CertificateErrorKind::Expired) => eprintln!("renew it"),
    ///         _ => eprintln!("{e}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The URL the failing request was for, with any password removed.
    pub fn url(&self) -> Option<&Url> {
        self.inner.url.as_ref()
    }

    /// How far the request got before it failed (the phases it reached, the total until
    /// the failure), with [`timings(true)`](crate::ClientBuilder::timings); `None` without,
    /// and for an error made before anything was sent.
    ///
    /// ```no_run
    /// # async fn run(client: wireline::Client) {
    /// if let Err(e) = client.get("https://example.com/").send().await {
    ///     eprintln!("{e} after {:?}", e.timings().map(|t| t.total()));
    /// }
    /// # }
    /// ```
    pub fn timings(&self) -> Option<Timings> {
        self.inner.timings.as_deref().copied()
    }

    /// Returns the error without its URL, e.g. to print it without the path.
    pub fn without_url(mut self) -> Error {
        self.inner.url = None;
        self
    }

    /// The URL, to change it: e.g. to remove an API key from its query before the error
    /// is logged, keeping the rest (reqwest's `url_mut`).
    ///
    /// ```
    /// # async fn run() {
    /// if let Err(mut e) = wireline::get("http://127.0.0.1:9/items?key=s3cret").await {
    ///     if let Some(url) = e.url_mut() {
    ///         url.set_query(None);
    ///     }
    ///     eprintln!("{e}");
    /// }
    /// # }
    /// ```
    pub fn url_mut(&mut self) -> Option<&mut Url> {
        self.inner.url.as_mut()
    }

    /// Returns the error about `url` instead of its own (reqwest's `with_url`); a password
    /// in it is dropped, as in every error's URL.
    ///
    /// ```
    /// # async fn run() {
    /// let public = wireline::Url::parse("https://example.com/api").unwrap();
    /// if let Err(e) = wireline::get("https://10.0.0.7/api").await {
    ///     eprintln!("{}", e.with_url(public));
    /// }
    /// # }
    /// ```
    pub fn with_url(mut self, url: Url) -> Error {
        self.inner.url = Some(redact(&url));
        self
    }

    /// The HTTP status, for errors from [`Response::error_for_status`](crate::Response::error_for_status).
    pub fn status(&self) -> Option<StatusCode> {
        match self.inner.kind {
            ErrorKind::Status(code) => Some(code),
            _ => None,
        }
    }

    /// True when a setting or request input was invalid (including a bad URL).
    pub fn is_builder(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Builder | ErrorKind::InvalidUrl)
    }

    /// True when the connection could not be opened: DNS, TCP, TLS handshake, or the
    /// connect timeout.
    pub fn is_connect(&self) -> bool {
        self.inner.during_connect
            || matches!(
                self.inner.kind,
                ErrorKind::Connect | ErrorKind::Dns | ErrorKind::ProxyTunnel(_)
            )
    }

    /// True when the failure was the proxy's: it could not be resolved or reached, it
    /// did not open the tunnel to an `https://` URL ([`ErrorKind::ProxyTunnel`]), a SOCKS
    /// proxy did not open the connection ([`ErrorKind::Connect`], saying why), or the
    /// function of [`Proxy::custom`](crate::Proxy::custom) gave a URL that can't be used
    /// ([`ErrorKind::Builder`]). The message names the proxy.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .proxy(wireline::Proxy::all("http://127.0.0.1:9")?)
    ///     .build()?;
    /// if let Err(e) = client.get("https://example.com/").send().await {
    ///     assert!(e.is_proxy() && e.is_connect());
    ///     eprintln!("{e}"); // … could not connect to the proxy http://127.0.0.1:9: …
    /// }
    /// # Ok(()) }
    /// ```
    pub fn is_proxy(&self) -> bool {
        self.inner.proxy || matches!(self.inner.kind, ErrorKind::ProxyTunnel(_))
    }

    /// True when the host name did not resolve.
    pub fn is_dns(&self) -> bool {
        self.inner.kind == ErrorKind::Dns
    }

    /// True when a timeout ran out (`timeout`, `connect_timeout`, `read_timeout` or
    /// `low_speed_limit`).
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// True when `pool_acquire_timeout` ran out while the request waited for a connection
    /// to its host ([`ErrorKind::PoolTimeout`]); nothing was sent. The message names the
    /// host, the cap, and how many requests were waiting.
    ///
    /// ```
    /// # async fn run(client: wireline::Client) {
    /// if let Err(e) = client.get("https://example.com/").send().await {
    ///     if e.is_pool_timeout() { eprintln!("too many requests to one host at once: {e}") }
    /// }
    /// # }
    /// ```
    pub fn is_pool_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::PoolTimeout
    }

    /// True for any TLS failure, certificate problems included.
    pub fn is_tls(&self) -> bool {
        matches!(
            self.inner.kind,
            ErrorKind::Tls(_) | ErrorKind::Certificate(_)
        )
    }

    /// True when the server's certificate was not accepted.
    pub fn is_certificate(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Certificate(_))
    }

    /// True after too many redirects or a redirect that can't be followed.
    pub fn is_redirect(&self) -> bool {
        self.inner.kind == ErrorKind::Redirect
    }

    /// True for errors made by [`Response::error_for_status`](crate::Response::error_for_status).
    pub fn is_status(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Status(_))
    }

    /// True when sending the request failed after the connection was open, or the
    /// response head was refused (malformed, too large, or with ambiguous framing).
    pub fn is_request(&self) -> bool {
        self.inner.kind == ErrorKind::Request
    }

    /// True when reading the response body failed.
    pub fn is_body(&self) -> bool {
        self.inner.kind == ErrorKind::Body
    }

    /// True when the body could not be decoded: invalid JSON, corrupt compressed data, or
    /// more than `max_decoded_body` once decompressed.
    pub fn is_decode(&self) -> bool {
        self.inner.kind == ErrorKind::Decode
    }

    /// True when [`Response::upgrade`](crate::Response::upgrade) failed: the server did not
    /// switch protocols, or the connection ended first.
    pub fn is_upgrade(&self) -> bool {
        self.inner.kind == ErrorKind::Upgrade
    }

    /// True when a layer of [`ClientBuilder::layer`](crate::ClientBuilder::layer) failed
    /// with an error of its own; [`source`](std::error::Error::source) gives it.
    ///
    /// ```
    /// # async fn run(client: wireline::Client) {
    /// if let Err(e) = client.get("https://example.com/").send().await {
    ///     if e.is_middleware() { eprintln!("refused by a layer: {e}") }
    /// }
    /// # }
    /// ```
    pub fn is_middleware(&self) -> bool {
        self.inner.kind == ErrorKind::Middleware
    }

    fn summary(&self) -> &'static str {
        match self.inner.kind {
            ErrorKind::Builder => "invalid request or client setting",
            ErrorKind::InvalidUrl => "invalid URL",
            ErrorKind::Dns => "DNS lookup failed",
            ErrorKind::Connect => "could not connect",
            ErrorKind::ProxyTunnel(_) => "proxy refused the tunnel",
            ErrorKind::Tls(TlsErrorKind::NoTrustedRoots) => "HTTPS unavailable",
            ErrorKind::Tls(_) => "TLS handshake failed",
            ErrorKind::Certificate(_) => "server certificate rejected",
            ErrorKind::Timeout => "timed out",
            ErrorKind::PoolTimeout => "no connection free in the pool",
            ErrorKind::Redirect => "redirect not followed",
            ErrorKind::Status(_) => "HTTP status error",
            ErrorKind::Request => "request failed",
            ErrorKind::Body => "reading the response body failed",
            ErrorKind::Decode => "could not decode the response body",
            ErrorKind::Upgrade => "could not upgrade the connection",
            ErrorKind::Middleware => "a layer of the client failed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ErrorKind::Status(code) = self.inner.kind {
            // reqwest's words, which programs and their tests match on.
            let side = if code.is_client_error() {
                "client"
            } else {
                "server"
            };
            write!(
                f,
                "HTTP status {side} error ({} {})",
                code.as_str(),
                self.inner.message
            )?;
            if let Some(url) = &self.inner.url {
                write!(f, " for url ({url})")?;
            }
            return Ok(());
        }
        f.write_str(self.summary())?;
        if let Some(url) = &self.inner.url {
            write!(f, " for {url}")?;
        }
        if !self.inner.message.is_empty() {
            write!(f, ": {}", self.inner.message)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("wireline::Error");
        d.field("kind", &self.inner.kind);
        if let Some(url) = &self.inner.url {
            d.field("url", &url.as_str());
        }
        d.field("message", &self.inner.message);
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source.as_ref().map(|e| &**e as _)
    }
}

/// A server's reason phrase as text: printable ASCII as it is, anything else escaped as
/// reqwest escapes it (`\n`, `\"`, `\xe9`), so a hostile phrase can't break a log line.
fn escaped(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' | b'"' => {
                out.push('\\');
                out.push(b as char);
            }
            b'\0' => out.push_str("\\0"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The URL as errors show it: never with a password.
fn redact(url: &Url) -> Url {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(None);
    }
    url
}

/// Walks a source chain, looking inside `io::Error`s too (their `source()` skips the
/// wrapped error itself, which is where tokio-rustls puts the `rustls::Error`).
pub(crate) fn chain<'a>(
    err: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    let mut next = Some(err);
    std::iter::from_fn(move || {
        let current = next?;
        next = match current.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
            None => current.source(),
        };
        Some(current)
    })
}

/// The message of the last cause in `err`'s chain.
pub(crate) fn innermost(err: &(dyn StdError + 'static)) -> String {
    chain(err).last().map(|e| e.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_password_and_names_url() {
        let url = Url::parse("https://user:secret@example.com/x").unwrap();
        let e = Error::new(ErrorKind::Connect, "refused").for_url(&url);
        let shown = e.to_string();
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("example.com/x"), "{shown}");
        assert!(!format!("{e:?}").contains("secret"));
    }

    #[test]
    fn dns_is_connect_and_certificate_is_tls() {
        let dns = Error::new(ErrorKind::Dns, "x");
        assert!(dns.is_dns() && dns.is_connect() && !dns.is_timeout());
        let cert = Error::new(ErrorKind::Certificate(CertificateErrorKind::Expired), "x");
        assert!(cert.is_certificate() && cert.is_tls());
        let url = Error::invalid_url("x");
        assert!(url.is_builder());
    }
}
