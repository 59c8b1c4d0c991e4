//! The wireline fuzz targets: each target's property is the `check` function of a module
//! here, which its libFuzzer binary (`fuzz_targets/`) calls with every input, and which
//! wireline's own tests call on stable with every kept input (`tests/fuzz_corpus.rs`
//! includes this file as a module), so CI replays the corpus without fuzzing. Modules
//! reach each other by `super::` only, which means the same in both crates.

pub mod harness;
pub mod head;

pub mod cookies;
pub mod decoders;
pub mod h2_frames;
pub mod pem;
pub mod proxy_rules;
pub mod redirect;
pub mod server_bytes;
pub mod url_and_headers;

/// Separates the fields of a structured input (`url_and_headers`, `redirect`, and the
/// certificate/key split of `pem`): readable in hand-made seeds, and no byte a field
/// needs is taken (CR, LF, NUL and 0xFF all stay usable; only this exact sequence is).
pub const SEP: &[u8] = b"\n~\n";

/// The fields of `data`, split at each [`SEP`].
pub fn fields(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEP.len()).position(|w| w == SEP) {
        out.push(&rest[..at]);
        rest = &rest[at + SEP.len()..];
    }
    out.push(rest);
    out
}

/// The read sizes of the scripted server: `control & 0b111` cut bytes from the front of
/// `rest`, each one more than the length of a read, then the last read gets what remains.
/// Returns the reads and the number of bytes sent in all.
pub fn cut(control: u8, rest: &[u8]) -> (Vec<Vec<u8>>, usize) {
    let cuts = usize::from(control & 0b111).min(rest.len());
    let (cut_bytes, mut sent) = rest.split_at(cuts);
    let total = sent.len();
    let mut reads = Vec::new();
    for &cut in cut_bytes {
        let (read, after) = sent.split_at((usize::from(cut) + 1).min(sent.len()));
        reads.push(read.to_vec());
        sent = after;
    }
    reads.push(sent.to_vec());
    (reads, total)
}
