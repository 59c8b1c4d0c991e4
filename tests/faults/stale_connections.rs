//! Pooled connections the server closed while idle: sent again when Go's rule allows it
//! (reused connection, no response byte, a request safe to send again), while each send
//! meets another stale connection (up to eight resends), never otherwise.

use std::time::Duration;

use crate::support::{bounded, h1_response, raw_server, RawConn, RawServer};
use futures_util::stream;
use tokio::io::AsyncWriteExt;
use wireline::{Body, Client};

fn url(server: &RawServer, path: &str) -> String {
    format!("http://{}{path}", server.addr)
}

/// "hello" with a length and no `Connection: close`: the client may keep the connection.
fn hello() -> Vec<u8> {
    h1_response("200 OK", &[], b"hello")
}

/// Answers the first request on each connection, then reads the next one and closes
/// without a byte of answer: the server's idle close losing the race with our next
/// request, every time.
async fn closes_when_the_next_request_arrives() -> RawServer {
    raw_server(|mut conn: RawConn| async move {
        if conn.read_request().await.is_none() {
            return;
        }
        conn.write(&hello()).await;
        conn.read_request().await;
        conn.close().await;
    })
    .await
}

/// How many requests the server read whose first line starts with `start`.
fn count(server: &RawServer, start: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.starts_with(start.as_bytes()))
        .count()
}

#[tokio::test]
async fn a_request_written_into_a_closing_connection_is_sent_again() {
    let server = closes_when_the_next_request_arrives().await;
    let client = Client::new();
    bounded(async {
        for i in 0..100 {
            let body = client.get(url(&server, "/")).send().await?.text().await;
            assert_eq!(
                body.map_err(|e| format!("request {i}: {e}")).unwrap(),
                "hello"
            );
        }
        Ok::<_, wireline::Error>(())
    })
    .await
    .unwrap();
    // Every request after the first met a stale connection first, then a new one.
    assert_eq!(server.accepts(), 100);
    assert_eq!(count(&server, "GET"), 199);
}

