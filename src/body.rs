//! Request bodies: bytes we can replay for redirects, or a stream we can send only once.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http_body::{Frame, SizeHint};

use crate::error::BoxError;

/// How much of a file is read at a time when it is sent. tokio reads files on its blocking
/// pool, one hand-off per read: 64 KiB keeps those few (16 per MiB) while the memory
/// held per upload stays small.
const FILE_CHUNK: usize = 64 * 1024;

/// A request body.
///
/// Made from bytes or strings (`Vec<u8>`, `String`, `&'static str`, `Bytes`…), which can be
/// sent again when a 307/308 redirect asks for it, or from a stream with
/// [`Body::wrap_stream`], which is sent once and never buffered.
///
/// ```
/// let body = wireline::Body::from("hello");
/// assert_eq!(body.as_bytes(), Some(&b"hello"[..]));
/// ```
pub struct Body {
    kind: Kind,
}

enum Kind {
    /// Taken (left empty) when sent; `Bytes` clones are reference counts, not copies.
    Full(Bytes),
    Streaming(Pin<Box<dyn http_body::Body<Data = Bytes, Error = BoxError> + Send>>),
}

impl Body {
    /// An empty body.
    pub fn empty() -> Body {
        Body {
            kind: Kind::Full(Bytes::new()),
        }
    }

    /// A body read from a stream of byte chunks as it is sent, in constant memory.
    ///
    /// Such a body can't be replayed: a redirect that keeps the body (307/308, and 301/302
    /// other than after POST) is then returned to the caller instead of being followed.
    ///
    /// ```
    /// let chunks = futures_util::stream::iter(vec![
    ///     Ok::<_, std::io::Error>("hello, "),
    ///     Ok("world"),
    /// ]);
    /// let body = wireline::Body::wrap_stream(chunks);
    /// assert!(body.as_bytes().is_none());
    /// ```
    pub fn wrap_stream<S, O, E>(stream: S) -> Body
    where
        S: Stream<Item = Result<O, E>> + Send + 'static,
        O: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        use futures_util::TryStreamExt;
        let frames = stream
            .map_ok(|chunk| Frame::data(chunk.into()))
            .map_err(Into::into);
        Body {
            kind: Kind::Streaming(Box::pin(http_body_util::StreamBody::new(frames))),
        }
    }

    /// A body read from any [`http_body::Body`] as it is sent (reqwest's `Body::wrap`): a
    /// hyper body, a body made with `http-body-util`, a tower middleware's. Like a stream,
    /// it is sent once.
    ///
    /// ```
    /// let body = wireline::Body::wrap(http_body_util::Full::new(bytes::Bytes::from("hi")));
    /// assert!(body.as_bytes().is_none());
    /// ```
    pub fn wrap<B>(inner: B) -> Body
    where
        B: http_body::Body + Send + Sync + 'static,
        B::Data: Into<Bytes>,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        let body = inner
            .map_frame(|frame| frame.map_data(Into::into))
            .map_err(Into::into);
        Body {
            kind: Kind::Streaming(Box::pin(body)),
        }
    }

    /// A stream body from any `http_body::Body` of ours (multipart forms).
    #[cfg_attr(not(feature = "multipart"), allow(dead_code))]
    pub(crate) fn from_http_body<B>(body: B) -> Body
    where
        B: http_body::Body<Data = Bytes, Error = BoxError> + Send + 'static,
    {
        Body {
            kind: Kind::Streaming(Box::pin(body)),
        }
    }

    /// The bytes, unless this body is a stream.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.kind {
            Kind::Full(bytes) => Some(bytes),
            Kind::Streaming(_) => None,
        }
    }

    /// A copy for a second send, when the body is bytes (a reference-count increment).
    pub(crate) fn try_clone(&self) -> Option<Body> {
        match &self.kind {
            Kind::Full(bytes) => Some(Body {
                kind: Kind::Full(bytes.clone()),
            }),
            Kind::Streaming(_) => None,
        }
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Full(bytes) => f.debug_struct("Body").field("len", &bytes.len()).finish(),
            Kind::Streaming(_) => f.debug_struct("Body").field("streaming", &true).finish(),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.kind {
            Kind::Full(bytes) if bytes.is_empty() => Poll::Ready(None),
            Kind::Full(bytes) => Poll::Ready(Some(Ok(Frame::data(std::mem::take(bytes))))),
            Kind::Streaming(stream) => stream.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(bytes) => bytes.is_empty(),
            Kind::Streaming(stream) => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Streaming(stream) => stream.size_hint(),
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body {
            kind: Kind::Full(bytes),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(vec: Vec<u8>) -> Body {
        Body::from(Bytes::from(vec))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(s: &'static [u8]) -> Body {
        Body::from(Bytes::from_static(s))
    }
}

impl From<tokio::fs::File> for Body {
    /// A body read from the file while it is sent, 64 KiB at a time, in constant memory
    /// whatever the file's size; like any stream it can't be replayed for a 307/308
    /// redirect.
    ///
    /// Its length is not known in advance, so HTTP/1.1 sends it with chunked encoding.
    /// For a server that wants a `Content-Length`, set that header to the file's size
    /// (from its metadata). That many bytes are then sent: if the file has shrunk by
    /// the time they are read, the request fails; if it has grown, the rest is not sent.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let file = tokio::fs::File::open("backup.tar").await?;
    /// let size = file.metadata().await?.len();
    /// let resp = wireline::Client::new()
    ///     .put("https://example.com/backups/today.tar")
    ///     .header("content-length", size)
    ///     .body(file)
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    fn from(file: tokio::fs::File) -> Body {
        Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            file, FILE_CHUNK,
        ))
    }
}
