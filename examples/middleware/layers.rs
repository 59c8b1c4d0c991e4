//! Two layers a service puts inside its wireline client (`ClientBuilder::layer`):
//! a bearer token that is refreshed once when the server says 401, and a record of each
//! host's latency. Plain tower: a `Layer` that makes a `Service`. The tests include this
//! file (`tests/http/middleware_example.rs`), so what the example shows is what is tested.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::header::{HeaderValue, AUTHORIZATION};
use http::StatusCode;
use tower::{Layer, Service, ServiceExt};
use wireline::layer::BoxError;
use wireline::Body;

type Request = http::Request<Body>;
type Response = http::Response<Body>;
type Responding = Pin<Box<dyn Future<Output = Result<Response, BoxError>> + Send>>;

/// Where new tokens come from: a login call, a token endpoint, a file a sidecar rewrites.
pub(crate) type Refresh =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<String, BoxError>> + Send>> + Send + Sync>;

/// Sends `Authorization: Bearer <token>` with every request. When the server answers 401,
/// gets a new token once and sends the request again with it; a second 401 is returned
/// as it is (the new token is refused too: retrying would loop).
#[derive(Clone)]
pub(crate) struct BearerAuthLayer {
    token: Arc<tokio::sync::Mutex<Option<String>>>,
    refresh: Refresh,
}

impl BearerAuthLayer {
    /// No token yet: the first request fetches one.
    pub(crate) fn new(refresh: Refresh) -> BearerAuthLayer {
        BearerAuthLayer {
            token: Arc::default(),
            refresh,
        }
    }
}

impl<S> Layer<S> for BearerAuthLayer {
    type Service = BearerAuth<S>;

    fn layer(&self, inner: S) -> BearerAuth<S> {
        BearerAuth {
            inner,
            auth: self.clone(),
        }
    }
}

/// The service of [`BearerAuthLayer`].
#[derive(Clone)]
pub(crate) struct BearerAuth<S> {
    inner: S,
    auth: BearerAuthLayer,
}

impl BearerAuthLayer {
    /// The current token, fetched if there is none yet, or replaced if it is `stale` (the
    /// one a 401 refused). Behind one lock, so a burst of 401s refreshes once.
    async fn token(&self, stale: Option<&str>) -> Result<String, BoxError> {
        let mut token = self.token.lock().await;
        match token.as_deref() {
            Some(current) if Some(current) != stale => Ok(current.to_owned()),
            _ => {
                let fresh = (self.refresh)().await?;
                *token = Some(fresh.clone());
                Ok(fresh)
            }
        }
    }
}

fn with_token(mut request: Request, token: &str) -> Result<Request, BoxError> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}"))?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(request)
}

/// A copy of `request` to send again, unless its body is a stream (sent as it is read,
/// so it can't be sent twice).
fn copy(request: &Request) -> Option<Request> {
    let body = Body::from(request.body().as_bytes()?.to_vec());
    let mut copy = http::Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    Some(copy)
}

impl<S> Service<Request> for BearerAuth<S>
where
    S: Service<Request, Response = Response, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = BoxError;
    type Future = Responding;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Responding {
        // The clone is sent; `self.inner`, made ready by poll_ready, stays for the next.
        let inner = self.inner.clone();
        let auth = self.auth.clone();
        Box::pin(async move {
            let token = auth.token(None).await?;
            let again = copy(&request);
            let response = inner.clone().oneshot(with_token(request, &token)?).await?;
            match (response.status(), again) {
                (StatusCode::UNAUTHORIZED, Some(again)) => {
                    let fresh = auth.token(Some(&token)).await?;
                    inner.oneshot(with_token(again, &fresh)?).await
                }
                _ => Ok(response),
            }
        })
    }
}

/// Each host's requests: how many, and their time to the response head.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct HostLatency {
    /// Requests sent to the host (each one a 401 made the bearer layer send again too).
    pub(crate) requests: u32,
    /// Their times to the response head, added up.
    pub(crate) total: Duration,
    /// The longest of them.
    pub(crate) slowest: Duration,
}

impl HostLatency {
    /// The mean time to the response head.
    pub(crate) fn mean(&self) -> Duration {
        self.total / self.requests.max(1)
    }
}

/// Records each host's latency (to the response head, failures included) in a table the
/// program reads with [`LatencyLayer::snapshot`].
#[derive(Clone, Default)]
pub(crate) struct LatencyLayer {
    hosts: Arc<Mutex<BTreeMap<String, HostLatency>>>,
}

impl LatencyLayer {
    /// The table so far, by host (`host:port`).
    pub(crate) fn snapshot(&self) -> BTreeMap<String, HostLatency> {
        self.hosts.lock().unwrap().clone()
    }
}

impl<S> Layer<S> for LatencyLayer {
    type Service = Latency<S>;

    fn layer(&self, inner: S) -> Latency<S> {
        Latency {
            inner,
            hosts: self.hosts.clone(),
        }
    }
}

/// The service of [`LatencyLayer`].
#[derive(Clone)]
pub(crate) struct Latency<S> {
    inner: S,
    hosts: Arc<Mutex<BTreeMap<String, HostLatency>>>,
}

impl<S> Service<Request> for Latency<S>
where
    S: Service<Request, Response = Response, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = BoxError;
    type Future = Responding;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Responding {
        let host = request
            .uri()
            .authority()
            .map_or_else(String::new, |a| a.to_string());
        let hosts = self.hosts.clone();
        let started = Instant::now();
        let responding = self.inner.call(request);
        Box::pin(async move {
            let result = responding.await;
            let took = started.elapsed();
            let mut hosts = hosts.lock().unwrap();
            let entry = hosts.entry(host).or_default();
            entry.requests += 1;
            entry.total += took;
            entry.slowest = entry.slowest.max(took);
            result
        })
    }
}
