//! The endpoints: `/small`, `/download?bytes=N` (streamed from a static block) and `/upload`
//! (counted, never stored).

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::stats::COUNTERS;
use crate::payload;

/// A response body: a few bytes, or `remaining` bytes sent in 64 KiB frames.
pub enum ServerBody {
    Full(Option<Bytes>),
    Stream { remaining: u64 },
}

impl http_body::Body for ServerBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(match &mut *self {
            ServerBody::Full(bytes) => bytes.take().map(|b| Ok(Frame::data(b))),
            ServerBody::Stream { remaining: 0 } => None,
            ServerBody::Stream { remaining } => {
                let len = (*remaining).min(payload::CHUNK as u64);
                *remaining -= len;
                Some(Ok(Frame::data(payload::chunk(len as usize))))
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ServerBody::Full(bytes) => bytes.is_none(),
            ServerBody::Stream { remaining } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ServerBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            ServerBody::Stream { remaining } => SizeHint::with_exact(*remaining),
        }
    }
}

fn answer(status: StatusCode, body: ServerBody) -> Response<ServerBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

fn text(status: StatusCode, text: String) -> Response<ServerBody> {
    answer(status, ServerBody::Full(Some(Bytes::from(text))))
}

/// Answers one request.
pub async fn handle(request: Request<Incoming>) -> Result<Response<ServerBody>, hyper::Error> {
    COUNTERS.requests.fetch_add(1, Ordering::Relaxed);
    Ok(match request.uri().path() {
        "/small" => answer(
            StatusCode::OK,
            ServerBody::Full(Some(Bytes::from_static(payload::SMALL_BODY))),
        ),
        "/download" => match download_size(request.uri().query()) {
            Some(remaining) => answer(StatusCode::OK, ServerBody::Stream { remaining }),
            None => text(StatusCode::BAD_REQUEST, "want ?bytes=N\n".into()),
        },
        "/upload" => {
            let mut body = request.into_body();
            let mut count = 0u64;
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    count += data.len() as u64;
                }
            }
            text(StatusCode::OK, count.to_string())
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    })
}

fn download_size(query: Option<&str>) -> Option<u64> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("bytes="))?
        .parse()
        .ok()
}
