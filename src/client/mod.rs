//! `Client` and `ClientBuilder`: settings in, the pooled hyper stack built once in `build()`.

mod send;

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, USER_AGENT};
use http::Method;

#[cfg(feature = "cookies")]
use crate::cookie::{CookieStore, Jar};
use crate::error::{Error, ErrorKind, Result, TlsErrorKind};
use crate::into_url::IntoUrl;
use crate::pool::{OptionPools, Pool, PoolShape};
use crate::proxy::{Proxies, Proxy};
use crate::redirect;
use crate::request::{Request, RequestBuilder};
use crate::response::decode::Decoding;
use crate::response::Response;
use crate::retry::{self, Retrying};
use crate::timeouts::Pacing;
use crate::tls::{
    Certificate, CertificateRevocationList, Identity, RootSource, TlsConfig, TlsSettings,
    TlsVersion, Verification,
};

/// How long an idle pooled connection is kept. Below the keep-alive of common servers
/// (nginx 75 s, cloud load balancers 60 s) so we close first and rarely write into a
/// connection the server is closing; reqwest's 90 s invites that race. Servers with
/// shorter timeouts (Node's 5 s) still close first: `crate::attempt` covers that race.
const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The largest response head accepted by default: ureq's and Python's 64 KiB. hyper's own
/// defaults differ by protocol (about 400 KiB for HTTP/1, 16 KiB for h2); one number is
/// easier to reason about, and proxies such as nginx refuse heads far smaller (8 KiB).
const DEFAULT_MAX_RESPONSE_HEADER_SIZE: usize = 64 * 1024;

/// hyper's smallest HTTP/1 read buffer; it panics on a smaller maximum.
const MIN_MAX_RESPONSE_HEADER_SIZE: usize = 8 * 1024;

static DEFAULT_USER_AGENT: &str = concat!("wireline/", env!("CARGO_PKG_VERSION"));

/// An HTTP client with a connection pool. Cheap to clone: clones share the pool, the TLS
/// configuration and its session cache. Make one and reuse it.
///
/// ```
/// # async fn run() -> wireline::Result<()> {
/// let client = wireline::Client::new();
/// let body = client.get("https://example.com/").send().await?.text().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    /// Connections under the client's own TLS settings.
    pub(crate) pool: Pool,
    /// Connections under the TLS settings of requests that changed them.
    pub(crate) option_pools: OptionPools,
    pub(crate) default_headers: HeaderMap,
    /// `default_headers`' `Accept-Encoding` is the one the decoding settings made, not the
    /// caller's: requests with a `Range` header go without it.
    pub(crate) accept_encoding_is_automatic: bool,
    pub(crate) redirect: redirect::Policy,
    /// Refuse `http://` URLs, redirects included.
    pub(crate) https_only: bool,
    /// The largest response head accepted, checked exactly for HTTP/1 by `framing.rs`.
    pub(crate) max_response_header_size: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) decoding: Decoding,
    /// `None` when neither `read_timeout` nor `low_speed_limit` is set.
    pub(crate) pacing: Option<Pacing>,
    /// `None` without a retry policy (or with `max_retries(0)`): requests skip it.
    pub(crate) retry: Option<Retrying>,
    /// `None` unless cookies were asked for: then the request loop skips them for one
    /// check per hop.
    #[cfg(feature = "cookies")]
    pub(crate) cookie_store: Option<Arc<dyn CookieStore>>,
    /// `None` without proxies, so such a client pays nothing for them.
    pub(crate) proxies: Option<Arc<Proxies>>,
}

impl Client {
    /// A client with the defaults: the system's root certificates, TLS 1.2 or newer, h2 or
    /// HTTP/1.1 by ALPN, up to 10 redirects, no timeout, and the environment's proxies
    /// (`HTTPS_PROXY` and the rest, read now; see the crate docs on proxies).
    ///
    /// It never fails: if the system has no usable root certificates, each https request
    /// fails with an error that says so (use [`Client::builder`] and
    /// [`ca_file`](ClientBuilder::ca_file) then). The system roots are read once per process.
    pub fn new() -> Client {
        ClientBuilder::new()
            .build_with(DeferNoRoots::Yes)
            .expect("the default settings always build")
    }

