//! Transport failures -> [`ErrorKind`]: the downcasts to the error types of the layers
//! below (TLS, proxy tunnel, DNS, connect timeout) and the matching of hyper's, h2's and
//! rustls's messages where their types say too little.
//!
//! Every message this matches is named by a test, so an upgrade that rewords one fails
//! that test instead of quietly losing the explanation: hyper's "too large" and rustls's
//! alert text here, hyper's other parse refusals in `faults::headers` (H04), hyper's
//! keep-alive timeout in `http::versions`, h2's GOAWAY debug
//! data in the `faults` tests of X04 (see each match).

use std::error::Error as StdError;

use url::Url;

use crate::connect::dns::DnsError;
use crate::connect::gate::PoolTimeout;
use crate::connect::tunnel::ProxyError;
use crate::error::{chain, innermost, Error, ErrorKind};
use crate::pool::{PoolError, PoolErrorKind};
use crate::timeouts::ConnectTimeout;
use crate::tls::explain::{self, CertificateProblem, TlsProblem};

/// A failure from the pool (connecting or sending), as our kinds.
pub(crate) fn send_error(err: PoolError, url: &Url) -> Error {
    if version_refused(&err) {
        let message = version_message(&err, url);
        return Error::new(ErrorKind::Request, message)
            .with_source(err)
            .for_url(url);
    }
    // The pool names a dial that waited too long in the gate a connect error; it never
    // reached the server.
    let connecting = err.is_connect() && !chain(&err).any(|cause| cause.is::<PoolTimeout>());
    let fallback = if connecting {
        ErrorKind::Connect
    } else {
        ErrorKind::Request
    };
    let (mut kind, mut message) = classify(&err, url, fallback);
    if kind == ErrorKind::Request {
        if let Some(tls) = tls_failure_of(&err) {
            (kind, message) = explain::rustls_error(&tls, url.host_str().unwrap_or(""), None);
        }
    }
    let proxy = connecting && chain(&err).any(|cause| cause.is::<ProxyError>());
    Error::new(kind, message)
        .with_source(err)
        .for_url(url)
        .with_during_connect(connecting)
        .with_proxy(proxy)
}

/// Whether the pool refused the request's version (`RequestBuilder::version`): HTTP/2
/// on a connection that speaks HTTP/1, or a version it never sends. Not a failure of the
/// connection: nothing was written, and sending it again would fail the same way.
/// Tests `http::versions::version_*` check each case's message.
pub(crate) fn version_refused(err: &PoolError) -> bool {
    err.kind() == PoolErrorKind::UserUnsupportedVersion
}

fn version_message(err: &PoolError, url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    // The pool checks the version against a connection only once it has one.
    if err.had_connection() {
        format!(
            "the request asks for HTTP/2 (RequestBuilder::version), but the connection to \
             {host} speaks HTTP/1.1: http:// URLs do unless the client has \
             http2_prior_knowledge(), and https servers do when their ALPN chooses \
             http/1.1; leave the version unset to use what the connection speaks"
        )
    } else {
        "the request's HTTP version (RequestBuilder::version) can't be sent: only HTTP/1.0, \
         HTTP/1.1 and HTTP/2 can (HTTP/0.9 and HTTP/3 requests are refused before \
         connecting)"
            .to_owned()
    }
}

/// A request hyper never answered although its connection is gone (the pool's
/// `lane/watch.rs`): the TLS error that broke the connection if one did, else what hyper
/// says of a request whose connection closed under it.
pub(crate) fn lost_error(tls: Option<rustls::Error>, url: &Url) -> Error {
    let (kind, message) = match tls {
        Some(tls) => explain::rustls_error(&tls, url.host_str().unwrap_or(""), None),
        None => (
            ErrorKind::Request,
            "connection closed before the request was answered".to_owned(),
        ),
    };
    Error::new(kind, message).for_url(url)
}

/// A failure while reading the response body.
pub(crate) fn body_error(err: hyper::Error, url: &Url) -> Error {
    let (kind, message) = classify(&err, url, ErrorKind::Body);
    Error::new(kind, message).with_source(err).for_url(url)
}

