//! Requests and responses through the blocking API: what requests users write first.

use serde_json::Value;
use wireline::blocking;
use wireline::{Method, StatusCode};

use crate::support::{echo_router, http_server};
use crate::{serve, within_bound};

#[test]
fn get_then_text_reads_the_body_as_requests_does() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let resp = blocking::get(server.url("/")).unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.content_length(), Some(5));
        assert_eq!(resp.remote_addr(), Some(server.addr));
        assert_eq!(resp.text().unwrap(), "hello");
    });
}

#[test]
fn query_headers_json_and_form_reach_the_server() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let echoed: Value = client
            .post(server.url("/echo"))
            .query(&[("q", "rust tls")])
            .header("x-trace", "7")
            .bearer_auth("t0ken")
            .json(&serde_json::json!({ "name": "wireline" }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(echoed["method"], "POST");
        assert_eq!(echoed["query"], "q=rust+tls");
        assert_eq!(echoed["headers"]["x-trace"], "7");
        assert_eq!(echoed["headers"]["authorization"], "Bearer t0ken");
        assert_eq!(echoed["headers"]["content-type"], "application/json");
        assert_eq!(echoed["body"], r#"{"name":"wireline"}"#);

        let echoed: Value = client
            .put(server.url("/echo"))
            .form(&[("a", "1"), ("b", "two words")])
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(echoed["method"], "PUT");
        assert_eq!(echoed["body"], "a=1&b=two+words");
    });
}

#[test]
fn text_decodes_the_charset_and_bytes_keep_the_raw_body() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let latin1 = client.get(server.url("/latin1")).send().unwrap();
        assert_eq!(latin1.text().unwrap(), "café");
        let raw = client.get(server.url("/latin1")).send().unwrap();
        assert_eq!(&raw.bytes().unwrap()[..], b"caf\xe9");
        // No charset named: the default given is used.
        let fallback = client.get(server.url("/not-utf8")).send().unwrap();
        assert_eq!(fallback.text_with_charset("latin1").unwrap(), "AÿB");
    });
}

#[test]
fn invalid_json_is_a_decode_error_naming_the_url() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let resp = blocking::get(server.url("/bad-json")).unwrap();
        let err = resp.json::<Value>().unwrap_err();
        assert!(err.is_decode(), "{err:?}");
        assert_eq!(err.url().unwrap().path(), "/bad-json");
    });
}

#[test]
fn error_for_status_turns_4xx_and_5xx_into_errors_only() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let missing = client.get(server.url("/status/404")).send().unwrap();
        assert!(missing.error_for_status_ref().is_err());
        let err = missing.error_for_status().unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
        assert_eq!(err.url().unwrap().path(), "/status/404");
        let failing = client.get(server.url("/status/503")).send().unwrap();
        assert!(failing.error_for_status().unwrap_err().is_status());
        let fine = client.get(server.url("/status/204")).send().unwrap();
        assert_eq!(fine.error_for_status().unwrap().status(), 204);
    });
}

#[test]
fn execute_sends_a_built_request_and_request_takes_any_method() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let request = client
            .request(Method::DELETE, server.url("/echo"))
            .header("x-a", "1")
            .build()
            .unwrap();
        assert_eq!(request.method(), Method::DELETE);
        let echoed: Value = client.execute(request).unwrap().json().unwrap();
        assert_eq!(echoed["method"], "DELETE");
        assert_eq!(echoed["headers"]["x-a"], "1");

        let head = client.head(server.url("/bytes/10")).send().unwrap();
        assert_eq!(head.status(), 200);
        assert_eq!(head.bytes().unwrap().len(), 0);
        assert_eq!(server.requests()[1].method, Method::HEAD);
    });
}

#[test]
fn a_builder_error_is_returned_by_send_before_anything_is_sent() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let err = blocking::Client::new()
            .get(server.url("/"))
            .header("x-evil", "a\r\nInjected: yes")
            .send()
            .unwrap_err();
        assert!(err.is_builder(), "{err:?}");
        assert!(server.requests().is_empty());
        let err = blocking::get("ftp://example.com/").unwrap_err();
        assert!(err.is_builder(), "{err:?}");
    });
}

#[test]
fn settings_shared_with_the_async_builder_apply_to_the_blocking_client() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let mut headers = wireline::header::HeaderMap::new();
        headers.insert("x-team", "payments".parse().unwrap());
        let client = blocking::Client::builder()
            .user_agent("my-script/1.0")
            .default_headers(headers)
            .build()
            .unwrap();
        let echoed: Value = client
            .get(server.url("/echo"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(echoed["headers"]["user-agent"], "my-script/1.0");
        assert_eq!(echoed["headers"]["x-team"], "payments");

        let err = blocking::Client::builder()
            .https_only(true)
            .build()
            .unwrap()
            .get(server.url("/"))
            .send()
            .unwrap_err();
        assert!(err.is_builder(), "{err:?}");
    });
}

#[cfg(feature = "cookies")]
#[test]
fn cookies_are_kept_and_read_from_responses() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let set = client
            .get(server.url("/response-headers?set-cookie=session%3Dabc"))
            .send()
            .unwrap();
        let cookies: Vec<(String, String)> = set
            .cookies()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        assert_eq!(cookies, [("session".to_owned(), "abc".to_owned())]);
        let echoed: Value = client
            .get(server.url("/echo"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(echoed["headers"]["cookie"], "session=abc");
    });
}

#[test]
fn a_blocking_client_has_the_async_builders_layers() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::builder()
            .layer(
                tower_http::set_header::SetRequestHeaderLayer::if_not_present(
                    http::header::HeaderName::from_static("x-layer"),
                    http::header::HeaderValue::from_static("inside"),
                ),
            )
            .connector_layer(tower::limit::ConcurrencyLimitLayer::new(1))
            .build()
            .unwrap();
        let echoed: Value = client
            .get(server.url("/echo"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(echoed["headers"]["x-layer"], "inside");
    });
}
