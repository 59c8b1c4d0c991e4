//! With no usable system roots, `Client::new()` still works for http and each https
//! request fails saying why; `build()` fails up front. Verification is never turned off.
//!
//! In a binary of its own: it sets SSL_CERT_FILE before any client exists, and the system
//! roots are read once per process (tests/system_roots.rs needs other roots, in another).

mod support;

use std::time::Duration;

use support::{https_server, write_temp, ServerOptions};
use wireline::{Client, ErrorKind, TlsErrorKind};

#[tokio::test]
async fn missing_system_roots_are_reported_not_ignored() {
    let garbage = write_temp("no-roots.pem", "not a certificate\n");
    std::env::set_var("SSL_CERT_FILE", &garbage);
    std::env::remove_var("SSL_CERT_DIR");
    let server = https_server(ServerOptions::default()).await;

    let client = Client::new();
    let err = tokio::time::timeout(Duration::from_secs(15), client.get(server.url("/")).send())
        .await
        .expect("bounded")
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
        "{err}"
    );
    let shown = err.to_string();
    assert!(shown.contains("no trusted root certificates"), "{shown}");
    assert!(shown.contains("ca_file()"), "{shown}");
    assert_eq!(server.accepts(), 0, "nothing is sent without roots");

    let err = Client::builder().build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls(TlsErrorKind::NoTrustedRoots));

    // A CA given explicitly still works.
    let ca = wireline::Certificate::from_pem(support::pki().root_pem.as_bytes()).unwrap();
    let client = Client::builder().add_root_certificate(ca).build().unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(15), client.get(server.url("/")).send())
        .await
        .expect("bounded")
        .unwrap();
    assert_eq!(resp.status(), 200);
}
