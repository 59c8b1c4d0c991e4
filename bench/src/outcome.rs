//! The one JSON line a client run prints, and its parsing back in the runner.

use serde_json::{json, Value};

/// What one client run measured. Times cover only the measured loop, after warm-up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub client: String,
    pub scenario: String,
    pub http: String,
    /// Requests completed (for `client-new`: `Client::new()` calls after the first).
    pub requests: u64,
    /// Wall time of the measured loop.
    pub seconds: f64,
    /// Body bytes moved in the measured loop (downloaded or uploaded).
    pub bytes: u64,
    /// User + system CPU of the client process during the measured loop.
    pub cpu_seconds: f64,
    /// The HTTP version the responses had, e.g. `HTTP/2.0`.
    pub version: String,
    /// `client-new`: the first call, in microseconds…
    pub first_us: Option<f64>,
    /// …and the median of the later ones.
    pub later_median_us: Option<f64>,
    /// Peak anonymous resident memory (KiB) from the built client to the end of the
    /// measured loop, sampled: what the requests allocate, without the binary's pages
    /// that peak RSS counts too.
    pub peak_anon_kib: Option<u64>,
    /// Why the library could not run this scenario (reported as n/a).
    pub skipped: Option<String>,
}

impl Outcome {
    /// The result line.
    pub fn to_json(&self) -> String {
        json!({
            "client": self.client,
            "scenario": self.scenario,
            "http": self.http,
            "requests": self.requests,
            "seconds": self.seconds,
            "bytes": self.bytes,
            "cpu_seconds": self.cpu_seconds,
            "version": self.version,
            "first_us": self.first_us,
            "later_median_us": self.later_median_us,
            "peak_anon_kib": self.peak_anon_kib,
            "skipped": self.skipped,
        })
        .to_string()
    }

    /// Reads a result line back.
    pub fn from_json(line: &str) -> Result<Outcome, String> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("bad result line {line:?}: {e}"))?;
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        Ok(Outcome {
            client: text("client"),
            scenario: text("scenario"),
            http: text("http"),
            requests: value["requests"].as_u64().unwrap_or(0),
            seconds: value["seconds"].as_f64().unwrap_or(0.0),
            bytes: value["bytes"].as_u64().unwrap_or(0),
            cpu_seconds: value["cpu_seconds"].as_f64().unwrap_or(0.0),
            version: text("version"),
            first_us: value["first_us"].as_f64(),
            later_median_us: value["later_median_us"].as_f64(),
            peak_anon_kib: value["peak_anon_kib"].as_u64(),
            skipped: value["skipped"].as_str().map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let outcome = Outcome {
            client: "wireline".into(),
            scenario: "seq".into(),
            http: "1".into(),
            requests: 10,
            seconds: 1.5,
            bytes: 130,
            cpu_seconds: 0.25,
            version: "HTTP/1.1".into(),
            first_us: Some(3.0),
            later_median_us: None,
            peak_anon_kib: Some(5000),
            skipped: None,
        };
        assert_eq!(Outcome::from_json(&outcome.to_json()), Ok(outcome));
    }
}
