//! Bodies through the blocking client: a response read with `Read` in pieces of any size,
//! `copy_to`, and what `Read` left for `bytes`; request bodies from a reader or a file,
//! streamed.

use std::io::{self, Read, Write};

use bytes::Bytes;
use wireline::blocking::{self, Body};

use crate::support::{binary_body, echo_router, http_server, write_temp};
use crate::{serve, within_bound};

#[test]
fn read_in_small_buffers_returns_the_body_exactly() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let mut resp = blocking::get(server.url("/binary/100000")).unwrap();
        let mut body = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = resp.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            assert!(n <= 7);
            body.extend_from_slice(&buf[..n]);
        }
        assert_eq!(body, binary_body(100_000));
        // At the end, reads keep saying so.
        assert_eq!(resp.read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn what_read_did_not_take_is_what_bytes_and_text_return() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let mut resp = blocking::get(server.url("/bytes/100")).unwrap();
        let mut first = [0u8; 30];
        resp.read_exact(&mut first).unwrap();
        let rest = resp.bytes().unwrap();
        let mut whole = first.to_vec();
        whole.extend_from_slice(&rest);
        let expected: Vec<u8> = (0..100).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(whole, expected);

        let mut resp = blocking::get(server.url("/bytes/30")).unwrap();
        let mut first = [0u8; 26];
        resp.read_exact(&mut first).unwrap();
        assert_eq!(resp.text().unwrap(), "abcd");
    });
}

#[test]
fn copy_to_writes_every_byte_and_counts_them() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let mut resp = blocking::get(server.url("/binary/300000")).unwrap();
        let mut out = Vec::new();
        assert_eq!(resp.copy_to(&mut out).unwrap(), 300_000);
        assert_eq!(out, binary_body(300_000));
        // Nothing is left, and io::copy agrees.
        assert_eq!(resp.copy_to(&mut io::sink()).unwrap(), 0);
        let mut resp = blocking::get(server.url("/binary/1000")).unwrap();
        assert_eq!(io::copy(&mut resp, &mut io::sink()).unwrap(), 1000);
    });
}

/// A writer that takes `room` bytes and then fails.
struct Full {
    room: usize,
}

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.room == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn copy_to_a_writer_that_fails_is_a_body_error_saying_why() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let mut resp = blocking::get(server.url("/bytes/5000")).unwrap();
        let err = resp.copy_to(&mut Full { room: 0 }).unwrap_err();
        assert!(err.is_body(), "{err:?}");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(err.url().unwrap().path(), "/bytes/5000");
    });
}

#[test]
fn a_reader_body_is_sent_chunked_and_a_file_with_its_length() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        // More than one 64 KiB piece.
        let data = binary_body(200_000);
        let reader = io::Cursor::new(data.clone());
        let resp = client
            .post(server.url("/echo"))
            .body(Body::new(reader))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);

        let path = write_temp("upload.bin", &data);
        let file = std::fs::File::open(&path).unwrap();
        let resp = client.put(server.url("/echo")).body(file).send().unwrap();
        assert_eq!(resp.status(), 200);

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].body, Bytes::from(data.clone()));
        assert_eq!(requests[0].headers["transfer-encoding"], "chunked");
        assert!(!requests[0].headers.contains_key("content-length"));
        assert_eq!(requests[1].body, Bytes::from(data));
        assert_eq!(requests[1].headers["content-length"], "200000");
        assert!(!requests[1].headers.contains_key("transfer-encoding"));
    });
}

#[test]
fn a_sized_reader_that_ends_early_fails_the_request_and_sends_no_more_than_its_length() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let client = blocking::Client::new();
        let short = io::Cursor::new(b"only ten b".to_vec());
        let err = client
            .post(server.url("/echo"))
            .body(Body::sized(short, 20))
            .send()
            .unwrap_err();
        assert!(err.is_request(), "{err:?}");

        let long = io::Cursor::new(b"twelve bytes".to_vec());
        let resp = client
            .post(server.url("/echo"))
            .body(Body::sized(long, 6))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let sent = server.requests();
        assert_eq!(sent.last().unwrap().body, "twelve");
    });
}

/// A reader that fails after its first piece.
struct Broken {
    read: bool,
}

impl Read for Broken {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if std::mem::replace(&mut self.read, true) {
            return Err(io::Error::other("the tape snapped"));
        }
        buf[..5].copy_from_slice(b"start");
        Ok(5)
    }
}

#[test]
fn a_reader_that_fails_fails_the_request_with_its_error() {
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let err = blocking::Client::new()
            .post(server.url("/echo"))
            .body(Body::new(Broken { read: false }))
            .send()
            .unwrap_err();
        assert!(err.is_request(), "{err:?}");
        let chain = format!("{err:?}");
        assert!(chain.contains("the tape snapped"), "{chain}");
    });
}

#[cfg(feature = "multipart")]
#[test]
fn a_multipart_form_sends_a_file_part_read_as_it_is_sent() {
    use wireline::multipart::{Form, Part};
    let server = serve(http_server(echo_router()));
    within_bound(move || {
        let path = write_temp("a.txt", "the file's text");
        let file = std::fs::File::open(&path).unwrap();
        let form = Form::new()
            .text("kind", "note")
            .part("f", Part::stream(file).file_name("a.txt"));
        let resp = blocking::Client::new()
            .post(server.url("/echo"))
            .multipart(form)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let sent = &server.requests()[0];
        let body = String::from_utf8_lossy(&sent.body);
        assert!(body.contains("name=\"f\"; filename=\"a.txt\""), "{body}");
        assert!(body.contains("\r\n\r\nthe file's text\r\n"), "{body}");
        assert!(body.contains("\r\n\r\nnote\r\n"), "{body}");
    });
}
