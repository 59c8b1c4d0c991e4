//! Fault matrix H01–H04: response heads too large, too many, never ending, interim
//! responses, and heads that are not HTTP/1.1. See docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support::{
    assert_no_leak, bounded, h1_response, handler, https_server, pause_ms, response, rss_kib,
    trusting_test_ca, write, FaultServer, ServerOptions, Step,
};
use wireline::Client;

/// The longest an immediate failure may take on a loaded machine.
const PROMPT: Duration = Duration::from_secs(3);

/// The error of a result that must be one, without printing a (possibly huge) success.
fn error_of<T>(result: wireline::Result<T>) -> wireline::Error {
    match result {
        Ok(_) => panic!("expected an error, got a response"),
        Err(e) => e,
    }
}

/// Runs one GET against a server that plays `script`, expecting an `is_request` error
/// within [`PROMPT`], and returns its message.
async fn refused(client: &Client, script: Vec<Step>) -> String {
    let server = FaultServer::start(script).await;
    let started = Instant::now();
    let err = error_of(bounded(client.get(server.url("/")).send()).await);
    assert!(err.is_request(), "{err:?}");
    assert!(
        started.elapsed() < PROMPT,
        "took {:?}: {err}",
        started.elapsed()
    );
    assert_eq!(server.requests().len(), 1, "never retried: {err}");
    assert_no_leak(server.addr, 0).await;
    err.to_string()
}

fn head_with(header_lines: &str) -> Vec<Step> {
    vec![
        Step::Read,
        write(format!(
            "HTTP/1.1 200 OK\r\n{header_lines}content-length: 2\r\n\r\nok"
        )),
        Step::Close,
    ]
}

// H01 -------------------------------------------------------------------------------

#[tokio::test]
async fn h01_one_huge_header_is_refused_at_the_limit() {
    let client = Client::new();
    let big = format!("x-big: {}\r\n", "a".repeat(100 * 1024));
    let message = refused(&client, head_with(&big)).await;
    assert!(message.contains("max_response_header_size"), "{message}");

    // Just under the default 64 KiB passes; a raised limit lets the big one through.
    let under = format!("x-big: {}\r\n", "a".repeat(60 * 1024));
    let server = FaultServer::start(head_with(&under)).await;
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.headers()["x-big"].len(), 60 * 1024);

    let roomy = Client::builder()
        .max_response_header_size(256 * 1024)
        .build()
        .unwrap();
    let server = FaultServer::start(head_with(&big)).await;
    let resp = bounded(roomy.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.headers()["x-big"].len(), 100 * 1024);
}

#[tokio::test]
async fn h01_a_limit_below_8_kib_is_a_builder_error() {
    let err = Client::builder()
        .max_response_header_size(4096)
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(err.to_string().contains("8192"), "{err}");
    assert!(Client::builder()
        .max_response_header_size(8192)
        .build()
        .is_ok());
}

#[tokio::test]
async fn h01_an_h2_header_list_over_the_limit_is_refused() {
    let big = handler(|_| async { response(200, &[("x-big", &"a".repeat(20 * 1024))], "hi") });
    let server = https_server(ServerOptions {
        handler: big,
        ..ServerOptions::default()
    })
    .await;
    let client = trusting_test_ca()
        .max_response_header_size(16 * 1024)
        .build()
        .unwrap();
    let url = server.url("/");
    let err = error_of(bounded(client.get(&url).send()).await);
    assert!(err.is_request(), "{err:?}");
    assert!(
        err.to_string().contains("max_response_header_size"),
        "{err}"
    );
    let roomy = trusting_test_ca()
        .max_response_header_size(64 * 1024)
        .build()
        .unwrap();
    let resp = bounded(roomy.get(&url).send()).await.unwrap();
    assert_eq!(resp.version(), wireline::Version::HTTP_2);
    assert_eq!(resp.headers()["x-big"].len(), 20 * 1024);
}

