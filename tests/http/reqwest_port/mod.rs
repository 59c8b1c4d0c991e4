//! The test of issue 12's promise: `program.rs`, a reqwest 0.13 program, runs on wireline
//! with only its Cargo line changed. It is reqwest code as written (checked against
//! reqwest 0.13.5 with `reqwest = { version = "=0.13.5", features = ["json", "cookies",
//! "multipart", "stream", "gzip", "query", "form"] }`: `cargo check` passes), compiled
//! here with `reqwest` naming wireline (`extern crate wireline as reqwest` in `main.rs`),
//! and run against a local server standing in for `api.example.test`.

// Written as a crate of its own would be: its `pub` items are that crate's API.
#[allow(unreachable_pub)]
mod program;

use crate::support::{bounded, https_server_with_chain, pki};

#[tokio::test]
async fn a_reqwest_program_runs_unchanged() {
    let (chain, key) = pki().leaf_for(&["api.example.test"]);
    let server = https_server_with_chain(chain, key).await;
    let report = bounded(program::run(server.addr, pki().root_pem.as_bytes()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.json_a, 1);
    assert_eq!(report.echoed_auth, "Bearer t0ken");
    assert_eq!(report.echoed_agent, "inventory-sync/2.1");
    assert_eq!(report.echoed_query.as_deref(), Some("page=2&sort=name"));
    assert_eq!(report.posted_body, r#"POST {"name":"bolt","count":3}"#);
    assert_eq!(report.form_body, "name=nut&count=9");
    assert!(report
        .multipart_type
        .starts_with("multipart/form-data; boundary="));
    assert_eq!(report.redirected_to, "/echo");
    assert_eq!((report.stopped_status, report.redirects_seen), (307, 2));
    assert!(
        report
            .not_found
            .starts_with("HTTP status client error (404 Not Found) for url"),
        "{}",
        report.not_found
    );
    assert_eq!((report.streamed, report.chunked), (100_000, 50_000));
    assert!(report.peer_certificate && report.tls_version_known);
    assert_eq!(report.split_status, 200);
    assert!(report.timed_out);
    assert_eq!(
        report.cookie,
        Some(("session".to_owned(), "abc".to_owned()))
    );
    assert_eq!(report.latin1, "café");
    assert_eq!(report.remote_port, Some(server.addr.port()));
    // Every request went to the address the override named, under the URL's name.
    assert!(server
        .server_names()
        .iter()
        .all(|n| n.as_deref() == Some("api.example.test")));
}
