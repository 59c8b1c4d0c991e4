//! A pool's lanes: hyper-util pools side by side, so that an origin's h2 streams spread
//! over more than one connection when the server limits them.
//!
//! hyper-util's pool keeps one h2 connection per origin and hands it to every request:
//! past the server's `SETTINGS_MAX_CONCURRENT_STREAMS`, requests queue inside it
//! (reqwest's #976). A lane is one hyper-util pool, holding at most one h2 connection to
//! an origin. Once one of the pool's connections speaks h2, each request is routed by
//! `Origins::route`: to the first lane whose connection has a stream free under the
//! server's limit, else to a new lane (a new connection) if `pool_max_connections_per_host`
//! leaves room, else to the least busy. HTTP/1.1 origins always take the first lane, where
//! hyper-util opens connections as it needs them. Until a connection speaks h2, a request
//! pays one atomic load for all this.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use hyper_util::client::legacy::{Client as PooledClient, ResponseFuture};

use super::PoolShape;
use crate::body::Body;
use crate::connect::gate::origin_of;
use crate::connect::origins::Route;
use crate::connect::streams::StreamToken;
use crate::connect::Connector;
use crate::tls::{TlsConfig, TlsSettings};

/// One lane: a pooled hyper client over our connector.
pub(crate) type Lane = PooledClient<Connector, Body>;

/// The most lanes a pool opens: connections to one origin past this many share the
/// least busy (`pool_max_connections_per_host` bounds them lower).
const MAX_LANES: usize = 256;

/// A pool of one TLS configuration: its lanes (see the module docs).
pub(crate) struct Pool {
    first: Lane,
    /// Set when a connection of any lane speaks h2; until then requests are not routed.
    h2_seen: Arc<AtomicBool>,
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
        let h2_seen = Arc::new(AtomicBool::new(false));
        let pooling = shape.max_idle_per_host > 0;
        let id = shape.origins.pool_id();
        let first = shape.lane(
            tls.clone(),
            settings,
            (0, id),
            pooling.then(|| h2_seen.clone()),
        );
        let maker = pooling.then(|| LaneMaker {
            shape: shape.clone(),
            tls,
            settings: settings.clone(),
        });
        Pool {
            first,
            h2_seen,
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
    ) -> (ResponseFuture, Option<StreamToken>) {
        if !self.h2_seen.load(Ordering::Relaxed) {
            return (self.first.request(request), None);
        }
        self.routed(request)
    }

    fn routed(&self, request: http::Request<Body>) -> (ResponseFuture, Option<StreamToken>) {
        let (Some(maker), Some(origin)) = (&self.maker, origin_of(request.uri())) else {
            return (self.first.request(request), None);
        };
        loop {
            let lanes = self.lanes.read().unwrap_or_else(|e| e.into_inner());
            let (ids, more) = &*lanes;
            match maker
                .shape
                .origins
                .route(&origin, ids, ids.len() < MAX_LANES)
            {
                Route::First => return (self.first.request(request), None),
                Route::Lane(0, token) => return (self.first.request(request), Some(token)),
                Route::Lane(lane, token) => {
                    let lane = more[lane - 1].clone();
                    drop(lanes);
                    return (lane.request(request), Some(token));
                }
                Route::Grow => {
                    drop(lanes);
                    self.grow(maker);
                }
            }
        }
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
            Some(self.h2_seen.clone()),
        );
        lanes.0.push(id);
        lanes.1.push(Arc::new(lane));
    }
}
