//! U5: the PEM and DER loaders for certificates, client identities and CRLs, on any
//! bytes: an error or a value, never a panic. For `Identity::from_pem_parts` the input is
//! split at the first field separator into the certificate and the key.

use wireline::{Certificate, CertificateRevocationList, Identity};

/// The property, for one input.
pub fn check(data: &[u8]) {
    // Debug reads the parsed certificates back (subjects, issuers): run it too.
    if let Ok(cert) = Certificate::from_pem(data) {
        let _ = format!("{cert:?}");
        // rustls and webpki read the certificate again, as a trust anchor, when the client
        // is built: alone, so the system's roots aren't parsed again for every input.
        let _ = wireline::Client::builder().tls_certs_only([cert]).build();
    }
    let _ = Certificate::from_pem_bundle(data);
    if let Ok(cert) = Certificate::from_der(data) {
        let _ = format!("{cert:?}");
    }
    if let Ok(identity) = Identity::from_pem(data) {
        let _ = format!("{identity:?}");
    }
    let parts = super::fields(data);
    let (cert, key) = match parts.as_slice() {
        [cert, key, ..] => (*cert, *key),
        _ => (data, data),
    };
    if let Ok(identity) = Identity::from_pem_parts(cert, key) {
        // build() hands the key to rustls, which must refuse a bad one with an error.
        let _ = wireline::Client::builder().identity(identity).build();
    }
    if let Ok(crl) = CertificateRevocationList::from_pem(data) {
        let _ = format!("{crl:?}");
        let _ = wireline::Client::builder().add_crl(crl).build();
    }
    let _ = CertificateRevocationList::from_pem_bundle(data);
    if let Ok(crl) = CertificateRevocationList::from_der(data) {
        let _ = format!("{crl:?}");
    }
}
