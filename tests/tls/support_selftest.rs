//! Proves tests/support on its own, with tokio-rustls and hyper clients only (no wireline):
//! each server negotiates what it claims and each fault fails the way it claims. In the tls
//! binary because most of what it proves is the PKI and the TLS servers.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::support;
use crate::support::{
    binary_body, echo_router, h1_response, https_server, pki, raw_server, temp_path, write_temp,
    Alpn, CrlSigner, Leaf, ServerOptions, TestServer, Versions,
};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::{
    AlertDescription, CertRevocationListError, CertificateError, ClientConfig, Error as TlsError,
    PeerIncompatible, ProtocolVersion, SupportedProtocolVersion,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use x509_parser::extensions::GeneralName;

/// No step of any test here may take longer.
const BOUND: Duration = Duration::from_secs(5);

const BOTH: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];
const TLS12: &[&SupportedProtocolVersion] = &[&rustls::version::TLS12];
const TLS13: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.expect("bounded")
}

fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    with_identity: bool,
) -> ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(pki().root_store());
    let mut config = if with_identity {
        builder
            .with_client_auth_cert(pki().client_chain_der(), pki().client_key_der())
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

async fn connect(
    server: &TestServer,
    name: &str,
    config: ClientConfig,
) -> io::Result<TlsStream<TcpStream>> {
    connect_to(server.addr, name, Arc::new(config)).await
}

async fn connect_to(
    addr: std::net::SocketAddr,
    name: &str,
    config: Arc<ClientConfig>,
) -> io::Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    bounded(async {
        let tcp = TcpStream::connect(addr).await?;
        TlsConnector::from(config).connect(name, tcp).await
    })
    .await
}

/// The rustls error tokio-rustls wrapped in an io::Error.
fn tls_error(err: &io::Error) -> &TlsError {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsError>())
        .unwrap_or_else(|| panic!("not a rustls error: {err:?}"))
}

/// Sends one request over a fresh hyper connection on `io` and collects the response.
async fn send_one<I>(io: I, h2: bool, req: Request<Full<Bytes>>) -> Response<Bytes>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    bounded(async {
        let io = TokioIo::new(io);
        let resp = if h2 {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
            tokio::spawn(conn);
            sender.send_request(req).await.unwrap()
        } else {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            sender.send_request(req).await.unwrap()
        };
        let (parts, body) = resp.into_parts();
        Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
    })
    .await
}

fn get(uri: &str) -> Request<Full<Bytes>> {
    Request::get(uri).body(Full::default()).unwrap()
}

fn json(resp: &Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(resp.body()).unwrap()
}

#[test]
fn every_leaf_verifies_as_designed() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(pki().root_store()), provider)
            .build()
            .unwrap();
    let verify = |leaf: Leaf, name: &str| {
        let chain = pki().chain_der(leaf);
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier
            .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
            .map(|_| ())
    };
    for name in ["127.0.0.1", "::1", "localhost"] {
        verify(Leaf::Valid, name).unwrap();
    }
    for leaf in Leaf::ALL {
        let result = verify(leaf, "127.0.0.1");
        println!("{leaf:?} for 127.0.0.1: {result:?}");
        let ok = match leaf {
            // Nothing revokes it until a CRL is given.
            Leaf::Valid | Leaf::Revoked => result.is_ok(),
            Leaf::Expired => matches!(
                result,
                Err(TlsError::InvalidCertificate(
                    CertificateError::ExpiredContext { .. }
                ))
            ),
            Leaf::NotYetValid => matches!(
                result,
                Err(TlsError::InvalidCertificate(
                    CertificateError::NotValidYetContext { .. }
                ))
            ),
            Leaf::WrongHost | Leaf::CnOnly | Leaf::DnsSanIp => matches!(
                result,
                Err(TlsError::InvalidCertificate(
                    CertificateError::NotValidForNameContext { .. }
                ))
            ),
            Leaf::SelfSigned | Leaf::UnknownCa | Leaf::NoIntermediate => matches!(
                result,
                Err(TlsError::InvalidCertificate(
                    CertificateError::UnknownIssuer
                ))
            ),
        };
        assert!(ok, "{leaf:?}: {result:?}");
    }
    // A name-only leaf is fine for the name it carries.
    verify(Leaf::DnsSanIp, "localhost").unwrap_err();
    let wrong = pki().chain_der(Leaf::WrongHost);
    let name = ServerName::try_from("wrong.example.com").unwrap();
    verifier
        .verify_server_cert(&wrong[0], &wrong[1..], &name, &[], UnixTime::now())
        .unwrap();
}

