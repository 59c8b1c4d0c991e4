//! Connection pools, one per TLS configuration.
//!
//! A pool keys connections by scheme and authority only. A connection opened
//! under one TLS configuration (say, verification off) must never carry a request made
//! under another, or one `verify=False` call leaves an unverified connection for later
//! calls to the same host (requests' GHSA-9wx4-h78v-vm56). So each configuration gets its
//! own pool (connector, rustls `ClientConfig`, session cache): the client's own is built
//! with it, and those of [`TlsOptions`] are built on first use and kept. Each is in fact a
//! few lanes side by side (`lanes.rs`), for h2 servers that limit their streams; a lane is
//! wireline's own pool of hyper connections (`lane/`).

mod lane;
mod lanes;

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::TokioTimer;

use lane::{BoxingExecutor, Handshakes, Lane};
pub(crate) use lane::{Capture, Kind as PoolErrorKind, PoolError};
pub(crate) use lanes::Pool;

use crate::connect::conn::Record;
use crate::connect::gate::{GatePlan, Routing};
use crate::connect::origins::Origins;
use crate::connect::streams::StreamToken;
use crate::connect::{Connector, Dial};
use crate::error::{Error, ErrorKind, Result, TlsErrorKind};
use crate::tls::{Alpn, TlsConfig, TlsOptions, TlsSettings};

/// Per-request TLS configurations kept at once. A program that makes more distinct ones
/// than this (unusual: they come from code, not data) rebuilds the oldest when reused.
const MAX_KEPT: usize = 8;

/// How long the h2 connection of a lane past `pool_max_idle_per_host` stays idle.
const SURPLUS_IDLE: Duration = Duration::from_secs(1);

/// hyper's response to a request, and the record of the connection it came over: kept
/// beside it, where a copy in its extensions cost an allocation per response.
pub(crate) struct Reply {
    pub(crate) response: http::Response<Incoming>,
    pub(crate) record: Arc<Record>,
    /// Its place on the h2 connection the pool routed it to (`lanes.rs`), which goes with
    /// the response until its body ends.
    pub(crate) stream: Option<StreamToken>,
}

impl Deref for Reply {
    type Target = http::Response<Incoming>;

    fn deref(&self) -> &http::Response<Incoming> {
        &self.response
    }
}

impl DerefMut for Reply {
    fn deref_mut(&mut self) -> &mut http::Response<Incoming> {
        &mut self.response
    }
}

/// Everything about a pool that is not TLS: the same for all of a client's pools.
#[derive(Clone, Debug)]
pub(crate) struct PoolShape {
    /// How the connector opens connections.
    pub(crate) dial: Dial,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_idle_per_host: usize,
    /// The client's connections per origin (`connect/origins.rs`), shared by all its
    /// pools, so the cap counts them all and outlives `reload_tls`'s swap.
    pub(crate) origins: Arc<Origins>,
    /// The largest response head accepted, in bytes (`max_response_header_size`).
    pub(crate) max_header_size: usize,
    pub(crate) http1: Http1Settings,
    pub(crate) http2: Http2Settings,
    #[cfg(feature = "fuzzing")]
    pub(crate) transport: Option<crate::connect::memory::Transport>,
}

/// How connections read and write HTTP/1: `ClientBuilder`'s `http1_*` settings and
/// `http09_responses`. All off by default, and then hyper's builder is left as it is.
#[derive(Clone, Debug, Default)]
pub(crate) struct Http1Settings {
    pub(crate) title_case_headers: bool,
    /// The three parsing leniencies, each giving up a check of docs/reliability.md (H04).
    pub(crate) allow_obsolete_multiline_headers_in_responses: bool,
    pub(crate) ignore_invalid_headers_in_responses: bool,
    pub(crate) allow_spaces_after_header_name_in_responses: bool,
    /// `None`: hyper's 100, parsed on the stack. A number makes hyper allocate room for
    /// that many fields for every response head, so [`PoolShape::pool`] caps it at what
    /// `max_response_header_size` can hold.
    pub(crate) max_headers: Option<usize>,
    /// Read a reply without a status line as an HTTP/0.9 body (refused by default, H04).
    pub(crate) http09_responses: bool,
}

