//! TLS settings beyond the verification modes: accepting wrong host names, the TLS version
//! range, and SNI.

use std::time::Duration;

use crate::support;
use crate::support::{https_server, trusting_test_ca, Leaf, ServerOptions, Versions};
use rustls::ProtocolVersion;
use wireline::{CertificateErrorKind, Client, ErrorKind, TlsErrorKind, TlsVersion};

const BOUND: Duration = Duration::from_secs(15);

async fn get(client: &Client, url: &str) -> wireline::Result<wireline::Response> {
    tokio::time::timeout(BOUND, client.get(url).send())
        .await
        .expect("request must finish within the bound")
}

async fn server(leaf: Leaf) -> support::TestServer {
    https_server(ServerOptions {
        leaf,
        ..ServerOptions::default()
    })
    .await
}

fn ignoring_hostnames() -> Client {
    trusting_test_ca()
        .danger_accept_invalid_hostnames(true)
        .build()
        .unwrap()
}

// ---- danger_accept_invalid_hostnames ----

#[tokio::test]
async fn invalid_hostnames_accepts_a_certificate_for_another_host() {
    let server = server(Leaf::WrongHost).await;
    let resp = get(&ignoring_hostnames(), &server.url("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    // Without the setting the same server is rejected for its name.
    let err = get(&trusting_test_ca().build().unwrap(), &server.url("/"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::NameMismatch),
        "{err}"
    );
}

#[tokio::test]
async fn invalid_hostnames_still_checks_the_chain_and_the_dates() {
    for (leaf, kind) in [
        (Leaf::UnknownCa, CertificateErrorKind::UnknownIssuer),
        (Leaf::SelfSigned, CertificateErrorKind::SelfSigned),
        (Leaf::Expired, CertificateErrorKind::Expired),
        (Leaf::NotYetValid, CertificateErrorKind::NotYetValid),
    ] {
        let server = server(leaf).await;
        let err = get(&ignoring_hostnames(), &server.url("/"))
            .await
            .expect_err("only the name is ignored");
        assert_eq!(err.kind(), ErrorKind::Certificate(kind), "{leaf:?}: {err}");
    }
}

#[tokio::test]
async fn invalid_hostnames_still_checks_the_handshake_signature() {
    let server = https_server(ServerOptions {
        wrong_key: true,
        ..ServerOptions::default()
    })
    .await;
    let err = get(&ignoring_hostnames(), &server.url("/"))
        .await
        .unwrap_err();
    assert!(err.is_tls(), "{err}");
}

// ---- max_tls_version ----

async fn versioned_server(versions: Versions) -> support::TestServer {
    https_server(ServerOptions {
        versions,
        ..ServerOptions::default()
    })
    .await
}

#[tokio::test]
async fn max_tls12_fails_against_a_tls13_only_server() {
    let server = versioned_server(Versions::Tls13Only).await;
    let client = trusting_test_ca()
        .max_tls_version(TlsVersion::TLS_1_2)
        .build()
        .unwrap();
    let err = get(&client, &server.url("/")).await.unwrap_err();
    assert!(err.is_tls(), "{err}");
    assert_eq!(
        err.kind(),
        ErrorKind::Tls(TlsErrorKind::ProtocolVersion),
        "{err}"
    );
    assert!(err.to_string().contains("only TLS 1.2 is allowed"), "{err}");
}

#[tokio::test]
async fn max_tls12_uses_tls12_with_a_server_that_speaks_both() {
    let server = versioned_server(Versions::Both).await;
    let client = trusting_test_ca()
        .max_tls_version(TlsVersion::TLS_1_2)
        .build()
        .unwrap();
    let resp = get(&client, &server.url("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.negotiated_versions(), vec![ProtocolVersion::TLSv1_2]);
    // The default range picks TLS 1.3 with the same server.
    let resp = get(&trusting_test_ca().build().unwrap(), &server.url("/"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        server.negotiated_versions(),
        vec![ProtocolVersion::TLSv1_2, ProtocolVersion::TLSv1_3]
    );
}

#[tokio::test]
async fn min_and_max_tls13_works_against_a_tls13_only_server() {
    let server = versioned_server(Versions::Tls13Only).await;
    let client = trusting_test_ca()
        .min_tls_version(TlsVersion::TLS_1_3)
        .max_tls_version(TlsVersion::TLS_1_3)
        .build()
        .unwrap();
    get(&client, &server.url("/")).await.unwrap();
    assert_eq!(server.negotiated_versions(), vec![ProtocolVersion::TLSv1_3]);
}

#[test]
fn max_below_min_fails_build_naming_both() {
    let err = Client::builder()
        .min_tls_version(TlsVersion::TLS_1_3)
        .max_tls_version(TlsVersion::TLS_1_2)
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
    let shown = err.to_string();
    for part in ["max_tls_version (TLS 1.2)", "min_tls_version (TLS 1.3)"] {
        assert!(shown.contains(part), "missing {part:?} in: {shown}");
    }
}

// ---- tls_sni ----

#[tokio::test]
async fn sni_off_sends_no_server_name_for_a_host_name() {
    let server = server(Leaf::Valid).await;
    let client = trusting_test_ca().tls_sni(false).build().unwrap();
    let resp = get(&client, &server.url_host("localhost", "/"))
        .await
        .unwrap();
    // The certificate is still checked against the URL's host, which it lists.
    assert_eq!(resp.status(), 200);
    assert_eq!(server.server_names(), vec![None]);
}

#[tokio::test]
async fn sni_off_still_verifies_the_host_name() {
    let server = server(Leaf::WrongHost).await;
    let client = trusting_test_ca().tls_sni(false).build().unwrap();
    let err = get(&client, &server.url_host("localhost", "/"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::NameMismatch),
        "{err}"
    );
}
