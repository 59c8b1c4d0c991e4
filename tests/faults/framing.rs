//! Fault matrix F01–F09: response framing a server gets wrong (short bodies, resets,
//! broken chunked encoding, conflicting lengths, close-delimited bodies, bodies where
//! none may be). Each test asserts the error kind, a time bound, that no request was
//! sent twice, and that no socket is left behind. See docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support::{
    assert_no_leak, bounded, h1_response, pause_ms, trusting_test_ca, write, FaultServer, Step,
};
use wireline::Client;

/// The longest an immediate failure (bad bytes, a close) may take on a loaded machine.
const PROMPT: Duration = Duration::from_secs(3);

/// Sends a GET and reads the whole body.
async fn fetch(client: &Client, url: &str) -> wireline::Result<bytes::Bytes> {
    bounded(async { client.get(url).send().await?.bytes().await }).await
}

/// A 200 with a 5-byte body on a connection that stays open: what a second request
/// gets on a new connection.
fn fresh() -> Vec<Step> {
    vec![Step::Read, write(h1_response("200 OK", &[], b"fresh"))]
}

/// Checks that a request after a failed one opened a new connection and worked.
async fn next_request_uses_a_new_connection(client: &Client, server: &FaultServer) {
    let accepts = server.accepts();
    let body = fetch(client, &server.url("/next")).await.unwrap();
    assert_eq!(&body[..], b"fresh");
    assert_eq!(
        server.accepts(),
        accepts + 1,
        "the broken connection was reused"
    );
}

// F01 -------------------------------------------------------------------------------

#[tokio::test]
async fn f01_body_shorter_than_content_length_then_fin() {
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789"),
            Step::Fin,
        ],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let started = Instant::now();
    let err = fetch(&client, &server.url("/")).await.unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert!(started.elapsed() < PROMPT);
    assert_eq!(server.requests().len(), 1, "a body error is never retried");
    next_request_uses_a_new_connection(&client, &server).await;
    // The new connection is the only one left, idle in the pool.
    assert_no_leak(server.addr, 1).await;
}

#[tokio::test]
async fn f01_body_cut_by_a_reset() {
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789"),
            // Long enough for the head to be read before the RST discards anything.
            pause_ms(200),
            Step::Reset,
        ],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let started = Instant::now();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    let err = bounded(resp.bytes()).await.unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert!(started.elapsed() < PROMPT);
    assert_eq!(server.requests().len(), 1);
    next_request_uses_a_new_connection(&client, &server).await;
    assert_no_leak(server.addr, 1).await;
}

// F02 -------------------------------------------------------------------------------

