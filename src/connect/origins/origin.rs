//! The key the origins table counts connections by.

use std::fmt;
use std::hash::{Hash, Hasher};

use http::uri::{Authority, Scheme};

/// An origin: what the pool keeps connections by, and the cap and the dial rule count by.
///
/// Equal as hyper-util compared its pool's keys (the authority without regard to ASCII case), but
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
