//! rustls errors → messages naming the host, the certificate, the failed check and the fix.
//!
//! `certificate` explains what the verifier refused; this file carries those explanations
//! to [`crate::Error`] and explains the handshake failures rustls reports by itself.

mod algorithm;
mod certificate;
mod chain;
mod facts;

use std::error::Error as StdError;
use std::fmt;

use rustls::{AlertDescription, CertificateError, InvalidMessage, PeerIncompatible};

use crate::error::{CertificateErrorKind, ErrorKind, TlsErrorKind};
use crate::tls::VersionRange;

pub(crate) use certificate::{certificate, pin_mismatch, unusable_crl};
pub(crate) use facts::subject_of;

/// A certificate verification failure, explained. Travels inside rustls' error (as
/// `CertificateError::Other`) from the verifier to [`crate::Error`].
#[derive(Debug, Clone)]
pub(crate) struct CertificateProblem {
    pub(crate) kind: CertificateErrorKind,
    pub(crate) message: String,
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for CertificateProblem {}

/// A TLS failure other than the certificate, explained.
#[derive(Debug, Clone)]
pub(crate) struct TlsProblem {
    pub(crate) kind: TlsErrorKind,
    pub(crate) message: String,
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TlsProblem {}

/// Explains a rustls error seen for `host`. `versions` is known when the error comes
/// from our connector, so a version mismatch can name the configured range.
pub(crate) fn rustls_error(
    err: &rustls::Error,
    host: &str,
    versions: Option<VersionRange>,
) -> (ErrorKind, String) {
    let capped = versions.is_some_and(|v| v.max.is_some());
    let minimum = versions.map(VersionRange::describe).unwrap_or_else(|| {
        "check the versions allowed (min_tls_version(), or those of a preconfigured \
             rustls ClientConfig)"
            .to_owned()
    });
    // With a maximum set, the server may be too new rather than too old.
    let (refused_why, offered_why) = if capped {
        (
            "the server speaks none of the versions we allow",
            "outside the versions we allow",
        )
    } else {
        (
            "the server's highest version is below our minimum",
            "below our minimum",
        )
    };
    let tls = |kind: TlsErrorKind, message: String| (ErrorKind::Tls(kind), message);
    match err {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            if let Some(problem) = other.0.downcast_ref::<CertificateProblem>() {
                return (
                    ErrorKind::Certificate(problem.kind),
                    problem.message.clone(),
                );
            }
            (
                ErrorKind::Certificate(CertificateErrorKind::Other),
                format!("certificate for {host} failed verification: {}", other.0),
            )
        }
        // Not from our verifiers, which explain what they refuse: a preconfigured
        // ClientConfig's. The kind still says which check failed.
        rustls::Error::InvalidCertificate(cause) => (
            ErrorKind::Certificate(kind_of(cause)),
            format!(
                "certificate for {host} failed verification: {cause:?} (reported by the \
                 verifier of the rustls ClientConfig given to use_preconfigured_tls)"
            ),
        ),
        rustls::Error::AlertReceived(AlertDescription::ProtocolVersion) => tls(
            TlsErrorKind::ProtocolVersion,
            format!(
                "{host} refused every TLS version we offered (it sent a protocol_version \
                 alert): {refused_why}; {minimum}"
            ),
        ),
        rustls::Error::PeerIncompatible(
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled
            | PeerIncompatible::SupportedVersionsExtensionRequired,
        ) => tls(
            TlsErrorKind::ProtocolVersion,
            format!(
                "{host} offered a TLS version {offered_why} ({err}); {minimum}. \
                 TLS 1.0 and 1.1 are never accepted"
            ),
        ),
        rustls::Error::AlertReceived(AlertDescription::HandshakeFailure)
        | rustls::Error::AlertReceived(AlertDescription::InsufficientSecurity) => tls(
            TlsErrorKind::NoSharedCipherSuite,
            format!(
                "{host} ended the handshake with a {} alert: it usually means the server \
                 shares no cipher suite, key exchange group or signature scheme with us \
                 (or wants a client certificate)",
                alert_name(err)
            ),
        ),
        rustls::Error::PeerIncompatible(incompatible) => tls(
            TlsErrorKind::NoSharedCipherSuite,
            format!("{host} has no TLS parameters in common with us: {incompatible:?}"),
        ),
        rustls::Error::AlertReceived(
            AlertDescription::CertificateRequired | AlertDescription::BadCertificate,
        )
        | rustls::Error::NoCertificatesPresented => tls(
            TlsErrorKind::ClientCertificateRequired,
            format!(
                "{host} requires a client certificate and rejected ours or our lack of one \
                 ({} alert); configure a client identity",
                alert_name(err)
            ),
        ),
        // We offer http/1.1 by ALPN unless the client has http2_prior_knowledge: then
        // this is a server that knows only HTTP/1.1.
        rustls::Error::AlertReceived(AlertDescription::NoApplicationProtocol) => tls(
            TlsErrorKind::AlertReceived,
            format!(
                "{host} ended the handshake with a NoApplicationProtocol alert: it speaks \
                 none of the protocols we offered by ALPN (only h2, with \
                 http2_prior_knowledge; without it, h2 and http/1.1)"
            ),
        ),
        rustls::Error::AlertReceived(alert) => tls(
            TlsErrorKind::AlertReceived,
            format!("{host} ended the TLS session with a {alert:?} alert"),
        ),
        rustls::Error::InvalidMessage(InvalidMessage::HandshakePayloadTooLarge) => tls(
            TlsErrorKind::Protocol,
            format!(
                "{host} sent a TLS handshake message over 64 KiB, more than rustls accepts \
                 (a certificate chain that long is broken or hostile)"
            ),
        ),
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::PeerMisbehaved(_) => tls(
            TlsErrorKind::Protocol,
            format!(
                "{host} did not speak TLS correctly ({err}); is it an HTTPS port? \
                 (a plain-HTTP server answers like this)"
            ),
        ),
        other => tls(
            TlsErrorKind::Other,
            format!("TLS with {host} failed: {other}"),
        ),
    }
}

/// Which check a bare rustls certificate error says failed.
fn kind_of(cause: &CertificateError) -> CertificateErrorKind {
    match cause {
        CertificateError::UnknownIssuer => CertificateErrorKind::UnknownIssuer,
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            CertificateErrorKind::Expired
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            CertificateErrorKind::NotYetValid
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateErrorKind::NameMismatch
        }
        CertificateError::Revoked => CertificateErrorKind::Revoked,
        CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            CertificateErrorKind::BadSignature
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            CertificateErrorKind::InvalidPurpose
        }
        _ => CertificateErrorKind::Other,
    }
}

