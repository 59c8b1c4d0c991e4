//! A tour of wireline's TLS checks against HTTPS servers it starts on 127.0.0.1: the ways
//! to trust a server, then one explained error for each way a check can fail.
//!
//! Needs no network: it makes a throwaway PKI with rcgen (`pki.rs`), serves HTTPS with each
//! of its certificates (`server.rs`), and sends one request per step, printing what
//! happens and why. Each step's outcome is checked too: the tour exits non-zero when one
//! is not what the step shows, so CI's run of it is a test.
//!
//! ```text
//! cargo run --example tour
//! ```

mod pki;
mod server;

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use rustls::version::{TLS12, TLS13};
use wireline::{
    CertificateErrorKind, CertificateRevocationList, Client, ClientBuilder, ErrorKind,
    TlsErrorKind, TlsVersion,
};

use pki::Pki;

type Failure = Box<dyn std::error::Error>;

/// Every request of the tour is local and small: nothing should take this long.
const LIMIT: Duration = Duration::from_secs(5);

/// What the servers answer.
const ANSWER: &str = "hello from the tour server\n";

/// What a step must show.
enum Expect {
    /// A 200 with the server's text.
    Answer,
    /// An error of one of these kinds, its message holding this text.
    Error(&'static [ErrorKind], &'static str),
}

/// The steps whose outcome was not what they show, in words.
#[derive(Default)]
struct Checks {
    failed: Vec<String>,
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    // wireline reports `danger_accept_invalid_certs` with a `tracing` warning; show it
    // inline with the narration.
    tracing_subscriber::fmt()
        .with_writer(std::io::stdout)
        .with_ansi(std::io::stdout().is_terminal())
        .with_max_level(tracing::Level::WARN)
        .without_time()
        .with_target(false)
        .init();

    println!("wireline tour: how a server's certificate is checked, all on 127.0.0.1\n");
    let dir = std::env::temp_dir().join(format!("wireline-tour-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut checks = Checks::default();
    let result = tour(&dir, &mut checks).await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    if checks.failed.is_empty() {
        println!("Every step behaved as shown.");
        return Ok(());
    }
    for failure in &checks.failed {
        eprintln!("tour check failed: {failure}");
    }
    Err(format!(
        "{} step(s) of the tour behaved otherwise",
        checks.failed.len()
    )
    .into())
}

async fn tour(dir: &Path, checks: &mut Checks) -> Result<(), Failure> {
    let pki = Pki::new()?;
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &pki.root_pem)?;
    let other_ca_file = dir.join("other-ca.pem");
    std::fs::write(&other_ca_file, &pki.other_root_pem)?;
    let trusting_ca = || Client::builder().ca_file(&ca_file).timeout(LIMIT);
    let both = [&TLS13, &TLS12];

    let good = server::https(&pki.good, &both).await?;
    println!(
        "Made a root CA \"wireline tour root CA\" (written to {}), an intermediate CA under it,",
        ca_file.display()
    );
    println!("and server certificates from the intermediate. Server A at {good} shows a good");
    println!("one for 127.0.0.1, with the intermediate.\n");

    println!("== Ways to trust a server ==\n");

    println!("1. System roots: Client::new(), the default.");
    println!("   Our CA is not among this machine's roots, so the request must fail:");
    // Client::new() never fails: with no system roots, the request says so instead.
    let outcome = Client::new().get(&good).timeout(LIMIT).send().await;
    let untrusted = &[
        ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer),
        ErrorKind::Tls(TlsErrorKind::NoTrustedRoots),
    ];
    // Which of the two depends on the machine: the message names the system roots either way.
    checks
        .show(outcome, Expect::Error(untrusted, "system"))
        .await;

    println!("2. A CA file: Client::builder().ca_file(\"ca.pem\") (curl --cacert).");
    println!("   Only that CA is trusted, and it is at the top of the server's chain:");
    checks
        .show(send(trusting_ca(), &good).await, Expect::Answer)
        .await;

    println!("3. Verification off: .danger_accept_invalid_certs(true) (curl -k).");
    println!("   Any certificate passes, and wireline logs a warning when the client is built:");
    let insecure = Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(LIMIT);
    checks
        .show(send(insecure, &good).await, Expect::Answer)
        .await;

    println!("4. A pinned public key: .pin_sha256(\"127.0.0.1\", pin) (curl --pinnedpubkey).");
    println!("   On top of the CA file, only this key is accepted for 127.0.0.1:");
    println!("   pin = sha256//{}", pki.good.pin());
    let pinned = trusting_ca().pin_sha256("127.0.0.1", &pki.good.pin());
    checks.show(send(pinned, &good).await, Expect::Answer).await;

    println!("5. A revocation list: .add_crl(CertificateRevocationList::from_pem(crl)?) (curl --crlfile).");
    println!("   The intermediate's CRL revokes another certificate, not server A's:");
    let crl = || CertificateRevocationList::from_pem(pki.crl_pem.as_bytes());
    checks
        .show(
            send(trusting_ca().add_crl(crl()?), &good).await,
            Expect::Answer,
        )
        .await;

    println!("== Each failed check, explained ==");
    println!("Every client below trusts ca.pem unless it says otherwise.\n");

