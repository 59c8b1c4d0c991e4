//! HTTP proxies given to the builder: `http://` in absolute form with `Proxy-Authorization`,
//! `https://` through a CONNECT tunnel with TLS to the server (the proxy sees no
//! plaintext, the server no proxy credentials: RELIABILITY Y01), `NoProxy` rules, and
//! errors that name the proxy. `Proxy::custom` and what a proxy is sent besides its
//! credentials are in `proxy_options.rs`, SOCKS proxies in `socks.rs`, the environment's
//! proxies in `tests/proxy_env.rs`.

use crate::support::{
    basic, bounded, echo_router, http_server, https_server, proxy_server, trusting_test_ca, Leaf,
    ProxyOptions, ProxyServer, ServerOptions, TestServer,
};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wireline::{Client, ErrorKind, NoProxy, Proxy, StatusCode, TlsOptions};

#[derive(Deserialize, Debug)]
pub(super) struct Echo {
    pub(super) path: String,
    pub(super) headers: std::collections::HashMap<String, String>,
}

pub(super) async fn get(client: &Client, url: &str) -> wireline::Result<wireline::Response> {
    bounded(client.get(url).send()).await
}

pub(super) async fn echo(client: &Client, url: &str) -> Echo {
    bounded(async {
        get(client, url)
            .await
            .unwrap()
            .json::<Echo>()
            .await
            .unwrap()
    })
    .await
}

fn redirect_to(server: &TestServer, to: &str) -> String {
    let to: String = url::form_urlencoded::byte_serialize(to.as_bytes()).collect();
    server.url(&format!("/redirect?status=302&to={to}"))
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

/// What a TLS client's first record starts with: handshake (22), TLS 1.x (3).
fn starts_with_tls_handshake(bytes: &[u8]) -> bool {
    bytes.len() > 5 && bytes[0] == 0x16 && bytes[1] == 0x03
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub(super) async fn proxy() -> ProxyServer {
    proxy_server(ProxyOptions::default()).await
}

#[tokio::test]
async fn http_goes_to_the_proxy_in_absolute_form_with_its_credentials() {
    let origin = http_server(echo_router()).await;
    let proxy = proxy().await;
    let client = Client::builder()
        .proxy(Proxy::http(proxy.url_with_credentials("alice", "s3cret")).unwrap())
        .build()
        .unwrap();

    let url = origin.url("/echo?x=1");
    let echoed = echo(&client, &url).await;
    assert_eq!(echoed.path, "/echo");

    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].target, url, "absolute form");
    assert_eq!(
        seen[0].header("proxy-authorization"),
        Some(basic("alice", "s3cret").as_str())
    );
    assert_eq!(origin.requests().len(), 1, "the proxy forwarded it");
}

