//! `use_preconfigured_tls` (and reqwest's `tls_backend_preconfigured`): the user's own
//! rustls `ClientConfig`, used as given, its connections pooled apart from those of
//! requests made with other TLS settings.

use std::sync::Arc;

use crate::support::{bounded, https_server, pki, Leaf, ServerOptions, TestServer};
use wireline::tls::Certificate;
use wireline::{CertificateErrorKind, Client, ErrorKind, TlsOptions};

/// A rustls configuration trusting the test root, with these ALPN protocols.
fn config(alpn: &[&[u8]]) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki().root_store())
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

async fn server(leaf: Leaf) -> TestServer {
    https_server(ServerOptions {
        leaf,
        ..ServerOptions::default()
    })
    .await
}

async fn fetch(request: wireline::RequestBuilder) -> wireline::Result<wireline::Response> {
    bounded(request.send()).await
}

#[tokio::test]
async fn a_preconfigured_config_is_used_with_its_own_alpn() {
    let server = server(Leaf::Valid).await;
    // The builder trusts the system's roots, not the test root: only the config does.
    let plain = Client::builder().build().unwrap();
    let err = fetch(plain.get(server.url("/"))).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
        "{err}"
    );
    for (alpn, version) in [
        (&[][..], wireline::Version::HTTP_11),
        (&[&b"h2"[..], b"http/1.1"][..], wireline::Version::HTTP_2),
    ] {
        let client = Client::builder()
            .use_preconfigured_tls(config(alpn))
            .tls_info(true)
            .build()
            .unwrap();
        let resp = fetch(client.get(server.url("/"))).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), version, "ALPN {alpn:?}");
        let offered_h2 = !alpn.is_empty();
        let tls = resp.tls_info().expect("tls_info applies to it too");
        assert_eq!(tls.alpn_protocol() == Some(&b"h2"[..]), offered_h2);
    }
}

#[tokio::test]
async fn the_builders_own_tls_settings_dont_make_its_connections() {
    let unknown_ca = server(Leaf::UnknownCa).await;
    // Neither the unreadable CA file nor accepting invalid certificates applies: the
    // config is built by the user, and verifies as it was told to.
    let client = Client::builder()
        .ca_file("/nonexistent/ca.pem")
        .danger_accept_invalid_certs(true)
        .use_preconfigured_tls(config(&[]))
        .build()
        .unwrap();
    let err = fetch(client.get(unknown_ca.url("/"))).await.unwrap_err();
    // Not explained by wireline's verifier, but the kind still says which check failed.
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
        "{err}"
    );
    let shown = err.to_string();
    assert!(shown.contains("UnknownIssuer"), "{shown}");
    assert!(shown.contains("use_preconfigured_tls"), "{shown}");
}

#[tokio::test]
async fn requests_with_tls_options_get_connections_of_their_own() {
    let server = server(Leaf::Valid).await;
    let client = Client::builder()
        .use_preconfigured_tls(config(&[]))
        .build()
        .unwrap();
    let trusting_the_root = || {
        let root = Certificate::from_pem(pki().root_pem.as_bytes()).unwrap();
        TlsOptions::new().add_root_certificate(root)
    };
    let body = |request: wireline::RequestBuilder| async {
        let resp = fetch(request).await.unwrap();
        assert_eq!(resp.status(), 200);
        bounded(resp.text()).await.unwrap();
    };
    body(client.get(server.url("/"))).await;
    assert_eq!(server.accepts(), 1);
    // Options build wireline's own configuration (the system roots and the test root
    // here), on a connection of its own.
    body(client.get(server.url("/")).tls(trusting_the_root())).await;
    assert_eq!(server.accepts(), 2, "not the preconfigured connection");
    // Each configuration reuses its own connection.
    body(client.get(server.url("/"))).await;
    body(client.get(server.url("/")).tls(trusting_the_root())).await;
    // No options at all are the client's configuration, the preconfigured one.
    body(client.get(server.url("/")).tls(TlsOptions::new())).await;
    assert_eq!(server.accepts(), 2);
}

#[tokio::test]
async fn an_arc_of_a_config_is_taken_and_anything_else_is_a_builder_error_naming_it() {
    let server = server(Leaf::Valid).await;
    let client = Client::builder()
        .use_preconfigured_tls(Arc::new(config(&[])))
        .build()
        .unwrap();
    assert_eq!(
        fetch(client.get(server.url("/"))).await.unwrap().status(),
        200
    );
    let wrong = [
        (Client::builder().use_preconfigured_tls(42u8), "u8"),
        (Client::builder().use_preconfigured_tls("config"), "&str"),
    ];
    for (builder, named) in wrong {
        let err = builder.build().unwrap_err();
        assert!(err.is_builder(), "{err}");
        let shown = err.to_string();
        assert!(shown.contains("expected a rustls::ClientConfig"), "{shown}");
        assert!(shown.contains(&format!("got {named}")), "{shown}");
    }
}

#[tokio::test]
async fn tls_backend_preconfigured_is_use_preconfigured_tls() {
    let server = server(Leaf::Valid).await;
    let client = Client::builder()
        .tls_backend_preconfigured(config(&[b"h2"]))
        .build()
        .unwrap();
    let resp = fetch(client.get(server.url("/"))).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), wireline::Version::HTTP_2);
    // The no-op backend choice leaves it in place.
    let client = Client::builder()
        .tls_backend_preconfigured(config(&[]))
        .tls_backend_rustls()
        .build()
        .unwrap();
    assert_eq!(
        fetch(client.get(server.url("/"))).await.unwrap().status(),
        200
    );
}
