//! The benchmark server: TLS (rustls, ALPN h2 and http/1.1, session resumption on) in front
//! of hyper-util's auto (h1 or h2) connection, on a single-threaded runtime.

pub mod pki;
pub mod routes;
pub mod stats;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::HandshakeKind;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::BoxError;
use stats::COUNTERS;

/// h2 flow-control windows of the server: as large as hyper's client defaults, so an
/// h2 upload is not throttled by a smaller window than a download gets.
const H2_STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const H2_CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

/// Writes the CA to `ca_out`, prints `{"port":…,"stats_port":…}` on stdout once listening,
/// then serves until killed.
pub async fn run(ca_out: &std::path::Path) -> Result<(), BoxError> {
    let pki = pki::generate()?;
    std::fs::write(ca_out, &pki.ca_pem)
        .map_err(|e| format!("writing the CA to {}: {e}", ca_out.display()))?;
    let mut config = pki.server_config()?;
    // The default in-memory session cache (256) would be churned by newconn's
    // thousands of connections per second; a larger one keeps resumption hits honest.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(16 * 1024);
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let stats_listener = TcpListener::bind("127.0.0.1:0").await?;
    println!(
        "{}",
        serde_json::json!({
            "port": listener.local_addr()?.port(),
            "stats_port": stats_listener.local_addr()?.port(),
        })
    );
    tokio::spawn(stats::serve(stats_listener));

    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http2()
        .initial_stream_window_size(H2_STREAM_WINDOW)
        .initial_connection_window_size(H2_CONNECTION_WINDOW)
        .max_concurrent_streams(256);
    let http = Arc::new(http);
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let (acceptor, http) = (acceptor.clone(), http.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            COUNTERS.connections.fetch_add(1, Ordering::Relaxed);
            let counter = match tls.get_ref().1.handshake_kind() {
                Some(HandshakeKind::Resumed) => &COUNTERS.resumed_handshakes,
                _ => &COUNTERS.full_handshakes,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let _ = http
                .serve_connection(TokioIo::new(tls), service_fn(routes::handle))
                .await;
        });
    }
}
