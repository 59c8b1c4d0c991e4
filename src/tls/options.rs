//! `TlsOptions`: one request's changes to its client's TLS settings (requests'
//! `verify=` per call).

use std::path::{Path, PathBuf};

use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};

use crate::error::Result;
use crate::tls::{
    Certificate, CertificateRevocationList, Identity, RootSource, TlsSettings, TlsVersion,
    Verification,
};

/// TLS settings for one request, over its client's: what requests does with
/// `verify=False` or `verify="ca.pem"` on a single call.
///
/// Set with [`RequestBuilder::tls`](crate::RequestBuilder::tls). Anything not set here
/// keeps the client's value. On a client given its own rustls configuration
/// ([`use_preconfigured_tls`](crate::ClientBuilder::use_preconfigured_tls)), options other
/// than `TlsOptions::new()` apply to the builder's TLS settings and leave that
/// configuration out, which can't be changed piecemeal. The request (and every redirect it follows) goes through
/// connections opened under exactly these settings: connections are pooled per TLS
/// configuration, so a connection made with verification off is never reused by a request
/// that verifies, and the other way round.
///
/// ```no_run
/// # async fn run() -> wireline::Result<()> {
/// use wireline::TlsOptions;
/// let client = wireline::Client::new();
/// // This call trusts only the internal CA; other calls keep the system roots.
/// let resp = client
///     .get("https://internal.example/")
///     .tls(TlsOptions::new().ca_file("internal-ca.pem"))
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct TlsOptions {
    roots: Option<RootSource>,
    extra_roots: Vec<CertificateDer<'static>>,
    verification: Option<Verification>,
    accept_invalid_hostnames: Option<bool>,
    min_version: Option<TlsVersion>,
    max_version: Option<TlsVersion>,
    identity: Option<Identity>,
    /// (host, pin) as given; checked when the request is sent, like the builder's.
    pins: Vec<(String, String)>,
    crls: Vec<CertificateRevocationListDer<'static>>,
}

impl TlsOptions {
    /// No changes: the client's settings.
    ///
    /// ```
    /// let same = wireline::TlsOptions::new();
    /// ```
    pub fn new() -> TlsOptions {
        TlsOptions::default()
    }

    /// Trusts only the certificates in this PEM bundle for this request (requests'
    /// `verify="ca.pem"`). The file is read when the request is first sent with it; a
    /// missing or empty file fails that request with a builder error naming the path.
    ///
    /// ```
    /// let options = wireline::TlsOptions::new().ca_file("/etc/my-ca.pem");
    /// ```
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> TlsOptions {
        self.roots = Some(RootSource::CaFile(PathBuf::from(path.as_ref())));
        self
    }

    /// Trusts the system's root certificates for this request, even if the client was
    /// given a CA file.
    ///
    /// ```
    /// let options = wireline::TlsOptions::new().system_roots();
    /// ```
    pub fn system_roots(mut self) -> TlsOptions {
        self.roots = Some(RootSource::System);
        self
    }

    /// Has the operating system's verifier check this request's server, as
    /// [`ClientBuilder::platform_verifier`](crate::ClientBuilder::platform_verifier).
    /// Needs the `platform-verifier` Cargo feature.
    ///
    /// ```
    /// let options = wireline::TlsOptions::new().platform_verifier();
    /// ```
    #[cfg(feature = "platform-verifier")]
    pub fn platform_verifier(mut self) -> TlsOptions {
        self.roots = Some(RootSource::Platform);
        self
    }

    /// Adds a trusted root certificate for this request, to the client's roots or to
    /// those of [`ca_file`](TlsOptions::ca_file).
    ///
    /// ```
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let ca = wireline::Certificate::from_pem(pem)?;
    /// let options = wireline::TlsOptions::new().add_root_certificate(ca);
    /// # Ok(()) }
    /// ```
    pub fn add_root_certificate(mut self, certificate: Certificate) -> TlsOptions {
        self.extra_roots.extend(certificate.into_ders());
        self
    }

    /// Turns certificate verification off (`true`) for this request, or back on
    /// (`false`) when the client has it off. Dangerous, as
    /// [`ClientBuilder::danger_accept_invalid_certs`](crate::ClientBuilder::danger_accept_invalid_certs);
    /// a warning is logged once per client the first time it is used.
    ///
    /// ```
    /// // requests.get(url, verify=False), for this one call.
    /// let options = wireline::TlsOptions::new().danger_accept_invalid_certs(true);
    /// ```
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> TlsOptions {
        self.verification = Some(if accept {
            Verification::AcceptInvalidCerts
        } else {
            Verification::Full
        });
        self
    }

    /// Checks the chain but not the host name for this request, as
    /// [`ClientBuilder::danger_accept_invalid_hostnames`](crate::ClientBuilder::danger_accept_invalid_hostnames).
    ///
    /// ```
    /// let options = wireline::TlsOptions::new().danger_accept_invalid_hostnames(true);
    /// ```
    pub fn danger_accept_invalid_hostnames(mut self, accept: bool) -> TlsOptions {
        self.accept_invalid_hostnames = Some(accept);
        self
    }

    /// The lowest TLS version this request accepts.
    ///
    /// ```
    /// let options = wireline::TlsOptions::new().min_tls_version(wireline::TlsVersion::TLS_1_3);
    /// ```
    pub fn min_tls_version(mut self, version: TlsVersion) -> TlsOptions {
        self.min_version = Some(version);
        self
    }

