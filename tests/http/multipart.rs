//! Multipart forms, parsed on arrival by `multer`: names, file names, types and contents;
//! escaping; Content-Length or chunked; files streamed from disk, large ones included;
//! replay after a 307; and the errors for missing or changing files.
//!
//! Runs with the `multipart` feature (`#[cfg(feature = "multipart")]` on its `mod` line).

use std::convert::Infallible;
use std::hash::{DefaultHasher, Hasher};

use crate::support;
use crate::support::{
    binary_body, bounded, handler, http_server, https_server, response, temp_path,
    trusting_test_ca, write_temp, ServerOptions, TestServer,
};
use bytes::Bytes;
use serde::Deserialize;
use wireline::multipart::{Form, Part};
use wireline::{Body, Client};

/// One part as the server parsed it.
#[derive(Deserialize, Debug, PartialEq)]
struct Parsed {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    len: u64,
    /// The content, when it is UTF-8 and at most 1 KiB.
    text: Option<String>,
    hash: u64,
}

fn hash(bytes: &[u8]) -> u64 {
    // Fixed keys: the server and the test compute the same value.
    let mut hasher = DefaultHasher::new();
    hasher.write(bytes);
    hasher.finish()
}

/// `?to=<url>` → 307 there; anything else parses the body as multipart/form-data and
/// answers with a JSON array of [`Parsed`] (400 with multer's error if it isn't).
fn multipart_router() -> support::Handler {
    handler(|req| async move {
        let query = req.uri().query().unwrap_or("").to_owned();
        if let Some((_, to)) =
            url::form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == "to")
        {
            return response(307, &[("location", &to)], Bytes::new());
        }
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let boundary = match multer::parse_boundary(content_type) {
            Ok(boundary) => boundary,
            Err(e) => return response(400, &[], format!("no boundary: {e}")),
        };
        let body = req.into_body();
        let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(body) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        let mut parts = Vec::new();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => return response(400, &[], format!("multer: {e}")),
            };
            let name = field.name().unwrap_or("").to_owned();
            let file_name = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(|m| m.to_string());
            let bytes = match field.bytes().await {
                Ok(bytes) => bytes,
                Err(e) => return response(400, &[], format!("multer: {e}")),
            };
            let text = std::str::from_utf8(&bytes)
                .ok()
                .filter(|t| t.len() <= 1024)
                .map(str::to_owned);
            parts.push(serde_json::json!({
                "name": name,
                "file_name": file_name,
                "content_type": content_type,
                "len": bytes.len(),
                "text": text,
                "hash": hash(&bytes),
            }));
        }
        response(
            200,
            &[("content-type", "application/json")],
            serde_json::Value::from(parts).to_string(),
        )
    })
}

async fn send(client: &Client, url: String, form: Form) -> Vec<Parsed> {
    bounded(async {
        let resp = client.post(url).multipart(form).send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        assert_eq!(status, 200, "{text}");
        Ok::<_, wireline::Error>(serde_json::from_str(&text).expect("JSON from the server"))
    })
    .await
    .unwrap()
}

fn text_part(name: &str, file_name: Option<&str>, mime: Option<&str>, text: &str) -> Parsed {
    Parsed {
        name: name.into(),
        file_name: file_name.map(Into::into),
        content_type: mime.map(Into::into),
        len: text.len() as u64,
        text: Some(text.into()),
        hash: hash(text.as_bytes()),
    }
}

fn binary_part(name: &str, file_name: Option<&str>, mime: Option<&str>, data: &[u8]) -> Parsed {
    Parsed {
        name: name.into(),
        file_name: file_name.map(Into::into),
        content_type: mime.map(Into::into),
        len: data.len() as u64,
        text: std::str::from_utf8(data)
            .ok()
            .filter(|t| t.len() <= 1024)
            .map(Into::into),
        hash: hash(data),
    }
}

