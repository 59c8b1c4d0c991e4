//! Response framing that hyper accepts and we refuse: a body framed by both
//! `Transfer-Encoding` and `Content-Length`, or by a transfer coding other than `chunked`.
//!
//! hyper reads a response with both headers as chunked and keeps the connection, and reads
//! one whose codings don't end in `chunked` until the connection closes, handing over the
//! still-encoded bytes as the body. RFC 9112 §6.3 says the first "ought to be handled as an
//! error" (it is how request smuggling and response splitting look), and we decode no
//! transfer coding but `chunked`, so both fail the request, and the connection they came
//! on is retired: the next request never reads what the server sent after them.

use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};
use hyper::body::Incoming;
use url::Url;

use crate::conn::{Record, RecordExtra};
use crate::error::{Error, ErrorKind, Result};

/// Fails a response whose body framing we refuse, and retires its connection.
pub(crate) fn check(response: &http::Response<Incoming>, method: &Method, url: &Url) -> Result<()> {
    let Some(problem) = problem(response, method) else {
        return Ok(());
    };
    if let Some(RecordExtra(record)) = response.extensions().get::<RecordExtra>() {
        if let Record::Http1(usage) = &**record {
            usage.retire();
        }
    }
    Err(Error::new(ErrorKind::Request, problem).with_url(url))
}

fn problem(response: &http::Response<Incoming>, method: &Method) -> Option<String> {
    // h2 has no transfer codings (the h2 crate refuses the header), and a response that
    // can't have a body is read without looking at them.
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
    let mut values = headers.get_all(TRANSFER_ENCODING).iter().peekable();
    values.peek()?;
    let codings: Vec<String> = values
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .into_owned()
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty())
        .collect();
    if codings != ["chunked"] {
        return Some(format!(
            "the response's transfer-encoding {:?} is not supported: only \"chunked\" is \
             (the connection is closed)",
            codings.join(", ")
        ));
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
