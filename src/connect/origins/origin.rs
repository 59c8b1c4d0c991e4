//! The key the origins table counts connections by.

use std::fmt;
use std::hash::{Hash, Hasher};

use http::uri::{Authority, Scheme};

/// hyper-util's pool key: what the cap and the dial rule count by.
///
/// Equal as hyper-util compares its keys (the authority without regard to ASCII case), but
/// with a byte-for-byte look first: the authorities wireline builds come from a `Url`,
/// already lowercase, and the case-folding compare alone cost ≈ 300 instructions in the
/// table's lookup of every h2 request.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    scheme: Scheme,
    authority: Authority,
}

impl Origin {
    pub(crate) fn new(scheme: Scheme, authority: Authority) -> Origin {
        Origin { scheme, authority }
    }
}

impl PartialEq for Origin {
    fn eq(&self, other: &Origin) -> bool {
        self.scheme == other.scheme
            && (self.authority.as_str() == other.authority.as_str()
                || self.authority == other.authority)
    }
}

impl Eq for Origin {}

impl Hash for Origin {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `Authority` hashes its bytes lowercased: origins equal but for case hash alike.
        self.scheme.hash(state);
        self.authority.hash(state);
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}
