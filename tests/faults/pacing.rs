//! read_timeout and low_speed_limit against servers that trickle, stall or keep pace.

use std::time::{Duration, Instant};

use crate::support;
use crate::support::{bounded, h1_response, http_server, raw_server, silent_server, RawServer};
use wireline::Client;

/// Answers each request with `length` bytes of body, one every `every`, after a complete
/// head (or, with `head_too`, trickles the head as well).
async fn trickle(length: usize, every: Duration, head_too: bool) -> RawServer {
    raw_server(move |mut conn| async move {
        conn.read_request().await;
        let mut bytes = h1_response("200 OK", &[("content-length", &length.to_string())], b"");
        let head_len = bytes.len();
        bytes.extend(std::iter::repeat_n(b'x', length));
        let (head, body) = if head_too {
            (&bytes[..0], &bytes[..])
        } else {
            bytes.split_at(head_len)
        };
        conn.write(head).await;
        for byte in body {
            tokio::time::sleep(every).await;
            conn.write(&[*byte]).await;
        }
        conn.close().await;
    })
    .await
}

fn url(server: &RawServer) -> String {
    format!("http://{}/", server.addr)
}

fn seconds(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64()
}

#[tokio::test]
async fn read_timeout_fails_a_body_that_pauses_too_long() {
    let server = trickle(10, Duration::from_secs(2), false).await;
    let client = Client::builder()
        .read_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let resp = bounded(client.get(url(&server)).send()).await.unwrap();
    let started = Instant::now();
    let err = bounded(resp.bytes()).await.unwrap_err();
    let took = seconds(started.elapsed());
    eprintln!("timed out after {took:.2}s");
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("read_timeout"), "{err}");
    assert!((0.9..1.9).contains(&took), "failed after {took:.2}s");
}

#[tokio::test]
async fn read_timeout_fails_a_head_that_is_late() {
    let server = trickle(10, Duration::from_secs(2), true).await;
    let client = Client::builder()
        .read_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.get(url(&server)).send()).await.unwrap_err();
    let took = seconds(started.elapsed());
    eprintln!("timed out after {took:.2}s");
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("read_timeout"), "{err}");
    assert!((0.9..1.9).contains(&took), "failed after {took:.2}s");
}

#[tokio::test]
async fn read_timeout_bounds_each_wait_not_the_whole_body() {
    // Six bytes, 200 ms apart: 1.2 s in all, each wait far below the timeout.
    let server = trickle(6, Duration::from_millis(200), false).await;
    let client = Client::builder()
        .read_timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let body = bounded(async { client.get(url(&server)).send().await?.bytes().await })
        .await
        .unwrap();
    assert_eq!(&body[..], b"xxxxxx");
}

#[tokio::test]
async fn time_spent_between_reads_is_not_the_servers() {
    let server = http_server(support::echo_router()).await;
    let client = Client::builder()
        .read_timeout(Duration::from_millis(300))
        .low_speed_limit(1_000_000, Duration::from_millis(300))
        .build()
        .unwrap();
    let resp = bounded(client.get(server.url("/bytes/100000")).send())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let body = bounded(resp.bytes()).await.unwrap();
    assert_eq!(body.len(), 100_000);
}

#[tokio::test]
async fn low_speed_limit_fails_a_trickle() {
    // ~3 bytes/s against a floor of 100 bytes/s.
    let server = trickle(100, Duration::from_millis(300), false).await;
    let client = Client::builder()
        .low_speed_limit(100, Duration::from_secs(1))
        .build()
        .unwrap();
    let resp = bounded(client.get(url(&server)).send()).await.unwrap();
    let started = Instant::now();
    let err = bounded(resp.bytes()).await.unwrap_err();
    let took = seconds(started.elapsed());
    eprintln!("timed out after {took:.2}s");
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("low_speed_limit"), "{err}");
    assert!((0.9..2.2).contains(&took), "failed after {took:.2}s");
}

#[tokio::test]
async fn low_speed_limit_passes_a_fast_body_and_a_steady_one() {
    let server = http_server(support::echo_router()).await;
    let client = Client::builder()
        .low_speed_limit(1000, Duration::from_millis(500))
        .build()
        .unwrap();
    let body = bounded(async {
        client
            .get(server.url("/bytes/2000000"))
            .send()
            .await?
            .bytes()
            .await
    })
    .await
    .unwrap();
    assert_eq!(body.len(), 2_000_000);

    // 200 bytes every 100 ms, ~2000 bytes/s, for 1.5 s: three windows, each well above
    // the floor of 1000 bytes/s.
    let steady = raw_server(|mut conn| async move {
        conn.read_request().await;
        conn.write(&h1_response("200 OK", &[("content-length", "3000")], b""))
            .await;
        for _ in 0..15 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            conn.write(&[b'y'; 200]).await;
        }
        conn.close().await;
    })
    .await;
    let body = bounded(async { client.get(url(&steady)).send().await?.bytes().await })
        .await
        .unwrap();
    assert_eq!(body.len(), 3000);
}

#[tokio::test]
async fn low_speed_limit_bounds_a_silent_server() {
    let server = silent_server().await;
    let client = Client::builder()
        .low_speed_limit(1, Duration::from_millis(700))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.get(url(&server)).send()).await.unwrap_err();
    let took = seconds(started.elapsed());
    eprintln!("timed out after {took:.2}s");
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("low_speed_limit"), "{err}");
    assert!((0.6..1.6).contains(&took), "failed after {took:.2}s");
}

#[tokio::test]
async fn without_the_rules_a_slow_body_is_read_to_its_end() {
    let server = trickle(4, Duration::from_millis(400), false).await;
    let body = bounded(async { Client::new().get(url(&server)).send().await?.bytes().await })
        .await
        .unwrap();
    assert_eq!(&body[..], b"xxxx");
}

#[tokio::test]
async fn zero_durations_are_refused_at_build() {
    let err = Client::builder()
        .read_timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        err.is_builder() && err.to_string().contains("read_timeout"),
        "{err}"
    );
    let err = Client::builder()
        .low_speed_limit(10, Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        err.is_builder() && err.to_string().contains("low_speed_limit"),
        "{err}"
    );
}

#[tokio::test]
async fn limits_too_long_to_ever_run_out_never_fail() {
    // `Duration::MAX` reads as "no limit", as tokio's timers take it.
    let server = trickle(3, Duration::from_millis(100), false).await;
    for client in [
        Client::builder().read_timeout(Duration::MAX),
        Client::builder().low_speed_limit(1, Duration::MAX),
        Client::builder()
            .read_timeout(Duration::MAX)
            .low_speed_limit(1, Duration::MAX),
    ] {
        let client = client.build().unwrap();
        let body = bounded(async { client.get(url(&server)).send().await?.bytes().await })
            .await
            .unwrap();
        assert_eq!(&body[..], b"xxx");
    }
}
