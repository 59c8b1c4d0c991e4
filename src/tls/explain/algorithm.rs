//! Signature algorithms by name: rustls reports an unsupported one as the raw bytes of its
//! DER AlgorithmIdentifier, and nobody reads "[6, 9, 42, 134, …]" as "SHA-1".

use x509_parser::der_parser::der::parse_der_oid;
use x509_parser::oid_registry::{format_oid, OidRegistry};

/// "sha1WithRSAEncryption (1.2.840.113549.1.1.5)" for the contents of a DER
/// AlgorithmIdentifier (its OID, then any parameters), or the OID alone when the registry
/// has no name for it.
pub(super) fn name(algorithm_identifier: &[u8]) -> String {
    match parse_der_oid(algorithm_identifier)
        .ok()
        .and_then(|(_, object)| object.as_oid().ok().cloned())
    {
        Some(oid) => format_oid(&oid, &OidRegistry::default().with_crypto()),
        None => "an algorithm that could not be read".to_owned(),
    }
}

/// Why such an algorithm is refused, when it is one of the broken ones.
pub(super) fn weakness(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.contains("md5") || lower.contains("md2") {
        Some("MD5 signatures can be forged")
    } else if lower.contains("sha1") {
        Some("SHA-1 signatures can be forged, and CAs stopped issuing them in 2016")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_algorithms_from_their_der() {
        // sha1WithRSAEncryption with NULL parameters, as in a certificate.
        let sha1_rsa = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
        ];
        let named = name(&sha1_rsa);
        assert_eq!(named, "sha1WithRSAEncryption (1.2.840.113549.1.1.5)");
        assert!(weakness(&named).unwrap().contains("SHA-1"));
        // ecdsa-with-SHA256: named, and not weak.
        let ecdsa_sha256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
        let named = name(&ecdsa_sha256);
        assert!(named.starts_with("ecdsa-with-SHA256"), "{named}");
        assert_eq!(weakness(&named), None);
        // An OID the registry lacks shows as digits; garbage says so.
        assert_eq!(name(&[0x06, 0x03, 0x2a, 0x03, 0x04]), "1.2.3.4");
        assert_eq!(name(&[0xff, 0x00]), "an algorithm that could not be read");
    }
}
