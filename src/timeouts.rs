//! Every timeout and pace rule, and what each bounds: the request's `timeout` (a
//! [`Deadline`], over the whole request and its body), `connect_timeout` (TCP, proxy
//! tunnel and TLS handshake together: [`connect_within`]), and `read_timeout` and
//! `low_speed_limit` ([`Pacing`]: over the wait for the head, then each wait for the body).
//!
//! The pace rules count only time spent waiting on the server: a caller that reads the
//! body late is never blamed on the server. When neither is set, a body is the bare hyper
//! body and the head an unwrapped future: nothing is allocated or timed.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::Frame;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use url::Url;

use crate::error::{BoxError, Error, Result};

/// The request's `timeout`: it bounds the request loop (redirects and retries included),
/// and keeps running while the body is read.
pub(crate) struct Deadline {
    sleep: Pin<Box<Sleep>>,
    limit: Duration,
}

impl Deadline {
    pub(crate) fn after(limit: Duration) -> Deadline {
        Deadline {
            sleep: Box::pin(tokio::time::sleep(limit)),
            limit,
        }
    }

    pub(crate) fn instant(&self) -> Instant {
        self.sleep.deadline()
    }

    /// The error for a request that ran out of time.
    pub(crate) fn error(&self) -> Error {
        Error::timeout(self.limit)
    }

    /// Whether the time is up, registering `cx` to be woken when it will be.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.sleep.as_mut().poll(cx).is_ready()
    }
}

/// `connect_timeout` ran out: it bounds the TCP connect, any proxy tunnel and the TLS
/// handshake together, where hyper-util's own connect timeout stops at TCP.
#[derive(Debug)]
pub(crate) struct ConnectTimeout(pub(crate) Duration);

impl fmt::Display for ConnectTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connecting (TCP and TLS handshake) took longer than the connect timeout of {:?} \
             (connect_timeout): the server or the network is down or overloaded; raise \
             connect_timeout if it is only slow",
            self.0
        )
    }
}

impl std::error::Error for ConnectTimeout {}

/// Opens a connection under `connect_timeout`, when there is one.
pub(crate) async fn connect_within<T>(
    limit: Option<Duration>,
    connecting: impl Future<Output = std::result::Result<T, BoxError>>,
) -> std::result::Result<T, BoxError> {
    match limit {
        Some(limit) => match tokio::time::timeout(limit, connecting).await {
            Ok(result) => result,
            Err(_) => Err(ConnectTimeout(limit).into()),
        },
        None => connecting.await,
    }
}

/// The client's pace rules; `None` in the client when both are off.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Pacing {
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) low_speed: Option<LowSpeed>,
}

/// curl's `CURLOPT_LOW_SPEED_LIMIT` / `CURLOPT_LOW_SPEED_TIME`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LowSpeed {
    pub(crate) bytes_per_sec: u64,
    pub(crate) window: Duration,
}

impl LowSpeed {
    /// The bytes a whole window must bring to keep up the rate (rounded up: any rate
    /// above zero asks for at least one byte).
    fn bytes_per_window(&self) -> u128 {
        (u128::from(self.bytes_per_sec) * self.window.as_millis()).div_ceil(1000)
    }
}

impl Pacing {
    /// `None` when no rule is set, so the request path can skip pacing entirely.
    pub(crate) fn build(self) -> Result<Option<Pacing>> {
        if self.read_timeout == Some(Duration::ZERO) {
            return Err(Error::builder(
                "read_timeout must be longer than zero (leave it unset for no limit)",
            ));
        }
        if self.low_speed.is_some_and(|rule| rule.window.is_zero()) {
            return Err(Error::builder(
                "low_speed_limit needs a window longer than zero",
            ));
        }
        let active = self.read_timeout.is_some() || self.low_speed.is_some();
        Ok(active.then_some(self))
    }

    /// The longest the head may take: a read that returns nothing for `read_timeout`, or a
    /// low-speed window that brings no byte at all.
    fn head_limit(&self) -> Option<(Duration, &'static str)> {
        let read = self.read_timeout.map(|d| (d, "read_timeout"));
        let low = self
            .low_speed
            .filter(|rule| rule.bytes_per_window() > 0)
            .map(|rule| (rule.window, "low_speed_limit"));
        match (read, low) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

pin_project! {
    /// Awaits a response head under the pace rules: the wait, connecting included, counts
    /// as one read that must end within `read_timeout` (and within a low-speed window).
    /// With neither rule set, it is `response` and a branch. A future of its own rather
    /// than an `async fn` around `tokio::time::timeout`, which held `response` twice.
    pub(crate) struct Head<'a, F> {
        #[pin]
        response: F,
        // Set when a rule bounds the head: when it runs out, and which rule it is.
        #[pin]
        timer: Option<Sleep>,
        limit: Option<(Duration, &'static str)>,
        url: &'a Url,
    }
}

/// `response`, under the pace rules for the head (see [`Head`]).
pub(crate) fn head<'a, F>(pacing: Option<&Pacing>, url: &'a Url, response: F) -> Head<'a, F> {
    let limit = pacing.and_then(Pacing::head_limit);
    Head {
        response,
        timer: limit.map(|(limit, _)| tokio::time::sleep(limit)),
        limit,
        url,
    }
}

