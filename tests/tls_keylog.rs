//! `tls_keylog(true)` (and reqwest's `tls_sslkeylogfile(true)`): session secrets go to the
//! file SSLKEYLOGFILE names.
//!
//! In a binary of its own, since the environment variable is the whole process's.

mod support;

use std::time::Duration;

use support::{https_server, pki, temp_path, write_temp, ServerOptions, Versions};
use wireline::Client;

const BOUND: Duration = Duration::from_secs(15);

#[tokio::test]
async fn keylog_writes_the_secrets_of_tls12_and_tls13_sessions() {
    let keys = temp_path("keys.log");
    // The only test in this binary: nothing else reads the environment meanwhile.
    std::env::set_var("SSLKEYLOGFILE", &keys);
    let ca = write_temp("ca.pem", &pki().root_pem);
    let client = Client::builder()
        .ca_file(ca)
        .tls_keylog(true)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for versions in [Versions::Tls13Only, Versions::Tls12Only] {
        let server = https_server(ServerOptions {
            versions,
            ..ServerOptions::default()
        })
        .await;
        let resp = tokio::time::timeout(BOUND, client.get(server.url("/")).send())
            .await
            .expect("bounded")
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let written = std::fs::read_to_string(&keys).expect("the key log exists");
    // TLS 1.3 logs traffic secrets, TLS 1.2 the master secret as CLIENT_RANDOM.
    assert!(
        written.contains("CLIENT_TRAFFIC_SECRET_0 "),
        "no TLS 1.3 secret: {written}"
    );
    assert!(
        written.contains("CLIENT_RANDOM "),
        "no TLS 1.2 secret: {written}"
    );
    for line in written.lines() {
        assert_eq!(line.split(' ').count(), 3, "not NSS key log format: {line}");
    }

    // Off (the default), nothing more is written.
    let before = written.len();
    let quiet = Client::builder()
        .ca_file(write_temp("ca.pem", &pki().root_pem))
        .build()
        .unwrap();
    let server = https_server(ServerOptions::default()).await;
    tokio::time::timeout(BOUND, quiet.get(server.url("/")).send())
        .await
        .expect("bounded")
        .unwrap();
    let after = std::fs::read_to_string(&keys).unwrap().len();
    assert_eq!(before, after);

    // reqwest's name for it, tls_sslkeylogfile(true), writes the secrets too.
    let reqwest_named = Client::builder()
        .ca_file(write_temp("ca.pem", &pki().root_pem))
        .tls_sslkeylogfile(true)
        .build()
        .unwrap();
    tokio::time::timeout(BOUND, reqwest_named.get(server.url("/")).send())
        .await
        .expect("bounded")
        .unwrap();
    let written = std::fs::read_to_string(&keys).unwrap();
    assert!(
        written[after..].contains("CLIENT_TRAFFIC_SECRET_0 "),
        "nothing more: {written}"
    );
}