/// Decides the kind and the message of a transport error by its most specific cause.
fn classify(err: &(dyn StdError + 'static), url: &Url, fallback: ErrorKind) -> (ErrorKind, String) {
    let host = url.host_str().unwrap_or("");
    for cause in chain(err) {
        if let Some(problem) = cause.downcast_ref::<CertificateProblem>() {
            return (
                ErrorKind::Certificate(problem.kind),
                problem.message.clone(),
            );
        }
        if let Some(problem) = cause.downcast_ref::<TlsProblem>() {
            return (ErrorKind::Tls(problem.kind), problem.message.clone());
        }
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return explain::rustls_error(tls, host, None);
        }
        if let Some(proxy) = cause.downcast_ref::<ProxyError>() {
            return proxy.classify();
        }
        if let Some(timeout) = cause.downcast_ref::<PoolTimeout>() {
            return (ErrorKind::PoolTimeout, timeout.to_string());
        }
        if let Some(timeout) = cause.downcast_ref::<ConnectTimeout>() {
            return (ErrorKind::Timeout, timeout.to_string());
        }
        if cause.is::<tower::timeout::error::Elapsed>() {
            return (
                ErrorKind::Timeout,
                format!(
                    "a timeout layer of the connector (ClientBuilder::connector_layer) ran \
                     out while connecting to {host}"
                ),
            );
        }
        if let Some(dns) = cause.downcast_ref::<DnsError>() {
            return (ErrorKind::Dns, dns.to_string());
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            // hyper's `KeepAliveTimedOut` is private; its text is named by test
            // `http::versions::an_unanswered_keep_alive_ping_closes_the_connection_at_the_timeout`.
            if h.is_timeout() && chain(cause).any(|c| c.to_string() == "keep-alive timed out") {
                return (
                    ErrorKind::Timeout,
                    "the server did not answer an HTTP/2 PING within http2_keep_alive_timeout \
                     (20 s unless set): the connection was closed as dead"
                        .to_owned(),
                );
            }
            if h.is_timeout() {
                return (ErrorKind::Timeout, innermost(cause));
            }
            // hyper's parse errors have no kinds outside its server feature; their texts
            // are named by tests (`hypers_head_too_large_text`, and
            // `faults::headers::h04_…` for the others). Name the limit or the setting
            // instead.
            if let Some(meaning) = h.is_parse().then(|| parse_refusal(h)).flatten() {
                return (fallback, meaning.to_owned());
            }
        }
        if let Some(h2) = cause.downcast_ref::<h2::Error>() {
            if let Some(meaning) = h2_detected(h2, fallback == ErrorKind::Body) {
                return (fallback, format!("{}: {meaning}", describe_chain(err)));
            }
            if let Some(meaning) = h2_reset_by_server(h2) {
                return (fallback, format!("{}: {meaning}", describe_chain(err)));
            }
        }
    }
    if let Some(tls) = chain(err).find_map(alert_in_text) {
        return explain::rustls_error(&tls, host, None);
    }
    let message = match fallback {
        ErrorKind::Connect => innermost(err),
        _ => describe_chain(err),
    };
    (fallback, message)
}

/// What hyper's refusal of an HTTP/1 response head means, and the setting that moves it.
fn parse_refusal(h: &hyper::Error) -> Option<&'static str> {
    let meaning = match h.to_string().as_str() {
        "message head is too large" => {
            "the response head is too large: over max_response_header_size (64 KiB unless \
             set), or with more fields than allowed (100 header fields unless \
             http1_max_headers is set)"
        }
        "invalid HTTP version parsed" => {
            "the response does not begin with an HTTP/1.0 or HTTP/1.1 status line (an \
             HTTP/0.9 reply, HTTP/1.2, or another protocol): refused; http09_responses() \
             reads such a reply as an HTTP/0.9 body"
        }
        "invalid HTTP header parsed" => {
            "the response head has a malformed header line (a NUL or another control \
             character, a line without a colon, a space in a name or before its colon, or a \
             folded line): refused; the http1_*_in_responses settings accept some of these, \
             each giving up a check"
        }
        _ => return None,
    };
    Some(meaning)
}

