//! Connection pools, one per TLS configuration.
//!
//! hyper-util's pool keys connections by scheme and authority only. A connection opened
//! under one TLS configuration (say, verification off) must never carry a request made
//! under another, or one `verify=False` call leaves an unverified connection for later
//! calls to the same host (requests' GHSA-9wx4-h78v-vm56). So each configuration gets its
//! own pooled client (connector, rustls `ClientConfig`, session cache): the client's own
//! is built with it, and those of [`TlsOptions`] are built on first use and kept.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::Body;
use crate::connect::Connector;
use crate::error::{Error, ErrorKind, Result, TlsErrorKind};
use crate::proxy::Proxies;
use crate::tls::{TlsConfig, TlsOptions, TlsSettings};

/// A pooled hyper client over our connector.
pub(crate) type Pool = PooledClient<Connector, Body>;

/// Per-request TLS configurations kept at once. A program that makes more distinct ones
/// than this (unusual: they come from code, not data) rebuilds the oldest when reused.
const MAX_KEPT: usize = 8;

/// Everything about a pool that is not TLS: the same for all of a client's pools.
#[derive(Clone, Debug)]
pub(crate) struct PoolShape {
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) tls_info: bool,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_idle_per_host: usize,
    /// The same rules in every pool: a destination takes the same route whatever the
    /// TLS settings (see `crate::proxy` on why that keeps proxied and direct connections
    /// apart).
    pub(crate) proxies: Option<Arc<Proxies>>,
    /// The largest response head accepted, in bytes (`max_response_header_size`).
    pub(crate) max_header_size: usize,
    #[cfg(feature = "fuzzing")]
    pub(crate) transport: Option<crate::connect::memory::Transport>,
}

impl PoolShape {
    /// A pool whose connections use `tls`.
    pub(crate) fn pool(&self, tls: TlsConfig, settings: &TlsSettings) -> Pool {
        let connector = Connector::new(
            tls,
            self.connect_timeout,
            settings.versions_to_name(),
            self.tls_info,
            self.proxies.clone(),
        );
        #[cfg(feature = "fuzzing")]
        let connector = connector.with_transport(self.transport.clone());
        PooledClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(self.idle_timeout)
            .pool_max_idle_per_host(self.max_idle_per_host)
            // HTTP/1: the read buffer a head must fit in (hyper panics below 8 KiB, which
            // `ClientBuilder::build` refuses). h2: the decoded header list, counted as
            // RFC 9113 does (name + value + 32 per field).
            .http1_max_buf_size(self.max_header_size)
            .http2_max_header_list_size(u32::try_from(self.max_header_size).unwrap_or(u32::MAX))
            .build(connector)
    }
}

/// The pools of the TLS configurations requests asked for with `RequestBuilder::tls`.
pub(crate) struct OptionPools {
    /// The client's own settings, which the options change.
    base: TlsSettings,
    shape: PoolShape,
    /// Most recently used last. A linear scan: a handful of entries at most.
    kept: Mutex<Vec<(TlsSettings, Arc<Pool>)>>,
}

impl OptionPools {
    pub(crate) fn new(base: TlsSettings, shape: PoolShape) -> OptionPools {
        OptionPools {
            base,
            shape,
            kept: Mutex::new(Vec::new()),
        }
    }

    /// The pool for a request with these options; `None` when they change nothing, so
    /// the request uses the client's own pool.
    pub(crate) fn pool_for(&self, options: &TlsOptions) -> Result<Option<Arc<Pool>>> {
        let settings = options.applied_to(&self.base)?;
        if settings == self.base {
            return Ok(None);
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
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
    use crate::tls::TlsVersion;

    fn option_pools() -> OptionPools {
        let shape = PoolShape {
            connect_timeout: None,
            tls_info: false,
            idle_timeout: None,
            max_idle_per_host: usize::MAX,
            proxies: None,
            max_header_size: 64 * 1024,
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
