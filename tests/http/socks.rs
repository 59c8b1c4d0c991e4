//! SOCKS proxies (`socks` feature) given to the builder: `socks5h://` and `socks4a://`
//! send the host name, `socks5://` and `socks4://` the address the client's resolver
//! found (its overrides and a custom resolver included); SOCKS5 usernames and passwords;
//! https:// through the SOCKS connection with the certificate checked for the URL's host;
//! and refusals that name the proxy and say why. The environment's SOCKS proxies are in
//! `tests/proxy_env.rs`; the support server's own bytes are checked at the end.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::support::{
    bounded, echo_router, http_server, https_server, silent_server, socks_server, trusting_test_ca,
    ServerOptions, SocksOptions, SocksServer, SocksTarget,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wireline::dns::{Addrs, Name, Resolve, Resolving};
use wireline::{CertificateErrorKind, Client, ErrorKind, NoProxy, Proxy};

async fn get(client: &Client, url: &str) -> wireline::Result<wireline::Response> {
    bounded(client.get(url).send()).await
}

async fn text(client: &Client, url: &str) -> wireline::Result<String> {
    bounded(async { get(client, url).await?.text().await }).await
}

fn through(proxy: Proxy) -> Client {
    Client::builder().proxy(proxy).build().unwrap()
}

async fn socks() -> SocksServer {
    socks_server(SocksOptions::default()).await
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

/// Answers every name with one address, recording the names asked.
struct Recording {
    to: SocketAddr,
    asked: Mutex<Vec<String>>,
}

impl Resolve for Recording {
    fn resolve(&self, name: Name) -> Resolving {
        self.asked.lock().unwrap().push(name.as_str().to_owned());
        let addrs: Addrs = Box::new(std::iter::once(self.to));
        Box::pin(async move { Ok(addrs) })
    }
}

#[tokio::test]
async fn socks5h_sends_the_host_name_and_socks5_the_address_the_client_resolved() {
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port();
    let url = format!("http://origin.test:{port}/echo");
    let proxy = socks().await;
    // Nothing resolves origin.test but this override; socks5h never needs it.
    let via = |scheme: &str| {
        Client::builder()
            .proxy(Proxy::all(proxy.url(scheme)).unwrap())
            .resolve("origin.test", "127.0.0.1:0".parse().unwrap())
            .build()
            .unwrap()
    };

    let remote = via("socks5h");
    for _ in 0..3 {
        assert!(text(&remote, &url)
            .await
            .unwrap()
            .contains("\"path\":\"/echo\""));
    }
    let local = via("socks5");
    text(&local, &url).await.unwrap();
    let targets: Vec<SocksTarget> = proxy.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            SocksTarget::Name("origin.test".into(), port),
            SocksTarget::Addr(SocketAddr::from(([127, 0, 0, 1], port))),
        ],
        "one connection each, pooled like any other"
    );
    assert_eq!(proxy.accepts(), 2);
    // In origin form, as to the server itself: a SOCKS proxy only relays bytes.
    let seen = origin.requests();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|r| r.uri == "/echo"), "{seen:?}");
}

#[tokio::test]
async fn socks5_resolves_with_the_clients_resolver_and_socks5h_leaves_it_alone() {
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port();
    let proxy = socks().await;
    let resolver = Arc::new(Recording {
        to: SocketAddr::from(([127, 0, 0, 1], 0)),
        asked: Mutex::new(Vec::new()),
    });
    let via = |scheme: &str| {
        Client::builder()
            .proxy(Proxy::all(proxy.url(scheme)).unwrap())
            .dns_resolver(resolver.clone())
            .build()
            .unwrap()
    };
    text(&via("socks5"), &format!("http://named.test:{port}/"))
        .await
        .unwrap();
    assert_eq!(*resolver.asked.lock().unwrap(), ["named.test"]);
    text(&via("socks5h"), &format!("http://other.test:{port}/"))
        .await
        .unwrap();
    assert_eq!(
        *resolver.asked.lock().unwrap(),
        ["named.test"],
        "socks5h: the proxy's to resolve"
    );
    assert_eq!(
        proxy.requests()[0].target,
        SocksTarget::Addr(SocketAddr::from(([127, 0, 0, 1], port)))
    );

    // A name the client can't resolve (an override with no address: no lookup leaves the
    // machine) is its own DNS error, not the proxy's.
    let client = Client::builder()
        .proxy(Proxy::all(proxy.url("socks5")).unwrap())
        .resolve_to_addrs("nowhere.test", &[])
        .build()
        .unwrap();
    let err = get(&client, &format!("http://nowhere.test:{port}/"))
        .await
        .unwrap_err();
    assert!(err.is_dns() && !err.is_proxy(), "{err}");
    assert!(err.to_string().contains("nowhere.test"), "{err}");
    assert_eq!(proxy.accepts(), 2, "never asked");
}

