//! U4: a redirect with any status line and `Location`, after a request carrying any
//! headers, credentials among them, through the whole client. Whenever a hop goes to
//! another origin than the first request, neither `Authorization`, `Cookie` nor
//! `Proxy-Authorization` is on the wire for it, whether the request, the client's
//! default headers or the URL's user:password put it there. Origins are compared twice,
//! by `url::Url::origin()` and by (scheme, host, port-or-default), and the two must agree;
//! where `Location` is plain text, the hop must go where `url` joins it to.
//!
//! Input: fields split at `\n~\n`: status (written into the status line as is), method,
//! URL, `Location` value, then header name and value pairs; a name `!default:NAME` sets
//! the client default header NAME instead. The redirect's target answers 200.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;
use wireline::{Client, Method};

use super::fields;
use super::harness::{client, run, Server};
use super::head::check_head;

const CREDENTIALS: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];

/// The property, for one input.
pub fn check(data: &[u8]) {
    let f = fields(data);
    if f.len() < 4 {
        return;
    }
    let (status, location) = (f[0].to_vec(), f[3].to_vec());
    let method = Method::from_bytes(f[1]).unwrap_or(Method::GET);
    let url = String::from_utf8_lossy(f[2]).into_owned();
    let mut defaults = HeaderMap::new();
    let mut headers = Vec::new();
    for pair in f[4..].chunks(2) {
        let (name, value) = (pair[0], pair.get(1).copied().unwrap_or_default());
        match name.strip_prefix(b"!default:") {
            Some(name) => {
                if let (Ok(name), Ok(value)) =
                    (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
                {
                    defaults.append(name, value);
                }
            }
            None => headers.push((name, value)),
        }
    }

    let server = Server::answering(move |index, _| {
        let mut reply = Vec::new();
        if index == 0 {
            reply.extend_from_slice(b"HTTP/1.1 ");
            reply.extend_from_slice(&status);
            reply.extend_from_slice(b" Redirect\r\nLocation: ");
            reply.extend_from_slice(&location);
            reply.extend_from_slice(b"\r\nContent-Length: 0\r\n\r\n");
        } else {
            reply.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        }
        vec![reply]
    });
    // A client per input only for default headers from the input; the others share one.
    let key = defaults.is_empty().then_some(0);
    let Ok(client) = client(key, || Client::builder().default_headers(defaults.clone())) else {
        return;
    };
    let mut builder = client.request(method, url.as_str());
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let Ok(request) = builder.build() else {
        return;
    };
    let first = request.url().clone();
    let outcome = run(&server, async move {
        let resp = client.execute(request).await?;
        resp.bytes().await
    });
    server.debug(&outcome);

    let heads = server.heads();
    let Some((first_dst, _)) = heads.first() else {
        return;
    };
    let first_origin = origin_of(first_dst);
    assert_eq!(
        first_origin,
        first.origin(),
        "the first request went elsewhere"
    );
    let mut crossed = false;
    for (hop, (dst, written)) in heads.iter().enumerate().skip(1) {
        let origin = origin_of(dst);
        let by_origin = origin != first_origin;
        let by_tuple = tuple_of(dst) != tuple_of(first_dst);
        assert_eq!(
            by_origin, by_tuple,
            "Url::origin and (scheme, host, port) disagree on {first_dst} and {dst}"
        );
        crossed |= by_origin || by_tuple;
        if hop == 1 {
            check_location(&first, f[3], &origin);
        }
        let Some(head) = check_head(written) else {
            continue;
        };
        if crossed {
            for name in CREDENTIALS {
                assert!(
                    !head.has(name),
                    "{name} sent to {dst} after a redirect from {first_dst}: {head:?}"
                );
            }
        }
    }
}

/// The origin of a destination the pool asked for (`scheme://authority`).
fn origin_of(dst: &http::Uri) -> url::Origin {
    Url::parse(&dst.to_string())
        .expect("a destination is a URL")
        .origin()
}

/// The origin as a plain tuple, computed apart from `Url::origin`.
fn tuple_of(dst: &http::Uri) -> (String, String, Option<u16>) {
    let url = Url::parse(&dst.to_string()).expect("a destination is a URL");
    (
        url.scheme().to_ascii_lowercase(),
        url.host_str().unwrap_or_default().to_ascii_lowercase(),
        url.port_or_known_default(),
    )
}

/// Where a plain-text `Location` leads by `url`'s join, which the hop must match.
fn check_location(from: &Url, location: &[u8], went: &url::Origin) {
    let Ok(location) = std::str::from_utf8(location) else {
        return;
    };
    if !location
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return;
    }
    let location = location.trim_matches([' ', '\t']);
    let expected = from
        .join(location)
        .unwrap_or_else(|e| panic!("followed {location:?}, which url can't join: {e}"));
    assert_eq!(&expected.origin(), went, "{location:?} from {from}");
}
