//! Name resolution: `resolve` and `resolve_to_addrs` overrides (TLS still checks the URL's
//! name), the port rule, a custom `dns_resolver` (counted, failing, empty), what a proxy's
//! name goes through, and with the `hickory-dns` feature, hickory's resolver offline.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::support::{
    bounded, echo_router, http_server, https_server, https_server_with_chain, pki, proxy_server,
    trusting_test_ca, ProxyOptions, ServerOptions, TestServer,
};
use wireline::dns::{Addrs, Name, Resolve, Resolving};
use wireline::{CertificateErrorKind, Client, ErrorKind, Proxy};

/// An HTTPS server whose certificate names `example.test` only.
async fn example_test_server() -> TestServer {
    let (chain, key) = pki().leaf_for(&["example.test"]);
    https_server_with_chain(chain, key).await
}

/// A port on 127.0.0.1 where nothing listens: connections to it are refused at once.
fn dead_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

async fn text(client: &Client, url: &str) -> wireline::Result<String> {
    bounded(async { client.get(url).send().await?.text().await }).await
}

#[tokio::test]
async fn an_override_sends_the_url_to_its_address_and_tls_checks_the_urls_name() {
    let server = example_test_server().await;
    let client = trusting_test_ca()
        .resolve("example.test", server.addr)
        .build()
        .unwrap();
    let url = format!("https://example.test:{}/", server.addr.port());
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(server.server_names(), vec![Some("example.test".to_owned())]);
}

#[tokio::test]
async fn an_override_to_a_server_whose_certificate_doesnt_name_the_host_is_a_name_mismatch() {
    // Leaf::Valid names localhost, 127.0.0.1 and ::1, not example.test.
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca()
        .resolve("example.test", server.addr)
        .build()
        .unwrap();
    let url = format!("https://example.test:{}/", server.addr.port());
    let err = text(&client, &url).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::NameMismatch),
        "{err}"
    );
    assert!(err.to_string().contains("example.test"), "{err}");
}

#[tokio::test]
async fn override_names_match_as_the_url_writes_them() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .resolve("EXAMPLE.Test", server.addr)
        .build()
        .unwrap();
    let url = format!("http://example.test:{}/", server.addr.port());
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
}

#[tokio::test]
async fn an_override_that_could_never_apply_fails_the_build() {
    let addr = dead_addr();
    for domain in ["example.test:443", "127.0.0.1", ""] {
        let err = Client::builder().resolve(domain, addr).build().unwrap_err();
        assert!(err.is_builder(), "{domain}: {err}");
        assert!(err.to_string().contains("resolve"), "{domain}: {err}");
    }
}

#[tokio::test]
async fn resolve_to_addrs_passes_a_dead_address_for_a_live_one() {
    let server = http_server(echo_router()).await;
    let dead = dead_addr();
    // No port in the URL: each address keeps its own, so the first one is refused.
    let client = Client::builder()
        .resolve_to_addrs("example.test", &[dead, server.addr])
        .build()
        .unwrap();
    assert_eq!(
        text(&client, "http://example.test/").await.unwrap(),
        "hello"
    );
    assert_eq!(server.accepts(), 1);

    let only_dead = Client::builder()
        .resolve_to_addrs("example.test", &[dead])
        .build()
        .unwrap();
    let err = text(&only_dead, "http://example.test/").await.unwrap_err();
    assert!(err.is_connect() && !err.is_dns(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Connect);
}

#[tokio::test]
async fn an_empty_override_is_a_dns_error_naming_it() {
    let client = Client::builder()
        .resolve_to_addrs("example.test", &[])
        .build()
        .unwrap();
    let err = text(&client, "http://example.test:1/").await.unwrap_err();
    assert!(err.is_dns() && err.is_connect(), "{err}");
    assert!(err.to_string().contains("resolve_to_addrs"), "{err}");
}

#[tokio::test]
async fn a_port_in_the_url_wins_over_the_overrides_port() {
    let server = http_server(echo_router()).await;
    let client = Client::builder()
        .resolve("example.test", dead_addr())
        .build()
        .unwrap();
    let url = format!("http://example.test:{}/", server.addr.port());
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
}

#[tokio::test]
async fn without_a_port_in_the_url_the_overrides_port_is_used() {
    let server = example_test_server().await;
    let client = trusting_test_ca()
        .resolve("example.test", server.addr)
        .build()
        .unwrap();
    // Without the override's port this would go to 443.
    assert_eq!(
        text(&client, "https://example.test/").await.unwrap(),
        "hello"
    );
}

#[tokio::test]
async fn port_zero_takes_the_urls_port_or_the_schemes() {
    let server = http_server(echo_router()).await;
    let zero = SocketAddr::from(([127, 0, 0, 1], 0));
    let client = Client::builder()
        .resolve("example.test", zero)
        .build()
        .unwrap();
    let url = format!("http://example.test:{}/", server.addr.port());
    assert_eq!(text(&client, &url).await.unwrap(), "hello");

    // Without a port in the URL, port 0 is the scheme's: 80 for http. Binding port 80
    // needs root (as in CI); an address of 127/8 of our own keeps clear of any server.
    let listener = match tokio::net::TcpListener::bind("127.77.0.1:80").await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("port_zero_takes_the_urls_port_or_the_schemes: port 80 skipped: {e}");
            return;
        }
    };
    let accepted = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = [0u8; 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut tcp, &mut head).await;
        let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nport 80";
        tokio::io::AsyncWriteExt::write_all(&mut tcp, reply)
            .await
            .unwrap();
    });
    let client = Client::builder()
        .resolve("example.test", SocketAddr::from(([127, 77, 0, 1], 0)))
        .build()
        .unwrap();
    assert_eq!(
        text(&client, "http://example.test/").await.unwrap(),
        "port 80"
    );
    bounded(accepted).await.unwrap();
}

