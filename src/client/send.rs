//! The request loop: one request from `send()` to its response, through redirects (and
//! the retry policy, when the client has one), all under the request's deadline; the
//! headers of each hop (the client's defaults, cookies, proxy credentials) are added here.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::{HeaderMap, ACCEPT_ENCODING, RANGE};
use http::Uri;
use tokio::time::Instant;
use tracing::field::Empty;
use url::Url;

use super::ClientInner;
use crate::attempt::{self, Replay, Sender};
use crate::body::Body;
use crate::error::{Error, Result};
use crate::pool::Reply;
use crate::redirect;
use crate::request::Request;
use crate::response::Response;
use crate::retry::Retries;
use crate::timeouts::Deadline;

/// Whether a request goes through the client's layers (`ClientBuilder::layer`) first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Layers {
    Apply,
    /// The request comes from the layers.
    Skip,
}

/// Sends `request` (or reports the error made while building it) and follows redirects,
/// all under one deadline: [`send_async`], compiled once ([`OneCopy`]).
pub(super) fn send(
    client: Arc<ClientInner>,
    request: Result<Request>,
    layers: Layers,
) -> OneCopy<impl Future<Output = Result<Response>> + Send + 'static> {
    OneCopy::new(send_async(client, request, layers))
}

/// A future whose `poll` and drop are compiled once in each crate that uses it. rustc
/// copies an `async fn`'s body into every codegen unit of a calling crate that polls it
/// (closures and coroutines are always inlinable across crates), and its drop glue into
/// every one that drops it: the bench's client had six copies of `send_async`'s body
/// (14 KB each), eight of its drop glue and 16 of the redirect loop's (2 KB each).
pub(super) struct OneCopy<F> {
    inner: ManuallyDrop<F>,
}

impl<F> OneCopy<F> {
    fn new(inner: F) -> Self {
        OneCopy {
            inner: ManuallyDrop::new(inner),
        }
    }
}

impl<F: Future> Future for OneCopy<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `inner` is pinned whenever `self` is: nothing moves it out of a
        // `OneCopy`; `drop` drops it in place, as pinning allows.
        unsafe { self.map_unchecked_mut(|one| &mut *one.inner) }.poll(cx)
    }
}

impl<F> Drop for OneCopy<F> {
    #[inline(never)]
    fn drop(&mut self) {
        // SAFETY: `inner` is dropped here only, once, and not used after.
        unsafe { ManuallyDrop::drop(&mut self.inner) }
    }
}

