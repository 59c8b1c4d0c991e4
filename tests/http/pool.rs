//! Connection reuse: keep-alive over HTTP/1.1 and h2, and turning it off.

use std::time::Duration;

use crate::support::{https_server, trusting_test_ca, ServerOptions};
use wireline::Client;

const BOUND: Duration = Duration::from_secs(30);

async fn sequential(client: &Client, url: &str, n: usize) {
    tokio::time::timeout(BOUND, async {
        for _ in 0..n {
            let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
            assert_eq!(&body[..], b"hello");
        }
    })
    .await
    .expect("bounded");
}

#[tokio::test]
async fn twenty_requests_share_one_http11_connection() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().http1_only().build().unwrap();
    sequential(&client, &server.url("/"), 20).await;
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn twenty_requests_share_one_h2_connection() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().build().unwrap();
    sequential(&client, &server.url("/"), 20).await;
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn clones_share_the_pool() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca().http1_only().build().unwrap();
    sequential(&client, &server.url("/"), 2).await;
    sequential(&client.clone(), &server.url("/"), 2).await;
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn zero_idle_connections_means_no_reuse() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca()
        .http1_only()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    sequential(&client, &server.url("/"), 5).await;
    assert_eq!(server.accepts(), 5);
}

#[tokio::test]
async fn idle_timeout_closes_pooled_connections() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca()
        .http1_only()
        .pool_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    sequential(&client, &server.url("/"), 1).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    sequential(&client, &server.url("/"), 1).await;
    assert_eq!(server.accepts(), 2);
}