// H02 -------------------------------------------------------------------------------

#[tokio::test]
async fn h02_more_than_100_header_fields_are_refused() {
    let client = Client::new();
    let hundred: String = (0..99).map(|i| format!("x-h{i}: v\r\n")).collect();
    // 99 of ours and content-length: 100 fields, the limit.
    let server = FaultServer::start(head_with(&hundred)).await;
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.headers().len(), 100);

    let many: String = (0..10_000).map(|i| format!("x-h{i}: v\r\n")).collect();
    let message = refused(&client, head_with(&many)).await;
    assert!(message.contains("100 header fields"), "{message}");
}

#[tokio::test]
async fn h02_a_head_that_never_ends_is_refused_in_bounded_memory() {
    // 40 MiB of header lines, written as fast as the client reads them.
    let line = format!("x-endless: {}\r\n", "z".repeat(1000)).into_bytes();
    let before = rss_kib();
    let message = refused(
        &Client::new(),
        vec![
            Step::Read,
            write("HTTP/1.1 200 OK\r\n"),
            Step::Repeat(line, 40 * 1024),
            Step::Close,
        ],
    )
    .await;
    let grown = rss_kib().saturating_sub(before);
    assert!(message.contains("max_response_header_size"), "{message}");
    // The client holds at most about twice its 64 KiB buffer; other tests of this
    // binary run meanwhile, hence the generous bound.
    assert!(grown < 16 * 1024, "RSS grew by {grown} KiB");
}

// H03 -------------------------------------------------------------------------------

#[tokio::test]
async fn h03_interim_responses_are_skipped() {
    let client = Client::new();
    let server = FaultServer::start(vec![
        Step::Read,
        write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"),
        pause_ms(50),
        write("HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"),
        pause_ms(50),
        write(h1_response("200 OK", &[], b"final")),
    ])
    .await;
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("link").is_none(), "1xx headers stay out");
    assert_eq!(&bounded(resp.bytes()).await.unwrap()[..], b"final");

    // Ten thousand of them, then the answer: each is read and dropped, none kept.
    let mut flood = "HTTP/1.1 103 Early Hints\r\n\r\n"
        .repeat(10_000)
        .into_bytes();
    flood.extend(h1_response("200 OK", &[], b"after the flood"));
    let server = FaultServer::start(vec![Step::Read, Step::Write(flood)]).await;
    let started = Instant::now();
    let body = bounded(async { client.get(server.url("/")).send().await?.bytes().await })
        .await
        .unwrap();
    assert_eq!(&body[..], b"after the flood");
    assert!(started.elapsed() < PROMPT);
}

#[tokio::test]
async fn h03_an_endless_stream_of_interim_responses_ends_at_the_timeout() {
    let hints = "HTTP/1.1 103 Early Hints\r\n\r\n".repeat(100).into_bytes();
    let mut script = vec![Step::Read];
    for _ in 0..1000 {
        script.push(Step::Write(hints.clone()));
        script.push(pause_ms(10));
    }
    let server = FaultServer::start(script).await;
    let client = Client::builder()
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        took >= Duration::from_millis(750) && took < Duration::from_millis(2800),
        "{took:?}"
    );
    drop(client);
    assert_no_leak(server.addr, 0).await;
}

// H04 -------------------------------------------------------------------------------

