//! What the soak watches for leaks: open file descriptors, resident memory, live tasks.

/// One sample of the process's vitals.
#[derive(Clone, Copy, Debug)]
pub(super) struct Vitals {
    pub(super) fds: usize,
    /// Of those, sockets: the client's connections (and the odd one being dialled).
    pub(super) sockets: usize,
    pub(super) rss_kib: u64,
    pub(super) tasks: usize,
}

impl Vitals {
    /// Now, for this process (Linux /proc) and the current tokio runtime.
    pub(super) fn now() -> Vitals {
        let links: Vec<std::path::PathBuf> = std::fs::read_dir("/proc/self/fd")
            .map(|d| {
                d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let fds = links.len();
        let sockets = links
            .iter()
            .filter(|l| l.to_string_lossy().starts_with("socket:"))
            .count();
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
            sockets,
            rss_kib,
            tasks,
        }
    }
}
