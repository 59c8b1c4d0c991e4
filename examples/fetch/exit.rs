//! Exit codes: how a failure maps onto curl's numbers, so scripts written for curl work.

use wireline::{CertificateErrorKind, ErrorKind, TlsErrorKind};

/// A failed run: the exit code and the one line to print.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// curl's codes that have no wireline error behind them.
pub(crate) const USAGE: u8 = 2;
/// curl's CURLE_READ_ERROR: a `-d @FILE` that can't be read.
pub(crate) const READ_ERROR: u8 = 26;
/// curl's CURLE_WRITE_ERROR: stdout or the `-o` file can't be written.
pub(crate) const WRITE_ERROR: u8 = 23;
/// curl's CURLE_SSL_CERTPROBLEM: the `--cert`/`--key` files can't be read or used.
pub(crate) const CLIENT_CERT: u8 = 58;
/// curl's CURLE_SSL_CACERT_BADFILE: the `--cacert` file, or the system store, is unusable.
pub(crate) const CA_FILE: u8 = 77;
/// curl's CURLE_SSL_CRL_BADFILE: the `--crlfile` file can't be read or holds no CRL.
pub(crate) const CRL_FILE: u8 = 82;
/// curl's CURLE_SSL_PINNEDPUBKEYNOTMATCH: the server's key is not one of `--pinnedpubkey`.
const PINNED_KEY_MISMATCH: u8 = 90;

impl From<wireline::Error> for Failure {
    fn from(err: wireline::Error) -> Failure {
        Failure::new(code(&err), err.to_string())
    }
}

/// The curl exit code for a wireline error. The order matters: a connect timeout is both
/// `is_timeout` and `is_connect`, and curl calls it 28; a certificate error is also
/// `is_tls`, and curl calls it 60, except a pin mismatch, which has its own 90; a proxy
/// that refused the tunnel is also `is_connect`, and curl calls it 56.
fn code(err: &wireline::Error) -> u8 {
    match err.kind() {
        ErrorKind::InvalidUrl => 3,
        ErrorKind::Tls(TlsErrorKind::NoTrustedRoots) => CA_FILE,
        ErrorKind::Certificate(CertificateErrorKind::PinMismatch) => PINNED_KEY_MISMATCH,
        // CURLE_RECV_ERROR, as curl reports a CONNECT answered with another status than 200.
        ErrorKind::ProxyTunnel(_) => 56,
        _ if err.is_builder() => USAGE,
        // CURLE_COULDNT_RESOLVE_PROXY.
        _ if err.is_dns() && err.is_proxy() => 5,
        _ if err.is_dns() => 6,
        _ if err.is_timeout() => 28,
        _ if err.is_certificate() => 60,
        _ if err.is_tls() => 35,
        _ if err.is_connect() => 7,
        _ if err.is_redirect() => 47,
        _ if err.is_status() => 22,
        // CURLE_RECV_ERROR: the connection broke after it was open.
        _ if err.is_request() || err.is_body() => 56,
        _ => 1,
    }
}
