//! What the soak watches for leaks: open file descriptors, resident memory, live tasks.

/// One sample of the process's vitals.
#[derive(Clone, Copy, Debug)]
pub(super) struct Vitals {
    pub(super) fds: usize,
    pub(super) rss_kib: u64,
    pub(super) tasks: usize,
}

impl Vitals {
    /// Now, for this process (Linux /proc) and the current tokio runtime.
    pub(super) fn now() -> Vitals {
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let rss_kib = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0);
        let tasks = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        Vitals {
            fds,
            rss_kib,
            tasks,
        }
    }
}
