//! Fault matrix S07 and S08: certificate paths only path building can judge. A CA whose
//! name constraints leave out the server's name; a chain of 200 intermediates sharing one
//! subject (path-building DoS); chains whose fault is not the leaf's. The certificates are
//! made here, per test. See docs/reliability.md.

use std::time::{Duration, Instant};

use crate::support::{assert_no_leak, bounded, https_server_with_chain, write_temp, TestServer};
use rcgen::{
    date_time_ymd, BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use wireline::{CertificateErrorKind, Client, ClientBuilder, ErrorKind};

/// A CA made for one test: its certificate and what it signs with.
struct Ca {
    cert: Certificate,
    issuer: Issuer<'static, KeyPair>,
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2100, 1, 1);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

/// A self-signed root named `cn`, with these permitted and excluded DNS subtrees (none:
/// no name constraints extension).
fn root(cn: &str, permitted: &[&str], excluded: &[&str]) -> Ca {
    let mut params = ca_params(cn);
    let subtrees = |names: &[&str]| -> Vec<GeneralSubtree> {
        names
            .iter()
            .map(|n| GeneralSubtree::DnsName(n.to_string()))
            .collect()
    };
    if !permitted.is_empty() || !excluded.is_empty() {
        params.name_constraints = Some(NameConstraints {
            permitted_subtrees: subtrees(permitted),
            excluded_subtrees: subtrees(excluded),
        });
    }
    let key = KeyPair::generate().expect("P-256 key");
    let cert = params.self_signed(&key).expect("root");
    Ca {
        cert,
        issuer: Issuer::new(params, key),
    }
}

fn leaf_params(dns_names: &[&str]) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(dns_names[0]);
    params.subject_alt_names = dns_names
        .iter()
        .map(|n| SanType::DnsName((*n).try_into().expect("IA5 DNS name")))
        .collect();
    params.not_before = date_time_ymd(2025, 1, 1);
    params.not_after = date_time_ymd(2095, 1, 1);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params
}

/// A server presenting a leaf for `dns_names`, issued by `ca`.
async fn server_of(ca: &Ca, dns_names: &[&str]) -> TestServer {
    let key = KeyPair::generate().expect("P-256 key");
    let leaf = leaf_params(dns_names)
        .signed_by(&key, &ca.issuer)
        .expect("leaf");
    https_server_with_chain(vec![leaf.der().clone()], pkcs8(&key)).await
}

fn pkcs8(key: &KeyPair) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()))
}

/// A client that trusts `ca` alone (`ca_file` replaces the system roots).
fn trusting(ca: &Ca) -> ClientBuilder {
    Client::builder().ca_file(write_temp("ca.pem", ca.cert.pem()))
}

async fn get(client: &Client, url: &str) -> wireline::Result<String> {
    bounded(async { client.get(url).send().await?.text().await }).await
}

/// The certificate error `client` gets from `url`: its kind must be `kind`; its message
/// is printed (docs/tls.md quotes them) and returned.
async fn refused(client: &Client, url: &str, kind: CertificateErrorKind) -> String {
    let err = get(client, url).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Certificate(kind), "{err:?}");
    let message = err.to_string();
    println!("{message}");
    message
}

// S07 -------------------------------------------------------------------------------

#[tokio::test]
async fn s07_a_ca_constrained_to_other_names_cannot_vouch_for_localhost() {
    // Permitted example.com only; excluded localhost (and everything else permitted).
    for (permitted, excluded) in [(&["example.com"][..], &[][..]), (&[], &["localhost"])] {
        let ca = root("Constrained Root", permitted, excluded);
        let server = server_of(&ca, &["localhost"]).await;
        let client = trusting(&ca).build().unwrap();
        let message = refused(
            &client,
            &server.url_host("localhost", "/"),
            CertificateErrorKind::NameConstraint,
        )
        .await;
        assert!(
            message.contains("name constraints") && message.contains("localhost"),
            "{message}"
        );
        drop(client);
        assert_no_leak(server.addr, 0).await;
    }

    // The same shape with localhost permitted passes.
    let ca = root("Localhost Root", &["localhost"], &[]);
    let server = server_of(&ca, &["localhost"]).await;
    let client = trusting(&ca).build().unwrap();
    let text = get(&client, &server.url_host("localhost", "/")).await;
    assert!(text.is_ok(), "{text:?}");
}

#[tokio::test]
async fn s07_name_constraints_hold_for_wildcards_even_with_host_checks_off() {
    // The spec's row: a CA for example.com issuing *.evil.com and *.example.com. Neither
    // name resolves here, so the request goes to 127.0.0.1 with host name checks off:
    // name constraints are part of the chain, checked all the same.
    let ca = root("Example Root", &["example.com"], &[]);
    let client = trusting(&ca)
        .danger_accept_invalid_hostnames(true)
        .build()
        .unwrap();

    let evil = server_of(&ca, &["*.evil.com"]).await;
    let message = refused(
        &client,
        &evil.url("/"),
        CertificateErrorKind::NameConstraint,
    )
    .await;
    assert!(message.contains("name constraints"), "{message}");

    let good = server_of(&ca, &["*.example.com"]).await;
    let text = get(&client, &good.url("/")).await;
    assert!(text.is_ok(), "{text:?}");
}

