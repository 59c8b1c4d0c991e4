//! The bytes bodies are made of: one static 64 KiB block, so neither side allocates per chunk.

use bytes::Bytes;

/// Chunk size of downloads (server frames) and uploads (client chunks).
pub const CHUNK: usize = 64 * 1024;

static BLOCK: [u8; CHUNK] = [b'x'; CHUNK];

/// The body of `/small`: 13 bytes.
pub const SMALL_BODY: &[u8] = b"Hello, world!";

/// A chunk of `len` bytes (at most [`CHUNK`]) that points into the static block.
pub fn chunk(len: usize) -> Bytes {
    Bytes::from_static(&BLOCK[..len.min(CHUNK)])
}

/// The chunk sizes that make up `total` bytes.
pub fn chunk_sizes(total: u64) -> impl Iterator<Item = usize> + Send + 'static {
    let full = total / CHUNK as u64;
    let rest = (total % CHUNK as u64) as usize;
    (0..full).map(|_| CHUNK).chain((rest > 0).then_some(rest))
}

/// `total` bytes as a stream of chunks, for the libraries' `Body::wrap_stream`.
pub fn stream(
    total: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::iter(chunk_sizes(total).map(|len| Ok(chunk(len))))
}
