//! An attempt's `tracing` span, with OpenTelemetry's HTTP client fields, and its events
//! about the connection it went over. Built only when a subscriber listens for it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::Method;
use tracing::field::Empty;
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing::{Level, Span};
use url::Url;

use super::Failed;
use crate::connect::gate::PollingRequest;
use crate::error::{Error, ErrorKind};
use crate::pool::Reply;

/// An attempt traced: its span, and when it began. Boxed, and only when a subscriber
/// listens: an untraced attempt's future holds one null pointer for it.
pub(super) struct Traced {
    pub(super) span: Span,
    began: Instant,
}

/// The trace of one attempt (a hop of a redirect chain, or a retry), a child of the
/// request's span when it has one: `None`, and nothing computed, without a subscriber
/// listening at DEBUG.
#[inline]
pub(super) fn attempt(request: Option<&Span>, method: &Method, url: &Url) -> Option<Box<Traced>> {
    // The macro's own first check, inlined: one atomic load without a subscriber.
    if Level::DEBUG > STATIC_MAX_LEVEL || Level::DEBUG > LevelFilter::current() {
        return None;
    }
    traced(request, method, url)
}

/// [`attempt`], once a subscriber may listen at DEBUG.
fn traced(request: Option<&Span>, method: &Method, url: &Url) -> Option<Box<Traced>> {
    macro_rules! attempt_span {
        ($($parent:tt)*) => {
            tracing::debug_span!(
                $($parent)*
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
        };
    }
    let span = match request {
        Some(request) => attempt_span!(parent: request,),
        // The request's span is filtered out: the caller's span, if any, is the parent.
        None => attempt_span!(),
    };
    if span.is_disabled() {
        return None;
    }
    let began = Instant::now();
    Some(Box::new(Traced { span, began }))
}

impl Traced {
    /// The attempt's `outcome` in its span's fields, and an event saying whether its
    /// connection was new or reused (open before the attempt began).
    pub(super) fn ended(&self, outcome: &Result<Reply, Failed>) {
        let span = &self.span;
        match outcome {
            Ok(reply) => {
                let status = reply.status();
                span.record("http.response.status_code", status.as_u16());
                span.record(
                    "network.protocol.version",
                    protocol_version(reply.version()),
                );
                if status.is_client_error() || status.is_server_error() {
                    span.record("error.type", status.as_str());
                }
                let marks = &reply.record.marks;
                let reused = marks.ready < self.began;
                span.record("connection.id", marks.id);
                span.record("connection.reused", reused);
                span.in_scope(|| match reused {
                    true => tracing::debug!(connection.id = marks.id, "reused a connection"),
                    false => tracing::debug!(connection.id = marks.id, "on a new connection"),
                });
            }
            Err(failed) => {
                span.record("error.type", error_type(&failed.error));
            }
        }
    }
}

/// A future polled inside `span`, when there is one: the pool's (a boxed future), so the
/// connector's events land in the attempt's span. One pointer for the span, where
/// `tracing::Instrumented` holds a whole `Span`. Each poll is marked as the request's
/// own ([`PollingRequest`]), for the connector's gate.
pub(super) struct InSpan<'a, F> {
    future: F,
    span: Option<&'a Span>,
}

impl<'a, F> InSpan<'a, F> {
    pub(super) fn new(future: F, span: Option<&'a Span>) -> Self {
        InSpan { future, span }
    }
}

impl<F: Future + Unpin> Future for InSpan<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _entered = this.span.map(Span::enter);
        // The dials the pool starts in this poll are this request's (connect/gate.rs).
        let _request = PollingRequest::enter();
        Pin::new(&mut this.future).poll(cx)
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
        ErrorKind::PoolTimeout => "pool_timeout",
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