    println!("Unknown issuer: a client that trusts only \"some other CA\", against server A.");
    let other = Client::builder().ca_file(&other_ca_file).timeout(LIMIT);
    let says = "is issued by CN=wireline tour intermediate CA (sent by the server), which is \
                issued by CN=wireline tour root CA;";
    let unknown = &[ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer)];
    checks
        .show(send(other, &good).await, Expect::Error(unknown, says))
        .await;

    println!("Self-signed: a server whose certificate is signed by its own key.");
    let url = server::https(&pki.self_signed, &both).await?;
    let kinds = &[ErrorKind::Certificate(CertificateErrorKind::SelfSigned)];
    checks
        .show(
            send(trusting_ca(), &url).await,
            Expect::Error(kinds, "self-signed"),
        )
        .await;

    println!("Incomplete chain: a server that sends its certificate without the intermediate.");
    let url = server::https(&pki.sent_alone, &both).await?;
    let kinds = &[ErrorKind::Certificate(CertificateErrorKind::UnknownIssuer)];
    checks
        .show(
            send(trusting_ca(), &url).await,
            Expect::Error(kinds, "The server sent no intermediate certificate"),
        )
        .await;

    println!("Expired: a certificate that was valid in 2020.");
    let url = server::https(&pki.expired, &both).await?;
    let kinds = &[ErrorKind::Certificate(CertificateErrorKind::Expired)];
    checks
        .show(
            send(trusting_ca(), &url).await,
            Expect::Error(kinds, "expired on 2021-01-01"),
        )
        .await;

    println!("Not yet valid: a certificate valid from 2090.");
    let url = server::https(&pki.not_yet_valid, &both).await?;
    let kinds = &[ErrorKind::Certificate(CertificateErrorKind::NotYetValid)];
    checks
        .show(
            send(trusting_ca(), &url).await,
            Expect::Error(kinds, "not valid until 2090-01-01"),
        )
        .await;

    println!("Name mismatch: a certificate for www.example.com, reached as 127.0.0.1.");
    let url = server::https(&pki.wrong_name, &both).await?;
    let kinds = &[ErrorKind::Certificate(CertificateErrorKind::NameMismatch)];
    checks
        .show(
            send(trusting_ca(), &url).await,
            Expect::Error(kinds, "valid only for www.example.com"),
        )
        .await;

    println!("Pin mismatch: server A, with another certificate's key pinned for 127.0.0.1.");
    let pinned = trusting_ca().pin_sha256("127.0.0.1", &pki.revoked.pin());
    let mismatch = &[ErrorKind::Certificate(CertificateErrorKind::PinMismatch)];
    checks
        .show(
            send(pinned, &good).await,
            Expect::Error(mismatch, "not among the pins"),
        )
        .await;

    println!("Revoked: a server whose certificate the intermediate's CRL lists.");
    let url = server::https(&pki.revoked, &both).await?;
    let revoked = &[ErrorKind::Certificate(CertificateErrorKind::Revoked)];
    let outcome = send(trusting_ca().add_crl(crl()?), &url).await;
    checks
        .show(outcome, Expect::Error(revoked, "revoked"))
        .await;

    println!("Version below the minimum: .min_tls_version(TlsVersion::TLS_1_3), against a");
    println!("server that speaks only TLS 1.2.");
    let url = server::https(&pki.good, &[&TLS12]).await?;
    let strict = trusting_ca().min_tls_version(TlsVersion::TLS_1_3);
    let version = &[ErrorKind::Tls(TlsErrorKind::ProtocolVersion)];
    checks
        .show(send(strict, &url).await, Expect::Error(version, "TLS"))
        .await;

    println!("Not TLS at all: an https:// URL for a plain-HTTP port.");
    let url = server::plain_http_as_https().await?;
    let not_tls = &[ErrorKind::Tls(TlsErrorKind::Protocol)];
    checks
        .show(
            send(trusting_ca(), &url).await,
            Expect::Error(not_tls, "TLS"),
        )
        .await;

    println!("That's the tour. docs/tls.md explains each setting and how to read the errors.");
    Ok(())
}

/// Builds the client and sends one GET; a settings error counts as the step's outcome.
async fn send(builder: ClientBuilder, url: &str) -> wireline::Result<wireline::Response> {
    builder.build()?.get(url).send().await
}

impl Checks {
    /// Prints the outcome of one step, the answer or the error's kind and its full
    /// message, and records it as failed unless it is what `expect` says.
    async fn show(&mut self, outcome: wireline::Result<wireline::Response>, expect: Expect) {
        let failure = match (outcome, expect) {
            (Ok(resp), expect) => {
                let head = format!("{} over {:?}", resp.status(), resp.version());
                let status = resp.status();
                match resp.text().await {
                    Ok(text) => {
                        println!("   -> {head}: {text:?}");
                        match expect {
                            Expect::Answer if status == 200 && text == ANSWER => None,
                            Expect::Answer => Some(format!("{head}: {text:?}, not the answer")),
                            Expect::Error(kinds, _) => {
                                Some(format!("{head}: an answer, not an error of {kinds:?}"))
                            }
                        }
                    }
                    Err(e) => {
                        println!("   -> {head}, then reading the body failed: {e}");
                        Some(format!("{head}, then reading the body failed: {e}"))
                    }
                }
            }
            (Err(e), expect) => {
                println!("   -> error, kind {:?}:", e.kind());
                println!("      {e}");
                match expect {
                    Expect::Error(kinds, says)
                        if kinds.contains(&e.kind()) && e.to_string().contains(says) =>
                    {
                        None
                    }
                    Expect::Error(kinds, says) => Some(format!(
                        "error of kind {:?}, not one of {kinds:?} saying {says:?}: {e}",
                        e.kind()
                    )),
                    Expect::Answer => Some(format!("an error, not the answer: {e}")),
                }
            }
        };
        if let Some(failure) = failure {
            println!("   !! not what this step shows: {failure}");
            self.failed.push(failure);
        }
        println!();
    }
}
