//! Connections through a proxy: TCP to it for `http://` destinations, a CONNECT tunnel
//! (hyper-util's `Tunnel`) for `https://` ones, and errors that name the proxy.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use http::{StatusCode, Uri};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tower_service::Service;

use crate::connect::dns::{DnsError, Resolver};
use crate::error::{BoxError, ErrorKind};
use crate::proxy::Route;

/// A TCP connection, to the proxy or through its tunnel.
pub(crate) type Tcp = TokioIo<TcpStream>;

type Opening = Pin<Box<dyn Future<Output = Result<Tcp, BoxError>> + Send>>;

/// How much of the proxy's answer to a CONNECT is kept: its status line.
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
/// with the proxy's credentials. What comes back carries bytes to and from `dst` itself,
/// ready for the TLS handshake with it.
pub(crate) fn tunnel(http: &HttpConnector<Resolver>, route: Route, dst: &Uri) -> Opening {
    if let Err(unsupported) = check_scheme(&route) {
        return Box::pin(async move { Err(unsupported.into()) });
    }
    let proxy = route.shown();
    let reply = Arc::new(Mutex::new(Vec::new()));
    let to_proxy = ToProxy {
        http: http.clone(),
        proxy: proxy.clone(),
        reply: reply.clone(),
    };
    let had_auth = route.auth.is_some();
    let mut tunnel = Tunnel::new(route.proxy, to_proxy);
    if let Some(auth) = route.auth {
        tunnel = tunnel.with_auth(auth);
    }
    let target = format!(
        "{}:{}",
        dst.host().unwrap_or(""),
        dst.port_u16().unwrap_or(443)
    );
    let opening = tunnel.call(dst.clone());
    Box::pin(async move {
        match opening.await {
            Ok(io) => Ok(TokioIo::new(io.into_inner().tcp)),
            Err(e) => {
                let e: BoxError = Box::new(e);
                if crate::error::chain(&*e).any(|c| c.is::<ProxyError>()) {
                    // The proxy couldn't be reached: that error already says so.
                    return Err(e);
                }
                let status = status_line(&reply.lock().unwrap_or_else(|p| p.into_inner()));
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

fn check_scheme(route: &Route) -> Result<(), ProxyError> {
    match route.proxy.scheme_str() {
        Some("http") => Ok(()),
        other => Err(ProxyError {
            proxy: route.shown(),
            failure: Failure::Unsupported {
                scheme: other.unwrap_or("").to_owned(),
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
    reply: Arc<Mutex<Vec<u8>>>,
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
            Ok(TokioIo::new(Observed {
                tcp: tcp.into_inner(),
                reply,
            }))
        })
    }
}

/// A TCP stream that copies the first bytes it reads into `reply`. Used only until the
/// tunnel is open; the connection then continues as the bare stream.
struct Observed {
    tcp: TcpStream,
    reply: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Observed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.tcp).poll_read(cx, buf))?;
        let read = &buf.filled()[before..];
        let mut reply = this.reply.lock().unwrap_or_else(|p| p.into_inner());
        let room = REPLY_KEPT.saturating_sub(reply.len());
        reply.extend_from_slice(&read[..read.len().min(room)]);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Observed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
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
}

impl ProxyError {
    fn unreachable(proxy: String, source: impl Into<BoxError>) -> ProxyError {
        ProxyError {
            proxy,
            failure: Failure::Unreachable,
            source: Some(source.into()),
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
            Failure::Broken { .. } | Failure::Unsupported { .. } => {
                (ErrorKind::Connect, self.to_string())
            }
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
            Failure::Unsupported { scheme } => write!(
                f,
                "the proxy {proxy} uses {scheme}://, which is not supported (only http:// proxies)"
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
