//! Every `ClientBuilder` setter: each records its setting in [`Settings`], and
//! [`build`](ClientBuilder::build) hands them to `Client::build`, the one place they are
//! checked and built. Long explanations live in the crate docs and the guides (`docs/`),
//! linked from each setter.

use std::any::Any;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
#[cfg(any(feature = "cookies", unix))]
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderValue, USER_AGENT};

use super::{Client, ClientBuilder, DeferNoRoots, Settings};
use crate::connect::dns::IntoResolve;
#[cfg(feature = "fuzzing")]
use crate::connect::memory::{MemoryIo, Transport};
#[cfg(unix)]
use crate::connect::socket::{Internal, UnixSocketProvider};
#[cfg(feature = "cookies")]
use crate::cookie::{CookieStore, Jar};
use crate::error::{Error, Result};
use crate::proxy::Proxy;
use crate::redact;
use crate::redirect;
use crate::retry;
use crate::timeouts::LowSpeed;
use crate::tls::{
    Alpn, Certificate, CertificateRevocationList, Identity, Preconfigured, RootSource, TlsVersion,
    Verification,
};

/// The async client's own: `new`, `build` (which returns a [`Client`]), and below, `timeout`.
impl ClientBuilder<Client> {
    /// The default settings (same as [`Client::builder`]).
    pub fn new() -> Self {
        ClientBuilder::defaults()
    }

    /// Builds the client. Fails with an [`is_builder`](Error::is_builder) error for an
    /// invalid setting (an unreadable CA file names its path), or with an
    /// [`is_tls`](Error::is_tls) error when the system roots are asked for and none exist.
    pub fn build(self) -> Result<Client> {
        self.build_async(DeferNoRoots::No)
    }
}

/// Every setting, for both kinds of client.
impl<C> ClientBuilder<C> {
    /// The default settings, for each kind of client's `new`.
    pub(crate) fn defaults() -> Self {
        ClientBuilder {
            settings: Settings::default(),
            error: None,
            client: PhantomData,
        }
    }

    /// The async client these settings make: each kind of client's `build`.
    pub(crate) fn build_async(self, defer: DeferNoRoots) -> Result<Client> {
        match self.error {
            Some(error) => Err(error),
            None => Client::build(self.settings, defer),
        }
    }

    /// The `timeout` given, taken out of the settings: each kind of client has its own
    /// `timeout` setter (their signatures differ, as in reqwest) and its own use for it.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) fn take_timeout(mut self) -> (Self, Option<Duration>) {
        let timeout = self.settings.timeout.take();
        (self, timeout)
    }

    /// Sets `timeout`, for each kind of client's own setter.
    pub(crate) fn set_timeout(self, timeout: Option<Duration>) -> Self {
        self.set(|s| s.timeout = timeout)
    }

    /// The same settings, for another kind of client.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) fn for_client<D>(self) -> ClientBuilder<D> {
        ClientBuilder {
            settings: self.settings,
            error: self.error,
            client: PhantomData,
        }
    }

    /// Changes the settings; every setter goes through here or [`fail`](Self::fail).
    pub(super) fn set(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    fn fail(mut self, error: Error) -> Self {
        self.error.get_or_insert(error);
        self
    }

    // Headers -------------------------------------------------------------------------------
    /// Headers sent with every request unless the request sets the same name. They
    /// replace the defaults of the same name (`user-agent`, `accept`, and the
    /// `accept-encoding` that decompression adds). Credential values (`Authorization`,
    /// `Proxy-Authorization`, `Cookie`) are marked sensitive and never printed, and stay
    /// behind once a redirect goes to another origin, like a request's own.
    ///
    /// ```
    /// let mut headers = wireline::header::HeaderMap::new();
    /// headers.insert("x-team", "payments".parse().unwrap());
    /// let client = wireline::Client::builder().default_headers(headers).build();
    /// ```
    pub fn default_headers(self, headers: HeaderMap) -> Self {
        self.set(|s| redact::replace_headers(&mut s.default_headers, headers))
    }

    /// The `User-Agent` header (default `wireline/<version>`).
    ///
    /// ```
    /// let client = wireline::Client::builder().user_agent("my-app/1.0").build();
    /// ```
    pub fn user_agent<V>(self, value: V) -> Self
    where
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        match HeaderValue::try_from(value) {
            Ok(value) => self.set(|s| {
                s.default_headers.insert(USER_AGENT, value);
            }),
            Err(e) => {
                let e: http::Error = e.into();
                self.fail(Error::builder(format!("invalid user agent: {e}")))
            }
        }
    }

    // Redirects and retries -----------------------------------------------------------------
    /// The redirect policy (default: follow up to 10; see [`redirect::Policy`]).
    ///
    /// ```
    /// use wireline::redirect::Policy;
    /// let client = wireline::Client::builder().redirect(Policy::none()).build();
    /// ```
    pub fn redirect(self, policy: redirect::Policy) -> Self {
        self.set(|s| s.redirect = policy)
    }

    /// Whether a redirected request says where it came from in a `Referer` header
    /// (default `true`, as reqwest): the previous URL within its origin, only the origin
    /// across origins, nothing from https to http, and never a password or fragment
    /// (browsers' default policy; reqwest sends the whole URL across origins).
    ///
    /// ```
    /// let client = wireline::Client::builder().referer(false).build();
    /// ```
    pub fn referer(self, enable: bool) -> Self {
        self.set(|s| s.referer = enable)
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
    pub fn https_only(self, enable: bool) -> Self {
        self.set(|s| s.https_only = enable)
    }

    /// Retries requests that fail for passing reasons (connection failures, 429, 502,
    /// 503, 504…) under `policy`, with backoff and jitter, `Retry-After` up to a cap, only
    /// when safe to send twice, within a budget the client's requests share (see
    /// [`crate::retry`]). Default: no retries. [`build`](ClientBuilder::build) fails with
    /// a builder error for an invalid policy (a backoff base over its max, a budget refill
    /// outside 0–1). reqwest 0.13's [`retry::for_host`] builders are accepted too.
    ///
    /// ```
    /// use wireline::retry::Policy;
    /// // A 503 is retried up to 3 times; the last response is returned if it persists.
    /// let client = wireline::Client::builder().retry(Policy::default().max_retries(3)).build();
    /// ```
    pub fn retry<P: Into<retry::Policy>>(self, policy: P) -> Self {
        let policy = policy.into();
        self.set(|s| s.retry = Some(policy))
    }

    // Cookies -------------------------------------------------------------------------------
    /// Keeps cookies in a jar of this client's own (default `false`): every response's
    /// `Set-Cookie`, redirects' included, is stored in a [`Jar`], and every request and
    /// redirect hop carries the cookies for its URL by RFC 6265's rules (see [`Jar`]). A
    /// `Cookie` header set on a request is sent instead, on the hops of its origin.
    /// Clones of the client share the jar; to share one between clients or fill it first,
    /// use [`cookie_provider`](ClientBuilder::cookie_provider). `false` removes any store
    /// set before. Available with the `cookies` Cargo feature; see the crate docs'
    /// [Cookies](crate#cookies).
    ///
    /// ```
    /// let client = wireline::Client::builder().cookie_store(true).build();
    /// ```
    #[cfg(feature = "cookies")]
    pub fn cookie_store(self, enable: bool) -> Self {
        let jar = enable.then(|| Arc::new(Jar::default()) as Arc<dyn CookieStore>);
        self.set(|s| s.cookie_store = jar)
    }

    /// Keeps cookies in `store`, which other clients and your own code may share: what
    /// one client receives, the others send. Use a [`Jar`] or your own [`CookieStore`].
    /// Replaces [`cookie_store`](ClientBuilder::cookie_store)'s jar, and is replaced by a
    /// later `cookie_store(true)`. Available with the `cookies` Cargo feature.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let jar = std::sync::Arc::new(wireline::cookie::Jar::default());
    /// jar.add_cookie_str("consent=yes", &"https://example.com/".parse().unwrap());
    /// let client = wireline::Client::builder().cookie_provider(jar.clone()).build()?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "cookies")]
    pub fn cookie_provider<S: CookieStore + 'static>(self, store: Arc<S>) -> Self {
        self.set(|s| s.cookie_store = Some(store))
    }

    // Decompression -------------------------------------------------------------------------
    /// Whether to ask for and decode gzip bodies (default: on, with the `gzip` Cargo
    /// feature; the crate docs' [Decompression](crate#decompression) says how). A response
    /// whose one `Content-Encoding` is a coding switched on is decoded as it is read, and
    /// loses its `Content-Encoding` and `Content-Length`; invalid data is an
    /// [`is_decode`](crate::Error::is_decode) error. [`build`](ClientBuilder::build) fails
    /// when a coding is switched on whose Cargo feature is off.
    ///
    /// ```
    /// // Keep gzip bodies compressed, e.g. to store them as they came.
    /// let client = wireline::Client::builder().gzip(false).build();
    /// ```
    pub fn gzip(self, enable: bool) -> Self {
        self.set(|s| s.decoding.gzip = enable)
    }

    /// Whether to ask for and decode `deflate` bodies (the zlib format, as HTTP defines
    /// it), as [`gzip`](ClientBuilder::gzip) does (default: on, with the `deflate` feature).
    ///
    /// ```
    /// let client = wireline::Client::builder().deflate(false).build();
    /// ```
    pub fn deflate(self, enable: bool) -> Self {
        self.set(|s| s.decoding.deflate = enable)
    }

    /// Whether to ask for and decode brotli (`br`) bodies, as [`gzip`](ClientBuilder::gzip)
    /// does (default: on, with the `brotli` Cargo feature).
    ///
    /// ```
    /// let client = wireline::Client::builder().brotli(false).build();
    /// ```
    pub fn brotli(self, enable: bool) -> Self {
        self.set(|s| s.decoding.brotli = enable)
    }

    /// Whether to ask for and decode zstd bodies, as [`gzip`](ClientBuilder::gzip) does
    /// (default: on, with the `zstd` Cargo feature).
    ///
    /// ```
    /// let client = wireline::Client::builder().zstd(false).build();
    /// ```
    pub fn zstd(self, enable: bool) -> Self {
        self.set(|s| s.decoding.zstd = enable)
    }

    /// Turns gzip decoding off: reqwest's name for [`gzip(false)`](ClientBuilder::gzip).
    ///
    /// ```
    /// let client = wireline::Client::builder().no_gzip().build();
    /// ```
    pub fn no_gzip(self) -> Self {
        self.gzip(false)
    }

    /// reqwest's name for [`deflate(false)`](ClientBuilder::deflate).
    ///
    /// ```
    /// let client = wireline::Client::builder().no_deflate().build();
    /// ```
    pub fn no_deflate(self) -> Self {
        self.deflate(false)
    }

    /// reqwest's name for [`brotli(false)`](ClientBuilder::brotli).
    ///
    /// ```
    /// let client = wireline::Client::builder().no_brotli().build();
    /// ```
    pub fn no_brotli(self) -> Self {
        self.brotli(false)
    }

    /// reqwest's name for [`zstd(false)`](ClientBuilder::zstd).
    ///
    /// ```
    /// let client = wireline::Client::builder().no_zstd().build();
    /// ```
    pub fn no_zstd(self) -> Self {
        self.zstd(false)
    }

    /// The most bytes a compressed body may decode to (default: no limit). A body that
    /// inflates past it ends the read with an [`is_decode`](crate::Error::is_decode) error
    /// naming the limit, after at most `max` bytes were handed out, so a small
    /// "decompression bomb" can't exhaust memory. Uncompressed bodies are not limited.
    ///
    /// ```
    /// let client = wireline::Client::builder().max_decoded_body(64 << 20).build();
    /// ```
    pub fn max_decoded_body(self, max: u64) -> Self {
        self.set(|s| s.decoding.max_decoded = Some(max))
    }
}

