//! `bench-hyper-headers` must send what wireline sends on a plain GET, header for header,
//! or the report's wireline ÷ hyper+headers column would not separate the headers' cost
//! from the layer's. A local TLS server records the headers of one GET from each client.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bench::client::{BenchClient, Library, Settings};
use bench::raw::Hyper;
use bench::scenario::Http;
use bench::server::pki;
use bench::BoxError;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Every header of every request the server saw, as (name, value), in arrival order.
type Seen = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// No wait in this test may hang it.
const LIMIT: Duration = Duration::from_secs(20);

/// Serves h1 and h2 over TLS on 127.0.0.1 until the test's runtime ends; returns the URL
/// and the CA's PEM.
async fn recording_server(seen: Seen) -> Result<(String, String), BoxError> {
    let pki = pki::generate()?;
    let ca_pem = pki.ca_pem.clone();
    let acceptor = TlsAcceptor::from(Arc::new(pki.server_config()?));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("https://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), seen.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(move |request: http::Request<Incoming>| {
                    let headers = request
                        .headers()
                        .iter()
                        .map(|(name, value)| {
                            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                            (name.as_str().to_owned(), value)
                        })
                        .collect();
                    seen.lock().unwrap().push(headers);
                    async { Ok::<_, hyper::Error>(http::Response::new(Full::new(Bytes::new()))) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Ok((url, ca_pem))
}

/// The headers of one GET from wireline (configured as `bench-wireline` configures it),
/// from `bench-hyper-headers` and from `bench-hyper`, in that order.
async fn headers_of_one_get(http: Http) -> Result<[Vec<(String, String)>; 3], BoxError> {
    let seen = Seen::default();
    let (url, ca_pem) = recording_server(seen.clone()).await?;
    let dir = std::env::temp_dir().join(format!("bench-default-headers-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let ca_path = dir.join(format!("ca-{}.pem", http.arg()));
    std::fs::write(&ca_path, &ca_pem)?;
    let small = format!("{url}/small");

    let mut builder = wireline::Client::builder().ca_file(&ca_path);
    if http == Http::One {
        builder = builder.http1_only();
    }
    let wireline = builder.build()?;
    let response = tokio::time::timeout(LIMIT, wireline.get(&small).send()).await??;
    assert_eq!(response.version(), http.version());

    let settings = Settings {
        ca_path: ca_path.clone(),
        ca_pem: ca_pem.into_bytes(),
        http,
        reuse: true,
        resumption: true,
    };
    let with_headers = Hyper::<true>::build(&settings)?.expect("raw hyper honours any settings");
    tokio::time::timeout(LIMIT, with_headers.get(&small)).await??;
    let plain = Hyper::<false>::build(&settings)?.expect("raw hyper honours any settings");
    tokio::time::timeout(LIMIT, plain.get(&small)).await??;
    let _ = std::fs::remove_dir_all(&dir);

    let seen = seen.lock().unwrap().clone();
    match <[Vec<(String, String)>; 3]>::try_from(seen) {
        Ok(three) => Ok(three),
        Err(seen) => Err(format!("expected 3 requests, the server saw {seen:?}").into()),
    }
}

async fn check(http: Http) -> Result<(), BoxError> {
    let [wireline, with_headers, plain] = headers_of_one_get(http).await?;
    assert_eq!(
        with_headers,
        wireline,
        "hyper+headers must send wireline's default headers over {}",
        http.label()
    );
    // The neighbour: plain raw hyper sends none of them, so the comparison above has
    // something to tell apart.
    for name in ["user-agent", "accept", "accept-encoding"] {
        assert!(wireline.iter().any(|(n, _)| n == name), "{name} missing");
        assert!(plain.iter().all(|(n, _)| n != name), "{name} sent by hyper");
    }
    Ok(())
}

#[tokio::test]
async fn hyper_headers_sends_what_wireline_sends_over_http1() -> Result<(), BoxError> {
    check(Http::One).await
}

#[tokio::test]
async fn hyper_headers_sends_what_wireline_sends_over_h2() -> Result<(), BoxError> {
    check(Http::Two).await
}