#[tokio::test]
async fn basic_auth_replaces_the_urls_credentials() {
    let origin = http_server(echo_router()).await;
    let proxy = proxy_server(ProxyOptions {
        require_auth: Some(basic("bob", "pw:with:colons")),
        ..ProxyOptions::default()
    })
    .await;
    let client = Client::builder()
        .proxy(
            Proxy::all(proxy.url_with_credentials("alice", "old"))
                .unwrap()
                .basic_auth("bob", "pw:with:colons"),
        )
        .build()
        .unwrap();
    let resp = get(&client, &origin.url("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn a_proxy_for_https_only_leaves_http_direct() {
    let origin = http_server(echo_router()).await;
    let proxy = proxy().await;
    let client = Client::builder()
        .proxy(Proxy::https(proxy.url()).unwrap())
        .build()
        .unwrap();
    get(&client, &origin.url("/")).await.unwrap();
    assert_eq!(proxy.accepts(), 0);
    assert_eq!(origin.requests().len(), 1);
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_tls_to_the_server() {
    let origin = https_server(ServerOptions::default()).await;
    let proxy = proxy().await;
    let client = trusting_test_ca()
        .proxy(Proxy::all(proxy.url_with_credentials("alice", "s3cret")).unwrap())
        .build()
        .unwrap();

    // By name, so the handshake carries SNI and the certificate is checked for it.
    let url = origin.url_host("localhost", "/echo?secret-path");
    let echoed = echo(&client, &url).await;
    assert!(
        !echoed.headers.contains_key("proxy-authorization"),
        "the proxy's credentials reached the server: {:?}",
        echoed.headers
    );
    assert_eq!(origin.server_names(), vec![Some("localhost".to_owned())]);

    let seen = proxy.requests();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(seen[0].target, format!("localhost:{}", origin.addr.port()));
    assert_eq!(
        seen[0].header("proxy-authorization"),
        Some(basic("alice", "s3cret").as_str())
    );
    let tunneled = proxy.tunneled();
    assert_eq!(tunneled.len(), 1);
    assert!(
        starts_with_tls_handshake(&tunneled[0]),
        "not TLS: {:?}",
        &tunneled[0][..tunneled[0].len().min(32)]
    );
    for plaintext in [&b"secret-path"[..], b"GET ", b"HTTP/1.1", b"PRI * HTTP/2"] {
        assert!(
            !contains(&tunneled[0], plaintext),
            "the proxy saw {:?} in the tunnel",
            String::from_utf8_lossy(plaintext)
        );
    }
}

#[tokio::test]
async fn tunnels_are_pooled_like_any_connection() {
    let origin = https_server(ServerOptions::default()).await;
    let proxy = proxy().await;
    let client = trusting_test_ca()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .build()
        .unwrap();
    for _ in 0..3 {
        get(&client, &origin.url("/")).await.unwrap();
    }
    assert_eq!(proxy.accepts(), 1);
    assert_eq!(proxy.requests().len(), 1, "one CONNECT");
    assert_eq!(origin.handshakes(), 1);
}

/// RELIABILITY Y01: an http:// request through a proxy with credentials, redirected to an
/// https:// server reached through the proxy's tunnel.
#[tokio::test]
async fn y01_proxy_credentials_never_reach_the_server_after_a_redirect() {
    let first = http_server(echo_router()).await;
    let second = https_server(ServerOptions::default()).await;
    let proxy = proxy().await;
    let client = trusting_test_ca()
        .proxy(Proxy::all(proxy.url_with_credentials("alice", "s3cret")).unwrap())
        .build()
        .unwrap();

    let echoed = echo(&client, &redirect_to(&first, &second.url("/echo"))).await;
    assert!(
        !echoed.headers.contains_key("proxy-authorization"),
        "{:?}",
        echoed.headers
    );
    let seen = second.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].headers.get("proxy-authorization").is_none());

    let at_proxy = proxy.requests();
    let methods: Vec<&str> = at_proxy.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["GET", "CONNECT"]);
    for request in &at_proxy {
        assert_eq!(
            request.header("proxy-authorization"),
            Some(basic("alice", "s3cret").as_str()),
            "{request:?}"
        );
    }
}

#[tokio::test]
async fn the_servers_tls_settings_apply_through_the_tunnel() {
    let origin = https_server(ServerOptions {
        leaf: Leaf::SelfSigned,
        ..ServerOptions::default()
    })
    .await;
    let proxy = proxy().await;
    let client = trusting_test_ca()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .build()
        .unwrap();
    let url = origin.url("/");

    // Verified as without a proxy: the error is the server's certificate, not the proxy.
    let err = get(&client, &url).await.unwrap_err();
    assert!(err.is_certificate(), "{err}");
    assert!(!err.is_proxy(), "{err}");
    assert!(err.to_string().contains("self-signed"), "{err}");

    // A request's own TLS settings have their own pool, which uses the proxy too.
    let resp = bounded(
        client
            .get(&url)
            .tls(TlsOptions::new().danger_accept_invalid_certs(true))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let methods: Vec<String> = proxy.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["CONNECT", "CONNECT"]);
}