#[tokio::test]
async fn a_server_closing_after_each_response_never_fails_a_request() {
    // Answers without `Connection: close` and closes the connection 5 ms later, a tiny
    // idle timeout. The client pauses 0–9 ms between requests, so some requests go out
    // just before the close, and the rest after it.
    let server = raw_server(|mut conn: RawConn| async move {
        if conn.read_request().await.is_some() {
            conn.write(&hello()).await;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        // FIN, then record a request that was already on its way, until the client closes.
        let _ = conn.stream.shutdown().await;
        conn.read_request().await;
    })
    .await;
    let client = Client::new();
    bounded(async {
        for i in 0..100u64 {
            let body = client.get(url(&server, "/")).send().await?.text().await?;
            assert_eq!(body, "hello", "request {i}");
            tokio::time::sleep(Duration::from_millis(i % 10)).await;
        }
        Ok::<_, wireline::Error>(())
    })
    .await
    .unwrap();
    // Requests past 100 met a closing connection and were sent again (about 60 here).
    let read = count(&server, "GET");
    eprintln!(
        "100 requests: {} connections, {read} requests read",
        server.accepts()
    );
    assert!(
        read > 100,
        "no request met a closing connection: the race was never run"
    );
}

/// A client whose pool holds `idle` connections to `server`, each of which the server
/// closes when the next request arrives on it: `idle` requests sent at once, answered
/// after a pause so none finds another's connection idle.
async fn pool_of_stale_connections(idle: usize) -> (RawServer, Client) {
    let server = raw_server(|mut conn: RawConn| async move {
        if conn.read_request().await.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        conn.write(&hello()).await;
        conn.read_request().await;
        conn.close().await;
    })
    .await;
    let client = Client::new();
    let fetch = |_| async { client.get(url(&server, "/")).send().await?.text().await };
    let bodies = bounded(futures_util::future::join_all((0..idle).map(fetch))).await;
    assert!(bodies.into_iter().all(|body| body.unwrap() == "hello"));
    assert_eq!(
        server.accepts(),
        idle,
        "each first request had its own connection"
    );
    (server, client)
}

#[tokio::test]
async fn a_resend_that_meets_another_stale_connection_is_sent_again() {
    // Four idle connections the server has all but closed: the request meets each in
    // turn, then a new connection answers. One resend would have failed it on the second.
    let (server, client) = pool_of_stale_connections(4).await;
    let body = bounded(async { client.get(url(&server, "/")).send().await?.text().await });
    assert_eq!(body.await.unwrap(), "hello");
    assert_eq!(server.accepts(), 5);
    assert_eq!(count(&server, "GET"), 4 + 4 + 1);
}

#[tokio::test]
async fn stale_resends_stop_after_eight() {
    // Twelve stale connections: the first send and eight resends each meet one, and the
    // request fails there rather than go on.
    let (server, client) = pool_of_stale_connections(12).await;
    let err = bounded(client.get(url(&server, "/")).send())
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert_eq!(
        server.accepts(),
        12,
        "no new connection: every send met a stale one"
    );
    assert_eq!(count(&server, "GET"), 12 + 9);
}

#[tokio::test]
async fn a_redirect_from_a_closing_connection_is_followed() {
    // `/start` redirects to `/final`; every connection answers once, then closes when
    // the next request arrives, so a hop that reuses it meets a stale connection.
    let server = raw_server(|mut conn: RawConn| async move {
        let Some(request) = conn.read_request().await else {
            return;
        };
        if request.starts_with(b"GET /start ") {
            let redirect = h1_response("302 Found", &[("location", "/final")], b"");
            conn.write(&redirect).await;
        } else {
            conn.write(&h1_response("200 OK", &[], b"final")).await;
        }
        conn.read_request().await;
        conn.close().await;
    })
    .await;
    for round in 0..20 {
        // A new client each round, so the redirect's connection is the only pooled one.
        let client = Client::new();
        let resp = bounded(client.get(url(&server, "/start")).send())
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert_eq!(resp.url().path(), "/final");
        assert_eq!(bounded(resp.text()).await.unwrap(), "final");
    }
    // Each round sends /final at least once; more often, when the redirect's connection
    // was reused and found stale, which is what this test is about.
    let finals = count(&server, "GET /final");
    eprintln!("20 redirects: /final sent {finals} times");
    assert!(finals > 20, "no round reused the redirect's connection");
}

#[tokio::test]
async fn a_fresh_connection_closed_before_any_byte_is_not_retried() {
    let server = raw_server(|mut conn: RawConn| async move {
        conn.read_request().await;
        conn.close().await;
    })
    .await;
    let err = bounded(Client::new().get(url(&server, "/")).send())
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert_eq!(server.accepts(), 1);
    assert_eq!(count(&server, "GET"), 1);
}

#[tokio::test]
async fn a_response_cut_after_its_first_bytes_is_not_retried() {
    let server = raw_server(|mut conn: RawConn| async move {
        conn.read_request().await;
        conn.write(&hello()).await;
        conn.read_request().await;
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-le").await;
        conn.close().await;
    })
    .await;
    let client = Client::new();
    let first = bounded(async { client.get(url(&server, "/")).send().await?.text().await });
    assert_eq!(first.await.unwrap(), "hello");
    let err = bounded(client.get(url(&server, "/")).send())
        .await
        .unwrap_err();
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(server.accepts(), 1, "a response had begun: no second try");
    assert_eq!(count(&server, "GET"), 2);
}

#[tokio::test]
async fn a_post_that_reached_the_server_is_not_sent_again() {
    let server = closes_when_the_next_request_arrives().await;
    let client = Client::new();
    let warm = bounded(async { client.get(url(&server, "/")).send().await?.text().await });
    assert_eq!(warm.await.unwrap(), "hello");
    let err = bounded(client.post(url(&server, "/")).body("pay once").send())
        .await
        .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert_eq!(count(&server, "POST"), 1);
    assert_eq!(server.accepts(), 1);

    // A streamed body can't be sent again whatever the method.
    let chunks = stream::iter(vec![Ok::<_, std::io::Error>("streamed")]);
    let warm = bounded(async { client.get(url(&server, "/")).send().await?.text().await });
    assert_eq!(warm.await.unwrap(), "hello");
    let err = bounded(
        client
            .put(url(&server, "/"))
            .header("idempotency-key", "k1")
            .body(Body::wrap_stream(chunks))
            .send(),
    )
    .await
    .unwrap_err();
    assert!(err.is_request(), "{err}");
    assert_eq!(count(&server, "PUT"), 1);
    assert_eq!(server.accepts(), 2);
}

#[tokio::test]
async fn a_post_with_an_idempotency_key_is_sent_again() {
    let server = closes_when_the_next_request_arrives().await;
    let client = Client::new();
    let warm = bounded(async { client.get(url(&server, "/")).send().await?.text().await });
    assert_eq!(warm.await.unwrap(), "hello");
    let text = bounded(async {
        client
            .post(url(&server, "/"))
            .header("idempotency-key", "order-17")
            .body("pay once")
            .send()
            .await?
            .text()
            .await
    })
    .await
    .unwrap();
    assert_eq!(text, "hello");
    assert_eq!(count(&server, "POST"), 2);
    assert_eq!(server.accepts(), 2);
}

/// Answers `first` for the first lookup at once, and every later one after `later`.
struct SecondLookupSlow {
    addr: std::net::SocketAddr,
    lookups: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    later: Duration,
}

impl wireline::dns::Resolve for SecondLookupSlow {
    fn resolve(&self, _name: wireline::dns::Name) -> wireline::dns::Resolving {
        let n = self
            .lookups
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (addr, delay) = (self.addr, if n == 0 { Duration::ZERO } else { self.later });
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            let addrs: wireline::dns::Addrs = Box::new(std::iter::once(addr));
            Ok(addrs)
        })
    }
}

