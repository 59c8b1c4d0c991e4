//! wireline clients for tests: one that trusts the test CA, and waits bounded in time.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use super::{pki, write_temp};

/// The longest any single test step may take before the test fails instead of hanging.
pub const BOUND: Duration = Duration::from_secs(15);

/// A client builder that trusts only the test PKI's root (as `ca_file`).
pub fn trusting_test_ca() -> wireline::ClientBuilder {
    wireline::Client::builder().ca_file(test_ca_file())
}

/// The test PKI's root in a PEM file, for `ca_file`.
pub fn test_ca_file() -> &'static Path {
    // Written once per process: tests build thousands of clients with it, and the file is
    // never changed after it is written.
    static CA_FILE: OnceLock<PathBuf> = OnceLock::new();
    CA_FILE.get_or_init(|| write_temp("ca.pem", &pki().root_pem))
}

/// `f`'s output, or a test failure after [`BOUND`].
pub async fn bounded<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("must finish within the bound")
}
