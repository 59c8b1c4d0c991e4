//! `TlsVersion`: the protocol versions a user may set as the minimum.

use std::fmt;

/// A TLS protocol version, for [`ClientBuilder::min_tls_version`](crate::ClientBuilder::min_tls_version).
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

    /// The rustls protocol versions from this one upward.
    pub(crate) fn and_newer(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static FROM_12: [&rustls::SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static FROM_13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self.0 {
            Protocol::Tls12 => &FROM_12,
            Protocol::Tls13 => &FROM_13,
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
