//! The cookie jar: `Set-Cookie` values received from a handful of related origins (a
//! site and its subdomains, two sites under `co.uk` and under `github.io`, a top-level
//! domain, an intranet name, loopback), then every origin asked what it gets back. Never
//! a panic, and every cookie the jar sends keeps the rules:
//!
//! - Secure: a `Secure` cookie was set by, and is sent to, only https or loopback;
//! - Domain: the request's host is under the cookie's domain, which the host that set it
//!   is under too; without a `Domain`, only the very host that set it gets it;
//! - public suffixes: a `Domain` of one label (`com`, `intranet`) reaches no host but the
//!   one that set it. Multi-label suffixes (`co.uk`, `github.io`) are not checked: the
//!   jar has no public suffix list (see `Jar`'s docs), as reqwest's has none.
//!
//! Input: fields, one per `Set-Cookie`: a byte choosing the scheme (bit 0) and path
//! (bits 1-2), a byte choosing the host, then the header value.

use http::HeaderValue;
use url::Url;
use wireline::cookie::{CookieStore, Jar};

use super::fields;

const HOSTS: [&str; 16] = [
    "example.com",
    "a.example.com",
    "b.a.example.com",
    "example.org",
    "com",
    "co.uk",
    "shop.co.uk",
    "other.co.uk",
    "github.io",
    "x.github.io",
    "y.github.io",
    "intranet",
    "a.intranet",
    "localhost",
    "127.0.0.1",
    "10.0.0.1",
];
const PATHS: [&str; 4] = ["/", "/app", "/app/x", "/application"];

/// One `Set-Cookie` the jar was given, and from where.
struct Set<'a> {
    from: Url,
    cookie: cookie::Cookie<'a>,
}

/// The property, for one input.
pub fn check(data: &[u8]) {
    let jar = Jar::default();
    let mut sets = Vec::new();
    for field in fields(data) {
        let [how, host, value @ ..] = field else {
            continue;
        };
        let from = url(*how, *host);
        let Ok(header) = HeaderValue::from_bytes(value) else {
            continue;
        };
        jar.set_cookies(&mut std::iter::once(&header), &from);
        if let Ok(text) = std::str::from_utf8(value) {
            if let Ok(cookie) = cookie::Cookie::parse(text) {
                sets.push(Set { from, cookie });
            }
        }
    }
    for how in 0..8 {
        for host in 0..HOSTS.len() as u8 {
            let to = url(how, host);
            let Some(header) = jar.cookies(&to) else {
                continue;
            };
            // Values may be UTF-8 (servers send it, browsers keep it): not `to_str`.
            let header = std::str::from_utf8(header.as_bytes())
                .expect("the jar's Cookie header is UTF-8, as the Set-Cookie values were");
            for pair in header.split("; ") {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                let allowed = sets.iter().any(|set| {
                    set.cookie.name() == name
                        && (set.cookie.value() == value || set.cookie.value_trimmed() == value)
                        && may_send(set, &to)
                });
                assert!(
                    allowed,
                    "cookie {name:?} sent to {to}, which no Set-Cookie allows"
                );
            }
        }
    }
}

/// The URL for a scheme and path (`how`: bit 0, bits 1-2) and a host of `HOSTS`, parsed
/// once per process: the 128 parses an input asks for held the target to ~4,500 inputs/s.
fn url(how: u8, host: u8) -> Url {
    static URLS: std::sync::OnceLock<Vec<Url>> = std::sync::OnceLock::new();
    let urls = URLS.get_or_init(|| {
        (0..8u8)
            .flat_map(|how| (0..HOSTS.len()).map(move |host| (how, host)))
            .map(|(how, host)| {
                let scheme = if how & 1 == 1 { "https" } else { "http" };
                let path = PATHS[usize::from((how >> 1) & 0b11)];
                Url::parse(&format!("{scheme}://{}{path}", HOSTS[host])).expect("a valid URL")
            })
            .collect()
    });
    urls[usize::from(how & 0b111) * HOSTS.len() + usize::from(host) % HOSTS.len()].clone()
}

/// Whether the rules let the cookie `set` made go to `to` (the reference, apart from the
/// jar's own code).
fn may_send(set: &Set<'_>, to: &Url) -> bool {
    let (from_host, to_host) = (host_of(&set.from), host_of(to));
    if set.cookie.secure() == Some(true) && !(is_secure(&set.from) && is_secure(to)) {
        return false;
    }
    let domain = set
        .cookie
        .domain()
        .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
        .filter(|d| !d.is_empty());
    let Some(domain) = domain else {
        return from_host == to_host;
    };
    if !domain.contains('.') && to_host != from_host {
        return false;
    }
    under(&from_host, &domain) && under(&to_host, &domain)
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

fn is_secure(url: &Url) -> bool {
    url.scheme() == "https" || matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// `host` is `domain` or a name under it; an IP address only itself.
fn under(host: &str, domain: &str) -> bool {
    host == domain
        || (host.parse::<std::net::IpAddr>().is_err()
            && host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}
