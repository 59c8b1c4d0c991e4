//! rustls errors → messages naming the host, the certificate, the failed check and the fix.

use std::error::Error as StdError;
use std::fmt;

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError, PeerIncompatible};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

use crate::error::{CertificateErrorKind, ErrorKind, TlsErrorKind};
use crate::tls::VersionRange;

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

/// What a person needs to read off a certificate to understand a failure.
struct Facts {
    subject: String,
    issuer: String,
    self_issued: bool,
    names: Vec<String>,
}

fn facts(der: &CertificateDer<'_>) -> Option<Facts> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(Facts {
        subject: name_or_empty(&cert.subject().to_string()),
        issuer: name_or_empty(&cert.issuer().to_string()),
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        names: subject_alt_names(&cert),
    })
}

fn name_or_empty(name: &str) -> String {
    if name.is_empty() {
        "an empty subject".to_owned()
    } else {
        name.to_owned()
    }
}

fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            GeneralName::IPAddress(bytes) => ip_to_string(bytes),
            _ => None,
        })
        .collect()
}

fn ip_to_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

/// The subject of a certificate as "CN=…, O=…", for Debug output.
pub(crate) fn subject_of(der: &CertificateDer<'_>) -> String {
    facts(der)
        .map(|f| f.subject)
        .unwrap_or_else(|| "unparsable certificate".to_owned())
}

fn host_of(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => "the server".to_owned(),
    }
}

/// "2026-01-01 00:00:00 UTC".
fn format_time(seconds: u64) -> String {
    match i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
    {
        Some(t) => format!(
            "{} {:02}:{:02}:{:02} UTC",
            t.date(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{seconds} seconds after 1970"),
    }
}

/// Explains a failed chain or name check; `roots_label` names what we trusted.
pub(crate) fn certificate(
    cause: &CertificateError,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    now: UnixTime,
    roots_label: &str,
) -> CertificateProblem {
    let host = host_of(server_name);
    let leaf = facts(end_entity);
    let subject = leaf
        .as_ref()
        .map(|f| f.subject.clone())
        .unwrap_or_else(|| "unparsable".to_owned());
    let who = format!("certificate for {host} ({subject})");
    let now_text = format_time(now.as_secs());
    let (kind, message) = match cause {
        CertificateError::UnknownIssuer => {
            let top = intermediates.last().and_then(facts);
            let self_signed = intermediates.is_empty() && leaf.as_ref().is_some_and(|f| f.self_issued);
            if self_signed {
                (
                    CertificateErrorKind::SelfSigned,
                    format!(
                        "{who} is self-signed and is not among the trusted roots ({roots_label}); \
                         trust it with add_root_certificate() / ca_file() (--cacert), \
                         or give the server a certificate from a trusted CA"
                    ),
                )
            } else {
                let issuer = top
                    .as_ref()
                    .or(leaf.as_ref())
                    .map(|f| f.issuer.clone())
                    .unwrap_or_else(|| "an unknown issuer".to_owned());
                let chain_note = if intermediates.is_empty() {
                    format!(
                        " (The server sent no intermediate certificate: if {issuer} is an \
                         intermediate CA, the server's chain is incomplete.)"
                    )
                } else {
                    String::new()
                };
                (
                    CertificateErrorKind::UnknownIssuer,
                    format!(
                        "{who} is issued by {issuer}, which is not among the trusted roots \
                         ({roots_label}); pass that CA with ca_file() (--cacert) or \
                         add_root_certificate().{chain_note}"
                    ),
                )
            }
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            let when = match cause {
                CertificateError::ExpiredContext { not_after, .. } => {
                    format!("expired on {}", format_time(not_after.as_secs()))
                }
                _ => "has expired".to_owned(),
            };
            (
                CertificateErrorKind::Expired,
                format!(
                    "{who} {when}; the local clock reads {now_text}. Renew the server's \
                     certificate, or check this machine's clock"
                ),
            )
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            let when = match cause {
                CertificateError::NotValidYetContext { not_before, .. } => {
                    format!("is not valid until {}", format_time(not_before.as_secs()))
                }
                _ => "is not valid yet".to_owned(),
            };
            (
                CertificateErrorKind::NotYetValid,
                format!(
                    "{who} {when}; the local clock reads {now_text}. Check this machine's \
                     clock, or the server's certificate dates"
                ),
            )
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = leaf.as_ref().map(|f| f.names.clone()).unwrap_or_default();
            let detail = if names.is_empty() {
                "it has no subjectAltName at all (a name only in the CN is not accepted, \
                 per RFC 6125 and the CA/Browser Forum rules)"
                    .to_owned()
            } else {
                format!("it is valid only for {}", names.join(", "))
            };
            (
                CertificateErrorKind::NameMismatch,
                format!(
                    "the certificate presented by {host} ({subject}) is not valid for the \
                     name {host}: {detail}. Use a URL with one of the certificate's names, \
                     or fix the server's certificate"
                ),
            )
        }
        CertificateError::Revoked => (
            CertificateErrorKind::Revoked,
            format!("{who} has been revoked by its issuer"),
        ),
        CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => (
            CertificateErrorKind::BadSignature,
            format!("{who}: a signature in its chain is invalid or uses an unsupported algorithm ({cause:?})"),
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
            CertificateErrorKind::InvalidPurpose,
            format!("{who} is not allowed for server authentication (extended key usage)"),
        ),
        other => (
            CertificateErrorKind::Other,
            format!("{who} failed verification: {other:?}"),
        ),
    };
    CertificateProblem { kind, message }
}

/// Explains a rustls error seen for `host`. `versions` is known when the error comes
/// from our connector, so a version mismatch can name the configured range.
pub(crate) fn rustls_error(
    err: &rustls::Error,
    host: &str,
    versions: Option<VersionRange>,
) -> (ErrorKind, String) {
    let capped = versions.is_some_and(|v| v.max.is_some());
    let minimum = versions
        .map(VersionRange::describe)
        .unwrap_or_else(|| "check min_tls_version()".to_owned());
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
        rustls::Error::InvalidCertificate(cause) => (
            ErrorKind::Certificate(CertificateErrorKind::Other),
            format!("certificate for {host} failed verification: {cause:?}"),
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
        rustls::Error::AlertReceived(alert) => tls(
            TlsErrorKind::AlertReceived,
            format!("{host} ended the TLS session with a {alert:?} alert"),
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
    fn formats_dates_in_utc() {
        assert_eq!(format_time(1_767_225_600), "2026-01-01 00:00:00 UTC");
    }

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

    #[test]
    fn garbage_certificate_still_explains() {
        let der = CertificateDer::from(vec![1, 2, 3]);
        let name = ServerName::try_from("example.com").unwrap();
        let p = certificate(
            &CertificateError::UnknownIssuer,
            &der,
            &[],
            &name,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(0)),
            "system roots",
        );
        assert_eq!(p.kind, CertificateErrorKind::UnknownIssuer);
        assert!(p.message.contains("example.com"));
    }
}