/// The last request `server` received: its Content-Length matched its body, and the
/// Content-Type names `boundary`.
fn check_framing(server: &TestServer, boundary: &str) -> u64 {
    let received = server.requests().pop().expect("a request arrived");
    assert_eq!(
        received.headers["content-type"],
        format!("multipart/form-data; boundary={boundary}").as_str()
    );
    let declared: u64 = received.headers["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(!received.headers.contains_key("transfer-encoding"));
    assert_eq!(declared, received.body.len() as u64);
    declared
}

#[tokio::test]
async fn parts_arrive_with_their_names_file_names_types_and_contents() {
    let notes = write_temp("notes.txt", "line one\nline two\n");
    let picture = write_temp("picture.png", b"\x89PNG\r\n\x1a\n");
    let unknown = write_temp("data.unknown-ext", binary_body(300));
    let raw = binary_body(1000);
    // HTTP/1.1 in plain text, and h2 over TLS.
    let plain = http_server(multipart_router()).await;
    let tls = https_server(ServerOptions {
        handler: multipart_router(),
        ..ServerOptions::default()
    })
    .await;
    let client = trusting_test_ca().build().unwrap();
    for server in [&plain, &tls] {
        let form = Form::new()
            .text("title", "Holiday ünïcode ✓")
            .part(
                "raw",
                Part::bytes(raw.clone())
                    .file_name("raw.bin")
                    .mime_str("application/x-custom")
                    .unwrap(),
            )
            .part("plain", Part::text("no type, no file name"))
            .file("notes", &notes)
            .await
            .unwrap()
            .file("picture", &picture)
            .await
            .unwrap()
            .part(
                "renamed",
                Part::file(&unknown).await.unwrap().file_name("other.bin"),
            );
        let boundary = form.boundary().to_owned();
        let parts = send(&client, server.url("/upload"), form).await;
        assert_eq!(
            parts,
            [
                text_part("title", None, None, "Holiday ünïcode ✓"),
                binary_part("raw", Some("raw.bin"), Some("application/x-custom"), &raw),
                text_part("plain", None, None, "no type, no file name"),
                text_part(
                    "notes",
                    Some("notes.txt"),
                    Some("text/plain"),
                    "line one\nline two\n"
                ),
                binary_part(
                    "picture",
                    Some("picture.png"),
                    Some("image/png"),
                    b"\x89PNG\r\n\x1a\n"
                ),
                binary_part(
                    "renamed",
                    Some("other.bin"),
                    Some("application/octet-stream"),
                    &binary_body(300)
                ),
            ],
            "{}",
            server.url("/")
        );
        if server.url("/").starts_with("http:") {
            check_framing(server, &boundary);
        } else {
            let received = tls.requests().pop().unwrap();
            assert_eq!(received.version, wireline::Version::HTTP_2);
            assert_eq!(
                received.headers["content-length"],
                received.body.len().to_string().as_str()
            );
        }
    }
}

#[tokio::test]
async fn quotes_and_line_breaks_in_names_stay_inside_their_header() {
    let server = http_server(multipart_router()).await;
    let form = Form::new().part(
        "we\"ird\r\nContent-Type: text/evil",
        Part::text("x").file_name("ü \"q\"\n.txt"),
    );
    let parts = send(&Client::new(), server.url("/"), form).await;
    // Escaped as browsers do; no header was added, and the unicode is intact.
    assert_eq!(
        parts,
        [text_part(
            "we%22ird%0D%0AContent-Type: text/evil",
            Some("ü %22q%22%0A.txt"),
            None,
            "x"
        )]
    );
}

#[tokio::test]
async fn a_large_file_part_is_streamed_from_disk_when_the_request_is_sent() {
    const SIZE: usize = 50 * 1024 * 1024;
    let path = temp_path("large.bin");
    std::fs::write(&path, vec![b'a'; SIZE]).unwrap();
    let server = http_server(multipart_router()).await;
    let form = Form::new()
        .text("kind", "large")
        .file("blob", &path)
        .await
        .unwrap();
    let boundary = form.boundary().to_owned();
    let request = Client::new()
        .post(server.url("/"))
        .multipart(form)
        .build()
        .unwrap();
    assert!(
        request.body().unwrap().as_bytes().is_none(),
        "a form with a file must be a stream, not a buffer"
    );
    let declared: u64 = request.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(declared > SIZE as u64);
    // The file is read when the request is sent, not when the form was made: new
    // contents of the same length are what arrives.
    let contents = binary_body(SIZE);
    std::fs::write(&path, &contents).unwrap();
    let resp = bounded(Client::new().execute(request)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let parts: Vec<Parsed> = resp.json().await.unwrap();
    assert_eq!(
        parts,
        [
            text_part("kind", None, None, "large"),
            binary_part(
                "blob",
                Some("large.bin"),
                Some("application/octet-stream"),
                &contents
            ),
        ]
    );
    assert_eq!(check_framing(&server, &boundary), declared);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_file_that_changed_size_fails_the_request_naming_the_file() {
    let server = http_server(multipart_router()).await;
    for (name, new_len) in [("shrank.bin", 100), ("grew.bin", 3000)] {
        let path = write_temp(name, binary_body(2000));
        let form = Form::new().file("f", &path).await.unwrap();
        std::fs::write(&path, binary_body(new_len)).unwrap();
        let err = bounded(Client::new().post(server.url("/")).multipart(form).send())
            .await
            .unwrap_err();
        assert!(err.is_request(), "{err:?}");
        let shown = format!("{err}");
        assert!(shown.contains(&path.display().to_string()), "{shown}");
        assert!(shown.contains("multipart part \"f\""), "{shown}");
    }
}

#[tokio::test]
async fn a_stream_part_of_unknown_length_makes_the_request_chunked() {
    let server = http_server(multipart_router()).await;
    let chunks = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>("first,"),
        Ok("second,"),
        Ok("third"),
    ]);
    let form = Form::new().text("a", "1").part(
        "live",
        Part::stream(Body::wrap_stream(chunks)).file_name("live.csv"),
    );
    let parts = send(&Client::new(), server.url("/"), form).await;
    assert_eq!(
        parts,
        [
            text_part("a", None, None, "1"),
            text_part("live", Some("live.csv"), None, "first,second,third"),
        ]
    );
    let received = server.requests().pop().unwrap();
    assert_eq!(received.headers["transfer-encoding"], "chunked");
    assert!(!received.headers.contains_key("content-length"));
}

#[tokio::test]
async fn an_in_memory_form_is_sent_again_after_a_307() {
    let server = http_server(multipart_router()).await;
    let to: String =
        url::form_urlencoded::byte_serialize(server.url("/final").as_bytes()).collect();
    let form = Form::new()
        .text("a", "1")
        .part("b", Part::bytes(vec![7u8; 10]).file_name("b.bin"));
    let resp = bounded(
        Client::new()
            .post(server.url(&format!("/first?to={to}")))
            .multipart(form)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.url().path(), "/final");
    let parts: Vec<Parsed> = resp.json().await.unwrap();
    assert_eq!(
        parts,
        [
            text_part("a", None, None, "1"),
            binary_part("b", Some("b.bin"), None, &[7u8; 10]),
        ]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn a_missing_file_or_a_directory_is_an_error_naming_the_path() {
    let missing = temp_path("not-there.txt");
    let dir = write_temp("in-a-dir.txt", "x");
    let dir = dir.parent().unwrap();
    for (path, why) in [(missing.as_path(), "No such file"), (dir, "is a directory")] {
        let err = Form::new().file("f", path).await.unwrap_err();
        assert!(err.is_builder(), "{err:?}");
        let shown = err.to_string();
        assert!(shown.contains(&path.display().to_string()), "{shown}");
        assert!(shown.contains(why), "{shown}");
    }
    let err = Part::text("x").mime_str("text plain").unwrap_err();
    assert!(err.is_builder());
}
