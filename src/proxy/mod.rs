//! Which proxy, if any, a destination goes through: the user's `Proxy` rules or the
//! environment's, matched by hyper-util's proxy matcher.
//!
//! # Pooling
//!
//! hyper-util keys pooled connections by the destination's scheme and authority only, so
//! a connection opened through a proxy and a direct one to the same origin would share a
//! key. They never meet: a client's rules are fixed by `build()` and depend on nothing but
//! the destination's scheme and host, so for one client each key has exactly one route
//! (direct, or through one proxy) and every connection under that key took it. Each
//! client, and each per-request TLS configuration (`crate::pool`), has a pool of its own,
//! so nothing crosses between clients either. Per-request proxies would break this and
//! would need pools of their own, as per-request TLS settings have.

use std::borrow::Cow;
use std::fmt;

use http::header::HeaderValue;
use http::Uri;
use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

use crate::error::{Error, Result};

mod env;

/// A proxy to send requests through, given to [`ClientBuilder::proxy`](crate::ClientBuilder::proxy).
///
/// `http://` destinations are sent to an HTTP proxy in absolute form
/// (`GET http://host/path`), with the proxy's credentials in a `Proxy-Authorization`
/// header. For `https://` destinations the proxy is asked for a tunnel
/// (`CONNECT host:443`), with the credentials on that request only, and TLS runs through
/// the tunnel to the server itself: the proxy sees the host name and port, never the
/// request, and the server is verified exactly as without a proxy.
///
/// Only `http://` proxies are supported (TLS to the proxy itself and SOCKS are not); a
/// URL without a scheme is taken as `http://`, and one without a port as port 80.
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// use wireline::{NoProxy, Proxy};
/// let client = wireline::Client::builder()
///     .proxy(
///         Proxy::all("http://proxy.corp.example:3128")?
///             .basic_auth("alice", "s3cret")
///             .no_proxy(NoProxy::from_string("localhost, .corp.example, 10.0.0.0/8")),
///     )
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Proxy {
    scope: Scope,
    /// The proxy's URL without credentials, as errors and `Debug` show it.
    url: Url,
    /// From `basic_auth`, or the URL's user and password.
    auth: Option<HeaderValue>,
    no_proxy: Option<NoProxy>,
}

/// Which destinations a [`Proxy`] is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Http,
    Https,
    All,
}

impl Proxy {
    /// A proxy for `http://` URLs only (the role of `HTTP_PROXY`). Fails with an
    /// [`is_builder`](Error::is_builder) error when `proxy_url` is not a URL, or not
    /// an `http://` one.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let proxy = wireline::Proxy::http("http://127.0.0.1:3128")?;
    /// let client = wireline::Client::builder().proxy(proxy).build()?;
    /// # Ok(()) }
    /// ```
    pub fn http<U: AsRef<str>>(proxy_url: U) -> Result<Proxy> {
        Proxy::new(Scope::Http, proxy_url.as_ref())
    }

    /// A proxy for `https://` URLs only (the role of `HTTPS_PROXY`), reached over plain
    /// HTTP and asked for a `CONNECT` tunnel.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let proxy = wireline::Proxy::https("http://user:pass@proxy.example:3128")?;
    /// let client = wireline::Client::builder().proxy(proxy).build()?;
    /// # Ok(()) }
    /// ```
    pub fn https<U: AsRef<str>>(proxy_url: U) -> Result<Proxy> {
        Proxy::new(Scope::Https, proxy_url.as_ref())
    }

    /// A proxy for every URL, `http://` and `https://` (the role of `ALL_PROXY`).
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .proxy(wireline::Proxy::all("proxy.example:8080")?) // http:// is implied
    ///     .build()?;
    /// # Ok(()) }
    ///
    /// // SOCKS and TLS to the proxy are not supported: the error says so.
    /// let err = wireline::Proxy::all("socks5://127.0.0.1:1080").unwrap_err();
    /// assert!(err.is_builder());
    /// ```
    pub fn all<U: AsRef<str>>(proxy_url: U) -> Result<Proxy> {
        Proxy::new(Scope::All, proxy_url.as_ref())
    }

    /// Credentials for the proxy, sent as `Proxy-Authorization: Basic …`: on each
    /// `http://` request sent through it, and on the `CONNECT` that opens a tunnel for an
    /// `https://` one (never inside the tunnel, so never to the server). They replace any
    /// user and password in the proxy's URL.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let proxy = wireline::Proxy::all("http://proxy.example:3128")?.basic_auth("alice", "s3cret");
    /// # Ok(()) }
    /// ```
    pub fn basic_auth(mut self, username: &str, password: &str) -> Proxy {
        self.auth = Some(crate::into_url::basic_auth_value(username, Some(password)));
        self
    }

    /// Destinations that don't go through this proxy (`None`: every destination in its
    /// scope does, the default). See [`NoProxy`] for the rules; [`NoProxy::from_env`]
    /// applies the environment's `NO_PROXY` to this proxy.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::{NoProxy, Proxy};
    /// let proxy = Proxy::all("http://proxy.example:3128")?.no_proxy(NoProxy::from_env());
    /// # Ok(()) }
    /// ```
    pub fn no_proxy(mut self, no_proxy: Option<NoProxy>) -> Proxy {
        self.no_proxy = no_proxy;
        self
    }