// S08 -------------------------------------------------------------------------------

/// Generous: a hang guard, not a speed requirement.
const HANG_GUARD: Duration = Duration::from_secs(20);

/// Leaf + `n` intermediates, all "CN=Loop CA" issued by "CN=Loop CA" (each signed by its
/// own key), and so is the leaf's issuer: each could extend a path from any other, and none
/// leads to the trusted root. Returns the client's verdict and how long it took.
fn loop_chain_verdict(n: usize) -> (wireline::Error, Duration) {
    let generating = Instant::now();
    let trusted = root("Wireline Paths Root", &[], &[]);
    let loop_params = ca_params("Loop CA");
    let keys: Vec<KeyPair> = (0..n)
        .map(|_| KeyPair::generate().expect("P-256 key"))
        .collect();
    let leaf_key = KeyPair::generate().expect("P-256 key");
    let leaf = leaf_params(&["localhost"])
        .signed_by(&leaf_key, &Issuer::from_params(&loop_params, &keys[0]))
        .expect("leaf");
    let mut chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone()];
    for key in &keys {
        chain.push(loop_params.self_signed(key).expect("loop CA").der().clone());
    }
    let bytes: usize = chain.iter().map(|c| c.len()).sum();
    println!(
        "{n} intermediates: {} certificates, {bytes} bytes, generated in {:?}",
        chain.len(),
        generating.elapsed()
    );

    let (done, verdict) = std::sync::mpsc::channel();
    // The handshake verifies on the runtime's thread, where no timer can interrupt it:
    // the guard is a channel wait on this thread.
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let outcome = runtime.block_on(async {
            let server = https_server_with_chain(chain, pkcs8(&leaf_key)).await;
            let client = trusting(&trusted).build().unwrap();
            let started = Instant::now();
            let result = client.get(server.url_host("localhost", "/")).send().await;
            (result.map(|r| r.status()), started.elapsed())
        });
        let _ = done.send(outcome);
    });
    let (result, took) = verdict
        .recv_timeout(HANG_GUARD)
        .expect("a verdict within the hang guard");
    let err = result.expect_err("no path leads to the trusted root");
    println!("{n} intermediates: verdict in {took:?}: {err}");
    (err, took)
}

#[test]
fn s08_two_hundred_same_subject_intermediates_exceed_the_tls_message_limit() {
    // 200 P-256 certificates take about 73 KB: rustls refuses a handshake message over
    // 64 KiB before any certificate is looked at.
    let (err, _) = loop_chain_verdict(200);
    assert!(err.is_tls() && !err.is_certificate(), "{err:?}");
    assert!(err.to_string().contains("over 64 KiB"), "{err}");
}

#[test]
fn s08_same_subject_intermediates_that_fit_end_at_the_path_building_budget() {
    // 150 fit in one message, so webpki's path building runs: depth-first over every
    // "Loop CA", it stops at its budget of 200,000 steps (or at depth 6).
    let (err, _) = loop_chain_verdict(150);
    assert!(err.is_certificate(), "{err:?}");
    assert!(
        err.to_string().contains("no chain to a trusted root"),
        "{err}"
    );
}

// Chains whose fault is not the leaf's ------------------------------------------------

/// An intermediate CA named `cn` under `issuer`, `edit`ed before signing.
fn intermediate(issuer: &Ca, cn: &str, edit: impl FnOnce(&mut CertificateParams)) -> Ca {
    let mut params = ca_params(cn);
    edit(&mut params);
    let key = KeyPair::generate().expect("P-256 key");
    let cert = params
        .signed_by(&key, &issuer.issuer)
        .expect("intermediate");
    Ca {
        cert,
        issuer: Issuer::new(params, key),
    }
}

/// What a client trusting `root` says of a server for localhost whose chain is a leaf
/// issued by the first of `intermediates` (each issued by the next), then them: an error
/// of `kind`, its message.
async fn chain_refused(root: &Ca, intermediates: &[&Ca], kind: CertificateErrorKind) -> String {
    let key = KeyPair::generate().expect("P-256 key");
    let leaf = leaf_params(&["localhost"])
        .signed_by(&key, &intermediates[0].issuer)
        .expect("leaf");
    let mut chain = vec![leaf.der().clone()];
    chain.extend(intermediates.iter().map(|ca| ca.cert.der().clone()));
    let server = https_server_with_chain(chain, pkcs8(&key)).await;
    let client = trusting(root).build().unwrap();
    let url = server.url_host("localhost", "/");
    refused(&client, &url, kind).await
}

