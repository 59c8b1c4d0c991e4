//! Multipart forms (`multipart/form-data`, RFC 7578): the parts, and their encoding as a
//! request body that streams files from disk.
//!
//! Send one with [`RequestBuilder::multipart`](crate::RequestBuilder::multipart):
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! use wireline::multipart::{Form, Part};
//!
//! let form = Form::new()
//!     .text("title", "Holiday")
//!     .part(
//!         "thumbnail",
//!         Part::bytes(vec![0x89, b'P', b'N', b'G'])
//!             .file_name("thumb.png")
//!             .mime_str("image/png")?,
//!     )
//!     .file("video", "holiday.mp4") // read while sending, never held in memory
//!     .await?;
//! let resp = wireline::Client::new()
//!     .post("https://example.com/upload")
//!     .multipart(form)
//!     .send()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Available with the `multipart` Cargo feature (on by default).

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use http_body::{Frame, SizeHint};
use mime::Mime;

use crate::body::Body;
use crate::error::{BoxError, Error, Result};

/// A `multipart/form-data` form: named parts, sent in the order they were added.
///
/// A form whose parts are all in memory (text and bytes) becomes one buffer, which can be
/// sent again when a 307/308 redirect asks for it. A form with a file or stream part is
/// streamed: each file is read while it is sent, so its size doesn't matter. Either way
/// the request carries a `Content-Length` whenever every part's length is known (text,
/// bytes, files, [`Part::stream_with_length`]); a [`Part::stream`] of unknown length
/// makes it chunked.
///
/// ```
/// use wireline::multipart::Form;
///
/// # fn run() -> wireline::Result<()> {
/// let form = Form::new().text("user", "ada").text("lang", "en");
/// let request = wireline::Client::new()
///     .post("https://example.com/profile")
///     .multipart(form)
///     .build()?;
/// let content_type = request.headers()["content-type"].to_str().unwrap();
/// assert!(content_type.starts_with("multipart/form-data; boundary="));
/// # Ok(()) }
/// ```
pub struct Form {
    boundary: String,
    parts: Vec<(Cow<'static, str>, Part)>,
}

/// One part of a [`Form`]: its content, and optionally a file name and a MIME type.
///
/// ```
/// use wireline::multipart::Part;
///
/// # fn run() -> wireline::Result<()> {
/// let part = Part::bytes(b"col1,col2\n1,2\n".to_vec())
///     .file_name("table.csv")
///     .mime_str("text/csv")?;
/// # Ok(()) }
/// ```
pub struct Part {
    content: Content,
    file_name: Option<Cow<'static, str>>,
    mime: Option<Mime>,
}

enum Content {
    /// Sent from this buffer; `Bytes` clones are reference counts.
    Bytes(Bytes),
    /// Read while the request is sent.
    Stream {
        body: Body,
        /// Known for files and `stream_with_length`: then exactly this many bytes must come.
        len: Option<u64>,
        /// The file it reads, for error messages.
        path: Option<PathBuf>,
    },
}

impl Form {
    /// An empty form with a new random boundary.
    ///
    /// ```
    /// let form = wireline::multipart::Form::new();
    /// assert!(form.boundary().len() > 30);
    /// ```
    pub fn new() -> Form {
        Form {
            boundary: new_boundary(),
            parts: Vec::new(),
        }
    }

    /// The boundary between the parts, as the `Content-Type` header will give it.
    ///
    /// ```
    /// let form = wireline::multipart::Form::new();
    /// println!("multipart/form-data; boundary={}", form.boundary());
    /// ```
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// Adds a text field.
    ///
    /// ```
    /// let form = wireline::multipart::Form::new()
    ///     .text("username", "ada")
    ///     .text("remember", "yes");
    /// ```
    pub fn text<N, V>(self, name: N, value: V) -> Form
    where
        N: Into<Cow<'static, str>>,
        V: Into<Cow<'static, str>>,
    {
        self.part(name, Part::text(value))
    }

