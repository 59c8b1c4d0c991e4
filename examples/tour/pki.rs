//! The tour's throwaway PKI, made with rcgen: a root, an intermediate, one server
//! certificate per thing that can be wrong with one, a CRL and the keys' pins.

use base64::Engine as _;
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
    CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PublicKeyData, RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate and key a server can present, with what it sends along.
pub(crate) struct ServerCert {
    /// The leaf first, then the intermediate unless the chain is meant to be incomplete.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    key: KeyPair,
    /// Kept for CRLs: the serial number as rcgen wrote it.
    serial: SerialNumber,
}

impl ServerCert {
    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.serialize_der()))
    }

    /// The public-key pin `pin_sha256()` and curl's `--pinnedpubkey` take: the base64
    /// SHA-256 of the SubjectPublicKeyInfo.
    pub(crate) fn pin(&self) -> String {
        let spki = self.key.subject_public_key_info();
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
        base64::engine::general_purpose::STANDARD.encode(digest)
    }
}

/// Everything the tour serves or trusts.
pub(crate) struct Pki {
    /// "wireline tour root CA", the root the tour's clients trust.
    pub(crate) root_pem: String,
    /// "some other CA": a root that issued none of the servers' certificates.
    pub(crate) other_root_pem: String,
    /// For 127.0.0.1, valid now, sent with the intermediate.
    pub(crate) good: ServerCert,
    /// For 127.0.0.1, valid in 2020 only.
    pub(crate) expired: ServerCert,
    /// For 127.0.0.1, valid from 2090.
    pub(crate) not_yet_valid: ServerCert,
    /// For www.example.com only.
    pub(crate) wrong_name: ServerCert,
    /// For 127.0.0.1, signed by its own key.
    pub(crate) self_signed: ServerCert,
    /// Like `good`, but the server forgets to send the intermediate.
    pub(crate) sent_alone: ServerCert,
    /// Valid, and listed in `crl_pem`.
    pub(crate) revoked: ServerCert,
    /// The intermediate's CRL, listing `revoked`.
    pub(crate) crl_pem: String,
}

impl Pki {
    pub(crate) fn new() -> Result<Pki, rcgen::Error> {
        let root =
            CertifiedIssuer::self_signed(ca("wireline tour root CA")?, KeyPair::generate()?)?;
        let other_root = CertifiedIssuer::self_signed(ca("some other CA")?, KeyPair::generate()?)?;
        let intermediate = CertifiedIssuer::signed_by(
            ca("wireline tour intermediate CA")?,
            KeyPair::generate()?,
            &root,
        )?;

        let leaf = |cn: &str, san: &str, years: (i32, i32), sends_intermediate: bool| {
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name.push(DnType::CommonName, cn);
            params.subject_alt_names = vec![match san.parse() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(san.try_into()?),
            }];
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            params.not_before = date_time_ymd(years.0, 1, 1);
            params.not_after = date_time_ymd(years.1, 1, 1);
            params.use_authority_key_identifier_extension = true;
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &intermediate)?;
            let serial = serial_of(cert.der());
            let mut chain = vec![cert.der().clone()];
            if sends_intermediate {
                chain.push(intermediate.der().clone());
            }
            Ok::<_, rcgen::Error>(ServerCert { chain, key, serial })
        };
        let now = (2025, 2095);
        let revoked = leaf("revoked server", "127.0.0.1", now, true)?;
        let crl_pem = crl(&intermediate, &revoked.serial)?;
        Ok(Pki {
            root_pem: root.pem(),
            other_root_pem: other_root.pem(),
            good: leaf("wireline tour server", "127.0.0.1", now, true)?,
            expired: leaf("expired server", "127.0.0.1", (2020, 2021), true)?,
            not_yet_valid: leaf("future server", "127.0.0.1", (2090, 2095), true)?,
            wrong_name: leaf("www.example.com", "www.example.com", now, true)?,
            self_signed: self_signed()?,
            sent_alone: leaf("server without its chain", "127.0.0.1", now, false)?,
            revoked,
            crl_pem,
        })
    }
}

fn ca(name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn self_signed() -> Result<ServerCert, rcgen::Error> {
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "self-signed server");
    let key = KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(ServerCert {
        serial: serial_of(cert.der()),
        chain: vec![cert.der().clone()],
        key,
    })
}

/// A CRL from `issuer` revoking the certificate with this serial number.
fn crl(
    issuer: &CertifiedIssuer<'_, KeyPair>,
    serial: &SerialNumber,
) -> Result<String, rcgen::Error> {
    let params = CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 1, 1),
        next_update: date_time_ymd(2095, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: serial.clone(),
            revocation_time: date_time_ymd(2025, 6, 1),
            reason_code: Some(RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params.signed_by(issuer)?.pem()
}

/// rcgen picks a random serial number; read it back from the certificate.
fn serial_of(der: &[u8]) -> SerialNumber {
    let (_, cert) = x509_parser::parse_x509_certificate(der).expect("rcgen's own certificate");
    SerialNumber::from_slice(cert.raw_serial())
}
