//! The one place the user's TLS choices ([`TlsSettings`]) become a rustls `ClientConfig`:
//! the roots, the verifier (explaining, pinned, or the platform's), client certificates,
//! versions, ALPN and the rest, with the crypto provider the Cargo features chose.

use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore};

use super::{
    identity, roots, verify, Alpn, Preconfigured, RootSource, TlsConfig, TlsProblem, TlsSettings,
    Verification,
};
use crate::error::{Error, Result};

/// The default settings' configuration, built once per process (and again by a reload).
static DEFAULT: Mutex<Option<Result<TlsConfig>>> = Mutex::new(None);

impl TlsSettings {
    /// Builds the rustls configuration. The default settings' configuration is built once
    /// per process and shared, so `Client::new()` costs an `Arc` clone and every default
    /// client shares one TLS session cache.
    pub(crate) fn build(&self) -> Result<TlsConfig> {
        if self.is_default() {
            let mut cached = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
            return match cached.get_or_insert_with(|| self.build_uncached()) {
                Ok(config) => Ok(config.clone()),
                Err(e) => Err(Error::builder(e.to_string())),
            };
        }
        self.build_uncached()
    }

    /// The same settings with the client identity read again from its files, if it was
    /// read from files (the CA file is read by each build).
    pub(crate) fn reread(&self) -> Result<TlsSettings> {
        let mut settings = self.clone();
        if let Some(identity) = &self.identity {
            settings.identity = Some(identity.reread()?);
        }
        Ok(settings)
    }

