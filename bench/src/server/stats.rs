//! What the server saw (connections, full and resumed handshakes, requests), served as one
//! JSON line to anyone who connects to the stats port, so the runner can check each client
//! run did what its scenario claims.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Counters since the server started.
#[derive(Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub full_handshakes: AtomicU64,
    pub resumed_handshakes: AtomicU64,
    pub requests: AtomicU64,
}

/// The process's counters.
pub static COUNTERS: Counters = Counters {
    connections: AtomicU64::new(0),
    full_handshakes: AtomicU64::new(0),
    resumed_handshakes: AtomicU64::new(0),
    requests: AtomicU64::new(0),
};

impl Counters {
    /// The counters as a JSON object.
    pub fn to_json(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "connections": get(&self.connections),
            "full_handshakes": get(&self.full_handshakes),
            "resumed_handshakes": get(&self.resumed_handshakes),
            "requests": get(&self.requests),
        })
        .to_string()
    }
}

/// Writes the counters to each connection on `listener`, then closes it.
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let line = COUNTERS.to_json() + "\n";
        let _ = stream.write_all(line.as_bytes()).await;
    }
}

/// Reads the counters of a server (runner side, blocking).
pub fn fetch(port: u16) -> std::io::Result<serde_json::Value> {
    use std::io::Read;
    let mut text = String::new();
    std::net::TcpStream::connect(("127.0.0.1", port))?.read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(std::io::Error::other)
}
