//! Fault matrix B03, logs: with every `tracing` event at TRACE level captured (wireline's,
//! h2's, hyper-util's, and rustls' `log` records), requests carrying credentials
//! over HTTP/1.1 and h2, through a redirect and a stale-connection retry, log none of
//! them. One test alone in this binary: it installs the process-wide subscriber.
//! (hyper's own events need its unstable `tracing` cfg, so none are emitted.)

mod support;

use std::sync::{Arc, Mutex};

use support::{
    bounded, h1_response, https_server, trusting_test_ca, write, FaultServer, ServerOptions, Step,
};
use wireline::header::HeaderMap;

const SECRETS: [&str; 6] = [
    "hunter2",
    "YWxpY2U6aHVudGVyMg==", // base64 of "alice:hunter2"
    "t0p-bearer",
    "c00kie",
    "pr0xy",
    "d3fault",
];

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn with_credentials(client: &wireline::Client, url: &str) -> wireline::RequestBuilder {
    client
        .get(url.replacen("://", "://alice:hunter2@", 1))
        .header("cookie", "id=c00kie")
        .header("proxy-authorization", "Basic pr0xy")
}

#[tokio::test]
async fn trace_logs_carry_no_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber of this binary");

    let mut defaults = HeaderMap::new();
    defaults.insert("x-api", "d3fault".parse().unwrap());
    defaults.insert("authorization", "Bearer d3fault".parse().unwrap());

    // HTTP/1.1: a same-origin redirect (credentials follow), then a retry after the
    // server closed the pooled connection as the request arrived.
    let h1 = FaultServer::by_connection(|i| match i {
        0 => vec![
            Step::Read,
            write(h1_response("302 Found", &[("location", "/final")], b"")),
            Step::Read,
            write(h1_response("200 OK", &[], b"final")),
            Step::Read,
            Step::Close,
        ],
        _ => vec![Step::Read, write(h1_response("200 OK", &[], b"again"))],
    })
    .await;
    let client = wireline::Client::builder()
        .default_headers(defaults.clone())
        .build()
        .unwrap();
    let text = bounded(async {
        with_credentials(&client, &h1.url("/start"))
            .bearer_auth("t0p-bearer")
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(text, "final");
    // Made by hand, so the URL keeps its password until wireline takes it out; this is
    // the request the stale connection makes wireline send again (and log).
    let by_hand = wireline::Request::new(
        wireline::Method::GET,
        h1.url("/again")
            .replacen("://", "://alice:hunter2@", 1)
            .parse()
            .unwrap(),
    );
    let text = bounded(async { client.execute(by_hand).await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "again");
    let sent = h1.request_texts();
    assert_eq!(sent.len(), 4, "/start, /final, /again twice");
    assert!(
        sent[3].contains("YWxpY2U6aHVudGVyMg=="),
        "the password went as basic auth: {}",
        sent[3]
    );

    // h2 over TLS.
    let h2 = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca()
        .default_headers(defaults)
        .build()
        .unwrap();
    let resp = bounded(
        with_credentials(&client, &h2.url("/echo"))
            .bearer_auth("t0p-bearer")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.version(), wireline::Version::HTTP_2);
    let echoed = bounded(resp.text()).await.unwrap();
    assert!(echoed.contains("c00kie"), "the server got them: {echoed}");

    // A jar the caller fills by hand, with the URL they give requests: the cookies it
    // refuses are logged with that URL, never its password.
    #[cfg(feature = "cookies")]
    {
        use wireline::cookie::{CookieStore, Jar};
        let url: wireline::Url = "https://alice:hunter2@x.test/".parse().unwrap();
        let jar = Jar::default();
        jar.add_cookie_str("a=\x01", &url);
        jar.add_cookie_str("b=2; Domain=other.test", &url);
        jar.set_cookies(&mut std::iter::once(&"not a cookie".parse().unwrap()), &url);
        assert!(jar.cookies(&url).is_none());
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(logs.contains("x.test"), "the refusals were logged");
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture worked: wireline's pool's (which names origins), h2's (its HEADERS frames
    // included), rustls' (through `log`) and wireline's own events are there. hyper itself
    // logs nothing without its unstable `tracing` cfg.
    for expected in [
        "wireline::pool::lane",
        "frame=Headers",
        "rustls::client",
        "sending again on another",
    ] {
        assert!(logs.contains(expected), "no {expected:?} in the logs");
    }
    for secret in SECRETS {
        if let Some(at) = logs.find(secret) {
            let start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!("{secret} logged: {}", &logs[start..end]);
        }
    }
    eprintln!("{} bytes of TRACE logs, no secret", logs.len());
}