    fn new(scope: Scope, text: &str) -> Result<Proxy> {
        let (url, auth) = parse_proxy_url(text)?;
        Ok(Proxy {
            scope,
            url,
            auth,
            no_proxy: None,
        })
    }

    /// The rule this proxy becomes in a client; `None` when its `NoProxy` list has `*`,
    /// so that the rule would take nothing.
    fn rule(&self) -> Option<Rule> {
        if self.no_proxy.as_ref().is_some_and(NoProxy::is_wildcard) {
            return None;
        }
        let url = self.url.as_str();
        let builder = Matcher::builder();
        let builder = match self.scope {
            Scope::Http => builder.http(url),
            Scope::Https => builder.https(url),
            Scope::All => builder.all(url),
        };
        let builder = match &self.no_proxy {
            Some(no) => builder.no(no.list.as_str()),
            None => builder,
        };
        Some(Rule {
            matcher: builder.build(),
            auth: self.auth.clone(),
            skip_loopback: false,
            // An explicit proxy's credentials are all here (taken out of its URL).
            http_auth: self.auth.is_some() && self.scope != Scope::Https,
        })
    }
}

impl fmt::Debug for Proxy {
    /// The URL and scope; never the credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("scope", &self.scope)
            .field("url", &self.url.as_str())
            .field("basic_auth", &self.auth.is_some())
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// Destinations that bypass a proxy, in the `NO_PROXY` format curl reads: a
/// comma-separated list where each entry is
///
/// - a domain, which matches itself and every name under it (`example.com` and
///   `.example.com` both match `example.com` and `www.example.com`, not
///   `notexample.com`);
/// - an IP address (`192.168.1.1`, `::1`), or a network in CIDR form (`10.0.0.0/8`,
///   `fd00::/8`), matched against URLs that use an address, not against what a name
///   resolves to;
/// - `*`, which matches everything.
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// use wireline::{NoProxy, Proxy};
/// let no_proxy = NoProxy::from_string("internal.example, 10.0.0.0/8, [::1]");
/// let proxy = Proxy::all("http://proxy.example:3128")?.no_proxy(no_proxy);
/// assert!(NoProxy::from_string(" , ").is_none()); // nothing to bypass
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NoProxy {
    /// The list as given; hyper-util's matcher parses it.
    list: String,
}

impl NoProxy {
    /// The list in `NO_PROXY` (or `no_proxy`), or `None` when both are unset or empty.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// // An explicit proxy that honours NO_PROXY, as the environment's proxies do.
    /// let proxy = wireline::Proxy::all("http://proxy.example:3128")?
    ///     .no_proxy(wireline::NoProxy::from_env());
    /// # Ok(()) }
    /// ```
    pub fn from_env() -> Option<NoProxy> {
        let list = env::first_set(|name| std::env::var(name).ok(), &["NO_PROXY", "no_proxy"])?;
        NoProxy::from_string(&list)
    }

    /// The list in `list`, or `None` when it has no entry.
    ///
    /// ```
    /// let no_proxy = wireline::NoProxy::from_string("localhost, 127.0.0.0/8, .internal");
    /// assert!(no_proxy.is_some());
    /// ```
    pub fn from_string(list: &str) -> Option<NoProxy> {
        let cleaned: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        (!cleaned.is_empty()).then(|| NoProxy {
            list: cleaned.join(","),
        })
    }

    /// Whether the list has `*`. hyper-util's matcher applies `*` to host names only, not
    /// to IP addresses, where curl's matches every destination; we check it ourselves.
    fn is_wildcard(&self) -> bool {
        self.list.split(',').any(|entry| entry == "*")
    }
}

impl fmt::Debug for NoProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NoProxy").field(&self.list).finish()
    }
}

/// Parses a proxy URL: `http://` (implied when there is no scheme), a host, and any
/// credentials, which leave the URL for a `Proxy-Authorization` value.
fn parse_proxy_url(text: &str) -> Result<(Url, Option<HeaderValue>)> {
    let text = text.trim();
    let full: Cow<'_, str> = if text.contains("://") {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("http://{text}"))
    };
    // The text may hold a password: errors describe it without quoting it.
    let url = Url::parse(&full)
        .map_err(|e| Error::builder(format!("the proxy URL is not a valid URL: {e}")))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(Error::builder(
                "https:// proxies (TLS to the proxy) are not supported: give the proxy's \
                 plain-HTTP address (http://); https:// URLs still get TLS to the server \
                 through the proxy's tunnel",
            ))
        }
        other => {
            return Err(Error::builder(format!(
                "{other}:// proxies are not supported, only http:// ones"
            )))
        }
    }
    let (mut url, auth) = crate::into_url::check_url(url)?;
    url.set_path("");
    url.set_query(None);
    url.set_fragment(None);
    Ok((url, auth))
}