    /// Adds a part.
    ///
    /// ```
    /// use wireline::multipart::{Form, Part};
    ///
    /// let form = Form::new().part("avatar", Part::bytes(vec![0u8; 16]).file_name("a.bin"));
    /// ```
    pub fn part<N: Into<Cow<'static, str>>>(mut self, name: N, part: Part) -> Form {
        self.parts.push((name.into(), part));
        self
    }

    /// Adds a file part, as [`Part::file`] makes it: read from disk while the request is
    /// sent, named after the file, with a MIME type guessed from its extension.
    ///
    /// Fails with an [`is_builder`](Error::is_builder) error naming the path when the file
    /// can't be opened.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let form = wireline::multipart::Form::new()
    ///     .text("note", "quarterly numbers")
    ///     .file("report", "/srv/reports/q3.pdf")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn file<N, P>(self, name: N, path: P) -> Result<Form>
    where
        N: Into<Cow<'static, str>>,
        P: AsRef<Path>,
    {
        Ok(self.part(name, Part::file(path).await?))
    }

    /// The `Content-Type` header for this form.
    pub(crate) fn content_type(&self) -> HeaderValue {
        HeaderValue::try_from(format!("multipart/form-data; boundary={}", self.boundary))
            .expect("the boundary is letters, digits and dashes")
    }

    /// The encoded form and its length in bytes, when every part's length is known.
    pub(crate) fn into_body(self) -> (Body, Option<u64>) {
        let mut segments = VecDeque::with_capacity(self.parts.len() * 3 + 1);
        for (name, part) in self.parts {
            segments.push_back(Segment::Bytes(part_head(&self.boundary, &name, &part)));
            match part.content {
                Content::Bytes(bytes) => segments.push_back(Segment::Bytes(bytes)),
                Content::Stream { body, len, path } => segments.push_back(Segment::Stream {
                    body,
                    expected: len,
                    read: 0,
                    name,
                    path,
                }),
            }
            segments.push_back(Segment::Bytes(Bytes::from_static(b"\r\n")));
        }
        segments.push_back(Segment::Bytes(Bytes::from(format!(
            "--{}--\r\n",
            self.boundary
        ))));
        let len = segments.iter().map(Segment::len).sum::<Option<u64>>();

        // All in memory: one buffer, replayable for redirects.
        if segments.iter().all(|s| matches!(s, Segment::Bytes(_))) {
            let mut buffer = BytesMut::with_capacity(len.unwrap_or(0) as usize);
            for segment in segments {
                if let Segment::Bytes(bytes) = segment {
                    buffer.extend_from_slice(&bytes);
                }
            }
            return (Body::from(buffer.freeze()), len);
        }
        let body = FormBody {
            segments,
            remaining: len,
        };
        (Body::from_http_body(body), len)
    }
}

impl Default for Form {
    fn default() -> Form {
        Form::new()
    }
}

impl fmt::Debug for Form {
    /// Shows the boundary and each part's name, file name, type and length, never the
    /// contents (a form may carry a password).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Form")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts)
            .finish()
    }
}

