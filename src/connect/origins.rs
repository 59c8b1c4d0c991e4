//! The client's connections counted per origin: the table behind
//! `pool_max_connections_per_host` and the dial rule for an origin whose protocol is not
//! known yet (docs/pooling.md). Plain bookkeeping under one lock; `gate.rs` waits on it.
//!
//! An origin is hyper-util's pool key (scheme, authority): a proxied connection counts for
//! the origin it carries requests to. The cap counts every connection of the client, in
//! all its pools (each TLS configuration's, the ones `reload_tls` retired), open or being
//! dialled. The dial rule is per pool, since a pool only uses its own connections.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use http::uri::{Authority, Scheme};

/// hyper-util's pool key: what the cap and the dial rule count by.
pub(crate) type Origin = (Scheme, Authority);

/// The table, shared by a client's pools (and so by its clones, and across `reload_tls`).
pub(crate) struct Origins {
    /// `pool_max_connections_per_host`.
    pub(crate) cap: Option<usize>,
    /// `pool_acquire_timeout`.
    pub(crate) acquire_timeout: Option<Duration>,
    /// An entry only while its origin has a connection, a dial or a waiter, so the table
    /// holds no more origins than the client has connections and waiting requests.
    table: Mutex<HashMap<Origin, Entry>>,
    /// The ids handed to the pools.
    pools: AtomicUsize,
}

#[derive(Default)]
struct Entry {
    /// Connections open or being dialled, in all pools: what the cap bounds.
    open: usize,
    /// Each pool's connections to the origin, and what they spoke.
    pools: Vec<PoolState>,
    /// The dials waiting, oldest first.
    queue: VecDeque<Waiting>,
}

/// One pool's connections to one origin. Removed when it has none, which forgets the
/// protocol: the next dial learns it again.
struct PoolState {
    pool: usize,
    proto: Proto,
    dialing: usize,
    alive: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Proto {
    /// No connection of this pool to the origin has finished its handshake yet.
    Unknown,
    Http1,
    H2,
}

/// A dial waiting for its turn.
struct Waiting {
    ticket: Arc<Ticket>,
    pool: usize,
    /// Whether the dial rule applies: its pool keeps connections, so a request can wait
    /// for another's (`pool_max_idle_per_host(0)` turns it off).
    dial_rule: bool,
    /// A dial it waited for turned out h2: hyper-util hands that connection to its
    /// request, so it dials only if that connection is gone.
    after_h2: bool,
    /// A dial it waited for failed: it dials on its own rather than one after another.
    released: bool,
    waker: Option<Waker>,
}

/// Set, under the table's lock, when a waiting dial is given its slot.
#[derive(Default)]
pub(crate) struct Ticket {
    granted: AtomicBool,
}

/// What [`Origins::admit`] decided.
pub(crate) enum Admission {
    /// Dial now: the slot is taken.
    Now(Dialing),
    /// Wait for a slot, in line.
    Queued(Queued),
}

/// Why a dial is waiting, for the message of a pool timeout.
pub(crate) struct Wait {
    /// Requests waiting for a connection to the origin, this one included.
    pub(crate) waiting: usize,
    /// Connections open or being dialled to the origin.
    pub(crate) open: usize,
    /// All of the cap's connections are taken (else the dial waits for a first one whose
    /// protocol is unknown, or for an h2 connection to be shared).
    pub(crate) at_cap: bool,
}

impl std::fmt::Debug for Origins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origins")
            .field("cap", &self.cap)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
    }
}

impl Origins {
    pub(crate) fn new(cap: Option<usize>, acquire_timeout: Option<Duration>) -> Origins {
        Origins {
            cap,
            acquire_timeout,
            table: Mutex::new(HashMap::new()),
            pools: AtomicUsize::new(0),
        }
    }

