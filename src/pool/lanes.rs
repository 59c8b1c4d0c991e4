//! A pool's lanes: lanes (`lane/`) side by side, so that an origin's h2 streams spread
//! over more than one connection when the server limits them.
//!
//! A lane keeps one h2 connection per origin and hands it to every request, as
//! hyper-util's pool did: past the server's `SETTINGS_MAX_CONCURRENT_STREAMS`, requests
//! would queue inside it (reqwest's #976). So a pool has lanes, each holding at most one
//! h2 connection to an origin. Once one of the pool's connections speaks h2, each request
//! is routed by `Origins::route`: to the first lane whose connection has a stream free under the
//! server's limit, else to a new lane (a new connection) if `pool_max_connections_per_host`
//! leaves room, else to the least busy. HTTP/1.1 origins always take the first lane, which
//! opens connections as it needs them. A request that comes while the first
//! dial to its origin is under way waits for its outcome (the protocol, an h2 server's
//! limit) before it is routed. Until one of the pool's connections speaks h2, and while
//! none is being dialled, a request pays two atomic loads for all this.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use super::lane::{Capture, Lane, PoolError, ResponseFuture};
use super::{PoolShape, Reply};
use crate::body::Body;
use crate::connect::gate::{origin_of, Routing};
use crate::connect::origins::{Origin, Route};
use crate::connect::streams::{StreamToken, Streams};
use crate::tls::{TlsConfig, TlsSettings};

/// The most lanes a pool opens: connections to one origin past this many share the
/// least busy (`pool_max_connections_per_host` bounds them lower).
const MAX_LANES: usize = 256;

/// The longest a request waits for the first dial to its origin to say how to route it
/// (its protocol, and an h2 server's limit), before it takes the first lane as it would
/// without lanes; `pool_acquire_timeout` shortens it.
const PATIENCE: Duration = Duration::from_secs(2);

/// A pool of one TLS configuration: its lanes (see the module docs).
pub(crate) struct Pool {
    first: Lane,
    /// Whether requests must be routed; until then, they take the first lane.
    routing: Arc<Routing>,
    /// The lanes' ids in the client's table (the first lane's first), and the lanes
    /// after the first.
    lanes: RwLock<(Vec<usize>, Vec<Arc<Lane>>)>,
    /// What makes another lane; `None` for a pool that keeps no connections.
    maker: Option<LaneMaker>,
}

/// What a new lane is built from: the first lane's settings.
struct LaneMaker {
    shape: PoolShape,
    tls: TlsConfig,
    settings: TlsSettings,
}

impl Pool {
    pub(super) fn new(shape: &PoolShape, tls: TlsConfig, settings: &TlsSettings) -> Pool {
        let routing = Arc::<Routing>::default();
        let pooling = shape.max_idle_per_host > 0;
        let id = shape.origins.pool_id();
        let first = shape.lane(
            tls.clone(),
            settings,
            (0, id),
            pooling.then(|| routing.clone()),
        );
        let maker = pooling.then(|| LaneMaker {
            shape: shape.clone(),
            tls,
            settings: settings.clone(),
        });
        Pool {
            first,
            routing,
            lanes: RwLock::new((vec![id], Vec::new())),
            maker,
        }
    }

    /// Sends `request` on the lane its origin's connections leave room on; the token,
    /// when routed to an h2 connection, counts it there until the response ends.
    #[inline]
    pub(crate) fn request(
        &self,
        request: http::Request<Body>,
        capture: Option<Capture>,
    ) -> (Sending<'_>, Option<StreamToken>) {
        if !self.routing.needed() {
            return (
                Sending::Now(self.first.request(request, None, capture)),
                None,
            );
        }
        let (Some(maker), Some(origin)) = (&self.maker, origin_of(request.uri())) else {
            return (
                Sending::Now(self.first.request(request, None, capture)),
                None,
            );
        };
        match self.route(maker, &origin, true) {
            Ok((lane, token)) => (
                Sending::Now(lane.request(request, Some(origin), capture)),
                token,
            ),
            Err(settled) => {
                let later = self.after_first_dial(maker, origin, settled, request, capture);
                (Sending::Later(Box::pin(later)), None)
            }
        }
    }

