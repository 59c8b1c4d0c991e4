//! Certificate revocation lists (`add_crl`): a listed leaf or intermediate is refused by
//! name, an unlisted one passes, and a CRL that can't be trusted fails instead of being
//! ignored.

use crate::support::{
    bounded, https_server, pki, trusting_test_ca, CrlSigner, Leaf, ServerOptions, TestServer,
};
use wireline::{CertificateErrorKind, CertificateRevocationList, Client, ErrorKind};

async fn server(leaf: Leaf) -> TestServer {
    https_server(ServerOptions {
        leaf,
        ..ServerOptions::default()
    })
    .await
}

fn crl(signer: CrlSigner, revoked: &[&[u8]]) -> CertificateRevocationList {
    CertificateRevocationList::from_pem(pki().crl_pem(signer, revoked).as_bytes()).unwrap()
}

/// A client trusting the test CA with these CRLs, and the result of one GET.
async fn get_with(crls: Vec<CertificateRevocationList>, leaf: Leaf) -> wireline::Result<String> {
    let server = server(leaf).await;
    let client = trusting_test_ca().add_crls(crls).build().unwrap();
    bounded(async { client.get(server.url("/")).send().await?.text().await }).await
}

/// "2a:0f:…" as openssl prints the serial number of this certificate.
fn serial_of(der: &[u8]) -> String {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.raw_serial_as_string()
}

#[tokio::test]
async fn a_revoked_leaf_is_refused_naming_it_its_serial_and_the_fix() {
    let revoked = pki().leaf_der(Leaf::Revoked);
    let err = get_with(
        vec![crl(CrlSigner::Intermediate, &[&revoked])],
        Leaf::Revoked,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::Revoked),
        "{err}"
    );
    assert!(err.is_certificate() && err.is_tls() && err.is_connect());
    let shown = err.to_string();
    println!("{shown}");
    for part in [
        &format!(
            "certificate for 127.0.0.1 (CN=Wireline Revoked Leaf, serial {}) was revoked",
            serial_of(&revoked)
        ),
        "revoked by CN=Wireline Test Intermediate on 2025-06-01 00:00:00 UTC",
        "KeyCompromise",
        "add_crl()",
        "must replace its certificate",
    ] {
        assert!(shown.contains(part), "missing {part:?} in: {shown}");
    }
}

#[tokio::test]
async fn a_crl_not_listing_the_leaf_lets_it_pass() {
    // The intermediate's CRL revokes a sibling; the root's revokes nothing.
    let sibling = pki().leaf_der(Leaf::Revoked);
    let crls = vec![
        crl(CrlSigner::Intermediate, &[&sibling]),
        crl(CrlSigner::Root, &[]),
    ];
    assert_eq!(get_with(crls, Leaf::Valid).await.unwrap(), "hello");
}

#[tokio::test]
async fn a_revoked_intermediate_is_refused_naming_the_intermediate() {
    // The whole chain is checked, not only the leaf.
    let intermediate = pki().intermediate_der.as_slice();
    let err = get_with(vec![crl(CrlSigner::Root, &[intermediate])], Leaf::Valid)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::Revoked),
        "{err}"
    );
    let shown = err.to_string();
    println!("{shown}");
    for part in [
        "certificate for 127.0.0.1 (CN=Wireline Test Leaf) chains through a revoked intermediate CA",
        &format!("CN=Wireline Test Intermediate (serial {})", serial_of(intermediate)),
        "revoked by CN=Wireline Test Root",
        "a CA that is not revoked",
    ] {
        assert!(shown.contains(part), "missing {part:?} in: {shown}");
    }
}

#[tokio::test]
async fn without_a_crl_from_its_issuer_a_certificate_passes() {
    // Only the other root's CRL, listing this very leaf: it is not that CA's to revoke,
    // and no CRL from the leaf's own issuer says anything, so its status is unknown.
    let revoked = pki().leaf_der(Leaf::Revoked);
    let crls = vec![crl(CrlSigner::OtherRoot, &[&revoked])];
    assert_eq!(get_with(crls, Leaf::Revoked).await.unwrap(), "hello");
}

#[tokio::test]
async fn a_crl_whose_signature_fails_refuses_the_server() {
    // Same issuer name as the intermediate, another key: it can't vouch for anything.
    let crls = vec![crl(CrlSigner::IntermediateImpostor, &[])];
    let err = get_with(crls, Leaf::Valid).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::Other),
        "{err}"
    );
    let shown = err.to_string();
    println!("{shown}");
    for part in [
        "could not check whether the certificate for 127.0.0.1 (CN=Wireline Test Leaf) is revoked",
        "the CRL from CN=Wireline Test Intermediate given with add_crl()",
        "signature does not verify",
    ] {
        assert!(shown.contains(part), "missing {part:?} in: {shown}");
    }
}

#[tokio::test]
async fn crls_are_not_consulted_with_accept_invalid_certs() {
    let revoked = pki().leaf_der(Leaf::Revoked);
    let server = server(Leaf::Revoked).await;
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .add_crl(crl(CrlSigner::Intermediate, &[&revoked]))
        .build()
        .unwrap();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn crls_apply_with_accept_invalid_hostnames() {
    let revoked = pki().leaf_der(Leaf::Revoked);
    let server = server(Leaf::Revoked).await;
    let client = trusting_test_ca()
        .danger_accept_invalid_hostnames(true)
        .add_crl(crl(CrlSigner::Intermediate, &[&revoked]))
        .build()
        .unwrap();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::Revoked),
        "{err}"
    );
}

#[test]
fn crls_parse_from_pem_bundles_and_der_or_fail_cleanly() {
    let one = pki().crl_pem(CrlSigner::Intermediate, &[]);
    let two = format!("{one}{}", pki().crl_pem(CrlSigner::Root, &[]));
    assert_eq!(
        CertificateRevocationList::from_pem_bundle(two.as_bytes())
            .unwrap()
            .len(),
        2
    );
    let err = CertificateRevocationList::from_pem(two.as_bytes()).unwrap_err();
    assert!(err.is_builder());
    assert!(err.to_string().contains("from_pem_bundle"), "{err}");

    let parsed = CertificateRevocationList::from_pem(one.as_bytes()).unwrap();
    let debug = format!("{parsed:?}");
    assert!(debug.contains("CN=Wireline Test Intermediate"), "{debug}");

    use rustls::pki_types::pem::PemObject as _;
    let der =
        rustls::pki_types::CertificateRevocationListDer::from_pem_slice(one.as_bytes()).unwrap();
    assert!(CertificateRevocationList::from_der(&der).is_ok());

    let err = CertificateRevocationList::from_pem(pki().root_pem.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("no CRL found"), "{err}");
    let broken = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";
    let err = CertificateRevocationList::from_pem(broken.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("not a valid X.509 CRL"), "{err}");
    assert!(CertificateRevocationList::from_der(&pki().root_der).is_err());
}
