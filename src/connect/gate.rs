//! The gate in front of every dial: `pool_max_connections_per_host`,
//! `pool_acquire_timeout`, and one dial at a time to an origin whose protocol is unknown
//! (the table is `origins.rs`; the rules are docs/pooling.md's).
//!
//! The pool's lane races each request's wait for a connection against a dial, and when a
//! connection comes first after the dial started, it spawns the dial to finish in the
//! background (`crate::pool`'s lane, as hyper-util's `Client::one_connection_for` did). A
//! dial waiting here for a slot must then end, or a burst would leave one task per request
//! waiting for ever. It tells the two apart by where it is polled: the lane calls the
//! connector inside the request's own future, which `crate::attempt` polls inside
//! [`PollingRequest`]; a spawned dial is polled by its own task, outside it. Ending is
//! safe only there: the lane fails a request whose own dial fails.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;

use super::origins::{Admission, Origin, Origins, Queued};
use super::{ConnFuture, Connector};
use crate::error::BoxError;

thread_local! {
    /// How many requests' polls are running on this thread (nested: a request polled
    /// inside another's poll, which nothing does today, still counts).
    static POLLING_REQUESTS: Cell<u32> = const { Cell::new(0) };
}

/// Marks a request's poll of the pool's future, for the dials it starts (see the module
/// docs). Two thread-local writes per poll, on every request.
pub(crate) struct PollingRequest(());

impl PollingRequest {
    #[inline]
    pub(crate) fn enter() -> PollingRequest {
        POLLING_REQUESTS.with(|n| n.set(n.get() + 1));
        PollingRequest(())
    }
}

impl Drop for PollingRequest {
    #[inline]
    fn drop(&mut self) {
        POLLING_REQUESTS.with(|n| n.set(n.get() - 1));
    }
}

/// Whether a request is polling: a dial polled outside one was spawned by the pool.
fn polled_by_its_request() -> bool {
    POLLING_REQUESTS.with(|n| n.get() > 0)
}

/// What a pool's gate is: the client's table, and what the pool is in it.
pub(crate) struct GatePlan {
    pub(crate) origins: Arc<Origins>,
    /// The pool's id in the table.
    pub(crate) pool: usize,
    /// Whether the dial rule applies to the pool's https dials: it keeps connections (so
    /// a request may wait for another's), and its ALPN lets the server choose h2.
    pub(crate) dial_rule: bool,
    /// What the pool's lanes (`crate::pool`) route by, which the gate keeps up; `None`
    /// for a pool without lanes (one that keeps no connections).
    pub(crate) routing: Option<Arc<Routing>>,
}

/// When a pool's requests need routing over its lanes: once one of its connections spoke
/// h2, or while it is dialling (a request may then wait for the dial's outcome). Until
/// then, a request reads the two and takes the first lane.
#[derive(Debug, Default)]
pub(crate) struct Routing {
    h2_seen: AtomicBool,
    dialing: AtomicUsize,
}

impl Routing {
    /// Whether requests must be routed.
    #[inline]
    pub(crate) fn needed(&self) -> bool {
        self.h2_seen.load(Ordering::Relaxed) || self.dialing.load(Ordering::Relaxed) > 0
    }
}

/// A dial counted in its pool's [`Routing`] while it lasts.
struct RoutingDial(Option<Arc<Routing>>);

impl RoutingDial {
    fn start(routing: Option<Arc<Routing>>) -> RoutingDial {
        if let Some(routing) = &routing {
            routing.dialing.fetch_add(1, Ordering::Relaxed);
        }
        RoutingDial(routing)
    }
}