#[tokio::test]
async fn socks5_credentials_come_from_the_url_or_basic_auth() {
    let origin = http_server(echo_router()).await;
    let proxy = socks_server(SocksOptions {
        login: Some(("alice".into(), "s3cret:@".into())),
        ..SocksOptions::default()
    })
    .await;
    let addr = proxy.addr;
    let from_url = Proxy::all(format!("socks5h://alice:s3cret%3A%40@{addr}")).unwrap();
    text(&through(from_url), &origin.url("/")).await.unwrap();
    let replaced = Proxy::all(format!("socks5://alice:old@{addr}"))
        .unwrap()
        .basic_auth("alice", "s3cret:@");
    text(&through(replaced), &origin.url("/")).await.unwrap();
    let pair = ("alice".to_owned(), "s3cret:@".to_owned());
    assert_eq!(proxy.logins(), [pair.clone(), pair.clone()]);
    assert!(proxy
        .requests()
        .iter()
        .all(|r| r.login == Some(pair.clone())));
    // They stay in the SOCKS handshake: the server gets the request as sent direct.
    let seen = origin.requests();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert!(
            request.headers.get("proxy-authorization").is_none(),
            "{request:?}"
        );
        assert!(
            request.headers.get("authorization").is_none(),
            "{request:?}"
        );
    }
}

