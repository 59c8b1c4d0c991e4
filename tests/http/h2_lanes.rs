//! More h2 connections when one is full (docs/pooling.md, "h2 connection growth"): a
//! server limiting each connection to 4 concurrent streams gets requests spread over as
//! many connections as they need, within `pool_max_connections_per_host`. The server
//! counts the connections it accepts; the wall time tells the requests ran side by side
//! rather than queued behind one connection's 4 streams.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use wireline::Client;

use crate::support::{bounded, https_server, trusting_test_ca, ServerOptions, TestServer};

/// How long each slow request takes on the server.
const SLOW: Duration = Duration::from_millis(400);

async fn limited_server(streams: u32) -> TestServer {
    https_server(ServerOptions {
        h2_max_streams: Some(streams),
        ..ServerOptions::default()
    })
    .await
}

/// `n` slow GETs at once, each in its own task; how long they took together. Each must
/// succeed over h2.
async fn slow_burst(client: &Client, server: &TestServer, n: usize) -> Duration {
    let url = server.url(&format!("/slow?ms={}", SLOW.as_millis()));
    let started = Instant::now();
    let tasks = (0..n).map(|_| {
        let (client, url) = (client.clone(), url.clone());
        tokio::spawn(async move {
            let response = client.get(&url).send().await.expect("request");
            assert_eq!(response.status(), 200);
            assert_eq!(response.version(), http::Version::HTTP_2);
            response.bytes().await.expect("body");
        })
    });
    for joined in bounded(join_all(tasks)).await {
        joined.expect("the request's task");
    }
    started.elapsed()
}

/// One quick request, so the client knows the origin speaks h2 and its limit.
async fn warm(client: &Client, server: &TestServer) {
    let response = client.get(server.url("/")).send().await.expect("warm-up");
    assert_eq!(response.version(), http::Version::HTTP_2);
    response.bytes().await.expect("body");
}

#[tokio::test]
async fn a_response_that_ended_with_its_head_leaves_its_stream_free() {
    // One stream per connection: a HEAD's response, held unread, must not keep the next
    // request off the connection (its stream ended with the head).
    let server = limited_server(1).await;
    let client = trusting_test_ca().build().unwrap();
    warm(&client, &server).await;
    let head = bounded(client.head(server.url("/")).send()).await.unwrap();
    assert_eq!(head.version(), http::Version::HTTP_2);
    let next = bounded(client.get(server.url("/")).send()).await.unwrap();
    bounded(next.bytes()).await.unwrap();
    assert_eq!(server.accepts(), 1, "the GET took the HEAD's connection");
    drop(head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_requests_to_a_server_allowing_4_streams_open_16_connections() {
    let server = limited_server(4).await;
    let client = trusting_test_ca().build().unwrap();
    warm(&client, &server).await;
    let took = slow_burst(&client, &server, 64).await;
    assert_eq!(server.accepts(), 16, "64 streams, 4 per connection");
    // Queued behind one connection, they would take 16 rounds: 6.4 s.
    assert!(
        took < SLOW * 4,
        "the requests ran side by side: {took:?} for one round of {SLOW:?}"
    );
    // The next burst finds the 16 connections pooled.
    slow_burst(&client, &server, 64).await;
    assert_eq!(server.accepts(), 16, "the connections were reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_to_a_new_origin_waits_for_the_first_connection_s_limit_then_spreads() {
    let server = limited_server(4).await;
    let client = trusting_test_ca().build().unwrap();
    // No warm-up: the first dial's protocol and the server's limit are unknown when the
    // 64 requests start. They wait for that one dial (no dial storm), then spread.
    let took = slow_burst(&client, &server, 64).await;
    let opened = server.accepts();
    println!("took {took:?}, {opened} connections");
    // 16, give or take one: the request that opened the first connection is not counted
    // on it, and two requests finding every lane full at once each add one. Without the
    // wait, all 64 joined the first connection: 1, in 16 rounds (6.6 s).
    assert!((15..=17).contains(&opened), "{opened} connections");
    // A request over the first connection's limit may wait a round for a stream: at most
    // two rounds.
    assert!(took < SLOW * 4, "{took:?} for one round of {SLOW:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_bounds_the_growth_and_the_rest_queue_in_the_streams() {
    let server = limited_server(4).await;
    let client = trusting_test_ca()
        .pool_max_connections_per_host(3)
        .build()
        .unwrap();
    warm(&client, &server).await;
    let took = slow_burst(&client, &server, 24).await;
    assert_eq!(server.accepts(), 3, "no more connections than the cap");
    // 24 requests on 12 streams: two rounds.
    assert!(took >= SLOW * 2, "{took:?}");
    assert!(took < SLOW * 5, "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_within_the_limit_share_one_connection() {
    let server = limited_server(8).await;
    let client = trusting_test_ca().build().unwrap();
    warm(&client, &server).await;
    // Finished responses give their streams back: three bursts of 8 fit one connection.
    for _ in 0..3 {
        slow_burst(&client, &server, 8).await;
    }
    assert_eq!(server.accepts(), 1);
    // One more than the limit needs a second connection.
    slow_burst(&client, &server, 9).await;
    assert_eq!(server.accepts(), 2);
}
