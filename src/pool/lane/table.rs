//! A lane's connections by origin: the idle HTTP/1 ones, the one h2 connection every
//! request to the origin shares, and the requests waiting for either.
//!
//! hyper-util's legacy pool, as wireline used it: an idle HTTP/1 connection goes to the
//! oldest waiting request first, else to the end of the idle list, which a checkout pops
//! from (the most recently used first); a connection past the idle timeout or closed is
//! dropped where it is found, and a task per lane sweeps the rest; an h2 connection is
//! shared, and lapses from the table when no request took it for the idle timeout.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use fnv::FnvHashMap;
use futures_util::future::Either;
use tokio::sync::oneshot;

use super::{Checked, Inner, SendHalf};
use crate::connect::origins::Origin;

/// The sweep's shortest period, as hyper-util's: a tiny idle timeout doesn't spin it.
const MIN_SWEEP: Duration = Duration::from_millis(90);

pub(super) struct Table {
    state: Mutex<State>,
    /// `None`: idle connections stay until the server closes them.
    idle_timeout: Option<Duration>,
    /// `pool_max_idle_per_host`; 0 keeps no connection at all.
    max_idle: usize,
}

#[derive(Default)]
struct State {
    entries: FnvHashMap<Origin, Entry>,
    /// Whether the sweep task runs: while the table has entries and a timeout.
    sweeping: bool,
    /// Dropped with the table, which ends the sweep at once rather than at its next
    /// wake-up (a dropped client leaves no task behind).
    sweep_stop: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
struct Entry {
    /// HTTP/1 connections ready for a request, the most recently returned last.
    idle: Vec<(Checked, Instant)>,
    /// The origin's h2 connection, and when a request last took it.
    h2: Option<(Checked, Instant)>,
    /// With `http2_prior_knowledge`: a dial is under way that the others wait for.
    h2_dialing: bool,
    /// Requests waiting for a connection, oldest first.
    waiters: VecDeque<oneshot::Sender<Checked>>,
}

impl Entry {
    fn is_empty(&self) -> bool {
        self.idle.is_empty() && self.h2.is_none() && !self.h2_dialing && self.waiters.is_empty()
    }
}

/// What a request that found no connection does.
pub(super) enum Wait {
    /// Waits for a connection, and dials one meanwhile.
    AndDial(oneshot::Receiver<Checked>),
    /// Waits for the h2 connection another request is dialling.
    Only(oneshot::Receiver<Checked>),
}

impl Table {
    pub(super) fn new(idle_timeout: Option<Duration>, max_idle: usize) -> Table {
        Table {
            state: Mutex::default(),
            idle_timeout: idle_timeout.filter(|t| !t.is_zero()),
            max_idle,
        }
    }

