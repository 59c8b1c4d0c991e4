//! Fault matrix X04: an HTTP/2 server that writes hostile frame sequences the `h2` crate's
//! server can't send: a CONTINUATION flood, header lists over the limit (and an HPACK
//! bomb), floods of empty DATA frames, PUSH_PROMISE, frames over the size limit, DATA on a
//! stream never opened, DATA that doesn't add up to the content-length. See docs/reliability.md.
//!
//! Each test asserts the outcome and how the client got there: the GOAWAY or RST_STREAM it
//! sent (read by the server), that it closed the connection, within how long and for how
//! much CPU, and that no socket is left behind.

use std::time::{Duration, Instant};

use crate::support::{
    assert_no_leak, bounded, flag, hpack, kind, response_head, rss_kib, thread_cpu,
    trusting_test_ca, Frame, H2RawServer, H2Step, MAX_FRAME,
};
use wireline::{Client, Version};

/// The longest a refused response may take on a loaded machine.
const PROMPT: Duration = Duration::from_secs(3);
/// The CPU a refused response may cost (client and server share the test's thread).
const CPU_BOUND: Duration = Duration::from_secs(2);

pub(super) const PROTOCOL_ERROR: u32 = 0x1;
const FRAME_SIZE_ERROR: u32 = 0x6;
const ENHANCE_YOUR_CALM: u32 = 0xb;

pub(super) fn h2_client() -> Client {
    trusting_test_ca().build().unwrap()
}

/// `:status: 200`, END_HEADERS, then DATA "ok" with END_STREAM.
pub(super) fn ok_response() -> Vec<H2Step> {
    let mut steps = response_head(1, &[hpack::STATUS_200], false);
    steps.push(H2Step::Send(Frame::data(1, "ok", true)));
    steps
}

/// The error of a result that must be one, without printing a (possibly huge) success.
pub(super) fn error_of<T>(result: wireline::Result<T>) -> wireline::Error {
    match result {
        Ok(_) => panic!("expected an error, got a response"),
        Err(e) => e,
    }
}

/// Time and thread CPU spent since `start`, checked against the bounds and printed.
pub(super) struct Cost {
    started: Instant,
    cpu: Duration,
}

impl Cost {
    pub(super) fn start() -> Cost {
        Cost {
            started: Instant::now(),
            cpu: thread_cpu(),
        }
    }

    pub(super) fn check(&self, what: &str) -> Duration {
        let took = self.started.elapsed();
        let cpu = thread_cpu().saturating_sub(self.cpu);
        println!("{what}: {took:?}, {cpu:?} CPU");
        assert!(took < PROMPT, "{what}: took {took:?}");
        assert!(cpu < CPU_BOUND, "{what}: {cpu:?} of CPU");
        took
    }
}

/// What every connection error must show: the client told the server why (GOAWAY with
/// `code` and, from h2, `debug`), closed the connection, did not retry, and left no socket.
pub(super) async fn assert_connection_error(server: &H2RawServer, code: u32, debug: &str) {
    assert_eq!(server.closed_within(1).await, 1, "the client closed it");
    let (got, got_debug) = server.client_goaway().expect("the client sent GOAWAY");
    assert_eq!((got, got_debug.as_str()), (code, debug));
    assert_eq!(server.accepts(), 1, "never retried");
    assert_no_leak(server.addr, 0).await;
}

// CONTINUATION flood ---------------------------------------------------------------