/// The async client's own `timeout` and `connect_timeout`.
impl ClientBuilder<Client> {
    // Timeouts (timeouts.rs) ----------------------------------------------------------------
    /// A timeout for each request as a whole: connecting, sending, redirects, retries and
    /// reading the body (default: none). A request's own
    /// [`timeout`](crate::RequestBuilder::timeout) overrides it. (The blocking client's
    /// `timeout` is reqwest's blocking one: a limit on each wait, 30 s by default.)
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder().timeout(Duration::from_secs(30)).build();
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.set_timeout(Some(timeout))
    }

    /// A timeout for opening a connection: TCP connect, any proxy tunnel and TLS handshake
    /// together (default: none). Running out is both `is_timeout` and `is_connect`. (The
    /// blocking client's takes an `Option`, as in reqwest.)
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder().connect_timeout(Duration::from_secs(5)).build();
    /// ```
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.set_connect_timeout(Some(timeout))
    }
}

/// Every setting, for both kinds of client (continued).
impl<C> ClientBuilder<C> {
    /// Sets `connect_timeout`, for each kind of client's own setter (their signatures
    /// differ, as in reqwest).
    pub(crate) fn set_connect_timeout(self, timeout: Option<Duration>) -> Self {
        self.set(|s| s.connect_timeout = timeout)
    }