    /// Whether the lane keeps connections (`pool_max_idle_per_host` above 0).
    pub(super) fn keeps(&self) -> bool {
        self.max_idle > 0
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expired(&self, since: Instant, now: Instant) -> bool {
        self.idle_timeout
            .is_some_and(|timeout| now.saturating_duration_since(since) > timeout)
    }

    /// A connection to `origin` that can take a request now: the shared h2 one, else the
    /// most recently returned idle one.
    #[inline]
    pub(super) fn take(&self, origin: &Origin) -> Option<Checked> {
        let mut state = self.lock();
        let entry = state.entries.get_mut(origin)?;
        let taken = self.take_from(entry, Instant::now());
        if entry.is_empty() {
            state.entries.remove(origin);
        }
        taken
    }

    fn take_from(&self, entry: &mut Entry, now: Instant) -> Option<Checked> {
        if let Some((shared, since)) = &mut entry.h2 {
            if shared.conn.is_open() && !self.expired(*since, now) {
                *since = now;
                return Some(shared.share());
            }
            entry.h2 = None;
        }
        while let Some((idle, since)) = entry.idle.pop() {
            if idle.conn.is_open() && !self.expired(since, now) {
                return Some(idle);
            }
        }
        None
    }

    /// [`take`](Self::take), or else a place among the requests waiting for a
    /// connection to `origin`; `h2_only`: every connection speaks h2
    /// (`http2_prior_knowledge`), so only one dial at a time is needed.
    pub(super) fn take_or_wait(
        &self,
        origin: &Origin,
        h2_only: bool,
    ) -> Result<Checked, (Wait, Option<DialingH2<'_>>)> {
        let mut state = self.lock();
        let entry = state.entries.entry(origin.clone()).or_default();
        if let Some(taken) = self.take_from(entry, Instant::now()) {
            return Ok(taken);
        }
        // The places of requests dropped while waiting go when a connection comes back, or
        // here, amortized: a dead server that never sends one must not grow the list.
        let waiting = entry.waiters.len();
        if waiting >= 8 && waiting.is_power_of_two() {
            entry.waiters.retain(|waiter| !waiter.is_closed());
        }
        let (tx, rx) = oneshot::channel();
        entry.waiters.push_back(tx);
        if !h2_only {
            return Err((Wait::AndDial(rx), None));
        }
        if entry.h2_dialing {
            return Err((Wait::Only(rx), None));
        }
        entry.h2_dialing = true;
        let dialing = DialingH2 {
            table: self,
            origin: origin.clone(),
        };
        Err((Wait::AndDial(rx), Some(dialing)))
    }

    /// The places of waiting requests kept for `origin`, live or not.
    #[cfg(test)]
    pub(super) fn waiting(&self, origin: &Origin) -> usize {
        self.lock()
            .entries
            .get(origin)
            .map_or(0, |e| e.waiters.len())
    }

    /// Forgets the waiters that gave up (their request was dropped).
    pub(super) fn forget_gone_waiters(&self, origin: &Origin) {
        let mut state = self.lock();
        if let Some(entry) = state.entries.get_mut(origin) {
            entry.waiters.retain(|waiter| !waiter.is_closed());
            if entry.is_empty() {
                state.entries.remove(origin);
            }
        }
    }

    /// A connection that can take a request again, or a new one: to the waiting requests
    /// (every one of them, for h2), then to the idle list or the table's h2 place. When
    /// the sweep must start: what ends it with the table.
    pub(super) fn put(&self, origin: &Origin, mut checked: Checked) -> Option<SweepStop> {
        if !checked.conn.is_open() || !self.keeps() {
            return None;
        }
        let mut state = self.lock();
        let state = &mut *state;
        let entry = state.entries.entry(origin.clone()).or_default();
        let now = Instant::now();
        if checked.conn.is_h2() {
            if let Some((shared, _)) = &entry.h2 {
                if shared.conn.is_open() {
                    // One h2 connection per origin in a lane: the other stays as it is, and
                    // this one ends with the requests that hold it.
                    return None;
                }
            }
            while let Some(waiter) = entry.waiters.pop_front() {
                let _ = waiter.send(checked.share());
            }
            entry.h2 = Some((checked, now));
        } else {
            while let Some(waiter) = entry.waiters.pop_front() {
                match waiter.send(checked.reused()) {
                    Ok(()) => return None,
                    Err(back) => checked = back,
                }
            }
            if entry.idle.len() >= self.max_idle {
                return None;
            }
            entry.idle.push((checked, now));
        }
        if self.idle_timeout.is_none() || std::mem::replace(&mut state.sweeping, true) {
            return None;
        }
        let (stop, stopped) = oneshot::channel();
        state.sweep_stop = Some(stop);
        Some(SweepStop(stopped))
    }

    /// Drops the connections past the idle timeout or closed; `false` once no entry is
    /// left to sweep, which ends the sweep.
    fn sweep(&self) -> bool {
        let now = Instant::now();
        let mut state = self.lock();
        state.entries.retain(|_, entry| {
            entry
                .idle
                .retain(|(idle, since)| idle.conn.is_open() && !self.expired(*since, now));
            if let Some((shared, since)) = &entry.h2 {
                if !shared.conn.is_open() || self.expired(*since, now) {
                    entry.h2 = None;
                }
            }
            entry.waiters.retain(|waiter| !waiter.is_closed());
            !entry.is_empty()
        });
        // Decided under the lock, so a `put` that finds it running is swept.
        state.sweeping = !state.entries.is_empty();
        state.sweeping
    }

    /// The period of the sweep.
    fn sweep_every(&self) -> Duration {
        self.idle_timeout.unwrap_or(MIN_SWEEP).max(MIN_SWEEP)
    }
}

/// What ends a sweep when its table is dropped.
pub(super) struct SweepStop(oneshot::Receiver<()>);

/// Sweeps `lane`'s table every idle timeout while it has entries, and while the lane
/// lives (it holds it weakly; `stop` ends it the moment the lane is dropped).
pub(super) fn sweep(lane: Weak<Inner>, stop: SweepStop) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let Some(every) = lane.upgrade().map(|lane| lane.table.sweep_every()) else {
        return;
    };
    let mut stopped = stop.0;
    runtime.spawn(async move {
        loop {
            let sleep = std::pin::pin!(tokio::time::sleep(every));
            if let Either::Right(_) = futures_util::future::select(sleep, &mut stopped).await {
                return;
            }
            let Some(lane) = lane.upgrade() else { return };
            if !lane.table.sweep() {
                return;
            }
        }
    });
}

/// The one dial to an origin under `http2_prior_knowledge`: the requests that come
/// meanwhile wait for its connection, and dial themselves if it fails.
pub(super) struct DialingH2<'a> {
    table: &'a Table,
    origin: Origin,
}

impl Drop for DialingH2<'_> {
    fn drop(&mut self) {
        let mut state = self.table.lock();
        if let Some(entry) = state.entries.get_mut(&self.origin) {
            entry.h2_dialing = false;
            if entry.h2.is_none() {
                // The dial failed: those waiting for it try again themselves.
                entry.waiters.clear();
            }
            if entry.is_empty() {
                state.entries.remove(&self.origin);
            }
        }
    }
}

impl SendHalf {
    pub(super) fn is_open(&self) -> bool {
        match self {
            SendHalf::H1(sender) => sender.is_ready(),
            SendHalf::H2(sender) => sender.is_ready(),
        }
    }

    fn is_h2(&self) -> bool {
        matches!(self, SendHalf::H2(_))
    }
}
