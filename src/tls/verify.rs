//! Certificate verifiers: the normal one wrapped so failures carry an explanation (and,
//! if asked, so a wrong host name passes), the no-verification one that still checks
//! handshake signatures, and the pin check that goes around either.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::tls::explain::{self, CertificateProblem};
use crate::tls::pin::{self, PinSet};

/// webpki's verifier (or the platform's), plus context on failure: rustls reports only
/// "UnknownIssuer" or "Expired", so we attach the host, the certificate's names and dates
/// and a fix, while we still hold the certificate.
#[derive(Debug)]
pub(crate) struct ExplainingVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    /// Names the trusted roots in messages: "system roots", "CA file ca.pem"…
    roots_label: Arc<str>,
    /// `danger_accept_invalid_hostnames(true)`: a certificate that is valid in every way
    /// but its names passes.
    names: NameCheck,
    /// The CRLs `inner` checks against, kept to name the revoked certificate.
    crls: Arc<[CertificateRevocationListDer<'static>]>,
}

/// Whether the certificate must be valid for the host in the URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameCheck {
    Required,
    Skipped,
}

impl ExplainingVerifier {
    pub(crate) fn new(
        inner: Arc<dyn ServerCertVerifier>,
        roots_label: Arc<str>,
        names: NameCheck,
        crls: Arc<[CertificateRevocationListDer<'static>]>,
    ) -> Self {
        ExplainingVerifier {
            inner,
            roots_label,
            names,
            crls,
        }
    }
}

impl ServerCertVerifier for ExplainingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        // webpki checks the name last, after the chain, the dates and revocation, so a
        // name error means everything else passed.
        let verified = match verified {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.names == NameCheck::Skipped => Ok(ServerCertVerified::assertion()),
            other => other,
        };
        verified.map_err(|err| match err {
            rustls::Error::InvalidCertificate(cause) => refused(explain::certificate(
                &cause,
                end_entity,
                intermediates,
                server_name,
                now,
                &self.roots_label,
                &self.crls,
            )),
            rustls::Error::InvalidCertRevocationList(cause) => refused(explain::unusable_crl(
                &cause,
                end_entity,
                intermediates,
                server_name,
                &self.crls,
            )),
            other => other,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `danger_accept_invalid_certs(true)`: any chain, any name, any date. The handshake
/// signatures are still verified with the provider's algorithms, so the peer must hold the
/// private key of the certificate it shows (reqwest's and ureq's no-verify modes skip this).
#[derive(Debug)]
pub(crate) struct AcceptInvalidCertificates {
    algorithms: WebPkiSupportedAlgorithms,
}

impl AcceptInvalidCertificates {
    pub(crate) fn new(provider: &CryptoProvider) -> Self {
        AcceptInvalidCertificates {
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for AcceptInvalidCertificates {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Checks the server's certificate against the host's pins after `inner` has accepted it,
/// so a pin narrows what verification accepts and never replaces it. It also wraps the
/// no-verification verifier: a pin then is the only check, as with curl's `-k --pinnedpubkey`.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    pins: PinSet,
}

impl PinnedVerifier {
    pub(crate) fn new(inner: Arc<dyn ServerCertVerifier>, pins: PinSet) -> Self {
        PinnedVerifier { inner, pins }
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let Some(expected) = self.pins.for_server(server_name) else {
            return Ok(verified);
        };
        let actual = pin::of_certificate(end_entity);
        if actual.is_some_and(|actual| expected.contains(&actual)) {
            return Ok(verified);
        }
        Err(refused(explain::pin_mismatch(
            end_entity,
            server_name,
            actual,
            expected,
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// An explained refusal, in the shape rustls carries out of a verifier.
fn refused(problem: CertificateProblem) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(problem))))
}
