//! The blocking `Response`: the async response's head, and its body read by waiting,
//! whole (`text`, `json`, `bytes`) or piece by piece (`Read`, `copy_to`).

use std::fmt;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use http::header::HeaderMap;
use http::{StatusCode, Version};
use serde::de::DeserializeOwned;
use url::Url;

use super::client::ran_out;
use super::runtime::Runtime;
use crate::error::{Error, ErrorKind, Result};
use crate::tls::TlsInfo;

/// A response whose head has arrived; the body is read on demand, each wait within the
/// client's [`timeout`](crate::blocking::ClientBuilder::timeout). It reads as a
/// [`std::io::Read`] too, in constant memory whatever the body's size.
///
/// ```no_run
/// # fn run() -> wireline::Result<()> {
/// let resp = wireline::blocking::get("https://example.com/")?;
/// println!("{} {:?}", resp.status(), resp.headers().get("content-type"));
/// let text = resp.text()?;
/// # Ok(()) }
/// ```
pub struct Response {
    inner: crate::Response,
    /// The piece of the body received and not yet handed to `read`.
    pending: Bytes,
    /// The longest each wait may take.
    timeout: Option<Duration>,
    /// Last, so it is dropped (and its thread joined) after the body.
    runtime: Arc<Runtime>,
}

impl Response {
    pub(super) fn new(
        inner: crate::Response,
        timeout: Option<Duration>,
        runtime: Arc<Runtime>,
    ) -> Response {
        Response {
            inner,
            pending: Bytes::new(),
            timeout,
            runtime,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The HTTP version the server answered with (HTTP/2 when ALPN chose h2).
    pub fn version(&self) -> Version {
        self.inner.version()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The response headers, to change them.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.inner.headers_mut()
    }

    /// The final URL, after any redirects.
    pub fn url(&self) -> &Url {
        self.inner.url()
    }

    /// Calls `progress(received, total)` as the body is read, as the async
    /// [`Response::on_download_progress`](crate::Response::on_download_progress) does.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut resp = wireline::blocking::get("https://example.com/big.tar")?
    ///     .on_download_progress(|received, total| eprintln!("{received} of {total:?}"));
    /// resp.copy_to(&mut std::fs::File::create("big.tar")?)?;
    /// # Ok(()) }
    /// ```
    pub fn on_download_progress<F>(mut self, progress: F) -> Response
    where
        F: FnMut(u64, Option<u64>) + Send + 'static,
    {
        self.inner = self.inner.on_download_progress(progress);
        self
    }

    /// The body's length when the server announced it (`Content-Length`), else `None`;
    /// also `None` for a body being decompressed.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// The address of the server this response came from: the proxy's, when the request
    /// went through one.
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    /// The response's extensions (see the async [`Response::extensions`](crate::Response::extensions)).
    pub fn extensions(&self) -> &http::Extensions {
        self.inner.extensions()
    }

    /// The response's extensions, to change them.
    pub fn extensions_mut(&mut self) -> &mut http::Extensions {
        self.inner.extensions_mut()
    }

    /// The cookies the response sets (its `Set-Cookie` headers, parsed; ones that don't
    /// parse are left out). Available with the `cookies` Cargo feature.
    #[cfg(feature = "cookies")]
    pub fn cookies<'a>(&'a self) -> impl Iterator<Item = crate::cookie::Cookie<'a>> + 'a {
        self.inner.cookies()
    }

    /// The TLS parameters of the connection, with [`tls_info(true)`](crate::ClientBuilder::tls_info)
    /// (see the async [`Response::tls_info`](crate::Response::tls_info)).
    pub fn tls_info(&self) -> Option<&TlsInfo> {
        self.inner.tls_info()
    }

    /// How long each phase of the request took, with [`timings(true)`](crate::ClientBuilder::timings)
    /// (see the async [`Response::timings`](crate::Response::timings)).
    pub fn timings(&self) -> Option<crate::Timings> {
        self.inner.timings()
    }

    /// The number of the connection the response came over (see the async
    /// [`Response::connection_id`](crate::Response::connection_id)).
    pub fn connection_id(&self) -> Option<u64> {
        self.inner.connection_id()
    }

    /// An [`is_status`](Error::is_status) error for 4xx and 5xx statuses, else the response.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let body = wireline::blocking::get("https://example.com/missing")?
    ///     .error_for_status()?
    ///     .text()?;
    /// # Ok(()) }
    /// ```
    pub fn error_for_status(self) -> Result<Response> {
        match self.inner.error_for_status_ref() {
            Err(e) => Err(e),
            Ok(_) => Ok(self),
        }
    }

    /// Like [`error_for_status`](Response::error_for_status), by reference.
    pub fn error_for_status_ref(&self) -> Result<&Response> {
        self.inner.error_for_status_ref().map(|_| self)
    }

    /// The whole body (what [`Read`] did not take yet). A body that ends before its
    /// `Content-Length` is an [`is_body`](Error::is_body) error, never a short success.
    #[track_caller]
    pub fn bytes(self) -> Result<Bytes> {
        let Response {
            inner,
            pending,
            timeout,
            runtime,
        } = self;
        // Kept only to say where a wait ran out.
        let url = timeout.map(|_| inner.url().clone());
        let rest = match runtime.wait(inner.bytes(), timeout) {
            Some(rest) => rest?,
            None => return Err(ran_out(timeout, "the whole body", url.as_ref())),
        };
        if pending.is_empty() {
            return Ok(rest);
        }
        let mut all = BytesMut::with_capacity(pending.len() + rest.len());
        all.extend_from_slice(&pending);
        all.extend_from_slice(&rest);
        Ok(all.freeze())
    }

    /// The body as text, decoded with the charset of `Content-Type` (UTF-8 when none is
    /// given); bytes invalid in it become U+FFFD, as in requests and reqwest.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// let text = wireline::blocking::get("https://example.com/")?.text()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn text(self) -> Result<String> {
        self.text_with_charset("utf-8")
    }

