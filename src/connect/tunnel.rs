//! Connections through an HTTP proxy: TCP to it for `http://` destinations, a CONNECT
//! tunnel (hyper-util's `Tunnel`) for `https://` ones, and errors that name the proxy
//! (SOCKS proxies' too: `socks.rs` opens those connections).

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use http::header::{HeaderMap, HeaderValue, PROXY_AUTHORIZATION, USER_AGENT};
use http::{StatusCode, Uri};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::connect::dns::{DnsError, Resolver};
use crate::error::{BoxError, ErrorKind};
use crate::proxy::{Protocol, Route};

/// A TCP connection, to the proxy or through its tunnel.
pub(crate) type Tcp = TokioIo<TcpStream>;

pub(crate) type Opening = Pin<Box<dyn Future<Output = Result<Tcp, BoxError>> + Send>>;

/// How much of a proxy's answers is kept: a CONNECT's status line, a SOCKS handshake's
/// replies.
const REPLY_KEPT: usize = 256;

/// Opens a TCP connection to the proxy, to send an `http://` request in absolute form.
pub(crate) fn forward(http: &HttpConnector<Resolver>, route: &Route) -> Opening {
    if let Err(unsupported) = check_scheme(route) {
        return Box::pin(async move { Err(unsupported.into()) });
    }
    let connecting = http.clone().call(route.proxy.clone());
    let proxy = route.shown();
    Box::pin(async move {
        connecting
            .await
            .map_err(|e| ProxyError::unreachable(proxy, e).into())
    })
}

/// Opens a tunnel to `dst` through the proxy: TCP to the proxy, then `CONNECT host:port`
/// with the client's `user_agent`, the proxy's credentials and its `Proxy::headers`. What
/// comes back carries bytes to and from `dst` itself, ready for the TLS handshake with it.
pub(crate) fn tunnel(
    http: &HttpConnector<Resolver>,
    route: Route,
    dst: &Uri,
    user_agent: Option<&HeaderValue>,
) -> Opening {
    if let Err(unsupported) = check_scheme(&route) {
        return Box::pin(async move { Err(unsupported.into()) });
    }
    let proxy = route.shown();
    let reply = Arc::new(Mutex::new(Heard::default()));
    let to_proxy = ToProxy {
        http: http.clone(),
        proxy: proxy.clone(),
        reply: reply.clone(),
    };
    let headers = connect_headers(&route, user_agent);
    let had_auth = headers.contains_key(PROXY_AUTHORIZATION);
    let mut tunnel = Tunnel::new(route.proxy, to_proxy);
    if !headers.is_empty() {
        tunnel = tunnel.with_headers(headers);
    }
    let target = format!(
        "{}:{}",
        dst.host().unwrap_or(""),
        dst.port_u16().unwrap_or(443)
    );
    let opening = tunnel.call(dst.clone());
    Box::pin(async move {
        match opening.await {
            Ok(io) => Ok(TokioIo::new(io.into_inner().into_tcp())),
            Err(e) => {
                let e: BoxError = Box::new(e);
                if crate::error::chain(&*e).any(|c| c.is::<ProxyError>()) {
                    // The proxy couldn't be reached: that error already says so.
                    return Err(e);
                }
                let status = status_line(&reply.lock().unwrap_or_else(|p| p.into_inner()).bytes);
                let failure = match status {
                    Some(status) => Failure::Refused {
                        status,
                        target,
                        had_auth,
                    },
                    None => Failure::Broken { target },
                };
                Err(ProxyError {
                    proxy,
                    failure,
                    source: Some(e),
                }
                .into())
            }
        }
    })
}

/// The headers of a `CONNECT`: the client's `User-Agent` (as reqwest sends it), then the
/// proxy's own headers, which may replace it, then its credentials unless those headers
/// have some.
fn connect_headers(route: &Route, user_agent: Option<&HeaderValue>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(user_agent) = user_agent {
        headers.insert(USER_AGENT, user_agent.clone());
    }
    if let Some(extra) = &route.headers {
        crate::redact::replace_headers(&mut headers, HeaderMap::clone(extra));
    }
    if let Some(auth) = &route.auth {
        headers
            .entry(PROXY_AUTHORIZATION)
            .or_insert_with(|| auth.clone());
    }
    headers
}

fn check_scheme(route: &Route) -> Result<(), ProxyError> {
    match route.protocol {
        Protocol::Http => Ok(()),
        _ => Err(ProxyError {
            proxy: route.shown(),
            failure: Failure::Unsupported {
                scheme: route.proxy.scheme_str().unwrap_or("").to_owned(),
            },
            source: None,
        }),
    }
}