#[tokio::test]
async fn a_refused_socks5_login_says_so_and_names_the_proxy() {
    let origin = http_server(echo_router()).await;
    let proxy = socks_server(SocksOptions {
        login: Some(("alice".into(), "s3cret".into())),
        ..SocksOptions::default()
    })
    .await;
    let wrong = Proxy::all(format!("socks5h://alice:hunter2@{}", proxy.addr)).unwrap();
    let err = get(&through(wrong), &origin.url("/")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(err.is_connect() && err.is_proxy(), "{err}");
    let message = err.to_string();
    let named = format!("the SOCKS5 proxy {}", proxy.url("socks5h"));
    for part in [named.as_str(), "rejected the username and password"] {
        assert!(message.contains(part), "{part:?} missing: {message}");
    }
    assert!(!message.contains("hunter2"), "{message}");

    // None given to a proxy that wants some.
    let err = get(
        &through(Proxy::all(proxy.url("socks5h")).unwrap()),
        &origin.url("/"),
    )
    .await
    .unwrap_err();
    assert!(err.is_proxy(), "{err}");
    assert!(err.to_string().contains("requires authentication"), "{err}");
    assert!(proxy.requests().is_empty());
    assert_eq!(origin.accepts(), 0);

    // Longer than SOCKS5 can carry: refused before the proxy is asked.
    let accepts = proxy.accepts();
    let long = Proxy::all(proxy.url("socks5h"))
        .unwrap()
        .basic_auth("alice", &"x".repeat(256));
    let err = get(&through(long), &origin.url("/")).await.unwrap_err();
    assert!(err.to_string().contains("at most 255 bytes"), "{err}");
    assert_eq!(proxy.accepts(), accepts);
}

#[tokio::test]
async fn a_socks_refusal_names_the_reply_code_in_words() {
    let origin = http_server(echo_router()).await;
    let url = format!("http://origin.test:{}/", origin.addr.port());
    for (code, words) in [
        (2, "answered 2, connection not allowed by its rules"),
        (4, "answered 4, host unreachable"),
        (5, "answered 5, connection refused"),
    ] {
        let proxy = socks_server(SocksOptions {
            reply: Some(code),
            ..SocksOptions::default()
        })
        .await;
        let err = get(&through(Proxy::all(proxy.url("socks5h")).unwrap()), &url)
            .await
            .unwrap_err();
        assert!(err.is_connect() && err.is_proxy(), "{err}");
        let message = err.to_string();
        let target = format!("to origin.test:{}", origin.addr.port());
        for part in [words, target.as_str(), proxy.url("socks5h").as_str()] {
            assert!(
                message.contains(part),
                "{code}: {part:?} missing: {message}"
            );
        }
    }
    let proxy = socks_server(SocksOptions {
        reply: Some(91),
        ..SocksOptions::default()
    })
    .await;
    let err = get(&through(Proxy::all(proxy.url("socks4a")).unwrap()), &url)
        .await
        .unwrap_err();
    assert!(err.is_proxy(), "{err}");
    let message = err.to_string();
    assert!(message.contains("the SOCKS4 proxy socks4a://"), "{message}");
    assert!(
        message.contains("answered 91, request rejected"),
        "{message}"
    );
    assert_eq!(origin.accepts(), 0);
}

#[tokio::test]
async fn socks4a_sends_the_name_and_socks4_an_ipv4_address() {
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port();
    let url = format!("http://origin.test:{port}/");
    let proxy = socks().await;
    for scheme in ["socks4a", "socks4"] {
        let client = Client::builder()
            .proxy(Proxy::all(proxy.url(scheme)).unwrap())
            .resolve("origin.test", "127.0.0.1:0".parse().unwrap())
            .build()
            .unwrap();
        assert_eq!(text(&client, &url).await.unwrap(), "hello", "{scheme}");
    }
    let requests = proxy.requests();
    assert!(requests.iter().all(|r| r.version == 4), "{requests:?}");
    let targets: Vec<SocksTarget> = requests.into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [
            SocksTarget::Name("origin.test".into(), port),
            SocksTarget::Addr(SocketAddr::from(([127, 0, 0, 1], port))),
        ]
    );
    // SOCKS4 has no password, and no IPv6.
    let err = get(
        &through(
            Proxy::all(proxy.url("socks4"))
                .unwrap()
                .basic_auth("alice", "pw"),
        ),
        &url,
    )
    .await
    .unwrap_err();
    assert!(
        err.is_proxy() && err.to_string().contains("SOCKS4 takes no password"),
        "{err}"
    );
    let err = get(
        &through(Proxy::all(proxy.url("socks4a")).unwrap()),
        &format!("http://[::1]:{port}/"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("only IPv4"), "{err}");
    assert_eq!(proxy.accepts(), 2, "neither was sent");
}

#[tokio::test]
async fn https_through_socks_is_tls_to_the_server_checked_for_the_urls_host() {
    let origin = https_server(ServerOptions::default()).await;
    let proxy = socks().await;
    let client = trusting_test_ca()
        .proxy(Proxy::all(proxy.url("socks5h")).unwrap())
        .build()
        .unwrap();
    let body = text(&client, &origin.url_host("localhost", "/echo?secret-path"))
        .await
        .unwrap();
    assert!(body.contains("secret-path"), "{body}");
    assert_eq!(origin.server_names(), vec![Some("localhost".to_owned())]);
    let tunneled = proxy.tunneled();
    assert_eq!(tunneled.len(), 1);
    assert!(
        tunneled[0].len() > 5 && tunneled[0][0] == 0x16 && tunneled[0][1] == 0x03,
        "not TLS: {:?}",
        &tunneled[0][..tunneled[0].len().min(16)]
    );
    assert!(!tunneled[0].windows(11).any(|w| w == b"secret-path"));

    // The proxy reaches the server for origin.test, whose certificate names localhost:
    // refused for the URL's host, as without a proxy, and not the proxy's failure.
    let url = format!("https://origin.test:{}/", origin.addr.port());
    let err = get(&client, &url).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::NameMismatch),
        "{err}"
    );
    assert!(!err.is_proxy(), "{err}");
    assert_eq!(
        proxy.requests()[1].target,
        SocksTarget::Name("origin.test".into(), origin.addr.port())
    );
}

