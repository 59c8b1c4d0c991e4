//! The test PKI: two roots, an intermediate, one server leaf per certificate failure and a
//! client identity, generated once per test binary with rcgen; CRLs made on demand.
//!
//! Every key is ECDSA P-256: generating and signing with it takes microseconds, so building
//! the whole PKI costs nothing noticeable at the first `pki()` call.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use base64::Engine as _;
use rcgen::{
    date_time_ymd, BasicConstraints, Certificate, CertificateParams,
    CertificateRevocationListParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, PublicKeyData, RevocationReason,
    RevokedCertParams, SanType, SerialNumber,
};
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Which server certificate a test server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leaf {
    /// Signed by the intermediate, valid now, SANs localhost, 127.0.0.1 and ::1.
    Valid,
    /// notBefore 2025-01-01, notAfter 2026-01-01.
    Expired,
    /// notBefore 2099-01-01.
    NotYetValid,
    /// Its only SAN is the DNS name `wrong.example.com`.
    WrongHost,
    /// Issued by itself (CN=self-signed.test); no CA vouches for it.
    SelfSigned,
    /// Signed by `other_root`, which no client trusts.
    UnknownCa,
    /// A valid leaf, but the server sends it without the intermediate.
    NoIntermediate,
    /// CN=127.0.0.1 and no subjectAltName at all: clients ignore the CN.
    CnOnly,
    /// The SAN is the DNS name "127.0.0.1" rather than an IP address SAN.
    DnsSanIp,
    /// Valid in every way, like `Valid` (CN=Wireline Revoked Leaf): for the CRLs of
    /// [`Pki::crl_pem`] to list.
    Revoked,
}

impl Leaf {
    /// Every leaf, for tests that sweep them all.
    pub const ALL: [Leaf; 10] = [
        Leaf::Valid,
        Leaf::Expired,
        Leaf::NotYetValid,
        Leaf::WrongHost,
        Leaf::SelfSigned,
        Leaf::UnknownCa,
        Leaf::NoIntermediate,
        Leaf::CnOnly,
        Leaf::DnsSanIp,
        Leaf::Revoked,
    ];
}

/// Who signs a CRL made by [`Pki::crl_pem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlSigner {
    /// The root: its CRLs cover the intermediate.
    Root,
    /// The intermediate: its CRLs cover the leaves it signed.
    Intermediate,
    /// A CA named "Wireline Test Intermediate" with another key: its CRLs claim to be the
    /// intermediate's, and their signatures don't verify with the intermediate's key.
    IntermediateImpostor,
    /// "Other Test Root", which issued none of the chains clients trust.
    OtherRoot,
}

/// The generated certificates and keys. Get it with [`pki()`].
pub struct Pki {
    /// "CN=Wireline Test Root", the only root clients are told to trust.
    pub root_pem: String,
    /// The same root, DER.
    pub root_der: Vec<u8>,
    /// "CN=Wireline Test Intermediate", signed by the root; signs the leaves.
    pub intermediate_pem: String,
    /// The same intermediate, DER.
    pub intermediate_der: Vec<u8>,
    /// "CN=Other Test Root": a CA no client trusts.
    pub other_root_pem: String,
    /// The same other root, DER.
    pub other_root_der: Vec<u8>,
    /// Indexed like `Leaf::ALL`.
    leaves: Vec<Issued>,
    client: Issued,
    /// A key no certificate belongs to, for servers that sign with the wrong key.
    stray_key: Vec<u8>,
    /// The CAs, kept to sign CRLs.
    root: Issuer<'static, KeyPair>,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_impostor: Issuer<'static, KeyPair>,
    other_root: Issuer<'static, KeyPair>,
}

/// One end-entity certificate, what to send after it, and its key.
struct Issued {
    cert: Certificate,
    rest_of_chain: Vec<CertificateDer<'static>>,
    /// PKCS#8 DER.
    key: Vec<u8>,
    key_pem: String,
}

/// The PKI of this test binary, generated at the first call.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(generate)
}

impl Pki {
    /// A PEM bundle of every CA a client should trust: the root alone.
    pub fn ca_bundle_pem(&self) -> String {
        self.root_pem.clone()
    }

