//! The soak server: raw HTTP/1.1 over TCP, keep-alive, playing the fault each request's
//! path names. Runs as a child process so the client's file descriptors and memory are its
//! own.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::fault::Fault;
use crate::BoxError;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123456789";

/// Serves on 127.0.0.1 until killed, printing the port on the first line of stdout.
pub(super) async fn serve() -> Result<(), BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = connection(stream).await;
        });
    }
}

/// Answers requests on one connection until it closes or a fault ends it.
async fn connection(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(1024);
    loop {
        let Some(path) = next_request(&mut stream, &mut buffer).await? else {
            return Ok(());
        };
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

/// Reads one request head and returns its path; `None` when the client closed.
async fn next_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<String>> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.drain(..end + 4);
            let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
            return Ok(Some(path));
        }
        let mut chunk = [0u8; 2048];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
