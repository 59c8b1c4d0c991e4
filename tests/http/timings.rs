//! `Response::timings`, `Error::timings`, `connection_id` and `connection_reused`
//! (`ClientBuilder::timings`): each phase measured where it happens, against servers and a
//! resolver that take a known time.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::stream;
use wireline::dns::{Addrs, Name, Resolve, Resolving};
use wireline::{Body, Client};

use crate::support::echo_router;
use crate::support::{bounded, http_server, https_server, trusting_test_ca, ServerOptions};

const MS: Duration = Duration::from_millis(1);

/// Answers every name with `addr`, after `delay`.
struct SlowResolver {
    addr: SocketAddr,
    delay: Duration,
}

impl Resolve for SlowResolver {
    fn resolve(&self, _name: Name) -> Resolving {
        let (addr, delay) = (self.addr, self.delay);
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            let addrs: Addrs = Box::new(std::iter::once(addr));
            Ok(addrs)
        })
    }
}

#[tokio::test]
async fn timings_are_off_unless_asked_for_but_the_connection_id_is_always_there() {
    let server = http_server(echo_router()).await;
    let client = Client::new();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert!(resp.timings().is_none());
    assert_eq!(resp.connection_reused(), None);
    assert!(resp.connection_id().is_some());
}

async fn fresh_then_reused(http1: bool) {
    let server = https_server(ServerOptions::default()).await;
    let resolver = SlowResolver {
        addr: server.addr,
        delay: MS * 150,
    };
    let mut builder = trusting_test_ca().timings(true).dns_resolver(resolver);
    if http1 {
        builder = builder.http1_only();
    }
    let client = builder.build().unwrap();
    let url = server.url_host("localhost", "/");

    let first = bounded(client.get(&url).send()).await.unwrap();
    let t = first.timings().expect("timings(true)");
    assert!(t.dns().unwrap() >= MS * 150, "{t:?}");
    assert!(
        t.tcp_connect().is_some() && t.tls_handshake().is_some(),
        "{t:?}"
    );
    assert_eq!(first.connection_reused(), Some(false));
    // curl's times, each from the start, come in the order of the phases.
    let cumulative = [
        t.namelookup(),
        t.connect(),
        t.appconnect(),
        t.pretransfer(),
        t.posttransfer(),
        t.starttransfer(),
        Some(t.total()),
    ]
    .map(|at| at.expect("every phase happened"));
    assert!(cumulative.is_sorted(), "{cumulative:?}");
    assert!(cumulative[0] >= MS * 150);
    // The phases add up to the time to the first byte.
    let phases = t.dns().unwrap()
        + t.tcp_connect().unwrap()
        + t.tls_handshake().unwrap()
        + t.pool_wait().unwrap()
        + t.request_sent().unwrap()
        + t.time_to_first_byte().unwrap();
    assert!(phases <= t.starttransfer().unwrap() + MS, "{t:?}");
    first.bytes().await.unwrap();

    let second = bounded(
        client
            .get(server.url_host("localhost", "/slow?ms=200"))
            .send(),
    )
    .await
    .unwrap();
    let t2 = second.timings().unwrap();
    assert_eq!(second.connection_reused(), Some(true));
    assert_eq!(t2.connection_id(), t.connection_id());
    assert_eq!(
        (t2.dns(), t2.tcp_connect(), t2.tls_handshake()),
        (None, None, None)
    );
    assert_eq!(t2.namelookup(), None);
    // The server's 200 ms are the wait for the first byte, not the connection's.
    assert!(t2.time_to_first_byte().unwrap() >= MS * 200, "{t2:?}");
    assert!(t2.pool_wait().unwrap() < MS * 150, "{t2:?}");
}

#[tokio::test]
async fn a_fresh_h2_connection_times_dns_tcp_and_tls_and_a_reused_one_none_of_them() {
    fresh_then_reused(false).await;
}

#[tokio::test]
async fn a_fresh_http11_connection_times_dns_tcp_and_tls_and_a_reused_one_none_of_them() {
    fresh_then_reused(true).await;
}

