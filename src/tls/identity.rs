//! `Identity`: the client certificate chain and private key shown to servers that ask (mTLS).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// The files it was read from, read again by `Client::reload_tls`; `None` for one
    /// made from bytes.
    files: Option<Arc<PemFiles>>,
}

/// Where an identity read from files is: one PEM file with the chain and the key, or two.
#[derive(Debug)]
struct PemFiles {
    chain: PathBuf,
    key: Option<PathBuf>,
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

    /// Reads the client certificate chain and the private key from one PEM file, as
    /// [`from_pem`](Self::from_pem) parses them. [`Client::reload_tls`](crate::Client::reload_tls)
    /// reads the file again, so a renewed certificate is picked up by a live client.
    ///
    /// Fails with a builder error naming the file when it can't be read or parsed.
    ///
    /// ```
    /// let missing = wireline::Identity::from_pem_file("/no/such/client.pem");
    /// assert!(missing.unwrap_err().to_string().contains("/no/such/client.pem"));
    /// ```
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Identity> {
        let files = PemFiles {
            chain: path.as_ref().to_owned(),
            key: None,
        };
        PemFiles::read(Arc::new(files))
    }

    /// Reads the certificate chain and the private key from two PEM files (curl's
    /// `--cert` and `--key`), as [`from_pem_parts`](Self::from_pem_parts) parses them;
    /// read again by [`Client::reload_tls`](crate::Client::reload_tls).
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let identity = wireline::Identity::from_pem_files("client.crt", "client.key")?;
    /// # Ok(()) }
    /// ```
    pub fn from_pem_files(chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Identity> {
        let files = PemFiles {
            chain: chain.as_ref().to_owned(),
            key: Some(key.as_ref().to_owned()),
        };
        PemFiles::read(Arc::new(files))
    }

    /// The same identity read again from its files, if it came from files.
    pub(crate) fn reread(&self) -> Result<Identity> {
        match &self.files {
            Some(files) => PemFiles::read(files.clone()),
            None => Ok(self.clone()),
        }
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
        Ok(Identity {
            chain,
            key,
            files: None,
        })
    }

    /// reqwest's name for [`from_pem_parts`](Self::from_pem_parts): the certificate chain
    /// (the client's own first) and its PKCS#8 private key, in two PEM buffers. PKCS#1 and
    /// SEC1 keys are taken too, which reqwest's native-tls version refuses.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let cert = std::fs::read("client.pem").expect("certificate chain");
    /// let key = std::fs::read("key.pem").expect("PKCS#8 private key");
    /// let identity = wireline::Identity::from_pkcs8_pem(&cert, &key)?;
    /// # Ok(()) }
    /// ```
    pub fn from_pkcs8_pem(pem: &[u8], key: &[u8]) -> Result<Identity> {
        Identity::from_pem_parts(pem, key)
    }

    /// Reads a PKCS#12 archive (a `.p12` or `.pfx` file, DER), decrypting it with
    /// `password`: the private key, its certificate and the intermediates with it, ordered
    /// from the client's certificate up. It reads what OpenSSL 3 writes by default (PBES2
    /// with AES-256-CBC, an HMAC-SHA-256 check) and the legacy 3DES and RC2-40 files, in
    /// pure Rust. Needs the `pkcs12` Cargo feature (a default one).
    ///
    /// Fails with a builder error that says which: the password is wrong, the data is not
    /// PKCS#12 (a PEM file is named as such), the file holds no private key or no
    /// certificate for it, or it is encrypted in a way wireline can't read (then re-export
    /// it with OpenSSL's defaults). Whether the key belongs to the certificate is checked
    /// by [`build`](crate::ClientBuilder::build).
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let p12 = std::fs::read("client.p12").expect("PKCS#12 archive");
    /// let client = wireline::Client::builder()
    ///     .identity(wireline::Identity::from_pkcs12_der(&p12, "its password")?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "pkcs12")]
    pub fn from_pkcs12_der(der: &[u8], password: &str) -> Result<Identity> {
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(der, password)
            .map_err(|e| pkcs12_unreadable(e, der))?;
        let (chain, key) = pkcs12_identity(archive)?;
        Ok(Identity {
            chain,
            key,
            files: None,
        })
    }

    /// The same certificates and key: the same identity to show a server.
    pub(crate) fn same_as(&self, other: &Identity) -> bool {
        self.chain == other.chain && self.key.secret_der() == other.key.secret_der()
    }

    /// The chain and the key, for rustls.
    pub(crate) fn to_rustls(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.chain.clone(), self.key.clone_key())
    }
}

