//! The TLS kinds of an [`ErrorKind`](super::ErrorKind): why a handshake failed, and which
//! certificate check did.

/// Why a TLS handshake failed, when the certificate was not the problem.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsErrorKind {
    /// The server does not speak a TLS version we allow (see `min_tls_version`).
    ProtocolVersion,
    /// No cipher suite, key exchange group or signature scheme in common.
    NoSharedCipherSuite,
    /// The server asked for a client certificate and we had none it accepted.
    ClientCertificateRequired,
    /// The server ended the handshake with another TLS alert.
    AlertReceived,
    /// No trusted root certificates could be loaded (the system store is empty or unreadable).
    NoTrustedRoots,
    /// The peer is not speaking TLS, or broke the protocol.
    Protocol,
    /// Anything else rustls reported.
    Other,
}

/// Which certificate check failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateErrorKind {
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate signed itself and is not trusted.
    SelfSigned,
    /// The current time is after a certificate's notAfter date.
    Expired,
    /// The current time is before a certificate's notBefore date.
    NotYetValid,
    /// The certificate is not valid for the host name or IP address in the URL.
    NameMismatch,
    /// A certificate of the chain is listed as revoked by a certificate revocation list
    /// given with [`ClientBuilder::add_crl`](crate::ClientBuilder::add_crl).
    Revoked,
    /// A signature in the chain is invalid or uses an unsupported algorithm.
    BadSignature,
    /// The certificate may not be used to authenticate a server.
    InvalidPurpose,
    /// A CA of the chain may not vouch for the certificate's names: its name constraints
    /// (the names it is permitted or excluded from certifying) leave them out. Checked even
    /// with `danger_accept_invalid_hostnames(true)`, since the constraints are part of the
    /// chain.
    NameConstraint,
    /// The certificate's public key matches none of the pins set for the host with
    /// [`ClientBuilder::pin_sha256`](crate::ClientBuilder::pin_sha256). Checked after every
    /// other check has passed, and even with `danger_accept_invalid_certs(true)`.
    PinMismatch,
    /// Another verification failure.
    Other,
}