    /// The lane for a request to `origin`, and its token; `Err`: wait for the first
    /// dial's outcome, then ask again (when `patient`).
    fn route(
        &self,
        maker: &LaneMaker,
        origin: &Origin,
        patient: bool,
    ) -> Result<(LaneRef<'_>, Option<StreamToken>), Arc<Streams>> {
        loop {
            let lanes = self.lanes.read().unwrap_or_else(|e| e.into_inner());
            let (ids, more) = &*lanes;
            let may_grow = ids.len() < MAX_LANES;
            match maker.shape.origins.route(origin, ids, may_grow, patient) {
                Route::First => return Ok((LaneRef::First(&self.first), None)),
                Route::Lane(0, token) => return Ok((LaneRef::First(&self.first), Some(token))),
                Route::Lane(lane, token) => {
                    return Ok((LaneRef::More(more[lane - 1].clone()), Some(token)))
                }
                Route::Wait(streams) => return Err(streams),
                Route::Grow => {
                    drop(lanes);
                    self.grow(maker);
                }
            }
        }
    }

    /// A request that came while the first dial to its origin was under way: routed once
    /// that dial says how (or after [`PATIENCE`]), so a burst to a new h2 origin spreads
    /// by the server's limit rather than all joining the first connection.
    async fn after_first_dial(
        &self,
        maker: &LaneMaker,
        origin: Origin,
        mut settled: Arc<Streams>,
        request: http::Request<Body>,
        capture: Option<Capture>,
    ) -> Result<Reply, PoolError> {
        let patience = maker
            .shape
            .origins
            .acquire_timeout
            .map_or(PATIENCE, |t| t.min(PATIENCE));
        let until = tokio::time::Instant::now() + patience;
        let (lane, token) = loop {
            let watching = settled.clone();
            let notified = watching.settled().notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            let patient = tokio::time::Instant::now() < until;
            match self.route(maker, &origin, patient) {
                Ok(routed) => break routed,
                Err(streams) if Arc::ptr_eq(&streams, &settled) => {
                    if tokio::time::timeout_at(until, notified).await.is_err() {
                        // Nothing came: don't make the requests after this one wait too.
                        settled.assume_limit();
                    }
                }
                // Another connection's outcome to wait for: register on it first.
                Err(streams) => settled = streams,
            }
        };
        let mut reply = lane.request(request, Some(origin), capture).await?;
        reply.stream = token;
        Ok(reply)
    }

    /// Adds a lane (another thread may have just added one: then one more, which the
    /// next burst uses).
    #[cold]
    fn grow(&self, maker: &LaneMaker) {
        let mut lanes = self.lanes.write().unwrap_or_else(|e| e.into_inner());
        if lanes.0.len() >= MAX_LANES {
            return;
        }
        let id = maker.shape.origins.pool_id();
        let lane = maker.shape.lane(
            maker.tls.clone(),
            &maker.settings,
            (lanes.0.len(), id),
            Some(self.routing.clone()),
        );
        lanes.0.push(id);
        lanes.1.push(Arc::new(lane));
    }
}

/// A lane routed to: the first, borrowed, or another, shared with the pool.
enum LaneRef<'a> {
    First(&'a Lane),
    More(Arc<Lane>),
}

impl LaneRef<'_> {
    fn request(
        &self,
        request: http::Request<Body>,
        origin: Option<Origin>,
        capture: Option<Capture>,
    ) -> ResponseFuture {
        match self {
            LaneRef::First(lane) => lane.request(request, origin, capture),
            LaneRef::More(lane) => lane.request(request, origin, capture),
        }
    }
}

/// A request on its way into a lane: at once, or once the first dial to its origin said
/// how to route it.
pub(crate) enum Sending<'a> {
    Now(ResponseFuture),
    Later(Pin<Box<dyn Future<Output = Sent> + Send + 'a>>),
}

type Sent = Result<Reply, PoolError>;

impl Future for Sending<'_> {
    type Output = Sent;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Sent> {
        match self.get_mut() {
            Sending::Now(future) => Pin::new(future).poll(cx),
            Sending::Later(future) => future.as_mut().poll(cx),
        }
    }
}
