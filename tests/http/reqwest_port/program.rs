//! A reqwest 0.13 program, as its author wrote it for reqwest: an API client for an
//! inventory service. It is compiled here with `reqwest` being wireline (the test binary
//! says `extern crate wireline as reqwest`, as a Cargo line
//! `reqwest = { package = "wireline", … }` would), and was compiled against reqwest 0.13.5
//! as it is (see `mod.rs`). Not one line of it changed for wireline.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::{redirect, retry, tls, Certificate, Client, Method, StatusCode};
use serde::{Deserialize, Serialize};

/// What the run found, for the test to check.
#[derive(Debug, Default)]
pub struct Report {
    pub json_a: i64,
    pub echoed_auth: String,
    pub echoed_agent: String,
    pub echoed_query: Option<String>,
    pub posted_body: String,
    pub form_body: String,
    pub multipart_type: String,
    pub redirected_to: String,
    pub redirects_seen: usize,
    pub stopped_status: u16,
    pub not_found: String,
    pub streamed: usize,
    pub chunked: usize,
    pub peer_certificate: bool,
    pub tls_version_known: bool,
    pub split_status: u16,
    pub timed_out: bool,
    pub cookie: Option<(String, String)>,
    pub latin1: String,
    pub remote_port: Option<u16>,
}

#[derive(Serialize)]
struct NewItem<'a> {
    name: &'a str,
    count: u32,
}

#[derive(Deserialize)]
struct Echo {
    method: String,
    query: Option<String>,
    headers: std::collections::HashMap<String, String>,
    body: String,
}

/// Runs the program against `api.example.test`, found at `addr` and certified by `ca_pem`.
pub async fn run(addr: SocketAddr, ca_pem: &[u8]) -> Result<Report, reqwest::Error> {
    let redirects = Arc::new(AtomicUsize::new(0));
    let counted = redirects.clone();
    let policy = redirect::Policy::custom(move |attempt| {
        counted.fetch_add(1, Ordering::SeqCst);
        if attempt.url().path() == "/status/410" {
            attempt.stop()
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    });
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let client = Client::builder()
        .user_agent("inventory-sync/2.1")
        .default_headers(headers)
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(4)
        .tls_certs_only(vec![Certificate::from_pem(ca_pem)?])
        .tls_version_min(tls::Version::TLS_1_2)
        .tls_info(true)
        .resolve("api.example.test", addr)
        .redirect(policy)
        .referer(true)
        .retry(
            retry::for_host("api.example.test").classify_fn(|req_rep| match req_rep.status() {
                Some(StatusCode::SERVICE_UNAVAILABLE) => req_rep.retryable(),
                _ => req_rep.success(),
            }),
        )
        .cookie_store(true)
        .gzip(true)
        .tcp_nodelay(true)
        .http2_adaptive_window(true)
        .build()?;
    let base = format!("https://api.example.test:{}", addr.port());
    let mut report = Report::default();

    let value: serde_json::Value = client
        .get(format!("{base}/json"))
        .send()
        .await?
        .json()
        .await?;
    report.json_a = value["a"].as_i64().unwrap_or_default();

    let echo: Echo = client
        .get(format!("{base}/echo"))
        .query(&[("page", "2"), ("sort", "name")])
        .bearer_auth("t0ken")
        .header("x-request-id", "42")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    report.echoed_auth = echo.headers["authorization"].clone();
    report.echoed_agent = echo.headers["user-agent"].clone();
    report.echoed_query = echo.query;

    let item = NewItem {
        name: "bolt",
        count: 3,
    };
    let echo: Echo = client
        .post(format!("{base}/echo"))
        .json(&item)
        .send()
        .await?
        .json()
        .await?;
    report.posted_body = format!("{} {}", echo.method, echo.body);
    let echo: Echo = client
        .request(Method::PUT, format!("{base}/echo"))
        .form(&[("name", "nut"), ("count", "9")])
        .send()
        .await?
        .json()
        .await?;
    report.form_body = echo.body;
    let form = reqwest::multipart::Form::new().text("name", "washer").part(
        "photo",
        reqwest::multipart::Part::bytes(vec![1, 2, 3]).file_name("w.png"),
    );
    let echo: Echo = client
        .post(format!("{base}/echo"))
        .multipart(form)
        .send()
        .await?
        .json()
        .await?;
    report.multipart_type = echo.headers["content-type"].clone();

    let resp = client
        .get(format!("{base}/redirect?to=/echo"))
        .send()
        .await?;
    report.redirected_to = resp.url().path().to_owned();
    let resp = client
        .get(format!("{base}/redirect?status=307&to=/status/410"))
        .send()
        .await?;
    report.stopped_status = resp.status().as_u16();
    report.redirects_seen = redirects.load(Ordering::SeqCst);

    match client
        .get(format!("{base}/status/404"))
        .send()
        .await?
        .error_for_status()
    {
        Ok(_) => {}
        Err(e) if e.is_status() && e.status() == Some(StatusCode::NOT_FOUND) => {
            report.not_found = e.to_string();
        }
        Err(e) => return Err(e),
    }

    let mut stream = client
        .get(format!("{base}/bytes/100000"))
        .send()
        .await?
        .bytes_stream();
    while let Some(piece) = stream.next().await {
        report.streamed += piece?.len();
    }
    let mut resp = client.get(format!("{base}/bytes/50000")).send().await?;
    report.remote_port = resp.remote_addr().map(|a| a.port());
    if let Some(info) = resp.extensions().get::<tls::TlsInfo>() {
        report.peer_certificate = info.peer_certificate().is_some();
    }
    report.tls_version_known = resp.version() >= reqwest::Version::HTTP_11;
    while let Some(chunk) = resp.chunk().await? {
        report.chunked += chunk.len();
    }

    let (split_client, request) = client.get(format!("{base}/")).build_split();
    report.split_status = split_client.execute(request?).await?.status().as_u16();

    let slow = client
        .get(format!("{base}/slow?ms=3000"))
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    report.timed_out = matches!(slow, Err(ref e) if e.is_timeout());

    let resp = client
        .get(format!(
            "{base}/response-headers?set-cookie=session%3Dabc%3B%20Secure"
        ))
        .send()
        .await?;
    report.cookie = resp
        .cookies()
        .next()
        .map(|c| (c.name().to_owned(), c.value().to_owned()));
    report.latin1 = client
        .get(format!("{base}/latin1"))
        .send()
        .await?
        .text_with_charset("utf-8")
        .await?;
    Ok(report)
}
