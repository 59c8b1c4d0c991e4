//! `-w/--write-out FORMAT`: curl's variables (`%{http_code}`, `%{time_total}`…), `%%` and
//! the `\n`, `\r`, `\t` escapes, written to stdout after the transfer, as curl does.

use std::io::{self, Write};
use std::time::Duration;

use wireline::{Response, Timings};

/// What a transfer came to, for the variables.
pub(crate) struct Transfer<'a> {
    pub(crate) response: Option<&'a Response>,
    /// The response's, or the error's.
    pub(crate) timings: Option<Timings>,
    /// The body's bytes written out (decoded: fetch asks for and decodes compression).
    pub(crate) size_download: u64,
    /// The URL given, for `url_effective` when there is no response.
    pub(crate) url: &'a str,
    /// `-k`: the certificate was not verified.
    pub(crate) insecure: bool,
}

/// Writes `format` for `transfer` to stdout; an unknown variable is left out with a
/// warning on stderr, as curl does.
pub(crate) fn write(format: &str, transfer: &Transfer<'_>) {
    let (text, unknown) = render(format, transfer);
    for name in unknown {
        eprintln!("fetch: unknown --write-out variable: '{name}'");
    }
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The text `format` makes for `transfer`, and the unknown variables it named.
pub(crate) fn render(format: &str, transfer: &Transfer<'_>) -> (String, Vec<String>) {
    let (mut text, mut unknown) = (String::new(), Vec::new());
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        match (c, after.chars().next()) {
            ('%', Some('%')) => {
                text.push('%');
                rest = &after[1..];
            }
            ('%', Some('{')) if after.contains('}') => {
                let end = after.find('}').expect("checked");
                let name = &after[1..end];
                match variable(name, transfer) {
                    Some(value) => text.push_str(&value),
                    None => unknown.push(name.to_owned()),
                }
                rest = &after[end + 1..];
            }
            ('\\', Some(escaped @ ('n' | 'r' | 't'))) => {
                text.push(match escaped {
                    'n' => '\n',
                    'r' => '\r',
                    _ => '\t',
                });
                rest = &after[1..];
            }
            _ => {
                text.push(c);
                rest = after;
            }
        }
    }
    (text, unknown)
}

/// curl's value for the variable `name`, or `None` for one fetch doesn't know.
fn variable(name: &str, transfer: &Transfer<'_>) -> Option<String> {
    let t = transfer.timings;
    // curl's times: seconds from the start, with six decimals; 0 for a phase that did not
    // happen (no TLS for http://, no lookup for an address or a reused connection).
    let time = |at: Option<Duration>| format!("{:.6}", at.unwrap_or_default().as_secs_f64());
    let resp = transfer.response;
    Some(match name {
        "time_namelookup" => time(t.and_then(|t| t.namelookup())),
        "time_connect" => time(t.and_then(|t| t.connect())),
        "time_appconnect" => time(t.and_then(|t| t.appconnect())),
        "time_pretransfer" => time(t.and_then(|t| t.pretransfer())),
        "time_posttransfer" => time(t.and_then(|t| t.posttransfer())),
        "time_starttransfer" => time(t.and_then(|t| t.starttransfer())),
        "time_redirect" => time(t.map(|t| t.redirect())),
        "time_total" => time(t.map(|t| t.total())),
        // fetch's client is new for each run: every connection it used was opened for it.
        "num_connects" => u8::from(t.is_some_and(|t| t.connection_id().is_some())).to_string(),
        "http_code" | "response_code" => match resp {
            Some(resp) => resp.status().as_str().to_owned(),
            None => "000".to_owned(),
        },
        "size_download" => transfer.size_download.to_string(),
        "remote_ip" => resp
            .and_then(Response::remote_addr)
            .map_or(String::new(), |addr| addr.ip().to_string()),
        // curl says 0 when it connected nowhere.
        "remote_port" => resp
            .and_then(Response::remote_addr)
            .map_or(0, |addr| addr.port())
            .to_string(),
        // 0: verified (or nothing to verify, over http://); 1: not verified (-k), where
        // curl would give the X.509 code of what it found.
        "ssl_verify_result" => u8::from(transfer.insecure).to_string(),
        "url_effective" => resp.map_or(transfer.url, |r| r.url().as_str()).to_owned(),
        _ => return None,
    })
}
