//! CPU time and peak memory from the kernel: `getrusage` for our own process, `wait4` for a
//! child the runner started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
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

/// This process's anonymous resident memory right now, in KiB: its heap, stacks and
/// other private pages, without the pages of its binary and libraries (statm's resident
/// less its shared, file-backed, pages).
pub fn current_anon_kib() -> Option<u64> {
    let (resident, shared) = statm_kib()?;
    Some(resident.saturating_sub(shared))
}

/// `/proc/self/statm`'s resident and shared (file-backed) sizes, in KiB.
fn statm_kib() -> Option<(u64, u64)> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let mut pages = statm.split_whitespace().skip(1).map(str::parse::<u64>);
    let (resident, shared) = (pages.next()?.ok()?, pages.next()?.ok()?);
    // SAFETY: sysconf has no preconditions.
    let page_kib = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64 / 1024;
    Some((resident * page_kib, shared * page_kib))
}

/// The peak of [`current_anon_kib`] while it runs, sampled every 10 ms on a thread of its
/// own: the kernel keeps the peak of the whole resident set only (`ru_maxrss`), which
/// counts every page of the binary a run touches.
pub struct AnonPeak {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<Option<u64>>,
}

impl AnonPeak {
    pub fn start() -> AnonPeak {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let sampler = std::thread::spawn(move || {
            // A failed read skips a sample rather than losing the peak so far.
            let mut peak = current_anon_kib();
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
                peak = peak.max(current_anon_kib());
            }
            peak
        });
        AnonPeak { stop, sampler }
    }

    /// The peak so far, in KiB; `None` without `/proc`.
    pub fn finish(self) -> Option<u64> {
        let last = current_anon_kib();
        self.stop.store(true, Ordering::Relaxed);
        let sampled = self.sampler.join().ok().flatten();
        sampled.max(last)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests measure the whole process: one at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn resident_kib() -> u64 {
        statm_kib().unwrap().0
    }

    #[test]
    fn anonymous_memory_counts_the_heap_but_not_the_binary() {
        let _alone = ONE_AT_A_TIME.lock().unwrap();
        let before = current_anon_kib().unwrap();
        // Written byte by byte, so every page is resident.
        let block = vec![1u8; 16 << 20];
        let during = current_anon_kib().unwrap();
        assert!(
            during >= before + 15 * 1024,
            "{before} KiB, then {during} KiB"
        );
        // The test binary's own pages are resident but not anonymous.
        assert!(
            during < resident_kib(),
            "{during} KiB of {} KiB",
            resident_kib()
        );
        std::hint::black_box(&block);
    }

    #[test]
    fn the_peak_keeps_memory_freed_before_the_end() {
        let _alone = ONE_AT_A_TIME.lock().unwrap();
        let before = current_anon_kib().unwrap();
        let peak = AnonPeak::start();
        // Above glibc's largest mmap threshold (32 MiB): unmapped again when freed.
        let block = vec![1u8; 48 << 20];
        std::thread::sleep(Duration::from_millis(100));
        drop(std::hint::black_box(block));
        let after = current_anon_kib().unwrap();
        let peak = peak.finish().unwrap();
        assert!(peak >= before + 47 * 1024, "{before} KiB, peak {peak} KiB");
        assert!(
            after + 40 * 1024 < peak,
            "{after} KiB after, peak {peak} KiB"
        );
    }
}
