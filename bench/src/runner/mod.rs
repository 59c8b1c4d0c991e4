//! The runner: build the binaries, start the server, run every client on every scenario
//! round after round, then write the report and its chart.

pub mod chart;
pub mod environment;
pub mod instructions;
pub mod markdown;
pub mod plan;
pub mod process;
pub mod quiet;
pub mod summary;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::scenario::Scenario;
use crate::BoxError;
use plan::{Client, Job, Mode, PerClient, Roots, CLIENTS, SYSTEM_BUNDLE};
use process::{Launcher, Sample, Server};

/// The runner's command line.
struct Options {
    mode: Mode,
    /// Where performance.md and performance.svg go.
    out: PathBuf,
}

const USAGE: &str = "usage: run [--quick] [--rounds N] [--out DIR]";

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut mode = Mode::FULL;
        let mut rounds = None;
        let mut out = None;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => mode = Mode::QUICK,
                "--rounds" => {
                    let n = args.next().and_then(|n| n.parse().ok());
                    rounds = Some(n.ok_or(USAGE)?);
                }
                "--out" => out = Some(PathBuf::from(args.next().ok_or(USAGE)?)),
                _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
            }
        }
        if let Some(rounds) = rounds {
            mode.rounds = rounds;
        }
        // The full run is the one that documents wireline; a quick one must not
        // overwrite it by accident.
        let out = out.unwrap_or_else(|| match mode.quick {
            true => std::env::temp_dir().join("wireline-bench-quick"),
            false => Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs"),
        });
        Ok(Options { mode, out })
    }
}

