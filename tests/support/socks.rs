//! A SOCKS4, SOCKS4a and SOCKS5 proxy on 127.0.0.1 that records what each client asked
//! for: the version, the user and password it gave, and the destination (a host name or
//! an address, which tells `socks5h://` from `socks5://`), then relays the connection.
//!
//! Whatever the destination, the proxy connects to 127.0.0.1 (or the loopback address
//! asked for) at its port, so tests can use names like `origin.test` that nothing
//! resolves. Written from RFC 1928, RFC 1929 and the SOCKS4 and SOCKS4a notes, so it
//! shares no code with the client's handshakes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use super::accept::serve_each;

/// How long the proxy waits for each part of a handshake, or a byte to relay.
const READ_BOUND: Duration = Duration::from_secs(10);
/// Bytes kept of what the client sends through each connection.
const TUNNEL_KEPT: usize = 4096;

/// How a [`socks_server`] behaves. Start from `SocksOptions::default()`: no
/// authentication, every connection opened.
#[derive(Clone, Debug, Default)]
pub struct SocksOptions {
    /// SOCKS5 only with username/password authentication (RFC 1929), accepting this
    /// user and password and no other.
    pub login: Option<(String, String)>,
    /// Answer every request with this reply code instead of connecting: a SOCKS5 `REP`
    /// (1 to 8) or a SOCKS4 `CD` (91 to 93).
    pub reply: Option<u8>,
}

/// A destination as the client named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocksTarget {
    /// A host name, for the proxy to resolve (SOCKS5 address type 3, SOCKS4a).
    Name(String, u16),
    /// An address the client resolved (or the URL had).
    Addr(SocketAddr),
}

/// One request as the proxy received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocksRequest {
    /// 4 or 5.
    pub version: u8,
    /// SOCKS5: the username and password the client sent, if it chose that method.
    pub login: Option<(String, String)>,
    pub target: SocksTarget,
}

/// A running SOCKS proxy; stops, with all its connections, when dropped.
pub struct SocksServer {
    /// Where it listens.
    pub addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    options: SocksOptions,
    accepts: AtomicUsize,
    requests: Mutex<Vec<SocksRequest>>,
    /// SOCKS5 authentication attempts, accepted or not.
    logins: Mutex<Vec<(String, String)>>,
    /// Per connection opened, the first bytes the client sent through it.
    tunnels: Mutex<Vec<Vec<u8>>>,
}

impl SocksServer {
    /// `scheme://127.0.0.1:PORT`, e.g. `url("socks5h")`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// TCP connections accepted so far.
    pub fn accepts(&self) -> usize {
        self.state.accepts.load(Ordering::SeqCst)
    }

    /// Every request that got past authentication, in order.
    pub fn requests(&self) -> Vec<SocksRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Every username and password a client offered, in order.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.state.logins.lock().unwrap().clone()
    }

    /// For each connection opened, in order, the first bytes the client sent through it.
    pub fn tunneled(&self) -> Vec<Vec<u8>> {
        self.state.tunnels.lock().unwrap().clone()
    }
}

impl Drop for SocksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a SOCKS proxy on 127.0.0.1:0.
pub async fn socks_server(options: SocksOptions) -> SocksServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let state = Arc::new(State {
        options,
        ..State::default()
    });
    let serving = state.clone();
    let task = tokio::spawn(serve_each(listener, move |stream| {
        serving.accepts.fetch_add(1, Ordering::SeqCst);
        serve(stream, serving.clone())
    }));
    SocksServer { addr, state, task }
}

