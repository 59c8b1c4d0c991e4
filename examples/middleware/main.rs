//! Middleware inside a wireline client: tower layers that every request goes through.
//!
//! - `BearerAuthLayer` (in `layers.rs`) adds a bearer token and, when the server answers
//!   401, fetches a new token once and sends the request again;
//! - `LatencyLayer` records each host's time to the response head;
//! - tower-http's `SetRequestHeaderLayer` adds a header the requests lack.
//!
//! It talks to a small API it serves itself on 127.0.0.1, whose tokens expire after three
//! uses, so it runs offline:
//!
//! ```text
//! cargo run --example middleware
//! ```

mod layers;

use std::convert::Infallible;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use layers::{BearerAuthLayer, LatencyLayer, Refresh};
use tower_http::set_header::SetRequestHeaderLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = serve_locally().await?;

    // Tokens come from the API's token endpoint, through a plain client of their own.
    let token_client = wireline::Client::new();
    let token_url = format!("{base}/token");
    let refresh: Refresh = Arc::new(move || {
        let (client, url) = (token_client.clone(), token_url.clone());
        Box::pin(async move {
            let token = client
                .post(url)
                .send()
                .await?
                .error_for_status()?
                .text()
                .await?;
            println!("  (fetched a new token: {token})");
            Ok(token)
        })
    });

    let latency = LatencyLayer::default();
    let client = wireline::Client::builder()
        // Added first, so innermost: it times each request sent, a resent one included.
        .layer(latency.clone())
        // Outside it: a 401 goes back through this layer, which sends the request again.
        .layer(BearerAuthLayer::new(refresh))
        .layer(SetRequestHeaderLayer::if_not_present(
            HeaderName::from_static("x-client"),
            HeaderValue::from_static("middleware-example"),
        ))
        .timeout(Duration::from_secs(10))
        .build()?;

    let mut failures = 0;
    for n in 1..=7 {
        let resp = client.get(format!("{base}/reports/{n}")).send().await?;
        let status = resp.status();
        let body = resp.text().await?;
        println!("GET /reports/{n} -> {status}: {body}");
        if status != 200 {
            failures += 1;
        }
    }

    println!("\nlatency by host:");
    for (host, stats) in latency.snapshot() {
        println!(
            "  {host}: {} requests, mean {:?}, slowest {:?}",
            stats.requests,
            stats.mean(),
            stats.slowest
        );
    }
    // Seven reports with tokens that last three uses: two 401s, each refreshed and sent
    // again, so nine requests reached the API, every report with a 200.
    let sent: u32 = latency.snapshot().values().map(|s| s.requests).sum();
    if failures > 0 || sent != 9 {
        return Err(
            format!("expected 7 reports in 9 requests, got {failures} failures in {sent}").into(),
        );
    }
    Ok(())
}

/// The API: `POST /token` issues a token; `GET /reports/N` needs the newest token, which
/// expires after three uses; every request needs `x-client`. Returns its base URL.
async fn serve_locally() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let state = Arc::new(Tokens::default());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = state.clone();
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(state.answer(&req)) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    Ok(base)
}

/// The API's token: its number, and how many times it was used.
#[derive(Default)]
struct Tokens {
    issued: AtomicU32,
    uses: AtomicU32,
}

impl Tokens {
    fn answer(&self, req: &http::Request<Incoming>) -> http::Response<Full<Bytes>> {
        let reply = |status: u16, body: String| {
            let mut response = http::Response::new(Full::new(Bytes::from(body)));
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            response
        };
        if req.uri().path() == "/token" {
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            self.uses.store(0, Ordering::SeqCst);
            return reply(200, format!("token-{n}"));
        }
        if req.headers().get("x-client").is_none() {
            return reply(400, "no x-client header".into());
        }
        let current = format!("Bearer token-{}", self.issued.load(Ordering::SeqCst));
        let presented = req.headers().get("authorization");
        if presented.is_none_or(|p| p != current.as_str())
            || self.uses.fetch_add(1, Ordering::SeqCst) >= 3
        {
            return reply(401, "token expired or missing".into());
        }
        reply(200, format!("report for {}", req.uri().path()))
    }
}
