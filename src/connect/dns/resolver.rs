//! The connector's resolver: the builder's overrides, else the resolver in use (the user's,
//! hickory's or the system's), with a typed error so callers can tell "host not found" from
//! "connection refused" (curl's exit 6 versus 7).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name as HyperName;
use tower_service::Service;

use super::{Name, Resolve};
use crate::error::{BoxError, Error, Result};

/// What the builder was told about name resolution, as plain data; [`build`](Self::build)
/// checks it and makes the [`Resolver`].
pub(crate) struct DnsSettings {
    /// `resolve` and `resolve_to_addrs`, as given; a later one for the same name wins.
    pub(crate) overrides: Vec<(String, Vec<SocketAddr>)>,
    /// `dns_resolver`.
    pub(crate) resolver: Option<Arc<dyn Resolve>>,
    /// `hickory_dns`: on by default with the feature, as in reqwest.
    #[cfg(feature = "hickory-dns")]
    pub(crate) hickory: bool,
}

impl DnsSettings {
    pub(crate) fn new() -> DnsSettings {
        DnsSettings {
            overrides: Vec::new(),
            resolver: None,
            #[cfg(feature = "hickory-dns")]
            hickory: true,
        }
    }

    /// The resolver for these settings. Fails with a builder error naming an override
    /// whose name could never be looked up: not a host name (a port or a path in it), or
    /// an IP address, which is connected to without any lookup.
    pub(crate) fn build(self) -> Result<Resolver> {
        let mut overrides = HashMap::new();
        for (domain, addrs) in self.overrides {
            let name = override_key(&domain)?;
            overrides.insert(name, addrs);
        }
        let by = match self.resolver {
            Some(given) => By::Given(given),
            #[cfg(feature = "hickory-dns")]
            None if self.hickory => By::Hickory(super::hickory::Hickory::default()),
            None => By::System,
        };
        Ok(Resolver {
            overrides: (!overrides.is_empty()).then(|| Arc::new(overrides)),
            by,
        })
    }
}

impl fmt::Debug for DnsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DnsSettings");
        d.field("overrides", &self.overrides)
            .field("custom_resolver", &self.resolver.is_some());
        #[cfg(feature = "hickory-dns")]
        d.field("hickory", &self.hickory);
        d.finish()
    }
}

/// The name an override is kept under: the host as a URL carries it (lowercase, IDNA), so
/// that `resolve("Bücher.example", …)` applies to `https://bücher.example/`.
fn override_key(domain: &str) -> Result<String> {
    let refuse = |why: &str| {
        Err(Error::builder(format!(
            "resolve/resolve_to_addrs({domain:?}): {why}; give the host name alone, as \
             in the URL (e.g. \"api.example.com\")"
        )))
    };
    if domain.is_empty() || domain.contains([':', '/', '?', '#', '@', ' ']) {
        // `Host::parse` would take "[::1]", and a port or path is a common slip.
        return refuse("not a host name");
    }
    match url::Host::parse(domain) {
        Ok(url::Host::Domain(name)) => Ok(name),
        Ok(_) => refuse(
            "an IP address is connected to without a lookup, so an override for it \
             would never apply",
        ),
        Err(e) => refuse(&format!("not a host name ({e})")),
    }
}

/// Turns a host name into addresses for hyper-util's `HttpConnector`, which then applies
/// the URL's port (see the `dns` module's docs).
#[derive(Clone)]
pub(crate) struct Resolver {
    /// `None` without overrides, so such a client never looks in a map.
    overrides: Option<Arc<HashMap<String, Vec<SocketAddr>>>>,
    by: By,
}

/// Which resolver answers the names without an override.
#[derive(Clone)]
enum By {
    /// getaddrinfo via tokio's blocking pool, as hyper-util's `GaiResolver` does.
    System,
    /// The one given to `dns_resolver`.
    Given(Arc<dyn Resolve>),
    #[cfg(feature = "hickory-dns")]
    Hickory(super::hickory::Hickory),
}

impl Resolver {
    /// The system's resolver alone, for the tests of the rooms above.
    #[cfg(test)]
    pub(crate) fn system() -> Resolver {
        Resolver {
            overrides: None,
            by: By::System,
        }
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let by = match &self.by {
            By::System => "system",
            By::Given(_) => "dns_resolver",
            #[cfg(feature = "hickory-dns")]
            By::Hickory(_) => "hickory-dns",
        };
        f.debug_struct("Resolver")
            .field("overrides", &self.overrides)
            .field("by", &by)
            .finish()
    }
}

type Addrs = std::vec::IntoIter<SocketAddr>;
type Lookup = Pin<Box<dyn Future<Output = std::result::Result<Addrs, DnsError>> + Send>>;

impl Service<HyperName> for Resolver {
    type Response = Addrs;
    type Error = DnsError;
    type Future = Lookup;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), DnsError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: HyperName) -> Lookup {
        let lookup = self.lookup(name);
        match crate::connect::clock::opening() {
            true => Box::pin(crate::connect::clock::lookup(lookup)),
            false => lookup,
        }
    }
}