/// What an error the h2 crate found in the server's frames means, where h2's own words
/// ("unspecific protocol error", "excessive load generating behavior") don't say.
/// `in_body`: the head had arrived, so its size can't be the cause.
fn h2_detected(h2: &h2::Error, in_body: bool) -> Option<&'static str> {
    use h2::Reason;
    if !h2.is_library() {
        return None;
    }
    // h2 names the limit a GOAWAY enforces only in its debug data, which it prints. Each
    // name is checked by a test of X04 (`tests/faults/h2_frames.rs`) that sees both the
    // GOAWAY's debug data and our message: `x04_a_continuation_flood_is_cut_off_after_five_frames`,
    // `x04_an_hpack_bomb_is_refused_at_four_times_the_limit`,
    // `x04_a_hundred_empty_data_frames_pass_and_the_101st_ends_the_connection`.
    let text = h2.to_string();
    let meaning = match h2.reason()? {
        // A stream reset: h2 says no more than "protocol error" for any malformed
        // response, a header list over our limit included.
        Reason::PROTOCOL_ERROR if h2.is_reset() && in_body => {
            "the server's HTTP/2 response body was malformed (for example its DATA did not \
             add up to its content-length)"
        }
        Reason::PROTOCOL_ERROR if h2.is_reset() => {
            "the server's HTTP/2 response was malformed, or its header list is over the h2 \
             limit (http2_max_header_list_size if set, else max_response_header_size: 64 \
             KiB unless set)"
        }
        Reason::PROTOCOL_ERROR => {
            "the server broke the HTTP/2 protocol (for example a PUSH_PROMISE, which the \
             client turns off, DATA or RST_STREAM on a stream never opened, a malformed \
             HPACK header block, or a SETTINGS or WINDOW_UPDATE frame out of range); the \
             connection was closed"
        }
        Reason::FLOW_CONTROL_ERROR => {
            "the server's WINDOW_UPDATE frames took a flow-control window past 2^31 - 1 \
             bytes, the most HTTP/2 allows (RFC 9113 §6.9.1)"
        }
        Reason::FRAME_SIZE_ERROR => {
            "the server sent a frame larger than the client accepts (16 KiB unless \
             http2_max_frame_size is set), or does not speak HTTP/2 at all (with \
             http2_prior_knowledge, an HTTP/1 answer reads as such a frame); the connection \
             was closed"
        }
        Reason::ENHANCE_YOUR_CALM if text.contains("too_many_continuations") => {
            "the server split a response head into far more CONTINUATION frames than its \
             size needs (a CONTINUATION flood); the connection was closed"
        }
        Reason::ENHANCE_YOUR_CALM if text.contains("header_list_way_too_large") => {
            "the server's header list decodes to over four times the h2 limit \
             (http2_max_header_list_size if set, else max_response_header_size): an HPACK \
             bomb; the connection was closed"
        }
        Reason::ENHANCE_YOUR_CALM if text.contains("too_many_data_frames") => {
            "the server sent more empty or tiny DATA frames than the h2 crate accepts (100 \
             empty ones on a connection); the connection was closed"
        }
        _ => return None,
    };
    Some(meaning)
}

/// What it means when the server reset the request's stream (h2 says only "stream error
/// received" and the code's description): the code, and whether the request was sent
/// again. REFUSED_STREAM was sent again already (`stale.rs`); any other code may come after
/// the server acted on the request, so it is not.
fn h2_reset_by_server(h2: &h2::Error) -> Option<String> {
    use h2::Reason;
    if !(h2.is_remote() && h2.is_reset()) {
        return None;
    }
    let reason = h2.reason()?;
    Some(if reason == Reason::REFUSED_STREAM {
        "the server refused the request's stream (RST_STREAM REFUSED_STREAM: it did not \
         process it), again when it was sent again if its body allowed; it may be at its \
         stream limit or shedding load"
            .to_owned()
    } else {
        format!(
            "the server reset the request's stream (RST_STREAM {reason:?}) before a complete \
             response; not sent again, since the server may have acted on it"
        )
    })
}

