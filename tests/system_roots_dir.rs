//! `SSL_CERT_DIR` is honoured: the system roots come from its directories (a
//! colon-separated list), laid out as `openssl rehash` makes them, one `<subject hash>.0`
//! file per CA.
//!
//! One test in this file: it sets process-wide environment variables before any client
//! exists, and the system roots are read once per process.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{https_server, pki, temp_path, Leaf, ServerOptions};
use wireline::{CertificateErrorKind, Client, ErrorKind};
use x509_parser::der_parser::asn1_rs::ToDer;

/// OpenSSL's subject name hash (`openssl x509 -subject_hash`, X509_NAME_hash_ex): the
/// first four bytes, little-endian, of the SHA-1 of the name's canonical encoding, each
/// value as a UTF8String lowercased with its spaces collapsed, the RDN sets concatenated
/// without the outer SEQUENCE.
fn subject_hash(pem: &str) -> String {
    let (_, der) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let cert = der.parse_x509().expect("certificate");
    let mut canonical = Vec::new();
    for rdn in cert.subject().iter() {
        let mut set = Vec::new();
        for attribute in rdn.iter() {
            let value = attribute.as_str().expect("a text value");
            let value = value
                .split_ascii_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
            let mut sequence = attribute.attr_type().to_der_vec().expect("OID");
            sequence.extend(tlv(0x0c, value.as_bytes()));
            set.extend(tlv(0x30, &sequence));
        }
        canonical.extend(tlv(0x31, &set));
    }
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &canonical);
    let bytes = digest.as_ref();
    format!(
        "{:08x}",
        u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
    )
}

/// A DER tag, length and value (definite length, short or long form).
fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(value);
    out
}

/// A fresh directory holding `pem` as `<subject hash>.0`, and that file's path.
fn hashed_dir(pem: &str) -> (PathBuf, PathBuf) {
    let dir = temp_path("certs");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("{}.0", subject_hash(pem)));
    std::fs::write(&file, pem).unwrap();
    (dir, file)
}

fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[tokio::test]
async fn system_roots_come_from_the_directories_of_ssl_cert_dir() {
    let (dir, root_file) = hashed_dir(&pki().root_pem);
    let (other_dir, other_file) = hashed_dir(&pki().other_root_pem);
    println!(
        "SSL_CERT_DIR: {} ({}), {} ({})",
        dir.display(),
        name_of(&root_file),
        other_dir.display(),
        name_of(&other_file)
    );
    let dirs = std::env::join_paths([&dir, &other_dir]).unwrap();
    std::env::set_var("SSL_CERT_DIR", &dirs);
    std::env::remove_var("SSL_CERT_FILE");

    let client = Client::new();
    let get = |url: String| {
        let client = client.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(15), client.get(url).send())
                .await
                .expect("bounded")
        }
    };
    // A server of each directory's root.
    for leaf in [Leaf::Valid, Leaf::UnknownCa] {
        let server = https_server(ServerOptions {
            leaf,
            ..ServerOptions::default()
        })
        .await;
        let resp = get(server.url("/"))
            .await
            .unwrap_or_else(|e| panic!("{leaf:?}: {e}"));
        assert_eq!(resp.status(), 200);
    }
    // Those two are all the system roots: not the machine's store, and no trust-all.
    let stranger = https_server(ServerOptions {
        leaf: Leaf::SelfSigned,
        ..ServerOptions::default()
    })
    .await;
    let err = get(stranger.url("/")).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Certificate(CertificateErrorKind::SelfSigned),
        "{err}"
    );
    assert!(err.to_string().contains("(system roots)"), "{err}");
}

#[test]
fn the_subject_hash_is_openssls() {
    // Known values: `openssl x509 -subject_hash -noout` of certificates with these
    // subjects (the hash depends on the name alone).
    let params = |cn: &str| {
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    };
    for (cn, hash) in [
        ("Wireline Test Root", "c3fdceb3"),
        ("Other  Test ROOT", "46b03361"),
    ] {
        assert_eq!(subject_hash(&params(cn)), hash, "{cn}");
    }
}