/// The `run` binary.
pub fn main() {
    if let Err(e) = run() {
        eprintln!("run: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), BoxError> {
    let options = Options::parse(std::env::args().skip(1))?;
    let mode = options.mode;
    build_client_binaries()?;
    let bin_dir = std::env::current_exe()?
        .parent()
        .ok_or("the runner has no directory")?
        .to_path_buf();
    let launcher = Launcher {
        bin_dir,
        pin: can_pin(),
        tunables: environment::glibc_tunables(),
    };
    if !launcher.pin {
        eprintln!("run: taskset or a second core is missing; running unpinned");
    }
    let work = std::env::temp_dir().join(format!("wireline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let ca = work.join("ca.pem");
    let server = Server::start(&launcher, &ca)?;
    let url = format!("https://127.0.0.1:{}", server.port);

    let jobs = plan::jobs(&mode, Path::new(SYSTEM_BUNDLE).exists());
    let mut samples: Vec<PerClient<Vec<Sample>>> =
        jobs.iter().map(|_| Default::default()).collect();
    let load_before = environment::load_average();
    for round in 0..mode.rounds {
        eprintln!("run: round {} of {}", round + 1, mode.rounds);
        if !quiet::wait_for_quiet(server.pid(), QUIET_WAIT) {
            eprintln!("run: the machine is busy with other work; the numbers will be noisy");
        }
        for (job, job_samples) in jobs.iter().zip(&mut samples) {
            for c in job.order(round) {
                let sample = run_one(&launcher, &server, &url, &ca, job, &CLIENTS[c])?;
                job_samples[c].push(sample);
            }
            let shares: Vec<String> = job_samples
                .iter()
                .zip(CLIENTS)
                .filter_map(|(runs, client)| {
                    let share = runs.last()?.foreign_share * 100.0;
                    Some(format!("{} {share:.0}%", client.name))
                })
                .collect();
            eprintln!("run:   {}: other work {}", job.label(), shares.join(", "));
        }
    }
    let counted = mode.count_instructions && instructions::available();
    let instruction_rows = match counted {
        true => instructions::rows(&launcher, &url, &ca, &jobs)?,
        false => Vec::new(),
    };
    drop(server);
    let _ = std::fs::remove_dir_all(&work);

    let raw = std::env::temp_dir().join("wireline-bench-samples.jsonl");
    std::fs::write(&raw, raw_samples(&jobs, &samples))?;
    eprintln!("run: every sample is in {}", raw.display());

    let rows: Vec<summary::Row> = jobs
        .iter()
        .zip(&samples)
        .flat_map(|(job, samples)| summary::rows(job, samples))
        .collect();
    let mut environment = environment::describe();
    environment.push(format!(
        "Load average (1 min) {load_before} before the run, {} after: other work on the machine adds noise.",
        environment::load_average()
    ));
    let chart_name = "performance.svg";
    let report = markdown::Report {
        mode,
        jobs: &jobs,
        samples: &samples,
        rows: &rows,
        instructions: &instruction_rows,
        environment,
        pinned: launcher.pin,
        tunables: launcher.tunables.as_deref(),
        chart: chart_name,
    };
    let md = markdown::render(&report);
    std::fs::create_dir_all(&options.out)?;
    std::fs::write(options.out.join("performance.md"), &md)?;
    let charted: Vec<summary::Row> = rows.iter().chain(&instruction_rows).cloned().collect();
    std::fs::write(options.out.join(chart_name), chart::render(&charted)?)?;
    println!("{md}");
    eprintln!(
        "run: wrote {}",
        options.out.join("performance.md").display()
    );
    Ok(())
}

fn run_one(
    launcher: &Launcher,
    server: &Server,
    url: &str,
    ca: &Path,
    job: &Job,
    client: &Client,
) -> Result<Sample, BoxError> {
    let mut args: Vec<String> = vec![
        "--url".into(),
        url.into(),
        "--ca".into(),
        ca.display().to_string(),
        "--scenario".into(),
        job.scenario.name().into(),
        "--http".into(),
        job.http.arg().into(),
    ];
    args.extend(job.args.iter().cloned());
    let roots = match (job.scenario, job.roots) {
        (Scenario::ClientNew, Roots::SystemBundle) => Path::new(SYSTEM_BUNDLE),
        _ => ca,
    };
    // SSL_CERT_DIR would add a directory of certificates to every "system" load (this
    // machine sets it to /etc/ssl/certs); without it, SSL_CERT_FILE alone is the store.
    let env = [("SSL_CERT_FILE", Some(roots)), ("SSL_CERT_DIR", None)];
    // A run that other work disturbed is run again once the machine is quiet; the least
    // disturbed of the attempts is kept, and the report says how disturbed it was.
    let mut best = process::run_client(launcher, server, client, &args, &env)?;
    let mut attempts = 1;
    while best.foreign_share > quiet::MAX_FOREIGN_SHARE && attempts < ATTEMPTS {
        eprintln!(
            "run: {} {}: {:.0}% of a core went to other work; running it again",
            job.label(),
            client.name,
            best.foreign_share * 100.0
        );
        quiet::wait_for_quiet(server.pid(), QUIET_WAIT);
        let sample = process::run_client(launcher, server, client, &args, &env)?;
        attempts += 1;
        if sample.foreign_share < best.foreign_share {
            best = sample;
        }
    }
    best.attempts = attempts;
    Ok(best)
}

/// One JSON line per client run, for a second look at the numbers behind the medians.
fn raw_samples(jobs: &[Job], samples: &[PerClient<Vec<Sample>>]) -> String {
    let mut lines = String::new();
    for (job, per_client) in jobs.iter().zip(samples) {
        for (client, runs) in CLIENTS.iter().zip(per_client) {
            for (round, s) in runs.iter().enumerate() {
                let line = serde_json::json!({
                    "job": job.label(),
                    "client": client.name,
                    "round": round,
                    "outcome": serde_json::from_str::<serde_json::Value>(&s.outcome.to_json())
                        .unwrap_or_default(),
                    "process_cpu_seconds": s.process.cpu().as_secs_f64(),
                    "max_rss_kib": s.process.max_rss_kib,
                    "connections": s.seen.connections,
                    "resumed_handshakes": s.seen.resumed_handshakes,
                    "foreign_share": s.foreign_share,
                    "attempts": s.attempts,
                });
                lines.push_str(&line.to_string());
                lines.push('\n');
            }
        }
    }
    lines
}

/// Runs of one sample at most, when other work keeps disturbing it.
const ATTEMPTS: u32 = 3;
/// How long to wait for the machine to go quiet before a round or a second attempt.
const QUIET_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// `cargo build` of all bench binaries in the runner's own profile: `cargo run --bin run`
/// builds only the runner.
fn build_client_binaries() -> Result<(), BoxError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--quiet", "-p", "bench", "--bins"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let status = command.status()?;
    if !status.success() {
        return Err("building the bench binaries failed".into());
    }
    Ok(())
}

/// Pinning needs taskset and two cores.
fn can_pin() -> bool {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let taskset = Command::new("taskset")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    cores >= 2 && taskset
}
