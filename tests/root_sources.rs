//! `ca_file()` replaces the system roots; `add_root_certificate()` adds to them. The
//! system store here is `SSL_CERT_FILE`, a bundle holding only the other test root, so
//! each setting is told from the other by the server that root vouches for.
//!
//! One test in this file: it sets process-wide environment variables before any client
//! exists, and the system roots are read once per process.

mod support;

use std::time::Duration;

use support::{https_server, pki, test_ca_file, write_temp, Leaf, ServerOptions, TestServer};
use wireline::{CertificateErrorKind, Client, ClientBuilder, ErrorKind};

/// Whether a client built from `builder` trusts each server, in order; a refusal must be
/// an unknown issuer.
async fn trusted(builder: ClientBuilder, servers: &[&TestServer]) -> Vec<bool> {
    let client = builder.build().unwrap();
    let mut verdicts = Vec::new();
    for server in servers {
        let outcome =
            tokio::time::timeout(Duration::from_secs(15), client.get(server.url("/")).send())
                .await
                .expect("bounded");
        verdicts.push(match outcome {
            Ok(resp) => resp.status() == 200,
            Err(err) => {
                assert_eq!(
                    err.kind(),
                    ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
                    "{err}"
                );
                false
            }
        });
    }
    verdicts
}

#[tokio::test]
async fn ca_file_replaces_the_system_roots_and_add_root_certificate_adds_to_them() {
    let system_bundle = write_temp("system-bundle.pem", &pki().other_root_pem);
    std::env::set_var("SSL_CERT_FILE", &system_bundle);
    std::env::remove_var("SSL_CERT_DIR");
    // Ours: issued under the test root, given to the builder. Theirs: issued by the other
    // root, the only one in the system store.
    let ours = https_server(ServerOptions::default()).await;
    let theirs = https_server(ServerOptions {
        leaf: Leaf::UnknownCa,
        ..ServerOptions::default()
    })
    .await;
    let both = [&ours, &theirs];

    assert_eq!(
        trusted(Client::builder(), &both).await,
        [false, true],
        "the system store alone: the other root only"
    );
    let test_root = || wireline::Certificate::from_pem(pki().root_pem.as_bytes()).unwrap();
    assert_eq!(
        trusted(Client::builder().add_root_certificate(test_root()), &both).await,
        [true, true],
        "add_root_certificate adds the test root to the system store"
    );
    assert_eq!(
        trusted(Client::builder().ca_file(test_ca_file()), &both).await,
        [true, false],
        "ca_file trusts its file instead of the system store"
    );
}
