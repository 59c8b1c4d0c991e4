//! Response decompression: what we ask for, what we decode, what we pass through, and the
//! errors for corrupt or oversized bodies.

use crate::support;
use crate::support::{
    binary_body, bounded, h1_response, handler, http_server, https_server, pause_ms, raw_server,
    response, trusting_test_ca, write, FaultServer, ServerOptions, Step, TestServer,
};
use bytes::Bytes;
use serde::Deserialize;
use tokio::io::AsyncReadExt;
use wireline::Client;

const CODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

/// `data` compressed with `coding`, by async-compression's encoders.
async fn encode(coding: &str, data: &[u8]) -> Vec<u8> {
    use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder};
    let mut out = Vec::new();
    match coding {
        "gzip" => GzipEncoder::new(data).read_to_end(&mut out).await,
        "deflate" => ZlibEncoder::new(data).read_to_end(&mut out).await,
        "br" => BrotliEncoder::new(data).read_to_end(&mut out).await,
        "zstd" => ZstdEncoder::new(data).read_to_end(&mut out).await,
        other => panic!("no encoder for {other}"),
    }
    .expect("encoding into memory");
    out
}

/// The body every route compresses: every byte value, 100 kB.
fn original() -> Vec<u8> {
    binary_body(100_000)
}

/// `/{coding}` → `original()` compressed with it and labelled with it;
/// `/{coding}/raw?label=X` → the same bytes labelled `Content-Encoding: X`;
/// `/{coding}/half` → the first half of the compressed bytes;
/// `/garbage/{coding}` → bytes that are not compressed at all, labelled `coding`;
/// `/empty/{status}` → that status, no body, `Content-Encoding: gzip`;
/// `/twice` → two gzip members, one after the other.
async fn compressing_server() -> TestServer {
    http_server(handler(|req| async move {
        let path = req.uri().path().to_owned();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["garbage", coding] => response(
                200,
                &[("content-encoding", coding)],
                "this was never compressed",
            ),
            ["empty", status] => response(
                status.parse().unwrap(),
                &[("content-encoding", "gzip")],
                Bytes::new(),
            ),
            ["twice"] => {
                let mut both = encode("gzip", b"first member, ").await;
                both.extend(encode("gzip", b"second member").await);
                response(200, &[("content-encoding", "gzip")], both)
            }
            [coding] => {
                let body = encode(coding, &original()).await;
                response(200, &[("content-encoding", coding)], body)
            }
            [coding, "half"] => {
                let mut body = encode(coding, &original()).await;
                body.truncate(body.len() / 2);
                response(200, &[("content-encoding", coding)], body)
            }
            [coding, "raw"] => {
                let label = req.uri().query().unwrap_or("").trim_start_matches("label=");
                let body = encode(coding, &original()).await;
                response(200, &[("content-encoding", label)], body)
            }
            _ => response(404, &[], "no such route"),
        }
    }))
    .await
}

#[derive(Deserialize)]
struct Echo {
    headers: std::collections::HashMap<String, String>,
}

async fn sent_accept_encoding(builder: wireline::RequestBuilder) -> Option<String> {
    let echo: Echo = bounded(async { builder.send().await?.json().await })
        .await
        .unwrap();
    echo.headers.get("accept-encoding").cloned()
}

#[tokio::test]
async fn accept_encoding_is_sent_unless_the_request_sets_one() {
    let server = http_server(support::echo_router()).await;
    let url = server.url("/echo");
    let client = Client::new();
    assert_eq!(
        sent_accept_encoding(client.get(&url)).await.as_deref(),
        Some("gzip, deflate, br, zstd")
    );
    assert_eq!(
        sent_accept_encoding(client.get(&url).header("accept-encoding", "identity"))
            .await
            .as_deref(),
        Some("identity")
    );
    let some = Client::builder()
        .deflate(false)
        .zstd(false)
        .build()
        .unwrap();
    assert_eq!(
        sent_accept_encoding(some.get(&url)).await.as_deref(),
        Some("gzip, br")
    );
    let none = Client::builder()
        .gzip(false)
        .deflate(false)
        .brotli(false)
        .zstd(false)
        .build()
        .unwrap();
    assert_eq!(sent_accept_encoding(none.get(&url)).await, None);
}

