//! Fault matrix T01–T04: servers that accept and then say nothing, never finish the TLS
//! handshake, trickle the head, or stall the body. Each asserts the `is_timeout` error,
//! when it came (generous margins: the machine is shared), and that the connection was
//! closed rather than pooled. See docs/reliability.md; tests/faults/pacing.rs and
//! tests/tls/verification.rs cover the same rules against other servers.

use std::time::{Duration, Instant};

use crate::support::{
    assert_no_leak, bounded, h1_response, trusting_test_ca, write, FaultServer, Step,
};
use wireline::Client;

/// Asserts `took` is within `[at - 0.1 s, at + 2 s]`: never early, late only by load.
fn around(took: Duration, at: Duration) {
    assert!(
        took + Duration::from_millis(100) >= at && took <= at + Duration::from_secs(2),
        "took {took:?}, expected about {at:?}"
    );
}

#[tokio::test]
async fn t01_a_server_that_never_answers_times_out_and_the_socket_is_closed() {
    let server = FaultServer::start(vec![Step::Read, Step::Silent]).await;
    let client = Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    around(started.elapsed(), Duration::from_millis(500));
    // The client is still alive: its pool must not keep the connection.
    server.assert_closed_by_client(1).await;
    assert_no_leak(server.addr, 0).await;
    assert_eq!(server.requests().len(), 1, "a timeout is never retried");
}

#[tokio::test]
async fn t02_a_tls_server_that_never_sends_its_hello_times_out_and_the_socket_is_closed() {
    // Accepts TCP and reads the ClientHello, but never answers it.
    let server = FaultServer::start(vec![Step::Silent]).await;
    let url = format!("https://{}/", server.addr);
    for client in [
        trusting_test_ca()
            .connect_timeout(Duration::from_millis(400))
            .build()
            .unwrap(),
        trusting_test_ca()
            .timeout(Duration::from_millis(400))
            .build()
            .unwrap(),
    ] {
        let started = Instant::now();
        let err = bounded(client.get(&url).send()).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        around(started.elapsed(), Duration::from_millis(400));
    }
    server.assert_closed_by_client(2).await;
    assert_no_leak(server.addr, 0).await;
}

#[tokio::test]
async fn t03_a_trickled_head_is_bounded_by_read_timeout_or_the_total_timeout() {
    // A byte every 500 ms. wireline counts the whole wait for the head as one read, so a
    // 1 s read_timeout ends it at 1 s (the matrix expected only the total timeout to
    // catch it, at 3 s); without read_timeout, the total timeout ends it at 3 s.
    let head = h1_response("200 OK", &[("x-pad", "aaaaaaaaaa")], b"late");
    let server = FaultServer::start(vec![
        Step::Read,
        Step::Trickle(head, Duration::from_millis(500)),
    ])
    .await;
    for (client, at, rule) in [
        (
            Client::builder()
                .read_timeout(Duration::from_secs(1))
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap(),
            Duration::from_secs(1),
            "read_timeout",
        ),
        (
            Client::builder()
                .timeout(Duration::from_secs(3))
                .build()
                .unwrap(),
            Duration::from_secs(3),
            "the request's `timeout`",
        ),
    ] {
        let started = Instant::now();
        let err = bounded(client.get(server.url("/")).send())
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains(rule), "{err}");
        around(started.elapsed(), at);
    }
    server.assert_closed_by_client(2).await;
    assert_no_leak(server.addr, 0).await;
}

#[tokio::test]
async fn t04_a_body_that_stalls_fails_at_the_read_timeout() {
    let server = FaultServer::start(vec![
        Step::Read,
        write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n01234"),
        Step::Silent,
    ])
    .await;
    let client = Client::builder()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    let started = Instant::now();
    let err = bounded(resp.bytes()).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("read_timeout"), "{err}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1300),
        "{took:?}"
    );
    server.assert_closed_by_client(1).await;
    assert_no_leak(server.addr, 0).await;
}
