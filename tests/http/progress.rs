//! Progress callbacks: `RequestBuilder::on_upload_progress` and
//! `Response::on_download_progress`.

use std::sync::{Arc, Mutex};

use crate::support::{
    bounded, echo_router, handler, http_server, pause_ms, response, write, FaultServer, Step,
};

type Calls = Arc<Mutex<Vec<(u64, Option<u64>)>>>;

/// A callback that records its calls, and the record.
fn recorder() -> (impl FnMut(u64, Option<u64>) + Send + 'static, Calls) {
    let calls: Calls = Arc::default();
    let record = calls.clone();
    (
        move |done, total| record.lock().unwrap().push((done, total)),
        calls,
    )
}

fn calls(record: &Calls) -> Vec<(u64, Option<u64>)> {
    record.lock().unwrap().clone()
}

#[tokio::test]
async fn an_upload_reports_its_bytes_sent_and_ends_at_its_size() {
    let server = http_server(echo_router()).await;
    let (progress, record) = recorder();
    let body = vec![7u8; 3 << 20];
    let resp = bounded(
        wireline::Client::new()
            .put(server.url("/echo"))
            .body(body)
            .on_upload_progress(progress)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = calls(&record);
    assert_eq!(seen.last(), Some(&(3 << 20, Some(3 << 20))), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "rising: {seen:?}");
    assert!(
        seen.len() <= 50,
        "paced, not one call per piece: {}",
        seen.len()
    );
    assert_eq!(server.requests()[0].body.len(), 3 << 20);
}

#[tokio::test]
async fn a_body_sent_again_after_a_redirect_is_counted_again_from_zero() {
    let server = http_server(echo_router()).await;
    let (progress, record) = recorder();
    let to = server.url("/echo");
    let resp = bounded(
        wireline::Client::new()
            .post(server.url(&format!("/redirect?status=307&to={to}")))
            .body("twelve bytes")
            .on_upload_progress(progress)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(calls(&record), [(12, Some(12)), (12, Some(12))]);
}

#[tokio::test]
async fn a_download_reports_its_bytes_received_against_its_length() {
    let server = http_server(echo_router()).await;
    let (progress, record) = recorder();
    let resp = bounded(
        wireline::Client::new()
            .get(server.url("/bytes/200000"))
            .send(),
    )
    .await
    .unwrap()
    .on_download_progress(progress);
    let body = bounded(resp.bytes()).await.unwrap();
    assert_eq!(body.len(), 200_000);
    let seen = calls(&record);
    assert_eq!(seen.last(), Some(&(200_000, Some(200_000))), "{seen:?}");
    assert!(
        seen.len() <= 3,
        "a fast download is reported a few times: {seen:?}"
    );
}

#[tokio::test]
async fn a_slow_download_is_reported_as_it_comes_and_a_decoded_one_without_a_total() {
    // Five pieces 150 ms apart, chunked: each piece comes past the 100 ms pace.
    let mut steps = vec![
        Step::Read,
        write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"),
    ];
    for _ in 0..5 {
        steps.push(write("5\r\nhello\r\n"));
        steps.push(pause_ms(150));
    }
    steps.push(write("0\r\n\r\n"));
    let server = FaultServer::start(steps).await;
    let (progress, record) = recorder();
    let resp = bounded(wireline::Client::new().get(server.url("/")).send())
        .await
        .unwrap()
        .on_download_progress(progress);
    assert_eq!(bounded(resp.text()).await.unwrap(), "hello".repeat(5));
    let seen = calls(&record);
    assert_eq!(seen.first(), Some(&(5, None)));
    assert_eq!(seen.last(), Some(&(25, None)));
    assert!(seen.len() >= 4, "reported as the pieces came: {seen:?}");

    use async_compression::tokio::bufread::GzipEncoder;
    use tokio::io::AsyncReadExt;
    let mut gzipped = Vec::new();
    GzipEncoder::new(&[b'z'; 10_000][..])
        .read_to_end(&mut gzipped)
        .await
        .unwrap();
    let gzip = http_server(handler(move |_req| {
        let body = gzipped.clone();
        async move { response(200, &[("content-encoding", "gzip")], body) }
    }))
    .await;
    let (progress, record) = recorder();
    let resp = bounded(wireline::Client::new().get(gzip.url("/")).send())
        .await
        .unwrap()
        .on_download_progress(progress);
    assert_eq!(bounded(resp.bytes()).await.unwrap().len(), 10_000);
    assert_eq!(
        calls(&record).last(),
        Some(&(10_000, None)),
        "decoded bytes, no total"
    );
}
