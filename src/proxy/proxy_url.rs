//! Proxy URLs: what [`IntoProxy`] accepts, the schemes a proxy may have, and the user and
//! password taken out of the URL.

use std::borrow::Cow;
use std::fmt;

use url::Url;

use crate::error::{Error, Result};
use crate::into_url::IntoUrl;

/// `proxy` parsed and checked; a builder error says what is wrong without quoting it.
pub(super) fn proxy_url(proxy: impl IntoProxy) -> Result<ProxyUrl> {
    ProxyUrl::given(proxy).map_err(Error::builder)
}

/// A proxy's URL, as [`Proxy::http`](super::Proxy::http), [`https`](super::Proxy::https),
/// [`all`](super::Proxy::all) and the function of [`custom`](super::Proxy::custom) take
/// it: a `&str`, `String`, `&String`, [`Url`] or `&Url`. As in reqwest, every [`IntoUrl`]
/// is one, so code generic over `U: IntoUrl` can pass `U` on; and like `IntoUrl` the
/// trait is sealed.
///
/// A URL without a scheme is taken as `http://`. The schemes are `http://`, and with the
/// `socks` Cargo feature `socks4://`, `socks4a://`, `socks5://` and `socks5h://` (port
/// 1080 unless given); see [`Proxy`](super::Proxy).
pub trait IntoProxy: IntoUrl {}

impl<T: IntoUrl> IntoProxy for T {}

/// A proxy URL checked: a scheme wireline can use (or one it names in an error at
/// connect time, for the environment's), a host, and its credentials taken out.
#[derive(Clone)]
pub(super) struct ProxyUrl {
    /// `scheme://host:port/`, without credentials, path or query.
    pub(super) url: Url,
    pub(super) login: Option<Login>,
}

/// A user and password for a proxy: `Proxy-Authorization: Basic` for an HTTP proxy, the
/// username/password method of SOCKS5. Never shown.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Login {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Login(***)")
    }
}

impl Login {
    /// `Basic base64(user:password)`, marked sensitive.
    pub(super) fn basic(&self) -> http::HeaderValue {
        crate::into_url::basic_auth_value(&self.user, Some(&self.password))
    }
}

/// The schemes of SOCKS proxies, whether or not the `socks` feature is on.
pub(crate) const SOCKS_SCHEMES: [&str; 4] = ["socks4", "socks4a", "socks5", "socks5h"];

/// The port of a SOCKS proxy whose URL has none (curl's and reqwest's).
pub(crate) const SOCKS_PORT: u16 = 1080;

/// `text` as a URL, `http://` added when it has no scheme. The text may hold a password:
/// errors describe it without quoting it.
fn parse_text(text: &str) -> std::result::Result<Url, String> {
    let text = text.trim();
    let full: Cow<'_, str> = if text.contains("://") {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("http://{text}"))
    };
    Url::parse(&full).map_err(|e| format!("the proxy URL is not a valid URL: {e}"))
}

impl ProxyUrl {
    /// `proxy` parsed and checked; the error says what is wrong, never quoting it.
    pub(super) fn given(proxy: impl IntoProxy) -> std::result::Result<ProxyUrl, String> {
        ProxyUrl::parse(proxy.given())
    }

    /// Parses and checks `text`; the error says what is wrong, never quoting the text.
    pub(super) fn parse(text: &str) -> std::result::Result<ProxyUrl, String> {
        ProxyUrl::check(parse_text(text)?)
    }

