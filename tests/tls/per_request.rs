//! Per-request TLS settings (`RequestBuilder::tls`): they apply to that request and its
//! redirects only, and connections are never shared across TLS configurations
//! (requests' GHSA-9wx4-h78v-vm56: a `verify=False` call left an unverified connection in
//! the pool for later verified calls to the same host).

use crate::support::{
    bounded, https_server, pki, trusting_test_ca, write_temp, Leaf, ServerOptions,
};
use crate::support::{TestServer, Versions};
use wireline::{Client, ErrorKind, TlsOptions, TlsVersion};

async fn server(leaf: Leaf) -> TestServer {
    https_server(ServerOptions {
        leaf,
        ..ServerOptions::default()
    })
    .await
}

async fn fetch(
    client: &Client,
    url: &str,
    options: Option<TlsOptions>,
) -> wireline::Result<String> {
    bounded(async {
        let mut request = client.get(url);
        if let Some(options) = options {
            request = request.tls(options);
        }
        request.send().await?.text().await
    })
    .await
}

fn no_verification() -> Option<TlsOptions> {
    Some(TlsOptions::new().danger_accept_invalid_certs(true))
}

#[tokio::test]
async fn an_unverified_request_leaves_no_connection_for_a_verified_one() {
    let server = server(Leaf::SelfSigned).await;
    let client = trusting_test_ca().build().unwrap();
    let url = server.url("/");

    assert_eq!(
        fetch(&client, &url, no_verification()).await.unwrap(),
        "hello"
    );
    // Same client, same host, and an idle connection in a pool: it must not be used.
    let err = fetch(&client, &url, None).await.unwrap_err();
    assert!(err.is_certificate(), "{err}");
    assert!(err.to_string().contains("self-signed"), "{err}");
    assert_eq!(
        server.handshakes(),
        1,
        "the refused handshake is not counted"
    );
    assert_eq!(
        server.accepts(),
        2,
        "the verified request opened its own connection"
    );

    // And the unverified configuration keeps its own connection for its own requests.
    assert_eq!(
        fetch(&client, &url, no_verification()).await.unwrap(),
        "hello"
    );
    assert_eq!(server.accepts(), 2, "reused the unverified connection");
}

#[tokio::test]
async fn a_verifying_request_on_an_unverifying_client_is_verified() {
    let server = server(Leaf::UnknownCa).await;
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let url = server.url("/");
    assert_eq!(fetch(&client, &url, None).await.unwrap(), "hello");
    let verify = TlsOptions::new()
        .danger_accept_invalid_certs(false)
        .ca_file(write_temp("ca.pem", &pki().root_pem));
    let err = fetch(&client, &url, Some(verify)).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(wireline::CertificateErrorKind::UnknownIssuer),
        "{err}"
    );
}

#[tokio::test]
async fn a_ca_file_for_one_request_trusts_for_that_request_only() {
    let server = server(Leaf::Valid).await;
    // Trusts only a CA that did not issue the server's certificate.
    let client = Client::builder()
        .ca_file(write_temp("other-ca.pem", &pki().other_root_pem))
        .build()
        .unwrap();
    let url = server.url("/");
    let ca = write_temp("ca.pem", &pki().root_pem);
    let test_ca = || Some(TlsOptions::new().ca_file(&ca));
    assert_eq!(fetch(&client, &url, test_ca()).await.unwrap(), "hello");
    let err = fetch(&client, &url, None).await.unwrap_err();
    assert!(err.is_certificate(), "{err}");
    // Equal options made anew share one pool: the second request reuses the connection.
    assert_eq!(fetch(&client, &url, test_ca()).await.unwrap(), "hello");
    assert_eq!(server.handshakes(), 1);
}

#[tokio::test]
async fn options_that_change_nothing_use_the_clients_connections() {
    let server = server(Leaf::Valid).await;
    let client = trusting_test_ca().build().unwrap();
    let url = server.url("/");
    assert_eq!(fetch(&client, &url, None).await.unwrap(), "hello");
    let same = TlsOptions::new().danger_accept_invalid_certs(false);
    assert_eq!(fetch(&client, &url, Some(same)).await.unwrap(), "hello");
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn a_minimum_version_for_one_request_refuses_an_older_server() {
    let server = https_server(ServerOptions {
        versions: Versions::Tls12Only,
        ..ServerOptions::default()
    })
    .await;
    let client = trusting_test_ca().build().unwrap();
    let url = server.url("/");
    let tls13 = Some(TlsOptions::new().min_tls_version(TlsVersion::TLS_1_3));
    let err = fetch(&client, &url, tls13).await.unwrap_err();
    assert!(err.is_tls(), "{err}");
    assert!(err.to_string().contains("TLS 1.3"), "{err}");
    assert_eq!(fetch(&client, &url, None).await.unwrap(), "hello");
}

#[tokio::test]
async fn redirects_follow_under_the_requests_options() {
    let target = server(Leaf::SelfSigned).await;
    let start = server(Leaf::SelfSigned).await;
    let to: String = url::form_urlencoded::byte_serialize(target.url("/").as_bytes()).collect();
    let url = start.url(&format!("/redirect?status=302&to={to}"));
    let client = trusting_test_ca().build().unwrap();
    assert_eq!(
        fetch(&client, &url, no_verification()).await.unwrap(),
        "hello"
    );
    assert!(fetch(&client, &url, None)
        .await
        .unwrap_err()
        .is_certificate());
}

#[tokio::test]
async fn an_unreadable_ca_file_fails_the_request_naming_it() {
    let client = Client::new();
    let options = TlsOptions::new().ca_file("/nonexistent/wireline-ca.pem");
    let err = fetch(&client, "https://127.0.0.1:9/", Some(options))
        .await
        .unwrap_err();
    assert!(err.is_builder(), "{err}");
    assert!(
        err.to_string().contains("/nonexistent/wireline-ca.pem"),
        "{err}"
    );
}