#[tokio::test]
async fn f02_head_then_close() {
    for head in [
        &b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
    ] {
        let server =
            FaultServer::start(vec![Step::Read, write(head), pause_ms(100), Step::Close]).await;
        let client = Client::new();
        let started = Instant::now();
        let err = fetch(&client, &server.url("/")).await.unwrap_err();
        assert!(err.is_body(), "{err:?}");
        assert!(started.elapsed() < PROMPT);
        assert_eq!(server.accepts(), 1);
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
}

// F03 -------------------------------------------------------------------------------

#[tokio::test]
async fn f03_invalid_overflowing_or_unterminated_chunks() {
    const CHUNKED: &str = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    for (name, body) in [
        ("not hex", "zz\r\nhello\r\n0\r\n\r\n"),
        (
            "size overflows u64",
            "FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n",
        ),
        ("no last chunk", "5\r\nhello\r\n"),
        ("chunk shorter than its size", "a\r\nhello"),
        (
            "no CRLF after the data",
            "5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n",
        ),
    ] {
        let server = FaultServer::start(vec![
            Step::Read,
            write(format!("{CHUNKED}{body}")),
            Step::Close,
        ])
        .await;
        let client = Client::new();
        let started = Instant::now();
        let err = fetch(&client, &server.url("/")).await.unwrap_err();
        assert!(err.is_body(), "{name}: {err:?}");
        assert!(started.elapsed() < PROMPT, "{name}");
        assert_eq!(server.requests().len(), 1, "{name}: never retried");
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
}

// F04 -------------------------------------------------------------------------------

#[tokio::test]
async fn f04_oversized_chunk_extensions_and_trailers_are_refused() {
    let huge = "a".repeat(20 * 1024);
    const CHUNKED: &str = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
    for (name, body) in [
        (
            "chunk extension",
            format!("5;ext={huge}\r\nhello\r\n0\r\n\r\n"),
        ),
        (
            "many small chunk extensions",
            "1;e=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n".repeat(400)
                + "0\r\n\r\n",
        ),
        (
            "trailer",
            format!("5\r\nhello\r\n0\r\nx-trailer: {huge}\r\n\r\n"),
        ),
    ] {
        let server = FaultServer::start(vec![
            Step::Read,
            write(format!("{CHUNKED}{body}")),
            Step::Close,
        ])
        .await;
        let client = Client::new();
        let err = fetch(&client, &server.url("/")).await.unwrap_err();
        assert!(err.is_body(), "{name}: {err:?}");
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
}

// F05 -------------------------------------------------------------------------------

#[tokio::test]
async fn f05_conflicting_or_malformed_content_lengths_fail_before_the_body() {
    for (name, headers) in [
        (
            "two different",
            "content-length: 5\r\ncontent-length: 6\r\n",
        ),
        ("a list of different", "content-length: 5, 6\r\n"),
        ("a plus sign", "content-length: +5\r\n"),
        ("negative", "content-length: -1\r\n"),
        ("not a number", "content-length: five\r\n"),
        (
            "too big for u64",
            "content-length: 99999999999999999999999\r\n",
        ),
    ] {
        let server = FaultServer::start(vec![
            Step::Read,
            write(format!("HTTP/1.1 200 OK\r\n{headers}\r\nhelloX")),
            Step::Close,
        ])
        .await;
        let client = Client::new();
        let started = Instant::now();
        let err = bounded(client.get(server.url("/")).send())
            .await
            .unwrap_err();
        assert!(err.is_request(), "{name}: {err:?}");
        assert!(
            err.to_string().contains("content-length"),
            "{name}: the message names the header: {err}"
        );
        assert!(started.elapsed() < PROMPT, "{name}");
        assert_eq!(server.requests().len(), 1, "{name}: never retried");
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
    // The same length repeated is one length (RFC 9110 §8.6).
    let server = FaultServer::start(vec![
        Step::Read,
        write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5, 5\r\n\r\nhello"),
    ])
    .await;
    let body = fetch(&Client::new(), &server.url("/")).await.unwrap();
    assert_eq!(&body[..], b"hello");
}

// F06 -------------------------------------------------------------------------------

#[tokio::test]
async fn f06_transfer_encoding_with_content_length_is_refused_and_the_connection_closed() {
    // With a body, and with an empty chunked body that hyper finishes reading by itself
    // (so the connection would be idle and reusable if nothing retired it).
    for body in ["5\r\nhello\r\n0\r\n\r\n", "0\r\n\r\n"] {
        let response = format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n{body}"
        );
        let server = FaultServer::by_connection(move |i| match i {
            0 => vec![
                Step::Read,
                write(&response),
                // A request sent on this connection again would read this.
                Step::Read,
                write(h1_response("200 OK", &[], b"smuggled")),
            ],
            _ => fresh(),
        })
        .await;
        let client = Client::new();
        let started = Instant::now();
        let err = bounded(client.get(server.url("/")).send())
            .await
            .unwrap_err();
        assert!(err.is_request(), "{body:?}: {err:?}");
        assert!(err.to_string().contains("smuggling"), "{err}");
        assert!(started.elapsed() < PROMPT);
        next_request_uses_a_new_connection(&client, &server).await;
        assert_eq!(
            server.requests().len(),
            2,
            "{body:?}: nothing sent on the first again"
        );
        assert_no_leak(server.addr, 1).await;
    }
}

#[tokio::test]
async fn f06_a_refused_head_is_refused_before_a_retry_policy_reads_it() {
    // A 503 the policy would retry: it must not be drained and its connection reused,
    // or the retry reads what the server sent after it.
    let response =
        "HTTP/1.1 503 Busy\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n";
    let server = FaultServer::by_connection(move |i| match i {
        0 => vec![
            Step::Read,
            write(response),
            Step::Read,
            write(h1_response("200 OK", &[], b"smuggled")),
        ],
        _ => fresh(),
    })
    .await;
    let policy = wireline::retry::Policy::default()
        .backoff(Duration::from_millis(1), Duration::from_millis(10));
    let client = Client::builder().retry(policy).build().unwrap();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("smuggling"), "{err}");
    assert_eq!(server.requests().len(), 1, "not retried");
    next_request_uses_a_new_connection(&client, &server).await;
    assert_no_leak(server.addr, 1).await;
}

#[tokio::test]
async fn f06_transfer_codings_other_than_chunked_are_refused() {
    for te in [
        "chunked, gzip",
        "gzip",
        "chunked, chunked",
        "identity, chunked",
        "",
        // hyper reads the last element only: this is not chunked to it.
        "chunked,",
    ] {
        let server = FaultServer::start(vec![
            Step::Read,
            write(format!(
                "HTTP/1.1 200 OK\r\ntransfer-encoding: {te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            )),
            Step::Close,
        ])
        .await;
        let client = Client::new();
        let started = Instant::now();
        let err = fetch(&client, &server.url("/")).await.unwrap_err();
        assert!(err.is_request(), "{te}: {err:?}");
        assert!(err.to_string().contains("transfer-encoding"), "{te}: {err}");
        assert!(started.elapsed() < PROMPT, "{te}");
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
    // Spelling and spacing don't matter.
    for te in [" Chunked ", "CHUNKED"] {
        let server = FaultServer::start(vec![
            Step::Read,
            write(format!(
                "HTTP/1.1 200 OK\r\ntransfer-encoding:{te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            )),
        ])
        .await;
        let body = fetch(&Client::new(), &server.url("/")).await.unwrap();
        assert_eq!(&body[..], b"hello", "{te:?}");
    }
}

// F07 -------------------------------------------------------------------------------

#[tokio::test]
async fn f07_http10_body_read_to_the_close_and_not_pooled() {
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            write("HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end"),
            pause_ms(100),
            Step::Close,
        ],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), wireline::Version::HTTP_10);
    assert_eq!(resp.content_length(), None);
    assert_eq!(&bounded(resp.bytes()).await.unwrap()[..], b"until the end");
    next_request_uses_a_new_connection(&client, &server).await;
    assert_no_leak(server.addr, 1).await;
}

// F08 -------------------------------------------------------------------------------

#[tokio::test]
async fn f08_tls_close_delimited_body_without_close_notify_is_truncation() {
    let head = "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n";
    // FIN with no close_notify: the body may have been cut by an attacker.
    let server =
        FaultServer::tls(vec![Step::Read, write(format!("{head}partial")), Step::Fin]).await;
    let client = trusting_test_ca().build().unwrap();
    let started = Instant::now();
    let err = fetch(&client, &server.url("/")).await.unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert!(started.elapsed() < PROMPT);
    drop(client);
    assert_no_leak(server.addr, 0).await;

    // close_notify, then FIN: the body is complete.
    let server = FaultServer::tls(vec![
        Step::Read,
        write(format!("{head}complete")),
        Step::Close,
    ])
    .await;
    let client = trusting_test_ca().build().unwrap();
    let body = fetch(&client, &server.url("/")).await.unwrap();
    assert_eq!(&body[..], b"complete");

    // A body framed by Content-Length is complete when its length arrives, whatever
    // the close looks like afterwards.
    let framed = h1_response("200 OK", &[("connection", "close")], b"framed");
    let server = FaultServer::tls(vec![Step::Read, write(framed), Step::Fin]).await;
    let client = trusting_test_ca().build().unwrap();
    let body = fetch(&client, &server.url("/")).await.unwrap();
    assert_eq!(&body[..], b"framed");
}

// F09 -------------------------------------------------------------------------------

/// Sends `first` (whose response carries bytes where no body may be), then a GET on the
/// same client: it must get a real response, never the stray bytes.
async fn stray_bytes_never_become_a_response(method: wireline::Method, first_response: &[u8]) {
    let first_response = first_response.to_vec();
    let server = FaultServer::by_connection(move |i| match i {
        0 => vec![
            Step::Read,
            Step::Write(first_response.clone()),
            // Should the client reuse the connection anyway, this is what it reads.
            Step::Read,
            write(h1_response("200 OK", &[], b"second")),
        ],
        _ => fresh(),
    })
    .await;
    let client = Client::new();
    let resp = bounded(client.request(method.clone(), server.url("/")).send())
        .await
        .unwrap();
    let status = resp.status();
    let body = bounded(resp.bytes()).await.unwrap();
    assert!(body.is_empty(), "{method} {status}: body {body:?}");
    let next = fetch(&client, &server.url("/next")).await.unwrap();
    assert!(
        next == "fresh" || next == "second",
        "{method} {status}: the next request read {next:?}"
    );
    drop(client);
    assert_no_leak(server.addr, 0).await;
}

#[tokio::test]
async fn f09_bytes_after_a_bodiless_response_never_become_the_next_response() {
    let smuggled = "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil";
    for round in 0..5 {
        let _ = round;
        stray_bytes_never_become_a_response(
            wireline::Method::GET,
            format!("HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello{smuggled}")
                .as_bytes(),
        )
        .await;
        stray_bytes_never_become_a_response(
            wireline::Method::GET,
            format!("HTTP/1.1 304 Not Modified\r\n\r\n{smuggled}").as_bytes(),
        )
        .await;
        stray_bytes_never_become_a_response(
            wireline::Method::HEAD,
            format!("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello{smuggled}").as_bytes(),
        )
        .await;
    }
}

#[tokio::test]
async fn f09_an_unsolicited_response_after_the_body_is_never_read_as_the_next() {
    let first = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello\
                 HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nevil";
    for _ in 0..5 {
        let server = FaultServer::by_connection(move |i| match i {
            0 => vec![
                Step::Read,
                write(first),
                Step::Read,
                write(h1_response("200 OK", &[], b"second")),
            ],
            _ => fresh(),
        })
        .await;
        let client = Client::new();
        let body = fetch(&client, &server.url("/")).await.unwrap();
        assert_eq!(&body[..], b"hello");
        let next = fetch(&client, &server.url("/next")).await.unwrap();
        assert!(next == "fresh" || next == "second", "read {next:?}");
    }
}