    /// The root as a rustls trust store, for test clients and for client-certificate checks.
    pub fn root_store(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.root_der.clone()))
            .expect("the test root parses");
        roots
    }

    /// What a server presents for `leaf`: the leaf, then the certificates that usually
    /// travel with it (the intermediate; the other root for `UnknownCa`; nothing for
    /// `SelfSigned` and `NoIntermediate`).
    pub fn chain_der(&self, leaf: Leaf) -> Vec<CertificateDer<'static>> {
        self.issued(leaf).chain()
    }

    /// `chain_der` as PEM, leaf first.
    pub fn chain_pem(&self, leaf: Leaf) -> String {
        self.issued(leaf).chain_pem()
    }

    /// The leaf certificate alone, DER.
    pub fn leaf_der(&self, leaf: Leaf) -> CertificateDer<'static> {
        self.issued(leaf).cert.der().clone()
    }

    /// The leaf's private key (PKCS#8).
    pub fn key_der(&self, leaf: Leaf) -> PrivateKeyDer<'static> {
        pkcs8(&self.issued(leaf).key)
    }

    /// The leaf's public-key pin: the base64 SHA-256 of its SubjectPublicKeyInfo, computed
    /// from rcgen's key pair (not from the certificate, as wireline does).
    pub fn spki_sha256(&self, leaf: Leaf) -> String {
        let key = KeyPair::try_from(self.issued(leaf).key.as_slice()).expect("our own key");
        let digest = ring::digest::digest(&ring::digest::SHA256, &key.subject_public_key_info());
        base64::engine::general_purpose::STANDARD.encode(digest)
    }

    /// A PEM CRL signed by `signer`, listing the serial numbers of the `revoked`
    /// certificates (DER) as revoked on 2025-06-01 for key compromise. Valid from 2025 to
    /// 2095; an empty `revoked` makes a CRL that revokes nothing.
    pub fn crl_pem(&self, signer: CrlSigner, revoked: &[&[u8]]) -> String {
        let revoked_certs = revoked
            .iter()
            .map(|der| {
                let (_, cert) = x509_parser::parse_x509_certificate(der).expect("a certificate");
                RevokedCertParams {
                    serial_number: SerialNumber::from_slice(cert.raw_serial()),
                    revocation_time: date_time_ymd(2025, 6, 1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                }
            })
            .collect();
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(2025, 1, 1),
            next_update: date_time_ymd(2095, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let issuer = match signer {
            CrlSigner::Root => &self.root,
            CrlSigner::Intermediate => &self.intermediate,
            CrlSigner::IntermediateImpostor => &self.intermediate_impostor,
            CrlSigner::OtherRoot => &self.other_root,
        };
        params
            .signed_by(issuer)
            .expect("CRL")
            .pem()
            .expect("CRL PEM")
    }

    /// A client certificate (clientAuth, signed by the intermediate) and the intermediate,
    /// then its PKCS#8 key: the PEM a user hands to an identity loader.
    pub fn client_identity_pem(&self) -> String {
        format!("{}{}", self.client.chain_pem(), self.client.key_pem)
    }

    /// The client certificate and the intermediate, DER.
    pub fn client_chain_der(&self) -> Vec<CertificateDer<'static>> {
        self.client.chain()
    }

    /// The client certificate's private key (PKCS#8).
    pub fn client_key_der(&self) -> PrivateKeyDer<'static> {
        pkcs8(&self.client.key)
    }

    /// A P-256 key that matches no certificate here.
    pub fn stray_key_der(&self) -> PrivateKeyDer<'static> {
        pkcs8(&self.stray_key)
    }

    /// A server chain (leaf, then the intermediate) and its key for a leaf valid for the
    /// DNS `names` only, signed by the intermediate like `Leaf::Valid`: for a test that
    /// needs a host name other than localhost (a DNS override, a Unix socket).
    pub fn leaf_for(
        &self,
        names: &[&str],
    ) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().expect("P-256 key");
        let sans = names.iter().map(|name| dns(name)).collect();
        let cert = end_entity_params("Wireline Named Leaf", sans)
            .signed_by(&key, &self.intermediate)
            .expect("leaf");
        let chain = vec![
            cert.der().clone(),
            CertificateDer::from(self.intermediate_der.clone()),
        ];
        (chain, pkcs8(&key.serialize_der()))
    }

    fn issued(&self, leaf: Leaf) -> &Issued {
        let index = Leaf::ALL.iter().position(|l| *l == leaf).expect("in ALL");
        &self.leaves[index]
    }
}

impl Issued {
    fn chain(&self) -> Vec<CertificateDer<'static>> {
        let mut chain = vec![self.cert.der().clone()];
        chain.extend(self.rest_of_chain.iter().cloned());
        chain
    }

    fn chain_pem(&self) -> String {
        self.chain()
            .iter()
            .map(|der| pem("CERTIFICATE", der))
            .collect()
    }
}

