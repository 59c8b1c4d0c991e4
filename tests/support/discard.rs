//! A plain-HTTP server that reads request bodies and throws them away, answering with how
//! many bytes arrived: for uploads too big for `http_server`, which keeps every body.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::accept::serve_each;

/// A running discard server on 127.0.0.1; stops when dropped.
pub struct DiscardServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl DiscardServer {
    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for DiscardServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a server whose every response is 200 with the request body's length in bytes as
/// its text, or 400 "body error: …" when the body broke off.
pub async fn discard_server() -> DiscardServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let task = tokio::spawn(serve_each(listener, |tcp| async move {
        let service = service_fn(|req: Request<Incoming>| async move {
            Ok::<_, Infallible>(count(req.into_body()).await)
        });
        let _ = auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(tcp), service)
            .await;
    }));
    DiscardServer { addr, task }
}

async fn count(mut body: Incoming) -> Response<Full<Bytes>> {
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => {
                if let Some(data) = frame.data_ref() {
                    total += data.len() as u64;
                }
            }
            Err(e) => {
                return Response::builder()
                    .status(400)
                    .body(Full::new(Bytes::from(format!("body error: {e}"))))
                    .expect("valid response")
            }
        }
    }
    Response::new(Full::new(Bytes::from(total.to_string())))
}
