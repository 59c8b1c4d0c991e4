//! One redirect hop: where it goes and with which method (RFC 9110, as browsers), what
//! may cross to another origin (credentials, `Host`, the `Referer`), and the cap on the
//! heads of a whole chain.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use url::Url;

use super::{ActionKind, Attempt, Policy, TooManyRedirects};
use crate::error::Error;

/// The request to make after a redirect response.
#[derive(Debug)]
pub(crate) struct Hop {
    pub(crate) url: Url,
    pub(crate) method: Method,
    /// The body is dropped (301/302 after POST, 303).
    pub(crate) drop_body: bool,
}

/// Decides what follows a response: `Ok(None)` returns it to the caller. `previous` holds
/// the URLs requested so far in this chain, `current` (the one that redirected) last.
pub(crate) fn next_hop(
    policy: &Policy,
    status: StatusCode,
    headers: &HeaderMap,
    current: &Url,
    method: &Method,
    previous: &[Url],
    body_replayable: bool,
) -> Result<Option<Hop>, Error> {
    if !policy.follows() {
        return Ok(None);
    }
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
    // A Location that names no URL (empty, not text, not parsable) leaves the 3xx, header
    // and all, to the caller, as reqwest does; an empty one would be a loop to the same URL.
    let Some(mut url) = location
        .to_str()
        .ok()
        .filter(|text| !text.trim().is_empty())
        .and_then(|text| current.join(text).ok())
    else {
        tracing::debug!(%current, ?location, "not following a redirect whose Location is not a URL");
        return Ok(None);
    };
    // Credentials in a Location are not used: a server must not be able to make us send
    // a user name and password it chose to a host it chose.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let attempt = Attempt {
        status,
        next: &url,
        previous,
    };
    match policy.redirect(attempt).kind {
        ActionKind::Follow => {}
        ActionKind::Stop => return Ok(None),
        ActionKind::Error(e) if e.is::<TooManyRedirects>() => {
            return Err(Error::redirect(e.to_string()).for_url(current));
        }
        ActionKind::Error(e) => {
            let message = format!("the redirect policy refused the redirect to {url}: {e}");
            return Err(Error::redirect(message).with_source(e).for_url(current));
        }
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid_url(format!(
            "refusing to follow a redirect to the {:?} scheme (only http and https)",
            url.scheme()
        ))
        .for_url(current));
    }
    Ok(Some(Hop {
        url,
        method,
        drop_body,
    }))
}

