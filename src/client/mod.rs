//! `Client`: what a user holds, and the one place its settings become the pools, the
//! rules and the headers every request uses (`Client::build`).
//!
//! The settings themselves are plain data ([`Settings`]); every `ClientBuilder` setter is
//! in `builder.rs`; `RequestBuilder` is in `request_builder.rs`; one request's loop, from
//! `send()` to its response, is in `send.rs`.

mod builder;
pub mod layer;
mod request_builder;
mod send;

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, USER_AGENT};
use http::Method;

pub use request_builder::RequestBuilder;

use send::Layers;

use crate::connect::dns::DnsSettings;
use crate::connect::origins::Origins;
use crate::connect::socket::SocketOptions;
use crate::connect::Dial;
#[cfg(feature = "cookies")]
use crate::cookie::CookieStore;
use crate::error::{Error, ErrorKind, Result, TlsErrorKind};
use crate::into_url::IntoUrl;
use crate::pool::{Http1Settings, Http2Settings, OptionPools, OwnPool, PoolShape};
use crate::proxy::{Proxies, Proxy};
use crate::redirect;
use crate::request::Request;
use crate::response::decode::Decoding;
use crate::response::Response;
use crate::retry::{self, Retrying};
use crate::timeouts::Pacing;
use crate::tls::{Alpn, TlsConfig, TlsSettings};

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

/// What a client's requests share: the pools and the settings, checked and built.
struct ClientInner {
    /// Connections under the client's own TLS settings (as last reloaded).
    pool: OwnPool,
    /// Connections under the TLS settings of requests that changed them.
    option_pools: OptionPools,
    default_headers: HeaderMap,
    /// `default_headers`' `Accept-Encoding` is the one the decoding settings made, not the
    /// caller's: requests with a `Range` header go without it.
    accept_encoding_is_automatic: bool,
    redirect: redirect::Policy,
    /// Say where a redirect came from, in a `Referer`.
    referer: bool,
    /// Refuse `http://` URLs, redirects included.
    https_only: bool,
    /// Time each request's phases (`timings`).
    timings: bool,
    /// The largest response head accepted, checked exactly for HTTP/1 by each attempt.
    max_response_header_size: usize,
    timeout: Option<Duration>,
    decoding: Decoding,
    /// `None` when neither `read_timeout` nor `low_speed_limit` is set.
    pacing: Option<Pacing>,
    /// `None` without a retry policy (or with `max_retries(0)`): requests skip it.
    retry: Option<Retrying>,
    /// `None` unless cookies were asked for: then the request loop skips them for one
    /// check per hop.
    #[cfg(feature = "cookies")]
    cookie_store: Option<Arc<dyn CookieStore>>,
    /// `None` without proxies, so such a client pays nothing for them.
    proxies: Option<Arc<Proxies>>,
    /// The layers of `ClientBuilder::layer` around the request loop; `None` without any.
    layers: Option<layer::RequestService>,
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
        Client::build(Settings::default(), DeferNoRoots::Yes)
            .expect("the default settings always build")
    }

    /// A builder to configure a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::<Client>::new()
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
        send::send(self.inner.clone(), Ok(request), Layers::Apply)
    }

    /// What [`RequestBuilder::send`] runs: the builder's client moves in, no clone.
    pub(crate) fn send(
        self,
        request: Result<Request>,
    ) -> impl Future<Output = Result<Response>> + Send + 'static {
        send::send(self.inner, request, Layers::Apply)
    }

    /// Reads the client's TLS files again (the CA file, the client identity's files) and
    /// the system's root certificates, and makes the requests sent from now on use the
    /// new configuration, on new connections: a long-lived service picks up a rotated CA
    /// bundle or a renewed client certificate without rebuilding its clients. Requests in
    /// flight finish on their connections; no connection made under the old
    /// configuration carries a request sent after the reload (the old idle ones close
    /// at [`pool_idle_timeout`](ClientBuilder::pool_idle_timeout)). Clones of the client
    /// share the reload.
    ///
    /// A reload that fails (a file missing or invalid, no usable root) returns the
    /// explained error and leaves the client as it was. A client built with
    /// [`use_preconfigured_tls`](ClientBuilder::use_preconfigured_tls) has nothing to read
    /// again: its reload does nothing. The identity is read again only when it was read
    /// from files ([`Identity::from_pem_file`](crate::Identity::from_pem_file),
    /// [`from_pem_files`](crate::Identity::from_pem_files)).
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder().ca_file("/etc/my-app/ca.pem").build()?;
    /// // ... the CA bundle is rotated on disk ...
    /// client.reload_tls()?;
    /// client.get("https://internal.example/").send().await?;
    /// # Ok(()) }
    /// ```
    pub fn reload_tls(&self) -> Result<()> {
        crate::pool::reload(&self.inner.pool, &self.inner.option_pools)
    }

    /// A builder for a request made elsewhere, to adjust it with the builder's methods.
    pub fn request_builder(&self, request: Request) -> RequestBuilder {
        RequestBuilder::from_parts(self.clone(), request)
    }
}