#[tokio::test]
async fn h04_heads_that_are_not_http11_are_refused() {
    let client = Client::new();
    for (name, bytes) in [
        ("HTTP/0.9 (a body, no status line)", "hello world\r\n"),
        (
            "HTTP/2.0 on an HTTP/1 connection",
            "HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
        ),
        ("HTTP/1.2", "HTTP/1.2 200 OK\r\ncontent-length: 2\r\n\r\nok"),
        (
            "a status of 2 digits",
            "HTTP/1.1 20 OK\r\ncontent-length: 2\r\n\r\nok",
        ),
        (
            "NUL in a value",
            "HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 2\r\n\r\nok",
        ),
        (
            "obs-fold",
            "HTTP/1.1 200 OK\r\nx-a: a\r\n folded\r\ncontent-length: 2\r\n\r\nok",
        ),
        (
            "space before the colon",
            "HTTP/1.1 200 OK\r\nx-a : v\r\ncontent-length: 2\r\n\r\nok",
        ),
        (
            "a name with a space",
            "HTTP/1.1 200 OK\r\nx a: v\r\ncontent-length: 2\r\n\r\nok",
        ),
        (
            "a line without a colon",
            "HTTP/1.1 200 OK\r\nnonsense\r\ncontent-length: 2\r\n\r\nok",
        ),
    ] {
        let server = FaultServer::start(vec![Step::Read, write(bytes), Step::Close]).await;
        let started = Instant::now();
        let err = bounded(client.get(server.url("/")).send())
            .await
            .expect_err(name);
        assert!(err.is_request(), "{name}: {err:?}");
        assert!(started.elapsed() < PROMPT, "{name}");
        assert_eq!(server.requests().len(), 1, "{name}: never retried");
        assert_no_leak(server.addr, 0).await;
    }
}

#[tokio::test]
async fn h04_latin1_header_values_arrive_as_bytes() {
    // Byte 0xE9 itself (é in Latin-1), not its UTF-8 encoding.
    let mut head = b"HTTP/1.1 200 OK\r\nx-name: caf".to_vec();
    head.push(0xe9);
    head.extend_from_slice(b"\r\ncontent-length: 2\r\n\r\nok");
    let server = FaultServer::start(vec![Step::Read, Step::Write(head)]).await;
    let resp = bounded(Client::new().get(server.url("/")).send())
        .await
        .unwrap();
    let value = &resp.headers()["x-name"];
    assert_eq!(value.as_bytes(), b"caf\xe9");
    assert!(value.to_str().is_err(), "not text, but not refused either");
}

#[tokio::test]
async fn h04_a_101_we_did_not_ask_for_is_returned_as_the_response() {
    let server = FaultServer::start(vec![
        Step::Read,
        write(
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
        ),
    ])
    .await;
    let client = Client::new();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.status(), 101);
    assert!(bounded(resp.bytes()).await.unwrap().is_empty());
    drop(client);
    assert_no_leak(server.addr, 0).await;
}

// The opt-ins, each giving up one check of H01–H04 ---------------------------------------

/// The head of an HTTP/1.1 200 with `header_lines` and a 2-byte body "ok".
fn ok_with(header_lines: &str) -> String {
    format!("HTTP/1.1 200 OK\r\n{header_lines}content-length: 2\r\n\r\nok")
}

/// One GET against a server that writes `reply` and closes: the response's version,
/// headers and body text, or the error.
async fn reply_to(
    client: &Client,
    reply: &[u8],
) -> wireline::Result<(wireline::Version, wireline::header::HeaderMap, String)> {
    let server = FaultServer::start(vec![Step::Read, write(reply), Step::Close]).await;
    let result = bounded(async {
        let resp = client.get(server.url("/")).send().await?;
        let (version, headers) = (resp.version(), resp.headers().clone());
        Ok((version, headers, resp.text().await?))
    })
    .await;
    assert_eq!(server.requests().len(), 1, "never retried");
    result
}

#[tokio::test]
async fn h04_http09_is_read_only_with_http09_responses_and_never_past_a_nul() {
    let err = error_of(reply_to(&Client::new(), b"hello world\r\n").await);
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("http09_responses"), "{err}");

    let lenient = Client::builder().http09_responses().build().unwrap();
    let (version, headers, body) = reply_to(&lenient, b"hello world\r\n").await.unwrap();
    assert_eq!(version, wireline::Version::HTTP_09);
    assert!(headers.is_empty());
    assert_eq!(body, "hello world\r\n");
    // What it gives up: a reply that is not HTTP/1.x at all reads as a body too.
    let (version, _, body) = reply_to(&lenient, ok_with("").replace("1.1", "1.2").as_bytes())
        .await
        .unwrap();
    assert_eq!(version, wireline::Version::HTTP_09);
    assert!(body.starts_with("HTTP/1.2 200 OK"), "{body}");
    // HTTP/1.1 heads are still checked.
    let err = error_of(reply_to(&lenient, ok_with("x-a: a\0b\r\n").as_bytes()).await);
    assert!(err.is_request(), "{err:?}");
}