/// Why a PKCS#12 archive can't be opened, in words that say what to do.
#[cfg(feature = "pkcs12")]
fn pkcs12_unreadable(err: p12_keystore::error::Error, der: &[u8]) -> Error {
    use p12_keystore::error::Error as P12;
    let why = match &err {
        // The MAC is checked first, with the password: a wrong one fails it.
        P12::MacError(_) => "the password is wrong (the file's integrity check fails with \
             it), or the file was altered"
            .to_owned(),
        // No MAC, or a MAC that passed, and a bag that doesn't decrypt: the padding or the
        // decrypted structure is garbage, as a wrong password makes it.
        P12::UnpadError | P12::Pkcs5Error(_) | P12::InvalidPrivateKey => format!(
            "it does not decrypt with this password ({err}): the password is wrong, or \
             the file is damaged"
        ),
        // An algorithm the der crate has no name for fails decoding as an unknown OID
        // (camellia, for one): that text is named by the test `pkcs12_refusals_say_why`.
        P12::UnsupportedEncryptionScheme | P12::UnsupportedMacAlgorithm => unreadable(&err),
        P12::DerError(e) if e.to_string().contains("unknown/unsupported OID") => unreadable(&err),
        P12::DerError(_) | P12::InvalidVersion | P12::UnsupportedContentType
            if contains(der, b"-----BEGIN ") =>
        {
            "this is PEM text, not a PKCS#12 archive: use Identity::from_pem (one file \
             with the certificate and key) or Identity::from_pem_parts"
                .to_owned()
        }
        P12::DerError(_) | P12::InvalidVersion | P12::UnsupportedContentType => {
            format!("it is not a PKCS#12 archive (a .p12 or .pfx file, DER): {err}")
        }
        other => format!("it can't be read: {other}"),
    };
    Error::builder(format!("client identity (PKCS#12): {why}")).with_source(err)
}

#[cfg(feature = "pkcs12")]
fn unreadable(err: &p12_keystore::error::Error) -> String {
    format!(
        "it is protected with an algorithm wireline can't read ({err}; readable: PBES2 \
         with AES, 3DES, RC2-40, and SHA-1/SHA-2 MACs); re-export it with OpenSSL's \
         defaults: openssl pkcs12 -in old.p12 -out all.pem -nodes, then openssl pkcs12 \
         -export -in all.pem -out new.p12"
    )
}