#[tokio::test]
async fn a_connection_dialled_ahead_and_closed_while_idle_is_treated_as_reused() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;
    // The second connection the server accepts closes when its first request arrives: a
    // server's idle close meeting that request. The first answers everything, `/slow`
    // after 150 ms.
    let accepted = Arc::new(AtomicUsize::new(0));
    let on_second = Arc::new(AtomicUsize::new(0));
    let (accepted_in, on_second_in) = (accepted.clone(), on_second.clone());
    let server = raw_server(move |mut conn: RawConn| {
        let nth = accepted_in.fetch_add(1, SeqCst);
        let on_second = on_second_in.clone();
        async move {
            while let Some(request) = conn.read_request().await {
                if nth == 1 {
                    on_second.fetch_add(1, SeqCst);
                    conn.close().await;
                    return;
                }
                if request.starts_with(b"GET /slow ") {
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                conn.write(&hello()).await;
            }
        }
    })
    .await;
    // The second dial takes 300 ms (its name lookup), so hyper-util finishes it in the
    // background after the request that started it took the first connection back.
    let resolver = SecondLookupSlow {
        addr: server.addr,
        lookups: Arc::new(AtomicUsize::new(0)),
        later: Duration::from_millis(300),
    };
    let client = Client::builder().dns_resolver(resolver).build().unwrap();
    let url = format!("http://stale.test:{}/", server.addr.port());
    let text = |path: &'static str| {
        let (client, url) = (client.clone(), format!("{url}{}", &path[1..]));
        async move { client.get(url).send().await?.text().await }
    };
    bounded(async {
        let slow = tokio::spawn(text("/slow"));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(text("/").await?, "hello", "the second request");
        assert_eq!(slow.await.unwrap()?, "hello", "the slow request");
        while accepted.load(SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The second connection now waits in the pool, never used, long enough to count
        // as idle; the pool hands out its most recent connection first.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            text("/").await?,
            "hello",
            "the request that met the idle close"
        );
        Ok::<_, wireline::Error>(())
    })
    .await
    .unwrap();
    assert_eq!(
        on_second.load(SeqCst),
        1,
        "no request met the idle connection"
    );
    assert_eq!(count(&server, "GET"), 4);
}
