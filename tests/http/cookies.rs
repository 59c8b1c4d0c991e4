//! Cookies: stored from responses (redirects included), sent back by the jar's rules
//! (Domain, Path, Secure and what plain http may not do to it, expiry), kept apart from hand-set Cookie headers at redirects,
//! and shared between clients.
//!
//! Runs with the `cookies` feature (`#[cfg(feature = "cookies")]` on its `mod` line).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::support;
use crate::support::{
    bounded, handler, http_server, https_server, response, ServerOptions, TestServer,
};
use wireline::cookie::{CookieStore, Jar};
use wireline::{Client, Url};

/// Every path: `set=<Set-Cookie value>` (repeatable) becomes a `Set-Cookie` header,
/// `to=<location>` makes it a 302 there; the body is the request's `Cookie` header
/// (empty when it had none, the values joined by " | " if several came).
fn cookie_router() -> support::Handler {
    handler(|req| async move {
        let query = req.uri().query().unwrap_or("").to_owned();
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut status = 200;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "set" => headers.push(("set-cookie".into(), value.into_owned())),
                "to" => {
                    status = 302;
                    headers.push(("location".into(), value.into_owned()));
                }
                _ => {}
            }
        }
        let sent: Vec<&str> = req
            .headers()
            .get_all("cookie")
            .iter()
            .map(|v| v.to_str().unwrap_or("<not text>"))
            .collect();
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        response(status, &headers, sent.join(" | "))
    })
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `path?set=…&set=…` on `server` at `host`.
fn setting(server: &TestServer, host: &str, path: &str, cookies: &[&str]) -> String {
    let query: Vec<String> = cookies.iter().map(|c| format!("set={}", enc(c))).collect();
    server.url_host(host, &format!("{path}?{}", query.join("&")))
}

/// The Cookie header the server received for a GET of `url` (empty: none).
async fn sent(client: &Client, url: &str) -> String {
    bounded(async { client.get(url).send().await?.text().await })
        .await
        .unwrap()
}

async fn get(client: &Client, url: &str) {
    let resp = bounded(client.get(url).send()).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
}

/// The `name=value` pairs of a Cookie header, in a set: a jar's order is not specified.
fn pairs(header: &str) -> BTreeSet<&str> {
    header.split("; ").filter(|p| !p.is_empty()).collect()
}

fn jar_client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

#[tokio::test]
async fn a_cookie_set_on_one_response_is_sent_on_the_next() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    assert_eq!(sent(&client, &server.url("/")).await, "");
    get(
        &client,
        &setting(&server, "127.0.0.1", "/", &["a=1", "b=2"]),
    )
    .await;
    assert_eq!(
        pairs(&sent(&client, &server.url("/")).await),
        pairs("a=1; b=2")
    );
    // A new value replaces the old one; a clone of the client shares the jar.
    get(&client, &setting(&server, "127.0.0.1", "/", &["a=3"])).await;
    let clone = client.clone();
    assert_eq!(
        pairs(&sent(&clone, &server.url("/")).await),
        pairs("a=3; b=2")
    );
    // Exactly one Cookie header (RFC 6265 §5.4), not one per cookie.
    let last = server.requests().pop().unwrap();
    assert_eq!(last.headers.get_all("cookie").iter().count(), 1);
}

#[tokio::test]
async fn without_a_cookie_store_nothing_is_kept_or_sent() {
    let server = http_server(cookie_router()).await;
    for client in [
        Client::new(),
        Client::builder()
            .cookie_store(true)
            .cookie_store(false)
            .build()
            .unwrap(),
    ] {
        get(&client, &setting(&server, "127.0.0.1", "/", &["a=1"])).await;
        assert_eq!(sent(&client, &server.url("/")).await, "");
    }
}

#[tokio::test]
async fn path_limits_where_a_cookie_goes() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    get(
        &client,
        &setting(&server, "127.0.0.1", "/app/login", &["p=1; Path=/app"]),
    )
    .await;
    // No Path: the directory of the URL that set it.
    get(
        &client,
        &setting(&server, "127.0.0.1", "/docs/set", &["d=1"]),
    )
    .await;
    for (path, expect) in [
        ("/app", "p=1"),
        ("/app/", "p=1"),
        ("/app/deeper/x", "p=1"),
        ("/application", ""),
        ("/", ""),
        ("/docs/page", "d=1"),
        ("/docsx", ""),
    ] {
        assert_eq!(sent(&client, &server.url(path)).await, expect, "{path}");
    }
}

