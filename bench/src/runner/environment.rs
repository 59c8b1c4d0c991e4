//! The facts about the machine and the build that a reader needs to judge the numbers.

use std::process::Command;

/// Lines for the report: date, CPU, kernel, compiler, library versions.
pub fn describe() -> Vec<String> {
    let mut lines = Vec::new();
    let date = output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| cpuinfo_field(&info, "model name").map(str::to_owned))
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    lines.push(format!(
        "{date}: {cores} × {cpu}, Linux {kernel}, {}",
        output("rustc", &["-V"])
    ));
    lines.push(format!("Locked versions: {}", versions().join(", ")));
    lines
}

/// The `GLIBC_TUNABLES` value the runner gives its processes, if the CPU needs one.
///
/// On AMD CPUs that announce FSRM (Zen 3 and later), glibc's `memcpy` (2.36 here) copies
/// blocks of a few KiB and up with `rep movsb`, which runs up to 20 times slower when the
/// destination is misaligned. rustls copies every 16 KiB TLS record it decrypts into a
/// fresh `Vec`, so a download's speed then depends on where `malloc` happened to put
/// that buffer: measured here, the same binary downloaded at 1.5 GB/s or at a third of
/// that depending on its heap's layout, and which client was slow changed with unrelated
/// code. Raising the threshold makes glibc copy with vector instructions, the same for
/// every client, so the bench measures the clients' code rather than their heaps' luck.
/// `None` elsewhere: other CPUs keep glibc's choice.
pub fn glibc_tunables() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    let amd = cpuinfo_field(&info, "vendor_id") == Some("AuthenticAMD");
    let fsrm = cpuinfo_field(&info, "flags")
        .is_some_and(|flags| flags.split_whitespace().any(|f| f == "fsrm"));
    if !(amd && fsrm) {
        return None;
    }
    let ours = "glibc.cpu.x86_rep_movsb_threshold=4000000";
    Some(match std::env::var("GLIBC_TUNABLES") {
        Ok(theirs) if !theirs.is_empty() => format!("{theirs}:{ours}"),
        _ => ours.to_owned(),
    })
}

/// The first CPU's `name` line of `/proc/cpuinfo`, its value trimmed.
fn cpuinfo_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.split(':').nth(1))
        .map(str::trim)
}

/// The 1-minute load average.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Versions of the crates that matter, from the workspace's Cargo.lock.
fn versions() -> Vec<String> {
    const CRATES: [&str; 7] = [
        "reqwest",
        "hyper",
        "hyper-util",
        "hyper-rustls",
        "rustls",
        "h2",
        "tokio",
    ];
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if CRATES.contains(&n.as_str()) {
                found.push(format!("{n} {}", v.trim_matches('"')));
            }
        }
    }
    found
}