    /// A builder to configure a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Starts a GET request.
    pub fn get<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::GET, url)
    }

    /// Starts a POST request.
    pub fn post<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::POST, url)
    }

    /// Starts a PUT request.
    pub fn put<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PUT, url)
    }

    /// Starts a PATCH request.
    pub fn patch<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::PATCH, url)
    }

    /// Starts a DELETE request.
    pub fn delete<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::DELETE, url)
    }

    /// Starts a HEAD request.
    pub fn head<U: IntoUrl>(&self, url: U) -> RequestBuilder {
        self.request(Method::HEAD, url)
    }

    /// Starts a request with any method.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let req = wireline::Client::new()
    ///     .request(wireline::Method::OPTIONS, "https://example.com/")
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn request<U: IntoUrl>(&self, method: Method, url: U) -> RequestBuilder {
        RequestBuilder::new(self.clone(), method, url)
    }

    /// Sends a built request.
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::new();
    /// let request = client.get("https://example.com/").build()?;
    /// let resp = client.execute(request).await?;
    /// # Ok(()) }
    /// ```
    pub fn execute(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        crate::client::send::send(self.inner.clone(), Ok(request))
    }

    /// What [`RequestBuilder::send`] runs: the builder's client moves in, no clone.
    pub(crate) fn send(
        self,
        request: Result<Request>,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        crate::client::send::send(self.inner, request)
    }

    /// A builder for a request made elsewhere, to adjust it with the builder's methods.
    pub fn request_builder(&self, request: Request) -> RequestBuilder {
        RequestBuilder::from_request(self.clone(), request)
    }
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl fmt::Debug for Client {
    /// Shows the settings, never the values of default headers that carry credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field(
                "default_headers",
                &crate::redact::Headers(&self.inner.default_headers),
            )
            .field("redirect", &self.inner.redirect)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry.as_ref().map(|r| &r.policy))
            .field("proxies", &self.inner.proxies)
            .finish_non_exhaustive()
    }
}

/// Settings for a [`Client`]. Each method takes and returns the builder by value, so
/// `builder = builder.timeout(d)` works; [`build`](ClientBuilder::build) turns the settings
/// into the TLS configuration, the connector and the pool, and reports any invalid one.
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// use std::time::Duration;
/// let client = wireline::Client::builder()
///     .timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(5))
///     .min_tls_version(wireline::TlsVersion::TLS_1_3)
///     .user_agent("my-app/1.0")
///     .build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct ClientBuilder {
    tls: TlsSettings,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Option<Duration>,
    max_response_header_size: usize,
    https_only: bool,
    tls_info: bool,
    redirect: redirect::Policy,
    default_headers: HeaderMap,
    pub(crate) decoding: Decoding,
    pub(crate) pacing: Pacing,
    retry: Option<retry::Policy>,
    #[cfg(feature = "cookies")]
    cookie_store: Option<Arc<dyn CookieStore>>,
    /// Tried in order; when empty, the environment's are used unless `env_proxies` is off.
    proxies: Vec<Proxy>,
    env_proxies: bool,
    /// The first invalid setting; reported by `build()`.
    error: Option<Error>,
    #[cfg(feature = "fuzzing")]
    pub(crate) transport: Option<crate::connect::memory::Transport>,
}

#[derive(PartialEq)]
enum DeferNoRoots {
    Yes,
    No,
}

impl ClientBuilder {
    /// The default settings (same as [`Client::builder`]).
    pub fn new() -> ClientBuilder {
        let mut default_headers = HeaderMap::with_capacity(2);
        default_headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        default_headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        ClientBuilder {
            tls: TlsSettings::default(),
            timeout: None,
            connect_timeout: None,
            pool_max_idle_per_host: usize::MAX,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            max_response_header_size: DEFAULT_MAX_RESPONSE_HEADER_SIZE,
            https_only: false,
            tls_info: false,
            redirect: redirect::Policy::default(),
            default_headers,
            decoding: Decoding::default(),
            pacing: Pacing::default(),
            retry: None,
            #[cfg(feature = "cookies")]
            cookie_store: None,
            proxies: Vec::new(),
            env_proxies: true,
            error: None,
            #[cfg(feature = "fuzzing")]
            transport: None,
        }
    }

