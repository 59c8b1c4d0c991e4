//! The client's connections counted per origin: the table behind
//! `pool_max_connections_per_host` and the dial rule for an origin whose protocol is not
//! known yet (docs/pooling.md). Plain bookkeeping under one lock; `gate.rs` waits on it.
//!
//! An origin is hyper-util's pool key (scheme, authority): a proxied connection counts for
//! the origin it carries requests to. The cap counts every connection of the client, in
//! all its pools (each TLS configuration's, the ones `reload_tls` retired), open or being
//! dialled. The dial rule is per pool, since a pool only uses its own connections.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Duration;

use fnv::FnvHashMap;

mod origin;

pub(crate) use origin::Origin;

use super::streams::{StreamToken, Streams, BEFORE_SETTINGS};

/// The table, shared by a client's pools (and so by its clones, and across `reload_tls`).
pub(crate) struct Origins {
    /// `pool_max_connections_per_host`.
    pub(crate) cap: Option<usize>,
    /// `pool_acquire_timeout`.
    pub(crate) acquire_timeout: Option<Duration>,
    /// An entry only while its origin has a connection, a dial or a waiter, so the table
    /// holds no more origins than the client has connections and waiting requests. FNV,
    /// as it is looked up per h2 request: not proof against chosen collisions, but a
    /// server choosing origins (by redirects) gets an entry only per open connection.
    table: Mutex<FnvHashMap<Origin, Entry>>,
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
    /// Its h2 connection's streams, as requests are routed to it (`crate::pool`).
    streams: Arc<Streams>,
}

impl PoolState {
    /// Whether it has a connection, a dial, or requests routed to it.
    fn in_use(&self) -> bool {
        self.alive > 0 || self.dialing > 0 || self.streams.in_flight() > 0
    }
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
}