impl Part {
    /// A text part (sent as UTF-8, with no `Content-Type` of its own, which means
    /// `text/plain`).
    ///
    /// ```
    /// let part = wireline::multipart::Part::text("hello");
    /// ```
    pub fn text<V: Into<Cow<'static, str>>>(value: V) -> Part {
        let bytes = match value.into() {
            Cow::Borrowed(text) => Bytes::from_static(text.as_bytes()),
            Cow::Owned(text) => Bytes::from(text),
        };
        Part::new(Content::Bytes(bytes))
    }

    /// A part from bytes in memory (no `Content-Type` unless [`mime_str`](Part::mime_str)
    /// sets one).
    ///
    /// ```
    /// let part = wireline::multipart::Part::bytes(vec![1, 2, 3]).file_name("three.bin");
    /// ```
    pub fn bytes<V: Into<Cow<'static, [u8]>>>(value: V) -> Part {
        let bytes = match value.into() {
            Cow::Borrowed(slice) => Bytes::from_static(slice),
            Cow::Owned(vec) => Bytes::from(vec),
        };
        Part::new(Content::Bytes(bytes))
    }

    /// A part read from a file while the request is sent, 64 KiB at a time, never held
    /// in memory whole. Its file name is the path's last component, its MIME type is
    /// guessed from the extension (`application/octet-stream` when unknown); both can be
    /// replaced.
    ///
    /// The file's size is read now and becomes part of the request's `Content-Length`; if
    /// the file is shorter or longer when it is sent, the request fails rather than send
    /// a different body. Fails with an [`is_builder`](Error::is_builder) error naming the
    /// path when the file can't be opened or is a directory.
    ///
    /// ```no_run
    /// # async fn run() -> wireline::Result<()> {
    /// let part = wireline::multipart::Part::file("photos/IMG_0001.jpg")
    ///     .await?
    ///     .file_name("beach.jpg");
    /// # Ok(()) }
    /// ```
    pub async fn file<P: AsRef<Path>>(path: P) -> Result<Part> {
        let path = path.as_ref();
        let cannot = |e: std::io::Error| {
            Error::builder(format!(
                "cannot read {} for a multipart part: {e}",
                path.display()
            ))
            .with_source(e)
        };
        let file = tokio::fs::File::open(path).await.map_err(cannot)?;
        let metadata = file.metadata().await.map_err(cannot)?;
        if metadata.is_dir() {
            return Err(Error::builder(format!(
                "cannot send {} as a multipart part: it is a directory",
                path.display()
            )));
        }
        // A pipe or a device has no size up front: it is sent for as long as it gives data.
        let len = metadata.is_file().then_some(metadata.len());
        let mut part = Part::new(Content::Stream {
            body: Body::from(file),
            len,
            path: Some(path.to_path_buf()),
        });
        part.mime = Some(mime_guess::from_path(path).first_or_octet_stream());
        if let Some(name) = path.file_name() {
            part.file_name = Some(Cow::Owned(name.to_string_lossy().into_owned()));
        }
        Ok(part)
    }

    /// A part read from a body while the request is sent, of unknown length: the
    /// request is then sent with chunked encoding, unless the body is bytes in memory.
    ///
    /// ```
    /// use wireline::multipart::Part;
    ///
    /// let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>("a,b\n"), Ok("1,2\n")]);
    /// let part = Part::stream(wireline::Body::wrap_stream(chunks)).file_name("live.csv");
    /// ```
    pub fn stream<B: Into<Body>>(body: B) -> Part {
        let body = body.into();
        let len = http_body::Body::size_hint(&body).exact();
        Part::new(Content::Stream {
            body,
            len,
            path: None,
        })
    }

    /// A part read from a body while the request is sent, which will give exactly `len`
    /// bytes: the request keeps its `Content-Length`, and fails if the body gives more or
    /// fewer.
    ///
    /// ```
    /// use wireline::multipart::Part;
    ///
    /// let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>("abc"), Ok("def")]);
    /// let part = Part::stream_with_length(wireline::Body::wrap_stream(chunks), 6);
    /// ```
    pub fn stream_with_length<B: Into<Body>>(body: B, len: u64) -> Part {
        Part::new(Content::Stream {
            body: body.into(),
            len: Some(len),
            path: None,
        })
    }

    fn new(content: Content) -> Part {
        Part {
            content,
            file_name: None,
            mime: None,
        }
    }

    /// Sets the file name the part is sent with (`filename="…"`).
    ///
    /// ```
    /// let part = wireline::multipart::Part::text("a,b\n").file_name("data.csv");
    /// ```
    pub fn file_name<N: Into<Cow<'static, str>>>(mut self, name: N) -> Part {
        self.file_name = Some(name.into());
        self
    }

    /// Sets the part's `Content-Type`. Fails with an [`is_builder`](Error::is_builder)
    /// error when `mime` is not a MIME type.
    ///
    /// ```
    /// use wireline::multipart::Part;
    ///
    /// assert!(Part::text("{}").mime_str("application/json").is_ok());
    /// assert!(Part::text("{}").mime_str("not a type").unwrap_err().is_builder());
    /// ```
    pub fn mime_str(mut self, mime: &str) -> Result<Part> {
        let parsed = mime.parse::<Mime>().map_err(|e| {
            Error::builder(format!(
                "invalid MIME type {mime:?} for a multipart part: {e}"
            ))
        })?;
        self.mime = Some(parsed);
        Ok(self)
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Part");
        match &self.content {
            Content::Bytes(bytes) => d.field("len", &bytes.len()),
            Content::Stream { len, path, .. } => d.field("streaming_len", len).field("path", path),
        };
        d.field("file_name", &self.file_name)
            .field("mime", &self.mime)
            .finish()
    }
}

