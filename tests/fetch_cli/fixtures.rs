//! What fetch runs against in these tests: servers on 127.0.0.1 (plain, or TLS with an
//! rcgen PKI) that answer by path, and temporary files.
//!
//! The servers are raw sockets so the tests see the request bytes exactly as fetch sent
//! them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, SupportedProtocolVersion};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A directory removed when the test ends.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("wireline-fetch-cli-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub(crate) fn write(&self, name: &str, contents: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("temp file");
        path.to_str().expect("UTF-8 temp path").to_owned()
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.0
            .join(name)
            .to_str()
            .expect("UTF-8 temp path")
            .to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every byte value, invalid UTF-8, NUL and CR/LF, over several reads' worth of data.
pub(crate) fn binary_body() -> Vec<u8> {
    (0..=255u8)
        .chain(*b"\xc3\x28\x00\r\n\xff\xfe")
        .cycle()
        .take(70_000)
        .collect()
}

/// Answers by path; every response closes its connection.
///
/// `/hello` text with an `x-test` header, `/bytes` [`binary_body`], `/empty` 204,
/// `/missing` 404, `/loop` a redirect to itself, `/echo` the raw request bytes,
/// `/hang` never answers.
async fn handle<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let head = String::from_utf8_lossy(&request).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or("").to_owned();
    let path = words.next().unwrap_or("").to_owned();
    let (status, extra, body): (&str, &str, Vec<u8>) = match path.as_str() {
        "/hello" => (
            "200 OK",
            "content-type: text/plain\r\nx-test: yes\r\n",
            b"hello\n".to_vec(),
        ),
        "/bytes" => (
            "200 OK",
            "content-type: application/octet-stream\r\n",
            binary_body(),
        ),
        "/empty" => ("204 No Content", "", Vec::new()),
        "/missing" => ("404 Not Found", "", b"no such page\n".to_vec()),
        "/loop" => ("302 Found", "location: /loop\r\n", Vec::new()),
        "/echo" => ("200 OK", "", request),
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        _ => ("400 Bad Request", "", Vec::new()),
    };
    let length = if status.starts_with("204") {
        String::new()
    } else {
        format!("content-length: {}\r\n", body.len())
    };
    let mut response =
        format!("HTTP/1.1 {status}\r\n{extra}{length}connection: close\r\n\r\n").into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(&body);
    }
    let _ = stream.write_all(&response).await;
    let _ = stream.shutdown().await;
}

/// The request head and its `Content-Length` body, as received.
async fn read_request<S: AsyncRead + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await.ok().filter(|&n| n > 0)?;
        received.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |n| n.trim().parse().unwrap_or(0));
    while received.len() < head_end + length {
        let n = stream.read(&mut buf).await.ok().filter(|&n| n > 0)?;
        received.extend_from_slice(&buf[..n]);
    }
    Some(received)
}

pub(crate) async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// A plain-HTTP server; returns its base URL, without the trailing slash.
pub(crate) async fn http_server() -> String {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(handle(tcp));
        }
    });
    format!("http://{addr}")
}

/// An HTTPS server with a certificate for 127.0.0.1 from `pki`'s CA.
pub(crate) async fn https_server(
    pki: &Pki,
    versions: &[&'static SupportedProtocolVersion],
) -> String {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server_key.clone()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![pki.server_cert.clone()], key)
        .expect("server certificate");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    handle(tls).await;
                }
            });
        }
    });
    format!("https://{addr}")
}

/// A CA and a server certificate for 127.0.0.1 signed by it.
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: Vec<u8>,
}

pub(crate) fn pki(ca_name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("key")).expect("CA");
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
    server
        .distinguished_name
        .push(DnType::CommonName, "fetch test server");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().expect("key");
    let cert = server.signed_by(&key, &ca).expect("server certificate");
    Pki {
        ca_pem: ca.pem(),
        server_cert: cert.der().clone(),
        server_key: key.serialize_der(),
    }
}
