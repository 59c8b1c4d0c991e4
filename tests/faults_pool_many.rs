//! Fault matrix P06: 10,000 concurrent GETs to one host, at most 4 connections kept idle,
//! a server that takes 10 ms per answer. All must succeed, nothing may deadlock, and the
//! descriptors must stay within what the requests need and fall back to the idle cap.
//!
//! This binary holds only these tests: 10,000 connections at once would disturb the timing
//! of other tests running beside them. See docs/reliability.md.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{
    assert_no_leak, client_sockets, handler, http_server, https_server, open_fds, response,
    trusting_test_ca, Handler, ServerOptions,
};
use wireline::{Client, Version};

const REQUESTS: usize = 10_000;
const IDLE_CAP: usize = 4;
/// Generous: a debug build on a loaded 2-core machine finishes in well under this.
const ALL_DONE_BOUND: Duration = Duration::from_secs(180);
/// Set in the environment of the child process that serves the HTTP/1.1 test.
/// The two tests count the process's descriptors: one at a time.
static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const SERVER_ROLE: &str = "WIRELINE_P06_SERVER";
/// What the child prints before its address, to find it among libtest's own lines.
const ADDRESS_MARK: &str = "p06 server listening on ";

fn slow_ok() -> Handler {
    handler(|_| async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        response(200, &[], "ok")
    })
}

/// Sends `REQUESTS` GETs at once and returns the most descriptors this process held open
/// meanwhile (sampled every 5 ms), after checking that every one answered "ok" in time.
async fn all_at_once(label: &str, client: &Client, url: &str) -> usize {
    let peak = Arc::new(AtomicUsize::new(open_fds()));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn({
        let (peak, done) = (peak.clone(), done.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(open_fds(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..REQUESTS {
        let (client, url) = (client.clone(), url.to_owned());
        tasks.spawn(async move { client.get(&url).send().await?.text().await });
    }
    let answered = tokio::time::timeout(ALL_DONE_BOUND, async {
        let mut answered = 0;
        while let Some(joined) = tasks.join_next().await {
            let body = joined.expect("no panic").expect("every request succeeds");
            assert_eq!(body, "ok");
            answered += 1;
        }
        answered
    })
    .await
    .unwrap_or_else(|_| panic!("deadlock? not all done within {ALL_DONE_BOUND:?}"));
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    assert_eq!(answered, REQUESTS);
    let peak = peak.load(Ordering::Relaxed);
    eprintln!(
        "{label}: {REQUESTS} requests in {:?}, peak {peak} descriptors in the process",
        started.elapsed()
    );
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p06_ten_thousand_concurrent_http1_requests_succeed_and_leave_the_idle_cap() {
    // Client and server sockets together would need 20,000 descriptors, this machine's
    // limit for one process, so the server runs in a child process: this binary again.
    let _alone = ALONE.lock().await;
    let (mut server, addr) = spawn_server_process();
    let baseline = open_fds();
    let client = Client::builder()
        .pool_max_idle_per_host(IDLE_CAP)
        .http1_only()
        .build()
        .unwrap();
    let peak = all_at_once("http/1.1", &client, &format!("http://{addr}/")).await;
    // hyper-util opens one connection per request in flight and has no per-host cap (as
    // reqwest): never more than one socket per request, and only the idle cap remains.
    assert!(
        peak <= baseline + REQUESTS + 64,
        "peak {peak} descriptors, baseline {baseline}"
    );
    assert_no_leak(addr, IDLE_CAP).await;
    drop(client);
    assert_no_leak(addr, 0).await;
    // The child exits when its stdin closes; kill it only if it doesn't.
    drop(server.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if server.try_wait().unwrap().is_none() {
        server.kill().unwrap();
        panic!("the server process did not exit when its stdin closed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p06_ten_thousand_concurrent_h2_requests_spread_over_connections_of_200_streams() {
    // hyper's server allows 200 streams at once per connection: the requests spread over
    // 50 connections (docs/pooling.md, "h2 connection growth"), then those past the idle
    // cap close. A few more are allowed: the runtime's two threads can each find every
    // lane full at the same moment and each add one (`pool::lanes`, `grow`); CI once
    // saw 51. A dial storm would open thousands.
    let server = https_server(ServerOptions {
        handler: slow_ok(),
        ..ServerOptions::default()
    })
    .await;
    let _alone = ALONE.lock().await;
    let baseline = open_fds();
    let client = trusting_test_ca()
        .pool_max_idle_per_host(IDLE_CAP)
        .build()
        .unwrap();
    let url = server.url("/");
    let first = client.get(&url).send().await.unwrap();
    assert_eq!(first.version(), Version::HTTP_2);
    drop(first);
    let peak = all_at_once("h2", &client, &url).await;
    let opened = server.accepts();
    assert!(
        (2..=REQUESTS / 200 + 5).contains(&opened),
        "{opened} connections for {REQUESTS} requests, 200 streams each"
    );
    assert!(
        peak <= baseline + REQUESTS / 200 + 64,
        "peak {peak} descriptors"
    );
    assert_no_leak(server.addr, IDLE_CAP).await;
    assert!(client_sockets(server.addr) >= 1, "the idle ones stay");
}

/// The server half of the HTTP/1.1 test, run only in the child process that test starts
/// (`SERVER_ROLE` set); in any other run, `cargo test -- --ignored` included, it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the server process of p06_ten_thousand_concurrent_http1_requests_…"]
async fn p06_server_process() {
    if std::env::var_os(SERVER_ROLE).is_none() {
        return;
    }
    let server = http_server(slow_ok()).await;
    println!("{ADDRESS_MARK}{}", server.addr);
    // Serves until the parent closes our stdin (or dies), within a bound.
    let (mut stdin, mut sink) = (tokio::io::stdin(), tokio::io::sink());
    let until_stdin_closes = tokio::io::copy(&mut stdin, &mut sink);
    let _ = tokio::time::timeout(Duration::from_secs(600), until_stdin_closes).await;
}

/// Starts this test binary again as the server of the HTTP/1.1 test and returns the child
/// and the address it listens on.
fn spawn_server_process() -> (Child, SocketAddr) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["p06_server_process", "--exact", "--ignored", "--nocapture"])
        .env(SERVER_ROLE, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server process");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix(ADDRESS_MARK) {
                let _ = tx.send(addr.parse::<SocketAddr>().expect("an address"));
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(addr) => (child, addr),
        Err(_) => {
            let _ = child.kill();
            panic!("the server process did not print its address within 30 s");
        }
    }
}
