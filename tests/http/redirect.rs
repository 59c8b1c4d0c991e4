//! Redirects: method and body rules, limits, bad locations, and credentials that must not
//! reach another origin.

use std::time::Duration;

use crate::support::{https_server, trusting_test_ca, ServerOptions, TestServer};
use futures_util::stream;
use serde::Deserialize;
use wireline::redirect::Policy;
use wireline::Body;

const BOUND: Duration = Duration::from_secs(15);

#[derive(Deserialize, Debug)]
struct Echo {
    method: String,
    headers: std::collections::HashMap<String, String>,
    body: String,
}

fn redirect_to(server: &TestServer, status: u16, to: &str) -> String {
    let to: String = url::form_urlencoded::byte_serialize(to.as_bytes()).collect();
    server.url(&format!("/redirect?status={status}&to={to}"))
}

async fn send(builder: wireline::RequestBuilder) -> wireline::Result<wireline::Response> {
    tokio::time::timeout(BOUND, builder.send())
        .await
        .expect("bounded")
}

async fn echo_after(builder: wireline::RequestBuilder) -> (Echo, String) {
    let resp = send(builder).await.unwrap();
    let url = resp.url().to_string();
    (resp.json::<Echo>().await.unwrap(), url)
}

#[tokio::test]
async fn follows_and_reports_the_final_url() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    let (echo, url) = echo_after(client.get(redirect_to(&server, 302, "/echo"))).await;
    assert_eq!(echo.method, "GET");
    assert_eq!(url, server.url("/echo"));
}

#[tokio::test]
async fn methods_and_bodies_change_as_specified() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    for (status, method, expect_method, expect_body) in [
        (301, "POST", "GET", ""),
        (302, "POST", "GET", ""),
        (303, "POST", "GET", ""),
        (303, "PUT", "GET", ""),
        (303, "DELETE", "GET", ""),
        (307, "POST", "POST", "payload"),
        (308, "PUT", "PUT", "payload"),
    ] {
        let method: wireline::Method = method.parse().unwrap();
        let builder = client
            .request(method.clone(), redirect_to(&server, status, "/echo"))
            .header("content-type", "text/plain")
            .body("payload");
        let (echo, _) = echo_after(builder).await;
        assert_eq!(echo.method, expect_method, "{status} {method}");
        assert_eq!(echo.body, expect_body, "{status} {method}");
        if expect_body.is_empty() {
            assert!(
                !echo.headers.contains_key("content-type"),
                "{status} {method}"
            );
        }
    }
    let resp = send(client.head(redirect_to(&server, 302, "/bytes/10")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/bytes/10");
    let heads: Vec<_> = server.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(heads.last().map(|m| m.as_str()), Some("HEAD"));
}

#[tokio::test]
async fn a_streamed_body_is_not_replayed() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    let body = Body::wrap_stream(stream::iter(vec![Ok::<_, std::io::Error>("once")]));
    let resp = send(client.post(redirect_to(&server, 307, "/echo")).body(body))
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        307,
        "returned as-is: the body can't be sent again"
    );
}

#[tokio::test]
async fn limits_and_policy_none() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca()
        .redirect(Policy::limited(3))
        .build()
        .unwrap();
    let err = send(client.get(server.url("/redirect-loop")))
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err}");
    assert!(err.to_string().contains("too many redirects"), "{err}");
    assert_eq!(server.requests().len(), 4, "the first request and 3 hops");

    let default = trusting_test_ca().build().unwrap();
    let err = send(default.get(server.url("/redirect-loop")))
        .await
        .unwrap_err();
    assert!(err.is_redirect());

    let none = trusting_test_ca().redirect(Policy::none()).build().unwrap();
    let resp = send(none.get(redirect_to(&server, 302, "/echo")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.url().path(), "/redirect");
}

#[tokio::test]
async fn locations_of_other_schemes_are_builder_errors_as_in_reqwest() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    for to in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "data:,x",
    ] {
        let err = send(client.get(redirect_to(&server, 302, to)))
            .await
            .unwrap_err();
        assert!(err.is_builder() && !err.is_redirect(), "{to}: {err}");
        assert!(err.to_string().contains("only http and https"), "{err}");
    }
}

