//! X04: any bytes from an h2 server, after a valid server preface (an empty SETTINGS) and
//! the ack of the client's SETTINGS, through the whole client speaking h2 (prior
//! knowledge) with decompression on and `max_decoded_body` set: CONTINUATION floods,
//! HPACK table updates, SETTINGS floods, RST_STREAM storms, WINDOW_UPDATE overflows,
//! PUSH_PROMISE with push off, and anything else. Never a panic; within the time and poll
//! budgets (no hang, no spin); memory within libFuzzer's `-rss_limit_mb` and
//! `-malloc_limit_mb`; the body read is no longer than the limit unless it is no longer
//! than what the server sent (an uncoded body, which the limit does not cover).
//!
//! Input: a control byte, as many cut bytes as it says, then the server's bytes (frames;
//! the seeds hold well-formed ones to start from). Control bits: 0-2 the number of cuts
//! (as in `server_bytes`), 3 two requests at once on the connection, 4-5 the limit (1,
//! 100, 4096 or 1 MiB), 6 a POST with a 70,000-byte body (more than the initial window, so
//! the upload waits for WINDOW_UPDATE), 7 read the body with `bytes()` instead of by
//! `chunk()`. Connections after the first (redirects) get the server preface, then EOF.

use futures_util::future::join_all;
use wireline::redirect::Policy;
use wireline::{Client, Method};

use super::cut;
use super::harness::{client, run, Server};

const LIMITS: [u64; 4] = [1, 100, 4096, 1 << 20];

/// An empty SETTINGS frame (the server's preface), then an ack of the client's.
pub const SERVER_PREFACE: [u8; 18] = [
    0, 0, 0, 4, 0, 0, 0, 0, 0, //
    0, 0, 0, 4, 1, 0, 0, 0, 0,
];

/// The upload of bit 6: over the 65,535-byte initial window.
const UPLOAD: usize = 70_000;

/// The property, for one input.
pub fn check(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (mut reads, total_sent) = cut(control, rest);
    reads.insert(0, SERVER_PREFACE.to_vec());
    let two = control & 0b1000 != 0;
    let limit = LIMITS[usize::from((control >> 4) & 0b11)];
    let upload = control & 0b100_0000 != 0;
    let whole = control & 0b1000_0000 != 0;

    let server = Server::answering(move |index, _| {
        if index == 0 {
            reads.clone()
        } else {
            vec![SERVER_PREFACE.to_vec()]
        }
    });
    let client = client(Some(u64::from((control >> 4) & 0b11)), || {
        Client::builder()
            .http2_prior_knowledge()
            .max_decoded_body(limit)
            .redirect(Policy::limited(3))
    })
    .expect("valid settings");

    let one = |client: Client| async move {
        let request = match upload {
            true => client
                .request(Method::POST, "http://fuzz.test/upload")
                .body(vec![b'u'; UPLOAD]),
            false => client.request(Method::GET, "http://fuzz.test/"),
        };
        let mut resp = request.send().await?;
        if whole {
            return resp.bytes().await.map(|body| body.len());
        }
        let mut total = 0;
        while let Some(chunk) = resp.chunk().await? {
            assert!(!chunk.is_empty(), "an empty chunk before the end");
            total += chunk.len();
            within_limit(total, limit, total_sent);
        }
        Ok(total)
    };
    let outcomes = run(&server, async move {
        let requests = if two { 2 } else { 1 };
        join_all((0..requests).map(|_| one(client.clone()))).await
    });
    server.debug(&outcomes);
    for total in outcomes.into_iter().flatten() {
        within_limit(total, limit, total_sent);
    }
}

fn within_limit(total: usize, limit: u64, sent: usize) {
    assert!(
        total as u64 <= limit.max(sent as u64),
        "{total} bytes read: over max_decoded_body ({limit}) and over what was sent ({sent})"
    );
}
