//! The request loop: send through the pool, follow redirects, all under one deadline.

use http::header::HeaderMap;
use http::{Method, Uri};
use hyper::body::Incoming;
use url::Url;

use crate::body::Body;
use crate::client::ClientInner;
use crate::error::{Error, Result};
use crate::redirect;
use crate::request::Request;
use crate::response::{Deadline, Response};
use crate::retry::{self, Replay};

/// What changes from hop to hop while following redirects.
struct Hop {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Body>,
}

pub(crate) async fn execute(client: &ClientInner, request: Request) -> Result<Response> {
    let (method, url, headers, body, timeout) = request.into_parts();
    let mut hop = Hop {
        method,
        url,
        headers,
        body,
    };
    let deadline = timeout.or(client.timeout).map(Deadline::after);
    let response = match &deadline {
        None => follow(client, &mut hop).await?,
        Some(deadline) => {
            match tokio::time::timeout_at(deadline.instant(), follow(client, &mut hop)).await {
                Ok(result) => result?,
                Err(_) => return Err(Error::timeout(deadline.limit()).with_url(&hop.url)),
            }
        }
    };
    Ok(Response::new(response, hop.url, deadline, client))
}

/// Sends `hop` and follows redirects, updating `hop` to the request that got the final
/// response.
async fn follow(client: &ClientInner, hop: &mut Hop) -> Result<http::Response<Incoming>> {
    let follows = client.redirect.follows();
    let mut hops_done = 0;
    loop {
        let replayable = hop.body.as_ref().is_none_or(|b| b.as_bytes().is_some());
        let replay = Replay::of(&hop.method, &hop.headers, replayable);
        // Kept only when a redirect or a retry could need them again; a request with no
        // headers of its own copies nothing (the client's defaults are added per hop).
        let (headers_again, body_again) = if follows || replay.possible() {
            let headers = (!hop.headers.is_empty()).then(|| hop.headers.clone());
            (headers, hop.body.as_ref().and_then(Body::try_clone))
        } else {
            (None, None)
        };
        let request = to_http(client, hop)?;
        let response = retry::send(client, request, &hop.url, replay, || {
            to_http(
                client,
                &mut Hop {
                    method: hop.method.clone(),
                    url: hop.url.clone(),
                    headers: headers_again.clone().unwrap_or_default(),
                    body: body_again.as_ref().and_then(Body::try_clone),
                },
            )
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
        redirect::headers_for_hop(&mut headers, &hop.url, &next);
        hop.headers = headers;
        hop.body = if next.drop_body { None } else { body_again };
        hop.method = next.method;
        hop.url = next.url;
        hops_done += 1;
    }
}

/// The hyper request for `hop`: its headers and body move in; the client's default headers
/// fill in names the request did not set.
fn to_http(client: &ClientInner, hop: &mut Hop) -> Result<http::Request<Body>> {
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
    Ok(request)
}
