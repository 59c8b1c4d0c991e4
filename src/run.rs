//! The request loop: send through the pool, follow redirects, all under one deadline.

use std::sync::Arc;

use http::Uri;
use hyper::body::Incoming;

use crate::body::Body;
use crate::client::ClientInner;
use crate::error::{Error, Result};
use crate::redirect;
use crate::request::Request;
use crate::response::{Deadline, Response};

/// Sends `request` (or reports the error made while building it) and follows redirects,
/// all under one deadline.
///
/// One `async fn` from the caller's `send()` down to the pool: each extra layer of future
/// would hold its own copy of the request and be copied whole when polled the first time.
pub(crate) async fn send(client: Arc<ClientInner>, request: Result<Request>) -> Result<Response> {
    // The request itself is the hop: redirects rewrite it in place.
    let mut hop = request?;
    let deadline = hop.timeout.or(client.timeout).map(Deadline::after);
    let response = match &deadline {
        None => follow(&client, &mut hop).await?,
        Some(deadline) => {
            match tokio::time::timeout_at(deadline.instant(), follow(&client, &mut hop)).await {
                Ok(result) => result?,
                Err(_) => return Err(Error::timeout(deadline.limit()).with_url(&hop.url)),
            }
        }
    };
    Ok(Response::new(response, hop.url, deadline))
}

/// Sends `hop` and follows redirects, updating `hop` to the request that got the final
/// response.
async fn follow(client: &ClientInner, hop: &mut Request) -> Result<http::Response<Incoming>> {
    let follows = client.redirect.follows();
    let mut hops_done = 0;
    loop {
        let replayable = hop.body.as_ref().is_none_or(|b| b.as_bytes().is_some());
        // Kept only when a redirect could need them again; a request with no headers of
        // its own copies nothing (the client's defaults are added per hop).
        let (headers_again, body_again) = if follows {
            let headers = (!hop.headers.is_empty()).then(|| hop.headers.clone());
            (headers, hop.body.as_ref().and_then(Body::try_clone))
        } else {
            (None, None)
        };
        let request = to_http(client, hop)?;
        let response = client
            .pool
            .request(request)
            .await
            .map_err(|e| Error::from_send(e, &hop.url))?;
        #[cfg(feature = "cookies")]
        if let Some(store) = &client.cookie_store {
            crate::cookie::store_response_cookies(store.as_ref(), response.headers(), &hop.url);
        }
        if !response.status().is_redirection() {
            return Ok(response);
        }
        let next = redirect::next_hop(
            &client.redirect,
            response.status(),
            response.headers(),
            &hop.url,
            &hop.method,
            hops_done,
            replayable,
        )?;
        let Some(next) = next else {
            return Ok(response);
        };
        // The redirect's own body is not read: dropping it closes that connection unless
        // it was already complete, which bounds what a hostile server can make us read.
        drop(response);
        let mut headers = headers_again.unwrap_or_default();
        redirect::headers_for_hop(&mut headers, &hop.url, &next);
        hop.headers = headers;
        hop.body = if next.drop_body { None } else { body_again };
        hop.method = next.method;
        hop.url = next.url;
        hops_done += 1;
    }
}

/// The hyper request for `hop`: its headers and body move in; the client's default headers
/// fill in names the request did not set, then the cookie store its cookies for this URL.
fn to_http(client: &ClientInner, hop: &mut Request) -> Result<http::Request<Body>> {
    let uri: Uri = hop.url.as_str().parse().map_err(|e| {
        Error::invalid_url(format!("cannot be sent as an HTTP request target: {e}"))
            .with_url(&hop.url)
    })?;
    let mut request = http::Request::new(hop.body.take().unwrap_or_default());
    *request.method_mut() = hop.method.clone();
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    *headers = std::mem::take(&mut hop.headers);
    for (name, value) in &client.default_headers {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    // Added here, after `headers_again` was copied: the jar decides again for each hop.
    #[cfg(feature = "cookies")]
    if let Some(store) = &client.cookie_store {
        crate::cookie::add_request_cookies(store.as_ref(), headers, &hop.url);
    }
    Ok(request)
}
