//! `examples/fetch` run as a program against servers on 127.0.0.1: curl's exit codes, and
//! bodies that reach stdout byte for byte.
//!
//! A binary of its own, for the example program rather than the library: its tests need
//! `target/<profile>/examples/fetch` built and up to date (`cargo test` builds it,
//! `cargo test --test <name>` does not, and fixtures.rs refuses a stale one), so beside the
//! library's tests they would fail a run such as `cargo test --test http` after an edit
//! to `src/`.

#[path = "../support/mod.rs"]
mod support;

mod fixtures;
mod write_out;

use std::time::{Duration, Instant};

use fixtures::{arg, fetch, fetch_with_env, mirror_server};
use support::{
    basic, binary_body, echo_router, http_server, https_server, pki, proxy_server, scripted,
    silent_server, temp_path, write_temp, CrlSigner, Leaf, ProxyOptions, Reply, ServerOptions,
    Versions,
};

/// Bytes served by `/binary/N` in the byte-for-byte tests: several reads' worth.
const BINARY_LEN: usize = 70_000;

// ---- exit codes ----

#[tokio::test]
async fn ok_is_0_and_the_body_is_byte_for_byte() {
    let server = http_server(echo_router()).await;
    let run = fetch(&[&server.url(&format!("/binary/{BINARY_LEN}"))]).await;
    run.assert_code(0);
    assert!(
        run.stdout == binary_body(BINARY_LEN),
        "stdout differs from the body sent"
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn bad_usage_is_2() {
    for args in [
        &[][..],
        &["--bogus", "http://127.0.0.1:1/"],
        &["--tls-min", "1.1", "http://127.0.0.1:1/"],
        &["--timeout", "soon", "http://127.0.0.1:1/"],
        &["-H", "no colon", "http://127.0.0.1:1/"],
        &["http://127.0.0.1:1/", "http://127.0.0.1:2/"],
        &["--retry", "many", "http://127.0.0.1:1/"],
        &["--retry", "-1", "http://127.0.0.1:1/"],
    ] {
        let run = fetch(args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn malformed_url_is_3() {
    for url in ["http://", "not a url", "ftp://127.0.0.1/"] {
        fetch(&[url]).await.assert_code(3);
    }
}

#[tokio::test]
async fn unresolvable_host_is_6() {
    // RFC 6761: .invalid never resolves, so no query can succeed, here or anywhere.
    let run = fetch(&["http://no-such-host.invalid/"]).await;
    run.assert_code(6);
    assert!(
        run.stderr.contains("no-such-host.invalid"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn refused_connection_is_7() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    fetch(&[&format!("http://{addr}/")]).await.assert_code(7);
}

#[tokio::test]
async fn fail_on_404_is_22_and_prints_no_body() {
    let server = http_server(echo_router()).await;
    let url = server.url("/missing");
    let run = fetch(&["--fail", &url]).await;
    run.assert_code(22);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("404"), "{}", run.stderr);
    // Without -f a 404 is a successful transfer, as in curl.
    let run = fetch(&[&url]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"not found");
}

#[tokio::test]
async fn silent_server_is_28_after_the_timeout() {
    let server = silent_server().await;
    let started = Instant::now();
    fetch(&["--timeout", "1", &format!("http://{}/hang", server.addr)])
        .await
        .assert_code(28);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn tls_version_below_the_minimum_is_35() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let server = https_server(ServerOptions {
        versions: Versions::Tls12Only,
        ..ServerOptions::default()
    })
    .await;
    let url = server.url("/");
    let run = fetch(&["--cacert", arg(&ca), "--tls-min", "1.3", &url]).await;
    run.assert_code(35);
    assert!(run.stderr.contains("TLS 1.3"), "{}", run.stderr);
    // The same server is fine with the default minimum, TLS 1.2.
    fetch(&["--cacert", arg(&ca), &url]).await.assert_code(0);
}

#[tokio::test]
async fn redirect_loop_is_47() {
    let server = http_server(echo_router()).await;
    let url = server.url("/redirect-loop");
    let run = fetch(&["--max-redirects", "2", &url]).await;
    run.assert_code(47);
    // 0 means the redirect itself is the answer.
    let run = fetch(&["--max-redirects", "0", "-i", &url]).await;
    run.assert_code(0);
    assert!(
        run.stdout.starts_with(b"HTTP/1.1 302 Found\r\n"),
        "{}",
        run.stdout_text()
    );
}

#[tokio::test]
async fn unknown_issuer_is_60_and_cacert_or_insecure_fix_it() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    // The "system roots" are another CA, so the result doesn't depend on this machine's store.
    let other = write_temp("other.pem", &pki().other_root_pem);
    let system = [("SSL_CERT_FILE", arg(&other)), ("SSL_CERT_DIR", "")];
    let server = https_server(ServerOptions::default()).await;
    let url = server.url("/");

    let run = fetch_with_env(&[&url], &system).await;
    run.assert_code(60);
    // The server sends its intermediate: the CA the client lacks is the root above it.
    assert!(run.stderr.contains("Wireline Test Root"), "{}", run.stderr);

    let run = fetch_with_env(&["--cacert", arg(&ca), &url], &system).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");

    let run = fetch_with_env(&["-k", &url], &system).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");
}

#[tokio::test]
async fn no_system_roots_is_77_and_insecure_still_works() {
    let server = https_server(ServerOptions::default()).await;
    let url = server.url("/");
    let empty_store = [("SSL_CERT_FILE", "/dev/null"), ("SSL_CERT_DIR", "")];
    let run = fetch_with_env(&[&url], &empty_store).await;
    run.assert_code(77);
    assert!(run.stderr.contains("ca_file"), "{}", run.stderr);
    fetch_with_env(&["-k", &url], &empty_store)
        .await
        .assert_code(0);
}

#[tokio::test]
async fn pinned_public_key_mismatch_is_90_and_a_matching_pin_passes() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let server = https_server(ServerOptions::default()).await;
    let url = server.url("/");
    let own = format!("sha256//{}", pki().spki_sha256(Leaf::Valid));
    let other = format!("sha256//{}", pki().spki_sha256(Leaf::Revoked));

    let run = fetch(&["--cacert", arg(&ca), "--pinnedpubkey", &other, &url]).await;
    run.assert_code(90);
    for part in ["127.0.0.1", &own, &other, "pin_sha256()"] {
        assert!(
            run.stderr.contains(part),
            "{part:?} missing in {}",
            run.stderr
        );
    }
    assert!(run.stdout.is_empty());

    // Two pins, curl's ';'-separated form: one matching is enough.
    let both = format!("{other};{own}");
    let run = fetch(&["--cacert", arg(&ca), "--pinnedpubkey", &both, &url]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");

    // With -k the pin is still checked, as curl does.
    fetch(&["-k", "--pinnedpubkey", &other, &url])
        .await
        .assert_code(90);
    fetch(&["-k", "--pinnedpubkey", &own, &url])
        .await
        .assert_code(0);
}

#[tokio::test]
async fn malformed_pinned_public_keys_are_2() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let url = "https://127.0.0.1:1/";
    for pins in ["pubkey.pem", "sha256//", "sha256//AAAA", "sha256//x;md5//y"] {
        let run = fetch(&["--cacert", arg(&ca), "--pinnedpubkey", pins, url]).await;
        run.assert_code(2);
        assert!(run.stderr.contains("pin"), "{pins}: {}", run.stderr);
    }
}

#[tokio::test]
async fn a_revoked_certificate_is_60_and_a_bad_crl_file_is_82() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let revoked = pki().leaf_der(Leaf::Revoked);
    let crl = write_temp(
        "ca.crl",
        pki().crl_pem(CrlSigner::Intermediate, &[&revoked]),
    );
    let server = https_server(ServerOptions {
        leaf: Leaf::Revoked,
        ..ServerOptions::default()
    })
    .await;
    let url = server.url("/");

    let run = fetch(&["--cacert", arg(&ca), "--crlfile", arg(&crl), &url]).await;
    run.assert_code(60);
    assert!(run.stderr.contains("was revoked"), "{}", run.stderr);
    // The same server without the CRL is fine.
    fetch(&["--cacert", arg(&ca), &url]).await.assert_code(0);

    let missing = temp_path("no-such.crl");
    let not_a_crl = write_temp("not-a.crl", &pki().root_pem);
    for crlfile in [&missing, &not_a_crl] {
        let run = fetch(&["--cacert", arg(&ca), "--crlfile", arg(crlfile), &url]).await;
        run.assert_code(82);
        assert!(run.stderr.contains("CRL file"), "{}", run.stderr);
    }
}

// ---- retries ----

#[tokio::test]
async fn retry_resends_on_curls_transient_statuses() {
    let server = http_server(scripted(vec![
        Reply::status(503),
        Reply::status(500),
        Reply::status(408),
        Reply::status(200).body("ok"),
    ]))
    .await;
    let run = fetch(&["--retry", "3", &server.url("/")]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"ok");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn retry_gives_up_with_the_last_response() {
    let server = http_server(scripted(vec![Reply::status(503).body("busy")])).await;
    let url = server.url("/");
    // Without --retry: one attempt.
    let run = fetch(&[&url]).await;
    run.assert_code(0);
    assert_eq!(server.requests().len(), 1);
    // The last 503 is the transfer's result, as in curl: its body without -f, 22 with it.
    let run = fetch(&["--retry", "2", &url]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"busy");
    assert_eq!(server.requests().len(), 4);
    let run = fetch(&["--retry", "1", "-f", &url]).await;
    run.assert_code(22);
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert_eq!(server.requests().len(), 6);
}

#[tokio::test]
async fn retry_leaves_a_404_and_a_post_alone() {
    let server = http_server(scripted(vec![Reply::status(404), Reply::status(200)])).await;
    let run = fetch(&["--retry", "3", &server.url("/")]).await;
    run.assert_code(0);
    assert_eq!(server.requests().len(), 1);

    let unavailable_once = || scripted(vec![Reply::status(503), Reply::status(200)]);
    let server = http_server(unavailable_once()).await;
    let run = fetch(&["--retry", "3", "-d", "a=1", &server.url("/")]).await;
    run.assert_code(0);
    assert_eq!(server.requests().len(), 1, "a POST may have been acted on");

    let server = http_server(unavailable_once()).await;
    let url = server.url("/");
    let keyed = [
        "--retry",
        "3",
        "-H",
        "Idempotency-Key: k1",
        "-d",
        "a=1",
        &url,
    ];
    fetch(&keyed).await.assert_code(0);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].body, "a=1");
}

#[tokio::test]
async fn retry_on_a_refused_connection_is_still_7() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    let run = fetch(&["--retry", "2", &format!("http://{addr}/")]).await;
    run.assert_code(7);
    assert!(
        run.stderr.contains("gave up after 3 attempts"),
        "{}",
        run.stderr
    );
}

// ---- output ----

#[tokio::test]
async fn no_content_prints_nothing() {
    let server = http_server(echo_router()).await;
    let run = fetch(&[&server.url("/status/204")]).await;
    run.assert_code(0);
    assert!(run.stdout.is_empty());
}

#[tokio::test]
async fn output_file_gets_the_body_and_stdout_nothing() {
    let server = http_server(echo_router()).await;
    let out = temp_path("body.bin");
    let url = server.url(&format!("/binary/{BINARY_LEN}"));
    let run = fetch(&["-o", arg(&out), &url]).await;
    run.assert_code(0);
    assert!(run.stdout.is_empty());
    assert!(std::fs::read(&out).expect("-o file") == binary_body(BINARY_LEN));
}

#[tokio::test]
async fn compressed_and_silent_are_accepted_and_the_body_is_decoded() {
    use tokio::io::AsyncReadExt;
    let gzipped = {
        let mut out = Vec::new();
        async_compression::tokio::bufread::GzipEncoder::new(&b"plain text, once gzipped"[..])
            .read_to_end(&mut out)
            .await
            .unwrap();
        out
    };
    let server = http_server(support::handler(move |_| {
        let body = gzipped.clone();
        async move { support::response(200, &[("content-encoding", "gzip")], body) }
    }))
    .await;
    let out = temp_path("decoded.txt");
    let run = fetch(&["--compressed", "-s", "-o", arg(&out), &server.url("/")]).await;
    run.assert_code(0);
    assert_eq!(
        std::fs::read(&out).expect("-o file"),
        b"plain text, once gzipped"
    );
    // Not a terminal: no progress bar on stderr.
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[tokio::test]
async fn head_prints_the_response_head_only() {
    let server = http_server(echo_router()).await;
    let run = fetch(&["-I", &server.url("/response-headers?x-test=yes")]).await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\nx-test: yes\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
}

#[tokio::test]
async fn include_prints_the_head_then_the_body() {
    let server = http_server(echo_router()).await;
    let run = fetch(&["-i", &server.url("/")]).await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nhello"), "{text}");
}

#[tokio::test]
async fn verbose_traces_on_stderr_only() {
    let server = http_server(echo_router()).await;
    let run = fetch(&[
        "-v",
        "-H",
        "Authorization: Bearer s3cret",
        &server.url("/response-headers?x-test=yes"),
    ])
    .await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");
    for line in [
        "> GET /response-headers?x-test=yes",
        "< HTTP/1.1 200 OK",
        "< x-test: yes",
        "* Response from 127.0.0.1:",
    ] {
        assert!(
            run.stderr.contains(line),
            "{line:?} missing in {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}

#[tokio::test]
async fn verbose_shows_the_tls_connection() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let server = https_server(ServerOptions::default()).await;
    let run = fetch(&["-v", "--cacert", arg(&ca), &server.url("/")]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");
    for line in [
        "* TLS connection using TLS 1.3 / TLS13_",
        "(full handshake)",
        "* ALPN: server accepted h2",
        "* Server certificate:\n*  subject: CN=Wireline Test Leaf\n*  issuer: CN=Wireline Test Intermediate\n*  expire date: 2",
        "* Chain certificate:\n*  subject: CN=Wireline Test Intermediate",
    ] {
        assert!(
            run.stderr.contains(line),
            "{line:?} missing in {}",
            run.stderr
        );
    }
    // Without -v, nothing about TLS is shown.
    let quiet = fetch(&["--cacert", arg(&ca), &server.url("/")]).await;
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

// ---- request ----

#[tokio::test]
async fn data_from_a_file_posts_its_exact_bytes() {
    let server = mirror_server().await;
    let bytes = b"a=1&b=\x00\xff\r\nline 2\n";
    let file = write_temp("form.bin", bytes);
    let url = format!("http://{}/echo", server.addr);
    let run = fetch(&["-d", &format!("@{}", arg(&file)), &url]).await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("POST /echo HTTP/1.1\r\n"), "{text}");
    assert!(
        text.contains("\r\ncontent-type: application/x-www-form-urlencoded\r\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("\r\ncontent-length: {}\r\n", bytes.len())),
        "{text}"
    );
    assert!(
        run.stdout.ends_with(&[&b"\r\n\r\n"[..], bytes].concat()),
        "{text}"
    );
}

#[tokio::test]
async fn form_fields_and_files_go_as_multipart_and_cookies_as_a_header() {
    let server = mirror_server().await;
    let file = write_temp("notes.txt", "file contents\n");
    let file_field = format!("upload=@{};type=text/plain", file.display());
    let run = fetch(&[
        "-F",
        "name=value",
        "-F",
        &file_field,
        "-b",
        "session=abc; theme=dark",
        &format!("http://{}/post", server.addr),
    ])
    .await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("POST /post HTTP/1.1\r\n"), "{text}");
    assert!(
        text.contains("\r\ncookie: session=abc; theme=dark\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\ncontent-type: multipart/form-data; boundary="),
        "{text}"
    );
    for part in [
        "content-disposition: form-data; name=\"name\"\r\n\r\nvalue\r\n",
        "content-disposition: form-data; name=\"upload\"; filename=\"notes.txt\"\r\n",
        "content-type: text/plain\r\n\r\nfile contents\n\r\n",
    ] {
        assert!(
            text.to_lowercase().contains(&part.to_lowercase()),
            "{part:?} missing in {text}"
        );
    }
}

#[tokio::test]
async fn form_with_data_a_cookie_file_or_a_missing_file_are_refused() {
    let url = "http://127.0.0.1:9/";
    fetch(&["-F", "a=1", "-d", "b=2", url]).await.assert_code(2);
    fetch(&["-F", "no-equals-sign", url]).await.assert_code(2);
    fetch(&["-b", "cookies.txt", url]).await.assert_code(2);
    let missing = temp_path("not-there.bin");
    let field = format!("f=@{}", missing.display());
    fetch(&["-F", &field, url]).await.assert_code(26);
}

#[tokio::test]
async fn headers_repeat_and_json_sets_its_types() {
    let server = mirror_server().await;
    let run = fetch(&[
        "-H",
        "X-One: 1",
        "--header",
        "X-Two: 2",
        "-H",
        "X-One: again",
        "-X",
        "PUT",
        "--json",
        r#"{"a":1}"#,
        &format!("http://{}/echo", server.addr),
    ])
    .await;
    run.assert_code(0);
    let text = run.stdout_text();
    assert!(text.starts_with("PUT /echo HTTP/1.1\r\n"), "{text}");
    for line in [
        "\r\nx-one: 1\r\n",
        "\r\nx-two: 2\r\n",
        "\r\nx-one: again\r\n",
        "\r\ncontent-type: application/json\r\n",
        "\r\naccept: application/json\r\n",
    ] {
        assert!(text.contains(line), "{line:?} missing in {text}");
    }
    assert!(text.ends_with("\r\n\r\n{\"a\":1}"), "{text}");
}

// ---- client certificates ----

#[tokio::test]
async fn client_certificate_from_one_file_or_cert_and_key_files() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let identity = pki().client_identity_pem();
    let both = write_temp("client.pem", &identity);
    let at = identity.find("-----BEGIN PRIVATE KEY-----").expect("a key");
    let cert = write_temp("client.crt", &identity[..at]);
    let key = write_temp("client.key", &identity[at..]);
    let server = https_server(ServerOptions {
        require_client_cert: true,
        ..ServerOptions::default()
    })
    .await;
    let url = server.url("/");

    let run = fetch(&["--cacert", arg(&ca), "--cert", arg(&both), &url]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");

    let run = fetch(&[
        "--cacert",
        arg(&ca),
        "--cert",
        arg(&cert),
        "--key",
        arg(&key),
        &url,
    ])
    .await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");

    // Without one the server refuses: a TLS error, 35 as in curl. Over TLS 1.2 the refusal
    // comes inside the handshake; TLS 1.3 servers refuse after it, racing the request.
    let tls12 = https_server(ServerOptions {
        require_client_cert: true,
        versions: Versions::Tls12Only,
        ..ServerOptions::default()
    })
    .await;
    fetch(&["--cacert", arg(&ca), &tls12.url("/")])
        .await
        .assert_code(35);
}

#[tokio::test]
async fn unusable_client_certificate_is_58() {
    let identity = pki().client_identity_pem();
    let at = identity.find("-----BEGIN PRIVATE KEY-----").expect("a key");
    let cert_only = write_temp("cert-only.pem", &identity[..at]);
    let missing = temp_path("no-such-client.pem");
    let url = "https://127.0.0.1:1/";
    // Key missing from the file, file missing, key file missing: all before connecting.
    for args in [
        vec!["--cert", arg(&cert_only), url],
        vec!["--cert", arg(&missing), url],
        vec!["--cert", arg(&cert_only), "--key", arg(&missing), url],
    ] {
        let run = fetch(&args).await;
        run.assert_code(58);
        assert!(run.stderr.contains("client"), "{args:?}: {}", run.stderr);
    }
    fetch(&["--key", arg(&cert_only), url]).await.assert_code(2);
}

// ---- proxies ----

#[tokio::test]
async fn proxy_flag_sends_http_in_absolute_form_and_https_through_a_tunnel() {
    let ca = write_temp("ca.pem", &pki().root_pem);
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let proxy = proxy_server(ProxyOptions {
        require_auth: Some(basic("u", "p")),
        ..ProxyOptions::default()
    })
    .await;
    let via = proxy.url_with_credentials("u", "p");

    let run = fetch(&["-x", &via, &http_origin.url("/")]).await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");
    let run = fetch(&[
        "--proxy",
        &via,
        "--cacert",
        arg(&ca),
        &https_origin.url("/"),
    ])
    .await;
    run.assert_code(0);
    assert_eq!(run.stdout, b"hello");

    let seen: Vec<(String, String)> = proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.target))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".to_owned(), http_origin.url("/")),
            (
                "CONNECT".to_owned(),
                format!("127.0.0.1:{}", https_origin.addr.port())
            ),
        ]
    );
}

#[tokio::test]
async fn noproxy_bypasses_the_proxy_and_replaces_no_proxy() {
    let origin = http_server(echo_router()).await;
    let proxy = proxy_server(ProxyOptions::default()).await;
    let direct = origin.url("/");

    // -x with --noproxy: listed hosts go direct.
    fetch(&[
        "-x",
        &proxy.url(),
        "--noproxy",
        "10.0.0.0/8,127.0.0.0/8",
        &direct,
    ])
    .await
    .assert_code(0);
    assert_eq!(proxy.accepts(), 0);
    // -x honours NO_PROXY, as curl does, unless --noproxy replaces it ('' bypasses nothing).
    let no_proxy = [("NO_PROXY", "127.0.0.1")];
    fetch_with_env(&["-x", &proxy.url(), &direct], &no_proxy)
        .await
        .assert_code(0);
    assert_eq!(proxy.accepts(), 0);
    fetch_with_env(&["-x", &proxy.url(), "--noproxy", "", &direct], &no_proxy)
        .await
        .assert_code(0);
    assert_eq!(proxy.accepts(), 1);

    // Without -x: the environment's proxy, with --noproxy in place of NO_PROXY. The name
    // resolves nowhere, so going direct is exit 6; the proxy connects to 127.0.0.1.
    let url = format!("http://origin.test:{}/", origin.addr.port());
    let env_proxy = proxy.url();
    let env = |no_proxy| [("HTTP_PROXY", env_proxy.as_str()), ("NO_PROXY", no_proxy)];
    fetch_with_env(&[&url], &env("other.test"))
        .await
        .assert_code(0);
    assert_eq!(proxy.accepts(), 2);
    fetch_with_env(&["--noproxy", "origin.test", &url], &env(""))
        .await
        .assert_code(6);
    fetch_with_env(&["--noproxy", "", &url], &env("origin.test"))
        .await
        .assert_code(0);
    assert_eq!(proxy.accepts(), 3);
    // -x '' turns the environment's proxies off.
    fetch_with_env(&["-x", "", &url], &env(""))
        .await
        .assert_code(6);
    assert_eq!(proxy.accepts(), 3);
}

#[tokio::test]
async fn proxy_failures_have_curls_exit_codes() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("local addr"))
    };
    // The proxy can't be reached: 7, naming it.
    let run = fetch(&["-x", &closed, "http://127.0.0.1:1/"]).await;
    run.assert_code(7);
    assert!(
        run.stderr.contains(&format!("proxy {closed}")),
        "{}",
        run.stderr
    );
    // Its name doesn't resolve: 5.
    let run = fetch(&["-x", "http://proxy.invalid:3128", "http://127.0.0.1:1/"]).await;
    run.assert_code(5);
    assert!(run.stderr.contains("proxy.invalid"), "{}", run.stderr);
    // It refuses the tunnel: 56, with the status.
    let ca = write_temp("ca.pem", &pki().root_pem);
    let origin = https_server(ServerOptions::default()).await;
    let proxy = proxy_server(ProxyOptions {
        require_auth: Some(basic("u", "p")),
        ..ProxyOptions::default()
    })
    .await;
    let run = fetch(&["-x", &proxy.url(), "--cacert", arg(&ca), &origin.url("/")]).await;
    run.assert_code(56);
    assert!(run.stderr.contains("407"), "{}", run.stderr);
    // A proxy URL fetch can't use: 2, without its password.
    let run = fetch(&[
        "-x",
        // TLS to the proxy (a socks5:// one works when the `socks` feature is on)
        "https://u:hunter2@127.0.0.1:3128",
        "http://127.0.0.1:1/",
    ])
    .await;
    run.assert_code(2);
    assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
}
