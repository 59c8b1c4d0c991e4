//! Lookups with hickory-resolver (the `hickory-dns` feature), configured from the system's
//! resolv.conf and hosts file, built at the first lookup.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use hickory_resolver::config::LookupIpStrategy;
use hickory_resolver::net::NetError;
use hickory_resolver::TokioResolver;
use hyper_util::client::legacy::connect::dns::Name as HyperName;

use super::resolver::{found, unavailable, DnsError, Source};

/// hickory's resolver, shared by the clones of a client's connectors (and so its cache).
#[derive(Clone, Default)]
pub(crate) struct Hickory {
    /// Built at the first lookup, inside the runtime (a client may be built outside one).
    /// A system configuration that can't be read stays an error: wireline does not fall
    /// back to a public resolver, which would send every name to a third party.
    state: Arc<OnceLock<Result<TokioResolver, String>>>,
}

impl Hickory {
    /// A resolver that asks `resolver` rather than the system's configuration (tests).
    #[cfg(test)]
    fn with(resolver: TokioResolver) -> Hickory {
        Hickory {
            state: Arc::new(OnceLock::from(Ok(resolver))),
        }
    }

    pub(super) fn lookup(
        &self,
        name: HyperName,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<std::vec::IntoIter<SocketAddr>, DnsError>>
                + Send,
        >,
    > {
        let state = self.state.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolver = match state.get_or_init(from_system) {
                Ok(resolver) => resolver,
                Err(why) => {
                    let why = unavailable(why.clone());
                    return Err(DnsError::new(&host, Source::Hickory, Some(why)));
                }
            };
            match resolver.lookup_ip(host.as_str()).await {
                Ok(ips) => {
                    let addrs = ips.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
                    found(host, Source::Hickory, addrs)
                }
                Err(e) => Err(DnsError::new(
                    &host,
                    Source::Hickory,
                    Some(unavailable(explain(&e))),
                )),
            }
        })
    }
}

/// The resolver the system's configuration describes, asking for both address families so
/// that hyper-util's happy eyeballs can race them (as reqwest does).
fn from_system() -> Result<TokioResolver, String> {
    let instead = "hickory_dns(false) uses the system's resolver instead";
    let mut builder = TokioResolver::builder_tokio().map_err(|e| {
        format!("the system's DNS configuration could not be read ({e}); {instead}")
    })?;
    builder.options_mut().ip_strategy = LookupIpStrategy::Ipv6AndIpv4;
    builder
        .build()
        .map_err(|e| format!("the resolver could not be built ({e}); {instead}"))
}

/// hickory's error in words: its own text for an unknown name is the debug output of the
/// query.
fn explain(e: &NetError) -> String {
    if e.is_nx_domain() {
        "no such name (NXDOMAIN)".to_owned()
    } else if e.is_no_records_found() {
        "the name has no address (no A or AAAA record)".to_owned()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};
    use std::str::FromStr;
    use std::time::Duration;

    use hickory_resolver::config::{
        ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
    };
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
    use hickory_resolver::proto::rr::rdata::A;
    use hickory_resolver::proto::rr::{RData, Record, RecordType};
    use tokio::net::UdpSocket;

    use super::*;

    /// A DNS server on 127.0.0.1 that knows one name: `known.wireline.test` has the A
    /// record 127.0.0.9 (and no AAAA); every other name is NXDOMAIN.
    async fn dns_server() -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut answer = Message::response(query.metadata.id, query.metadata.op_code);
                answer.metadata.message_type = MessageType::Response;
                answer.metadata.recursion_desired = query.metadata.recursion_desired;
                answer.metadata.recursion_available = true;
                let Some(question) = query.queries.first().cloned() else {
                    continue;
                };
                let known = question.name().to_ascii() == "known.wireline.test.";
                if !known {
                    answer.metadata.response_code = ResponseCode::NXDomain;
                } else if question.query_type() == RecordType::A {
                    let rdata = RData::A(A(Ipv4Addr::new(127, 0, 0, 9)));
                    answer.add_answer(Record::from_rdata(question.name().clone(), 60, rdata));
                }
                answer.add_query(question);
                let _ = socket.send_to(&answer.to_vec().unwrap(), from).await;
            }
        });
        (addr, task)
    }

    fn resolver_at(server: SocketAddr) -> Hickory {
        let mut connection = ConnectionConfig::udp();
        connection.port = server.port();
        let name_server = NameServerConfig::new(server.ip(), true, vec![connection]);
        let config = ResolverConfig::from_parts(None, vec![], vec![name_server]);
        let mut options = ResolverOpts::default();
        options.ip_strategy = LookupIpStrategy::Ipv6AndIpv4;
        options.timeout = Duration::from_secs(2);
        options.attempts = 1;
        let resolver = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(options)
            .build()
            .unwrap();
        Hickory::with(resolver)
    }

    #[tokio::test]
    async fn names_are_asked_of_the_configured_dns_server() {
        let (server, task) = dns_server().await;
        let hickory = resolver_at(server);
        let name = HyperName::from_str("known.wireline.test").unwrap();
        let addrs: Vec<SocketAddr> =
            tokio::time::timeout(Duration::from_secs(10), hickory.lookup(name))
                .await
                .unwrap()
                .unwrap()
                .collect();
        assert_eq!(
            addrs,
            vec![SocketAddr::new(IpAddr::from([127, 0, 0, 9]), 0)]
        );

        let name = HyperName::from_str("unknown.wireline.test").unwrap();
        let err = tokio::time::timeout(Duration::from_secs(10), hickory.lookup(name))
            .await
            .unwrap()
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("unknown.wireline.test"), "{message}");
        assert!(message.contains("NXDOMAIN"), "{message}");
        assert!(message.contains("hickory"), "{message}");
        task.abort();
    }
}
