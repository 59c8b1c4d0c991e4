//! Connections through a SOCKS proxy (`socks` feature): hyper-util's SOCKS4a and SOCKS5
//! handshakes, to the destination's name (`socks4a://`, `socks5h://`) or to the address
//! the client's own resolver found for it (`socks4://`, `socks5://`), with the proxy's
//! refusals read back in words.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use http::Uri;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::proxy::{SocksV4, SocksV5};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tower_service::Service;

use super::tunnel::{Heard, Observed, Opening, ProxyError};
use super::Handoff;
use crate::connect::dns::Resolver;
use crate::error::BoxError;
use crate::proxy::{Route, SocksVersion};

/// Opens a connection to `dst` through the SOCKS proxy of `route` (`version`; the proxy
/// resolves names when `remote_dns`): TCP to the proxy, the handshake, and what comes back
/// carries bytes to and from `dst` itself (TLS, for an `https://` URL, runs on it as on a
/// direct connection).
pub(crate) fn connect(
    http: &HttpConnector<Resolver>,
    resolver: &Resolver,
    (version, remote_dns): (SocksVersion, bool),
    route: Route,
    dst: &Uri,
) -> Opening {
    let mut http = http.clone();
    let resolver = resolver.clone();
    let dst = dst.clone();
    Box::pin(async move {
        let proxy = route.shown();
        let named = version.named();
        let fail = |target: String, why: String| -> BoxError {
            ProxyError::socks(proxy.clone(), named, target, why, None).into()
        };
        let host = dst.host().unwrap_or("").trim_matches(['[', ']']);
        let default_port = match dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            true => 443,
            false => 80,
        };
        let asked = Asked {
            host,
            port: dst.port_u16(),
            default_port,
        };
        match (&route.login, version) {
            (Some(_), SocksVersion::V4) => {
                let why = "SOCKS4 takes no password (Proxy::basic_auth, or user:password@ in \
                           the proxy URL): use socks5:// or socks5h:// for a proxy that needs \
                           one";
                return Err(fail(asked.shown(), why.to_owned()));
            }
            (Some(login), _) if login.user.len() > 255 || login.password.len() > 255 => {
                let why = "SOCKS5 carries a user name and a password of at most 255 bytes each";
                return Err(fail(asked.shown(), why.to_owned()));
            }
            _ => {}
        }
        // What the proxy is asked for: the name, or the address found here.
        let target = match host.parse::<IpAddr>() {
            Ok(ip) => SocketAddr::new(ip, asked.port()).to_string(),
            Err(_) if remote_dns => asked.shown(),
            Err(_) => {
                let addr = asked.resolve(resolver, version).await?;
                let Some(addr) = addr else {
                    let why = format!(
                        "{host} has no IPv4 address, and SOCKS4 carries only those: use \
                         socks4a:// or socks5h:// (the proxy resolves the name) or socks5://"
                    );
                    return Err(fail(asked.shown(), why));
                };
                addr.to_string()
            }
        };
        if version == SocksVersion::V4 && target.starts_with('[') {
            let why = "SOCKS4 carries only IPv4 addresses: use socks5:// or socks5h://";
            return Err(fail(target, why.to_owned()));
        }
        let target_uri: Uri = format!("http://{target}/")
            .parse()
            .map_err(|e| fail(target.clone(), format!("not a valid destination: {e}")))?;
        let tcp = http
            .call(route.proxy.clone())
            .await
            .map_err(|e| ProxyError::unreachable(proxy.clone(), e))?;
        let heard = Arc::new(Mutex::new(Heard::default()));
        let observed = Handoff(Some(TokioIo::new(Observed::new(
            tcp.into_inner(),
            heard.clone(),
        ))));
        let handshake = match version {
            SocksVersion::V4 => SocksV4::new(route.proxy.clone(), observed)
                .call(target_uri)
                .await
                .map_err(BoxError::from),
            SocksVersion::V5 => {
                let mut socks = SocksV5::new(route.proxy.clone(), observed);
                if let Some(login) = &route.login {
                    socks = socks.with_auth(login.user.clone(), login.password.clone());
                }
                socks.call(target_uri).await.map_err(BoxError::from)
            }
        };
        match handshake {
            Ok(io) => Ok(TokioIo::new(io.into_inner().into_tcp())),
            Err(e) => {
                let heard = heard.lock().unwrap_or_else(|p| p.into_inner());
                let sent_name = target.parse::<SocketAddr>().is_err();
                let why = match version {
                    SocksVersion::V4 => socks4_refusal(&heard, sent_name),
                    SocksVersion::V5 => socks5_refusal(&heard, route.login.is_some()),
                };
                let why = why.unwrap_or_else(|| e.to_string());
                Err(ProxyError::socks(proxy, named, target, why, Some(e)).into())
            }
        }
    })
}

