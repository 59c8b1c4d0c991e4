//! TLS modes through the blocking client: trusting a CA, the explained refusals, turning
//! verification off for the client or for one request, the version range.

use wireline::{CertificateErrorKind, ErrorKind, TlsErrorKind, TlsOptions, TlsVersion, Version};

use crate::support::{https_server, Leaf, ServerOptions, Versions};
use crate::{serve, trusting, within_bound};

fn server_with(leaf: Leaf, versions: Versions) -> crate::support::TestServer {
    serve(https_server(ServerOptions {
        leaf,
        versions,
        ..ServerOptions::default()
    }))
}

#[test]
fn a_server_certified_by_the_ca_given_is_trusted_and_speaks_h2() {
    let server = server_with(Leaf::Valid, Versions::Both);
    within_bound(move || {
        let client = trusting().tls_info(true).build().unwrap();
        let resp = client.get(server.url("/")).send().unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        let tls = resp.tls_info().expect("tls_info(true)");
        assert!(!tls.peer_certificate().unwrap().is_empty());
        assert_eq!(resp.text().unwrap(), "hello");
    });
}

#[test]
fn an_unknown_issuer_is_refused_with_its_kind() {
    let server = server_with(Leaf::UnknownCa, Versions::Both);
    within_bound(move || {
        let err = trusting()
            .build()
            .unwrap()
            .get(server.url("/"))
            .send()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
            "{err}"
        );
    });
}

#[test]
fn danger_accept_invalid_certs_accepts_an_expired_certificate_the_default_refuses() {
    let server = server_with(Leaf::Expired, Versions::Both);
    within_bound(move || {
        let err = trusting()
            .build()
            .unwrap()
            .get(server.url("/"))
            .send()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Certificate(CertificateErrorKind::Expired),
            "{err}"
        );
        let lenient = trusting()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let resp = lenient.get(server.url("/")).send().unwrap();
        assert_eq!(resp.text().unwrap(), "hello");
    });
}

#[test]
fn one_request_can_change_the_tls_settings() {
    let server = server_with(Leaf::Expired, Versions::Both);
    within_bound(move || {
        let client = trusting().build().unwrap();
        let resp = client
            .get(server.url("/"))
            .tls(TlsOptions::new().danger_accept_invalid_certs(true))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        // The client's own settings still refuse it.
        let err = client.get(server.url("/")).send().unwrap_err();
        assert!(err.is_certificate(), "{err:?}");
    });
}

#[test]
fn min_tls_version_refuses_a_server_below_it() {
    let server = server_with(Leaf::Valid, Versions::Tls12Only);
    within_bound(move || {
        let err = trusting()
            .min_tls_version(TlsVersion::TLS_1_3)
            .build()
            .unwrap()
            .get(server.url("/"))
            .send()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Tls(TlsErrorKind::ProtocolVersion),
            "{err}"
        );
        let resp = trusting().build().unwrap().get(server.url("/")).send();
        assert_eq!(resp.unwrap().status(), 200);
    });
}
