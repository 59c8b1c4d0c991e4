//! How `fetch` prints heads: the response head for `-i`/`-I`, and the `-v` trace on stderr.

use std::io::{self, Write};

use wireline::header::HeaderMap;
use wireline::{Request, Response, TlsInfo, Version};

/// The response head as curl writes it for `-i` and `-I`: status line, headers, blank
/// line, CRLF-terminated. Header values are written as raw bytes, since they need not be
/// UTF-8.
pub(crate) fn response_head(out: &mut dyn Write, resp: &Response) -> io::Result<()> {
    write!(out, "{}\r\n", status_line(resp))?;
    for (name, value) in resp.headers() {
        out.write_all(name.as_str().as_bytes())?;
        out.write_all(b": ")?;
        out.write_all(value.as_bytes())?;
        out.write_all(b"\r\n")?;
    }
    out.write_all(b"\r\n")
}

/// The `-v` lines for a request about to be sent. Only the headers we know are shown:
/// hyper adds `Host` (shown here from the URL) and `Content-Length` while sending.
pub(crate) fn request_trace(request: &Request) {
    let url = request.url();
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target = format!("{target}?{query}");
    }
    eprintln!("* Request to {url}");
    eprintln!("> {} {target}", request.method());
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_owned(),
    };
    eprintln!("> host: {host}");
    headers_trace('>', request.headers());
    if let Some(len) = request.body().and_then(|b| b.as_bytes()).map(<[u8]>::len) {
        eprintln!("> content-length: {len}");
    }
    eprintln!(">");
}

/// The `-v` lines for a response head.
pub(crate) fn response_trace(resp: &Response) {
    if let Some(addr) = resp.remote_addr() {
        eprintln!("* Response from {addr} for {}", resp.url());
    }
    if let Some(tls) = resp.tls_info() {
        tls_trace(tls);
    }
    eprintln!("< {}", status_line(resp));
    headers_trace('<', resp.headers());
    eprintln!("<");
}

/// The `-v` lines for the connection's TLS, as curl words them.
fn tls_trace(tls: &TlsInfo) {
    let session = if tls.session_resumed() {
        "resumed session"
    } else {
        "full handshake"
    };
    eprintln!(
        "* TLS connection using {} / {} ({session})",
        tls.protocol_version(),
        tls.cipher_suite()
    );
    match tls.alpn_protocol() {
        Some(protocol) => eprintln!(
            "* ALPN: server accepted {}",
            String::from_utf8_lossy(protocol)
        ),
        None => eprintln!("* ALPN: server did not agree on a protocol"),
    }
    for (index, cert) in tls.peer_certificates().iter().enumerate() {
        let role = if index == 0 {
            "Server certificate"
        } else {
            "Chain certificate"
        };
        eprintln!("* {role}:");
        eprintln!("*  subject: {}", cert.subject());
        eprintln!("*  issuer: {}", cert.issuer());
        if let Some(end) = cert.not_after() {
            let end = time::OffsetDateTime::from(end);
            eprintln!(
                "*  expire date: {} {:02}:{:02}:{:02} UTC",
                end.date(),
                end.hour(),
                end.minute(),
                end.second()
            );
        }
    }
}

fn headers_trace(mark: char, headers: &HeaderMap) {
    for (name, value) in headers {
        // Verbose output gets pasted into bug reports: keep credentials out of it.
        let shown = if value.is_sensitive() {
            "<hidden>".into()
        } else {
            String::from_utf8_lossy(value.as_bytes())
        };
        eprintln!("{mark} {name}: {shown}");
    }
}

/// "HTTP/1.1 200 OK", or "HTTP/2 200" as curl writes it (HTTP/2 has no reason phrase).
fn status_line(resp: &Response) -> String {
    let status = resp.status();
    let version = match resp.version() {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => return format!("HTTP/2 {}", status.as_u16()),
        Version::HTTP_3 => return format!("HTTP/3 {}", status.as_u16()),
        _ => "HTTP/?",
    };
    let reason = status.canonical_reason().unwrap_or("");
    format!("{version} {} {reason}", status.as_u16())
        .trim_end()
        .to_owned()
}
