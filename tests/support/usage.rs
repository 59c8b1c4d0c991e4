//! What a test costs the process: CPU time of the test's thread, resident memory.

use std::time::Duration;

/// CPU time this thread has used (user + system), from /proc/thread-self/stat. A
/// `#[tokio::test]` runs the client and the test's servers on this one thread.
pub fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// The resident set size of this process, in KiB.
pub fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// The peak resident set size of this process so far (or since [`reset_peak_rss`]), in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// Starts a new peak-RSS window (Linux 4.0+: writing 5 to clear_refs resets VmHWM).
pub fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak RSS");
}

/// A `kB` field of /proc/self/status, such as "VmRSS:".
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}
