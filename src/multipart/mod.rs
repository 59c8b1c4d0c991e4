//! Multipart forms (`multipart/form-data`, RFC 7578) as users build them: text, bytes,
//! streams and files. `encode.rs` turns them into a request body.
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

mod encode;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::HeaderValue;
use mime::Mime;

use crate::body::Body;
use crate::error::{Error, Result};

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

/// What a part sends.
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
            boundary: encode::new_boundary(),
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
        encode::encode(&self.boundary, self.parts)
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
