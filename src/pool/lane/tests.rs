//! The table's rules, on real hyper connections to an in-process server over in-memory
//! pipes.

use std::sync::Arc;
use std::time::Duration;

use hyper::client::conn::{http1, http2};
use hyper_util::client::legacy::connect::Connected;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::table::{Table, Wait};
use super::{BoxingExecutor, Checked, Info, SendHalf};
use crate::connect::conn::Record;
use crate::connect::origins::Origin;

fn origin(host: &str) -> Origin {
    Origin::new(http::uri::Scheme::HTTPS, host.parse().unwrap())
}

fn info() -> Arc<Info> {
    Arc::new(Info {
        connected: Connected::new(),
        record: Arc::new(Record::for_test()),
    })
}

/// A server that answers every request with an empty 200.
fn serve(io: tokio::io::DuplexStream, h2: bool) -> tokio::task::JoinHandle<()> {
    let service = hyper::service::service_fn(|_| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(
            http_body_util::Empty::<bytes::Bytes>::new(),
        ))
    });
    tokio::spawn(async move {
        let io = TokioIo::new(io);
        let _ = if h2 {
            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(io, service)
                .await
        } else {
            hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await
        };
    })
}

/// A ready HTTP/1 connection, not yet used.
async fn http1_conn() -> Checked {
    let (client, server) = tokio::io::duplex(64 * 1024);
    serve(server, false);
    let (mut sender, connection) = http1::handshake(TokioIo::new(client)).await.unwrap();
    tokio::spawn(connection);
    sender.ready().await.unwrap();
    Checked {
        conn: SendHalf::H1(sender),
        info: info(),
        reused: false,
    }
}

/// A ready h2 connection.
async fn h2_conn() -> Checked {
    let (client, server) = tokio::io::duplex(64 * 1024);
    serve(server, true);
    let (mut sender, connection) = http2::Builder::new(BoxingExecutor)
        .handshake(TokioIo::new(client))
        .await
        .unwrap();
    tokio::spawn(connection);
    sender.ready().await.unwrap();
    Checked {
        conn: SendHalf::H2(sender),
        info: info(),
        reused: false,
    }
}

