//! The tour's servers on 127.0.0.1: HTTPS with a given certificate and TLS versions, and
//! one plain-HTTP server. Each answers every request with a short text until the tour ends.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::{ServerConfig, SupportedProtocolVersion};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::pki::ServerCert;
use crate::Failure;

/// Starts an HTTPS server presenting `cert`, speaking these TLS versions (h2 or HTTP/1.1
/// by ALPN), and returns its URL.
pub(crate) async fn https(
    cert: &ServerCert,
    versions: &[&'static SupportedProtocolVersion],
) -> Result<String, Failure> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(cert.chain.clone(), cert.key())?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("https://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // Failed handshakes are what most steps are about; the client reports them.
                if let Ok(tls) = acceptor.accept(tcp).await {
                    hello(tls).await;
                }
            });
        }
    });
    Ok(url)
}

/// Starts a plain-HTTP server and returns an `https://` URL for it: the mistake of
/// pointing an HTTPS client at an HTTP port.
pub(crate) async fn plain_http_as_https() -> Result<String, Failure> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let url = format!("https://{}/", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(hello(tcp));
        }
    });
    Ok(url)
}

/// Serves one connection, answering every request with the same text.
async fn hello(io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static) {
    let service = service_fn(|_request| async {
        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
            b"hello from the tour server\n",
        ))))
    });
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
}
