//! The seam between the shared loops and one HTTP library: how it builds a client and
//! sends the three kinds of request. Each client binary implements these and calls [`main`].

use std::future::Future;
use std::path::PathBuf;

use crate::cli::Args;
use crate::scenario::Http;
use crate::BoxError;

/// How a client for a run must be configured.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Trust only this CA (PEM file)…
    pub ca_path: PathBuf,
    /// …whose bytes are these.
    pub ca_pem: Vec<u8>,
    pub http: Http,
    /// Keep connections for reuse; `false` opens a new connection per request.
    pub reuse: bool,
    /// Offer TLS session resumption (the libraries' default).
    pub resumption: bool,
}

/// What a request brought back.
#[derive(Clone, Copy, Debug)]
pub struct Got {
    /// Response body bytes read (for uploads: the count the server answered).
    pub bytes: u64,
    pub version: http::Version,
}

/// A built client of one library. Clones share the pool, as they do in every library here.
pub trait BenchClient: Clone + Send + Sync + 'static {
    /// GET `url` and read the whole body.
    fn get(&self, url: &str) -> impl Future<Output = Result<Got, BoxError>> + Send;

    /// GET `url` and read the body chunk by chunk, keeping none of it.
    fn download(&self, url: &str) -> impl Future<Output = Result<Got, BoxError>> + Send;

    /// POST a streamed body of `len` bytes (64 KiB chunks, `Content-Length` set) to `url`
    /// and return the byte count the server answers.
    fn upload(&self, url: &str, len: u64) -> impl Future<Output = Result<Got, BoxError>> + Send;
}

/// One HTTP library under test.
pub trait Library {
    /// The name in results: `wireline`, `reqwest`, `hyper` or `hyper+headers`.
    const NAME: &'static str;
    type Client: BenchClient;

    /// A client as configured by `settings`, or `Ok(None)` when the library has no way to
    /// honour them (reported as "n/a", never approximated).
    fn build(settings: &Settings) -> Result<Option<Self::Client>, BoxError>;

    /// What the library offers as `Client::new()`: system roots, default settings.
    fn new_default() -> Result<Self::Client, BoxError>;
}

/// The whole client binary: parse the CLI, run the scenario on a single-threaded tokio
/// runtime, print one JSON line. Exits non-zero on error.
pub fn main<L: Library>() {
    let args = match Args::from_env() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    // Single-threaded: the process is pinned to one core, and one thread keeps the
    // CPU accounting about the library, not about cross-thread wake-ups.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(crate::measure::run::<L>(&args)) {
        Ok(outcome) => println!("{}", outcome.to_json()),
        Err(e) => {
            eprintln!(
                "bench-{} {} http{}: {e}",
                L::NAME,
                args.scenario,
                args.http.arg()
            );
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::exit(1);
        }
    }
}
