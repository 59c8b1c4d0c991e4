//! Cookies: the [`CookieStore`] a client keeps them in, and [`Jar`], the store it uses
//! unless given another.
//!
//! A client keeps no cookies unless built with
//! [`cookie_store(true)`](crate::ClientBuilder::cookie_store) (a jar of its own) or
//! [`cookie_provider`](crate::ClientBuilder::cookie_provider) (a store you share). Then
//! every response's `Set-Cookie` headers are stored, redirect responses included, and each
//! request, each redirect hop included, carries the cookies the store has for that hop's
//! URL. The rules (RFC 6265's Domain, Path, Secure, HttpOnly, Max-Age and Expires) are
//! those of the [`cookie_store`] crate, with one more from RFC 6265bis, as browsers have
//! it: a plain `http://` response (other than from loopback) can't set a `Secure` cookie,
//! nor replace, delete or shadow one of the same name, domain and path. reqwest's jar
//! lacks this rule.
//!
//! Available with the `cookies` Cargo feature (off by default).

mod domain;
mod secure;
mod set_cookie;

use std::fmt;
use std::sync::{PoisonError, RwLock};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, COOKIE, SET_COOKIE};
use url::Url;

pub use set_cookie::Cookie;

/// Where a client keeps the cookies servers set, and finds the ones to send back.
///
/// [`Jar`] is the implementation wireline uses; implement this trait for another one
/// (a store persisted to disk, or one that logs). The signatures are reqwest's, so a store
/// written for reqwest ports by changing its imports.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use wireline::cookie::CookieStore;
/// use wireline::header::HeaderValue;
/// use wireline::Url;
///
/// /// Sends one fixed cookie everywhere and remembers nothing (a test double).
/// struct Fixed(HeaderValue);
///
/// impl CookieStore for Fixed {
///     fn set_cookies(&self, _headers: &mut dyn Iterator<Item = &HeaderValue>, _url: &Url) {}
///     fn cookies(&self, _url: &Url) -> Option<HeaderValue> {
///         Some(self.0.clone())
///     }
/// }
///
/// # fn run() -> wireline::Result<()> {
/// let store = Arc::new(Fixed(HeaderValue::from_static("session=test")));
/// let client = wireline::Client::builder().cookie_provider(store).build()?;
/// # Ok(()) }
/// ```
pub trait CookieStore: Send + Sync {
    /// Stores the cookies in these `Set-Cookie` header values, received in a response from
    /// `url`. Called once per response that has any, redirect responses included.
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url);

    /// The value of the `Cookie` header to send to `url` (`name=value` pairs joined by
    /// `"; "`), or `None` when no cookie applies. Called once per request and per redirect
    /// hop, with that hop's URL.
    fn cookies(&self, url: &Url) -> Option<HeaderValue>;
}

