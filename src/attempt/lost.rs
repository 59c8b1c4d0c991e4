//! The watch on a request that hyper loses: one handed to a connection at the moment the
//! connection's dispatch task ends can be left in the task's request channel, unanswered,
//! for as long as the connection's senders live, and the request's own future holds one of
//! them, so it would wait forever (see [`Watched`]). A request still unanswered a while
//! after its connection was dropped fails instead.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use super::Unanswered;
use crate::connect::conn::Record;
use crate::pool::{Capture, PoolError};

/// How often an unanswered request looks at its connection (see [`Watched`]). A request
/// is lost when two looks in a row find the same connection dropped, so 200 to 400 ms
/// after the drop. An answer that exists wins the moment the request is next polled (the
/// response is polled before the watch), and a resend hyper-util makes moves the
/// request to another connection or to a dial, so this only has to outlast scheduling
/// delays; a request whose head is slower pays one look per period.
pub(super) const LOST_AFTER: Duration = Duration::from_millis(200);

/// [`Watched`] as every attempt uses it: the connection read from the pool's capture.
pub(super) type Watch<F> = Watched<F, Capture, fn(&Capture) -> Option<Arc<Record>>>;

/// `response`, watched in case hyper loses it: see [`Watched`].
pub(super) fn watched<F>(response: F, capture: Capture) -> Watch<F> {
    Watched::new(response, capture, Capture::get, LOST_AFTER)
}

pin_project! {
    /// `response`, or [`Unanswered::Lost`] once the connection that `capture` names was
    /// found dropped at two looks `period` apart, the request was not handed to another
    /// connection meanwhile, and its pool is opening no connection it could be waiting
    /// for. `current` reads the record of the request's connection from `capture`
    /// (hyper-util sets it once the request has a connection, and again if it resends it
    /// on another).
    ///
    /// Why a request can be lost: hyper hands each request to the connection's dispatch
    /// task through a tokio unbounded mpsc channel (`hyper::client::dispatch::
    /// UnboundedSender::try_send` for h2, `Sender::try_send` for HTTP/1), which
    /// hyper-util's `PoolClient::try_send_request` calls. tokio's `UnboundedSender::send`
    /// checks that the receiver is open, then pushes; the receiver's drop closes the
    /// channel, then drains it. When the dispatch task ends (its connection failed)
    /// between that check and the push, the message stays in the channel after the drain
    /// (tokio-rs/tokio#7714 describes the same gap for permits). The message holds the
    /// request's oneshot callback, the channel lives as long as a sender, and the
    /// request's own future holds one (hyper-util keeps the `Pooled` connection across
    /// `try_send_request(..).await`), as does the pool's idle list for h2: the callback is
    /// never dropped, and the request waits forever. Seen once in about 3,000 to 10,000
    /// h2 requests to a server that refuses the client certificate after a TLS 1.3
    /// handshake (the connection dies as the first request is sent).
    ///
    /// The watch only wakes every `period`: a request answered sooner costs one timer,
    /// and its connection is never looked at (reading it, or waiting on it, cost about
    /// 10 % of a small request's instructions when every request did). A future of its
    /// own rather than an `async fn` with a `select`: each such layer held the response
    /// future twice, and every move of the attempt copied it.
    pub(super) struct Watched<F, C, G> {
        #[pin]
        response: F,
        // When the next look is due; reset after each look.
        #[pin]
        look: Sleep,
        capture: C,
        current: G,
        period: Duration,
        closed_at_last_look: Option<Arc<Record>>,
    }
}

impl<F, C, G> Watched<F, C, G> {
    fn new(response: F, capture: C, current: G, period: Duration) -> Self {
        Watched {
            response,
            look: tokio::time::sleep(period),
            capture,
            current,
            period,
            closed_at_last_look: None,
        }
    }
}

impl<T, F, C, G> Future for Watched<F, C, G>
where
    F: Future<Output = std::result::Result<T, PoolError>>,
    G: Fn(&C) -> Option<Arc<Record>>,
{
    type Output = std::result::Result<T, Unanswered>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(answer) = this.response.poll(cx) {
            return Poll::Ready(answer.map_err(Unanswered::Pool));
        }
        loop {
            ready!(this.look.as_mut().poll(cx));
            let closed = (this.current)(this.capture).filter(|record| record.is_closed());
            if let (Some(now), Some(before)) = (&closed, &*this.closed_at_last_look) {
                // Still on the same dropped connection a whole period later, and no
                // connection is being opened that hyper-util could be resending it on.
                if Arc::ptr_eq(now, before) && !now.pool_dialing() {
                    tracing::debug!(
                        "a request was never answered although its connection closed; failing it"
                    );
                    return Poll::Ready(Err(Unanswered::Lost(now.clone())));
                }
            }
            *this.closed_at_last_look = closed;
            this.look.as_mut().reset(Instant::now() + *this.period);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Instant;

    use futures_util::future;

    use super::*;
    use crate::connect::conn::Dialing;

    type Answer = std::result::Result<(), PoolError>;

    /// A request that is never answered.
    fn never() -> future::Pending<Answer> {
        future::pending()
    }

    /// A request answered after `wait`.
    async fn answered_after(wait: Duration) -> Answer {
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// The connection a lost request was lost on.
    fn lost_on(outcome: std::result::Result<(), Unanswered>) -> Arc<Record> {
        match outcome {
            Err(Unanswered::Lost(record)) => record,
            other => panic!("not lost: {other:?}"),
        }
    }

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
        let watched = Watched::new(never(), current, current_of, LOST_AFTER);
        let closing = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            record.close();
        };
        let (lost, ()) = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(watched, closing)
        })
        .await
        .expect("the watch must end a lost request");
        assert!(Arc::ptr_eq(&lost_on(lost), &record));
        // Found dropped at two looks: the first after the close, and one period later.
        assert!(started.elapsed() >= Duration::from_millis(20) + LOST_AFTER);
    }

    #[tokio::test]
    async fn an_answer_wins_and_an_open_connection_is_never_lost() {
        let dialing = Arc::default();
        let (_record, current) = connection(&dialing);
        let answered = Watched::new(
            answered_after(LOST_AFTER * 4),
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
        let late = Watched::new(
            answered_after(LOST_AFTER / 2),
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
        let watched = Watched::new(never(), current.clone(), current_of, LOST_AFTER);
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
        assert!(Arc::ptr_eq(&lost_on(lost), &fresh));
    }
}
