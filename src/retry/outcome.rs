//! Whether a failed attempt may be retried, by how far it got and whether the request is
//! safe to send twice.

use http::header::HeaderMap;
use http::Method;

use super::Policy;
use crate::attempt::Progress;
use crate::error::ErrorKind;

/// Whether the request may be sent again once the server may have seen it: an idempotent
/// method (RFC 9110 §9.2.2), an `Idempotency-Key` header, or a policy that says so.
pub(crate) fn idempotent(policy: &Policy, method: &Method, headers: &HeaderMap) -> bool {
    policy.non_idempotent
        || matches!(
            *method,
            Method::GET
                | Method::HEAD
                | Method::OPTIONS
                | Method::TRACE
                | Method::PUT
                | Method::DELETE
        )
        || crate::attempt::has_idempotency_key(headers)
}

/// A failed attempt: retried when the failure is one that may pass (the connection, not
/// the TLS settings or the request) and nothing of the response had arrived; once the
/// request may have reached the server, only if it may be repeated.
pub(crate) fn error_retryable(kind: ErrorKind, progress: Progress, idempotent: bool) -> bool {
    let transient = matches!(
        kind,
        ErrorKind::Connect | ErrorKind::Dns | ErrorKind::Timeout | ErrorKind::Request
    );
    transient
        && match progress {
            Progress::Connecting | Progress::Unwritten => true,
            Progress::Sent => idempotent,
            Progress::Answering | Progress::Other => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CertificateErrorKind, TlsErrorKind};

    #[test]
    fn idempotent_methods_keys_and_the_override() {
        let policy = Policy::default();
        let none = HeaderMap::new();
        for method in ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert!(idempotent(&policy, &method, &none), "{method}");
        }
        for method in ["POST", "PATCH", "CONNECT", "PROPFIND"] {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            assert!(!idempotent(&policy, &method, &none), "{method}");
        }
        for key in ["idempotency-key", "x-idempotency-key"] {
            let mut keyed = HeaderMap::new();
            keyed.insert(key, "order-17".parse().unwrap());
            assert!(idempotent(&policy, &Method::POST, &keyed), "{key}");
        }
        let anything = Policy::default().retry_non_idempotent(true);
        assert!(idempotent(&anything, &Method::POST, &none));
    }

    #[test]
    fn a_request_that_never_left_is_retried_whatever_its_method() {
        for kind in [ErrorKind::Connect, ErrorKind::Dns, ErrorKind::Timeout] {
            assert!(
                error_retryable(kind, Progress::Connecting, false),
                "{kind:?}"
            );
        }
        assert!(error_retryable(
            ErrorKind::Request,
            Progress::Unwritten,
            false
        ));
    }

    #[test]
    fn a_request_the_server_may_have_seen_only_when_repeatable() {
        for kind in [ErrorKind::Request, ErrorKind::Timeout] {
            assert!(error_retryable(kind, Progress::Sent, true), "{kind:?}");
            assert!(!error_retryable(kind, Progress::Sent, false), "{kind:?}");
        }
    }

    #[test]
    fn never_once_the_response_began_nor_for_lasting_failures() {
        assert!(!error_retryable(
            ErrorKind::Request,
            Progress::Answering,
            true
        ));
        assert!(!error_retryable(ErrorKind::Builder, Progress::Other, true));
        for lasting in [
            ErrorKind::Tls(TlsErrorKind::ProtocolVersion),
            ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
            ErrorKind::Certificate(CertificateErrorKind::Expired),
            ErrorKind::Builder,
            ErrorKind::InvalidUrl,
            ErrorKind::Redirect,
            ErrorKind::Body,
            ErrorKind::Decode,
            // The client's own congestion: a retry would only wait in the queue again.
            ErrorKind::PoolTimeout,
        ] {
            assert!(
                !error_retryable(lasting, Progress::Connecting, true),
                "{lasting:?}"
            );
        }
    }
}
