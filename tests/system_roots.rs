//! The system roots: SSL_CERT_FILE is honoured, the store is read once per process, and
//! again by `Client::reload_tls`.
//!
//! One test in this file: it sets process-wide environment variables before any client
//! exists, and the roots it loads stay for the life of this test process.

mod support;

use std::time::Duration;

use support::{https_server, pki, write_temp, ServerOptions};
use wireline::Client;

#[tokio::test]
async fn system_roots_come_from_ssl_cert_file_and_are_read_once_until_a_reload() {
    let bundle = write_temp("system-bundle.pem", &pki().root_pem);
    std::env::set_var("SSL_CERT_FILE", &bundle);
    std::env::remove_var("SSL_CERT_DIR");
    let server = https_server(ServerOptions::default()).await;

    let first = Client::new();
    let resp = tokio::time::timeout(Duration::from_secs(15), first.get(server.url("/")).send())
        .await
        .expect("bounded")
        .expect("the SSL_CERT_FILE bundle is the system store");
    assert_eq!(resp.status(), 200);

    // Replace the bundle with one that would reject the server: a client made now must
    // still trust it, because the system store is not read again.
    std::fs::write(&bundle, &pki().other_root_pem).unwrap();
    let second = Client::builder().http1_only().build().unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(15), second.get(server.url("/")).send())
        .await
        .expect("bounded")
        .expect("roots were loaded once, before the file changed");
    assert_eq!(resp.status(), 200);

    // `reload_tls` reads the store again: the server's CA is gone from it now, for the
    // reloading client and for the clients built after it; `first` keeps what it had.
    second.reload_tls().unwrap();
    let bounded = |client: &Client| {
        let sending = client.get(server.url("/")).send();
        async move {
            tokio::time::timeout(Duration::from_secs(15), sending)
                .await
                .expect("bounded")
        }
    };
    let err = bounded(&second).await.unwrap_err();
    assert!(err.is_certificate(), "{err:?}");
    let err = bounded(&Client::new()).await.unwrap_err();
    assert!(err.is_certificate(), "{err:?}");
    assert_eq!(bounded(&first).await.unwrap().status(), 200);
}
