//! From samples to report rows: a median per client and metric, the ratios, and whether
//! wireline meets the target the issue set for that row.

use super::plan::{Job, PerClient, HYPER, REQWEST, WIRELINE};
use super::process::Sample;
use crate::scenario::Scenario;

/// The median of a metric over the rounds, and how far the rounds strayed from it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    pub median: f64,
    /// Half the range (max − min) relative to the median: the ± shown in the report.
    pub spread: f64,
}

impl Stat {
    /// `None` for no values.
    pub fn of(mut values: Vec<f64>) -> Option<Stat> {
        values.retain(|v| v.is_finite());
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let median = if n % 2 == 1 {
            values[n / 2]
        } else {
            (values[n / 2 - 1] + values[n / 2]) / 2.0
        };
        let spread = if median > 0.0 {
            (values[n - 1] - values[0]) / 2.0 / median
        } else {
            0.0
        };
        Some(Stat { median, spread })
    }
}

/// What the issue asks of wireline on a row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// wireline ≥ this × raw hyper.
    AtLeastOfHyper(f64),
    /// wireline ≤ this × raw hyper.
    AtMostOfHyper(f64),
    /// wireline ≤ this × reqwest.
    AtMostOfReqwest(f64),
}

impl Target {
    /// As written in the report.
    pub fn describe(self) -> String {
        match self {
            Target::AtLeastOfHyper(x) => format!("≥ {x} × hyper"),
            Target::AtMostOfHyper(x) => format!("≤ {x} × hyper"),
            Target::AtMostOfReqwest(x) if x < 1.0 => {
                format!("≥ {:.0}× cheaper than reqwest", 1.0 / x)
            }
            Target::AtMostOfReqwest(x) => format!("≤ {x} × reqwest"),
        }
    }
}

/// Which chart panel a row goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    /// Throughput: higher is better.
    Rate,
    /// Client CPU per unit of work: lower is better.
    Cpu,
    /// User-space instructions per unit of work (callgrind): lower is better.
    Instructions,
}

/// One line of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    pub job: String,
    pub metric: &'static str,
    /// Medians in [`CLIENTS`](super::plan::CLIENTS) order; `None` when a client could not
    /// run it or does not run the job.
    pub values: PerClient<Option<Stat>>,
    /// Each round's value per client (`None` where it could not run), for paired ratios;
    /// empty for a client that does not run the job ([`Job::clients`]).
    pub rounds: PerClient<Vec<Option<f64>>>,
    pub target: Option<Target>,
    pub panel: Option<Panel>,
}

impl Row {
    /// wireline ÷ the client at `other`: the median over rounds of the ratio within each
    /// round. The clients of a round run seconds apart, so a slow spell of the machine
    /// shifts both and cancels out of the ratio, where it would not out of two medians.
    pub fn ratio_to(&self, other: usize) -> Option<f64> {
        self.ratio(WIRELINE, other)
    }

    /// `client` ÷ `other`, paired by round as in [`Row::ratio_to`].
    pub fn ratio(&self, client: usize, other: usize) -> Option<f64> {
        let pairs = self.rounds[client].iter().zip(&self.rounds[other]);
        let ratios = pairs
            .filter_map(|(w, o)| Some(w.as_ref()? / o.as_ref().filter(|o| **o > 0.0)?))
            .collect();
        Stat::of(ratios).map(|s| s.median)
    }

    /// Whether `client` ran this job at all (it may still have had no number: "n/a").
    pub fn ran(&self, client: usize) -> bool {
        !self.rounds[client].is_empty()
    }

    /// `Some(true)` when the target is met, `None` when there is none or no number.
    pub fn met(&self) -> Option<bool> {
        Some(match self.target? {
            Target::AtLeastOfHyper(x) => self.ratio_to(HYPER)? >= x,
            Target::AtMostOfHyper(x) => self.ratio_to(HYPER)? <= x,
            Target::AtMostOfReqwest(x) => self.ratio_to(REQWEST)? <= x,
        })
    }
}

/// A metric of one sample; `None` when the run was skipped.
type Extract = fn(&Sample) -> Option<f64>;

fn per_second(s: &Sample) -> Option<f64> {
    Some(s.outcome.requests as f64 / s.outcome.seconds)
}

