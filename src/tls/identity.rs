//! `Identity`: the client certificate chain and private key shown to servers that ask (mTLS).

use std::fmt;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};
use crate::tls::cert::parse_pem_bundle;

/// A client certificate chain and its private key, for servers that require client
/// certificates (mutual TLS). Give it to [`ClientBuilder::identity`](crate::ClientBuilder::identity).
///
/// Parsing checks the PEM and that each certificate is X.509; whether the key belongs to
/// the first certificate is checked by [`build`](crate::ClientBuilder::build).
///
/// ```no_run
/// # fn run() -> wireline::Result<()> {
/// let pem = std::fs::read("client.pem").expect("certificate chain and key");
/// let client = wireline::Client::builder()
///     .identity(wireline::Identity::from_pem(&pem)?)
///     .build()?;
/// # Ok(()) }
/// ```
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// Parses one PEM buffer holding the client certificate, optionally its intermediates,
    /// and the private key (PKCS#8, PKCS#1 RSA or SEC1 EC), in any order: reqwest's
    /// `Identity::from_pem`. The first certificate is the client's own.
    ///
    /// Fails with a builder error when there is no certificate or no private key, or a
    /// block is not valid.
    ///
    /// ```
    /// assert!(wireline::Identity::from_pem(b"not PEM at all").is_err());
    /// ```
    pub fn from_pem(cert_chain_and_key_pem: &[u8]) -> Result<Identity> {
        Identity::from_pem_parts(cert_chain_and_key_pem, cert_chain_and_key_pem)
    }

    /// Parses the certificate chain and the private key from separate PEM buffers, as
    /// they usually come in two files (curl's `--cert` and `--key`).
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let cert = std::fs::read("client.crt").expect("certificate chain");
    /// let key = std::fs::read("client.key").expect("private key");
    /// let identity = wireline::Identity::from_pem_parts(&cert, &key)?;
    /// # Ok(()) }
    /// ```
    pub fn from_pem_parts(cert_pem: &[u8], key_pem: &[u8]) -> Result<Identity> {
        // Before the certificates: with `from_pem` the key shares their buffer, and an
        // OpenSSL "traditional" encrypted key (Proc-Type headers inside an RSA or EC block)
        // fails PEM decoding, which would blame a certificate.
        if is_encrypted(key_pem) {
            return Err(Error::builder(
                "client identity: the private key is encrypted; decrypt it first \
                 (openssl pkey -in key.pem -out plain.pem)",
            ));
        }
        let chain = parse_pem_bundle(cert_pem, "client identity")?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
            Error::builder(match e {
                pem::Error::NoItemsFound => "client identity: no private key found (expected a \
                     \"-----BEGIN PRIVATE KEY-----\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\" block)"
                    .to_owned(),
                other => format!("client identity: the private key is not valid PEM: {other}"),
            })
        })?;
        Ok(Identity { chain, key })
    }

    /// The chain and the key, for rustls.
    /// The same certificates and key: the same identity to show a server.
    pub(crate) fn same_as(&self, other: &Identity) -> bool {
        self.chain == other.chain && self.key.secret_der() == other.key.secret_der()
    }

    pub(crate) fn to_rustls(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain.clone(), self.key.clone_key())
    }
}

/// A PKCS#8 encrypted key, or a traditional one announced by `Proc-Type: 4,ENCRYPTED`.
fn is_encrypted(key_pem: &[u8]) -> bool {
    contains(key_pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || contains(key_pem, b"Proc-Type: 4,ENCRYPTED")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Why rustls refused the identity when `build()` made the configuration.
pub(crate) fn unusable(err: rustls::Error) -> Error {
    let why = match &err {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            "the private key does not belong to the first certificate (check that the key \
             file goes with this certificate)"
                .to_owned()
        }
        rustls::Error::General(message) => format!("the private key can't be used: {message}"),
        other => format!("the certificate and key can't be used: {other}"),
    };
    Error::builder(format!("client identity: {why}")).with_source(err)
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    /// Shows the certificate subjects, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<String> = self
            .chain
            .iter()
            .map(|der| crate::tls::explain::subject_of(der))
            .collect();
        f.debug_struct("Identity")
            .field("subjects", &subjects)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for garbage in [
            &b""[..],
            b"garbage",
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n",
        ] {
            let err = Identity::from_pem(garbage).unwrap_err();
            assert!(err.is_builder(), "{err}");
            assert!(err.to_string().contains("client identity"), "{err}");
        }
    }

    /// An OpenSSL "traditional" encrypted key: the encryption is announced in PEM headers
    /// of an ordinary RSA/EC block, not by an ENCRYPTED PRIVATE KEY label.
    const LEGACY_ENCRYPTED_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
        Proc-Type: 4,ENCRYPTED\n\
        DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\
        \n\
        AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n\
        -----END RSA PRIVATE KEY-----\n";

    #[test]
    fn a_legacy_encrypted_key_is_called_encrypted() {
        let cert = rcgen::generate_simple_self_signed(vec!["client".to_owned()]).unwrap();
        let cert_pem = cert.cert.pem();
        for result in [
            Identity::from_pem_parts(cert_pem.as_bytes(), LEGACY_ENCRYPTED_KEY.as_bytes()),
            Identity::from_pem(format!("{cert_pem}{LEGACY_ENCRYPTED_KEY}").as_bytes()),
        ] {
            let err = result.unwrap_err();
            assert!(err.is_builder(), "{err}");
            let shown = err.to_string();
            assert!(shown.contains("the private key is encrypted"), "{shown}");
        }
    }
}
