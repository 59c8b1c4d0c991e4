//! Every kept fuzz input (`fuzz/seeds/` and `fuzz/corpus/`, docs/fuzzing.md) replayed
//! through its target's property on stable, without fuzzing: the same `check` functions
//! the libFuzzer binaries call, so an input that once passed and now fails is a
//! regression CI sees even without nightly.

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::Path;

/// Feeds every file kept for `target` to `check`, naming the file if it fails.
fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for kept in ["seeds", "corpus"] {
        let Ok(dir) = std::fs::read_dir(root.join(kept).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = dir.map(|entry| entry.unwrap().path()).collect();
        files.sort();
        for file in files {
            let input = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&input));
            if let Err(panic) = outcome {
                eprintln!("fuzz input {} fails its property", file.display());
                std::panic::resume_unwind(panic);
            }
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no kept input for {target}");
}

#[test]
fn url_and_headers() {
    replay("url_and_headers", fuzz::url_and_headers::check);
}

#[test]
fn pem() {
    replay("pem", fuzz::pem::check);
}

#[test]
fn server_bytes() {
    replay("server_bytes", fuzz::server_bytes::check);
}

#[test]
fn redirect() {
    replay("redirect", fuzz::redirect::check);
}

#[test]
fn h2_frames() {
    replay("h2_frames", fuzz::h2_frames::check);
}

#[test]
fn decoders() {
    replay("decoders", fuzz::decoders::check);
}

#[test]
fn cookies() {
    replay("cookies", fuzz::cookies::check);
}

#[test]
fn proxy_rules() {
    replay("proxy_rules", fuzz::proxy_rules::check);
}
