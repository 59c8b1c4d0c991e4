//! Which proxy, if any, a destination goes through: the user's `Proxy` rules or the
//! environment's, matched by hyper-util's proxy matcher (the built rules are in
//! `rules.rs`, proxy URLs in `proxy_url.rs`).
//!
//! # Pooling
//!
//! hyper-util keys pooled connections by the destination's scheme and authority only, so
//! a connection opened through a proxy and a direct one to the same origin would share a
//! key. They never meet: a client's rules are fixed by `build()` and depend on nothing but
//! the destination's scheme and host, so for one client each key has exactly one route
//! (direct, or through one proxy) and every connection under that key took it. A
//! `Proxy::custom` function is asked about that same key (`scheme://host:port/`), and its
//! docs ask it to answer the same each time. Each
//! client, and each per-request TLS configuration (`crate::pool`), has a pool of its own,
//! so nothing crosses between clients either. Per-request proxies would break this and
//! would need pools of their own, as per-request TLS settings have.

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue};
use url::Url;

use crate::error::Result;

mod env;
mod proxy_url;
mod rules;

pub use self::proxy_url::IntoProxy;
pub(crate) use self::proxy_url::Login;
use self::proxy_url::{proxy_url, ProxyUrl};
#[cfg(test)]
use self::rules::routed;
#[cfg(feature = "socks")]
pub(crate) use self::rules::SocksVersion;
pub(crate) use self::rules::{Protocol, Proxies, Route};

/// A proxy to send requests through, given to [`ClientBuilder::proxy`](crate::ClientBuilder::proxy).
///
/// `http://` destinations are sent to an HTTP proxy in absolute form
/// (`GET http://host/path`), with the proxy's credentials in a `Proxy-Authorization`
/// header. For `https://` destinations the proxy is asked for a tunnel
/// (`CONNECT host:443`), with the credentials on that request only, and TLS runs through
/// the tunnel to the server itself: the proxy sees the host name and port, never the
/// request, and the server is verified exactly as without a proxy.
///
/// With the `socks` Cargo feature, a proxy may be a SOCKS one: `socks5h://` (the proxy
/// resolves the destination's name), `socks5://` (the client resolves it, with its own
/// resolver, and sends the address), `socks4a://` and `socks4://` (the same for SOCKS4,
/// which carries IPv4 addresses and no password). Every destination, `http://` or
/// `https://`, goes through the SOCKS connection as it would go to the server directly,
/// TLS included. A SOCKS proxy's port is 1080 unless given; SOCKS5 takes the user and
/// password of its URL or of [`basic_auth`](Proxy::basic_auth).
///
/// TLS to the proxy itself (`https://` proxies) is not supported; a URL without a scheme
/// is taken as `http://`, and one without a port as port 80.
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
    intercept: Intercept,
    /// From `basic_auth`: replaces the user and password of the proxy's URL.
    login: Option<Login>,
    /// From `custom_http_auth`: the `Proxy-Authorization` value for an HTTP proxy, in place
    /// of one made from the user and password.
    http_auth: Option<HeaderValue>,
    /// From `headers`: sent to an HTTP proxy.
    headers: Option<HeaderMap>,
    no_proxy: Option<NoProxy>,
}

/// Which destinations a [`Proxy`] takes, and where they go.
#[derive(Clone)]
enum Intercept {
    Http(ProxyUrl),
    Https(ProxyUrl),
    All(ProxyUrl),
    /// `Proxy::custom`: the function decides, per destination.
    Custom(Custom),
}

/// The function of `Proxy::custom`, its answer parsed: `None` for no proxy, the reason
/// when it gave a URL that can't be a proxy's.
type Custom = Arc<dyn Fn(&Url) -> Option<std::result::Result<ProxyUrl, String>> + Send + Sync>;

impl Proxy {
    /// A proxy for `http://` URLs only (the role of `HTTP_PROXY`). Fails with an
    /// [`is_builder`](crate::Error::is_builder) error when `proxy_scheme` is not a URL, or
    /// not one of a proxy wireline can use (see [`Proxy`]).
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let proxy = wireline::Proxy::http("http://127.0.0.1:3128")?;
    /// let client = wireline::Client::builder().proxy(proxy).build()?;
    /// # Ok(()) }
    /// ```
    pub fn http<U: IntoProxy>(proxy_scheme: U) -> Result<Proxy> {
        Ok(Proxy::new(Intercept::Http(proxy_url(proxy_scheme)?)))
    }

