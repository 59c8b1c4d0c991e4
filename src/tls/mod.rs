//! TLS types, at the paths reqwest code names them: `tls::Certificate`, `tls::Identity`,
//! `tls::CertificateRevocationList`, `tls::Version` (also [`TlsVersion`]) and `tls::TlsInfo`.
//! They are also at the crate's root. How to verify servers, pin keys, show a client
//! certificate or bring your own rustls configuration: the [TLS guide](crate::guide::tls).

// Inside the crate: the user's TLS choices as plain data ([`TlsSettings`], the pool key);
// `config.rs` is the one place they become a rustls `ClientConfig`. Kept free of sockets so
// every combination can be tested as a pure function.

pub(crate) mod cert;
mod config;
mod crl;
pub(crate) mod explain;
mod identity;
pub(crate) mod info;
mod options;
mod pin;
pub(crate) mod roots;
pub(crate) mod verify;
mod version;

use std::path::PathBuf;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

pub use cert::Certificate;
pub use crl::CertificateRevocationList;
pub use identity::Identity;
pub use info::{PeerCertificate, TlsInfo};
pub use options::TlsOptions;
pub(crate) use pin::PinSet;
pub use version::TlsVersion;
/// reqwest's name for [`TlsVersion`]: `wireline::tls::Version::TLS_1_2` is
/// `wireline::TlsVersion::TLS_1_2`.
pub use version::TlsVersion as Version;
pub(crate) use version::VersionRange;

use explain::TlsProblem;

/// Which certificates anchor trust. One source at a time, so "system roots and a CA file"
/// can't be asked for by accident; `extra` certificates add to any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootSource {
    /// The operating system's store (rustls-native-certs, honouring SSL_CERT_FILE/SSL_CERT_DIR).
    System,
    /// Only the certificates of this PEM bundle (curl's --cacert, requests' verify=path).
    CaFile(PathBuf),
    /// Only the `extra` certificates (reqwest's `tls_certs_only`): no store, no file.
    OnlyGiven,
    /// The operating system's verifier (rustls-platform-verifier), with `extra` added.
    #[cfg(feature = "platform-verifier")]
    Platform,
}

/// What the ClientHello offers by ALPN, which decides the HTTP version of https
/// connections (`http1_only`, `http2_prior_knowledge`: the later call wins, as in reqwest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// h2, then http/1.1: the server chooses.
    H2AndHttp1,
    /// http/1.1 only.
    Http1,
    /// h2 only (`http2_prior_knowledge`): a server that knows only http/1.1 fails the
    /// handshake, and one that ignores ALPN is spoken to in h2 all the same.
    H2,
}

/// How the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verification {
    /// Chain to a trusted root, validity dates, and the host name.
    Full,
    /// Nothing about the certificate; handshake signatures only.
    AcceptInvalidCerts,
}

/// Everything TLS a client was asked for.
#[derive(Clone, Debug)]
pub(crate) struct TlsSettings {
    pub(crate) roots: RootSource,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) verification: Verification,
    /// With `Verification::Full`: the chain and dates are checked, the host name is not.
    pub(crate) accept_invalid_hostnames: bool,
    pub(crate) versions: VersionRange,
    /// Send the host name in the ClientHello (SNI); never sent for IP addresses.
    pub(crate) sni: bool,
    /// Resume earlier sessions (tickets or IDs) from the config's session cache.
    pub(crate) resumption: bool,
    /// The protocols ALPN offers.
    pub(crate) alpn: Alpn,
    /// Write session secrets to the file named by SSLKEYLOGFILE, for Wireshark.
    pub(crate) keylog: bool,
    /// The client certificate and key shown to servers that ask for one.
    pub(crate) identity: Option<Identity>,
    /// Public keys the certificates of some hosts must have, checked in every mode.
    pub(crate) pins: PinSet,
    /// Revocation lists checked with `Verification::Full`.
    pub(crate) crls: Vec<CertificateRevocationListDer<'static>>,
    /// The user's own rustls configuration (`use_preconfigured_tls`), used as given: the
    /// other fields then don't make the configuration.
    pub(crate) preconfigured: Option<Preconfigured>,
}

