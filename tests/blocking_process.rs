//! The blocking client's effects on the whole process, alone in their binary, one test at
//! a time: a large body read with `Read` or `copy_to` in constant memory (peak RSS), and
//! the client's runtime thread, which lives exactly as long as a client, a clone or a
//! response holds it (the process's threads, by name).

mod support;

use std::io::{self, Read};
use std::sync::Mutex;

use support::{peak_rss_kib, raw_server, reset_peak_rss, rss_kib, RawServer, BOUND};
use wireline::blocking;

/// Taken by each test: they measure the whole process.
static ALONE: Mutex<()> = Mutex::new(());

/// The servers' runtime: the tests' own threads stay free of any runtime.
fn servers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

const MIB: usize = 1 << 20;

/// A server whose every response is `size` bytes, written 1 MiB at a time from one
/// buffer: the server itself holds 1 MiB, whatever the size.
fn large_body_server(runtime: &tokio::runtime::Runtime, size: usize) -> RawServer {
    runtime.block_on(raw_server(move |mut conn| async move {
        while conn.read_request().await.is_some() {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n");
            conn.write(head.as_bytes()).await;
            let block = vec![b'x'; MIB];
            for _ in 0..size / MIB {
                conn.write(&block).await;
            }
        }
    }))
}

#[test]
fn a_large_body_read_with_read_or_copy_to_keeps_memory_flat() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    const SIZE: usize = 256 * MIB;
    let runtime = servers();
    let server = large_body_server(&runtime, SIZE);
    let url = format!("http://{}/", server.addr);
    let client = blocking::Client::builder().timeout(BOUND).build().unwrap();
    // Warm up: the connection, the pool and the threads count as the baseline.
    assert_eq!(
        client.get(&url).send().unwrap().bytes().unwrap().len(),
        SIZE
    );

    let mut growth = Vec::new();
    for way in ["Read", "copy_to", "bytes (the control)"] {
        reset_peak_rss();
        let before = rss_kib();
        let mut resp = client.get(&url).send().unwrap();
        let read = match way {
            "Read" => {
                let mut buf = [0u8; 8192];
                let mut total = 0;
                loop {
                    match resp.read(&mut buf).unwrap() {
                        0 => break total,
                        n => total += n as u64,
                    }
                }
            }
            "copy_to" => resp.copy_to(&mut io::sink()).unwrap(),
            _ => resp.bytes().unwrap().len() as u64,
        };
        assert_eq!(read, SIZE as u64, "{way}");
        growth.push((way, peak_rss_kib().saturating_sub(before)));
    }
    println!(
        "peak RSS growth (KiB) reading {} MiB: {growth:?}",
        SIZE / MIB
    );
    let [(_, by_read), (_, by_copy), (_, by_bytes)] = growth[..] else {
        unreachable!()
    };
    // The control proves the measurement sees a body held in memory.
    assert!(by_bytes > 200 * 1024, "bytes(): {by_bytes} KiB");
    assert!(by_read < 32 * 1024, "Read: {by_read} KiB");
    assert!(by_copy < 32 * 1024, "copy_to: {by_copy} KiB");
}

/// The threads of this process named as the blocking client's runtime thread (Linux
/// keeps 15 bytes of a thread's name).
fn runtime_threads() -> usize {
    let tasks = std::fs::read_dir("/proc/self/task").unwrap();
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "wireline-blocki")
        .count()
}

/// Waits (within [`BOUND`]) for `expected` runtime threads: a new one is listed once it
/// has taken its name, and a joined one may stay listed for a moment after the join
/// returned (the kernel wakes the joiner before it reaps the thread).
fn threads_become(expected: usize) -> usize {
    let until = std::time::Instant::now() + BOUND;
    while runtime_threads() != expected && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    runtime_threads()
}

#[test]
fn the_runtime_thread_ends_when_the_last_client_clone_or_response_is_dropped() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = servers();
    let server = runtime.block_on(raw_server(|mut conn| async move {
        while conn.read_request().await.is_some() {
            conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
                .await;
        }
    }));
    let url = format!("http://{}/", server.addr);
    assert_eq!(runtime_threads(), 0);

    let client = blocking::Client::new();
    assert_eq!(threads_become(1), 1);
    let clone = client.clone();
    drop(client);
    assert_eq!(runtime_threads(), 1, "a clone keeps it");
    let resp = clone.get(&url).send().unwrap();
    drop(clone);
    assert_eq!(runtime_threads(), 1, "a response keeps it");
    assert_eq!(resp.text().unwrap(), "hello");
    // Dropping the last holder ended the thread.
    assert_eq!(threads_become(0), 0);

    // A client dropped while another thread waits on its request ends with that request.
    let client = blocking::Client::new();
    let request = client.get(&url);
    let waiting = std::thread::spawn(move || request.send().map(drop));
    drop(client);
    waiting.join().unwrap().unwrap();
    assert_eq!(threads_become(0), 0);

    // Two clients, two threads.
    let (a, b) = (blocking::Client::new(), blocking::Client::new());
    assert_eq!(threads_become(2), 2);
    drop((a, b));
    assert_eq!(threads_become(0), 0);
}