    /// A proxy for `https://` URLs only (the role of `HTTPS_PROXY`): an HTTP proxy is
    /// asked for a `CONNECT` tunnel.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let proxy = wireline::Proxy::https("http://user:pass@proxy.example:3128")?;
    /// let client = wireline::Client::builder().proxy(proxy).build()?;
    /// # Ok(()) }
    /// ```
    pub fn https<U: IntoProxy>(proxy_scheme: U) -> Result<Proxy> {
        Ok(Proxy::new(Intercept::Https(proxy_url(proxy_scheme)?)))
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
    /// // TLS to the proxy is not supported: the error says so.
    /// let err = wireline::Proxy::all("https://proxy.example:3128").unwrap_err();
    /// assert!(err.is_builder());
    /// ```
    pub fn all<U: IntoProxy>(proxy_scheme: U) -> Result<Proxy> {
        Ok(Proxy::new(Intercept::All(proxy_url(proxy_scheme)?)))
    }

    /// A proxy chosen by `fun` for each destination: it gets the destination as
    /// `scheme://host:port/` and returns the proxy's URL (a `&str`, `String` or [`Url`]),
    /// or `None` to leave the destination to the next proxy given, or to go direct.
    ///
    /// `fun` is called for each new connection and, for `http://` URLs, each request (to
    /// know the proxy's credentials and headers); connections are pooled by destination,
    /// so it should answer the same for the same destination. A URL that can't be a
    /// proxy's fails the request with an [`is_builder`](crate::Error::is_builder) error
    /// saying why. [`no_proxy`](Proxy::no_proxy) applies before `fun` is asked.
    ///
    /// ```
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// use wireline::{Proxy, Url};
    /// let proxy = Url::parse("http://proxy.example:3128")?;
    /// let client = wireline::Client::builder()
    ///     .proxy(Proxy::custom(move |url| {
    ///         // Only the partner's hosts go through the proxy.
    ///         url.host_str()?.ends_with(".partner.example").then(|| proxy.clone())
    ///     }))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn custom<F, U: IntoProxy>(fun: F) -> Proxy
    where
        F: Fn(&Url) -> Option<U> + Send + Sync + 'static,
    {
        let custom: Custom = Arc::new(move |url| fun(url).map(ProxyUrl::given));
        Proxy::new(Intercept::Custom(custom))
    }

    fn new(intercept: Intercept) -> Proxy {
        Proxy {
            intercept,
            login: None,
            http_auth: None,
            headers: None,
            no_proxy: None,
        }
    }

    /// The proxy's user and password: sent as `Proxy-Authorization: Basic …` to an HTTP
    /// proxy (on each `http://` request sent through it, and on the `CONNECT` that opens a
    /// tunnel for an `https://` one: never inside the tunnel, so never to the server), and
    /// as SOCKS5's username and password. They replace any in the proxy's URL. A SOCKS4
    /// proxy takes none: a request through one with credentials fails, saying so.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let proxy = wireline::Proxy::all("http://proxy.example:3128")?.basic_auth("alice", "s3cret");
    /// # Ok(()) }
    /// ```
    pub fn basic_auth(mut self, username: &str, password: &str) -> Proxy {
        self.login = Some(Login {
            user: username.to_owned(),
            password: password.to_owned(),
        });
        self
    }

    /// The whole `Proxy-Authorization` value for an HTTP proxy (a `Bearer` token, or
    /// another scheme), sent where [`basic_auth`](Proxy::basic_auth)'s would be and in its
    /// place; SOCKS proxies don't use it. Marked sensitive: never printed, never indexed
    /// by HPACK.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::header::HeaderValue;
    /// let proxy = wireline::Proxy::https("http://proxy.example:3128")?
    ///     .custom_http_auth(HeaderValue::from_static("Bearer 0a1b2c"));
    /// # Ok(()) }
    /// ```
    pub fn custom_http_auth(mut self, header_value: HeaderValue) -> Proxy {
        let mut value = header_value;
        value.set_sensitive(true);
        self.http_auth = Some(value);
        self
    }

    /// Headers for an HTTP proxy: sent on the `CONNECT` that opens a tunnel for an
    /// `https://` URL (never inside it, so never to the server), and with each `http://`
    /// request sent to the proxy, replacing the request's own values of the same names.
    /// A `User-Agent` here replaces the client's on the `CONNECT`. SOCKS proxies don't use
    /// them. Credential headers among them are marked sensitive.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::header::{HeaderMap, HeaderValue};
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-proxy-team", HeaderValue::from_static("payments"));
    /// let proxy = wireline::Proxy::all("http://proxy.example:3128")?.headers(headers);
    /// # Ok(()) }
    /// ```
    pub fn headers(mut self, headers: HeaderMap) -> Proxy {
        let mut headers = headers;
        crate::redact::mark_credentials(&mut headers);
        self.headers = Some(headers);
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
}

impl fmt::Debug for Proxy {
    /// The URL and scope, and whether there are credentials and headers; never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scope, url) = match &self.intercept {
            Intercept::Http(p) => ("Http", Some(p)),
            Intercept::Https(p) => ("Https", Some(p)),
            Intercept::All(p) => ("All", Some(p)),
            Intercept::Custom(_) => ("Custom", None),
        };
        let url_login = url.is_some_and(|p| p.login.is_some());
        let headers: Option<Vec<&str>> = self
            .headers
            .as_ref()
            .map(|h| h.keys().map(|name| name.as_str()).collect());
        f.debug_struct("Proxy")
            .field("scope", &scope)
            .field("url", &url.map(|p| p.url.as_str()))
            .field("basic_auth", &(self.login.is_some() || url_login))
            .field("custom_http_auth", &self.http_auth.is_some())
            .field("headers", &headers)
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

    /// The list in `list`, or `None` when it has no entry. An IPv4 network written with a
    /// leading zero in an octet (`010.0.0.0/8`) is ignored, with a warning: tools disagree
    /// on whether it is octal.
    ///
    /// ```
    /// let no_proxy = wireline::NoProxy::from_string("localhost, 127.0.0.0/8, .internal");
    /// assert!(no_proxy.is_some());
    /// ```
    pub fn from_string(list: &str) -> Option<NoProxy> {
        let cleaned: Vec<std::borrow::Cow<'_, str>> = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty() && !ambiguous_ipv4_network(entry))
            .map(unbracketed)
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

/// An IPv4 network whose address has an octet with a leading zero (`1.0.00.0/8`,
/// `010.0.0.0/8`): hyper-util's matcher (ipnet) reads it as decimal, where `inet_aton`
/// reads `010` as octal and Rust, Python and glibc's `inet_pton` refuse it, so it is
/// dropped with a warning rather than guessed at (the `proxy_rules` fuzz target found it;
/// an address alone, `1.0.00.0`, is a name that matches no IP destination).
fn ambiguous_ipv4_network(entry: &str) -> bool {
    let Some((addr, _)) = entry.split_once('/') else {
        return false;
    };
    let dotted_digits = addr.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let ambiguous = dotted_digits && addr.parse::<std::net::Ipv4Addr>().is_err();
    if ambiguous {
        tracing::warn!(
            "NO_PROXY entry {entry:?} ignored: an IPv4 address with a leading zero is read \
             as octal by some tools and as decimal by others; write it without leading zeros"
        );
    }
    ambiguous
}

/// An IPv6 entry without its brackets (`[::1]` as `::1`, `[fd00::]/8` as `fd00::/8`):
/// hyper-util's matcher reads a bracketed one as a host name, which no IP destination
/// matches (the `proxy_rules` fuzz target found it; URLs write IPv6 hosts that way).
fn unbracketed(entry: &str) -> std::borrow::Cow<'_, str> {
    let inside = entry
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'));
    match inside {
        Some((addr, prefix))
            if addr.parse::<std::net::Ipv6Addr>().is_ok()
                && (prefix.is_empty() || prefix.starts_with('/')) =>
        {
            format!("{addr}{prefix}").into()
        }
        _ => entry.into(),
    }
}

impl fmt::Debug for NoProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NoProxy").field(&self.list).finish()
    }
}

/// Fuzzing only (`fuzz/`'s `proxy_rules` target): the proxy, as `scheme://host:port`,
/// that a client would send `dst` through, with the `explicit` proxies if any, else the
/// environment's variables as `var` gives them (`build()` reads the process's own).
#[cfg(feature = "fuzzing")]
pub fn fuzzing_route(
    explicit: &[Proxy],
    var: impl Fn(&str) -> Option<String>,
    dst: &http::Uri,
) -> std::result::Result<Option<String>, String> {
    let rules: Vec<rules::Rule> = if explicit.is_empty() {
        env::EnvProxies::from_vars(var).rule().into_iter().collect()
    } else {
        explicit.iter().filter_map(Proxy::rule).collect()
    };
    if rules.is_empty() {
        return Ok(None);
    }
    Ok(Proxies::of(rules).route(dst)?.map(|route| route.shown()))
}
