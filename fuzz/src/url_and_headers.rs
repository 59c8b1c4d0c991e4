//! U1: a method, a URL and headers into the request builder. Either the builder refuses
//! them with a builder error, or the request it builds is http(s) with a host and no
//! credentials left in the URL, and the head hyper then writes for it is clean HTTP/1.1
//! (no bare CR or LF, no NUL, tokens where tokens belong, a Host, the URL's path).
//!
//! Input: fields split at `\n~\n`: method, URL, then header name and value pairs. These
//! names call builder methods instead: `!bearer` (`bearer_auth`), `!basic` (`basic_auth`,
//! value `user:password`), `!query` (`query`, value `key=value`), `!ua` (the client's
//! `user_agent`).

use wireline::{Client, Method};

use super::fields;
use super::harness::{client, run, Server};
use super::head::check_head;

/// The property, for one input.
pub fn check(data: &[u8]) {
    let f = fields(data);
    if f.len() < 2 {
        return;
    }
    let method = Method::from_bytes(f[0]).unwrap_or(Method::GET);
    let url = String::from_utf8_lossy(f[1]).into_owned();
    let pairs: Vec<(&[u8], &[u8])> = f[2..]
        .chunks(2)
        .map(|pair| (pair[0], pair.get(1).copied().unwrap_or_default()))
        .collect();
    let user_agent = pairs
        .iter()
        .find(|(name, _)| *name == b"!ua")
        .map(|p| p.1.to_vec());

    let server = Server::answering(|_, _| vec![b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()]);
    // A client per input only for a User-Agent from the input; the others share one.
    let client = client(user_agent.is_none().then_some(0), || {
        let builder = Client::builder();
        match &user_agent {
            Some(ua) => builder.user_agent(ua.as_slice()),
            None => builder,
        }
    });
    let client = match client {
        Ok(client) => client,
        Err(e) => {
            assert!(e.is_builder(), "{e:?}");
            return;
        }
    };

    // The memo of recent origins (src/into_url/recent.rs) parses exactly as a whole parse,
    // cold and warm (the thread's memo also carries the origins of earlier inputs).
    if let Ok(mut reference) = url::Url::parse(&url) {
        let _ = reference.set_username("");
        let _ = reference.set_password(None);
        for _ in 0..2 {
            if let Ok(built) = client.get(url.as_str()).build() {
                assert_eq!(built.url(), &reference, "{url:?}");
            }
        }
    }

    let mut builder = client.request(method.clone(), url.as_str());
    for (name, value) in &pairs {
        let text = String::from_utf8_lossy(value);
        builder = match *name {
            b"!ua" => builder,
            b"!bearer" => builder.bearer_auth(text),
            b"!basic" => match text.split_once(':') {
                Some((user, password)) => builder.basic_auth(user, Some(password)),
                None => builder.basic_auth(text, None::<&str>),
            },
            b"!query" => {
                let (k, v) = text.split_once('=').unwrap_or((&text, ""));
                builder.query(&[(k, v)])
            }
            _ => builder.header(*name, *value),
        };
    }
    let request = match builder.build() {
        Ok(request) => request,
        Err(e) => {
            assert!(e.is_builder(), "not a builder error: {e:?}");
            return;
        }
    };

    let url = request.url().clone();
    assert!(matches!(url.scheme(), "http" | "https"), "{url}");
    assert!(url.host_str().is_some_and(|h| !h.is_empty()), "{url}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{url}"
    );
    for (name, value) in request.headers() {
        assert!(
            !value
                .as_bytes()
                .iter()
                .any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "{name}: {value:?}"
        );
    }

    let result = run(&server, async move {
        let resp = client.execute(request).await?;
        resp.bytes().await
    });
    server.debug(&result);
    let heads = server.heads();
    if result.is_ok() {
        assert_eq!(heads.len(), 1, "one request, one connection");
    }
    for (dst, written) in heads {
        let Some(head) = check_head(&written) else {
            continue;
        };
        assert_eq!(head.method, method.as_str());
        assert!(head.has("host"), "no Host in {head:?}");
        assert_eq!(
            dst.host().map(str::to_ascii_lowercase).as_deref(),
            url.host_str()
        );
        if method != Method::CONNECT {
            let mut expected = url.path().to_owned();
            if let Some(query) = url.query() {
                expected.push('?');
                expected.push_str(query);
            }
            assert_eq!(head.target, expected, "the request target of {url}");
        }
    }
}
