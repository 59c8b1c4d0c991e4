//! Progress callbacks for a body going out or coming in: how many bytes so far, of how
//! many if known; called at most every 100 ms, and once at the end, so a fast transfer
//! doesn't drown in calls.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as _, Frame, SizeHint};

use crate::body::Body;
use crate::error::BoxError;

/// The shortest time between two calls, but for the last.
const EVERY: Duration = Duration::from_millis(100);

/// A user's callback: (bytes so far, total if known). Shared, as a request body is sent
/// again after a redirect or a retry, each time counted from 0.
pub(crate) type Callback = Arc<Mutex<dyn FnMut(u64, Option<u64>) + Send>>;

/// One body's progress, reported to its callback.
pub(crate) struct Progress {
    callback: Callback,
    done: u64,
    total: Option<u64>,
    /// When the callback was last called; `None` before the first call.
    last: Option<Instant>,
    finished: bool,
}

impl Progress {
    pub(crate) fn new(callback: Callback, total: Option<u64>) -> Progress {
        Progress {
            callback,
            done: 0,
            total,
            last: None,
            finished: false,
        }
    }

    /// `n` more bytes went through; the first of them, and the last of a known total,
    /// are always reported.
    pub(crate) fn advance(&mut self, n: u64) {
        self.done += n;
        let now = Instant::now();
        if Some(self.done) == self.total {
            self.finish();
        } else if self
            .last
            .is_none_or(|last| now.duration_since(last) >= EVERY)
        {
            self.call(now);
        }
    }

    /// The body ended: the final count, reported once.
    pub(crate) fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.call(Instant::now());
        }
    }

    fn call(&mut self, now: Instant) {
        self.last = Some(now);
        let mut callback = self.callback.lock().unwrap_or_else(|e| e.into_inner());
        callback(self.done, self.total);
    }
}

/// A request body that reports how much of it was sent.
pub(crate) fn counting(body: Body, callback: &Callback) -> Body {
    let total = body.size_hint().exact();
    let progress = Progress::new(callback.clone(), total);
    Body::from_http_body(Counted { body, progress })
}

struct Counted {
    body: Body,
    progress: Progress,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.progress.advance(data.len() as u64);
                }
            }
            Poll::Ready(None) => self.progress.finish(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Calls = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

    fn recording() -> (Callback, Calls) {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let seen = calls.clone();
        let callback: Callback = Arc::new(Mutex::new(move |done, total| {
            seen.lock().unwrap().push((done, total));
        }));
        (callback, calls)
    }

    #[test]
    fn a_fast_transfer_reports_its_first_piece_and_its_end_only() {
        let (callback, calls) = recording();
        let mut progress = Progress::new(callback, Some(1000));
        for _ in 0..10 {
            progress.advance(100);
        }
        progress.finish();
        assert_eq!(
            *calls.lock().unwrap(),
            [(100, Some(1000)), (1000, Some(1000))]
        );
    }

    #[test]
    fn without_a_total_the_end_is_reported_when_the_body_ends() {
        let (callback, calls) = recording();
        let mut progress = Progress::new(callback, None);
        progress.advance(10);
        std::thread::sleep(EVERY);
        progress.advance(10);
        progress.advance(10);
        progress.finish();
        progress.finish();
        assert_eq!(*calls.lock().unwrap(), [(10, None), (20, None), (30, None)]);
    }
}
