//! reqwest 0.13 with rustls, its crypto provider set to ring like the other two clients.

use std::sync::Arc;

use bench::client::{BenchClient, Got, Library, Settings};
use bench::scenario::Http;
use bench::{payload, BoxError};
use http::header::CONTENT_LENGTH;
use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

#[derive(Clone)]
struct Rq(reqwest::Client);

impl BenchClient for Rq {
    async fn get(&self, url: &str) -> Result<Got, BoxError> {
        let response = self.0.get(url).send().await?;
        let version = response.version();
        let body = response.bytes().await?;
        Ok(Got {
            bytes: body.len() as u64,
            version,
        })
    }

    async fn download(&self, url: &str) -> Result<Got, BoxError> {
        let mut response = self.0.get(url).send().await?;
        let version = response.version();
        let mut bytes = 0;
        while let Some(chunk) = response.chunk().await? {
            bytes += chunk.len() as u64;
        }
        Ok(Got { bytes, version })
    }

    async fn upload(&self, url: &str, len: u64) -> Result<Got, BoxError> {
        let response = self
            .0
            .post(url)
            .header(CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap_stream(payload::stream(len)))
            .send()
            .await?;
        let version = response.version();
        let count = response.text().await?;
        Ok(Got {
            bytes: count.trim().parse()?,
            version,
        })
    }
}

/// reqwest has no switch for resumption, but takes a rustls config of ours: the same one
/// its `tls_certs_only` path would build (webpki roots, ring), with resumption disabled.
fn config_without_resumption(settings: &Settings) -> Result<ClientConfig, BoxError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&settings.ca_pem) {
        roots.add(cert?)?;
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.resumption = Resumption::disabled();
    config.alpn_protocols = match settings.http {
        Http::One => vec![b"http/1.1".to_vec()],
        Http::Two => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    Ok(config)
}

struct Reqwest;

impl Library for Reqwest {
    const NAME: &'static str = "reqwest";
    type Client = Rq;

    fn build(settings: &Settings) -> Result<Option<Rq>, BoxError> {
        let mut builder = reqwest::Client::builder();
        builder = if settings.resumption {
            builder.tls_certs_only([reqwest::Certificate::from_pem(&settings.ca_pem)?])
        } else {
            builder.tls_backend_preconfigured(config_without_resumption(settings)?)
        };
        if settings.http == Http::One {
            builder = builder.http1_only();
        }
        if !settings.reuse {
            builder = builder.pool_max_idle_per_host(0);
        }
        Ok(Some(Rq(builder.build()?)))
    }

    fn new_default() -> Result<Rq, BoxError> {
        Ok(Rq(reqwest::Client::new()))
    }
}

fn main() {
    // reqwest's `rustls` feature would bring aws-lc-rs; ring keeps the crypto identical
    // to wireline's and hyper's, so only the HTTP layers differ.
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("no provider installed yet");
    bench::client::main::<Reqwest>();
}
