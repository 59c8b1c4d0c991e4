//! `IntoUrl`: what the request methods accept as a URL (`&str`, `String`, `Url`).

use http::header::HeaderValue;
use url::Url;

use crate::error::Result;
use crate::request::{check_url, parse_url};

mod sealed {
    pub trait Sealed {}
}

/// A value usable as a request URL: `&str`, `String` or [`Url`].
///
/// Only `http` and `https` URLs are accepted. Credentials in a URL (`https://user:pass@host/`)
/// become a basic `Authorization` header and are removed from the URL.
pub trait IntoUrl: sealed::Sealed {
    #[doc(hidden)]
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)>;
}

impl sealed::Sealed for &str {}
impl IntoUrl for &str {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        parse_url(self)
    }
}

impl sealed::Sealed for &String {}
impl IntoUrl for &String {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        parse_url(self)
    }
}

impl sealed::Sealed for String {}
impl IntoUrl for String {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        parse_url(&self)
    }
}

impl sealed::Sealed for Url {}
impl IntoUrl for Url {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        check_url(self)
    }
}

impl sealed::Sealed for &Url {}
impl IntoUrl for &Url {
    fn into_request_url(self) -> Result<(Url, Option<HeaderValue>)> {
        check_url(self.clone())
    }
}
