//! tower's layers around a client (it is a `Service`) and inside it
//! (`ClientBuilder::layer`); the connector's layers are in `connector_layers.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, USER_AGENT};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::set_header::SetRequestHeaderLayer;
use wireline::layer::RequestService;
use wireline::ResponseBuilderExt;

use crate::support::{bounded, echo_router, handler, http_server, response};

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

// Layers inside a client: `ClientBuilder::layer`. ----------------------------------------

/// A layer that counts the requests it sees.
fn counting(count: &Arc<AtomicUsize>) -> tower::util::MapRequestLayer<impl Fn(Req) -> Req + Clone> {
    let count = count.clone();
    tower::util::MapRequestLayer::new(move |req: Req| {
        count.fetch_add(1, Ordering::SeqCst);
        req
    })
}

type Req = http::Request<wireline::Body>;

#[tokio::test]
async fn a_tower_http_layer_inside_the_client_sets_the_header_a_request_lacks() {
    let server = http_server(echo_router()).await;
    let client = wireline::Client::builder()
        .layer(SetRequestHeaderLayer::if_not_present(
            HeaderName::from_static("x-source"),
            HeaderValue::from_static("layer"),
        ))
        // Set by the layer before the client's defaults are added: the layer's wins.
        .layer(SetRequestHeaderLayer::overriding(
            USER_AGENT,
            HeaderValue::from_static("agent-of-the-layer"),
        ))
        .build()
        .unwrap();
    bounded(client.get(server.url("/")).send()).await.unwrap();
    bounded(
        client
            .get(server.url("/"))
            .header("x-source", "request")
            .send(),
    )
    .await
    .unwrap();
    let seen = server.requests();
    assert_eq!(seen[0].headers["x-source"], "layer");
    assert_eq!(
        seen[1].headers["x-source"], "request",
        "if_not_present kept it"
    );
    assert!(seen
        .iter()
        .all(|r| r.headers["user-agent"] == "agent-of-the-layer"));
}