    /// The highest TLS version this request offers.
    ///
    /// ```
    /// let options = wireline::TlsOptions::new().max_tls_version(wireline::TlsVersion::TLS_1_2);
    /// ```
    pub fn max_tls_version(mut self, version: TlsVersion) -> TlsOptions {
        self.max_version = Some(version);
        self
    }

    /// The client certificate this request shows (requests' `cert=`).
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let pem = std::fs::read("client.pem").expect("certificate and key");
    /// let options = wireline::TlsOptions::new().identity(wireline::Identity::from_pem(&pem)?);
    /// # Ok(()) }
    /// ```
    pub fn identity(mut self, identity: Identity) -> TlsOptions {
        self.identity = Some(identity);
        self
    }

    /// Adds a public-key pin for `host`, on top of the client's pins, as
    /// [`ClientBuilder::pin_sha256`](crate::ClientBuilder::pin_sha256). A malformed pin
    /// fails the request with a builder error.
    ///
    /// ```
    /// let options = wireline::TlsOptions::new()
    ///     .pin_sha256("example.com", "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    /// ```
    pub fn pin_sha256(mut self, host: &str, spki_sha256_base64: &str) -> TlsOptions {
        self.pins
            .push((host.to_owned(), spki_sha256_base64.to_owned()));
        self
    }

    /// Adds a certificate revocation list for this request, on top of the client's.
    ///
    /// ```
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let crl = wireline::CertificateRevocationList::from_pem(pem)?;
    /// let options = wireline::TlsOptions::new().add_crl(crl);
    /// # Ok(()) }
    /// ```
    pub fn add_crl(mut self, crl: CertificateRevocationList) -> TlsOptions {
        self.crls.push(crl.into_der());
        self
    }

    /// Whether these are `TlsOptions::new()`: nothing to change. Names every field, so a
    /// new one can't be forgotten here.
    fn is_empty(&self) -> bool {
        let TlsOptions {
            roots,
            extra_roots,
            verification,
            accept_invalid_hostnames,
            min_version,
            max_version,
            identity,
            pins,
            crls,
        } = self;
        roots.is_none()
            && extra_roots.is_empty()
            && verification.is_none()
            && accept_invalid_hostnames.is_none()
            && min_version.is_none()
            && max_version.is_none()
            && identity.is_none()
            && pins.is_empty()
            && crls.is_empty()
    }

    /// The client's settings with these changes. Any change leaves a preconfigured rustls
    /// configuration out: the request's is then built from the settings.
    pub(crate) fn applied_to(&self, base: &TlsSettings) -> Result<TlsSettings> {
        let mut settings = base.clone();
        if !self.is_empty() {
            settings.preconfigured = None;
        }
        if let Some(roots) = &self.roots {
            settings.roots = roots.clone();
        }
        settings
            .extra_roots
            .extend(self.extra_roots.iter().cloned());
        if let Some(verification) = self.verification {
            settings.verification = verification;
        }
        if let Some(accept) = self.accept_invalid_hostnames {
            settings.accept_invalid_hostnames = accept;
        }
        if let Some(min) = self.min_version {
            settings.versions.min = min;
        }
        if let Some(max) = self.max_version {
            settings.versions.max = Some(max);
        }
        if let Some(identity) = &self.identity {
            settings.identity = Some(identity.clone());
        }
        for (host, pin) in &self.pins {
            settings.pins.add(host, pin)?;
        }
        settings.crls.extend(self.crls.iter().cloned());
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_options_keep_the_clients_settings() {
        let base = TlsSettings {
            roots: RootSource::CaFile("ca.pem".into()),
            verification: Verification::AcceptInvalidCerts,
            ..TlsSettings::default()
        };
        assert!(TlsOptions::new().applied_to(&base).unwrap() == base);
    }

    #[test]
    fn set_options_replace_or_add() {
        let base = TlsSettings::default();
        let changed = TlsOptions::new()
            .ca_file("ca.pem")
            .danger_accept_invalid_certs(true)
            .min_tls_version(TlsVersion::TLS_1_3)
            .applied_to(&base)
            .unwrap();
        assert_eq!(changed.roots, RootSource::CaFile("ca.pem".into()));
        assert_eq!(changed.verification, Verification::AcceptInvalidCerts);
        assert_eq!(changed.versions.min, TlsVersion::TLS_1_3);
        assert!(changed != base);
        let back = TlsOptions::new()
            .danger_accept_invalid_certs(false)
            .applied_to(&changed)
            .unwrap();
        assert_eq!(back.verification, Verification::Full);
    }

    #[test]
    fn any_option_leaves_a_preconfigured_config_out_and_none_keeps_it() {
        let config = crate::tls::config::tests::without_roots_config();
        let base = TlsSettings {
            preconfigured: Some(crate::tls::Preconfigured::new(config)),
            ..TlsSettings::default()
        };
        assert!(TlsOptions::new().applied_to(&base).unwrap() == base);
        // Even an option that repeats the builder's value: the request asked for
        // wireline's verification, which the preconfigured config may not do.
        let changed = TlsOptions::new()
            .danger_accept_invalid_certs(false)
            .applied_to(&base)
            .unwrap();
        assert!(changed.preconfigured.is_none());
        assert!(changed != base);
        assert!(
            changed.is_default(),
            "the builder's other settings are the defaults"
        );
    }

    #[test]
    fn a_malformed_pin_is_a_builder_error() {
        let err = TlsOptions::new()
            .pin_sha256("example.com", "not a pin")
            .applied_to(&TlsSettings::default())
            .unwrap_err();
        assert!(err.is_builder(), "{err}");
    }
}
