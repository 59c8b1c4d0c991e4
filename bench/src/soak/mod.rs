//! The soak run: a million requests over loopback with one in a hundred faulty, checking
//! that every request ends with the outcome its fault calls for, within its bound, and that
//! file descriptors, memory and tasks stay flat from the middle of the run to its end.
//!
//! `cargo run -p bench --release --bin soak -- [--requests N] [--concurrency C] [--every K]`

mod fault;
mod server;
mod vitals;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

pub use fault::{Fault, Outcome, FAULTS};
use vitals::Vitals;

use crate::BoxError;

/// The client's read timeout: what ends a stalled response.
const READ_TIMEOUT: Duration = Duration::from_millis(300);
/// The bound on each whole request; none may take longer.
const REQUEST_BOUND: Duration = Duration::from_secs(5);

struct Plan {
    requests: u64,
    concurrency: usize,
    /// One request in `every` is faulty.
    every: u64,
}

/// The `soak` binary: the client, or with `--serve` the server it starts.
pub fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--serve") {
        return tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(server::serve());
    }
    let plan = parse(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let passed = runtime.block_on(run(plan))?;
    if passed {
        Ok(())
    } else {
        Err("the soak failed (see above)".into())
    }
}

fn parse(args: &[String]) -> Result<Plan, BoxError> {
    let mut plan = Plan {
        requests: 1_000_000,
        concurrency: 32,
        every: 100,
    };
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--requests" => plan.requests = value.parse()?,
            "--concurrency" => plan.concurrency = value.parse()?,
            "--every" => plan.every = value.parse()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(plan)
}

async fn run(plan: Plan) -> Result<bool, BoxError> {
    let mut server = Command::new(std::env::current_exe()?)
        .arg("--serve")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let port = {
        let stdout = server.stdout.take().ok_or("no server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).await?;
        line.trim().parse::<u16>()?
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = wireline::Client::builder()
        .read_timeout(READ_TIMEOUT)
        .timeout(REQUEST_BOUND)
        .build()?;

    let start = Vitals::now();
    let done = Arc::new(AtomicU64::new(0));
    let mut middle = None;
    let mut tally: BTreeMap<(Fault, Outcome), u64> = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    let began = Instant::now();
    let mut results = stream::iter(0..plan.requests)
        .map(|n| {
            let fault = Fault::of(n, plan.every);
            let url = format!("{base}{}", fault.path());
            let client = client.clone();
            async move {
                let started = Instant::now();
                let outcome = one(&client, &url).await;
                (fault, outcome, started.elapsed())
            }
        })
        .buffer_unordered(plan.concurrency);
    while let Some((fault, outcome, took)) = results.next().await {
        *tally.entry((fault, outcome)).or_default() += 1;
        slowest = slowest.max(took);
        let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
        if finished == plan.requests / 2 {
            middle = Some(Vitals::now());
        }
    }
    let elapsed = began.elapsed();
    drop(results);
    // A finished request's connection goes back to the pool through a short task of its
    // own (hyper-util's `on_idle`); let those end so the tasks counted are the pool's.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let end = Vitals::now();
    let middle = middle.unwrap_or(end);
    // With the client gone, its pooled connections and their tasks must go too.
    drop(client);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dropped = Vitals::now();
    drop(server);

    println!(
        "{} requests in {:.1} s ({:.0}/s), concurrency {}, one in {} faulty; slowest {:.0} ms",
        plan.requests,
        elapsed.as_secs_f64(),
        plan.requests as f64 / elapsed.as_secs_f64(),
        plan.concurrency,
        plan.every,
        slowest.as_secs_f64() * 1e3
    );
    println!(
        "\n| point | open fds | of them sockets | RSS KiB | tokio tasks |\n|---|--:|--:|--:|--:|"
    );
    for (name, v) in [
        ("start", &start),
        ("middle", &middle),
        ("end", &end),
        ("client dropped", &dropped),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} |",
            v.fds, v.sockets, v.rss_kib, v.tasks
        );
    }
    println!("\n| fault | outcome | count | expected |\n|---|---|--:|---|");
    let mut passed = true;
    for ((fault, outcome), count) in &tally {
        let expected = fault.expected().contains(outcome);
        passed &= expected;
        println!(
            "| {fault:?} | {outcome:?} | {count} | {} |",
            if expected { "yes" } else { "**no**" }
        );
    }
    // The pool may hold more connections than requests in flight: when a request finds no
    // idle connection it dials one, and if a connection comes back first hyper-util uses
    // that and pools the new one rather than waste it; it stays until pool_idle_timeout
    // (90 s). So up to `concurrency` in use and as many again from such races. A leak grows
    // with the faulty requests instead (1,000 of them in 100,000).
    let fd_cap = start.fds + 2 * plan.concurrency + 8;
    let checks = [
        (
            end.fds <= fd_cap,
            format!(
                "open fds at the end {} ≤ start + 2 × concurrency + 8 = {fd_cap}",
                end.fds
            ),
        ),
        (
            end.rss_kib as f64 <= middle.rss_kib as f64 * 1.05,
            format!(
                "RSS at the end {} KiB ≤ 1.05 × middle {} KiB",
                end.rss_kib, middle.rss_kib
            ),
        ),
        (
            end.tasks <= end.sockets.saturating_sub(start.sockets) + 2,
            format!(
                "tokio tasks at the end {} ≤ sockets opened since the start {} + 2 \
                 (one task per connection, and the pool's idle reaper)",
                end.tasks,
                end.sockets.saturating_sub(start.sockets)
            ),
        ),
        (
            dropped.fds <= start.fds + 1 && dropped.tasks <= start.tasks + 1,
            format!(
                "with the client dropped, fds {} and tasks {} are back to the start's {} and {}",
                dropped.fds, dropped.tasks, start.fds, start.tasks
            ),
        ),
        (
            slowest <= REQUEST_BOUND + Duration::from_secs(1),
            format!("slowest request {slowest:?} within its bound"),
        ),
    ];
    println!();
    for (ok, what) in checks {
        passed &= ok;
        println!("- {}: {what}", if ok { "ok" } else { "FAILED" });
    }
    Ok(passed)
}

/// One request, its body read, classified.
async fn one(client: &wireline::Client, url: &str) -> Outcome {
    let classify = |e: wireline::Error| {
        if e.is_timeout() {
            Outcome::Timeout
        } else if e.is_decode() {
            Outcome::Decode
        } else if e.is_body() {
            Outcome::Body
        } else if e.is_request() {
            Outcome::Request
        } else {
            eprintln!("unexpected error for {url}: {e}");
            Outcome::Unexpected
        }
    };
    let resp = match client.get(url).send().await {
        Ok(resp) => resp,
        Err(e) => return classify(e),
    };
    let server_error = resp.status().is_server_error();
    match resp.bytes().await {
        Ok(_) if server_error => Outcome::Status5xx,
        Ok(_) => Outcome::Ok,
        Err(e) => classify(e),
    }
}
