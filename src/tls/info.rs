//! `TlsInfo`: what a connection's TLS handshake settled, read once per connection.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::{ClientConnection, HandshakeKind, ProtocolVersion};
use rustls_pki_types::CertificateDer;

use crate::tls::TlsVersion;

/// The TLS parameters of the connection a response came over, from
/// [`Response::tls_info`](crate::Response::tls_info) when the client was built with
/// [`ClientBuilder::tls_info(true)`](crate::ClientBuilder::tls_info).
///
/// Read once per connection, after its handshake, and shared by every response on it.
///
/// ```no_run
/// # async fn run() -> wireline::Result<()> {
/// let client = wireline::Client::builder().tls_info(true).build()?;
/// let resp = client.get("https://example.com/").send().await?;
/// if let Some(tls) = resp.tls_info() {
///     println!("{} with {}", tls.protocol_version(), tls.cipher_suite());
///     for cert in tls.peer_certificates() {
///         println!("  {} (issued by {})", cert.subject(), cert.issuer());
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TlsInfo {
    version: TlsVersion,
    cipher_suite: &'static str,
    key_exchange_group: Option<&'static str>,
    // Shared, so that the copy hyper-util puts in each response's extensions is cheap.
    alpn: Option<Arc<[u8]>>,
    peer_certificates: Arc<[PeerCertificate]>,
    resumed: bool,
}

impl TlsInfo {
    /// Reads the facts off a connection whose handshake has finished.
    pub(crate) fn of(conn: &ClientConnection) -> TlsInfo {
        let version = match conn.protocol_version() {
            Some(ProtocolVersion::TLSv1_2) => TlsVersion::TLS_1_2,
            // rustls speaks only 1.2 and 1.3.
            _ => TlsVersion::TLS_1_3,
        };
        let cipher_suite = conn
            .negotiated_cipher_suite()
            .and_then(|suite| suite.suite().as_str())
            .unwrap_or("unknown");
        let peer_certificates = conn
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(PeerCertificate::of)
            .collect();
        let key_exchange_group = conn
            .negotiated_key_exchange_group()
            .and_then(|group| group.name().as_str());
        TlsInfo {
            version,
            cipher_suite,
            key_exchange_group,
            alpn: conn.alpn_protocol().map(Arc::from),
            peer_certificates,
            resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
        }
    }

    /// The TLS version in use.
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// assert!(tls.protocol_version() >= wireline::TlsVersion::TLS_1_2);
    /// # }
    /// ```
    pub fn protocol_version(&self) -> TlsVersion {
        self.version
    }

    /// The cipher suite, by its IANA name, e.g. `TLS13_AES_128_GCM_SHA256` or
    /// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// println!("cipher suite: {}", tls.cipher_suite());
    /// # }
    /// ```
    pub fn cipher_suite(&self) -> &str {
        self.cipher_suite
    }

    /// The key exchange group the handshake used, by its IANA name: `X25519`, `secp256r1`,
    /// or `X25519MLKEM768` (post-quantum hybrid, offered first with the `aws-lc-rs` Cargo
    /// feature); `None` when the handshake used none (a TLS 1.2 resumption).
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// let post_quantum = tls.key_exchange_group() == Some("X25519MLKEM768");
    /// # }
    /// ```
    pub fn key_exchange_group(&self) -> Option<&str> {
        self.key_exchange_group
    }

