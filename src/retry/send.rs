//! The retry loop: the attempts of one request under the client's policy, with a wait
//! before each retry and the budget's say on it.

use std::future::Future;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Instant;
use url::Url;

use super::builder::{Action, ReqRep};
use super::policy::Retrying;
use super::{backoff, outcome};
use crate::attempt::Sender;
use crate::attempt::{self, Failed, Replay};
use crate::body::Body;
use crate::error::{Error, Result};
use crate::pool::Reply;

/// The most of a retried response's body read while waiting, so that its connection can
/// go back to the pool; a longer body closes the connection instead.
const DRAIN_LIMIT: usize = 64 * 1024;

/// One request's retries so far, across its redirects.
pub(crate) struct Retries<'a> {
    retrying: &'a Retrying,
    /// The end of the request's `timeout`, past which no wait may end.
    deadline: Option<Instant>,
    done: u32,
}

/// Why no retry follows an attempt that asked for one.
#[derive(Debug, Clone, Copy)]
enum GaveUp {
    Limit,
    Deadline,
    Budget,
}

impl<'a> Retries<'a> {
    pub(crate) fn new(retrying: &'a Retrying, deadline: Option<Instant>) -> Retries<'a> {
        Retries {
            retrying,
            deadline,
            done: 0,
        }
    }

    /// Sends `request`, and again with `again()` after each attempt the policy retries.
    /// Returns the first attempt it doesn't retry, or the last one when it may retry no
    /// more: a response as it is, an error saying how many attempts were made.
    ///
    /// An `async` block, not an `async fn`, whose future would keep `request` twice (as
    /// given, and the body's own copy: rust-lang/rust#62958).
    #[allow(clippy::manual_async_fn)]
    pub(crate) fn send<'s, F>(
        &'s mut self,
        sender: Sender<'s>,
        mut request: http::Request<Body>,
        url: &'s Url,
        replay: Replay,
        mut again: F,
    ) -> impl Future<Output = Result<Reply>> + use<'s, 'a, F>
    where
        F: FnMut() -> Result<http::Request<Body>> + 's,
    {
        async move {
            let policy = &self.retrying.policy;
            if let Some(scope) = &policy.scope {
                if !scope(url.host_str().unwrap_or("")) {
                    // Not the policy's host (reqwest's `for_host`): one attempt, as without.
                    return Ok(attempt::send(sender, request, url, replay, again).await?);
                }
            }
            if replay == Replay::Never {
                // A streamed body is gone once sent: nothing to retry with.
                let response = attempt::send(sender, request, url, replay, again).await?;
                if !policy.retries_status(response.status()) {
                    self.retrying.tokens.deposit();
                }
                return Ok(response);
            }
            let idempotent = outcome::idempotent(policy, request.method(), request.headers());
            // What a classifier is shown of each attempt's request (copied only for one).
            let target = (policy.classifier.as_ref())
                .map(|_| (request.method().clone(), request.uri().clone()));
            let classify = |outcome: std::result::Result<StatusCode, &Error>| {
                let (classifier, (method, uri)) =
                    policy.classifier.as_ref().zip(target.as_ref())?;
                Some(classifier(ReqRep::new(method, uri, outcome)) == Action::Retryable)
            };
            let mut attempts = 1;
            loop {
                // The last attempt, kept to be returned if no retry follows, and the wait the
                // server asked for before the next.
                let (last, asked) =
                    match attempt::send(sender, request, url, replay, &mut again).await {
                        Ok(response) => {
                            let status = response.status();
                            let retried = classify(Ok(status));
                            if !retried.unwrap_or_else(|| policy.retries_status(status)) {
                                // The server answered: a success for the budget.
                                self.retrying.tokens.deposit();
                                return Ok(response);
                            }
                            // A classifier decides alone, as in reqwest.
                            if retried.is_none() && !idempotent {
                                return Ok(response);
                            }
                            let asked =
                                backoff::retry_after(status, response.headers(), SystemTime::now())
                                    .map(|wait| wait.min(policy.max_retry_after));
                            (Ok(response), asked)
                        }
                        Err(Failed { error, progress }) => {
                            let retried = classify(Err(&error)).unwrap_or_else(|| {
                                outcome::error_retryable(error.kind(), progress, idempotent)
                            });
                            if !retried {
                                return Err(noted(error, attempts, None));
                            }
                            (Err(error), None)
                        }
                    };
                let wait = asked.unwrap_or_else(|| {
                    let (base, max) = (policy.backoff_base, policy.backoff_max);
                    backoff::backoff(self.done, base, max, &mut fastrand::Rng::new())
                });
                if let Err(why) = self.take_retry(wait) {
                    tracing::debug!(parent: sender.span().and_then(tracing::Span::id), %url, attempts, ?why, "not retrying");
                    return last.map_err(|error| noted(error, attempts, Some(why)));
                }
                self.done += 1;
                attempts += 1;
                match last {
                    Ok(response) => {
                        tracing::debug!(parent: sender.span().and_then(tracing::Span::id), %url, status = %response.status(), ?wait, "retrying");
                        pause_draining(response.response.into_body(), wait).await;
                    }
                    Err(error) => {
                        tracing::debug!(parent: sender.span().and_then(tracing::Span::id), %url, %error, ?wait, "retrying");
                        tokio::time::sleep(wait).await;
                    }
                }
                request = again()?;
            }
        }
    }

    /// Takes the next retry, after a wait of `wait`, unless the policy's limit, the
    /// request's deadline or the client's budget forbids it.
    fn take_retry(&self, wait: Duration) -> std::result::Result<(), GaveUp> {
        if self.done >= self.retrying.policy.max_retries {
            return Err(GaveUp::Limit);
        }
        if let Some(deadline) = self.deadline {
            // Not even started by the deadline: the attempt could only time out.
            if Instant::now()
                .checked_add(wait)
                .is_none_or(|at| at >= deadline)
            {
                return Err(GaveUp::Deadline);
            }
        }
        // Last, so a retry refused for another reason costs no token.
        if !self.retrying.tokens.withdraw() {
            return Err(GaveUp::Budget);
        }
        Ok(())
    }
}

/// The error of the last attempt, saying how many attempts were made and, when the
/// failure was one to retry, why there was no other.
fn noted(error: Error, attempts: u32, why: Option<GaveUp>) -> Error {
    let why = match why {
        None if attempts == 1 => return error,
        None => return error.noted(format!("on attempt {attempts}")),
        Some(GaveUp::Limit) => "the retry policy's max_retries",
        Some(GaveUp::Deadline) => "the wait for another would end past the request's timeout",
        Some(GaveUp::Budget) => "the client's retry budget is spent",
    };
    match attempts {
        1 => error.noted(format!("not retried: {why}")),
        n => error.noted(format!("gave up after {n} attempts: {why}")),
    }
}

/// Waits `wait` before a retry, reading the rest of the retried response meanwhile so its
/// connection can be reused (a body over [`DRAIN_LIMIT`], or one still coming at the end
/// of the wait, is dropped, which closes the connection).
async fn pause_draining(body: Incoming, wait: Duration) {
    let started = Instant::now();
    let _ = tokio::time::timeout(wait, drain(body)).await;
    tokio::time::sleep(wait.saturating_sub(started.elapsed())).await;
}

async fn drain(mut body: Incoming) {
    let mut left = DRAIN_LIMIT;
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            let Some(rest) = left.checked_sub(data.len()) else {
                return;
            };
            left = rest;
        }
    }
}
