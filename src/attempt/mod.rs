//! One attempt: a request sent through the pool, and sent again when it met a stale
//! pooled connection or an h2 server that did not process it (`stale.rs`); its response
//! head checked (`heads.rs`) and paced (`read_timeout`, `low_speed_limit`); a request
//! hyper lost (the pool's watch) sent again when that is safe. A failure is classified
//! (`failure.rs`) and says how far the send got, for the retry policy above.
//!
//! Everything every request goes through, and nothing that is opt-in: the retry policy is
//! in `crate::retry`, and calls this once per try.

mod failure;
pub(crate) mod heads;
mod marks;
mod replay;
mod stale;
mod trace;

use std::future::Future;
use std::sync::Arc;

use tracing::Span;

use url::Url;

pub(crate) use failure::body_error;
pub(crate) use marks::RequestClock;
pub(crate) use replay::{has_idempotency_key, Replay};
pub(crate) use trace::error_type;

use crate::body::Body;
use crate::connect::conn::Record;
use crate::connect::streams::StreamToken;
use crate::error::{Error, Result};
use crate::pool::{Capture, Pool, PoolError, PoolErrorKind, Reply};
use crate::timeouts::{self, Pacing};
use crate::timings::Timings;

/// What every attempt of a request goes through: the pool, and the rules its response
/// head must meet. Made by the request loop for each request; small enough to copy.
#[derive(Clone, Copy)]
pub(crate) struct Sender<'a> {
    pub(crate) pool: &'a Pool,
    /// `None` when neither `read_timeout` nor `low_speed_limit` is set.
    pub(crate) pacing: Option<&'a Pacing>,
    /// `max_response_header_size`, which [`heads`] checks exactly for HTTP/1.
    pub(crate) max_head: usize,
    /// What watches the request, if anything does: one pointer either way.
    pub(crate) observed: Option<&'a Observed>,
}

impl<'a> Sender<'a> {
    /// The request's clock, with `timings(true)`: each attempt then takes its marks.
    pub(crate) fn clock(&self) -> Option<&'a RequestClock> {
        self.observed?.clock.as_ref()
    }

    /// The request's span, when a subscriber listens: the parent of each attempt's.
    pub(crate) fn span(&self) -> Option<&'a Span> {
        self.observed?.span.as_ref()
    }
}

/// What watches a request: its clock (`timings(true)`) and its `tracing` span (when a
/// subscriber listens for it). The request loop boxes it only when there is either, so
/// the futures that carry a [`Sender`] grow by one pointer, not by a span and a clock:
/// every byte of them is copied as they move, which callgrind counts per request.
pub(crate) struct Observed {
    pub(crate) clock: Option<RequestClock>,
    pub(crate) span: Option<Span>,
}

impl Observed {
    /// `None` when the request is neither timed nor traced (`span` is disabled).
    #[inline]
    pub(crate) fn new(timed: bool, span: Span) -> Option<Box<Observed>> {
        let span = (!span.is_disabled()).then_some(span);
        if !timed && span.is_none() {
            return None;
        }
        let clock = timed.then(RequestClock::start);
        Some(Box::new(Observed { clock, span }))
    }
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
    fn sending(err: PoolError, url: &Url) -> Failed {
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

    /// With how far the attempt got, when it was timed.
    fn timed(mut self, timings: Option<Timings>) -> Failed {
        if let Some(timings) = timings {
            self.error = self.error.with_timings(timings);
        }
        self
    }
}

impl From<Failed> for Error {
    fn from(failed: Failed) -> Error {
        failed.error
    }
}

/// Sends `request` through the pool, and again with `again()` if it failed on a stale
/// pooled connection and `replay` allows it (while each failure is another stale
/// connection), or if an h2 server did not process it (a third time if the server said so
/// once each way): the rules are in `stale.rs`. In a span of its own
/// (a child of the request's) when a `tracing` subscriber listens (`trace.rs`).
///
/// Every response leaves the pool through here, so this is where [`heads`] refuses the
/// heads it refuses: before anything reads them, the retry policy (which drains the
/// responses it retries) and the redirect loop included.
///
/// An `async` block, not an `async fn`: an `async fn`'s future keeps each argument twice,
/// as given and as the body's own copy (rust-lang/rust#62958), and copies `request`
/// (256 bytes) from one to the other when first polled.
#[allow(clippy::manual_async_fn)]
pub(crate) fn send<'a>(
    sender: Sender<'a>,
    request: http::Request<Body>,
    url: &'a Url,
    replay: Replay,
    again: impl FnMut() -> Result<http::Request<Body>> + 'a,
) -> impl Future<Output = std::result::Result<Reply, Failed>> + 'a {
    async move {
        // Disabled without a subscriber: then each use below is a branch. Nothing here
        // wraps a future (moving this one costs more than the rest of the tracing).
        let traced = trace::attempt(sender.span(), request.method(), url);
        let span = traced.as_deref().map(|traced| &traced.span);
        // `again()` makes a request with the same method.
        let method = request.method().clone();
        let checked = |reply: Reply| {
            heads::check(&reply, &method, url, sender.max_head).map_err(Failed::other)?;
            Ok(reply)
        };
        let (sending, marking, token) = attempt(sender, request, url, span);
        let outcome = match settled(sending.await, marking, token) {
            Settled::Answer(answer) => answer,
            // Boxed: only a request that needs it carries the resend's future.
            failed => Box::pin(resend(sender, failed, url, span, replay, again)).await,
        }
        .and_then(&checked);
        if let Some(traced) = &traced {
            traced.ended(&outcome);
        }
        outcome
    }
}

