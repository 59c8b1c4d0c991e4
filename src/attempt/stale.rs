//! Which failed sends are sent again: a request that met a pooled connection the server
//! had closed while idle, or one an h2 server says it never processed.
//!
//! The pool already resends a request that was never written because the idle connection
//! it was given turned out closed (as hyper-util's `retry_canceled_requests` did). What it can't
//! tell is the other half of the race: the request was written into a connection the server
//! was closing, and the connection ended before any byte of the response. This adds that
//! half, with Go's rule (`shouldRetryRequest` in net/http): only on a **reused** HTTP/1
//! connection (one that carried a request before, or waited in the pool before its first:
//! Go counts every connection that was idle in the pool), only when **no byte** of the
//! response arrived, only with a body we can send again, and, when some of the request was
//! written, only for a request that is safe to repeat (GET, HEAD, OPTIONS, TRACE, or one
//! carrying an `Idempotency-Key`). Sent again on another connection, and again after
//! that while each one it meets is another stale pooled connection, as Go does: a server
//! that closed every idle connection at once leaves the pool holding several, and the
//! first resend may meet the next. Each resend uses one of them up (a failed connection
//! leaves the pool), and a fresh connection failing ends it; [`MAX_STALE_RESENDS`] bounds
//! it all the same. Before each resend the task yields, so the connections whose close
//! has arrived but not yet been read see it, and leave the pool, first. A GET hyper lost
//! in the channel of such a connection as it closed (the pool's watch) is sent again by the
//! same rule.
//!
//! Over h2 the server says itself which requests it never processed (RFC 9113 §8.7): a
//! stream it reset with REFUSED_STREAM, or one above the last stream id of a GOAWAY. Those
//! are sent again once, whatever the method, if the body can be sent again, and once more
//! if the second send is turned away the other way: a request a GOAWAY sent to a new
//! connection can meet that connection's stream limit before its SETTINGS arrive
//! (REFUSED_STREAM), which says nothing of a loop. The h2 crate
//! fails a stream with the remote GOAWAY error only when it was above that id (or never
//! left); streams the server may have processed fail with the connection's end instead
//! ("broken pipe"), and are not retried, whatever the GOAWAY's code.

use super::{failure, Replay};
use crate::connect::conn::{Proto, Record};
use crate::error::chain;
use crate::pool::PoolError;

/// The most times one request is sent again after stale pooled connections. Go has no
/// bound (each resend uses up a stale connection); this one only stops a server that
/// closes every connection it has answered on from holding a request in the loop.
pub(super) const MAX_STALE_RESENDS: u8 = 8;

/// The resends one request has had, to judge the next failure by.
#[derive(Debug, Default)]
pub(super) struct Resends {
    stale: u8,
    /// How an h2 server first said it did not process the request, and whether it has
    /// said so the other way too.
    unprocessed: Option<Unprocessed>,
    unprocessed_both_ways: bool,
}

/// Why a failed send is sent again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Resend {
    /// It met a stale pooled connection.
    Stale,
    /// The h2 server did not process it.
    Unprocessed(Unprocessed),
}

impl Resends {
    /// Whether, and why, the failed send `err` of a request that may be repeated as
    /// `replay` says is sent again, counting it if so.
    pub(super) fn judge(&mut self, err: &PoolError, replay: Replay) -> Option<Resend> {
        if failure::version_refused(err) {
            // On whatever connection, the version would be refused again.
            return None;
        }
        if let Some(how) = unprocessed_h2(err) {
            let again = match self.unprocessed {
                None => replay.possible(),
                Some(first) => first != how && !self.unprocessed_both_ways,
            };
            if !again {
                return None;
            }
            self.unprocessed_both_ways = self.unprocessed.is_some();
            self.unprocessed = Some(how);
            return Some(Resend::Unprocessed(how));
        }
        self.stale_resend(seen(err).is_some_and(|seen| should_retry(replay, seen)))
    }

    /// Whether a request hyper lost on the connection `record` names (the pool's watch) is
    /// sent again: the stale rule, when that connection was an HTTP/1 one that carried a
    /// request before. Lost, the request never left hyper's channel to the connection, so
    /// nothing of it was written; but as nothing says so for certain, only a request safe
    /// to repeat goes.
    pub(super) fn judge_lost(&mut self, record: &Record, replay: Replay) -> Option<Resend> {
        let Proto::Http1(usage) = &record.proto else {
            return None;
        };
        // Not Go's 100 ms idle before a first request (`Usage::reused`): measured now, 200 ms
        // or more after the handover, it would count a connection dialled for this request.
        self.stale_resend(replay == Replay::Always && usage.carried_a_request())
    }

