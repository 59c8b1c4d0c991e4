//! The fuzz targets' way in (`fuzzing` Cargo feature): connections made in memory by the
//! target instead of over TCP.
//!
//! Not part of the API: absent without the feature, hidden from the docs, and free to
//! change. The targets in `fuzz/` play the server for a real client, so that the pool,
//! hyper's parser, the redirect loop, pacing and decompression all meet the bytes the
//! fuzzer chooses; no public seam reaches below the connector, and a loopback listener
//! per input would be slow and leave sockets in TIME_WAIT by the million.

use std::fmt;
use std::io;
use std::sync::Arc;

use http::Uri;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::client::ClientBuilder;

/// A byte stream a fuzz target hands the client in place of a TCP connection.
pub trait MemoryIo: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> MemoryIo for T {}

/// What opens a connection: called with the destination (`scheme://host:port`) each time
/// the pool needs a new connection.
type Open = dyn Fn(&Uri) -> io::Result<Box<dyn MemoryIo>> + Send + Sync;

/// The fuzz target's connection opener, held by the client's connectors.
#[derive(Clone)]
pub(crate) struct Transport(Arc<Open>);

impl Transport {
    pub(crate) fn open(&self, dst: &Uri) -> io::Result<Box<dyn MemoryIo>> {
        (self.0)(dst)
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transport(in memory)")
    }
}

impl ClientBuilder {
    /// Fuzzing only: every connection, `http` or `https`, is whatever `open` returns for
    /// its destination, spoken to as plaintext HTTP/1.1 (no DNS, TCP or TLS). An error from
    /// `open` is a connect error.
    #[doc(hidden)]
    pub fn fuzzing_transport<F>(mut self, open: F) -> ClientBuilder
    where
        F: Fn(&Uri) -> io::Result<Box<dyn MemoryIo>> + Send + Sync + 'static,
    {
        self.transport = Some(Transport(Arc::new(open)));
        self
    }
}
