//! What an HTTP proxy given to the builder is sent besides the request and its
//! credentials, with reqwest's names: a proxy chosen per URL by `Proxy::custom` (and
//! `None` going direct), `Proxy::headers` on the CONNECT and with forwarded requests but
//! never to the server, the client's `User-Agent` on the CONNECT, and a whole
//! `Proxy-Authorization` from `custom_http_auth`.

use super::proxy::{echo, get, proxy};
use crate::support::{
    echo_router, http_server, https_server, proxy_server, trusting_test_ca, ProxyOptions,
    ServerOptions,
};
use wireline::{Client, NoProxy, Proxy};

#[tokio::test]
async fn custom_chooses_a_proxy_per_url_and_none_goes_direct() {
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let proxy = proxy().await;
    let proxy_url = proxy.url();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    let client = trusting_test_ca()
        .proxy(Proxy::custom(move |url| {
            seen.lock().unwrap().push(url.to_string());
            (url.host_str() == Some("localhost")).then(|| proxy_url.clone())
        }))
        .build()
        .unwrap();

    get(&client, &http_origin.url_host("localhost", "/"))
        .await
        .unwrap();
    get(&client, &https_origin.url_host("localhost", "/"))
        .await
        .unwrap();
    get(&client, &http_origin.url("/")).await.unwrap();
    get(&client, &https_origin.url("/")).await.unwrap();

    let methods: Vec<String> = proxy.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["GET", "CONNECT"]);
    assert_eq!(http_origin.requests().len(), 2);
    assert_eq!(https_origin.requests().len(), 2);
    // Asked with the destination's scheme, host and port, once per connection and once
    // more per http:// request (for the proxy's credentials and headers).
    let asked = asked.lock().unwrap().clone();
    let http_port = http_origin.addr.port();
    let https_port = https_origin.addr.port();
    assert!(
        asked.contains(&format!("http://localhost:{http_port}/")),
        "{asked:?}"
    );
    assert!(
        asked.contains(&format!("https://localhost:{https_port}/")),
        "{asked:?}"
    );
    assert!(
        asked.contains(&format!("https://127.0.0.1:{https_port}/")),
        "{asked:?}"
    );
    assert_eq!(asked.len(), 6, "{asked:?}");

    // A URL that can't be a proxy's fails the request, saying why.
    let client = Client::builder()
        .proxy(Proxy::custom(|_| Some("ftp://u:hunter2@127.0.0.1:21")))
        .build()
        .unwrap();
    let err = get(&client, &http_origin.url("/")).await.unwrap_err();
    assert!(err.is_builder() && err.is_proxy(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("Proxy::custom") && message.contains("ftp://"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert_eq!(http_origin.requests().len(), 2);
}

#[tokio::test]
async fn proxy_headers_reach_the_proxy_on_connect_and_forwarded_requests_never_the_origin() {
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let proxy = proxy().await;
    let mut headers = wireline::header::HeaderMap::new();
    headers.insert("x-proxy-team", "payments".parse().unwrap());
    let client = trusting_test_ca()
        .proxy(
            Proxy::all(proxy.url())
                .unwrap()
                .headers(headers)
                .no_proxy(NoProxy::from_string("localhost")),
        )
        .build()
        .unwrap();

    get(&client, &http_origin.url("/")).await.unwrap();
    let echoed = echo(&client, &https_origin.url("/echo")).await;
    assert!(
        !echoed.headers.contains_key("x-proxy-team"),
        "{:?}",
        echoed.headers
    );
    let seen = proxy.requests();
    let methods: Vec<&str> = seen.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["GET", "CONNECT"]);
    for request in &seen {
        assert_eq!(
            request.header("x-proxy-team"),
            Some("payments"),
            "{request:?}"
        );
    }
    // Direct, they go nowhere.
    let echoed = echo(&client, &http_origin.url_host("localhost", "/echo")).await;
    assert!(
        !echoed.headers.contains_key("x-proxy-team"),
        "{:?}",
        echoed.headers
    );
    assert_eq!(proxy.requests().len(), 2);
}

#[tokio::test]
async fn the_user_agent_goes_on_connect_unless_proxy_headers_set_one() {
    let origin = https_server(ServerOptions::default()).await;
    let proxy = proxy().await;
    let connect_agent = |n: usize| {
        let requests = proxy.requests();
        assert_eq!(requests[n].method, "CONNECT");
        requests[n].header("user-agent").map(str::to_owned)
    };

    let default = trusting_test_ca()
        .proxy(Proxy::all(proxy.url()).unwrap())
        .build()
        .unwrap();
    get(&default, &origin.url("/")).await.unwrap();
    let agent = connect_agent(0).unwrap();
    assert!(agent.starts_with("wireline/"), "{agent}");

    let own = trusting_test_ca()
        .user_agent("my-app/1.0")
        .proxy(Proxy::all(proxy.url()).unwrap())
        .build()
        .unwrap();
    get(&own, &origin.url("/")).await.unwrap();
    assert_eq!(connect_agent(1).as_deref(), Some("my-app/1.0"));

    let mut headers = wireline::header::HeaderMap::new();
    headers.insert("user-agent", "proxy-agent/2".parse().unwrap());
    let replaced = trusting_test_ca()
        .user_agent("my-app/1.0")
        .proxy(Proxy::all(proxy.url()).unwrap().headers(headers))
        .build()
        .unwrap();
    let echoed = echo(&replaced, &origin.url("/echo")).await;
    assert_eq!(connect_agent(2).as_deref(), Some("proxy-agent/2"));
    assert_eq!(
        echoed.headers["user-agent"], "my-app/1.0",
        "the server gets the client's"
    );
}

#[tokio::test]
async fn custom_http_auth_is_the_whole_proxy_authorization() {
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let proxy = proxy_server(ProxyOptions {
        require_auth: Some("Bearer 0a1b2c".into()),
        ..ProxyOptions::default()
    })
    .await;
    let token = wireline::header::HeaderValue::from_static("Bearer 0a1b2c");
    let client = trusting_test_ca()
        .proxy(
            Proxy::all(proxy.url_with_credentials("alice", "s3cret"))
                .unwrap()
                .custom_http_auth(token),
        )
        .build()
        .unwrap();
    let resp = get(&client, &http_origin.url("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let echoed = echo(&client, &https_origin.url("/echo")).await;
    assert!(!echoed.headers.contains_key("proxy-authorization"));
    let seen = proxy.requests();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.header("proxy-authorization"), Some("Bearer 0a1b2c"));
    }
    let shown = format!("{client:?}");
    assert!(
        !shown.contains("0a1b2c") && !shown.contains("s3cret"),
        "{shown}"
    );
}
