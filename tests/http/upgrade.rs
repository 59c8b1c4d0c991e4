//! `Response::upgrade`: a WebSocket echo over the connection taken over after `101
//! Switching Protocols`, plain and over TLS, and the errors when there is no switch.

use std::convert::Infallible;

use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::support::{bounded, default_tls_listener, serve_each, trusting_test_ca};

/// A WebSocket echo server on 127.0.0.1 (over TLS with `tls`): `/ws` switches protocols
/// and sends back each message; any other path answers 200 without switching.
async fn echo_server(tls: bool) -> (String, JoinHandle<()>) {
    let (listener, acceptor): (TcpListener, Option<TlsAcceptor>) = match tls {
        true => {
            let (listener, _, acceptor) = default_tls_listener().await;
            (listener, Some(acceptor))
        }
        false => (TcpListener::bind("127.0.0.1:0").await.unwrap(), None),
    };
    let scheme = if tls { "https" } else { "http" };
    let base = format!(
        "{scheme}://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let task = tokio::spawn(serve_each(listener, move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            let service = service_fn(switch_to_echo);
            let http = hyper::server::conn::http1::Builder::new();
            let _ = match acceptor {
                Some(acceptor) => match acceptor.accept(tcp).await {
                    Ok(tls) => {
                        http.serve_connection(TokioIo::new(tls), service)
                            .with_upgrades()
                            .await
                    }
                    Err(_) => return,
                },
                None => {
                    http.serve_connection(TokioIo::new(tcp), service)
                        .with_upgrades()
                        .await
                }
            };
        }
    }));
    (base, task)
}

async fn switch_to_echo(
    mut req: http::Request<Incoming>,
) -> Result<http::Response<Empty<bytes::Bytes>>, Infallible> {
    let key = req.headers().get("sec-websocket-key").cloned();
    let (Some(key), "/ws") = (key, req.uri().path()) else {
        return Ok(http::Response::new(Empty::new()));
    };
    let pending = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = pending.await else { return };
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() && ws.send(message).await.is_err() {
                return;
            }
        }
    });
    let response = http::Response::builder()
        .status(101)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(Empty::new())
        .unwrap();
    Ok(response)
}

/// A WebSocket opening request, as a WebSocket client sends it.
fn websocket_request(client: &wireline::Client, url: &str) -> wireline::RequestBuilder {
    client
        .get(url)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
}

async fn echo_through(client: &wireline::Client, url: &str) {
    let resp = bounded(websocket_request(client, url).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 101);
    let accept = resp.headers()["sec-websocket-accept"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(accept, derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
    let upgraded = bounded(resp.upgrade()).await.unwrap();
    let mut ws = WebSocketStream::from_raw_socket(upgraded, Role::Client, None).await;
    for text in ["hello", "over the upgraded connection"] {
        bounded(ws.send(Message::text(text))).await.unwrap();
        let echoed = bounded(ws.next()).await.expect("a message").unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), text);
    }
}

#[tokio::test]
async fn a_websocket_echo_runs_over_an_upgraded_connection() {
    let (base, server) = echo_server(false).await;
    echo_through(&wireline::Client::new(), &format!("{base}/ws")).await;
    server.abort();
}

#[tokio::test]
async fn a_websocket_echo_runs_over_an_upgraded_tls_connection() {
    let (base, server) = echo_server(true).await;
    let client = trusting_test_ca().http1_only().build().unwrap();
    echo_through(&client, &format!("{base}/ws")).await;
    server.abort();
}

#[tokio::test]
async fn a_response_that_did_not_switch_is_an_upgrade_error() {
    let (base, server) = echo_server(false).await;
    let client = wireline::Client::new();
    let resp = bounded(websocket_request(&client, &format!("{base}/other")).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let err = bounded(resp.upgrade()).await.unwrap_err();
    assert!(err.is_upgrade() && !err.is_request(), "{err:?}");
    assert!(err.to_string().contains("instead of 101"), "{err}");
    server.abort();
}
