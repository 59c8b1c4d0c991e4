//! One send through the pool, sent once more if it met a pooled connection the server had
//! closed while idle, or an h2 server did not process it; a failure says how far the send
//! got.
//!
//! hyper-util already resends a request that was never written because the idle connection
//! it was given turned out closed (`retry_canceled_requests`, on by default). What it can't
//! tell is the other half of the race: the request was written into a connection the server
//! was closing, and the connection ended before any byte of the response. This adds that
//! half, with Go's rule (`shouldRetryRequest` in net/http): only on a **reused** HTTP/1
//! connection, only when **no byte** of the response arrived, only with a body we can send
//! again, and, when some of the request was written, only for a request that is safe to
//! repeat (GET, HEAD, OPTIONS, TRACE, or one carrying an `Idempotency-Key`). Once, on
//! another connection.
//!
//! Over h2 the server says itself which requests it never processed (RFC 9113 §8.7): a
//! stream it reset with REFUSED_STREAM, or one above the last stream id of a GOAWAY. Those
//! are sent again once, whatever the method, if the body can be sent again. The h2 crate
//! fails a stream with the remote GOAWAY error only when it was above that id (or never
//! left); streams the server may have processed fail with the connection's end instead
//! ("broken pipe"), and are not retried, whatever the GOAWAY's code.

use std::future::Future;

use http::header::HeaderMap;
use http::Method;
use hyper::body::Incoming;
use url::Url;

use crate::body::Body;
use crate::client::ClientInner;
use crate::conn::{Record, RecordExtra};
use crate::error::{Error, Result};
use crate::pacing;
use crate::pools::Pool;

/// Whether a request may be sent again, decided before it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Its body is a stream we have consumed.
    Never,
    /// Only if none of it was written: the server can't have acted on it.
    IfUnwritten,
    /// Even if the server may have seen it: it is safe to repeat.
    Always,
}

impl Replay {
    pub(crate) fn of(method: &Method, headers: &HeaderMap, body_replayable: bool) -> Replay {
        if !body_replayable {
            return Replay::Never;
        }
        let safe = matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) || headers.contains_key("idempotency-key")
            || headers.contains_key("x-idempotency-key");
        if safe {
            Replay::Always
        } else {
            Replay::IfUnwritten
        }
    }

    /// Whether the request's headers and body must be kept for a second send.
    pub(crate) fn possible(self) -> bool {
        self != Replay::Never
    }
}

/// What the failed connection saw, from its `Usage`.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    h2: bool,
    reused: bool,
    request_written: bool,
    response_started: bool,
}

/// Go's rule, on what the connection saw.
fn should_retry(replay: Replay, seen: Seen) -> bool {
    if seen.h2 || !seen.reused || seen.response_started {
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
fn seen(err: &hyper_util::client::legacy::Error) -> Option<Seen> {
    if err.is_connect() {
        return None;
    }
    let connected = err.connect_info()?;
    let mut extras = http::Extensions::new();
    connected.get_extras(&mut extras);
    let Record::Http1(usage) = &*extras.get::<RecordExtra>()?.0 else {
        return None;
    };
    Some(Seen {
        h2: connected.is_negotiated_h2(),
        reused: usage.reused(),
        request_written: usage.request_written(),
        response_started: usage.response_started(),
    })
}

/// Whether an h2 stream failed because the server, by its own word, did not process it:
/// reset with REFUSED_STREAM, or above the last stream id of a GOAWAY (h2 gives such a
/// stream the remote GOAWAY error itself; see the module docs). Our own resets and
/// GOAWAYs don't count.
fn unprocessed_h2(err: &hyper_util::client::legacy::Error) -> bool {
    crate::error::chain(err)
        .filter_map(|cause| cause.downcast_ref::<h2::Error>())
        .any(|h2| {
            h2.is_remote()
                && (h2.is_go_away()
                    || (h2.is_reset() && h2.reason() == Some(h2::Reason::REFUSED_STREAM)))
        })
}

/// How far a failed send got, so a retry policy can tell whether the server may have seen
/// the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// Failed while opening a connection: nothing was sent.
    Connecting,
    /// The connection was open, but no byte of the request was written.
    Unwritten,
    /// Some of the request may have reached the server, and no byte of the response had
    /// arrived (on h2, where streams interleave, the response head had not arrived).
    Sent,
    /// Some of the response had arrived.
    Answering,
    /// Not a failure of the connection (the request could not be made again).
    Other,
}

/// A failed send: the error for the caller, and how far the send got.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) error: Error,
    pub(crate) progress: Progress,
}