/// The first send's failure judged by the rules of `stale.rs`, and the request sent again
/// (made anew by `again()`) for as long as they say so: the answer, or the failure they
/// leave as it is.
async fn resend(
    sender: Sender<'_>,
    mut failed: Settled,
    url: &Url,
    span: Option<&Span>,
    replay: Replay,
    mut again: impl FnMut() -> Result<http::Request<Body>>,
) -> std::result::Result<Reply, Failed> {
    let mut resends = stale::Resends::default();
    loop {
        let resend = match failed {
            Settled::Answer(answer) => return answer,
            Settled::Refused(err, timings) => {
                let Some(resend) = resends.judge(&err, replay) else {
                    return Err(Failed::sending(err, url).timed(timings));
                };
                match resend {
                    stale::Resend::Stale => {
                        tracing::debug!(parent: span.and_then(Span::id), %url, "the pooled connection closed before answering ({err:?}); sending again on another")
                    }
                    stale::Resend::Unprocessed(how) => {
                        tracing::debug!(parent: span.and_then(Span::id), %url, "the server did not process the h2 stream ({how:?}: {err}); sending again")
                    }
                }
                resend
            }
            Settled::Lost(record, timings) => {
                let Some(resend) = resends.judge_lost(&record, replay) else {
                    return Err(Failed::lost(&record, url).timed(timings));
                };
                tracing::debug!(parent: span.and_then(Span::id), %url, "hyper lost the request as its pooled connection closed; sending again on another");
                resend
            }
        };
        if resend == stale::Resend::Stale {
            // Lets pooled connections whose close has arrived read it and leave the pool,
            // so the resend doesn't meet them too.
            tokio::task::yield_now().await;
        }
        let request = again().map_err(Failed::other)?;
        let (sending, marking, token) = attempt(sender, request, url, span);
        failed = settled(sending.await, marking, token);
    }
}

/// What a finished send leads to: its answer (the response, or a failure no resend can
/// mend), or the pool's error or the request lost, with the send's timings, for the
/// resend rules to judge.
enum Settled {
    Answer(std::result::Result<Reply, Failed>),
    Refused(PoolError, Option<Timings>),
    /// hyper lost the request on this connection (the pool's watch).
    Lost(Arc<Record>, Option<Timings>),
}

/// `token`: the request's place on an h2 connection (`crate::pool`), kept with the
/// response until it ends.
fn settled(
    mut sent: marks::Sent,
    marking: Option<Box<marks::Marking>>,
    token: Option<StreamToken>,
) -> Settled {
    let timings = marks::settle(&mut sent, marking);
    match sent {
        Ok(Ok(mut reply)) => {
            // A request routed once the first dial said how has its token already.
            if token.is_some() {
                reply.stream = token;
            }
            Settled::Answer(Ok(reply))
        }
        Ok(Err(err)) => match err.record() {
            Some(record) if err.kind() == PoolErrorKind::Lost => {
                Settled::Lost(record.clone(), timings)
            }
            _ => Settled::Refused(err, timings),
        },
        Err(waited) => Settled::Answer(Err(Failed::waiting(waited).timed(timings))),
    }
}

/// One send, under the pace rules for the head; and its marks, when the request is timed
/// (see `marks.rs`: only then does the pool tell the attempt its connection), and its
/// place on an h2 connection, when the pool routed it to one. The pool's own future,
/// boxed by the pool, is the one polled in `span`: wrapping it adds a pointer.
fn attempt<'a>(
    sender: Sender<'a>,
    mut request: http::Request<Body>,
    url: &'a Url,
    span: Option<&'a Span>,
) -> (
    impl Future<Output = marks::Sent> + 'a,
    Option<Box<marks::Marking>>,
    Option<StreamToken>,
) {
    let (marking, capture) = match sender.clock() {
        None => (None, None),
        Some(clock) => {
            let capture = Capture::default();
            let marking = marks::Marking::begin(clock, &mut request, &capture);
            (Some(marking), Some(capture))
        }
    };
    let (response, token) = sender.pool.request(request, capture);
    let response = trace::InSpan::new(response, span);
    (timeouts::head(sender.pacing, url, response), marking, token)
}
