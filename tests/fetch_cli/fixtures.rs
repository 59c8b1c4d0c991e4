//! What only these tests need: running the fetch binary with a bounded wait, and a server
//! that sends back the request bytes exactly as fetch wrote them. Everything else (PKI,
//! HTTP and HTTPS servers, temp files) comes from `tests/support`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::support::{h1_response, raw_server, RawServer};

/// No run of fetch may take longer; it is killed after this.
const PROCESS_BOUND: Duration = Duration::from_secs(20);

/// How one run of fetch ended.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    #[track_caller]
    pub(crate) fn assert_code(&self, expected: i32) {
        assert_eq!(
            self.code, expected,
            "fetch exited {} (expected {expected}); stderr: {}",
            self.code, self.stderr
        );
        if expected != 0 {
            // Errors are one line on stderr.
            assert_eq!(self.stderr.trim_end().lines().count(), 1, "{}", self.stderr);
        }
    }
}

pub(crate) async fn fetch(args: &[&str]) -> Run {
    fetch_with_env(args, &[]).await
}

/// Runs fetch with these arguments and extra environment, killing it after the bound.
pub(crate) async fn fetch_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = tokio::process::Command::new(fetch_binary());
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("fetch starts");
    let output = tokio::time::timeout(PROCESS_BOUND, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("fetch {args:?} ran over {PROCESS_BOUND:?} and was killed"))
        .expect("waiting for fetch");
    Run {
        code: output
            .status
            .code()
            .expect("fetch exited, not killed by a signal"),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// target/<profile>/examples/fetch, next to this test's own target/<profile>/deps/.
fn fetch_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("fetch{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: build it with `cargo build --examples` (plain `cargo test` builds it)",
        binary.display()
    );
    // `cargo test --test fetch_cli` does not rebuild examples: refuse to test an old binary.
    let built = modified(&binary);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["src", "examples/fetch"] {
        if let Some(newer) = newest_source(&root.join(dir)).filter(|(time, _)| *time > built) {
            panic!(
                "{} is older than {}: rebuild it with `cargo build --examples`",
                binary.display(),
                newer.1.display()
            );
        }
    }
    binary
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("file modification time")
}

/// The most recently modified `.rs` file under `dir`, with its time.
fn newest_source(dir: &Path) -> Option<(SystemTime, PathBuf)> {
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let found = if path.is_dir() {
            newest_source(&path)
        } else if path.extension().is_some_and(|e| e == "rs") {
            Some((modified(&path), path))
        } else {
            None
        };
        if let Some(found) = found {
            if newest.as_ref().is_none_or(|n| found.0 > n.0) {
                newest = Some(found);
            }
        }
    }
    newest
}

/// A path as a command-line argument (the temp dir's paths are UTF-8).
pub(crate) fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Answers each request with that request, head and body byte for byte, as its body, then
/// closes. Support's `/echo` route re-encodes the request as JSON, joining repeated headers
/// and replacing invalid UTF-8, so it can't show what fetch put on the wire.
pub(crate) async fn mirror_server() -> RawServer {
    raw_server(|mut conn| async move {
        if let Some(request) = conn.read_request().await {
            let response = h1_response("200 OK", &[("connection", "close")], &request);
            conn.write(&response).await;
            conn.close().await;
        }
    })
    .await
}
