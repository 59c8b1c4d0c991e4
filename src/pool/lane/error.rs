//! What a send through a lane fails with: how far it got (the kinds of hyper-util's legacy
//! client, which the lane replaced, plus a request hyper lost), its cause, and the
//! connection it failed on, which `crate::attempt`'s rules read.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use super::Info;
use crate::connect::conn::Record;
use crate::error::BoxError;

/// A send that failed: its kind, its cause, and the connection it failed on, if it had one.
pub(crate) struct PoolError {
    kind: Kind,
    source: Option<BoxError>,
    connection: Option<Arc<Info>>,
}

/// How far a send got when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The connection closed before it took the request: none of it was written.
    Canceled,
    /// Opening the connection failed; the connector's error is the source.
    Connect,
    /// A `CONNECT` request as HTTP/1.0, which has no such method.
    UserUnsupportedRequestMethod,
    /// HTTP/2 asked of an HTTP/1 connection, or a version that is never sent.
    UserUnsupportedVersion,
    /// A request URI without a scheme and an authority: no origin to connect to.
    UserAbsoluteUriRequired,
    /// hyper failed the request, or the handshake on a new connection; the source says how.
    SendRequest,
    /// hyper never answered the request, and its connection was dropped (`watch.rs`).
    Lost,
}

impl PoolError {
    pub(crate) fn new(kind: Kind) -> PoolError {
        PoolError {
            kind,
            source: None,
            connection: None,
        }
    }

    pub(super) fn with_source(mut self, source: impl Into<BoxError>) -> PoolError {
        self.source = Some(source.into());
        self
    }

    pub(super) fn on(mut self, connection: &Arc<Info>) -> PoolError {
        self.connection = Some(connection.clone());
        self
    }

    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether opening the connection failed.
    pub(crate) fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// Whether it failed on a connection (the pool had given the request one).
    pub(crate) fn had_connection(&self) -> bool {
        self.connection.is_some()
    }

    /// The record of the connection it failed on, if it had one.
    pub(crate) fn record(&self) -> Option<&Arc<Record>> {
        Some(&self.connection.as_ref()?.record)
    }
}

impl fmt::Debug for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("PoolError");
        debug.field("kind", &self.kind);
        if let Some(source) = &self.source {
            debug.field("source", source);
        }
        debug.finish()
    }
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // hyper-util's words, which messages and logs have always shown.
        write!(f, "client error ({:?})", self.kind)
    }
}

impl StdError for PoolError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_ref().map(|e| &**e as _)
    }
}
