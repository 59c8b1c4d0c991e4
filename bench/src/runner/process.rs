//! Starting the server and the client binaries, pinned to their cores, and collecting what
//! each client run reports and what the kernel says it cost.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::plan::Client;
use super::quiet;
use crate::outcome::Outcome;
use crate::rusage::{self, Usage};
use crate::server::stats;
use crate::BoxError;

/// Where the binaries are and which cores they get.
#[derive(Clone, Debug)]
pub struct Launcher {
    /// The directory holding `bench-server`, `bench-wireline`, … (the runner's own).
    pub bin_dir: PathBuf,
    /// `taskset` is there and the machine has two cores to pin to.
    pub pin: bool,
    /// `GLIBC_TUNABLES` for every process, when the CPU needs it
    /// ([`super::environment::glibc_tunables`]).
    pub tunables: Option<String>,
}

impl Launcher {
    /// A command for `binary` (one of ours, or a program on PATH such as `valgrind`),
    /// under `taskset -c CORE` when pinning, with the run's `GLIBC_TUNABLES`.
    pub fn command(&self, binary: &str, core: u32) -> Command {
        let ours = self.bin_dir.join(binary);
        let path = if ours.exists() {
            ours
        } else {
            PathBuf::from(binary)
        };
        let mut command = if self.pin {
            let mut command = Command::new("taskset");
            command.arg("-c").arg(core.to_string()).arg(path);
            command
        } else {
            Command::new(path)
        };
        if let Some(tunables) = &self.tunables {
            command.env("GLIBC_TUNABLES", tunables);
        }
        command
    }
}

/// The server, killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    stats_port: u16,
}

/// Server counters over one client run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Seen {
    pub connections: u64,
    pub full_handshakes: u64,
    pub resumed_handshakes: u64,
    pub requests: u64,
}

impl Server {
    /// Starts `bench-server` on core 0, writing its CA to `ca`, and waits for its ports.
    pub fn start(launcher: &Launcher, ca: &Path) -> Result<Server, BoxError> {
        let mut child = launcher
            .command("bench-server", 0)
            .arg(ca)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting bench-server: {e}"))?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        BufReader::new(stdout).read_line(&mut line)?;
        let ports: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("bench-server said {line:?}: {e}"))?;
        let port = |key: &str| ports[key].as_u64().map(|p| p as u16);
        match (port("port"), port("stats_port")) {
            (Some(port), Some(stats_port)) => Ok(Server {
                child,
                port,
                stats_port,
            }),
            _ => Err(format!("bench-server said {line:?}").into()),
        }
    }

    /// The server's process id (taskset execs it, so it is the child's).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn counters(&self) -> Result<[u64; 4], BoxError> {
        let value = stats::fetch(self.stats_port)?;
        let get = |key: &str| value[key].as_u64().unwrap_or(0);
        Ok([
            get("connections"),
            get("full_handshakes"),
            get("resumed_handshakes"),
            get("requests"),
        ])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One client run: what it printed, what it cost the kernel's way, what the server saw.
#[derive(Clone, Debug)]
pub struct Sample {
    pub outcome: Outcome,
    /// The whole process: start-up, warm-up and the measured loop.
    pub process: Usage,
    pub seen: Seen,
    /// Share of one core that other processes used while it ran.
    pub foreign_share: f64,
    /// Runs it took to get a sample that other work did not disturb (at most 3).
    pub attempts: u32,
}

/// Runs `client`'s binary on core 1 with `args` and `env` (`None` removes the variable),
/// and waits for its result.
pub fn run_client(
    launcher: &Launcher,
    server: &Server,
    client: &Client,
    args: &[String],
    env: &[(&str, Option<&Path>)],
) -> Result<Sample, BoxError> {
    let before = server.counters()?;
    let machine_before = quiet::snapshot(server.pid());
    let binary = client.binary;
    let mut command = launcher.command(binary, 1);
    command.args(args).stdout(Stdio::piped());
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("starting {binary}: {e}"))?;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)?;
    // wait4 rather than Child::wait: it also returns the child's own rusage.
    let (code, process) = rusage::wait_child(child.id())?;
    let machine_after = quiet::snapshot(server.pid());
    if code != 0 {
        return Err(format!("{binary} {} exited with {code}", args.join(" ")).into());
    }
    let after = server.counters()?;
    let delta = |i: usize| after[i] - before[i];
    Ok(Sample {
        outcome: Outcome::from_json(stdout.trim())?,
        process,
        seen: Seen {
            connections: delta(0),
            full_handshakes: delta(1),
            resumed_handshakes: delta(2),
            requests: delta(3),
        },
        foreign_share: quiet::foreign_share(&machine_before, &machine_after, &process),
        attempts: 1,
    })
}