impl Resolver {
    /// The addresses of `name`: the builder's overrides, else the resolver's.
    fn lookup(&mut self, name: HyperName) -> Lookup {
        if let Some(addrs) = self.overrides.as_ref().and_then(|o| o.get(name.as_str())) {
            let found = match addrs.is_empty() {
                false => Ok(addrs.clone().into_iter()),
                true => Err(DnsError::new(name.as_str(), Source::Override, None)),
            };
            return Box::pin(std::future::ready(found));
        }
        match &self.by {
            By::System => system(name),
            By::Given(resolver) => {
                let host = name.as_str().to_owned();
                let resolving = resolver.resolve(Name::new(name));
                Box::pin(async move {
                    match resolving.await {
                        Ok(addrs) => found(host, Source::Given, addrs.collect()),
                        Err(e) => Err(DnsError::new(&host, Source::Given, Some(e))),
                    }
                })
            }
            #[cfg(feature = "hickory-dns")]
            By::Hickory(hickory) => hickory.lookup(name),
        }
    }
}

fn system(name: HyperName) -> Lookup {
    Box::pin(async move {
        let host = name.as_str().to_owned();
        let looked_up = tokio::net::lookup_host((host.clone(), 0)).await;
        match looked_up {
            Ok(addrs) => found(host, Source::System, addrs.collect()),
            Err(e) => Err(DnsError::new(&host, Source::System, Some(e.into()))),
        }
    })
}

/// `addrs`, or the error for a lookup that found nothing.
pub(super) fn found(
    host: String,
    source: Source,
    addrs: Vec<SocketAddr>,
) -> std::result::Result<Addrs, DnsError> {
    if addrs.is_empty() {
        return Err(DnsError::new(&host, source, None));
    }
    Ok(addrs.into_iter())
}

/// The host name could not be resolved.
#[derive(Debug)]
pub(crate) struct DnsError {
    host: String,
    source: Source,
    /// The resolver's error; `None` when it answered with no address.
    cause: Option<BoxError>,
}

/// Which resolver failed, for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    System,
    Given,
    #[cfg(feature = "hickory-dns")]
    Hickory,
    Override,
}

impl DnsError {
    pub(super) fn new(host: &str, source: Source, cause: Option<BoxError>) -> DnsError {
        DnsError {
            host: host.to_owned(),
            source,
            cause,
        }
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.host;
        match (self.source, &self.cause) {
            (Source::System, Some(cause)) => write!(f, "could not resolve host {host}: {cause}"),
            (Source::System, None) => {
                write!(f, "could not resolve host {host}: no addresses found")
            }
            (Source::Given, Some(cause)) => write!(
                f,
                "could not resolve host {host}: the resolver given to dns_resolver failed: {cause}"
            ),
            (Source::Given, None) => write!(
                f,
                "could not resolve host {host}: the resolver given to dns_resolver found no address"
            ),
            #[cfg(feature = "hickory-dns")]
            (Source::Hickory, Some(cause)) => {
                write!(f, "could not resolve host {host} with hickory-dns: {cause}")
            }
            #[cfg(feature = "hickory-dns")]
            (Source::Hickory, None) => {
                write!(
                    f,
                    "could not resolve host {host} with hickory-dns: no addresses found"
                )
            }
            (Source::Override, _) => write!(
                f,
                "could not resolve host {host}: its override (resolve_to_addrs) lists no address"
            ),
        }
    }
}

impl std::error::Error for DnsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|e| e as _)
    }
}

/// The error of a lookup that didn't run: `io::Error`s say why better than a string.
#[cfg(feature = "hickory-dns")]
pub(super) fn unavailable(why: String) -> BoxError {
    std::io::Error::other(why).into()
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    #[test]
    fn overrides_are_kept_under_the_urls_form_of_the_name() {
        let mut settings = DnsSettings::new();
        let addr: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        settings
            .overrides
            .push(("API.Example.COM".into(), vec![addr]));
        settings
            .overrides
            .push(("bücher.example".into(), vec![addr]));
        let resolver = settings.build().unwrap();
        let overrides = resolver.overrides.expect("kept");
        assert!(overrides.contains_key("api.example.com"));
        let url = url::Url::parse("https://bücher.example/").unwrap();
        assert!(overrides.contains_key(url.host_str().unwrap()), "{url}");
    }

    #[test]
    fn an_override_that_could_never_apply_is_a_builder_error() {
        for domain in [
            "",
            "example.com:443",
            "https://example.com",
            "10.0.0.1",
            "[::1]",
        ] {
            let mut settings = DnsSettings::new();
            settings.overrides.push((domain.into(), vec![]));
            let err = settings.build().expect_err(domain);
            assert!(err.is_builder(), "{domain}: {err}");
            assert!(err.to_string().contains("resolve"), "{err}");
        }
    }

    #[test]
    fn without_overrides_no_map_is_made() {
        assert!(DnsSettings::new().build().unwrap().overrides.is_none());
    }

    #[test]
    fn each_resolver_is_named_in_its_failure() {
        let cause = || Some(io::Error::other("boom").into());
        let system = DnsError::new("h.test", Source::System, cause()).to_string();
        assert_eq!(system, "could not resolve host h.test: boom");
        let given = DnsError::new("h.test", Source::Given, cause()).to_string();
        assert!(given.contains("dns_resolver failed: boom"), "{given}");
        let empty = DnsError::new("h.test", Source::Given, None).to_string();
        assert!(empty.contains("found no address"), "{empty}");
        let unlisted = DnsError::new("h.test", Source::Override, None).to_string();
        assert!(unlisted.contains("resolve_to_addrs"), "{unlisted}");
    }
}
