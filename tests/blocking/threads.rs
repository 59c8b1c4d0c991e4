//! The blocking client across threads and runtimes: a response outliving its client, a
//! client dropped while another thread's request is in flight, `spawn_blocking`, and the
//! calls it refuses (from async code in debug builds, from its own thread in all).

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use wireline::blocking;

use crate::support::{echo_router, http_server};
use crate::{serve, within_bound};

#[test]
fn a_response_is_read_after_its_client_was_dropped() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let resp = client.get(server.url("/binary/200000")).send().unwrap();
        drop(client);
        assert_eq!(resp.bytes().unwrap().len(), 200_000);
    });
}

#[test]
fn a_client_dropped_while_another_thread_is_mid_request_leaves_that_request_alone() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let url = server.url("/slow?ms=400");
        let (sending, sent) = mpsc::channel();
        let other = {
            let request = client.get(url);
            thread::spawn(move || {
                sending.send(()).unwrap();
                request.send().and_then(|resp| resp.text())
            })
        };
        sent.recv().unwrap();
        // The other thread is in its request (the server answers after 400 ms).
        thread::sleep(Duration::from_millis(100));
        drop(client);
        assert_eq!(other.join().unwrap().unwrap(), "slow");
    });
}

#[test]
fn clones_share_one_client_across_threads() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let client = client.clone();
                let url = server.url(&format!("/bytes/{}", 10 + i));
                thread::spawn(move || client.get(url).send().unwrap().bytes().unwrap().len())
            })
            .collect();
        let lengths: Vec<usize> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        assert_eq!(lengths, [10, 11, 12, 13]);
    });
}

#[test]
fn it_works_inside_spawn_blocking_of_a_current_thread_runtime() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = server.url("/");
        let text = runtime.block_on(async move {
            tokio::task::spawn_blocking(move || blocking::get(url)?.text())
                .await
                .unwrap()
        });
        assert_eq!(text.unwrap(), "hello");
    });
}

/// The panic's message, from `catch_unwind`'s error.
fn message(panic: Box<dyn std::any::Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic.downcast::<&str>().map(|m| m.to_string()).unwrap(),
    }
}

#[cfg(debug_assertions)]
#[test]
fn a_call_from_async_code_panics_in_debug_builds_saying_what_to_use_instead() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let url = server.url("/");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (client, panic) = runtime.block_on(async move {
            let call = std::panic::AssertUnwindSafe(|| client.get(url).send());
            let panic = std::panic::catch_unwind(call).map(drop);
            (client, panic)
        });
        let message = message(panic.unwrap_err());
        assert!(
            message.contains("thread that runs async tasks"),
            "{message}"
        );
        assert!(message.contains("async wireline::Client"), "{message}");
        assert!(message.contains("spawn_blocking"), "{message}");
        // Nothing was sent, and the client still works where blocking is fine.
        assert!(server.requests().is_empty());
        assert_eq!(client.get(server.url("/")).send().unwrap().status(), 200);
    });
}

#[test]
fn a_blocking_call_from_the_clients_own_thread_fails_instead_of_deadlocking() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let inner = client.clone();
        let url = server.url("/");
        // The body is polled by the connection's task, on the client's own thread: a
        // blocking request there would wait for that thread for ever.
        let (told, panicked) = mpsc::channel();
        let body = futures_util::stream::once(async move {
            let call = std::panic::AssertUnwindSafe(|| inner.get(url).send().map(drop));
            let _ = told.send(std::panic::catch_unwind(call).map_err(message));
            Ok::<_, std::io::Error>("body")
        });
        let resp = client
            .post(server.url("/echo"))
            .body(blocking::Body::wrap_stream(body))
            .send();
        let message = panicked.recv().unwrap().unwrap_err();
        assert!(
            message.contains("wait for the thread it blocks"),
            "{message}"
        );
        assert_eq!(resp.unwrap().status(), 200);
    });
}
