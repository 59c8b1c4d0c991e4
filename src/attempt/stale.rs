//! Which failed sends are sent once more: a request that met a pooled connection the
//! server had closed while idle, or one an h2 server says it never processed.
//!
//! hyper-util already resends a request that was never written because the idle connection
//! it was given turned out closed (`retry_canceled_requests`, on by default). What it can't
//! tell is the other half of the race: the request was written into a connection the server
//! was closing, and the connection ended before any byte of the response. This adds that
//! half, with Go's rule (`shouldRetryRequest` in net/http): only on a **reused** HTTP/1
//! connection (one that carried a request before, or waited in the pool before its first:
//! Go counts every connection that was idle in the pool), only when **no byte** of the response arrived, only with a body we can send
//! again, and, when some of the request was written, only for a request that is safe to
//! repeat (GET, HEAD, OPTIONS, TRACE, or one carrying an `Idempotency-Key`). Once, on
//! another connection.
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

use super::Replay;
use crate::connect::conn::{record_of, Proto};
use crate::error::chain;

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
pub(super) fn seen(err: &hyper_util::client::legacy::Error) -> Option<Seen> {
    if err.is_connect() {
        return None;
    }
    let record = record_of(err.connect_info()?)?;
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
pub(super) fn unprocessed_h2(err: &hyper_util::client::legacy::Error) -> Option<Unprocessed> {
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
}
