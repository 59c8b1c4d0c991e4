//! A request's own marks for `Timings` (with `timings(true)` only): when its attempt
//! began, when the connection took its head and its last byte (seen from its body, which
//! hyper reads), and when its response's head arrived. They go with the response in its
//! extensions, or onto the error.

use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::body::Body;
use crate::error::{BoxError, Error};
use crate::pool::Capture;
use crate::timings::{RequestMarks, Timings, WriteMarks};

/// A timed request's clock: when it began, and its latest attempt's marks, for an error
/// that ends the request from above the attempts (its `timeout`).
pub(crate) struct RequestClock {
    started: Instant,
    latest: Mutex<Option<(RequestMarks, Capture)>>,
}

impl RequestClock {
    /// A request beginning now.
    pub(crate) fn start() -> RequestClock {
        RequestClock {
            started: Instant::now(),
            latest: Mutex::new(None),
        }
    }

    /// How far the request got, now: its latest attempt's phases.
    pub(crate) fn timings(&self) -> Timings {
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        match &*latest {
            Some((marks, capture)) => timings_on(marks, capture),
            None => {
                let marks = RequestMarks {
                    started: self.started,
                    attempt_started: self.started,
                    written: Arc::default(),
                    first_byte: None,
                };
                Timings::new(&marks, None, Instant::now())
            }
        }
    }
}

/// The timings of `marks` now, with those of the connection `capture` names, if any.
fn timings_on(marks: &RequestMarks, capture: &Capture) -> Timings {
    let connection = capture.get();
    let connection = connection.as_ref().map(|record| &record.marks);
    Timings::new(marks, connection, Instant::now())
}

/// The marks of one attempt in progress, and the capture naming its connection.
pub(super) struct Marking {
    started: Instant,
    attempt_started: Instant,
    written: Arc<WriteMarks>,
    capture: Capture,
}

impl Marking {
    /// Begins the marks of an attempt of `clock`'s request, sent on the connection that
    /// `capture` will name: its body is wrapped to see the connection read it. Boxed, so
    /// an attempt's future that isn't timed stays one pointer bigger.
    pub(super) fn begin(
        clock: &RequestClock,
        request: &mut http::Request<Body>,
        capture: &Capture,
    ) -> Box<Marking> {
        let written = Arc::new(WriteMarks::default());
        let body = std::mem::take(request.body_mut());
        *request.body_mut() = Body::from_http_body(Marked {
            body,
            written: written.clone(),
        });
        let mut latest = clock.latest.lock().unwrap_or_else(|e| e.into_inner());
        // The first attempt begins with the request (curl's `time_redirect` is zero then).
        let marking = Marking {
            started: clock.started,
            attempt_started: match *latest {
                None => clock.started,
                Some(_) => Instant::now(),
            },
            written,
            capture: capture.clone(),
        };
        *latest = Some((marking.marks(None), capture.clone()));
        Box::new(marking)
    }

    fn marks(&self, first_byte: Option<Instant>) -> RequestMarks {
        RequestMarks {
            started: self.started,
            attempt_started: self.attempt_started,
            written: self.written.clone(),
            first_byte,
        }
    }
}

/// What one send through the pool came to: a response, no answer, or the pace rules' error.
pub(super) type Sent = Result<Result<crate::pool::Reply, crate::pool::PoolError>, Error>;

/// What an attempt `sent` came to, with its marks (none when untimed): a response gets
/// them in its extensions, where `Response::timings` finds them beside the connection's;
/// a failure, the timings it reached, for its error.
#[inline]
pub(super) fn settle(sent: &mut Sent, marking: Option<Box<Marking>>) -> Option<Timings> {
    // Untimed: a branch, and `sent` stays where it is.
    marking.and_then(|marking| marking.settle(sent))
}

impl Marking {
    fn settle(&self, sent: &mut Sent) -> Option<Timings> {
        if let Ok(Ok(response)) = sent {
            let marks = self.marks(Some(Instant::now()));
            response.extensions_mut().insert(marks);
            return None;
        }
        Some(timings_on(&self.marks(None), &self.capture))
    }
}

/// A request body that notes when the connection took its head (hyper asks whether the
/// body is empty, or reads it, as it writes the head) and its last byte.
struct Marked {
    body: Body,
    written: Arc<WriteMarks>,
}

fn mark(at: &OnceLock<Instant>) {
    if at.get().is_none() {
        let _ = at.set(Instant::now());
    }
}

impl http_body::Body for Marked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        mark(&self.written.handed);
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        if frame.is_none() || self.body.is_end_stream() {
            mark(&self.written.sent);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        mark(&self.written.handed);
        let end = self.body.is_end_stream();
        if end {
            mark(&self.written.sent);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