impl Failed {
    fn sending(err: hyper_util::client::legacy::Error, url: &Url) -> Failed {
        let progress = if err.is_connect() {
            Progress::Connecting
        } else if unprocessed_h2(&err) {
            // The server says it never acted on it: as good as unsent.
            Progress::Unwritten
        } else {
            match seen(&err) {
                Some(seen) if seen.response_started => Progress::Answering,
                Some(seen) if seen.request_written => Progress::Sent,
                Some(_) => Progress::Unwritten,
                // h2, or no record of the connection: the head had not arrived.
                None => Progress::Sent,
            }
        };
        Failed {
            error: Error::from_send(err, url),
            progress,
        }
    }

    /// The pace rules ran out while waiting for the head: whether any of it had arrived
    /// is unknown, but the head was not complete.
    fn waiting(error: Error) -> Failed {
        Failed {
            error,
            progress: Progress::Sent,
        }
    }

    fn other(error: Error) -> Failed {
        Failed {
            error,
            progress: Progress::Other,
        }
    }
}

impl From<Failed> for Error {
    fn from(failed: Failed) -> Error {
        failed.error
    }
}

/// Sends `request` through the pool, and once more with `again()` if it failed on a stale
/// pooled connection and `replay` allows it.
pub(crate) async fn send(
    client: &ClientInner,
    pool: &Pool,
    request: http::Request<Body>,
    url: &Url,
    replay: Replay,
    again: impl FnOnce() -> Result<http::Request<Body>>,
) -> std::result::Result<http::Response<Incoming>, Failed> {
    let err = match attempt(client, pool, request, url).await {
        Ok(Ok(response)) => return Ok(response),
        Ok(Err(err)) => err,
        Err(waited) => return Err(Failed::waiting(waited)),
    };
    if unprocessed_h2(&err) {
        if !replay.possible() {
            return Err(Failed::sending(err, url));
        }
        tracing::debug!(%url, "the server did not process the h2 stream ({err}); sending again");
    } else if seen(&err).is_some_and(|seen| should_retry(replay, seen)) {
        tracing::debug!(
            %url,
            "the pooled connection closed before answering ({err:?}); sending again on another"
        );
    } else {
        return Err(Failed::sending(err, url));
    }
    let request = again().map_err(Failed::other)?;
    match attempt(client, pool, request, url).await {
        Ok(Ok(response)) => Ok(response),
        Ok(Err(err)) => Err(Failed::sending(err, url)),
        Err(waited) => Err(Failed::waiting(waited)),
    }
}

/// One send, under the pace rules for the head.
fn attempt<'a>(
    client: &'a ClientInner,
    pool: &'a Pool,
    request: http::Request<Body>,
    url: &'a Url,
) -> impl Future<
    Output = Result<
        std::result::Result<http::Response<Incoming>, hyper_util::client::legacy::Error>,
    >,
> + 'a {
    pacing::head(client.pacing.as_ref(), url, pool.request(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_follows_method_body_and_idempotency_key() {
        let none = HeaderMap::new();
        assert_eq!(Replay::of(&Method::GET, &none, true), Replay::Always);
        assert_eq!(Replay::of(&Method::HEAD, &none, true), Replay::Always);
        assert_eq!(Replay::of(&Method::POST, &none, true), Replay::IfUnwritten);
        assert_eq!(Replay::of(&Method::PUT, &none, true), Replay::IfUnwritten);
        assert_eq!(Replay::of(&Method::GET, &none, false), Replay::Never);
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", "abc".parse().unwrap());
        assert_eq!(Replay::of(&Method::POST, &keyed, true), Replay::Always);
        assert_eq!(Replay::of(&Method::POST, &keyed, false), Replay::Never);
    }

    #[test]
    fn only_a_reused_h1_connection_with_no_response_byte() {
        let stale = Seen {
            h2: false,
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
            Seen { h2: true, ..stale },
        ] {
            assert!(!should_retry(Replay::Always, never), "{never:?}");
        }
    }
}
