//! The environment's proxy rules: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` (and their
//! lower-case spellings), `NO_PROXY` and `REQUEST_METHOD` as the fuzzer sets them, and a
//! destination URL, through the rules a client builds (`wireline::fuzzing::proxy_route`,
//! the rules and route of `build()` with the variables given instead of read). Never a
//! panic, and the route agrees with the reference below, written from the documented
//! rules rather than from the code: loopback never goes through the environment's proxy;
//! `NO_PROXY` entries are `*`, IP addresses (in brackets or not) and networks, or domains
//! that match themselves and every name under them, a leading dot or not; a CGI program
//! (`REQUEST_METHOD` set) ignores `HTTP_PROXY`; upper case wins over lower case and a
//! blank variable is unset; `HTTP_PROXY` or `HTTPS_PROXY` by the destination's scheme,
//! `ALL_PROXY` where that one is unset or unusable.
//!
//! Input: fields, in order `HTTP_PROXY`, `http_proxy`, `HTTPS_PROXY`, `https_proxy`,
//! `ALL_PROXY`, `all_proxy`, `NO_PROXY`, `no_proxy`, `REQUEST_METHOD`, then the
//! destination. A field `!` is an unset variable.

use std::net::IpAddr;

use url::Url;

use super::fields;

const NAMES: [&str; 9] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// The property, for one input.
pub fn check(data: &[u8]) {
    let f = fields(data);
    if f.len() != NAMES.len() + 1 {
        return;
    }
    let values: Vec<Option<String>> = f[..NAMES.len()]
        .iter()
        .map(|v| (*v != b"!").then(|| String::from_utf8_lossy(v).into_owned()))
        .collect();
    let var = |name: &str| {
        let at = NAMES.iter().position(|n| *n == name)?;
        values[at].clone()
    };
    let Ok(url) = Url::parse(&String::from_utf8_lossy(f[NAMES.len()])) else {
        return;
    };
    let Some(host) = url.host_str() else {
        return;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return;
    }
    // Hosts `url` takes and `http` doesn't never reach the pool (the request fails first).
    let dst = match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    };
    let Ok(dst) = dst.parse::<http::Uri>() else {
        return;
    };

    let routed = wireline::fuzzing::proxy_route(&[], var, &dst);
    let expected = reference(var, url.scheme(), host);
    let routed = routed.expect("the environment's rules always give an answer");
    match (&routed, &expected) {
        (None, None) => {}
        (Some(proxy), Some(host)) => {
            let proxy: http::Uri = proxy.parse().expect("a route shows a URI");
            let got = proxy.host().unwrap_or_default();
            assert!(
                got.eq_ignore_ascii_case(host),
                "{dst} went through {proxy}, the reference says through {host}"
            );
        }
        _ => panic!("{dst}: routed {routed:?}, the reference says {expected:?}"),
    }
}

/// The proxy host the rules send `scheme://host` through, or `None` for a direct
/// connection.
fn reference(var: impl Fn(&str) -> Option<String>, scheme: &str, host: &str) -> Option<String> {
    let first = |a: &str, b: &str| {
        [var(a), var(b)]
            .into_iter()
            .flatten()
            .find(|v| !v.trim().is_empty())
    };
    let cgi = var("REQUEST_METHOD").is_some();
    let http = first("HTTP_PROXY", "http_proxy").filter(|_| !cgi);
    let https = first("HTTPS_PROXY", "https_proxy");
    let all = first("ALL_PROXY", "all_proxy");
    let no = first("NO_PROXY", "no_proxy").unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if is_loopback(host) || no_proxy_matches(&no, host) {
        return None;
    }
    let own = if scheme == "http" { http } else { https };
    own.as_deref()
        .and_then(proxy_host)
        .or_else(|| all.as_deref().and_then(proxy_host))
}

/// The host of a usable proxy variable: a URI with an authority, http(s) or SOCKS, or no
/// scheme at all (then http).
fn proxy_host(value: &str) -> Option<String> {
    let uri: http::Uri = value.parse().ok()?;
    if let Some(scheme) = uri.scheme_str() {
        let known = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"];
        if !known.contains(&scheme) {
            return None;
        }
    }
    let authority = uri.authority()?.as_str();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host: http::uri::Authority = host_port.parse().ok()?;
    Some(host.host().to_owned())
}

fn is_loopback(host: &str) -> bool {
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

/// Whether the `NO_PROXY` list takes `host` (an IP address without brackets, or a name).
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let ip = host.parse::<IpAddr>().ok();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let (addr, prefix) = match entry.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (entry, None),
        };
        let addr = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        if let Ok(net) = addr.parse::<IpAddr>() {
            let bits = match prefix {
                None => Some(if net.is_ipv4() { 32 } else { 128 }),
                // One to three digits (`/04` is a network, `/0000000` no network but a
                // name, matching nothing, as ipnet parses them for hyper-util).
                Some(p) if p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => {
                    p.parse::<u8>().ok()
                }
                Some(_) => None,
            };
            if let Some(bits) = bits.filter(|b| *b <= if net.is_ipv4() { 32 } else { 128 }) {
                return ip.is_some_and(|ip| in_network(ip, net, bits));
            }
        }
        if ip.is_some() || entry.is_empty() {
            return false;
        }
        let domain = entry
            .strip_prefix('.')
            .unwrap_or(entry)
            .to_ascii_lowercase();
        let host = host.to_ascii_lowercase();
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}