    /// The longest the server may keep us waiting for the next piece of the response
    /// (default: no limit; the crate docs' [Slow servers](crate#slow-servers)): the head
    /// counts as one read from sending the request (connecting included), then each wait
    /// for the body, never the time your code takes between reads. Running out is an
    /// [`is_timeout`](crate::Error::is_timeout) error naming `read_timeout`. A trickle
    /// just inside it is bounded by [`low_speed_limit`](ClientBuilder::low_speed_limit)
    /// or [`timeout`](ClientBuilder::timeout). [`build`](ClientBuilder::build) fails for 0.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder().read_timeout(Duration::from_secs(10)).build();
    /// ```
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.set(|s| s.pacing.read_timeout = Some(timeout))
    }

    /// Fails a response that arrives slower than `bytes_per_sec` for a whole `window`
    /// (curl's `--speed-limit` and `--speed-time`; default: off). The rate is measured over
    /// the time spent waiting on the server, in consecutive windows, so a slow stretch
    /// fails within two windows with an [`is_timeout`](crate::Error::is_timeout) error
    /// naming `low_speed_limit`; so does a head that doesn't arrive within one window. A
    /// rate of `0` never fails; [`build`](ClientBuilder::build) fails for a zero window.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let builder = wireline::Client::builder().low_speed_limit(1024, Duration::from_secs(30));
    /// ```
    pub fn low_speed_limit(self, bytes_per_sec: u64, window: Duration) -> Self {
        let rule = LowSpeed {
            bytes_per_sec,
            window,
        };
        self.set(|s| s.pacing.low_speed = Some(rule))
    }

    // The pool and the connection -----------------------------------------------------------
    /// The most idle connections kept per host (default: no limit). `0` disables reuse.
    ///
    /// This bounds what stays open between requests, not what requests in flight use: as
    /// in reqwest, each HTTP/1.1 request that finds no idle connection opens one, and all
    /// but `max` are closed as they finish. Over HTTP/2 they share one connection, and more
    /// when the server's stream limit is reached: those past `max` close a second after
    /// their last request. To bound sockets, bound concurrency (the crate docs'
    /// [Many requests](crate#many-requests-at-once)) or set
    /// [`pool_max_connections_per_host`](ClientBuilder::pool_max_connections_per_host).
    ///
    /// ```
    /// let client = wireline::Client::builder().pool_max_idle_per_host(8).build();
    /// ```
    pub fn pool_max_idle_per_host(self, max: usize) -> Self {
        self.set(|s| s.pool_max_idle_per_host = max)
    }

    /// How long an idle connection is kept; `None` keeps it until the server closes it.
    /// Default: 50 s, below the keep-alive of nginx (75 s) and common load balancers
    /// (60 s), so we usually close first; lower it below a server's own when you know it.
    /// A request that meets a connection the server closed is sent again when that is safe
    /// (the crate docs' [Stale connections](crate#stale-connections)).
    ///
    /// ```
    /// # use std::time::Duration;
    /// // Node.js closes idle connections after 5 s.
    /// let client = wireline::Client::builder().pool_idle_timeout(Duration::from_secs(4)).build();
    /// ```
    pub fn pool_idle_timeout<D: Into<Option<Duration>>>(self, timeout: D) -> Self {
        self.set(|s| s.pool_idle_timeout = timeout.into())
    }

    /// At most `max` connections to one host (scheme, host and port) at once: open,
    /// busy or idle, and being opened, in all of the client's pools (Go's
    /// `MaxConnsPerHost`; default: no cap). A request that finds them all busy waits, first
    /// come first served, for one to come back to the pool or to close, for at most
    /// [`pool_acquire_timeout`](ClientBuilder::pool_acquire_timeout) if set, and always
    /// within [`timeout`](ClientBuilder::timeout). A connection that closes frees its place;
    /// a request that gives up holds none. Over h2 it bounds the connections opened when
    /// the server's stream limit is reached; at the cap, requests wait for a stream on the
    /// least busy one. [`build`](ClientBuilder::build) refuses `0`. See the
    /// [pooling guide](crate::guide::pooling).
    ///
    /// ```
    /// # use std::time::Duration;
    /// // A server that allows 8 connections per client: never "too many open files" here
    /// // or there, however many requests are sent at once.
    /// let client = wireline::Client::builder()
    ///     .pool_max_connections_per_host(8)
    ///     .pool_acquire_timeout(Duration::from_secs(5))
    ///     .build();
    /// ```
    pub fn pool_max_connections_per_host(self, max: usize) -> Self {
        self.set(|s| s.pool_max_connections_per_host = Some(max))
    }

    /// How long a request may wait for a connection to its host: one back in the pool or
    /// a place under [`pool_max_connections_per_host`](ClientBuilder::pool_max_connections_per_host),
    /// or the first connection to a host whose protocol is not known yet (see the
    /// [pooling guide](crate::guide::pooling)). Past it the request fails with an
    /// [`is_pool_timeout`](Error::is_pool_timeout) error naming the host, the cap and how
    /// many requests were waiting; nothing was sent. Default: no limit of its own (the
    /// request's [`timeout`](ClientBuilder::timeout) still bounds it).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # async fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .pool_max_connections_per_host(4)
    ///     .pool_acquire_timeout(Duration::from_millis(500))
    ///     .build()?;
    /// match client.get("https://example.com/").send().await {
    ///     Err(e) if e.is_pool_timeout() => eprintln!("overloaded, shedding: {e}"),
    ///     other => drop(other?),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn pool_acquire_timeout(self, timeout: Duration) -> Self {
        self.set(|s| s.pool_acquire_timeout = Some(timeout))
    }

    /// The largest response head accepted, in bytes (default 64 KiB, at least 8 KiB): over
    /// HTTP/1 the status and header lines as sent, over h2 the header list as RFC 9113
    /// counts it. A larger head is an [`is_request`](Error::is_request) error, after
    /// reading at most about twice this; the heads of one redirect chain may take four
    /// times this together ([`is_redirect`](Error::is_redirect) past it). HTTP/1 heads
    /// also have at most 100 fields, and bodies are read in pieces of at most this size.
    /// [`build`](ClientBuilder::build) fails below 8 KiB. See the reliability guide's
    /// [Limits](crate::guide::reliability#limits).
    ///
    /// ```
    /// // A server with very large cookies.
    /// let client = wireline::Client::builder().max_response_header_size(256 * 1024).build();
    /// ```
    pub fn max_response_header_size(self, bytes: usize) -> Self {
        self.set(|s| s.max_response_header_size = bytes)
    }

    /// Offers only HTTP/1.1 in ALPN (by default h2 is offered first, then HTTP/1.1).
    /// Undoes [`http2_prior_knowledge`](ClientBuilder::http2_prior_knowledge) called before
    /// it, and is undone by one called after it, as in reqwest.
    ///
    /// ```
    /// let client = wireline::Client::builder().http1_only().build();
    /// ```
    pub fn http1_only(self) -> Self {
        self.set(|s| s.tls.alpn = Alpn::Http1)
    }

    // HTTP/1 and HTTP/2 (pool.rs) -----------------------------------------------------------
    /// Speaks HTTP/2 on every connection without asking first (default: h2 only where a
    /// TLS server chooses it by ALPN). `http://` URLs then use h2 over cleartext (RFC 9113
    /// §3.3), and https connections offer only `h2` in ALPN and speak h2 even when the
    /// server's ALPN chose nothing. A server that knows only HTTP/1.1 fails the request
    /// (see the crate docs' [HTTP versions](crate#http-versions)). Undoes
    /// [`http1_only`](ClientBuilder::http1_only) called before it, and is undone by one
    /// called after it, as in reqwest.
    ///
    /// ```
    /// // A gRPC-style service that speaks h2 over plain TCP.
    /// let client = wireline::Client::builder().http2_prior_knowledge().build();
    /// ```
    pub fn http2_prior_knowledge(self) -> Self {
        self.set(|s| s.tls.alpn = Alpn::H2)
    }

    /// Writes request header names in title case on HTTP/1 connections (`User-Agent`,
    /// `Content-Type`; default: lowercase, as names are case-insensitive), for servers
    /// that wrongly care. h2 requires lowercase names and is not affected.
    ///
    /// ```
    /// let client = wireline::Client::builder().http1_title_case_headers().build();
    /// ```
    pub fn http1_title_case_headers(self) -> Self {
        self.set(|s| s.http1.title_case_headers = true)
    }

    /// Accepts HTTP/0.9 replies (default: refused, an [`is_request`](Error::is_request)
    /// error): a reply that doesn't begin with an HTTP/1.x status line becomes the body
    /// of a `200` with no headers, read until the connection closes, and
    /// [`Response::version`](crate::Response::version) is `HTTP/0.9`. This gives up the
    /// check that the server speaks HTTP at all: anything listening on the port (an SMTP
    /// banner, garbage, `HTTP/1.2 …`) then reads as a success, and over plain TCP a body
    /// cut short can't be told from a whole one. Only for a server known to speak
    /// HTTP/0.9; the [reliability guide](crate::guide::reliability#choices) has the rest.
    ///
    /// ```
    /// let client = wireline::Client::builder().http09_responses().build();
    /// ```
    pub fn http09_responses(self) -> Self {
        self.set(|s| s.http1.http09_responses = true)
    }

    /// Accepts HTTP/1 response header values folded over several lines (obs-fold: a line
    /// that starts with a space or tab continues the one before), the line breaks read
    /// as spaces (default `false`: the response is an [`is_request`](Error::is_request)
    /// error). RFC 9112 §5.2 obsoletes folding; a proxy on the way that reads it
    /// otherwise sees different headers than we do. See the
    /// [reliability guide](crate::guide::reliability#choices).
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .http1_allow_obsolete_multiline_headers_in_responses(true)
    ///     .build();
    /// ```
    pub fn http1_allow_obsolete_multiline_headers_in_responses(self, value: bool) -> Self {
        self.set(|s| s.http1.allow_obsolete_multiline_headers_in_responses = value)
    }

    /// Skips malformed HTTP/1 response header lines, as browsers do, instead of failing
    /// the response (default `false`: an [`is_request`](Error::is_request) error): a name
    /// with a space or another invalid character, a line without a colon, a value with
    /// a control character. A NUL byte still fails. This gives up noticing a broken or
    /// hostile server: a header it meant to send (a `Set-Cookie`, a `Location`) can
    /// vanish without a word. See the [reliability guide](crate::guide::reliability#choices).
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .http1_ignore_invalid_headers_in_responses(true)
    ///     .build();
    /// ```
    pub fn http1_ignore_invalid_headers_in_responses(self, value: bool) -> Self {
        self.set(|s| s.http1.ignore_invalid_headers_in_responses = value)
    }

    /// Accepts spaces or tabs between an HTTP/1 response header's name and its colon
    /// (`Content-Length : 5` is then `Content-Length`; default `false`: an
    /// [`is_request`](Error::is_request) error). RFC 9112 §5.1 forbids it because readers
    /// that disagree on it disagree on a response's framing (response splitting); the
    /// framing checks of the [reliability guide](crate::guide::reliability#choices)
    /// still apply to the headers so read.
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .http1_allow_spaces_after_header_name_in_responses(true)
    ///     .build();
    /// ```
    pub fn http1_allow_spaces_after_header_name_in_responses(self, value: bool) -> Self {
        self.set(|s| s.http1.allow_spaces_after_header_name_in_responses = value)
    }

    /// The most fields an HTTP/1 response head may have (default 100); more is an
    /// [`is_request`](Error::is_request) error naming this setting. The head must still
    /// fit [`max_response_header_size`](ClientBuilder::max_response_header_size), so a
    /// number above what that size can hold (a field takes at least 5 bytes) counts as
    /// that many. Once set, room for that many fields is allocated for each response head
    /// (the default's is on the stack).
    ///
    /// ```
    /// let client = wireline::Client::builder().http1_max_headers(200).build();
    /// ```
    pub fn http1_max_headers(self, max: usize) -> Self {
        self.set(|s| s.http1.max_headers = Some(max))
    }

    /// How many bytes of each h2 response body the server may send ahead of what your
    /// code has read (SETTINGS_INITIAL_WINDOW_SIZE; default: hyper's 2 MiB); `None` keeps
    /// the default. A larger window suits a fast link with a long round trip, at the cost
    /// of that much memory per response read slowly. Overridden by
    /// [`http2_adaptive_window(true)`](ClientBuilder::http2_adaptive_window).
    /// [`build`](ClientBuilder::build) fails above 2^31 - 1 (RFC 9113 §6.9.1).
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .http2_initial_stream_window_size(8 * 1024 * 1024)
    ///     .build();
    /// ```
    pub fn http2_initial_stream_window_size(self, sz: impl Into<Option<u32>>) -> Self {
        let size = sz.into();
        self.set(|s| s.http2.initial_stream_window_size = size)
    }

    /// The same for all the streams of an h2 connection together (default: hyper's
    /// 5 MiB); `None` keeps the default. Overridden by
    /// [`http2_adaptive_window(true)`](ClientBuilder::http2_adaptive_window);
    /// [`build`](ClientBuilder::build) fails above 2^31 - 1.
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .http2_initial_connection_window_size(16 * 1024 * 1024)
    ///     .build();
    /// ```
    pub fn http2_initial_connection_window_size(self, sz: impl Into<Option<u32>>) -> Self {
        let size = sz.into();
        self.set(|s| s.http2.initial_connection_window_size = size)
    }

    /// Lets hyper size the h2 windows from the bandwidth and round trip it measures, with
    /// PINGs while a body arrives (default `false`). The windows start at 64 KiB, whatever
    /// [`http2_initial_stream_window_size`](ClientBuilder::http2_initial_stream_window_size)
    /// and [`http2_initial_connection_window_size`](ClientBuilder::http2_initial_connection_window_size)
    /// say, in whichever order they were called.
    ///
    /// ```
    /// let client = wireline::Client::builder().http2_adaptive_window(true).build();
    /// ```
    pub fn http2_adaptive_window(self, enabled: bool) -> Self {
        self.set(|s| s.http2.adaptive_window = enabled)
    }

    /// The largest h2 frame the server may send us (SETTINGS_MAX_FRAME_SIZE; default
    /// 16 KiB, the protocol's smallest); `None` keeps the default. A larger frame ends the
    /// connection with an [`is_request`](Error::is_request) error. A response head may
    /// take at least 6 frames, so a large size raises what one head can make us hold
    /// (the reliability guide's [Limits](crate::guide::reliability#limits)).
    /// [`build`](ClientBuilder::build) fails outside 16,384 to 16,777,215 (RFC 9113
    /// §6.5.2), where reqwest panics at the first h2 connection.
    ///
    /// ```
    /// let client = wireline::Client::builder().http2_max_frame_size(64 * 1024).build();
    /// ```
    pub fn http2_max_frame_size(self, sz: impl Into<Option<u32>>) -> Self {
        let size = sz.into();
        self.set(|s| s.http2.max_frame_size = size)
    }

    /// The largest h2 response header list accepted, as RFC 9113 counts it (each field's
    /// name and value and 32 bytes), announced to the server (SETTINGS_MAX_HEADER_LIST_SIZE).
    /// Default: [`max_response_header_size`](ClientBuilder::max_response_header_size),
    /// 64 KiB. Given, it is the h2 limit, larger or smaller, whatever the order of the
    /// calls, and `max_response_header_size` bounds HTTP/1 heads and the heads of a
    /// redirect chain together. A list that reaches it is an
    /// [`is_request`](Error::is_request) error; one that decodes to four times it closes
    /// the connection. See the reliability guide's [Limits](crate::guide::reliability#limits).
    ///
    /// ```
    /// let client = wireline::Client::builder().http2_max_header_list_size(256 * 1024).build();
    /// ```
    pub fn http2_max_header_list_size(self, max_header_size_bytes: u32) -> Self {
        self.set(|s| s.http2.max_header_list_size = Some(max_header_size_bytes))
    }

    /// Sends an h2 PING this often on a connection with requests in flight (or on every
    /// connection, with [`http2_keep_alive_while_idle`](ClientBuilder::http2_keep_alive_while_idle)),
    /// to find a dead connection and keep NATs and load balancers from dropping it
    /// (default: none; `None` turns it off). A PING unanswered for
    /// [`http2_keep_alive_timeout`](ClientBuilder::http2_keep_alive_timeout) closes the
    /// connection, and its requests fail with an [`is_timeout`](Error::is_timeout) error
    /// naming that setting.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder()
    ///     .http2_keep_alive_interval(Duration::from_secs(30))
    ///     .build();
    /// ```
    pub fn http2_keep_alive_interval(self, interval: impl Into<Option<Duration>>) -> Self {
        let interval = interval.into();
        self.set(|s| s.http2.keep_alive_interval = interval)
    }

    /// How long a keep-alive PING may go unanswered before its connection is closed
    /// (default: hyper's 20 s). Does nothing without
    /// [`http2_keep_alive_interval`](ClientBuilder::http2_keep_alive_interval).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder()
    ///     .http2_keep_alive_interval(Duration::from_secs(30))
    ///     .http2_keep_alive_timeout(Duration::from_secs(5))
    ///     .build();
    /// ```
    pub fn http2_keep_alive_timeout(self, timeout: Duration) -> Self {
        self.set(|s| s.http2.keep_alive_timeout = Some(timeout))
    }

    /// Sends keep-alive PINGs on idle h2 connections too (default `false`: only while a
    /// request is in flight). Does nothing without
    /// [`http2_keep_alive_interval`](ClientBuilder::http2_keep_alive_interval); an idle
    /// connection still leaves the pool after
    /// [`pool_idle_timeout`](ClientBuilder::pool_idle_timeout).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder()
    ///     .http2_keep_alive_interval(Duration::from_secs(30))
    ///     .http2_keep_alive_while_idle(true)
    ///     .build();
    /// ```
    pub fn http2_keep_alive_while_idle(self, enabled: bool) -> Self {
        self.set(|s| s.http2.keep_alive_while_idle = enabled)
    }

    // Name resolution (connect/dns/) ---------------------------------------------------------
    /// Connects to `addr` for `domain` instead of looking the name up (curl's `--resolve`).
    /// TLS still checks the URL's name: SNI and the certificate are for `domain`, so a
    /// server whose certificate doesn't name it fails with
    /// [`NameMismatch`](crate::CertificateErrorKind::NameMismatch). A port in the URL wins
    /// over `addr`'s; without one, `addr`'s port is used, and port `0` means the scheme's
    /// (80 or 443). A proxy's host name is overridden too. A later call for the same name
    /// replaces this one; [`build`](ClientBuilder::build) fails when `domain` is not a host
    /// name (`"host:port"`) or is an IP address, which is never looked up. See
    /// [`crate::dns`].
    ///
    /// ```
    /// let addr = "127.0.0.1:8443".parse().unwrap();
    /// // https://api.example.com/ goes to 127.0.0.1:8443, verified as api.example.com.
    /// let client = wireline::Client::builder().resolve("api.example.com", addr).build();
    /// ```
    pub fn resolve(self, domain: &str, addr: SocketAddr) -> Self {
        self.resolve_to_addrs(domain, &[addr])
    }

    /// Connects to one of `addrs` for `domain` instead of looking the name up, as
    /// [`resolve`](ClientBuilder::resolve) does for one address. They are tried in order
    /// (the first one's IP family first, the other after 300 ms, happy eyeballs' rule)
    /// until one connects: a refused address passes to the next at once, one that doesn't
    /// answer only when the system gives up on it or
    /// [`connect_timeout`](ClientBuilder::connect_timeout) ends the whole attempt. An empty
    /// list fails every request to `domain` with an [`is_dns`](Error::is_dns) error.
    ///
    /// ```
    /// let primary = "10.0.0.7:443".parse().unwrap();
    /// let standby = "10.0.0.8:443".parse().unwrap();
    /// let client = wireline::Client::builder()
    ///     .resolve_to_addrs("api.example.com", &[primary, standby])
    ///     .build();
    /// ```
    pub fn resolve_to_addrs(self, domain: &str, addrs: &[SocketAddr]) -> Self {
        let entry = (domain.to_owned(), addrs.to_vec());
        self.set(|s| {
            s.dns.overrides.retain(|(d, _)| *d != entry.0);
            s.dns.overrides.push(entry);
        })
    }

    /// Looks names up with `resolver` (a [`Resolve`](crate::dns::Resolve), an `Arc` of
    /// one, or an `Arc<dyn Resolve>`) instead of the system's resolver or hickory's. The
    /// overrides of [`resolve`](ClientBuilder::resolve) still come first, and a proxy's
    /// name is looked up with it too. A lookup that fails or finds nothing fails the
    /// request with an [`is_dns`](Error::is_dns) error naming the host and carrying the
    /// resolver's own message. See [`crate::dns`] for the port rule and an example.
    ///
    /// ```
    /// use wireline::dns::{Addrs, Name, Resolve, Resolving};
    ///
    /// struct Loopback;
    /// impl Resolve for Loopback {
    ///     fn resolve(&self, _name: Name) -> Resolving {
    ///         let addrs: Addrs = Box::new(std::iter::once("127.0.0.1:0".parse().unwrap()));
    ///         Box::pin(async move { Ok(addrs) })
    ///     }
    /// }
    /// let client = wireline::Client::builder().dns_resolver(Loopback).build();
    /// ```
    pub fn dns_resolver<R: IntoResolve>(self, resolver: R) -> Self {
        let resolver = resolver.into_resolve();
        self.set(|s| s.dns.resolver = Some(resolver))
    }

    /// Whether to look names up with hickory-resolver, an async DNS stub resolver, instead
    /// of the system's `getaddrinfo` on tokio's blocking pool (default: on, as in reqwest:
    /// this setter exists only with the `hickory-dns` Cargo feature). It reads `/etc/resolv.conf` and
    /// `/etc/hosts` at the first lookup, and answers `localhost` and `*.invalid` itself;
    /// it does not consult nsswitch (LDAP, mDNS, systemd-resolved's extra names). If the
    /// configuration can't be read, lookups fail with an [`is_dns`](Error::is_dns) error
    /// saying so: unlike reqwest, wireline never falls back to a public resolver.
    ///
    /// ```
    /// let client = wireline::Client::builder().hickory_dns(false).build();
    /// ```
    #[cfg(feature = "hickory-dns")]
    pub fn hickory_dns(self, enable: bool) -> Self {
        self.set(|s| s.dns.hickory = enable)
    }

    /// Looks names up with the system's resolver even when a dependency turns the
    /// `hickory-dns` feature on; without the feature, it changes nothing.
    ///
    /// ```
    /// let client = wireline::Client::builder().no_hickory_dns().build();
    /// ```
    pub fn no_hickory_dns(self) -> Self {
        #[cfg(feature = "hickory-dns")]
        return self.hickory_dns(false);
        #[cfg(not(feature = "hickory-dns"))]
        self
    }

    // Sockets (connect/socket.rs) -----------------------------------------------------------
    /// Whether TCP sockets have `TCP_NODELAY` set (default `true`, as in reqwest): small
    /// writes, such as a request head, are sent at once instead of waiting for the
    /// previous packet's acknowledgement (Nagle's algorithm). When `false`, it is still on
    /// during the TLS handshake and switched off after it.
    ///
    /// ```
    /// let client = wireline::Client::builder().tcp_nodelay(false).build();
    /// ```
    pub fn tcp_nodelay(self, enabled: bool) -> Self {
        self.set(|s| s.sockets.nodelay = enabled)
    }

    /// TCP keepalive: how long a connection is idle before the system probes the server
    /// (`SO_KEEPALIVE`, `TCP_KEEPIDLE`). Default 15 s, as in reqwest 0.13: with the
    /// default [interval](ClientBuilder::tcp_keepalive_interval) and
    /// [retries](ClientBuilder::tcp_keepalive_retries), a pooled connection to a server
    /// that vanished is found dead within a minute instead of the system's two hours.
    /// `None` turns keepalive off, whatever the interval and retries (in reqwest they
    /// would switch it back on).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder().tcp_keepalive(Duration::from_secs(60)).build();
    /// ```
    pub fn tcp_keepalive<D: Into<Option<Duration>>>(self, val: D) -> Self {
        let idle = val.into();
        self.set(|s| s.sockets.keepalive = idle)
    }

    /// The time between two TCP keepalive probes that go unanswered (`TCP_KEEPINTVL`;
    /// default 15 s, as in reqwest 0.13); `None` leaves the system's (75 s on Linux).
    /// Only used while [`tcp_keepalive`](ClientBuilder::tcp_keepalive) is on.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder().tcp_keepalive_interval(Duration::from_secs(5)).build();
    /// ```
    pub fn tcp_keepalive_interval<D: Into<Option<Duration>>>(self, val: D) -> Self {
        let interval = val.into();
        self.set(|s| s.sockets.keepalive_interval = interval)
    }

    /// How many TCP keepalive probes may go unanswered before the connection is dropped
    /// (`TCP_KEEPCNT`; default 3, as in reqwest 0.13); `None` leaves the system's (9 on
    /// Linux). Only used while [`tcp_keepalive`](ClientBuilder::tcp_keepalive) is on.
    ///
    /// ```
    /// let client = wireline::Client::builder().tcp_keepalive_retries(5).build();
    /// ```
    pub fn tcp_keepalive_retries<N: Into<Option<u32>>>(self, retries: N) -> Self {
        let retries = retries.into();
        self.set(|s| s.sockets.keepalive_retries = retries)
    }

    /// How long data sent may stay unacknowledged before the system drops the connection
    /// (`TCP_USER_TIMEOUT`; default 30 s, as in reqwest 0.13), so a request written into a
    /// connection whose server vanished fails within that instead of the system's
    /// retransmissions (about 15 minutes); `None` leaves the system's. Linux, Android and
    /// Fuchsia only.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let client = wireline::Client::builder().tcp_user_timeout(Duration::from_secs(10)).build();
    /// ```
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn tcp_user_timeout<D: Into<Option<Duration>>>(self, val: D) -> Self {
        let timeout = val.into();
        self.set(|s| s.sockets.user_timeout = timeout)
    }

    /// Binds each TCP connection to this local address before connecting (default `None`:
    /// the system picks), for a machine with several addresses or an allow-list that
    /// names one. An IPv4 address is used for IPv4 destinations only, an IPv6 one for IPv6
    /// ones; the others connect unbound. An address this machine doesn't have fails the
    /// connection with an [`is_connect`](Error::is_connect) error naming the setting.
    ///
    /// ```
    /// use std::net::IpAddr;
    /// let local = IpAddr::from([127, 0, 0, 2]);
    /// let client = wireline::Client::builder().local_address(local).build();
    /// ```
    pub fn local_address<T: Into<Option<IpAddr>>>(self, addr: T) -> Self {
        let addr = addr.into();
        self.set(|s| s.sockets.local_address = addr)
    }

    /// Binds each TCP connection to this network interface (default: none): Linux,
    /// Android and Fuchsia use `SO_BINDTODEVICE`, macOS-like systems, Solaris and illumos
    /// `IP_BOUND_IF`. An interface that doesn't exist when a connection opens fails it
    /// with an [`is_connect`](Error::is_connect) error naming the setting.
    ///
    /// ```
    /// let client = wireline::Client::builder().interface("lo").build();
    /// ```
    #[cfg(bind_interface)]
    pub fn interface(self, interface: &str) -> Self {
        let interface = interface.to_owned();
        self.set(|s| s.sockets.interface = Some(interface))
    }

    /// Sends every request over the Unix socket at `path` (a `&str`, `String`, `&Path`,
    /// `PathBuf` or `Arc<Path>`), with TLS on top for `https://` URLs: SNI and the
    /// certificate are for the URL's host, which also goes in the `Host` header. Nothing
    /// is resolved, no proxy is used, and the TCP settings above don't apply. A socket
    /// that can't be reached fails with an [`is_connect`](Error::is_connect) error naming
    /// its path. See the crate docs' [Name resolution and sockets](crate#name-resolution-and-sockets).
    ///
    /// ```
    /// // Docker's API: the host in the URL is only a name.
    /// let client = wireline::Client::builder().unix_socket("/var/run/docker.sock").build();
    /// // client.get("http://docker/v1.43/containers/json")
    /// ```
    #[cfg(unix)]
    pub fn unix_socket(self, path: impl UnixSocketProvider) -> Self {
        let path: Arc<Path> = path.wireline_uds_path(Internal(())).into();
        self.set(|s| s.sockets.unix_socket = Some(path))
    }

    // Proxies -------------------------------------------------------------------------------
    /// Sends requests through this proxy (see [`Proxy`]). Call it again to add more:
    /// each destination takes the first proxy whose scope and
    /// [`no_proxy`](Proxy::no_proxy) list accept it, or goes direct. Proxies given here
    /// replace the environment's (the crate docs' [Proxies](crate#proxies)), as in reqwest.
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// use wireline::Proxy; // https:// URLs through one proxy, the rest through another:
    /// let client = wireline::Client::builder()
    ///     .proxy(Proxy::https("http://tunnels.example:3128")?)
    ///     .proxy(Proxy::all("http://proxy.example:3128")?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn proxy(self, proxy: Proxy) -> Self {
        self.set(|s| s.proxies.push(proxy))
    }

    /// Connects directly to every destination: forgets the proxies given so far with
    /// [`proxy`](ClientBuilder::proxy) and ignores the environment's. A later `proxy()`
    /// call still adds one.
    ///
    /// ```
    /// // Whatever HTTPS_PROXY says, this client never uses a proxy.
    /// let client = wireline::Client::builder().no_proxy().build();
    /// ```
    pub fn no_proxy(self) -> Self {
        self.set(|s| {
            s.proxies.clear();
            s.env_proxies = false;
        })
    }

    // TLS (tls/) ----------------------------------------------------------------------------
    /// Trusts only the certificates in this PEM bundle, instead of the system's roots
    /// (curl's `--cacert`, requests' `verify="ca.pem"`; the TLS guide's
    /// [verification modes](crate::guide::tls#the-verification-modes)). `build()` fails,
    /// naming the path, if the file is missing, unreadable or holds no certificate.
    ///
    /// ```no_run
    /// let client = wireline::Client::builder().ca_file("/etc/my-ca.pem").build();
    /// ```
    pub fn ca_file<P: AsRef<Path>>(self, path: P) -> Self {
        let roots = RootSource::CaFile(path.as_ref().to_path_buf());
        self.set(|s| s.tls.roots = roots)
    }

    /// Has the operating system check server certificates, instead of wireline checking
    /// them against the system's roots: macOS' and iOS' Security framework, Windows'
    /// CryptoAPI, Android's verifier, with their policies (revocation, enterprise roots,
    /// user overrides); on Linux and the BSDs, webpki over the system store, as by default
    /// (rustls-platform-verifier; reqwest 0.13's default). Like [`ca_file`](Self::ca_file)
    /// it chooses where trust comes from, and the last of them called wins;
    /// [`add_root_certificate`](Self::add_root_certificate) adds to it. Refusals keep their
    /// kinds and explanations, naming "the platform verifier" as what was trusted.
    /// [`build`](ClientBuilder::build) fails beside
    /// [`danger_accept_invalid_hostnames`](Self::danger_accept_invalid_hostnames) or
    /// [`add_crl`](Self::add_crl), which it can't honour, and with an
    /// [`is_tls`](Error::is_tls) error when the system has no roots at all. Needs the
    /// `platform-verifier` Cargo feature; see the TLS guide's
    /// [platform verifier](crate::guide::tls#the-platform-verifier).
    ///
    /// ```
    /// let client = wireline::Client::builder().platform_verifier().build();
    /// ```
    #[cfg(feature = "platform-verifier")]
    pub fn platform_verifier(self) -> Self {
        self.set(|s| s.tls.roots = RootSource::Platform)
    }

    /// Trusts these certificates too, in addition to the roots in use (the system's, or
    /// the CA file's).
    ///
    /// ```
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let ca = wireline::Certificate::from_pem(pem)?;
    /// let client = wireline::Client::builder().add_root_certificate(ca).build()?;
    /// # Ok(()) }
    /// ```
    pub fn add_root_certificate(self, certificate: Certificate) -> Self {
        self.set(|s| s.tls.extra_roots.extend(certificate.into_ders()))
    }

    /// reqwest's name for [`add_root_certificate`](Self::add_root_certificate), for
    /// several certificates: they are trusted in addition to the roots in use.
    ///
    /// ```
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let cas = wireline::tls::Certificate::from_pem_bundle(pem)?;
    /// let client = wireline::Client::builder().tls_certs_merge(cas).build()?;
    /// # Ok(()) }
    /// ```
    pub fn tls_certs_merge(self, certs: impl IntoIterator<Item = Certificate>) -> Self {
        certs.into_iter().fold(self, Self::add_root_certificate)
    }

    /// Trusts only these certificates, and those given to
    /// [`add_root_certificate`](Self::add_root_certificate) or
    /// [`tls_certs_merge`](Self::tls_certs_merge), instead of the system's roots (reqwest's
    /// name; like [`ca_file`](Self::ca_file) with the certificates in memory). It chooses
    /// where trust comes from, as `ca_file` does: the last of them called wins.
    /// [`build`](ClientBuilder::build) fails when no certificate was given, or none can be
    /// a trust anchor.
    ///
    /// ```
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let ca = wireline::tls::Certificate::from_pem(pem)?;
    /// let client = wireline::Client::builder().tls_certs_only([ca]).build()?;
    /// # Ok(()) }
    /// ```
    pub fn tls_certs_only(self, certs: impl IntoIterator<Item = Certificate>) -> Self {
        self.tls_certs_merge(certs)
            .set(|s| s.tls.roots = RootSource::OnlyGiven)
    }

    /// Turns certificate verification off: unknown issuers, expired certificates and wrong
    /// host names are all accepted. The handshake signatures are still checked, and the
    /// keys pinned with [`pin_sha256`](ClientBuilder::pin_sha256) are still required; CRLs
    /// are not consulted. A `tracing` warning is logged once per client built this way.
    /// For tests and debugging only.
    ///
    /// ```
    /// let client = wireline::Client::builder().danger_accept_invalid_certs(true).build();
    /// ```
    pub fn danger_accept_invalid_certs(self, accept: bool) -> Self {
        let verification = match accept {
            true => Verification::AcceptInvalidCerts,
            false => Verification::Full,
        };
        self.set(|s| s.tls.verification = verification)
    }

    /// reqwest's name for [`danger_accept_invalid_certs`](Self::danger_accept_invalid_certs).
    ///
    /// ```
    /// let client = wireline::Client::builder().tls_danger_accept_invalid_certs(true).build();
    /// ```
    pub fn tls_danger_accept_invalid_certs(self, accept: bool) -> Self {
        self.danger_accept_invalid_certs(accept)
    }

    /// Accepts a certificate that is not valid for the host in the URL, while still
    /// checking the chain to a trusted root, the dates and the handshake signatures; for a
    /// server reached by an address its certificate doesn't list. Any server with a
    /// certificate from a trusted CA can then pose as any host. Overridden by
    /// [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs); a
    /// `tracing` warning is logged once per client built this way.
    ///
    /// ```
    /// let client = wireline::Client::builder().danger_accept_invalid_hostnames(true).build();
    /// ```
    pub fn danger_accept_invalid_hostnames(self, accept: bool) -> Self {
        self.set(|s| s.tls.accept_invalid_hostnames = accept)
    }

    /// reqwest's name for
    /// [`danger_accept_invalid_hostnames`](Self::danger_accept_invalid_hostnames). Unlike
    /// reqwest's rustls backend, it works with any roots, not only with
    /// [`tls_certs_only`](Self::tls_certs_only).
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .tls_danger_accept_invalid_hostnames(true)
    ///     .build();
    /// ```
    pub fn tls_danger_accept_invalid_hostnames(self, accept: bool) -> Self {
        self.danger_accept_invalid_hostnames(accept)
    }

    /// Accepts a connection to `host` only if the public key of its certificate is one of
    /// the keys pinned for it: `spki_sha256_base64` is the base64 SHA-256 of the
    /// certificate's SubjectPublicKeyInfo (curl's `--pinnedpubkey sha256//…`; the
    /// `sha256//` prefix is accepted). Call it again to allow the next key of a rotation.
    /// The pin is checked after the usual verification, even with
    /// [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs); a
    /// mismatch is [`CertificateErrorKind::PinMismatch`](crate::CertificateErrorKind::PinMismatch),
    /// showing the server's key. `host` is matched exactly. [`build`](ClientBuilder::build)
    /// fails for a malformed host or pin. See the TLS guide's
    /// [pinning](crate::guide::tls#pinning-a-servers-public-key).
    ///
    /// ```
    /// # fn run() -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .pin_sha256("example.com", "Xa6iyhUiwUoqDLvbaWqpl+4p9ZsnbBCr8fBYf4e2VnA=")
    ///     .pin_sha256("example.com", "sha256//Ts3K3zzs/pVDJHNsi3ZpP12Lh5Evim5W9eO4gfmpNeg=")
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn pin_sha256(mut self, host: &str, spki_sha256_base64: &str) -> Self {
        match self.settings.tls.pins.add(host, spki_sha256_base64) {
            Ok(()) => self,
            Err(e) => self.fail(e),
        }
    }

    /// Refuses servers whose certificate, or an intermediate CA certificate of its chain,
    /// is listed in this certificate revocation list, with
    /// [`CertificateErrorKind::Revoked`](crate::CertificateErrorKind::Revoked) naming it.
    /// A certificate whose issuer published none of the CRLs given passes; a CRL whose
    /// signature fails refuses the server; CRLs are not consulted with
    /// [`danger_accept_invalid_certs`](ClientBuilder::danger_accept_invalid_certs). See the
    /// TLS guide's [revocation](crate::guide::tls#revocation-certificate-revocation-lists).
    ///
    /// ```no_run
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let crl = wireline::CertificateRevocationList::from_pem(pem)?;
    /// let client = wireline::Client::builder().add_crl(crl).build()?;
    /// # Ok(()) }
    /// ```
    pub fn add_crl(self, crl: CertificateRevocationList) -> Self {
        self.set(|s| s.tls.crls.push(crl.into_der()))
    }

    /// Adds several certificate revocation lists, as [`add_crl`](ClientBuilder::add_crl)
    /// does for one.
    ///
    /// ```no_run
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let crls = wireline::CertificateRevocationList::from_pem_bundle(pem)?;
    /// let client = wireline::Client::builder().add_crls(crls).build()?;
    /// # Ok(()) }
    /// ```
    pub fn add_crls(self, crls: impl IntoIterator<Item = CertificateRevocationList>) -> Self {
        let ders = crls.into_iter().map(CertificateRevocationList::into_der);
        self.set(|s| s.tls.crls.extend(ders))
    }

    /// reqwest's name for [`add_crls`](Self::add_crls). Unlike reqwest's, it works with any
    /// roots, not only with [`tls_certs_only`](Self::tls_certs_only).
    ///
    /// ```no_run
    /// # fn run(pem: &[u8]) -> wireline::Result<()> {
    /// let crls = wireline::tls::CertificateRevocationList::from_pem_bundle(pem)?;
    /// let client = wireline::Client::builder().tls_crls_only(crls).build()?;
    /// # Ok(()) }
    /// ```
    pub fn tls_crls_only(self, crls: impl IntoIterator<Item = CertificateRevocationList>) -> Self {
        self.add_crls(crls)
    }

    /// A client certificate to show when a server asks for one (mutual TLS; the TLS
    /// guide's [client certificates](crate::guide::tls#client-certificates-mutual-tls)). A
    /// server that requires one and gets none fails the handshake with
    /// [`TlsErrorKind::ClientCertificateRequired`](crate::TlsErrorKind::ClientCertificateRequired).
    /// [`build`](ClientBuilder::build) fails if the key does not belong to the certificate.
    ///
    /// ```no_run
    /// # fn run(cert: &[u8], key: &[u8]) -> wireline::Result<()> {
    /// let client = wireline::Client::builder()
    ///     .identity(wireline::Identity::from_pem_parts(cert, key)?)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn identity(self, identity: Identity) -> Self {
        self.set(|s| s.tls.identity = Some(identity))
    }

    /// The lowest TLS version to accept (default [`TlsVersion::TLS_1_2`]). A server that
    /// can't speak it fails the handshake with an [`is_tls`](Error::is_tls) error.
    ///
    /// ```
    /// use wireline::TlsVersion;
    /// let client = wireline::Client::builder().min_tls_version(TlsVersion::TLS_1_3).build();
    /// ```
    pub fn min_tls_version(self, version: TlsVersion) -> Self {
        self.set(|s| s.tls.versions.min = version)
    }

    /// reqwest's name for [`min_tls_version`](Self::min_tls_version). TLS 1.0 and 1.1
    /// allow what rustls speaks, TLS 1.2 and 1.3 (see [`tls::Version`](crate::tls::Version)).
    ///
    /// ```
    /// use wireline::tls;
    /// let client = wireline::Client::builder().tls_version_min(tls::Version::TLS_1_3).build();
    /// ```
    pub fn tls_version_min(self, version: crate::tls::Version) -> Self {
        self.min_tls_version(version)
    }

    /// The highest TLS version to use (default: the newest, TLS 1.3), for a server whose
    /// TLS 1.3 is broken or to test TLS 1.2. A server that only speaks newer versions fails
    /// with [`TlsErrorKind::ProtocolVersion`](crate::TlsErrorKind::ProtocolVersion);
    /// [`build`](ClientBuilder::build) fails when it is below
    /// [`min_tls_version`](ClientBuilder::min_tls_version).
    ///
    /// ```
    /// use wireline::TlsVersion;
    /// let client = wireline::Client::builder().max_tls_version(TlsVersion::TLS_1_2).build();
    /// ```
    pub fn max_tls_version(self, version: TlsVersion) -> Self {
        self.set(|s| s.tls.versions.max = Some(version))
    }

    /// reqwest's name for [`max_tls_version`](Self::max_tls_version).
    /// [`build`](ClientBuilder::build) fails for TLS 1.0 and 1.1, which rustls doesn't
    /// speak, as with reqwest's rustls backend.
    ///
    /// ```
    /// use wireline::tls;
    /// let client = wireline::Client::builder().tls_version_max(tls::Version::TLS_1_2).build();
    /// assert!(wireline::Client::builder().tls_version_max(tls::Version::TLS_1_1).build().is_err());
    /// ```
    pub fn tls_version_max(self, version: crate::tls::Version) -> Self {
        self.max_tls_version(version)
    }

    /// Whether to send the host name in the TLS handshake (SNI; default `true`; never for
    /// IP addresses). The certificate is still checked against the URL's host without it.
    ///
    /// ```
    /// let client = wireline::Client::builder().tls_sni(false).build();
    /// ```
    pub fn tls_sni(self, enable: bool) -> Self {
        self.set(|s| s.tls.sni = enable)
    }

    /// Whether new connections resume earlier TLS sessions with the same server (default
    /// `true`), skipping the certificate exchange; the cache (256 sessions) is shared by
    /// the client's connections. Off makes every handshake a full one.
    ///
    /// ```
    /// let client = wireline::Client::builder().tls_session_resumption(false).build();
    /// ```
    pub fn tls_session_resumption(self, enable: bool) -> Self {
        self.set(|s| s.tls.resumption = enable)
    }

    /// Writes the TLS session secrets to the file named by the `SSLKEYLOGFILE` environment
    /// variable (read by [`build`](ClientBuilder::build)), in the key log format Wireshark
    /// reads to decrypt captures (default `false`). Unset, or unwritable, nothing is
    /// written. Anyone with the file can read the traffic: for debugging only.
    ///
    /// ```
    /// // SSLKEYLOGFILE=/tmp/keys.log my-program
    /// let client = wireline::Client::builder().tls_keylog(true).build();
    /// ```
    pub fn tls_keylog(self, enable: bool) -> Self {
        self.set(|s| s.tls.keylog = enable)
    }

    /// reqwest's name for [`tls_keylog`](Self::tls_keylog).
    ///
    /// ```
    /// let client = wireline::Client::builder().tls_sslkeylogfile(true).build();
    /// ```
    pub fn tls_sslkeylogfile(self, enable: bool) -> Self {
        self.tls_keylog(enable)
    }

    /// Records the TLS parameters of each connection (version, cipher suite, ALPN, the
    /// server's certificates, resumption) for [`Response::tls_info`](crate::Response::tls_info)
    /// (default `false`), once per connection; when off, responses carry nothing.
    ///
    /// ```
    /// let client = wireline::Client::builder().tls_info(true).build();
    /// ```
    pub fn tls_info(self, enable: bool) -> Self {
        self.set(|s| s.tls_info = enable)
    }

    /// Times each request's phases (DNS, TCP, TLS, the wait for a connection, sending,
    /// the first byte) for [`Response::timings`](crate::Response::timings) and
    /// [`Error::timings`](crate::Error::timings) (default `false`). The connection's phases
    /// are measured once per connection either way; a request's own marks (a clock read at
    /// each phase, one allocation) only when this is on. See the
    /// [observability guide](crate::guide::observability).
    ///
    /// ```
    /// let client = wireline::Client::builder().timings(true).build();
    /// ```
    pub fn timings(self, enable: bool) -> Self {
        self.set(|s| s.timings = enable)
    }

    /// Uses this rustls configuration for the client's connections, as given: wireline's
    /// escape hatch for what its settings don't offer (a custom verifier, other cipher
    /// suites or key exchange groups, a certificate resolver…). `tls` must be a
    /// `rustls::ClientConfig` (or an `Arc` of one) of the rustls version wireline is built
    /// with (0.23); anything else makes [`build`](ClientBuilder::build) fail, naming the
    /// type given. ALPN is the config's own: rustls' default offers none, so connections
    /// speak HTTP/1.1 unless it lists `h2`, as with reqwest. Its connections are pooled
    /// apart; wireline's other TLS settings (roots, `danger_*`, versions, pins, CRLs, the
    /// identity, SNI, key logging) and its explained certificate errors don't apply to
    /// them, but do to requests made with [`TlsOptions`](crate::TlsOptions), which leave
    /// the preconfigured configuration out. See the TLS guide's
    /// [preconfigured TLS](crate::guide::tls#preconfigured-tls).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # let roots = rustls::RootCertStore::empty();
    /// let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
    ///     rustls::crypto::ring::default_provider(),
    /// ))
    /// .with_safe_default_protocol_versions()
    /// .unwrap()
    /// .with_root_certificates(roots)
    /// .with_no_client_auth();
    /// config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    /// let client = wireline::Client::builder().use_preconfigured_tls(config).build();
    /// ```
    pub fn use_preconfigured_tls(self, tls: impl Any) -> Self {
        let given = std::any::type_name_of_val(&tls);
        let tls: Box<dyn Any> = Box::new(tls);
        let config = match tls.downcast::<rustls::ClientConfig>() {
            Ok(config) => Arc::new(*config),
            Err(other) => match other.downcast::<Arc<rustls::ClientConfig>>() {
                Ok(config) => *config,
                Err(_) => {
                    return self.fail(Error::builder(format!(
                        "use_preconfigured_tls: expected a rustls::ClientConfig of rustls 0.23 \
                         (the version wireline is built with), got {given}; a ClientConfig of \
                         another rustls version is another type (`cargo tree -i rustls` shows \
                         which versions are in your build)"
                    )))
                }
            },
        };
        self.set(|s| s.tls.preconfigured = Some(Preconfigured::new(config)))
    }

    /// reqwest's name for [`use_preconfigured_tls`](Self::use_preconfigured_tls).
    ///
    /// ```
    /// # fn run(config: rustls::ClientConfig) {
    /// let client = wireline::Client::builder().tls_backend_preconfigured(config).build();
    /// # }
    /// ```
    pub fn tls_backend_preconfigured(self, tls: impl Any) -> Self {
        self.use_preconfigured_tls(tls)
    }

    /// Does nothing: wireline's TLS is always rustls (reqwest's choice between its TLS
    /// backends). Unlike reqwest's, it doesn't undo
    /// [`use_preconfigured_tls`](Self::use_preconfigured_tls).
    ///
    /// ```
    /// let client = wireline::Client::builder().tls_backend_rustls().build();
    /// ```
    pub fn tls_backend_rustls(self) -> Self {
        self
    }

    /// reqwest's older name for [`tls_backend_rustls`](Self::tls_backend_rustls): does
    /// nothing.
    ///
    /// ```
    /// let client = wireline::Client::builder().use_rustls_tls().build();
    /// ```
    pub fn use_rustls_tls(self) -> Self {
        self
    }

    // Fuzzing ------------------------------------------------------------------------------
    /// Fuzzing only: every connection, `http` or `https`, is whatever `open` returns for
    /// its destination, spoken to as plaintext HTTP/1.1, or h2 with
    /// `http2_prior_knowledge` (no DNS, TCP or TLS). An error from `open` is a connect
    /// error.
    #[cfg(feature = "fuzzing")]
    #[doc(hidden)]
    pub fn fuzzing_transport<F>(self, open: F) -> Self
    where
        F: Fn(&http::Uri) -> std::io::Result<Box<dyn MemoryIo>> + Send + Sync + 'static,
    {
        self.set(|s| s.transport = Some(Transport::new(open)))
    }
}
