//! `CertificateRevocationList`: CRLs the user hands us, parsed from PEM or DER, and the
//! lookup that names which certificate of a rejected chain one of them lists.

use std::fmt;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use x509_parser::revocation_list::CertificateRevocationList as ParsedCrl;

use crate::error::{Error, Result};

/// A certificate revocation list (CRL): the serial numbers of the certificates an issuer
/// has revoked, signed by that issuer. Give it to
/// [`ClientBuilder::add_crl`](crate::ClientBuilder::add_crl) so that a server whose chain
/// includes one of them is refused with
/// [`CertificateErrorKind::Revoked`](crate::CertificateErrorKind::Revoked).
///
/// Parsing checks that the input is a well-formed X.509 CRL; its signature is checked
/// against the issuer's certificate during each handshake.
///
/// ```
/// # fn run(pem: &[u8]) -> wireline::Result<()> {
/// let crl = wireline::CertificateRevocationList::from_pem(pem)?;
/// let client = wireline::Client::builder().add_crl(crl).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CertificateRevocationList {
    der: CertificateRevocationListDer<'static>,
}

impl CertificateRevocationList {
    /// Parses one PEM CRL (an `X509 CRL` block). Fails when there is none, when a block is
    /// not a valid CRL, or when there are several (use
    /// [`from_pem_bundle`](Self::from_pem_bundle) for those).
    ///
    /// ```
    /// let err = wireline::CertificateRevocationList::from_pem(b"not a CRL").unwrap_err();
    /// assert!(err.is_builder());
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<CertificateRevocationList> {
        let mut crls = Self::from_pem_bundle(pem)?;
        if crls.len() > 1 {
            return Err(Error::builder(format!(
                "PEM input: {} CRLs found where one was expected; use \
                 CertificateRevocationList::from_pem_bundle to read them all",
                crls.len()
            )));
        }
        Ok(crls.remove(0))
    }

    /// Parses every `X509 CRL` block of a PEM bundle, one `CertificateRevocationList` per
    /// block, like reqwest's `from_pem_bundle`. Fails when there is none or one is invalid.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let pem = std::fs::read("/etc/my-company/crls.pem").expect("the CRL file");
    /// let crls = wireline::CertificateRevocationList::from_pem_bundle(&pem)?;
    /// let client = wireline::Client::builder().add_crls(crls).build()?;
    /// # Ok(()) }
    /// ```
    pub fn from_pem_bundle(pem: &[u8]) -> Result<Vec<CertificateRevocationList>> {
        let mut crls = Vec::new();
        for (index, item) in CertificateRevocationListDer::pem_slice_iter(pem).enumerate() {
            let der = item.map_err(|e| {
                Error::builder(format!(
                    "PEM input: CRL #{} is not valid PEM: {e}",
                    index + 1
                ))
            })?;
            check_crl(&der, "PEM input", index)?;
            crls.push(CertificateRevocationList { der });
        }
        if crls.is_empty() {
            return Err(Error::builder(
                "PEM input: no CRL found (expected one or more \"-----BEGIN X509 CRL-----\" blocks)",
            ));
        }
        Ok(crls)
    }

    /// Parses one DER-encoded CRL, the form CAs publish at their CRL distribution points.
    ///
    /// ```
    /// assert!(wireline::CertificateRevocationList::from_der(&[0x30, 0x00]).is_err());
    /// ```
    pub fn from_der(der: &[u8]) -> Result<CertificateRevocationList> {
        let der = CertificateRevocationListDer::from(der.to_vec());
        check_crl(&der, "DER input", 0)?;
        Ok(CertificateRevocationList { der })
    }

    pub(crate) fn into_der(self) -> CertificateRevocationListDer<'static> {
        self.der
    }
}

impl fmt::Debug for CertificateRevocationList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("CertificateRevocationList");
        if let Ok((_, crl)) = x509_parser::parse_x509_crl(&self.der) {
            d.field("issuer", &crl.issuer().to_string())
                .field("revoked", &crl.iter_revoked_certificates().count());
        }
        d.finish()
    }
}

fn check_crl(der: &CertificateRevocationListDer<'_>, origin: &str, index: usize) -> Result<()> {
    match x509_parser::parse_x509_crl(der) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::builder(format!(
            "{origin}: CRL #{} is not a valid X.509 CRL: {e}",
            index + 1
        ))),
    }
}

/// A certificate of a presented chain that a CRL lists, with what a person needs to know.
#[derive(Debug)]
pub(crate) struct Revocation {
    /// 0 for the server's own certificate, 1 and up for the intermediates after it.
    pub(crate) position: usize,
    pub(crate) subject: String,
    /// Colon-separated hex, as openssl prints serial numbers.
    pub(crate) serial: String,
    pub(crate) issuer: String,
    /// Seconds since 1970.
    pub(crate) revoked_at: i64,
    /// The CRL entry's reason code, e.g. "KeyCompromise".
    pub(crate) reason: Option<String>,
}

/// The first certificate of `chain` (leaf first) that one of `crls` revokes: a CRL applies
/// to a certificate when the CRL's issuer is the certificate's issuer, and lists its serial.
/// webpki has already checked the CRL's signature; this only finds what to name.
pub(crate) fn find_revoked<'a>(
    chain: impl IntoIterator<Item = &'a CertificateDer<'a>>,
    crls: &[CertificateRevocationListDer<'_>],
) -> Option<Revocation> {
    let parsed: Vec<ParsedCrl<'_>> = crls
        .iter()
        .filter_map(|der| x509_parser::parse_x509_crl(der).ok().map(|(_, crl)| crl))
        .collect();
    chain.into_iter().enumerate().find_map(|(position, der)| {
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        parsed
            .iter()
            .filter(|crl| crl.issuer().as_raw() == cert.issuer().as_raw())
            .flat_map(|crl| crl.iter_revoked_certificates())
            .find(|entry| entry.raw_serial() == cert.raw_serial())
            .map(|entry| Revocation {
                position,
                subject: cert.subject().to_string(),
                serial: cert.raw_serial_as_string(),
                issuer: cert.issuer().to_string(),
                revoked_at: entry.revocation_date.timestamp(),
                reason: entry.reason_code().map(|(_, code)| code.to_string()),
            })
    })
}

/// The issuers of `chain` (leaf first) that some of `crls` claim to come from: when a
/// CRL can't be used, one of these is the culprit.
pub(crate) fn issuers_with_crls<'a>(
    chain: impl IntoIterator<Item = &'a CertificateDer<'a>>,
    crls: &[CertificateRevocationListDer<'_>],
) -> Vec<String> {
    let crl_issuers: Vec<Vec<u8>> = crls
        .iter()
        .filter_map(|der| x509_parser::parse_x509_crl(der).ok())
        .map(|(_, crl)| crl.issuer().as_raw().to_vec())
        .collect();
    let mut names = Vec::new();
    for der in chain {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            continue;
        };
        let name = cert.issuer().to_string();
        if crl_issuers.iter().any(|raw| raw == cert.issuer().as_raw()) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}
