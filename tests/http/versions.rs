//! HTTP versions and the protocol settings: h2 with prior knowledge (cleartext, and over
//! TLS whatever ALPN said), what the client announces in its h2 SETTINGS, keep-alive
//! PINGs, title-case header names on the wire, and a request's own version
//! (`RequestBuilder::version`) as reqwest hands it to hyper. The lenient HTTP/1 parsing
//! settings and HTTP/0.9 are faults (`tests/faults/headers.rs`, H04).

use std::time::Duration;

use wireline::{Client, Version};

use crate::support::{
    bounded, echo_router, h1_response, hpack, http_server, https_server, raw_server, response_head,
    trusting_test_ca, Alpn, FaultServer, Frame, H2RawServer, H2Step, ServerOptions, Step,
};

/// SETTINGS parameters (RFC 9113 §6.5.2).
const INITIAL_WINDOW_SIZE: u16 = 0x4;
const MAX_FRAME_SIZE: u16 = 0x5;
const MAX_HEADER_LIST_SIZE: u16 = 0x6;

/// The error of a result that must be one.
fn error_of<T>(result: wireline::Result<T>) -> wireline::Error {
    match result {
        Ok(_) => panic!("expected an error, got a response"),
        Err(e) => e,
    }
}

/// A 200 with body "ok" on stream 1.
fn ok_response() -> Vec<H2Step> {
    let mut steps = response_head(1, &[hpack::STATUS_200], false);
    steps.push(H2Step::Send(Frame::data(1, "ok", true)));
    steps
}

// Prior knowledge ---------------------------------------------------------------------

