//! docs/performance.md: the results table, the misses, what each run did, and how it was measured.

use std::fmt::Write;

use super::plan::{Job, Mode, PerClient, CLIENTS, HYPER, HYPER_HEADERS, REQWEST};
use super::process::Sample;
use super::summary::{Panel, Row, Stat, Target};

/// Everything the report shows.
pub struct Report<'a> {
    pub mode: Mode,
    pub jobs: &'a [Job],
    pub samples: &'a [PerClient<Vec<Sample>>],
    pub rows: &'a [Row],
    /// Instructions per unit of work from callgrind (empty when not counted).
    pub instructions: &'a [Row],
    /// Lines about the machine, versions and load.
    pub environment: Vec<String>,
    pub pinned: bool,
    /// `GLIBC_TUNABLES` given to every process, if the CPU needed it.
    pub tunables: Option<&'a str>,
    /// The chart's file name, beside the report.
    pub chart: &'a str,
}

/// A number with as many digits as it deserves.
fn num(v: f64) -> String {
    match v.abs() {
        x if x >= 1000.0 => format!("{v:.0}"),
        x if x >= 10.0 => format!("{v:.1}"),
        x if x >= 1.0 => format!("{v:.2}"),
        _ => format!("{v:.3}"),
    }
}

/// A client's median on a row: "n/a" when it could not run the job, "—" when it does not
/// run it (hyper+headers outside the small requests).
fn cell(row: &Row, client: usize) -> String {
    match row.values[client] {
        Some(s) => format!("{} ±{:.0}%", num(s.median), s.spread * 100.0),
        None if row.ran(client) => "n/a".to_owned(),
        None => NOT_RUN.to_owned(),
    }
}

/// The cell of a client that does not run a job.
const NOT_RUN: &str = "—";

fn ratio(r: Option<f64>) -> String {
    r.map_or("–".to_owned(), |r| format!("{r:.2}"))
}

/// wireline ÷ `other` on a row, "—" when `other` does not run the job.
fn ratio_cell(row: &Row, other: usize) -> String {
    match row.ran(other) {
        true => ratio(row.ratio_to(other)),
        false => NOT_RUN.to_owned(),
    }
}

fn verdict(row: &Row) -> &'static str {
    match (row.target, row.met()) {
        (None, _) => "",
        (Some(_), Some(true)) => "yes",
        (Some(_), Some(false)) => "**no**",
        (Some(_), None) => "n/a",
    }
}