    /// A resend after a stale connection, if the rule `allows` it and the bound is not
    /// reached, counted.
    fn stale_resend(&mut self, allows: bool) -> Option<Resend> {
        if !allows || self.stale >= MAX_STALE_RESENDS {
            return None;
        }
        self.stale += 1;
        Some(Resend::Stale)
    }
}

/// What the failed HTTP/1 connection saw, from its `Usage` (h2 connections keep none: h2
/// says itself what it did not process, see [`unprocessed_h2`]).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Seen {
    pub(super) reused: bool,
    pub(super) request_written: bool,
    pub(super) response_started: bool,
}

/// Go's rule, on what the connection saw.
pub(super) fn should_retry(replay: Replay, seen: Seen) -> bool {
    if !seen.reused || seen.response_started {
        return false;
    }
    match replay {
        Replay::Never => false,
        Replay::IfUnwritten => !seen.request_written,
        Replay::Always => true,
    }
}

/// What the connection a failed send used had seen; `None` when it failed before having
/// one (connecting), or the connection isn't ours.
pub(super) fn seen(err: &PoolError) -> Option<Seen> {
    if err.is_connect() {
        return None;
    }
    let record = err.record()?;
    let Proto::Http1(usage) = &record.proto else {
        return None;
    };
    Some(Seen {
        reused: usage.reused(record.marks.ready),
        request_written: usage.request_written(),
        response_started: usage.response_started(),
    })
}

/// How an h2 server said it did not process a stream (RFC 9113 §8.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unprocessed {
    /// The stream was above the last stream id of the connection's GOAWAY.
    GoAway,
    /// The server reset it with REFUSED_STREAM.
    Refused,
}

/// Whether an h2 stream failed because the server, by its own word, did not process it,
/// and how it said so: reset with REFUSED_STREAM, or above the last stream id of a GOAWAY
/// (h2 gives such a stream the remote GOAWAY error itself; see the module docs). Our own
/// resets and GOAWAYs don't count.
pub(super) fn unprocessed_h2(err: &PoolError) -> Option<Unprocessed> {
    chain(err)
        .filter_map(|cause| cause.downcast_ref::<h2::Error>())
        .filter(|h2| h2.is_remote())
        .find_map(|h2| {
            if h2.is_go_away() {
                Some(Unprocessed::GoAway)
            } else if h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM) {
                Some(Unprocessed::Refused)
            } else {
                None
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_reused_h1_connection_with_no_response_byte() {
        let stale = Seen {
            reused: true,
            request_written: true,
            response_started: false,
        };
        assert!(should_retry(Replay::Always, stale));
        assert!(!should_retry(Replay::IfUnwritten, stale));
        assert!(!should_retry(Replay::Never, stale));
        let unwritten = Seen {
            request_written: false,
            ..stale
        };
        assert!(should_retry(Replay::IfUnwritten, unwritten));
        assert!(!should_retry(Replay::Never, unwritten));
        for never in [
            Seen {
                reused: false,
                ..stale
            },
            Seen {
                response_started: true,
                ..stale
            },
        ] {
            assert!(!should_retry(Replay::Always, never), "{never:?}");
        }
    }

    #[test]
    fn a_lost_request_goes_again_if_it_may_be_repeated_and_its_connection_was_reused() {
        let used = Record::for_test_used();
        let fresh = Record::for_test();
        assert_eq!(
            Resends::default().judge_lost(&used, Replay::Always),
            Some(Resend::Stale)
        );
        // Nothing proves it was never written: a POST stays failed, as does a stream.
        for replay in [Replay::IfUnwritten, Replay::Never] {
            assert_eq!(Resends::default().judge_lost(&used, replay), None);
        }
        // The pool resends nothing a fresh connection failed either.
        assert_eq!(Resends::default().judge_lost(&fresh, Replay::Always), None);
        let mut resends = Resends::default();
        for _ in 0..MAX_STALE_RESENDS {
            assert_eq!(
                resends.judge_lost(&used, Replay::Always),
                Some(Resend::Stale)
            );
        }
        assert_eq!(resends.judge_lost(&used, Replay::Always), None, "bounded");
    }
}