#[tokio::test]
async fn prior_knowledge_speaks_h2_to_a_cleartext_server() {
    // The server reads the first bytes: the h2 preface gets h2, anything else HTTP/1.1.
    let server = http_server(echo_router()).await;
    let h2 = Client::builder().http2_prior_knowledge().build().unwrap();
    for _ in 0..2 {
        let resp = bounded(h2.get(server.url("/")).send()).await.unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        assert_eq!(bounded(resp.text()).await.unwrap(), "hello");
    }
    let plain = Client::new();
    let resp = bounded(plain.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    let seen: Vec<Version> = server.requests().iter().map(|r| r.version).collect();
    assert_eq!(seen, [Version::HTTP_2, Version::HTTP_2, Version::HTTP_11]);
    // The two h2 requests shared one connection; the HTTP/1.1 one opened its own.
    assert_eq!(server.accepts(), 2);
}

#[tokio::test]
async fn prior_knowledge_speaks_h2_over_tls_when_alpn_chose_nothing() {
    let server = https_server(ServerOptions {
        alpn: Alpn::None,
        ..ServerOptions::default()
    })
    .await;
    let h2 = trusting_test_ca()
        .http2_prior_knowledge()
        .tls_info(true)
        .build()
        .unwrap();
    let resp = bounded(h2.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.tls_info().unwrap().alpn_protocol(), None, "no ALPN");
    // Without prior knowledge, no ALPN means HTTP/1.1.
    let plain = trusting_test_ca().build().unwrap();
    let resp = bounded(plain.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    let seen: Vec<Version> = server.requests().iter().map(|r| r.version).collect();
    assert_eq!(seen, [Version::HTTP_2, Version::HTTP_11]);
}

#[tokio::test]
async fn prior_knowledge_offers_only_h2_so_an_http1_only_tls_server_refuses_the_handshake() {
    let server = https_server(ServerOptions {
        alpn: Alpn::H1Only,
        ..ServerOptions::default()
    })
    .await;
    let h2 = trusting_test_ca().http2_prior_knowledge().build().unwrap();
    let err = error_of(bounded(h2.get(server.url("/")).send()).await);
    assert!(err.is_tls(), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("http2_prior_knowledge"), "{message}");
    assert_eq!(server.requests().len(), 0);
    // The default offers http/1.1 too, and gets it.
    let plain = trusting_test_ca().build().unwrap();
    let resp = bounded(plain.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
}

#[tokio::test]
async fn the_later_of_http1_only_and_http2_prior_knowledge_wins() {
    let server = https_server(ServerOptions::default()).await;
    let h1 = trusting_test_ca()
        .http2_prior_knowledge()
        .http1_only()
        .build()
        .unwrap();
    let resp = bounded(h1.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    let cleartext = http_server(echo_router()).await;
    let h2 = Client::builder()
        .http1_only()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = bounded(h2.get(cleartext.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
}

#[tokio::test]
async fn prior_knowledge_to_an_http1_server_fails_promptly() {
    // An HTTP/1.1 server reads the preface as a bad request line and says so.
    let server = FaultServer::start(vec![
        Step::ReadFor(Duration::from_millis(200)),
        Step::Write(h1_response(
            "400 Bad Request",
            &[("connection", "close")],
            b"",
        )),
        Step::Close,
    ])
    .await;
    let h2 = Client::builder().http2_prior_knowledge().build().unwrap();
    let started = std::time::Instant::now();
    let err = error_of(bounded(h2.get(server.url("/")).send()).await);
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("does not speak HTTP/2"), "{err}");
}

// What the client announces -------------------------------------------------------------

/// The client's SETTINGS and its connection-level WINDOW_UPDATE (0 if none), after one
/// request to a raw h2 server.
async fn announced(client: Client) -> (Vec<(u16, u32)>, u32) {
    let server = H2RawServer::start(ok_response()).await;
    let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "ok");
    let window_update = server
        .received()
        .iter()
        .find(|f| f.kind == crate::support::kind::WINDOW_UPDATE && f.stream == 0)
        .map(|f| u32::from_be_bytes(f.payload[..4].try_into().unwrap()) & 0x7fff_ffff)
        .unwrap_or(0);
    (server.client_settings(), window_update)
}

fn setting(settings: &[(u16, u32)], id: u16) -> Option<u32> {
    settings.iter().find(|(i, _)| *i == id).map(|(_, v)| *v)
}

#[tokio::test]
async fn window_frame_and_header_list_sizes_reach_the_server_in_the_clients_settings() {
    // hyper's defaults, and max_response_header_size as the header list limit.
    let (settings, conn_window) = announced(trusting_test_ca().build().unwrap()).await;
    assert_eq!(
        setting(&settings, INITIAL_WINDOW_SIZE),
        Some(2 * 1024 * 1024)
    );
    assert_eq!(setting(&settings, MAX_FRAME_SIZE), Some(16_384));
    assert_eq!(setting(&settings, MAX_HEADER_LIST_SIZE), Some(64 * 1024));
    // The connection window starts at 65,535 and is raised to 5 MiB.
    assert_eq!(conn_window, 5 * 1024 * 1024 - 65_535);

    let client = trusting_test_ca()
        .http2_initial_stream_window_size(1_000_000)
        .http2_initial_connection_window_size(3_000_000)
        .http2_max_frame_size(32_768)
        .http2_max_header_list_size(100_000)
        .build()
        .unwrap();
    let (settings, conn_window) = announced(client).await;
    assert_eq!(setting(&settings, INITIAL_WINDOW_SIZE), Some(1_000_000));
    assert_eq!(setting(&settings, MAX_FRAME_SIZE), Some(32_768));
    assert_eq!(setting(&settings, MAX_HEADER_LIST_SIZE), Some(100_000));
    assert_eq!(conn_window, 3_000_000 - 65_535);

    // `None` keeps the defaults.
    let client = trusting_test_ca()
        .http2_initial_stream_window_size(None)
        .http2_max_frame_size(None)
        .build()
        .unwrap();
    let (settings, _) = announced(client).await;
    assert_eq!(
        setting(&settings, INITIAL_WINDOW_SIZE),
        Some(2 * 1024 * 1024)
    );
    assert_eq!(setting(&settings, MAX_FRAME_SIZE), Some(16_384));
}

#[tokio::test]
async fn adaptive_window_starts_at_the_protocols_64_kib_whatever_the_sizes_and_measures_with_pings()
{
    let server = H2RawServer::start(ok_response()).await;
    let client = trusting_test_ca()
        .http2_adaptive_window(true)
        .http2_initial_stream_window_size(1_000_000)
        .http2_initial_connection_window_size(3_000_000)
        .build()
        .unwrap();
    let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "ok");
    let settings = server.client_settings();
    assert_eq!(setting(&settings, INITIAL_WINDOW_SIZE), Some(65_535));
    let conn_updates = server
        .received()
        .iter()
        .filter(|f| f.kind == crate::support::kind::WINDOW_UPDATE && f.stream == 0)
        .count();
    assert_eq!(conn_updates, 0, "the connection window stays at 65,535");
    // The body's DATA started a bandwidth measurement: a PING.
    bounded(async {
        while server.client_pings() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;

    // Without it, no PING follows a body.
    let server = H2RawServer::start(ok_response()).await;
    let client = trusting_test_ca().build().unwrap();
    let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "ok");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.client_pings(), 0);
}

#[tokio::test]
async fn h2_sizes_out_of_the_protocols_range_fail_build_naming_the_setting() {
    for (setting, builder) in [
        (
            "http2_max_frame_size",
            Client::builder().http2_max_frame_size(16_383),
        ),
        (
            "http2_max_frame_size",
            Client::builder().http2_max_frame_size(1 << 24),
        ),
        (
            "http2_initial_stream_window_size",
            Client::builder().http2_initial_stream_window_size(1 << 31),
        ),
        (
            "http2_initial_connection_window_size",
            Client::builder().http2_initial_connection_window_size(u32::MAX),
        ),
    ] {
        let err = builder.build().unwrap_err();
        assert!(err.is_builder(), "{setting}: {err:?}");
        assert!(err.to_string().contains(setting), "{err}");
    }
    for ok in [
        Client::builder().http2_max_frame_size(16_384),
        Client::builder().http2_max_frame_size((1 << 24) - 1),
        Client::builder().http2_initial_stream_window_size((1 << 31) - 1),
        Client::builder().http2_initial_connection_window_size((1 << 31) - 1),
    ] {
        ok.build().unwrap();
    }
}

// Keep-alive PINGs ----------------------------------------------------------------------

#[tokio::test]
async fn an_unanswered_keep_alive_ping_closes_the_connection_at_the_timeout() {
    // The server reads the request and never answers, nor any PING.
    let server = H2RawServer::start(vec![]).await;
    let client = trusting_test_ca()
        .http2_keep_alive_interval(Duration::from_millis(100))
        .http2_keep_alive_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = error_of(bounded(client.get(server.url("/")).send()).await);
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        err.to_string().contains("http2_keep_alive_timeout"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(server.client_pings() >= 1);
    assert_eq!(server.closed_within(1).await, 1);

    // Without keep-alive the same silence lasts until the request's own timeout.
    let server = H2RawServer::start(vec![]).await;
    let client = trusting_test_ca()
        .timeout(Duration::from_millis(600))
        .build()
        .unwrap();
    let err = error_of(bounded(client.get(server.url("/")).send()).await);
    assert!(err.is_timeout(), "{err:?}");
    assert!(!err.to_string().contains("keep_alive"), "{err}");
    assert_eq!(server.client_pings(), 0);
}

#[tokio::test]
async fn idle_connections_are_pinged_only_with_keep_alive_while_idle() {
    for while_idle in [true, false] {
        let server = H2RawServer::start(ok_response()).await;
        let client = trusting_test_ca()
            .http2_keep_alive_interval(Duration::from_millis(100))
            .http2_keep_alive_timeout(Duration::from_millis(200))
            .http2_keep_alive_while_idle(while_idle)
            .build()
            .unwrap();
        let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
            .await
            .unwrap();
        assert_eq!(text, "ok");
        if while_idle {
            // Pinged while idle, unanswered: closed by the client.
            assert_eq!(server.closed_within(1).await, 1);
            assert!(server.client_pings() >= 1);
        } else {
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert_eq!(server.client_pings(), 0);
            assert_eq!(server.closed_by_client(), 0, "kept in the pool");
        }
    }
}

// Title case ----------------------------------------------------------------------------

#[tokio::test]
async fn title_case_header_names_are_what_the_server_reads() {
    let answer = h1_response("200 OK", &[], b"ok");
    let server = raw_server(move |mut conn| {
        let answer = answer.clone();
        async move {
            while conn.read_request().await.is_some() {
                conn.write(&answer).await;
            }
        }
    })
    .await;
    let url = format!("http://{}/", server.addr);
    for title_case in [false, true] {
        let mut builder = Client::builder();
        if title_case {
            builder = builder.http1_title_case_headers();
        }
        let client = builder.build().unwrap();
        let resp = bounded(client.get(&url).header("x-trace-id", "1").send())
            .await
            .unwrap();
        assert_eq!(bounded(resp.text()).await.unwrap(), "ok");
    }
    let requests = server.requests();
    let lower = String::from_utf8_lossy(&requests[0]);
    let title = String::from_utf8_lossy(&requests[1]);
    for name in ["user-agent: ", "accept: ", "host: ", "x-trace-id: "] {
        assert!(lower.contains(name), "{lower}");
    }
    for name in ["User-Agent: ", "Accept: ", "Host: ", "X-Trace-Id: "] {
        assert!(title.contains(name), "{title}");
        assert!(!lower.contains(name), "{lower}");
    }
}

// A request's version -------------------------------------------------------------------

#[tokio::test]
async fn version_http2_on_an_http_url_fails_as_in_reqwest_and_works_with_prior_knowledge() {
    let server = http_server(echo_router()).await;
    let client = Client::new();
    let err = error_of(bounded(client.get(server.url("/")).version(Version::HTTP_2).send()).await);
    assert!(err.is_request(), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("HTTP/2"), "{message}");
    assert!(message.contains("http2_prior_knowledge"), "{message}");
    assert_eq!(server.requests().len(), 0, "nothing was sent");
    // One connection was opened (as in reqwest, the version is only checked on it), and
    // the request was not tried again on another.
    assert_eq!(server.accepts(), 1);

    let h2 = Client::builder().http2_prior_knowledge().build().unwrap();
    let resp = bounded(h2.get(server.url("/")).version(Version::HTTP_2).send())
        .await
        .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
}

#[tokio::test]
async fn version_http2_where_alpn_chose_http1_fails_naming_the_server_s_choice() {
    let server = https_server(ServerOptions {
        alpn: Alpn::H1Only,
        ..ServerOptions::default()
    })
    .await;
    let client = trusting_test_ca().build().unwrap();
    let err = error_of(bounded(client.get(server.url("/")).version(Version::HTTP_2).send()).await);
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("ALPN"), "{err}");
    assert_eq!(server.requests().len(), 0);
    // Where ALPN chose h2, it is sent.
    let h2_server = https_server(ServerOptions::default()).await;
    let resp = bounded(
        client
            .get(h2_server.url("/"))
            .version(Version::HTTP_2)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
}

#[tokio::test]
async fn version_http10_is_the_request_line_of_every_hop_and_every_try() {
    let server = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            Step::Write(h1_response(
                "HTTP/1.1 302 Found",
                &[("location", "/next"), ("connection", "close")],
                b"",
            )),
            Step::Close,
        ],
        _ => vec![
            Step::Read,
            Step::Write(h1_response("HTTP/1.1 200 OK", &[], b"ok")),
            Step::Close,
        ],
    })
    .await;
    let client = Client::new();
    let resp = bounded(
        client
            .get(server.url("/first"))
            .version(Version::HTTP_10)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(bounded(resp.text()).await.unwrap(), "ok");
    let lines: Vec<String> = server
        .request_texts()
        .iter()
        .map(|r| r.lines().next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(lines, ["GET /first HTTP/1.0", "GET /next HTTP/1.0"]);

    // The default is HTTP/1.1, and `version_mut` on a built request works as well.
    let server = FaultServer::start(vec![
        Step::Read,
        Step::Write(h1_response("HTTP/1.1 200 OK", &[], b"ok")),
        Step::Close,
    ])
    .await;
    let mut request = client.get(server.url("/a")).build().unwrap();
    assert_eq!(request.version(), Version::HTTP_11);
    bounded(client.execute(request.try_clone().unwrap()))
        .await
        .unwrap();
    *request.version_mut() = Version::HTTP_10;
    bounded(client.execute(request)).await.unwrap();
    let lines: Vec<String> = server
        .request_texts()
        .iter()
        .map(|r| r.lines().next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(lines, ["GET /a HTTP/1.1", "GET /a HTTP/1.0"]);
}

#[tokio::test]
async fn version_http09_and_http3_fail_before_connecting() {
    let server = http_server(echo_router()).await;
    let client = Client::new();
    for version in [Version::HTTP_09, Version::HTTP_3] {
        let err = error_of(bounded(client.get(server.url("/")).version(version).send()).await);
        assert!(err.is_request(), "{version:?}: {err:?}");
        assert!(err.to_string().contains("version"), "{err}");
    }
    assert_eq!(server.accepts(), 0);
}

#[test]
fn a_request_keeps_its_version_through_try_clone_and_request_builder() {
    let client = Client::new();
    let request = client
        .get("http://example.com/")
        .version(Version::HTTP_10)
        .build()
        .unwrap();
    assert_eq!(request.try_clone().unwrap().version(), Version::HTTP_10);
    let rebuilt = client.request_builder(request).build().unwrap();
    assert_eq!(rebuilt.version(), Version::HTTP_10);
    let default = client.get("http://example.com/").build().unwrap();
    assert_eq!(default.version(), Version::HTTP_11);
}
