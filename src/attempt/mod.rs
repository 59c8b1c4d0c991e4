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
//!
//! Every send is also watched for a request that hyper loses: one handed to a connection
//! at the moment the connection's dispatch task ends can be left in the task's request
//! channel, unanswered, for as long as the connection's senders live, and the request's
//! own future holds one of them, so it would wait forever (see [`watched`]). A request
//! still unanswered a while after its connection was dropped fails instead.

pub(crate) mod heads;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{self, Either};
use http::header::HeaderMap;
use http::Method;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::{capture_connection, CaptureConnection};
use url::Url;

use crate::body::Body;
use crate::client::ClientInner;
use crate::connect::conn::{Proto, Record};
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::timeouts;

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
        ) || has_idempotency_key(headers);
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

/// Whether the caller declared the request safe to repeat with an `Idempotency-Key` (or
/// `X-Idempotency-Key`) header.
pub(crate) fn has_idempotency_key(headers: &HeaderMap) -> bool {
    headers.contains_key("idempotency-key") || headers.contains_key("x-idempotency-key")
}

/// What the failed HTTP/1 connection saw, from its `Usage` (h2 connections keep none: h2
/// says itself what it did not process, see `unprocessed_h2`).
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    reused: bool,
    request_written: bool,
    response_started: bool,
}

