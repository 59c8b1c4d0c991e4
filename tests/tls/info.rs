//! `tls_info(true)`: each response carries the TLS parameters of its connection.

use std::time::{Duration, SystemTime};

use crate::support;
use crate::support::{
    echo_router, http_server, https_server, pki, trusting_test_ca, Alpn, ServerOptions, Versions,
};
use wireline::{Client, TlsVersion};

const BOUND: Duration = Duration::from_secs(15);

async fn get(client: &Client, url: &str) -> wireline::Response {
    tokio::time::timeout(BOUND, client.get(url).send())
        .await
        .expect("request must finish within the bound")
        .expect("request succeeds")
}

async fn server(versions: Versions, alpn: Alpn) -> support::TestServer {
    https_server(ServerOptions {
        versions,
        alpn,
        ..ServerOptions::default()
    })
    .await
}

#[tokio::test]
async fn tls13_h2_version_cipher_alpn_and_chain() {
    let server = server(Versions::Both, Alpn::H2AndH1).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = get(&client, &server.url("/")).await;
    let tls = resp.tls_info().expect("tls_info(true) over https");
    assert_eq!(tls.protocol_version(), TlsVersion::TLS_1_3);
    assert!(
        tls.cipher_suite().starts_with("TLS13_"),
        "{}",
        tls.cipher_suite()
    );
    assert_eq!(tls.alpn_protocol(), Some(&b"h2"[..]));
    assert!(!tls.session_resumed());

    let chain = tls.peer_certificates();
    assert_eq!(chain.len(), 2, "{tls:?}");
    assert_eq!(chain[0].subject(), "CN=Wireline Test Leaf");
    assert_eq!(chain[0].issuer(), "CN=Wireline Test Intermediate");
    assert_eq!(chain[1].subject(), "CN=Wireline Test Intermediate");
    assert_eq!(chain[1].issuer(), "CN=Wireline Test Root");
    assert_eq!(chain[0].der(), &pki().leaf_der(support::Leaf::Valid)[..]);
    assert_eq!(chain[1].der(), &pki().intermediate_der[..]);
    let not_after = chain[0].not_after().expect("a parsable date");
    assert!(not_after > SystemTime::now(), "{not_after:?}");
    assert_eq!(resp.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn tls12_and_http11_are_reported() {
    let server = server(Versions::Tls12Only, Alpn::H1Only).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = get(&client, &server.url("/")).await;
    let tls = resp.tls_info().expect("tls_info(true) over https");
    assert_eq!(tls.protocol_version(), TlsVersion::TLS_1_2);
    // The test leaf is ECDSA.
    assert!(
        tls.cipher_suite().starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "{}",
        tls.cipher_suite()
    );
    assert_eq!(tls.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(tls.peer_certificates().len(), 2);
}

#[tokio::test]
async fn no_alpn_from_the_server_is_none() {
    let server = server(Versions::Both, Alpn::None).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = get(&client, &server.url("/")).await;
    assert_eq!(resp.tls_info().unwrap().alpn_protocol(), None);
}

#[tokio::test]
async fn second_connection_reports_a_resumed_session() {
    for versions in [Versions::Tls13Only, Versions::Tls12Only] {
        let server = server(versions, Alpn::H2AndH1).await;
        let client = trusting_test_ca()
            .tls_info(true)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let first = get(&client, &server.url("/")).await;
        assert!(!first.tls_info().unwrap().session_resumed(), "{versions:?}");
        first.bytes().await.unwrap();
        let second = get(&client, &server.url("/")).await;
        let tls = second.tls_info().unwrap();
        assert!(tls.session_resumed(), "{versions:?}");
        // The certificates of the original handshake are still known.
        assert_eq!(tls.peer_certificates().len(), 2, "{versions:?}");
        assert_eq!(server.handshakes_resumed(), 1, "{versions:?}");
    }
}

#[tokio::test]
async fn every_response_on_a_reused_connection_has_it() {
    let server = server(Versions::Both, Alpn::H1Only).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    for _ in 0..3 {
        let resp = get(&client, &server.url("/")).await;
        assert!(resp.tls_info().is_some());
        resp.bytes().await.unwrap();
    }
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn off_by_default_and_none_over_plain_http() {
    let server = server(Versions::Both, Alpn::H2AndH1).await;
    let resp = get(&trusting_test_ca().build().unwrap(), &server.url("/")).await;
    assert!(resp.tls_info().is_none());

    let plain = http_server(echo_router()).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = get(&client, &plain.url("/")).await;
    assert!(resp.tls_info().is_none());
}
