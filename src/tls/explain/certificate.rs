//! The verifier's refusals explained: which certificate, which check, and the fix.

use super::facts::{facts, format_time, host_of, spells_ip_as_dns_name, Facts};
use super::CertificateProblem;
use crate::error::CertificateErrorKind;
use crate::tls::crl::{self, Revocation};
use crate::tls::pin::Pin;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::{CertRevocationListError, CertificateError};
/// Explains a failed chain, revocation or name check; `roots_label` names what we trusted,
/// `crls` are the revocation lists given with `add_crl()`.
pub(crate) fn certificate(
    cause: &CertificateError,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    now: UnixTime,
    roots_label: &str,
    crls: &[CertificateRevocationListDer<'_>],
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
            let self_signed =
                intermediates.is_empty() && leaf.as_ref().is_some_and(|f| f.self_issued);
            if self_signed {
                (
                    CertificateErrorKind::SelfSigned,
                    format!(
                        "{who} is self-signed and is not among the trusted roots ({roots_label}); \
                         trust it with add_root_certificate() / ca_file() (--cacert), \
                         or give the server a certificate from a trusted CA"
                    ),
                )
            } else if let (Some(leaf), false) = (leaf.as_ref(), intermediates.is_empty()) {
                // The chain as sent: naming the top's issuer as the leaf's would send the
                // reader looking for the wrong CA.
                (
                    CertificateErrorKind::UnknownIssuer,
                    super::chain::unknown_issuer(&who, leaf, intermediates, roots_label),
                )
            } else {
                let issuer = leaf
                    .as_ref()
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
        CertificateError::ExpiredContext { not_after, .. } => {
            let date = format_time(not_after.as_secs());
            let culprit =
                intermediate_dated(leaf.as_ref(), intermediates, |f| f.not_after, not_after);
            let message = match culprit {
                Some(ca) => format!(
                    "{who} chains through an intermediate CA that has expired: {ca} expired \
                     on {date}; the local clock reads {now_text}. The server must send its \
                     CA's current intermediate certificate, or check this machine's clock"
                ),
                None => format!(
                    "{who} expired on {date}; the local clock reads {now_text}. Renew the \
                     server's certificate, or check this machine's clock"
                ),
            };
            (CertificateErrorKind::Expired, message)
        }
        CertificateError::Expired => (
            CertificateErrorKind::Expired,
            format!(
                "{who} has expired; the local clock reads {now_text}. Renew the server's \
                 certificate, or check this machine's clock"
            ),
        ),
        CertificateError::NotValidYetContext { not_before, .. } => {
            let date = format_time(not_before.as_secs());
            let culprit =
                intermediate_dated(leaf.as_ref(), intermediates, |f| f.not_before, not_before);
            let message = match culprit {
                Some(ca) => format!(
                    "{who} chains through an intermediate CA that is not valid until {date}: \
                     {ca}; the local clock reads {now_text}. Check this machine's clock, or \
                     the server's intermediate certificate"
                ),
                None => format!(
                    "{who} is not valid until {date}; the local clock reads {now_text}. \
                     Check this machine's clock, or the server's certificate dates"
                ),
            };
            (CertificateErrorKind::NotYetValid, message)
        }
        CertificateError::NotValidYet => (
            CertificateErrorKind::NotYetValid,
            format!(
                "{who} is not valid yet; the local clock reads {now_text}. Check this \
                 machine's clock, or the server's certificate dates"
            ),
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let names = leaf.as_ref().map(|f| f.names.clone()).unwrap_or_default();
            let detail = if spells_ip_as_dns_name(end_entity, server_name) {
                format!(
                    "its subjectAltName lists {host} as a DNS name, not as an IP address; \
                     a URL with an IP address needs an IP address entry (RFC 6125)"
                )
            } else if names.is_empty() && leaf.as_ref().is_some_and(|f| f.has_san) {
                "its subjectAltName lists no DNS name or IP address (only entries such as \
                 e-mail addresses or URIs, which don't name a server)"
                    .to_owned()
            } else if names.is_empty() {
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
        CertificateError::Revoked => {
            let chain = std::iter::once(end_entity).chain(intermediates);
            let message = match crl::find_revoked(chain, crls) {
                Some(revocation) => revoked(&host, &who, &revocation),
                None => format!(
                    "{who} is revoked: a CRL given with add_crl() lists a certificate of its \
                     chain. The server needs a new certificate; until it has one, don't \
                     trust it"
                ),
            };
            (CertificateErrorKind::Revoked, message)
        }
        CertificateError::BadSignature => (
            CertificateErrorKind::BadSignature,
            format!(
                "{who}: a signature in its chain does not verify (a certificate was altered, \
                 or was signed by another key than its issuer's). The server's chain is \
                 broken or forged"
            ),
        ),
        CertificateError::UnsupportedSignatureAlgorithmContext {
            signature_algorithm_id,
            ..
        } => {
            let algorithm = super::algorithm::name(signature_algorithm_id);
            let why = super::algorithm::weakness(&algorithm)
                .map(|why| format!(" ({why})"))
                .unwrap_or_default();
            (
                CertificateErrorKind::BadSignature,
                format!(
                    "{who}: a certificate of its chain is signed with {algorithm}, which is \
                     not accepted{why}. The server needs a chain signed with SHA-256 or \
                     better (RSA, ECDSA P-256/P-384 or Ed25519)"
                ),
            )
        }
        CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
            signature_algorithm_id,
            public_key_algorithm_id,
        } => (
            CertificateErrorKind::BadSignature,
            format!(
                "{who}: a signature in its chain is made with {}, which does not go with \
                 the signer's {} key. The server's chain is broken",
                super::algorithm::name(signature_algorithm_id),
                super::algorithm::name(public_key_algorithm_id)
            ),
        ),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => (
            CertificateErrorKind::InvalidPurpose,
            format!("{who} is not allowed for server authentication (extended key usage)"),
        ),
        CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
            Some(path) => path_building(path, &who, leaf.as_ref(), intermediates),
            None => (
                CertificateErrorKind::Other,
                format!("{who} failed verification: {}", other.0),
            ),
        },
        CertificateError::BadEncoding => (
            CertificateErrorKind::Other,
            format!(
                "{who}: a certificate of its chain is malformed (its DER encoding breaks the \
                 X.509 rules), so it can't be checked. The certificate must be re-issued"
            ),
        ),
        other => (
            CertificateErrorKind::Other,
            format!("{who} failed verification: {other:?}"),
        ),
    };
    CertificateProblem { kind, message }
}

/// The path-building failures rustls passes on as webpki's own errors (which print as
/// bare variant names, such as "NameConstraintViolation").
fn path_building(
    err: &webpki::Error,
    who: &str,
    leaf: Option<&Facts>,
    intermediates: &[CertificateDer<'_>],
) -> (CertificateErrorKind, String) {
    use webpki::Error as E;
    let sent = intermediates.len();
    match err {
        E::NameConstraintViolation => {
            let names = leaf
                .map(|f| f.names.join(", "))
                .filter(|names| !names.is_empty())
                .unwrap_or_else(|| "its names".to_owned());
            (
                CertificateErrorKind::NameConstraint,
                format!(
                    "{who} names {names}, which a CA of its chain may not certify: the CA's \
                     name constraints (the names it is permitted or excluded from vouching \
                     for) leave them out. The server needs a certificate from a CA allowed \
                     to issue for these names"
                ),
            )
        }
        E::MaximumPathBuildCallsExceeded
        | E::MaximumSignatureChecksExceeded
        | E::MaximumPathDepthExceeded => (
            CertificateErrorKind::UnknownIssuer,
            format!(
                "{who}: no chain to a trusted root could be built from the {sent} other \
                 certificates the server sent before the search reached its limit ({err:?}: \
                 at most 6 intermediates, 100 signature checks, 200,000 steps). A server \
                 should send its leaf and the few intermediates leading to a trusted root; \
                 this chain is broken or hostile"
            ),
        ),
        E::CaUsedAsEndEntity => (
            CertificateErrorKind::Other,
            format!(
                "{who} is a CA certificate (basicConstraints CA:TRUE), which can't be a \
                 server's own certificate even when it is trusted. Give the server a \
                 certificate without CA:TRUE, issued by that CA (`openssl req -x509` adds \
                 CA:TRUE unless given -addext basicConstraints=critical,CA:FALSE)"
            ),
        ),
        E::EndEntityUsedAsCa => {
            let signer = intermediates
                .iter()
                .filter_map(facts)
                .find(|f| !f.is_ca)
                .map_or_else(|| "a certificate of its chain".to_owned(), |f| f.subject);
            (
                CertificateErrorKind::Other,
                format!(
                    "{who} is signed by {signer}, which is not a CA certificate (no \
                     basicConstraints CA:TRUE) and so can't issue certificates. The server \
                     needs a certificate issued by a CA"
                ),
            )
        }
        E::UnsupportedCriticalExtension => (
            CertificateErrorKind::Other,
            format!(
                "{who}: a certificate of its chain has an extension marked critical that the \
                 verifier does not know, and RFC 5280 says to refuse such a certificate. \
                 The CA must issue it without that extension, or not mark it critical"
            ),
        ),
        E::PathLenConstraintViolated => (
            CertificateErrorKind::Other,
            format!(
                "{who}: its chain has more intermediate CAs below one of them than that CA's \
                 pathLenConstraint allows. The server must use a chain its CA permits"
            ),
        ),
        other => (
            CertificateErrorKind::Other,
            format!("{who} failed verification: {other:?}"),
        ),
    }
}

/// The subject of the intermediate whose validity bound (`bound` of its facts) is `date`:
/// webpki checks every certificate's dates and reports only the failing date, so this is
/// how an expired intermediate is told from an expired leaf. `None` when the leaf has that
/// date too: webpki checks the leaf first, so it is the leaf's.
fn intermediate_dated(
    leaf: Option<&Facts>,
    intermediates: &[CertificateDer<'_>],
    bound: impl Fn(&Facts) -> i64,
    date: &UnixTime,
) -> Option<String> {
    let secs = i64::try_from(date.as_secs()).ok()?;
    if leaf.is_some_and(|f| bound(f) == secs) {
        return None;
    }
    intermediates
        .iter()
        .filter_map(facts)
        .find(|f| bound(f) == secs)
        .map(|f| f.subject)
}

/// Names the revoked certificate (the leaf, or an intermediate of its chain), its serial,
/// who revoked it and when. `who` is "certificate for host (subject)".
fn revoked(host: &str, who: &str, r: &Revocation) -> String {
    let when = u64::try_from(r.revoked_at).map_or_else(|_| "before 1970".to_owned(), format_time);
    let reason = r
        .reason
        .as_ref()
        .map(|reason| format!(", reason {reason}"))
        .unwrap_or_default();
    let by = format!(
        "was revoked by {} on {when}{reason}, according to a CRL given with add_crl()",
        r.issuer
    );
    if r.position == 0 {
        format!(
            "certificate for {host} ({}, serial {}) {by}. The server must replace its \
             certificate (a revoked certificate's key may be in other hands); until it \
             does, don't trust it",
            r.subject, r.serial
        )
    } else {
        format!(
            "{who} chains through a revoked intermediate CA: {} (serial {}) {by}. The \
             server must get a certificate from a CA that is not revoked",
            r.subject, r.serial
        )
    }
}

/// The server's certificate passed verification (or verification is off) but its public
/// key is none of those pinned for the host.
pub(crate) fn pin_mismatch(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    actual: Option<Pin>,
    expected: &[Pin],
) -> CertificateProblem {
    let host = host_of(server_name);
    let subject = facts(end_entity)
        .map(|f| f.subject)
        .unwrap_or_else(|| "unparsable".to_owned());
    let actual = actual.map_or_else(|| "that can't be read".to_owned(), |pin| pin.to_string());
    let expected: Vec<String> = expected.iter().map(Pin::to_string).collect();
    CertificateProblem {
        kind: CertificateErrorKind::PinMismatch,
        message: format!(
            "certificate for {host} ({subject}) has public key {actual}, which is not among \
             the pins set for {host} with pin_sha256(): {}. If the server's key was changed \
             on purpose, add its new pin; if nobody knows why it changed, this connection \
             may be intercepted",
            expected.join(", ")
        ),
    }
}

/// A CRL given with `add_crl()` that names an issuer of the chain could not be used to
/// check it: its signature doesn't verify with that issuer's key, or the issuer may not
/// sign CRLs. The certificate is refused rather than assumed to be good.
pub(crate) fn unusable_crl(
    cause: &CertRevocationListError,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    crls: &[CertificateRevocationListDer<'_>],
) -> CertificateProblem {
    let host = host_of(server_name);
    let subject = facts(end_entity)
        .map(|f| f.subject)
        .unwrap_or_else(|| "unparsable".to_owned());
    let chain = std::iter::once(end_entity).chain(intermediates);
    let issuers = crl::issuers_with_crls(chain, crls);
    let from = if issuers.is_empty() {
        "an issuer of its chain".to_owned()
    } else {
        issuers.join(" or ")
    };
    let why = match cause {
        CertRevocationListError::BadSignature => {
            "its signature does not verify with the issuer's key (a CRL from another CA of \
             the same name, or an altered file?)"
                .to_owned()
        }
        CertRevocationListError::IssuerInvalidForCrl => {
            "the issuer's certificate does not allow it to sign CRLs (its key usage lacks \
             cRLSign)"
                .to_owned()
        }
        other => format!("{other:?}"),
    };
    CertificateProblem {
        kind: CertificateErrorKind::Other,
        message: format!(
            "could not check whether the certificate for {host} ({subject}) is revoked: the \
             CRL from {from} given with add_crl() can't be used: {why}. Get that issuer's \
             current CRL, or stop passing this one"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            &[],
        );
        assert_eq!(p.kind, CertificateErrorKind::UnknownIssuer);
        assert!(p.message.contains("example.com"));
    }

    #[test]
    fn a_subject_alt_name_without_server_names_is_told_from_none() {
        let mut params = rcgen::CertificateParams::default();
        params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
            "ops@example.com".try_into().unwrap(),
        )];
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let p = certificate(
            &CertificateError::NotValidForName,
            cert.der(),
            &[],
            &ServerName::try_from("example.com").unwrap(),
            UnixTime::now(),
            "system roots",
            &[],
        );
        assert_eq!(p.kind, CertificateErrorKind::NameMismatch);
        assert!(
            p.message.contains("lists no DNS name or IP address"),
            "{}",
            p.message
        );
    }

    #[test]
    fn an_unsupported_signature_algorithm_is_named() {
        // What rustls reports for a chain signed with sha1WithRSAEncryption.
        let sha1_rsa = vec![
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
        ];
        let p = certificate(
            &CertificateError::UnsupportedSignatureAlgorithmContext {
                signature_algorithm_id: sha1_rsa,
                supported_algorithms: Vec::new(),
            },
            &CertificateDer::from(vec![1, 2, 3]),
            &[],
            &ServerName::try_from("example.com").unwrap(),
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(0)),
            "system roots",
            &[],
        );
        println!("{}", p.message);
        assert_eq!(p.kind, CertificateErrorKind::BadSignature);
        for part in [
            "example.com",
            "sha1WithRSAEncryption",
            "SHA-1",
            "SHA-256 or better",
        ] {
            assert!(p.message.contains(part), "{part}: {}", p.message);
        }
        assert!(!p.message.contains("[6, 9"), "{}", p.message);
    }
}
