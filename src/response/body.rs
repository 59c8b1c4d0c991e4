//! A response's body as it is read: raw off the connection or being decompressed, under
//! the request's deadline and the pace rules, its errors naming the URL.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH};
use http_body::{Body as _, Frame};
use hyper::body::Incoming;
use url::Url;

use super::decode::{Decode, Decoding};
use crate::attempt::body_error;
use crate::body::Body;
use crate::connect::streams::StreamToken;
use crate::error::{BoxError, Error, ErrorKind, Result};
use crate::progress::Progress;
use crate::timeouts::{Deadline, Pace, Pacing};

/// The body with the deadline that still applies to it, and the URL errors should name.
pub(super) struct ResponseBody {
    kind: BodyKind,
    deadline: Option<Deadline>,
    url: Url,
    /// `Response::on_download_progress`; boxed, as most bodies have none.
    progress: Option<Box<Progress>>,
    /// Its place on an h2 connection the pool routed it to (`crate::pool`): the stream is
    /// busy until the body ends.
    stream: Option<StreamToken>,
}

/// The body as it came, or being decompressed.
enum BodyKind {
    Raw(RawBody),
    /// Boxed: the decoder is large, and the raw body should not pay for its size. A
    /// `dyn`, so that its drop (every codec's state) is compiled once, not into every
    /// codegen unit that drops a response.
    Decoded(Box<dyn Decode>),
    /// A decoded body that ended or failed: its decoder is dropped at once, as its
    /// buffers (a zstd or brotli window can be many MiB) serve no further read.
    Finished,
    /// The body of a response a layer (`ClientBuilder::layer`) or a caller made into an
    /// `http::Response`: as the layer hands it over, decoded already if it came from us.
    Layered(Body),
}

impl ResponseBody {
    /// The body of a response with these `headers`, decoded when its coding is one
    /// `decoding` undoes; the headers then lose `Content-Encoding` and `Content-Length`.
    pub(super) fn new(
        incoming: Incoming,
        headers: &mut HeaderMap,
        url: Url,
        deadline: Option<Deadline>,
        pacing: Option<&Pacing>,
        decoding: &Decoding,
    ) -> ResponseBody {
        let raw = RawBody::new(incoming, pacing);
        // An empty body (HEAD, 204, 304, length 0) has nothing to decode.
        let coding = if raw.incoming.is_end_stream() {
            None
        } else {
            decoding.coding_for(headers)
        };
        let kind = match coding {
            None => BodyKind::Raw(raw),
            Some(coding) => match decoding.decoder(coding, raw, &url) {
                Ok(decoder) => {
                    headers.remove(CONTENT_ENCODING);
                    headers.remove(CONTENT_LENGTH);
                    BodyKind::Decoded(Box::new(decoder))
                }
                // Not compiled in (build() refuses switching such a coding on).
                Err(raw) => BodyKind::Raw(raw),
            },
        };
        ResponseBody {
            kind,
            deadline,
            url,
            progress: None,
            stream: None,
        }
    }

    /// The body of a response made from an `http::Response` (see `BodyKind::Layered`).
    pub(super) fn layered(body: Body, url: Url) -> ResponseBody {
        ResponseBody {
            kind: BodyKind::Layered(body),
            deadline: None,
            url,
            progress: None,
            stream: None,
        }
    }

    pub(super) fn url(&self) -> &Url {
        &self.url
    }

    /// The length the server announced, for a body that is not being decoded.
    pub(super) fn announced_len(&self) -> Option<u64> {
        match &self.kind {
            BodyKind::Raw(raw) => raw.incoming.size_hint().exact(),
            BodyKind::Decoded(_) | BodyKind::Finished => None,
            BodyKind::Layered(body) => body.size_hint().exact(),
        }
    }

    /// Holds the response's place on its h2 connection until the body ends. A body that
    /// ended with the head (HEAD, 204, 304) has left its stream already: the place is
    /// given back now, not when the response is dropped.
    pub(super) fn set_stream(&mut self, stream: StreamToken) {
        let ended = match &self.kind {
            BodyKind::Raw(raw) => raw.incoming.is_end_stream(),
            BodyKind::Finished => true,
            BodyKind::Decoded(_) | BodyKind::Layered(_) => false,
        };
        if !ended {
            self.stream = Some(stream);
        }
    }

    /// Reports the body's progress to `progress` from now on.
    pub(super) fn set_progress(&mut self, progress: Progress) {
        self.progress = Some(Box::new(progress));
    }