#[tokio::test]
async fn x04_a_continuation_flood_is_cut_off_after_five_frames() {
    // Empty frames (only the count can stop them), and frames full of header fields (the
    // header list limit is passed on the way).
    let full: Vec<u8> = {
        let mut block = Vec::new();
        let mut i = 0;
        while block.len() < MAX_FRAME - 200 {
            hpack::literal(&format!("x-flood-{i}"), &[b'f'; 100], &mut block);
            i += 1;
        }
        block
    };
    for (shape, payload) in [("empty", Vec::new()), ("full", full)] {
        let payload_len = payload.len();
        let server = H2RawServer::start(vec![
            // HEADERS without END_HEADERS, then CONTINUATION without END_HEADERS forever.
            H2Step::Send(Frame::new(kind::HEADERS, 0, 1, [hpack::STATUS_200])),
            H2Step::UntilClosed(Frame::new(kind::CONTINUATION, 0, 1, payload)),
        ])
        .await;
        let rss_before = rss_kib();
        let cost = Cost::start();
        let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
        cost.check(&format!("CONTINUATION flood, {shape} frames"));
        assert!(err.is_request(), "{err:?}");
        assert!(err.to_string().contains("CONTINUATION flood"), "{err}");
        assert_connection_error(&server, ENHANCE_YOUR_CALM, "too_many_continuations").await;
        let grown = rss_kib().saturating_sub(rss_before);
        println!(
            "{shape}: the server wrote {} frames of {payload_len} bytes before the client \
             closed; RSS +{grown} KiB",
            server.frames_written()
        );
        // h2 keeps at most one frame's undecoded bytes; parallel tests add noise.
        assert!(grown < 16 * 1024, "RSS grew {grown} KiB");
    }
}

// Header list size ------------------------------------------------------------------

/// Fields that make a header list (with `:status`) of exactly `size` bytes as RFC 9113
/// counts it.
fn fields_of_list_size(size: usize) -> Vec<(String, Vec<u8>)> {
    let mut fields = Vec::new();
    let mut left = size - hpack::list_size(&[]);
    while left > 0 {
        let name = format!("x-h{:03}", fields.len());
        let overhead = name.len() + 32;
        let value = if left >= overhead + 1000 + overhead {
            1000
        } else {
            left - overhead
        };
        left -= overhead + value;
        fields.push((name, vec![b'v'; value]));
    }
    assert_eq!(hpack::list_size(&fields), size);
    fields
}

fn head_of_list_size(size: usize) -> Vec<H2Step> {
    let block = hpack::status_200_with(&fields_of_list_size(size));
    let mut steps = response_head(1, &block, false);
    steps.push(H2Step::Send(Frame::data(1, "ok", true)));
    steps
}

#[tokio::test]
async fn x04_a_header_list_at_or_over_the_limit_fails_and_one_byte_under_passes() {
    // The default limit, 64 KiB, is h2's SETTINGS_MAX_HEADER_LIST_SIZE: the head takes
    // HEADERS and four CONTINUATION frames.
    let limit = 64 * 1024;
    let server = H2RawServer::start(head_of_list_size(limit - 1)).await;
    let client = h2_client();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.version(), Version::HTTP_2);
    assert_eq!(resp.headers().len(), fields_of_list_size(limit - 1).len());
    assert_eq!(bounded(resp.text()).await.unwrap(), "ok");
    drop(client);
    assert_no_leak(server.addr, 0).await;

    // h2 refuses a list *reaching* the limit (`headers_size >= max_header_list_size` in
    // h2's frame/headers.rs), one byte stricter than RFC 9113's "maximum size ... prepared
    // to accept".
    for size in [limit, limit + 1] {
        let server = H2RawServer::start(head_of_list_size(size)).await;
        let client = h2_client();
        let cost = Cost::start();
        let err = error_of(bounded(client.get(server.url("/")).send()).await);
        cost.check(&format!("header list of {size} bytes"));
        assert!(err.is_request(), "{err:?}");
        assert!(
            err.to_string().contains("max_response_header_size"),
            "{err}"
        );
        // A stream error: the stream is reset, the connection stays (pooled).
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
        assert_eq!(resets, [PROTOCOL_ERROR], "{size}");
        assert_eq!(server.client_goaway(), None, "{size}");
        assert_no_leak(server.addr, 1).await;
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }
}

