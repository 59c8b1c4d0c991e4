//! The decoders: gzip, deflate, brotli and zstd bytes as a response body, through the
//! whole client with `max_decoded_body` set. Never a panic; the body read is never longer
//! than the limit. With bit 4 the target encodes the input's first field itself and
//! appends the second: then a body within the limit decodes to exactly what was encoded,
//! one over it is a decode error, and bytes after the end of the coded data are a decode
//! error (unless they can be another gzip member or zstd frame, which decode as one body).
//!
//! Input: a control byte, then the body. Control bits: 0-1 the coding (gzip, deflate,
//! br, zstd), 2-3 the limit (1, 100, 4096 or 1 MiB), 4 encode (the rest is fields: the
//! plain bytes, then the bytes appended after their coded form), 5 chunked instead of
//! `Content-Length`, 6 read with `bytes()` instead of `chunk()`, 7 the body arrives in
//! reads of 7 bytes.

use async_compression::tokio::bufread::{BrotliEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder};
use async_compression::Level;
use tokio::io::AsyncReadExt;
use wireline::Client;

use super::fields;
use super::harness::{client, run, Server};

const LIMITS: [u64; 4] = [1, 100, 4096, 1 << 20];
const CODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

/// The property, for one input.
pub fn check(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let coding = usize::from(control & 0b11);
    let limit = LIMITS[usize::from((control >> 2) & 0b11)];
    let encode = control & 0b1_0000 != 0;
    let chunked = control & 0b10_0000 != 0;
    let whole = control & 0b100_0000 != 0;
    let small_reads = control & 0b1000_0000 != 0;

    let (plain, after) = match encode {
        true => {
            let f = fields(rest);
            (Some(f[0].to_vec()), f.get(1).copied().unwrap_or_default())
        }
        false => (None, rest),
    };
    let mut body = match &plain {
        Some(plain) => encoded(coding, plain),
        None => Vec::new(),
    };
    body.extend_from_slice(after);

    let mut response = format!(
        "HTTP/1.1 200 OK\r\ncontent-encoding: {}\r\n",
        CODINGS[coding]
    )
    .into_bytes();
    if chunked {
        response.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        if !body.is_empty() {
            response.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            response.extend_from_slice(&body);
            response.extend_from_slice(b"\r\n");
        }
        response.extend_from_slice(b"0\r\n\r\n");
    } else {
        response.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        response.extend_from_slice(&body);
    }
    let reads: Vec<Vec<u8>> = match small_reads {
        true => response.chunks(7).map(<[u8]>::to_vec).collect(),
        false => vec![response],
    };

    let server = Server::answering(move |index, _| match index {
        0 => reads.clone(),
        _ => Vec::new(),
    });
    let client = client(Some(u64::from((control >> 2) & 0b11)), || {
        Client::builder().max_decoded_body(limit)
    })
    .expect("valid settings");
    let read = run(&server, async move {
        let mut resp = client.get("http://fuzz.test/").send().await?;
        if whole {
            return resp.bytes().await.map(|body| body.to_vec());
        }
        let mut got = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            assert!(!chunk.is_empty(), "an empty chunk before the end");
            got.extend_from_slice(&chunk);
            assert!(
                got.len() as u64 <= limit,
                "{} bytes read: over max_decoded_body ({limit})",
                got.len()
            );
        }
        Ok(got)
    });
    server.debug(&read.as_ref().map(Vec::len));
    if let Ok(got) = &read {
        assert!(
            got.len() as u64 <= limit,
            "{} bytes read: over max_decoded_body ({limit})",
            got.len()
        );
    }
    let Some(plain) = plain else {
        return;
    };
    let over = plain.len() as u64 > limit;
    if over {
        let e = read.expect_err("a body over max_decoded_body read whole");
        assert!(e.is_decode(), "over the limit, not a decode error: {e:?}");
        return;
    }
    if after.is_empty() {
        let got =
            read.unwrap_or_else(|e| panic!("a valid {} body refused: {e:?}", CODINGS[coding]));
        assert!(got == plain, "decoded to other bytes than were encoded");
        return;
    }
    // More after the coded data: one body only if it can be another member or frame.
    let may_continue = match CODINGS[coding] {
        "gzip" => after.starts_with(&[0x1f, 0x8b]),
        "zstd" => {
            after.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
                || (after.len() >= 4
                    && after[0] & 0xf0 == 0x50
                    && after[1..4] == [0x2a, 0x4d, 0x18])
        }
        _ => false,
    };
    match read {
        Ok(got) => {
            assert!(
                may_continue,
                "{} bytes after the {} data were accepted",
                after.len(),
                CODINGS[coding]
            );
            assert!(
                got.starts_with(&plain),
                "decoded to other bytes than were encoded"
            );
        }
        Err(e) => assert!(e.is_decode(), "trailing bytes, not a decode error: {e:?}"),
    }
}

/// `plain` in the coding: by async-compression's encoders, the same crate (and so the
/// same underlying libraries) whose decoders wireline uses.
fn encoded(coding: usize, plain: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    futures_util::FutureExt::now_or_never(async {
        let result = match coding {
            // The fastest levels: what is decoded is the same format, and brotli's default
            // (quality 11) held the target to about 200 inputs/s.
            0 => {
                GzipEncoder::with_quality(plain, Level::Fastest)
                    .read_to_end(&mut out)
                    .await
            }
            1 => {
                ZlibEncoder::with_quality(plain, Level::Fastest)
                    .read_to_end(&mut out)
                    .await
            }
            2 => {
                BrotliEncoder::with_quality(plain, Level::Fastest)
                    .read_to_end(&mut out)
                    .await
            }
            _ => {
                ZstdEncoder::with_quality(plain, Level::Fastest)
                    .read_to_end(&mut out)
                    .await
            }
        };
        result.expect("encoding in memory")
    })
    .expect("encoding in memory never waits");
    out
}
