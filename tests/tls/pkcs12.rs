//! Client identities from PKCS#12 archives (`Identity::from_pkcs12_der`) and reqwest's
//! `Identity::from_pkcs8_pem`, shown to a server that requires a client certificate. The
//! archives are made at test time, with p12-keystore (the crate wireline reads them with),
//! from the test PKI's client certificate; what OpenSSL writes is read by the unit tests of
//! `src/tls/identity.rs`.

use p12_keystore::{EncryptionAlgorithm, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};

use crate::support::{bounded, https_server, pki, trusting_test_ca, ServerOptions, TestServer};
use wireline::tls::Identity;
use wireline::{Client, ErrorKind, TlsErrorKind};

async fn mtls_server() -> TestServer {
    https_server(ServerOptions {
        require_client_cert: true,
        ..ServerOptions::default()
    })
    .await
}

fn certificates() -> Vec<p12_keystore::Certificate> {
    pki()
        .client_chain_der()
        .iter()
        .map(|der| p12_keystore::Certificate::from_der(der).unwrap())
        .collect()
}

/// The client identity as a PKCS#12 archive: the key, and the certificates given.
fn archive(
    certs: Vec<p12_keystore::Certificate>,
    password: &str,
    algorithm: EncryptionAlgorithm,
) -> Vec<u8> {
    let key = PrivateKey::from_der(pki().client_key_der().secret_der()).unwrap();
    let mut store = KeyStore::new();
    store.add_entry(
        "client",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new("key-1", key, certs)),
    );
    store
        .writer(password)
        .encryption_algorithm(algorithm)
        .write()
        .unwrap()
}

async fn body(client: &Client, server: &TestServer) -> wireline::Result<String> {
    // Under TLS 1.3 a refused certificate shows only when the response is read.
    bounded(async { client.get(server.url("/")).send().await?.text().await }).await
}

#[tokio::test]
async fn a_pkcs12_identity_is_accepted_by_a_server_requiring_client_certificates() {
    let server = mtls_server().await;
    let without = trusting_test_ca().build().unwrap();
    let err = body(&without, &server).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Tls(TlsErrorKind::ClientCertificateRequired),
        "{err}"
    );
    // AES (OpenSSL 3's and Java's default) and 3DES (the legacy format).
    for algorithm in [
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
    ] {
        let der = archive(certificates(), "s3cret", algorithm);
        let identity = Identity::from_pkcs12_der(&der, "s3cret").unwrap();
        let client = trusting_test_ca().identity(identity).build().unwrap();
        assert_eq!(
            body(&client, &server).await.unwrap(),
            "hello",
            "{algorithm:?}"
        );
    }
}

#[tokio::test]
async fn a_pkcs12_identity_sends_its_intermediate_after_its_certificate() {
    // The intermediate comes first in the archive, as a certificate of its own, and the
    // client's certificate is marked as the key's: the identity still starts with the
    // client's certificate, which the server needs first, then the intermediate it needs
    // to reach the root it trusts.
    let mut certs = certificates();
    let intermediate = certs
        .pop()
        .expect("the client's certificate, then the intermediate");
    let key = PrivateKey::from_der(pki().client_key_der().secret_der()).unwrap();
    let mut store = KeyStore::new();
    store.add_entry("ca", KeyStoreEntry::Certificate(intermediate));
    store.add_entry(
        "client",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new("key-1", key, certs)),
    );
    let der = store.writer("s3cret").write().unwrap();
    let identity = Identity::from_pkcs12_der(&der, "s3cret").unwrap();
    let shown = format!("{identity:?}");
    let client_at = shown.find("Wireline Test Client").expect(&shown);
    let intermediate_at = shown.find("Wireline Test Intermediate").expect(&shown);
    assert!(client_at < intermediate_at, "{shown}");
    let server = mtls_server().await;
    let client = trusting_test_ca().identity(identity).build().unwrap();
    assert_eq!(body(&client, &server).await.unwrap(), "hello");
}

#[tokio::test]
async fn a_wrong_pkcs12_password_is_named() {
    let der = archive(
        certificates(),
        "s3cret",
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
    );
    let err = Identity::from_pkcs12_der(&der, "guess").unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(err.to_string().contains("the password is wrong"), "{err}");
}

#[tokio::test]
async fn a_pkcs12_archive_without_a_key_is_named() {
    let mut store = KeyStore::new();
    for (i, cert) in certificates().into_iter().enumerate() {
        store.add_entry(&format!("cert-{i}"), KeyStoreEntry::Certificate(cert));
    }
    let der = store.writer("s3cret").write().unwrap();
    let err = Identity::from_pkcs12_der(&der, "s3cret").unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(
        err.to_string()
            .contains("holds certificates but no private key"),
        "{err}"
    );
}

#[tokio::test]
async fn a_pkcs12_key_without_its_certificate_is_named() {
    let der = archive(
        Vec::new(),
        "s3cret",
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
    );
    let err = Identity::from_pkcs12_der(&der, "s3cret").unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(
        err.to_string()
            .contains("holds a private key but no certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn identity_from_pkcs8_pem_is_accepted_and_reports_a_missing_key() {
    let pem = pki().client_identity_pem();
    let at = pem.find("-----BEGIN PRIVATE KEY-----").expect("PKCS#8");
    let (chain, key) = pem.split_at(at);
    let identity = Identity::from_pkcs8_pem(chain.as_bytes(), key.as_bytes()).unwrap();
    let server = mtls_server().await;
    let client = trusting_test_ca().identity(identity).build().unwrap();
    assert_eq!(body(&client, &server).await.unwrap(), "hello");
    // The two buffers the other way round: no key where the key should be.
    let err = Identity::from_pkcs8_pem(key.as_bytes(), chain.as_bytes()).unwrap_err();
    assert!(err.is_builder(), "{err}");
}