    /// The server's own certificate, DER-encoded: reqwest's `TlsInfo::peer_certificate`
    /// (the first of [`peer_certificates`](Self::peer_certificates)).
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) -> wireline::Result<()> {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// if let Some(der) = tls.peer_certificate() {
    ///     let leaf = wireline::tls::Certificate::from_der(der)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificates.first().map(PeerCertificate::der)
    }

    /// reqwest's `TlsInfo::version`: [`protocol_version`](Self::protocol_version), always
    /// known here.
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// assert!(tls.version() >= Some(wireline::tls::Version::TLS_1_2));
    /// # }
    /// ```
    pub fn version(&self) -> Option<TlsVersion> {
        Some(self.version)
    }

    /// The application protocol agreed on by ALPN (`b"h2"` or `b"http/1.1"`), or `None`
    /// when the server did not take part in ALPN.
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// let h2 = tls.alpn_protocol() == Some(&b"h2"[..]);
    /// # }
    /// ```
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The certificates the server sent, its own first, then the intermediates in the
    /// order it sent them. After a resumed handshake, those of the original one.
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// if let Some(leaf) = tls.peer_certificates().first() {
    ///     println!("{} until {:?}", leaf.subject(), leaf.not_after());
    /// }
    /// # }
    /// ```
    pub fn peer_certificates(&self) -> &[PeerCertificate] {
        &self.peer_certificates
    }

    /// True when the handshake resumed an earlier session (a ticket or session ID from a
    /// previous connection to the server) instead of a full handshake.
    ///
    /// ```no_run
    /// # async fn run(resp: wireline::Response) {
    /// let tls = resp.tls_info().expect("tls_info(true), https");
    /// println!("resumed: {}", tls.session_resumed());
    /// # }
    /// ```
    pub fn session_resumed(&self) -> bool {
        self.resumed
    }
}

impl fmt::Debug for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsInfo")
            .field("protocol_version", &self.version)
            .field("cipher_suite", &self.cipher_suite)
            .field("key_exchange_group", &self.key_exchange_group)
            .field(
                "alpn_protocol",
                &self.alpn.as_deref().map(String::from_utf8_lossy),
            )
            .field("peer_certificates", &self.peer_certificates)
            .field("session_resumed", &self.resumed)
            .finish()
    }
}

/// One certificate a server presented, with the fields people look at already parsed.
///
/// ```no_run
/// # async fn run(resp: wireline::Response) {
/// for cert in resp.tls_info().map(|t| t.peer_certificates()).unwrap_or_default() {
///     println!("{} issued by {}, {} DER bytes", cert.subject(), cert.issuer(), cert.der().len());
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct PeerCertificate {
    der: CertificateDer<'static>,
    subject: String,
    issuer: String,
    not_after: Option<SystemTime>,
}

impl PeerCertificate {
    fn of(der: &CertificateDer<'_>) -> PeerCertificate {
        let parsed = x509_parser::parse_x509_certificate(der).ok();
        let (subject, issuer, not_after) = match &parsed {
            Some((_, cert)) => (
                cert.subject().to_string(),
                cert.issuer().to_string(),
                u64::try_from(cert.validity().not_after.timestamp())
                    .ok()
                    .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs)),
            ),
            None => (String::new(), String::new(), None),
        };
        PeerCertificate {
            der: der.clone().into_owned(),
            subject,
            issuer,
            not_after,
        }
    }

    /// The certificate, DER-encoded, as the server sent it.
    ///
    /// ```no_run
    /// # fn run(cert: &wireline::PeerCertificate) -> wireline::Result<()> {
    /// let again = wireline::Certificate::from_der(cert.der())?;
    /// # Ok(()) }
    /// ```
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject's distinguished name, as `CN=example.com, O=Example`; empty when the
    /// certificate has none or can't be parsed.
    ///
    /// ```no_run
    /// # fn run(cert: &wireline::PeerCertificate) {
    /// println!("subject: {}", cert.subject());
    /// # }
    /// ```
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The issuer's distinguished name, in the same form as [`subject`](Self::subject).
    ///
    /// ```no_run
    /// # fn run(cert: &wireline::PeerCertificate) {
    /// println!("issuer: {}", cert.issuer());
    /// # }
    /// ```
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The end of the validity period (notAfter), or `None` if the certificate can't be
    /// parsed or the date is before 1970.
    ///
    /// ```no_run
    /// # fn run(cert: &wireline::PeerCertificate) {
    /// if let Some(end) = cert.not_after() {
    ///     let left = end.duration_since(std::time::SystemTime::now()).unwrap_or_default();
    ///     println!("{} days left", left.as_secs() / 86_400);
    /// }
    /// # }
    /// ```
    pub fn not_after(&self) -> Option<SystemTime> {
        self.not_after
    }
}

impl fmt::Debug for PeerCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerCertificate")
            .field("subject", &self.subject)
            .field("issuer", &self.issuer)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}
