//! `ClientBuilder::connector_layer`: tower layers around the dialer, as in reqwest 0.13.
//! The client's `connect_timeout` goes around them all, so it bounds the time a layer
//! holds a connection back (a concurrency limit's queue) as well as the dial.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use tower::util::{BoxCloneSyncService, BoxCloneSyncServiceLayer};
use tower::{Layer, Service, ServiceExt};

use super::conn::Conn;
use super::Dialer;
use crate::error::BoxError;
use crate::timeouts::connect_within;

/// Where a connection is wanted: what the layers of
/// [`connector_layer`](crate::ClientBuilder::connector_layer) receive, as reqwest's
/// connector layers do (there it can't be named; here it can, to log or route by it).
///
/// ```
/// use std::task::{Context, Poll};
/// use tower::Service;
/// use wireline::layer::Destination;
///
/// /// Prints where each new connection goes.
/// #[derive(Clone)]
/// struct LogDials<S>(S);
///
/// impl<S: Service<Destination>> Service<Destination> for LogDials<S> {
///     type Response = S::Response;
///     type Error = S::Error;
///     type Future = S::Future;
///
///     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
///         self.0.poll_ready(cx)
///     }
///
///     fn call(&mut self, dst: Destination) -> S::Future {
///         eprintln!("connecting to {}", dst.uri());
///         self.0.call(dst)
///     }
/// }
///
/// let client = wireline::Client::builder()
///     .connector_layer(tower::layer::layer_fn(LogDials))
///     .build();
/// ```
#[derive(Debug)]
pub struct Destination(Uri);

impl Destination {
    /// The scheme, host and port to connect to (`https://example.com:443`).
    pub fn uri(&self) -> &Uri {
        &self.0
    }
}

/// The service each connector layer wraps: the dialer, with the layers installed before.
pub type ConnectorService = BoxCloneSyncService<Destination, Conn, BoxError>;

/// A connector layer, boxed so a client can hold any number of them.
pub(crate) type ConnectorLayer =
    BoxCloneSyncServiceLayer<ConnectorService, Destination, Conn, BoxError>;

/// The dialer inside its layers, under the connect timeout.
pub(crate) struct Layered {
    service: ConnectorService,
    timeout: Option<Duration>,
}

impl Layered {
    /// `layers` in the order they were installed: each wraps the ones before it.
    pub(super) fn new(
        dialer: Dialer,
        layers: &[ConnectorLayer],
        timeout: Option<Duration>,
    ) -> Layered {
        let mut service = ConnectorService::new(Untimed(Arc::new(dialer)));
        for layer in layers {
            service = layer.layer(service);
        }
        Layered { service, timeout }
    }

    /// Opens a connection through the layers: a clone of them, made ready (a limit's
    /// permit taken) and called inside the future, all within the connect timeout.
    pub(super) fn call(&self, dst: Uri) -> super::ConnFuture {
        let connecting = self.service.clone().oneshot(Destination(dst));
        Box::pin(connect_within(self.timeout, connecting))
    }
}

/// The dialer as the innermost service, without its own connect timeout: the layers'
/// timeout goes around them all instead.
#[derive(Clone)]
struct Untimed(Arc<Dialer>);

impl Service<Destination> for Untimed {
    type Response = Conn;
    type Error = BoxError;
    type Future = super::ConnFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Destination) -> Self::Future {
        self.0.dial(dst.0, None)
    }
}
