//! Client certificates (mutual TLS): `Identity` parsing, and servers that require a
//! certificate under the test root, over TLS 1.2 and 1.3.

use std::time::Duration;

use crate::support;
use crate::support::{https_server, pki, trusting_test_ca, ServerOptions, Versions};
use wireline::{Client, Identity};

const BOUND: Duration = Duration::from_secs(15);

async fn mtls_server(versions: Versions) -> support::TestServer {
    https_server(ServerOptions {
        require_client_cert: true,
        versions,
        ..ServerOptions::default()
    })
    .await
}

/// The identity PEM split into (certificate chain, key).
fn identity_parts() -> (String, String) {
    let pem = pki().client_identity_pem();
    let at = pem
        .find("-----BEGIN PRIVATE KEY-----")
        .expect("a PKCS#8 key");
    (pem[..at].to_owned(), pem[at..].to_owned())
}

async fn fetch_body(client: &Client, url: &str) -> wireline::Result<String> {
    tokio::time::timeout(BOUND, async {
        // Under TLS 1.3 a refused certificate shows only when the response is read.
        client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    })
    .await
    .expect("request must finish within the bound")
}

#[tokio::test]
async fn identity_from_pem_is_accepted_over_tls12_and_tls13() {
    for versions in [Versions::Tls13Only, Versions::Tls12Only] {
        let server = mtls_server(versions).await;
        let identity = Identity::from_pem(pki().client_identity_pem().as_bytes()).unwrap();
        let client = trusting_test_ca().identity(identity).build().unwrap();
        let body = fetch_body(&client, &server.url("/")).await;
        assert_eq!(body.unwrap(), "hello", "{versions:?}");
        assert_eq!(server.handshakes(), 1, "{versions:?}");
    }
}

#[tokio::test]
async fn identity_from_separate_cert_and_key_is_accepted() {
    let server = mtls_server(Versions::Both).await;
    let (cert, key) = identity_parts();
    // Key first or last: the order of the blocks does not matter.
    let identity = Identity::from_pem_parts(cert.as_bytes(), key.as_bytes()).unwrap();
    let client = trusting_test_ca().identity(identity).build().unwrap();
    assert_eq!(
        fetch_body(&client, &server.url("/")).await.unwrap(),
        "hello"
    );
    let reversed = format!("{key}{cert}");
    let identity = Identity::from_pem(reversed.as_bytes()).unwrap();
    let client = trusting_test_ca().identity(identity).build().unwrap();
    assert_eq!(
        fetch_body(&client, &server.url("/")).await.unwrap(),
        "hello"
    );
}

#[tokio::test]
async fn without_identity_a_requiring_server_is_a_tls_error() {
    let server = mtls_server(Versions::Tls12Only).await;
    let client = trusting_test_ca().build().unwrap();
    let err = fetch_body(&client, &server.url("/")).await.unwrap_err();
    assert!(err.is_tls(), "{err}");
}

#[test]
fn a_key_of_another_certificate_fails_build() {
    let (cert, _) = identity_parts();
    let other_key = rcgen::KeyPair::generate().unwrap().serialize_pem();
    let identity = Identity::from_pem_parts(cert.as_bytes(), other_key.as_bytes()).unwrap();
    let err = trusting_test_ca().identity(identity).build().unwrap_err();
    assert!(err.is_builder(), "{err}");
    let shown = err.to_string();
    assert!(shown.contains("client identity"), "{shown}");
    assert!(shown.contains("does not belong"), "{shown}");
}

#[test]
fn incomplete_or_garbage_pem_is_a_builder_error() {
    let (cert, key) = identity_parts();
    let no_key = Identity::from_pem(cert.as_bytes()).unwrap_err();
    assert!(
        no_key.is_builder() && no_key.to_string().contains("no private key"),
        "{no_key}"
    );
    let no_cert = Identity::from_pem(key.as_bytes()).unwrap_err();
    assert!(
        no_cert.is_builder() && no_cert.to_string().contains("no certificate"),
        "{no_cert}"
    );
    let not_a_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(Identity::from_pem_parts(not_a_cert.as_bytes(), key.as_bytes()).is_err());
    for garbage in [&b""[..], b"\xff\xfe\x00", b"-----BEGIN PRIVATE KEY-----\n"] {
        assert!(Identity::from_pem(garbage).unwrap_err().is_builder());
    }
}

#[test]
fn debug_shows_subjects_never_the_key() {
    let identity = Identity::from_pem(pki().client_identity_pem().as_bytes()).unwrap();
    let shown = format!("{identity:?}");
    assert!(!shown.contains("PRIVATE"), "{shown}");
    assert!(shown.contains("Wireline Test Intermediate"), "{shown}");
}

#[test]
fn an_encrypted_key_is_named_as_such() {
    let (cert, _) = identity_parts();
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let err = Identity::from_pem_parts(cert.as_bytes(), encrypted.as_bytes()).unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(err.to_string().contains("encrypted"), "{err}");
}
