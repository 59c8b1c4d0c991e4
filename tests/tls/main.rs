//! TLS, one binary: verification modes and every certificate and handshake failure, path
//! building, revocation, pinning, the version range and SNI, per-request settings,
//! `tls_info`, client certificates, and the self-test of `tests/support` (mostly its PKI and
//! TLS servers). One module per former binary, each test keeping its name under its module
//! (`tls_paths::s07_…` is now `tls::paths::s07_…`): `verification` was `tests/tls.rs`,
//! `client_cert` and `support_selftest` kept their names, the others were `tls_<module>.rs`.
//!
//! Not here, each in a binary of its own because it needs the whole process:
//! `tests/tls_keylog.rs` and `tests/system_roots.rs`, `tests/system_roots_dir.rs`,
//! `tests/root_sources.rs`, `tests/no_system_roots.rs` set environment variables (and the
//! system roots are read once per process), and
//! `tests/tls_warnings.rs` captures `tracing` output that the lax clients built here would
//! make vanish (tracing caches per call site, for the whole process, whether a line is
//! wanted).

#[path = "../support/mod.rs"]
mod support;

mod client_cert;
mod info;
mod paths;
mod per_request;
mod pinning;
#[cfg(feature = "pkcs12")]
mod pkcs12;
#[cfg(feature = "platform-verifier")]
mod platform_verifier;
mod preconfigured;
#[cfg(feature = "aws-lc-rs")]
mod providers;
mod reload;
mod reqwest_names;
mod revocation;
mod settings;
mod support_selftest;
mod verification;
