//! What a response carries besides its body, with reqwest's names: its extensions (the
//! `TlsInfo`, the server's own reason phrase), the cookies it sets, the text of
//! `error_for_status` errors, the error's URL, a response streamed into a request, and
//! the size of the readers' futures.

use crate::support::{
    bounded, h1_response, handler, http_server, https_server, response, trusting_test_ca, write,
    FaultServer, ServerOptions, Step,
};
use wireline::{Body, Client, TlsInfo};

/// A server that answers `status_line` with an empty body, once per connection.
async fn answering(status_line: &str) -> FaultServer {
    let reply = h1_response(status_line, &[("content-length", "0")], b"");
    FaultServer::start(vec![Step::Read, write(reply), Step::Close]).await
}

#[tokio::test]
async fn error_for_status_reads_as_reqwest_with_the_servers_own_reason() {
    let server = answering("418 Teapot Time").await;
    let resp = bounded(Client::new().get(server.url("/brew")).send())
        .await
        .unwrap();
    let reason = resp.extensions().get::<hyper::ext::ReasonPhrase>().unwrap();
    assert_eq!(reason.as_bytes(), b"Teapot Time");
    let err = resp.error_for_status().unwrap_err();
    assert!(err.is_status() && err.status() == Some(wireline::StatusCode::IM_A_TEAPOT));
    assert_eq!(
        err.to_string(),
        format!(
            "HTTP status client error (418 Teapot Time) for url ({})",
            server.url("/brew")
        )
    );
    // The standard reason when the server sent it (hyper keeps no phrase then).
    let server = answering("503 Service Unavailable").await;
    let resp = bounded(Client::new().get(server.url("/")).send())
        .await
        .unwrap();
    assert!(resp
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .is_none());
    let err = resp.error_for_status_ref().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "HTTP status server error (503 Service Unavailable) for url ({})",
            server.url("/")
        )
    );
}

#[tokio::test]
async fn a_hostile_reason_phrase_is_escaped_in_the_error() {
    let server = FaultServer::start(vec![
        Step::Read,
        write(b"HTTP/1.1 500 say \"hi\"\tnow\r\ncontent-length: 0\r\n\r\n"),
        Step::Close,
    ])
    .await;
    let resp = bounded(Client::new().get(server.url("/")).send())
        .await
        .unwrap();
    let err = resp.error_for_status().unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"HTTP status server error (500 say \"hi\"\tnow) for url"#),
        "{err}"
    );
}

#[tokio::test]
async fn an_errors_url_can_be_changed_or_replaced_and_never_shows_a_password() {
    let server = answering("404 Not Found").await;
    let resp = bounded(Client::new().get(server.url("/items?key=s3cret")).send())
        .await
        .unwrap();
    let mut err = resp.error_for_status().unwrap_err();
    err.url_mut().unwrap().set_query(None);
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert_eq!(err.url().unwrap().as_str(), server.url("/items"));
    let err = err.with_url("https://user:pw@public.example/api".parse().unwrap());
    assert_eq!(
        err.url().unwrap().as_str(),
        "https://user@public.example/api"
    );
    assert!(!format!("{err} {err:?}").contains("pw"), "{err:?}");
}

#[tokio::test]
async fn tls_info_is_in_the_extensions_too() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().tls_info(true).build().unwrap();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    let from_extensions = resp.extensions().get::<TlsInfo>().expect("tls_info(true)");
    assert_eq!(
        from_extensions.protocol_version(),
        resp.tls_info().unwrap().protocol_version()
    );
    assert!(!from_extensions.peer_certificates().is_empty());
    // Without tls_info, neither has it.
    let plain = trusting_test_ca().build().unwrap();
    let resp = bounded(plain.get(server.url("/")).send()).await.unwrap();
    assert!(resp.extensions().get::<TlsInfo>().is_none() && resp.tls_info().is_none());
}

#[cfg(feature = "cookies")]
#[tokio::test]
async fn the_cookies_a_response_sets_are_listed_without_a_jar() {
    let server = http_server(handler(|_req| async {
        let mut resp = response(200, &[], "");
        let headers = resp.headers_mut();
        headers.append(
            "set-cookie",
            "session=abc; Secure; HttpOnly; Path=/".parse().unwrap(),
        );
        headers.append("set-cookie", "broken".parse().unwrap());
        headers.append(
            "set-cookie",
            "theme=dark; Max-Age=3600; SameSite=Lax".parse().unwrap(),
        );
        resp
    }))
    .await;
    let resp = bounded(Client::new().get(server.url("/")).send())
        .await
        .unwrap();
    let cookies: Vec<_> = resp
        .cookies()
        .map(|c| (c.name().to_owned(), c.value().to_owned()))
        .collect();
    assert_eq!(
        cookies,
        [
            ("session".into(), "abc".into()),
            ("theme".into(), "dark".into())
        ]
    );
    let session = resp.cookies().next().unwrap();
    assert!(session.secure() && session.http_only() && session.path() == Some("/"));
    let theme = resp.cookies().nth(1).unwrap();
    assert!(theme.same_site_lax());
    assert_eq!(theme.max_age(), Some(std::time::Duration::from_secs(3600)));
}

#[tokio::test]
async fn a_response_streams_into_the_next_request() {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let source = {
        let body = body.clone();
        http_server(handler(move |_req| {
            let body = body.clone();
            async move { response(200, &[], body) }
        }))
        .await
    };
    let sink = http_server(handler(|req| async move {
        response(200, &[], req.body().len().to_string())
    }))
    .await;
    let client = Client::new();
    let download = bounded(client.get(source.url("/")).send()).await.unwrap();
    let upload: Body = download.into();
    let resp = bounded(client.put(sink.url("/")).body(upload).send())
        .await
        .unwrap();
    assert_eq!(bounded(resp.text()).await.unwrap(), body.len().to_string());
    let sent = &sink.requests()[0];
    assert_eq!(sent.body.as_ref(), &body[..], "byte for byte");
}

/// `bytes`, `text`, `text_with_charset` and `json` keep the response once in their futures:
/// as `async fn`s, each would hold it twice, as given and as its body's own copy.
#[test]
fn a_reader_s_future_holds_the_response_once() {
    use std::mem::{size_of, size_of_val};
    let response = || wireline::Response::from(http::Response::new("{}"));
    let twice = 2 * size_of::<wireline::Response>();
    let sizes = [
        ("bytes", size_of_val(&response().bytes())),
        ("text", size_of_val(&response().text())),
        (
            "text_with_charset",
            size_of_val(&response().text_with_charset("latin1")),
        ),
        ("json", size_of_val(&response().json::<serde_json::Value>())),
    ];
    for (reader, size) in sizes {
        assert!(
            size < twice,
            "{reader}: {size} bytes, two responses are {twice}"
        );
    }
}
