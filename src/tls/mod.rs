//! The user's TLS choices as plain data, and the one place they become a rustls `ClientConfig`.
//!
//! Kept free of sockets so every combination can be tested as a pure function.

pub(crate) mod cert;
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
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

pub use cert::Certificate;
pub use crl::CertificateRevocationList;
pub use identity::Identity;
pub use info::{PeerCertificate, TlsInfo};
pub use options::TlsOptions;
pub(crate) use pin::PinSet;
pub use version::TlsVersion;
pub(crate) use version::VersionRange;

use crate::error::{Error, Result};
use explain::TlsProblem;

/// Which certificates anchor trust. One source at a time, so "system roots and a CA file"
/// can't be asked for by accident; `extra` certificates add to either.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RootSource {
    /// The operating system's store (rustls-native-certs, honouring SSL_CERT_FILE/SSL_CERT_DIR).
    System,
    /// Only the certificates of this PEM bundle (curl's --cacert, requests' verify=path).
    CaFile(PathBuf),
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

    /// Logs, once per pool, that its connections are not fully verified.
    pub(crate) fn warn_if_insecure(&self, whose: &str) {
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

    /// Builds the rustls configuration. The default settings' configuration is built once
    /// per process and shared, so `Client::new()` costs an `Arc` clone and every default
    /// client shares one TLS session cache.
    pub(crate) fn build(&self) -> Result<TlsConfig> {
        if self.is_default() {
            static DEFAULT: OnceLock<Result<TlsConfig>> = OnceLock::new();
            return match DEFAULT.get_or_init(|| self.build_uncached()) {
                Ok(config) => Ok(config.clone()),
                Err(e) => Err(Error::builder(e.to_string())),
            };
        }
        self.build_uncached()
    }

    fn build_uncached(&self) -> Result<TlsConfig> {
        let provider = provider();
        let Some(versions) = self.versions.rustls_versions() else {
            return Err(Error::builder(format!(
                "max_tls_version ({}) is below min_tls_version ({}): no TLS version is left",
                self.versions.max.unwrap_or(self.versions.min),
                self.versions.min
            )));
        };
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| Error::builder(format!("TLS versions: {e}")))?;
        let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match self.verification
        {
            Verification::AcceptInvalidCerts => {
                Arc::new(verify::AcceptInvalidCertificates::new(provider))
            }
            Verification::Full => {
                let (store, label) = match self.trusted_roots()? {
                    Ok(found) => found,
                    Err(problem) => return Ok(TlsConfig::Unavailable(problem)),
                };
                let webpki = self.webpki_verifier(store, provider)?;
                let names = if self.accept_invalid_hostnames {
                    verify::NameCheck::Skipped
                } else {
                    verify::NameCheck::Required
                };
                Arc::new(verify::ExplainingVerifier::new(
                    webpki,
                    label.into(),
                    names,
                    self.crls.clone().into(),
                ))
            }
        };
        let verifier = if self.pins.is_empty() {
            verifier
        } else {
            Arc::new(verify::PinnedVerifier::new(verifier, self.pins.clone()))
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some(identity) => {
                let (chain, key) = identity.to_rustls();
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(identity::unusable)?
            }
        };
        config.enable_sni = self.sni;
        if !self.resumption {
            config.resumption = rustls::client::Resumption::disabled();
        }
        if self.keylog {
            // Reads SSLKEYLOGFILE now; unset or unwritable, nothing is logged.
            config.key_log = Arc::new(rustls::KeyLogFile::new());
        }
        config.alpn_protocols = match self.alpn {
            Alpn::H2AndHttp1 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            Alpn::Http1 => vec![b"http/1.1".to_vec()],
            Alpn::H2 => vec![b"h2".to_vec()],
        };
        Ok(TlsConfig::Ready(Arc::new(config)))
    }

    /// webpki's verifier for these roots and CRLs. With CRLs, every certificate of the chain
    /// is checked (not only the leaf), and a certificate whose issuer published none of the
    /// CRLs given has an unknown status, which passes: a CRL is evidence of revocation,
    /// and its absence is not. A CRL past its nextUpdate is still used, as a stale list of
    /// revoked certificates is still true about them.
    fn webpki_verifier(
        &self,
        store: Arc<RootCertStore>,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>> {
        WebPkiServerVerifier::builder_with_provider(store, provider.clone())
            .with_crls(self.crls.iter().cloned())
            .allow_unknown_revocation_status()
            .build()
            .map_err(|e| match e {
                rustls::client::VerifierBuilderError::InvalidCrl(crl) => {
                    Error::builder(format!("add_crl: a CRL can't be used: {crl:?}"))
                }
                other => Error::builder(format!("certificate verifier: {other}")),
            })
    }

    /// The root store to verify against and a label naming it in error messages. The
    /// inner `Err` is "no system roots", which is reported per request, not here.
    #[allow(clippy::type_complexity)]
    fn trusted_roots(
        &self,
    ) -> Result<std::result::Result<(Arc<RootCertStore>, String), Arc<TlsProblem>>> {
        let (base, label) = match &self.roots {
            RootSource::System => match roots::system() {
                Ok(store) => (store, "system roots".to_owned()),
                Err(problem) if self.extra_roots.is_empty() => return Ok(Err(problem)),
                Err(_) => (Arc::new(RootCertStore::empty()), String::new()),
            },
            RootSource::CaFile(path) => {
                let label = format!("CA file {}", path.display());
                let ders = roots::read_ca_file(path)?;
                (Arc::new(roots::store_of(ders, &label)?), label)
            }
        };
        if self.extra_roots.is_empty() {
            return Ok(Ok((base, label)));
        }
        let mut store = RootCertStore::clone(&base);
        let (added, _) = store.add_parsable_certificates(self.extra_roots.iter().cloned());
        if added == 0 {
            return Err(Error::builder(
                "add_root_certificate: none of the certificates can be used as a trust anchor",
            ));
        }
        let label = if label.is_empty() {
            "the certificates given to add_root_certificate()".to_owned()
        } else {
            format!("{label} plus add_root_certificate()")
        };
        Ok(Ok((Arc::new(store), label)))
    }
}

