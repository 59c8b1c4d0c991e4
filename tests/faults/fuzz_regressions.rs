//! What the fuzz targets (`fuzz/`, docs/fuzzing.md) found, replayed against real sockets.
//! Each input is also kept in `fuzz/seeds/<target>/crash-*`.

use std::time::Duration;

use crate::support::{
    bounded, h1_response, hpack, raw_server, response_head, trusting_test_ca, Frame, H2RawServer,
    H2Step, RawServer,
};
use wireline::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION};

/// A server that answers `/landed` with 200 and anything else with a 302 to `to`, or to
/// its own `/landed` when `to` is `None`.
async fn redirecting(to: Option<String>) -> RawServer {
    raw_server(move |mut conn| {
        let to = to.clone();
        async move {
            let Some(request) = conn.read_request().await else {
                return;
            };
            let response = if request.starts_with(b"GET /landed ") {
                h1_response("200 OK", &[], b"")
            } else {
                let to = to.as_deref().unwrap_or("/landed");
                h1_response("302 Found", &[("location", to)], b"")
            };
            conn.write(&response).await;
        }
    })
    .await
}

fn head_of(server: &RawServer, index: usize) -> String {
    String::from_utf8_lossy(&server.requests()[index]).to_ascii_lowercase()
}

/// redirect target, `crash-default-credentials-https-to-http`: the client's default
/// headers were added again at every hop, after the redirect step had removed the
/// request's own credentials, so a default `Authorization` went to any origin a server
/// redirected to.
#[tokio::test]
async fn default_credentials_stay_behind_on_a_redirect_to_another_origin() {
    let mut defaults = HeaderMap::new();
    defaults.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer default-secret"),
    );
    defaults.insert(COOKIE, HeaderValue::from_static("session=default"));
    defaults.insert(
        PROXY_AUTHORIZATION,
        HeaderValue::from_static("Basic eHg6eXk="),
    );
    defaults.insert("x-kept", HeaderValue::from_static("yes"));
    let client = trusting_test_ca()
        .default_headers(defaults)
        .build()
        .unwrap();

    // 127.0.0.1 on another port: another origin.
    let elsewhere = redirecting(None).await;
    let first = redirecting(Some(format!("http://{}/landed", elsewhere.addr))).await;
    let resp = bounded(client.get(format!("http://{}/", first.addr)).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent_first = head_of(&first, 0);
    assert!(sent_first.contains("\r\nauthorization: bearer default-secret\r\n"));
    let sent_elsewhere = head_of(&elsewhere, 0);
    for name in ["authorization", "cookie", "proxy-authorization"] {
        assert!(
            !sent_elsewhere.contains(&format!("\r\n{name}:")),
            "{name} leaked: {sent_elsewhere}"
        );
    }
    assert!(sent_elsewhere.contains("\r\nx-kept: yes\r\n"));

    // The same origin still gets them.
    let same = redirecting(None).await;
    let resp = bounded(client.get(format!("http://{}/", same.addr)).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let landed = head_of(&same, 1);
    assert!(landed.starts_with("get /landed "), "{landed}");
    assert!(landed.contains("\r\nauthorization: bearer default-secret\r\n"));
    assert!(landed.contains("\r\ncookie: session=default\r\n"));
}

/// server_bytes target, `crash-huge-content-length-bytes`: `bytes()` reserved the whole
/// announced Content-Length once a second piece of body arrived, so a server announcing
/// 100 TB aborted the process on a failed allocation.
#[tokio::test]
async fn a_huge_content_length_is_not_reserved_up_front() {
    let server = raw_server(|mut conn| async move {
        conn.read_request().await;
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999\r\n\r\n01234")
            .await;
        // A separate read on the client's side: the second piece is what made it reserve.
        tokio::time::sleep(Duration::from_millis(50)).await;
        conn.write(b"56789").await;
        conn.close().await;
    })
    .await;
    let client = trusting_test_ca().build().unwrap();
    let err = bounded(async {
        client
            .get(format!("http://{}/", server.addr))
            .send()
            .await?
            .bytes()
            .await
    })
    .await
    .unwrap_err();
    assert!(err.is_body(), "{err:?}");
}

/// h2_frames target, `crash-empty-data-frames`: an h2 server's empty DATA frames came out
/// of `chunk()` as empty chunks, before the end, where a reader takes an empty read for
/// the end of the body (`std::io::Read`, the blocking client's `read`).
#[tokio::test]
async fn empty_h2_data_frames_are_no_empty_chunks() {
    let mut script = response_head(1, &[hpack::STATUS_200], false);
    script.extend([
        H2Step::Send(Frame::data(1, "", false)),
        H2Step::Send(Frame::data(1, "ok", false)),
        H2Step::Send(Frame::data(1, "", false)),
        H2Step::Send(Frame::data(1, "!", false)),
        H2Step::Send(Frame::data(1, "", true)),
    ]);
    let server = H2RawServer::start(script).await;
    let client = trusting_test_ca().build().unwrap();
    let chunks = bounded(async {
        let mut resp = client.get(server.url("/")).send().await?;
        let mut chunks = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            chunks.push(chunk);
        }
        wireline::Result::Ok(chunks)
    })
    .await
    .unwrap();
    assert_eq!(chunks, ["ok", "!"]);
}
