//! "Leave Secure cookies alone" (RFC 6265bis §5.7): what a plain-http response may not do
//! to the jar. Without it, anyone on the path of one http:// request (a café's network)
//! could plant a cookie an https:// site then trusts, or delete or shadow its session
//! cookie; browsers refuse both, cookie_store leaves it to its caller.

use cookie_store::{Cookie, CookieDomain, CookieStore, RawCookie};
use url::{Host, Url};

/// Why `store` must ignore `raw`, received from `url`; `None` when it may be stored.
pub(super) fn refusal(store: &CookieStore, raw: &RawCookie<'_>, url: &Url) -> Option<&'static str> {
    if is_secure_origin(url) {
        return None;
    }
    if raw.secure() == Some(true) {
        return Some("only an https:// response may set a Secure cookie");
    }
    // As the store would file it: the Domain attribute or the host, the Path or the
    // default path. A cookie it can't file is refused by the store itself.
    let new = Cookie::try_from_raw_cookie(raw, url).ok()?;
    let new_domain = domain_of(&new.domain)?;
    let shadows_a_secure_one = store.iter_unexpired().any(|old| {
        old.secure() == Some(true)
            && old.name() == raw.name()
            && domain_of(&old.domain).is_some_and(|old_domain| {
                domain_matches(new_domain, old_domain) || domain_matches(old_domain, new_domain)
            })
            && path_matches(new.path.as_ref(), old.path.as_ref())
    });
    shadows_a_secure_one
        .then_some("a plain-http response may not replace, delete or shadow a Secure cookie")
}

/// Where Secure cookies may come from and go to: https, and loopback, which no one on the
/// network can intercept (cookie_store sends Secure cookies to http://localhost too).
fn is_secure_origin(url: &Url) -> bool {
    url.scheme() == "https"
        || match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

fn domain_of(domain: &CookieDomain) -> Option<&str> {
    match domain {
        CookieDomain::HostOnly(name) | CookieDomain::Suffix(name) => Some(name),
        CookieDomain::NotPresent | CookieDomain::Empty => None,
    }
}

/// RFC 6265 §5.1.3: `host` is `domain` or a name under it (IP addresses only match
/// themselves, and a name under one can't exist).
fn domain_matches(host: &str, domain: &str) -> bool {
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
            && host.parse::<std::net::IpAddr>().is_err())
}

/// RFC 6265 §5.1.4: `request_path` is `cookie_path` or a path below it.
fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    match request_path.strip_prefix(cookie_path) {
        Some(rest) => rest.is_empty() || cookie_path.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn store_with(set_cookie: &str, from: &str) -> CookieStore {
        let mut store = CookieStore::default();
        let raw = RawCookie::parse(set_cookie).unwrap();
        store.insert_raw(&raw, &url(from)).unwrap();
        store
    }

    fn refused(store: &CookieStore, set_cookie: &str, from: &str) -> bool {
        refusal(store, &RawCookie::parse(set_cookie).unwrap(), &url(from)).is_some()
    }

    #[test]
    fn plain_http_may_not_set_a_secure_cookie_but_https_and_loopback_may() {
        let empty = CookieStore::default();
        assert!(refused(&empty, "sid=1; Secure", "http://example.com/"));
        assert!(!refused(&empty, "sid=1; Secure", "https://example.com/"));
        for loopback in ["http://localhost/", "http://127.0.0.1/", "http://[::1]/"] {
            assert!(!refused(&empty, "sid=1; Secure", loopback), "{loopback}");
        }
        assert!(!refused(&empty, "sid=1", "http://example.com/"));
    }

    #[test]
    fn plain_http_may_not_touch_a_secure_cookie_of_the_same_name() {
        let store = store_with(
            "sid=s; Secure; Domain=example.com; Path=/",
            "https://www.example.com/",
        );
        // Replace it, delete it, or shadow it from a sub-domain or a sub-path.
        for (set_cookie, from) in [
            ("sid=x; Path=/", "http://www.example.com/"),
            ("sid=; Max-Age=0; Domain=example.com", "http://example.com/"),
            ("sid=x; Path=/app", "http://a.b.example.com/app/"),
            (
                "sid=x; Domain=example.com; Path=/",
                "http://www.example.com/",
            ),
        ] {
            assert!(
                refused(&store, set_cookie, from),
                "{set_cookie} from {from}"
            );
        }
        // Other names, other sites, and https are fine.
        assert!(!refused(&store, "theme=dark", "http://www.example.com/"));
        assert!(!refused(&store, "sid=x", "http://example.org/"));
        assert!(!refused(&store, "sid=x", "http://notexample.com/"));
        assert!(!refused(&store, "sid=x", "https://www.example.com/"));
    }

    #[test]
    fn a_cookie_for_a_path_outside_the_secure_ones_is_not_a_shadow() {
        let store = store_with("sid=s; Secure; Path=/admin", "https://example.com/admin/");
        assert!(refused(
            &store,
            "sid=x; Path=/admin/x",
            "http://example.com/"
        ));
        assert!(!refused(&store, "sid=x; Path=/", "http://example.com/"));
        assert!(!refused(
            &store,
            "sid=x; Path=/administrator",
            "http://example.com/"
        ));
    }

    #[test]
    fn matching_rules() {
        assert!(domain_matches("a.example.com", "example.com"));
        assert!(domain_matches("Example.COM", "example.com"));
        assert!(!domain_matches("notexample.com", "example.com"));
        assert!(!domain_matches("example.com", "a.example.com"));
        assert!(!domain_matches("1.2.3.4", "2.3.4"));
        assert!(path_matches("/a/b", "/a"));
        assert!(path_matches("/a/b", "/a/"));
        assert!(path_matches("/a", "/a"));
        assert!(!path_matches("/ab", "/a"));
        assert!(!path_matches("/", "/a"));
    }
}
