//! Fault matrix P04, P05 and P07: what the pool keeps and what it must let go: connections
//! the server says it will close, requests and bodies the caller abandons, and a pooled
//! connection that goes silent. P01–P03 (stale connections) are in
//! tests/faults/stale_connections.rs, P06 (10,000 at once) in tests/faults_pool_many.rs, a
//! binary of its own. See docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support::{assert_no_leak, bounded, h1_response, pause_ms, write, FaultServer, Step};
use wireline::Client;

fn hello() -> Vec<u8> {
    h1_response("200 OK", &[], b"hello")
}

/// A second connection's script: answer requests with "fresh" for as long as asked.
fn fresh() -> Vec<Step> {
    let mut steps = Vec::new();
    for _ in 0..10 {
        steps.push(Step::Read);
        steps.push(write(h1_response("200 OK", &[], b"fresh")));
    }
    steps
}

async fn text(client: &Client, url: &str) -> wireline::Result<String> {
    bounded(async { client.get(url).send().await?.text().await }).await
}

#[tokio::test]
async fn p04_connection_close_is_honoured() {
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            write(h1_response("200 OK", &[("connection", "close")], b"once")),
            // Only a client that ignored `Connection: close` sends anything more here.
            Step::Read,
            write(h1_response("200 OK", &[], b"ignored the close")),
        ],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "once");
    server.assert_closed_by_client(1).await;
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "fresh");
    assert_eq!(server.accepts(), 2);
    assert_no_leak(server.addr, 1).await;
}

#[tokio::test]
async fn p04_a_fresh_connection_closed_before_any_byte_fails_once_then_recovers() {
    // tests/faults/stale_connections.rs checks the single attempt; here the next request works.
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![Step::Read, Step::Close],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let err = text(&client, &server.url("/")).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert_eq!(server.accepts(), 1, "no second connection, no loop");
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "fresh");
    assert_eq!(server.accepts(), 2);
    assert_no_leak(server.addr, 1).await;
}

#[tokio::test]
async fn p05_a_dropped_response_future_closes_its_connection() {
    let server = FaultServer::by_connection(|i| match i {
        // Answers too late: the caller has given up by then.
        0 => vec![Step::Read, pause_ms(2000), write(hello())],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        client.get(server.url("/")).send(),
    )
    .await;
    assert!(gave_up.is_err(), "the future was dropped while waiting");
    // The server writes its late answer into a socket the client has closed.
    assert_no_leak(server.addr, 0).await;
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "fresh");
    assert_eq!(
        server.accepts(),
        2,
        "the abandoned connection was not reused"
    );
    assert_no_leak(server.addr, 1).await;
}

#[tokio::test]
async fn p05_a_body_dropped_half_read_closes_its_connection() {
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf."),
            pause_ms(1000),
            write("rest."),
        ],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let mut resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    let first = bounded(resp.chunk()).await.unwrap().unwrap();
    assert_eq!(&first[..], b"half.");
    drop(resp);
    server.assert_closed_by_client(1).await;
    assert_no_leak(server.addr, 0).await;
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "fresh");
    assert_eq!(server.accepts(), 2);
}

#[tokio::test]
async fn p07_a_pooled_connection_gone_silent_times_out_and_is_evicted() {
    let server = FaultServer::by_connection(|i| match i {
        // Answers once, then reads the next request and goes silent: no FIN, no data.
        0 => vec![Step::Read, write(hello()), Step::Read, Step::Silent],
        _ => fresh(),
    })
    .await;
    let client = Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "hello");
    let started = Instant::now();
    let err = text(&client, &server.url("/")).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_millis(2500),
        "{took:?}"
    );
    server.assert_closed_by_client(1).await;
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "fresh");
    assert_eq!(server.accepts(), 2, "the silent connection was evicted");
    assert_no_leak(server.addr, 1).await;
}