    /// An id for a new pool, whose dials the dial rule counts apart from other pools'.
    pub(crate) fn pool_id(&self) -> usize {
        self.pools.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Origin, Entry>> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A dial to `origin` from `pool`: now, or in line behind the dials before it.
    pub(crate) fn admit(
        self: &Arc<Self>,
        origin: &Origin,
        pool: usize,
        dial_rule: bool,
    ) -> Admission {
        let mut table = self.lock();
        let entry = table.entry(origin.clone()).or_default();
        let waiting = Waiting {
            ticket: Arc::default(),
            pool,
            dial_rule,
            after_h2: false,
            released: false,
            waker: None,
        };
        if entry.queue.is_empty() && entry.may_dial(&waiting, self.cap) {
            entry.start(pool);
            return Admission::Now(self.dialing(origin, pool));
        }
        let ticket = waiting.ticket.clone();
        entry.queue.push_back(waiting);
        // Behind dials that wait for another pool's connection, it may still go.
        entry.grant(self.cap);
        if ticket.granted.load(Ordering::Relaxed) {
            entry.queue.retain(|w| !Arc::ptr_eq(&w.ticket, &ticket));
            return Admission::Now(self.dialing(origin, pool));
        }
        Admission::Queued(Queued {
            origins: self.clone(),
            origin: origin.clone(),
            pool,
            ticket,
            taken: false,
        })
    }

    fn dialing(self: &Arc<Self>, origin: &Origin, pool: usize) -> Dialing {
        Dialing {
            origins: self.clone(),
            origin: origin.clone(),
            pool,
            done: false,
        }
    }

    /// The connections open or being dialled to `origin` (tests and messages).
    #[cfg(test)]
    fn open(&self, origin: &Origin) -> usize {
        self.lock().get(origin).map_or(0, |e| e.open)
    }

    /// Runs `change` on `origin`'s entry, then gives freed slots to the waiting dials and
    /// drops the entry if nothing is left of it.
    fn update(&self, origin: &Origin, change: impl FnOnce(&mut Entry)) {
        let mut table = self.lock();
        let Some(entry) = table.get_mut(origin) else {
            return;
        };
        change(entry);
        entry.grant(self.cap);
        if entry.open == 0 && entry.queue.is_empty() {
            table.remove(origin);
        }
    }
}

impl Entry {
    fn state(&mut self, pool: usize) -> &mut PoolState {
        let at = match self.pools.iter().position(|s| s.pool == pool) {
            Some(at) => at,
            None => {
                self.pools.push(PoolState {
                    pool,
                    proto: Proto::Unknown,
                    dialing: 0,
                    alive: 0,
                });
                self.pools.len() - 1
            }
        };
        &mut self.pools[at]
    }

    /// Whether `waiting` may dial now: a slot is free under the cap, and the dial rule
    /// lets it (one dial at a time while the protocol is unknown, or is h2, whose one
    /// connection hyper-util shares).
    fn may_dial(&self, waiting: &Waiting, cap: Option<usize>) -> bool {
        if cap.is_some_and(|cap| self.open >= cap) {
            return false;
        }
        if !waiting.dial_rule || waiting.released {
            return true;
        }
        match self.pools.iter().find(|s| s.pool == waiting.pool) {
            None => true,
            Some(state) => match state.proto {
                Proto::Http1 => true,
                Proto::Unknown | Proto::H2 => {
                    state.dialing == 0 && !(waiting.after_h2 && state.alive > 0)
                }
            },
        }
    }

    fn start(&mut self, pool: usize) {
        self.open += 1;
        self.state(pool).dialing += 1;
    }

    /// Gives slots to the waiting dials that may go, oldest first. One held back by the
    /// cap holds back those behind it (first come, first served); one held back by the
    /// dial rule doesn't hold back another pool's.
    fn grant(&mut self, cap: Option<usize>) {
        let mut at = 0;
        while at < self.queue.len() {
            if cap.is_some_and(|cap| self.open >= cap) {
                return;
            }
            if !self.may_dial(&self.queue[at], cap) {
                at += 1;
                continue;
            }
            let granted = self.queue.remove(at).expect("in range");
            self.start(granted.pool);
            granted.ticket.granted.store(true, Ordering::Relaxed);
            if let Some(waker) = granted.waker {
                waker.wake();
            }
        }
    }

