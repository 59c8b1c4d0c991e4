//! `Error`: what failed, for which URL, and how hyper, io and rustls errors map onto it.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use http::StatusCode;
use url::Url;

use crate::tls::explain::{self, CertificateProblem, TlsProblem};

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
    /// its proxy.
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
    /// Too many redirects, or a redirect to a location that can't be followed.
    Redirect,
    /// The server answered with this error status (from `error_for_status`).
    Status(StatusCode),
    /// The connection failed while sending the request or waiting for the response head,
    /// or the head was refused: malformed, over `max_response_header_size`, or framed by
    /// both `Transfer-Encoding` and `Content-Length` (see the reliability guide).
    Request,
    /// Reading the response body failed: the connection closed early, a body shorter than
    /// its `Content-Length`, broken chunked framing.
    Body,
    /// The body was read but could not be decoded: invalid JSON, data that is not valid
    /// for its `Content-Encoding`, or a body that decoded past `max_decoded_body`.
    Decode,
}

/// Why a TLS handshake failed, when the certificate was not the problem.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsErrorKind {
    /// The server does not speak a TLS version we allow (see `min_tls_version`).
    ProtocolVersion,
    /// No cipher suite, key exchange group or signature scheme in common.
    NoSharedCipherSuite,
    /// The server asked for a client certificate and we had none it accepted.
    ClientCertificateRequired,
    /// The server ended the handshake with another TLS alert.
    AlertReceived,
    /// No trusted root certificates could be loaded (the system store is empty or unreadable).
    NoTrustedRoots,
    /// The peer is not speaking TLS, or broke the protocol.
    Protocol,
    /// Anything else rustls reported.
    Other,
}

