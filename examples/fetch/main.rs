//! `fetch`: a small curl built on wireline — one request, the body to stdout, curl's exit codes.
//!
//! ```text
//! cargo run --example fetch -- -i https://example.com/
//! cargo run --example fetch -- --cacert ca.pem -d @form.txt https://127.0.0.1:8443/post
//! cargo run --example fetch -- --cacert ca.pem --cert client.crt --key client.key https://127.0.0.1:8443/
//! cargo run --example fetch -- --pinnedpubkey 'sha256//BASE64' --crlfile ca.crl https://127.0.0.1:8443/
//! cargo run --example fetch -- --retry 3 --timeout 30 https://example.com/
//! cargo run --example fetch -- -x http://user:pass@proxy.example:3128 --noproxy .internal https://example.com/
//! ```

mod args;
mod exit;
mod proxy;
mod show;
mod write_out;

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use wireline::header::{HeaderValue, ACCEPT, CONTENT_TYPE, COOKIE, USER_AGENT};
use wireline::redirect::Policy;
use wireline::retry::{self, Budget};
use wireline::{Client, Method, Request, StatusCode};

use args::{Args, Command, PayloadKind, Source};
use exit::Failure;

const AGENT: &str = concat!("wireline-fetch/", env!("CARGO_PKG_VERSION"));

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match args::parse(std::env::args_os().skip(1)) {
        Ok(Command::Fetch(args)) => args,
        Ok(Command::Help) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("fetch: {message} (see fetch --help)");
            return ExitCode::from(exit::USAGE);
        }
    };
    match run(*args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // One line, whatever the message holds.
            eprintln!("fetch: {}", failure.message.replace('\n', " "));
            ExitCode::from(failure.code)
        }
    }
}

async fn run(args: Args) -> Result<(), Failure> {
    if args.verbose {
        // Shows wireline's own warnings, such as the one `-k` logs.
        tracing_subscriber::fmt()
            .with_writer(io::stderr)
            .with_ansi(io::stderr().is_terminal())
            .with_max_level(tracing::Level::WARN)
            .without_time()
            .with_target(false)
            .init();
    }
    let client = client(&args)?;
    let request = request(&client, &args).await?;
    if args.verbose {
        show::request_trace(&request);
    }
    let mut transfer = write_out::Transfer {
        response: None,
        timings: None,
        size_download: 0,
        url: &args.url,
        insecure: args.insecure,
    };
    let mut resp = match client.execute(request).await {
        Ok(resp) => resp,
        Err(err) => {
            // curl writes -w after a failed transfer too (http_code 000).
            if let Some(format) = &args.write_out {
                transfer.timings = err.timings();
                write_out::write(format, &transfer);
            }
            return Err(err.into());
        }
    };
    let done = respond(&mut resp, &args, &mut transfer.size_download).await;
    if let Some(format) = &args.write_out {
        // Taken after the body: `time_total` covers the whole transfer.
        transfer.timings = resp.timings();
        transfer.response = Some(&resp);
        write_out::write(format, &transfer);
    }
    done
}

/// What follows the response's head: -v's trace, -f's check, the body written out (its
/// size counted in `size_download`).
async fn respond(
    resp: &mut wireline::Response,
    args: &Args,
    size_download: &mut u64,
) -> Result<(), Failure> {
    if args.verbose {
        show::response_trace(resp);
    }
    if args.fail {
        resp.error_for_status_ref()?;
    }
    let mut out = output(args)?;
    write_response(&mut *out, resp, args, size_download).await?;
    out.flush().map_err(write_failure)
}

