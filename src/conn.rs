//! `Conn`: the connection the pool holds, delegating I/O to the TCP or TLS stream and
//! handing hyper-util what we learned at connect time (the `TlsInfo`, when asked for).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::tls::info::{TlsInfo, TlsInfoExtra};

/// A plain or TLS connection, and its `TlsInfo` if the client was built with `tls_info(true)`.
pub(crate) struct Conn {
    stream: MaybeHttpsStream<TokioIo<TcpStream>>,
    /// `None` unless asked for, so a client without `tls_info` pays nothing per response.
    tls_info: Option<Arc<TlsInfo>>,
    /// h2 over TLS only: the TLS error that broke this connection, if one did.
    tls_failure: Option<Arc<TlsFailure>>,
}

/// The TLS error seen on a connection after its handshake (a client certificate refused
/// under TLS 1.3 arrives that way). When such an error ends an h2 connection, hyper fails
/// the requests in flight as merely "canceled: connection closed"; hyper-util hands us the
/// connection's extras with that error, so [`crate::Error`] can still say what happened.
#[derive(Debug, Default)]
pub(crate) struct TlsFailure(OnceLock<rustls::Error>);

impl TlsFailure {
    pub(crate) fn get(&self) -> Option<&rustls::Error> {
        self.0.get()
    }
}

/// The extra carrying a connection's [`TlsFailure`] record.
#[derive(Clone, Debug)]
pub(crate) struct TlsFailureExtra(pub(crate) Arc<TlsFailure>);

impl Conn {
    pub(crate) fn new(stream: MaybeHttpsStream<TokioIo<TcpStream>>) -> Conn {
        // Only h2 needs the record: HTTP/1.1 fails the request with the io error itself,
        // which still holds the rustls error. hyper-util copies an extra into every
        // response (an allocation and a hash insert each), so it is attached only where
        // it is the only way the error can reach us.
        let tls_failure = match &stream {
            MaybeHttpsStream::Https(tls) => {
                let (_, session) = tls.inner().get_ref();
                (session.alpn_protocol() == Some(b"h2")).then(Arc::default)
            }
            MaybeHttpsStream::Http(_) => None,
        };
        Conn {
            stream,
            tls_info: None,
            tls_failure,
        }
    }

    /// Reads the TLS parameters off the finished handshake (nothing for plain HTTP).
    pub(crate) fn with_tls_info(mut self) -> Conn {
        if let MaybeHttpsStream::Https(tls) = &self.stream {
            let (_, session) = tls.inner().get_ref();
            self.tls_info = Some(Arc::new(TlsInfo::of(session)));
        }
        self
    }
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        let mut connected = self.stream.connected();
        if let Some(failure) = &self.tls_failure {
            connected = connected.extra(TlsFailureExtra(failure.clone()));
        }
        match &self.tls_info {
            // hyper-util copies the extra into the extensions of every response.
            Some(info) => connected.extra(TlsInfoExtra(info.clone())),
            None => connected,
        }
    }
}

impl Read for Conn {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let (Poll::Ready(Err(e)), Some(failure)) = (&polled, &self.tls_failure) {
            if let Some(tls) =
                crate::error::chain(e).find_map(|c| c.downcast_ref::<rustls::Error>())
            {
                let _ = failure.0.set(tls.clone());
            }
        }
        polled
    }
}

impl Write for Conn {
    #[inline]
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    #[inline]
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    #[inline]
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    #[inline]
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
}
