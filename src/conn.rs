//! `Conn`: the connection the pool holds, delegating I/O to the TCP or TLS stream and
//! handing hyper-util what we learned at connect time (the `TlsInfo`, when asked for).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
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
}

impl Conn {
    pub(crate) fn new(stream: MaybeHttpsStream<TokioIo<TcpStream>>) -> Conn {
        Conn {
            stream,
            tls_info: None,
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
        let connected = self.stream.connected();
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
        Pin::new(&mut self.stream).poll_read(cx, buf)
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
