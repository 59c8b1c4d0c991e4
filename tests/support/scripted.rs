//! A handler that answers from a script: the first request gets the first reply, the
//! second the second, and every request past the end the last one. For retry tests,
//! which count the attempts with the server's `requests()`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::handler::{handler, response, Handler};

/// One scripted response.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Reply {
    /// A response with this status, no headers and an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = body.into();
        self
    }
}

/// Answers request `n` (from 0) with `script[n]`, or with the last reply once past the end.
pub fn scripted(script: Vec<Reply>) -> Handler {
    assert!(!script.is_empty(), "a script needs at least one reply");
    let next = Arc::new(AtomicUsize::new(0));
    handler(move |_req| {
        let n = next.fetch_add(1, Ordering::SeqCst);
        let reply = script[n.min(script.len() - 1)].clone();
        async move {
            let headers: Vec<(&str, &str)> = reply
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            response(reply.status, &headers, reply.body)
        }
    })
}
