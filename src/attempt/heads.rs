//! HTTP/1 response heads that hyper accepts and we refuse: a body framed by both
//! `Transfer-Encoding` and `Content-Length`, by a transfer coding other than `chunked`, or
//! a head over `max_response_header_size`.
//!
//! hyper reads a response with both headers as chunked and keeps the connection, and reads
//! one whose codings don't end in `chunked` until the connection closes, handing over the
//! still-encoded bytes as the body. RFC 9112 §6.3 says the first "ought to be handled as an
//! error" (it is how request smuggling and response splitting look), and we decode no
//! transfer coding but `chunked`, so both fail the request, and the connection they came
//! on is retired: the next request never reads what the server sent after them.
//!
//! hyper bounds an HTTP/1 head by its read buffer (`max_buf_size`, which we set to the
//! limit), but a head that arrives whole in a read larger than what is left of the buffer
//! passes, so the bound is about twice the limit. The size check here makes the limit
//! exact; the buffer keeps the memory bounded. h2 enforces its header list limit itself.

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};
use hyper::body::Incoming;
use url::Url;

use crate::connect::conn::Proto;
use crate::error::{Error, ErrorKind, Result};
use crate::pool::Reply;

/// Fails an HTTP/1 response whose head we refuse, and retires its connection.
pub(crate) fn check(response: &Reply, method: &Method, url: &Url, max_head: usize) -> Result<()> {
    if response.version() > Version::HTTP_11 {
        // h2 has no transfer codings (the h2 crate refuses the header), and enforces the
        // header list limit itself.
        return Ok(());
    }
    let Some(problem) = too_large(response, max_head).or_else(|| framing(response, method)) else {
        return Ok(());
    };
    if let Proto::Http1(usage) = &response.record.proto {
        usage.retire();
    }
    Err(Error::new(ErrorKind::Request, problem).for_url(url))
}

/// The head's size as sent over HTTP/1.1: a status line (counted as 17 bytes,
/// "HTTP/1.1 200 OK" and its CRLF) and one `name: value` line per field.
pub(crate) fn head_size(response: &http::Response<Incoming>) -> usize {
    let fields: usize = response
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    17 + fields
}

fn too_large(response: &http::Response<Incoming>, max_head: usize) -> Option<String> {
    let size = head_size(response);
    (size > max_head).then(|| {
        format!(
            "the response head is too large: {size} bytes, over max_response_header_size \
             ({max_head})"
        )
    })
}

fn framing(response: &http::Response<Incoming>, method: &Method) -> Option<String> {
    // A response that can't have a body is read without looking at its framing.
    let status = response.status();
    if response.version() != Version::HTTP_11
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || *method == Method::HEAD
        || (*method == Method::CONNECT && status.is_success())
    {
        return None;
    }
    let headers = response.headers();
    let mut values = headers.get_all(TRANSFER_ENCODING).iter();
    let first = values.next()?;
    // The common case, without allocating: one `chunked`.
    let plain_chunked = first
        .as_bytes()
        .trim_ascii()
        .eq_ignore_ascii_case(b"chunked");
    if !(plain_chunked && values.next().is_none()) {
        let codings: Vec<String> = headers
            .get_all(TRANSFER_ENCODING)
            .iter()
            .flat_map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split(',')
                    .map(|c| c.trim().to_ascii_lowercase())
                    .collect::<Vec<_>>()
            })
            // Empty elements count: hyper reads only the last one, so `chunked,` is
            // not chunked to it.
            .collect();
        if codings != ["chunked"] {
            return Some(format!(
                "the response's transfer-encoding {:?} is not supported: only \"chunked\" is \
                 (the connection is closed)",
                codings.join(", ")
            ));
        }
    }
    if headers.contains_key(CONTENT_LENGTH) {
        return Some(
            "the response has both transfer-encoding and content-length, which is how \
             request smuggling and response splitting look (RFC 9112 §6.3): refused, and \
             the connection closed"
                .to_owned(),
        );
    }
    None
}
