//! Redirect policy, and the rules for one hop: where to, with which method, and what
//! may cross to another origin.

use http::header::{self, HeaderMap};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use url::Url;

use crate::error::Error;

/// How many redirects a client follows.
///
/// Each hop follows RFC 9110 as browsers do: 301/302 turn POST into GET and drop its body,
/// 303 turns anything but HEAD into GET, and other redirects keep the method and the body.
/// A hop that would keep a streamed body, which can't be sent twice, is not followed: the
/// 3xx is returned to the caller. `Authorization`, `Cookie` and `Proxy-Authorization` stay
/// behind when the scheme, host or port changes.
///
/// ```
/// use wireline::redirect::Policy;
/// let client = wireline::Client::builder().redirect(Policy::limited(3)).build();
/// let client = wireline::Client::builder().redirect(Policy::none()).build();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `None`: return every 3xx to the caller.
    max_hops: Option<usize>,
}

impl Policy {
    /// Follow up to `max` redirects; one more is an [`is_redirect`](crate::Error::is_redirect) error.
    pub fn limited(max: usize) -> Policy {
        Policy {
            max_hops: Some(max),
        }
    }

    /// Follow no redirect: 3xx responses are returned as they are.
    pub fn none() -> Policy {
        Policy { max_hops: None }
    }

    pub(crate) fn follows(&self) -> bool {
        self.max_hops.is_some()
    }
}

impl Default for Policy {
    /// Up to 10 redirects, like reqwest and ureq.
    fn default() -> Policy {
        Policy::limited(10)
    }
}

/// The request to make after a redirect response.
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) url: Url,
    pub(crate) method: Method,
    /// The body is dropped (301/302 after POST, 303).
    pub(crate) drop_body: bool,
}

/// Decides what follows a response: `Ok(None)` returns it to the caller.
pub(crate) fn next_hop(
    policy: &Policy,
    status: StatusCode,
    headers: &HeaderMap,
    current: &Url,
    method: &Method,
    hops_done: usize,
    body_replayable: bool,
) -> Result<Option<Hop>, Error> {
    let Some(max_hops) = policy.max_hops else {
        return Ok(None);
    };
    let (method, drop_body) = match status {
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND if *method == Method::POST => {
            (Method::GET, true)
        }
        StatusCode::SEE_OTHER if *method == Method::HEAD => (Method::HEAD, true),
        StatusCode::SEE_OTHER => (Method::GET, true),
        // 301/302 other than after POST keep the method, and with it the body.
        StatusCode::MOVED_PERMANENTLY
        | StatusCode::FOUND
        | StatusCode::TEMPORARY_REDIRECT
        | StatusCode::PERMANENT_REDIRECT => {
            if !body_replayable {
                // The body was streamed and is gone: hand the redirect to the caller
                // rather than send the method without it.
                return Ok(None);
            }
            (method.clone(), false)
        }
        _ => return Ok(None),
    };
    let Some(location) = headers.get(header::LOCATION) else {
        return Ok(None);
    };
    // An empty Location names no target (resolved as a reference it is the current URL,
    // a loop to nowhere): the 3xx goes to the caller, as when there is none.
    if location.as_bytes().iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if hops_done >= max_hops {
        return Err(Error::redirect(format!(
            "too many redirects: stopped after {max_hops} (set redirect(Policy::limited(n)) to allow more)"
        ))
        .with_url(current));
    }
    let location = location
        .to_str()
        .map_err(|_| Error::redirect("the Location header is not valid text").with_url(current))?;
    let mut url = current.join(location).map_err(|e| {
        Error::redirect(format!(
            "the Location header {:?} is not a valid URL: {e}",
            crate::into_url::shorten(location)
        ))
        .with_url(current)
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::redirect(format!(
            "refusing to follow a redirect to the {:?} scheme (only http and https)",
            url.scheme()
        ))
        .with_url(current));
    }
    // Credentials in a Location are not used: a server must not be able to make us send
    // a user name and password it chose to a host it chose.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(Some(Hop {
        url,
        method,
        drop_body,
    }))
}

/// Prepares the headers for the next hop: credentials stay behind when the origin
/// (scheme, host, port) changes, a `Host` the caller set stays with its host, and body
/// headers go when the body does. Returns whether the origin changed, so the caller
/// leaves the client's default credentials behind too.
pub(crate) fn headers_for_hop(headers: &mut HeaderMap, from: &Url, hop: &Hop) -> bool {
    let crossed = from.origin() != hop.url.origin();
    if crossed {
        for name in &crate::redact::CREDENTIAL_HEADERS {
            headers.remove(name);
        }
        // It names a virtual host of the first server; sent to another, it would ask
        // that one for a site it may not serve. hyper-util writes the right one. As curl,
        // by host name: the same host on another scheme or port keeps it.
        if from.host() != hop.url.host() {
            headers.remove(header::HOST);
        }
    }
    if hop.drop_body {
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
        ] {
            headers.remove(name);
        }
    }
    crossed
}

/// How many times `max_response_header_size` the heads of one redirect chain may take
/// together. Each head is capped on its own; this bounds what a chain of hops, each just
/// under the cap, makes us read (curl caps a whole transfer's heads at 300 KiB).
pub(crate) const CHAIN_HEADS_FACTOR: usize = 4;