/// The cookie store a client uses with [`cookie_store(true)`](crate::ClientBuilder::cookie_store),
/// following RFC 6265 by way of the [`cookie_store`] crate.
///
/// Make one yourself to fill it before the first request, to share it between clients
/// with [`cookie_provider`](crate::ClientBuilder::cookie_provider), or to look into it
/// with [`CookieStore::cookies`].
///
/// What it enforces:
/// - **Domain**: a cookie without one goes back only to the host that set it; with one,
///   to that domain and its subdomains, and a server can only name its own domain or a
///   parent of it. IP addresses match only themselves.
/// - **Path**: a cookie goes only to its path and the paths below it (`/app` covers
///   `/app` and `/app/x`, not `/application`); without one, the directory of the URL that
///   set it.
/// - **Secure**: never sent over plain `http`, except to loopback hosts (`localhost`,
///   `127.0.0.1`, `::1`), which browsers and the cookie drafts treat as secure since
///   the traffic never leaves the machine.
/// - **Max-Age / Expires**: an expired cookie is no longer sent, and a server deletes a
///   cookie by sending it again already expired (`Max-Age=0`). Max-Age wins over
///   Expires. Cookies with neither live as long as the jar.
/// - **HttpOnly**: such cookies are sent with HTTP requests, which is all a client
///   makes; the flag only hides cookies from scripts.
///
/// It refuses a `Domain` of one label (`com`, `intranet`), as browsers do, unless it is the
/// very host that set it (then the cookie is for that host alone). It does not consult the
/// public suffix list, so a server can set a cookie for a longer registry domain it is
/// under (`Domain=co.uk` from `shop.co.uk`); reqwest's jar has the same limit. Cookies
/// the rules reject are ignored, as a browser ignores them, and logged with the reason at
/// `tracing`'s debug level.
///
/// ```
/// use std::sync::Arc;
/// use wireline::cookie::{CookieStore, Jar};
/// use wireline::Url;
///
/// # fn run() -> wireline::Result<()> {
/// let url: Url = "https://example.com/".parse().unwrap();
/// let jar = Arc::new(Jar::default());
/// jar.add_cookie_str("session=abc; Domain=example.com; Secure", &url);
///
/// // Two clients, one jar: what either receives, both send.
/// let client_a = wireline::Client::builder().cookie_provider(jar.clone()).build()?;
/// let client_b = wireline::Client::builder().cookie_provider(jar.clone()).build()?;
/// # drop((client_a, client_b));
///
/// let api: Url = "https://api.example.com/v1".parse().unwrap();
/// assert_eq!(jar.cookies(&api).unwrap(), "session=abc");
/// let insecure: Url = "http://api.example.com/v1".parse().unwrap();
/// assert!(jar.cookies(&insecure).is_none());
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct Jar(RwLock<cookie_store::CookieStore>);

impl Jar {
    /// Adds a cookie as if a response from `url` had set it with this `Set-Cookie`
    /// value, so the same rules apply: a `Domain` that `url` is not under, for instance,
    /// makes the jar ignore it. A string that is not a cookie is ignored too; both are
    /// logged at debug level.
    ///
    /// ```
    /// use wireline::cookie::{CookieStore, Jar};
    ///
    /// let url = "https://example.com/".parse().unwrap();
    /// let jar = Jar::default();
    /// jar.add_cookie_str("theme=dark; Path=/; Max-Age=3600", &url);
    /// assert_eq!(jar.cookies(&url).unwrap(), "theme=dark");
    /// ```
    pub fn add_cookie_str(&self, cookie: &str, url: &Url) {
        // A header value can't carry control characters; refuse them here so that
        // `cookies()` always builds a valid one.
        if cookie.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            let url = crate::redact::url(url);
            tracing::debug!("wireline: cookie for {url} ignored: it has control characters");
            return;
        }
        self.store(std::iter::once(cookie), url);
    }

    /// Parses and stores cookies received from `url`, under one write lock.
    fn store<'a>(&self, cookies: impl Iterator<Item = &'a str>, url: &Url) {
        let mut store = self.0.write().unwrap_or_else(PoisonError::into_inner);
        for text in cookies {
            let mut cookie = match cookie_store::RawCookie::parse(text) {
                Ok(cookie) => cookie,
                Err(e) => {
                    let url = crate::redact::url(url);
                    tracing::debug!("wireline: Set-Cookie from {url} ignored: {e}");
                    continue;
                }
            };
            let refused = match domain::top_level(&mut cookie, url)
                .or_else(|| secure::refusal(&store, &cookie, url))
            {
                Some(why) => Some(why.to_owned()),
                None => store.insert_raw(&cookie, url).err().map(|e| e.to_string()),
            };
            if let Some(why) = refused {
                // The name only: cookie values are credentials; and the URL the caller
                // gave (`add_cookie_str`) without its password.
                let (name, url) = (cookie.name(), crate::redact::url(url));
                tracing::debug!("wireline: cookie {name:?} from {url} ignored: {why}");
            }
        }
    }
}

