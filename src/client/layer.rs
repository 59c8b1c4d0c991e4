//! Tower layers inside a client (`wireline::layer`): around its request loop
//! (`ClientBuilder::layer`) and around its dialer (`ClientBuilder::connector_layer`,
//! whose types live with the connector). docs/middleware.md says which concern goes where.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use tower::util::{BoxCloneSyncService, BoxCloneSyncServiceLayer};
use tower::{Layer, Service, ServiceExt};
use url::Url;

pub use crate::connect::conn::Conn;
pub use crate::connect::layer::{ConnectorService, Destination};

use crate::connect::layer::ConnectorLayer;

use super::send::{self, Layers};
use super::{ClientBuilder, ClientInner};
use crate::body::Body;
use crate::error::{Error, ErrorKind, Result};
use crate::request::Request;
use crate::response::Response;
use crate::timeouts::Deadline;

/// The error type of the services layers wrap: any error, boxed (tower's `BoxError`).
/// wireline's own errors are [`Error`]s inside it, and come out of `send()` as they went in.
pub type BoxError = crate::error::BoxError;

/// The service each layer of [`ClientBuilder::layer`](crate::ClientBuilder::layer) wraps:
/// the client's request loop (redirects, retries, cookies, the pool), with the layers
/// installed before it around it. It takes an `http::Request` and answers an
/// `http::Response`, so tower-http's layers fit; the request's URL is its URI.
pub type RequestService = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// A request layer, boxed so a client can hold any number of them.
pub(crate) type RequestLayer =
    BoxCloneSyncServiceLayer<RequestService, http::Request<Body>, http::Response<Body>, BoxError>;

/// The layers around the request loop of `client`, the last installed outermost. The
/// loop holds the client weakly: the client holds the layers.
pub(super) fn stack(layers: &[RequestLayer], client: Weak<ClientInner>) -> RequestService {
    let mut service = RequestService::new(RequestLoop(client));
    for layer in layers {
        service = layer.layer(service);
    }
    service
}