/// Adds `response`'s head to `total`, the heads of the redirect chain so far, and fails
/// once they exceed [`CHAIN_HEADS_FACTOR`] × `max_head`. Called only once a chain has
/// begun (a redirect, or any response after one): a lone response costs nothing.
pub(crate) fn add_to_chain(
    total: &mut usize,
    response: &http::Response<Incoming>,
    max_head: usize,
    responses: usize,
    url: &Url,
) -> Result<(), Error> {
    *total += crate::attempt::heads::head_size(response);
    let cap = max_head.saturating_mul(CHAIN_HEADS_FACTOR);
    if *total <= cap {
        return Ok(());
    }
    Err(Error::redirect(format!(
        "the {responses} response heads of this redirect chain total {total} bytes, over \
         {CHAIN_HEADS_FACTOR} × max_response_header_size ({cap}): the server redirects \
         with very large heads (raise max_response_header_size if you trust it)"
    ))
    .with_url(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn location(to: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::LOCATION, to.parse().unwrap());
        h
    }

    fn hop(status: u16, method: Method, to: &str) -> Result<Option<Hop>, Error> {
        let from = Url::parse("https://a.test/x/y").unwrap();
        next_hop(
            &Policy::default(),
            StatusCode::from_u16(status).unwrap(),
            &location(to),
            &from,
            &method,
            0,
            true,
        )
    }

    #[test]
    fn methods_change_as_browsers_do() {
        let h = hop(302, Method::POST, "/z").unwrap().unwrap();
        assert_eq!((h.method, h.drop_body), (Method::GET, true));
        assert_eq!(h.url.as_str(), "https://a.test/z");
        let h = hop(303, Method::PUT, "z").unwrap().unwrap();
        assert_eq!(
            (h.method, h.url.as_str()),
            (Method::GET, "https://a.test/x/z")
        );
        let h = hop(303, Method::HEAD, "z").unwrap().unwrap();
        assert_eq!(h.method, Method::HEAD);
        let h = hop(307, Method::POST, "z").unwrap().unwrap();
        assert_eq!((h.method, h.drop_body), (Method::POST, false));
        let h = hop(301, Method::DELETE, "z").unwrap().unwrap();
        assert_eq!(h.method, Method::DELETE);
    }

    #[test]
    fn bad_locations_are_errors() {
        for to in [
            "file:///etc/passwd",
            "ftp://a.test/",
            "javascript:alert(1)",
            "data:,x",
        ] {
            let err = hop(302, Method::GET, to).unwrap_err();
            assert!(err.is_redirect(), "{to}: {err}");
        }
    }

    #[test]
    fn credentials_stay_on_their_origin() {
        let from = Url::parse("https://a.test/").unwrap();
        for (to, kept) in [
            ("https://a.test/b", true),
            ("https://a.test:8443/b", false),
            ("http://a.test/b", false),
            ("https://b.test/b", false),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, "Basic x".parse().unwrap());
            h.append(header::COOKIE, "a=1".parse().unwrap());
            h.append(header::COOKIE, "b=2".parse().unwrap());
            h.insert(header::PROXY_AUTHORIZATION, "x".parse().unwrap());
            let hop = Hop {
                url: Url::parse(to).unwrap(),
                method: Method::GET,
                drop_body: false,
            };
            assert_eq!(headers_for_hop(&mut h, &from, &hop), !kept, "{to}");
            assert_eq!(h.contains_key(header::AUTHORIZATION), kept, "{to}");
            assert_eq!(h.contains_key(header::COOKIE), kept, "{to}");
            assert_eq!(h.contains_key(header::PROXY_AUTHORIZATION), kept, "{to}");
        }
    }

    #[test]
    fn http_to_https_on_the_same_host_is_another_origin() {
        // R03: requests keeps Authorization on this upgrade; we follow reqwest and curl,
        // and the origin rule: the scheme is part of the origin.
        let from = Url::parse("http://a.test/").unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Basic x".parse().unwrap());
        let hop = Hop {
            url: Url::parse("https://a.test/").unwrap(),
            method: Method::GET,
            drop_body: false,
        };
        headers_for_hop(&mut h, &from, &hop);
        assert!(!h.contains_key(header::AUTHORIZATION));
    }

    #[test]
    fn an_empty_location_is_not_followed() {
        for to in ["", "  "] {
            let mut h = HeaderMap::new();
            h.insert(header::LOCATION, HeaderValue::from_str(to).unwrap());
            let from = Url::parse("https://a.test/x").unwrap();
            let next = next_hop(
                &Policy::default(),
                StatusCode::FOUND,
                &h,
                &from,
                &Method::GET,
                0,
                true,
            );
            assert!(next.unwrap().is_none(), "{to:?}");
        }
    }

    #[test]
    fn limit_is_enforced_and_userinfo_dropped() {
        let from = Url::parse("https://a.test/").unwrap();
        let err = next_hop(
            &Policy::limited(2),
            StatusCode::FOUND,
            &location("/again"),
            &from,
            &Method::GET,
            2,
            true,
        )
        .unwrap_err();
        assert!(err.is_redirect());
        let h = hop(302, Method::GET, "https://u:p@b.test/")
            .unwrap()
            .unwrap();
        assert_eq!(h.url.as_str(), "https://b.test/");
    }
}
