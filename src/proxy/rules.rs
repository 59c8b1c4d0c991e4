//! A client's proxy rules, fixed by `build()`: for each destination, the route its
//! connection takes (direct, or the proxy with what it is sent), and the headers an
//! `http://` request forwarded to an HTTP proxy carries for it.

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue, PROXY_AUTHORIZATION};
use http::Uri;
use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

use super::proxy_url::{ProxyUrl, SOCKS_PORT};
use super::{env, Custom, Intercept, Login, NoProxy, Proxy};

/// The proxy rules of a client, fixed when it is built: `None` in the client when there
/// are none, so requests without proxies pay nothing.
pub(crate) struct Proxies {
    /// Tried in order; the first that takes a destination wins.
    rules: Vec<Rule>,
    /// Some rule may add credentials or headers to an `http://` request forwarded to an
    /// HTTP proxy: when none can, requests skip the per-request lookup.
    forwards_extras: bool,
}

pub(super) struct Rule {
    pub(super) target: Target,
    /// For a SOCKS proxy, replaces the user and password of its URL (`basic_auth`; an
    /// explicit proxy's own URL's are here too, taken out of it).
    #[cfg(feature = "socks")]
    pub(super) login: Option<Login>,
    /// The `Proxy-Authorization` for an HTTP proxy: `custom_http_auth`, else `login`'s.
    pub(super) http_auth: Option<HeaderValue>,
    /// `Proxy::headers`, for an HTTP proxy.
    pub(super) headers: Option<Arc<HeaderMap>>,
    /// Never for `localhost` or loopback addresses (the environment's proxies, as Go).
    pub(super) skip_loopback: bool,
    /// It may give credentials or headers to an `http://` destination (then sent per
    /// request, as such requests go to the proxy in absolute form, not through a tunnel).
    pub(super) forwards_extras: bool,
}

/// What decides whether a rule takes a destination, and which proxy it goes to.
pub(super) enum Target {
    /// hyper-util's matcher: an explicit proxy's scope and `NoProxy` list, or the
    /// environment's variables.
    Matcher(Matcher),
    /// `Proxy::custom`'s function, after the `NoProxy` list (`bypass`) let it ask.
    Custom {
        custom: Custom,
        bypass: Option<Matcher>,
    },
}

/// Where a destination's connection goes instead of to the destination itself.
#[derive(Clone)]
pub(crate) struct Route {
    /// `scheme://host:port/` of the proxy, without credentials.
    pub(crate) proxy: Uri,
    pub(crate) protocol: Protocol,
    /// `Proxy-Authorization` for an HTTP proxy.
    pub(crate) auth: Option<HeaderValue>,
    /// The user and password for a SOCKS proxy.
    #[cfg(feature = "socks")]
    pub(crate) login: Option<Login>,
    /// `Proxy::headers`, for an HTTP proxy.
    pub(crate) headers: Option<Arc<HeaderMap>>,
}

/// How a proxy is spoken to, by the scheme of its URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `http://`: `http://` requests in absolute form, a `CONNECT` tunnel for `https://`.
    Http,
    /// `socks4://`, `socks4a://`, `socks5://`, `socks5h://` (`socks` feature).
    #[cfg(feature = "socks")]
    Socks {
        version: SocksVersion,
        /// The proxy resolves the destination's name (`socks4a`, `socks5h`); else the
        /// client does and sends the address.
        remote_dns: bool,
    },
    /// Any other scheme (from the environment, or a SOCKS one without the `socks`
    /// feature): a request through it fails, saying why.
    Unsupported,
}

#[cfg(feature = "socks")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SocksVersion {
    V4,
    V5,
}

impl Protocol {
    fn of(proxy: &Uri) -> Protocol {
        match proxy.scheme_str() {
            Some("http") => Protocol::Http,
            #[cfg(feature = "socks")]
            Some(scheme @ ("socks4" | "socks4a" | "socks5" | "socks5h")) => Protocol::Socks {
                version: match scheme.starts_with("socks4") {
                    true => SocksVersion::V4,
                    false => SocksVersion::V5,
                },
                remote_dns: scheme.ends_with(['a', 'h']),
            },
            _ => Protocol::Unsupported,
        }
    }
}