#[tokio::test]
async fn an_expired_intermediate_is_named_not_the_leaf() {
    let root = root("Dated Root", &[], &[]);
    let middle = intermediate(&root, "Lapsed Intermediate", |p| {
        p.not_after = date_time_ymd(2021, 1, 1);
    });
    let message = chain_refused(&root, &[&middle], CertificateErrorKind::Expired).await;
    // The leaf is valid until 2095: the message must blame the intermediate, by name,
    // with its own date.
    assert!(message.contains("CN=Lapsed Intermediate"), "{message}");
    assert!(message.contains("2021-01-01"), "{message}");
    assert!(message.contains("intermediate"), "{message}");
}

#[tokio::test]
async fn a_ca_certificate_presented_as_the_server_certificate_is_explained() {
    // `openssl req -x509` marks its self-signed certificates CA:TRUE by default; webpki
    // refuses a CA certificate as the server's own even when it is trusted.
    let mut params = leaf_params(&["localhost"]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("P-256 key");
    let cert = params.self_signed(&key).expect("self-signed CA leaf");
    let server = https_server_with_chain(vec![cert.der().clone()], pkcs8(&key)).await;
    let client = Client::builder()
        .ca_file(write_temp("ca-as-leaf.pem", cert.pem()))
        .build()
        .unwrap();
    let url = server.url_host("localhost", "/");
    let message = refused(&client, &url, CertificateErrorKind::Other).await;
    assert!(!message.contains("CaUsedAsEndEntity"), "{message}");
    assert!(message.contains("CA:TRUE"), "{message}");
}

#[tokio::test]
async fn a_server_certificate_used_as_a_ca_is_explained() {
    // A server certificate (not a CA) that signed another one: a chain someone made by hand.
    let root = root("Honest Root", &[], &[]);
    let middle_key = KeyPair::generate().expect("P-256 key");
    let middle_params = leaf_params(&["middle.example"]);
    let middle = Ca {
        cert: middle_params
            .clone()
            .signed_by(&middle_key, &root.issuer)
            .expect("leaf"),
        issuer: Issuer::new(middle_params, middle_key),
    };
    let message = chain_refused(&root, &[&middle], CertificateErrorKind::Other).await;
    assert!(!message.contains("EndEntityUsedAsCa"), "{message}");
    assert!(message.contains("not a CA"), "{message}");
}

#[tokio::test]
async fn an_intermediate_below_one_allowing_none_is_explained() {
    // pathLenConstraint 0: this intermediate may sign leaves only, not another CA.
    let root = root("Plain Root", &[], &[]);
    let strict = intermediate(&root, "Strict Intermediate", |p| {
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    });
    let below = intermediate(&strict, "Forbidden Intermediate", |_| {});
    let message = chain_refused(&root, &[&below, &strict], CertificateErrorKind::Other).await;
    assert!(!message.contains("PathLenConstraintViolated"), "{message}");
    assert!(message.contains("pathLenConstraint"), "{message}");
}

#[tokio::test]
async fn an_unknown_critical_extension_is_explained() {
    let root = root("Plain Root", &[], &[]);
    let odd = intermediate(&root, "Odd Intermediate", |p| {
        let mut extension =
            rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
        extension.set_criticality(true);
        p.custom_extensions.push(extension);
    });
    let message = chain_refused(&root, &[&odd], CertificateErrorKind::Other).await;
    assert!(
        !message.contains("UnsupportedCriticalExtension"),
        "{message}"
    );
    assert!(message.contains("extension marked critical"), "{message}");
}

#[tokio::test]
async fn an_unknown_issuer_is_described_by_the_chain_the_server_sent() {
    // The server's chain ends at a CA the client does not trust, with its root sent or not:
    // the leaf's issuer is the intermediate, and the CA not trusted is the one at the top.
    let trusted = root("Trusted Root", &[], &[]);
    let top = root("Untrusted Top CA", &[], &[]);
    let middle = intermediate(&top, "Sent Intermediate", |_| {});
    let issued_by_middle = "certificate for localhost (CN=localhost) is issued by \
                            CN=Sent Intermediate (sent by the server), which is issued by \
                            CN=Untrusted Top CA";

    let with_root = chain_refused(
        &trusted,
        &[&middle, &top],
        CertificateErrorKind::UnknownIssuer,
    )
    .await;
    assert!(
        with_root.contains(&format!(
            "{issued_by_middle} (sent by the server, self-signed); CN=Untrusted Top CA, at \
             the top of this chain, is not among the trusted roots (CA file "
        )),
        "{with_root}"
    );
    assert!(
        with_root.ends_with("or add_root_certificate()."),
        "{with_root}"
    );

    let without_root =
        chain_refused(&trusted, &[&middle], CertificateErrorKind::UnknownIssuer).await;
    assert!(
        without_root.contains(&format!(
            "{issued_by_middle}; CN=Untrusted Top CA, at the top of this chain, is not \
             among the trusted roots (CA file "
        )),
        "{without_root}"
    );
}
