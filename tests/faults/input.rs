//! Fault matrix B01–B02: hostile input from the caller's side. A value that could break the
//! request head is refused before any connection (tests/http/requests.rs checks headers,
//! methods and user agents) or encoded; nothing takes long or panics. See
//! docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support::{bounded, h1_response, write, FaultServer, Step};
use wireline::Client;

/// Far above the 10 ms the matrix asks for (debug build, a shared machine where a test
/// thread may wait its turn for a while), and far below what a parse quadratic in the
/// input's length would take on these 100 KiB inputs (minutes).
const QUICK: Duration = Duration::from_secs(1);

/// A server that answers every request (up to 20 per connection) with 200 and records it.
async fn recorder() -> FaultServer {
    let answer = [Step::Read, write(h1_response("200 OK", &[], b"ok"))];
    FaultServer::start(answer.iter().cycle().take(40).cloned().collect()).await
}

/// The request line of a recorded request.
fn request_line(request: &str) -> &str {
    request.split("\r\n").next().unwrap()
}

#[tokio::test]
async fn b01_query_and_form_values_with_crlf_are_encoded_not_injected() {
    let server = recorder().await;
    let client = Client::new();
    bounded(
        client
            .post(server.url("/q"))
            .query(&[("k", "v\r\nInjected: yes"), ("sp ace", "\0nul")])
            .form(&[("f", "a\r\nb")])
            .send(),
    )
    .await
    .unwrap();
    let sent = &server.request_texts()[0];
    let head = sent.split("\r\n\r\n").next().unwrap();
    assert!(!head.contains("\r\nInjected"), "{sent}");
    assert_eq!(
        request_line(sent),
        "POST /q?k=v%0D%0AInjected%3A+yes&sp+ace=%00nul HTTP/1.1"
    );
    assert!(sent.ends_with("\r\n\r\nf=a%0D%0Ab"), "{sent}");
}

#[tokio::test]
async fn b02_hostile_urls_are_refused_or_encoded_quickly() {
    let server = recorder().await;
    let base = server.url("");
    let client = Client::new();
    let ats = format!("http://{}{}/", "@".repeat(10_000), server.addr);
    let long = format!("{base}/{}", "a".repeat(100 * 1024));
    let cases: Vec<(&str, String)> = vec![
        ("CR LF in the path", format!("{base}/a\r\nInjected: yes")),
        ("space in the path", format!("{base}/a b")),
        (
            "tab and CR LF in the host",
            format!("http://127.0.0.1\r\n:{}/", server.addr.port()),
        ),
        ("10,000 @", ats),
        (
            "invalid punycode",
            "http://xn--example-.invalid/".to_owned(),
        ),
        ("100 KiB path", long),
        ("NUL in the host", "http://exa\0mple.invalid/".to_owned()),
        (
            "percent-encoded CR LF",
            format!("{base}/a%0d%0aInjected:%20yes"),
        ),
    ];
    for (name, url) in &cases {
        let started = Instant::now();
        let built = client.get(url.as_str()).build();
        let took = started.elapsed();
        println!("{name}: built in {took:?}");
        assert!(took < QUICK, "{name}: {took:?}");
        match built {
            Err(err) => assert!(err.is_builder(), "{name}: {err:?}"),
            Ok(request) => {
                let target = request.url().as_str();
                assert!(
                    !target.contains(['\r', '\n', ' ', '\0', '\t']),
                    "{name}: {target:.200}"
                );
            }
        }
    }
    // The ones for our server go out with one clean request line each.
    for (name, url) in &cases {
        if !url.contains(&server.addr.port().to_string()) {
            continue;
        }
        let resp = bounded(client.get(url.as_str()).send()).await;
        if let Err(err) = resp {
            assert!(err.is_builder(), "{name}: {err:?}");
        }
    }
    for sent in server.request_texts() {
        let head = sent.split("\r\n\r\n").next().unwrap();
        assert!(!head.contains("\r\nInjected"), "{head:.300}");
        let line = request_line(&sent);
        assert!(
            line.starts_with("GET /") && line.ends_with(" HTTP/1.1"),
            "{line:.300}"
        );
        assert_eq!(line.matches(' ').count(), 2, "{line:.300}");
    }
    assert!(server.requests().len() >= 4, "the encodable ones were sent");
}

#[tokio::test]
async fn b02_a_hand_made_request_to_another_scheme_is_refused_before_connecting() {
    // The builder refuses these schemes; a `Request` changed through `url_mut` must be
    // refused too, not sent as HTTP to the host and port it names.
    let server = recorder().await;
    let client = Client::new();
    for scheme in ["ftp", "ws", "gopher"] {
        let mut request = client.get(server.url("/")).build().unwrap();
        let url = format!("{scheme}://{}/", server.addr);
        *request.url_mut() = url.parse().unwrap();
        let err = bounded(client.execute(request)).await.unwrap_err();
        assert!(err.is_builder(), "{scheme}: {err:?}");
    }
    assert!(
        server.request_texts().is_empty(),
        "{:?}",
        server.request_texts()
    );
}