/// The private key of an archive, its certificate, and the intermediates that lead up from
/// it. The certificate is the one sharing the key's localKeyId, as OpenSSL and Java mark
/// them, else the only certificate that issued none of the others.
#[cfg(feature = "pkcs12")]
fn pkcs12_identity(
    archive: p12_keystore::Pkcs12Archive,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let fail = |why: &str| Error::builder(format!("client identity (PKCS#12): {why}"));
    let certs: Vec<_> = archive.certs.iter().collect();
    let key = match archive.keys.as_slice() {
        [] if certs.is_empty() => return Err(fail("the archive is empty")),
        [] => {
            return Err(fail(
                "it holds certificates but no private key; export it with the key \
                 (openssl pkcs12 -export -inkey key.pem -in cert.pem -out client.p12)",
            ))
        }
        [key, ..] => key,
    };
    let leaf = certs
        .iter()
        .find(|c| {
            c.local_key_id.is_some()
                && c.local_key_id.as_deref() == key.local_key_id.as_ref().map(|id| &id.0[..])
        })
        .or_else(|| {
            let issued_none = |c: &&&p12_keystore::CertificateBag| {
                !certs
                    .iter()
                    .any(|o| o.cert.issuer() == c.cert.subject() && o.cert != c.cert)
            };
            match certs.iter().filter(issued_none).collect::<Vec<_>>()[..] {
                [only] => Some(only),
                _ => None,
            }
        })
        .ok_or_else(|| {
            fail(if certs.is_empty() {
                "it holds a private key but no certificate; export it with the \
                 certificate (openssl pkcs12 -export -inkey key.pem -in cert.pem -out client.p12)"
            } else {
                "no certificate in it is marked as the private key's (localKeyId), and \
                 which one is can't be told from the chain"
            })
        })?;
    let mut chain = vec![leaf.cert.clone()];
    while let Some(issuer) = certs.iter().find(|c| {
        let last = &chain[chain.len() - 1];
        c.cert.subject() == last.issuer()
            && last.issuer() != last.subject()
            && !chain.contains(&c.cert)
    }) {
        chain.push(issuer.cert.clone());
    }
    let chain = chain
        .iter()
        .map(|cert| CertificateDer::from(cert.as_der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(key.key.as_der().to_vec().into());
    Ok((chain, key))
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

impl PemFiles {
    fn read(files: Arc<PemFiles>) -> Result<Identity> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| {
                Error::builder(format!(
                    "client identity file {}: cannot read it: {e}",
                    path.display()
                ))
                .with_source(e)
            })
        };
        let chain = read(&files.chain)?;
        let parsed = match &files.key {
            None => Identity::from_pem(&chain),
            Some(key) => Identity::from_pem_parts(&chain, &read(key)?),
        };
        let mut identity = parsed.map_err(|e| {
            let shown = match &files.key {
                None => files.chain.display().to_string(),
                Some(key) => format!("{} and {}", files.chain.display(), key.display()),
            };
            Error::builder(format!("client identity file {shown}: {e}"))
        })?;
        identity.files = Some(files);
        Ok(identity)
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            files: self.files.clone(),
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

    /// Files OpenSSL 3.0 made (tests/fixtures/pkcs12/README.md says how): a client
    /// certificate "CN=fixture client" under "CN=Fixture CA", password "fixture".
    #[cfg(feature = "pkcs12")]
    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pkcs12/");
        std::fs::read(format!("{dir}{name}")).expect("fixture")
    }

    #[cfg(feature = "pkcs12")]
    #[test]
    fn openssl_pkcs12_files_give_the_key_and_the_chain_from_the_client_up() {
        for name in ["openssl3-default.p12", "openssl-legacy.p12"] {
            let identity = Identity::from_pkcs12_der(&fixture(name), "fixture").unwrap();
            let subjects: Vec<String> = identity
                .chain
                .iter()
                .map(|der| crate::tls::explain::subject_of(der))
                .collect();
            assert_eq!(subjects.len(), 2, "{name}: {subjects:?}");
            assert!(
                subjects[0].contains("fixture client"),
                "{name}: {subjects:?}"
            );
            assert!(subjects[1].contains("Fixture CA"), "{name}: {subjects:?}");
            assert!(matches!(identity.key, PrivateKeyDer::Pkcs8(_)), "{name}");
        }
    }

    #[cfg(feature = "pkcs12")]
    #[test]
    fn pkcs12_refusals_say_why() {
        let refused = |der: &[u8], password: &str| {
            let err = Identity::from_pkcs12_der(der, password).unwrap_err();
            assert!(err.is_builder(), "{err}");
            let shown = err.to_string();
            assert!(shown.contains("client identity (PKCS#12): "), "{shown}");
            println!("{shown}");
            shown
        };
        let wrong = refused(&fixture("openssl3-default.p12"), "not it");
        assert!(wrong.contains("the password is wrong"), "{wrong}");
        let camellia = refused(&fixture("camellia.p12"), "fixture");
        assert!(camellia.contains("can't read"), "{camellia}");
        assert!(camellia.contains("openssl pkcs12 -export"), "{camellia}");
        let md5 = refused(&fixture("md5-mac.p12"), "fixture");
        assert!(md5.contains("can't read"), "{md5}");
        let pem = refused(LEGACY_ENCRYPTED_KEY.as_bytes(), "fixture");
        assert!(pem.contains("this is PEM text"), "{pem}");
        let garbage = refused(b"\x30\x03\x02\x01\x03", "fixture");
        assert!(garbage.contains("not a PKCS#12 archive"), "{garbage}");
    }
}
