//! The command line shared by the client binaries.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenario::{Http, Scenario};

/// What one client run is asked to do.
#[derive(Clone, Debug)]
pub struct Args {
    /// The server's base URL, e.g. `https://127.0.0.1:4433`.
    pub url: String,
    /// The PEM file of the CA that signed the server's certificate.
    pub ca: PathBuf,
    pub scenario: Scenario,
    pub http: Http,
    /// Stop timed loops after this long…
    pub duration: Option<Duration>,
    /// …or after this many requests (downloads, uploads, `Client::new()` calls).
    pub count: Option<u64>,
    /// Tasks in flight for `concurrent`.
    pub concurrency: usize,
    /// Body size for `download` and `upload`.
    pub bytes: u64,
}

const USAGE: &str = "usage: bench-CLIENT --url URL --ca FILE --scenario \
seq|concurrent|download|upload|newconn|newconn-noresume|client-new [--http 1|2] \
[--duration SECS | --count N] [--concurrency 64] [--bytes N]";

impl Args {
    /// Parses `std::env::args()`; an error carries the usage line.
    pub fn from_env() -> Result<Args, String> {
        Args::parse(std::env::args().skip(1))
    }

    /// Parses flags given as `--name value` pairs.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut url = None;
        let mut ca = None;
        let mut scenario = None;
        let mut parsed = Args {
            url: String::new(),
            ca: PathBuf::new(),
            scenario: Scenario::Seq,
            http: Http::One,
            duration: None,
            count: None,
            concurrency: 64,
            bytes: 100 << 20,
        };
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}\n{USAGE}");
            match flag.as_str() {
                "--url" => url = Some(value.trim_end_matches('/').to_owned()),
                "--ca" => ca = Some(PathBuf::from(&value)),
                "--scenario" => scenario = Some(value.parse().map_err(|e| bad(&e))?),
                "--http" => parsed.http = value.parse().map_err(|e| bad(&e))?,
                "--duration" => {
                    let secs: f64 = value.parse().map_err(|e| bad(&e))?;
                    parsed.duration = Some(Duration::from_secs_f64(secs));
                }
                "--count" => parsed.count = Some(value.parse().map_err(|e| bad(&e))?),
                "--concurrency" => parsed.concurrency = value.parse().map_err(|e| bad(&e))?,
                "--bytes" => parsed.bytes = value.parse().map_err(|e| bad(&e))?,
                _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
            }
        }
        parsed.scenario = scenario.ok_or_else(|| format!("--scenario is required\n{USAGE}"))?;
        // client-new needs no server; given one, it checks the default client works.
        let needs_server = parsed.scenario != Scenario::ClientNew;
        match (url, ca) {
            (Some(url), Some(ca)) => (parsed.url, parsed.ca) = (url, ca),
            _ if needs_server => return Err(format!("--url and --ca are required\n{USAGE}")),
            _ => {}
        }
        if parsed.duration.is_none() && parsed.count.is_none() {
            parsed.duration = Some(Duration::from_secs(2));
        }
        Ok(parsed)
    }
}
