//! Name resolution through the system resolver, with a typed error so callers can tell
//! "host not found" from "connection refused" (curl's exit 6 versus 7).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use tower_service::Service;

/// The host name could not be resolved.
#[derive(Debug)]
pub(crate) struct DnsError {
    host: String,
    source: io::Error,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve host {}: {}", self.host, self.source)
    }
}

impl std::error::Error for DnsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// getaddrinfo via tokio's blocking pool, as hyper-util's `GaiResolver` does.
#[derive(Clone, Debug, Default)]
pub(crate) struct Resolver;

type Addrs = std::vec::IntoIter<SocketAddr>;

impl Service<Name> for Resolver {
    type Response = Addrs;
    type Error = DnsError;
    type Future = Pin<Box<dyn Future<Output = Result<Addrs, DnsError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), DnsError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.clone(), 0)).await;
            match found {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if addrs.is_empty() {
                        let source = io::Error::new(io::ErrorKind::NotFound, "no addresses found");
                        return Err(DnsError { host, source });
                    }
                    Ok(addrs.into_iter())
                }
                Err(source) => Err(DnsError { host, source }),
            }
        })
    }
}
