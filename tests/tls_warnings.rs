//! The `tracing` warning a client with weakened verification logs, once per client.
//!
//! In a binary of its own: tracing caches whether a log line is wanted per call site, for
//! the whole process, so a test building such a client on another thread without a
//! subscriber can make the line vanish from the capturing subscriber here.

mod support;

use std::sync::{Arc, Mutex};

use support::{pki, write_temp};
use wireline::Client;

#[test]
fn invalid_hostnames_logs_one_warning_per_client() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let logged = captured_logs(|| {
        let _verified = Client::builder().ca_file(&ca).build().unwrap();
        let lax = Client::builder()
            .ca_file(&ca)
            .danger_accept_invalid_hostnames(true)
            .build()
            .unwrap();
        let _clone = lax.clone();
    });
    assert_eq!(
        logged.matches("host name verification is OFF").count(),
        1,
        "{logged}"
    );
    assert!(logged.contains("WARN"), "{logged}");
}

#[test]
fn turning_verification_off_logs_one_warning_per_client() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let logged = captured_logs(|| {
        let _verified = Client::builder().ca_file(&ca).build().unwrap();
        let insecure = Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
        let _clone = insecure.clone();
    });
    assert_eq!(
        logged.matches("certificate verification is OFF").count(),
        1,
        "{logged}"
    );
    assert!(logged.contains("WARN"), "{logged}");
}

#[test]
fn a_preconfigured_config_logs_no_warning_for_the_settings_it_overrides() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(pki().root_store())
        .with_no_client_auth();
    let logged = captured_logs(|| {
        // Its connections verify with the config's roots: nothing is off.
        let _preconfigured = Client::builder()
            .danger_accept_invalid_certs(true)
            .use_preconfigured_tls(config)
            .build()
            .unwrap();
        let _insecure = Client::builder()
            .danger_accept_invalid_certs(true)
            .build()
            .unwrap();
    });
    assert_eq!(
        logged.matches("certificate verification is OFF").count(),
        1,
        "only the client without a preconfigured config warns: {logged}"
    );
}

/// What `tracing` logged while `f` ran.
fn captured_logs(f: impl FnOnce()) -> String {
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = captured.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}
