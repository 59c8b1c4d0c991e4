//! Instructions per request, counted by valgrind's callgrind: deterministic where wall
//! time and CPU time on a shared two-core VM drift by ±20% from run to run, so it can tell
//! a 2% difference from noise.
//!
//! Each client runs a scenario twice with different request counts; the difference of the
//! two totals divided by the difference of the counts is the cost of one request, with
//! process start-up, the client's construction and the warm-up cancelled out.

use std::path::Path;
use std::process::{Command, Stdio};

use super::plan::{Client, Job, CLIENTS};
use super::process::Launcher;
use super::summary::{Panel, Row, Stat, Target};
use crate::outcome::Outcome;
use crate::scenario::Scenario;
use crate::BoxError;

/// Body size of the counted downloads and uploads: valgrind runs them ~50× slower.
const TRANSFER_BYTES: u64 = 8 << 20;

/// Whether `valgrind` can be run.
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The two request counts for a scenario, what one unit is, and the target.
fn plan(scenario: Scenario) -> Option<(u64, u64, &'static str, Option<Target>)> {
    // Issue 15: a small GET within 10% of raw hyper's instructions, seq and 64 in flight.
    let small_get = Some(Target::AtMostOfHyper(1.10));
    Some(match scenario {
        Scenario::Seq => (100, 600, "instructions/request", small_get),
        Scenario::Concurrent => (128, 640, "instructions/request", small_get),
        Scenario::Download | Scenario::Upload => (1, 2, "instructions/MB", None),
        Scenario::NewConn | Scenario::NewConnNoResume => (10, 60, "instructions/connection", None),
        Scenario::ClientNew => return None,
    })
}

/// Rows of user-space instructions per unit of work, one per job that has a plan.
pub fn rows(launcher: &Launcher, url: &str, ca: &Path, jobs: &[Job]) -> Result<Vec<Row>, BoxError> {
    let mut rows = Vec::new();
    for job in jobs {
        let Some((low, high, metric, target)) = plan(job.scenario) else {
            continue;
        };
        eprintln!("run: counting instructions: {}", job.label());
        let mut per_unit = [None; CLIENTS.len()];
        for &c in job.clients() {
            let client = &CLIENTS[c];
            let Some(few) = count(launcher, url, ca, job, client, low)? else {
                continue;
            };
            let Some(many) = count(launcher, url, ca, job, client, high)? else {
                continue;
            };
            let units = match job.scenario {
                Scenario::Download | Scenario::Upload => {
                    (high - low) as f64 * TRANSFER_BYTES as f64 / 1e6
                }
                _ => (high - low) as f64,
            };
            per_unit[c] = Some((many as f64 - few as f64) / units);
        }
        rows.push(Row {
            job: job.label(),
            metric,
            values: per_unit.map(|v| v.and_then(|v| Stat::of(vec![v]))),
            rounds: std::array::from_fn(|c| match job.clients().contains(&c) {
                true => vec![per_unit[c]],
                false => Vec::new(),
            }),
            target,
            panel: Some(Panel::Instructions),
        });
    }
    Ok(rows)
}

/// The instructions callgrind counted for one run of `count` requests, or `None` when
/// the client skips the scenario.
fn count(
    launcher: &Launcher,
    url: &str,
    ca: &Path,
    job: &Job,
    client: &Client,
    count: u64,
) -> Result<Option<u64>, BoxError> {
    let out = ca.with_file_name(format!("callgrind-{}.out", client.binary));
    let mut command = launcher.command("valgrind", 1);
    command
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(launcher.bin_dir.join(client.binary))
        .args(["--url", url, "--ca"])
        .arg(ca)
        .args(["--scenario", job.scenario.name(), "--http", job.http.arg()])
        .args(["--count", &count.to_string()])
        .args(["--bytes", &TRANSFER_BYTES.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = command.output()?;
    let _ = std::fs::remove_file(&out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("callgrind of {} {}: {stderr}", client.binary, job.label()).into());
    }
    let outcome = Outcome::from_json(String::from_utf8_lossy(&output.stdout).trim())?;
    if outcome.skipped.is_some() {
        return Ok(None);
    }
    // "==PID== Collected : 141190205"
    let collected = stderr
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("no instruction count from callgrind: {stderr}"))?;
    Ok(Some(collected))
}