#[tokio::test]
async fn credentials_never_follow_to_another_origin() {
    let first = https_server(ServerOptions::default()).await;
    let second = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    // Same host name, other port: another origin.
    let target = second.url("/echo");
    let url_with_password =
        redirect_to(&first, 302, &target).replace("https://", "https://user:pw@");
    let (echo, _) = echo_after(
        client
            .get(url_with_password)
            .header("cookie", "session=1")
            .header("CoOkIe", "other=2")
            .header("proxy-authorization", "Basic eHg6eXk=")
            .header("x-kept", "yes"),
    )
    .await;
    for name in ["authorization", "cookie", "proxy-authorization"] {
        assert!(
            !echo.headers.contains_key(name),
            "{name} leaked: {:?}",
            echo.headers
        );
    }
    assert_eq!(echo.headers["x-kept"], "yes");
    let first_hop = &first.requests()[0];
    assert!(
        first_hop.headers.contains_key("authorization"),
        "sent to the origin it was for"
    );

    // 127.0.0.1 → localhost on the same port: another host, still stripped.
    let other_host = first.url_host("localhost", "/echo");
    let (echo, _) = echo_after(
        client
            .get(redirect_to(&first, 307, &other_host))
            .bearer_auth("secret"),
    )
    .await;
    assert!(!echo.headers.contains_key("authorization"));

    // Same origin keeps them.
    let (echo, _) = echo_after(
        client
            .get(redirect_to(&first, 302, "/echo"))
            .bearer_auth("secret")
            .header("cookie", "a=1"),
    )
    .await;
    assert_eq!(echo.headers["authorization"], "Bearer secret");
    assert_eq!(echo.headers["cookie"], "a=1");
}

#[tokio::test]
async fn a_custom_policy_stops_at_a_host_and_sees_the_chain() {
    let server = https_server(ServerOptions::default()).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let policy = Policy::custom(move |attempt| {
        record
            .lock()
            .unwrap()
            .push((attempt.status().as_u16(), attempt.previous().len()));
        match attempt.url().host_str() {
            Some("localhost") => attempt.stop(),
            _ => attempt.follow(),
        }
    });
    let client = trusting_test_ca().redirect(policy).build().unwrap();
    // 127.0.0.1 -> 127.0.0.1 (followed) -> localhost (stopped: the 3xx is the answer).
    let to_localhost = server.url_host("localhost", "/echo");
    let second = redirect_to(&server, 307, &to_localhost);
    let resp = send(client.get(redirect_to(&server, 302, &second)))
        .await
        .unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(resp.headers()["location"], to_localhost.as_str());
    assert_eq!(*seen.lock().unwrap(), [(302, 1), (307, 2)]);
    assert_eq!(server.requests().len(), 2, "localhost was never asked");
    // An error from the policy is an is_redirect error carrying it.
    let refusing = Policy::custom(|attempt| attempt.error("not on my watch"));
    let client = trusting_test_ca().redirect(refusing).build().unwrap();
    let err = send(client.get(redirect_to(&server, 302, "/echo")))
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err}");
    assert!(err.to_string().contains("not on my watch"), "{err}");
}

#[tokio::test]
async fn no_referer_goes_from_https_to_http() {
    let secure = https_server(ServerOptions::default()).await;
    let plain = crate::support::http_server(crate::support::echo_router()).await;
    let client = trusting_test_ca().build().unwrap();
    // https -> https on the same origin: the Referer is the URL that redirected.
    let from = redirect_to(&secure, 302, "/echo");
    let (echo, _) = echo_after(client.get(&from)).await;
    assert_eq!(echo.headers.get("referer"), Some(&from));
    // https -> http: none.
    let (echo, url) = echo_after(client.get(redirect_to(&secure, 302, &plain.url("/echo")))).await;
    assert_eq!(url, plain.url("/echo"));
    assert!(!echo.headers.contains_key("referer"), "{:?}", echo.headers);
}