#[tokio::test]
async fn no_proxy_rules_send_matching_destinations_direct() {
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port();
    let proxy = proxy().await;
    let client_bypassing = |list: &str| {
        Client::builder()
            .proxy(
                Proxy::all(proxy.url())
                    .unwrap()
                    .no_proxy(NoProxy::from_string(list)),
            )
            .build()
            .unwrap()
    };

    // IP address, CIDR network, and the wildcard: straight to the server.
    for list in ["127.0.0.1", "10.0.0.0/8, 127.0.0.0/8", "*"] {
        let before = origin.requests().len();
        get(&client_bypassing(list), &origin.url("/"))
            .await
            .unwrap();
        assert_eq!(origin.requests().len(), before + 1, "{list}");
        assert_eq!(proxy.accepts(), 0, "{list}: went through the proxy");
    }

    // Addresses and networks that don't match: through the proxy.
    for list in ["127.0.0.2", "10.0.0.0/8", "::1/128"] {
        let before = proxy.accepts();
        get(&client_bypassing(list), &origin.url("/"))
            .await
            .unwrap();
        assert_eq!(proxy.accepts(), before + 1, "{list}: went direct");
    }

    // Domain suffixes match the domain and the names under it, on a label boundary.
    // `.invalid` names resolve nowhere: one that goes direct fails its DNS lookup, one
    // that goes to the proxy arrives (the proxy connects to 127.0.0.1 for any name).
    for list in ["b.invalid", ".b.invalid"] {
        let client = client_bypassing(list);
        for host in ["b.invalid", "a.b.invalid"] {
            let err = get(&client, &format!("http://{host}:{port}/"))
                .await
                .unwrap_err();
            assert!(err.is_dns() && !err.is_proxy(), "{list} / {host}: {err}");
        }
        let before = proxy.accepts();
        let resp = get(&client, &format!("http://ab.invalid:{port}/"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(proxy.accepts(), before + 1, "{list} / ab.invalid");
    }
}

#[tokio::test]
async fn the_first_matching_proxy_wins() {
    let origin = http_server(echo_router()).await;
    let first = proxy().await;
    let second = proxy().await;
    let client = Client::builder()
        .proxy(
            Proxy::all(first.url())
                .unwrap()
                .no_proxy(NoProxy::from_string("localhost")),
        )
        .proxy(Proxy::http(second.url()).unwrap())
        .build()
        .unwrap();
    get(&client, &origin.url("/")).await.unwrap();
    get(&client, &origin.url_host("localhost", "/"))
        .await
        .unwrap();
    assert_eq!(first.requests().len(), 1);
    assert_eq!(second.requests().len(), 1);
    assert!(second.requests()[0].target.contains("//localhost:"));
}

#[tokio::test]
async fn no_proxy_on_the_builder_forgets_the_proxies_given() {
    let origin = http_server(echo_router()).await;
    let proxy = proxy().await;
    let client = Client::builder()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .no_proxy()
        .build()
        .unwrap();
    get(&client, &origin.url("/")).await.unwrap();
    assert_eq!(proxy.accepts(), 0);
}

#[tokio::test]
async fn a_407_to_connect_says_credentials_are_missing_or_wrong() {
    let origin = https_server(ServerOptions::default()).await;
    let proxy = proxy_server(ProxyOptions {
        require_auth: Some(basic("alice", "s3cret")),
        ..ProxyOptions::default()
    })
    .await;
    let via = |proxy_url: String| {
        trusting_test_ca()
            .proxy(Proxy::all(proxy_url).unwrap())
            .build()
            .unwrap()
    };

    let err = get(&via(proxy.url()), &origin.url("/")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::ProxyTunnel(StatusCode::PROXY_AUTHENTICATION_REQUIRED)
    );
    assert!(err.is_connect() && err.is_proxy(), "{err}");
    let message = err.to_string();
    for part in [proxy.url().as_str(), "407", "none were given"] {
        assert!(message.contains(part), "{part:?} missing: {message}");
    }

    let wrong = proxy.url_with_credentials("alice", "guess");
    let err = get(&via(wrong), &origin.url("/")).await.unwrap_err();
    assert!(
        err.to_string().contains("rejected the credentials"),
        "{err}"
    );
    assert!(!err.to_string().contains("guess"), "{err}");

    let right = proxy.url_with_credentials("alice", "s3cret");
    let resp = get(&via(right), &origin.url("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        origin.handshakes(),
        1,
        "only the tunnel that opened reached it"
    );
}

#[tokio::test]
async fn a_refused_connect_names_the_proxy_and_the_status() {
    let origin = https_server(ServerOptions::default()).await;
    let proxy = proxy_server(ProxyOptions {
        refuse_connect: Some(403),
        ..ProxyOptions::default()
    })
    .await;
    let client = trusting_test_ca()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .build()
        .unwrap();
    let err = get(&client, &origin.url("/")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProxyTunnel(StatusCode::FORBIDDEN));
    assert!(err.is_connect() && err.is_proxy(), "{err}");
    let message = err.to_string();
    let target = format!("127.0.0.1:{}", origin.addr.port());
    for part in [proxy.url().as_str(), "403 Forbidden", target.as_str()] {
        assert!(message.contains(part), "{part:?} missing: {message}");
    }
    assert_eq!(origin.accepts(), 0);
}

#[tokio::test]
async fn an_http_request_gets_the_proxys_407_as_its_response() {
    let origin = http_server(echo_router()).await;
    let proxy = proxy_server(ProxyOptions {
        require_auth: Some(basic("alice", "s3cret")),
        ..ProxyOptions::default()
    })
    .await;
    let client = Client::builder()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .build()
        .unwrap();
    let resp = get(&client, &origin.url("/")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PROXY_AUTHENTICATION_REQUIRED);
    assert_eq!(origin.accepts(), 0);
}

#[tokio::test]
async fn an_unreachable_proxy_is_a_connect_error_naming_it() {
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let proxy_url = format!("http://127.0.0.1:{}", closed_port());
    let client = trusting_test_ca()
        .proxy(Proxy::all(&proxy_url).unwrap())
        .build()
        .unwrap();
    for url in [http_origin.url("/"), https_origin.url("/")] {
        let err = get(&client, &url).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{url}: {err}");
        assert!(err.is_connect() && err.is_proxy(), "{url}: {err}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("could not connect to the proxy {proxy_url}")),
            "{message}"
        );
    }
    assert_eq!(http_origin.accepts() + https_origin.accepts(), 0);

    // A proxy whose name doesn't resolve: a DNS error, for the proxy's name.
    let client = Client::builder()
        .proxy(Proxy::all("http://proxy.invalid:3128").unwrap())
        .build()
        .unwrap();
    let err = get(&client, &http_origin.url("/")).await.unwrap_err();
    assert!(err.is_dns() && err.is_proxy(), "{err}");
    assert!(err.to_string().contains("proxy.invalid"), "{err}");
}

#[tokio::test]
async fn proxy_urls_are_checked_and_credentials_never_shown() {
    for unsupported in [
        "https://127.0.0.1:3128",
        #[cfg(not(feature = "socks"))]
        "socks5://127.0.0.1:1080",
        "http://",
    ] {
        let err = Proxy::all(unsupported).unwrap_err();
        assert!(err.is_builder(), "{unsupported}: {err}");
    }
    // Without the feature, a SOCKS URL's error says which feature it needs.
    #[cfg(not(feature = "socks"))]
    {
        let err = Proxy::all("socks5h://u:hunter2@127.0.0.1:1080").unwrap_err();
        assert!(err.to_string().contains("`socks` Cargo feature"), "{err}");
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
    // No scheme means http://.
    Proxy::all("127.0.0.1:3128").unwrap();

    let proxy = Proxy::all("http://alice:s3cret@127.0.0.1:3128").unwrap();
    let builder = Client::builder().proxy(proxy.clone());
    let client = Client::builder().proxy(proxy.clone()).build().unwrap();
    for shown in [
        format!("{proxy:?}"),
        format!("{builder:?}"),
        format!("{client:?}"),
    ] {
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("127.0.0.1:3128"), "{shown}");
    }
}

/// Sends `CONNECT origin.test:PORT` then `then` to the proxy at `addr`, and returns all
/// it answered until it closed.
async fn connect_by_hand(addr: std::net::SocketAddr, port: u16, then: &[u8]) -> String {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let connect =
        format!("CONNECT origin.test:{port} HTTP/1.1\r\nHost: origin.test:{port}\r\n\r\n");
    tcp.write_all(connect.as_bytes()).await.unwrap();
    tcp.write_all(then).await.unwrap();
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The support proxy itself, driven by hand: a CONNECT it refuses, and one it opens.
#[tokio::test]
async fn support_proxy_answers_connect_as_told() {
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port();
    let refusing = proxy_server(ProxyOptions {
        refuse_connect: Some(403),
        ..ProxyOptions::default()
    })
    .await;
    let answer = bounded(connect_by_hand(refusing.addr, port, b"")).await;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");

    let opening = proxy().await;
    let request = b"GET / HTTP/1.1\r\nhost: origin.test\r\nconnection: close\r\n\r\n";
    let answer = bounded(connect_by_hand(opening.addr, port, request)).await;
    assert!(
        answer.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{answer}"
    );
    assert!(answer.ends_with("hello"), "{answer}");
    assert_eq!(opening.tunneled(), vec![request.to_vec()]);
}
