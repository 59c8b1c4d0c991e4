//! reqwest 0.13's TLS names: each alias does what its wireline twin does, and not what a
//! neighbouring setting does, against real servers. `tls_sslkeylogfile` is tested in
//! `tests/tls_keylog.rs` (it needs SSLKEYLOGFILE, the whole process's).

use rustls::ProtocolVersion;

use crate::support::{
    bounded, https_server, pki, trusting_test_ca, write_temp, CrlSigner, Leaf, ServerOptions,
    TestServer, Versions,
};
// The paths reqwest code writes (`reqwest::tls::…`), with `wireline` for `reqwest`.
use wireline::tls::{Certificate, CertificateRevocationList, TlsInfo, Version};
use wireline::{CertificateErrorKind, Client, ClientBuilder, ErrorKind, TlsErrorKind};

async fn server(leaf: Leaf, versions: Versions) -> TestServer {
    https_server(ServerOptions {
        leaf,
        versions,
        ..ServerOptions::default()
    })
    .await
}

async fn get(client: &Client, server: &TestServer) -> wireline::Result<wireline::Response> {
    bounded(client.get(server.url("/")).send()).await
}

fn refused_with(result: wireline::Result<wireline::Response>, kind: ErrorKind) -> String {
    let err = result.expect_err("the server must be refused");
    assert_eq!(err.kind(), kind, "{err}");
    err.to_string()
}

fn test_root() -> Certificate {
    Certificate::from_pem(pki().root_pem.as_bytes()).unwrap()
}

fn other_root_file() -> std::path::PathBuf {
    write_temp("other-root.pem", &pki().other_root_pem)
}

#[tokio::test]
async fn tls_version_min_sets_the_minimum_not_the_maximum() {
    let tls12_only = server(Leaf::Valid, Versions::Tls12Only).await;
    let client = trusting_test_ca()
        .tls_version_min(Version::TLS_1_3)
        .build()
        .unwrap();
    // As a maximum, TLS 1.3 would still allow the server's TLS 1.2.
    refused_with(
        get(&client, &tls12_only).await,
        ErrorKind::Tls(TlsErrorKind::ProtocolVersion),
    );
    // TLS 1.0 as the minimum allows what rustls speaks: the newest is chosen.
    let both = server(Leaf::Valid, Versions::Both).await;
    let client = trusting_test_ca()
        .tls_version_min(Version::TLS_1_0)
        .build()
        .unwrap();
    assert_eq!(get(&client, &both).await.unwrap().status(), 200);
    assert_eq!(both.negotiated_versions(), [ProtocolVersion::TLSv1_3]);
}

#[tokio::test]
async fn tls_version_max_sets_the_maximum_not_the_minimum() {
    let both = server(Leaf::Valid, Versions::Both).await;
    let client = trusting_test_ca()
        .tls_version_max(Version::TLS_1_2)
        .build()
        .unwrap();
    assert_eq!(get(&client, &both).await.unwrap().status(), 200);
    // As a minimum, TLS 1.2 would let the server choose TLS 1.3.
    assert_eq!(both.negotiated_versions(), [ProtocolVersion::TLSv1_2]);
}

#[tokio::test]
async fn a_maximum_of_tls_1_0_or_1_1_is_a_builder_error_as_with_reqwests_rustls() {
    for version in [Version::TLS_1_0, Version::TLS_1_1] {
        let err = Client::builder()
            .tls_version_max(version)
            .build()
            .unwrap_err();
        assert!(err.is_builder(), "{err}");
        let shown = err.to_string();
        assert!(
            shown.contains(&format!("max_tls_version ({version})")),
            "{shown}"
        );
        assert!(shown.contains("speaks only TLS 1.2 and 1.3"), "{shown}");
    }
}

#[tokio::test]
async fn tls_danger_accept_invalid_certs_accepts_any_certificate() {
    let unknown_ca = server(Leaf::UnknownCa, Versions::Both).await;
    let client = trusting_test_ca()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    // Accepting wrong host names only would still refuse this chain.
    assert_eq!(get(&client, &unknown_ca).await.unwrap().status(), 200);
    let client = trusting_test_ca()
        .tls_danger_accept_invalid_certs(false)
        .build()
        .unwrap();
    refused_with(
        get(&client, &unknown_ca).await,
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
    );
}

#[tokio::test]
async fn tls_danger_accept_invalid_hostnames_accepts_a_wrong_name_but_not_a_wrong_chain() {
    let client = trusting_test_ca()
        .tls_danger_accept_invalid_hostnames(true)
        .build()
        .unwrap();
    let wrong_host = server(Leaf::WrongHost, Versions::Both).await;
    assert_eq!(get(&client, &wrong_host).await.unwrap().status(), 200);
    // Accepting invalid certificates would let this one through too.
    let unknown_ca = server(Leaf::UnknownCa, Versions::Both).await;
    refused_with(
        get(&client, &unknown_ca).await,
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
    );
}

