//! One attempt: a request sent through the pool, and sent once more when it met a stale
//! pooled connection or an h2 server that did not process it (`stale.rs`); its response
//! head checked (`heads.rs`) and paced (`read_timeout`, `low_speed_limit`); the request
//! watched in case hyper loses it (`lost.rs`). A failure is classified (`failure.rs`) and
//! says how far the send got, for the retry policy above.
//!
//! Everything every request goes through, and nothing that is opt-in: the retry policy is
//! in `crate::retry`, and calls this once per try.

mod failure;
pub(crate) mod heads;
mod lost;
mod replay;
mod stale;

use std::future::Future;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper_util::client::legacy::connect::capture_connection;
use url::Url;

pub(crate) use failure::body_error;
pub(crate) use replay::{has_idempotency_key, Replay};

use crate::body::Body;
use crate::connect::conn::Record;
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::timeouts::{self, Pacing};

/// What every attempt of a request goes through: the pool, and the rules its response
/// head must meet. Made by the request loop for each request; small enough to copy.
#[derive(Clone, Copy)]
pub(crate) struct Sender<'a> {
    pub(crate) pool: &'a Pool,
    /// `None` when neither `read_timeout` nor `low_speed_limit` is set.
    pub(crate) pacing: Option<&'a Pacing>,
    /// `max_response_header_size`, which [`heads`] checks exactly for HTTP/1.
    pub(crate) max_head: usize,
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
        let progress = if failure::version_refused(&err) {
            Progress::Other
        } else if err.is_connect() {
            Progress::Connecting
        } else if stale::unprocessed_h2(&err).is_some() {
            // The server says it never acted on it: as good as unsent.
            Progress::Unwritten
        } else {
            match stale::seen(&err) {
                Some(seen) if seen.response_started => Progress::Answering,
                Some(seen) if seen.request_written => Progress::Sent,
                Some(_) => Progress::Unwritten,
                // h2, or no record of the connection: the head had not arrived.
                None => Progress::Sent,
            }
        };
        Failed {
            error: failure::send_error(err, url),
            progress,
        }
    }

    /// hyper lost the request when its connection closed. Whether any of it was written
    /// is unknown (a lost request was not, but a late answer looks the same).
    fn lost(record: &Record, url: &Url) -> Failed {
        Failed {
            error: failure::lost_error(record.tls_failure(), url),
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
/// pooled connection and `replay` allows it, or if an h2 server did not process it (a
/// third time if the server said so once each way, see `stale.rs`).
///
/// Every response leaves the pool through here, so this is where [`heads`] refuses the
/// heads it refuses: before anything reads them, the retry policy (which drains the
/// responses it retries) and the redirect loop included.
pub(crate) async fn send(
    sender: Sender<'_>,
    request: http::Request<Body>,
    url: &Url,
    replay: Replay,
    mut again: impl FnMut() -> Result<http::Request<Body>>,
) -> std::result::Result<http::Response<Incoming>, Failed> {
    // `again()` makes a request with the same method.
    let method = request.method().clone();
    let checked = |response: http::Response<Incoming>| {
        heads::check(&response, &method, url, sender.max_head).map_err(Failed::other)?;
        Ok(response)
    };
    let err = match attempt(sender, request, url).await {
        Ok(Ok(response)) => return checked(response),
        Ok(Err(Unanswered::Pool(err))) => err,
        Ok(Err(Unanswered::Lost(record))) => return Err(Failed::lost(&record, url)),
        Err(waited) => return Err(Failed::waiting(waited)),
    };
    if failure::version_refused(&err) {
        // On whatever connection, the version would be refused again.
        return Err(Failed::sending(err, url));
    }
    let first_unprocessed = stale::unprocessed_h2(&err);
    if first_unprocessed.is_some() {
        if !replay.possible() {
            return Err(Failed::sending(err, url));
        }
        tracing::debug!(%url, "the server did not process the h2 stream ({err}); sending again");
    } else if stale::seen(&err).is_some_and(|seen| stale::should_retry(replay, seen)) {
        tracing::debug!(
            %url,
            "the pooled connection closed before answering ({err:?}); sending again on another"
        );
    } else {
        return Err(Failed::sending(err, url));
    }
    let request = again().map_err(Failed::other)?;
    let err = match attempt(sender, request, url).await {
        Ok(Ok(response)) => return checked(response),
        Ok(Err(Unanswered::Pool(err))) => err,
        Ok(Err(Unanswered::Lost(record))) => return Err(Failed::lost(&record, url)),
        Err(waited) => return Err(Failed::waiting(waited)),
    };
    match (first_unprocessed, stale::unprocessed_h2(&err)) {
        (Some(first), Some(second)) if first != second => {
            tracing::debug!(%url, "the server did not process the h2 stream again, another way ({err}); sending a last time");
        }
        _ => return Err(Failed::sending(err, url)),
    }
    let request = again().map_err(Failed::other)?;
    match attempt(sender, request, url).await {
        Ok(Ok(response)) => checked(response),
        Ok(Err(Unanswered::Pool(err))) => Err(Failed::sending(err, url)),
        Ok(Err(Unanswered::Lost(record))) => Err(Failed::lost(&record, url)),
        Err(waited) => Err(Failed::waiting(waited)),
    }
}

/// One send, under the pace rules for the head, watched for a request hyper loses.
fn attempt<'a>(
    sender: Sender<'a>,
    mut request: http::Request<Body>,
    url: &'a Url,
) -> impl Future<Output = Result<std::result::Result<http::Response<Incoming>, Unanswered>>> + 'a {
    let capture = capture_connection(&mut request);
    let response = lost::watched(sender.pool.request(request), capture, lost::LOST_AFTER);
    timeouts::head(sender.pacing, url, response)
}