/// Prepares the headers for the next hop: credentials stay behind when the origin
/// (scheme, host, port) changes, a `Host` the caller set stays with its host, body
/// headers go when the body does, and with `referer` the hop says where it came from.
/// Returns whether the origin changed, so the caller leaves the client's default
/// credentials behind too.
pub(crate) fn headers_for_hop(
    headers: &mut HeaderMap,
    from: &Url,
    hop: &Hop,
    referer: bool,
) -> bool {
    let crossed = from.origin() != hop.url.origin();
    if referer {
        // Replaces the one an earlier hop added, which may not go where this one goes.
        headers.remove(header::REFERER);
        if let Some(value) = referer_for(from, &hop.url) {
            headers.insert(header::REFERER, value);
        }
    }
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

/// The `Referer` of a hop from `from` to `to`: browsers' default policy
/// (`strict-origin-when-cross-origin`): the whole URL within its origin, only the origin
/// across origins (a token in a path or query stays home), nothing from https to http;
/// never a user name, password or fragment.
fn referer_for(from: &Url, to: &Url) -> Option<HeaderValue> {
    if from.scheme() == "https" && to.scheme() != "https" {
        return None;
    }
    let mut referer = from.clone();
    let _ = referer.set_username("");
    let _ = referer.set_password(None);
    referer.set_fragment(None);
    if from.origin() != to.origin() {
        referer.set_path("/");
        referer.set_query(None);
    }
    HeaderValue::from_str(referer.as_str()).ok()
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
    .for_url(url))
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
        hop_under(&Policy::default(), status, method, to)
    }

    fn hop_under(
        policy: &Policy,
        status: u16,
        method: Method,
        to: &str,
    ) -> Result<Option<Hop>, Error> {
        let from = Url::parse("https://a.test/x/y").unwrap();
        next_hop(
            policy,
            StatusCode::from_u16(status).unwrap(),
            &location(to),
            &from,
            &method,
            std::slice::from_ref(&from),
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
        // A URL of another scheme: a builder error, as in reqwest.
        for to in [
            "file:///etc/passwd",
            "ftp://a.test/",
            "javascript:alert(1)",
            "data:,x",
        ] {
            let err = hop(302, Method::GET, to).unwrap_err();
            assert!(err.is_builder() && !err.is_redirect(), "{to}: {err}");
        }
        // Not a URL: the 3xx is the answer.
        for to in ["http://[::1", "http://exa mple.com/"] {
            assert!(hop(302, Method::GET, to).unwrap().is_none(), "{to}");
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
            assert_eq!(headers_for_hop(&mut h, &from, &hop, false), !kept, "{to}");
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
        headers_for_hop(&mut h, &from, &hop, false);
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
                std::slice::from_ref(&from),
                true,
            );
            assert!(next.unwrap().is_none(), "{to:?}");
        }
    }

    #[test]
    fn limit_is_enforced_and_userinfo_dropped() {
        let from = Url::parse("https://a.test/").unwrap();
        // Two redirects followed: the first request's URL and two more in the chain.
        let chain = [from.clone(), from.clone(), from.clone()];
        let err = next_hop(
            &Policy::limited(2),
            StatusCode::FOUND,
            &location("/again"),
            &from,
            &Method::GET,
            &chain,
            true,
        )
        .unwrap_err();
        assert!(err.is_redirect());
        assert!(err.to_string().contains("stopped after 2"), "{err}");
        let ok = next_hop(
            &Policy::limited(2),
            StatusCode::FOUND,
            &location("/again"),
            &from,
            &Method::GET,
            &chain[..2],
            true,
        );
        assert!(ok.unwrap().is_some(), "the second redirect is followed");
        let h = hop(302, Method::GET, "https://u:p@b.test/")
            .unwrap()
            .unwrap();
        assert_eq!(h.url.as_str(), "https://b.test/");
    }

    #[test]
    fn a_custom_policy_follows_stops_or_fails() {
        let policy = Policy::custom(|attempt| match attempt.url().host_str() {
            Some("stop.test") => attempt.stop(),
            Some("fail.test") => attempt.error("no thanks"),
            _ => {
                assert_eq!(attempt.previous().len(), 1);
                assert_eq!(attempt.status(), StatusCode::FOUND);
                attempt.follow()
            }
        });
        let followed = hop_under(&policy, 302, Method::GET, "https://go.test/").unwrap();
        assert_eq!(followed.unwrap().url.as_str(), "https://go.test/");
        assert!(hop_under(&policy, 302, Method::GET, "https://stop.test/")
            .unwrap()
            .is_none());
        let err = hop_under(&policy, 302, Method::GET, "https://fail.test/").unwrap_err();
        assert!(err.is_redirect(), "{err}");
        assert!(err.to_string().contains("no thanks"), "{err}");
        // It sees the URL without the credentials a Location named.
        let seen = Policy::custom(|attempt| {
            assert_eq!(attempt.url().as_str(), "https://b.test/");
            attempt.follow()
        });
        assert!(hop_under(&seen, 302, Method::GET, "https://u:p@b.test/")
            .unwrap()
            .is_some());
        // The default's limit, asked for by a custom policy.
        let deferring = Policy::custom(|attempt| Policy::limited(0).redirect(attempt));
        assert!(hop_under(&deferring, 302, Method::GET, "/z").is_err());
    }

    #[test]
    fn the_referer_is_the_browsers_default() {
        let referer = |from: &str, to: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::REFERER, "https://stale.test/".parse().unwrap());
            let hop = Hop {
                url: Url::parse(to).unwrap(),
                method: Method::GET,
                drop_body: false,
            };
            headers_for_hop(&mut h, &Url::parse(from).unwrap(), &hop, true);
            h.get(header::REFERER)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let same = referer("https://u:p@a.test/x?q=1#frag", "https://a.test/y");
        assert_eq!(same.as_deref(), Some("https://a.test/x?q=1"));
        let cross = referer("https://a.test/secret/path?token=1", "https://b.test/");
        assert_eq!(cross.as_deref(), Some("https://a.test/"));
        // Never from https to http: not even the one an earlier hop set stays.
        assert_eq!(referer("https://a.test/x", "http://a.test/x"), None);
        assert_eq!(
            referer("http://a.test/x", "https://b.test/").as_deref(),
            Some("http://a.test/")
        );
    }
}