impl Route {
    /// Whether the proxy is a SOCKS one (never without the `socks` feature).
    pub(crate) fn is_socks(&self) -> bool {
        #[cfg(feature = "socks")]
        if let Protocol::Socks { .. } = self.protocol {
            return true;
        }
        false
    }

    /// The proxy as messages name it: `scheme://host:port`.
    pub(crate) fn shown(&self) -> String {
        let scheme = self.proxy.scheme_str().unwrap_or("http");
        match self.proxy.authority() {
            Some(authority) => format!("{scheme}://{authority}"),
            None => self.proxy.to_string(),
        }
    }

    /// The route to `proxy`, which the matcher or the function found with these
    /// credentials in its URL; the rule's own replace them.
    fn new(
        rule: &Rule,
        proxy: Uri,
        url_auth: Option<HeaderValue>,
        url_login: Option<Login>,
    ) -> Route {
        #[cfg(not(feature = "socks"))]
        let _ = url_login; // Only SOCKS proxies take it as such.
        let protocol = Protocol::of(&proxy);
        let proxy = with_socks_port(proxy);
        let http = protocol == Protocol::Http;
        Route {
            proxy,
            protocol,
            auth: match http {
                true => rule.http_auth.clone().or(url_auth),
                false => None,
            },
            #[cfg(feature = "socks")]
            login: match http {
                true => None,
                false => rule.login.clone().or(url_login),
            },
            headers: rule.headers.clone().filter(|_| http),
        }
    }
}

/// A SOCKS proxy's URI with port 1080 when it has none (the environment's may not).
fn with_socks_port(proxy: Uri) -> Uri {
    let needs_port = proxy.port().is_none()
        && proxy
            .scheme_str()
            .is_some_and(|s| super::proxy_url::SOCKS_SCHEMES.contains(&s));
    match (needs_port, proxy.scheme_str(), proxy.host()) {
        (true, Some(scheme), Some(host)) => format!("{scheme}://{host}:{SOCKS_PORT}/")
            .parse()
            .unwrap_or(proxy),
        _ => proxy,
    }
}

impl Proxy {
    /// The rule this proxy becomes in a client; `None` when its `NoProxy` list has `*`,
    /// so that the rule would take nothing.
    pub(super) fn rule(&self) -> Option<Rule> {
        if self.no_proxy.as_ref().is_some_and(NoProxy::is_wildcard) {
            return None;
        }
        let no = self.no_proxy.as_ref().map_or("", |no| no.list.as_str());
        let (matcher, url) = match &self.intercept {
            Intercept::Http(url) => (Matcher::builder().http(url.url.as_str()), url),
            Intercept::Https(url) => (Matcher::builder().https(url.url.as_str()), url),
            Intercept::All(url) => (Matcher::builder().all(url.url.as_str()), url),
            Intercept::Custom(custom) => {
                // hyper-util's `NoProxy` is private: a matcher with a stand-in proxy says
                // whether the list lets a destination through.
                let bypass = self.no_proxy.as_ref().map(|_| {
                    Matcher::builder()
                        .all("http://bypass.invalid")
                        .no(no)
                        .build()
                });
                let custom = custom.clone();
                return Some(self.rule_for(Target::Custom { custom, bypass }, None));
            }
        };
        Some(self.rule_for(Target::Matcher(matcher.no(no).build()), Some(url)))
    }

    /// The rule for `target`; `url`: an explicit proxy's, whose credentials it keeps
    /// unless `basic_auth` replaced them.
    fn rule_for(&self, target: Target, url: Option<&ProxyUrl>) -> Rule {
        let login = self
            .login
            .clone()
            .or_else(|| url.and_then(|url| url.login.clone()));
        let http_auth = self
            .http_auth
            .clone()
            .or_else(|| login.as_ref().map(Login::basic));
        let forwards_extras = match (&self.intercept, url) {
            (Intercept::Custom(_), _) => true,
            (Intercept::Https(_), _) | (_, None) => false,
            (_, Some(url)) => {
                url.url.scheme() == "http" && (http_auth.is_some() || self.headers.is_some())
            }
        };
        Rule {
            target,
            #[cfg(feature = "socks")]
            login,
            http_auth,
            headers: self.headers.clone().map(Arc::new),
            skip_loopback: false,
            forwards_extras,
        }
    }
}