/// A client is a tower [`Service`](tower_service::Service) from [`Request`] to [`Response`],
/// so tower's layers wrap it (a concurrency limit, a rate limit, a timeout, retries of
/// your own), as with reqwest. It is always ready; each call is [`Client::execute`].
///
/// ```
/// use tower_service::Service;
/// # async fn run() -> wireline::Result<()> {
/// let mut client = wireline::Client::new();
/// let request = client.get("https://example.com/").build()?;
/// let resp = client.call(request).await?;
/// # Ok(()) }
/// ```
impl tower_service::Service<Request> for Client {
    type Response = Response;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

/// As for [`Client`], by reference (reqwest has both).
impl tower_service::Service<Request> for &Client {
    type Response = Response;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Box::pin(self.execute(request))
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

/// A client's settings, generic over the client they build: [`crate::ClientBuilder`] is
/// `ClientBuilder<Client>`, which builds a [`Client`], and `wireline::blocking::ClientBuilder`
/// (the `blocking` Cargo feature) is `ClientBuilder<blocking::Client>`. Every setting is a
/// method of both; only `new`, `build` and `timeout` are each kind's own. Each method takes
/// and returns the builder by value, so `builder = builder.gzip(false)` works;
/// [`build`](ClientBuilder::build) turns the settings into the TLS configuration, the
/// connector and the pool, and reports any invalid one.
///
/// Code that configures either kind of client can be written once:
///
/// ```
/// use wireline::builder::ClientBuilder;
///
/// fn our_settings<C>(builder: ClientBuilder<C>) -> ClientBuilder<C> {
///     builder.user_agent("my-app/1.0").https_only(true)
/// }
/// # fn run() -> wireline::Result<()> {
/// let client = our_settings(wireline::Client::builder()).build()?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct ClientBuilder<C = Client> {
    /// What the setters recorded.
    settings: Settings,
    /// The first invalid setting; reported by `build()`.
    error: Option<Error>,
    /// The kind of client `build()` makes (`fn() -> C`: the builder holds none, so it is
    /// `Send` and `Sync` whatever `C` is).
    client: PhantomData<fn() -> C>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder::<Client>::new()
    }
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.settings, f)
    }
}

/// Everything a [`ClientBuilder`] was told, as plain data; [`Client::build`] checks it and
/// turns it into a client. A new setting is a field here, its default in `default()`, a
/// setter in `builder.rs`, and its use in `build` (see docs/architecture.md).
struct Settings {
    tls: TlsSettings,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    pool_max_idle_per_host: usize,
    pool_idle_timeout: Option<Duration>,
    pool_max_connections_per_host: Option<usize>,
    pool_acquire_timeout: Option<Duration>,
    max_response_header_size: usize,
    /// HTTP/1 and h2 settings for the pool; which versions are spoken is `tls.alpn`.
    http1: Http1Settings,
    http2: Http2Settings,
    https_only: bool,
    tls_info: bool,
    timings: bool,
    redirect: redirect::Policy,
    referer: bool,
    default_headers: HeaderMap,
    decoding: Decoding,
    pacing: Pacing,
    retry: Option<retry::Policy>,
    #[cfg(feature = "cookies")]
    cookie_store: Option<Arc<dyn CookieStore>>,
    /// Tried in order; when empty, the environment's are used unless `env_proxies` is off.
    proxies: Vec<Proxy>,
    env_proxies: bool,
    /// Overrides and the resolver (`resolve`, `dns_resolver`, `hickory_dns`).
    dns: DnsSettings,
    /// TCP options and the Unix socket (`tcp_nodelay`, `local_address`, `unix_socket`…).
    sockets: SocketOptions,
    /// `layer` and `connector_layer`, in the order installed.
    layers: Vec<layer::RequestLayer>,
    connector_layers: Vec<crate::connect::layer::ConnectorLayer>,
    /// The fuzz targets' in-memory connections.
    #[cfg(feature = "fuzzing")]
    transport: Option<crate::connect::memory::Transport>,
}

