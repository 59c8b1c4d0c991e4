//! The accept loop every test server shares.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// Accepts on `listener` until the task running this is aborted (each server's `Drop`),
/// serving each connection with `serve` in a task of a set this loop owns, so that the
/// abort ends every connection too. TCP_NODELAY is set first: small responses must not
/// wait for Nagle and the client's delayed ACK.
pub async fn serve_each<F, Fut>(listener: TcpListener, mut serve: F)
where
    F: FnMut(TcpStream) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    let _ = tcp.set_nodelay(true);
                    connections.spawn(serve(tcp));
                }
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            // Reap finished connections so the set doesn't grow for the server's life.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
