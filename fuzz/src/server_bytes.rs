//! U2 + U3: any bytes as the server's answer to one request, arriving in up to 8 reads,
//! through the whole client (pool, hyper's HTTP/1 parser, redirects, pacing) and the
//! body read with decompression on and `max_decoded_body` set. Never a panic; the run
//! stays within the time and poll budgets; the body read is no longer than the limit,
//! unless it is no longer than the bytes the server sent (a body that came uncoded,
//! which the limit does not cover, can't be longer than that).
//!
//! Input: a control byte, then as many cut bytes as it says, then the server's bytes.
//! Control bits: 0-2 the number of cuts (each cut byte + 1 is the length of one more read;
//! the last read is what remains), 3 HEAD instead of GET, 4-5 the limit (1, 100, 4096 or
//! 1 MiB), 6 read the body with `bytes()` instead of `chunk()` by chunk, 7 pacing on
//! (`read_timeout` and `low_speed_limit`). Connections after the first (redirects) get
//! an immediate EOF.

use std::time::Duration;

use wireline::redirect::Policy;
use wireline::{Client, Method};

use super::cut;
use super::harness::{client, run, Server};

const LIMITS: [u64; 4] = [1, 100, 4096, 1 << 20];

/// The property, for one input.
pub fn check(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let (reads, total_sent) = cut(control, rest);
    let method = if control & 0b1000 != 0 {
        Method::HEAD
    } else {
        Method::GET
    };
    let limit = LIMITS[usize::from((control >> 4) & 0b11)];
    let whole = control & 0b100_0000 != 0;
    let paced = control & 0b1000_0000 != 0;

    let server = Server::answering(move |index, _| {
        if index == 0 {
            reads.clone()
        } else {
            Vec::new()
        }
    });
    // Eight clients in all, one per limit and pacing, kept across inputs.
    let key = u64::from(control >> 4);
    let client = client(Some(key), || {
        let builder = Client::builder()
            .max_decoded_body(limit)
            .redirect(Policy::limited(3));
        if paced {
            builder
                .read_timeout(Duration::from_secs(5))
                .low_speed_limit(1, Duration::from_secs(5))
        } else {
            builder
        }
    })
    .expect("valid settings");

    let read = run(&server, async move {
        let mut resp = client.request(method, "http://fuzz.test/").send().await?;
        if whole {
            return resp.bytes().await.map(|body| body.len());
        }
        let mut total = 0;
        while let Some(chunk) = resp.chunk().await? {
            assert!(!chunk.is_empty(), "an empty chunk before the end");
            total += chunk.len();
            assert!(
                total as u64 <= limit.max(total_sent as u64),
                "{total} bytes read: over max_decoded_body ({limit}) and over what was sent ({total_sent})"
            );
        }
        Ok(total)
    });
    server.debug(&read);
    if let Ok(total) = read {
        assert!(
            total as u64 <= limit.max(total_sent as u64),
            "{total} bytes read: over max_decoded_body ({limit}) and over what was sent ({total_sent})"
        );
    }
}