    /// Builds the configuration again from the files and the system store as they are
    /// now (`Client::reload_tls`): the CA file and the system's roots are read again, and
    /// the default settings' shared configuration is replaced for clients built later.
    pub(crate) fn rebuild(&self) -> Result<TlsConfig> {
        if self.roots == RootSource::System {
            roots::reload_system();
            // Built from the roots just replaced: clients built from now on rebuild it.
            *DEFAULT.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        let config = self.build_uncached()?;
        if self.is_default() {
            let mut cached = DEFAULT.lock().unwrap_or_else(|e| e.into_inner());
            *cached = Some(Ok(config.clone()));
        }
        Ok(config)
    }

    fn build_uncached(&self) -> Result<TlsConfig> {
        if let Some(Preconfigured(config)) = &self.preconfigured {
            return Ok(TlsConfig::Ready(config.clone()));
        }
        let provider = provider();
        let versions = self.versions.rustls_versions().map_err(Error::builder)?;
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| Error::builder(format!("TLS versions: {e}")))?;
        let verifier: Arc<dyn rustls::client::danger::ServerCertVerifier> = match self.verification
        {
            Verification::AcceptInvalidCerts => {
                Arc::new(verify::AcceptInvalidCertificates::new(provider))
            }
            Verification::Full => {
                let (checker, label) = match self.chain_checker(provider)? {
                    Ok(found) => found,
                    Err(problem) => return Ok(TlsConfig::Unavailable(problem)),
                };
                let names = if self.accept_invalid_hostnames {
                    verify::NameCheck::Skipped
                } else {
                    verify::NameCheck::Required
                };
                Arc::new(verify::ExplainingVerifier::new(
                    checker,
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

    /// The verifier that checks the chain and the name, and the label naming what it trusts
    /// in messages: webpki's over the root store, or the platform's. The inner `Err` is "no
    /// trusted roots", which `Client::new()` reports per request rather than here.
    #[allow(clippy::type_complexity)]
    fn chain_checker(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<std::result::Result<(Arc<dyn ServerCertVerifier>, String), Arc<TlsProblem>>> {
        #[cfg(feature = "platform-verifier")]
        if self.roots == RootSource::Platform {
            return self.platform_verifier(provider);
        }
        Ok(match self.trusted_roots()? {
            Ok((store, label)) => {
                let webpki: Arc<dyn ServerCertVerifier> = self.webpki_verifier(store, provider)?;
                Ok((webpki, label))
            }
            Err(problem) => Err(problem),
        })
    }

    /// rustls-platform-verifier's verifier, with the certificates given to
    /// `add_root_certificate` trusted too. webpki names a wrong host only after every other
    /// check passed, which `danger_accept_invalid_hostnames` relies on, and CRLs are webpki's:
    /// the platforms' verifiers promise neither, so both are refused here.
    #[cfg(feature = "platform-verifier")]
    #[allow(clippy::type_complexity)]
    fn platform_verifier(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<std::result::Result<(Arc<dyn ServerCertVerifier>, String), Arc<TlsProblem>>> {
        if self.accept_invalid_hostnames {
            return Err(Error::builder(
                "platform_verifier() with danger_accept_invalid_hostnames(true): the platform's \
                 verifier checks the host name with the rest and can't be told to skip it; \
                 use the system roots (the default) or ca_file() instead",
            ));
        }
        if !self.crls.is_empty() {
            return Err(Error::builder(
                "platform_verifier() with add_crl(): the platform's verifier takes no CRLs \
                 (it checks revocation its own way where the platform does); use the system \
                 roots (the default) or ca_file() to check these CRLs",
            ));
        }
        let label = if self.extra_roots.is_empty() {
            "the platform verifier".to_owned()
        } else {
            "the platform verifier plus add_root_certificate()".to_owned()
        };
        let built = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.iter().cloned(),
            provider.clone(),
        );
        match built {
            Ok(verifier) => Ok(Ok((Arc::new(verifier), label))),
            // Its only failure on Linux and the BSDs: no root at all.
            Err(rustls::Error::General(why)) => Ok(Err(Arc::new(TlsProblem {
                kind: crate::error::TlsErrorKind::NoTrustedRoots,
                message: format!(
                    "no trusted root certificates: the platform verifier could not start \
                     ({why}); install the system CA bundle (ca-certificates), point \
                     SSL_CERT_FILE at one, or pass a CA bundle with ca_file()"
                ),
            }))),
            Err(other) => Err(Error::builder(format!(
                "platform_verifier(): a certificate given to add_root_certificate() can't be \
                 used as a trust anchor: {other}"
            ))),
        }
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
            RootSource::OnlyGiven => {
                if self.extra_roots.is_empty() {
                    return Err(Error::builder(
                        "tls_certs_only() was given no certificate: nothing would be trusted \
                         and every https request would fail; pass the CA certificates to trust",
                    ));
                }
                let label = "only the certificates given to tls_certs_only()".to_owned();
                let store = roots::store_of(self.extra_roots.clone(), "tls_certs_only()")?;
                return Ok(Ok((Arc::new(store), label)));
            }
            #[cfg(feature = "platform-verifier")]
            RootSource::Platform => unreachable!("chain_checker takes the platform's verifier"),
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

/// The crypto provider, built once, with rustls' default suites and groups for it: aws-lc-rs
/// when its feature is on (X25519MLKEM768 first, then X25519, P-256, P-384), else ring.
pub(crate) fn provider() -> &'static Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    #[cfg(feature = "aws-lc-rs")]
    let default = rustls::crypto::aws_lc_rs::default_provider;
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let default = rustls::crypto::ring::default_provider;
    PROVIDER.get_or_init(|| Arc::new(default()))
}

#[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
compile_error!(
    "wireline needs a crypto provider for rustls: turn on its `ring` feature (one of the \
     default features) or its `aws-lc-rs` feature"
);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rustls_pki_types::CertificateRevocationListDer;

    use crate::tls::{TlsVersion, VersionRange};
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

    /// A rustls configuration of wireline's making, built without reading any root.
    pub(crate) fn without_roots_config() -> Arc<ClientConfig> {
        ready(&without_roots())
    }

    #[test]
    fn a_preconfigured_config_is_used_as_given_and_keys_its_own_pool() {
        let mut given = ClientConfig::clone(&without_roots_config());
        given.alpn_protocols = vec![b"spdy/3".to_vec()];
        let given = Arc::new(given);
        let settings = TlsSettings {
            // Would fail to build without the preconfigured config: it is not read.
            roots: RootSource::CaFile("/nonexistent/ca.pem".into()),
            alpn: Alpn::Http1,
            preconfigured: Some(Preconfigured::new(given.clone())),
            ..TlsSettings::default()
        };
        let built = ready(&settings);
        assert!(Arc::ptr_eq(&built, &given), "the same config, not a copy");
        assert_eq!(
            built.alpn_protocols,
            vec![b"spdy/3".to_vec()],
            "its ALPN is kept"
        );
        assert!(settings == settings.clone());
        assert_eq!(settings.versions_to_name(), None);
        let other = TlsSettings {
            preconfigured: Some(Preconfigured::new(Arc::new(ClientConfig::clone(&given)))),
            ..settings.clone()
        };
        assert!(settings != other, "an equal config is still another config");
    }

    #[test]
    fn tls_certs_only_trusts_only_the_given_certificates() {
        let settings = TlsSettings {
            roots: RootSource::OnlyGiven,
            ..verifying()
        };
        let (store, label) = settings.trusted_roots().unwrap().unwrap();
        assert_eq!(store.len(), 1, "the given root, no system root");
        assert!(label.contains("tls_certs_only()"), "{label}");
        let none = TlsSettings {
            roots: RootSource::OnlyGiven,
            ..TlsSettings::default()
        };
        let err = none.build().err().expect("nothing to trust");
        assert!(err.is_builder());
        assert!(
            err.to_string()
                .contains("tls_certs_only() was given no certificate"),
            "{err}"
        );
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
}