#[tokio::test]
async fn a_cookie_never_reaches_a_host_its_domain_does_not_match() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    // Host-only (no Domain): 127.0.0.1 only, not localhost on the same server.
    get(&client, &setting(&server, "127.0.0.1", "/", &["ip=1"])).await;
    // Domain=localhost from localhost: localhost (and its subdomains), not the IP.
    get(
        &client,
        &setting(&server, "localhost", "/", &["named=1; Domain=localhost"]),
    )
    .await;
    // A Domain the setting host is not under is refused outright.
    get(
        &client,
        &setting(&server, "127.0.0.1", "/", &["evil=1; Domain=example.com"]),
    )
    .await;
    assert_eq!(
        sent(&client, &server.url_host("127.0.0.1", "/")).await,
        "ip=1"
    );
    assert_eq!(
        sent(&client, &server.url_host("localhost", "/")).await,
        "named=1"
    );

    // Subdomains, by the jar alone (the tests reach only loopback addresses).
    let jar = Jar::default();
    let set_from: Url = "https://www.example.test/".parse().unwrap();
    jar.add_cookie_str("wide=1; Domain=example.test", &set_from);
    jar.add_cookie_str("host=1", &set_from);
    jar.add_cookie_str("other=1; Domain=other.test", &set_from);
    jar.add_cookie_str("child=1; Domain=api.www.example.test", &set_from);
    for (url, expect) in [
        ("https://www.example.test/", "host=1; wide=1"),
        ("https://example.test/", "wide=1"),
        ("https://api.example.test/", "wide=1"),
        ("https://badexample.test/", ""),
        ("https://other.test/", ""),
        ("https://api.www.example.test/", "wide=1"),
    ] {
        let got = jar.cookies(&url.parse().unwrap());
        let got = got.as_ref().map_or("", |v| v.to_str().unwrap());
        assert_eq!(pairs(got), pairs(expect), "{url}");
    }
}

#[tokio::test]
async fn secure_cookies_go_over_https_only() {
    let server = https_server(ServerOptions {
        handler: cookie_router(),
        ..ServerOptions::default()
    })
    .await;
    let client = support::trusting_test_ca()
        .cookie_store(true)
        .build()
        .unwrap();
    get(
        &client,
        &setting(&server, "localhost", "/", &["s=1; Secure", "h=1; HttpOnly"]),
    )
    .await;
    // HttpOnly hides a cookie from scripts only: HTTP requests carry it.
    assert_eq!(
        pairs(&sent(&client, &server.url_host("localhost", "/")).await),
        pairs("s=1; h=1")
    );

    // Plain http to a host that is not loopback never gets a Secure cookie.
    let jar = Jar::default();
    let https: Url = "https://shop.example.test/".parse().unwrap();
    jar.add_cookie_str("s=1; Secure", &https);
    jar.add_cookie_str("plain=1", &https);
    let http: Url = "http://shop.example.test/".parse().unwrap();
    let both = jar.cookies(&https).unwrap();
    assert_eq!(pairs(both.to_str().unwrap()), pairs("plain=1; s=1"));
    assert_eq!(jar.cookies(&http).unwrap(), "plain=1");
}

#[test]
fn plain_http_can_neither_set_nor_touch_a_secure_cookie() {
    // RFC 6265bis "leave Secure cookies alone": what someone on the path of one http://
    // request could otherwise do to an https:// session.
    let jar = Jar::default();
    let https: Url = "https://shop.example.test/".parse().unwrap();
    let http: Url = "http://shop.example.test/".parse().unwrap();
    jar.add_cookie_str("session=good; Secure; Path=/", &https);

    jar.add_cookie_str("planted=1; Secure", &http);
    jar.add_cookie_str("session=evil; Path=/", &http);
    jar.add_cookie_str("session=evil; Path=/cart", &http);
    jar.add_cookie_str("session=; Max-Age=0", &http);
    jar.add_cookie_str("session=evil; Domain=example.test", &http);
    let https_cart: Url = "https://shop.example.test/cart".parse().unwrap();
    assert_eq!(jar.cookies(&https_cart).unwrap(), "session=good");
    assert!(jar.cookies(&http).is_none());

    // Cookies of other names still come from plain http, and https may replace its own.
    jar.add_cookie_str("theme=dark", &http);
    jar.add_cookie_str("session=renewed; Secure; Path=/", &https);
    let got = jar.cookies(&https).unwrap();
    assert_eq!(
        pairs(got.to_str().unwrap()),
        pairs("session=renewed; theme=dark")
    );
}

