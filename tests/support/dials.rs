//! A connector layer that runs a test's closure around each dial, so a test that counts or
//! holds dials writes only what it does, not tower's types.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower::Service;
use wireline::layer::{BoxError, Conn, ConnectorService, Destination};

/// One dial, as the closure of [`around_dials`] returns it.
pub type DialFuture = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

/// A layer for `ClientBuilder::connector_layer` that hands each dial's destination, with
/// the connector it wraps, to `around`, whose future is the dial.
pub fn around_dials<F>(around: F) -> AroundDials<F>
where
    F: Fn(ConnectorService, Destination) -> DialFuture + Clone + Send + Sync + 'static,
{
    AroundDials(around)
}

#[derive(Clone)]
pub struct AroundDials<F>(F);

impl<F: Clone> tower::Layer<ConnectorService> for AroundDials<F> {
    type Service = AroundDial<F>;

    fn layer(&self, inner: ConnectorService) -> AroundDial<F> {
        AroundDial {
            inner,
            around: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AroundDial<F> {
    inner: ConnectorService,
    around: F,
}

impl<F> Service<Destination> for AroundDial<F>
where
    F: Fn(ConnectorService, Destination) -> DialFuture,
{
    type Response = Conn;
    type Error = BoxError;
    type Future = DialFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Destination) -> DialFuture {
        (self.around)(self.inner.clone(), dst)
    }
}
