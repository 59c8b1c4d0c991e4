//! The cap on connections per host (`pool_max_connections_per_host`), the wait for one
//! (`pool_acquire_timeout`), and one dial at a time to an origin whose protocol is not
//! known yet (docs/pooling.md). Servers count the connections they accept; the runtime
//! counts the tasks left behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tower::ServiceExt;
use wireline::layer::{ConnectorService, Destination};
use wireline::Client;

use crate::support::{
    around_dials, bounded, echo_router, h1_response, handler, http_server, https_server,
    raw_server, response, trusting_test_ca, Alpn, AroundDials, DialFuture, RawConn, ServerOptions,
};

/// Sends `n` GETs to `url` at once, each in a task of its own (as a server's handlers
/// would); their statuses, or their errors.
async fn burst(client: &Client, url: &str, n: usize) -> Vec<wireline::Result<u16>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                let response = client.get(&url).send().await?;
                let status = response.status().as_u16();
                response.bytes().await?;
                Ok(status)
            })
        })
        .collect();
    bounded(join_all(tasks))
        .await
        .into_iter()
        .map(|joined| joined.expect("the request's task"))
        .collect()
}

fn all_ok(results: &[wireline::Result<u16>]) {
    for result in results {
        assert_eq!(*result.as_ref().expect("request"), 200);
    }
}

/// The tasks alive in this test's runtime, once they have settled: the server's and the
/// pool's, and any dial left waiting.
async fn settled_tasks() -> usize {
    let metrics = tokio::runtime::Handle::current().metrics();
    let mut last = usize::MAX;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = metrics.num_alive_tasks();
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_of_4_carries_1000_concurrent_requests_on_4_connections() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .pool_max_connections_per_host(4)
        .build()
        .unwrap();
    let before = settled_tasks().await;
    let url = server.url("/slow?ms=5");
    all_ok(&burst(&client, &url, 1000).await);
    assert_eq!(server.accepts(), 4, "the cap bounds the connections opened");
    // No dial is left waiting for a slot (hyper-util spawned one per request whose
    // checkout won): the 4 connections' tasks on both sides, and the pool's idle timer.
    let after = settled_tasks().await;
    assert!(
        after <= before + 4 * 2 + 2,
        "tasks left behind: {before} before the burst, {after} after"
    );
    // The slots came back: a later burst runs on the same connections.
    all_ok(&burst(&client, &url, 50).await);
    assert_eq!(server.accepts(), 4);
}

