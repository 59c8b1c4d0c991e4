//! Fault matrix X01–X03: an h2 server that sends GOAWAY, refuses streams, fails a
//! connection mid-upload, or never opens its flow-control window. See docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support::{bounded, thread_cpu, trusting_test_ca, H2Fault, H2FaultServer};
use h2::Reason;
use wireline::{Client, Version};

fn client() -> Client {
    trusting_test_ca().build().unwrap()
}

async fn get_text(client: &Client, url: &str) -> wireline::Result<(Version, String)> {
    bounded(async {
        let resp = client.get(url).send().await?;
        let version = resp.version();
        Ok((version, resp.text().await?))
    })
    .await
}

#[tokio::test]
async fn x01_a_goaway_before_any_stream_is_retried_once_on_a_new_connection() {
    // Graceful, or with an error code: either way the stream is above last_stream_id 0.
    for reason in [Reason::NO_ERROR, Reason::ENHANCE_YOUR_CALM] {
        let server = H2FaultServer::start(move |i| match i {
            0 => H2Fault::GoAwayFirst(reason),
            _ => H2Fault::Serve,
        })
        .await;
        let (version, text) = get_text(&client(), &server.url("/")).await.unwrap();
        assert_eq!(
            (version, text.as_str()),
            (Version::HTTP_2, "ok"),
            "{reason:?}"
        );
        assert_eq!(
            server.accepts(),
            2,
            "{reason:?}: sent again on a second connection"
        );
        assert_eq!(
            server.streams(),
            1,
            "{reason:?}: the first connection processed none"
        );
    }
}

#[tokio::test]
async fn x01_goaway_on_every_connection_is_retried_only_once() {
    let server = H2FaultServer::start(|_| H2Fault::GoAwayFirst(Reason::NO_ERROR)).await;
    let err = get_text(&client(), &server.url("/")).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert_eq!(server.accepts(), 2, "one retry, no loop");
}

#[tokio::test]
async fn x01_a_goaway_also_retries_a_post_whose_body_is_bytes() {
    // Not processed at all, so even a POST is safe to send again (RFC 9113 §8.7).
    let server = H2FaultServer::start(|i| match i {
        0 => H2Fault::GoAwayFirst(Reason::NO_ERROR),
        _ => H2Fault::Serve,
    })
    .await;
    let text = bounded(async {
        client()
            .post(server.url("/"))
            .body("once")
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(text, "ok");
    assert_eq!(server.accepts(), 2);
}

#[tokio::test]
async fn x01_a_refused_stream_is_retried_once() {
    let server = H2FaultServer::start(|_| H2Fault::RefuseFirstStream).await;
    let (version, text) = get_text(&client(), &server.url("/")).await.unwrap();
    assert_eq!((version, text.as_str()), (Version::HTTP_2, "ok"));
    assert_eq!(server.streams(), 2, "refused, then sent once more");
}

#[tokio::test]
async fn x01_a_stream_refused_again_is_not_retried_twice() {
    let server = H2FaultServer::start(|_| H2Fault::RefuseEveryStream).await;
    let started = Instant::now();
    let err = get_text(&client(), &server.url("/")).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.streams(), 2, "one retry, no loop");
}

#[tokio::test]
async fn x01_a_streamed_body_is_not_sent_again() {
    let server = H2FaultServer::start(|_| H2Fault::RefuseEveryStream).await;
    let body =
        wireline::Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            "streamed",
        )]));
    let err = bounded(client().post(server.url("/")).body(body).send())
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert_eq!(server.streams(), 1);
}

#[tokio::test]
async fn x02_a_goaway_with_an_error_mid_upload_fails_without_retry() {
    let server = H2FaultServer::start(|i| match i {
        0 => H2Fault::GoAwayProtocolErrorMidBody,
        _ => H2Fault::Serve,
    })
    .await;
    let started = Instant::now();
    let err = bounded(
        client()
            .post(server.url("/"))
            .header("idempotency-key", "k1")
            .body(vec![b'x'; 100_000])
            .send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.accepts(), 1, "the server had processed it: no retry");
    assert_eq!(server.streams(), 1);
}

#[tokio::test]
async fn x03_a_window_that_never_opens_times_out_without_spinning() {
    let server = H2FaultServer::start(|_| H2Fault::ZeroWindow).await;
    let client = trusting_test_ca()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let err = bounded(client.post(server.url("/")).body(vec![b'x'; 10_000]).send())
        .await
        .unwrap_err();
    let took = started.elapsed();
    let cpu = thread_cpu().saturating_sub(cpu_before);
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        took >= Duration::from_millis(1400) && took < Duration::from_millis(3500),
        "{took:?}"
    );
    // The client and this server share the test's thread; waiting on a closed window
    // must cost (almost) nothing.
    assert!(
        cpu < Duration::from_millis(500),
        "{cpu:?} of CPU while waiting {took:?}"
    );
    assert_eq!(server.streams(), 1);
}

#[tokio::test]
async fn x01_a_goaway_then_a_refusal_on_the_new_connection_is_sent_a_third_time_never_a_fourth() {
    // Sent again after a GOAWAY, a request can meet the new connection's stream limit
    // before its SETTINGS arrive: refused, it is sent once more (a graceful shutdown of a
    // server with a low stream limit, `h2_graceful`).
    let server = H2FaultServer::start(|i| match i {
        0 => H2Fault::GoAwayFirst(Reason::NO_ERROR),
        _ => H2Fault::RefuseFirstStream,
    })
    .await;
    let (version, text) = get_text(&client(), &server.url("/")).await.unwrap();
    assert_eq!((version, text.as_str()), (Version::HTTP_2, "ok"));
    assert_eq!(server.accepts(), 2);
    assert_eq!(
        server.streams(),
        2,
        "refused once on the second connection, then served"
    );

    // Refused again: the third send was the last.
    let server = H2FaultServer::start(|i| match i {
        0 => H2Fault::GoAwayFirst(Reason::NO_ERROR),
        _ => H2Fault::RefuseEveryStream,
    })
    .await;
    let err = get_text(&client(), &server.url("/")).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert_eq!(server.accepts(), 2);
    assert_eq!(server.streams(), 2, "three sends, no fourth");
}