/// `--boundary`, then the part's headers and the blank line before its content.
///
/// Names and file names are escaped as browsers do (HTML's multipart/form-data encoding):
/// `"` as `%22`, CR as `%0D`, LF as `%0A`, so no value can end the header or add one.
fn part_head(boundary: &str, name: &str, part: &Part) -> Bytes {
    let mut head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"",
        escape(name)
    );
    if let Some(file_name) = &part.file_name {
        head.push_str("; filename=\"");
        head.push_str(&escape(file_name));
        head.push('"');
    }
    if let Some(mime) = &part.mime {
        head.push_str("\r\nContent-Type: ");
        head.push_str(mime.as_ref());
    }
    head.push_str("\r\n\r\n");
    Bytes::from(head)
}

fn escape(value: &str) -> Cow<'_, str> {
    if !value.contains(['"', '\r', '\n']) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    )
}

/// A boundary no part is likely to contain: 128 bits from std's randomly keyed hasher.
fn new_boundary() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let random = || {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.finish()
    };
    format!("wireline-{:016x}{:016x}", random(), random())
}

/// A streamed form: the pieces in order, each part's stream read to its end in turn.
struct FormBody {
    segments: VecDeque<Segment>,
    /// Bytes still to send, when known.
    remaining: Option<u64>,
}

enum Segment {
    Bytes(Bytes),
    Stream {
        body: Body,
        expected: Option<u64>,
        read: u64,
        name: Cow<'static, str>,
        path: Option<PathBuf>,
    },
}

impl Segment {
    fn len(&self) -> Option<u64> {
        match self {
            Segment::Bytes(bytes) => Some(bytes.len() as u64),
            Segment::Stream { expected, .. } => *expected,
        }
    }
}

/// An error in a part's stream, naming the part and its file.
fn part_error(name: &str, path: Option<&Path>, problem: impl fmt::Display) -> BoxError {
    match path {
        Some(path) => format!(
            "multipart part {name:?} (file {}): {problem}",
            path.display()
        )
        .into(),
        None => format!("multipart part {name:?}: {problem}").into(),
    }
}

/// Where a part's expected length came from, for its error messages.
fn promised(path: Option<&Path>) -> &'static str {
    match path {
        Some(_) => "the file had when it was added to the form (it changed since)",
        None => "declared with stream_with_length",
    }
}