impl SocksVersion {
    fn named(self) -> &'static str {
        match self {
            SocksVersion::V4 => "SOCKS4",
            SocksVersion::V5 => "SOCKS5",
        }
    }
}

/// The destination as the URL gives it.
struct Asked<'a> {
    host: &'a str,
    port: Option<u16>,
    default_port: u16,
}

impl Asked<'_> {
    fn port(&self) -> u16 {
        self.port.unwrap_or(self.default_port)
    }

    /// `host:port`, IPv6 in brackets.
    fn shown(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port()),
            false => format!("{}:{}", self.host, self.port()),
        }
    }

    /// The address the client's resolver finds for the host (its overrides first, as for
    /// any connection): the first one, or the first IPv4 one for SOCKS4 (`None` when there
    /// is none). The port follows the connector's rule: the URL's, else the address's own
    /// unless it is 0, else the scheme's.
    async fn resolve(
        &self,
        mut resolver: Resolver,
        version: SocksVersion,
    ) -> Result<Option<SocketAddr>, BoxError> {
        let name: Name = self.host.parse()?;
        let mut addrs = resolver.call(name).await?;
        let found = match version {
            SocksVersion::V4 => addrs.find(SocketAddr::is_ipv4),
            SocksVersion::V5 => addrs.next(),
        };
        Ok(found.map(|mut addr| {
            let port = match (self.port, addr.port()) {
                (Some(port), _) => port,
                (None, 0) => self.default_port,
                (None, own) => own,
            };
            addr.set_port(port);
            addr
        }))
    }
}

/// What a SOCKS5 proxy's replies say went wrong, read from the bytes it sent: the
/// negotiation (`05 method`), the username/password answer (`01 status`, when one was
/// sent) and the reply to the CONNECT (`05 code …`). `None` when they show no refusal.
fn socks5_refusal(heard: &Heard, offered_login: bool) -> Option<String> {
    let bytes = &heard.bytes;
    let step = |at: usize, what: &str| -> Option<String> {
        (bytes.len() < at).then(|| format!("it {}", ended(heard, what)))
    };
    if let Some(why) = step(1, "did not answer the greeting") {
        return Some(why);
    }
    if bytes.starts_with(b"HTTP/") {
        return Some(IN_HTTP.to_owned());
    }
    if bytes[0] != 5 {
        return Some(format!(
            "it did not answer as a SOCKS5 proxy (its first byte is {:#04x})",
            bytes[0]
        ));
    }
    if let Some(why) = step(2, "did not answer the greeting whole") {
        return Some(why);
    }
    match (bytes[1], offered_login) {
        (0xff, false) => {
            return Some(
                "it requires authentication: give it a user and password (socks5://user:\
                 password@host, or Proxy::basic_auth)"
                    .to_owned(),
            )
        }
        (0xff, true) => {
            return Some(
                "it accepts no authentication method offered (username and password)".to_owned(),
            )
        }
        (0x00, false) | (0x02, true) => {}
        (method, _) => {
            return Some(format!(
                "it chose authentication method {method:#04x}, which was not offered"
            ))
        }
    }
    let mut at = 2;
    if offered_login {
        if let Some(why) = step(4, "did not answer the username and password") {
            return Some(why);
        }
        if bytes[3] != 0 {
            return Some(format!(
                "it rejected the username and password (status {}): check them",
                bytes[3]
            ));
        }
        at = 4;
    }
    if let Some(why) = step(at + 2, "did not answer the request to connect") {
        return Some(why);
    }
    match bytes[at + 1] {
        0 => None,
        code => Some(format!("it answered {code}, {}", socks5_reply(code))),
    }
}

/// RFC 1928's words for a SOCKS5 reply code, with what they mean here.
fn socks5_reply(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by its rules",
        3 => "network unreachable (from the proxy)",
        4 => "host unreachable (from the proxy)",
        5 => "connection refused (by the destination, as the proxy saw it)",
        6 => "TTL expired",
        7 => "command not supported (it does not do CONNECT)",
        8 => "address type not supported (socks5:// sends an address, socks5h:// a name)",
        _ => "a code RFC 1928 does not assign",
    }
}