/// The request loop itself.
///
/// One future from the caller's `send()` down to the pool: each extra layer of future
/// would hold its own copy of the request and be copied whole when polled the first time.
/// An `async` block rather than an `async fn`, which would keep its arguments twice (as
/// given, and the body's own copy: rust-lang/rust#62958), the request among them.
#[allow(clippy::manual_async_fn)]
fn send_async(
    client: Arc<ClientInner>,
    mut request: Result<Request>,
    layers: Layers,
) -> impl Future<Output = Result<Response>> + Send + 'static {
    async move {
        if let (Some(stack), Layers::Apply) = (&client.layers, layers) {
            // Boxed: a client without layers keeps the smaller future.
            let stack = stack.clone();
            return match request {
                Ok(hop) => Box::pin(super::layer::send(stack, client, hop)).await,
                Err(error) => Err(error),
            };
        }
        // The request itself is the hop, borrowed where it lies (moved out, it would take
        // a second place in the future): redirects rewrite it in place.
        let hop = match request {
            Ok(ref mut hop) => hop,
            Err(error) => return Err(error),
        };
        let given = &hop.url;
        if !hop.url_checked
            && (!matches!(given.scheme(), "http" | "https")
                || !given.username().is_empty()
                || given.password().is_some())
        {
            // A `Request` made by hand (`Request::new`, `url_mut`) skipped the builder, which
            // refuses other schemes (the connector would send them HTTP all the same) and
            // turns a URL's user and password into basic auth; do it here too, so the
            // password is sent the same way and never written in a log or an error.
            let (url, auth) = crate::into_url::check_url(hop.url.clone())?;
            hop.url = url;
            if let Some(auth) = auth {
                hop.headers
                    .entry(http::header::AUTHORIZATION)
                    .or_insert(auth);
            }
        }
        if client.https_only && hop.url.scheme() != "https" {
            return Err(Error::builder(
                "refusing an http URL: the client is https_only (use an https URL)",
            )
            .for_url(&hop.url));
        }
        let deadline = hop.timeout.or(client.timeout).map(Deadline::after);
        // The pool of the request's own TLS options, or the one that replaced the client's
        // own after a reload; `None`: the client's first pool.
        let own_pool = match &hop.tls {
            None => client.pool.replacement(),
            Some(options) => match client.option_pools.pool_for(options) {
                Ok(None) => client.pool.replacement(),
                Ok(options_pool) => options_pool,
                Err(e) => return Err(e.for_url(&hop.url)),
            },
        };
        // OpenTelemetry's HTTP client fields. Without a subscriber the span is disabled: none
        // of the values is computed, and it is dropped at once. It is the attempts' parent,
        // passed down rather than entered: wrapping the loop's future in it would move that
        // whole future once more.
        let span = tracing::debug_span!(
            "request",
            http.request.method = %hop.method,
            url.full = %crate::redact::url_full(&hop.url),
            server.address = hop.url.host_str(),
            server.port = hop.url.port_or_known_default(),
            http.response.status_code = Empty,
            error.type = Empty,
        );
        let observed = attempt::Observed::new(client.timings, span);
        let sender = Sender {
            pool: own_pool.as_deref().unwrap_or(client.pool.first()),
            pacing: client.pacing.as_ref(),
            max_head: client.max_response_header_size,
            observed: observed.as_deref(),
        };
        let followed = match &deadline {
            None => follow(&client, sender, hop, None).await,
            Some(deadline) => {
                let following = follow(&client, sender, hop, Some(deadline.instant()));
                match tokio::time::timeout_at(deadline.instant(), following).await {
                    Ok(result) => result,
                    Err(_) => {
                        let error = deadline.error().for_url(&hop.url);
                        Err(match sender.clock() {
                            Some(clock) => error.with_timings(clock.timings()),
                            None => error,
                        })
                    }
                }
            }
        };
        if let Some(span) = sender.span() {
            record_outcome(span, &followed);
        }
        let response = followed?;
        let (pacing, decoding) = (client.pacing.as_ref(), &client.decoding);
        match request {
            Ok(Request { url, .. }) => Ok(Response::new(response, url, deadline, pacing, decoding)),
            // Returned at the top already.
            Err(error) => Err(error),
        }
    }
}

/// The request's outcome in its span: the final status, or the error's kind.
fn record_outcome(span: &tracing::Span, followed: &Result<Reply>) {
    match followed {
        Ok(response) => {
            let status = response.status();
            span.record("http.response.status_code", status.as_u16());
            if status.is_client_error() || status.is_server_error() {
                span.record("error.type", status.as_str());
            }
        }
        Err(error) => {
            span.record("error.type", attempt::error_type(error));
        }
    }
}

