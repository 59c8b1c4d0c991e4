//! Fault matrix B03: `Debug` and `Display` of requests, builders, errors, clients and
//! responses never show a credential: `Authorization`, `Proxy-Authorization` and `Cookie`
//! values, a URL's password, or a response's `Set-Cookie`. tests/secrets_tracing.rs
//! checks the logs. See docs/reliability.md.

use std::time::Duration;

use crate::support::{bounded, h1_response, write, FaultServer, Step};
use wireline::header::{HeaderMap, HeaderValue};
use wireline::{Client, Method, Request, Url};

/// Every secret the tests below hand to wireline.
const SECRETS: [&str; 7] = [
    "hunter2",
    "YWxpY2U6aHVudGVyMg==", // base64 of "alice:hunter2", the basic auth the URL becomes
    "t0p-bearer",
    "c00kie",
    "pr0xy",
    "d3fault",
    "s3ssion",
];

fn assert_hidden(what: &str, shown: &str) {
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{what} shows {secret}: {shown}");
    }
}

fn client_with_secret_defaults() -> Client {
    let mut defaults = HeaderMap::new();
    defaults.insert("authorization", "Bearer d3fault".parse().unwrap());
    defaults.insert("x-visible", "yes".parse().unwrap());
    Client::builder().default_headers(defaults).build().unwrap()
}

#[test]
fn requests_and_builders_hide_credentials() {
    let client = Client::new();
    let builder = client
        .get("https://alice:hunter2@example.test/path")
        .bearer_auth("t0p-bearer")
        .header("cookie", "id=c00kie")
        .header("PROXY-AUTHORIZATION", "Basic pr0xy");
    assert_hidden("RequestBuilder", &format!("{builder:?}"));
    let request = builder.build().unwrap();
    let shown = format!("{request:?}");
    assert_hidden("Request", &shown);
    assert!(shown.contains("example.test"), "{shown}");

    // Values set through headers_mut arrive unmarked; Debug still hides them by name.
    let mut raw = Request::new(
        Method::GET,
        Url::parse("https://alice:hunter2@example.test/").unwrap(),
    );
    raw.headers_mut().insert(
        "authorization",
        HeaderValue::from_static("Bearer t0p-bearer"),
    );
    raw.headers_mut()
        .append("cookie", HeaderValue::from_static("c00kie"));
    let shown = format!("{raw:?}");
    assert_hidden("Request built by hand", &shown);
    assert!(
        shown.contains("***"),
        "the password's place is marked: {shown}"
    );
}

#[test]
fn a_builder_that_failed_hides_what_it_was_given() {
    let builder = Client::new()
        .get("https://example.test/")
        .header("authorization", "Bearer t0p-bearer\r\nx: y");
    let shown = format!("{builder:?}");
    assert_hidden("RequestBuilder", &shown);
    let err = builder.build().unwrap_err();
    assert!(err.is_builder());
    assert_hidden("Error", &format!("{err} {err:?}"));
}

#[test]
fn clients_and_their_builders_hide_default_credentials() {
    let client = client_with_secret_defaults();
    let shown = format!("{client:?}");
    assert_hidden("Client", &shown);
    assert!(shown.contains("x-visible"), "{shown}");
    let mut defaults = HeaderMap::new();
    defaults.insert("cookie", "c00kie".parse().unwrap());
    let builder = Client::builder()
        .default_headers(defaults)
        .user_agent("agent/1");
    assert_hidden("ClientBuilder", &format!("{builder:?}"));
}

#[tokio::test]
async fn errors_hide_the_url_password_and_headers() {
    // Refused: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = bounded(
        Client::new()
            .get(format!("http://alice:hunter2@127.0.0.1:{port}/"))
            .bearer_auth("t0p-bearer")
            .header("cookie", "c00kie")
            .send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_hidden("connect Error", &format!("{err} {err:?}"));
    assert!(err.url().is_some_and(|u| u.password().is_none()));

    // A timeout, with the credentials on the wire.
    let silent = FaultServer::start(vec![Step::Read, Step::Silent]).await;
    let err = bounded(
        Client::new()
            .get(silent.url("/").replacen("://", "://alice:hunter2@", 1))
            .header("proxy-authorization", "Basic pr0xy")
            .timeout(Duration::from_millis(200))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_hidden("timeout Error", &format!("{err} {err:?}"));
    // The server did get them: hiding is for printing only.
    let sent = &silent.request_texts()[0];
    assert!(
        sent.contains("YWxpY2U6aHVudGVyMg==") && sent.contains("pr0xy"),
        "{sent}"
    );
}

#[tokio::test]
async fn responses_hide_set_cookie() {
    let server = FaultServer::start(vec![
        Step::Read,
        write(h1_response(
            "200 OK",
            &[
                ("set-cookie", "id=s3ssion; HttpOnly"),
                ("set-cookie", "other=c00kie"),
                ("x-visible", "yes"),
            ],
            b"",
        )),
    ])
    .await;
    let resp = bounded(Client::new().get(server.url("/")).send())
        .await
        .unwrap();
    let shown = format!("{resp:?}");
    assert_hidden("Response", &shown);
    assert!(
        shown.contains("set-cookie") && shown.contains("x-visible"),
        "{shown}"
    );
    // Still there to read.
    let cookies: Vec<_> = resp.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies.len(), 2);
    assert_eq!(cookies[0], "id=s3ssion; HttpOnly");
}

#[tokio::test]
async fn credential_values_are_marked_sensitive_on_the_wire() {
    // Whatever way they were set, the values reach the server intact.
    let server =
        FaultServer::start(vec![Step::Read, write(h1_response("200 OK", &[], b"ok"))]).await;
    let client = client_with_secret_defaults();
    let mut request = client.get(server.url("/")).build().unwrap();
    request
        .headers_mut()
        .insert("cookie", HeaderValue::from_static("c00kie"));
    bounded(client.execute(request)).await.unwrap();
    let sent = &server.request_texts()[0];
    assert!(sent.contains("authorization: Bearer d3fault"), "{sent}");
    assert!(sent.contains("cookie: c00kie"), "{sent}");
}

#[tokio::test]
async fn a_user_and_password_set_after_the_builder_go_as_basic_auth() {
    // The builder moves a URL's user and password to basic auth; a URL given them later
    // (`url_mut` on a built request, or `Request::new`) is checked again when sent.
    let answer = [Step::Read, write(h1_response("200 OK", &[], b"ok"))];
    let server = FaultServer::start(answer.iter().cycle().take(4).cloned().collect()).await;
    let client = Client::new();
    let mut built = client.get(server.url("/built")).build().unwrap();
    built.url_mut().set_username("alice").unwrap();
    built.url_mut().set_password(Some("hunter2")).unwrap();
    let by_hand = Request::new(
        Method::GET,
        Url::parse(
            &server
                .url("/by-hand")
                .replacen("://", "://alice:hunter2@", 1),
        )
        .unwrap(),
    );
    for request in [built, by_hand] {
        let response = bounded(client.execute(request)).await.unwrap();
        assert!(response.url().password().is_none(), "{}", response.url());
    }
    let sent = server.request_texts();
    assert_eq!(sent.len(), 2, "{sent:?}");
    for text in &sent {
        assert!(
            text.contains("authorization: Basic YWxpY2U6aHVudGVyMg=="),
            "{text}"
        );
        assert!(!text.contains("hunter2@"), "{text}");
    }
}