/// What a SOCKS4 proxy's reply (`00 code port address`) says went wrong; `sent_name`: it
/// was asked for a host name (SOCKS4a).
fn socks4_refusal(heard: &Heard, sent_name: bool) -> Option<String> {
    let bytes = &heard.bytes;
    if bytes.len() < 2 {
        return Some(format!("it {}", ended(heard, "did not answer the request")));
    }
    if bytes.starts_with(b"HTTP/") {
        return Some(IN_HTTP.to_owned());
    }
    if bytes[0] != 0 {
        return Some(format!(
            "it did not answer as a SOCKS4 proxy (its first byte is {:#04x})",
            bytes[0]
        ));
    }
    let why = match bytes[1] {
        90 => return None,
        91 if sent_name => {
            "request rejected or failed (a proxy without SOCKS4a rejects host names: \
             socks4:// sends an address instead)"
        }
        91 => "request rejected or failed",
        92 => "request rejected: it could not reach the identd service on the client",
        93 => "request rejected: the identd service reported another user",
        _ => "a code SOCKS4 does not assign",
    };
    Some(format!("it answered {}, {why}", bytes[1]))
}

/// What an HTTP proxy given as a SOCKS one gets for an answer.
const IN_HTTP: &str = "it answered in HTTP: it is an HTTP proxy, so give it as http://";

/// How the exchange ended before `what` was whole: the I/O error, or the proxy closing.
fn ended(heard: &Heard, what: &str) -> String {
    match &heard.failure {
        Some(err) => format!("{what}: the connection failed ({err})"),
        None => format!("{what}: it closed the connection"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(bytes: &[u8]) -> Heard {
        Heard {
            bytes: bytes.to_vec(),
            failure: None,
        }
    }

    #[test]
    fn socks5_replies_are_read_step_by_step() {
        let cases: [(&[u8], bool, Option<&str>); 10] = [
            (b"", false, Some("did not answer the greeting: it closed")),
            (b"HTTP/1.1 400 Bad Request\r\n", false, Some("HTTP proxy")),
            (&[4, 0], false, Some("first byte is 0x04")),
            (&[5, 0xff], false, Some("requires authentication")),
            (&[5, 0xff], true, Some("accepts no authentication method")),
            (
                &[5, 2, 1, 1],
                true,
                Some("rejected the username and password (status 1)"),
            ),
            (
                &[5, 2, 1, 0],
                true,
                Some("did not answer the request to connect"),
            ),
            (
                &[5, 0, 5, 4, 0, 1],
                false,
                Some("answered 4, host unreachable"),
            ),
            (
                &[5, 2, 1, 0, 5, 2, 0, 1],
                true,
                Some("answered 2, connection not allowed"),
            ),
            (&[5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0, 80], false, None),
        ];
        for (bytes, login, expected) in cases {
            let why = socks5_refusal(&heard(bytes), login);
            match expected {
                Some(part) => assert!(
                    why.as_deref().is_some_and(|w| w.contains(part)),
                    "{bytes:?}: {why:?}"
                ),
                None => assert_eq!(why, None, "{bytes:?}"),
            }
        }
        let reset = Heard {
            bytes: vec![5],
            failure: Some(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "reset",
            )),
        };
        let why = socks5_refusal(&reset, false).unwrap();
        assert!(why.contains("the connection failed (reset)"), "{why}");
    }

    #[test]
    fn socks4_replies_name_their_code() {
        assert_eq!(
            socks4_refusal(&heard(&[0, 90, 0, 80, 1, 2, 3, 4]), true),
            None
        );
        let rejected = heard(&[0, 91, 0, 0, 0, 0, 0, 0]);
        let why = socks4_refusal(&rejected, true).unwrap();
        assert!(why.contains("answered 91, request rejected"), "{why}");
        assert!(why.contains("without SOCKS4a"), "{why}");
        let why = socks4_refusal(&rejected, false).unwrap();
        assert_eq!(why, "it answered 91, request rejected or failed");
        let why = socks4_refusal(&heard(&[5, 0]), false).unwrap();
        assert!(why.contains("not answer as a SOCKS4 proxy"), "{why}");
        let why = socks4_refusal(&heard(b""), false).unwrap();
        assert!(why.contains("closed the connection"), "{why}");
    }
}
