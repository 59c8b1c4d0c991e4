//! The soak server: raw HTTP/1.1 over TCP, keep-alive, playing the fault each request's
//! path names, and h2 (prior knowledge) from hyper on a second port. Runs as a child
//! process so the client's file descriptors and memory are its own.
//!
//! It makes the client's life hard in two more ways: an HTTP/1.1 connection idle for
//! [`IDLE_CLOSE`] is closed (far below the pool's 90 s idle timeout, so the client keeps
//! meeting pooled connections the server just closed), and each line on stdin is a
//! graceful restart, as a reloaded haproxy or nginx does it: the listeners stay (the new
//! generation inherits them) while every connection of the old generation is drained,
//! HTTP/1.1 ones closed as soon as they are idle, h2 ones with hyper's
//! `graceful_shutdown` (GOAWAY, the streams in flight answered).

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::fault::Fault;
use crate::BoxError;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789";

/// How long an HTTP/1.1 connection may wait for its next request before the server
/// closes it.
pub(super) const IDLE_CLOSE: Duration = Duration::from_millis(20);

/// Serves on 127.0.0.1 until killed, printing the HTTP/1.1 and the h2 port on the first
/// line of stdout.
pub(super) async fn serve() -> Result<(), BoxError> {
    let h1 = TcpListener::bind("127.0.0.1:0").await?;
    let h2 = TcpListener::bind("127.0.0.1:0").await?;
    println!("{} {}", h1.local_addr()?.port(), h2.local_addr()?.port());
    let (restart, generation) = watch::channel(0u64);
    tokio::spawn(async move {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(_)) = lines.next_line().await {
            restart.send_modify(|n| *n += 1);
        }
    });
    loop {
        let (stream, h2) = tokio::select! {
            accepted = h1.accept() => (accepted?.0, false),
            accepted = h2.accept() => (accepted?.0, true),
        };
        // The connection belongs to the generation serving now (marked after the accept:
        // a restart during it must not drain the new connection); the next restart does.
        let mut generation = generation.clone();
        generation.borrow_and_update();
        match h2 {
            true => tokio::spawn(h2_connection(stream, generation)),
            false => tokio::spawn(async move {
                let _ = connection(stream, generation).await;
            }),
        };
    }
}

/// One h2 connection, until the client closes it or a restart drains it.
async fn h2_connection(stream: TcpStream, mut generation: watch::Receiver<u64>) {
    let _ = stream.set_nodelay(true);
    let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(stream), service_fn(h2_answer));
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = generation.changed() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// `/500` a 500; anything else, its body read, 200 and ten bytes.
async fn h2_answer(
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    if request.uri().path() == Fault::ServerError.path() {
        let mut response = hyper::Response::new(Full::new(Bytes::from_static(b"oops")));
        *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        return Ok(response);
    }
    let _ = request.into_body().collect().await;
    Ok(hyper::Response::new(Full::new(Bytes::from_static(
        b"0123456789",
    ))))
}

/// Answers requests on one connection until it closes or a fault ends it.
async fn connection(
    mut stream: TcpStream,
    mut generation: watch::Receiver<u64>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(1024);
    // Only a connection that served a request is closed idle or drained: a connection the
    // client dialled ahead and has not used yet would lose its first GET, which the client
    // does not resend (docs/reliability.md's Soak, an open question).
    let mut served = false;
    loop {
        // Idle for IDLE_CLOSE, or drained by a restart: closed, whatever the client is
        // about to send.
        let idle_close = if served {
            IDLE_CLOSE
        } else {
            Duration::from_secs(60)
        };
        let next = tokio::select! {
            next = tokio::time::timeout(idle_close, next_request(&mut stream, &mut buffer)) => next,
            _ = generation.changed(), if served => return Ok(()),
        };
        let Ok(Some(path)) = next.unwrap_or(Ok(None)) else {
            return Ok(());
        };
        served = true;
        match Fault::from_path(&path) {
            Fault::None => stream.write_all(OK).await?,
            Fault::ServerError => {
                stream
                    .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops")
                    .await?
            }
            Fault::ShortBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly 10 b.")
                    .await?;
                return Ok(());
            }
            Fault::CloseBeforeResponse => return Ok(()),
            Fault::BadChunked => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nnot hex\r\n")
                    .await?;
                return Ok(());
            }
            Fault::ResetMidBody => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhalf of it")
                    .await?;
                stream.set_zero_linger()?;
                return Ok(());
            }
            Fault::Stall => {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n")
                    .await?;
                // Longer than the client's read timeout; the client gives up and closes.
                let mut sink = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut sink)).await;
                return Ok(());
            }
            Fault::CorruptGzip => {
                stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 12\r\n\r\nnot gzip at ",
                    )
                    .await?
            }
        }
    }
}

/// Reads one request head, and any `Content-Length` body, and returns its path; `None`
/// when the client closed.
async fn next_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<String>> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                buffer.drain(..end + 4 + length);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                return Ok(Some(path));
            }
        }
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