/// The test root's server and the other root's, for a client that trusts the other root
/// through its CA file and the test root through `roots`.
async fn trusted_by(roots: impl FnOnce(ClientBuilder) -> ClientBuilder) -> [bool; 2] {
    let client = roots(Client::builder().ca_file(other_root_file()))
        .build()
        .unwrap();
    let mut trusted = [false; 2];
    for (i, leaf) in [Leaf::Valid, Leaf::UnknownCa].into_iter().enumerate() {
        let server = server(leaf, Versions::Both).await;
        trusted[i] = match get(&client, &server).await {
            Ok(resp) => resp.status() == 200,
            Err(err) => {
                let shown = refused_with(
                    Err(err),
                    ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
                );
                println!("{leaf:?}: {shown}");
                false
            }
        };
    }
    trusted
}

#[tokio::test]
async fn tls_certs_merge_adds_to_the_roots_and_tls_certs_only_replaces_them() {
    // Merged: the CA file's root and the given one.
    assert_eq!(
        trusted_by(|b| b.tls_certs_merge([test_root()])).await,
        [true, true]
    );
    // The same as add_root_certificate.
    assert_eq!(
        trusted_by(|b| b.add_root_certificate(test_root())).await,
        [true, true]
    );
    // Only: the given root, and neither the CA file nor the system's.
    assert_eq!(
        trusted_by(|b| b.tls_certs_only([test_root()])).await,
        [true, false]
    );
    // A CA file chosen after tls_certs_only() replaces it again, keeping its certificates.
    assert_eq!(
        trusted_by(|b| b.tls_certs_only([test_root()]).ca_file(other_root_file())).await,
        [true, true]
    );
}

#[tokio::test]
async fn tls_certs_only_names_what_it_trusted_when_it_refuses() {
    let client = Client::builder()
        .tls_certs_only(Certificate::from_pem_bundle(pki().other_root_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let valid = server(Leaf::Valid, Versions::Both).await;
    let shown = refused_with(
        get(&client, &valid).await,
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
    );
    assert!(
        shown.contains("only the certificates given to tls_certs_only()"),
        "{shown}"
    );
    let err = Client::builder()
        .tls_certs_only(Vec::new())
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
}

#[tokio::test]
async fn tls_crls_only_checks_the_revocation_lists_given() {
    let revoked = pki().leaf_der(Leaf::Revoked);
    let crl = CertificateRevocationList::from_pem(
        pki()
            .crl_pem(CrlSigner::Intermediate, &[&revoked])
            .as_bytes(),
    )
    .unwrap();
    let server = server(Leaf::Revoked, Versions::Both).await;
    let without = trusting_test_ca().build().unwrap();
    assert_eq!(get(&without, &server).await.unwrap().status(), 200);
    let client = trusting_test_ca().tls_crls_only([crl]).build().unwrap();
    refused_with(
        get(&client, &server).await,
        ErrorKind::Certificate(CertificateErrorKind::Revoked),
    );
}

#[tokio::test]
async fn tls_backend_rustls_and_use_rustls_tls_change_nothing() {
    let valid = server(Leaf::Valid, Versions::Both).await;
    for builder in [
        trusting_test_ca().tls_backend_rustls(),
        trusting_test_ca().use_rustls_tls(),
    ] {
        let resp = get(&builder.build().unwrap(), &valid).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), wireline::Version::HTTP_2);
    }
    let unknown_ca = server(Leaf::UnknownCa, Versions::Both).await;
    let client = trusting_test_ca().tls_backend_rustls().build().unwrap();
    refused_with(
        get(&client, &unknown_ca).await,
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
    );
}

#[tokio::test]
async fn tls_info_answers_reqwests_peer_certificate_and_version() {
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    for (versions, expected) in [
        (Versions::Tls12Only, Version::TLS_1_2),
        (Versions::Tls13Only, Version::TLS_1_3),
    ] {
        let server = server(Leaf::Valid, versions).await;
        let resp = get(&client, &server).await.unwrap();
        let info: &TlsInfo = resp.tls_info().expect("tls_info(true)");
        assert_eq!(info.version(), Some(expected));
        assert_eq!(
            info.peer_certificate(),
            Some(&pki().leaf_der(Leaf::Valid)[..]),
            "the server's own certificate, not the intermediate"
        );
    }
}