#[tokio::test]
async fn x04_an_hpack_bomb_is_refused_at_four_times_the_limit() {
    // 4 KB put in the dynamic table once, then referenced by one byte 12,000 times: a
    // 16 KiB frame that decodes to 48 MB of headers. h2 stops decoding past 4 × the limit.
    let mut block = vec![hpack::STATUS_200];
    hpack::literal_indexed("x-bomb", &[b'b'; 4000], &mut block);
    for _ in 0..12_000 {
        hpack::indexed(62, &mut block);
    }
    assert!(block.len() <= MAX_FRAME);
    let server = H2RawServer::start(response_head(1, &block, true)).await;
    let rss_before = rss_kib();
    let cost = Cost::start();
    let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
    cost.check("HPACK bomb");
    assert!(err.is_request(), "{err:?}");
    assert!(err.to_string().contains("HPACK bomb"), "{err}");
    assert_connection_error(&server, ENHANCE_YOUR_CALM, "header_list_way_too_large").await;
    let grown = rss_kib().saturating_sub(rss_before);
    assert!(grown < 16 * 1024, "RSS grew {grown} KiB");
}

// Empty DATA frames -----------------------------------------------------------------

#[tokio::test]
async fn x04_a_hundred_empty_data_frames_pass_and_the_101st_ends_the_connection() {
    // h2 allows 100 empty DATA frames without END_STREAM per connection, for its whole
    // life (MAX_RECV_EMPTY_DATA_FRAMES), and drops them without waking the body reader.
    let with_empty = |n: usize| {
        let mut steps = response_head(1, &[hpack::STATUS_200], false);
        steps.push(H2Step::Repeat(Frame::data(1, [], false), n));
        steps.push(H2Step::Send(Frame::data(1, "ok", true)));
        steps
    };
    let server = H2RawServer::start(with_empty(100)).await;
    let client = h2_client();
    let text = bounded(async { client.get(server.url("/")).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "ok");
    drop(client);
    assert_no_leak(server.addr, 0).await;

    let mut endless = response_head(1, &[hpack::STATUS_200], false);
    endless.push(H2Step::UntilClosed(Frame::data(1, [], false)));
    for (what, script) in [
        ("101 empty DATA frames", with_empty(101)),
        ("100,000 empty DATA frames", with_empty(100_000)),
        ("endless empty DATA frames", endless),
    ] {
        let server = H2RawServer::start(script).await;
        let cost = Cost::start();
        let result = bounded(async {
            let resp = h2_client().get(server.url("/")).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{what}: the head arrives");
            resp.bytes().await
        })
        .await;
        cost.check(what);
        let err = error_of(result);
        assert!(err.is_body(), "{what}: {err:?}");
        assert!(
            err.to_string().contains("empty or tiny DATA frames"),
            "{err}"
        );
        assert_connection_error(&server, ENHANCE_YOUR_CALM, "too_many_data_frames").await;
    }
}

// PUSH_PROMISE, frame size, unknown streams ----------------------------------------

#[tokio::test]
async fn x04_a_push_promise_to_a_client_that_disabled_push_is_a_connection_error() {
    // Promised stream 2, request GET https://127.0.0.1/ (static indexes 2, 7, 4).
    let mut payload = 2u32.to_be_bytes().to_vec();
    payload.extend([0x82, 0x87, 0x84]);
    hpack::literal(":authority", b"127.0.0.1", &mut payload);
    let mut script = vec![H2Step::Send(Frame::new(
        kind::PUSH_PROMISE,
        flag::END_HEADERS,
        1,
        payload,
    ))];
    script.extend(ok_response());
    let server = H2RawServer::start(script).await;
    let cost = Cost::start();
    let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
    cost.check("PUSH_PROMISE");
    assert!(err.is_request(), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("broke the HTTP/2 protocol"), "{message}");
    assert!(!message.contains("max_response_header_size"), "{message}");
    assert_connection_error(&server, PROTOCOL_ERROR, "").await;
    // It had said so: SETTINGS_ENABLE_PUSH (0x2) = 0 in its first SETTINGS.
    let received = server.received();
    let settings = received
        .iter()
        .find(|f| f.kind == kind::SETTINGS && f.flags & flag::ACK == 0)
        .expect("the client's SETTINGS");
    let enable_push = settings
        .payload
        .chunks(6)
        .find(|entry| entry[..2] == [0, 2])
        .map(|entry| u32::from_be_bytes(entry[2..6].try_into().unwrap()));
    assert_eq!(enable_push, Some(0));
}

#[tokio::test]
async fn x04_a_frame_over_the_max_frame_size_is_a_connection_error() {
    // hyper's client keeps SETTINGS_MAX_FRAME_SIZE at 16,384: one byte more is refused,
    // in a head or in the body.
    let mut big_head = vec![hpack::STATUS_200];
    hpack::literal("x-big", &vec![b'b'; MAX_FRAME - 10], &mut big_head);
    assert_eq!(big_head.len(), MAX_FRAME + 1);
    let server = H2RawServer::start(vec![H2Step::Send(Frame::new(
        kind::HEADERS,
        flag::END_HEADERS | flag::END_STREAM,
        1,
        big_head,
    ))])
    .await;
    let cost = Cost::start();
    let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
    cost.check("HEADERS of 16,385 bytes");
    assert!(err.is_request(), "{err:?}");
    assert!(
        err.to_string().contains("larger than the client accepts"),
        "{err}"
    );
    assert_connection_error(&server, FRAME_SIZE_ERROR, "").await;

    let mut script = response_head(1, &[hpack::STATUS_200], false);
    script.push(H2Step::Send(Frame::data(
        1,
        vec![b'd'; MAX_FRAME + 1],
        true,
    )));
    let server = H2RawServer::start(script).await;
    let cost = Cost::start();
    let result = bounded(async { h2_client().get(server.url("/")).send().await?.bytes().await });
    let err = error_of(result.await);
    cost.check("DATA of 16,385 bytes");
    assert!(err.is_body(), "{err:?}");
    assert!(
        err.to_string().contains("larger than the client accepts"),
        "{err}"
    );
    assert_connection_error(&server, FRAME_SIZE_ERROR, "").await;
}

#[tokio::test]
async fn x04_data_on_a_stream_never_opened_is_a_connection_error() {
    // Stream 3: the client's next, not opened yet. Stream 2: the server's, never promised.
    for stream in [3, 2] {
        let mut script = vec![H2Step::Send(Frame::data(stream, "stray", false))];
        script.extend(ok_response());
        let server = H2RawServer::start(script).await;
        let cost = Cost::start();
        let err = error_of(bounded(h2_client().get(server.url("/")).send()).await);
        cost.check(&format!("DATA on stream {stream}"));
        assert!(err.is_request(), "{err:?}");
        assert!(
            err.to_string().contains("broke the HTTP/2 protocol"),
            "{err}"
        );
        assert_connection_error(&server, PROTOCOL_ERROR, "").await;
    }
}

#[tokio::test]
async fn a_body_that_does_not_add_up_to_its_content_length_is_a_body_error_that_says_so() {
    for (length, data) in [("10", "hello"), ("2", "hello")] {
        let block = hpack::status_200_with(&[("content-length".to_owned(), length.into())]);
        let mut script = response_head(1, &block, false);
        script.push(H2Step::Send(Frame::data(1, data, true)));
        let server = H2RawServer::start(script).await;
        let resp = bounded(h2_client().get(server.url("/")).send())
            .await
            .unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        let err = error_of(bounded(resp.bytes()).await);
        let shown = err.to_string();
        assert!(err.is_body(), "content-length {length}: {shown}");
        // The head had arrived: its size is not what went wrong.
        assert!(
            shown.contains("content-length") && !shown.contains("max_response_header_size"),
            "content-length {length}: {shown}"
        );
    }
}
