//! `Certificate`: trust anchors the user hands us, parsed from PEM or DER.

use std::fmt;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::{Error, Result};

/// One or more X.509 certificates to trust as roots, for
/// [`ClientBuilder::add_root_certificate`](crate::ClientBuilder::add_root_certificate).
///
/// ```
/// # fn run(pem: &[u8]) -> wireline::Result<()> {
/// let ca = wireline::Certificate::from_pem(pem)?;
/// let client = wireline::Client::builder().add_root_certificate(ca).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Certificate {
    ders: Vec<CertificateDer<'static>>,
}

impl Certificate {
    /// Parses one PEM certificate or a bundle of them (every `CERTIFICATE` block is kept).
    ///
    /// Fails when there is no certificate block, or a block is not a valid X.509 certificate.
    ///
    /// ```
    /// assert!(wireline::Certificate::from_pem(b"not a certificate").is_err());
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<Certificate> {
        let ders = parse_pem_bundle(pem, "PEM input")?;
        Ok(Certificate { ders })
    }

    /// Parses a PEM bundle into one `Certificate` per block, like reqwest's `from_pem_bundle`.
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<Certificate>> {
        let ders = parse_pem_bundle(pem, "PEM input")?;
        Ok(ders
            .into_iter()
            .map(|der| Certificate { ders: vec![der] })
            .collect())
    }

    /// Parses one DER-encoded certificate.
    ///
    /// ```
    /// assert!(wireline::Certificate::from_der(&[0x30, 0x03, 0x01, 0x01, 0xff]).is_err());
    /// ```
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        let der = CertificateDer::from(der.to_vec());
        check_x509(&der, "DER input", 0)?;
        Ok(Certificate { ders: vec![der] })
    }

    pub(crate) fn into_ders(self) -> Vec<CertificateDer<'static>> {
        self.ders
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<String> = self
            .ders
            .iter()
            .map(|der| crate::tls::explain::subject_of(der))
            .collect();
        f.debug_struct("Certificate")
            .field("subjects", &subjects)
            .finish()
    }
}

/// Every CERTIFICATE block of `pem`, each checked to be X.509; `origin` names the input in
/// errors (a file path, or "PEM input").
pub(crate) fn parse_pem_bundle(pem: &[u8], origin: &str) -> Result<Vec<CertificateDer<'static>>> {
    let mut ders = Vec::new();
    for (index, item) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let der = item.map_err(|e| {
            Error::builder(format!(
                "{origin}: certificate #{} is not valid PEM: {e}",
                index + 1
            ))
        })?;
        check_x509(&der, origin, index)?;
        ders.push(der);
    }
    if ders.is_empty() {
        return Err(Error::builder(format!(
            "{origin}: no certificate found (expected one or more \"-----BEGIN CERTIFICATE-----\" blocks){}",
            why_no_certificate(pem)
        )));
    }
    Ok(ders)
}

/// A hint for input without a CERTIFICATE block, for the two mistakes people make: a
/// binary (DER) certificate where PEM was expected, and the key file for the certificate.
fn why_no_certificate(input: &[u8]) -> &'static str {
    if x509_parser::parse_x509_certificate(input).is_ok() {
        "; this is a binary (DER) certificate: use Certificate::from_der, or convert it \
         with `openssl x509 -inform der -in cert.der -out cert.pem`"
    } else if input.windows(16).any(|w| w == b"PRIVATE KEY-----") {
        "; it holds a private key: a CA file holds certificates only"
    } else {
        ""
    }
}

/// Whether `der` is an X.509 certificate. webpki reads it first: rustls reads each root
/// so anyway, and a good certificate then runs no second parser (x509-parser's code is
/// large, and is otherwise only loaded on error paths). x509-parser says what is wrong,
/// and still accepts what webpki can't take as a root (rustls ignores those later).
fn check_x509(der: &CertificateDer<'_>, origin: &str, index: usize) -> Result<()> {
    if webpki::anchor_from_trusted_cert(der).is_ok() {
        return Ok(());
    }
    match x509_parser::parse_x509_certificate(der) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::builder(format!(
            "{origin}: certificate #{} is not a valid X.509 certificate: {e}",
            index + 1
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_of_new_certificate() -> Vec<u8> {
        let cert = rcgen::generate_simple_self_signed(vec!["root.test".to_owned()]).unwrap();
        cert.cert.der().to_vec()
    }

    #[test]
    fn a_good_certificate_passes_and_a_cut_one_is_explained() {
        let der = der_of_new_certificate();
        assert!(Certificate::from_der(&der).is_ok());
        // Cut short: webpki refuses it, and x509-parser's reason is what the error gives.
        let cut = &der[..der.len() - 20];
        let err = Certificate::from_der(cut).unwrap_err().to_string();
        assert!(
            err.contains("DER input: certificate #1 is not a valid X.509 certificate: "),
            "{err}"
        );
        let reason = x509_parser::parse_x509_certificate(cut)
            .unwrap_err()
            .to_string();
        assert!(err.ends_with(&reason), "{err} / {reason}");
    }
}
