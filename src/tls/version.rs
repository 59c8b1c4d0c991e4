//! `TlsVersion`: the protocol versions a user may set as the minimum or maximum.

use std::fmt;

/// A TLS protocol version, for [`ClientBuilder::min_tls_version`](crate::ClientBuilder::min_tls_version)
/// and [`ClientBuilder::max_tls_version`](crate::ClientBuilder::max_tls_version).
///
/// Only TLS 1.2 and 1.3 exist here: older versions are broken and rustls does not speak them.
///
/// ```
/// let client = wireline::Client::builder()
///     .min_tls_version(wireline::TlsVersion::TLS_1_3)
///     .build();
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TlsVersion(Protocol);

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Protocol {
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// TLS 1.2 (the default minimum).
    pub const TLS_1_2: TlsVersion = TlsVersion(Protocol::Tls12);
    /// TLS 1.3.
    pub const TLS_1_3: TlsVersion = TlsVersion(Protocol::Tls13);
}

/// The versions a client may use: `min_tls_version()` up to `max_tls_version()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VersionRange {
    pub(crate) min: TlsVersion,
    /// `None`: the newest version rustls speaks.
    pub(crate) max: Option<TlsVersion>,
}

impl Default for VersionRange {
    fn default() -> Self {
        VersionRange {
            min: TlsVersion::TLS_1_2,
            max: None,
        }
    }
}

impl VersionRange {
    /// The rustls protocol versions in the range, or `None` when it is empty (max < min).
    pub(crate) fn rustls_versions(
        self,
    ) -> Option<&'static [&'static rustls::SupportedProtocolVersion]> {
        static BOTH: [&rustls::SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static ONLY_12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static ONLY_13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        let max = self.max.unwrap_or(TlsVersion::TLS_1_3);
        match (self.min.0, max.0) {
            (Protocol::Tls12, Protocol::Tls13) => Some(&BOTH),
            (Protocol::Tls12, Protocol::Tls12) => Some(&ONLY_12),
            (Protocol::Tls13, Protocol::Tls13) => Some(&ONLY_13),
            (Protocol::Tls13, Protocol::Tls12) => None,
        }
    }

    /// What the user configured, for error messages.
    pub(crate) fn describe(self) -> String {
        match self.max {
            None => format!(
                "the minimum configured with min_tls_version() is {}",
                self.min
            ),
            Some(max) if max == self.min => {
                format!("only {max} is allowed (min_tls_version() and max_tls_version())")
            }
            Some(max) => format!(
                "only {} to {max} are allowed (min_tls_version() and max_tls_version())",
                self.min
            ),
        }
    }
}

impl Default for TlsVersion {
    fn default() -> Self {
        TlsVersion::TLS_1_2
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Protocol::Tls12 => "TLS 1.2",
            Protocol::Tls13 => "TLS 1.3",
        })
    }
}

impl fmt::Debug for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