impl<F: Future> Future for Head<'_, F> {
    type Output = Result<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(head) = this.response.poll(cx) {
            return Poll::Ready(Ok(head));
        }
        let (Some(timer), Some((limit, rule))) = (this.timer.as_pin_mut(), *this.limit) else {
            return Poll::Pending;
        };
        ready!(timer.poll(cx));
        Poll::Ready(Err(Error::timeout_because(format!(
            "no response within {limit:?} of sending the request ({rule})"
        ))
        .for_url(this.url)))
    }
}

/// The state of both rules for one body.
pub(crate) struct Pace {
    rules: Pacing,
    /// Wakes us when the nearer rule would run out while we wait.
    timer: Pin<Box<Sleep>>,
    /// Set while the server keeps us waiting.
    waiting_since: Option<Instant>,
    /// The part of the wait in progress already counted in earlier low-speed windows.
    charged: Duration,
    /// Bytes and waiting time in the current low-speed window.
    window_bytes: u128,
    window_waited: Duration,
}

type Polled = Poll<Option<std::result::Result<Frame<Bytes>, hyper::Error>>>;

impl Pace {
    pub(crate) fn new(rules: Pacing) -> Pace {
        Pace {
            rules,
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            waiting_since: None,
            charged: Duration::ZERO,
            window_bytes: 0,
            window_waited: Duration::ZERO,
        }
    }

    /// Accounts for one poll of the body, or fails it.
    pub(crate) fn observe(&mut self, polled: Polled, cx: &mut Context<'_>) -> Result<Polled> {
        let now = Instant::now();
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(since) = self.waiting_since.take() {
                    self.window_waited += (now - since).saturating_sub(self.charged);
                    self.charged = Duration::ZERO;
                }
                let len = frame.data_ref().map_or(0, Bytes::len);
                self.window_bytes += len as u128;
                self.end_window(Duration::ZERO, now)?;
                Ok(polled)
            }
            Poll::Ready(_) => {
                self.waiting_since = None;
                Ok(polled)
            }
            Poll::Pending => loop {
                let now = Instant::now();
                let since = *self.waiting_since.get_or_insert(now);
                let mut wake = None::<Instant>;
                if let Some(limit) = self.rules.read_timeout {
                    if now - since >= limit {
                        return Err(Error::timeout_because(format!(
                            "the server sent nothing for {limit:?} (read_timeout)"
                        )));
                    }
                    // None for a limit too far off to ever run out (`Duration::MAX`).
                    wake = since.checked_add(limit);
                }
                if let Some(rule) = self.rules.low_speed {
                    self.end_window((now - since).saturating_sub(self.charged), now)?;
                    let in_window = self.window_waited + (now - since).saturating_sub(self.charged);
                    if let Some(at) = now.checked_add(rule.window.saturating_sub(in_window)) {
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                    }
                }
                let Some(wake) = wake else {
                    return Ok(Poll::Pending);
                };
                self.timer.as_mut().reset(wake);
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Ok(Poll::Pending);
                }
            },
        }
    }

    /// Ends a low-speed window that has run its length: too few bytes fail the read, enough
    /// start the next window. `waiting` is the part of the wait in progress that belongs to
    /// this window.
    fn end_window(&mut self, waiting: Duration, now: Instant) -> Result<()> {
        let Some(rule) = self.rules.low_speed else {
            return Ok(());
        };
        if self.window_waited + waiting < rule.window {
            return Ok(());
        }
        if self.window_bytes < rule.bytes_per_window() {
            return Err(Error::timeout_because(format!(
                "the server sent {} bytes in {:?} of waiting, below the {} bytes/s of \
                 low_speed_limit",
                self.window_bytes, rule.window, rule.bytes_per_sec
            )));
        }
        self.window_bytes = 0;
        self.window_waited = Duration::ZERO;
        if let Some(since) = self.waiting_since {
            self.charged = now - since;
        }
        Ok(())
    }
}
