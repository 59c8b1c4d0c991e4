//! A tour of wireline's TLS verification modes against HTTPS servers it starts on 127.0.0.1.
//!
//! Needs no network: it makes a throwaway CA with rcgen, serves HTTPS with a certificate
//! from it, and sends one request per mode, printing what happens and why.
//!
//! ```text
//! cargo run --example tour
//! ```

use std::convert::Infallible;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::version::{TLS12, TLS13};
use rustls::{ServerConfig, SupportedProtocolVersion};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use wireline::{Client, TlsVersion};

type Failure = Box<dyn std::error::Error>;

/// Every request of the tour is local and small: nothing should take this long.
const LIMIT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<(), Failure> {
    // wireline reports `danger_accept_invalid_certs` with a `tracing` warning; show it
    // inline with the narration.
    tracing_subscriber::fmt()
        .with_writer(std::io::stdout)
        .with_ansi(std::io::stdout().is_terminal())
        .with_max_level(tracing::Level::WARN)
        .without_time()
        .with_target(false)
        .init();

    println!("wireline tour: four ways to check a server's certificate, all on 127.0.0.1\n");
    let dir = std::env::temp_dir().join(format!("wireline-tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = tour(&dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn tour(dir: &Path) -> Result<(), Failure> {
    let pki = Pki::new()?;
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem)?;
    let modern = serve(&pki, &[&TLS13, &TLS12]).await?;
    let old = serve(&pki, &[&TLS12]).await?;
    println!(
        "Made a CA named \"wireline tour CA\" and wrote it to {}.",
        ca_file.display()
    );
    println!("Server A at {modern} speaks TLS 1.2 and 1.3; server B at {old} only TLS 1.2.");
    println!("Both show a certificate for 127.0.0.1 signed by that CA.\n");

    println!("1. System roots: Client::new(), the default.");
    println!("   Our CA is not among this machine's roots, so the request must fail:");
    // Client::new() never fails: with no system roots, the request says so instead.
    show(Client::new().get(&modern).timeout(LIMIT).send().await).await;

    println!("2. A CA file: Client::builder().ca_file(\"ca.pem\") (curl --cacert).");
    println!("   Only that CA is trusted, and it signed the server's certificate:");
    let client = Client::builder().ca_file(&ca_file).timeout(LIMIT).build()?;
    show(client.get(&modern).send().await).await;

    println!("3. Verification off: .danger_accept_invalid_certs(true) (curl -k).");
    println!("   Any certificate passes, and wireline logs a warning when the client is built:");
    let client = Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(LIMIT)
        .build()?;
    show(client.get(&modern).send().await).await;

    println!("4. A minimum version: .min_tls_version(TlsVersion::TLS_1_3), against server B.");
    println!("   The CA is trusted, but B can't speak TLS 1.3, so the handshake fails:");
    let client = Client::builder()
        .ca_file(&ca_file)
        .min_tls_version(TlsVersion::TLS_1_3)
        .timeout(LIMIT)
        .build()?;
    show(client.get(&old).send().await).await;

    println!("That's the tour. docs/tls.md explains how to pick a mode.");
    Ok(())
}

/// Prints the outcome of one step: the answer, or the error's kind and its full message.
async fn show(outcome: wireline::Result<wireline::Response>) {
    match outcome {
        Ok(resp) => {
            let head = format!("{} over {:?}", resp.status(), resp.version());
            match resp.text().await {
                Ok(text) => println!("   -> {head}: {text:?}"),
                Err(e) => println!("   -> {head}, then reading the body failed: {e}"),
            }
        }
        Err(e) => {
            println!("   -> error, kind {:?}:", e.kind());
            println!("      {e}");
        }
    }
    println!();
}

/// A CA, and a server certificate for 127.0.0.1 signed by it.
struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
}

impl Pki {
    fn new() -> Result<Pki, rcgen::Error> {
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name
            .push(DnType::CommonName, "wireline tour CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;

        let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
        server
            .distinguished_name
            .push(DnType::CommonName, "wireline tour server");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = KeyPair::generate()?;
        let server_cert = server.signed_by(&server_key, &ca)?;
        Ok(Pki {
            ca_pem: ca.pem(),
            // The leaf alone, as servers usually send it when the CA is a root.
            server_chain: vec![server_cert.der().clone()],
            server_key: server_key.serialize_der(),
        })
    }
}

/// Starts an HTTPS server speaking these TLS versions (h2 or HTTP/1.1 by ALPN) and returns
/// its URL. It answers every request with a short text and runs until the tour ends.
async fn serve(
    pki: &Pki,
    versions: &[&'static SupportedProtocolVersion],
) -> Result<String, Failure> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(pki.server_chain.clone(), key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("https://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // Failed handshakes are what some steps are about; the client reports them.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let hello = service_fn(|_request| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                        b"hello from the tour server\n",
                    ))))
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), hello)
                    .await;
            });
        }
    });
    Ok(url)
}