    /// Builds the client. Fails with an [`is_builder`](Error::is_builder) error for an
    /// invalid setting (an unreadable CA file names its path), or with an
    /// [`is_tls`](Error::is_tls) error when the system roots are asked for and none exist.
    pub fn build(self) -> Result<Client> {
        self.build_with(DeferNoRoots::No)
    }

    fn build_with(mut self, defer: DeferNoRoots) -> Result<Client> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.decoding.check()?;
        let pacing = self.pacing.build()?;
        if self.max_response_header_size < MIN_MAX_RESPONSE_HEADER_SIZE {
            return Err(Error::builder(format!(
                "max_response_header_size({}) is below the smallest allowed, {MIN_MAX_RESPONSE_HEADER_SIZE} bytes",
                self.max_response_header_size
            )));
        }
        let retry = match self.retry {
            Some(policy) => policy.build()?,
            None => None,
        };
        let mut accept_encoding_is_automatic = false;
        if let Some(accept) = self.decoding.accept_encoding() {
            if !self.default_headers.contains_key(ACCEPT_ENCODING) {
                self.default_headers.insert(ACCEPT_ENCODING, accept);
                accept_encoding_is_automatic = true;
            }
        }
        let tls = self.tls.build()?;
        if let (TlsConfig::Unavailable(problem), DeferNoRoots::No) = (&tls, &defer) {
            return Err(Error::new(
                ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
                problem.message.clone(),
            ));
        }
        crate::pool::warn_if_insecure(&self.tls, "this client");
        let proxies = Proxies::new(&self.proxies, self.env_proxies).map(Arc::new);
        let shape = PoolShape {
            connect_timeout: self.connect_timeout,
            tls_info: self.tls_info,
            idle_timeout: self.pool_idle_timeout,
            max_idle_per_host: self.pool_max_idle_per_host,
            proxies: proxies.clone(),
            max_header_size: self.max_response_header_size,
            #[cfg(feature = "fuzzing")]
            transport: self.transport,
        };
        let pool = shape.pool(tls, &self.tls);
        Ok(Client {
            inner: Arc::new(ClientInner {
                pool,
                option_pools: OptionPools::new(self.tls, shape),
                default_headers: self.default_headers,
                accept_encoding_is_automatic,
                redirect: self.redirect,
                https_only: self.https_only,
                max_response_header_size: self.max_response_header_size,
                timeout: self.timeout,
                decoding: self.decoding,
                pacing,
                retry,
                #[cfg(feature = "cookies")]
                cookie_store: self.cookie_store,
                proxies,
            }),
        })
    }

    fn fail(mut self, error: Error) -> ClientBuilder {
        self.error.get_or_insert(error);
        self
    }

    /// Trusts only the certificates in this PEM bundle, instead of the system's roots
    /// (curl's `--cacert`, requests' `verify="ca.pem"`). [`build`](ClientBuilder::build)
    /// fails, naming the path, if the file is missing, unreadable or holds no certificate.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().ca_file("/etc/my-ca.pem").build()?;
    /// # Ok(()) }
    /// ```
    pub fn ca_file<P: AsRef<Path>>(mut self, path: P) -> ClientBuilder {
        self.tls.roots = RootSource::CaFile(path.as_ref().to_path_buf());
        self
    }

    /// Trusts these certificates too, in addition to the roots in use (the system's, or
    /// the CA file's).
    pub fn add_root_certificate(mut self, certificate: Certificate) -> ClientBuilder {
        self.tls.extra_roots.extend(certificate.into_ders());
        self
    }

    /// Accepts a connection to `host` only if the public key of its certificate is one of
    /// the keys pinned for it: `spki_sha256_base64` is the base64 SHA-256 of the
    /// certificate's SubjectPublicKeyInfo (curl's `--pinnedpubkey sha256//…`; the
    /// `sha256//` prefix is accepted too). Call it several times to allow several keys for
    /// a host, such as the current key and the next one during a rotation.
    ///
    /// The pin is checked after the usual verification has passed, so it narrows what is
    /// accepted and never widens it; with
    /// [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs) it is
    /// still checked, and is then the only check of the server's identity. A mismatch fails
    /// with [`CertificateErrorKind::PinMismatch`](crate::CertificateErrorKind::PinMismatch),
    /// whose message shows the key the server has. Hosts without pins are unaffected.
    ///
    /// `host` is matched exactly against the URL's host (case-insensitively for names;
    /// `[::1]` and `::1` are the same): pinning `example.com` leaves `www.example.com`
    /// unpinned. [`build`](ClientBuilder::build) fails with a builder error when `host`
    /// isn't a host name or IP address, or the pin isn't the base64 of 32 bytes.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .pin_sha256("example.com", "Xa6iyhUiwUoqDLvbaWqpl+4p9ZsnbBCr8fBYf4e2VnA=")
    ///     // The key that will replace it, so the rotation needs no new release.
    ///     .pin_sha256("example.com", "sha256//Ts3K3zzs/pVDJHNsi3ZpP12Lh5Evim5W9eO4gfmpNeg=")
    ///     .build()?;
    /// # Ok(()) }
    ///
    /// // Not the base64 of 32 bytes: build() says so.
    /// let err = wireline::Client::builder().pin_sha256("example.com", "AAAA").build();
    /// assert!(err.unwrap_err().is_builder());
    /// ```
    pub fn pin_sha256(mut self, host: &str, spki_sha256_base64: &str) -> ClientBuilder {
        match self.tls.pins.add(host, spki_sha256_base64) {
            Ok(()) => self,
            Err(e) => self.fail(e),
        }
    }

    /// Refuses servers whose certificate, or an intermediate CA certificate of its chain,
    /// is listed in this certificate revocation list. A refusal is an error of kind
    /// [`CertificateErrorKind::Revoked`](crate::CertificateErrorKind::Revoked) naming the
    /// revoked certificate and its serial number.
    ///
    /// Every certificate of the chain is checked against the CRLs from its issuer. A
    /// certificate whose issuer published none of the CRLs given passes, since nothing
    /// says it is revoked; give a CRL for each CA whose revocations matter. A CRL past its
    /// nextUpdate date is still used. The CRL's signature is checked with its issuer's
    /// key during the handshake, and a CRL that fails that check fails the request rather
    /// than being ignored. CRLs are not consulted with
    /// [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs), which
    /// checks no certificate.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let pem = std::fs::read("/etc/my-company/intermediate.crl.pem").expect("the CRL");
    /// let client = wireline::Client::builder()
    ///     .ca_file("/etc/my-company/ca.pem")
    ///     .add_crl(wireline::CertificateRevocationList::from_pem(&pem)?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn add_crl(mut self, crl: CertificateRevocationList) -> ClientBuilder {
        self.tls.crls.push(crl.into_der());
        self
    }

    /// Adds several certificate revocation lists, as [`add_crl`](ClientBuilder::add_crl)
    /// does for one.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let pem = std::fs::read("/etc/my-company/crls.pem").expect("the CRLs");
    /// let client = wireline::Client::builder()
    ///     .add_crls(wireline::CertificateRevocationList::from_pem_bundle(&pem)?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn add_crls(
        mut self,
        crls: impl IntoIterator<Item = CertificateRevocationList>,
    ) -> ClientBuilder {
        self.tls
            .crls
            .extend(crls.into_iter().map(CertificateRevocationList::into_der));
        self
    }

    /// Turns certificate verification off: unknown issuers, expired certificates and wrong
    /// host names are all accepted. The handshake signatures are still checked, so the
    /// server must hold the key of the certificate it shows, and the keys pinned with
    /// [`pin_sha256`](ClientBuilder::pin_sha256) are still required; CRLs are not
    /// consulted. A `tracing` warning is logged once per client built this way. For tests
    /// and debugging only.
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> ClientBuilder {
        self.tls.verification = if accept {
            Verification::AcceptInvalidCerts
        } else {
            Verification::Full
        };
        self
    }

    /// A client certificate to show when a server asks for one (mutual TLS). A server
    /// that requires one and gets none fails the handshake with
    /// [`TlsErrorKind::ClientCertificateRequired`]. [`build`](ClientBuilder::build) fails
    /// with a builder error if the key does not belong to the certificate.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let cert = std::fs::read("client.crt").expect("certificate chain");
    /// let key = std::fs::read("client.key").expect("private key");
    /// let client = wireline::Client::builder()
    ///     .identity(wireline::Identity::from_pem_parts(&cert, &key)?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn identity(mut self, identity: Identity) -> ClientBuilder {
        self.tls.identity = Some(identity);
        self
    }

    /// Accepts a certificate that is not valid for the host in the URL, while still
    /// checking everything else: the chain to a trusted root, the validity dates and the
    /// handshake signatures. Narrower than
    /// [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs), which
    /// overrides it. A `tracing` warning is logged once per client built this way.
    ///
    /// For reaching a server by an address its certificate doesn't list (an IP, a
    /// tunnel's `localhost`): any server with a certificate from a trusted CA can pose as
    /// any host, so with the system roots this is nearly as open as no verification.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .ca_file("/etc/my-company/ca.pem")
    ///     .danger_accept_invalid_hostnames(true)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn danger_accept_invalid_hostnames(mut self, accept: bool) -> ClientBuilder {
        self.tls.accept_invalid_hostnames = accept;
        self
    }

    /// The lowest TLS version to accept (default [`TlsVersion::TLS_1_2`]). A server that
    /// can't speak it fails the handshake with an [`is_tls`](Error::is_tls) error.
    pub fn min_tls_version(mut self, version: TlsVersion) -> ClientBuilder {
        self.tls.versions.min = version;
        self
    }

    /// The highest TLS version to use (default: the newest, TLS 1.3). A server that can
    /// only speak newer versions fails the handshake with an [`is_tls`](Error::is_tls)
    /// error of kind [`TlsErrorKind::ProtocolVersion`]. [`build`](ClientBuilder::build)
    /// fails with a builder error when it is below [`min_tls_version`](ClientBuilder::min_tls_version).
    ///
    /// For a server whose TLS 1.3 is broken, or to test TLS 1.2 on purpose.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .max_tls_version(wireline::TlsVersion::TLS_1_2)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn max_tls_version(mut self, version: TlsVersion) -> ClientBuilder {
        self.tls.versions.max = Some(version);
        self
    }

    /// Whether to send the host name in the TLS handshake (Server Name Indication;
    /// default `true`). SNI is never sent for IP-address URLs. Without it, a server hosting
    /// several names can't tell which certificate to present, and the certificate is still
    /// verified against the host in the URL.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().tls_sni(false).build()?;
    /// # Ok(()) }
    /// ```
    pub fn tls_sni(mut self, enable: bool) -> ClientBuilder {
        self.tls.sni = enable;
        self
    }

    /// Whether new connections resume earlier TLS sessions with the same server (default
    /// `true`): a resumed handshake skips the certificate exchange and verification, so
    /// it costs a fraction of a full one. The session cache is shared by the client's
    /// connections (256 sessions). Turn it off to make every handshake a full one, for
    /// instance to measure or test certificate verification.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .tls_session_resumption(false)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn tls_session_resumption(mut self, enable: bool) -> ClientBuilder {
        self.tls.resumption = enable;
        self
    }

    /// Writes the TLS session secrets to the file named by the `SSLKEYLOGFILE` environment
    /// variable, in the NSS key log format that Wireshark reads to decrypt captured traffic
    /// (default `false`). The variable is read by [`build`](ClientBuilder::build); when it
    /// is unset or the file can't be opened, nothing is written.
    ///
    /// Anyone with the file can read the traffic: for debugging only.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// // SSLKEYLOGFILE=/tmp/keys.log my-program
    /// let client = wireline::Client::builder().tls_keylog(true).build()?;
    /// # Ok(()) }
    /// ```
    pub fn tls_keylog(mut self, enable: bool) -> ClientBuilder {
        self.tls.keylog = enable;
        self
    }

    /// Records the TLS parameters of each connection (version, cipher suite, ALPN, the
    /// server's certificates, resumption) for [`Response::tls_info`] (default `false`).
    /// They are read once per connection, after its handshake, and shared by the
    /// responses on it; when off, nothing is recorded and responses carry nothing.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().tls_info(true).build()?;
    /// let resp = client.get("https://example.com/").send().await?;
    /// let tls = resp.tls_info().expect("an https response");
    /// println!("{} {}", tls.protocol_version(), tls.cipher_suite());
    /// # Ok(()) }
    /// ```
    pub fn tls_info(mut self, enable: bool) -> ClientBuilder {
        self.tls_info = enable;
        self
    }

    /// A timeout for each request as a whole: connecting, sending, and reading the body.
    /// Default: none. A request's own [`timeout`](RequestBuilder::timeout) overrides it.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = Some(timeout);
        self
    }

    /// A timeout for opening a connection: the TCP connect and the TLS handshake together.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The most idle connections kept per host (default: no limit). `0` disables reuse.
    ///
    /// This bounds what stays open between requests, not what requests in flight use: as
    /// in reqwest, each HTTP/1.1 request that finds no idle connection opens one, so 1,000
    /// requests at once hold up to 1,000 sockets, and all but `max` are closed as they
    /// finish. Over HTTP/2 they share one connection. To bound sockets, bound concurrency:
    ///
    /// ```no_run
    /// # async fn run(urls: Vec<String>) -> wireline::Result<()> {
    /// use std::sync::Arc;
    /// use tokio::sync::Semaphore;
    ///
    /// let client = wireline::Client::builder().pool_max_idle_per_host(8).build()?;
    /// let in_flight = Arc::new(Semaphore::new(8));
    /// let mut tasks = tokio::task::JoinSet::new();
    /// for url in urls {
    ///     let (client, in_flight) = (client.clone(), in_flight.clone());
    ///     tasks.spawn(async move {
    ///         let _permit = in_flight.acquire_owned().await.expect("never closed");
    ///         client.get(&url).send().await?.bytes().await
    ///     });
    /// }
    /// while let Some(done) = tasks.join_next().await {
    ///     done.expect("no panic")?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pool_max_idle_per_host(mut self, max: usize) -> ClientBuilder {
        self.pool_max_idle_per_host = max;
        self
    }

    /// How long an idle connection is kept; `None` keeps it until the server closes it.
    ///
    /// Default: 50 seconds, below the keep-alive timeouts of nginx (75 s) and common load
    /// balancers (60 s), so we usually close an idle connection before the server does and
    /// don't send a request into one it is closing. Against a server that closes sooner,
    /// a GET (or other request safe to repeat) that meets such a connection is sent once
    /// more on a new one; see the crate docs on stale connections. Lower this below the
    /// server's own keep-alive timeout when you know it.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use std::time::Duration;
    /// // Node.js closes idle connections after 5 s.
    /// let client = wireline::Client::builder()
    ///     .pool_idle_timeout(Duration::from_secs(4))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn pool_idle_timeout<D: Into<Option<Duration>>>(mut self, timeout: D) -> ClientBuilder {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// The largest response head accepted, in bytes (default 64 KiB, at least 8 KiB).
    ///
    /// Over HTTP/1 it is the status line and all the header lines, as sent; over h2 the
    /// header list as RFC 9113 counts it (each name and value, plus 32 bytes per field).
    /// A larger head fails the request with an [`is_request`](Error::is_request) error
    /// saying so, after reading at most about twice this much of it: a server can't make
    /// us buffer more. HTTP/1 heads are also limited to 100 header fields. Each redirect's
    /// head has its own allowance, and the heads of one redirect chain together (counted
    /// as HTTP/1 lines) may take four times this, 256 KiB by default; past that the
    /// request fails with an [`is_redirect`](Error::is_redirect) error (curl caps a
    /// transfer's heads at 300 KiB). Over HTTP/1 this is also the largest read buffer, so
    /// bodies are read in pieces of at most this size. [`build`](ClientBuilder::build)
    /// fails with a builder error below 8 KiB, the smallest read buffer hyper works with.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .max_response_header_size(256 * 1024) // a server with very large cookies
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn max_response_header_size(mut self, bytes: usize) -> ClientBuilder {
        self.max_response_header_size = bytes;
        self
    }

    /// Refuses to send a request over plain HTTP (default `false`): an `http://` URL
    /// fails with an [`is_builder`](Error::is_builder) error before any connection is
    /// made, and a redirect from https to http with an [`is_redirect`](Error::is_redirect)
    /// error before anything is sent to the http URL.
    ///
    /// ```
    /// # async fn run() {
    /// let client = wireline::Client::builder().https_only(true).build().unwrap();
    /// let err = client.get("http://example.com/").send().await.unwrap_err();
    /// assert!(err.is_builder());
    /// # }
    /// ```
    pub fn https_only(mut self, enable: bool) -> ClientBuilder {
        self.https_only = enable;
        self
    }

    /// Offers only HTTP/1.1 in ALPN (by default h2 is offered first, then HTTP/1.1).
    pub fn http1_only(mut self) -> ClientBuilder {
        self.tls.http1_only = true;
        self
    }

    /// Sends requests through this proxy (see [`Proxy`]). Call it again to add more:
    /// each destination takes the first proxy whose scope and
    /// [`no_proxy`](Proxy::no_proxy) list accept it, or goes direct when none does.
    ///
    /// Proxies given here replace the environment's (`HTTP_PROXY` and the rest; see the
    /// crate docs on proxies), as in reqwest.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::{NoProxy, Proxy};
    /// let client = wireline::Client::builder()
    ///     // https:// URLs through one proxy, everything else through another.
    ///     .proxy(Proxy::https("http://tunnels.example:3128")?)
    ///     .proxy(Proxy::all("http://proxy.example:3128")?.no_proxy(NoProxy::from_env()))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn proxy(mut self, proxy: Proxy) -> ClientBuilder {
        self.proxies.push(proxy);
        self
    }

    /// Connects directly to every destination: forgets the proxies given so far with
    /// [`proxy`](ClientBuilder::proxy) and ignores the environment's. A later `proxy()`
    /// call still adds one.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// // Whatever HTTPS_PROXY says, this client never uses a proxy.
    /// let client = wireline::Client::builder().no_proxy().build()?;
    /// # Ok(()) }
    /// ```
    pub fn no_proxy(mut self) -> ClientBuilder {
        self.proxies.clear();
        self.env_proxies = false;
        self
    }

    /// The redirect policy (default: follow up to 10).
    pub fn redirect(mut self, policy: redirect::Policy) -> ClientBuilder {
        self.redirect = policy;
        self
    }

    /// Retries requests that fail for passing reasons (connection failures, 429, 502,
    /// 503, 504…) under `policy`: with exponential backoff and jitter, `Retry-After`
    /// honoured up to a cap, only for requests safe to send twice, and within a retry
    /// budget the client's requests share. Default: no retries. See [`crate::retry`].
    ///
    /// [`build`](ClientBuilder::build) fails with a builder error for an invalid policy
    /// (a backoff base longer than its max, a budget refill outside 0–1).
    ///
    /// ```
    /// # async fn run() -> wireline::Result<()> {
    /// use std::time::Duration;
    /// use wireline::retry::Policy;
    ///
    /// let client = wireline::Client::builder()
    ///     .retry(Policy::default().max_retries(3))
    ///     .timeout(Duration::from_secs(10)) // bounds every attempt and wait together
    ///     .build()?;
    /// // A 503 is retried up to 3 times; the last response is returned if it persists.
    /// let resp = client.get("https://example.com/").send().await?.error_for_status()?;
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, policy: retry::Policy) -> ClientBuilder {
        self.retry = Some(policy);
        self
    }

    /// Keeps cookies in a jar of this client's own (default `false`): the `Set-Cookie`
    /// headers of every response, redirect responses included, are stored in a
    /// [`Jar`], and every request and redirect hop carries the cookies
    /// it has for that hop's URL, by RFC 6265's Domain, Path, Secure and expiry rules
    /// (see [`Jar`] for what it enforces).
    ///
    /// A `Cookie` header set on a request by hand is sent instead of the jar's for the
    /// hops it reaches (it is dropped at a redirect to another origin, where the jar's
    /// cookies for that origin are sent). Clones of the client share the jar; another
    /// client built with `cookie_store(true)` has its own. To share one between clients,
    /// or to fill it first, use [`cookie_provider`](ClientBuilder::cookie_provider).
    /// `false` removes any store set before.
    ///
    /// Available with the `cookies` Cargo feature.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().cookie_store(true).build()?;
    /// client
    ///     .post("https://example.com/login")
    ///     .form(&[("user", "ada"), ("password", "…")])
    ///     .send()
    ///     .await?;
    /// // The session cookie the login set goes with this one:
    /// let me = client.get("https://example.com/me").send().await?.text().await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cookies")]
    pub fn cookie_store(mut self, enable: bool) -> ClientBuilder {
        self.cookie_store = if enable {
            Some(Arc::new(Jar::default()))
        } else {
            None
        };
        self
    }

    /// Keeps cookies in `store`, which other clients and your own code may share: what
    /// one client receives, the others send. Use a [`Jar`] or your own
    /// [`CookieStore`]. Replaces [`cookie_store`](ClientBuilder::cookie_store)'s jar, and is
    /// replaced by a later `cookie_store(true)`.
    ///
    /// Available with the `cookies` Cargo feature.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use wireline::cookie::Jar;
    ///
    /// # fn run() -> wireline::Result<()> {
    /// let jar = Arc::new(Jar::default());
    /// jar.add_cookie_str("consent=yes", &"https://example.com/".parse().unwrap());
    /// let client = wireline::Client::builder().cookie_provider(jar.clone()).build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cookies")]
    pub fn cookie_provider<C: CookieStore + 'static>(mut self, store: Arc<C>) -> ClientBuilder {
        self.cookie_store = Some(store);
        self
    }

    /// Headers sent with every request unless the request sets the same name. They
    /// replace the defaults of the same name (`user-agent`, `accept`, and the
    /// `accept-encoding` that decompression adds). Credential values (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`) are marked sensitive and never printed, and are
    /// treated like a request's own: once a redirect goes to another origin, they stay
    /// behind.
    pub fn default_headers(mut self, headers: HeaderMap) -> ClientBuilder {
        let mut last_name = None;
        for (name, mut value) in headers {
            if let Some(name) = name {
                self.default_headers.remove(&name);
                last_name = Some(name);
            }
            if let Some(name) = &last_name {
                if crate::redact::is_credential(name) {
                    value.set_sensitive(true);
                }
                self.default_headers.append(name.clone(), value);
            }
        }
        self
    }

    /// The `User-Agent` header (default `wireline/<version>`).
    pub fn user_agent<V>(self, value: V) -> ClientBuilder
    where
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        match HeaderValue::try_from(value) {
            Ok(value) => {
                let mut this = self;
                this.default_headers.insert(USER_AGENT, value);
                this
            }
            Err(e) => {
                let e: http::Error = e.into();
                self.fail(Error::builder(format!("invalid user agent: {e}")))
            }
        }
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::new()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("tls", &self.tls.roots)
            .field("verification", &self.tls.verification)
            .field(
                "accept_invalid_hostnames",
                &self.tls.accept_invalid_hostnames,
            )
            .field("tls_versions", &self.tls.versions)
            .field("tls_sni", &self.tls.sni)
            .field("pinned_hosts", &self.tls.pins.hosts())
            .field("crls", &self.tls.crls.len())
            .field("tls_info", &self.tls_info)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_response_header_size", &self.max_response_header_size)
            .field("https_only", &self.https_only)
            .field("redirect", &self.redirect)
            .field("decoding", &self.decoding)
            .field("pacing", &self.pacing)
            .field("retry", &self.retry)
            .field("proxies", &self.proxies)
            .field("env_proxies", &self.env_proxies)
            .finish_non_exhaustive()
    }
}