/// The proxy rules of a client, fixed when it is built: `None` in the client when there
/// are none, so requests without proxies pay nothing.
pub(crate) struct Proxies {
    /// Tried in order; the first that takes a destination wins.
    rules: Vec<Rule>,
    /// Some rule may send `http://` requests to a proxy with credentials: when none can,
    /// requests skip the per-request `Proxy-Authorization` lookup.
    http_auth: bool,
}

struct Rule {
    matcher: Matcher,
    /// Replaces the credentials of the proxy's URL (explicit proxies carry theirs here).
    auth: Option<HeaderValue>,
    /// Never for `localhost` or loopback addresses (the environment's proxies, as Go).
    skip_loopback: bool,
    /// It may give credentials for an `http://` destination (then sent per request, as
    /// such requests go to the proxy in absolute form, not through a tunnel).
    http_auth: bool,
}

/// Where a destination's connection goes instead of to the destination itself.
#[derive(Clone)]
pub(crate) struct Route {
    /// `http://host:port/` of the proxy, without credentials.
    pub(crate) proxy: Uri,
    pub(crate) auth: Option<HeaderValue>,
}

impl Route {
    /// The proxy as messages name it: `http://host:port`.
    pub(crate) fn shown(&self) -> String {
        let scheme = self.proxy.scheme_str().unwrap_or("http");
        match self.proxy.authority() {
            Some(authority) => format!("{scheme}://{authority}"),
            None => self.proxy.to_string(),
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

    fn of(rules: Vec<Rule>) -> Proxies {
        let http_auth = rules.iter().any(|rule| rule.http_auth);
        Proxies { rules, http_auth }
    }

    /// The proxy for `dst`, or `None` to connect directly.
    pub(crate) fn route(&self, dst: &Uri) -> Option<Route> {
        self.rules.iter().find_map(|rule| {
            if rule.skip_loopback && env::is_loopback(dst.host()?) {
                return None;
            }
            let intercept = rule.matcher.intercept(dst)?;
            Some(Route {
                proxy: intercept.uri().clone(),
                auth: rule
                    .auth
                    .clone()
                    .or_else(|| intercept.basic_auth().cloned()),
            })
        })
    }

    /// The `Proxy-Authorization` value for an `http://` request sent to a proxy in
    /// absolute form; `None` when it goes direct, through a tunnel, or without credentials.
    pub(crate) fn forward_auth(&self, dst: &Uri) -> Option<HeaderValue> {
        if !self.http_auth || dst.scheme() != Some(&http::uri::Scheme::HTTP) {
            return None;
        }
        self.route(dst)?.auth
    }
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.rules.iter().map(|rule| &rule.matcher))
            .finish()
    }
}

/// Where `url` goes in tests: the proxy's `host:port`, or "direct".
#[cfg(test)]
fn routed(proxies: &Proxies, url: &str) -> String {
    match proxies.route(&url.parse().unwrap()) {
        Some(route) => route.proxy.authority().unwrap().to_string(),
        None => "direct".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let auth = from_url.forward_auth(&"http://a.test/".parse().unwrap());
        // base64("al@ice:p:ss")
        assert_eq!(auth.unwrap(), "Basic YWxAaWNlOnA6c3M=");
        assert!(auth_is_sensitive(&from_url));
        // Through a tunnel the credentials go on the CONNECT, not on the request.
        assert!(from_url
            .forward_auth(&"https://a.test/".parse().unwrap())
            .is_none());
        let replaced = Proxy::all("http://old:old@p:1")
            .unwrap()
            .basic_auth("new", "pw");
        let replaced = Proxies::new(&[replaced], false).unwrap();
        let route = replaced.route(&"https://a.test/".parse().unwrap()).unwrap();
        assert_eq!(route.auth.unwrap(), "Basic bmV3OnB3");
        assert_eq!(route.proxy.to_string(), "http://p:1/");
        assert_eq!(route_shown(&replaced), "http://p:1");
    }

    fn auth_is_sensitive(proxies: &Proxies) -> bool {
        let route = proxies.route(&"http://a.test/".parse().unwrap()).unwrap();
        route.auth.unwrap().is_sensitive()
    }

    fn route_shown(proxies: &Proxies) -> String {
        proxies
            .route(&"http://a.test/".parse().unwrap())
            .unwrap()
            .shown()
    }

    #[test]
    fn proxy_urls() {
        let (url, auth) = parse_proxy_url("127.0.0.1:3128").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:3128/");
        assert!(auth.is_none());
        let (url, auth) = parse_proxy_url(" http://u:p@[::1]:8080/ignored?q ").unwrap();
        assert_eq!(url.as_str(), "http://[::1]:8080/");
        assert!(auth.is_some());
        for bad in [
            "https://p:443",
            "socks5h://p:1080",
            "http://",
            "http://a b/",
        ] {
            let err = parse_proxy_url(bad).unwrap_err();
            assert!(err.is_builder(), "{bad}: {err}");
        }
        let err = parse_proxy_url("http://u:hunter2@[bad").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
