//! A forward and CONNECT proxy on 127.0.0.1 that records what it saw: each request's
//! line and headers, and the first bytes the client sent through each tunnel.
//!
//! Whatever host a request names, the proxy connects to 127.0.0.1 (or `[::1]` when named
//! so) at the request's port, so tests can use names like `origin.test` that nothing
//! resolves. One request per forwarded connection (it adds `connection: close`), and
//! request bodies only with a `Content-Length`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::accept::serve_each;

/// How long the proxy waits for a request head, or for a byte of a connection it relays.
const READ_BOUND: Duration = Duration::from_secs(10);
const MAX_HEAD: usize = 64 * 1024;
/// Bytes kept of what the client sends through each tunnel.
const TUNNEL_KEPT: usize = 4096;

/// How a [`proxy_server`] behaves. Start from `ProxyOptions::default()`: no credentials
/// needed, every tunnel opened.
#[derive(Clone, Debug, Default)]
pub struct ProxyOptions {
    /// Answer 407 unless `Proxy-Authorization` is exactly this (e.g. "Basic dTpw").
    pub require_auth: Option<String>,
    /// Answer every CONNECT with this status instead of opening the tunnel.
    pub refuse_connect: Option<u16>,
}

/// One request as the proxy received it.
#[derive(Clone, Debug)]
pub struct ProxiedRequest {
    /// `GET`, `CONNECT`…
    pub method: String,
    /// As sent: `http://host:port/path` (absolute form) or `host:port` (CONNECT).
    pub target: String,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
}

impl ProxiedRequest {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running proxy; stops, with all its connections, when dropped.
pub struct ProxyServer {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    options: ProxyOptions,
    accepts: AtomicUsize,
    requests: Mutex<Vec<ProxiedRequest>>,
    /// Per opened tunnel, the first bytes the client sent through it.
    tunnels: Mutex<Vec<Vec<u8>>>,
}

impl ProxyServer {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://user:password@127.0.0.1:PORT`
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn accepts(&self) -> usize {
        self.state.accepts.load(Ordering::SeqCst)
    }

    /// Every request head received, in order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// For each tunnel opened, in order, the first bytes the client sent through it.
    pub fn tunneled(&self) -> Vec<Vec<u8>> {
        self.state.tunnels.lock().unwrap().clone()
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy on 127.0.0.1:0.
pub async fn proxy_server(options: ProxyOptions) -> ProxyServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let state = Arc::new(State {
        options,
        ..State::default()
    });
    let task = tokio::spawn(accept_loop(listener, state.clone()));
    ProxyServer { addr, state, task }
}

/// The `Proxy-Authorization` value for basic credentials.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    serve_each(listener, |stream| {
        state.accepts.fetch_add(1, Ordering::SeqCst);
        serve(stream, state.clone())
    })
    .await
}

