//! The default handler: fixed routes that echo the request or return crafted responses.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::Full;

use super::handler::{handler, response, Handler};

/// Longest `/slow` sleep: a typo in a test must not park a server task for hours.
const MAX_SLOW: Duration = Duration::from_secs(60);

/// The routes every test server serves unless given another handler:
///
/// - `/` → 200 "hello"
/// - `/echo` → 200 JSON `{"method", "path", "query" (string or null), "headers"
///   (lowercase name → values joined with ", "), "body" (UTF-8, lossy), "version"
///   ("HTTP/1.1" or "HTTP/2.0")}`
/// - `/status/NNN` → status NNN, empty body
/// - `/redirect?status=302&to=<url-encoded location>` → that status and `Location`
///   (defaults: 302, "/")
/// - `/redirect-loop` → 302 to itself
/// - `/bytes/N` → N bytes of `abc…xyzabc…`
/// - `/binary/N` → the first N bytes of [`binary_body`]: every byte value, NUL, CR LF and
///   invalid UTF-8, `content-type: application/octet-stream`
/// - `/latin1` → "caf\xe9", `content-type: text/plain; charset=iso-8859-1`
/// - `/not-utf8` → bytes 41 ff 42 (no BOM), `content-type: text/plain`
/// - `/json` → `{"a":1,"b":"two"}`; `/bad-json` → `{not json`
/// - `/slow?ms=N` → 200 "slow" after N ms
/// - `/response-headers?NAME=VALUE&…` → 200 "hello" with each pair as a response header,
///   in order (400 if one is not a valid header)
/// - anything else → 404
pub fn echo_router() -> Handler {
    handler(|req| async move { route(req).await })
}

async fn route(req: Request<Bytes>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let query = |name: &str| query_param(&req, name);
    match path.as_str() {
        "/" => response(200, &[], "hello"),
        "/echo" => echo(&req),
        "/redirect" => {
            let status = query("status").and_then(|s| s.parse().ok()).unwrap_or(302);
            redirect(status, &query("to").unwrap_or_else(|| "/".into()))
        }
        "/redirect-loop" => redirect(302, "/redirect-loop"),
        "/latin1" => response(
            200,
            &[("content-type", "text/plain; charset=iso-8859-1")],
            &b"caf\xe9"[..],
        ),
        "/not-utf8" => response(200, &[("content-type", "text/plain")], &b"A\xffB"[..]),
        "/json" => json(r#"{"a":1,"b":"two"}"#),
        "/bad-json" => json("{not json"),
        "/slow" => {
            let ms = query("ms").and_then(|s| s.parse().ok()).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms).min(MAX_SLOW)).await;
            response(200, &[], "slow")
        }
        "/response-headers" => with_headers(&req),
        _ => {
            if let Some(code) = path.strip_prefix("/status/") {
                match code.parse::<u16>() {
                    Ok(code @ 100..=999) => response(code, &[], Bytes::new()),
                    _ => response(400, &[], "bad status"),
                }
            } else if let Some(n) = path.strip_prefix("/bytes/") {
                match n.parse::<usize>() {
                    Ok(n) => response(200, &[], pattern(n)),
                    Err(_) => response(400, &[], "bad length"),
                }
            } else if let Some(n) = path.strip_prefix("/binary/") {
                match n.parse::<usize>() {
                    Ok(n) => response(
                        200,
                        &[("content-type", "application/octet-stream")],
                        binary_body(n),
                    ),
                    Err(_) => response(400, &[], "bad length"),
                }
            } else {
                response(404, &[], "not found")
            }
        }
    }
}

fn echo(req: &Request<Bytes>) -> Response<Full<Bytes>> {
    let mut headers = serde_json::Map::new();
    for name in req.headers().keys() {
        let values: Vec<String> = req
            .headers()
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        headers.insert(name.as_str().to_owned(), values.join(", ").into());
    }
    let body = serde_json::json!({
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "query": req.uri().query(),
        "headers": headers,
        "body": String::from_utf8_lossy(req.body()),
        "version": format!("{:?}", req.version()),
    });
    json(&body.to_string())
}

fn redirect(status: u16, location: &str) -> Response<Full<Bytes>> {
    // A location that can't be a header value is a bug in the test: say so in the body.
    match HeaderValue::from_str(location) {
        Ok(_) => response(status, &[("location", location)], Bytes::new()),
        Err(_) => response(400, &[], "location is not a valid header value"),
    }
}

fn with_headers(req: &Request<Bytes>) -> Response<Full<Bytes>> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
    // An invalid pair is a bug in the test: say so in the body rather than panic the server.
    let valid = pairs.iter().all(|(name, value)| {
        HeaderName::from_bytes(name.as_bytes()).is_ok() && HeaderValue::from_str(value).is_ok()
    });
    if !valid {
        return response(400, &[], "not a valid header");
    }
    let headers: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    response(200, &headers, "hello")
}

fn json(body: &str) -> Response<Full<Bytes>> {
    response(
        200,
        &[("content-type", "application/json")],
        body.to_owned(),
    )
}

fn query_param(req: &Request<Bytes>, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// `n` bytes cycling through a–z: easy to read in a failure, and any truncation or
/// reordering shows.
fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// `n` bytes of a 263-byte cycle: every byte value 0x00–0xff, then `c3 28 00 0d 0a ff fe`
/// (a broken UTF-8 sequence, NUL, CR LF, bytes never valid in UTF-8). No text decoding,
/// line-ending or C-string handling passes it through unchanged.
pub fn binary_body(n: usize) -> Vec<u8> {
    (0..=255u8)
        .chain(*b"\xc3\x28\x00\r\n\xff\xfe")
        .cycle()
        .take(n)
        .collect()
}