/// Which certificate check failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateErrorKind {
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate signed itself and is not trusted.
    SelfSigned,
    /// The current time is after a certificate's notAfter date.
    Expired,
    /// The current time is before a certificate's notBefore date.
    NotYetValid,
    /// The certificate is not valid for the host name or IP address in the URL.
    NameMismatch,
    /// A certificate of the chain is listed as revoked by a certificate revocation list
    /// given with [`ClientBuilder::add_crl`](crate::ClientBuilder::add_crl).
    Revoked,
    /// A signature in the chain is invalid or uses an unsupported algorithm.
    BadSignature,
    /// The certificate may not be used to authenticate a server.
    InvalidPurpose,
    /// A CA of the chain may not vouch for the certificate's names: its name constraints
    /// (the names it is permitted or excluded from certifying) leave them out. Checked even
    /// with `danger_accept_invalid_hostnames(true)`, since the constraints are part of the
    /// chain.
    NameConstraint,
    /// The certificate's public key matches none of the pins set for the host with
    /// [`ClientBuilder::pin_sha256`](crate::ClientBuilder::pin_sha256). Checked after every
    /// other check has passed, and even with `danger_accept_invalid_certs(true)`.
    PinMismatch,
    /// Another verification failure.
    Other,
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
            }),
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn with_url(mut self, url: &Url) -> Error {
        self.inner.url = Some(redact(url));
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

    pub(crate) fn from_status(status: StatusCode, url: &Url) -> Error {
        let reason = status.canonical_reason().unwrap_or("");
        Error::new(
            ErrorKind::Status(status),
            format!("server answered {} {reason}", status.as_u16()),
        )
        .with_url(url)
    }

    /// Maps a failure from hyper-util's client (connecting or sending) onto our kinds.
    pub(crate) fn from_send(err: hyper_util::client::legacy::Error, url: &Url) -> Error {
        let connecting = err.is_connect();
        let fallback = if connecting {
            ErrorKind::Connect
        } else {
            ErrorKind::Request
        };
        let (mut kind, mut message) = classify(&err, url, fallback);
        if kind == ErrorKind::Request {
            if let Some(tls) = tls_failure_of(&err) {
                (kind, message) = explain::rustls_error(&tls, url.host_str().unwrap_or(""), None);
            }
        }
        let proxy =
            connecting && chain(&err).any(|cause| cause.is::<crate::connect::tunnel::ProxyError>());
        let mut error = Error::new(kind, message).with_source(err).with_url(url);
        error.inner.during_connect = connecting;
        error.inner.proxy = proxy;
        error
    }

    /// A request hyper never answered although its connection is gone (see
    /// `crate::attempt::watched`): the TLS error that broke the connection if one
    /// did, else what hyper says of a request whose connection closed under it.
    pub(crate) fn lost(tls: Option<rustls::Error>, url: &Url) -> Error {
        let (kind, message) = match tls {
            Some(tls) => explain::rustls_error(&tls, url.host_str().unwrap_or(""), None),
            None => (
                ErrorKind::Request,
                "connection closed before the request was answered".to_owned(),
            ),
        };
        Error::new(kind, message).with_url(url)
    }

    /// Maps a failure while reading the response body.
    pub(crate) fn from_body(err: hyper::Error, url: &Url) -> Error {
        let (kind, message) = classify(&err, url, ErrorKind::Body);
        Error::new(kind, message).with_source(err).with_url(url)
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

    /// Returns the error without its URL, e.g. to print it without the path.
    pub fn without_url(mut self) -> Error {
        self.inner.url = None;
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

    /// True when the failure was the proxy's: it could not be resolved or reached, or it
    /// did not open the tunnel to an `https://` URL
    /// ([`ErrorKind::ProxyTunnel`]). The message names the proxy.
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
            ErrorKind::Redirect => "redirect not followed",
            ErrorKind::Status(_) => "HTTP error status",
            ErrorKind::Request => "request failed",
            ErrorKind::Body => "reading the response body failed",
            ErrorKind::Decode => "could not decode the response body",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// Decides the kind and the message of a transport error by its most specific cause.
fn classify(err: &(dyn StdError + 'static), url: &Url, fallback: ErrorKind) -> (ErrorKind, String) {
    let host = url.host_str().unwrap_or("");
    for cause in chain(err) {
        if let Some(problem) = cause.downcast_ref::<CertificateProblem>() {
            return (
                ErrorKind::Certificate(problem.kind),
                problem.message.clone(),
            );
        }
        if let Some(problem) = cause.downcast_ref::<TlsProblem>() {
            return (ErrorKind::Tls(problem.kind), problem.message.clone());
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return explain::rustls_error(tls, host, None);
        }
        if let Some(proxy) = cause.downcast_ref::<crate::connect::tunnel::ProxyError>() {
            return proxy.classify();
        }
        if let Some(timeout) = cause.downcast_ref::<crate::connect::ConnectTimeout>() {
            return (ErrorKind::Timeout, timeout.to_string());
        }
        if let Some(dns) = cause.downcast_ref::<crate::connect::dns::DnsError>() {
            return (ErrorKind::Dns, dns.to_string());
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return (ErrorKind::Timeout, innermost(cause));
            }
            // `is_parse_too_large` exists only with hyper's server feature; its message is
            // "message head is too large". Name the limit and the fix instead.
            if h.is_parse() && h.to_string().contains("too large") {
                return (
                    fallback,
                    "the response head is too large: over max_response_header_size \
                     (64 KiB unless set), or more than 100 header fields"
                        .to_owned(),
                );
            }
        }
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            if let Some(meaning) = h2_detected(h2, fallback == ErrorKind::Body) {
                return (fallback, format!("{}: {meaning}", describe_chain(err)));
            }
        }
    }
    if let Some(tls) = chain(err).find_map(alert_in_text) {
        return explain::rustls_error(&tls, host, None);
    }
    let message = match fallback {
        ErrorKind::Connect => innermost(err),
        _ => describe_chain(err),
    };
    (fallback, message)
}

/// What an error the h2 crate found in the server's frames means, where h2's own words
/// ("unspecific protocol error", "excessive load generating behavior") don't say.
/// `in_body`: the head had arrived, so its size can't be the cause.
fn h2_detected(h2: &h2::Error, in_body: bool) -> Option<&'static str> {
    use h2::Reason;
    if !h2.is_library() {
        return None;
    }
    // h2 names the limit a GOAWAY enforces only in its debug data, which it prints.
    let text = h2.to_string();
    let meaning = match h2.reason()? {
        // A stream reset: h2 says no more than "protocol error" for any malformed
        // response, a header list over our limit included.
        Reason::PROTOCOL_ERROR if h2.is_reset() && in_body => {
            "the server's HTTP/2 response body was malformed (for example its DATA did not \
             add up to its content-length)"
        }
        Reason::PROTOCOL_ERROR if h2.is_reset() => {
            "the server's HTTP/2 response was malformed, or its header list is over \
             max_response_header_size (64 KiB unless set)"
        }
        Reason::PROTOCOL_ERROR => {
            "the server broke the HTTP/2 protocol (for example a PUSH_PROMISE, which the \
             client turns off, or DATA on a stream never opened); the connection was closed"
        }
        Reason::FRAME_SIZE_ERROR => {
            "the server sent a frame larger than the client accepts (16 KiB); the \
             connection was closed"
        }
        Reason::ENHANCE_YOUR_CALM if text.contains("too_many_continuations") => {
            "the server split a response head into far more CONTINUATION frames than its \
             size needs (a CONTINUATION flood); the connection was closed"
        }
        Reason::ENHANCE_YOUR_CALM if text.contains("header_list_way_too_large") => {
            "the server's header list decodes to over four times max_response_header_size \
             (an HPACK bomb); the connection was closed"
        }
        Reason::ENHANCE_YOUR_CALM if text.contains("too_many_data_frames") => {
            "the server sent more empty or tiny DATA frames than the h2 crate accepts (100 \
             empty ones on a connection); the connection was closed"
        }
        _ => return None,
    };
    Some(meaning)
}

/// The TLS error recorded on the connection a request failed on, if any.
fn tls_failure_of(err: &hyper_util::client::legacy::Error) -> Option<rustls::Error> {
    crate::connect::conn::record_of(err.connect_info()?)?.tls_failure()
}

/// A TLS alert named only in an error's text. h2 keeps an io error's kind and message but
/// drops the error itself, so a `rustls::Error` that surfaced on an h2 connection (a
/// client certificate demanded after a TLS 1.3 handshake) reaches us as
/// "received fatal alert: CertificateRequired" and nothing else.
fn alert_in_text(err: &(dyn StdError + 'static)) -> Option<rustls::Error> {
    use rustls::AlertDescription as Alert;
    let text = err.to_string();
    let name = text.split("received fatal alert: ").nth(1)?;
    let name = name.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
    let alert = [
        Alert::CertificateRequired,
        Alert::BadCertificate,
        Alert::HandshakeFailure,
        Alert::ProtocolVersion,
        Alert::UnknownCA,
        Alert::AccessDenied,
        Alert::InternalError,
        Alert::DecryptError,
        Alert::IllegalParameter,
        Alert::InsufficientSecurity,
    ]
    .into_iter()
    .find(|alert| format!("{alert:?}") == name)?;
    Some(rustls::Error::AlertReceived(alert))
}

/// The message of the last cause in `err`'s chain.
pub(crate) fn innermost(err: &(dyn StdError + 'static)) -> String {
    chain(err).last().map(|e| e.to_string()).unwrap_or_default()
}

/// "a: b: c" over the chain, skipping messages that repeat the previous one.
fn describe_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in chain(err) {
        let text = cause.to_string();
        if text.is_empty() || last.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_password_and_names_url() {
        let url = Url::parse("https://user:secret@example.com/x").unwrap();
        let e = Error::new(ErrorKind::Connect, "refused").with_url(&url);
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

    #[test]
    fn chain_looks_inside_io_errors() {
        let tls = rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion);
        let io = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, tls));
        let url = Url::parse("https://h/").unwrap();
        let (kind, message) = classify(&io, &url, ErrorKind::Connect);
        assert_eq!(kind, ErrorKind::Tls(TlsErrorKind::ProtocolVersion));
        assert!(message.contains("version"), "{message}");
    }
}