/// A rustls `ClientConfig` the user built. Equal only to itself (the same `Arc`), since two
/// configurations can't be compared: its connections are pooled apart from all others.
#[derive(Clone)]
pub(crate) struct Preconfigured(Arc<ClientConfig>);

impl Preconfigured {
    pub(crate) fn new(config: Arc<ClientConfig>) -> Preconfigured {
        Preconfigured(config)
    }
}

impl PartialEq for Preconfigured {
    fn eq(&self, other: &Preconfigured) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Preconfigured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fmt_config(&self.0, f)
    }
}

/// What a `ClientConfig` shows in `Debug`: not its keys or session cache.
fn fmt_config(config: &ClientConfig, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    let alpn: Vec<_> = config
        .alpn_protocols
        .iter()
        .map(|p| String::from_utf8_lossy(p))
        .collect();
    f.debug_struct("Preconfigured")
        .field("alpn_protocols", &alpn)
        .field("enable_sni", &config.enable_sni)
        .finish_non_exhaustive()
}

/// Equal settings build equivalent rustls configurations: what decides whether two
/// requests may share a connection (`pool.rs` keys its pools by it). Every field is named,
/// without `..`, so a new field can't be left out of the comparison: the compiler asks for
/// it here, and `is_default` compares with `Default::default()`.
impl PartialEq for TlsSettings {
    fn eq(&self, other: &TlsSettings) -> bool {
        let TlsSettings {
            roots,
            extra_roots,
            verification,
            accept_invalid_hostnames,
            versions,
            sni,
            resumption,
            alpn,
            keylog,
            identity,
            pins,
            crls,
            preconfigured,
        } = self;
        let same_identity = match (identity, &other.identity) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same_as(b),
            _ => false,
        };
        same_identity
            && *roots == other.roots
            && *extra_roots == other.extra_roots
            && *verification == other.verification
            && *accept_invalid_hostnames == other.accept_invalid_hostnames
            && *versions == other.versions
            && *sni == other.sni
            && *resumption == other.resumption
            && *alpn == other.alpn
            && *keylog == other.keylog
            && *pins == other.pins
            && *crls == other.crls
            && *preconfigured == other.preconfigured
    }
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            roots: RootSource::System,
            extra_roots: Vec::new(),
            verification: Verification::Full,
            accept_invalid_hostnames: false,
            versions: VersionRange::default(),
            sni: true,
            resumption: true,
            alpn: Alpn::H2AndHttp1,
            keylog: false,
            identity: None,
            pins: PinSet::default(),
            crls: Vec::new(),
            preconfigured: None,
        }
    }
}

/// A built TLS configuration, or the reason HTTPS can't be used (only when the system
/// store is empty: `Client::new()` can't fail, so requests report it instead).
#[derive(Clone)]
pub(crate) enum TlsConfig {
    Ready(Arc<ClientConfig>),
    Unavailable(Arc<TlsProblem>),
}

impl TlsSettings {
    /// Whether these are the defaults, whose configuration is built once per process.
    pub(crate) fn is_default(&self) -> bool {
        *self == TlsSettings::default()
    }

    /// The versions a failed handshake's message names: `None` with a preconfigured
    /// configuration, whose versions are its own.
    pub(crate) fn versions_to_name(&self) -> Option<VersionRange> {
        match self.preconfigured {
            None => Some(self.versions),
            Some(_) => None,
        }
    }

