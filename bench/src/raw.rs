//! Raw hyper, the floor: hyper-util's pooled legacy client + hyper-rustls + http-body-util,
//! nothing on top. Two binaries use it: `bench-hyper` as is, and `bench-hyper-headers`
//! with the default headers wireline sends on every request, so the report can tell what
//! those headers cost from what wireline's layer costs.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, USER_AGENT};
use http::{HeaderValue, Request, Uri};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Either, Empty};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::client::{BenchClient, Got, Library, Settings};
use crate::scenario::Http;
use crate::{payload, BoxError};

/// wireline's default headers as `Client::new()` sends them with its default features
/// (src/client/mod.rs `Settings::default`, plus the `Accept-Encoding` of every coding
/// compiled in, src/response/decode.rs), in the order it sends them. The test
/// `bench/tests/default_headers.rs` checks them against what wireline puts on the wire.
pub const WIRELINE_DEFAULT_HEADERS: [(http::HeaderName, &str); 3] = [
    (USER_AGENT, "wireline/0.1.0"),
    (ACCEPT, "*/*"),
    (ACCEPT_ENCODING, "gzip, deflate, br, zstd"),
];

/// GETs carry no body; uploads carry the static chunks, with no boxing for either.
pub type ReqBody = Either<Empty<Bytes>, Upload>;

/// A raw hyper client; with `HEADERS`, each request also carries
/// [`WIRELINE_DEFAULT_HEADERS`]. A const parameter, so `bench-hyper` compiles to the same
/// code as before the flag existed.
#[derive(Clone)]
pub struct Raw<const HEADERS: bool>(Client<HttpsConnector<HttpConnector>, ReqBody>);

/// `remaining` bytes sent as static 64 KiB chunks.
pub struct Upload {
    remaining: u64,
}

impl Upload {
    /// A body of `len` bytes.
    pub fn new(len: u64) -> Upload {
        Upload { remaining: len }
    }
}

impl http_body::Body for Upload {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let len = self.remaining.min(payload::CHUNK as u64);
        self.remaining -= len;
        Poll::Ready(Some(Ok(Frame::data(payload::chunk(len as usize)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// The rustls configuration of the raw clients: ring, `roots` only, no ALPN yet.
pub fn tls_config(roots: RootCertStore, resumption: bool) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !resumption {
        config.resumption = Resumption::disabled();
    }
    config
}

/// The certificates of a PEM file's bytes, as the only roots.
pub fn roots_of(pem: &[u8]) -> Result<RootCertStore, BoxError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert?)?;
    }
    Ok(roots)
}

/// The machine's roots, as a hand-written `Client::new()` loads them.
pub fn native_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots
}

fn client<const HEADERS: bool>(
    roots: RootCertStore,
    http: Http,
    reuse: bool,
    resumption: bool,
) -> Raw<HEADERS> {
    let config = tls_config(roots, resumption);
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1();
    let https = match http {
        Http::One => https.wrap_connector(tcp),
        Http::Two => https.enable_http2().wrap_connector(tcp),
    };
    let client = Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_max_idle_per_host(if reuse { usize::MAX } else { 0 })
        .build(https);
    Raw(client)
}

/// Reads `response`'s body frame by frame, keeping none of it: a download.
pub async fn drain(response: http::Response<Incoming>) -> Result<Got, BoxError> {
    let version = response.version();
    let mut body = response.into_body();
    let mut bytes = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            bytes += data.len() as u64;
        }
    }
    Ok(Got { bytes, version })
}

/// The headers a careful user of raw hyper adds by hand: static values, no parsing.
fn add_default_headers<const HEADERS: bool>(request: &mut Request<ReqBody>) {
    if HEADERS {
        let headers = request.headers_mut();
        for (name, value) in WIRELINE_DEFAULT_HEADERS {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// A GET of `url` as the raw clients send it; with `HEADERS`, wireline's default headers.
pub fn get_request<const HEADERS: bool>(url: &str) -> Result<Request<ReqBody>, BoxError> {
    let mut request = Request::get(url.parse::<Uri>()?).body(Either::Left(Empty::new()))?;
    add_default_headers::<HEADERS>(&mut request);
    Ok(request)
}

impl<const HEADERS: bool> BenchClient for Raw<HEADERS> {
    async fn get(&self, url: &str) -> Result<Got, BoxError> {
        let response = self.0.request(get_request::<HEADERS>(url)?).await?;
        let version = response.version();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Got {
            bytes: body.len() as u64,
            version,
        })
    }

    async fn download(&self, url: &str) -> Result<Got, BoxError> {
        drain(self.0.request(get_request::<HEADERS>(url)?).await?).await
    }

    async fn upload(&self, url: &str, len: u64) -> Result<Got, BoxError> {
        let mut request = Request::post(url.parse::<Uri>()?)
            .header(CONTENT_LENGTH, len)
            .body(Either::Right(Upload::new(len)))?;
        add_default_headers::<HEADERS>(&mut request);
        let response = self.0.request(request).await?;
        let version = response.version();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Got {
            bytes: std::str::from_utf8(&body)?.trim().parse()?,
            version,
        })
    }
}

/// Raw hyper as a [`Library`]: `Hyper<false>` is `hyper`, `Hyper<true>` is `hyper+headers`.
pub struct Hyper<const HEADERS: bool>;

impl<const HEADERS: bool> Library for Hyper<HEADERS> {
    const NAME: &'static str = if HEADERS { "hyper+headers" } else { "hyper" };
    type Client = Raw<HEADERS>;

    fn build(settings: &Settings) -> Result<Option<Raw<HEADERS>>, BoxError> {
        Ok(Some(client(
            roots_of(&settings.ca_pem)?,
            settings.http,
            settings.reuse,
            settings.resumption,
        )))
    }

    /// What `Client::new()` costs when written by hand: load the system roots, build the
    /// rustls config, the connector and the pool, every time.
    fn new_default() -> Result<Raw<HEADERS>, BoxError> {
        Ok(client(native_roots(), Http::Two, true, true))
    }
}
