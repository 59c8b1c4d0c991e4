//! The `multipart/form-data` encoding of a [`Form`](super::Form): part headers, the boundary, and the
//! body that reads each part in turn, checking streamed parts give the length they promised.

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
use http_body::{Frame, SizeHint};

use super::{Content, Part};
use crate::body::Body;
use crate::error::BoxError;

/// The encoded parts and the body's length in bytes, when every part's length is known.
///
/// All in memory: one buffer, replayable for redirects (copied once). Otherwise a
/// streaming body that reads each part when its turn comes.
pub(super) fn encode(boundary: &str, parts: Vec<(Cow<'static, str>, Part)>) -> (Body, Option<u64>) {
    let mut segments = VecDeque::with_capacity(parts.len() * 3 + 1);
    for (name, part) in parts {
        segments.push_back(Segment::Bytes(part_head(boundary, &name, &part)));
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
    segments.push_back(Segment::Bytes(Bytes::from(format!("--{}--\r\n", boundary))));
    let len = segments.iter().map(Segment::len).sum::<Option<u64>>();

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
pub(super) fn new_boundary() -> String {
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
    use super::super::Form;
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