    /// Like [`text`](Response::text), with the charset to use when `Content-Type` names none.
    #[track_caller]
    pub fn text_with_charset(self, default_charset: &str) -> Result<String> {
        let encoding = self.inner.text_encoding(default_charset);
        let bytes = self.bytes()?;
        let (text, _, _) = encoding.decode(&bytes);
        Ok(text.into_owned())
    }

    /// The body parsed as JSON; invalid JSON is an [`is_decode`](Error::is_decode) error.
    ///
    /// ```no_run
    /// # fn run() -> wireline::Result<()> {
    /// #[derive(serde::Deserialize)]
    /// struct Ip { origin: String }
    /// let ip: Ip = wireline::blocking::get("https://example.com/ip")?.json()?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn json<T: DeserializeOwned>(self) -> Result<T> {
        let url = self.inner.url().clone();
        let bytes = self.bytes()?;
        crate::response::json_from(&bytes, &url)
    }

    /// Writes the rest of the body to `w` as it arrives, in constant memory, and returns
    /// how many bytes were written. Each wait for the server is within the client's
    /// [`timeout`](crate::blocking::ClientBuilder::timeout), so a long download isn't cut
    /// short while data keeps coming. Failing to write is an [`is_body`](Error::is_body)
    /// error saying how much was written.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut file = std::fs::File::create("download.iso")?;
    /// let mut resp = wireline::blocking::get("https://example.com/download.iso")?.error_for_status()?;
    /// let written = resp.copy_to(&mut file)?;
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn copy_to<W: Write + ?Sized>(&mut self, w: &mut W) -> Result<u64> {
        let mut written = 0;
        loop {
            if self.pending.is_empty() {
                match self.next_chunk()? {
                    Some(chunk) => self.pending = chunk,
                    None => return Ok(written),
                }
            }
            if let Err(e) = w.write_all(&self.pending) {
                let message = format!(
                    "writing it out failed after {written} bytes of the body were written: {e}"
                );
                let error = Error::new(ErrorKind::Body, message).with_source(e);
                return Err(error.for_url(self.inner.url()));
            }
            written += self.pending.len() as u64;
            self.pending.clear();
        }
    }

    /// The next non-empty piece of the body, or `None` at its end.
    #[track_caller]
    fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            let next = self.runtime.wait(self.inner.chunk(), self.timeout);
            match next {
                Some(Ok(Some(chunk))) if chunk.is_empty() => continue,
                Some(next) => return next,
                None => {
                    let url = self.inner.url();
                    return Err(ran_out(
                        self.timeout,
                        "the next piece of the body",
                        Some(url),
                    ));
                }
            }
        }
    }
}

impl Read for Response {
    /// Reads the body as it arrives, one piece from the server at a time (constant memory).
    /// A failure is an `io::Error` wrapping the [`Error`] (`ErrorKind::TimedOut` for a
    /// timeout).
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.pending.is_empty() {
            match self.next_chunk() {
                Ok(Some(chunk)) => self.pending = chunk,
                Ok(None) => return Ok(0),
                Err(e) => {
                    let kind = match e.is_timeout() {
                        true => io::ErrorKind::TimedOut,
                        false => io::ErrorKind::Other,
                    };
                    return Err(io::Error::new(kind, e));
                }
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.advance(n);
        Ok(n)
    }
}

impl fmt::Debug for Response {
    /// The async response's `Debug`: `Set-Cookie` values are hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}
