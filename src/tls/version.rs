//! `TlsVersion`: the protocol versions a user may set as the minimum or maximum.

use std::fmt;

/// A TLS protocol version, for [`ClientBuilder::min_tls_version`](crate::ClientBuilder::min_tls_version)
/// and [`ClientBuilder::max_tls_version`](crate::ClientBuilder::max_tls_version); also
/// reqwest's `tls::Version` ([`crate::tls::Version`]).
///
/// Connections use TLS 1.2 or 1.3 only: rustls does not speak TLS 1.0 or 1.1 (broken, and
/// deprecated by RFC 8996). Their constants exist so reqwest code compiles: as a minimum
/// they allow everything rustls speaks, as with reqwest's rustls backend; as a maximum
/// they leave no version, and [`build`](crate::ClientBuilder::build) fails.
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
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// TLS 1.0: never spoken; see above.
    pub const TLS_1_0: TlsVersion = TlsVersion(Protocol::Tls10);
    /// TLS 1.1: never spoken; see above.
    pub const TLS_1_1: TlsVersion = TlsVersion(Protocol::Tls11);
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
    /// The rustls protocol versions in the range, or why none is left (the message of a
    /// builder error): a maximum below the minimum, or below TLS 1.2. A minimum below TLS
    /// 1.2 is TLS 1.2, the oldest rustls speaks.
    pub(crate) fn rustls_versions(
        self,
    ) -> Result<&'static [&'static rustls::SupportedProtocolVersion], String> {
        static BOTH: [&rustls::SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static ONLY_12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static ONLY_13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        let max = self.max.unwrap_or(TlsVersion::TLS_1_3);
        if max < TlsVersion::TLS_1_2 {
            return Err(format!(
                "max_tls_version ({max}): rustls, wireline's TLS library, speaks only TLS 1.2 \
                 and 1.3 (TLS 1.0 and 1.1 are broken and deprecated by RFC 8996), so no \
                 version is left; a server that speaks nothing newer can't be reached with \
                 wireline"
            ));
        }
        match (self.min.max(TlsVersion::TLS_1_2).0, max.0) {
            (Protocol::Tls12, Protocol::Tls13) => Ok(&BOTH),
            (Protocol::Tls12, Protocol::Tls12) => Ok(&ONLY_12),
            (Protocol::Tls13, Protocol::Tls13) => Ok(&ONLY_13),
            _ => Err(format!(
                "max_tls_version ({max}) is below min_tls_version ({}): no TLS version is left",
                self.min
            )),
        }
    }

    /// What the user configured, for error messages.
    pub(crate) fn describe(self) -> String {
        let floor = if self.min < TlsVersion::TLS_1_2 {
            ", and rustls speaks nothing older than TLS 1.2"
        } else {
            ""
        };
        match self.max {
            None => format!(
                "the minimum configured with min_tls_version() is {}{floor}",
                self.min
            ),
            Some(max) if max == self.min => {
                format!("only {max} is allowed (min_tls_version() and max_tls_version())")
            }
            Some(max) => format!(
                "only {} to {max} are allowed (min_tls_version() and max_tls_version()){floor}",
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
            Protocol::Tls10 => "TLS 1.0",
            Protocol::Tls11 => "TLS 1.1",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn range(min: TlsVersion, max: Option<TlsVersion>) -> VersionRange {
        VersionRange { min, max }
    }

    #[test]
    fn a_minimum_below_tls12_allows_what_rustls_speaks() {
        for min in [TlsVersion::TLS_1_0, TlsVersion::TLS_1_1] {
            let versions = range(min, None).rustls_versions().unwrap();
            assert_eq!(versions.len(), 2, "{min}: TLS 1.2 and 1.3");
            let versions = range(min, Some(TlsVersion::TLS_1_2)).rustls_versions();
            assert_eq!(versions.unwrap().len(), 1, "{min} to TLS 1.2");
        }
    }

    #[test]
    fn a_maximum_below_tls12_leaves_no_version_and_says_why() {
        for max in [TlsVersion::TLS_1_0, TlsVersion::TLS_1_1] {
            // With the default minimum too: the versions rustls lacks are the reason.
            for min in [TlsVersion::TLS_1_0, TlsVersion::TLS_1_2] {
                let why = range(min, Some(max)).rustls_versions().unwrap_err();
                assert!(why.contains(&format!("max_tls_version ({max})")), "{why}");
                assert!(why.contains("speaks only TLS 1.2 and 1.3"), "{why}");
            }
        }
        let why = range(TlsVersion::TLS_1_3, Some(TlsVersion::TLS_1_2))
            .rustls_versions()
            .unwrap_err();
        assert!(why.contains("below min_tls_version (TLS 1.3)"), "{why}");
    }

    #[test]
    fn versions_order_and_print_as_their_names() {
        assert!(TlsVersion::TLS_1_0 < TlsVersion::TLS_1_1);
        assert!(TlsVersion::TLS_1_1 < TlsVersion::TLS_1_2);
        assert_eq!(TlsVersion::TLS_1_0.to_string(), "TLS 1.0");
        assert_eq!(format!("{:?}", TlsVersion::TLS_1_1), "TLS 1.1");
        let described = range(TlsVersion::TLS_1_0, None).describe();
        assert!(
            described.contains("nothing older than TLS 1.2"),
            "{described}"
        );
    }
}