    /// The pool's state, removed when it has no connection left.
    fn forget_if_empty(&mut self, pool: usize) {
        self.pools
            .retain(|s| s.pool != pool || s.dialing > 0 || s.alive > 0);
    }
}

/// A slot taken for a dial in progress. Handed to the connection it opens
/// ([`Dialing::opened`]), or given back when the dial fails or is dropped.
pub(crate) struct Dialing {
    origins: Arc<Origins>,
    origin: Origin,
    pool: usize,
    done: bool,
}

impl Dialing {
    /// The dial opened a connection speaking h2 (or HTTP/1.1): its slot goes with it.
    pub(crate) fn opened(mut self, h2: bool) -> Slot {
        self.done = true;
        let pool = self.pool;
        self.origins.update(&self.origin, |entry| {
            let state = entry.state(pool);
            state.dialing -= 1;
            state.alive += 1;
            state.proto = if h2 { Proto::H2 } else { Proto::Http1 };
            if h2 {
                for waiting in entry.queue.iter_mut().filter(|w| w.pool == pool) {
                    waiting.after_h2 = true;
                }
            }
        });
        Slot {
            origins: self.origins.clone(),
            origin: self.origin.clone(),
            pool,
        }
    }

    /// The dial failed: the dials that waited for it go on their own, as they would have
    /// without the rule (one after another, a burst would wait for one failure after
    /// another).
    pub(crate) fn failed(mut self) {
        self.done = true;
        let pool = self.pool;
        self.origins.update(&self.origin, |entry| {
            entry.open -= 1;
            entry.state(pool).dialing -= 1;
            entry.forget_if_empty(pool);
            for waiting in entry.queue.iter_mut().filter(|w| w.pool == pool) {
                waiting.released = true;
            }
        });
    }
}

impl Drop for Dialing {
    /// Dropped mid-dial (its request gave up): the slot goes to the next in line.
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let pool = self.pool;
        self.origins.update(&self.origin, |entry| {
            entry.open -= 1;
            entry.state(pool).dialing -= 1;
            entry.forget_if_empty(pool);
        });
    }
}

/// The slot of an open connection, held by its `Conn`: freed when hyper drops the
/// connection.
pub(crate) struct Slot {
    origins: Arc<Origins>,
    origin: Origin,
    pool: usize,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let pool = self.pool;
        self.origins.update(&self.origin, |entry| {
            entry.open -= 1;
            entry.state(pool).alive -= 1;
            entry.forget_if_empty(pool);
        });
    }
}

/// A dial waiting in line. Dropped before its turn, it leaves the line; dropped after
/// being given a slot it never took, it gives the slot back.
pub(crate) struct Queued {
    origins: Arc<Origins>,
    origin: Origin,
    pool: usize,
    ticket: Arc<Ticket>,
    taken: bool,
}