#[tokio::test]
async fn loopback_http_counts_as_secure_as_in_browsers() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    get(
        &client,
        &setting(&server, "127.0.0.1", "/", &["s=1; Secure"]),
    )
    .await;
    assert_eq!(sent(&client, &server.url("/")).await, "s=1");
}

#[tokio::test]
async fn expired_cookies_are_deleted_or_no_longer_sent() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    let base = server.url("/");
    get(
        &client,
        &setting(
            &server,
            "127.0.0.1",
            "/",
            &[
                "gone=1",
                "old=1",
                "short=1; Max-Age=1",
                "kept=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT",
                // Max-Age wins over Expires.
                "both=1; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ],
        ),
    )
    .await;
    assert_eq!(
        pairs(&sent(&client, &base).await),
        pairs("gone=1; old=1; short=1; kept=1; both=1")
    );
    get(
        &client,
        &setting(
            &server,
            "127.0.0.1",
            "/",
            &[
                "gone=; Max-Age=0",
                "old=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ],
        ),
    )
    .await;
    assert_eq!(
        pairs(&sent(&client, &base).await),
        pairs("short=1; kept=1; both=1")
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(pairs(&sent(&client, &base).await), pairs("kept=1; both=1"));
}

#[tokio::test]
async fn cookies_set_during_a_redirect_chain_are_kept_and_sent_on_later_hops() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    // 127.0.0.1/one sets a=1 → 127.0.0.1/two sets b=2 → localhost/three sets c=3 →
    // localhost/show, which reports what it was sent.
    let show = server.url_host("localhost", "/show");
    let three = format!(
        "{}&to={}",
        setting(&server, "localhost", "/three", &["c=3"]),
        enc(&show)
    );
    let two = format!("/two?set=b%3D2&to={}", enc(&three));
    let one = format!("/one?set=a%3D1&to={}", enc(&two));
    let resp = bounded(client.get(server.url(&one)).send()).await.unwrap();
    assert_eq!(resp.url().as_str(), show);
    // localhost was sent only its own cookie: a and b belong to 127.0.0.1.
    assert_eq!(resp.text().await.unwrap(), "c=3");
    let hops: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            let cookie = r.headers.get("cookie").map(|v| v.to_str().unwrap());
            format!("{} {}", r.uri.path(), cookie.unwrap_or("-"))
        })
        .collect();
    assert_eq!(hops, ["/one -", "/two a=1", "/three -", "/show c=3"]);
    // All three were stored.
    assert_eq!(
        pairs(&sent(&client, &server.url("/")).await),
        pairs("a=1; b=2")
    );
    assert_eq!(
        sent(&client, &server.url_host("localhost", "/")).await,
        "c=3"
    );
}

#[tokio::test]
async fn a_hand_set_cookie_stays_on_its_origin_and_the_jar_decides_for_its_own() {
    let server = http_server(cookie_router()).await;
    let client = jar_client();
    get(&client, &setting(&server, "localhost", "/", &["jar=1"])).await;

    // Same origin: the hand-set header is kept, and sent instead of the jar's.
    let same = format!("/from?to={}", enc(&server.url("/to")));
    let body = bounded(async {
        client
            .get(server.url(&same))
            .header("cookie", "manual=1")
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(body, "manual=1");

    // Another origin (127.0.0.1 → localhost): the hand-set header stays behind, and the
    // jar sends what it has for localhost.
    let cross = format!("/from?to={}", enc(&server.url_host("localhost", "/to")));
    let body = bounded(async {
        client
            .get(server.url(&cross))
            .header("cookie", "manual=1")
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(body, "jar=1");

    // Without a jar, nothing at all reaches the other origin.
    let body = bounded(async {
        Client::new()
            .get(server.url(&cross))
            .header("cookie", "manual=1")
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(body, "");
}

#[tokio::test]
async fn one_jar_shared_by_two_clients() {
    let server = http_server(cookie_router()).await;
    let jar = Arc::new(Jar::default());
    let here: Url = server.url("/").parse().unwrap();
    jar.add_cookie_str("preset=1", &here);
    let first = Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let second = Client::builder()
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    assert_eq!(sent(&first, &server.url("/")).await, "preset=1");
    get(&first, &setting(&server, "127.0.0.1", "/", &["login=ok"])).await;
    assert_eq!(
        pairs(&sent(&second, &server.url("/")).await),
        pairs("preset=1; login=ok")
    );
    assert_eq!(
        pairs(jar.cookies(&here).unwrap().to_str().unwrap()),
        pairs("preset=1; login=ok")
    );
    // A client with its own jar sees none of it.
    assert_eq!(sent(&jar_client(), &server.url("/")).await, "");
}
