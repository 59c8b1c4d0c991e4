//! The fuzz targets' way in (`fuzzing` Cargo feature): connections made in memory by the
//! target instead of over TCP (set with `ClientBuilder::fuzzing_transport`).
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
    /// Connections made by `open`, which `ClientBuilder::fuzzing_transport` was given.
    pub(crate) fn new<F>(open: F) -> Transport
    where
        F: Fn(&Uri) -> io::Result<Box<dyn MemoryIo>> + Send + Sync + 'static,
    {
        Transport(Arc::new(open))
    }

    pub(crate) fn open(&self, dst: &Uri) -> io::Result<Box<dyn MemoryIo>> {
        (self.0)(dst)
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Transport(in memory)")
    }
}
