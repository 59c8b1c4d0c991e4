//! The faults a soak run mixes into its traffic: what the server does for each, and the
//! outcome the client must report.

/// One way a response can go wrong (or, for `None`, not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// A well-formed keep-alive response.
    None,
    /// `Content-Length: 100`, 10 bytes, then FIN.
    ShortBody,
    /// The request is read, then the connection closes without a byte.
    CloseBeforeResponse,
    /// A chunked body whose chunk-size line is not hex.
    BadChunked,
    /// Half the body, then a reset (SO_LINGER 0).
    ResetMidBody,
    /// The head, then nothing until the client's read timeout fires.
    Stall,
    /// A well-formed 500.
    ServerError,
    /// `Content-Encoding: gzip` over bytes that are not gzip.
    CorruptGzip,
}

/// Every fault kind, drawn from in turn.
pub const FAULTS: [Fault; 7] = [
    Fault::ShortBody,
    Fault::CloseBeforeResponse,
    Fault::BadChunked,
    Fault::ResetMidBody,
    Fault::Stall,
    Fault::ServerError,
    Fault::CorruptGzip,
];

/// What the client saw for one request, as classes a fault is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    Status5xx,
    Body,
    Decode,
    Timeout,
    /// The connection ended before a response: a request error (after the one retry).
    Request,
    /// Anything else: a failure of the soak.
    Unexpected,
}

impl Fault {
    /// The fault of request number `n`: one request in `every` is faulty, taking the
    /// kinds in turn, so a run is the same every time.
    pub fn of(n: u64, every: u64) -> Fault {
        if every == 0 || n % every != every / 2 {
            return Fault::None;
        }
        FAULTS[((n / every) % FAULTS.len() as u64) as usize]
    }

    /// The path that asks the server for this fault.
    pub fn path(self) -> &'static str {
        match self {
            Fault::None => "/ok",
            Fault::ShortBody => "/short-body",
            Fault::CloseBeforeResponse => "/close",
            Fault::BadChunked => "/bad-chunked",
            Fault::ResetMidBody => "/reset",
            Fault::Stall => "/stall",
            Fault::ServerError => "/500",
            Fault::CorruptGzip => "/corrupt-gzip",
        }
    }

    /// The fault a request path asks for.
    pub fn from_path(path: &str) -> Fault {
        [Fault::None]
            .into_iter()
            .chain(FAULTS)
            .find(|f| f.path() == path)
            .unwrap_or(Fault::None)
    }

    /// The outcomes the client may report for this fault.
    pub fn expected(self) -> &'static [Outcome] {
        match self {
            Fault::None => &[Outcome::Ok],
            Fault::ShortBody | Fault::BadChunked => &[Outcome::Body],
            // A reset can overtake the head in the kernel: the client then never sees a
            // response byte, retries once on a new connection, meets the same reset.
            Fault::ResetMidBody => &[Outcome::Body, Outcome::Request],
            Fault::CloseBeforeResponse => &[Outcome::Request],
            Fault::Stall => &[Outcome::Timeout],
            Fault::ServerError => &[Outcome::Status5xx],
            Fault::CorruptGzip => &[Outcome::Decode],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_in_every_is_faulty_and_kinds_take_turns() {
        let faulty: Vec<Fault> = (0..1_400)
            .map(|n| Fault::of(n, 100))
            .filter(|f| *f != Fault::None)
            .collect();
        assert_eq!(faulty.len(), 14);
        assert_eq!(&faulty[..7], &FAULTS);
        for fault in FAULTS {
            assert_eq!(Fault::from_path(fault.path()), fault);
        }
    }
}
