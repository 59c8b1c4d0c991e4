//! Fault matrix R01–R09: what crosses a redirect, captured as raw bytes on the next
//! hop. tests/http/redirect.rs covers the method rules, limits and bad schemes against a
//! hyper server; these look at the exact bytes a second origin receives. See
//! docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support;
use crate::support::{
    bounded, h1_response, handler, https_server, response, trusting_test_ca, write, FaultServer,
    ServerOptions, Step,
};
use wireline::redirect::Policy;
use wireline::Client;

/// What [`with_credentials`] sends: the bearer token, the cookies, the proxy credential,
/// and the URL's password, plain and as basic auth (base64 of "alice:hunter2").
const SECRETS: [&str; 5] = [
    "t0p-bearer",
    "c00kie",
    "pr0xy",
    "hunter2",
    "YWxpY2U6aHVudGVyMg==",
];

/// A server that answers every request with `status` and `location`.
async fn redirecting(status: u16, location: &str) -> FaultServer {
    let location = location.to_owned();
    let reply = h1_response(
        &format!("{status} Redirect"),
        &[("location", &location)],
        b"",
    );
    FaultServer::start(vec![Step::Read, Step::Write(reply), Step::Close]).await
}

/// A server that answers "landed" to each request and records it.
async fn landing_on(bind: &str) -> FaultServer {
    FaultServer::start_on(
        bind,
        vec![Step::Read, write(h1_response("200 OK", &[], b"landed"))],
    )
    .await
}

/// The only request `server` received, as text.
fn only_request(server: &FaultServer) -> String {
    let requests = server.request_texts();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests.into_iter().next().unwrap()
}

/// A request carrying every kind of credential, in odd spellings.
fn with_credentials(client: &Client, url: &str) -> wireline::RequestBuilder {
    let url = url.replacen("://", "://alice:hunter2@", 1);
    client
        .get(url)
        .header("aUtHoRiZaTiOn", "Bearer t0p-bearer")
        .header("cookie", "a=c00kie")
        .header("CoOkIe", "b=c00kie")
        .header("Proxy-Authorization", "Basic pr0xy")
        .header("x-kept", "kept")
}

#[tokio::test]
async fn r01_r04_no_credential_reaches_another_host() {
    let target = landing_on("127.0.0.2:0").await;
    let first = redirecting(302, &target.url("/landing")).await;
    let client = Client::new();
    let resp = bounded(with_credentials(&client, &first.url("/")).send())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let hop = only_request(&target).to_ascii_lowercase();
    for secret in SECRETS {
        assert!(
            !hop.contains(secret),
            "{secret} reached the other host:\n{hop}"
        );
    }
    for name in ["authorization", "cookie", "proxy-authorization"] {
        assert!(!hop.contains(&format!("\n{name}:")), "{name}:\n{hop}");
    }
    // Across origins the Referer names the first origin and nothing else (R08).
    let origin = first.url("/");
    assert!(hop.contains(&format!("\nreferer: {origin}\r\n")), "{hop}");
    assert!(hop.contains("x-kept: kept"), "{hop}");
    // The first origin got them all (the request's own Authorization replaced the one
    // made from the URL's user and password).
    let first_hop = only_request(&first);
    for secret in ["t0p-bearer", "c00kie", "pr0xy"] {
        assert!(first_hop.contains(secret), "{secret}:\n{first_hop}");
    }
}

#[tokio::test]
async fn a_host_header_set_by_the_caller_stays_with_its_host() {
    let client = Client::new();
    let to_vhost = |url: String| {
        let sent = client.get(url).header("host", "vhost.example").send();
        async { bounded(sent).await.unwrap() }
    };
    let vhost = "\r\nhost: vhost.example\r\n";

    let target = landing_on("127.0.0.2:0").await;
    let first = redirecting(302, &target.url("/landing")).await;
    assert_eq!(to_vhost(first.url("/")).await.status(), 200);
    assert!(
        only_request(&first).contains(vhost),
        "{}",
        only_request(&first)
    );
    let hop = only_request(&target);
    let expected = format!("\r\nhost: {}\r\n", target.addr);
    assert!(hop.contains(&expected), "{hop}");
    assert!(!hop.contains("vhost.example"), "{hop}");

    // The same host name (another port) keeps it.
    let landing = landing_on("127.0.0.1:0").await;
    let same_host = redirecting(302, &landing.url("/b")).await;
    to_vhost(same_host.url("/a")).await;
    assert!(only_request(&landing).contains(vhost));
}