/// How h2 connections are set up: `ClientBuilder`'s `http2_*` settings. `None` and
/// `false` leave hyper's defaults.
#[derive(Clone, Debug, Default)]
pub(crate) struct Http2Settings {
    pub(crate) initial_stream_window_size: Option<u32>,
    pub(crate) initial_connection_window_size: Option<u32>,
    pub(crate) adaptive_window: bool,
    pub(crate) max_frame_size: Option<u32>,
    /// `None`: `max_response_header_size`, which is then the limit of both protocols.
    pub(crate) max_header_list_size: Option<u32>,
    pub(crate) keep_alive_interval: Option<Duration>,
    pub(crate) keep_alive_timeout: Option<Duration>,
    pub(crate) keep_alive_while_idle: bool,
}

/// The largest HTTP/2 flow-control window (RFC 9113 §6.9.1: 2^31 - 1).
const MAX_WINDOW_SIZE: u32 = (1 << 31) - 1;

/// The range of SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2).
const FRAME_SIZES: std::ops::RangeInclusive<u32> = 16_384..=16_777_215;

impl Http2Settings {
    /// Refuses the values the h2 crate would panic on at the first connection (it
    /// asserts), or that the server would have to refuse.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(size) = self.max_frame_size.filter(|s| !FRAME_SIZES.contains(s)) {
            return Err(Error::builder(format!(
                "http2_max_frame_size({size}) is outside the sizes HTTP/2 allows, {} to {} \
                 bytes (RFC 9113 §6.5.2)",
                FRAME_SIZES.start(),
                FRAME_SIZES.end()
            )));
        }
        for (setting, size) in [
            (
                "http2_initial_stream_window_size",
                self.initial_stream_window_size,
            ),
            (
                "http2_initial_connection_window_size",
                self.initial_connection_window_size,
            ),
        ] {
            if let Some(size) = size.filter(|s| *s > MAX_WINDOW_SIZE) {
                return Err(Error::builder(format!(
                    "{setting}({size}) is over the largest HTTP/2 window, {MAX_WINDOW_SIZE} \
                     bytes (RFC 9113 §6.9.1)"
                )));
            }
        }
        Ok(())
    }
}

impl PoolShape {
    /// A pool whose connections use `tls`.
    pub(crate) fn pool(&self, tls: TlsConfig, settings: &TlsSettings) -> Pool {
        Pool::new(self, tls, settings)
    }

    /// Lane `index` of a pool (`lanes.rs`), `pool` in the client's table. `routing`: its pool's routing flags, for a pool with lanes.
    fn lane(
        &self,
        tls: TlsConfig,
        settings: &TlsSettings,
        (index, pool): (usize, usize),
        routing: Option<Arc<Routing>>,
    ) -> Lane {
        // One dial at a time while an origin's protocol is unknown: only where ALPN may
        // choose either (with prior knowledge the lane dials one h2 connection itself),
        // and only in a pool that keeps connections, where a request can wait for another's.
        let dial_rule = settings.alpn == Alpn::H2AndHttp1 && self.max_idle_per_host > 0;
        let gate =
            (dial_rule || self.origins.cap.is_some() || routing.is_some()).then(|| GatePlan {
                origins: self.origins.clone(),
                pool,
                dial_rule,
                routing,
            });
        let connector = Connector::new(tls, settings.versions_to_name(), &self.dial, gate);
        #[cfg(feature = "fuzzing")]
        let connector = connector.with_transport(self.transport.clone());
        // Each lane holds one h2 connection to an origin: those past the idle cap close
        // soon after a burst, so that the idle cap still bounds the origin's idle ones.
        let idle_timeout = match index < self.max_idle_per_host {
            true => self.idle_timeout,
            false => Some(
                self.idle_timeout
                    .map_or(SURPLUS_IDLE, |t| t.min(SURPLUS_IDLE)),
            ),
        };
        Lane::new(
            connector,
            self.handshakes(),
            idle_timeout,
            self.max_idle_per_host,
        )
    }

    /// hyper's HTTP/1 and h2 builders, with the client's settings.
    fn handshakes(&self) -> Handshakes {
        let mut http1 = http1::Builder::new();
        // HTTP/1: the read buffer a head must fit in (hyper panics below 8 KiB, which
        // `ClientBuilder::build` refuses).
        http1.max_buf_size(self.max_header_size);
        self.http1_onto(&mut http1);
        let mut http2 = http2::Builder::new(BoxingExecutor);
        http2.timer(TokioTimer::new());
        self.http2_onto(&mut http2);
        Handshakes {
            http1,
            http2,
            h2_only: self.dial.h2_prior_knowledge,
        }
    }

