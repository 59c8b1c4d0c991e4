//! An attempt's `tracing` span, with OpenTelemetry's HTTP client fields, and its events
//! about the connection it went over. Built only when a subscriber listens for it.

use std::time::Instant;

use http::Method;
use hyper::body::Incoming;
use tracing::field::Empty;
use tracing::Span;
use url::Url;

use super::Failed;
use crate::connect::conn::RecordExtra;
use crate::error::{Error, ErrorKind};

/// The span of one attempt (a hop of a redirect chain, or a retry), a child of the
/// request's: disabled, and nothing computed, without a subscriber listening at DEBUG.
pub(super) fn attempt_span(request: &Span, method: &Method, url: &Url) -> Span {
    tracing::debug_span!(
        parent: request,
        "attempt",
        http.request.method = %method,
        url.full = %crate::redact::url_full(url),
        server.address = url.host_str(),
        server.port = url.port_or_known_default(),
        http.response.status_code = Empty,
        network.protocol.version = Empty,
        error.type = Empty,
        connection.id = Empty,
        connection.reused = Empty,
    )
}

/// When an attempt traced in `span` began; no clock is read for a disabled one.
pub(super) fn began(span: &Span) -> Option<Instant> {
    (!span.is_disabled()).then(Instant::now)
}

/// The attempt's `outcome` in its span's fields, and an event saying whether its
/// connection was new or reused (open before the attempt `began`).
pub(super) fn ended(
    span: &Span,
    began: Option<Instant>,
    outcome: &Result<http::Response<Incoming>, Failed>,
) {
    let Some(began) = began else {
        return;
    };
    match outcome {
        Ok(response) => {
            let status = response.status();
            span.record("http.response.status_code", status.as_u16());
            span.record(
                "network.protocol.version",
                protocol_version(response.version()),
            );
            if status.is_client_error() || status.is_server_error() {
                span.record("error.type", status.as_str());
            }
            if let Some(record) = response.extensions().get::<RecordExtra>() {
                let marks = &record.0.marks;
                let reused = marks.ready < began;
                span.record("connection.id", marks.id);
                span.record("connection.reused", reused);
                span.in_scope(|| match reused {
                    true => tracing::debug!(connection.id = marks.id, "reused a connection"),
                    false => tracing::debug!(connection.id = marks.id, "on a new connection"),
                });
            }
        }
        Err(failed) => {
            span.record("error.type", error_type(&failed.error));
        }
    }
}

/// The kind of `error` as OpenTelemetry's `error.type` names it: low-cardinality, the
/// status code for a status error.
pub(crate) fn error_type(error: &Error) -> &'static str {
    match error.kind() {
        ErrorKind::Builder => "builder",
        ErrorKind::InvalidUrl => "invalid_url",
        ErrorKind::Dns => "dns",
        ErrorKind::Connect => "connect",
        ErrorKind::ProxyTunnel(_) => "proxy_tunnel",
        ErrorKind::Tls(_) => "tls",
        ErrorKind::Certificate(_) => "certificate",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Redirect => "redirect",
        ErrorKind::Status(_) => "status",
        ErrorKind::Request => "request",
        ErrorKind::Body => "body",
        ErrorKind::Decode => "decode",
        ErrorKind::Upgrade => "upgrade",
        ErrorKind::Middleware => "middleware",
    }
}

/// OpenTelemetry's `network.protocol.version`: "1.1", "2".
fn protocol_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "",
    }
}
