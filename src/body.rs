//! Request bodies: bytes we can replay for redirects, or a stream we can send only once.

use std::fmt;
use std::future::Future;
use std::io::{self, Read};
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
/// [`Body::wrap_stream`], a file, or a reader with [`Body::new`], which are sent once and
/// never buffered.
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

    /// A body read from `reader` as it is sent, 64 KiB at a time on tokio's blocking pool
    /// (so a slow reader never holds up the client's other connections), in constant
    /// memory (reqwest's blocking `Body::new`). Its length is not known in advance, so
    /// HTTP/1.1 sends it with chunked encoding; [`Body::sized`] gives the length. Like a
    /// stream, it is sent once. A read error fails the request, naming it.
    ///
    /// ```
    /// let reader = std::io::Cursor::new(b"hello".to_vec());
    /// let body = wireline::Body::new(reader);
    /// assert!(body.as_bytes().is_none());
    /// ```
    pub fn new<R: Read + Send + 'static>(reader: R) -> Body {
        Body::from_http_body(ReaderBody::new(Box::new(reader), None))
    }

    /// A body of `len` bytes read from `reader` as it is sent, as [`Body::new`] does, with
    /// `len` as its `Content-Length`. Exactly `len` bytes are sent: a reader that ends
    /// sooner fails the request; what it has past `len` is not read.
    ///
    /// ```
    /// let reader = std::io::Cursor::new(b"hello".to_vec());
    /// let body = wireline::Body::sized(reader, 5);
    /// ```
    pub fn sized<R: Read + Send + 'static>(reader: R, len: u64) -> Body {
        Body::from_http_body(ReaderBody::new(Box::new(reader), Some(len)))
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

    /// A stream body from any `http_body::Body` of ours (readers, multipart forms).
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

impl From<std::fs::File> for Body {
    /// A body read from the file while it is sent, as [`Body::new`] does, with the file's
    /// size (from its metadata, now) as its `Content-Length`, as reqwest's blocking client
    /// sends it: if the file has shrunk by the time it is read, the request fails; if it
    /// has grown, the rest is not sent. Something that is not a regular file (a pipe, a
    /// device) is sent with chunked encoding instead, until it ends.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let file = std::fs::File::open("backup.tar")?;
    /// let body = wireline::Body::from(file);
    /// # Ok(()) }
    /// ```
    fn from(file: std::fs::File) -> Body {
        match file.metadata() {
            Ok(metadata) if metadata.is_file() => Body::sized(file, metadata.len()),
            _ => Body::new(file),
        }
    }
}

/// A reader sent as a body: each piece read on tokio's blocking pool, the reader moving
/// there and back, as tokio's own files do.
struct ReaderBody {
    state: Reading,
    /// What is left to send, when the length was given.
    left: Option<u64>,
}

type BoxReader = Box<dyn Read + Send>;

enum Reading {
    Idle(BoxReader),
    Busy(tokio::task::JoinHandle<(BoxReader, io::Result<Vec<u8>>)>),
    Done,
}

impl ReaderBody {
    fn new(reader: BoxReader, len: Option<u64>) -> ReaderBody {
        ReaderBody {
            state: Reading::Idle(reader),
            left: len,
        }
    }
}

impl http_body::Body for ReaderBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                Reading::Done => return Poll::Ready(None),
                Reading::Idle(_) => {
                    let want = this.left.map_or(FILE_CHUNK, |left| {
                        usize::try_from(left).map_or(FILE_CHUNK, |left| left.min(FILE_CHUNK))
                    });
                    let Reading::Idle(mut reader) =
                        std::mem::replace(&mut this.state, Reading::Done)
                    else {
                        unreachable!("matched Idle above")
                    };
                    if want == 0 {
                        return Poll::Ready(None);
                    }
                    this.state = Reading::Busy(tokio::task::spawn_blocking(move || {
                        let mut buf = vec![0; want];
                        let read = loop {
                            match reader.read(&mut buf) {
                                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                                other => break other,
                            }
                        };
                        let read = read.map(|n| {
                            buf.truncate(n);
                            buf
                        });
                        (reader, read)
                    }));
                }
                Reading::Busy(task) => {
                    let done = std::task::ready!(Pin::new(task).poll(cx));
                    this.state = Reading::Done;
                    let (reader, read) = done.map_err(|e| format!("reading the body: {e}"))?;
                    let piece = read.map_err(|e| format!("reading the body failed: {e}"))?;
                    if piece.is_empty() {
                        return match this.left {
                            Some(left) if left > 0 => Poll::Ready(Some(Err(format!(
                                "the body's reader ended {left} bytes before the length given                                  (Body::sized, or a file that shrank since it was opened)"
                            )
                            .into()))),
                            _ => Poll::Ready(None),
                        };
                    }
                    if let Some(left) = &mut this.left {
                        *left -= piece.len() as u64;
                    }
                    this.state = Reading::Idle(reader);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(piece)))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, Reading::Done) || self.left == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        match self.left {
            Some(left) => SizeHint::with_exact(left),
            None => SizeHint::default(),
        }
    }
}