/// How long an idle pooled connection is kept. Below the keep-alive of common servers
/// (nginx 75 s, cloud load balancers 60 s) so we close first and rarely write into a
/// connection the server is closing; reqwest's 90 s invites that race. Servers with
/// shorter timeouts (Node's 5 s) still close first: `attempt/stale.rs` covers that race.
const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The largest response head accepted by default: ureq's and Python's 64 KiB. hyper's own
/// defaults differ by protocol (about 400 KiB for HTTP/1, 16 KiB for h2); one number is
/// easier to reason about, and proxies such as nginx refuse heads far smaller (8 KiB).
const DEFAULT_MAX_RESPONSE_HEADER_SIZE: usize = 64 * 1024;

/// hyper's smallest HTTP/1 read buffer; it panics on a smaller maximum.
const MIN_MAX_RESPONSE_HEADER_SIZE: usize = 8 * 1024;

static DEFAULT_USER_AGENT: &str = concat!("wireline/", env!("CARGO_PKG_VERSION"));

impl Default for Settings {
    fn default() -> Settings {
        let mut default_headers = HeaderMap::with_capacity(2);
        default_headers.insert(USER_AGENT, HeaderValue::from_static(DEFAULT_USER_AGENT));
        default_headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        Settings {
            tls: TlsSettings::default(),
            timeout: None,
            connect_timeout: None,
            pool_max_idle_per_host: usize::MAX,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            pool_max_connections_per_host: None,
            pool_acquire_timeout: None,
            max_response_header_size: DEFAULT_MAX_RESPONSE_HEADER_SIZE,
            http1: Http1Settings::default(),
            http2: Http2Settings::default(),
            https_only: false,
            tls_info: false,
            timings: false,
            redirect: redirect::Policy::default(),
            referer: true,
            default_headers,
            decoding: Decoding::default(),
            pacing: Pacing::default(),
            retry: None,
            #[cfg(feature = "cookies")]
            cookie_store: None,
            proxies: Vec::new(),
            env_proxies: true,
            dns: DnsSettings::new(),
            sockets: SocketOptions::default(),
            layers: Vec::new(),
            connector_layers: Vec::new(),
            #[cfg(feature = "fuzzing")]
            transport: None,
        }
    }
}

impl fmt::Debug for Settings {
    /// A [`ClientBuilder`]'s `Debug`: never the values of default headers.
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
            .field("preconfigured_tls", &self.tls.preconfigured)
            .field("tls_info", &self.tls_info)
            .field("timings", &self.timings)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field(
                "pool_max_connections_per_host",
                &self.pool_max_connections_per_host,
            )
            .field("pool_acquire_timeout", &self.pool_acquire_timeout)
            .field("max_response_header_size", &self.max_response_header_size)
            .field("alpn", &self.tls.alpn)
            .field("http1", &self.http1)
            .field("http2", &self.http2)
            .field("https_only", &self.https_only)
            .field("redirect", &self.redirect)
            .field("referer", &self.referer)
            .field("decoding", &self.decoding)
            .field("pacing", &self.pacing)
            .field("retry", &self.retry)
            .field("proxies", &self.proxies)
            .field("env_proxies", &self.env_proxies)
            .field("dns", &self.dns)
            .field("sockets", &self.sockets)
            .field("layers", &self.layers.len())
            .field("connector_layers", &self.connector_layers.len())
            .finish_non_exhaustive()
    }
}

