//! Fault matrix X01, the graceful case: hyper's h2 server shut down with
//! `graceful_shutdown` while requests are in flight. It finishes the streams it took and
//! tells the client, by GOAWAY, which it did not; those must be sent again on a new
//! connection without the caller seeing an error. See docs/reliability.md.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http2;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::support::{bounded, default_tls_listener, trusting_test_ca};
use wireline::Version;

/// The streams each connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS):
/// the client's other requests wait their turn, unsent.
const STREAMS_PER_CONNECTION: u32 = 2;

/// An h2 server whose first connection holds its requests until released and can be
/// shut down gracefully; later connections answer at once. Each answer names its
/// connection.
struct GracefulServer {
    url: String,
    /// Requests received, per connection in the order they were accepted.
    received: Arc<Mutex<Vec<usize>>>,
    /// Woken whenever a request arrives.
    arrived: Arc<Notify>,
    shutdown_first: Arc<Notify>,
    release_first: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl GracefulServer {
    async fn start() -> GracefulServer {
        let (listener, addr, acceptor) = default_tls_listener().await;
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let shutdown_first = Arc::new(Notify::new());
        let (release_first, released) = watch::channel(false);
        let accepted = AtomicUsize::new(0);
        let task = tokio::spawn({
            let (received, arrived, shutdown_first) =
                (received.clone(), arrived.clone(), shutdown_first.clone());
            async move {
                while let Ok((tcp, _)) = listener.accept().await {
                    let index = accepted.fetch_add(1, Ordering::SeqCst);
                    received.lock().unwrap().push(0);
                    let (acceptor, received, arrived, shutdown_first, released) = (
                        acceptor.clone(),
                        received.clone(),
                        arrived.clone(),
                        shutdown_first.clone(),
                        released.clone(),
                    );
                    tokio::spawn(async move {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let service = service_fn(move |request: hyper::Request<_>| {
                            let warming_up = request.uri().path() == "/warm-up";
                            received.lock().unwrap()[index] += 1;
                            arrived.notify_waiters();
                            let mut released = released.clone();
                            async move {
                                if index == 0 && !warming_up {
                                    let _ = released.wait_for(|go| *go).await;
                                }
                                let body = Full::new(Bytes::from(format!("connection {index}")));
                                Ok::<_, Infallible>(hyper::Response::new(body))
                            }
                        });
                        let conn = http2::Builder::new(TokioExecutor::new())
                            .timer(TokioTimer::new())
                            .max_concurrent_streams(STREAMS_PER_CONNECTION)
                            .serve_connection(TokioIo::new(tls), service);
                        let mut conn = std::pin::pin!(conn);
                        if index == 0 {
                            tokio::select! {
                                _ = conn.as_mut() => return,
                                _ = shutdown_first.notified() => {}
                            }
                            conn.as_mut().graceful_shutdown();
                        }
                        let _ = conn.await;
                    });
                }
            }
        });
        GracefulServer {
            url: format!("https://{addr}/"),
            received,
            arrived,
            shutdown_first,
            release_first,
            task,
        }
    }

    fn received(&self) -> Vec<usize> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (bounded) until `done` holds for the requests received per connection.
    async fn until(&self, done: impl Fn(&[usize]) -> bool) {
        bounded(async {
            loop {
                let arrived = self.arrived.notified();
                if done(&self.received()) {
                    return;
                }
                let _ = tokio::time::timeout(Duration::from_millis(50), arrived).await;
            }
        })
        .await
    }
}

impl Drop for GracefulServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn x01_a_graceful_shutdown_sends_the_unprocessed_requests_again_on_a_new_connection() {
    const REQUESTS: usize = 6;
    let server = GracefulServer::start().await;
    let client = trusting_test_ca().build().unwrap();
    // One request first, so that the client knows the server's stream limit: streams over
    // it, sent before its SETTINGS arrive, are refused, a case of its own.
    let warm_up = bounded(client.get(format!("{}warm-up", server.url)).send()).await;
    assert_eq!(warm_up.unwrap().text().await.unwrap(), "connection 0");
    let requests = (0..REQUESTS)
        .map(|_| {
            let (client, url) = (client.clone(), server.url.clone());
            tokio::spawn(async move {
                let resp = client.get(url).send().await?;
                assert_eq!(resp.version(), Version::HTTP_2);
                resp.text().await
            })
        })
        .collect::<Vec<_>>();

    // The first connection takes two; the other four wait in the client.
    let streams = STREAMS_PER_CONNECTION as usize;
    server.until(|r| r.first() == Some(&(1 + streams))).await;
    server.shutdown_first.notify_one();
    // Those four go to a new connection, while the first still holds its two.
    server
        .until(|r| r.iter().skip(1).sum::<usize>() == REQUESTS - streams)
        .await;
    server.release_first.send(true).unwrap();

    let mut answers = Vec::new();
    for request in requests {
        let text = bounded(request).await.unwrap();
        answers.push(text.unwrap_or_else(|e| panic!("no error reaches the caller: {e}")));
    }
    let received = server.received();
    println!("requests received per connection: {received:?}");
    assert_eq!(
        received[0],
        1 + streams,
        "the first connection processed two"
    );
    assert_eq!(
        received.iter().sum::<usize>(),
        1 + REQUESTS,
        "every request received once: {received:?}"
    );
    let first = answers.iter().filter(|a| *a == "connection 0").count();
    assert_eq!(first, streams, "{answers:?}");
}
