//! Requests and responses: methods, headers, bodies, decoding, status errors, bad input.

use std::time::Duration;

use crate::support;
use crate::support::{
    bounded, http_server, https_server, pki, raw_server, write_temp, ServerOptions,
};
use futures_util::StreamExt;
use serde::Deserialize;
use wireline::{Client, ErrorKind, Method};

#[derive(Deserialize, Debug)]
struct Echo {
    method: String,
    #[allow(dead_code)]
    path: String,
    query: Option<String>,
    headers: std::collections::HashMap<String, String>,
    body: String,
}

fn client() -> Client {
    Client::builder()
        .ca_file(write_temp("ca.pem", &pki().root_pem))
        .build()
        .unwrap()
}

async fn echo(builder: wireline::RequestBuilder) -> Echo {
    bounded(async {
        builder
            .send()
            .await?
            .error_for_status()?
            .json::<Echo>()
            .await
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn one_shot_get_over_plain_http() {
    let server = http_server(support::echo_router()).await;
    let text = bounded(async { wireline::get(server.url("/")).await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "hello");
}

#[tokio::test]
async fn methods_headers_query_and_bodies_arrive() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    let e = echo(
        client
            .get(server.url("/echo"))
            .query(&[("q", "rust tls"), ("n", "1")]),
    )
    .await;
    assert_eq!(e.method, "GET");
    assert_eq!(e.query.as_deref(), Some("q=rust+tls&n=1"));
    assert!(e.headers["user-agent"].starts_with("wireline/"));
    assert_eq!(e.headers["accept"], "*/*");

    let e = echo(
        client
            .post(server.url("/echo"))
            .header("x-one", "1")
            .header("x-one", "2")
            .json(&serde_json::json!({"k": "v"})),
    )
    .await;
    assert_eq!(e.method, "POST");
    assert_eq!(e.headers["x-one"], "1, 2");
    assert_eq!(e.headers["content-type"], "application/json");
    assert_eq!(e.body, r#"{"k":"v"}"#);

    let e = echo(
        client
            .put(server.url("/echo"))
            .form(&[("a", "b c"), ("d", "&")]),
    )
    .await;
    assert_eq!(e.method, "PUT");
    assert_eq!(
        e.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(e.body, "a=b+c&d=%26");

    let e = echo(client.patch(server.url("/echo")).body("raw bytes")).await;
    assert_eq!((e.method.as_str(), e.body.as_str()), ("PATCH", "raw bytes"));
    let e = echo(client.delete(server.url("/echo"))).await;
    assert_eq!(e.method, "DELETE");
    let e = echo(client.request(Method::OPTIONS, server.url("/echo"))).await;
    assert_eq!(e.method, "OPTIONS");

    let resp = bounded(client.head(server.url("/bytes/100")).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(bounded(resp.bytes()).await.unwrap().is_empty());
}

#[tokio::test]
async fn auth_helpers_and_default_headers() {
    let server = https_server(ServerOptions::default()).await;
    let mut defaults = wireline::header::HeaderMap::new();
    defaults.insert("x-team", "core".parse().unwrap());
    let client = Client::builder()
        .ca_file(write_temp("ca.pem", &pki().root_pem))
        .default_headers(defaults)
        .user_agent("tests/1.0")
        .build()
        .unwrap();
    let e = echo(client.get(server.url("/echo")).basic_auth("al", Some("pw"))).await;
    assert_eq!(e.headers["authorization"], "Basic YWw6cHc=");
    assert_eq!(e.headers["x-team"], "core");
    assert_eq!(e.headers["user-agent"], "tests/1.0");
    let e = echo(client.get(server.url("/echo")).bearer_auth("t0k")).await;
    assert_eq!(e.headers["authorization"], "Bearer t0k");
    let e = echo(client.get(server.url("/echo")).header("x-team", "mine")).await;
    assert_eq!(
        e.headers["x-team"], "mine",
        "request headers win over defaults"
    );

    let with_userinfo = server
        .url("/echo")
        .replace("https://", "https://u%40x:p%3Aw@");
    let e = echo(client.get(with_userinfo)).await;
    // base64("u@x:p:w")
    assert_eq!(e.headers["authorization"], "Basic dUB4OnA6dw==");
}

#[tokio::test]
async fn build_then_execute() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    let request = client.get(server.url("/json")).build().unwrap();
    assert_eq!(request.method(), Method::GET);
    let resp = bounded(client.execute(request)).await.unwrap();
    let v: serde_json::Value = bounded(resp.json()).await.unwrap();
    assert_eq!(v["b"], "two");
}

#[tokio::test]
async fn response_accessors() {
    let server = https_server(ServerOptions::default()).await;
    let resp = bounded(client().get(server.url("/bytes/1000")).send())
        .await
        .unwrap();
    assert_eq!(resp.url().as_str(), server.url("/bytes/1000"));
    assert_eq!(resp.remote_addr(), Some(server.addr));
    assert_eq!(resp.content_length(), Some(1000));
    assert_eq!(bounded(resp.bytes()).await.unwrap().len(), 1000);
}

#[tokio::test]
async fn chunk_and_stream_read_the_same_bytes() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    let url = server.url("/bytes/300000");
    let whole = bounded(async { client.get(&url).send().await?.bytes().await })
        .await
        .unwrap();
    let mut resp = bounded(client.get(&url).send()).await.unwrap();
    let mut chunked = Vec::new();
    while let Some(chunk) = bounded(resp.chunk()).await.unwrap() {
        chunked.extend_from_slice(&chunk);
    }
    let mut stream = bounded(client.get(&url).send())
        .await
        .unwrap()
        .bytes_stream();
    let mut streamed = Vec::new();
    while let Some(chunk) = bounded(stream.next()).await {
        streamed.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(whole.len(), 300_000);
    assert_eq!(&whole[..], &chunked[..]);
    assert_eq!(&whole[..], &streamed[..]);
}

#[tokio::test]
async fn text_honours_the_charset_and_replaces_invalid_utf8() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    let latin1 = bounded(async { client.get(server.url("/latin1")).send().await?.text().await });
    assert_eq!(latin1.await.unwrap(), "café");
    let lossy = bounded(async {
        client
            .get(server.url("/not-utf8"))
            .send()
            .await?
            .text()
            .await
    });
    assert_eq!(lossy.await.unwrap(), "A\u{FFFD}B");
}

#[tokio::test]
async fn invalid_json_is_a_decode_error() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    let err = bounded(async {
        client
            .get(server.url("/bad-json"))
            .send()
            .await?
            .json::<serde_json::Value>()
            .await
    })
    .await
    .unwrap_err();
    assert!(err.is_decode(), "{err}");
    assert!(err.to_string().contains("/bad-json"), "{err}");
}

#[tokio::test]
async fn error_for_status_reports_4xx_and_5xx() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    for code in [404u16, 500] {
        let resp = bounded(client.get(server.url(&format!("/status/{code}"))).send())
            .await
            .unwrap();
        assert!(resp.error_for_status_ref().is_err());
        let err = resp.error_for_status().unwrap_err();
        assert!(err.is_status());
        assert_eq!(err.status().map(|s| s.as_u16()), Some(code));
        assert!(err.to_string().contains(&code.to_string()), "{err}");
    }
    let ok = bounded(client.get(server.url("/status/204")).send())
        .await
        .unwrap();
    let ok = ok.error_for_status().unwrap();
    assert!(bounded(ok.bytes()).await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_headers_are_builder_errors_and_nothing_is_sent() {
    let server = https_server(ServerOptions::default()).await;
    let client = client();
    let cases: Vec<wireline::RequestBuilder> = vec![
        client
            .get(server.url("/"))
            .header("x-a", "line\r\nInjected: 1"),
        client.get(server.url("/")).header("x-a", "nul\0byte"),
        client.get(server.url("/")).header("x-a", "bare\nlf"),
        client.get(server.url("/")).header("bad name", "v"),
        client.get(server.url("/")).header("x-a:b", "v"),
        client.get(server.url("/")).bearer_auth("a\r\nb"),
    ];
    for builder in cases {
        let err = bounded(builder.send()).await.unwrap_err();
        assert!(err.is_builder(), "{err}");
    }
    let err = Client::builder().user_agent("a\nb").build().unwrap_err();
    assert!(err.is_builder());
    assert_eq!(server.accepts(), 0, "no connection for invalid requests");
}

#[tokio::test]
async fn bad_urls_are_builder_errors() {
    for url in [
        "not a url",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "http://",
        "https://exa mple.com/",
    ] {
        let err = bounded(wireline::get(url)).await.unwrap_err();
        assert!(err.is_builder(), "{url}: {err}");
        assert_eq!(err.kind(), ErrorKind::InvalidUrl, "{url}");
    }
}

#[tokio::test]
async fn unresolvable_host_is_dns_and_connect() {
    let err = bounded(wireline::get("http://no-such-host.invalid/"))
        .await
        .unwrap_err();
    assert!(err.is_dns() && err.is_connect(), "{err:?}");
    assert!(err.to_string().contains("no-such-host.invalid"), "{err}");
}

#[tokio::test]
async fn refused_connection_is_connect_not_dns() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = bounded(wireline::get(format!("http://{addr}/")))
        .await
        .unwrap_err();
    assert!(err.is_connect() && !err.is_dns(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Connect);
}

#[tokio::test]
async fn body_shorter_than_content_length_is_a_body_error() {
    let server = raw_server(|mut conn| async move {
        conn.read_request().await;
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
            .await;
    })
    .await;
    let err = bounded(async {
        wireline::get(format!("http://{}/", server.addr))
            .await?
            .bytes()
            .await
    })
    .await
    .unwrap_err();
    assert!(err.is_body(), "{err:?}");
}

#[tokio::test]
async fn timeout_bounds_the_wait_for_the_response() {
    let server = https_server(ServerOptions::default()).await;
    let client = Client::builder()
        .ca_file(write_temp("ca.pem", &pki().root_pem))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = bounded(client.get(server.url("/slow?ms=5000")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // A per-request timeout overrides the client's.
    let resp = bounded(
        client
            .get(server.url("/slow?ms=500"))
            .timeout(Duration::from_secs(5))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn timeout_keeps_running_while_the_body_is_read() {
    let server = raw_server(|mut conn| async move {
        conn.read_request().await;
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01")
            .await;
        tokio::time::sleep(Duration::from_secs(10)).await;
    })
    .await;
    let client = Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = bounded(async {
        client
            .get(format!("http://{}/", server.addr))
            .send()
            .await?
            .bytes()
            .await
    })
    .await
    .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_request_built_apart_is_sent_as_reqwest_builds_it() {
    let server = http_server(support::echo_router()).await;
    let (client, request) = Client::new()
        .get(server.url("/echo"))
        .header("x-split", "1")
        .build_split();
    let resp = bounded(client.execute(request.unwrap())).await.unwrap();
    assert_eq!(resp.status(), 200);
    let request = wireline::Request::new(Method::POST, server.url("/echo").parse().unwrap());
    let resp = bounded(
        wireline::RequestBuilder::from_parts(client, request)
            .header("x-parts", "2")
            .body("hi")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = server.requests();
    assert_eq!(sent[0].headers["x-split"], "1");
    assert_eq!(
        (
            sent[1].method.as_str(),
            sent[1].headers["x-parts"].to_str().unwrap()
        ),
        ("POST", "2")
    );
    assert_eq!(sent[1].body.as_ref(), b"hi");
}

#[tokio::test]
async fn a_wrapped_http_body_is_sent_as_it_is_read() {
    let server = http_server(support::echo_router()).await;
    let chunks = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from("wrapped "))),
        Ok(hyper::body::Frame::data(bytes::Bytes::from("body"))),
    ]);
    let body = wireline::Body::wrap(http_body_util::StreamBody::new(chunks));
    let resp = bounded(Client::new().post(server.url("/echo")).body(body).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.requests()[0].body.as_ref(), b"wrapped body");
}
