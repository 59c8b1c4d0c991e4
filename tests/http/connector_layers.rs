//! tower's layers around the connector (`ClientBuilder::connector_layer`, reqwest 0.13's):
//! they see each connection opened, not each request, and `connect_timeout` goes around
//! them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tower::ServiceExt;
use wireline::layer::{ConnectorService, Destination};

use crate::support::{around_dials, bounded, echo_router, http_server, AroundDials, DialFuture};

/// A connector layer that waits `delay` before each dial and records how many dials were
/// past its wait at once (`now`, `peak`) and in all (`total`).
#[derive(Clone, Default)]
struct Dials {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    total: Arc<AtomicUsize>,
}

impl Dials {
    fn layer(
        &self,
        delay: Duration,
    ) -> AroundDials<impl Fn(ConnectorService, Destination) -> DialFuture + Clone + Send + Sync>
    {
        let dials = self.clone();
        around_dials(move |inner: ConnectorService, dst: Destination| {
            let dials = dials.clone();
            Box::pin(async move {
                assert!(dst.uri().host().is_some());
                dials.total.fetch_add(1, Ordering::SeqCst);
                let current = dials.now.fetch_add(1, Ordering::SeqCst) + 1;
                dials.peak.fetch_max(current, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                let conn = inner.oneshot(dst).await;
                dials.now.fetch_sub(1, Ordering::SeqCst);
                conn
            })
        })
    }
}

#[tokio::test]
async fn a_connector_layer_sees_each_new_connection_not_each_request() {
    let server = http_server(echo_router()).await;
    let dials = Dials::default();
    let client = wireline::Client::builder()
        .connector_layer(dials.layer(Duration::ZERO))
        .build()
        .unwrap();
    for _ in 0..5 {
        let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
        bounded(resp.text()).await.unwrap();
    }
    assert_eq!(
        dials.total.load(Ordering::SeqCst),
        1,
        "one connection, reused"
    );
    assert_eq!(server.accepts(), 1);
}

#[tokio::test]
async fn a_concurrency_limit_on_the_connector_opens_one_connection_at_a_time() {
    let server = http_server(echo_router()).await;
    let concurrent = |limit: Option<usize>| {
        let server_url = server.url("/slow?ms=50");
        async move {
            let dials = Dials::default();
            // Installed first, so the limit (installed after) wraps it.
            let mut builder =
                wireline::Client::builder().connector_layer(dials.layer(Duration::from_millis(50)));
            if let Some(limit) = limit {
                builder = builder.connector_layer(tower::limit::ConcurrencyLimitLayer::new(limit));
            }
            let client = builder.build().unwrap();
            let sends = (0..4).map(|_| client.get(&server_url).send());
            let responses = bounded(futures_util::future::join_all(sends)).await;
            assert!(responses
                .iter()
                .all(|r| r.as_ref().unwrap().status() == 200));
            (
                dials.peak.load(Ordering::SeqCst),
                dials.total.load(Ordering::SeqCst),
            )
        }
    };
    let (peak, total) = concurrent(Some(1)).await;
    assert_eq!(peak, 1, "the limit let one dial through at a time");
    assert!(total >= 1);
    let (peak, _) = concurrent(None).await;
    assert!(peak > 1, "without the limit, the dials overlap: {peak}");
}

#[tokio::test]
async fn connect_timeout_goes_around_the_connector_layers() {
    let server = http_server(echo_router()).await;
    let dials = Dials::default();
    let client = wireline::Client::builder()
        .connect_timeout(Duration::from_millis(200))
        .connector_layer(dials.layer(Duration::from_secs(5)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.is_connect(), "{err:?}");
    assert!(err.to_string().contains("connect_timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        server.accepts(),
        0,
        "the layer's wait was cut short before the dial"
    );
}

#[tokio::test]
async fn a_towers_timeout_on_the_connector_is_a_connect_timeout_naming_the_layer() {
    let server = http_server(echo_router()).await;
    let dials = Dials::default();
    let client = wireline::Client::builder()
        .connector_layer(dials.layer(Duration::from_secs(5)))
        .connector_layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(
            100,
        )))
        .build()
        .unwrap();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && err.is_connect(), "{err:?}");
    assert!(err.to_string().contains("connector_layer"), "{err}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
}

#[tokio::test]
async fn tls_and_its_errors_work_under_a_connector_layer() {
    use crate::support::{https_server, trusting_test_ca, ServerOptions};
    let server = https_server(ServerOptions::default()).await;
    let dials = Dials::default();
    let trusting = trusting_test_ca()
        .connector_layer(dials.layer(Duration::ZERO))
        .build()
        .unwrap();
    let resp = bounded(trusting.get(server.url("/")).send()).await.unwrap();
    assert_eq!(bounded(resp.text()).await.unwrap(), "hello");
    // A client that doesn't trust the test CA gets the explained certificate error.
    let other_ca = rcgen::generate_simple_self_signed(vec!["other-ca".to_owned()]).unwrap();
    let other_ca = wireline::Certificate::from_pem(other_ca.cert.pem().as_bytes()).unwrap();
    let untrusting = wireline::Client::builder()
        .tls_certs_only([other_ca])
        .connector_layer(dials.layer(Duration::ZERO))
        .build()
        .unwrap();
    let err = bounded(untrusting.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_certificate(), "{err:?}");
    assert_eq!(dials.total.load(Ordering::SeqCst), 2);
}

// A request that finds no idle connection waits for one and dials at once. When a
// connection comes back first, it takes that one, and the dial still finishes and joins
// the pool (hyper-util's rule, kept by wireline's own pool): the next two requests at
// once find two connections and dial none.
#[tokio::test]
async fn a_dial_that_lost_the_race_to_a_returned_connection_joins_the_pool() {
    let server = http_server(echo_router()).await;
    let dials = Dials::default();
    let dial_time = Duration::from_secs(1);
    let client = wireline::Client::builder()
        .connector_layer(dials.layer(dial_time))
        .build()
        .unwrap();
    let get = |path: &str| {
        let (client, url) = (client.clone(), server.url(path));
        async move {
            let resp = client.get(url).send().await.unwrap();
            resp.text().await.unwrap();
        }
    };
    bounded(get("/")).await;
    // The first connection is busy for 100 ms; the request sent meanwhile dials a second.
    let busy = tokio::spawn(get("/slow?ms=100"));
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    bounded(get("/")).await;
    assert!(
        started.elapsed() < dial_time,
        "served by the first connection once it came back, not by its own dial"
    );
    bounded(busy).await.unwrap();
    // The dial goes on after its request was served.
    bounded(async {
        while dials.total.load(Ordering::SeqCst) < 2 || dials.now.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(server.accepts(), 2);
    // Lets the dial's task hand its connection to the pool.
    tokio::time::sleep(Duration::from_millis(100)).await;
    bounded(futures_util::future::join(
        get("/slow?ms=100"),
        get("/slow?ms=100"),
    ))
    .await;
    assert_eq!(
        dials.total.load(Ordering::SeqCst),
        2,
        "the dial that lost the race gave the pool its connection"
    );
    assert_eq!(server.accepts(), 2);
}