/// The targets, grouped by what they ask, then each one missed with its numbers.
fn targets(md: &mut String, report: &Report) {
    let _ = writeln!(md, "\n## Targets\n");
    let counted: Vec<&Row> = report.instructions.iter().chain(report.rows).collect();
    let mut asks: Vec<(&str, String, Vec<&str>)> = Vec::new();
    for row in counted.iter().filter(|r| r.target.is_some()) {
        let ask = row.target.map(|t| t.describe()).unwrap_or_default();
        match asks
            .iter_mut()
            .find(|(m, a, _)| *m == row.metric && *a == ask)
        {
            Some((_, _, jobs)) => jobs.push(&row.job),
            None => asks.push((row.metric, ask, vec![&row.job])),
        }
    }
    let _ = writeln!(
        md,
        "Issue 15 set those of the small requests (instructions per request, requests/s, \
         peak RSS at 64 in flight); the other scenarios keep their earlier targets, so that \
         nothing else regresses.\n"
    );
    for (metric, ask, jobs) in &asks {
        let _ = writeln!(md, "- {metric} {ask}: {}", jobs.join("; "));
    }
    let tally = |rows: &[Row]| {
        let met = rows.iter().filter(|r| r.met() == Some(true)).count();
        (met, rows.iter().filter(|r| r.target.is_some()).count())
    };
    let (met, all) = tally(report.rows);
    let instructions = match tally(report.instructions) {
        (_, 0) => String::new(),
        (met, all) => format!(" and {met} of {all} by the instruction counts"),
    };
    let _ = writeln!(
        md,
        "\n{met} of {all} targets met by the timed ratios{instructions}. A timed ratio \
         scatters by about ±15% from round to round on this VM, so a miss by a few percent \
         can be noise: each timed miss below also gives the callgrind ratio for the same \
         scenario, which does not scatter.\n"
    );
    for row in counted.iter().filter(|r| r.met() == Some(false)) {
        let by_instructions = row.panel == Some(Panel::Instructions);
        let other = match row.target {
            Some(Target::AtMostOfReqwest(_)) => (REQWEST, "reqwest"),
            _ => (HYPER, "hyper"),
        };
        let value = |c: usize| match (by_instructions, row.values[c]) {
            (true, Some(s)) => format!("{:.0}", s.median),
            _ => cell(row, c),
        };
        let mut medians = format!(
            "wireline {}, hyper {}, reqwest {}",
            value(0),
            value(HYPER),
            value(REQWEST)
        );
        if row.ran(HYPER_HEADERS) {
            let _ = write!(
                medians,
                ", hyper+headers {}; wireline ÷ hyper+headers = {}",
                value(HYPER_HEADERS),
                ratio(row.ratio_to(HYPER_HEADERS))
            );
        }
        let instructions = report
            .instructions
            .iter()
            .filter(|_| !by_instructions)
            .find(|i| i.job == row.job)
            .and_then(|i| i.ratio_to(other.0))
            .map(|r| format!("; instructions: wireline ÷ {} = {r:.2}", other.1))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "- missed: {} {}: wireline ÷ {} = {} against a target of {} ({medians}){instructions}",
            row.job,
            row.metric,
            other.1,
            ratio(row.ratio_to(other.0)),
            row.target.map(|t| t.describe()).unwrap_or_default(),
        );
    }
    let unmeasured = counted
        .iter()
        .filter(|r| r.target.is_some() && r.met().is_none());
    for row in unmeasured {
        let _ = writeln!(
            md,
            "- not measurable: {} {}: wireline has no setting for it",
            row.job, row.metric
        );
    }
}