fn client(args: &Args) -> Result<Client, Failure> {
    let mut builder = Client::builder()
        .danger_accept_invalid_certs(args.insecure)
        // -v shows the TLS version, cipher suite and certificates.
        .tls_info(args.verbose)
        .timings(args.write_out.is_some())
        .redirect(match args.max_redirects {
            0 => Policy::none(),
            n => Policy::limited(n),
        });
    if let Some(path) = &args.cacert {
        builder = builder.ca_file(path);
    }
    if let Some(path) = &args.crlfile {
        builder = builder.add_crls(crls(path)?);
    }
    if !args.pinned_keys.is_empty() {
        // An unparsable URL gets no pins; the request reports it (exit 3).
        if let Some(host) = wireline::Url::parse(&args.url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
        {
            for pin in &args.pinned_keys {
                builder = builder.pin_sha256(&host, pin);
            }
        }
    }
    if let Some(cert) = &args.cert {
        builder = builder.identity(identity(cert, args.key.as_deref())?);
    }
    if let Some(version) = args.tls_min {
        builder = builder.min_tls_version(version);
    }
    if let Some(limit) = args.timeout {
        builder = builder.timeout(limit);
    }
    if let Some(limit) = args.connect_timeout {
        builder = builder.connect_timeout(limit);
    }
    if args.retry > 0 {
        builder = builder.retry(retry_policy(args.retry));
    }
    builder = proxy::configure(builder, args)?;
    builder.build().map_err(|err| {
        // With our settings only the CA file, the client identity and the pins can make
        // build() fail with a builder error; curl has its own code for the first two, and
        // a malformed pin is a usage error.
        let text = err.to_string();
        let unusable_identity = err.is_builder() && text.contains("client identity");
        let bad_pin = err.is_builder() && text.contains("pin_sha256");
        let unusable_ca_file = err.is_builder() && args.cacert.is_some() && !bad_pin;
        let mut failure = Failure::from(err);
        if unusable_identity {
            failure.code = exit::CLIENT_CERT;
        } else if unusable_ca_file {
            failure.code = exit::CA_FILE;
        }
        failure
    })
}

/// `--retry N`: curl's list of transient statuses, and every retry asked for. The budget
/// guards a service's many requests against a failing server; one command line makes
/// one request, whose retries the user counted.
fn retry_policy(retries: u32) -> retry::Policy {
    retry::Policy::default()
        .max_retries(retries)
        .retry_on_status([
            StatusCode::REQUEST_TIMEOUT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::GATEWAY_TIMEOUT,
        ])
        .budget(Budget::unlimited())
}

/// Every CRL of the `--crlfile` PEM file.
fn crls(path: &Path) -> Result<Vec<wireline::CertificateRevocationList>, Failure> {
    let pem = std::fs::read(path).map_err(|e| {
        Failure::new(
            exit::CRL_FILE,
            format!("can't read the CRL file {}: {e}", path.display()),
        )
    })?;
    wireline::CertificateRevocationList::from_pem_bundle(&pem)
        .map_err(|e| Failure::new(exit::CRL_FILE, format!("CRL file {}: {e}", path.display())))
}

/// The `--cert` file, and the `--key` file if given (else the key is in the cert file).
fn identity(cert: &Path, key: Option<&Path>) -> Result<wireline::Identity, Failure> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| {
            Failure::new(
                exit::CLIENT_CERT,
                format!(
                    "can't read the client certificate file {}: {e}",
                    path.display()
                ),
            )
        })
    };
    let cert_pem = read(cert)?;
    let parsed = match key {
        Some(key) => wireline::Identity::from_pem_parts(&cert_pem, &read(key)?),
        None => wireline::Identity::from_pem(&cert_pem),
    };
    parsed.map_err(|e| Failure::new(exit::CLIENT_CERT, e.to_string()))
}

/// The request with curl's defaults: `-d` means POST, `-I` HEAD; `-H` headers win over
/// the content type, `Accept` and `User-Agent` we would set. They are set on the request
/// rather than the client so that `-v` can show every header we send.
async fn request(client: &Client, args: &Args) -> Result<Request, Failure> {
    let has_body = args.payload.is_some() || !args.form.is_empty();
    let method = match &args.method {
        Some(name) => Method::from_bytes(name.as_bytes())
            .map_err(|_| Failure::new(exit::USAGE, format!("{name:?} is not a valid method")))?,
        None if args.head => Method::HEAD,
        None if has_body => Method::POST,
        None => Method::GET,
    };
    let mut builder = client.request(method, &args.url);
    if !args.form.is_empty() {
        builder = builder.multipart(form(&args.form).await?);
    }
    if let Some(cookie) = &args.cookie {
        builder = builder.header(COOKIE, cookie.as_str());
    }
    for (name, value) in &args.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let (content_type, accept) = match args.payload.as_ref().map(|p| p.kind) {
        Some(PayloadKind::Form) => (Some("application/x-www-form-urlencoded"), "*/*"),
        Some(PayloadKind::Json) => (Some("application/json"), "application/json"),
        None => (None, "*/*"),
    };
    let mut request = builder.build()?;
    let headers = request.headers_mut();
    if let Some(content_type) = content_type {
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static(content_type));
    }
    headers
        .entry(ACCEPT)
        .or_insert(HeaderValue::from_static(accept));
    headers
        .entry(USER_AGENT)
        .or_insert(HeaderValue::from_static(AGENT));
    if let Some(payload) = &args.payload {
        *request.body_mut() = Some(read_payload(payload)?.into());
    }
    Ok(request)
}

