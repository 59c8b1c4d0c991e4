//! Files written for a test to read back (CA files, identities), and paths for a program
//! under test to write to, each in a fresh directory.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Writes `contents` to `<tmp>/wireline-test-<pid>-<n>/<name>` and returns the path.
///
/// A fresh directory per call lets tests running in parallel (threads of one binary, or
/// several binaries) reuse a file name like "ca.pem" without seeing each other's file.
/// The directories are left behind: they are small, and the OS cleans its temp dir.
pub fn write_temp(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = temp_path(name);
    std::fs::write(&path, contents).expect("write a temp file");
    path
}

/// `<tmp>/wireline-test-<pid>-<n>/<name>` in a fresh directory, as [`write_temp`], but the
/// file itself is not created: for output a test expects something else to write.
pub fn temp_path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wireline-test-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir.join(name)
}
