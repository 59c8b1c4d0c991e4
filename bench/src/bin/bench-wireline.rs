//! wireline, driven through its public API only.

use bench::client::{BenchClient, Got, Library, Settings};
use bench::scenario::Http;
use bench::{payload, BoxError};
use http::header::CONTENT_LENGTH;

impl BenchClient for Wl {
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
            .body(wireline::Body::wrap_stream(payload::stream(len)))
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

#[derive(Clone)]
struct Wl(wireline::Client);

struct Wireline;

impl Library for Wireline {
    const NAME: &'static str = "wireline";
    type Client = Wl;

    fn build(settings: &Settings) -> Result<Option<Wl>, BoxError> {
        let mut builder = wireline::Client::builder()
            .ca_file(&settings.ca_path)
            .tls_session_resumption(settings.resumption);
        if settings.http == Http::One {
            builder = builder.http1_only();
        }
        if !settings.reuse {
            builder = builder.pool_max_idle_per_host(0);
        }
        Ok(Some(Wl(builder.build()?)))
    }

    fn new_default() -> Result<Wl, BoxError> {
        Ok(Wl(wireline::Client::new()))
    }
}

fn main() {
    bench::client::main::<Wireline>();
}
