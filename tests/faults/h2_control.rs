//! Fault matrix X04, the frames that steer a connection rather than carry a response:
//! HPACK dynamic table size updates, SETTINGS floods and out-of-range settings, RST_STREAM
//! storms, WINDOW_UPDATE overflow and floods. See docs/reliability.md.
//!
//! Like `h2_frames`, each test asserts the outcome, the frame the client answered with,
//! the time and CPU it took, and that no socket is left behind; the floods also bound the
//! memory they may cost.

use std::time::Duration;

use super::h2_frames::{
    assert_connection_error, error_of, h2_client, ok_response, Cost, PROTOCOL_ERROR,
};
use crate::support::{
    assert_no_leak, bounded, flag, hpack, kind, response_head, rss_kib, Frame, H2Fault,
    H2FaultServer, H2RawServer, H2Step,
};
use wireline::Client;

const FLOW_CONTROL_ERROR: u32 = 0x3;

/// How many frames a flood that must pass sends: 900 KB of SETTINGS, 1.3 MB of
/// WINDOW_UPDATE or RST_STREAM frames.
const FLOOD: usize = 100_000;

/// The memory a flood may add to the test process (parallel tests add noise).
const FLOOD_RSS_KIB: u64 = 16 * 1024;

/// A SETTINGS frame (not an ACK) with these (identifier, value) parameters.
fn settings(parameters: &[(u16, u32)]) -> Frame {
    let mut payload = Vec::new();
    for (id, value) in parameters {
        payload.extend(id.to_be_bytes());
        payload.extend(value.to_be_bytes());
    }
    Frame::new(kind::SETTINGS, 0, 0, payload)
}

fn window_update(stream: u32, increment: u32) -> Frame {
    Frame::new(kind::WINDOW_UPDATE, 0, stream, increment.to_be_bytes())
}

fn rst_stream(stream: u32, code: u32) -> Frame {
    Frame::new(kind::RST_STREAM, 0, stream, code.to_be_bytes())
}

/// `steps`, then the usual 200 "ok".
fn then_ok(mut steps: Vec<H2Step>) -> Vec<H2Step> {
    steps.extend(ok_response());
    steps
}