impl Proxies {
    /// The rules for a client: its own proxies if it has any, else the environment's
    /// unless `use_env` is false. `None` when that leaves no rule.
    pub(crate) fn new(explicit: &[Proxy], use_env: bool) -> Option<Proxies> {
        let rules: Vec<Rule> = if !explicit.is_empty() {
            explicit.iter().filter_map(Proxy::rule).collect()
        } else if use_env {
            env::EnvProxies::read().rule().into_iter().collect()
        } else {
            Vec::new()
        };
        (!rules.is_empty()).then(|| Proxies::of(rules))
    }

    pub(super) fn of(rules: Vec<Rule>) -> Proxies {
        let forwards_extras = rules.iter().any(|rule| rule.forwards_extras);
        Proxies {
            rules,
            forwards_extras,
        }
    }

    /// The proxy for `dst`, or `None` to connect directly; the error says why the proxy
    /// a `Proxy::custom` function gave can't be used.
    pub(crate) fn route(&self, dst: &Uri) -> Result<Option<Route>, String> {
        for rule in &self.rules {
            if rule.skip_loopback && dst.host().is_none_or(env::is_loopback) {
                continue;
            }
            match &rule.target {
                Target::Matcher(matcher) => {
                    if let Some(intercept) = matcher.intercept(dst) {
                        let login = intercept.raw_auth().map(|(user, password)| Login {
                            user: user.to_owned(),
                            password: password.to_owned(),
                        });
                        let proxy = intercept.uri().clone();
                        let auth = intercept.basic_auth().cloned();
                        return Ok(Some(Route::new(rule, proxy, auth, login)));
                    }
                }
                Target::Custom { custom, bypass } => {
                    if bypass.as_ref().is_some_and(|b| b.intercept(dst).is_none()) {
                        continue;
                    }
                    let Some(asked) = destination_url(dst) else {
                        continue;
                    };
                    match custom(&asked) {
                        None => continue,
                        Some(Err(why)) => {
                            return Err(format!(
                                "the proxy Proxy::custom gave for {asked} can't be used: {why}"
                            ))
                        }
                        Some(Ok(proxy)) => {
                            let uri = proxy.url.as_str().parse().map_err(|e| {
                                format!("the proxy Proxy::custom gave for {asked}: {e}")
                            })?;
                            let auth = proxy.login.as_ref().map(Login::basic);
                            return Ok(Some(Route::new(rule, uri, auth, proxy.login)));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// Adds to an `http://` request sent to an HTTP proxy in absolute form what it carries
    /// for the proxy: the proxy's credentials, unless the request has its own
    /// `Proxy-Authorization`, and `Proxy::headers`, replacing the request's values of those
    /// names. Nothing when it goes direct, through a tunnel, or through SOCKS.
    pub(crate) fn add_forward_headers<B>(&self, request: &mut http::Request<B>) {
        let dst = request.uri();
        if !self.forwards_extras || dst.scheme() != Some(&http::uri::Scheme::HTTP) {
            return;
        }
        let Ok(Some(route)) = self.route(dst) else {
            return;
        };
        let headers = request.headers_mut();
        if route.protocol != Protocol::Http {
            return;
        }
        if let Some(auth) = route.auth {
            headers
                .entry(PROXY_AUTHORIZATION)
                .or_insert(auth)
                .set_sensitive(true);
        }
        if let Some(extra) = route.headers {
            crate::redact::replace_headers(headers, HeaderMap::clone(&extra));
        }
    }
}

/// What `Proxy::custom`'s function is asked about: `scheme://host[:port]/`, the key of the
/// destination's pooled connections.
fn destination_url(dst: &Uri) -> Option<Url> {
    let scheme = dst.scheme_str()?;
    let host = dst.host()?;
    let url = match dst.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}/"),
        None => format!("{scheme}://{host}/"),
    };
    Url::parse(&url).ok()
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.rules.iter().map(|rule| match &rule.target {
                Target::Matcher(matcher) => matcher as &dyn fmt::Debug,
                Target::Custom { .. } => &"Proxy::custom" as &dyn fmt::Debug,
            }))
            .finish()
    }
}

/// Where `url` goes in tests: the proxy's `host:port`, or "direct".
#[cfg(test)]
pub(super) fn routed(proxies: &Proxies, url: &str) -> String {
    match proxies.route(&url.parse().unwrap()).unwrap() {
        Some(route) => route.proxy.authority().unwrap().to_string(),
        None => "direct".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route_of(proxies: &Proxies, url: &str) -> Route {
        proxies.route(&url.parse().unwrap()).unwrap().unwrap()
    }

    /// What `add_forward_headers` adds to a request for `url` with no headers.
    fn forwarded(proxies: &Proxies, url: &str) -> HeaderMap {
        let mut request = http::Request::get(url).body(()).unwrap();
        proxies.add_forward_headers(&mut request);
        request.into_parts().0.headers
    }

    #[test]
    fn explicit_proxies_replace_the_environment_and_keep_their_order() {
        assert!(Proxies::new(&[], false).is_none());
        let proxies = Proxies::new(
            &[
                Proxy::https("http://tunnel:1").unwrap(),
                Proxy::all("http://any:2")
                    .unwrap()
                    .no_proxy(NoProxy::from_string("skip.test")),
            ],
            true,
        )
        .unwrap();
        assert_eq!(routed(&proxies, "https://a.test/"), "tunnel:1");
        assert_eq!(routed(&proxies, "http://a.test/"), "any:2");
        assert_eq!(routed(&proxies, "http://skip.test/"), "direct");
        assert_eq!(routed(&proxies, "https://skip.test/"), "tunnel:1");
    }

    #[test]
    fn credentials_come_from_the_url_or_basic_auth_and_only_for_plain_http() {
        let from_url =
            Proxies::new(&[Proxy::all("http://al%40ice:p%3Ass@p:1").unwrap()], false).unwrap();
        let auth = forwarded(&from_url, "http://a.test/");
        // base64("al@ice:p:ss")
        assert_eq!(auth[PROXY_AUTHORIZATION], "Basic YWxAaWNlOnA6c3M=");
        assert!(auth[PROXY_AUTHORIZATION].is_sensitive());
        // Through a tunnel the credentials go on the CONNECT, not on the request.
        assert!(forwarded(&from_url, "https://a.test/").is_empty());
        assert!(route_of(&from_url, "https://a.test/").auth.is_some());
        let replaced = Proxy::all("http://old:old@p:1")
            .unwrap()
            .basic_auth("new", "pw");
        let replaced = Proxies::new(&[replaced], false).unwrap();
        let route = route_of(&replaced, "https://a.test/");
        assert_eq!(route.auth.as_ref().unwrap(), "Basic bmV3OnB3");
        assert_eq!(route.proxy.to_string(), "http://p:1/");
        assert_eq!(route.shown(), "http://p:1");
        // A request's own Proxy-Authorization is kept.
        let mut own = http::Request::get("http://a.test/")
            .header(PROXY_AUTHORIZATION, "Bearer mine")
            .body(())
            .unwrap();
        replaced.add_forward_headers(&mut own);
        assert_eq!(own.headers()[PROXY_AUTHORIZATION], "Bearer mine");
    }

    #[test]
    fn custom_http_auth_and_headers_go_to_http_proxies_only() {
        let mut extra = HeaderMap::new();
        extra.insert("x-team", HeaderValue::from_static("payments"));
        extra.insert(PROXY_AUTHORIZATION, HeaderValue::from_static("Token t"));
        let with = |proxy: Proxy| Proxies::new(&[proxy.headers(extra.clone())], false).unwrap();
        let token = HeaderValue::from_static("Bearer b");
        let http = with(
            Proxy::all("http://u:p@p:1")
                .unwrap()
                .custom_http_auth(token.clone()),
        );
        let route = route_of(&http, "https://a.test/");
        assert_eq!(route.auth.as_ref().unwrap(), "Bearer b");
        assert!(route.auth.unwrap().is_sensitive());
        let headers = forwarded(&http, "http://a.test/");
        assert_eq!(headers["x-team"], "payments");
        // Proxy::headers win over the credentials, as in reqwest.
        assert_eq!(headers[PROXY_AUTHORIZATION], "Token t");
        assert!(headers[PROXY_AUTHORIZATION].is_sensitive());
        // An https-only proxy never sees http:// requests: nothing to add per request.
        let https_only = with(Proxy::https("http://p:1").unwrap().custom_http_auth(token));
        assert!(!https_only.forwards_extras);
        assert!(forwarded(&https_only, "http://a.test/").is_empty());
    }

    #[test]
    fn custom_asks_its_function_per_destination_after_no_proxy() {
        let proxy = Proxy::custom(|url: &Url| match url.host_str() {
            Some("a.test") => Some(format!("http://p{}:1", url.port_or_known_default()?)),
            Some("bad.test") => Some("ftp://p:1".to_owned()),
            _ => None,
        })
        .no_proxy(NoProxy::from_string("skip.a.test"))
        .basic_auth("u", "pw");
        let proxies = Proxies::new(&[proxy, Proxy::http("http://next:2").unwrap()], false).unwrap();
        assert_eq!(routed(&proxies, "https://a.test/"), "p443:1");
        assert_eq!(routed(&proxies, "http://a.test:8080/"), "p8080:1");
        assert_eq!(routed(&proxies, "https://b.test/"), "direct");
        // `None` leaves the destination to the next proxy.
        assert_eq!(routed(&proxies, "http://b.test/"), "next:2");
        assert_eq!(routed(&proxies, "https://skip.a.test/"), "direct");
        assert_eq!(
            forwarded(&proxies, "http://a.test/")[PROXY_AUTHORIZATION],
            "Basic dTpwdw=="
        );
        // Without basic_auth, the credentials of the URL it gives.
        let from_url = Proxy::custom(|_| Some("http://al%40ice:pw@p:1"));
        let from_url = Proxies::new(&[from_url], false).unwrap();
        assert_eq!(
            forwarded(&from_url, "http://a.test/")[PROXY_AUTHORIZATION],
            "Basic YWxAaWNlOnB3"
        );
        let err = proxies
            .route(&"https://bad.test/".parse().unwrap())
            .err()
            .unwrap();
        assert!(
            err.contains("https://bad.test/") && err.contains("ftp://"),
            "{err}"
        );
    }

    #[test]
    #[cfg(feature = "socks")]
    fn socks_routes_carry_the_login_and_no_http_extras() {
        let socks = Proxy::all("socks5h://u:pw@s")
            .unwrap()
            .custom_http_auth(HeaderValue::from_static("Bearer b"))
            .headers(HeaderMap::new());
        let proxies = Proxies::new(&[socks], false).unwrap();
        assert!(!proxies.forwards_extras);
        let route = route_of(&proxies, "http://a.test/");
        assert_eq!(route.shown(), "socks5h://s:1080");
        assert_eq!(
            route.protocol,
            Protocol::Socks {
                version: SocksVersion::V5,
                remote_dns: true
            }
        );
        let login = route.login.unwrap();
        assert_eq!((login.user.as_str(), login.password.as_str()), ("u", "pw"));
        assert!(route.auth.is_none() && route.headers.is_none());
        let replaced = Proxy::all("socks5://u:pw@s").unwrap().basic_auth("v", "x");
        let proxies = Proxies::new(&[replaced], false).unwrap();
        let route = route_of(&proxies, "https://a.test/");
        assert_eq!(route.login.unwrap().user, "v");
        assert_eq!(
            route.protocol,
            Protocol::Socks {
                version: SocksVersion::V5,
                remote_dns: false
            }
        );
    }
}