/// `n` bytes, or `None` when the client closes or is too slow.
async fn read_n(stream: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; n];
    tokio::time::timeout(READ_BOUND, stream.read_exact(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(buf)
}

/// Bytes up to a NUL, without it (SOCKS4's user id and SOCKS4a's host name).
async fn read_until_nul(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    loop {
        let byte = read_n(stream, 1).await?[0];
        if byte == 0 {
            return Some(bytes);
        }
        if bytes.len() > 1024 {
            return None;
        }
        bytes.push(byte);
    }
}

async fn serve(mut client: TcpStream, state: Arc<State>) {
    let Some(version) = read_n(&mut client, 1).await else {
        return;
    };
    let opened = match version[0] {
        5 => socks5(&mut client, &state).await,
        4 => socks4(&mut client, &state).await,
        _ => None,
    };
    if let Some(upstream) = opened {
        relay(client, upstream, &state).await;
    }
}

/// RFC 1928 (and RFC 1929's username/password): the connection to the destination, or
/// `None` once the client was refused.
async fn socks5(client: &mut TcpStream, state: &State) -> Option<TcpStream> {
    let count = read_n(client, 1).await?[0];
    let methods = read_n(client, count.into()).await?;
    let wanted = if state.options.login.is_some() { 2 } else { 0 };
    if !methods.contains(&wanted) {
        let _ = client.write_all(&[5, 0xff]).await;
        return None;
    }
    client.write_all(&[5, wanted]).await.ok()?;
    let mut login = None;
    if let Some(expected) = &state.options.login {
        let head = read_n(client, 2).await?;
        if head[0] != 1 {
            return None;
        }
        let user = read_n(client, head[1].into()).await?;
        let len = read_n(client, 1).await?[0];
        let password = read_n(client, len.into()).await?;
        let given = (
            String::from_utf8_lossy(&user).into_owned(),
            String::from_utf8_lossy(&password).into_owned(),
        );
        state.logins.lock().unwrap().push(given.clone());
        if given != *expected {
            let _ = client.write_all(&[1, 1]).await;
            return None;
        }
        client.write_all(&[1, 0]).await.ok()?;
        login = Some(given);
    }
    let head = read_n(client, 4).await?;
    if head[0] != 5 || head[1] != 1 {
        let _ = client.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        return None;
    }
    let target = match head[3] {
        1 => {
            let ip: [u8; 4] = read_n(client, 4).await?.try_into().ok()?;
            SocksTarget::Addr(SocketAddr::new(
                Ipv4Addr::from(ip).into(),
                port(client).await?,
            ))
        }
        4 => {
            let ip: [u8; 16] = read_n(client, 16).await?.try_into().ok()?;
            SocksTarget::Addr(SocketAddr::new(
                Ipv6Addr::from(ip).into(),
                port(client).await?,
            ))
        }
        3 => {
            let len = read_n(client, 1).await?[0];
            let name = String::from_utf8_lossy(&read_n(client, len.into()).await?).into_owned();
            SocksTarget::Name(name, port(client).await?)
        }
        _ => {
            let _ = client.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0]).await;
            return None;
        }
    };
    state.requests.lock().unwrap().push(SocksRequest {
        version: 5,
        login,
        target: target.clone(),
    });
    let upstream = match state.options.reply {
        Some(_) => None,
        None => connect_upstream(&target).await,
    };
    let Some(upstream) = upstream else {
        let code = state.options.reply.unwrap_or(5);
        let _ = client.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        return None;
    };
    let bound = upstream.local_addr().ok()?;
    let mut reply = vec![5, 0, 0];
    match bound.ip() {
        IpAddr::V4(ip) => {
            reply.push(1);
            reply.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            reply.push(4);
            reply.extend_from_slice(&ip.octets());
        }
    }
    reply.extend_from_slice(&bound.port().to_be_bytes());
    client.write_all(&reply).await.ok()?;
    Some(upstream)
}

async fn port(client: &mut TcpStream) -> Option<u16> {
    let bytes = read_n(client, 2).await?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// SOCKS4 and SOCKS4a: the version byte was read; `CD DSTPORT DSTIP USERID NUL`, and with
/// DSTIP 0.0.0.x (x ≠ 0) a host name and NUL after.
async fn socks4(client: &mut TcpStream, state: &State) -> Option<TcpStream> {
    let head = read_n(client, 7).await?;
    let port = u16::from_be_bytes([head[1], head[2]]);
    let ip = Ipv4Addr::new(head[3], head[4], head[5], head[6]);
    let _user_id = read_until_nul(client).await?;
    let target = match ip.octets() {
        [0, 0, 0, x] if x != 0 => {
            let name = read_until_nul(client).await?;
            SocksTarget::Name(String::from_utf8_lossy(&name).into_owned(), port)
        }
        _ => SocksTarget::Addr(SocketAddr::new(ip.into(), port)),
    };
    state.requests.lock().unwrap().push(SocksRequest {
        version: 4,
        login: None,
        target: target.clone(),
    });
    let refuse = |code: u8| [0, code, 0, 0, 0, 0, 0, 0];
    if head[0] != 1 {
        let _ = client.write_all(&refuse(91)).await;
        return None;
    }
    let upstream = match state.options.reply {
        Some(_) => None,
        None => connect_upstream(&target).await,
    };
    let Some(upstream) = upstream else {
        let _ = client
            .write_all(&refuse(state.options.reply.unwrap_or(91)))
            .await;
        return None;
    };
    client.write_all(&[0, 90, 0, 0, 0, 0, 0, 0]).await.ok()?;
    Some(upstream)
}

/// Connects to the loopback address standing in for `target`.
async fn connect_upstream(target: &SocksTarget) -> Option<TcpStream> {
    let addr = match target {
        SocksTarget::Addr(addr) if addr.ip().is_loopback() => *addr,
        SocksTarget::Addr(addr) => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port()),
        SocksTarget::Name(_, port) => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), *port),
    };
    let stream = tokio::time::timeout(READ_BOUND, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    let _ = stream.set_nodelay(true);
    Some(stream)
}

/// Copies both ways until both sides are done, keeping the start of what the client sends.
async fn relay(client: TcpStream, upstream: TcpStream, state: &State) {
    let index = {
        let mut tunnels = state.tunnels.lock().unwrap();
        tunnels.push(Vec::new());
        tunnels.len() - 1
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let up = async {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = client_read.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            {
                let mut tunnels = state.tunnels.lock().unwrap();
                let kept = &mut tunnels[index];
                let room = TUNNEL_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
            if upstream_write.write_all(&chunk[..n]).await.is_err() {
                break;
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