/// The status of an HTTP/1.x status line at the start of `reply`.
fn status_line(reply: &[u8]) -> Option<StatusCode> {
    let line = reply.split(|b| *b == b'\n').next()?;
    let mut words = line.split(|b| *b == b' ');
    if !words.next()?.starts_with(b"HTTP/1.") {
        return None;
    }
    StatusCode::from_bytes(words.next()?).ok()
}

/// The TCP connector under the tunnel. It keeps the start of everything the proxy sends,
/// as hyper-util's `Tunnel` reports any status but 200 and 407 only as "unsuccessful".
#[derive(Clone)]
struct ToProxy {
    http: HttpConnector<Resolver>,
    proxy: String,
    reply: Arc<Mutex<Heard>>,
}

impl Service<Uri> for ToProxy {
    type Response = TokioIo<Observed>;
    type Error = ProxyError;
    type Future = Pin<Box<dyn Future<Output = Result<TokioIo<Observed>, ProxyError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ProxyError>> {
        // HttpConnector is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, proxy_uri: Uri) -> Self::Future {
        let connecting = self.http.call(proxy_uri);
        let proxy = self.proxy.clone();
        let reply = self.reply.clone();
        Box::pin(async move {
            let tcp = connecting
                .await
                .map_err(|e| ProxyError::unreachable(proxy, e))?;
            Ok(TokioIo::new(Observed::new(tcp.into_inner(), reply)))
        })
    }
}

/// What a proxy sent during a handshake, as far as kept, and the I/O error that ended it.
#[derive(Default)]
pub(super) struct Heard {
    pub(super) bytes: Vec<u8>,
    pub(super) failure: Option<io::Error>,
}

/// A TCP stream that copies the first bytes it reads into `heard`, with the first I/O
/// error it meets. Used only until the tunnel is open; the connection then continues as
/// the bare stream.
pub(super) struct Observed {
    tcp: TcpStream,
    heard: Arc<Mutex<Heard>>,
}

impl Observed {
    pub(super) fn new(tcp: TcpStream, heard: Arc<Mutex<Heard>>) -> Observed {
        Observed { tcp, heard }
    }

    pub(super) fn into_tcp(self) -> TcpStream {
        self.tcp
    }

    /// Keeps a copy of the error `result` carries, if any (the original goes on up); only
    /// the first counts.
    fn note<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(err)) = &result {
            let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
            if heard.failure.is_none() {
                heard.failure = Some(io::Error::new(err.kind(), err.to_string()));
            }
        }
        result
    }
}

impl AsyncRead for Observed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        ready!(this.note(polled))?;
        let read = &buf.filled()[before..];
        let mut heard = this.heard.lock().unwrap_or_else(|p| p.into_inner());
        let room = REPLY_KEPT.saturating_sub(heard.bytes.len());
        heard.bytes.extend_from_slice(&read[..read.len().min(room)]);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Observed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.tcp).poll_write(cx, buf);
        this.note(polled)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// A failure that was the proxy's: it could not be reached, or did not open the tunnel.
#[derive(Debug)]
pub(crate) struct ProxyError {
    /// `http://host:port`, never with credentials.
    proxy: String,
    failure: Failure,
    source: Option<BoxError>,
}

#[derive(Debug)]
enum Failure {
    /// DNS or TCP to the proxy failed; `source` says how.
    Unreachable,
    /// The proxy answered the CONNECT with another status than 200.
    Refused {
        status: StatusCode,
        /// `host:port` of the tunnel asked for.
        target: String,
        had_auth: bool,
    },
    /// The proxy closed the connection, or answered with something that isn't HTTP.
    Broken { target: String },
    /// The proxy URL (from the environment) has a scheme we can't use.
    Unsupported { scheme: String },
    /// `Proxy::custom`'s function gave a URL that can't be a proxy's; the message says
    /// why, and `proxy` is empty.
    Invalid { message: String },
    /// The SOCKS proxy did not open the connection to `target`: `why`, in words.
    #[cfg(feature = "socks")]
    Socks {
        /// `SOCKS5`, `SOCKS4`.
        version: &'static str,
        /// `host:port` as the proxy was asked for it.
        target: String,
        why: String,
    },
}

impl ProxyError {
    pub(super) fn unreachable(proxy: String, source: impl Into<BoxError>) -> ProxyError {
        ProxyError {
            proxy,
            failure: Failure::Unreachable,
            source: Some(source.into()),
        }
    }

    /// `Proxy::custom`'s function gave a URL that can't be a proxy's.
    pub(super) fn invalid(message: String) -> ProxyError {
        ProxyError {
            proxy: String::new(),
            failure: Failure::Invalid { message },
            source: None,
        }
    }