/// Sends `hop` and follows redirects, updating `hop` to the request that got the final
/// response; retries under the client's policy, if it has one, end before `deadline`.
async fn follow(
    client: &ClientInner,
    sender: Sender<'_>,
    hop: &mut Request,
    deadline: Option<Instant>,
) -> Result<Reply> {
    let follows = client.redirect.follows();
    // The URLs requested so far in a redirect chain, for the policy: empty until the first
    // redirect, so a lone request allocates nothing.
    let mut chain: Vec<Url> = Vec::new();
    let mut retries = client.retry.as_ref().map(|r| Retries::new(r, deadline));
    // The client's default credentials go only to the first request's origin, like the
    // request's own: once a redirect leaves it, they stay behind for every later hop.
    let mut default_credentials = Credentials::Send;
    // The heads of a redirect chain together, counted from its first redirect on.
    let mut chain_heads = 0;
    loop {
        let replayable = hop.body.as_ref().is_none_or(|b| b.as_bytes().is_some());
        let replay = Replay::of(&hop.method, &hop.headers, replayable);
        // Kept only when a redirect or a retry could need them again (a retry policy
        // retries only what `replay` allows to be sent twice); a request with no
        // headers of its own copies nothing (the client's defaults are added per hop).
        let (headers_again, mut body_again) = if follows || replay.possible() {
            let headers = (!hop.headers.is_empty()).then(|| hop.headers.clone());
            (headers, hop.body.as_ref().and_then(Body::try_clone))
        } else {
            (None, None)
        };
        let request = to_http(client, hop, default_credentials)?;
        // Captured by `&mut`, as `&Body` would make this future !Send (Body isn't Sync).
        let (method, url, version, body) = (&hop.method, &hop.url, hop.version, &mut body_again);
        let (headers, upload_progress) = (&headers_again, &hop.upload_progress);
        let again = move || {
            let mut again = Request::new(method.clone(), url.clone());
            again.version = version;
            again.upload_progress = upload_progress.clone();
            to_http_again(client, again, headers, body, default_credentials)
        };
        let response = match &mut retries {
            None => attempt::send(sender, request, url, replay, again).await?,
            // Boxed: a client without a policy keeps the smaller future.
            Some(retries) => Box::pin(retries.send(sender, request, url, replay, again)).await?,
        };
        #[cfg(feature = "cookies")]
        if let Some(store) = &client.cookie_store {
            crate::cookie::store_response_cookies(store.as_ref(), response.headers(), &hop.url);
        }
        if !chain.is_empty() || response.status().is_redirection() {
            redirect::add_to_chain(
                &mut chain_heads,
                &response,
                client.max_response_header_size,
                chain.len() + 1,
                &hop.url,
            )?;
        }
        if !response.status().is_redirection() {
            return Ok(response);
        }
        chain.push(hop.url.clone());
        let next = redirect::next_hop(
            &client.redirect,
            response.status(),
            response.headers(),
            &hop.url,
            &hop.method,
            &chain,
            replayable,
        )?;
        let Some(next) = next else {
            return Ok(response);
        };
        if client.https_only && next.url.scheme() != "https" {
            return Err(Error::redirect(format!(
                "refusing the redirect to {}: the client is https_only",
                next.url
            ))
            .for_url(&hop.url));
        }
        tracing::debug!(
            parent: sender.span().and_then(tracing::Span::id),
            http.response.status_code = response.status().as_u16(),
            url.full = %crate::redact::url_full(&next.url),
            "following a redirect"
        );
        // The redirect's own body is not read: dropping it closes that connection unless
        // it was already complete, which bounds what a hostile server can make us read.
        drop(response);
        let mut headers = headers_again.unwrap_or_default();
        if redirect::headers_for_hop(&mut headers, &hop.url, &next, client.referer) {
            default_credentials = Credentials::LeftBehind;
        }
        hop.headers = headers;
        hop.body = if next.drop_body { None } else { body_again };
        hop.method = next.method;
        hop.url = next.url;
    }
}

/// The hyper request for a hop once more (`again` has its method, URL and version), from
/// the copies kept of its headers and body.
fn to_http_again(
    client: &ClientInner,
    mut again: Request,
    headers: &Option<HeaderMap>,
    body: &Option<Body>,
    credentials: Credentials,
) -> Result<http::Request<Body>> {
    again.headers = headers.clone().unwrap_or_default();
    again.body = body.as_ref().and_then(Body::try_clone);
    to_http(client, &mut again, credentials)
}