/// Waits (bounded) until `server` has received `n` frames matching `wanted`; their count.
async fn received_at_least(
    server: &H2RawServer,
    n: usize,
    wanted: impl Fn(&Frame) -> bool,
) -> usize {
    bounded(async {
        loop {
            let count = server.received().iter().filter(|f| wanted(f)).count();
            if count >= n {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

fn is_settings_ack(frame: &Frame) -> bool {
    frame.kind == kind::SETTINGS && frame.flags & flag::ACK != 0
}

// HPACK dynamic table size updates --------------------------------------------------

#[tokio::test]
async fn x04_a_table_size_update_over_the_clients_limit_is_a_connection_error() {
    // The client's SETTINGS_HEADER_TABLE_SIZE is the default, 4,096: a server may shrink
    // its table or keep it, never grow it past that. RFC 9113 §4.3 calls a header block
    // that can't be decoded a COMPRESSION_ERROR; h2 0.4.20 sends PROTOCOL_ERROR.
    let update = |size: usize| {
        let mut block = Vec::new();
        hpack::integer(size, 5, 0x20, &mut block);
        block
    };
    let mut overflowing = vec![0x3f];
    overflowing.extend([0xff; 10]);
    let mut after_a_field = vec![hpack::STATUS_200];
    after_a_field.extend(update(0));
    for (what, mut block) in [
        ("a table of 4,097 bytes", update(4097)),
        ("a table of 4 GiB", update(u32::MAX as usize)),
        ("a size whose integer overflows", overflowing),
        ("a size update after a field", after_a_field),
    ] {
        if block[0] != hpack::STATUS_200 {
            block.push(hpack::STATUS_200);
        }
        let server = H2RawServer::start(response_head(1, &block, true)).await;
        let cost = Cost::start();
        let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
        cost.check(what);
        assert!(err.is_request(), "{what}: {err:?}");
        println!("{what}: {err}");
        assert!(err.to_string().contains("HPACK"), "{what}: {err}");
        assert_connection_error(&server, PROTOCOL_ERROR, "").await;
    }
}

#[tokio::test]
async fn x04_table_size_updates_within_the_limit_pass_however_many() {
    // A head that starts with 16,000 one-byte updates (to 0 and back to 4,096, RFC 7541
    // §4.2 allows them only at the start of a block): legal, and costs a byte each.
    let mut block = Vec::new();
    for i in 0..16_000 {
        hpack::integer(if i % 2 == 0 { 0 } else { 4096 }, 5, 0x20, &mut block);
    }
    block.push(hpack::STATUS_200);
    hpack::literal("x-after", b"updates", &mut block);
    println!("block of {} bytes", block.len());
    let mut script = response_head(1, &block, false);
    script.push(H2Step::Send(Frame::data(1, "ok", true)));
    let server = H2RawServer::start(script).await;
    let client = h2_client();
    let cost = Cost::start();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    cost.check("16,000 table size updates");
    assert_eq!(resp.headers()["x-after"], "updates");
    assert_eq!(bounded(resp.text()).await.unwrap(), "ok");
    drop(client);
    assert_no_leak(server.addr, 0).await;
}

// SETTINGS ----------------------------------------------------------------------------

#[tokio::test]
async fn x04_a_settings_flood_is_acknowledged_frame_by_frame_and_the_response_arrives() {
    // Each changes the initial window (h2 applies it to every open stream) and the header
    // table size; h2 answers each with an ACK before it reads the next frame, so a server
    // that stops reading stops the flood.
    let flood = |i: u32| settings(&[(0x4, 65_535 - i), (0x1, 4096 - i)]);
    let server = H2RawServer::start(then_ok(vec![
        H2Step::Repeat(flood(0), FLOOD / 2),
        H2Step::Repeat(flood(1), FLOOD / 2),
    ]))
    .await;
    let client = h2_client();
    let rss_before = rss_kib();
    let cost = Cost::start();
    let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    cost.check("100,000 SETTINGS frames");
    assert_eq!(text, "ok");
    // One ACK for the handshake's SETTINGS, one per frame of the flood.
    let acks = received_at_least(&server, FLOOD + 1, is_settings_ack).await;
    assert_eq!(acks, FLOOD + 1);
    let grown = rss_kib().saturating_sub(rss_before);
    println!("RSS +{grown} KiB");
    assert!(grown < FLOOD_RSS_KIB, "RSS grew {grown} KiB");
    drop(client);
    assert_no_leak(server.addr, 0).await;
}

#[tokio::test]
async fn x04_an_endless_settings_flood_ends_at_the_timeout_and_with_the_client() {
    // No h2 limit stops a flood the client keeps up with: the request's own timeouts do,
    // the head's read_timeout or the total timeout. Dropping the client closes it.
    for (what, client) in [
        (
            "read_timeout",
            Client::builder().read_timeout(Duration::from_millis(500)),
        ),
        (
            "timeout",
            Client::builder().timeout(Duration::from_millis(500)),
        ),
    ] {
        let server =
            H2RawServer::start(vec![H2Step::UntilClosed(settings(&[(0x4, 65_535)]))]).await;
        let client = client
            .ca_file(crate::support::test_ca_file())
            .build()
            .unwrap();
        let cost = Cost::start();
        let err = error_of(bounded(client.get(server.url("/")).send()).await);
        let took = cost.check(&format!("endless SETTINGS, {what}"));
        assert!(err.is_timeout(), "{what}: {err:?}");
        assert!(took >= Duration::from_millis(450), "{what}: {took:?}");
        assert!(err.to_string().contains(what), "{what}: {err}");
        println!(
            "{what}: {} SETTINGS frames acknowledged in {took:?}",
            server
                .received()
                .iter()
                .filter(|f| is_settings_ack(f))
                .count()
        );
        drop(client);
        assert_eq!(
            server.closed_within(1).await,
            1,
            "{what}: closed with the client"
        );
        assert_no_leak(server.addr, 0).await;
    }
}

#[tokio::test]
async fn x04_out_of_range_or_malformed_settings_are_connection_errors() {
    // h2 0.4.20 answers each with GOAWAY(PROTOCOL_ERROR); RFC 9113 asks for
    // FLOW_CONTROL_ERROR for a window over 2^31 - 1 (§6.5.2) and FRAME_SIZE_ERROR for a
    // length that is not a multiple of 6 (§6.5): the connection ends all the same.
    for (what, frame) in [
        (
            "SETTINGS_INITIAL_WINDOW_SIZE 2^31",
            settings(&[(0x4, 1 << 31)]),
        ),
        ("SETTINGS_MAX_FRAME_SIZE 16,383", settings(&[(0x5, 16_383)])),
        ("SETTINGS_MAX_FRAME_SIZE 2^24", settings(&[(0x5, 1 << 24)])),
        ("SETTINGS_ENABLE_PUSH 2", settings(&[(0x2, 2)])),
        (
            "SETTINGS of 5 bytes",
            Frame::new(kind::SETTINGS, 0, 0, [0, 4, 0, 0, 1]),
        ),
        ("SETTINGS on stream 1", Frame::new(kind::SETTINGS, 0, 1, [])),
        (
            "a SETTINGS ACK never asked for",
            Frame::new(kind::SETTINGS, flag::ACK, 0, []),
        ),
    ] {
        let server = H2RawServer::start(then_ok(vec![H2Step::Send(frame)])).await;
        let cost = Cost::start();
        let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
        cost.check(what);
        assert!(err.is_request(), "{what}: {err:?}");
        assert!(err.to_string().contains("SETTINGS"), "{what}: {err}");
        assert_connection_error(&server, PROTOCOL_ERROR, "").await;
    }
}

// RST_STREAM --------------------------------------------------------------------------

#[tokio::test]
async fn x04_a_reset_fails_its_request_once_and_a_storm_of_resets_after_it_is_ignored() {
    // INTERNAL_ERROR on the request's stream, then 100,000 more resets of that closed
    // stream, then a PING: the client reads through the storm and answers the PING.
    let ping = Frame::new(kind::PING, 0, 0, *b"storm!!!");
    let server = H2RawServer::start(vec![
        H2Step::Send(rst_stream(1, 0x2)),
        H2Step::Repeat(rst_stream(1, 0x8), FLOOD),
        H2Step::Send(ping),
    ])
    .await;
    let client = h2_client();
    let rss_before = rss_kib();
    let cost = Cost::start();
    let err = error_of(bounded(client.get(server.url("/")).send()).await);
    println!("{err}");
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("INTERNAL_ERROR"), "{err}");
    let pong = |f: &Frame| f.kind == kind::PING && f.flags & flag::ACK != 0;
    received_at_least(&server, 1, pong).await;
    cost.check("a reset and 100,000 more");
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < FLOOD_RSS_KIB, "RSS grew {grown} KiB");
    assert_eq!(server.client_goaway(), None, "the connection is kept");
    assert_eq!(server.accepts(), 1, "never retried");
    drop(client);
    assert_eq!(server.closed_within(1).await, 1);
    assert_no_leak(server.addr, 0).await;
}

#[tokio::test]
async fn x04_a_reset_of_a_stream_never_opened_is_a_connection_error() {
    // Stream 3: the client's next, not opened yet. Stream 0: the connection, never reset.
    for (stream, code) in [(3, PROTOCOL_ERROR), (0, PROTOCOL_ERROR)] {
        let server = H2RawServer::start(then_ok(vec![H2Step::Send(rst_stream(stream, 0x8))])).await;
        let cost = Cost::start();
        let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
        cost.check(&format!("RST_STREAM on stream {stream}"));
        println!("stream {stream}: {err}");
        assert!(err.is_request(), "{err:?}");
        assert_connection_error(&server, code, "").await;
    }
}

#[tokio::test]
async fn x04_a_server_resetting_every_stream_fails_each_request_without_a_retry_storm() {
    // 100 requests at once on one connection, each stream reset. CANCEL: each fails, none
    // is sent again. REFUSED_STREAM: each is sent again once (the server did not process
    // it), and fails when refused again: 200 streams, never more.
    const REQUESTS: usize = 100;
    for (reason, code, streams) in [
        (h2::Reason::CANCEL, "CANCEL", REQUESTS),
        (h2::Reason::REFUSED_STREAM, "REFUSED_STREAM", 2 * REQUESTS),
    ] {
        let server = H2FaultServer::start(move |_| H2Fault::ResetEveryStream(reason)).await;
        let client = h2_client();
        // One request first, so that the hundred share its connection rather than race
        // to open one each.
        let warm_up = error_of(bounded(client.get(server.url("/")).send()).await);
        assert!(warm_up.is_request(), "{warm_up:?}");
        let warm_up_streams = server.streams();
        let cost = Cost::start();
        let results = bounded(futures_util::future::join_all(
            (0..REQUESTS).map(|_| client.get(server.url("/")).send()),
        ))
        .await;
        cost.check(&format!(
            "{REQUESTS} requests, every stream reset with {code}"
        ));
        for result in results {
            let err = error_of(result);
            assert!(err.is_request(), "{code}: {err:?}");
            assert!(err.to_string().contains(code), "{code}: {err}");
        }
        assert_eq!(server.streams() - warm_up_streams, streams, "{code}");
        assert_eq!(server.accepts(), 1, "{code}: one connection throughout");
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
}

// WINDOW_UPDATE -----------------------------------------------------------------------

#[tokio::test]
async fn x04_a_connection_window_over_2_31_minus_1_is_a_flow_control_error() {
    // 65,535 + (2^31 - 1): past the largest window RFC 9113 §6.9.1 allows.
    let server =
        H2RawServer::start(then_ok(vec![H2Step::Send(window_update(0, 0x7fff_ffff))])).await;
    let cost = Cost::start();
    let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
    cost.check("connection WINDOW_UPDATE overflow");
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("past 2^31 - 1"), "{err}");
    assert_connection_error(&server, FLOW_CONTROL_ERROR, "").await;
}

#[tokio::test]
async fn x04_a_stream_window_over_2_31_minus_1_resets_the_upload_and_not_a_download() {
    // During an upload (200 KB, held at the initial windows of 65,535): the second update
    // takes the stream's window past 2^31 - 1. The client resets the stream.
    let overflow = window_update(1, 0x7fff_ffff);
    let server = H2RawServer::start(then_ok(vec![
        H2Step::Send(overflow.clone()),
        H2Step::Send(overflow.clone()),
    ]))
    .await;
    let client = h2_client();
    let cost = Cost::start();
    let err = error_of(
        bounded(
            client
                .post(server.url("/"))
                .body(vec![b'u'; 200_000])
                .send(),
        )
        .await,
    );
    cost.check("stream WINDOW_UPDATE overflow mid-upload");
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("past 2^31 - 1"), "{err}");
    let resets = bounded(async {
        loop {
            let resets = server.client_resets(1);
            if !resets.is_empty() {
                return resets;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(resets, [FLOW_CONTROL_ERROR]);
    assert_eq!(server.accepts(), 1, "never retried");
    drop(client);
    assert_no_leak(server.addr, 0).await;

    // A GET has sent all it will: the same updates change nothing, the response arrives.
    let server = H2RawServer::start(then_ok(vec![
        H2Step::Send(overflow.clone()),
        H2Step::Send(overflow),
    ]))
    .await;
    let text = bounded(async { h2_client().get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "ok");
}

#[tokio::test]
async fn x04_a_window_update_of_zero_is_a_connection_error() {
    // RFC 9113 §6.9: a stream error on a stream, a connection error on the connection;
    // h2 0.4.20 ends the connection for both (stricter).
    for stream in [0, 1] {
        let server =
            H2RawServer::start(then_ok(vec![H2Step::Send(window_update(stream, 0))])).await;
        let cost = Cost::start();
        let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
        cost.check(&format!("WINDOW_UPDATE of 0 on stream {stream}"));
        assert!(err.is_request(), "{stream}: {err:?}");
        assert!(err.to_string().contains("WINDOW_UPDATE"), "{stream}: {err}");
        assert_connection_error(&server, PROTOCOL_ERROR, "").await;
    }
}

#[tokio::test]
async fn x04_a_flood_of_tiny_window_updates_passes() {
    let server = H2RawServer::start(then_ok(vec![
        H2Step::Repeat(window_update(0, 1), FLOOD / 2),
        H2Step::Repeat(window_update(1, 1), FLOOD / 2),
    ]))
    .await;
    let client = h2_client();
    let rss_before = rss_kib();
    let cost = Cost::start();
    let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    cost.check("100,000 WINDOW_UPDATE frames");
    assert_eq!(text, "ok");
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < FLOOD_RSS_KIB, "RSS grew {grown} KiB");
    drop(client);
    assert_no_leak(server.addr, 0).await;
}
