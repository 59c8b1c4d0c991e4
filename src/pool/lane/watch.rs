//! The watch on a request that hyper loses: one handed to a connection at the moment the
//! connection's dispatch task ends can be left in the task's request channel, unanswered,
//! for as long as the connection's senders live, and the request's own send holds one of
//! them, so it would wait forever (see [`Watched`]). A request still unanswered a while
//! after its connection was dropped fails instead (row X05 of docs/reliability.md).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::sync::futures::OwnedNotified;
use tokio::time::Sleep;

use crate::connect::conn::Record;

/// How long a request may stay unanswered after its connection was dropped. An answer
/// that exists wins the moment the request is next polled (the response is polled before
/// the watch), so this only has to outlast scheduling delays: another thread may still be
/// failing the connection's requests as the drop is seen.
pub(super) const LOST_AFTER: Duration = Duration::from_millis(200);

pin_project! {
    /// `response`, or `Err(Lost)` once the connection `record` describes was dropped and
    /// `grace` went by without an answer.
    ///
    /// Why a request can be lost: hyper hands each request to the connection's dispatch
    /// task through a tokio unbounded mpsc channel (`hyper::client::dispatch::
    /// UnboundedSender::try_send` for h2, `Sender::try_send` for HTTP/1). tokio's
    /// `UnboundedSender::send` checks that the receiver is open, then pushes; the
    /// receiver's drop closes the channel, then drains it. When the dispatch task ends
    /// (its connection failed) between that check and the push, the message stays in the
    /// channel after the drain (tokio-rs/tokio#7714 describes the same gap for permits).
    /// The message holds the request's oneshot callback, the channel lives as long as a
    /// sender, and the lane's send holds one, as does the pool for h2: the callback is
    /// never dropped, and the request would wait forever. Seen once in about 3,000 to
    /// 10,000 h2 requests to a server that refuses the client certificate after a TLS 1.3
    /// handshake (the connection dies as the first request is sent).
    ///
    /// The watch waits on the record's close, registered at the first poll: a request
    /// answered before its connection closes costs that registration, and no timer.
    pub(super) struct Watched<F> {
        #[pin]
        response: F,
        #[pin]
        closed: OwnedNotified,
        record: Arc<Record>,
        // Started once the close was seen.
        #[pin]
        grace: Option<Sleep>,
        period: Duration,
    }
}

/// The request was lost on its connection (see [`Watched`]).
#[derive(Debug)]
pub(super) struct Lost;

impl<F> Watched<F> {
    pub(super) fn new(response: F, record: Arc<Record>, period: Duration) -> Self {
        Watched {
            response,
            closed: record.closed(),
            record,
            grace: None,
            period,
        }
    }
}

impl<T, F> Future for Watched<F>
where
    F: Future<Output = T>,
{
    type Output = Result<T, Lost>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(answer) = this.response.poll(cx) {
            return Poll::Ready(Ok(answer));
        }
        if this.grace.is_none() {
            // Registered before the flag is read: a close after the read wakes it.
            this.closed.as_mut().enable();
            if !this.record.is_closed() && this.closed.poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.grace.set(Some(tokio::time::sleep(*this.period)));
        }
        if let Some(grace) = this.grace.as_pin_mut() {
            ready!(grace.poll(cx));
        }
        tracing::debug!("a request was never answered although its connection closed; failing it");
        Poll::Ready(Err(Lost))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use futures_util::future;

    use super::*;

    const LOST_AFTER: Duration = Duration::from_millis(50);

    fn record() -> Arc<Record> {
        Arc::new(Record::for_test())
    }

    /// A request answered after `wait`.
    async fn answered_after(wait: Duration) {
        tokio::time::sleep(wait).await;
    }

    // The hang this guards against: hyper lost the request in the channel of a connection
    // whose dispatch task ended, so its future never resolves.
    #[tokio::test]
    async fn a_request_never_answered_after_its_connection_closed_is_lost() {
        let record = record();
        let started = Instant::now();
        let watched = Watched::new(future::pending::<()>(), record.clone(), LOST_AFTER);
        let closing = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            record.close();
        };
        let (lost, ()) = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::join!(watched, closing)
        })
        .await
        .expect("the watch must end a lost request");
        assert!(lost.is_err());
        // The close, then the grace.
        assert!(started.elapsed() >= Duration::from_millis(20) + LOST_AFTER);
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_first_poll_is_seen() {
        let record = record();
        record.close();
        let watched = Watched::new(future::pending::<()>(), record, LOST_AFTER);
        let lost = tokio::time::timeout(Duration::from_secs(5), watched)
            .await
            .expect("the watch must end a lost request");
        assert!(lost.is_err());
    }

    #[tokio::test]
    async fn an_answer_wins_and_an_open_connection_is_never_lost() {
        let record = record();
        let answered = Watched::new(answered_after(LOST_AFTER * 4), record, LOST_AFTER);
        let answered = tokio::time::timeout(Duration::from_secs(5), answered).await;
        assert!(answered.unwrap().is_ok());
        // A late answer after the close, within the grace, still wins.
        let closed = self::record();
        closed.close();
        let late = Watched::new(answered_after(LOST_AFTER / 2), closed, LOST_AFTER);
        assert!(late.await.is_ok());
    }
}