fn cpu_us_per_request(s: &Sample) -> Option<f64> {
    Some(s.outcome.cpu_seconds / s.outcome.requests as f64 * 1e6)
}

fn megabytes_per_second(s: &Sample) -> Option<f64> {
    Some(s.outcome.bytes as f64 / 1e6 / s.outcome.seconds)
}

fn cpu_seconds_per_gigabyte(s: &Sample) -> Option<f64> {
    Some(s.outcome.cpu_seconds / (s.outcome.bytes as f64 / 1e9))
}

fn peak_rss_mib(s: &Sample) -> Option<f64> {
    Some(s.process.max_rss_kib as f64 / 1024.0)
}

fn peak_anon_mib(s: &Sample) -> Option<f64> {
    Some(s.outcome.peak_anon_kib? as f64 / 1024.0)
}

fn first_call_us(s: &Sample) -> Option<f64> {
    s.outcome.first_us
}

fn later_calls_us(s: &Sample) -> Option<f64> {
    s.outcome.later_median_us
}

/// The rows of one job, from its samples per client (in [`CLIENTS`](super::plan::CLIENTS) order).
pub fn rows(job: &Job, samples: &PerClient<Vec<Sample>>) -> Vec<Row> {
    use Panel::{Cpu, Rate};
    let metrics: Vec<(&'static str, Extract, Option<Target>, Option<Panel>)> = match job.scenario {
        // Issue 15's targets for small requests: ≥ 0.90 × raw hyper's rate, peak RSS at
        // 64 in flight ≤ 1.10 × raw hyper's.
        Scenario::Seq | Scenario::Concurrent => {
            let mut m: Vec<(&'static str, Extract, Option<Target>, Option<Panel>)> = vec![
                (
                    "requests/s",
                    per_second,
                    Some(Target::AtLeastOfHyper(0.90)),
                    Some(Rate),
                ),
                ("client CPU µs/request", cpu_us_per_request, None, Some(Cpu)),
            ];
            if job.scenario == Scenario::Concurrent {
                m.push((
                    "peak RSS MiB",
                    peak_rss_mib,
                    Some(Target::AtMostOfHyper(1.10)),
                    None,
                ));
                m.push((
                    "peak anonymous RSS MiB (heap, stacks)",
                    peak_anon_mib,
                    None,
                    None,
                ));
            }
            m
        }
        Scenario::Download | Scenario::Upload => vec![
            (
                "MB/s",
                megabytes_per_second,
                Some(Target::AtLeastOfHyper(0.98)),
                Some(Rate),
            ),
            (
                "client CPU s/GB",
                cpu_seconds_per_gigabyte,
                Some(Target::AtMostOfReqwest(1.0)),
                Some(Cpu),
            ),
        ],
        Scenario::NewConn | Scenario::NewConnNoResume => vec![
            (
                "connections/s",
                per_second,
                Some(Target::AtLeastOfHyper(0.98)),
                Some(Rate),
            ),
            (
                "client CPU µs/connection",
                cpu_us_per_request,
                None,
                Some(Cpu),
            ),
        ],
        Scenario::ClientNew => vec![
            ("first call µs", first_call_us, None, None),
            (
                "later calls µs (median)",
                later_calls_us,
                Some(Target::AtMostOfReqwest(0.05)),
                None,
            ),
        ],
    };
    metrics
        .into_iter()
        .map(|(metric, extract, target, panel)| Row {
            job: job.label(),
            metric,
            values: std::array::from_fn(|c| {
                let runs = samples[c].iter().filter(|s| s.outcome.skipped.is_none());
                Stat::of(runs.filter_map(extract).collect())
            }),
            rounds: std::array::from_fn(|c| {
                let value = |s: &Sample| s.outcome.skipped.is_none().then(|| extract(s)).flatten();
                samples[c].iter().map(value).collect()
            }),
            target,
            panel,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_spread() {
        let stat = Stat::of(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!(stat.median, 2.0);
        assert_eq!(stat.spread, 0.5);
        assert_eq!(Stat::of(vec![1.0, 3.0]).unwrap().median, 2.0);
        assert_eq!(Stat::of(vec![]), None);
    }
}
