//! Which client runs make up a benchmark, and with what arguments, in quick and full mode.

use crate::scenario::{Http, Scenario};

/// One client under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// Its name in the report.
    pub name: &'static str,
    /// Its binary, beside the runner's.
    pub binary: &'static str,
}

/// The clients, in the order of the report's columns.
pub const CLIENTS: [Client; 4] = [
    Client {
        name: "wireline",
        binary: "bench-wireline",
    },
    Client {
        name: "reqwest",
        binary: "bench-reqwest",
    },
    Client {
        name: "hyper",
        binary: "bench-hyper",
    },
    Client {
        name: "hyper+headers",
        binary: "bench-hyper-headers",
    },
];

/// One value per client, in [`CLIENTS`] order.
pub type PerClient<T> = [T; CLIENTS.len()];

/// Index of raw hyper sending wireline's default headers in [`CLIENTS`].
pub const HYPER_HEADERS: usize = 3;
/// Index of raw hyper in [`CLIENTS`].
pub const HYPER: usize = 2;
/// Index of reqwest in [`CLIENTS`].
pub const REQWEST: usize = 1;
/// Index of wireline in [`CLIENTS`].
pub const WIRELINE: usize = 0;

/// Where `Client::new()` finds its "system" roots for a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roots {
    /// SSL_CERT_FILE points at the bench CA: a one-certificate bundle, the same for all.
    BenchCa,
    /// The machine's own bundle (SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt).
    SystemBundle,
}

/// The system bundle, when this machine has one.
pub const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// One scenario at one HTTP version: a set of client runs to compare.
#[derive(Clone, Debug)]
pub struct Job {
    pub scenario: Scenario,
    pub http: Http,
    pub roots: Roots,
    /// Flags for the client binary besides `--url`, `--ca`, `--scenario`, `--http`.
    pub args: Vec<String>,
}

impl Job {
    /// The job's name in the report, e.g. `seq h2` or `client-new (system bundle)`.
    pub fn label(&self) -> String {
        match (self.scenario, self.roots) {
            (Scenario::ClientNew, Roots::BenchCa) => "client-new, 1-cert bundle".to_owned(),
            (Scenario::ClientNew, Roots::SystemBundle) => "client-new, system bundle".to_owned(),
            (scenario, _) => format!("{} {}", scenario, self.http.label()),
        }
    }

    /// The clients that run this job, as indices into [`CLIENTS`]. hyper+headers only runs
    /// the small requests, where three headers are a visible share of the work; beside a
    /// 100 MiB body or a handshake they are lost in the noise, and the run stays shorter.
    pub fn clients(&self) -> &'static [usize] {
        match self.scenario {
            Scenario::Seq | Scenario::Concurrent => &[WIRELINE, REQWEST, HYPER, HYPER_HEADERS],
            _ => &[WIRELINE, REQWEST, HYPER],
        }
    }

    /// The order the job's clients run in `round`: A B C D, then B C D A, …, still
    /// interleaved, and no client always goes first (right after another scenario's load).
    pub fn order(&self, round: usize) -> impl Iterator<Item = usize> {
        let clients = self.clients();
        (0..clients.len()).map(move |k| clients[(round + k) % clients.len()])
    }
}

/// How long and how often.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    pub quick: bool,
    pub rounds: usize,
    /// Seconds of each timed loop (seq, concurrent, newconn).
    pub duration: f64,
    /// Downloads (100 MiB) and uploads (64 MiB) per client run.
    pub transfers: u64,
    /// `Client::new()` calls after the first.
    pub client_new_calls: u64,
    /// Also count instructions per request under callgrind (when valgrind is installed).
    pub count_instructions: bool,
}

impl Mode {
    /// Under a minute in all.
    pub const QUICK: Mode = Mode {
        quick: true,
        rounds: 3,
        duration: 0.25,
        transfers: 1,
        client_new_calls: 30,
        count_instructions: false,
    };

    /// The mode that writes docs/performance.md.
    pub const FULL: Mode = Mode {
        quick: false,
        rounds: 7,
        duration: 1.5,
        transfers: 3,
        client_new_calls: 200,
        count_instructions: true,
    };
}

/// The jobs of a run, in report order.
pub fn jobs(mode: &Mode, has_system_bundle: bool) -> Vec<Job> {
    let mut jobs = Vec::new();
    let timed = vec!["--duration".to_owned(), mode.duration.to_string()];
    for scenario in Scenario::ALL {
        if !scenario.has_http_version() {
            continue;
        }
        for http in [Http::One, Http::Two] {
            let args = match scenario {
                Scenario::Concurrent => [timed.clone(), strings(&["--concurrency", "64"])].concat(),
                Scenario::Download => strings(&[
                    "--count",
                    &mode.transfers.to_string(),
                    "--bytes",
                    &(100u64 << 20).to_string(),
                ]),
                Scenario::Upload => strings(&[
                    "--count",
                    &mode.transfers.to_string(),
                    "--bytes",
                    &(64u64 << 20).to_string(),
                ]),
                _ => timed.clone(),
            };
            jobs.push(Job {
                scenario,
                http,
                roots: Roots::BenchCa,
                args,
            });
        }
    }
    let calls = strings(&["--count", &mode.client_new_calls.to_string()]);
    let mut roots = vec![Roots::BenchCa];
    if has_system_bundle {
        roots.push(Roots::SystemBundle);
    }
    for roots in roots {
        jobs.push(Job {
            scenario: Scenario::ClientNew,
            http: Http::Two,
            roots,
            args: calls.clone(),
        });
    }
    jobs
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// A job of `scenario` over HTTP/1.1 with the bench's CA, for the runner's tests.
#[cfg(test)]
pub(super) fn test_job(scenario: Scenario) -> Job {
    Job {
        scenario,
        http: Http::One,
        roots: Roots::BenchCa,
        args: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyper_headers_runs_the_small_requests_only() {
        for job in jobs(&Mode::QUICK, true) {
            let small = matches!(job.scenario, Scenario::Seq | Scenario::Concurrent);
            assert_eq!(
                job.clients().contains(&HYPER_HEADERS),
                small,
                "{}",
                job.label()
            );
            for client in [WIRELINE, REQWEST, HYPER] {
                assert!(job.clients().contains(&client), "{}", job.label());
            }
        }
    }

    #[test]
    fn each_round_runs_every_client_once_and_each_goes_first_in_turn() {
        for (scenario, clients) in [(Scenario::Seq, 4), (Scenario::Download, 3)] {
            let job = test_job(scenario);
            let mut first = Vec::new();
            for round in 0..clients {
                let mut order: Vec<usize> = job.order(round).collect();
                first.push(order[0]);
                order.sort();
                assert_eq!(order, job.clients(), "round {round} of {scenario}");
            }
            first.sort();
            assert_eq!(first, job.clients(), "who goes first in {scenario}");
        }
    }
}
