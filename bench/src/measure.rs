//! The measurement loops, the same for every library: warm up, then time a loop of
//! requests and the CPU the process spent in it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cli::Args;
use crate::client::{BenchClient, Got, Library, Settings};
use crate::outcome::Outcome;
use crate::rusage;
use crate::scenario::Scenario;
use crate::BoxError;

/// Runs `args.scenario` with library `L`.
pub async fn run<L: Library>(args: &Args) -> Result<Outcome, BoxError> {
    let outcome = Outcome {
        client: L::NAME.to_owned(),
        scenario: args.scenario.name().to_owned(),
        http: args.http.arg().to_owned(),
        ..Outcome::default()
    };
    if args.scenario == Scenario::ClientNew {
        return client_new::<L>(args, outcome).await;
    }
    let new_connections = matches!(args.scenario, Scenario::NewConn | Scenario::NewConnNoResume);
    let settings = Settings {
        ca_path: args.ca.clone(),
        ca_pem: std::fs::read(&args.ca)
            .map_err(|e| format!("reading the CA file {}: {e}", args.ca.display()))?,
        http: args.http,
        reuse: !new_connections,
        resumption: args.scenario != Scenario::NewConnNoResume,
    };
    let Some(client) = L::build(&settings)? else {
        return Ok(Outcome {
            skipped: Some(format!("{} has no setting for this", L::NAME)),
            ..outcome
        });
    };
    // From the built client on: the warm-up's 64 requests count too.
    let anon_peak = rusage::AnonPeak::start();
    let small = format!("{}/small", args.url);
    // Warm-up: connections open (and, for newconn, a session ticket arrives) before the
    // clock starts, so steady state is what gets measured.
    let warm_ups = if args.scenario == Scenario::Concurrent {
        args.concurrency
    } else {
        1
    };
    let warm: Vec<_> = (0..warm_ups).map(|_| client.get(&small)).collect();
    for got in futures_util::future::try_join_all(warm).await? {
        check_version(args, got)?;
    }

    let budget = Arc::new(Budget::new(args));
    let cpu_before = rusage::own();
    let (requests, bytes) = match args.scenario {
        Scenario::Seq | Scenario::NewConn | Scenario::NewConnNoResume => {
            one_at_a_time(args, &budget, || client.get(&small)).await?
        }
        Scenario::Concurrent => concurrent(args, &budget, &client, &small).await?,
        Scenario::Download => {
            let url = format!("{}/download?bytes={}", args.url, args.bytes);
            one_at_a_time(args, &budget, || client.download(&url)).await?
        }
        Scenario::Upload => {
            let url = format!("{}/upload", args.url);
            one_at_a_time(args, &budget, || client.upload(&url, args.bytes)).await?
        }
        Scenario::ClientNew => unreachable!("handled above"),
    };
    let seconds = budget.started.elapsed().as_secs_f64();
    let cpu = rusage::own().cpu() - cpu_before.cpu();
    let peak_anon_kib = anon_peak.finish();
    Ok(Outcome {
        requests,
        seconds,
        bytes,
        cpu_seconds: cpu.as_secs_f64(),
        version: format!("{:?}", args.http.version()),
        peak_anon_kib,
        ..outcome
    })
}

/// How many more requests a loop may start: a count, a duration, or both.
struct Budget {
    started: Instant,
    count: Option<u64>,
    duration: Option<Duration>,
    issued: AtomicU64,
}

impl Budget {
    fn new(args: &Args) -> Budget {
        Budget {
            started: Instant::now(),
            count: args.count,
            duration: args.duration,
            issued: AtomicU64::new(0),
        }
    }

    /// Claims one request; `false` once the count is spent or the time is up.
    fn take(&self) -> bool {
        let issued = self.issued.fetch_add(1, Ordering::Relaxed);
        let counted_out = self.count.is_some_and(|count| issued >= count);
        let timed_out = self
            .duration
            .is_some_and(|limit| self.started.elapsed() >= limit);
        !(counted_out || timed_out)
    }
}

fn check_version(args: &Args, got: Got) -> Result<Got, BoxError> {
    if got.version != args.http.version() {
        return Err(format!(
            "asked for {:?} but the response came as {:?}",
            args.http.version(),
            got.version
        )
        .into());
    }
    Ok(got)
}

/// The sizes a scenario's responses must have, so a short body is an error, not a result.
fn expected_bytes(args: &Args) -> Option<u64> {
    match args.scenario {
        Scenario::Download | Scenario::Upload => Some(args.bytes),
        _ => None,
    }
}

/// Requests one after another; returns (requests, bytes).
async fn one_at_a_time<F, Fut>(
    args: &Args,
    budget: &Budget,
    mut send: F,
) -> Result<(u64, u64), BoxError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Got, BoxError>>,
{
    let (mut requests, mut bytes) = (0, 0);
    while budget.take() {
        let got = check_version(args, send().await?)?;
        if let Some(expected) = expected_bytes(args) {
            if got.bytes != expected {
                return Err(format!("moved {} bytes, expected {expected}", got.bytes).into());
            }
        }
        requests += 1;
        bytes += got.bytes;
    }
    Ok((requests, bytes))
}

/// `args.concurrency` tasks sharing one client, each sending small GETs back to back.
async fn concurrent<C: BenchClient>(
    args: &Args,
    budget: &Arc<Budget>,
    client: &C,
    url: &str,
) -> Result<(u64, u64), BoxError> {
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (client, url, budget, args) =
                (client.clone(), url.to_owned(), budget.clone(), args.clone());
            tokio::spawn(async move {
                let (mut requests, mut bytes) = (0u64, 0u64);
                while budget.take() {
                    let got = check_version(&args, client.get(&url).await?)?;
                    requests += 1;
                    bytes += got.bytes;
                }
                Ok::<_, BoxError>((requests, bytes))
            })
        })
        .collect();
    let (mut requests, mut bytes) = (0, 0);
    for task in tasks {
        let (r, b) = task.await??;
        requests += r;
        bytes += b;
    }
    Ok((requests, bytes))
}

/// Times `Client::new()`: the first call (which may load the system roots) and the
/// median of the calls after it. The clients are dropped outside the timed part.
async fn client_new<L: Library>(args: &Args, outcome: Outcome) -> Result<Outcome, BoxError> {
    let started = Instant::now();
    let first_client = L::new_default()?;
    let first = started.elapsed();
    drop(first_client);

    let budget = Budget::new(args);
    let cpu_before = rusage::own();
    let mut later = Vec::new();
    let mut last = None;
    while budget.take() {
        let started = Instant::now();
        let client = L::new_default()?;
        later.push(started.elapsed());
        last = Some(client);
    }
    let seconds = budget.started.elapsed().as_secs_f64();
    let cpu = rusage::own().cpu() - cpu_before.cpu();
    later.sort();
    let median = later.get(later.len() / 2).copied();

    // When the runner points SSL_CERT_FILE at the bench CA, prove the "system roots" the
    // clients loaded are really in use by making one request with them.
    let roots_are_ours =
        std::env::var_os("SSL_CERT_FILE").is_some_and(|f| f == args.ca.as_os_str());
    if let (Some(client), true, false) = (last, roots_are_ours, args.url.is_empty()) {
        client.get(&format!("{}/small", args.url)).await?;
    }
    Ok(Outcome {
        requests: later.len() as u64,
        seconds,
        cpu_seconds: cpu.as_secs_f64(),
        first_us: Some(first.as_secs_f64() * 1e6),
        later_median_us: median.map(|m| m.as_secs_f64() * 1e6),
        ..outcome
    })
}