#[tokio::test]
async fn h04_each_lenient_parsing_setting_accepts_only_what_it_names() {
    let obs_fold = ok_with("x-a: a\r\n folded\r\n");
    let space_before_colon = ok_with("x-a : v\r\n");
    let space_in_name = ok_with("x a: v\r\n");
    let no_colon = ok_with("nonsense\r\n");
    let nul = ok_with("x-a: a\0b\r\n");
    let cases = [
        &obs_fold,
        &space_before_colon,
        &space_in_name,
        &no_colon,
        &nul,
    ];
    let header = |result: &wireline::Result<(_, wireline::header::HeaderMap, String)>| {
        let (_, headers, body) = result.as_ref().expect("accepted");
        assert_eq!(body, "ok");
        headers.get("x-a").map(|v| v.to_str().unwrap().to_owned())
    };

    let folding = Client::builder()
        .http1_allow_obsolete_multiline_headers_in_responses(true)
        .build()
        .unwrap();
    let spaces = Client::builder()
        .http1_allow_spaces_after_header_name_in_responses(true)
        .build()
        .unwrap();
    let ignoring = Client::builder()
        .http1_ignore_invalid_headers_in_responses(true)
        .build()
        .unwrap();
    for (name, client, accepted) in [
        ("default", Client::new(), vec![]),
        ("obs-fold", folding, vec![0]),
        ("spaces", spaces, vec![1]),
        ("ignore", ignoring, vec![0, 1, 2, 3]),
    ] {
        for (i, reply) in cases.iter().enumerate() {
            let result = reply_to(&client, reply.as_bytes()).await;
            match (accepted.contains(&i), &result) {
                (true, Ok(_)) => {}
                (false, Err(e)) => {
                    assert!(e.is_request(), "{name}, case {i}: {e:?}");
                    assert!(e.to_string().contains("malformed header line"), "{e}");
                }
                _ => panic!("{name}, case {i}: {:?}", result.map(|r| r.2)),
            }
            if result.is_err() {
                continue;
            }
            let shown = match (name, i) {
                ("obs-fold", _) => Some("a folded"),
                ("spaces", _) => Some("v"),
                // The invalid lines are dropped, the fold line with them.
                ("ignore", 0) => Some("a"),
                _ => None,
            };
            assert_eq!(header(&result).as_deref(), shown, "{name}, case {i}");
        }
    }
}

#[tokio::test]
async fn h04_what_the_lenient_settings_make_of_a_content_length_with_a_space() {
    // "content-length : 2", then more bytes than that before the close.
    let reply = b"HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nokEXTRA";
    let err = error_of(reply_to(&Client::new(), reply).await);
    assert!(err.is_request(), "{err:?}");
    // Read as the length: the body is 2 bytes.
    let spaces = Client::builder()
        .http1_allow_spaces_after_header_name_in_responses(true)
        .build()
        .unwrap();
    let (_, headers, body) = reply_to(&spaces, reply).await.unwrap();
    assert_eq!(headers["content-length"], "2");
    assert_eq!(body, "ok");
    // Dropped as invalid: the body runs to the close. Two readers of one head disagree
    // on where the response ends, which is what the default refuses to risk.
    let ignoring = Client::builder()
        .http1_ignore_invalid_headers_in_responses(true)
        .build()
        .unwrap();
    let (_, headers, body) = reply_to(&ignoring, reply).await.unwrap();
    assert!(headers.get("content-length").is_none());
    assert_eq!(body, "okEXTRA");
}