/// The markdown text.
pub fn render(report: &Report) -> String {
    let mut md = String::new();
    let mode = if report.mode.quick { " -- --quick" } else { "" };
    let _ = writeln!(
        md,
        "# Performance: wireline against reqwest and raw hyper\n"
    );
    let _ = writeln!(
        md,
        "Written by `cargo run -p bench --release --bin run{mode}` ({} rounds); rerun it \
         rather than editing this file. The layer wireline puts on hyper should cost almost \
         nothing: each number below is a median over the rounds, the clients measured side \
         by side in the same run, interleaved.\n",
        report.mode.rounds
    );
    let _ = writeln!(
        md,
        "Four clients: wireline, reqwest, raw hyper (hyper-util's pooled client and \
         hyper-rustls, nothing on top) and **hyper+headers**, raw hyper sending the default \
         headers wireline sends on every request (`user-agent`, `accept`, \
         `accept-encoding`), so wireline ÷ hyper+headers is what the layer costs beyond \
         those headers. hyper+headers runs only `seq` and `concurrent`, the small requests \
         where three headers are a visible share of the work; elsewhere its cells are \
         \"{NOT_RUN}\". The targets compare with raw hyper, as issue 15 sets them.\n"
    );
    for line in &report.environment {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(
        md,
        "\n![wireline, reqwest and hyper+headers relative to raw hyper]({})\n",
        report.chart
    );

    let _ = writeln!(md, "## Results\n");
    let _ = writeln!(
        md,
        "`±` is half the range over the rounds, relative to the median: the machine's speed \
         drifts from run to run. Ratios are wireline ÷ the other client, taken within each \
         round (the clients of a round run seconds apart, so the drift cancels) and then the \
         median over rounds; above 1 is better for rates (requests/s, MB/s, connections/s), \
         below 1 is better for costs (CPU, memory, time).\n"
    );
    let _ = writeln!(
        md,
        "| scenario | metric | wireline | reqwest | raw hyper | hyper+headers | wireline ÷ reqwest | wireline ÷ hyper | wireline ÷ hyper+headers | target | met |"
    );
    let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|");
    for row in report.rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.job,
            row.metric,
            cell(row, 0),
            cell(row, 1),
            cell(row, 2),
            cell(row, 3),
            ratio(row.ratio_to(REQWEST)),
            ratio(row.ratio_to(HYPER)),
            ratio_cell(row, HYPER_HEADERS),
            row.target.map(|t| t.describe()).unwrap_or_default(),
            verdict(row),
        );
    }

    let _ = writeln!(md, "\n## Instructions per request (callgrind)\n");
    if report.instructions.is_empty() {
        let _ = writeln!(
            md,
            "Not counted in this run (quick mode, or valgrind is not installed).\n"
        );
    } else {
        let _ = writeln!(
            md,
            "User-space instructions of the client process per unit of work, from valgrind's \
             callgrind: each client runs each scenario twice with different counts and the \
             difference is divided by the difference in counts, so start-up, the client's \
             construction and the warm-up cancel out. Unlike time on this shared VM, the \
             count repeats to within a fraction of a percent, so it resolves differences the \
             timings above cannot. Kernel work (the TCP stack) is not counted.\n"
        );
        let _ = writeln!(
            md,
            "| scenario | metric | wireline | reqwest | raw hyper | hyper+headers | wireline ÷ reqwest | wireline ÷ hyper | wireline ÷ hyper+headers | target | met |"
        );
        let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|---|---|");
        for row in report.instructions {
            let value = |c: usize| match row.values[c] {
                Some(s) => format!("{:.0}", s.median),
                None if row.ran(c) => "n/a".to_owned(),
                None => NOT_RUN.to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.job,
                row.metric,
                value(0),
                value(1),
                value(2),
                value(3),
                ratio(row.ratio_to(REQWEST)),
                ratio(row.ratio_to(HYPER)),
                ratio_cell(row, HYPER_HEADERS),
                row.target.map(|t| t.describe()).unwrap_or_default(),
                verdict(row),
            );
        }
    }

    targets(&mut md, report);

    let _ = writeln!(md, "\n## What each run did\n");
    let all: Vec<&Sample> = report.samples.iter().flatten().flatten().collect();
    let rerun = all.iter().filter(|s| s.attempts > 1).count();
    let still = all
        .iter()
        .filter(|s| s.foreign_share > super::quiet::MAX_FOREIGN_SHARE)
        .count();
    let _ = writeln!(
        md,
        "Other work on the machine: {rerun} of {} client runs were repeated because other \
         processes took more than {:.0}% of a core while they ran; {still} kept runs are \
         still above that (the least disturbed of three attempts is kept). The last column \
         is the median share of a core that went to other work.\n",
        all.len(),
        super::quiet::MAX_FOREIGN_SHARE * 100.0
    );
    let _ = writeln!(
        md,
        "Medians per client run. Connections and resumed handshakes are counted by the \
         server, so they show each scenario did what it claims (one connection for `seq`, \
         one per request for `newconn`, resumption on or off). Process CPU and peak RSS come \
         from `wait4()` and cover the whole process: start-up, warm-up and the timed loop.\n"
    );
    let _ = writeln!(
        md,
        "| scenario | client | requests timed | connections | resumed | process CPU s | peak RSS MiB | other work |"
    );
    let _ = writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|");
    for (job, samples) in report.jobs.iter().zip(report.samples) {
        for &c in job.clients() {
            let client = CLIENTS[c].name;
            let runs: Vec<&Sample> = samples[c]
                .iter()
                .filter(|s| s.outcome.skipped.is_none())
                .collect();
            if runs.is_empty() {
                let _ = writeln!(md, "| {} | {client} | n/a | | | | | |", job.label());
                continue;
            }
            let median = |f: &dyn Fn(&Sample) -> f64| {
                Stat::of(runs.iter().map(|s| f(s)).collect()).map_or(0.0, |s| s.median)
            };
            let connections: u64 = runs.iter().map(|s| s.seen.connections).sum();
            let resumed: u64 = runs.iter().map(|s| s.seen.resumed_handshakes).sum();
            let resumed = if connections > 0 {
                format!("{:.0}%", resumed as f64 * 100.0 / connections as f64)
            } else {
                "–".to_owned()
            };
            let _ = writeln!(
                md,
                "| {} | {client} | {} | {} | {resumed} | {} | {} | {:.0}% |",
                job.label(),
                median(&|s| s.outcome.requests as f64),
                median(&|s| s.seen.connections as f64),
                num(median(&|s| s.process.cpu().as_secs_f64())),
                num(median(&|s| s.process.max_rss_kib as f64 / 1024.0)),
                median(&|s| s.foreign_share * 100.0),
            );
        }
    }

    let pinning = if report.pinned {
        "the server on core 0 (`taskset -c 0`) and each client on core 1 (`taskset -c 1`)"
    } else {
        "without pinning (taskset or a second core was missing), so the numbers are noisier"
    };
    let _ = writeln!(
        md,
        "\n## Where wireline's instructions go\n\nA callgrind profile of `seq` over HTTP/1.1, function by function against raw hyper, is in [performance-profile.md](performance-profile.md) (written by hand from the profiler's output, not by this run)."
    );
    let _ = writeln!(md, "\n## How it is measured\n");
    let m = report.mode;
    for line in [
        format!("One `bench-server` process (hyper-util auto h1/h2 behind rustls with ALPN, single-threaded tokio) and one process per client run, {pinning}. The client's CPU is its own."),
        "Every client uses rustls with ring, trusts only the bench CA, runs on a single-threaded tokio runtime and sets TCP_NODELAY. reqwest 0.13 is built with `rustls-no-provider` and ring installed as the process default: its `rustls` feature would bring aws-lc-rs (and X25519MLKEM768 key exchange), and the comparison would be between crypto libraries.".to_owned(),
        "raw hyper is hyper-util's legacy pooled client with hyper-rustls' connector and http-body-util, with no layer on top: the floor. hyper+headers is the same client adding wireline's default headers to each request (`user-agent: wireline/…`, `accept: */*`, `accept-encoding: gzip, deflate, br, zstd`, static values, `HeaderValue::from_static`); both parse the URL string into an `http::Uri` per request, as wireline does with the URL it is given.".to_owned(),
        format!("Each round runs every scenario for every client that runs it, interleaved (A B C D, then B C D A, then C D A B, so no client always runs first); {} rounds.", m.rounds),
        format!("`seq`: small GETs (13-byte body) one after another on one kept-alive connection, {} s per run. `concurrent`: 64 tasks sharing one client, {} s. Both warm up first (one request, or 64 at once) so connections are open before the clock starts.", m.duration, m.duration),
        format!("`download`: {} × 100 MiB per run, read chunk by chunk; the server streams 64 KiB frames from a static buffer. `upload`: {} × 64 MiB per run, a streamed body of 64 KiB chunks with Content-Length set. MB = 10⁶ bytes.", m.transfers, m.transfers),
        format!("`newconn`: every request on a new TCP + TLS connection (`pool_max_idle_per_host(0)`), {} s; TLS 1.3 sessions resumed from the shared client config. `newconn-noresume`: the same with resumption disabled (`Resumption::disabled()` for raw hyper, reqwest through `tls_backend_preconfigured`, wireline's `tls_session_resumption(false)`).", m.duration),
        format!("`client-new`: the first `Client::new()` in a process, then the median of {} more; system roots through SSL_CERT_FILE (SSL_CERT_DIR unset, so the file is the whole store), once a one-certificate bundle (the bench CA, and one request proves the default client trusts it), once the machine's bundle. raw hyper's `Client::new()` is what one writes by hand: load the native roots, build the config, connector and pool.", m.client_new_calls),
        "Other work: /proc/stat's busy time over the run, less the server's and the client's own CPU, as a share of one core. Above 10% the run is repeated once the machine is quiet again (up to three attempts, the least disturbed kept); each round also waits for a quiet machine first.".to_owned(),
        "Client CPU is user + system time of the client process over the timed loop only (`getrusage(RUSAGE_SELF)` before and after); peak RSS is `ru_maxrss` from `wait4()`: it counts every page of the client's binary the run touched and the pages the kernel maps around each of them: about 1.5 × the code pages a run executes, which are spread across the whole binary, and all of the read-only data of a binary just built, so it grows with the binary's size. Peak anonymous RSS is the client's own memory without those pages (heap, stacks): `/proc/self/statm`'s resident less its shared pages, sampled every 10 ms from the built client to the end of the timed loop.".to_owned(),
    ] {
        let _ = writeln!(md, "- {line}");
    }
    if let Some(tunables) = report.tunables {
        let _ = writeln!(
            md,
            "- Every process ran with `GLIBC_TUNABLES={tunables}`: this CPU (AMD, with FSRM) makes glibc copy blocks of a few KiB and up with `rep movsb`, up to 20 × slower to a misaligned destination, so a download's speed depended on where `malloc` put rustls' 16 KiB plaintext buffers (the same binary at 1.5 GB/s or a third of that). The setting makes glibc use vector copies, the same for every client."
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    use super::super::plan::test_job as job;
    use super::super::summary::Panel;

    /// A row of one round: `None` per client that does not run `job`, `Some(None)` for
    /// one that ran but has no number.
    fn row(job: &Job, metric: &'static str, values: [Option<Option<f64>>; 4]) -> Row {
        Row {
            job: job.label(),
            metric,
            values: values.map(|v| v.flatten().and_then(|v| Stat::of(vec![v]))),
            rounds: values.map(|v| v.map(|v| vec![v]).unwrap_or_default()),
            target: Some(Target::AtMostOfHyper(1.10)),
            panel: Some(Panel::Instructions),
        }
    }

    fn line<'a>(md: &'a str, start: &str) -> &'a str {
        md.lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no line starting {start:?} in\n{md}"))
    }

    #[test]
    fn hyper_headers_has_its_columns_and_a_dash_where_it_does_not_run() {
        let (seq, download) = (job(Scenario::Seq), job(Scenario::Download));
        let counted = [
            row(
                &seq,
                "instructions/request",
                [48_000.0, 60_000.0, 40_000.0, 42_000.0].map(|v| Some(Some(v))),
            ),
            row(
                &download,
                "instructions/MB",
                [
                    Some(Some(4.0e6)),
                    Some(Some(4.1e6)),
                    Some(Some(4.0e6)),
                    None,
                ],
            ),
        ];
        let mut timed = [row(
            &download,
            "MB/s",
            [Some(None), Some(Some(900.0)), Some(Some(1000.0)), None],
        )];
        timed[0].target = None;
        timed[0].panel = Some(Panel::Rate);
        let report = Report {
            mode: Mode::QUICK,
            jobs: &[seq, download],
            samples: &[],
            rows: &timed,
            instructions: &counted,
            environment: Vec::new(),
            pinned: true,
            tunables: None,
            chart: "chart.svg",
        };
        let md = render(&report);

        let header = "| scenario | metric | wireline | reqwest | raw hyper | hyper+headers | wireline ÷ reqwest | wireline ÷ hyper | wireline ÷ hyper+headers | target | met |";
        assert_eq!(md.matches(header).count(), 2, "{md}");
        assert_eq!(
            line(&md, "| seq HTTP/1.1 | instructions/request |"),
            "| seq HTTP/1.1 | instructions/request | 48000 | 60000 | 40000 | 42000 | 0.80 | 1.20 | 1.14 | ≤ 1.1 × hyper | **no** |"
        );
        assert_eq!(
            line(&md, "| download HTTP/1.1 | instructions/MB |"),
            "| download HTTP/1.1 | instructions/MB | 4000000 | 4100000 | 4000000 | — | 0.98 | 1.00 | — | ≤ 1.1 × hyper | yes |"
        );
        // A client that ran without a number is "n/a", one that did not run is "—".
        assert_eq!(
            line(&md, "| download HTTP/1.1 | MB/s |"),
            "| download HTTP/1.1 | MB/s | n/a | 900.0 ±0% | 1000 ±0% | — | – | – | — |  |  |"
        );

        assert!(md.contains("and 1 of 2 by the instruction counts"), "{md}");
        assert!(
            md.contains("- instructions/request ≤ 1.1 × hyper: seq HTTP/1.1\n"),
            "{md}"
        );
        assert!(
            md.contains("- missed: seq HTTP/1.1 instructions/request: wireline ÷ hyper = 1.20 against a target of ≤ 1.1 × hyper (wireline 48000, hyper 40000, reqwest 60000, hyper+headers 42000; wireline ÷ hyper+headers = 1.14)\n"),
            "{md}"
        );
    }
}
