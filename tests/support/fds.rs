//! Leak checks: the sockets this process holds open to one server, found through
//! `/proc/self/fd` and `/proc/net/tcp`.
//!
//! Counting every fd of the process would see the other tests of the binary, which run
//! in parallel; counting the sockets connected *to one test's server port* sees only the
//! client side of that test's connections, whatever else runs.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// Sockets of this process connected to `server` (client side), in any TCP state but
/// TIME_WAIT (which holds no descriptor).
pub fn client_sockets(server: SocketAddr) -> usize {
    let ours = socket_inodes();
    let SocketAddr::V4(v4) = server else {
        panic!("client_sockets handles IPv4 servers");
    };
    let remote = format!(
        "{:08X}:{:04X}",
        u32::from_le_bytes(v4.ip().octets()),
        v4.port()
    );
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() > 9
                && fields[2] == remote
                && fields[9]
                    .parse::<u64>()
                    .is_ok_and(|inode| ours.contains(&inode))
        })
        .count()
}

/// The inodes of the sockets among this process's fds.
fn socket_inodes() -> HashSet<u64> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return HashSet::new();
    };
    dir.filter_map(|entry| {
        let link = std::fs::read_link(entry.ok()?.path()).ok()?;
        let link = link.to_str()?;
        link.strip_prefix("socket:[")?
            .strip_suffix(']')?
            .parse()
            .ok()
    })
    .collect()
}

/// Waits (up to 5 s: a closed connection's task needs a moment to notice) until at most
/// `allowed` sockets to `server` remain, and returns how many do.
pub async fn sockets_settle(server: SocketAddr, allowed: usize) -> usize {
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let open = client_sockets(server);
        if open <= allowed || tokio::time::Instant::now() >= until {
            return open;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that no more than `allowed` sockets to `server` remain open (the pool's idle
/// connections), after letting closing connections finish closing.
pub async fn assert_no_leak(server: SocketAddr, allowed: usize) {
    let open = sockets_settle(server, allowed).await;
    assert!(
        open <= allowed,
        "{open} sockets to {server} still open, at most {allowed} expected"
    );
}
