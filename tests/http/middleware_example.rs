//! The layers `examples/middleware` shows, included from its source: the bearer token and
//! its refresh on 401, and the per-host latency record.

#[path = "../../examples/middleware/layers.rs"]
#[allow(dead_code)]
mod layers;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use layers::{BearerAuthLayer, LatencyLayer, Refresh};

use crate::support::{bounded, echo_router, handler, http_server, response};

/// A refresh that hands out `token-1`, `token-2`… and counts its calls.
fn numbered_tokens(calls: &Arc<AtomicUsize>) -> Refresh {
    let calls = calls.clone();
    Arc::new(move || {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move { Ok(format!("token-{n}")) })
    })
}

/// A server that accepts only `Bearer <accepted>` (401 otherwise) and records what it saw.
async fn api(accepted: Arc<Mutex<String>>) -> crate::support::TestServer {
    http_server(handler(move |req| {
        let accepted = accepted.lock().unwrap().clone();
        async move {
            let presented = req
                .headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned());
            match presented == Some(format!("Bearer {accepted}")) {
                true => response(200, &[], "ok"),
                false => response(401, &[], "unauthorized"),
            }
        }
    }))
    .await
}

#[tokio::test]
async fn the_bearer_layer_fetches_a_token_then_refreshes_it_once_on_a_401() {
    let accepted = Arc::new(Mutex::new("token-1".to_owned()));
    let server = api(accepted.clone()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let client = wireline::Client::builder()
        .layer(BearerAuthLayer::new(numbered_tokens(&calls)))
        .build()
        .unwrap();
    let post = || client.post(server.url("/items")).body("{\"n\":1}").send();
    assert_eq!(bounded(post()).await.unwrap().status(), 200);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the first request fetched a token"
    );
    // The server rotates its token: the next request gets a 401, refreshes, and is sent
    // again, body and all.
    *accepted.lock().unwrap() = "token-2".to_owned();
    assert_eq!(bounded(post()).await.unwrap().status(), 200);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].headers["authorization"], "Bearer token-1");
    assert_eq!(seen[2].headers["authorization"], "Bearer token-2");
    assert_eq!(seen[2].body, "{\"n\":1}");
    // A token refused even fresh: the 401 comes back, after one refresh, not a loop.
    *accepted.lock().unwrap() = "never-issued".to_owned();
    assert_eq!(bounded(post()).await.unwrap().status(), 401);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(server.requests().len(), 5);
}

#[tokio::test]
async fn a_burst_of_401s_refreshes_the_token_once_and_a_stream_is_not_sent_twice() {
    let accepted = Arc::new(Mutex::new("token-1".to_owned()));
    let server = api(accepted.clone()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let client = wireline::Client::builder()
        .layer(BearerAuthLayer::new(numbered_tokens(&calls)))
        .build()
        .unwrap();
    bounded(client.get(server.url("/")).send()).await.unwrap();
    *accepted.lock().unwrap() = "token-2".to_owned();
    let burst = (0..8).map(|_| client.get(server.url("/")).send());
    let responses = bounded(futures_util::future::join_all(burst)).await;
    assert!(responses
        .iter()
        .all(|r| r.as_ref().unwrap().status() == 200));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one refresh for the whole burst"
    );
    // A streamed body can't be sent twice: its 401 is the answer.
    *accepted.lock().unwrap() = "token-3".to_owned();
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("streamed")]);
    let resp = bounded(
        client
            .put(server.url("/upload"))
            .body(wireline::Body::wrap_stream(chunks))
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.uri.path() == "/upload")
            .count(),
        1
    );
}

#[tokio::test]
async fn the_latency_layer_records_each_hosts_requests_and_its_slowest() {
    let first = http_server(echo_router()).await;
    let second = http_server(echo_router()).await;
    let latency = LatencyLayer::default();
    let client = wireline::Client::builder()
        .layer(latency.clone())
        .build()
        .unwrap();
    for path in ["/", "/slow?ms=150", "/"] {
        bounded(client.get(first.url(path)).send()).await.unwrap();
    }
    bounded(client.get(second.url("/status/503")).send())
        .await
        .unwrap();
    let table = latency.snapshot();
    let host = |server: &crate::support::TestServer| format!("127.0.0.1:{}", server.addr.port());
    let at_first = &table[&host(&first)];
    assert_eq!(at_first.requests, 3);
    assert!(
        at_first.slowest >= Duration::from_millis(150),
        "{at_first:?}"
    );
    assert!(at_first.mean() < at_first.slowest);
    assert_eq!(table[&host(&second)].requests, 1);
    assert_eq!(table.len(), 2);
}
