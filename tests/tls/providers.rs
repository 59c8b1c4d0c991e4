//! The `aws-lc-rs` crypto provider: the post-quantum hybrid key exchange X25519MLKEM768,
//! offered first, and the classical groups still there for servers without it.

use std::sync::Arc;

use rustls::crypto::aws_lc_rs::{self, kx_group};
use rustls::ServerConfig;

use crate::support::{
    bounded, https_server, https_server_with_config, pki, trusting_test_ca, Leaf, ServerOptions,
};

/// A TLS 1.3 server (the hybrid groups exist only there) whose one key exchange group is
/// X25519MLKEM768: a client without it can't complete a handshake.
fn post_quantum_only() -> Arc<ServerConfig> {
    let mut provider = aws_lc_rs::default_provider();
    provider.kx_groups = vec![kx_group::X25519MLKEM768];
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki().chain_der(Leaf::Valid), pki().key_der(Leaf::Valid))
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

#[tokio::test]
async fn a_server_offering_only_x25519mlkem768_is_reached_with_it() {
    let server = https_server_with_config(post_quantum_only()).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.status(), 200);
    let tls = resp.tls_info().expect("tls_info(true)");
    assert_eq!(tls.key_exchange_group(), Some("X25519MLKEM768"));
    assert_eq!(server.handshakes(), 1);
}

#[tokio::test]
async fn a_server_without_post_quantum_groups_gets_x25519() {
    // The usual test server runs on ring, which has no ML-KEM.
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    let tls = resp.tls_info().expect("tls_info(true)");
    assert_eq!(tls.key_exchange_group(), Some("X25519"));
}
