//! A client as a tower `Service`: tower's layers compose around it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower::{Service, ServiceBuilder, ServiceExt};

use crate::support::{bounded, handler, http_server, response};

#[tokio::test]
async fn a_concurrency_limit_around_a_client_holds_requests_to_one_at_a_time() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (now, peak) = (in_flight.clone(), most.clone());
    let server = http_server(handler(move |_req| {
        let (now, peak) = (now.clone(), peak.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(30)).await;
            now.fetch_sub(1, Ordering::SeqCst);
            response(200, &[], "ok")
        }
    }))
    .await;
    let client = wireline::Client::new();
    let limited = ServiceBuilder::new()
        .concurrency_limit(1)
        .service(client.clone());
    let calls = (0..4).map(|_| {
        let request = client.get(server.url("/")).build().unwrap();
        limited.clone().oneshot(request)
    });
    let responses = bounded(futures_util::future::join_all(calls)).await;
    assert!(responses
        .iter()
        .all(|r| r.as_ref().unwrap().status() == 200));
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "the layer let one request in at a time"
    );
    // Without the layer the same four overlap.
    let mut unlimited = client.clone();
    let calls = (0..4).map(|_| unlimited.call(client.get(server.url("/")).build().unwrap()));
    bounded(futures_util::future::join_all(calls)).await;
    assert!(most.load(Ordering::SeqCst) > 1);
}