#[tokio::test]
async fn socks_proxies_follow_the_same_rules_as_http_ones() {
    let origin = http_server(echo_router()).await;
    let proxy = socks().await;
    let url = origin.url_host("localhost", "/");
    // Scope: an https-only proxy leaves http:// direct.
    text(&through(Proxy::https(proxy.url("socks5h")).unwrap()), &url)
        .await
        .unwrap();
    // NoProxy.
    let bypassed = Proxy::all(proxy.url("socks5h"))
        .unwrap()
        .no_proxy(NoProxy::from_string("localhost"));
    text(&through(bypassed), &url).await.unwrap();
    assert_eq!(proxy.accepts(), 0);
    // Proxy::custom, per host.
    let socks_url = proxy.url("socks5h");
    let custom =
        Proxy::custom(move |url| (url.host_str() == Some("localhost")).then(|| socks_url.clone()));
    let client = through(custom);
    text(&client, &url).await.unwrap();
    text(&client, &origin.url("/")).await.unwrap();
    let targets: Vec<SocksTarget> = proxy.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        targets,
        [SocksTarget::Name("localhost".into(), origin.addr.port())]
    );
    assert_eq!(origin.requests().len(), 4);
}

#[tokio::test]
async fn an_unreachable_socks_proxy_is_a_connect_error_naming_it() {
    let origin = http_server(echo_router()).await;
    let proxy_url = format!("socks5h://127.0.0.1:{}", closed_port());
    let err = get(&through(Proxy::all(&proxy_url).unwrap()), &origin.url("/"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(err.is_proxy(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains(&format!("could not connect to the proxy {proxy_url}")),
        "{message}"
    );
    // No port: 1080, as curl and reqwest.
    let default = Proxy::all("socks5h://127.0.0.1").unwrap();
    assert!(
        format!("{default:?}").contains("127.0.0.1:1080"),
        "{default:?}"
    );
}

#[tokio::test]
async fn a_socks_proxy_that_never_answers_is_cut_off_by_connect_timeout() {
    let silent = silent_server().await;
    let client = Client::builder()
        .proxy(Proxy::all(format!("socks5h://{}", silent.addr)).unwrap())
        .connect_timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = get(&client, "http://origin.test/").await.unwrap_err();
    assert!(err.is_timeout() && err.is_connect(), "{err}");
    assert!(
        err.to_string().contains("connect timeout of 200ms"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// The support server, driven by hand with the RFC's bytes: SOCKS5 with a user and
/// password and a host name, then SOCKS4a.
#[tokio::test]
async fn support_socks_server_speaks_the_rfcs() {
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port().to_be_bytes();
    let proxy = socks_server(SocksOptions {
        login: Some(("u".into(), "p".into())),
        ..SocksOptions::default()
    })
    .await;
    let request = b"GET / HTTP/1.1\r\nhost: origin.test\r\nconnection: close\r\n\r\n";
    let answer = bounded(async {
        let mut tcp = tokio::net::TcpStream::connect(proxy.addr).await.unwrap();
        let mut sent = vec![5, 1, 2, 1, 1, b'u', 1, b'p', 5, 1, 0, 3, 11];
        sent.extend_from_slice(b"origin.test");
        sent.extend_from_slice(&port);
        sent.extend_from_slice(request);
        tcp.write_all(&sent).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        answer
    })
    .await;
    // Method 2, login accepted, then success bound to an IPv4 address, then the response.
    assert_eq!(&answer[..7], [5, 2, 1, 0, 5, 0, 0]);
    assert_eq!(answer[7], 1);
    assert!(
        answer[14..].starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{answer:?}"
    );
    assert_eq!(
        proxy.requests()[0].target,
        SocksTarget::Name("origin.test".into(), origin.addr.port())
    );

    let open = socks().await;
    let answer = bounded(async {
        let mut tcp = tokio::net::TcpStream::connect(open.addr).await.unwrap();
        let mut sent = vec![4, 1, port[0], port[1], 0, 0, 0, 1, b'i', b'd', 0];
        sent.extend_from_slice(b"origin.test\0");
        sent.extend_from_slice(request);
        tcp.write_all(&sent).await.unwrap();
        let mut answer = Vec::new();
        tcp.read_to_end(&mut answer).await.unwrap();
        answer
    })
    .await;
    assert_eq!(&answer[..2], [0, 90]);
    assert!(
        answer[8..].starts_with(b"HTTP/1.1 200 OK\r\n"),
        "{answer:?}"
    );
}
