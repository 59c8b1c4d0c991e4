//! Files written for a test to read back (CA files, identities), and paths for a program
//! under test to write to, each in a fresh directory.
//!
//! They live under cargo's `CARGO_TARGET_TMPDIR` (inside `target/`), not the system temp
//! dir: a test run leaves them where `cargo clean` finds them instead of adding thousands
//! of directories to /tmp.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Writes `contents` to `<this process's dir>/<n>/<name>` and returns the path.
///
/// A fresh directory per call lets tests running in parallel (threads of one binary, or
/// several binaries) reuse a file name like "ca.pem" without seeing each other's file.
pub fn write_temp(name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = temp_path(name);
    std::fs::write(&path, contents).expect("write a temp file");
    path
}

/// `<this process's dir>/<n>/<name>` in a fresh directory, as [`write_temp`], but the
/// file itself is not created: for output a test expects something else to write.
pub fn temp_path(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = process_dir().join(NEXT.fetch_add(1, Ordering::Relaxed).to_string());
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir.join(name)
}

/// One directory per test process, named by pid and start time so that a reused pid
/// never finds an earlier run's files where a test expects none.
fn process_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("wireline-test")
            .join(format!("{}-{started}", std::process::id()))
    })
}
