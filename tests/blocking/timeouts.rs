//! The blocking client's `timeout`, reqwest's: a limit on each wait (the head, each read,
//! a body read whole), 30 s unless set, `None` to turn it off; and a request's own
//! `timeout`, which bounds the request as a whole as in the async client.

use std::io::Read;
use std::time::{Duration, Instant};

use wireline::blocking;

use crate::support::{echo_router, http_server, raw_server, RawServer};
use crate::{serve, within_bound};

/// A server whose every response announces `pieces` × 10 bytes and sends them `gap` apart.
fn trickling(pieces: usize, gap: Duration) -> RawServer {
    serve(raw_server(move |mut conn| async move {
        conn.read_request().await;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", pieces * 10);
        conn.write(head.as_bytes()).await;
        for _ in 0..pieces {
            tokio::time::sleep(gap).await;
            conn.write(b"0123456789").await;
        }
        conn.close().await;
    }))
}

fn url(server: &RawServer) -> String {
    format!("http://{}/", server.addr)
}

#[test]
fn the_timeout_ends_a_wait_for_the_response_head_and_says_how_to_change_it() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let started = Instant::now();
        let err = client.get(server.url("/slow?ms=5000")).send().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(err.url().unwrap().path(), "/slow");
        let message = err.to_string();
        assert!(message.contains("response head"), "{message}");
        assert!(message.contains("timeout(None)"), "{message}");
    });
}

#[test]
fn timeout_none_turns_the_limit_off() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let url = server.url("/slow?ms=600");
        let limited = blocking::Client::builder()
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        assert!(limited.get(&url).send().unwrap_err().is_timeout());
        let patient = blocking::Client::builder().timeout(None).build().unwrap();
        assert_eq!(patient.get(&url).send().unwrap().text().unwrap(), "slow");
    });
}

#[test]
fn the_limit_is_per_wait_so_a_body_that_keeps_coming_outlasts_it_when_read_in_pieces() {
    // 6 pieces 150 ms apart: about 900 ms in all, each wait well under the 400 ms limit.
    let server = trickling(6, Duration::from_millis(150));
    within_bound(move || {
        let client = blocking::Client::builder()
            .timeout(Duration::from_millis(400))
            .build()
            .unwrap();
        let mut resp = client.get(url(&server)).send().unwrap();
        let mut body = Vec::new();
        assert_eq!(resp.copy_to(&mut body).unwrap(), 60);
        assert_eq!(body, b"0123456789".repeat(6));

        // The same body read whole is one wait, which the limit ends.
        let resp = client.get(url(&server)).send().unwrap();
        let err = resp.text().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("whole body"), "{err}");
    });
}

#[test]
fn a_requests_own_timeout_bounds_it_whole_body_included() {
    // 10 pieces 150 ms apart: 1.5 s in all.
    let server = trickling(10, Duration::from_millis(150));
    within_bound(move || {
        let client = blocking::Client::builder().timeout(None).build().unwrap();
        let started = Instant::now();
        let mut resp = client
            .get(url(&server))
            .timeout(Duration::from_millis(400))
            .send()
            .unwrap();
        let err = resp.copy_to(&mut std::io::sink()).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
    });
}

#[test]
fn a_stalled_body_fails_read_with_a_timed_out_io_error_wrapping_the_error() {
    // Announces 10 bytes, sends 3, then nothing until the client leaves.
    let server = serve(raw_server(|mut conn| async move {
        conn.read_request().await;
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
            .await;
        conn.drain().await;
    }));
    within_bound(move || {
        let client = blocking::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let mut resp = client.get(url(&server)).send().unwrap();
        let mut body = Vec::new();
        let err = resp.read_to_end(&mut body).unwrap_err();
        assert_eq!(body, b"abc");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        let inner = err.into_inner().unwrap();
        let inner = inner.downcast_ref::<wireline::Error>().unwrap();
        assert!(inner.is_timeout(), "{inner:?}");
        assert!(
            inner.to_string().contains("next piece of the body"),
            "{inner}"
        );
    });
}
