//! hyper's connection API (`hyper::client::conn`) under the smallest pool that keeps
//! connections: an idle list of HTTP/1 senders, one shared h2 sender. Not a client anyone
//! should ship (no idle timeout, no per-host keys, no resend of a request a closing
//! connection refused): a floor under any pool, to tell what hyper-util's legacy pool
//! costs per request, and so what a pool of wireline's own could save
//! (docs/performance-profile.md, session 16). The runner does not run it; use it by hand
//! like the other client binaries, e.g. under callgrind.

use std::sync::{Arc, Mutex};

use bench::client::{BenchClient, Got, Library, Settings};
use bench::raw::{self, ReqBody, Upload};
use bench::scenario::Http;
use bench::BoxError;
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::{BodyExt, Either};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::RootCertStore;
use rustls_pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// A connection to send one request on.
enum Sender {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
}

struct Pool {
    tls: TlsConnector,
    h2: bool,
    /// Keep connections (`false`: `newconn`, one connection per request).
    reuse: bool,
    idle: Mutex<Vec<http1::SendRequest<ReqBody>>>,
    shared: Mutex<Option<http2::SendRequest<ReqBody>>>,
    /// One h2 dial at a time, as hyper-util's pool does, so 64 requests at once share one.
    dialing: tokio::sync::Mutex<()>,
}

impl Pool {
    async fn connect(&self, uri: &Uri) -> Result<Sender, BoxError> {
        let host = uri.host().ok_or("the URL has no host")?;
        let tcp = tokio::net::TcpStream::connect((host, uri.port_u16().unwrap_or(443))).await?;
        tcp.set_nodelay(true)?;
        let tls = self
            .tls
            .connect(ServerName::try_from(host.to_owned())?, tcp)
            .await?;
        let io = TokioIo::new(tls);
        if self.h2 {
            let (sender, connection) = http2::handshake(TokioExecutor::new(), io).await?;
            tokio::spawn(connection);
            Ok(Sender::H2(sender))
        } else {
            let (sender, connection) = http1::handshake(io).await?;
            tokio::spawn(connection);
            Ok(Sender::H1(sender))
        }
    }

    fn shared_h2(&self) -> Option<http2::SendRequest<ReqBody>> {
        let shared = self.shared.lock().unwrap();
        shared.as_ref().filter(|s| !s.is_closed()).cloned()
    }

    async fn checkout(&self, uri: &Uri) -> Result<Sender, BoxError> {
        if !self.reuse {
            return self.connect(uri).await;
        }
        if self.h2 {
            if let Some(sender) = self.shared_h2() {
                return Ok(Sender::H2(sender));
            }
            let _dialing = self.dialing.lock().await;
            if let Some(sender) = self.shared_h2() {
                return Ok(Sender::H2(sender));
            }
            let sender = self.connect(uri).await?;
            if let Sender::H2(s) = &sender {
                *self.shared.lock().unwrap() = Some(s.clone());
            }
            return Ok(sender);
        }
        let idle = {
            let mut idle = self.idle.lock().unwrap();
            std::iter::from_fn(|| idle.pop()).find(|s| s.is_ready())
        };
        match idle {
            Some(sender) => Ok(Sender::H1(sender)),
            None => self.connect(uri).await,
        }
    }

    /// Sends `request`; an HTTP/1 connection comes back with the response, to be
    /// [`Pool::put`] back once its body is read.
    async fn send(
        &self,
        mut request: Request<ReqBody>,
    ) -> Result<(Response<Incoming>, Option<http1::SendRequest<ReqBody>>), BoxError> {
        match self.checkout(request.uri()).await? {
            Sender::H1(mut sender) => {
                let uri = request.uri().clone();
                let authority = uri.authority().ok_or("the URL has no host")?;
                let host = HeaderValue::from_str(authority.as_str())?;
                request.headers_mut().insert(HOST, host);
                let path = uri.path_and_query().map_or("/", |p| p.as_str());
                *request.uri_mut() = Uri::try_from(path)?;
                let response = sender.send_request(request).await?;
                Ok((response, Some(sender)))
            }
            Sender::H2(mut sender) => Ok((sender.send_request(request).await?, None)),
        }
    }

    fn put(&self, sender: Option<http1::SendRequest<ReqBody>>) {
        if let Some(sender) = sender.filter(|_| self.reuse) {
            self.idle.lock().unwrap().push(sender);
        }
    }
}

#[derive(Clone)]
struct Floor(Arc<Pool>);

impl BenchClient for Floor {
    async fn get(&self, url: &str) -> Result<Got, BoxError> {
        let (response, sender) = self.0.send(raw::get_request::<false>(url)?).await?;
        let version = response.version();
        let body = response.into_body().collect().await?.to_bytes();
        self.0.put(sender);
        Ok(Got {
            bytes: body.len() as u64,
            version,
        })
    }

    async fn download(&self, url: &str) -> Result<Got, BoxError> {
        let (response, sender) = self.0.send(raw::get_request::<false>(url)?).await?;
        let got = raw::drain(response).await?;
        self.0.put(sender);
        Ok(got)
    }

    async fn upload(&self, url: &str, len: u64) -> Result<Got, BoxError> {
        let request = Request::post(url.parse::<Uri>()?)
            .header(CONTENT_LENGTH, len)
            .body(Either::Right(Upload::new(len)))?;
        let (response, sender) = self.0.send(request).await?;
        let version = response.version();
        let body = response.into_body().collect().await?.to_bytes();
        self.0.put(sender);
        Ok(Got {
            bytes: std::str::from_utf8(&body)?.trim().parse()?,
            version,
        })
    }
}

fn floor(roots: RootCertStore, http: Http, reuse: bool, resumption: bool) -> Floor {
    let mut config = raw::tls_config(roots, resumption);
    let h2 = http == Http::Two;
    config.alpn_protocols = vec![match h2 {
        true => b"h2".to_vec(),
        false => b"http/1.1".to_vec(),
    }];
    Floor(Arc::new(Pool {
        tls: TlsConnector::from(Arc::new(config)),
        h2,
        reuse,
        idle: Mutex::default(),
        shared: Mutex::default(),
        dialing: tokio::sync::Mutex::default(),
    }))
}

struct HyperConn;

impl Library for HyperConn {
    const NAME: &'static str = "hyper-conn";
    type Client = Floor;

    fn build(settings: &Settings) -> Result<Option<Floor>, BoxError> {
        let roots = raw::roots_of(&settings.ca_pem)?;
        Ok(Some(floor(
            roots,
            settings.http,
            settings.reuse,
            settings.resumption,
        )))
    }

    fn new_default() -> Result<Floor, BoxError> {
        Ok(floor(raw::native_roots(), Http::Two, true, true))
    }
}

fn main() {
    bench::client::main::<HyperConn>();
}