#[tokio::test]
async fn a_range_request_goes_without_the_automatic_accept_encoding() {
    // A 206 of a gzip body starts mid-stream and can't be decoded: ask for identity, as
    // reqwest does. An Accept-Encoding the caller chose is sent all the same.
    let server = http_server(support::echo_router()).await;
    let url = server.url("/echo");
    let client = Client::new();
    let range = |builder: wireline::RequestBuilder| builder.header("range", "bytes=0-");
    assert_eq!(sent_accept_encoding(range(client.get(&url))).await, None);
    assert_eq!(
        sent_accept_encoding(range(client.get(&url).header("accept-encoding", "gzip")))
            .await
            .as_deref(),
        Some("gzip")
    );
    let mut defaults = wireline::header::HeaderMap::new();
    defaults.insert("accept-encoding", "br".parse().unwrap());
    let chosen = Client::builder().default_headers(defaults).build().unwrap();
    assert_eq!(
        sent_accept_encoding(range(chosen.get(&url)))
            .await
            .as_deref(),
        Some("br")
    );
    // Without a Range, the automatic one is back.
    assert_eq!(
        sent_accept_encoding(client.get(&url)).await.as_deref(),
        Some("gzip, deflate, br, zstd")
    );
}

#[tokio::test]
async fn every_coding_is_decoded_and_its_headers_removed() {
    let server = compressing_server().await;
    let client = Client::new();
    for coding in CODINGS {
        let resp = bounded(client.get(server.url(&format!("/{coding}"))).send())
            .await
            .unwrap();
        assert!(resp.headers().get("content-encoding").is_none(), "{coding}");
        assert!(resp.headers().get("content-length").is_none(), "{coding}");
        assert_eq!(resp.content_length(), None, "{coding}");
        let body = bounded(resp.bytes()).await.unwrap();
        assert!(body == original(), "{coding}: the decoded body differs");
    }
}

#[tokio::test]
async fn decoding_works_over_h2_and_when_streamed() {
    let server = https_server(ServerOptions {
        handler: handler(|_| async {
            let body = encode("br", &original()).await;
            response(200, &[("content-encoding", "br")], body)
        }),
        ..ServerOptions::default()
    })
    .await;
    let client = trusting_test_ca().build().unwrap();
    let mut resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), wireline::Version::HTTP_2);
    let mut body = Vec::new();
    while let Some(chunk) = bounded(resp.chunk()).await.unwrap() {
        assert!(chunk.len() <= 32 * 1024, "a read hands out at most 32 KiB");
        body.extend_from_slice(&chunk);
    }
    assert!(body == original());
}