#[tokio::test]
async fn past_pool_acquire_timeout_the_excess_fail_with_is_pool_timeout_and_nothing_leaks() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .pool_max_connections_per_host(2)
        .pool_acquire_timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let slow = server.url("/slow?ms=2000");
    let started = Instant::now();
    let sends = (0..10).map(|_| async {
        let outcome = client.get(&slow).send().await;
        (outcome, started.elapsed())
    });
    let outcomes = bounded(join_all(sends)).await;
    let mut timed_out = 0;
    let mut most_waiting = 0;
    for (outcome, after) in outcomes {
        match outcome {
            Ok(response) => assert_eq!(response.status(), 200),
            Err(e) => {
                assert!(e.is_pool_timeout(), "{e:?}");
                assert!(!e.is_timeout() && !e.is_connect(), "{e:?}");
                assert!(
                    after < Duration::from_millis(1500),
                    "failed after {after:?}"
                );
                let message = e.to_string();
                for part in [
                    &format!("http://127.0.0.1:{}", server.addr.port()),
                    "pool_max_connections_per_host(2)",
                    "waiting for one",
                    "nothing was sent",
                ] {
                    assert!(message.contains(part), "{part:?} in {message}");
                }
                // "… and 8 requests were waiting": fewer for those that gave up later.
                let waiting = message
                    .split(" and ")
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next().and_then(|n| n.parse::<usize>().ok()));
                most_waiting = most_waiting.max(waiting.expect("the count waiting"));
                timed_out += 1;
            }
        }
    }
    assert_eq!(timed_out, 8, "two requests had the two connections");
    assert_eq!(
        most_waiting, 8,
        "the first to give up saw all eight waiting"
    );
    assert_eq!(server.accepts(), 2);
    // Nothing held: new requests go out on the two connections.
    all_ok(&burst(&client, &server.url("/"), 6).await);
    assert_eq!(server.accepts(), 2, "no connection beyond the cap");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_waiter_holds_no_slot_and_leaves_no_task() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .pool_max_connections_per_host(1)
        .build()
        .unwrap();
    let before = settled_tasks().await;
    let holder = tokio::spawn({
        let (client, url) = (client.clone(), server.url("/slow?ms=300"));
        async move { client.get(&url).send().await?.bytes().await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // Twenty requests wait for the one connection, and are dropped while waiting.
    let waiters: Vec<_> = (0..20)
        .map(|_| {
            let (client, url) = (client.clone(), server.url("/"));
            tokio::spawn(async move { client.get(&url).send().await.map(|_| ()) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    for waiter in &waiters {
        assert!(!waiter.is_finished(), "it waits for the one connection");
        waiter.abort();
    }
    bounded(holder).await.unwrap().unwrap();
    // The one slot is the holder's connection's: later requests use it.
    all_ok(&burst(&client, &server.url("/"), 10).await);
    assert_eq!(server.accepts(), 1);
    let after = settled_tasks().await;
    assert!(
        after <= before + 2 + 2,
        "tasks left behind: {before} before, {after} after"
    );
}

#[tokio::test]
async fn a_connection_the_server_closes_frees_its_slot() {
    let closing = handler(|_| async { response(200, &[("connection", "close")], "bye") });
    let server = http_server(closing).await;
    let client = Client::builder()
        .pool_max_connections_per_host(1)
        .build()
        .unwrap();
    for _ in 0..20 {
        let response = bounded(client.get(server.url("/")).send()).await.unwrap();
        assert_eq!(bounded(response.text()).await.unwrap(), "bye");
    }
    all_ok(&burst(&client, &server.url("/"), 20).await);
    assert_eq!(
        server.accepts(),
        40,
        "one connection per request, one at a time"
    );
}

#[tokio::test]
async fn thirty_two_requests_to_a_new_h2_origin_open_one_connection() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    all_ok(&burst(&client, &server.url("/slow?ms=20"), 32).await);
    assert_eq!(
        server.accepts(),
        1,
        "one dial, shared once it turned out h2"
    );
    assert_eq!(server.handshakes(), 1);
}

/// A connector layer that holds each dial `delay`, counting the dials started and, when
/// the first of a burst is through, how many had started by then.
#[derive(Clone, Default)]
struct Dials {
    started: Arc<AtomicUsize>,
    started_when_one_was_through: Arc<AtomicUsize>,
}

impl Dials {
    fn layer(
        &self,
        delay: Duration,
    ) -> AroundDials<impl Fn(ConnectorService, Destination) -> DialFuture + Clone + Send + Sync>
    {
        let dials = self.clone();
        around_dials(move |inner: ConnectorService, dst: Destination| {
            let dials = dials.clone();
            Box::pin(async move {
                dials.started.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let started = dials.started.load(Ordering::SeqCst);
                let _ = dials.started_when_one_was_through.compare_exchange(
                    0,
                    started,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                inner.oneshot(dst).await
            })
        })
    }

    fn reset(&self) {
        self.started.store(0, Ordering::SeqCst);
        self.started_when_one_was_through.store(0, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http11_origin_is_dialled_in_parallel_once_known() {
    let server = https_server(ServerOptions {
        alpn: Alpn::H1Only,
        ..ServerOptions::default()
    })
    .await;
    let dials = Dials::default();
    let client = trusting_test_ca()
        .connector_layer(dials.layer(Duration::from_millis(100)))
        .build()
        .unwrap();
    let url = server.url("/slow?ms=300");
    all_ok(&burst(&client, &url, 16).await);
    assert_eq!(
        dials.started_when_one_was_through.load(Ordering::SeqCst),
        1,
        "the first dial to the new origin went alone"
    );
    assert!(
        server.accepts() > 1,
        "then in parallel: {}",
        server.accepts()
    );
    // Known to speak HTTP/1.1 while its connections are pooled: a larger burst dials the
    // connections it lacks at once.
    let pooled = server.accepts();
    dials.reset();
    all_ok(&burst(&client, &url, pooled + 8).await);
    assert!(
        dials.started_when_one_was_through.load(Ordering::SeqCst) >= 8,
        "the new dials overlapped from the start: {}",
        dials.started_when_one_was_through.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_request_sent_again_after_a_stale_connection_gets_the_slot_that_connection_held() {
    // Answers the first request on each connection, then closes at the next without a
    // byte of answer: every request after the first meets a stale pooled connection and
    // is sent again on a new one, which under a cap of 1 needs the stale one's slot.
    let server = raw_server(|mut conn: RawConn| async move {
        if conn.read_request().await.is_none() {
            return;
        }
        conn.write(&h1_response("200 OK", &[], b"hello")).await;
        conn.read_request().await;
        conn.close().await;
    })
    .await;
    let client = Client::builder()
        .pool_max_connections_per_host(1)
        .build()
        .unwrap();
    let url = format!("http://{}/", server.addr);
    for _ in 0..20 {
        let response = bounded(client.get(&url).send()).await.unwrap();
        assert_eq!(bounded(response.text()).await.unwrap(), "hello");
    }
    assert_eq!(server.accepts(), 20);
}
