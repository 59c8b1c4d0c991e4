//! A decoded body's memory: a gzip bomb against `max_decoded_body` (a few MB that inflate
//! to hundreds of MB end the read at the limit, in bounded memory), many tiny decoded
//! pieces kept (they hold no more memory than their bytes), and a decoder's window once
//! its body has ended. Alone in their binary, one at a time, so the process's memory is
//! the running test's.

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use support::{
    bounded, h1_response, handler, http_server, peak_rss_kib, raw_server, reset_peak_rss, response,
    rss_kib,
};
use wireline::Client;

/// Taken by each test: they measure the whole process's memory.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Bits in DEFLATE order: values LSB first, Huffman codes MSB first (RFC 1951 §3.1.1).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    used: u32,
}

impl Bits {
    fn value(&mut self, value: u32, len: u32) {
        for i in 0..len {
            self.bit((value >> i) & 1);
        }
    }

    fn code(&mut self, code: u32, len: u32) {
        for i in (0..len).rev() {
            self.bit((code >> i) & 1);
        }
    }

    fn bit(&mut self, bit: u32) {
        if self.used.is_multiple_of(8) {
            self.out.push(0);
        }
        *self.out.last_mut().unwrap() |= (bit as u8) << (self.used % 8);
        self.used += 1;
    }
}

/// A gzip member whose one fixed-Huffman block is a literal zero, then `repeats` copies of
/// "258 bytes from distance 1" (13 bits each): 1 + 258 × `repeats` zeros. The trailer's CRC
/// is right only when `crc` is given (computing it for a real bomb would take long, and the
/// limit stops the read long before the trailer).
fn gzip_of_zeros(repeats: usize, crc: Option<u32>) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.value(1, 1); // BFINAL
    bits.value(1, 2); // BTYPE = fixed Huffman
    bits.code(0x30, 8); // literal 0
    for _ in 0..repeats {
        bits.code(0xC0 + (285 - 280), 8); // length 258
        bits.code(0, 5); // distance 1
    }
    bits.code(0, 7); // end of block
    let mut gzip = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gzip.extend(bits.out);
    let size = 1 + 258 * repeats as u64;
    gzip.extend(crc.unwrap_or(0).to_le_bytes());
    gzip.extend((size as u32).to_le_bytes());
    gzip
}