/// Set, under the table's lock, when a waiting dial is given its slot; the dial's waker,
/// kept here rather than in the line so that a poll does not search the line (a burst
/// to an h2 server that limits its streams can put thousands in it).
#[derive(Default)]
pub(crate) struct Ticket {
    granted: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Ticket {
    fn grant(&self) {
        self.granted.store(true, Ordering::Relaxed);
        let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// What [`Origins::admit`] decided.
pub(crate) enum Admission {
    /// Dial now: the slot is taken.
    Now(Dialing),
    /// Wait for a slot, in line.
    Queued(Queued),
}

/// Where [`Origins::route`] sends a request.
pub(crate) enum Route {
    /// The first lane, uncounted: the origin speaks no h2 there (yet).
    First,
    /// This lane, counted in its connection's streams while the token lives.
    Lane(usize, StreamToken),
    /// Every lane is full and the cap leaves room: add a lane and route again.
    Grow,
    /// The first dial to the origin is under way, or its h2 connection's limit is not
    /// read yet: wait for `settled()`, then route again.
    Wait(Arc<Streams>),
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
            table: Mutex::new(FnvHashMap::default()),
            pools: AtomicUsize::new(0),
        }
    }

    /// An id for a new pool, whose dials the dial rule counts apart from other pools'.
    pub(crate) fn pool_id(&self) -> usize {
        self.pools.fetch_add(1, Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, FnvHashMap<Origin, Entry>> {
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
        };
        // Every dial in line is held back, by the cap or by the dial rule (each change
        // to the entry gives slots to those that may go), so this one may go past them
        // exactly when it may go at all: no search of the line.
        if entry.may_dial(&waiting, self.cap) {
            entry.start(pool);
            return Admission::Now(self.dialing(origin, pool));
        }
        let ticket = waiting.ticket.clone();
        entry.queue.push_back(waiting);
        Admission::Queued(Queued {
            origins: self.clone(),
            origin: origin.clone(),
            pool,
            ticket,
            taken: false,
        })
    }

    /// Which of a pool's lanes (`lanes`: their pool ids, the first lane's first) a
    /// request to `origin` goes to: the first lane while the origin has no h2 connection
    /// there; else the first lane whose connection has a stream free, by the server's
    /// limit; else a lane with no connection, if the cap leaves room for one (or
    /// [`Route::Grow`] when there is none and `may_grow`); else the least busy.
    /// `patient`: the request may wait for the first dial's outcome ([`Route::Wait`]).
    pub(crate) fn route(
        &self,
        origin: &Origin,
        lanes: &[usize],
        may_grow: bool,
        patient: bool,
    ) -> Route {
        let mut table = self.lock();
        let Some(entry) = table.get_mut(origin) else {
            return Route::First;
        };
        let state =
            |pools: &[PoolState], lane: usize| pools.iter().position(|s| s.pool == lanes[lane]);
        let Some(first) = state(&entry.pools, 0).map(|at| &entry.pools[at]) else {
            return Route::First;
        };
        // While the first lane's first dial is under way, and until its h2 connection's
        // limit is read, the request waits: sent now, it would join that connection
        // whatever its limit (hyper-util hands it to every request waiting for it).
        let waits = match first.proto {
            Proto::Http1 => return Route::First,
            Proto::Unknown => first.dialing > 0,
            Proto::H2 => first.alive > 0 && first.streams.limit().is_none(),
        };
        if waits && patient {
            return Route::Wait(first.streams.clone());
        }
        if first.proto == Proto::Unknown {
            return Route::First;
        }
        // Until a connection's SETTINGS are read, the limit its lane's siblings learned.
        let known = lanes.iter().find_map(|&pool| {
            let s = entry.pools.iter().find(|s| s.pool == pool)?;
            s.streams.limit()
        });
        let mut least: Option<(usize, usize)> = None;
        let mut unused = None;
        let mut reserved = 0;
        for lane in 0..lanes.len() {
            let Some(at) = state(&entry.pools, lane).filter(|&at| entry.pools[at].in_use()) else {
                unused = unused.or(Some(lane));
                continue;
            };
            let s = &entry.pools[at];
            let busy = s.streams.in_flight();
            if s.alive == 0 && s.dialing == 0 {
                reserved += 1;
            }
            // A limit of 0 (no stream for now) still takes one: h2 queues it.
            let limit = s
                .streams
                .limit()
                .or(known)
                .unwrap_or(BEFORE_SETTINGS)
                .max(1);
            if busy < limit as usize {
                return Route::Lane(lane, StreamToken::new(&s.streams));
            }
            if least.is_none_or(|(_, fewest)| busy < fewest) {
                least = Some((lane, busy));
            }
        }
        let room = self.cap.is_none_or(|cap| entry.open + reserved < cap);
        if room {
            if let Some(lane) = unused {
                let s = entry.state(lanes[lane]);
                // Its first dial goes alone, and the requests routed after it share it.
                s.proto = Proto::H2;
                return Route::Lane(lane, StreamToken::new(&s.streams));
            }
            if may_grow {
                return Route::Grow;
            }
        }
        match least.and_then(|(lane, _)| Some((lane, state(&entry.pools, lane)?))) {
            Some((lane, at)) => Route::Lane(lane, StreamToken::new(&entry.pools[at].streams)),
            // No lane in use and no room for one: the first lane's dial waits for the cap.
            None => Route::First,
        }
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
                    streams: Arc::default(),
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
            granted.ticket.grant();
        }
    }

    /// A dial (`dialing`) or a connection of `pool` is gone: its place is free, and the
    /// requests waiting to be routed by it are told.
    fn gone(&mut self, pool: usize, dialing: bool) {
        self.open -= 1;
        let state = self.state(pool);
        match dialing {
            true => state.dialing -= 1,
            false => state.alive -= 1,
        }
        state.streams.settle();
        self.forget_if_empty(pool);
    }

    /// The pool's state, removed when it has no connection left (nor requests routed to
    /// it, which are about to dial).
    fn forget_if_empty(&mut self, pool: usize) {
        self.pools.retain(|s| s.pool != pool || s.in_use());
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
    /// The dial opened a connection speaking h2 (or HTTP/1.1): its slot goes with it,
    /// and an h2 one learns its stream limit into the pool's [`Streams`].
    pub(crate) fn opened(mut self, h2: bool) -> (Slot, Option<Arc<Streams>>) {
        self.done = true;
        let pool = self.pool;
        let mut streams = None;
        self.origins.update(&self.origin, |entry| {
            let state = entry.state(pool);
            state.dialing -= 1;
            state.alive += 1;
            state.proto = if h2 { Proto::H2 } else { Proto::Http1 };
            if h2 {
                // Its requests wait on for the limit, which the connection reads.
                streams = Some(state.streams.clone());
                for waiting in entry.queue.iter_mut().filter(|w| w.pool == pool) {
                    waiting.after_h2 = true;
                }
            } else {
                state.streams.settle();
            }
        });
        let slot = Slot {
            origins: self.origins.clone(),
            origin: self.origin.clone(),
            pool,
        };
        (slot, streams)
    }

    /// The dial failed: the dials that waited for it go on their own, as they would have
    /// without the rule (one after another, a burst would wait for one failure after
    /// another).
    pub(crate) fn failed(mut self) {
        self.done = true;
        let pool = self.pool;
        self.origins.update(&self.origin, |entry| {
            entry.gone(pool, true);
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
        self.origins
            .update(&self.origin, |entry| entry.gone(pool, true));
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
        self.origins
            .update(&self.origin, |entry| entry.gone(pool, false));
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
        if !self.ticket.granted.load(Ordering::Relaxed) {
            let mut kept = self.ticket.waker.lock().unwrap_or_else(|e| e.into_inner());
            if !kept.as_ref().is_some_and(|w| w.will_wake(waker)) {
                *kept = Some(waker.clone());
            }
            drop(kept);
            // Granted meanwhile: its grant may have found no waker to wake.
            if !self.ticket.granted.load(Ordering::Relaxed) {
                return None;
            }
        }
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
        {
            let mut table = self.origins.lock();
            let Some(entry) = table.get_mut(&self.origin) else {
                return;
            };
            let mine = |w: &Waiting| Arc::ptr_eq(&w.ticket, &self.ticket);
            if let Some(at) = entry.queue.iter().position(mine) {
                // Leaving the line frees no slot: the others stay held back.
                entry.queue.remove(at);
                if entry.open == 0 && entry.queue.is_empty() {
                    table.remove(&self.origin);
                }
                return;
            }
        }
        // Not in line: given a slot after its request stopped waiting, which the next
        // dial takes.
        let pool = self.pool;
        self.origins
            .update(&self.origin, |entry| entry.gone(pool, true));
    }
}

#[cfg(test)]
mod tests;