#[tokio::test]
async fn h02_http1_max_headers_moves_the_field_limit_both_ways() {
    let fields = |n: usize| -> String { (0..n).map(|i| format!("x-h{i}: v\r\n")).collect() };
    // 150 fields: over the default 100, within 200.
    let many = ok_with(&fields(150));
    let err = error_of(reply_to(&Client::new(), many.as_bytes()).await);
    assert!(err.to_string().contains("http1_max_headers"), "{err}");
    let roomy = Client::builder().http1_max_headers(200).build().unwrap();
    let (_, headers, _) = reply_to(&roomy, many.as_bytes()).await.unwrap();
    assert_eq!(headers.len(), 151);
    // 20 fields: within the default, over 10.
    let some = ok_with(&fields(20));
    reply_to(&Client::new(), some.as_bytes()).await.unwrap();
    let strict = Client::builder().http1_max_headers(10).build().unwrap();
    let err = error_of(reply_to(&strict, some.as_bytes()).await);
    assert!(err.is_request(), "{err:?}");
    // A number beyond what max_response_header_size can hold changes nothing: the head
    // is still measured.
    let huge = Client::builder()
        .http1_max_headers(usize::MAX)
        .build()
        .unwrap();
    let (_, headers, _) = reply_to(&huge, many.as_bytes()).await.unwrap();
    assert_eq!(headers.len(), 151);
    let big = ok_with(&format!("x-big: {}\r\n", "a".repeat(100 * 1024)));
    let err = error_of(reply_to(&huge, big.as_bytes()).await);
    assert!(
        err.to_string().contains("max_response_header_size"),
        "{err}"
    );
}

#[tokio::test]
async fn h01_http2_max_header_list_size_is_the_h2_limit_larger_or_smaller() {
    let big = |kib: usize| {
        handler(move |_| async move { response(200, &[("x-big", &"a".repeat(kib * 1024))], "hi") })
    };
    // Smaller than max_response_header_size: a 20 KiB list is refused over h2.
    let server = https_server(ServerOptions {
        handler: big(20),
        ..ServerOptions::default()
    })
    .await;
    let strict = trusting_test_ca()
        .http2_max_header_list_size(16 * 1024)
        .build()
        .unwrap();
    let err = error_of(bounded(strict.get(server.url("/")).send()).await);
    assert!(err.is_request(), "{err:?}");
    assert!(
        err.to_string().contains("http2_max_header_list_size"),
        "{err}"
    );
    let resp = bounded(
        trusting_test_ca()
            .build()
            .unwrap()
            .get(server.url("/"))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.headers()["x-big"].len(), 20 * 1024);

    // Larger, whatever the order of the calls: a 100 KiB list passes over h2, while
    // HTTP/1 keeps max_response_header_size's 64 KiB.
    let server = https_server(ServerOptions {
        handler: big(100),
        ..ServerOptions::default()
    })
    .await;
    for roomy in [
        trusting_test_ca()
            .http2_max_header_list_size(256 * 1024)
            .max_response_header_size(64 * 1024),
        trusting_test_ca()
            .max_response_header_size(64 * 1024)
            .http2_max_header_list_size(256 * 1024),
    ] {
        let resp = bounded(roomy.build().unwrap().get(server.url("/")).send())
            .await
            .unwrap();
        assert_eq!(resp.version(), wireline::Version::HTTP_2);
        assert_eq!(resp.headers()["x-big"].len(), 100 * 1024);
    }
    let http1 = trusting_test_ca()
        .http2_max_header_list_size(256 * 1024)
        .http1_only()
        .build()
        .unwrap();
    let err = error_of(bounded(http1.get(server.url("/")).send()).await);
    assert!(
        err.to_string().contains("max_response_header_size"),
        "{err}"
    );
}