    /// The next data frame (trailers are skipped), or an error mapped with our URL.
    #[inline]
    pub(super) fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>> {
        let polled = self.poll_next_data(cx);
        if let Some(progress) = &mut self.progress {
            match &polled {
                Poll::Ready(Ok(Some(data))) => progress.advance(data.len() as u64),
                Poll::Ready(Ok(None)) => progress.finish(),
                _ => {}
            }
        }
        if self.stream.is_some() && matches!(polled, Poll::Ready(Ok(None) | Err(_))) {
            self.stream = None;
        }
        polled
    }

    fn poll_next_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>>> {
        if let Some(deadline) = &mut self.deadline {
            if deadline.poll_expired(cx) {
                return Poll::Ready(Err(deadline.error().for_url(&self.url)));
            }
        }
        let raw = match &mut self.kind {
            BodyKind::Raw(raw) => raw,
            BodyKind::Decoded(decoder) => {
                let polled = ready!(decoder.poll_data(cx));
                if !matches!(polled, Ok(Some(_))) {
                    self.kind = BodyKind::Finished;
                }
                return Poll::Ready(polled);
            }
            BodyKind::Finished => return Poll::Ready(Ok(None)),
            BodyKind::Layered(body) => return poll_layered(body, cx, &self.url),
        };
        loop {
            let frame = match raw.poll_frame(cx, &self.url) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(None)),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            // An h2 stream may end with an empty DATA frame: no chunk of its own (a
            // reader takes an empty read for the end).
            match frame.into_data() {
                Ok(data) if !data.is_empty() => return Poll::Ready(Ok(Some(data))),
                _ => {}
            }
        }
    }
}

/// The next data frame of a layer's body; our own errors pass through it unchanged.
fn poll_layered(body: &mut Body, cx: &mut Context<'_>, url: &Url) -> Poll<Result<Option<Bytes>>> {
    loop {
        match ready!(Pin::new(&mut *body).poll_frame(cx)) {
            None => return Poll::Ready(Ok(None)),
            Some(Err(e)) => return Poll::Ready(Err(layered_body_error(e, url))),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => return Poll::Ready(Ok(Some(data))),
                _ => {}
            },
        }
    }
}

/// A layer's body error as ours: our own as it was, any other as a body error.
fn layered_body_error(e: BoxError, url: &Url) -> Error {
    match e.downcast::<Error>() {
        Ok(ours) => *ours,
        Err(other) => Error::new(
            ErrorKind::Body,
            format!("reading the body a layer of the client handed back failed: {other}"),
        )
        .with_source(other)
        .for_url(url),
    }
}

/// The body as an `http_body::Body`, for a response handed to a layer as an
/// `http::Response`: its errors are ours, boxed, and it keeps the announced length.
impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
        self.poll_data(cx).map(|polled| match polled {
            Ok(Some(data)) => Some(Ok(Frame::data(data))),
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        })
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.announced_len() {
            Some(len) => http_body::SizeHint::with_exact(len),
            None => http_body::SizeHint::default(),
        }
    }
}

/// The response body as read off the connection, with the pace rules when there are any.
pub(super) struct RawBody {
    incoming: Incoming,
    /// Boxed because it is rare: the common body stays the bare `Incoming`.
    pace: Option<Box<Pace>>,
}

impl RawBody {
    fn new(incoming: Incoming, pacing: Option<&Pacing>) -> RawBody {
        RawBody {
            incoming,
            pace: pacing.map(|rules| Box::new(Pace::new(*rules))),
        }
    }

    /// The next frame; pace violations and transport errors become errors for `url`.
    #[inline]
    pub(super) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
        url: &Url,
    ) -> Poll<Option<Result<Frame<Bytes>>>> {
        let polled = Pin::new(&mut self.incoming).poll_frame(cx);
        let polled = match &mut self.pace {
            None => polled,
            Some(pace) => match pace.observe(polled, cx) {
                Ok(polled) => polled,
                Err(e) => return Poll::Ready(Some(Err(e.for_url(url)))),
            },
        };
        polled.map(|frame| frame.map(|result| result.map_err(|e| body_error(e, url))))
    }
}

/// What [`Response::bytes_stream`](super::Response::bytes_stream) returns.
pub(super) struct BytesStream {
    pub(super) body: ResponseBody,
}

impl Stream for BytesStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        self.body.poll_data(cx).map(Result::transpose)
    }
}