fn generate() -> Pki {
    let root_key = KeyPair::generate().expect("P-256 key");
    let root_params = ca_params("Wireline Test Root", BasicConstraints::Unconstrained, false);
    let root_cert = root_params.self_signed(&root_key).expect("root");
    let root = Issuer::new(root_params, root_key);

    // Path length 0: the intermediate may sign leaves only.
    let intermediate_key = KeyPair::generate().expect("P-256 key");
    let intermediate_params = ca_params(
        "Wireline Test Intermediate",
        BasicConstraints::Constrained(0),
        true,
    );
    let intermediate_cert = intermediate_params
        .signed_by(&intermediate_key, &root)
        .expect("intermediate");
    let intermediate_impostor = Issuer::new(
        intermediate_params.clone(),
        KeyPair::generate().expect("P-256 key"),
    );
    let intermediate = Issuer::new(intermediate_params, intermediate_key);

    let other_key = KeyPair::generate().expect("P-256 key");
    let other_params = ca_params("Other Test Root", BasicConstraints::Unconstrained, false);
    let other_cert = other_params.self_signed(&other_key).expect("other root");
    let other_root = Issuer::new(other_params, other_key);

    let via_intermediate = vec![intermediate_cert.der().clone()];
    let leaves = Leaf::ALL
        .iter()
        .map(|&leaf| {
            let key = KeyPair::generate().expect("P-256 key");
            let params = leaf_params(leaf);
            let (cert, rest_of_chain) = match leaf {
                Leaf::SelfSigned => (params.self_signed(&key), vec![]),
                Leaf::UnknownCa => (
                    params.signed_by(&key, &other_root),
                    vec![other_cert.der().clone()],
                ),
                Leaf::NoIntermediate => (params.signed_by(&key, &intermediate), vec![]),
                _ => (
                    params.signed_by(&key, &intermediate),
                    via_intermediate.clone(),
                ),
            };
            issued(cert.expect("leaf"), rest_of_chain, &key)
        })
        .collect();

    let client_key = KeyPair::generate().expect("P-256 key");
    let mut client_params = end_entity_params("Wireline Test Client", vec![]);
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params
        .signed_by(&client_key, &intermediate)
        .expect("client certificate");

    Pki {
        root_pem: root_cert.pem(),
        root_der: root_cert.der().to_vec(),
        intermediate_pem: intermediate_cert.pem(),
        intermediate_der: intermediate_cert.der().to_vec(),
        other_root_pem: other_cert.pem(),
        other_root_der: other_cert.der().to_vec(),
        leaves,
        client: issued(client_cert, via_intermediate, &client_key),
        stray_key: KeyPair::generate().expect("P-256 key").serialize_der(),
        root,
        intermediate,
        intermediate_impostor,
        other_root,
    }
}

fn issued(cert: Certificate, rest_of_chain: Vec<CertificateDer<'static>>, key: &KeyPair) -> Issued {
    Issued {
        cert,
        rest_of_chain,
        key: key.serialize_der(),
        key_pem: key.serialize_pem(),
    }
}

fn leaf_params(leaf: Leaf) -> CertificateParams {
    let localhost = || {
        vec![
            dns("localhost"),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ]
    };
    match leaf {
        Leaf::Valid => end_entity_params("Wireline Test Leaf", localhost()),
        Leaf::Expired => {
            let mut params = end_entity_params("Wireline Expired Leaf", localhost());
            params.not_before = date_time_ymd(2025, 1, 1);
            params.not_after = date_time_ymd(2026, 1, 1);
            params
        }
        Leaf::NotYetValid => {
            let mut params = end_entity_params("Wireline Future Leaf", localhost());
            params.not_before = date_time_ymd(2099, 1, 1);
            params.not_after = date_time_ymd(2100, 1, 1);
            params
        }
        Leaf::WrongHost => end_entity_params("wrong.example.com", vec![dns("wrong.example.com")]),
        Leaf::SelfSigned => {
            let mut params = end_entity_params("self-signed.test", localhost());
            // An authority key id naming itself would add nothing: there is no issuer.
            params.use_authority_key_identifier_extension = false;
            params
        }
        Leaf::UnknownCa => end_entity_params("Wireline Leaf of Other Root", localhost()),
        Leaf::NoIntermediate => end_entity_params("Wireline Leaf Sent Alone", localhost()),
        Leaf::CnOnly => end_entity_params("127.0.0.1", vec![]),
        Leaf::DnsSanIp => end_entity_params("Wireline DNS-SAN IP Leaf", vec![dns("127.0.0.1")]),
        Leaf::Revoked => end_entity_params("Wireline Revoked Leaf", localhost()),
    }
}

fn ca_params(name: &str, constraints: BasicConstraints, has_issuer: bool) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(name);
    params.is_ca = IsCa::Ca(constraints);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2100, 1, 1);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.use_authority_key_identifier_extension = has_issuer;
    params
}

/// A server leaf valid from 2025 to 2095: well around "now" for any test run.
fn end_entity_params(name: &str, sans: Vec<SanType>) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = common_name(name);
    params.subject_alt_names = sans;
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2095, 1, 1);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Lets chain builders and error messages match the leaf to its issuer.
    params.use_authority_key_identifier_extension = true;
    params
}

/// A DN with only a CN: rcgen's default DN carries a placeholder CN we must not keep.
fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().expect("IA5 DNS name"))
}

fn pkcs8(der: &[u8]) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec()))
}

/// PEM with 64-column lines, as openssl writes it.
fn pem(label: &str, der: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
