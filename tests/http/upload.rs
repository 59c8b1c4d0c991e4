//! Request bodies streamed from files: sent intact without being read into memory, with
//! chunked encoding or a declared length, and in constant memory however large the file
//! (the 1 GiB measurement is `#[ignore]`d: run it with
//! `cargo test --release --test http upload:: -- --ignored --nocapture`).

use std::time::{Duration, Instant};

use crate::support;
use crate::support::{
    binary_body, bounded, discard_server, http_server, peak_rss_kib, reset_peak_rss, rss_kib,
    write_temp,
};
use wireline::Client;

#[tokio::test]
async fn a_file_body_is_streamed_and_arrives_intact() {
    let data = binary_body(3 * 1024 * 1024 + 7);
    let path = write_temp("upload.bin", &data);
    let server = http_server(support::echo_router()).await;
    let file = tokio::fs::File::open(&path).await.unwrap();
    let request = Client::new()
        .post(server.url("/"))
        .body(file)
        .build()
        .unwrap();
    assert!(
        request.body().unwrap().as_bytes().is_none(),
        "a file body is a stream, not bytes read up front"
    );
    let resp = bounded(Client::new().execute(request)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let received = server.requests().pop().unwrap();
    assert!(received.body == data, "the body differs from the file");
    // Length unknown up front: HTTP/1.1 chunked encoding.
    assert_eq!(received.headers["transfer-encoding"], "chunked");
    assert!(!received.headers.contains_key("content-length"));
}

#[tokio::test]
async fn a_file_body_with_its_length_declared_is_sent_with_that_length() {
    let data = binary_body(1024 * 1024);
    let path = write_temp("sized.bin", &data);
    let server = http_server(support::echo_router()).await;
    let file = tokio::fs::File::open(&path).await.unwrap();
    let size = file.metadata().await.unwrap().len();
    let resp = bounded(
        Client::new()
            .put(server.url("/"))
            .header("content-length", size)
            .body(file)
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let received = server.requests().pop().unwrap();
    assert_eq!(received.headers["content-length"], "1048576");
    assert!(!received.headers.contains_key("transfer-encoding"));
    assert!(received.body == data, "the body differs from the file");
}

#[tokio::test]
async fn a_declared_length_is_what_is_sent_and_a_short_file_fails() {
    let path = write_temp("changed.bin", binary_body(1000));
    let server = discard_server().await;
    let put = |declared: u64| {
        let path = path.clone();
        let url = server.url("/");
        async move {
            let file = tokio::fs::File::open(&path).await.unwrap();
            let resp = Client::new()
                .put(url)
                .header("content-length", declared)
                .body(file)
                .send()
                .await?;
            resp.text().await
        }
    };
    // Shorter than declared (the file shrank): the request fails, nothing is made up.
    let err = bounded(put(5000)).await.unwrap_err();
    assert!(err.is_request(), "{err:?}");
    // Longer (the file grew): exactly the declared length is sent, as hyper does.
    assert_eq!(bounded(put(500)).await.unwrap(), "500");
}

/// Uploads a 1 GiB file to a server that discards it and reports how much the peak RSS
/// of the process (client and server) grew. Not in the default run: it writes 1 GiB to
/// the temp dir and takes seconds in release mode, minutes in debug.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes a 1 GiB file; run with --release -- --ignored --nocapture"]
async fn a_1_gib_file_upload_runs_in_constant_memory() {
    const SIZE: u64 = 1 << 30;
    const LIMIT: Duration = Duration::from_secs(300);
    let path = support::temp_path("one-gib.bin");
    let written = path.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&written).unwrap());
        let block = binary_body(1 << 20);
        for _ in 0..(SIZE >> 20) {
            out.write_all(&block).unwrap();
        }
        out.flush().unwrap();
    })
    .await
    .unwrap();

    let server = discard_server().await;
    let client = Client::new();
    // Warm up: the connection, the pool and the runtime's threads count as baseline.
    let warm = client.post(server.url("/")).body("warm-up").send().await;
    assert_eq!(warm.unwrap().text().await.unwrap(), "7");

    let mut report = Vec::new();
    for &upload in UPLOADS {
        reset_peak_rss();
        let before = rss_kib();
        let started = Instant::now();
        let request = upload.request(&client, server.url("/"), &path).await;
        let declared = request.headers().get("content-length").cloned();
        let received = tokio::time::timeout(LIMIT, async {
            client
                .execute(request)
                .await?
                .error_for_status()?
                .text()
                .await
        })
        .await
        .expect("upload within the limit")
        .unwrap();
        let elapsed = started.elapsed();
        let peak = peak_rss_kib();
        let expected = declared.map_or(SIZE.to_string(), |v| v.to_str().unwrap().to_owned());
        assert_eq!(received, expected, "{upload:?}");
        let growth = peak.saturating_sub(before);
        report.push(format!(
            "{upload:?}: RSS before {before} KiB, peak {peak} KiB, growth {growth} KiB; \
             {:.0} MiB/s",
            1024.0 / elapsed.as_secs_f64()
        ));
        if upload == Upload::ControlInMemory {
            // Proves the measurement sees a buffered body.
            assert!(growth > 512 * 1024, "{upload:?}: growth {growth} KiB");
        } else {
            assert!(
                growth < 32 * 1024,
                "{upload:?}: peak RSS grew by {growth} KiB"
            );
        }
    }
    let _ = std::fs::remove_file(&path);
    for line in report {
        println!("{line}");
    }
}

/// The ways the 1 GiB test sends the file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Upload {
    FileChunked,
    FileWithContentLength,
    #[cfg(feature = "multipart")]
    MultipartFormWithTheFile,
    /// The file read into memory first: what the others must not do.
    ControlInMemory,
}

const UPLOADS: &[Upload] = &[
    Upload::FileChunked,
    Upload::FileWithContentLength,
    #[cfg(feature = "multipart")]
    Upload::MultipartFormWithTheFile,
    Upload::ControlInMemory,
];

impl Upload {
    async fn request(
        self,
        client: &Client,
        url: String,
        path: &std::path::Path,
    ) -> wireline::Request {
        let open = || tokio::fs::File::open(path);
        let builder = client.post(url);
        let builder = match self {
            Upload::FileChunked => builder.body(open().await.unwrap()),
            Upload::FileWithContentLength => {
                let file = open().await.unwrap();
                let len = file.metadata().await.unwrap().len();
                builder.header("content-length", len).body(file)
            }
            #[cfg(feature = "multipart")]
            Upload::MultipartFormWithTheFile => {
                let form = wireline::multipart::Form::new()
                    .text("name", "one-gib.bin")
                    .file("file", path)
                    .await
                    .unwrap();
                builder.multipart(form)
            }
            Upload::ControlInMemory => builder.body(tokio::fs::read(path).await.unwrap()),
        };
        builder.build().unwrap()
    }
}
