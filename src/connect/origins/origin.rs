//! The key the origins table counts connections by.

use std::fmt;
use std::hash::{Hash, Hasher};

use http::uri::{Authority, Scheme};

/// An origin: what the pool keeps connections by, and the cap and the dial rule count by.
///
/// Equal as hyper-util compared its pool's keys (the authority without regard to ASCII case), but
/// with a byte-for-byte look first: the authorities wireline builds come from a `Url`,
/// already lowercase, and the case-folding compare alone cost ≈ 300 instructions in the
/// table's lookup of every h2 request. Its hash is computed once, when it is made: an h2
/// request looks its origin up twice (the lanes' routing, then the lane's table), and
/// `Authority`'s own hash folds the case of each byte through the hasher, ≈ 200
/// instructions a lookup.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    scheme: Scheme,
    authority: Authority,
    /// The scheme and the authority folded by [`fold`].
    hash: u64,
}

impl Origin {
    pub(crate) fn new(scheme: Scheme, authority: Authority) -> Origin {
        let hash = fold(
            fold(0, scheme.as_str().as_bytes()),
            authority.as_str().as_bytes(),
        );
        Origin {
            scheme,
            authority,
            hash,
        }
    }

    /// `scheme://authority/`: what a connection to it is dialled for.
    pub(crate) fn uri(&self) -> http::Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
        http::Uri::from_parts(parts).expect("a scheme, an authority and a path make a URI")
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        self.hash == other.hash
            && self.scheme == other.scheme
            && (self.authority.as_str() == other.authority.as_str()
                || self.authority == other.authority)
    }
}

impl Eq for Origin {}

impl Hash for Origin {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Origins equal but for case hash alike: the authority was lowercased for it.
        state.write_u64(self.hash);
    }
}

/// Folds `bytes` into `hash` eight at a time (FxHash's step), with bit 5 of every byte
/// set: what an ASCII letter's case changes, so bytes equal but for case fold alike (and
/// a few others too, which the comparison tells apart).
fn fold(mut hash: u64, bytes: &[u8]) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    const CASE: u64 = 0x2020_2020_2020_2020;
    let mut step = |word: u64| hash = (hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        step(u64::from_le_bytes(eight) | CASE);
    }
    let mut rest = [0; 8];
    rest[..words.remainder().len()].copy_from_slice(words.remainder());
    step(u64::from_le_bytes(rest) | CASE);
    step(bytes.len() as u64);
    hash
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}