async fn serve(mut client: TcpStream, state: Arc<State>) {
    let Some((head, mut rest)) = read_head(&mut client).await else {
        return;
    };
    let Some(request) = parse_head(&head) else {
        return refuse(client, 400, "").await;
    };
    state.requests.lock().unwrap().push(request.clone());
    if let Some(expected) = &state.options.require_auth {
        if request.header("proxy-authorization") != Some(expected.as_str()) {
            return refuse(client, 407, "proxy-authenticate: Basic realm=\"test\"\r\n").await;
        }
    }
    if request.method == "CONNECT" {
        if let Some(status) = state.options.refuse_connect {
            return refuse(client, status, "").await;
        }
        let Some(mut upstream) = connect_upstream(&request.target).await else {
            return refuse(client, 502, "").await;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        let index = {
            let mut tunnels = state.tunnels.lock().unwrap();
            tunnels.push(Vec::new());
            tunnels.len() - 1
        };
        if !rest.is_empty() {
            keep(&state, index, &rest);
            if upstream.write_all(&rest).await.is_err() {
                return;
            }
        }
        relay(client, upstream, &state, index).await;
    } else {
        forward(client, request, &head, &mut rest).await;
    }
}

/// Sends an absolute-form request on in origin form, then the response back until the
/// server closes.
async fn forward(mut client: TcpStream, request: ProxiedRequest, head: &str, rest: &mut Vec<u8>) {
    let Some(after_scheme) = request.target.strip_prefix("http://") else {
        return refuse(client, 400, "").await;
    };
    let (authority, path) = match after_scheme.find('/') {
        Some(at) => after_scheme.split_at(at),
        None => (after_scheme, "/"),
    };
    let authority = match authority.contains(':') {
        true => authority.to_owned(),
        false => format!("{authority}:80"),
    };
    let Some(mut upstream) = connect_upstream(&authority).await else {
        return refuse(client, 502, "").await;
    };
    let version = head
        .lines()
        .next()
        .and_then(|line| line.rsplit(' ').next())
        .unwrap_or("HTTP/1.1");
    let mut out = format!("{} {path} {version}\r\n", request.method);
    let mut body_len = 0;
    for (name, value) in &request.headers {
        match name.as_str() {
            // A proxy consumes these; they are not for the server.
            "proxy-authorization" | "proxy-connection" | "connection" | "keep-alive" => {}
            _ => out.push_str(&format!("{name}: {value}\r\n")),
        }
        if name == "content-length" {
            body_len = value.parse().unwrap_or(0);
        }
    }
    out.push_str("connection: close\r\n\r\n");
    while rest.len() < body_len {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(READ_BOUND, client.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => rest.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&rest[..body_len]);
    if upstream.write_all(&bytes).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    let _ = tokio::time::timeout(READ_BOUND, upstream.read_to_end(&mut response)).await;
    let _ = client.write_all(&response).await;
    close(client).await;
}

/// Answers with `status` and closes.
async fn refuse(mut client: TcpStream, status: u16, extra_headers: &str) {
    let _ = client.write_all(&reply(status, extra_headers)).await;
    close(client).await;
}

/// Sends FIN, then waits for the client to close: closing with unread input would send a
/// RST, which could overtake the last bytes written.
async fn close(mut client: TcpStream) {
    let _ = client.shutdown().await;
    let mut sink = [0u8; 1024];
    while let Ok(Ok(n)) = tokio::time::timeout(READ_BOUND, client.read(&mut sink)).await {
        if n == 0 {
            break;
        }
    }
}

/// Copies both ways until both sides are done, keeping the start of what the client sends.
async fn relay(client: TcpStream, upstream: TcpStream, state: &State, index: usize) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let up = async {
        let mut chunk = [0u8; 8192];
        loop {
            match client_read.read(&mut chunk).await {
                Ok(n) if n > 0 => {
                    keep(state, index, &chunk[..n]);
                    if upstream_write.write_all(&chunk[..n]).await.is_err() {
                        break;
                    }
                }
                _ => break,
            }
        }
        let _ = upstream_write.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(up, down);
}

fn keep(state: &State, index: usize, bytes: &[u8]) {
    let mut tunnels = state.tunnels.lock().unwrap();
    let kept = &mut tunnels[index];
    let room = TUNNEL_KEPT.saturating_sub(kept.len());
    kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// Connects to the loopback address standing in for `host:port`.
async fn connect_upstream(authority: &str) -> Option<TcpStream> {
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => ip,
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let stream = tokio::time::timeout(READ_BOUND, TcpStream::connect((ip, port)))
        .await
        .ok()?
        .ok()?;
    let _ = stream.set_nodelay(true);
    Some(stream)
}

/// Reads up to the blank line ending the head; returns the head and the bytes after it.
async fn read_head(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffered = Vec::new();
    loop {
        if let Some(at) = buffered.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buffered.split_off(at + 4);
            return Some((String::from_utf8_lossy(&buffered).into_owned(), rest));
        }
        if buffered.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(READ_BOUND, stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buffered.extend_from_slice(&chunk[..n]),
            _ => return None,
        }
    }
}

fn parse_head(head: &str) -> Option<ProxiedRequest> {
    let mut lines = head.split("\r\n");
    let mut words = lines.next()?.split(' ');
    let method = words.next()?.to_owned();
    let target = words.next()?.to_owned();
    let headers = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Some(ProxiedRequest {
        method,
        target,
        headers,
    })
}

/// A response with `status`, these extra header lines, no body, and `connection: close`.
fn reply(status: u16, extra_headers: &str) -> Vec<u8> {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("HTTP/1.1 {status} {reason}\r\n{extra_headers}content-length: 0\r\nconnection: close\r\n\r\n")
        .into_bytes()
}
