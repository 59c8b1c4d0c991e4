//! `examples/fetch` run as a program against servers on 127.0.0.1: curl's exit codes, and
//! bodies that reach stdout byte for byte.

mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fixtures::{binary_body, http_server, https_server, listen, pki, TempDir};
use rustls::version::{TLS12, TLS13};

/// No run of fetch may take longer; it is killed after this.
const PROCESS_BOUND: Duration = Duration::from_secs(20);

// ---- running fetch ----

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    #[track_caller]
    fn assert_code(&self, expected: i32) {
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

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("file modification time")
}

/// The most recently modified `.rs` file under `dir`, with its time.
fn newest_source(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
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

async fn fetch(args: &[&str]) -> Run {
    fetch_with_env(args, &[]).await
}

/// Runs fetch with these arguments and extra environment, killing it after the bound.
async fn fetch_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
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

// ---- exit codes ----

#[tokio::test]
async fn ok_is_0_and_the_body_is_byte_for_byte() {
    let base = http_server().await;
    let run = fetch(&[&format!("{base}/bytes")]).await;
    run.assert_code(0);
    assert!(
        run.stdout == binary_body(),
        "stdout differs from the body sent"
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn bad_usage_is_2() {
    for args in [
        &[][..],
        &["--bogus", "http://127.0.0.1:1/"],
        &["--tls-min", "1.1", "http://127.0.0.1:1/"],
        &["--timeout", "soon", "http://127.0.0.1:1/"],
        &["-H", "no colon", "http://127.0.0.1:1/"],
        &["http://127.0.0.1:1/", "http://127.0.0.1:2/"],
    ] {
        let run = fetch(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn malformed_url_is_3() {
    for url in ["http://", "not a url", "ftp://127.0.0.1/"] {
        fetch(&[url]).await.assert_code(3);
    }
}

#[tokio::test]
async fn unresolvable_host_is_6() {
    // RFC 6761: .invalid never resolves, so no query can succeed, here or anywhere.
    let run = fetch(&["http://no-such-host.invalid/"]).await;
    run.assert_code(6);
    assert!(
        run.stderr.contains("no-such-host.invalid"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn refused_connection_is_7() {
    let (listener, addr) = listen().await;
    drop(listener);
    fetch(&[&format!("http://{addr}/")]).await.assert_code(7);
}

#[tokio::test]
async fn fail_on_404_is_22_and_prints_no_body() {
    let base = http_server().await;
    let url = format!("{base}/missing");
    let run = fetch(&["--fail", &url]).await;
    run.assert_code(22);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    // Without -f a 404 is a successful transfer, as in curl.
    let run = fetch(&[&url]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"no such page\n");
}

#[tokio::test]
async fn silent_server_is_28_after_the_timeout() {
    let base = http_server().await;
    let started = Instant::now();
    fetch(&["--timeout", "1", &format!("{base}/hang")])
        .await
        .assert_code(28);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn tls_version_below_the_minimum_is_35() {
    let dir = TempDir::new();
    let pki = pki("fetch test CA");
    let ca = dir.write("ca.pem", pki.ca_pem.as_bytes());
    let base = https_server(&pki, &[&TLS12]).await;
    let url = format!("{base}/hello");
    let run = fetch(&["--cacert", &ca, "--tls-min", "1.3", &url]).await;
    run.assert_code(35);
    assert!(run.stderr.contains("TLS 1.3"), "{}", run.stderr);
    // The same server is fine with the default minimum, TLS 1.2.
    fetch(&["--cacert", &ca, &url]).await.assert_code(0);
}

#[tokio::test]
async fn redirect_loop_is_47() {
    let base = http_server().await;
    let url = format!("{base}/loop");
    let run = fetch(&["--max-redirects", "2", &url]).await;
    run.assert_code(47);
    // 0 means the redirect itself is the answer.
    let run = fetch(&["--max-redirects", "0", "-i", &url]).await;
    run.assert_code(0);
    assert!(
        run.stdout.starts_with(b"HTTP/1.1 302 Found\r\n"),
        "{}",
        run.stdout_text()
    );
}

#[tokio::test]
async fn unknown_issuer_is_60_and_cacert_or_insecure_fix_it() {
    let dir = TempDir::new();
    let pki = pki("fetch test CA");
    let ca = dir.write("ca.pem", pki.ca_pem.as_bytes());
    // The "system roots" are another CA, so the result doesn't depend on this machine's store.
    let other = dir.write("other.pem", self::pki("some other CA").ca_pem.as_bytes());
    let system = [("SSL_CERT_FILE", other.as_str()), ("SSL_CERT_DIR", "")];
    let base = https_server(&pki, &[&TLS13, &TLS12]).await;
    let url = format!("{base}/hello");

    let run = fetch_with_env(&[&url], &system).await;
    run.assert_code(60);
    assert!(run.stderr.contains("fetch test CA"), "{}", run.stderr);

    let run = fetch_with_env(&["--cacert", &ca, &url], &system).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello\n");

    let run = fetch_with_env(&["-k", &url], &system).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello\n");
}

#[tokio::test]
async fn no_system_roots_is_77_and_insecure_still_works() {
    let pki = pki("fetch test CA");
    let base = https_server(&pki, &[&TLS13, &TLS12]).await;
    let url = format!("{base}/hello");
    let empty_store = [("SSL_CERT_FILE", "/dev/null"), ("SSL_CERT_DIR", "")];
    let run = fetch_with_env(&[&url], &empty_store).await;
    run.assert_code(77);
    assert!(run.stderr.contains("ca_file"), "{}", run.stderr);
    fetch_with_env(&["-k", &url], &empty_store)
        .await
        .assert_code(0);
}

// ---- output ----

#[tokio::test]
async fn no_content_prints_nothing() {
    let base = http_server().await;
    let run = fetch(&[&format!("{base}/empty")]).await;
    run.assert_code(0);
    assert!(run.stdout.is_empty());
}

#[tokio::test]
async fn output_file_gets_the_body_and_stdout_nothing() {
    let base = http_server().await;
    let dir = TempDir::new();
    let out = dir.path("body.bin");
    let run = fetch(&["-o", &out, &format!("{base}/bytes")]).await;
    run.assert_code(0);
    assert!(run.stdout.is_empty());
    assert!(std::fs::read(&out).expect("-o file") == binary_body());
}

#[tokio::test]
async fn head_prints_the_response_head_only() {
    let base = http_server().await;
    let run = fetch(&["-I", &format!("{base}/hello")]).await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\nx-test: yes\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
}

#[tokio::test]
async fn include_prints_the_head_then_the_body() {
    let base = http_server().await;
    let run = fetch(&["-i", &format!("{base}/hello")]).await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello\n"), "{text}");
}

#[tokio::test]
async fn verbose_traces_on_stderr_only() {
    let base = http_server().await;
    let run = fetch(&[
        "-v",
        "-H",
        "Authorization: Bearer s3cret",
        &format!("{base}/hello"),
    ])
    .await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello\n");
    for line in [
        "> GET /hello",
        "< HTTP/1.1 200 OK",
        "< x-test: yes",
        "* Response from 127.0.0.1:",
    ] {
        assert!(
            run.stderr.contains(line),
            "{line:?} missing in {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}

// ---- request ----

#[tokio::test]
async fn data_from_a_file_posts_its_exact_bytes() {
    let base = http_server().await;
    let dir = TempDir::new();
    let bytes = b"a=1&b=\x00\xff\r\nline 2\n";
    let file = dir.write("form.bin", bytes);
    let run = fetch(&["-d", &format!("@{file}"), &format!("{base}/echo")]).await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("POST /echo HTTP/1.1\r\n"), "{text}");
    assert!(
        text.contains("\r\ncontent-type: application/x-www-form-urlencoded\r\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("\r\ncontent-length: {}\r\n", bytes.len())),
        "{text}"
    );
    assert!(
        run.stdout.ends_with(&[&b"\r\n\r\n"[..], bytes].concat()),
        "{text}"
    );
}

#[tokio::test]
async fn headers_repeat_and_json_sets_its_types() {
    let base = http_server().await;
    let run = fetch(&[
        "-H",
        "X-One: 1",
        "--header",
        "X-Two: 2",
        "-H",
        "X-One: again",
        "-X",
        "PUT",
        "--json",
        r#"{"a":1}"#,
        &format!("{base}/echo"),
    ])
    .await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("PUT /echo HTTP/1.1\r\n"), "{text}");
    for line in [
        "\r\nx-one: 1\r\n",
        "\r\nx-two: 2\r\n",
        "\r\nx-one: again\r\n",
        "\r\ncontent-type: application/json\r\n",
        "\r\naccept: application/json\r\n",
    ] {
        assert!(text.contains(line), "{line:?} missing in {text}");
    }
    assert!(text.ends_with("\r\n\r\n{\"a\":1}"), "{text}");
}