/// Which connection a checked-out one is: its `Info`'s address.
fn id(checked: &Checked) -> usize {
    Arc::as_ptr(&checked.info) as usize
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_returned_http1_connection_goes_to_the_oldest_waiting_request_first() {
    let table = Table::new(None, usize::MAX);
    let a = origin("a.test");
    let Err((Wait::AndDial(first), None)) = table.take_or_wait(&a, false) else {
        panic!("an empty table has no connection");
    };
    let Err((Wait::AndDial(second), None)) = table.take_or_wait(&a, false) else {
        panic!("still none");
    };
    let conn = http1_conn().await;
    let sent = id(&conn);
    assert!(
        table.put(&a, conn).is_none(),
        "no sweep without an idle timeout"
    );
    let got = tokio::time::timeout(WAIT, first).await.unwrap().unwrap();
    assert_eq!(id(&got), sent);
    assert!(got.reused, "a connection from the pool counts as reused");
    assert!(table.take(&a).is_none(), "not also left idle");
    drop(second);
    // Another origin's waiters never see it.
    let Err((Wait::AndDial(mut other), None)) = table.take_or_wait(&origin("b.test"), false) else {
        panic!("b.test has no connection");
    };
    table.put(&a, got);
    assert!(table.take(&a).is_some(), "idle again, for a.test only");
    assert!(other.try_recv().is_err());
}

#[tokio::test]
async fn idle_http1_connections_are_capped_and_the_latest_is_taken_first() {
    let table = Table::new(None, 2);
    let a = origin("a.test");
    let (one, two, three) = (http1_conn().await, http1_conn().await, http1_conn().await);
    let (two_id, three_id) = (id(&two), id(&three));
    table.put(&a, one);
    table.put(&a, two);
    table.put(&a, three);
    let latest = table.take(&a).expect("idle");
    assert_ne!(
        id(&latest),
        three_id,
        "past the cap of two, the third was dropped"
    );
    assert_eq!(id(&latest), two_id, "the most recently returned first");
    assert!(table.take(&a).is_some());
    assert!(table.take(&a).is_none(), "two kept, no more");
}

#[tokio::test]
async fn an_idle_connection_past_the_idle_timeout_is_not_taken() {
    let table = Table::new(Some(Duration::from_millis(50)), usize::MAX);
    let a = origin("a.test");
    assert!(
        table.put(&a, http1_conn().await).is_some(),
        "the first idle connection starts the sweep"
    );
    assert!(
        table.put(&a, http1_conn().await).is_none(),
        "one sweep at a time"
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert!(table.take(&a).is_none());
    table.put(&a, http1_conn().await);
    assert!(table.take(&a).is_some(), "a fresh one is");
}

#[tokio::test]
async fn an_h2_connection_is_shared_with_every_waiting_request_and_stays() {
    let table = Table::new(None, usize::MAX);
    let a = origin("a.test");
    let waiters: Vec<_> = (0..3)
        .map(|_| match table.take_or_wait(&a, false) {
            Err((Wait::AndDial(rx), None)) => rx,
            _ => panic!("no connection yet"),
        })
        .collect();
    let conn = h2_conn().await;
    let shared = id(&conn);
    table.put(&a, conn);
    for waiter in waiters {
        let got = tokio::time::timeout(WAIT, waiter).await.unwrap().unwrap();
        assert_eq!(id(&got), shared);
    }
    let again = table.take(&a).expect("still there for the next request");
    assert_eq!(id(&again), shared);
    // A second h2 connection to the origin does not replace the first.
    table.put(&a, h2_conn().await);
    assert_eq!(id(&table.take(&a).unwrap()), shared);
}

#[tokio::test]
async fn with_prior_knowledge_one_request_dials_and_the_others_wait_for_it() {
    let table = Table::new(None, usize::MAX);
    let a = origin("a.test");
    let Err((Wait::AndDial(_first), Some(dialing))) = table.take_or_wait(&a, true) else {
        panic!("the first request dials");
    };
    let Err((Wait::Only(second), None)) = table.take_or_wait(&a, true) else {
        panic!("the second waits for that dial");
    };
    // The dial failed: the waiting request is let go, to dial itself.
    drop(dialing);
    let released = tokio::time::timeout(WAIT, second).await.unwrap();
    assert!(released.is_err());
    let Err((Wait::AndDial(_), Some(_dialing))) = table.take_or_wait(&a, true) else {
        panic!("the next request dials again");
    };
}

#[tokio::test]
async fn requests_that_gave_up_waiting_do_not_pile_up() {
    let table = Table::new(None, usize::MAX);
    let a = origin("a.test");
    // A server that never answers: every request waits, then gives up.
    for _ in 0..1000 {
        let Err((Wait::AndDial(waiter), None)) = table.take_or_wait(&a, false) else {
            panic!("no connection");
        };
        drop(waiter);
    }
    assert!(table.waiting(&a) <= 16, "{} places kept", table.waiting(&a));
}

/// A connection's task holds hyper's connection future once, for the connection's life:
/// an `async` block awaiting it would keep it twice (as captured, and as awaited).
#[test]
fn a_connection_s_task_keeps_the_connection_once() {
    use std::future::Future;
    use std::mem::size_of_val;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    /// A connection future as large as hyper's HTTP/1 one over TLS.
    struct Connection {
        _state: [u8; 1856],
    }
    impl Future for Connection {
        type Output = Result<(), hyper::Error>;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
            Poll::Ready(Ok(()))
        }
    }
    let connection = size_of_val(&Connection { _state: [0; 1856] });
    let (ended, _) = tokio::sync::oneshot::channel();
    let h1 = size_of_val(&super::drive(
        Connection { _state: [0; 1856] },
        "HTTP/1",
        Some(ended),
    ));
    let h2 = size_of_val(&super::drive(Connection { _state: [0; 1856] }, "h2", None));
    assert!(
        h1 < 2 * connection,
        "HTTP/1: {h1} bytes for a connection of {connection}"
    );
    assert!(
        h2 < 2 * connection,
        "h2: {h2} bytes for a connection of {connection}"
    );
}
