//! URLs for requests: `IntoUrl` (what the request methods accept), the checks every
//! request URL passes, and a URL's user and password turned into basic auth. Shared by
//! the request builder, the request loop, redirects and proxy URLs.

use base64::Engine;
use http::header::HeaderValue;
use url::Url;

use crate::error::{Error, Result};

mod recent;
pub(crate) use recent::request_target;

pub(crate) mod sealed {
    /// Only the crate's types are `IntoUrl` (and so `IntoProxy`).
    pub trait Sealed {
        /// The URL as given, before any check: a proxy URL may have another scheme.
        fn given(&self) -> &str;
    }
}

/// A value usable as a request URL: `&str`, `String` or [`Url`].
///
/// Only `http` and `https` URLs are accepted. Credentials in a URL (`https://user:pass@host/`)
/// become a basic `Authorization` header and are removed from the URL.
pub trait IntoUrl: sealed::Sealed {
    #[doc(hidden)]
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)>;
}

impl sealed::Sealed for &str {
    fn given(&self) -> &str {
        self
    }
}
impl IntoUrl for &str {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        parse_url(self)
    }
}

impl sealed::Sealed for &String {
    fn given(&self) -> &str {
        self
    }
}
impl IntoUrl for &String {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        parse_url(self)
    }
}

impl sealed::Sealed for String {
    fn given(&self) -> &str {
        self
    }
}
impl IntoUrl for String {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        parse_url(&self)
    }
}

impl sealed::Sealed for Url {
    fn given(&self) -> &str {
        self.as_str()
    }
}
impl IntoUrl for Url {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        check_url(self)
    }
}

impl sealed::Sealed for &Url {
    fn given(&self) -> &str {
        self.as_str()
    }
}
impl IntoUrl for &Url {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        check_url(self.clone())
    }
}

/// Parses a URL for a request; see [`check_url`]. An origin this thread parsed lately is
/// not parsed again (see `recent.rs`).
pub(crate) fn parse_url(input: &str) -> Result<(Url, Option<HeaderValue>)> {
    let invalid = |e: url::ParseError| {
        Error::invalid_url(format!("{:?} is not a valid URL: {e}", shorten(input)))
    };
    if let Some(parsed) = recent::parse(input) {
        // The origin passed `check_url` when it was remembered, and has no credentials.
        return Ok((parsed.map_err(invalid)?, None));
    }
    let (url, auth) = check_url(Url::parse(input).map_err(invalid)?)?;
    if auth.is_none() {
        recent::remember(input, &url);
    }
    Ok((url, auth))
}

/// Checks a URL for a request: http or https with a host. Credentials in it become a
/// basic `Authorization` header and leave the URL, so they are never re-sent elsewhere.
pub(crate) fn check_url(mut url: Url) -> Result<(Url, Option<HeaderValue>)> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_url(format!(
            "unsupported scheme {:?} (only http and https)",
            url.scheme()
        ))
        .for_url(&url));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_url("the URL has no host"));
    }
    let mut auth = None;
    if !url.username().is_empty() || url.password().is_some() {
        let user = percent_decode(url.username());
        let password = url.password().map(percent_decode);
        auth = Some(basic_auth_value(&user, password.as_deref()));
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    Ok((url, auth))
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// At most 200 characters of user input in a message.
pub(crate) fn shorten(input: &str) -> String {
    match input.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &input[..end]),
        None => input.to_owned(),
    }
}

pub(crate) fn basic_auth_value(user: &str, password: Option<&str>) -> HeaderValue {
    let raw = format!("{user}:{}", password.unwrap_or(""));
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut value = HeaderValue::try_from(format!("Basic {encoded}"))
        .expect("base64 is always a valid header value");
    value.set_sensitive(true);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        for bad in [
            "not a url",
            "ftp://x.test/",
            "file:///etc/passwd",
            "http://",
        ] {
            let err = parse_url(bad).unwrap_err();
            assert!(err.is_builder(), "{bad}");
            assert_eq!(err.kind(), crate::ErrorKind::InvalidUrl);
        }
        let huge = format!("http://{}", "a".repeat(100_000));
        let _ = parse_url(&huge);
    }

    #[test]
    fn userinfo_becomes_basic_auth() {
        let (url, auth) = parse_url("https://al%20ice:s3cret@x.test/p").unwrap();
        assert_eq!(url.as_str(), "https://x.test/p");
        let auth = auth.unwrap();
        assert!(auth.is_sensitive());
        // "al ice:s3cret"
        assert_eq!(auth.to_str().unwrap(), "Basic YWwgaWNlOnMzY3JldA==");
    }
}