    /// Checks a parsed proxy URL (see [`ProxyUrl`]).
    fn check(mut url: Url) -> std::result::Result<ProxyUrl, String> {
        let socks = SOCKS_SCHEMES.contains(&url.scheme());
        match url.scheme() {
            "http" => {}
            _ if socks && cfg!(feature = "socks") => {}
            scheme if socks => {
                return Err(format!(
                    "{scheme}:// proxies need wireline's `socks` Cargo feature: turn it on \
                     (features = [\"socks\"])"
                ))
            }
            "https" => {
                return Err(
                    "https:// proxies (TLS to the proxy) are not supported: give the \
                     proxy's plain-HTTP address (http://); https:// URLs still get TLS to the \
                     server through the proxy's tunnel"
                        .to_owned(),
                )
            }
            other => {
                return Err(format!(
                    "{other}:// proxies are not supported: http:// ones are, and with the \
                     `socks` feature socks4://, socks4a://, socks5:// and socks5h:// ones"
                ))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the proxy URL has no host".to_owned());
        }
        let login = (!url.username().is_empty() || url.password().is_some()).then(|| Login {
            user: percent_decode(url.username()),
            password: url.password().map(percent_decode).unwrap_or_default(),
        });
        if login.is_some() && url.scheme().starts_with("socks4") {
            return Err(format!(
                "{}:// proxies take no password: use socks5:// (or socks5h://) for a proxy \
                 that needs credentials",
                url.scheme()
            ));
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_path("");
        url.set_query(None);
        url.set_fragment(None);
        if socks && url.port().is_none() {
            let _ = url.set_port(Some(SOCKS_PORT));
        }
        Ok(ProxyUrl { url, login })
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, Option<Login>) {
        let proxy = ProxyUrl::parse(text).unwrap();
        (proxy.url.to_string(), proxy.login)
    }

    #[test]
    fn proxy_urls() {
        assert_eq!(
            parsed("127.0.0.1:3128"),
            ("http://127.0.0.1:3128/".into(), None)
        );
        let (url, login) = parsed(" http://u:p@[::1]:8080/ignored?q ");
        assert_eq!(url, "http://[::1]:8080/");
        assert_eq!(
            login,
            Some(Login {
                user: "u".into(),
                password: "p".into()
            })
        );
        // A user without a password, percent-decoded.
        let (_, login) = parsed("http://al%40ice@p:1");
        assert_eq!(login.unwrap().basic(), "Basic YWxAaWNlOg==");
        for bad in ["https://p:443", "ftp://p:21", "http://", "http://a b/"] {
            assert!(ProxyUrl::parse(bad).is_err(), "{bad}");
        }
        let err = ProxyUrl::parse("http://u:hunter2@[bad").err().unwrap();
        assert!(!err.contains("hunter2"), "{err}");
        // Through IntoProxy: every IntoUrl type, the error a builder error.
        let url = Url::parse("http://p:2").unwrap();
        assert_eq!(proxy_url(&url).unwrap().url, url);
        assert_eq!(proxy_url(url).unwrap().url.as_str(), "http://p:2/");
        let text = String::from("p:3");
        assert_eq!(proxy_url(&text).unwrap().url.as_str(), "http://p:3/");
        assert!(proxy_url(String::from("http://["))
            .err()
            .unwrap()
            .is_builder());
    }

    /// reqwest's `_implied_bounds`: code generic over `IntoUrl` can make a proxy of it.
    #[test]
    fn any_into_url_is_a_proxy_url() {
        fn all<U: IntoUrl>(url: U) -> Result<super::super::Proxy> {
            super::super::Proxy::all(url)
        }
        assert!(all("http://p:1").is_ok());
        assert!(all(Url::parse("ftp://p:1").unwrap())
            .unwrap_err()
            .is_builder());
    }

    #[test]
    #[cfg(feature = "socks")]
    fn socks_urls_default_to_port_1080_and_keep_the_user_for_socks5() {
        assert_eq!(parsed("socks5h://p").0, "socks5h://p:1080");
        assert_eq!(parsed("socks4a://p:9050").0, "socks4a://p:9050");
        let (url, login) = parsed("socks5://u%3A1:p%40ss@p");
        assert_eq!(url, "socks5://p:1080");
        let login = login.unwrap();
        assert_eq!(
            (login.user.as_str(), login.password.as_str()),
            ("u:1", "p@ss")
        );
        let err = ProxyUrl::parse("socks4://u:pw@p").err().unwrap();
        assert!(err.contains("socks5://"), "{err}");
    }

    #[test]
    #[cfg(not(feature = "socks"))]
    fn socks_urls_name_the_feature_they_need() {
        for scheme in SOCKS_SCHEMES {
            let err = ProxyUrl::parse(&format!("{scheme}://u:hunter2@p:1080"))
                .err()
                .unwrap();
            assert!(err.contains("`socks` Cargo feature"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