/// The crypto provider, built once: ring, with rustls' default suites and groups.
pub(crate) fn provider() -> &'static Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ca_file_names_the_path() {
        let settings = TlsSettings {
            roots: RootSource::CaFile("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        let err = settings.build().err().expect("must fail");
        assert!(err.is_builder());
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn accept_invalid_needs_no_roots_and_keeps_alpn() {
        let settings = TlsSettings {
            roots: RootSource::CaFile("/nonexistent/ca.pem".into()),
            verification: Verification::AcceptInvalidCerts,
            versions: VersionRange {
                min: TlsVersion::TLS_1_3,
                max: None,
            },
            alpn: Alpn::Http1,
            ..TlsSettings::default()
        };
        match settings.build().expect("no file is read") {
            TlsConfig::Ready(config) => {
                assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
            }
            TlsConfig::Unavailable(_) => panic!("roots are not needed"),
        }
    }

    #[test]
    fn alpn_offers_what_http1_only_and_http2_prior_knowledge_leave() {
        for (alpn, offered) in [
            (Alpn::H2AndHttp1, vec![b"h2".to_vec(), b"http/1.1".to_vec()]),
            (Alpn::Http1, vec![b"http/1.1".to_vec()]),
            (Alpn::H2, vec![b"h2".to_vec()]),
        ] {
            let settings = TlsSettings {
                verification: Verification::AcceptInvalidCerts,
                alpn,
                ..TlsSettings::default()
            };
            assert_eq!(ready(&settings).alpn_protocols, offered, "{alpn:?}");
        }
    }

    fn ready(settings: &TlsSettings) -> Arc<ClientConfig> {
        match settings.build().expect("builds") {
            TlsConfig::Ready(config) => config,
            TlsConfig::Unavailable(_) => panic!("roots are not needed"),
        }
    }

    fn without_roots() -> TlsSettings {
        TlsSettings {
            verification: Verification::AcceptInvalidCerts,
            ..TlsSettings::default()
        }
    }

    #[test]
    fn max_below_min_is_a_builder_error_naming_both() {
        let settings = TlsSettings {
            versions: VersionRange {
                min: TlsVersion::TLS_1_3,
                max: Some(TlsVersion::TLS_1_2),
            },
            ..without_roots()
        };
        let err = settings.build().err().expect("must fail");
        assert!(err.is_builder());
        let shown = err.to_string();
        assert!(shown.contains("max_tls_version (TLS 1.2)"), "{shown}");
        assert!(shown.contains("min_tls_version (TLS 1.3)"), "{shown}");
    }

    #[test]
    fn sni_keylog_and_defaults_reach_the_config() {
        let default = ready(&without_roots());
        assert!(default.enable_sni);
        assert!(!default.key_log.will_log("CLIENT_RANDOM"));
        assert!(!default.client_auth_cert_resolver.has_certs());
        let settings = TlsSettings {
            sni: false,
            keylog: true,
            ..without_roots()
        };
        let config = ready(&settings);
        assert!(!config.enable_sni);
        assert!(!settings.is_default());
    }

    /// Full verification that builds on any machine: a throwaway root as the extra root,
    /// alone or on top of the system's.
    fn verifying() -> TlsSettings {
        let root = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        TlsSettings {
            extra_roots: vec![root.cert.der().clone()],
            ..TlsSettings::default()
        }
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

    #[test]
    fn a_crl_webpki_cannot_use_is_a_builder_error_naming_add_crl() {
        // from_pem and from_der refuse this already; build() must not panic or ignore it.
        let settings = TlsSettings {
            crls: vec![CertificateRevocationListDer::from(vec![0x30, 0x00])],
            ..verifying()
        };
        let err = settings.build().err().expect("must fail");
        assert!(err.is_builder());
        assert!(err.to_string().contains("add_crl"), "{err}");
    }

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
        ]
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