/// The `-F` fields as a multipart form; file parts are read from disk while sending.
async fn form(fields: &[args::FormField]) -> Result<wireline::multipart::Form, Failure> {
    use wireline::multipart::{Form, Part};
    let mut form = Form::new();
    for field in fields {
        let part = match &field.value {
            Source::Inline(text) => Part::text(text.clone()),
            Source::File(path) => Part::file(path)
                .await
                .map_err(|e| Failure::new(exit::READ_ERROR, e.to_string()))?,
        };
        let part = match &field.mime {
            Some(mime) => part
                .mime_str(mime)
                .map_err(|e| Failure::new(exit::USAGE, format!("-F ;type={mime}: {e}")))?,
            None => part,
        };
        form = form.part(field.name.clone(), part);
    }
    Ok(form)
}

/// The body bytes: `-d` parts joined with `&` as curl does, `--json` parts concatenated.
/// Files are sent unchanged (curl's `-d @FILE` strips newlines; this is `--data-binary`).
fn read_payload(payload: &args::Payload) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    for (index, part) in payload.parts.iter().enumerate() {
        if index > 0 && payload.kind == PayloadKind::Form {
            body.push(b'&');
        }
        match part {
            Source::Inline(text) => body.extend_from_slice(text.as_bytes()),
            Source::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    Failure::new(
                        exit::READ_ERROR,
                        format!("can't read the body from {}: {e}", path.display()),
                    )
                })?;
                body.extend_from_slice(&bytes);
            }
        }
    }
    Ok(body)
}

/// Where the body goes: the `-o` file, created only once there is a response to save,
/// or stdout.
fn output(args: &Args) -> Result<Box<dyn Write>, Failure> {
    match &args.output {
        Some(path) => File::create(path)
            .map(|f| Box::new(f) as Box<dyn Write>)
            .map_err(|e| {
                Failure::new(
                    exit::WRITE_ERROR,
                    format!("can't create {}: {e}", path.display()),
                )
            }),
        None => Ok(Box::new(io::stdout().lock())),
    }
}

/// Writes the head (for `-i`/`-I`) and streams the body chunk by chunk, so memory stays
/// constant whatever the body's size.
async fn write_response(
    out: &mut dyn Write,
    resp: &mut wireline::Response,
    args: &Args,
    written: &mut u64,
) -> Result<(), Failure> {
    if args.include || args.head {
        show::response_head(out, resp).map_err(write_failure)?;
    }
    let progress = progress_bar(args, resp.content_length());
    while let Some(chunk) = resp.chunk().await? {
        out.write_all(&chunk).map_err(write_failure)?;
        *written += chunk.len() as u64;
        if let Some(bar) = &progress {
            bar.inc(chunk.len() as u64);
        }
    }
    if let Some(bar) = progress {
        bar.finish();
    }
    Ok(())
}

/// curl's progress meter, for `-o` only and only on a terminal (it would corrupt a body
/// written to stdout, and garble a log).
fn progress_bar(args: &Args, length: Option<u64>) -> Option<indicatif::ProgressBar> {
    if args.output.is_none() || args.silent || args.verbose || !io::stderr().is_terminal() {
        return None;
    }
    let bar = match length {
        Some(total) => indicatif::ProgressBar::new(total).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("a valid template"),
        ),
        None => indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} {bytes} {bytes_per_sec}")
                .expect("a valid template"),
        ),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    Some(bar)
}

fn write_failure(err: io::Error) -> Failure {
    Failure::new(exit::WRITE_ERROR, format!("can't write the output: {err}"))
}