/// Go's rule, on what the connection saw.
fn should_retry(replay: Replay, seen: Seen) -> bool {
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
fn seen(err: &hyper_util::client::legacy::Error) -> Option<Seen> {
    if err.is_connect() {
        return None;
    }
    let connected = err.connect_info()?;
    let record = crate::connect::conn::record_of(connected)?;
    let Proto::Http1(usage) = &record.proto else {
        return None;
    };
    Some(Seen {
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

/// Why a send through the pool has no response.
#[derive(Debug)]
pub(crate) enum Unanswered {
    /// hyper-util's error.
    Pool(hyper_util::client::legacy::Error),
    /// The connection the request went to was dropped, and hyper never answered it.
    Lost(Arc<Record>),
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

    /// hyper lost the request when its connection closed. Whether any of it was written
    /// is unknown (a lost request was not, but a late answer looks the same).
    fn lost(record: &Record, url: &Url) -> Failed {
        Failed {
            error: Error::lost(record.tls_failure(), url),
            progress: Progress::Sent,
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
///
/// Every response leaves the pool through here, so this is where `crate::attempt::heads` refuses
/// the heads it refuses: before anything reads them, the retry policy (which drains the
/// responses it retries) and the redirect loop included.
pub(crate) async fn send(
    client: &ClientInner,
    pool: &Pool,
    request: http::Request<Body>,
    url: &Url,
    replay: Replay,
    again: impl FnOnce() -> Result<http::Request<Body>>,
) -> std::result::Result<http::Response<Incoming>, Failed> {
    // `again()` makes a request with the same method.
    let method = request.method().clone();
    let checked = |response: http::Response<Incoming>| {
        crate::attempt::heads::check(&response, &method, url, client.max_response_header_size)
            .map_err(Failed::other)?;
        Ok(response)
    };
    let err = match attempt(client, pool, request, url).await {
        Ok(Ok(response)) => return checked(response),
        Ok(Err(Unanswered::Pool(err))) => err,
        Ok(Err(Unanswered::Lost(record))) => return Err(Failed::lost(&record, url)),
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
        Ok(Ok(response)) => checked(response),
        Ok(Err(Unanswered::Pool(err))) => Err(Failed::sending(err, url)),
        Ok(Err(Unanswered::Lost(record))) => Err(Failed::lost(&record, url)),
        Err(waited) => Err(Failed::waiting(waited)),
    }
}

/// One send, under the pace rules for the head, watched for a request hyper loses.
fn attempt<'a>(
    client: &'a ClientInner,
    pool: &'a Pool,
    mut request: http::Request<Body>,
    url: &'a Url,
) -> impl Future<Output = Result<std::result::Result<http::Response<Incoming>, Unanswered>>> + 'a {
    let capture = capture_connection(&mut request);
    let response = watched(pool.request(request), capture, LOST_AFTER);
    timeouts::head(client.pacing.as_ref(), url, response)
}

/// How often an unanswered request looks at its connection (see [`watched`]). A request
/// is lost when two looks in a row find the same connection dropped, so 1 to 2 s after
/// the drop; an answer that exists comes as soon as the connection's tasks next run, so
/// this only has to outlast scheduling delays.
const LOST_AFTER: Duration = Duration::from_secs(1);

/// `response`, or [`Unanswered::Lost`] once the connection that `capture` names was
/// found dropped at two looks `period` apart, the request was not handed to another
/// connection meanwhile, and its pool is opening no connection it could be waiting for.
///
/// Why a request can be lost: hyper hands each request to the connection's dispatch task
/// through a tokio unbounded mpsc channel (`hyper::client::dispatch::UnboundedSender::
/// try_send` for h2, `Sender::try_send` for HTTP/1), which hyper-util's
/// `PoolClient::try_send_request` calls. tokio's `UnboundedSender::send` checks that the
/// receiver is open, then pushes; the receiver's drop closes the channel, then drains it.
/// When the dispatch task ends (its connection failed) between that check and the push,
/// the message stays in the channel after the drain (tokio-rs/tokio#7714 describes the
/// same gap for permits). The message holds the request's oneshot callback, the channel
/// lives as long as a sender, and the request's own future holds one (hyper-util keeps
/// the `Pooled` connection across `try_send_request(..).await`), as does the pool's idle
/// list for h2: the callback is never dropped, and the request waits forever. Seen once
/// in about 3,000 to 10,000 h2 requests to a server that refuses the client certificate
/// after a TLS 1.3 handshake (the connection dies as the first request is sent).
async fn watched<F>(
    response: F,
    capture: CaptureConnection,
    period: Duration,
) -> std::result::Result<http::Response<Incoming>, Unanswered>
where
    F: Future<
        Output = std::result::Result<http::Response<Incoming>, hyper_util::client::legacy::Error>,
    >,
{
    match answer_or_loss(response, capture, record_of, period).await {
        Ok(answer) => answer.map_err(Unanswered::Pool),
        Err(record) => {
            tracing::debug!(
                "a request was never answered although its connection closed; failing it"
            );
            Err(Unanswered::Lost(record))
        }
    }
}

/// `response`'s output, or the record of the connection it was lost on: see [`watched`].
/// `current` reads the record of the request's connection from `capture` (hyper-util
/// sets it once the request has a connection, and again if it resends it on another).
///
/// The watch only wakes every `period`: a request answered sooner costs one timer, and
/// its connection is never looked at (reading it, or waiting on it, cost about 10 % of a
/// small request's instructions when every request did).
async fn answer_or_loss<T, C>(
    response: impl Future<Output = T>,
    capture: C,
    current: impl Fn(&C) -> Option<Arc<Record>>,
    period: Duration,
) -> std::result::Result<T, Arc<Record>> {
    let response = pin!(response);
    let watch = pin!(async move {
        let mut closed_at_last_look: Option<Arc<Record>> = None;
        loop {
            tokio::time::sleep(period).await;
            let closed = current(&capture).filter(|record| record.is_closed());
            if let (Some(now), Some(before)) = (&closed, &closed_at_last_look) {
                // Still on the same dropped connection a whole period later, and no
                // connection is being opened that hyper-util could be resending it on.
                if Arc::ptr_eq(now, before) && !now.pool_dialing() {
                    return now.clone();
                }
            }
            closed_at_last_look = closed;
        }
    });
    match future::select(response, watch).await {
        Either::Left((answer, _)) => Ok(answer),
        Either::Right((record, _)) => Err(record),
    }
}

/// The record of the connection `capture` names, if it has one and it is ours.
fn record_of(capture: &CaptureConnection) -> Option<Arc<Record>> {
    capture
        .connection_metadata()
        .as_ref()
        .and_then(crate::connect::conn::record_of)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Instant;

    use super::*;
    use crate::connect::conn::Dialing;

    const LOST_AFTER: Duration = Duration::from_millis(50);

    /// The connection a test request went to, as hyper-util's capture would show it.
    type Current = Arc<Mutex<Option<Arc<Record>>>>;

    fn current_of(c: &Current) -> Option<Arc<Record>> {
        c.lock().unwrap().clone()
    }

    fn connection(dialing: &Arc<Dialing>) -> (Arc<Record>, Current) {
        let record = Arc::new(Record::for_test(dialing.clone()));
        let current = Arc::new(Mutex::new(Some(record.clone())));
        (record, current)
    }

    // The hang this guards against: hyper lost the request in the channel of a connection
    // whose dispatch task ended, so its future never resolves.
    #[tokio::test]
    async fn a_request_never_answered_after_its_connection_closed_is_lost() {
        let dialing = Arc::default();
        let (record, current) = connection(&dialing);
        let started = Instant::now();
        let watched = answer_or_loss(future::pending::<()>(), current, current_of, LOST_AFTER);
        let closing = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            record.close();
        };
        let (lost, ()) = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(watched, closing)
        })
        .await
        .expect("the watch must end a lost request");
        assert!(Arc::ptr_eq(&lost.unwrap_err(), &record));
        // Found dropped at two looks: the first after the close, and one period later.
        assert!(started.elapsed() >= Duration::from_millis(20) + LOST_AFTER);
    }

    #[tokio::test]
    async fn an_answer_wins_and_an_open_connection_is_never_lost() {
        let dialing = Arc::default();
        let (_record, current) = connection(&dialing);
        let answered = answer_or_loss(
            tokio::time::sleep(LOST_AFTER * 4),
            current,
            current_of,
            LOST_AFTER,
        );
        assert!(tokio::time::timeout(Duration::from_secs(5), answered)
            .await
            .unwrap()
            .is_ok());
        // A late answer after the close, within the grace, still wins.
        let (record, current) = connection(&dialing);
        record.close();
        let late = answer_or_loss(
            tokio::time::sleep(LOST_AFTER / 2),
            current,
            current_of,
            LOST_AFTER,
        );
        assert!(late.await.is_ok());
    }

    #[tokio::test]
    async fn not_lost_while_its_pool_opens_a_connection_or_after_a_resend() {
        let dialing = Arc::<Dialing>::default();
        let (record, current) = connection(&dialing);
        record.close();
        // hyper-util may be resending it on the connection being opened.
        let dial = dialing.start();
        let watched = answer_or_loss(
            future::pending::<()>(),
            current.clone(),
            current_of,
            LOST_AFTER,
        );
        let mut watched = std::pin::pin!(watched);
        assert!(
            tokio::time::timeout(LOST_AFTER * 4, watched.as_mut())
                .await
                .is_err(),
            "lost while its pool was opening a connection"
        );
        // It was resent on a new connection, still open: not lost either.
        let (fresh, _) = connection(&dialing);
        *current.lock().unwrap() = Some(fresh.clone());
        drop(dial);
        assert!(
            tokio::time::timeout(LOST_AFTER * 4, watched.as_mut())
                .await
                .is_err(),
            "lost although the new connection is open"
        );
        // Until that one closes too.
        fresh.close();
        let lost = tokio::time::timeout(Duration::from_secs(5), watched)
            .await
            .expect("the watch must end a lost request");
        assert!(Arc::ptr_eq(&lost.unwrap_err(), &fresh));
    }

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