    /// The HTTP/1 settings that were given, onto hyper's builder.
    fn http1_onto(&self, builder: &mut http1::Builder) {
        let http1 = &self.http1;
        if http1.title_case_headers {
            builder.title_case_headers(true);
        }
        if http1.allow_obsolete_multiline_headers_in_responses {
            builder.allow_obsolete_multiline_headers_in_responses(true);
        }
        if http1.ignore_invalid_headers_in_responses {
            builder.ignore_invalid_headers_in_responses(true);
        }
        if http1.allow_spaces_after_header_name_in_responses {
            builder.allow_spaces_after_header_name_in_responses(true);
        }
        if let Some(max) = http1.max_headers {
            // A field takes at least 5 bytes as `attempt::heads` counts a head ("a: " and
            // CRLF), so a head with more than this many is over the size limit anyway:
            // room for more would only be allocated, for every response, and never used.
            builder.max_headers(max.min(self.max_header_size / 5));
        }
        if http1.http09_responses {
            builder.http09_responses(true);
        }
    }

    /// The h2 settings, in reqwest's order: `adaptive_window(true)` after the window
    /// sizes overrides them, as its docs say (hyper turns it off when a size follows).
    fn http2_onto(&self, builder: &mut http2::Builder<BoxingExecutor>) {
        let http2 = &self.http2;
        if let Some(size) = http2.initial_stream_window_size {
            builder.initial_stream_window_size(size);
        }
        if let Some(size) = http2.initial_connection_window_size {
            builder.initial_connection_window_size(size);
        }
        if http2.adaptive_window {
            builder.adaptive_window(true);
        }
        if let Some(size) = http2.max_frame_size {
            builder.max_frame_size(size);
        }
        // The decoded header list, counted as RFC 9113 does (name + value + 32 per
        // field): `http2_max_header_list_size` when given, else the HTTP/1 limit.
        let list = http2
            .max_header_list_size
            .unwrap_or(u32::try_from(self.max_header_size).unwrap_or(u32::MAX));
        builder.max_header_list_size(list);
        if let Some(interval) = http2.keep_alive_interval {
            builder.keep_alive_interval(interval);
        }
        if let Some(timeout) = http2.keep_alive_timeout {
            builder.keep_alive_timeout(timeout);
        }
        if http2.keep_alive_while_idle {
            builder.keep_alive_while_idle(true);
        }
    }
}

/// The client's own pool. `Client::reload_tls` replaces it with a pool under the new
/// configuration: requests from then on use that one, so no connection made under the old
/// configuration carries them, while the requests on the old pool finish there. Until a
/// first reload, a request reads one flag.
pub(crate) struct OwnPool {
    first: Pool,
    reloaded: AtomicBool,
    /// The replacement, once there is one.
    current: RwLock<Option<Arc<Pool>>>,
}

impl OwnPool {
    pub(crate) fn new(first: Pool) -> OwnPool {
        OwnPool {
            first,
            reloaded: AtomicBool::new(false),
            current: RwLock::new(None),
        }
    }

    /// The pool of the client's first configuration.
    pub(crate) fn first(&self) -> &Pool {
        &self.first
    }

    /// The pool that replaced it, if a reload did (requests use the first one otherwise).
    #[inline]
    pub(crate) fn replacement(&self) -> Option<Arc<Pool>> {
        if !self.reloaded.load(Ordering::Acquire) {
            return None;
        }
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn replace(&self, pool: Pool) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(pool));
        self.reloaded.store(true, Ordering::Release);
    }
}