    /// A SOCKS proxy that did not open the connection; `source`: hyper-util's error, if
    /// the handshake ran.
    #[cfg(feature = "socks")]
    pub(super) fn socks(
        proxy: String,
        version: &'static str,
        target: String,
        why: String,
        source: Option<BoxError>,
    ) -> ProxyError {
        ProxyError {
            proxy,
            failure: Failure::Socks {
                version,
                target,
                why,
            },
            source,
        }
    }

    /// The kind and message of the `crate::Error` this becomes.
    pub(crate) fn classify(&self) -> (ErrorKind, String) {
        let proxy = &self.proxy;
        match &self.failure {
            Failure::Unreachable => {
                let source = self.source.as_deref();
                let causes = || source.into_iter().flat_map(|s| crate::error::chain(s));
                if let Some(dns) = causes().find_map(|c| c.downcast_ref::<DnsError>()) {
                    return (ErrorKind::Dns, format!("the proxy {proxy}: {dns}"));
                }
                let cause = source
                    .map(|s| crate::error::innermost(s))
                    .unwrap_or_default();
                (
                    ErrorKind::Connect,
                    format!("could not connect to the proxy {proxy}: {cause}"),
                )
            }
            Failure::Refused { status, .. } => (ErrorKind::ProxyTunnel(*status), self.to_string()),
            Failure::Invalid { message } => (ErrorKind::Builder, message.clone()),
            _ => (ErrorKind::Connect, self.to_string()),
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proxy = &self.proxy;
        match &self.failure {
            Failure::Unreachable => write!(f, "could not connect to the proxy {proxy}"),
            Failure::Refused {
                status,
                target,
                had_auth,
            } => {
                let code = status.as_u16();
                let reason = status.canonical_reason().unwrap_or("");
                write!(
                    f,
                    "the proxy {proxy} answered the CONNECT to {target} with {code} {reason}"
                )?;
                match (*status, had_auth) {
                    (StatusCode::PROXY_AUTHENTICATION_REQUIRED, false) => f.write_str(
                        ": it wants credentials and none were given (Proxy::basic_auth, or \
                         user:password@ in the proxy URL)",
                    ),
                    (StatusCode::PROXY_AUTHENTICATION_REQUIRED, true) => {
                        f.write_str(": it rejected the credentials given")
                    }
                    _ => Ok(()),
                }
            }
            Failure::Broken { target } => {
                write!(f, "the proxy {proxy} did not open the tunnel to {target}")?;
                if let Some(source) = &self.source {
                    write!(f, ": {source}")?;
                }
                Ok(())
            }
            Failure::Unsupported { scheme } => {
                write!(f, "the proxy {proxy} uses {scheme}://, which ")?;
                match scheme.as_str() {
                    "socks4" | "socks4a" | "socks5" | "socks5h" => f.write_str(
                        "needs wireline's `socks` Cargo feature: turn it on (features = \
                         [\"socks\"])",
                    ),
                    "https" => f.write_str(
                        "is not supported (TLS to the proxy): give its plain-HTTP address \
                         (http://)",
                    ),
                    _ => f.write_str(
                        "is not supported: http:// proxies are, and SOCKS ones with the \
                         `socks` feature",
                    ),
                }
            }
            Failure::Invalid { message } => f.write_str(message),
            #[cfg(feature = "socks")]
            Failure::Socks {
                version,
                target,
                why,
            } => write!(
                f,
                "the {version} proxy {proxy} did not open a connection to {target}: {why}"
            ),
        }
    }
}

impl StdError for ProxyError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_is_read_from_the_start_of_the_reply() {
        let cases: [(&[u8], Option<u16>); 5] = [
            (b"HTTP/1.1 403 Forbidden\r\n\r\n", Some(403)),
            (
                b"HTTP/1.0 407 Proxy Auth\r\nProxy-Authenticate: Basic\r\n",
                Some(407),
            ),
            (b"HTTP/1.1 502", Some(502)),
            (b"SSH-2.0-OpenSSH\r\n", None),
            (b"", None),
        ];
        for (reply, expected) in cases {
            assert_eq!(
                status_line(reply).map(|s| s.as_u16()),
                expected,
                "{reply:?}"
            );
        }
    }

    #[test]
    fn a_407_says_whether_credentials_were_sent() {
        let refused = |had_auth| ProxyError {
            proxy: "http://p:3128".into(),
            failure: Failure::Refused {
                status: StatusCode::PROXY_AUTHENTICATION_REQUIRED,
                target: "h:443".into(),
                had_auth,
            },
            source: None,
        };
        let (kind, message) = refused(false).classify();
        assert_eq!(
            kind,
            ErrorKind::ProxyTunnel(StatusCode::PROXY_AUTHENTICATION_REQUIRED)
        );
        assert!(message.contains("http://p:3128"), "{message}");
        assert!(message.contains("none were given"), "{message}");
        let (_, message) = refused(true).classify();
        assert!(message.contains("rejected the credentials"), "{message}");
    }
}