#[test]
fn crls_revoke_what_they_list_as_rustls_sees_it() {
    // rustls' own verifier, strict: every certificate of the chain needs a known status.
    let verify = |leaf: Leaf, crls: &[String]| {
        let crls = crls.iter().map(|pem| {
            CertificateRevocationListDer::from_pem_slice(pem.as_bytes()).expect("CRL PEM")
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(pki().root_store()), provider)
                .with_crls(crls)
                .build()
                .unwrap();
        let chain = pki().chain_der(leaf);
        let name = ServerName::try_from("127.0.0.1").unwrap();
        verifier
            .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
            .map(|_| ())
    };
    let revoked_leaf = pki().leaf_der(Leaf::Revoked);
    let intermediate = pki().intermediate_der.as_slice();
    let nothing = pki().crl_pem(CrlSigner::Root, &[]);
    let revoking_leaf = pki().crl_pem(CrlSigner::Intermediate, &[&revoked_leaf]);
    let revoking_intermediate = pki().crl_pem(CrlSigner::Root, &[intermediate]);
    let impostor = pki().crl_pem(CrlSigner::IntermediateImpostor, &[]);

    let revoking_none = pki().crl_pem(CrlSigner::Intermediate, &[]);
    verify(Leaf::Revoked, &[nothing.clone(), revoking_none.clone()]).unwrap();
    let revoked = Err(TlsError::InvalidCertificate(CertificateError::Revoked));
    assert_eq!(
        verify(Leaf::Revoked, &[nothing.clone(), revoking_leaf]),
        revoked
    );
    assert_eq!(
        verify(Leaf::Valid, &[revoking_intermediate, revoking_none]),
        revoked
    );
    assert_eq!(
        verify(Leaf::Valid, &[nothing, impostor]),
        Err(TlsError::InvalidCertRevocationList(
            CertRevocationListError::BadSignature
        ))
    );
}

#[test]
fn spki_pins_hash_the_certificates_public_key() {
    use base64::Engine as _;
    for leaf in [Leaf::Valid, Leaf::Revoked, Leaf::SelfSigned] {
        let der = pki().leaf_der(leaf);
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, cert.public_key().raw);
        let expected = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(pki().spki_sha256(leaf), expected, "{leaf:?}");
    }
    assert_ne!(
        pki().spki_sha256(Leaf::Valid),
        pki().spki_sha256(Leaf::Revoked)
    );
}