/// The TLS error recorded on the connection a request failed on, if any.
fn tls_failure_of(err: &PoolError) -> Option<rustls::Error> {
    err.record()?.tls_failure()
}

/// A TLS alert named only in an error's text. h2 keeps an io error's kind and message but
/// drops the error itself, so a `rustls::Error` that surfaced on an h2 connection (a
/// client certificate demanded after a TLS 1.3 handshake) reaches us as
/// "received fatal alert: CertificateRequired" and nothing else (test
/// `rustls_alert_text_names_the_alert`).
fn alert_in_text(err: &(dyn StdError + 'static)) -> Option<rustls::Error> {
    use rustls::AlertDescription as Alert;
    let text = err.to_string();
    let name = text.split("received fatal alert: ").nth(1)?;
    let name = name.split(|c: char| !c.is_ascii_alphanumeric()).next()?;
    let alert = [
        Alert::CertificateRequired,
        Alert::BadCertificate,
        Alert::HandshakeFailure,
        Alert::ProtocolVersion,
        Alert::UnknownCA,
        Alert::AccessDenied,
        Alert::InternalError,
        Alert::DecryptError,
        Alert::IllegalParameter,
        Alert::InsufficientSecurity,
    ]
    .into_iter()
    .find(|alert| format!("{alert:?}") == name)?;
    Some(rustls::Error::AlertReceived(alert))
}

/// "a: b: c" over the chain, skipping messages that repeat the previous one.
fn describe_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in chain(err) {
        let text = cause.to_string();
        if text.is_empty() || last.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::error::TlsErrorKind;

    #[test]
    fn chain_looks_inside_io_errors() {
        let tls = rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion);
        let io = io::Error::other(io::Error::new(io::ErrorKind::InvalidData, tls));
        let url = Url::parse("https://h/").unwrap();
        let (kind, message) = classify(&io, &url, ErrorKind::Connect);
        assert_eq!(kind, ErrorKind::Tls(TlsErrorKind::ProtocolVersion));
        assert!(message.contains("version"), "{message}");
    }

    /// rustls's words for a received alert, as h2 passes them on in a bare io error's text.
    #[test]
    fn rustls_alert_text_names_the_alert() {
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired);
        assert_eq!(
            alert.to_string(),
            "received fatal alert: CertificateRequired"
        );
        // What reaches us from h2: the kind and the text, not the rustls error.
        let text_only = io::Error::new(io::ErrorKind::ConnectionReset, alert.to_string());
        let url = Url::parse("https://h/").unwrap();
        let (kind, _) = classify(&text_only, &url, ErrorKind::Body);
        assert_eq!(
            kind,
            ErrorKind::Tls(TlsErrorKind::ClientCertificateRequired)
        );
    }

    /// hyper's words for a head over its read buffer, which `classify` turns into one
    /// naming `max_response_header_size`.
    #[tokio::test]
    async fn hypers_head_too_large_text() {
        use hyper_util::rt::TokioIo;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let (client, mut server) = tokio::io::duplex(64 * 1024);
        let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(8192)
            .handshake::<_, http_body_util::Empty<bytes::Bytes>>(TokioIo::new(client))
            .await
            .unwrap();
        let driving = tokio::spawn(connection);
        let serving = tokio::spawn(async move {
            let mut request = [0; 1024];
            let _ = server.read(&mut request).await;
            let huge = format!("HTTP/1.1 200 OK\r\nx-big: {}\r\n\r\n", "a".repeat(20_000));
            let _ = server.write_all(huge.as_bytes()).await;
            server
        });
        let request = http::Request::builder()
            .uri("/")
            .body(http_body_util::Empty::new())
            .unwrap();
        let err = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            sender.send_request(request),
        )
        .await
        .expect("hyper answers at once")
        .unwrap_err();
        assert!(err.is_parse(), "{err:?}");
        assert!(err.to_string().contains("too large"), "{err}");
        let url = Url::parse("http://h/").unwrap();
        let (kind, message) = classify(&err, &url, ErrorKind::Request);
        assert_eq!(kind, ErrorKind::Request);
        assert!(message.contains("max_response_header_size"), "{message}");
        driving.abort();
        serving.abort();
    }
}