fn alert_name(err: &rustls::Error) -> String {
    match err {
        rustls::Error::AlertReceived(alert) => format!("{alert:?}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_version_alert_names_the_minimum() {
        let err = rustls::Error::AlertReceived(AlertDescription::ProtocolVersion);
        let versions = VersionRange {
            min: crate::TlsVersion::TLS_1_3,
            max: None,
        };
        let (kind, message) = rustls_error(&err, "127.0.0.1", Some(versions));
        assert_eq!(kind, ErrorKind::Tls(TlsErrorKind::ProtocolVersion));
        assert!(message.contains("minimum configured with min_tls_version() is TLS 1.3"));
    }

    #[test]
    fn protocol_version_alert_names_a_capped_range() {
        let err = rustls::Error::AlertReceived(AlertDescription::ProtocolVersion);
        let versions = VersionRange {
            min: crate::TlsVersion::TLS_1_2,
            max: Some(crate::TlsVersion::TLS_1_2),
        };
        let (kind, message) = rustls_error(&err, "127.0.0.1", Some(versions));
        assert_eq!(kind, ErrorKind::Tls(TlsErrorKind::ProtocolVersion));
        assert!(message.contains("only TLS 1.2 is allowed"), "{message}");
        assert!(!message.contains("below our minimum"), "{message}");
    }
}
