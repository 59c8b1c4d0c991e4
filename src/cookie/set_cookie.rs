//! [`Cookie`]: one cookie a response sets, parsed from its `Set-Cookie` header, as
//! [`Response::cookies`](crate::Response::cookies) lists them (reqwest's type and methods).

use std::fmt;
use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, SET_COOKIE};

/// A cookie from a response's `Set-Cookie` header: its name and value and the attributes
/// the server gave it.
///
/// ```no_run
/// # async fn run() -> wireline::Result<()> {
/// let resp = wireline::get("https://example.com/login").await?;
/// if let Some(session) = resp.cookies().find(|c| c.name() == "session") {
///     println!("{} expires {:?}", session.value(), session.expires());
/// }
/// # Ok(()) }
/// ```
pub struct Cookie<'a>(cookie::Cookie<'a>);

impl<'a> Cookie<'a> {
    /// The cookies of every `Set-Cookie` header that parses.
    pub(crate) fn all_in(headers: &'a HeaderMap) -> impl Iterator<Item = Cookie<'a>> + 'a {
        headers.get_all(SET_COOKIE).iter().filter_map(|value| {
            let text = std::str::from_utf8(value.as_bytes()).ok()?;
            cookie::Cookie::parse(text).ok().map(Cookie)
        })
    }

    /// The cookie's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The cookie's value.
    pub fn value(&self) -> &str {
        self.0.value()
    }

    /// Whether it has the `HttpOnly` attribute.
    pub fn http_only(&self) -> bool {
        self.0.http_only().unwrap_or(false)
    }

    /// Whether it has the `Secure` attribute.
    pub fn secure(&self) -> bool {
        self.0.secure().unwrap_or(false)
    }

    /// Whether it has `SameSite=Lax`.
    pub fn same_site_lax(&self) -> bool {
        self.0.same_site() == Some(cookie::SameSite::Lax)
    }

    /// Whether it has `SameSite=Strict`.
    pub fn same_site_strict(&self) -> bool {
        self.0.same_site() == Some(cookie::SameSite::Strict)
    }

    /// Its `Path` attribute.
    pub fn path(&self) -> Option<&str> {
        self.0.path()
    }

    /// Its `Domain` attribute.
    pub fn domain(&self) -> Option<&str> {
        self.0.domain()
    }

    /// Its `Max-Age` attribute (a negative one reads as zero: the cookie is expired).
    pub fn max_age(&self) -> Option<Duration> {
        self.0
            .max_age()
            .map(|age| Duration::try_from(age).unwrap_or(Duration::ZERO))
    }

    /// Its `Expires` attribute; `None` for a session cookie.
    pub fn expires(&self) -> Option<SystemTime> {
        match self.0.expires() {
            Some(cookie::Expiration::DateTime(at)) => Some(SystemTime::from(at)),
            None | Some(cookie::Expiration::Session) => None,
        }
    }
}

impl fmt::Debug for Cookie<'_> {
    /// The name and the attributes; the value, a credential, prints as `Sensitive`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cookie")
            .field("name", &self.name())
            .field("value", &format_args!("Sensitive"))
            .field("domain", &self.domain())
            .field("path", &self.path())
            .field("secure", &self.secure())
            .field("http_only", &self.http_only())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read_and_bad_headers_left_out() {
        let mut headers = HeaderMap::new();
        headers.append(
            SET_COOKIE,
            "id=a3fWa; Max-Age=60; Path=/docs; Domain=example.com; Secure; HttpOnly; SameSite=Lax"
                .parse()
                .unwrap(),
        );
        headers.append(SET_COOKIE, "no equals sign".parse().unwrap());
        headers.append(
            SET_COOKIE,
            "theme=dark; Expires=Wed, 21 Oct 2065 07:28:00 GMT; SameSite=Strict"
                .parse()
                .unwrap(),
        );
        let cookies: Vec<Cookie<'_>> = Cookie::all_in(&headers).collect();
        assert_eq!(cookies.len(), 2, "the unparsable one is left out");
        let id = &cookies[0];
        assert_eq!((id.name(), id.value()), ("id", "a3fWa"));
        assert_eq!(id.max_age(), Some(Duration::from_secs(60)));
        assert_eq!(
            (id.path(), id.domain()),
            (Some("/docs"), Some("example.com"))
        );
        assert!(id.secure() && id.http_only() && id.same_site_lax() && !id.same_site_strict());
        assert!(id.expires().is_none());
        let theme = &cookies[1];
        assert!(theme.same_site_strict() && !theme.secure() && !theme.http_only());
        assert!(theme.expires().unwrap() > SystemTime::now());
        assert!(
            !format!("{id:?}").contains("a3fWa"),
            "the value is not printed"
        );
    }
}
