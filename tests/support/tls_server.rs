//! HTTPS test servers: what a test asks for (`ServerOptions`) turned into a rustls
//! `ServerConfig`, then served by `server.rs`.

use std::sync::Arc;

use rustls::crypto::ring::{cipher_suite, default_provider};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::echo::echo_router;
use super::handler::Handler;
use super::pki::{pki, Leaf};
use super::server::{start, start_limited, TestServer};

/// Which TLS versions the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Versions {
    /// TLS 1.2 only.
    Tls12Only,
    /// TLS 1.3 only.
    Tls13Only,
    /// TLS 1.2 and 1.3 (1.3 is chosen when the client offers it).
    #[default]
    Both,
}

/// Which application protocols the server announces over ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Alpn {
    /// "h2" and "http/1.1": a client offering h2 gets it.
    #[default]
    H2AndH1,
    /// "http/1.1" only.
    H1Only,
    /// No ALPN extension: the client falls back to HTTP/1.1.
    None,
}

/// How an [`https_server`] behaves. Start from `ServerOptions::default()`.
#[derive(Clone)]
pub struct ServerOptions {
    /// The certificate presented (default `Leaf::Valid`).
    pub leaf: Leaf,
    /// Accepted TLS versions (default both).
    pub versions: Versions,
    /// ALPN protocols announced (default h2 and http/1.1).
    pub alpn: Alpn,
    /// Demand a client certificate issued under the test root (`pki().client_identity_pem()`).
    pub require_client_cert: bool,
    /// Listen on [::1] instead of 127.0.0.1.
    pub ipv6: bool,
    /// What the server answers (default [`echo_router`]).
    pub handler: Handler,
    /// Offer only TLS 1.2 ECDHE_RSA suites, which the ECDSA leaf can't sign for: every
    /// handshake fails with a handshake_failure alert. Forces TLS 1.2 only, whatever
    /// `versions` says, since TLS 1.3 suites don't depend on the key type.
    pub cipher_suites_incompatible: bool,
    /// Present the leaf's chain but sign the handshake with an unrelated key: only a
    /// client that checks the handshake signature notices.
    pub wrong_key: bool,
    /// The concurrent streams each h2 connection allows (`SETTINGS_MAX_CONCURRENT_STREAMS`;
    /// default hyper's 200).
    pub h2_max_streams: Option<u32>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            leaf: Leaf::Valid,
            versions: Versions::Both,
            alpn: Alpn::H2AndH1,
            require_client_cert: false,
            ipv6: false,
            handler: echo_router(),
            cipher_suites_incompatible: false,
            wrong_key: false,
            h2_max_streams: None,
        }
    }
}

/// A listener on 127.0.0.1 and an acceptor presenting the default test certificate (ALPN
/// h2 and http/1.1): the start of the servers that script their own TLS connections.
pub async fn default_tls_listener() -> (TcpListener, std::net::SocketAddr, TlsAcceptor) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let acceptor = TlsAcceptor::from(server_config(&ServerOptions::default()));
    (listener, addr, acceptor)
}

/// An HTTPS server (hyper behind tokio-rustls) on 127.0.0.1:0, or [::1]:0 with `ipv6`.
pub async fn https_server(opts: ServerOptions) -> TestServer {
    let bind = if opts.ipv6 { "[::1]:0" } else { "127.0.0.1:0" };
    let listener = TcpListener::bind(bind).await.expect("bind");
    let acceptor = TlsAcceptor::from(server_config(&opts));
    start_limited(listener, Some(acceptor), opts.handler, opts.h2_max_streams)
}

/// An HTTPS server on 127.0.0.1:0 that presents `chain` (leaf first, sent as given) with
/// `key`, answers with [`echo_router`] and offers h2 and http/1.1: for certificates a test
/// makes itself rather than the shared PKI's.
pub async fn https_server_with_chain(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> TestServer {
    let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("leaf and key match");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(
        listener,
        Some(TlsAcceptor::from(Arc::new(config))),
        echo_router(),
    )
}

/// An HTTPS server on 127.0.0.1:0 with a rustls configuration the test made (another
/// provider, other key exchange groups…), answering with [`echo_router`].
pub async fn https_server_with_config(config: Arc<ServerConfig>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start(listener, Some(TlsAcceptor::from(config)), echo_router())
}

/// The rustls configuration `https_server` uses for `opts`, always on the ring provider.
pub fn server_config(opts: &ServerOptions) -> Arc<ServerConfig> {
    let mut provider = default_provider();
    if opts.cipher_suites_incompatible {
        provider.cipher_suites = vec![
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ];
    }
    let provider = Arc::new(provider);
    let versions: &[&SupportedProtocolVersion] = match opts.versions {
        _ if opts.cipher_suites_incompatible => &[&rustls::version::TLS12],
        Versions::Tls12Only => &[&rustls::version::TLS12],
        Versions::Tls13Only => &[&rustls::version::TLS13],
        Versions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("the ring provider supports these versions");
    let builder = if opts.require_client_cert {
        let roots = Arc::new(pki().root_store());
        let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .expect("client verifier");
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let chain = pki().chain_der(opts.leaf);
    let mut config = if opts.wrong_key {
        // with_single_cert would refuse a key that doesn't match the certificate.
        let key = provider
            .key_provider
            .load_private_key(pki().stray_key_der())
            .expect("stray key loads");
        let mismatched = CertifiedKey::new(chain, key);
        builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(mismatched)))
    } else {
        builder
            .with_single_cert(chain, pki().key_der(opts.leaf))
            .expect("leaf and key match")
    };
    config.alpn_protocols = match opts.alpn {
        Alpn::H2AndH1 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Alpn::H1Only => vec![b"http/1.1".to_vec()],
        Alpn::None => vec![],
    };
    Arc::new(config)
}