#[tokio::test]
async fn concatenated_gzip_members_all_decode() {
    let server = compressing_server().await;
    let text = bounded(async {
        Client::new()
            .get(server.url("/twice"))
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(text, "first member, second member");
}

#[tokio::test]
async fn switched_off_unknown_and_stacked_codings_pass_through() {
    let server = compressing_server().await;
    let compressed = encode("gzip", &original()).await;
    let no_gzip = Client::builder().gzip(false).build().unwrap();
    let resp = bounded(no_gzip.get(server.url("/gzip")).send())
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(resp.content_length(), Some(compressed.len() as u64));
    assert!(bounded(resp.bytes()).await.unwrap() == compressed);

    let client = Client::new();
    for label in ["x-foo", "gzip,%20gzip", "identity"] {
        let resp = bounded(
            client
                .get(server.url(&format!("/gzip/raw?label={label}")))
                .send(),
        )
        .await
        .unwrap();
        assert!(resp.headers().contains_key("content-encoding"), "{label}");
        let body = bounded(resp.bytes()).await.unwrap();
        assert!(body == compressed, "{label}: must arrive as sent");
    }
}

#[tokio::test]
async fn corrupt_or_truncated_data_is_a_decode_error() {
    let server = compressing_server().await;
    let client = Client::new();
    for coding in CODINGS {
        for path in [format!("/garbage/{coding}"), format!("/{coding}/half")] {
            let resp = bounded(client.get(server.url(&path)).send()).await.unwrap();
            let err = bounded(resp.bytes()).await.unwrap_err();
            assert!(err.is_decode(), "{path}: {err}");
            let shown = err.to_string();
            assert!(shown.contains(coding) && shown.contains(&path), "{shown}");
        }
    }
}

#[tokio::test]
async fn a_connection_lost_mid_body_is_a_body_error_not_a_decode_error() {
    let compressed = encode("gzip", &original()).await;
    let server = raw_server(move |mut conn| {
        let compressed = compressed.clone();
        async move {
            conn.read_request().await;
            let length = compressed.len().to_string();
            let head = h1_response(
                "200 OK",
                &[("content-encoding", "gzip"), ("content-length", &length)],
                b"",
            );
            conn.write(&head).await;
            conn.write(&compressed[..compressed.len() / 2]).await;
            conn.close().await;
        }
    })
    .await;
    let resp = bounded(Client::new().get(format!("http://{}/", server.addr)).send())
        .await
        .unwrap();
    let err = bounded(resp.bytes()).await.unwrap_err();
    assert!(err.is_body(), "{err}");
}

#[tokio::test]
async fn empty_bodies_are_empty_whatever_the_coding() {
    let server = compressing_server().await;
    let client = Client::new();
    let resp = bounded(client.head(server.url("/gzip")).send())
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert!(bounded(resp.bytes()).await.unwrap().is_empty());
    for status in [200, 204, 304] {
        let resp = bounded(client.get(server.url(&format!("/empty/{status}"))).send())
            .await
            .unwrap();
        assert_eq!(resp.status(), status);
        assert!(bounded(resp.bytes()).await.unwrap().is_empty(), "{status}");
    }
    // Chunked, so the body's emptiness shows only once it is read.
    let chunked = raw_server(|mut conn| async move {
        conn.read_request().await;
        let head = h1_response(
            "200 OK",
            &[
                ("content-encoding", "gzip"),
                ("transfer-encoding", "chunked"),
            ],
            b"0\r\n\r\n",
        );
        conn.write(&head).await;
        conn.close().await;
    })
    .await;
    let resp = bounded(client.get(format!("http://{}/", chunked.addr)).send())
        .await
        .unwrap();
    assert!(bounded(resp.bytes()).await.unwrap().is_empty());
}

#[tokio::test]
async fn max_decoded_body_is_exact() {
    let server = compressing_server().await;
    let size = original().len() as u64;
    let exact = Client::builder().max_decoded_body(size).build().unwrap();
    let body = bounded(async { exact.get(server.url("/zstd")).send().await?.bytes().await })
        .await
        .unwrap();
    assert_eq!(body.len() as u64, size);

    let below = Client::builder()
        .max_decoded_body(size - 1)
        .build()
        .unwrap();
    for coding in CODINGS {
        let resp = bounded(below.get(server.url(&format!("/{coding}"))).send())
            .await
            .unwrap();
        let err = bounded(resp.bytes()).await.unwrap_err();
        assert!(err.is_decode(), "{coding}: {err}");
        assert!(err.to_string().contains("max_decoded_body"), "{err}");
    }
}

/// A compressed stream can end before the body's framing does. deflate and brotli
/// decoders stop at their stream's end, so what the server sends after it (the rest of a
/// Content-Length, a chunked body's last chunk) must still be read, as gzip's and zstd's
/// decoders do while looking for a next member.
#[tokio::test]
async fn the_body_is_read_to_its_framings_end_after_the_compressed_data() {
    for coding in CODINGS {
        let compressed = encode(coding, b"hello").await;

        // Content-Length promises more than comes: a truncated body, not a success.
        let length = (compressed.len() + 10).to_string();
        let mut short = h1_response(
            "200 OK",
            &[("content-encoding", coding), ("content-length", &length)],
            b"",
        );
        short.extend_from_slice(&compressed);
        let server = FaultServer::start(vec![Step::Read, write(short), Step::Fin]).await;
        let resp = bounded(Client::new().get(server.url("/")).send())
            .await
            .unwrap();
        let err = bounded(resp.bytes()).await.expect_err(coding);
        assert!(err.is_body(), "{coding}, cut short: {err}");

        // Bytes after the compressed data are not valid data for the coding.
        let mut trailing = compressed.clone();
        trailing.extend_from_slice(b"garbage");
        let server = FaultServer::start(vec![
            Step::Read,
            write(h1_response(
                "200 OK",
                &[("content-encoding", coding)],
                &trailing,
            )),
        ])
        .await;
        let resp = bounded(Client::new().get(server.url("/")).send())
            .await
            .unwrap();
        let err = bounded(resp.bytes()).await.expect_err(coding);
        assert!(err.is_decode(), "{coding}, trailing bytes: {err}");

        // The last chunk comes late: the body must wait for it, so the connection is
        // complete and goes back to the pool.
        let mut head = h1_response(
            "200 OK",
            &[
                ("content-encoding", coding),
                ("transfer-encoding", "chunked"),
            ],
            b"",
        );
        head.extend_from_slice(format!("{:x}\r\n", compressed.len()).as_bytes());
        head.extend_from_slice(&compressed);
        head.extend_from_slice(b"\r\n");
        let server = FaultServer::start(vec![
            Step::Read,
            write(head),
            pause_ms(200),
            write("0\r\n\r\n"),
            Step::Read,
            write(h1_response("200 OK", &[], b"again")),
        ])
        .await;
        let client = Client::new();
        let text = bounded(async { client.get(server.url("/")).send().await?.text().await });
        assert_eq!(text.await.unwrap(), "hello", "{coding}");
        let text = bounded(async { client.get(server.url("/")).send().await?.text().await });
        assert_eq!(text.await.unwrap(), "again", "{coding}");
        assert_eq!(server.accepts(), 1, "{coding}: the connection was reused");
    }
}
