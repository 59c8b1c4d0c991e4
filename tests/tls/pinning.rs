//! Public-key pinning (`pin_sha256`): on top of normal verification, per host, with
//! rotation, and still enforced when verification is off.

use crate::support::{
    bounded, https_server, pki, trusting_test_ca, Leaf, ServerOptions, TestServer,
};
use wireline::{CertificateErrorKind, Client, ErrorKind};

/// A pin no test certificate has: the SHA-256 of nothing.
const UNRELATED_PIN: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

async fn server(leaf: Leaf) -> TestServer {
    https_server(ServerOptions {
        leaf,
        ..ServerOptions::default()
    })
    .await
}

async fn get(client: &Client, url: &str) -> wireline::Result<wireline::Response> {
    bounded(client.get(url).send()).await
}

#[tokio::test]
async fn the_servers_own_pin_passes() {
    let server = server(Leaf::Valid).await;
    let client = trusting_test_ca()
        .pin_sha256("127.0.0.1", &pki().spki_sha256(Leaf::Valid))
        .build()
        .unwrap();
    let resp = get(&client, &server.url("/")).await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "hello");
}

#[tokio::test]
async fn a_wrong_pin_fails_naming_host_actual_key_expected_pins_and_fix() {
    let server = server(Leaf::Valid).await;
    // The key of another certificate of the same CA: valid, trusted, and not pinned.
    let other = pki().spki_sha256(Leaf::Revoked);
    let client = trusting_test_ca()
        .pin_sha256("127.0.0.1", &other)
        .pin_sha256("127.0.0.1", UNRELATED_PIN)
        .build()
        .unwrap();
    let err = get(&client, &server.url("/")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::PinMismatch),
        "{err}"
    );
    assert!(err.is_certificate() && err.is_tls() && err.is_connect());
    let shown = err.to_string();
    println!("{shown}");
    let actual = format!("sha256//{}", pki().spki_sha256(Leaf::Valid));
    for part in [
        "certificate for 127.0.0.1 (CN=Wireline Test Leaf)",
        &format!("has public key {actual}"),
        "pins set for 127.0.0.1 with pin_sha256()",
        &format!("sha256//{other}"),
        &format!("sha256//{UNRELATED_PIN}"),
        "add its new pin",
        "intercepted",
    ] {
        assert!(shown.contains(part), "missing {part:?} in: {shown}");
    }
}

#[tokio::test]
async fn one_matching_pin_among_several_passes() {
    let server = server(Leaf::Valid).await;
    // Rotation: the next key is pinned beside the current one, in either order.
    let next = pki().spki_sha256(Leaf::Revoked);
    let current = format!("sha256//{}", pki().spki_sha256(Leaf::Valid));
    for pins in [[next.as_str(), &current], [&current, next.as_str()]] {
        let client = trusting_test_ca()
            .pin_sha256("127.0.0.1", pins[0])
            .pin_sha256("127.0.0.1", pins[1])
            .build()
            .unwrap();
        assert_eq!(get(&client, &server.url("/")).await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn a_pin_for_another_host_leaves_this_host_alone() {
    let server = server(Leaf::Valid).await;
    let client = trusting_test_ca()
        .pin_sha256("localhost", UNRELATED_PIN)
        .pin_sha256("::1", UNRELATED_PIN)
        .build()
        .unwrap();
    assert_eq!(get(&client, &server.url("/")).await.unwrap().status(), 200);
    // The same server by the pinned name is refused: the pin is keyed by the URL's host.
    let err = get(&client, &server.url_host("localhost", "/"))
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::PinMismatch),
        "{err}"
    );
}

#[tokio::test]
async fn hosts_match_case_insensitively_and_ipv6_with_or_without_brackets() {
    let v6 = https_server(ServerOptions {
        ipv6: true,
        ..ServerOptions::default()
    })
    .await;
    let v4 = server(Leaf::Valid).await;
    for (host, url) in [
        ("[::1]", v6.url("/")),
        ("::1", v6.url("/")),
        ("LocalHost.", v4.url_host("localhost", "/")),
    ] {
        let client = trusting_test_ca()
            .pin_sha256(host, UNRELATED_PIN)
            .build()
            .unwrap();
        let err = get(&client, &url).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Certificate(CertificateErrorKind::PinMismatch),
            "{host}: {err}"
        );
    }
}

#[tokio::test]
async fn a_pin_never_overrides_verification() {
    // The right pin on an expired certificate: the expiry is what is reported.
    let server = server(Leaf::Expired).await;
    let client = trusting_test_ca()
        .pin_sha256("127.0.0.1", &pki().spki_sha256(Leaf::Expired))
        .build()
        .unwrap();
    let err = get(&client, &server.url("/")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::Expired),
        "{err}"
    );
}

#[tokio::test]
async fn pins_still_apply_with_accept_invalid_certs() {
    let server = server(Leaf::SelfSigned).await;
    let wrong = Client::builder()
        .danger_accept_invalid_certs(true)
        .pin_sha256("127.0.0.1", UNRELATED_PIN)
        .build()
        .unwrap();
    let err = get(&wrong, &server.url("/")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::PinMismatch),
        "{err}"
    );
    assert!(err.to_string().contains("CN=self-signed.test"), "{err}");

    // The pin is then the whole check, as with curl -k --pinnedpubkey.
    let right = Client::builder()
        .danger_accept_invalid_certs(true)
        .pin_sha256("127.0.0.1", &pki().spki_sha256(Leaf::SelfSigned))
        .build()
        .unwrap();
    assert_eq!(get(&right, &server.url("/")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn pins_apply_with_accept_invalid_hostnames() {
    let server = server(Leaf::WrongHost).await;
    let client = trusting_test_ca()
        .danger_accept_invalid_hostnames(true)
        .pin_sha256("127.0.0.1", UNRELATED_PIN)
        .build()
        .unwrap();
    let err = get(&client, &server.url("/")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::PinMismatch),
        "{err}"
    );
}

#[test]
fn malformed_pins_and_hosts_fail_build() {
    for (host, pin, expected) in [
        (
            "example.com",
            "not base64!",
            "is not the base64 of a SHA-256 digest",
        ),
        // 16 bytes: the length of an MD5, not a SHA-256.
        (
            "example.com",
            "AAAAAAAAAAAAAAAAAAAAAA==",
            "\"AAAAAAAAAAAAAAAAAAAAAA==\"",
        ),
        (
            "example.com",
            "sha1//2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
            "pin_sha256 for example.com",
        ),
        (
            "https://example.com/",
            UNRELATED_PIN,
            "is not a host name or an IP address",
        ),
        ("example.com:443", UNRELATED_PIN, "without scheme or port"),
    ] {
        let err = Client::builder()
            .pin_sha256(host, pin)
            .build()
            .expect_err(host);
        assert!(err.is_builder(), "{host} {pin}: {err}");
        assert!(
            err.to_string().contains(expected),
            "{host} {pin}: missing {expected:?} in {err}"
        );
    }
}