#[tokio::test]
async fn r02_another_port_is_another_origin() {
    let target = landing_on("127.0.0.1:0").await;
    let first = redirecting(307, &target.url("/")).await;
    let client = Client::new();
    bounded(with_credentials(&client, &first.url("/")).send())
        .await
        .unwrap();
    let hop = only_request(&target);
    for secret in SECRETS {
        assert!(!hop.contains(secret), "{secret}:\n{hop}");
    }
}

/// An https server whose every answer redirects to `to`.
async fn https_redirecting_to(to: String) -> support::TestServer {
    https_server(ServerOptions {
        handler: handler(move |_| {
            let to = to.clone();
            async move { response(302, &[("location", &to)], "") }
        }),
        ..ServerOptions::default()
    })
    .await
}

#[tokio::test]
async fn r02_https_to_http_strips_credentials_or_is_refused_by_https_only() {
    let plain = landing_on("127.0.0.1:0").await;
    let secure = https_redirecting_to(plain.url("/")).await;

    let client = trusting_test_ca().build().unwrap();
    let resp = bounded(with_credentials(&client, &secure.url("/")).send())
        .await
        .unwrap();
    assert_eq!(resp.url().scheme(), "http");
    let hop = only_request(&plain);
    for secret in SECRETS {
        assert!(!hop.contains(secret), "{secret}:\n{hop}");
    }

    let strict = trusting_test_ca().https_only(true).build().unwrap();
    let started = Instant::now();
    let err = bounded(with_credentials(&strict, &secure.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert!(err.to_string().contains("https_only"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(plain.accepts(), 1, "not a byte more to the http URL");
}

#[tokio::test]
async fn https_only_refuses_http_urls_before_connecting() {
    let plain = landing_on("127.0.0.1:0").await;
    let strict = Client::builder().https_only(true).build().unwrap();
    let err = bounded(strict.get(plain.url("/")).send())
        .await
        .unwrap_err();
    assert!(err.is_builder(), "{err:?}");
    assert!(err.to_string().contains("https_only"), "{err}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(plain.accepts(), 0);
}

#[tokio::test]
async fn r05_a_loop_between_two_hosts_stops_after_exactly_the_limit() {
    // A redirects to B and B to A, for ever. `by_connection` can't know the other's
    // address before both exist, so A sends to a fixed port on 127.0.0.2 that B binds.
    let b_listener = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    let b_port = b_listener.local_addr().unwrap().port();
    drop(b_listener);
    let a = redirecting(302, &format!("http://127.0.0.2:{b_port}/b")).await;
    let a_url = a.url("/a");
    let b = FaultServer::start_on(
        &format!("127.0.0.2:{b_port}"),
        vec![
            Step::Read,
            write(h1_response("302 Found", &[("location", &a_url)], b"")),
            Step::Close,
        ],
    )
    .await;
    let client = Client::builder()
        .redirect(Policy::limited(3))
        .build()
        .unwrap();
    let err = bounded(client.get(a.url("/a")).send()).await.unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert!(err.to_string().contains("after 3"), "{err}");
    // A, B, A, B: the first request and 3 hops, then the 4th redirect is refused.
    assert_eq!(a.requests().len() + b.requests().len(), 4);
    assert_eq!(a.requests().len(), 2);
}

#[tokio::test]
async fn r06_locations_that_must_not_be_followed() {
    let client = Client::new();
    // A URL of another scheme: a builder error (reqwest's kind), nothing sent.
    for to in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "data:text/html,<script>",
        "gopher://127.0.0.1:70/",
    ] {
        let server = redirecting(302, to).await;
        let err = bounded(client.get(server.url("/")).send())
            .await
            .unwrap_err();
        assert!(err.is_builder(), "{to}: {err:?}");
        assert_eq!(server.accepts(), 1, "{to}: no other connection");
    }
    // Not a URL: the 3xx is the answer, its Location there to read (as reqwest).
    for to in ["http://[::1", "http://exa mple.com/"] {
        let server = redirecting(302, to).await;
        let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
        assert_eq!(resp.status(), 302, "{to}");
        assert_eq!(resp.headers()["location"], to);
        assert_eq!(server.accepts(), 1, "{to}: no other connection");
    }
    // No Location, or an empty one: the 3xx itself is the answer.
    for location in [None, Some(""), Some("   ")] {
        let head = match location {
            None => "HTTP/1.1 302 Found\r\ncontent-length: 0\r\n\r\n".to_owned(),
            Some(l) => format!("HTTP/1.1 302 Found\r\nlocation:{l}\r\ncontent-length: 0\r\n\r\n"),
        };
        let server = FaultServer::start(vec![Step::Read, write(head), Step::Close]).await;
        let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
        assert_eq!(resp.status(), 302, "{location:?}");
        assert_eq!(server.requests().len(), 1, "{location:?}: not followed");
    }
    // A Location that is not text: the 3xx too.
    let server = FaultServer::start(vec![
        Step::Read,
        write(b"HTTP/1.1 302 Found\r\nlocation: /caf\xe9\r\ncontent-length: 0\r\n\r\n"),
        Step::Close,
    ])
    .await;
    let resp = bounded(client.get(server.url("/")).send()).await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(server.requests().len(), 1, "not followed");
}

#[tokio::test]
async fn r06_encoded_crlf_and_userinfo_in_a_location_inject_nothing() {
    let target = landing_on("127.0.0.1:0").await;
    let port = target.addr.port();
    for to in [
        format!("http://127.0.0.1:{port}/a%0d%0aInjected:%20yes"),
        format!("http://evil@user@127.0.0.1:{port}/b"),
        format!("http://mallory:pw@127.0.0.1:{port}/c"),
    ] {
        let server = redirecting(302, &to).await;
        let resp = bounded(Client::new().get(server.url("/")).send())
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{to}");
    }
    for hop in target.request_texts() {
        let head = hop.to_ascii_lowercase();
        assert!(!head.contains("\r\ninjected"), "{hop}");
        assert!(
            !head.contains("authorization"),
            "userinfo in a Location is dropped: {hop}"
        );
        assert!(!head.contains("mallory") && !head.contains("evil"), "{hop}");
    }
}

/// Posts "payload" to a server answering `status`, and returns what the next hop got.
async fn after_post(status: u16) -> String {
    let target = landing_on("127.0.0.1:0").await;
    let first = redirecting(status, &target.url("/next")).await;
    let resp = bounded(
        Client::new()
            .post(first.url("/"))
            .header("content-type", "text/plain")
            .body("payload")
            .send(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    only_request(&target).to_ascii_lowercase()
}

#[tokio::test]
async fn r07_303_drops_the_body_and_its_headers_307_308_keep_them() {
    let hop = after_post(303).await;
    assert!(hop.starts_with("get /next "), "{hop}");
    assert!(!hop.contains("content-type"), "{hop}");
    assert!(!hop.contains("content-length: 7"), "{hop}");
    assert!(!hop.contains("payload"), "{hop}");
    for status in [307, 308] {
        let hop = after_post(status).await;
        assert!(hop.starts_with("post /next "), "{status}: {hop}");
        assert!(hop.contains("content-type: text/plain"), "{status}: {hop}");
        assert!(hop.contains("content-length: 7"), "{status}: {hop}");
        assert!(hop.ends_with("\r\n\r\npayload"), "{status}: {hop}");
    }
}

#[tokio::test]
async fn r07_a_301_302_keeping_its_method_never_sends_it_without_its_streamed_body() {
    // 301/302 keep a PUT's method and body; a streamed body is gone after the first hop,
    // so as for 307/308 the redirect goes to the caller rather than an empty PUT.
    for status in [301, 302] {
        let target = landing_on("127.0.0.1:0").await;
        let first = redirecting(status, &target.url("/next")).await;
        let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>("payload")]);
        let resp = bounded(
            Client::new()
                .put(first.url("/"))
                .header("content-type", "text/plain")
                .body(wireline::Body::wrap_stream(chunks))
                .send(),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), status, "returned as-is");
        assert!(
            target.request_texts().is_empty(),
            "{status}: {:?}",
            target.request_texts()
        );
    }
}

#[tokio::test]
async fn r08_the_referer_names_no_credential_fragment_or_cross_origin_path() {
    // Same host, another port: another origin, so the origin alone.
    let target = landing_on("127.0.0.1:0").await;
    let first = redirecting(302, &target.url("/")).await;
    let url = first.url("/page?q=1#frag").replacen("://", "://u:p@", 1);
    bounded(Client::new().get(url.clone()).send())
        .await
        .unwrap();
    let hop = only_request(&target).to_ascii_lowercase();
    assert!(
        hop.contains(&format!("\r\nreferer: {}\r\n", first.url("/"))),
        "{hop}"
    );
    for leak in ["u:p@", "page", "q=1", "frag"] {
        assert!(!hop.contains(leak), "{leak}: {hop}");
    }
    // Within one origin, the whole URL but its credentials and fragment.
    let server = support::http_server(handler(|req| async move {
        match req.uri().path() {
            "/page" => response(302, &[("location", "/next")], ""),
            _ => {
                let referer = req.headers().get("referer");
                let shown = referer.map_or("none", |r| r.to_str().unwrap()).to_owned();
                response(200, &[], shown)
            }
        }
    }))
    .await;
    let url = server.url("/page?q=1#frag").replacen("://", "://u:p@", 1);
    let seen = bounded(async { Client::new().get(url).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(seen, server.url("/page?q=1"));
    // referer(false): none at all.
    let quiet = Client::builder().referer(false).build().unwrap();
    let first = redirecting(302, &target.url("/")).await;
    bounded(quiet.get(first.url("/page")).send()).await.unwrap();
    let hop = target.request_texts().pop().unwrap().to_ascii_lowercase();
    assert!(!hop.contains("referer"), "{hop}");
}

#[tokio::test]
async fn r09_a_redirects_body_is_never_read() {
    // A 302 announcing 100 MiB of gzip, then sending junk as fast as it can: the client
    // must follow at once, not read (or inflate) any of it.
    let target = landing_on("127.0.0.1:0").await;
    let head = format!(
        "HTTP/1.1 302 Found\r\nlocation: {}\r\ncontent-encoding: gzip\r\n\
         content-length: 104857600\r\n\r\n",
        target.url("/")
    );
    let first = FaultServer::start(vec![
        Step::Read,
        write(head),
        Step::Repeat(vec![0x1f; 64 * 1024], 1600),
    ])
    .await;
    let started = Instant::now();
    let text = bounded(async { Client::new().get(first.url("/")).send().await?.text().await })
        .await
        .unwrap();
    assert_eq!(text, "landed");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// A server whose `/N` answers 302 to `/N+1` with a head of about `head_kib` KiB (six
/// large fields), up to `/last`, which answers 200 "landed".
async fn redirecting_with_big_heads(head_kib: usize, last: usize) -> support::TestServer {
    support::http_server(handler(move |req| async move {
        let n: usize = req.uri().path()[1..].parse().unwrap_or(0);
        if n >= last {
            return response(200, &[], "landed");
        }
        let filler = "x".repeat(head_kib * 1024 / 6);
        let location = format!("/{}", n + 1);
        let mut fields = vec![("location", location.as_str())];
        let names = ["x-a", "x-b", "x-c", "x-d", "x-e", "x-f"];
        fields.extend(names.iter().map(|name| (*name, filler.as_str())));
        response(302, &fields, "")
    }))
    .await
}

#[tokio::test]
async fn r10_a_redirect_chain_of_large_heads_stops_at_the_cumulative_cap() {
    // 60 KiB heads each pass the 64 KiB cap on their own; together they pass the chain's
    // 256 KiB (4 × 64 KiB) at the fifth response.
    let server = redirecting_with_big_heads(60, 30).await;
    let client = Client::builder()
        .redirect(Policy::limited(30))
        .build()
        .unwrap();
    let err = bounded(client.get(server.url("/0")).send())
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("the 5 response heads of this redirect chain total ")
            && message.contains(" bytes, over 4 × max_response_header_size (262144): "),
        "{message}"
    );
    assert_eq!(server.requests().len(), 5, "no request after the cap");
    assert_eq!(
        err.url().map(|u| u.path().to_owned()).as_deref(),
        Some("/4")
    );

    // A chain whose heads fit (10 × 20 KiB = 200 KiB) is followed to its end.
    let server = redirecting_with_big_heads(20, 10).await;
    let response = bounded(client.get(server.url("/0")).send()).await.unwrap();
    assert_eq!(response.url().path(), "/10");
    assert_eq!(server.requests().len(), 11);
}

#[tokio::test]
async fn r10_the_chain_cap_follows_max_response_header_size() {
    // Raising the per-head cap raises the chain's: 60 KiB heads × 11 responses fit in
    // 4 × 200 KiB.
    let server = redirecting_with_big_heads(60, 10).await;
    let client = Client::builder()
        .max_response_header_size(200 * 1024)
        .build()
        .unwrap();
    let response = bounded(client.get(server.url("/0")).send()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.requests().len(), 11);
}

#[tokio::test]
async fn r10_ten_hops_of_60_kib_heads_stop_at_the_cap_before_the_redirect_limit() {
    // The shape, with a default client (10 redirects): the heads' cap, not the
    // redirect limit, ends the chain, after 5 of its 11 responses.
    let server = redirecting_with_big_heads(60, 10).await;
    let err = bounded(Client::new().get(server.url("/0")).send())
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("over 4 × max_response_header_size (262144)")
            && message.contains("raise max_response_header_size if you trust it"),
        "{message}"
    );
    assert_eq!(server.requests().len(), 5, "no request after the cap");
}