#[tokio::test]
async fn a_layer_sees_one_call_per_send_and_the_final_response_of_a_redirect_chain() {
    let server = http_server(echo_router()).await;
    let count = Arc::new(AtomicUsize::new(0));
    let client = wireline::Client::builder()
        .layer(counting(&count))
        .build()
        .unwrap();
    let first_hop = format!("/redirect?to={}", server.url("/redirect?to=/json"));
    let resp = bounded(client.get(server.url(&first_hop)).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.url().as_str(),
        server.url("/json"),
        "the final URL came through"
    );
    assert_eq!(
        server.requests().len(),
        3,
        "two redirects followed below the layer"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1, "one call per send");
    // execute() and the client as a tower Service go through the layers too.
    let request = client.get(server.url("/")).build().unwrap();
    bounded(client.execute(request)).await.unwrap();
    let request = client.get(server.url("/")).build().unwrap();
    bounded(client.clone().oneshot(request)).await.unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_response_through_layers_keeps_its_length_address_decoding_and_status_error() {
    use async_compression::tokio::bufread::GzipEncoder;
    use tokio::io::AsyncReadExt;
    let mut gzipped = Vec::new();
    GzipEncoder::new(&b"squeezed through a layer"[..])
        .read_to_end(&mut gzipped)
        .await
        .unwrap();
    let server = http_server(handler(move |req| {
        let gzipped = gzipped.clone();
        async move {
            match req.uri().path() {
                "/gzip" => response(200, &[("content-encoding", "gzip")], gzipped),
                "/missing" => response(404, &[], "no such thing"),
                _ => response(200, &[], "eleven byte"),
            }
        }
    }))
    .await;
    let count = Arc::new(AtomicUsize::new(0));
    let client = wireline::Client::builder()
        .layer(counting(&count))
        .build()
        .unwrap();
    let plain = bounded(client.get(server.url("/plain")).send())
        .await
        .unwrap();
    assert_eq!(plain.content_length(), Some(11));
    assert_eq!(plain.remote_addr(), Some(server.addr));
    // The connection's record rides beside the response, not in its extensions: through
    // the layers (as an `http::Response`) and back, it must come along.
    let first = plain.connection_id();
    assert!(first.is_some(), "the connection's number, through a layer");
    assert_eq!(bounded(plain.text()).await.unwrap(), "eleven byte");
    let gzip = bounded(client.get(server.url("/gzip")).send())
        .await
        .unwrap();
    assert_eq!(gzip.connection_id(), first, "the same pooled connection");
    assert_eq!(
        gzip.headers().get("content-encoding"),
        None,
        "decoded below"
    );
    assert_eq!(
        bounded(gzip.text()).await.unwrap(),
        "squeezed through a layer"
    );
    let missing = bounded(client.get(server.url("/missing")).send())
        .await
        .unwrap();
    let err = missing.error_for_status().unwrap_err();
    assert_eq!(err.status(), Some(wireline::StatusCode::NOT_FOUND));
    assert_eq!(err.url().unwrap().as_str(), server.url("/missing"));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_layer_can_answer_without_the_network() {
    let cached = tower::layer::layer_fn(|_inner: RequestService| {
        tower::service_fn(|req: Req| async move {
            let url = wireline::Url::parse(&req.uri().to_string()).unwrap();
            let response = http::Response::builder()
                .url(url)
                .header("x-cache", "hit")
                .body(wireline::Body::from("from the cache"))
                .unwrap();
            Ok::<_, wireline::Error>(response)
        })
    });
    let client = wireline::Client::builder().layer(cached).build().unwrap();
    // Nothing listens on this port: only the layer can answer.
    let url = "http://127.0.0.1:9/cached?page=2";
    let resp = bounded(client.get(url).send()).await.unwrap();
    assert_eq!(resp.url().as_str(), url);
    assert_eq!(resp.headers()["x-cache"], "hit");
    assert_eq!(resp.connection_id(), None, "no connection carried it");
    assert_eq!(bounded(resp.text()).await.unwrap(), "from the cache");
}

#[tokio::test]
async fn a_layers_own_error_is_a_middleware_error_and_wirelines_pass_through() {
    let refusing = tower::layer::layer_fn(|inner: RequestService| {
        tower::service_fn(move |req: Req| {
            let inner = inner.clone();
            async move {
                if req.uri().path() == "/forbidden" {
                    return Err(std::io::Error::other("over the rate limit").into());
                }
                inner.oneshot(req).await
            }
        })
    });
    let client = wireline::Client::builder().layer(refusing).build().unwrap();
    let err = bounded(client.get("http://127.0.0.1:9/forbidden").send())
        .await
        .unwrap_err();
    assert!(err.is_middleware(), "{err:?}");
    assert!(err.to_string().contains("over the rate limit"), "{err}");
    let source = std::error::Error::source(&err).unwrap();
    assert!(source.downcast_ref::<std::io::Error>().is_some());
    // A connection refused below the layer is still a connect error.
    let refused = wireline_closed_port().await;
    let err = bounded(client.get(&refused).send()).await.unwrap_err();
    assert!(err.is_connect() && !err.is_middleware(), "{err:?}");
}

/// An http URL on a port nothing listens on (bound, then closed).
async fn wireline_closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/")
}

#[tokio::test]
async fn the_timeouts_bound_the_layers_a_towers_timeout_being_a_timeout_error() {
    let server = http_server(echo_router()).await;
    let timing_out = wireline::Client::builder()
        .layer(tower::timeout::TimeoutLayer::new(Duration::from_millis(
            100,
        )))
        .build()
        .unwrap();
    let err = bounded(timing_out.get(server.url("/slow?ms=5000")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout() && !err.is_middleware(), "{err:?}");
    assert!(err.to_string().contains("ClientBuilder::layer"), "{err}");
    // A layer that holds a request back is bounded by the client's timeout.
    let dawdling = tower::layer::layer_fn(|inner: RequestService| {
        tower::service_fn(move |req: Req| {
            let inner = inner.clone();
            async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                inner.oneshot(req).await
            }
        })
    });
    let client = wireline::Client::builder()
        .timeout(Duration::from_millis(200))
        .layer(dawdling)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = bounded(client.get(server.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        server.requests().len() <= 1,
        "the held request was never sent"
    );
}

#[tokio::test]
async fn a_request_in_a_layer_outlives_its_dropped_client() {
    let server = http_server(echo_router()).await;
    let slow_start = tower::layer::layer_fn(|inner: RequestService| {
        tower::service_fn(move |req: Req| {
            let inner = inner.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                inner.oneshot(req).await
            }
        })
    });
    let client = wireline::Client::builder()
        .layer(slow_start)
        .build()
        .unwrap();
    let sending = client.get(server.url("/")).send();
    drop(client);
    let resp = bounded(sending).await.unwrap();
    assert_eq!(bounded(resp.text()).await.unwrap(), "hello");
}

#[tokio::test]
async fn a_layer_that_changes_the_uri_sends_the_request_there() {
    let server = http_server(echo_router()).await;
    let rewriting = tower::util::MapRequestLayer::new(|mut req: Req| {
        let moved = req.uri().to_string().replace("/old", "/json");
        *req.uri_mut() = moved.parse().unwrap();
        req
    });
    let client = wireline::Client::builder()
        .layer(rewriting)
        .build()
        .unwrap();
    let resp = bounded(client.get(server.url("/old")).send())
        .await
        .unwrap();
    assert_eq!(resp.url().as_str(), server.url("/json"));
    assert_eq!(server.requests()[0].uri.path(), "/json");
}