/// A resolver that sends every name to `to` and records the names it was asked for.
struct Recording {
    to: SocketAddr,
    asked: Mutex<Vec<String>>,
}

impl Recording {
    fn new(to: SocketAddr) -> Arc<Recording> {
        Arc::new(Recording {
            to,
            asked: Mutex::new(Vec::new()),
        })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Resolve for Recording {
    fn resolve(&self, name: Name) -> Resolving {
        self.asked.lock().unwrap().push(name.as_str().to_owned());
        let addrs: Addrs = Box::new(std::iter::once(self.to));
        Box::pin(async move { Ok(addrs) })
    }
}

#[tokio::test]
async fn a_custom_resolver_is_asked_once_per_connection() {
    let server = http_server(echo_router()).await;
    let resolver = Recording::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    let client = Client::builder()
        .dns_resolver(resolver.clone())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let url = format!("http://counted.test:{}/", server.addr.port());
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(resolver.asked(), vec!["counted.test", "counted.test"]);

    // Pooled, the second request reuses the connection and asks nothing.
    let resolver = Recording::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    let client = Client::builder()
        .dns_resolver(resolver.clone())
        .build()
        .unwrap();
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(resolver.asked(), vec!["counted.test"]);
    // An IP address in the URL is never resolved.
    assert_eq!(text(&client, &server.url("/")).await.unwrap(), "hello");
    assert_eq!(resolver.asked().len(), 1);
}

#[tokio::test]
async fn a_resolvers_own_port_is_kept_when_the_url_has_none() {
    let server = example_test_server().await;
    let resolver = Recording::new(server.addr);
    // The resolver given as a plain value, and as an `Arc<dyn Resolve>`.
    let as_dyn: Arc<dyn Resolve> = resolver.clone();
    let client = trusting_test_ca().dns_resolver(as_dyn).build().unwrap();
    assert_eq!(
        text(&client, "https://example.test/").await.unwrap(),
        "hello"
    );
    assert_eq!(resolver.asked(), vec!["example.test"]);
    let by_value = trusting_test_ca()
        .dns_resolver(Recording {
            to: server.addr,
            asked: Mutex::new(Vec::new()),
        })
        .build()
        .unwrap();
    assert_eq!(
        text(&by_value, "https://example.test/").await.unwrap(),
        "hello"
    );
}

#[tokio::test]
async fn overrides_come_before_the_custom_resolver() {
    let server = http_server(echo_router()).await;
    let resolver = Recording::new(dead_addr());
    let client = Client::builder()
        .dns_resolver(resolver.clone())
        .resolve("pinned.test", server.addr)
        .build()
        .unwrap();
    let url = format!("http://pinned.test:{}/", server.addr.port());
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert!(resolver.asked().is_empty(), "{:?}", resolver.asked());
}

/// A resolver that fails every lookup with the registry's words.
struct Failing;

impl Resolve for Failing {
    fn resolve(&self, name: Name) -> Resolving {
        let message = format!("service registry has no entry for {}", name.as_str());
        Box::pin(async move { Err(message.into()) })
    }
}

/// A resolver that answers with no address at all.
struct Empty(AtomicUsize);

impl Resolve for Empty {
    fn resolve(&self, _name: Name) -> Resolving {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move { Ok(Box::new(std::iter::empty()) as Addrs) })
    }
}

#[tokio::test]
async fn a_failing_resolver_is_a_dns_error_naming_the_host_and_its_error() {
    let client = Client::builder().dns_resolver(Failing).build().unwrap();
    let err = text(&client, "http://billing.internal/").await.unwrap_err();
    assert!(err.is_dns() && err.is_connect(), "{err}");
    assert_eq!(err.kind(), ErrorKind::Dns);
    let message = err.to_string();
    assert!(
        message.contains("could not resolve host billing.internal"),
        "{message}"
    );
    assert!(message.contains("dns_resolver"), "{message}");
    assert!(
        message.contains("service registry has no entry for billing.internal"),
        "{message}"
    );

    let empty = Arc::new(Empty(AtomicUsize::new(0)));
    let client = Client::builder()
        .dns_resolver(empty.clone())
        .build()
        .unwrap();
    let err = text(&client, "http://billing.internal/").await.unwrap_err();
    assert!(err.is_dns(), "{err}");
    assert!(err.to_string().contains("found no address"), "{err}");
    assert_eq!(empty.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_proxys_name_goes_through_the_overrides_and_the_resolver() {
    let proxy = proxy_server(ProxyOptions::default()).await;
    let origin = http_server(echo_router()).await;
    let proxy_url = format!("http://proxy.test:{}", proxy.addr.port());
    // The proxy connects to 127.0.0.1 for any name: origin.test needs no lookup here.
    let url = format!("http://origin.test:{}/", origin.addr.port());

    let client = Client::builder()
        .proxy(Proxy::all(&proxy_url).unwrap())
        .resolve("proxy.test", proxy.addr)
        .build()
        .unwrap();
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(proxy.accepts(), 1);

    let resolver = Recording::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    let client = Client::builder()
        .proxy(Proxy::all(&proxy_url).unwrap())
        .dns_resolver(resolver.clone())
        .build()
        .unwrap();
    assert_eq!(text(&client, &url).await.unwrap(), "hello");
    assert_eq!(
        resolver.asked(),
        vec!["proxy.test"],
        "the destination is the proxy's to resolve"
    );
    assert_eq!(proxy.accepts(), 2);

    // A resolver that fails: a DNS error of the proxy's.
    let client = Client::builder()
        .proxy(Proxy::all(&proxy_url).unwrap())
        .dns_resolver(Failing)
        .build()
        .unwrap();
    let err = text(&client, &url).await.unwrap_err();
    assert!(err.is_dns() && err.is_proxy(), "{err}");
    assert!(err.to_string().contains("proxy.test"), "{err}");
}

#[cfg(feature = "hickory-dns")]
mod hickory {
    use super::*;

    #[tokio::test]
    async fn hickory_resolves_localhost_offline() {
        let server = http_server(echo_router()).await;
        let client = Client::builder().hickory_dns(true).build().unwrap();
        let url = server.url_host("localhost", "/");
        assert_eq!(text(&client, &url).await.unwrap(), "hello");
    }

    /// hickory answers `.invalid` names itself (RFC 6761) with NXDOMAIN, which its error
    /// names; the system's resolver asks the network and says something else. The message
    /// tells which resolver ran.
    #[tokio::test]
    async fn hickory_dns_switches_the_resolver() {
        let client = Client::builder().hickory_dns(true).build().unwrap();
        let err = text(&client, "http://nothing.invalid/").await.unwrap_err();
        assert!(err.is_dns() && err.is_connect(), "{err}");
        let message = err.to_string();
        assert!(message.contains("nothing.invalid"), "{message}");
        assert!(
            message.contains("hickory-dns: no such name (NXDOMAIN)"),
            "{message}"
        );

        for client in [
            Client::builder().hickory_dns(false).build().unwrap(),
            Client::builder().no_hickory_dns().build().unwrap(),
        ] {
            let err = text(&client, "http://nothing.invalid/").await.unwrap_err();
            assert!(err.is_dns(), "{err}");
            assert!(!err.to_string().contains("hickory"), "{err}");
        }
    }
}
