//! The request loop: send through the pool, follow redirects, all under one deadline.

use std::sync::Arc;

use http::Uri;
use hyper::body::Incoming;

use crate::body::Body;
use crate::client::ClientInner;
use crate::error::{Error, Result};
use crate::pools::Pool;
use crate::redirect;
use crate::request::Request;
use crate::response::{Deadline, Response};
use crate::retry::{self, Replay};

/// Sends `request` (or reports the error made while building it) and follows redirects,
/// all under one deadline.
///
/// One `async fn` from the caller's `send()` down to the pool: each extra layer of future
/// would hold its own copy of the request and be copied whole when polled the first time.
pub(crate) async fn send(client: Arc<ClientInner>, request: Result<Request>) -> Result<Response> {
    // The request itself is the hop: redirects rewrite it in place.
    let mut hop = request?;
    let deadline = hop.timeout.or(client.timeout).map(Deadline::after);
    let own_pool = match &hop.tls {
        None => None,
        Some(options) => client
            .option_pools
            .pool_for(options)
            .map_err(|e| e.with_url(&hop.url))?,
    };
    let pool = own_pool.as_deref().unwrap_or(&client.pool);
    let response = match &deadline {
        None => follow(&client, pool, &mut hop).await?,
        Some(deadline) => {
            let following = follow(&client, pool, &mut hop);
            match tokio::time::timeout_at(deadline.instant(), following).await {
                Ok(result) => result?,
                Err(_) => return Err(Error::timeout(deadline.limit()).with_url(&hop.url)),
            }
        }
    };
    Ok(Response::new(response, hop.url, deadline, &client))
}

/// Sends `hop` and follows redirects, updating `hop` to the request that got the final
/// response.
async fn follow(
    client: &ClientInner,
    pool: &Pool,
    hop: &mut Request,
) -> Result<http::Response<Incoming>> {
    let follows = client.redirect.follows();
    let mut hops_done = 0;
    // The client's default credentials go only to the first request's origin, like the
    // request's own: once a redirect leaves it, they stay behind for every later hop.
    let mut default_credentials = Credentials::Send;
    loop {
        let replayable = hop.body.as_ref().is_none_or(|b| b.as_bytes().is_some());
        let replay = Replay::of(&hop.method, &hop.headers, replayable);
        // Kept only when a redirect or a retry could need them again; a request with no
        // headers of its own copies nothing (the client's defaults are added per hop).
        let (headers_again, mut body_again) = if follows || replay.possible() {
            let headers = (!hop.headers.is_empty()).then(|| hop.headers.clone());
            (headers, hop.body.as_ref().and_then(Body::try_clone))
        } else {
            (None, None)
        };
        let request = to_http(client, hop, default_credentials)?;
        // Captured by `&mut`, as `&Body` would make this future !Send (Body isn't Sync).
        let (method, url, body) = (&hop.method, &hop.url, &mut body_again);
        let headers = &headers_again;
        let response = retry::send(client, pool, request, url, replay, move || {
            let mut again = Request::new(method.clone(), url.clone());
            again.headers = headers.clone().unwrap_or_default();
            again.body = body.as_ref().and_then(Body::try_clone);
            to_http(client, &mut again, default_credentials)
        })
        .await?;
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
        if redirect::headers_for_hop(&mut headers, &hop.url, &next) {
            default_credentials = Credentials::LeftBehind;
        }
        hop.headers = headers;
        hop.body = if next.drop_body { None } else { body_again };
        hop.method = next.method;
        hop.url = next.url;
        hops_done += 1;
    }
}

/// Whether the client's default credential headers (`Authorization`, `Cookie`,
/// `Proxy-Authorization`) still go with a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Send,
    /// A redirect went to another origin.
    LeftBehind,
}

/// The hyper request for `hop`: its headers and body move in; the client's default headers
/// fill in names the request did not set, credentials only while `credentials` allows.
fn to_http(
    client: &ClientInner,
    hop: &mut Request,
    credentials: Credentials,
) -> Result<http::Request<Body>> {
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
        if credentials == Credentials::LeftBehind && redirect::is_credential(name) {
            continue;
        }
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    Ok(request)
}