/// `Client::reload_tls`: reads the client's TLS files and the system's roots again, builds
/// the configuration, and makes new requests use a pool under it (see [`OwnPool`]), the
/// per-request configurations too. A failure keeps everything as it was.
pub(crate) fn reload(own: &OwnPool, options: &OptionPools) -> Result<()> {
    // One reload at a time, so two can't interleave their replacements.
    let mut state = options.state.lock().unwrap_or_else(|e| e.into_inner());
    let settings = state.base.reread()?;
    if settings.preconfigured.is_some() {
        // The user's own rustls configuration: nothing of it is read from files.
        return Ok(());
    }
    let tls = match settings.rebuild()? {
        TlsConfig::Unavailable(problem) => {
            return Err(Error::new(
                ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
                format!(
                    "reload_tls: {} (the previous configuration stays)",
                    problem.message
                ),
            ))
        }
        ready => ready,
    };
    own.replace(options.shape.pool(tls, &settings));
    state.base = settings;
    state.kept.clear();
    Ok(())
}

/// The pools of the TLS configurations requests asked for with `RequestBuilder::tls`.
pub(crate) struct OptionPools {
    shape: PoolShape,
    state: Mutex<OptionState>,
}

struct OptionState {
    /// The client's own settings, which the options change.
    base: TlsSettings,
    /// Most recently used last. A linear scan: a handful of entries at most.
    kept: Vec<(TlsSettings, Arc<Pool>)>,
}

impl OptionPools {
    pub(crate) fn new(base: TlsSettings, shape: PoolShape) -> OptionPools {
        OptionPools {
            shape,
            state: Mutex::new(OptionState {
                base,
                kept: Vec::new(),
            }),
        }
    }

    /// The pool for a request with these options; `None` when they change nothing, so
    /// the request uses the client's own pool.
    pub(crate) fn pool_for(&self, options: &TlsOptions) -> Result<Option<Arc<Pool>>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let settings = options.applied_to(&state.base)?;
        if settings == state.base {
            return Ok(None);
        }
        let kept = &mut state.kept;
        if let Some(at) = kept.iter().position(|(s, _)| *s == settings) {
            let entry = kept.remove(at);
            let pool = entry.1.clone();
            kept.push(entry);
            return Ok(Some(pool));
        }
        // Built under the lock: two requests with new equal options must not make two
        // pools. Building reads a CA file at most; the default configuration is cached.
        let tls = match settings.build()? {
            TlsConfig::Unavailable(problem) => {
                return Err(Error::new(
                    ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
                    problem.message.clone(),
                ))
            }
            ready => ready,
        };
        settings.warn_if_insecure("requests made with these TlsOptions");
        let pool = Arc::new(self.shape.pool(tls, &settings));
        if kept.len() == MAX_KEPT {
            kept.remove(0);
        }
        kept.push((settings, pool.clone()));
        Ok(Some(pool))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::dns::Resolver;
    use crate::connect::socket::SocketOptions;
    use crate::tls::TlsVersion;

    fn option_pools() -> OptionPools {
        let shape = PoolShape {
            dial: Dial {
                connect_timeout: None,
                tls_info: false,
                proxies: None,
                resolver: Resolver::system(),
                user_agent: None,
                sockets: SocketOptions::default(),
                h2_prior_knowledge: false,
                layers: Vec::new(),
            },
            idle_timeout: None,
            max_idle_per_host: usize::MAX,
            origins: Arc::new(Origins::new(None, None)),
            max_header_size: 64 * 1024,
            http1: Http1Settings::default(),
            http2: Http2Settings::default(),
            #[cfg(feature = "fuzzing")]
            transport: None,
        };
        // Verification off needs no root store, so this builds on any machine.
        let base = TlsOptions::new()
            .danger_accept_invalid_certs(true)
            .applied_to(&TlsSettings::default())
            .unwrap();
        OptionPools::new(base, shape)
    }

    #[test]
    fn requests_share_a_pool_only_with_equal_tls_settings() {
        let pools = option_pools();
        let same_as_client = TlsOptions::new().danger_accept_invalid_certs(true);
        assert!(pools.pool_for(&same_as_client).unwrap().is_none());
        let tls13 = TlsOptions::new().min_tls_version(TlsVersion::TLS_1_3);
        let pinned = TlsOptions::new().pin_sha256(
            "example.com",
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        );
        let a = pools.pool_for(&tls13).unwrap().expect("its own pool");
        let b = pools.pool_for(&pinned).unwrap().expect("its own pool");
        assert!(!Arc::ptr_eq(&a, &b));
        let again = pools.pool_for(&tls13.clone()).unwrap().expect("kept");
        assert!(Arc::ptr_eq(&a, &again), "equal settings share their pool");
    }
}