impl Queued {
    /// The slot, once given; else `waker` is woken when it is.
    pub(crate) fn poll_slot(&mut self, waker: &Waker) -> Option<Dialing> {
        let mut table = self.origins.lock();
        if !self.ticket.granted.load(Ordering::Relaxed) {
            let mine = table.get_mut(&self.origin).and_then(|entry| {
                entry
                    .queue
                    .iter_mut()
                    .find(|w| Arc::ptr_eq(&w.ticket, &self.ticket))
            });
            if let Some(waiting) = mine {
                if !waiting.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    waiting.waker = Some(waker.clone());
                }
            }
            return None;
        }
        drop(table);
        self.taken = true;
        Some(self.origins.dialing(&self.origin, self.pool))
    }

    /// Why it waits, as things stand.
    pub(crate) fn wait(&self) -> Wait {
        let table = self.origins.lock();
        let entry = table.get(&self.origin);
        let open = entry.map_or(0, |e| e.open);
        Wait {
            waiting: entry.map_or(0, |e| e.queue.len()),
            open,
            at_cap: self.origins.cap.is_some_and(|cap| open >= cap),
        }
    }

    /// `pool_max_connections_per_host`.
    pub(crate) fn cap(&self) -> Option<usize> {
        self.origins.cap
    }

    /// The origin it waits for.
    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        if self.taken {
            return;
        }
        let ticket = self.ticket.clone();
        let pool = self.pool;
        self.origins.update(&self.origin, |entry| {
            if ticket.granted.load(Ordering::Relaxed) {
                // Given a slot after its request stopped waiting: the next dial takes it.
                entry.open -= 1;
                entry.state(pool).dialing -= 1;
                entry.forget_if_empty(pool);
            } else {
                entry.queue.retain(|w| !Arc::ptr_eq(&w.ticket, &ticket));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        (Scheme::HTTPS, Authority::from_static("example.com:443"))
    }

    fn now(admission: Admission) -> Dialing {
        match admission {
            Admission::Now(dialing) => dialing,
            Admission::Queued(_) => panic!("queued"),
        }
    }

    fn queued(admission: Admission) -> Queued {
        match admission {
            Admission::Now(_) => panic!("admitted"),
            Admission::Queued(queued) => queued,
        }
    }

    fn granted(queued: &mut Queued) -> Option<Dialing> {
        queued.poll_slot(Waker::noop())
    }

    #[test]
    fn the_cap_counts_dials_and_connections_and_serves_in_order() {
        let origins = Arc::new(Origins::new(Some(2), None));
        let pool = origins.pool_id();
        let a = now(origins.admit(&origin(), pool, false));
        let b = now(origins.admit(&origin(), pool, false));
        let mut c = queued(origins.admit(&origin(), pool, false));
        let mut d = queued(origins.admit(&origin(), pool, false));
        let slot = a.opened(false);
        assert!(
            granted(&mut c).is_none(),
            "an open connection keeps its slot"
        );
        assert_eq!(c.wait().waiting, 2);
        assert!(c.wait().at_cap);
        drop(slot);
        let c = granted(&mut c).expect("the first in line gets the freed slot");
        assert!(granted(&mut d).is_none());
        b.failed();
        let d = granted(&mut d).expect("a failed dial frees its slot");
        drop((c, d));
        assert_eq!(origins.open(&origin()), 0);
        assert!(
            origins.lock().is_empty(),
            "an origin with nothing left is forgotten"
        );
    }

    #[test]
    fn a_waiter_that_gives_up_holds_nothing() {
        let origins = Arc::new(Origins::new(Some(1), None));
        let pool = origins.pool_id();
        let a = now(origins.admit(&origin(), pool, false));
        let b = queued(origins.admit(&origin(), pool, false));
        let c = queued(origins.admit(&origin(), pool, false));
        drop(b);
        drop(a);
        // Given to c, which never takes it: dropping c frees it.
        assert_eq!(origins.open(&origin()), 1);
        assert!(c.ticket.granted.load(Ordering::Relaxed));
        drop(c);
        assert!(origins.lock().is_empty());
    }

    #[test]
    fn one_dial_while_the_protocol_is_unknown_then_parallel_for_http1() {
        let origins = Arc::new(Origins::new(None, None));
        let pool = origins.pool_id();
        let probe = now(origins.admit(&origin(), pool, true));
        let mut waiters: Vec<Queued> = (0..3)
            .map(|_| queued(origins.admit(&origin(), pool, true)))
            .collect();
        let _slot = probe.opened(false);
        let dials: Vec<Dialing> = waiters
            .iter_mut()
            .map(|w| granted(w).expect("HTTP/1.1: all dial at once"))
            .collect();
        // Known now: a new dial goes at once.
        let _more = now(origins.admit(&origin(), pool, true));
        drop(dials);
    }

    #[test]
    fn waiters_for_an_h2_dial_wait_for_its_connection_and_dial_when_it_is_gone() {
        let origins = Arc::new(Origins::new(None, None));
        let pool = origins.pool_id();
        let other_pool = origins.pool_id();
        let probe = now(origins.admit(&origin(), pool, true));
        let mut waiter = queued(origins.admit(&origin(), pool, true));
        // Another pool's requests can't use this pool's connection: not held back.
        let _other = now(origins.admit(&origin(), other_pool, true));
        let slot = probe.opened(true);
        assert!(granted(&mut waiter).is_none(), "it gets the h2 connection");
        drop(slot);
        assert!(granted(&mut waiter).is_some(), "that connection is gone");
    }

    #[test]
    fn a_failed_dial_releases_its_waiters_and_no_rule_without_pooling() {
        let origins = Arc::new(Origins::new(None, None));
        let pool = origins.pool_id();
        let probe = now(origins.admit(&origin(), pool, true));
        let mut a = queued(origins.admit(&origin(), pool, true));
        let mut b = queued(origins.admit(&origin(), pool, true));
        probe.failed();
        assert!(granted(&mut a).is_some() && granted(&mut b).is_some());
        // No pooling: every request dials its own.
        let unpooled = origins.pool_id();
        let _x = now(origins.admit(&origin(), unpooled, false));
        let _y = now(origins.admit(&origin(), unpooled, false));
    }
}
