//! Other work on the machine (a compiler, a test run) steals the cores the server and the
//! client are pinned to. This measures how much CPU went to anything but them during a
//! client run, so a disturbed sample is run again instead of skewing a median.

use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::rusage::Usage;

/// CPU time of the whole machine and of the server at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    /// Busy clock ticks over all cores, stolen time included.
    busy_ticks: u64,
    server_ticks: u64,
    at: Instant,
}

/// Share of one core that went to other work during a client run above which the sample
/// is run again (loopback softirq work not charged to our processes stays well below it).
pub const MAX_FOREIGN_SHARE: f64 = 0.10;

/// Runs shorter than this are never judged disturbed.
const MIN_JUDGED_SECONDS: f64 = 0.2;

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The machine's busy ticks from the `cpu` line of /proc/stat.
fn busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| fields.get(i))
        .sum()
}

/// utime + stime of a process, in ticks (/proc/PID/stat fields 14 and 15).
fn process_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; the fields after its closing parenthesis don't.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name, field 3 of the man page is at index 0, so 14 and 15 are at 11 and 12.
    field(11) + field(12)
}

/// Takes a snapshot.
pub fn snapshot(server_pid: u32) -> Snapshot {
    Snapshot {
        busy_ticks: busy_ticks(),
        server_ticks: process_ticks(server_pid),
        at: Instant::now(),
    }
}

/// The share of one core that went to other work between `before` and `after`, given
/// the client's own CPU over that time.
pub fn foreign_share(before: &Snapshot, after: &Snapshot, client: &Usage) -> f64 {
    let per_second = ticks_per_second();
    let busy = after.busy_ticks.saturating_sub(before.busy_ticks) as f64 / per_second;
    let server = after.server_ticks.saturating_sub(before.server_ticks) as f64 / per_second;
    let wall = after.at.duration_since(before.at).as_secs_f64();
    // Ticks are 10 ms: a shorter run can't be judged (one tick would read as 10%+).
    if wall < MIN_JUDGED_SECONDS {
        return 0.0;
    }
    ((busy - server - client.cpu().as_secs_f64()) / wall).max(0.0)
}

/// Waits (up to `limit`) until half a second passes with under 5% of a core of other work.
/// Returns whether the machine went quiet.
pub fn wait_for_quiet(server_pid: u32, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let before = snapshot(server_pid);
        sleep(Duration::from_millis(500));
        let after = snapshot(server_pid);
        if foreign_share(&before, &after, &Usage::default()) < 0.05 {
            return true;
        }
    }
    false
}
