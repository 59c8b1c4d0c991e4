//! `platform_verifier()`: the operating system's verifier (rustls-platform-verifier) as the
//! source of trust. On Linux it is webpki over the system store, so the test root is
//! trusted through `add_root_certificate`; the refusals keep wireline's explanations and
//! name the platform verifier.

use crate::support::{bounded, https_server, pki, trusting_test_ca, Leaf, ServerOptions};
use wireline::tls::{Certificate, CertificateRevocationList};
use wireline::{CertificateErrorKind, Client, ClientBuilder, ErrorKind, TlsOptions};

fn test_root() -> Certificate {
    Certificate::from_pem(pki().root_pem.as_bytes()).unwrap()
}

/// The outcome of a GET to a server presenting `leaf`.
async fn get(client: &Client, leaf: Leaf) -> wireline::Result<wireline::Response> {
    get_with(client, leaf, TlsOptions::new()).await
}

async fn get_with(
    client: &Client,
    leaf: Leaf,
    options: TlsOptions,
) -> wireline::Result<wireline::Response> {
    let server = https_server(ServerOptions {
        leaf,
        ..ServerOptions::default()
    })
    .await;
    bounded(client.get(server.url("/")).tls(options).send()).await
}

fn platform_trusting_test_root() -> ClientBuilder {
    Client::builder()
        .platform_verifier()
        .add_root_certificate(test_root())
}

#[tokio::test]
async fn the_platform_verifier_trusts_added_roots_and_explains_its_refusals() {
    let client = platform_trusting_test_root().build().unwrap();
    assert_eq!(get(&client, Leaf::Valid).await.unwrap().status(), 200);
    for (leaf, kind) in [
        (Leaf::UnknownCa, CertificateErrorKind::UnknownIssuer),
        (Leaf::Expired, CertificateErrorKind::Expired),
        (Leaf::WrongHost, CertificateErrorKind::NameMismatch),
    ] {
        let err = get(&client, leaf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Certificate(kind), "{leaf:?}: {err}");
        println!("{leaf:?}: {err}");
    }
    let err = get(&client, Leaf::UnknownCa).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the platform verifier plus add_root_certificate()"),
        "{err}"
    );
}

#[tokio::test]
async fn a_ca_file_chosen_after_the_platform_verifier_replaces_it() {
    let client = Client::builder()
        .platform_verifier()
        .ca_file(crate::support::write_temp("root.pem", &pki().root_pem))
        .build()
        .unwrap();
    assert_eq!(get(&client, Leaf::Valid).await.unwrap().status(), 200);
    let err = get(&client, Leaf::UnknownCa).await.unwrap_err();
    assert!(!err.to_string().contains("platform verifier"), "{err}");
    assert!(err.to_string().contains("CA file"), "{err}");
}

#[tokio::test]
async fn a_request_can_ask_for_the_platform_verifier() {
    let client = trusting_test_ca().build().unwrap();
    let options = || {
        TlsOptions::new()
            .platform_verifier()
            .add_root_certificate(test_root())
    };
    let resp = get_with(&client, Leaf::Valid, options()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let err = get_with(&client, Leaf::UnknownCa, options())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("platform verifier"), "{err}");
}

#[test]
fn what_the_platform_verifier_cant_honour_is_a_builder_error() {
    let err = platform_trusting_test_root()
        .danger_accept_invalid_hostnames(true)
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(
        err.to_string().contains("danger_accept_invalid_hostnames"),
        "{err}"
    );
    let crl = CertificateRevocationList::from_pem(
        pki()
            .crl_pem(crate::support::CrlSigner::Intermediate, &[])
            .as_bytes(),
    )
    .unwrap();
    let err = platform_trusting_test_root()
        .add_crl(crl)
        .build()
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(err.to_string().contains("add_crl"), "{err}");
    // Without certificate verification, the platform's is not used at all.
    let lax = platform_trusting_test_root()
        .danger_accept_invalid_certs(true)
        .danger_accept_invalid_hostnames(true)
        .build();
    assert!(lax.is_ok());
}