#[tokio::test]
async fn plain_http_to_an_address_has_no_lookup_and_no_handshake() {
    let server = http_server(echo_router()).await;
    let client = Client::builder().timings(true).build().unwrap();
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    let t = resp.timings().unwrap();
    assert_eq!(
        (t.dns(), t.tls_handshake(), t.appconnect()),
        (None, None, None)
    );
    assert!(t.tcp_connect().is_some() && t.connect().is_some());
    assert_eq!(t.redirect(), Duration::ZERO);
}

#[tokio::test]
async fn request_sent_covers_a_slow_upload_and_not_the_wait_before_it() {
    let server = http_server(echo_router()).await;
    let client = Client::builder().timings(true).build().unwrap();
    let chunks = stream::unfold(0, |n| async move {
        if n == 3 {
            return None;
        }
        tokio::time::sleep(MS * 60).await;
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from("x")), n + 1))
    });
    let resp = client
        .post(server.url("/echo"))
        .body(Body::wrap_stream(chunks))
        .send();
    let t = bounded(resp).await.unwrap().timings().unwrap();
    assert!(t.request_sent().unwrap() >= MS * 180, "{t:?}");
    assert!(t.time_to_first_byte().unwrap() < MS * 180, "{t:?}");
}

#[tokio::test]
async fn concurrent_h2_requests_share_a_connection_id_and_http11_ones_do_not() {
    let server = https_server(ServerOptions::default()).await;
    for (http1, shared) in [(false, true), (true, false)] {
        let mut builder = trusting_test_ca();
        if http1 {
            builder = builder.http1_only();
        }
        let client = builder.build().unwrap();
        // Warm up: one connection, known to speak h2, before the two at once.
        bounded(client.get(server.url("/")).send())
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let slow = server.url("/slow?ms=100");
        let (a, b) =
            bounded(async { tokio::join!(client.get(&slow).send(), client.get(&slow).send()) })
                .await;
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a.connection_id() == b.connection_id(),
            shared,
            "http1: {http1}"
        );
    }
}

#[tokio::test]
async fn a_redirect_is_counted_before_the_final_attempt() {
    let server = http_server(echo_router()).await;
    let client = Client::builder().timings(true).build().unwrap();
    let url = server.url("/redirect?to=/slow%3Fms%3D10");
    let resp = bounded(client.get(url).send()).await.unwrap();
    assert_eq!(resp.url().path(), "/slow");
    let t = resp.timings().unwrap();
    assert!(t.redirect() > Duration::ZERO);
    assert!(t.pretransfer().unwrap() >= t.redirect());
    // The final hop reused the redirect's connection.
    assert_eq!(resp.connection_reused(), Some(true));
}

#[tokio::test]
async fn a_timeout_carries_how_far_the_request_got() {
    let server = https_server(ServerOptions::default()).await;
    let client = trusting_test_ca()
        .timings(true)
        .timeout(MS * 300)
        .build()
        .unwrap();
    let err = bounded(client.get(server.url("/slow?ms=3000")).send())
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    let t = err.timings().expect("the timeout's timings");
    assert!(t.total() >= MS * 300, "{t:?}");
    assert!(
        t.connection_id().is_some() && t.tls_handshake().is_some(),
        "{t:?}"
    );
    assert!(t.pretransfer().is_some(), "{t:?}");
    assert_eq!(t.starttransfer(), None);
}

#[tokio::test]
async fn a_refused_connection_has_timings_without_a_connection() {
    // A port nobody listens on any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::builder().timings(true).build().unwrap();
    let err = bounded(client.get(format!("http://{addr}/")).send())
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let t = err.timings().expect("the attempt's timings");
    assert_eq!(
        (t.connection_id(), t.pool_wait(), t.starttransfer()),
        (None, None, None)
    );
    // Without timings(true), errors carry none.
    let untimed = Client::new().get(format!("http://{addr}/")).send().await;
    assert!(untimed.unwrap_err().timings().is_none());
}