impl CookieStore for Jar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        // UTF-8, not just ASCII: servers do send UTF-8 values, and browsers keep them.
        let texts = cookie_headers.filter_map(|v| std::str::from_utf8(v.as_bytes()).ok());
        self.store(texts, url);
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.0.read().unwrap_or_else(PoisonError::into_inner);
        let mut header = String::new();
        for (name, value) in store.get_request_values(url) {
            if !header.is_empty() {
                header.push_str("; ");
            }
            header.push_str(name);
            header.push('=');
            header.push_str(value);
        }
        if header.is_empty() {
            return None;
        }
        // Only set_cookies' header values and add_cookie_str's checked strings get in.
        let mut value = HeaderValue::from_maybe_shared(Bytes::from(header)).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for Jar {
    /// Shows how many cookies the jar holds, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.0.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Jar")
            .field("cookies", &store.iter_unexpired().count())
            .finish()
    }
}

/// Adds the store's cookies for `url` to a request's headers. A `Cookie` header the request
/// already has (set by hand, or a default header) is sent as it is instead, as in
/// reqwest; redirect.rs has already removed it if this hop crosses to another origin.
pub(crate) fn add_request_cookies(store: &dyn CookieStore, headers: &mut HeaderMap, url: &Url) {
    if headers.contains_key(COOKIE) {
        return;
    }
    if let Some(mut value) = store.cookies(url) {
        value.set_sensitive(true);
        headers.insert(COOKIE, value);
    }
}

/// Hands a response's `Set-Cookie` headers, if any, to the store.
pub(crate) fn store_response_cookies(store: &dyn CookieStore, headers: &HeaderMap, url: &Url) {
    let mut values = headers.get_all(SET_COOKIE).iter().peekable();
    if values.peek().is_some() {
        store.set_cookies(&mut values, url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn request_header_set_by_hand_wins_and_jar_fills_otherwise() {
        let jar = Jar::default();
        jar.add_cookie_str("a=1", &url("https://x.test/"));
        let mut headers = HeaderMap::new();
        add_request_cookies(&jar, &mut headers, &url("https://x.test/"));
        assert_eq!(headers[COOKIE], "a=1");
        assert!(headers[COOKIE].is_sensitive());
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("mine=2"));
        add_request_cookies(&jar, &mut headers, &url("https://x.test/"));
        assert_eq!(headers.get_all(COOKIE).iter().count(), 1);
        assert_eq!(headers[COOKIE], "mine=2");
    }

    #[test]
    fn several_set_cookie_headers_are_all_stored() {
        let jar = Jar::default();
        let mut response = HeaderMap::new();
        response.append(SET_COOKIE, HeaderValue::from_static("a=1"));
        response.append(SET_COOKIE, HeaderValue::from_static("b=2; Path=/"));
        response.append(SET_COOKIE, HeaderValue::from_static("not a cookie"));
        store_response_cookies(&jar, &response, &url("http://x.test/"));
        let sent = jar.cookies(&url("http://x.test/")).unwrap();
        let mut pairs: Vec<&str> = sent.to_str().unwrap().split("; ").collect();
        pairs.sort_unstable();
        assert_eq!(pairs, ["a=1", "b=2"]);
    }

    #[test]
    fn control_characters_are_refused() {
        let jar = Jar::default();
        jar.add_cookie_str("a=1\r\nInjected: yes", &url("https://x.test/"));
        jar.add_cookie_str("b=\x01", &url("https://x.test/"));
        assert!(jar.cookies(&url("https://x.test/")).is_none());
    }

    #[test]
    fn debug_shows_no_values() {
        let jar = Jar::default();
        jar.add_cookie_str("session=hunter2", &url("https://x.test/"));
        let shown = format!("{jar:?}");
        assert_eq!(shown, "Jar { cookies: 1 }");
    }
}
