//! Whether a request may be sent a second time, decided from its method, its headers and
//! its body before it is sent.

use http::header::HeaderMap;
use http::Method;

/// Whether a request may be sent again, decided before it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replay {
    /// Its body is a stream we have consumed.
    Never,
    /// Only if none of it was written: the server can't have acted on it.
    IfUnwritten,
    /// Even if the server may have seen it: it is safe to repeat.
    Always,
}

impl Replay {
    pub(crate) fn of(method: &Method, headers: &HeaderMap, body_replayable: bool) -> Replay {
        if !body_replayable {
            return Replay::Never;
        }
        let safe = matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        ) || has_idempotency_key(headers);
        if safe {
            Replay::Always
        } else {
            Replay::IfUnwritten
        }
    }

    /// Whether the request's headers and body must be kept for a second send.
    pub(crate) fn possible(self) -> bool {
        self != Replay::Never
    }
}

/// Whether the caller declared the request safe to repeat with an `Idempotency-Key` (or
/// `X-Idempotency-Key`) header.
pub(crate) fn has_idempotency_key(headers: &HeaderMap) -> bool {
    headers.contains_key("idempotency-key") || headers.contains_key("x-idempotency-key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_follows_method_body_and_idempotency_key() {
        let none = HeaderMap::new();
        assert_eq!(Replay::of(&Method::GET, &none, true), Replay::Always);
        assert_eq!(Replay::of(&Method::HEAD, &none, true), Replay::Always);
        assert_eq!(Replay::of(&Method::POST, &none, true), Replay::IfUnwritten);
        assert_eq!(Replay::of(&Method::PUT, &none, true), Replay::IfUnwritten);
        assert_eq!(Replay::of(&Method::GET, &none, false), Replay::Never);
        let mut keyed = HeaderMap::new();
        keyed.insert("idempotency-key", "abc".parse().unwrap());
        assert_eq!(Replay::of(&Method::POST, &keyed, true), Replay::Always);
        assert_eq!(Replay::of(&Method::POST, &keyed, false), Replay::Never);
    }
}
