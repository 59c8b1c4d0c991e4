//! CPU time and peak memory from the kernel: `getrusage` for our own process, `wait4` for a
//! child the runner started.

use std::time::Duration;

/// CPU time and peak resident set of a process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub user: Duration,
    pub sys: Duration,
    /// Peak RSS in KiB (`ru_maxrss` on Linux).
    pub max_rss_kib: u64,
}

impl Usage {
    /// User plus system time.
    pub fn cpu(&self) -> Duration {
        self.user + self.sys
    }

    fn from_raw(raw: &libc::rusage) -> Usage {
        let time = |tv: libc::timeval| {
            Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
        };
        Usage {
            user: time(raw.ru_utime),
            sys: time(raw.ru_stime),
            max_rss_kib: raw.ru_maxrss.max(0) as u64,
        }
    }
}

/// This process so far (all threads).
pub fn own() -> Usage {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    unsafe {
        let mut raw: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut raw);
        Usage::from_raw(&raw)
    }
}

/// This process's resident set right now, in KiB (from /proc/self/statm).
pub fn current_rss_kib() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * page_size.max(0) as u64 / 1024)
}

/// Waits for child `pid` to exit and returns its exit status and its own resource use
/// (not the sum over all children, as RUSAGE_CHILDREN would give).
pub fn wait_child(pid: u32) -> std::io::Result<(i32, Usage)> {
    // SAFETY: wait4 writes the status and the rusage of this one child into our locals.
    unsafe {
        let mut status = 0;
        let mut raw: libc::rusage = std::mem::zeroed();
        if libc::wait4(pid as libc::pid_t, &mut status, 0, &mut raw) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        };
        Ok((code, Usage::from_raw(&raw)))
    }
}