/// The client's default headers, for the names `headers` did not set (credentials only
/// while `credentials` allows): a name's first value.
fn fill_defaults(client: &ClientInner, headers: &mut HeaderMap, credentials: Credentials) {
    let defaults = &client.default_headers;
    // Most requests have no headers of their own: then, when each default name has one
    // value, every default goes in as it is, without a lookup of each name (and `Range`).
    if headers.is_empty()
        && credentials == Credentials::Send
        && defaults.keys_len() == defaults.len()
    {
        for (name, value) in defaults {
            headers.append(name.clone(), value.clone());
        }
        return;
    }
    for (name, value) in defaults {
        if credentials == Credentials::LeftBehind && crate::redact::is_credential(name) {
            continue;
        }
        // A range of a compressed representation can't be decoded on its own (a 206 of
        // a gzip body starts mid-stream), so a range request asks for the identity one.
        if name == ACCEPT_ENCODING
            && client.accept_encoding_is_automatic
            && headers.contains_key(RANGE)
        {
            continue;
        }
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
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
/// fill in names the request did not set (credentials only while `credentials` allows),
/// then the cookie store its cookies for this URL;
/// an `http://` request sent to an HTTP proxy gets the proxy's credentials and
/// `Proxy::headers`. Those are added here, per hop, and never to `hop.headers`, so a
/// redirect can't carry them to another destination.
fn to_http(
    client: &ClientInner,
    hop: &mut Request,
    credentials: Credentials,
) -> Result<http::Request<Body>> {
    let uri: Uri = match crate::into_url::request_target(&hop.url) {
        Some(uri) => uri,
        None => hop.url.as_str().parse().map_err(|e| {
            Error::invalid_url(format!("cannot be sent as an HTTP request target: {e}"))
                .for_url(&hop.url)
        })?,
    };
    let mut body = hop.body.take().unwrap_or_default();
    if let Some(progress) = &hop.upload_progress {
        body = crate::progress::counting(body, progress);
    }
    let mut request = http::Request::new(body);
    *request.method_mut() = hop.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = hop.version;
    let headers = request.headers_mut();
    // Swapped, not taken: the request's own empty map goes back into `hop` instead of
    // being dropped here and another made for `hop`.
    std::mem::swap(headers, &mut hop.headers);
    fill_defaults(client, headers, credentials);
    // Added here, after `headers_again` was copied: the jar decides again for each hop.
    #[cfg(feature = "cookies")]
    if let Some(store) = &client.cookie_store {
        crate::cookie::add_request_cookies(store.as_ref(), headers, &hop.url);
    }
    // Whoever set them (`Request::headers_mut` takes values as they are, and the jar's
    // `Cookie` is new): credentials are never indexed by h2's HPACK, nor printed by a
    // Debug of the request.
    crate::redact::mark_credentials(headers);
    if let Some(proxies) = &client.proxies {
        proxies.add_forward_headers(&mut request);
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
    use http::Method;

    use super::*;
    use crate::Client;

    fn defaults(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    /// The headers `to_http` sends for a request with `own` headers, on `client`.
    fn sent(client: &Client, own: HeaderMap, credentials: Credentials) -> HeaderMap {
        let url = Url::parse("https://example.test/").unwrap();
        let mut hop = Request::new(Method::GET, url);
        *hop.headers_mut() = own;
        let request = to_http(&client.inner, &mut hop, credentials).unwrap();
        request.headers().clone()
    }

    fn values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
        let all = headers.get_all(name).iter();
        all.map(|v| v.to_str().unwrap()).collect()
    }

    #[test]
    fn a_request_without_headers_gets_every_default_in_order() {
        let client = Client::builder()
            .default_headers(defaults(&[("x-team", "core")]))
            .build()
            .unwrap();
        let headers = sent(&client, HeaderMap::new(), Credentials::Send);
        let names: Vec<&str> = headers.keys().map(|n| n.as_str()).collect();
        let expected: Vec<&str> = client
            .inner
            .default_headers
            .keys()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(names, expected);
        assert_eq!(values(&headers, "x-team"), ["core"]);
        assert!(headers.contains_key(USER_AGENT) && headers.contains_key(ACCEPT));
    }

    #[test]
    fn a_default_with_two_values_sends_its_first_as_filling_does() {
        // reqwest's rule too: a default fills a name the request lacks with its first value.
        let client = Client::builder()
            .default_headers(defaults(&[("x-pair", "one"), ("x-pair", "two")]))
            .build()
            .unwrap();
        let defaults = &client.inner.default_headers;
        assert!(
            defaults.keys_len() < defaults.len(),
            "a name with two values"
        );
        let headers = sent(&client, HeaderMap::new(), Credentials::Send);
        assert_eq!(values(&headers, "x-pair"), ["one"]);
    }

    #[test]
    fn default_credentials_stay_behind_on_another_origin_without_own_headers() {
        let client = Client::builder()
            .default_headers(defaults(&[
                ("authorization", "Bearer t0k"),
                ("x-team", "core"),
            ]))
            .build()
            .unwrap();
        let defaults = &client.inner.default_headers;
        assert_eq!(defaults.keys_len(), defaults.len(), "one value a name");
        let headers = sent(&client, HeaderMap::new(), Credentials::LeftBehind);
        assert!(!headers.contains_key(AUTHORIZATION));
        assert_eq!(values(&headers, "x-team"), ["core"]);
        let headers = sent(&client, HeaderMap::new(), Credentials::Send);
        assert_eq!(values(&headers, "authorization"), ["Bearer t0k"]);
        assert!(headers[AUTHORIZATION].is_sensitive());
    }

    #[test]
    fn a_request_s_own_headers_win_and_a_range_goes_without_automatic_encodings() {
        let client = Client::new();
        assert!(client.inner.accept_encoding_is_automatic);
        let own = defaults(&[("range", "bytes=0-9"), ("accept", "text/plain")]);
        let headers = sent(&client, own, Credentials::Send);
        assert_eq!(values(&headers, "accept"), ["text/plain"]);
        assert!(!headers.contains_key(ACCEPT_ENCODING));
        assert!(headers.contains_key(USER_AGENT));
        let headers = sent(&client, HeaderMap::new(), Credentials::Send);
        assert!(headers.contains_key(ACCEPT_ENCODING));
    }

    #[test]
    fn the_request_path_s_futures_keep_their_requests_once() {
        use std::mem::{size_of, size_of_val};
        let client = Client::new();
        let inner = &client.inner;
        let url = Url::parse("https://example.test/").unwrap();
        let sender = Sender {
            pool: inner.pool.first(),
            pacing: None,
            max_head: inner.max_response_header_size,
            observed: None,
        };
        let mut hop = Request::new(Method::GET, url.clone());
        let follow_size = size_of_val(&follow(inner, sender, &mut hop, None));
        let hop = Request::new(Method::GET, url.clone());
        let loop_size = size_of_val(&send_async(client.inner.clone(), Ok(hop), Layers::Skip));
        // Taken out of its `Result` (or kept by an `async fn` as given and as its own
        // copy), the request would be in the loop's future twice besides `follow`'s.
        let request_size = size_of::<Request>();
        assert!(
            loop_size - follow_size < 2 * request_size,
            "{loop_size} - {follow_size} bytes, requests of {request_size}"
        );
        // The attempt's own future: its hyper request and the rest of its state, the
        // sender, URL, tracing and the head's timer (568 bytes here); an `async fn` would
        // hold the request twice (824).
        let request = http::Request::new(Body::empty());
        let http_size = size_of_val(&request);
        let replay = Replay::of(&Method::GET, &HeaderMap::new(), true);
        let again = || Ok(http::Request::new(Body::empty()));
        let attempt_size = size_of_val(&attempt::send(sender, request, &url, replay, again));
        assert!(
            attempt_size < 2 * http_size + 200,
            "{attempt_size} bytes, hyper requests of {http_size}"
        );
        // The retry loop's, when the client has a policy: one attempt's future, the
        // request for the next, the last response and the wait (1,216 bytes here); the
        // request kept twice would take it past this bound (1,520).
        let client = Client::builder()
            .retry(crate::retry::Policy::default())
            .build()
            .unwrap();
        let mut retries = Retries::new(client.inner.retry.as_ref().unwrap(), None);
        let request = http::Request::new(Body::empty());
        let again = || Ok(http::Request::new(Body::empty()));
        let retries_size = size_of_val(&retries.send(sender, request, &url, replay, again));
        assert!(
            retries_size < attempt_size + 3 * http_size,
            "{retries_size} bytes, attempts of {attempt_size}, hyper requests of {http_size}"
        );
    }
}