fn crc32_of_zeros(len: usize) -> u32 {
    let mut crc = !0u32;
    for _ in 0..len {
        crc ^= 0;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[tokio::test]
async fn a_gzip_bomb_stops_at_max_decoded_body_in_bounded_memory() {
    let _alone = ALONE.lock().await;
    // The generator makes valid gzip: a small one decodes in full.
    let small = gzip_of_zeros(1000, Some(crc32_of_zeros(1 + 258 * 1000)));
    // 4 MB that would inflate to about 635 MB.
    let bomb = Bytes::from(gzip_of_zeros(2_500_000, None));
    let server = http_server(handler(move |req| {
        let body = if req.uri().path() == "/small" {
            Bytes::from(small.clone())
        } else {
            bomb.clone()
        };
        async move { response(200, &[("content-encoding", "gzip")], body) }
    }))
    .await;
    let limit = 10 * 1024 * 1024;
    let client = Client::builder().max_decoded_body(limit).build().unwrap();

    let body = bounded(async { client.get(server.url("/small")).send().await?.bytes().await })
        .await
        .unwrap();
    assert_eq!(body.len(), 1 + 258 * 1000);
    assert!(body.iter().all(|b| *b == 0));

    // The other tests here may have raised the peak before this one ran.
    reset_peak_rss();
    let before = peak_rss_kib();
    let started = Instant::now();
    let resp = bounded(client.get(server.url("/bomb")).send())
        .await
        .unwrap();
    let err = bounded(resp.bytes()).await.unwrap_err();
    let took = started.elapsed();
    assert!(err.is_decode(), "{err}");
    assert!(err.to_string().contains("max_decoded_body"), "{err}");

    // Read piece by piece, no more than the limit is ever handed out.
    let mut resp = bounded(client.get(server.url("/bomb")).send())
        .await
        .unwrap();
    let mut handed_out = 0u64;
    let err = loop {
        match bounded(resp.chunk()).await {
            Ok(Some(chunk)) => handed_out += chunk.len() as u64,
            Ok(None) => panic!("the bomb ended without reaching the limit"),
            Err(e) => break e,
        }
    };
    assert!(err.is_decode(), "{err}");
    assert_eq!(handed_out, limit, "{err}");

    let grew_mib = peak_rss_kib().saturating_sub(before) / 1024;
    eprintln!("bomb: error after {took:?}; peak memory grew {grew_mib} MiB");
    assert!(grew_mib < 64, "peak memory grew {grew_mib} MiB");
    assert!(took < Duration::from_secs(10));
}

/// A zlib stream of `pieces` one-byte stored blocks, each in its own HTTP chunk (hyper
/// hands each chunk over on its own, so each decodes to a one-byte piece).
fn chunked_one_byte_blocks(pieces: usize) -> Vec<u8> {
    let mut body = h1_response(
        "200 OK",
        &[
            ("content-encoding", "deflate"),
            ("transfer-encoding", "chunked"),
        ],
        b"",
    );
    let mut chunk = |bytes: &[u8]| {
        body.extend(format!("{:x}\r\n", bytes.len()).as_bytes());
        body.extend(bytes);
        body.extend(b"\r\n");
    };
    chunk(&[0x78, 0x01]);
    let (mut a, mut b) = (1u32, 0u32);
    for i in 0..pieces {
        let byte = b'a' + (i % 26) as u8;
        // Not final, stored, LEN 1, NLEN !1 (RFC 1951 §3.2.4).
        chunk(&[0x00, 0x01, 0x00, 0xfe, 0xff, byte]);
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    let mut last = vec![0x01, 0x00, 0x00, 0xff, 0xff];
    last.extend(((b << 16) | a).to_be_bytes());
    chunk(&last);
    body.extend(b"0\r\n\r\n");
    body
}

#[tokio::test]
async fn tiny_decoded_pieces_kept_hold_no_more_memory_than_their_bytes() {
    let _alone = ALONE.lock().await;
    const PIECES: usize = 4096;
    let response = chunked_one_byte_blocks(PIECES);
    let server = raw_server(move |mut conn| {
        let response = response.clone();
        async move {
            conn.read_request().await;
            conn.write(&response).await;
            conn.drain().await;
        }
    })
    .await;
    let before = rss_kib();
    let mut resp = bounded(Client::new().get(format!("http://{}/", server.addr)).send())
        .await
        .unwrap();
    let mut kept = Vec::new();
    while let Some(piece) = bounded(resp.chunk()).await.unwrap() {
        kept.push(piece);
    }
    let grew_mib = rss_kib().saturating_sub(before) / 1024;
    let bytes: usize = kept.iter().map(Bytes::len).sum();
    eprintln!(
        "{} pieces, {bytes} bytes kept; memory grew {grew_mib} MiB",
        kept.len()
    );
    assert_eq!(bytes, PIECES);
    // Each piece in a buffer of its own would be 32 KiB each: 128 MiB.
    assert!(grew_mib < 32, "{} pieces hold {grew_mib} MiB", kept.len());
}

#[tokio::test]
async fn a_decoded_body_read_to_its_end_frees_its_decoder_while_the_response_is_kept() {
    use async_compression::tokio::bufread::ZstdEncoder;
    use async_compression::{zstd::CParameter, Level};
    use tokio::io::{AsyncReadExt, BufReader};
    let _alone = ALONE.lock().await;
    // 32 MiB of one byte, in a zstd frame with a 32 MiB window: about 1 KB.
    const SIZE: usize = 32 << 20;
    let data = BufReader::new(tokio::io::repeat(7).take(SIZE as u64));
    let params = [CParameter::window_log(25)];
    let mut encoder = ZstdEncoder::with_quality_and_params(data, Level::Fastest, &params);
    let mut compressed = Vec::new();
    encoder.read_to_end(&mut compressed).await.unwrap();
    let compressed = Bytes::from(compressed);
    let server = http_server(handler(move |_| {
        let body = compressed.clone();
        async move { response(200, &[("content-encoding", "zstd")], body) }
    }))
    .await;

    let before = rss_kib();
    let mut resp = bounded(Client::new().get(server.url("/")).send())
        .await
        .unwrap();
    let mut read = 0;
    while let Some(piece) = bounded(resp.chunk()).await.unwrap() {
        read += piece.len();
    }
    assert_eq!(read, SIZE);
    let grew_mib = rss_kib().saturating_sub(before) / 1024;
    eprintln!("after the body's end, with the response kept: memory grew {grew_mib} MiB");
    // The decoder's window, written through while decoding, is 32 MiB.
    assert!(
        grew_mib < 16,
        "the finished body still holds {grew_mib} MiB"
    );
    drop(resp);
}