#[test]
fn certificates_carry_the_intended_fields() {
    let parse = |der: &[u8]| -> (String, String, Vec<String>, i32, i32) {
        let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
        let cn = |name: &x509_parser::x509::X509Name| {
            name.iter_common_name()
                .next()
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        };
        let sans = match cert.subject_alternative_name().unwrap() {
            None => vec![],
            Some(ext) => ext
                .value
                .general_names
                .iter()
                .map(|n| match n {
                    GeneralName::DNSName(d) => format!("dns:{d}"),
                    GeneralName::IPAddress(ip) => format!("ip:{}", ip.len()),
                    other => format!("{other:?}"),
                })
                .collect(),
        };
        let validity = cert.validity();
        (
            cn(cert.subject()),
            cn(cert.issuer()),
            sans,
            validity.not_before.to_datetime().year(),
            validity.not_after.to_datetime().year(),
        )
    };
    let leaf = |l| parse(&pki().leaf_der(l));

    let (_, issuer, sans, _, _) = leaf(Leaf::Valid);
    assert_eq!(issuer, "Wireline Test Intermediate");
    assert_eq!(sans, ["dns:localhost", "ip:4", "ip:16"]);
    assert_eq!(leaf(Leaf::Expired).3..=leaf(Leaf::Expired).4, 2025..=2026);
    assert_eq!(leaf(Leaf::NotYetValid).3, 2099);
    assert_eq!(leaf(Leaf::WrongHost).2, ["dns:wrong.example.com"]);
    let (subject, issuer, ..) = leaf(Leaf::SelfSigned);
    assert_eq!(
        (subject.as_str(), issuer.as_str()),
        ("self-signed.test", "self-signed.test")
    );
    assert_eq!(leaf(Leaf::UnknownCa).1, "Other Test Root");
    assert_eq!(leaf(Leaf::NoIntermediate).1, "Wireline Test Intermediate");
    let (subject, _, sans, ..) = leaf(Leaf::CnOnly);
    assert_eq!((subject.as_str(), sans.len()), ("127.0.0.1", 0));
    assert_eq!(leaf(Leaf::DnsSanIp).2, ["dns:127.0.0.1"]);
    assert_eq!(parse(&pki().intermediate_der).1, "Wireline Test Root");
    assert_eq!(parse(&pki().other_root_der).0, "Other Test Root");

    // What a server sends after the leaf.
    assert_eq!(pki().chain_der(Leaf::Valid).len(), 2);
    assert_eq!(pki().chain_der(Leaf::NoIntermediate).len(), 1);
    assert_eq!(pki().chain_der(Leaf::SelfSigned).len(), 1);
    assert_eq!(
        pki().chain_der(Leaf::UnknownCa)[1].as_ref(),
        pki().other_root_der
    );

    // The PEM forms parse back to the same DER.
    let root = CertificateDer::from_pem_slice(pki().root_pem.as_bytes()).unwrap();
    assert_eq!(root.as_ref(), pki().root_der);
    assert_eq!(pki().ca_bundle_pem(), pki().root_pem);
    let chain: Vec<_> = CertificateDer::pem_slice_iter(pki().chain_pem(Leaf::Valid).as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(chain, pki().chain_der(Leaf::Valid));
    let identity = pki().client_identity_pem();
    let certs: Vec<_> = CertificateDer::pem_slice_iter(identity.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(certs, pki().client_chain_der());
    assert!(matches!(
        PrivateKeyDer::from_pem_slice(identity.as_bytes()).unwrap(),
        PrivateKeyDer::Pkcs8(_)
    ));
    let (_, client) = x509_parser::parse_x509_certificate(&certs[0]).unwrap();
    assert!(
        client
            .extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .client_auth
    );
}

#[tokio::test]
async fn versions_and_alpn_are_negotiated() {
    for (versions, expected) in [
        (Versions::Tls12Only, ProtocolVersion::TLSv1_2),
        (Versions::Tls13Only, ProtocolVersion::TLSv1_3),
        (Versions::Both, ProtocolVersion::TLSv1_3),
    ] {
        let server = https_server(ServerOptions {
            versions,
            ..ServerOptions::default()
        })
        .await;
        let stream = connect(&server, "127.0.0.1", client_config(BOTH, false))
            .await
            .unwrap();
        let session = stream.get_ref().1;
        assert_eq!(session.protocol_version(), Some(expected), "{versions:?}");
        assert_eq!(session.alpn_protocol(), Some(&b"h2"[..]));
        let resp = send_one(stream, true, get(&server.url("/echo"))).await;
        assert_eq!(json(&resp)["version"], "HTTP/2.0");
    }
    // A TLS 1.3-only client can't talk to a TLS 1.2-only server.
    let old = https_server(ServerOptions {
        versions: Versions::Tls12Only,
        ..ServerOptions::default()
    })
    .await;
    let err = connect(&old, "127.0.0.1", client_config(TLS13, false))
        .await
        .unwrap_err();
    println!("TLS 1.3 client, TLS 1.2 server: {:?}", tls_error(&err));
    assert_eq!(
        tls_error(&err),
        &TlsError::AlertReceived(AlertDescription::ProtocolVersion)
    );

    for (alpn, expected) in [(Alpn::H1Only, Some(&b"http/1.1"[..])), (Alpn::None, None)] {
        let server = https_server(ServerOptions {
            alpn,
            ..ServerOptions::default()
        })
        .await;
        let stream = connect(&server, "localhost", client_config(TLS12, false))
            .await
            .unwrap();
        assert_eq!(stream.get_ref().1.alpn_protocol(), expected, "{alpn:?}");
        let req = Request::get("/echo")
            .header("host", "localhost")
            .body(Full::default())
            .unwrap();
        let resp = send_one(stream, false, req).await;
        assert_eq!(json(&resp)["version"], "HTTP/1.1");
        assert_eq!(
            server.url_host("localhost", "x"),
            format!("https://localhost:{}/x", server.addr.port())
        );
    }
}

#[tokio::test]
async fn bad_leaves_fail_in_the_handshake() {
    for (leaf, name) in [(Leaf::Expired, "127.0.0.1"), (Leaf::WrongHost, "localhost")] {
        let server = https_server(ServerOptions {
            leaf,
            ..ServerOptions::default()
        })
        .await;
        let err = connect(&server, name, client_config(BOTH, false))
            .await
            .unwrap_err();
        let err = tls_error(&err);
        println!("{leaf:?} over the wire: {err:?}");
        match leaf {
            Leaf::Expired => assert!(matches!(
                err,
                TlsError::InvalidCertificate(CertificateError::ExpiredContext { .. })
            )),
            _ => assert!(matches!(
                err,
                TlsError::InvalidCertificate(CertificateError::NotValidForNameContext { .. })
            )),
        }
        if leaf == Leaf::WrongHost {
            // The server survives a failed handshake and serves the next client.
            let stream = connect(&server, "wrong.example.com", client_config(BOTH, false))
                .await
                .unwrap();
            let resp = send_one(stream, true, get("https://wrong.example.com/")).await;
            assert_eq!(resp.body().as_ref(), b"hello");
            assert_eq!(server.accepts(), 2);
        }
    }
}

#[tokio::test]
async fn incompatible_cipher_suites_fail_with_handshake_failure() {
    let server = https_server(ServerOptions {
        cipher_suites_incompatible: true,
        ..ServerOptions::default()
    })
    .await;
    let err = connect(&server, "127.0.0.1", client_config(BOTH, false))
        .await
        .unwrap_err();
    println!("cipher_suites_incompatible: {:?}", tls_error(&err));
    assert_eq!(
        tls_error(&err),
        &TlsError::AlertReceived(AlertDescription::HandshakeFailure)
    );
    // Still alive after the failure: a second attempt fails the same way.
    let err = connect(&server, "127.0.0.1", client_config(TLS12, false))
        .await
        .unwrap_err();
    assert_eq!(
        tls_error(&err),
        &TlsError::AlertReceived(AlertDescription::HandshakeFailure)
    );
    assert_eq!(server.accepts(), 2);
}

#[tokio::test]
async fn wrong_key_fails_the_signature_check() {
    for versions in [Versions::Tls13Only, Versions::Tls12Only] {
        let server = https_server(ServerOptions {
            wrong_key: true,
            versions,
            ..ServerOptions::default()
        })
        .await;
        let err = connect(&server, "127.0.0.1", client_config(BOTH, false))
            .await
            .unwrap_err();
        let err = tls_error(&err);
        println!("wrong_key, {versions:?}: {err:?}");
        assert_eq!(
            err,
            &TlsError::InvalidCertificate(CertificateError::BadSignature),
            "{versions:?}"
        );
    }
}

#[tokio::test]
async fn tls_alert_server_sends_the_alert() {
    let server = support::tls_alert_server(70).await;
    let err = connect_to(
        server.addr,
        "127.0.0.1",
        Arc::new(client_config(BOTH, false)),
    )
    .await
    .unwrap_err();
    println!("tls_alert_server(70): {:?}", tls_error(&err));
    assert_eq!(
        tls_error(&err),
        &TlsError::AlertReceived(AlertDescription::ProtocolVersion)
    );
    let hello = &server.requests()[0];
    assert_eq!(
        &hello[..1],
        &[0x16],
        "the ClientHello was read and recorded"
    );
}

#[tokio::test]
async fn old_server_hello_is_refused() {
    let server = support::old_tls_server_hello().await;
    let err = connect_to(
        server.addr,
        "127.0.0.1",
        Arc::new(client_config(BOTH, false)),
    )
    .await
    .unwrap_err();
    println!("old_tls_server_hello: {:?}", tls_error(&err));
    assert_eq!(
        tls_error(&err),
        &TlsError::PeerIncompatible(PeerIncompatible::ServerDoesNotSupportTls12Or13)
    );
}

#[tokio::test]
async fn client_certificates_are_required_and_accepted() {
    for versions in [Versions::Tls13Only, Versions::Tls12Only] {
        let server = https_server(ServerOptions {
            require_client_cert: true,
            versions,
            ..ServerOptions::default()
        })
        .await;
        let stream = connect(&server, "127.0.0.1", client_config(BOTH, true))
            .await
            .unwrap();
        let resp = send_one(stream, true, get(&server.url("/"))).await;
        assert_eq!(resp.body().as_ref(), b"hello", "{versions:?}");

        // Without one: TLS 1.2 fails in the handshake; under TLS 1.3 the client's side of
        // the handshake completes and the server's alert arrives on the first read.
        let err = match connect(&server, "127.0.0.1", client_config(BOTH, false)).await {
            Err(err) => {
                assert_eq!(versions, Versions::Tls12Only, "fails in the handshake");
                err
            }
            Ok(mut stream) => {
                bounded(async {
                    assert_eq!(versions, Versions::Tls13Only, "fails after the handshake");
                    let _ = stream.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
                    let mut buf = [0u8; 64];
                    stream.read(&mut buf).await.unwrap_err()
                })
                .await
            }
        };
        let err = tls_error(&err);
        println!("missing client certificate, {versions:?}: {err:?}");
        // rustls sends certificate_required under TLS 1.2 too.
        assert_eq!(
            err,
            &TlsError::AlertReceived(AlertDescription::CertificateRequired),
            "{versions:?}"
        );
    }
}

#[tokio::test]
async fn connections_requests_and_resumptions_are_counted() {
    for versions in [TLS13, TLS12] {
        let server = https_server(ServerOptions::default()).await;
        let mut config = client_config(versions, false);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let stream = connect_to(server.addr, "127.0.0.1", config.clone())
            .await
            .unwrap();

        // Two requests on one HTTP/1.1 connection: one accept, both recorded.
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        for body in ["one", "two"] {
            let req = Request::post("/echo")
                .header("host", "127.0.0.1")
                .header("authorization", "Bearer t")
                .body(Full::new(Bytes::from(body)))
                .unwrap();
            let resp = bounded(sender.send_request(req)).await.unwrap();
            let body = bounded(resp.into_body().collect())
                .await
                .unwrap()
                .to_bytes();
            let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(echo["headers"]["authorization"], "Bearer t");
        }
        assert_eq!(server.accepts(), 1);
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].method, http::Method::POST);
        assert_eq!(requests[1].body.as_ref(), b"two");
        assert_eq!(requests[1].headers["authorization"], "Bearer t");
        assert_eq!(requests[1].version, http::Version::HTTP_11);
        drop(sender);

        // The same client config resumes the session it just made.
        let again = connect_to(server.addr, "127.0.0.1", config).await.unwrap();
        drop(again);
        assert_eq!(server.accepts(), 2);
        bounded(async {
            while server.handshakes() < 2 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert_eq!(server.handshakes_resumed(), 1, "{versions:?}");
    }
}

#[tokio::test]
async fn ipv6_and_plain_http_servers() {
    let v6 = https_server(ServerOptions {
        ipv6: true,
        ..ServerOptions::default()
    })
    .await;
    assert!(v6.addr.is_ipv6());
    assert!(
        v6.url("/a").starts_with("https://[::1]:"),
        "{}",
        v6.url("/a")
    );
    let stream = connect(&v6, "::1", client_config(BOTH, false))
        .await
        .unwrap();
    let resp = send_one(stream, true, get(&v6.url("/"))).await;
    assert_eq!(resp.body().as_ref(), b"hello");

    let http = support::http_server(echo_router()).await;
    assert!(http.url("/").starts_with("http://127.0.0.1:"));
    let tcp = TcpStream::connect(http.addr).await.unwrap();
    let req = Request::get("/json")
        .header("host", "x")
        .body(Full::default())
        .unwrap();
    let resp = send_one(tcp, false, req).await;
    assert_eq!(json(&resp)["b"], "two");
    assert_eq!(http.handshakes(), 0);
}

#[tokio::test]
async fn echo_router_routes() {
    let router = echo_router();
    let call = |uri: &str| {
        let req = Request::get(uri).body(Bytes::new()).unwrap();
        let resp = router(req);
        async move {
            let (parts, body) = bounded(resp).await.into_parts();
            (parts, body.collect().await.unwrap().to_bytes())
        }
    };
    let (head, body) = call("/").await;
    assert_eq!((head.status.as_u16(), body.as_ref()), (200, &b"hello"[..]));
    assert_eq!(call("/status/418").await.0.status, 418);
    assert!(call("/status/204").await.1.is_empty());
    let (head, _) =
        call("/redirect?status=307&to=https%3A%2F%2Flocalhost%3A1%2Fecho%3Fa%3Db").await;
    assert_eq!(head.status, 307);
    assert_eq!(head.headers["location"], "https://localhost:1/echo?a=b");
    let (head, _) = call("/redirect").await;
    assert_eq!(head.status, 302);
    assert_eq!(head.headers["location"], "/");
    assert_eq!(
        call("/redirect-loop").await.0.headers["location"],
        "/redirect-loop"
    );
    assert_eq!(
        call("/bytes/30").await.1.as_ref(),
        b"abcdefghijklmnopqrstuvwxyzabcd"
    );
    let (head, body) = call("/binary/300").await;
    assert_eq!(head.headers["content-type"], "application/octet-stream");
    assert_eq!(body.as_ref(), binary_body(300));
    assert_eq!(&body[..3], b"\x00\x01\x02");
    assert_eq!(&body[256..263], b"\xc3\x28\x00\r\n\xff\xfe");
    assert_eq!(body[263], 0);
    assert!(std::str::from_utf8(&body).is_err());
    let (head, body) = call("/response-headers?x-test=yes&x-two=a%20b&x-two=c").await;
    assert_eq!((head.status.as_u16(), body.as_ref()), (200, &b"hello"[..]));
    assert_eq!(head.headers["x-test"], "yes");
    let two: Vec<_> = head.headers.get_all("x-two").iter().collect();
    assert_eq!(two, ["a b", "c"]);
    assert_eq!(call("/response-headers?bad%20name=1").await.0.status, 400);
    let (head, body) = call("/latin1").await;
    assert_eq!(
        head.headers["content-type"],
        "text/plain; charset=iso-8859-1"
    );
    assert_eq!(body.as_ref(), b"caf\xe9");
    let (head, body) = call("/not-utf8").await;
    assert_eq!(head.headers["content-type"], "text/plain");
    assert_eq!(body.as_ref(), b"A\xffB");
    assert_eq!(call("/json").await.1.as_ref(), br#"{"a":1,"b":"two"}"#);
    assert_eq!(call("/bad-json").await.1.as_ref(), b"{not json");
    let started = std::time::Instant::now();
    assert_eq!(call("/slow?ms=100").await.1.as_ref(), b"slow");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(call("/nowhere").await.0.status, 404);

    let req = Request::put("/echo?x=1")
        .header("x-a", "1")
        .header("x-a", "2")
        .body(Bytes::from_static(b"hi \xff"))
        .unwrap();
    let (_, body) = {
        let (parts, body) = bounded(router(req)).await.into_parts();
        (parts, body.collect().await.unwrap().to_bytes())
    };
    let echo: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["headers"]["x-a"], "1, 2");
    assert_eq!(echo["body"], "hi \u{fffd}");
    assert_eq!(echo["version"], "HTTP/1.1");
    let (_, body) = call("/echo").await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["query"],
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn raw_server_round_trip_and_reset() {
    let server = raw_server(|mut conn| async move {
        if conn.index == 1 {
            return conn.reset();
        }
        while conn.read_request().await.is_some() {
            conn.write(&h1_response("200 OK", &[("x-raw", "1")], b"raw!"))
                .await;
        }
    })
    .await;
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    // Two pipelined requests, one with a Content-Length body, one chunked.
    let requests: [&[u8]; 2] = [
        b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
    ];
    tcp.write_all(&requests.concat()).await.unwrap();
    let expected = b"HTTP/1.1 200 OK\r\nx-raw: 1\r\ncontent-length: 4\r\n\r\nraw!".repeat(2);
    let mut got = vec![0u8; expected.len()];
    bounded(tcp.read_exact(&mut got)).await.unwrap();
    assert_eq!(got, expected);
    assert_eq!(server.requests(), requests.map(<[u8]>::to_vec));
    drop(tcp);

    let mut second = TcpStream::connect(server.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let err = bounded(second.read(&mut buf)).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(server.accepts(), 2);
    assert_eq!(
        h1_response("HTTP/1.0 204 No Content", &[("Content-Length", "0")], b""),
        b"HTTP/1.0 204 No Content\r\nContent-Length: 0\r\n\r\n"
    );
}

#[tokio::test]
async fn silent_server_never_answers() {
    let server = support::silent_server().await;
    let handshake = tokio::time::timeout(
        Duration::from_millis(200),
        connect_to(
            server.addr,
            "127.0.0.1",
            Arc::new(client_config(BOTH, false)),
        ),
    )
    .await;
    assert!(handshake.is_err(), "the handshake must time out");
    assert_eq!(server.accepts(), 1);
}

#[test]
fn write_temp_paths_are_unique() {
    let a = write_temp("ca.pem", &pki().root_pem);
    let b = write_temp("ca.pem", "other");
    assert_ne!(a, b);
    assert_eq!(a.file_name().unwrap(), "ca.pem");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), pki().root_pem);
    assert_eq!(std::fs::read(&b).unwrap(), b"other");
    let c = temp_path("ca.pem");
    assert!(!c.exists() && c.parent().unwrap().is_dir());
    assert_ne!(c, a);
    assert_eq!(c.file_name().unwrap(), "ca.pem");
}

#[tokio::test]
async fn head_responses_carry_the_length_but_no_body() {
    let server = https_server(ServerOptions::default()).await;
    for h2 in [true, false] {
        let mut config = client_config(BOTH, false);
        if !h2 {
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
        }
        let stream = connect(&server, "127.0.0.1", config).await.unwrap();
        let req = Request::head(server.url("/bytes/100"))
            .header("host", "127.0.0.1")
            .body(Full::default())
            .unwrap();
        let resp = send_one(stream, h2, req).await;
        assert_eq!(resp.headers()["content-length"], "100", "h2: {h2}");
        assert!(resp.body().is_empty(), "h2: {h2}");
    }
}