/// Whether a missing system root store fails `build()` or each https request.
#[derive(PartialEq)]
pub(crate) enum DeferNoRoots {
    /// `Client::new()`, which can't fail.
    Yes,
    No,
}

impl Client {
    /// The one place settings become a client: each is checked (an invalid one is a
    /// builder error), the TLS configuration and the pool are built, and the request
    /// path's rules are kept ready for every request.
    fn build(mut settings: Settings, defer: DeferNoRoots) -> Result<Client> {
        settings.decoding.check()?;
        let pacing = settings.pacing.build()?;
        if settings.max_response_header_size < MIN_MAX_RESPONSE_HEADER_SIZE {
            return Err(Error::builder(format!(
                "max_response_header_size({}) is below the smallest allowed, {MIN_MAX_RESPONSE_HEADER_SIZE} bytes",
                settings.max_response_header_size
            )));
        }
        settings.http2.check()?;
        if settings.pool_max_connections_per_host == Some(0) {
            return Err(Error::builder(
                "pool_max_connections_per_host(0) would let no request connect: the cap \
                 must be at least 1 (leave it unset for no cap)",
            ));
        }
        let retry = match settings.retry {
            Some(policy) => policy.build()?,
            None => None,
        };
        let mut accept_encoding_is_automatic = false;
        if let Some(accept) = settings.decoding.accept_encoding() {
            if !settings.default_headers.contains_key(ACCEPT_ENCODING) {
                settings.default_headers.insert(ACCEPT_ENCODING, accept);
                accept_encoding_is_automatic = true;
            }
        }
        let tls = settings.tls.build()?;
        if let (TlsConfig::Unavailable(problem), DeferNoRoots::No) = (&tls, &defer) {
            return Err(Error::new(
                ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
                problem.message.clone(),
            ));
        }
        let resolver = settings.dns.build()?;
        settings.tls.warn_if_insecure("this client");
        let proxies = Proxies::new(&settings.proxies, settings.env_proxies).map(Arc::new);
        let shape = PoolShape {
            dial: Dial {
                connect_timeout: settings.connect_timeout,
                tls_info: settings.tls_info,
                proxies: proxies.clone(),
                resolver,
                user_agent: settings.default_headers.get(USER_AGENT).cloned(),
                sockets: settings.sockets,
                h2_prior_knowledge: settings.tls.alpn == Alpn::H2,
                layers: settings.connector_layers,
            },
            idle_timeout: settings.pool_idle_timeout,
            max_idle_per_host: settings.pool_max_idle_per_host,
            origins: Arc::new(Origins::new(
                settings.pool_max_connections_per_host,
                settings.pool_acquire_timeout,
            )),
            max_header_size: settings.max_response_header_size,
            http1: settings.http1,
            http2: settings.http2,
            #[cfg(feature = "fuzzing")]
            transport: settings.transport,
        };
        let pool = shape.pool(tls, &settings.tls);
        let layers = settings.layers;
        Ok(Client {
            inner: Arc::new_cyclic(|client| ClientInner {
                pool: OwnPool::new(pool),
                option_pools: OptionPools::new(settings.tls, shape),
                default_headers: settings.default_headers,
                accept_encoding_is_automatic,
                redirect: settings.redirect,
                referer: settings.referer,
                https_only: settings.https_only,
                timings: settings.timings,
                max_response_header_size: settings.max_response_header_size,
                timeout: settings.timeout,
                decoding: settings.decoding,
                pacing,
                retry,
                #[cfg(feature = "cookies")]
                cookie_store: settings.cookie_store,
                proxies,
                layers: (!layers.is_empty()).then(|| layer::stack(&layers, client.clone())),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reqwests_no_coding_names_switch_off_their_coding_only() {
        let off = |builder: ClientBuilder| {
            let d = builder.settings.decoding;
            [d.gzip, d.deflate, d.brotli, d.zstd]
        };
        assert_eq!(off(Client::builder().no_gzip()), [false, true, true, true]);
        assert_eq!(
            off(Client::builder().no_deflate()),
            [true, false, true, true]
        );
        assert_eq!(
            off(Client::builder().no_brotli()),
            [true, true, false, true]
        );
        assert_eq!(off(Client::builder().no_zstd()), [true, true, true, false]);
    }
}
