//! `Client::reload_tls`: a rotated CA file, a renewed client identity, and reloads that
//! fail, on a live client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::crypto::ring::default_provider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use wireline::{CertificateErrorKind, Client, ErrorKind, Identity, TlsInfo};

use crate::support::{
    bounded, https_server, https_server_with_config, pki, write_temp, Leaf, ServerOptions,
};

/// Serves the certificate it was last given.
#[derive(Debug)]
struct Switchable(Mutex<Arc<CertifiedKey>>);

impl ResolvesServerCert for Switchable {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.lock().unwrap().clone())
    }
}

fn certified(leaf: Leaf) -> Arc<CertifiedKey> {
    let key = default_provider()
        .key_provider
        .load_private_key(pki().key_der(leaf))
        .unwrap();
    Arc::new(CertifiedKey::new(pki().chain_der(leaf), key))
}

/// An HTTP/1.1-only server (so two requests at once need two connections) whose
/// certificate the test switches.
async fn switchable_server() -> (crate::support::TestServer, Arc<Switchable>) {
    let switch = Arc::new(Switchable(Mutex::new(certified(Leaf::Valid))));
    let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(switch.clone());
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (https_server_with_config(Arc::new(config)).await, switch)
}

/// The leaf the server presented on the connection that carried `resp`.
fn served_by(resp: &wireline::Response) -> Vec<u8> {
    let info = resp.extensions().get::<TlsInfo>().expect("tls_info(true)");
    info.peer_certificate().expect("a leaf").to_vec()
}

#[tokio::test]
async fn a_rotated_ca_file_is_picked_up_and_no_old_connection_carries_a_later_request() {
    let (server, switch) = switchable_server().await;
    let ca_file = write_temp("ca.pem", &pki().root_pem);
    // Without resumption: a resumed session would skip the certificate the server
    // switches to.
    let client = Client::builder()
        .ca_file(&ca_file)
        .tls_info(true)
        .tls_session_resumption(false)
        .build()
        .unwrap();
    let old_leaf = pki().leaf_der(Leaf::Valid).to_vec();
    let new_leaf = pki().leaf_der(Leaf::UnknownCa).to_vec();
    let first = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(served_by(&first), old_leaf);
    bounded(first.text()).await.unwrap();

    // A slow request on the pooled connection, in flight through the whole rotation.
    let slow = tokio::spawn(client.get(server.url("/slow?ms=700")).send());
    tokio::time::sleep(Duration::from_millis(150)).await;

    // The server moves to a certificate from another CA: new connections fail.
    *switch.0.lock().unwrap() = certified(Leaf::UnknownCa);
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
        "{err}"
    );

    // The CA file is rotated and the client reloads it.
    std::fs::write(&ca_file, &pki().other_root_pem).unwrap();
    client.reload_tls().unwrap();
    let after = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(after.status(), 200);
    assert_eq!(served_by(&after), new_leaf);
    bounded(after.text()).await.unwrap();

    // The request sent before the reload finished on its old connection...
    let slow = bounded(slow).await.unwrap().unwrap();
    assert_eq!(served_by(&slow), old_leaf);
    assert_eq!(bounded(slow.text()).await.unwrap(), "slow");
    // ...which, idle now, carries none of the requests sent after the reload.
    for _ in 0..3 {
        let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
        assert_eq!(served_by(&resp), new_leaf, "an old connection was reused");
        bounded(resp.text()).await.unwrap();
    }
    // Clones share the reload.
    let clone = client.clone();
    let resp = bounded(clone.get(server.url("/")).send()).await.unwrap();
    assert_eq!(served_by(&resp), new_leaf);
}

#[tokio::test]
async fn a_reload_that_fails_keeps_the_configuration_and_one_that_succeeds_replaces_it() {
    let server = https_server(ServerOptions::default()).await;
    let ca_file = write_temp("ca.pem", &pki().root_pem);
    // No idle connection kept: every request opens one, under the current configuration.
    let client = Client::builder()
        .ca_file(&ca_file)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    assert_eq!(
        bounded(client.get(server.url("/")).send())
            .await
            .unwrap()
            .status(),
        200
    );

    std::fs::write(&ca_file, "not a certificate").unwrap();
    let err = client.reload_tls().unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    assert!(
        err.to_string().contains(&ca_file.display().to_string()),
        "{err}"
    );
    let kept = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(kept.status(), 200, "the previous configuration stays");

    // A CA file that doesn't vouch for the server: the reload succeeds, and the next
    // connection is refused, so the reload did replace the configuration.
    std::fs::write(&ca_file, &pki().other_root_pem).unwrap();
    client.reload_tls().unwrap();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_certificate(), "{err:?}");
}

#[tokio::test]
async fn a_renewed_identity_file_is_read_again_by_a_reload() {
    let server = https_server(ServerOptions {
        require_client_cert: true,
        ..ServerOptions::default()
    })
    .await;
    let identity_file = write_temp("client.pem", pki().client_identity_pem());
    let identity = Identity::from_pem_file(&identity_file).unwrap();
    let client = crate::support::trusting_test_ca()
        .identity(identity)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let ok = |client: &Client| {
        let request = client.get(server.url("/")).send();
        async move { bounded(async { request.await?.error_for_status()?.text().await }).await }
    };
    assert_eq!(ok(&client).await.unwrap(), "hello");

    // A broken file: the reload fails naming it, and the old identity stays.
    std::fs::write(&identity_file, "garbage").unwrap();
    let err = client.reload_tls().unwrap_err();
    assert!(err.to_string().contains("client.pem"), "{err}");
    assert_eq!(ok(&client).await.unwrap(), "hello");

    // An identity the server's CA didn't issue: read by the reload, refused by the server.
    let stranger = rcgen::generate_simple_self_signed(vec!["stranger".to_owned()]).unwrap();
    let pem = format!(
        "{}{}",
        stranger.cert.pem(),
        stranger.signing_key.serialize_pem()
    );
    std::fs::write(&identity_file, pem).unwrap();
    client.reload_tls().unwrap();
    assert!(ok(&client).await.is_err(), "the renewed identity was sent");
}