impl Drop for RoutingDial {
    fn drop(&mut self) {
        if let Some(routing) = &self.0 {
            routing.dialing.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A pool's gate: the client's table, and what this pool is in it.
pub(crate) struct Gate {
    origins: Arc<Origins>,
    pool: usize,
    dial_rule: bool,
    routing: Option<Arc<Routing>>,
}

impl Gate {
    pub(crate) fn new(plan: GatePlan) -> Gate {
        let GatePlan {
            origins,
            pool,
            dial_rule,
            routing,
        } = plan;
        Gate {
            origins,
            pool,
            dial_rule,
            routing,
        }
    }

    /// `connector`'s dial to `dst`, once the gate lets it through; the connection holds
    /// its slot until hyper drops it.
    pub(crate) fn dial(&self, dst: Uri, connector: Connector) -> ConnFuture {
        // Plain http:// is HTTP/1.1 but with prior knowledge, where the lane itself
        // dials one connection at a time.
        let dial_rule = self.dial_rule && dst.scheme() == Some(&http::uri::Scheme::HTTPS);
        let counted = dial_rule || self.origins.cap.is_some() || self.routing.is_some();
        let origin = match origin_of(&dst) {
            Some(origin) if counted => origin,
            _ => return connector.dial_now(dst),
        };
        let routing = RoutingDial::start(self.routing.clone());
        let admission = self.origins.admit(&origin, self.pool, dial_rule);
        let waiting = match admission {
            Admission::Now(dialing) => Ok(dialing),
            Admission::Queued(queued) => Err(Waiting {
                queued,
                deadline: self
                    .origins
                    .acquire_timeout
                    .map(|after| (after, Box::pin(tokio::time::sleep(after)))),
            }),
        };
        Box::pin(async move {
            let slot = match waiting {
                Ok(dialing) => dialing,
                Err(waiting) => waiting.await.map_err(NoSlot::into_error)?,
            };
            match connector.dial_now(dst).await {
                Ok(conn) => {
                    let (slot, streams) = slot.opened(conn.is_h2());
                    let conn = conn.holding(slot);
                    match (streams, &routing.0) {
                        (Some(streams), Some(pool)) => {
                            pool.h2_seen.store(true, Ordering::Relaxed);
                            Ok(conn.learning_limit(streams))
                        }
                        _ => Ok(conn),
                    }
                }
                Err(e) => {
                    slot.failed();
                    Err(e)
                }
            }
        })
    }
}

/// The origin the pool keys `dst` by.
pub(crate) fn origin_of(dst: &Uri) -> Option<Origin> {
    Some(Origin::new(dst.scheme()?.clone(), dst.authority()?.clone()))
}

/// A dial waiting for its slot.
struct Waiting {
    queued: Queued,
    /// `pool_acquire_timeout`, and its timer.
    deadline: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

/// Why a waiting dial ended without a slot.
enum NoSlot {
    /// Polled outside its request: the request has a connection, or is gone.
    NotNeeded,
    TimedOut(PoolTimeout),
}

impl NoSlot {
    fn into_error(self) -> BoxError {
        match self {
            NoSlot::NotNeeded => "the request this dial was for got a pooled connection".into(),
            NoSlot::TimedOut(timeout) => Box::new(timeout),
        }
    }
}

impl Future for Waiting {
    type Output = Result<super::origins::Dialing, NoSlot>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Some(slot) = this.queued.poll_slot(cx.waker()) {
            return Poll::Ready(Ok(slot));
        }
        if !polled_by_its_request() {
            // The pool spawned it when the request got a connection: nobody needs it.
            return Poll::Ready(Err(NoSlot::NotNeeded));
        }
        if let Some((after, timer)) = &mut this.deadline {
            if timer.as_mut().poll(cx).is_ready() {
                let wait = this.queued.wait();
                return Poll::Ready(Err(NoSlot::TimedOut(PoolTimeout {
                    origin: this.queued.origin().to_string(),
                    after: *after,
                    cap: this.queued.cap(),
                    waiting: wait.waiting,
                    open: wait.open,
                    at_cap: wait.at_cap,
                })));
            }
        }
        Poll::Pending
    }
}

/// `pool_acquire_timeout` ran out before a connection or a slot was free; nothing was
/// sent. `crate::attempt` makes it an `ErrorKind::PoolTimeout`.
#[derive(Debug)]
pub(crate) struct PoolTimeout {
    /// `https://host:port`.
    origin: String,
    after: Duration,
    cap: Option<usize>,
    /// Requests waiting for a connection to the origin, this one included.
    waiting: usize,
    open: usize,
    at_cap: bool,
}

impl fmt::Display for PoolTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PoolTimeout {
            origin,
            after,
            open,
            ..
        } = self;
        let waiting = match self.waiting {
            1 => "1 request was".to_owned(),
            n => format!("{n} requests were"),
        };
        write!(
            f,
            "pool_acquire_timeout ({after:?}) ran out before a connection to {origin} was \
             free, so nothing was sent: "
        )?;
        match self.cap {
            Some(cap) if self.at_cap => write!(
                f,
                "all {open} connections that pool_max_connections_per_host({cap}) allows \
                 were busy (open or being opened) and {waiting} waiting for one. Raise pool_max_connections_per_host, send fewer requests to this host \
                 at once, or raise pool_acquire_timeout if waiting longer is acceptable"
            ),
            _ => write!(
                f,
                "the request waited for the client's first connection to the host, which \
                 is opened alone to learn whether it speaks h2 (then every request shares \
                 it); {waiting} waiting for it. The server is slow to accept \
                 or to finish the handshake: raise pool_acquire_timeout, or check the \
                 server's health"
            ),
        }
    }
}

impl std::error::Error for PoolTimeout {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_timeout_names_the_host_the_cap_and_the_waiting() {
        let timeout = PoolTimeout {
            origin: "https://api.example:443".into(),
            after: Duration::from_millis(50),
            cap: Some(4),
            waiting: 996,
            open: 4,
            at_cap: true,
        };
        let message = timeout.to_string();
        for part in [
            "https://api.example:443",
            "pool_max_connections_per_host(4)",
            "996 requests were waiting",
            "50ms",
            "nothing was sent",
            "Raise pool_max_connections_per_host",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
    }

    #[test]
    fn only_a_request_s_own_poll_counts_as_its_request() {
        assert!(!polled_by_its_request());
        let outer = PollingRequest::enter();
        let inner = PollingRequest::enter();
        drop(inner);
        assert!(polled_by_its_request());
        drop(outer);
        assert!(!polled_by_its_request());
    }
}
