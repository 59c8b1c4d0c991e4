//! The floor: hyper-util's pooled legacy client + hyper-rustls + http-body-util, nothing on top.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bench::client::{BenchClient, Got, Library, Settings};
use bench::scenario::Http;
use bench::{payload, BoxError};
use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{Request, Uri};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Either, Empty};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// GETs carry no body; uploads carry the static chunks, with no boxing for either.
type ReqBody = Either<Empty<Bytes>, Upload>;

#[derive(Clone)]
struct Raw(Client<HttpsConnector<HttpConnector>, ReqBody>);

/// `remaining` bytes sent as static 64 KiB chunks.
struct Upload {
    remaining: u64,
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

fn client(roots: RootCertStore, http: Http, reuse: bool, resumption: bool) -> Raw {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if !resumption {
        config.resumption = Resumption::disabled();
    }
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

fn get_request(url: &str) -> Result<Request<ReqBody>, BoxError> {
    Ok(Request::get(url.parse::<Uri>()?).body(Either::Left(Empty::new()))?)
}

impl BenchClient for Raw {
    async fn get(&self, url: &str) -> Result<Got, BoxError> {
        let response = self.0.request(get_request(url)?).await?;
        let version = response.version();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Got {
            bytes: body.len() as u64,
            version,
        })
    }

    async fn download(&self, url: &str) -> Result<Got, BoxError> {
        let response = self.0.request(get_request(url)?).await?;
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

    async fn upload(&self, url: &str, len: u64) -> Result<Got, BoxError> {
        let request = Request::post(url.parse::<Uri>()?)
            .header(CONTENT_LENGTH, len)
            .body(Either::Right(Upload { remaining: len }))?;
        let response = self.0.request(request).await?;
        let version = response.version();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Got {
            bytes: std::str::from_utf8(&body)?.trim().parse()?,
            version,
        })
    }
}

struct Hyper;

impl Library for Hyper {
    const NAME: &'static str = "hyper";
    type Client = Raw;

    fn build(settings: &Settings) -> Result<Option<Raw>, BoxError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&settings.ca_pem) {
            roots.add(cert?)?;
        }
        Ok(Some(client(
            roots,
            settings.http,
            settings.reuse,
            settings.resumption,
        )))
    }

    /// What `Client::new()` costs when written by hand: load the system roots, build the
    /// rustls config, the connector and the pool, every time.
    fn new_default() -> Result<Raw, BoxError> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        Ok(client(roots, Http::Two, true, true))
    }
}

fn main() {
    bench::client::main::<Hyper>();
}