/// The layers, for both kinds of client (docs/middleware.md has the guide).
impl<C> ClientBuilder<C> {
    /// Adds a tower [`Layer`] around the client's request loop, so every request sent
    /// with this client goes through it: once per `send()`, before redirects, retries,
    /// the client's default headers and cookies are applied, and its response comes back
    /// through it. For the concerns of a whole request: auth tokens and their refresh,
    /// request ids, logging, metrics per call, rate limits, caching, record and replay.
    ///
    /// The layer wraps a [`RequestService`] from `http::Request<Body>` to
    /// `http::Response<Body>`, so tower-http's layers fit. Each call wraps the layers
    /// added before it: the last added sees a request first. A layer may fail with any
    /// error; it is then an [`is_middleware`](crate::Error::is_middleware) error (tower's
    /// timeout is an [`is_timeout`](crate::Error::is_timeout) one), and wireline's own
    /// errors come through as they were. The request's [`timeout`](crate::ClientBuilder::timeout)
    /// bounds the layers' work too. A client without layers pays one branch per request.
    ///
    /// ```
    /// use http::header::{HeaderName, HeaderValue};
    /// use tower_http::set_header::SetRequestHeaderLayer;
    ///
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .layer(SetRequestHeaderLayer::if_not_present(
    ///         HeaderName::from_static("x-request-source"),
    ///         HeaderValue::from_static("nightly-report"),
    ///     ))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn layer<L>(self, layer: L) -> Self
    where
        L: Layer<RequestService> + Clone + Send + Sync + 'static,
        L::Service: Service<http::Request<Body>, Response = http::Response<Body>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<http::Request<Body>>>::Error: Into<BoxError>,
        <L::Service as Service<http::Request<Body>>>::Future: Send + 'static,
    {
        // Boxed, its service's errors boxed too, so a layer may fail with any error type.
        let layer = RequestLayer::new(tower::layer::layer_fn(move |inner| {
            tower::util::MapErr::new(layer.layer(inner), Into::into)
        }));
        self.set(|s| s.layers.push(layer))
    }

    /// Adds a tower [`Layer`] around the connector, the service that opens connections
    /// (DNS, TCP, any proxy, TLS), as reqwest 0.13's `connector_layer`: a concurrency
    /// limit on dials, a timeout, a log of each new connection. It sees each connection
    /// the pool opens, not each request: reused connections don't pass through it.
    ///
    /// Each call wraps the layers added before it, and the client's
    /// [`connect_timeout`](crate::ClientBuilder::connect_timeout) goes around them all (so it counts the
    /// time a limit holds a dial back). The layers are applied to each of the client's
    /// pools: its own, and one per distinct per-request [`TlsOptions`](crate::TlsOptions)
    /// (so a limit counts per pool). A client without connector layers pays nothing.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     // Around the layers: it counts the wait for the limit too.
    ///     .connect_timeout(Duration::from_secs(10))
    ///     // At most 2 connections being opened at once; the others wait their turn.
    ///     .connector_layer(tower::limit::ConcurrencyLimitLayer::new(2))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn connector_layer<L>(self, layer: L) -> Self
    where
        L: Layer<ConnectorService> + Clone + Send + Sync + 'static,
        L::Service: Service<Destination, Response = Conn> + Clone + Send + Sync + 'static,
        <L::Service as Service<Destination>>::Error: Into<BoxError>,
        <L::Service as Service<Destination>>::Future: Send + 'static,
    {
        // As in `layer`; reqwest takes only layers whose error is `BoxError`.
        let layer = ConnectorLayer::new(tower::layer::layer_fn(move |inner| {
            tower::util::MapErr::new(layer.layer(inner), Into::into)
        }));
        self.set(|s| s.connector_layers.push(layer))
    }
}

/// Sends `request` through the layers: what `send()` is for a client that has some.
/// The request's timeout (or the client's) bounds the layers' work too.
///
/// An `async` block, not an `async fn`, whose future would keep `request` twice (as
/// given, and the body's own copy: rust-lang/rust#62958).
#[allow(clippy::manual_async_fn)]
pub(super) fn send(
    stack: RequestService,
    client: Arc<ClientInner>,
    request: Request,
) -> impl Future<Output = Result<Response>> + Send + 'static {
    async move {
        let url = request.url.clone();
        let deadline = request.timeout.or(client.timeout).map(Deadline::after);
        let request = http::Request::try_from(request)?;
        let through = stack.oneshot(request);
        let response = match &deadline {
            None => through.await,
            Some(deadline) => match tokio::time::timeout_at(deadline.instant(), through).await {
                Ok(response) => response,
                Err(_) => return Err(deadline.error().for_url(&url)),
            },
        };
        // Held until here so the loop at the bottom of the stack always finds its client.
        drop(client);
        Ok(Response::from(response.map_err(|e| from_layer(e, &url))?))
    }
}

/// A layer's error as ours: our own pass through as they were; tower's timeout is a
/// timeout; anything else is a middleware error that keeps it as its source.
fn from_layer(e: BoxError, url: &Url) -> Error {
    let e = match e.downcast::<Error>() {
        Ok(ours) => return *ours,
        Err(other) => other,
    };
    let (kind, message) = if e.is::<tower::timeout::error::Elapsed>() {
        (
            ErrorKind::Timeout,
            "a timeout layer of the client (ClientBuilder::layer) ran out before the \
             response head arrived"
                .to_owned(),
        )
    } else {
        (
            ErrorKind::Middleware,
            format!("a layer of the client (ClientBuilder::layer) failed: {e}"),
        )
    };
    Error::new(kind, message).with_source(e).for_url(url)
}

/// The request loop as the innermost service of the stack.
#[derive(Clone)]
struct RequestLoop(Weak<ClientInner>);

impl Service<http::Request<Body>> for RequestLoop {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let client = self.0.upgrade();
        Box::pin(async move {
            // `send` above holds the client while its request is in the stack; a layer
            // that keeps a request past that (a spawned task) finds it gone.
            let client = client.ok_or_else(|| {
                Error::new(
                    ErrorKind::Middleware,
                    "a layer sent a request after its client was dropped",
                )
            })?;
            let request = Request::try_from(request)?;
            let response = send::send(client, Ok(request), Layers::Skip).await?;
            Ok(response.into())
        })
    }
}