    /// Logs, once per pool, that its connections are not fully verified. A preconfigured
    /// configuration verifies as it was built to, whatever these settings say.
    pub(crate) fn warn_if_insecure(&self, whose: &str) {
        if self.preconfigured.is_some() {
            return;
        }
        if self.verification == Verification::AcceptInvalidCerts {
            tracing::warn!(
                "wireline: certificate verification is OFF for {whose} \
                 (danger_accept_invalid_certs): any server can impersonate any host"
            );
        } else if self.accept_invalid_hostnames {
            tracing::warn!(
                "wireline: host name verification is OFF for {whose} \
                 (danger_accept_invalid_hostnames): any server with a certificate from a \
                 trusted CA can impersonate any host"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One settings per field, each differing from the default in that field only.
    fn one_field_changed_each() -> Vec<(&'static str, TlsSettings)> {
        // Names every field without `..`: a new field fails to compile here until it has
        // a variant below, as it does in `PartialEq`.
        let TlsSettings {
            roots: _,
            extra_roots: _,
            verification: _,
            accept_invalid_hostnames: _,
            versions: _,
            sni: _,
            resumption: _,
            alpn: _,
            keylog: _,
            identity: _,
            pins: _,
            crls: _,
            preconfigured: _,
        } = TlsSettings::default();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["client.test".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let pem = format!("{}{}", cert.pem(), key.serialize_pem());
        let d = TlsSettings::default;
        vec![
            (
                "roots",
                TlsSettings {
                    roots: RootSource::CaFile("ca.pem".into()),
                    ..d()
                },
            ),
            (
                "extra_roots",
                TlsSettings {
                    extra_roots: vec![CertificateDer::from(vec![1, 2])],
                    ..d()
                },
            ),
            (
                "verification",
                TlsSettings {
                    verification: Verification::AcceptInvalidCerts,
                    ..d()
                },
            ),
            (
                "accept_invalid_hostnames",
                TlsSettings {
                    accept_invalid_hostnames: true,
                    ..d()
                },
            ),
            (
                "versions",
                TlsSettings {
                    versions: VersionRange {
                        min: TlsVersion::TLS_1_3,
                        max: None,
                    },
                    ..d()
                },
            ),
            ("sni", TlsSettings { sni: false, ..d() }),
            (
                "resumption",
                TlsSettings {
                    resumption: false,
                    ..d()
                },
            ),
            (
                "alpn http/1.1",
                TlsSettings {
                    alpn: Alpn::Http1,
                    ..d()
                },
            ),
            (
                "alpn h2",
                TlsSettings {
                    alpn: Alpn::H2,
                    ..d()
                },
            ),
            (
                "keylog",
                TlsSettings {
                    keylog: true,
                    ..d()
                },
            ),
            (
                "identity",
                TlsSettings {
                    identity: Some(Identity::from_pem(pem.as_bytes()).unwrap()),
                    ..d()
                },
            ),
            ("pins", pinned()),
            (
                "crls",
                TlsSettings {
                    crls: vec![CertificateRevocationListDer::from(vec![0x30, 0x00])],
                    ..d()
                },
            ),
            (
                "preconfigured",
                TlsSettings {
                    preconfigured: Some(Preconfigured::new(config::tests::without_roots_config())),
                    ..d()
                },
            ),
        ]
    }
    /// The defaults with one pin.
    fn pinned() -> TlsSettings {
        let mut pinned = TlsSettings::default();
        pinned
            .pins
            .add(
                "example.com",
                "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            )
            .unwrap();
        pinned
    }

    #[test]
    fn pins_and_crls_are_not_the_shared_default() {
        assert!(!pinned().is_default());
        let revoking = TlsSettings {
            crls: vec![CertificateRevocationListDer::from(vec![0x30, 0x00])],
            ..TlsSettings::default()
        };
        assert!(!revoking.is_default());
    }

    /// The pool key: settings that differ in any one field are unequal (so their
    /// connections go to different pools), to the default and to each other, and none
    /// of them is taken for the shared default configuration.
    #[test]
    fn settings_differing_in_any_field_key_different_pools() {
        let variants = one_field_changed_each();
        assert!(TlsSettings::default().is_default());
        for (i, (field, a)) in variants.iter().enumerate() {
            assert!(a == &a.clone(), "{field}: equal to its own copy");
            assert!(
                a != &TlsSettings::default(),
                "{field}: differs from the default"
            );
            assert!(!a.is_default(), "{field}: not the shared default");
            for (other, b) in &variants[i + 1..] {
                assert!(a != b, "{field} and {other} key the same pool");
            }
        }
    }
}