impl http_body::Body for FormBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let Some(segment) = this.segments.front_mut() else {
                return Poll::Ready(None);
            };
            let data = match segment {
                Segment::Bytes(bytes) => {
                    let bytes = std::mem::take(bytes);
                    this.segments.pop_front();
                    bytes
                }
                Segment::Stream {
                    body,
                    expected,
                    read,
                    name,
                    path,
                } => match ready!(Pin::new(body).poll_frame(cx)) {
                    Some(Ok(frame)) => {
                        // A part has no trailers; only its data goes into the form.
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        *read += data.len() as u64;
                        if expected.is_some_and(|expected| *read > expected) {
                            let problem = format!(
                                "more than the {} bytes {}",
                                expected.unwrap_or(0),
                                promised(path.as_deref())
                            );
                            return Poll::Ready(Some(Err(part_error(
                                name,
                                path.as_deref(),
                                problem,
                            ))));
                        }
                        data
                    }
                    Some(Err(e)) => {
                        return Poll::Ready(Some(Err(part_error(name, path.as_deref(), e))));
                    }
                    None => {
                        if let Some(expected) = *expected {
                            if *read != expected {
                                let problem = format!(
                                    "ended after {read} of the {expected} bytes {}",
                                    promised(path.as_deref())
                                );
                                return Poll::Ready(Some(Err(part_error(
                                    name,
                                    path.as_deref(),
                                    problem,
                                ))));
                            }
                        }
                        this.segments.pop_front();
                        continue;
                    }
                },
            };
            if data.is_empty() {
                continue;
            }
            if let Some(remaining) = &mut this.remaining {
                *remaining = remaining.saturating_sub(data.len() as u64);
            }
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.segments.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(remaining) => SizeHint::with_exact(remaining),
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn with_boundary(form: Form) -> Form {
        Form {
            boundary: "XyZ".into(),
            ..form
        }
    }

    async fn encoded(form: Form) -> (Vec<u8>, Option<u64>) {
        let (body, len) = form.into_body();
        let bytes = body.collect().await.unwrap().to_bytes();
        (bytes.to_vec(), len)
    }

    #[tokio::test]
    async fn encodes_as_rfc_7578_says() {
        let form = with_boundary(
            Form::new().text("a", "1").part(
                "f",
                Part::bytes(&b"\x00\xff"[..])
                    .file_name("x.bin")
                    .mime_str("application/octet-stream")
                    .unwrap(),
            ),
        );
        let (bytes, len) = encoded(form).await;
        let expected = b"--XyZ\r\n\
            Content-Disposition: form-data; name=\"a\"\r\n\r\n\
            1\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\
            Content-Type: application/octet-stream\r\n\r\n\
            \x00\xff\r\n\
            --XyZ--\r\n";
        assert_eq!(bytes, expected);
        assert_eq!(len, Some(expected.len() as u64));
    }

    #[tokio::test]
    async fn an_empty_form_is_the_closing_delimiter() {
        let (bytes, len) = encoded(with_boundary(Form::new())).await;
        assert_eq!(bytes, b"--XyZ--\r\n");
        assert_eq!(len, Some(9));
    }

    #[test]
    fn names_cannot_break_out_of_their_quotes() {
        let part = Part::text("").file_name("a\"b\r\nX: y.txt");
        let head = part_head("B", "n\"\r\nContent-Type: evil", &part);
        assert_eq!(
            &head[..],
            b"--B\r\nContent-Disposition: form-data; name=\"n%22%0D%0AContent-Type: evil\"; \
              filename=\"a%22b%0D%0AX: y.txt\"\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn in_memory_forms_are_one_replayable_buffer_and_streams_are_not() {
        let (body, _) = Form::new().text("a", "1").into_body();
        assert!(body.as_bytes().is_some());
        let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>("x")]);
        let form = Form::new().part("s", Part::stream(Body::wrap_stream(chunks)));
        let (body, len) = form.into_body();
        assert!(body.as_bytes().is_none());
        assert_eq!(len, None);
        assert_eq!(http_body::Body::size_hint(&body).exact(), None);
    }

    #[tokio::test]
    async fn a_stream_that_breaks_its_declared_length_fails() {
        for (declared, text) in [(5, "more than the 5 bytes"), (7, "ended after 6 of the 7")] {
            let chunks =
                futures_util::stream::iter(vec![Ok::<_, std::io::Error>("abc"), Ok("def")]);
            let part = Part::stream_with_length(Body::wrap_stream(chunks), declared);
            let (body, len) = Form::new().part("p", part).into_body();
            assert!(len.is_some());
            let err = body.collect().await.unwrap_err();
            assert!(err.to_string().contains(text), "{err}");
            assert!(err.to_string().contains("multipart part \"p\""), "{err}");
        }
    }

    #[test]
    fn boundaries_differ() {
        assert_ne!(new_boundary(), new_boundary());
    }
}
