//! Public-key pins: the SHA-256 of the SubjectPublicKeyInfo each pinned host's certificate
//! must carry, parsed from the user's base64 and compared with the leaf's.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

#[cfg(not(feature = "ring"))]
use aws_lc_rs::digest;
use base64::Engine as _;
#[cfg(feature = "ring")]
use ring::digest;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::error::{Error, Result};

/// A SHA-256 digest of a DER SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pin([u8; 32]);

impl fmt::Display for Pin {
    /// `sha256//<base64>`, as curl's `--pinnedpubkey` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let encoded = base64::engine::general_purpose::STANDARD.encode(self.0);
        write!(f, "sha256//{encoded}")
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The pins of every pinned host, keyed by [`host_key`]. Hosts without pins are absent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PinSet {
    by_host: BTreeMap<String, Vec<Pin>>,
}

impl PinSet {
    /// Adds a pin for `host`, or says why the host or the pin can't be used.
    pub(crate) fn add(&mut self, host: &str, pin: &str) -> Result<()> {
        let key = host_key(host).ok_or_else(|| {
            Error::builder(format!(
                "pin_sha256: {host:?} is not a host name or an IP address (give the host \
                 alone, as in the URL, without scheme or port)"
            ))
        })?;
        let pin = parse(pin).ok_or_else(|| {
            Error::builder(format!(
                "pin_sha256 for {key}: {pin:?} is not the base64 of a SHA-256 digest (expected \
                 44 characters such as \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\", \
                 optionally after \"sha256//\" as curl writes it)"
            ))
        })?;
        let pins = self.by_host.entry(key).or_default();
        if !pins.contains(&pin) {
            pins.push(pin);
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }

    /// The pins set for the host a connection is for; `None` when it has none.
    pub(crate) fn for_server(&self, server_name: &ServerName<'_>) -> Option<&[Pin]> {
        let key = match server_name {
            ServerName::DnsName(dns) => host_key(dns.as_ref())?,
            ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
            _ => return None,
        };
        self.by_host.get(&key).map(Vec::as_slice)
    }

    /// How many hosts have pins, for `Debug` output.
    pub(crate) fn hosts(&self) -> usize {
        self.by_host.len()
    }
}

/// The pin of a certificate: the SHA-256 of its SubjectPublicKeyInfo. `None` when the
/// certificate can't be parsed.
pub(crate) fn of_certificate(der: &CertificateDer<'_>) -> Option<Pin> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let digest = digest::digest(&digest::SHA256, cert.public_key().raw);
    Some(Pin(digest.as_ref().try_into().ok()?))
}

/// A host as pins are looked up: IP addresses in their canonical form (brackets of an IPv6
/// URL host removed), DNS names in lowercase without a trailing dot. `None` for anything
/// that is neither, such as a URL or `host:port`.
fn host_key(host: &str) -> Option<String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    let name = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    match ServerName::try_from(name.as_str()) {
        Ok(ServerName::DnsName(_)) => Some(name),
        _ => None,
    }
}

/// `base64` or `sha256//base64` of exactly 32 bytes.
fn parse(text: &str) -> Option<Pin> {
    let encoded = text.trim();
    let encoded = encoded.strip_prefix("sha256//").unwrap_or(encoded);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Some(Pin(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-256 of nothing, a well-known 32-byte value.
    const EMPTY_SHA256: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn server(name: &str) -> ServerName<'static> {
        ServerName::try_from(name.to_owned()).unwrap()
    }

    #[test]
    fn pins_parse_with_or_without_the_curl_prefix_and_print_with_it() {
        let plain = parse(EMPTY_SHA256).unwrap();
        assert_eq!(parse(&format!("sha256//{EMPTY_SHA256}")), Some(plain));
        assert_eq!(plain.to_string(), format!("sha256//{EMPTY_SHA256}"));
    }

    #[test]
    fn wrong_lengths_and_bad_base64_are_refused() {
        for bad in [
            "",
            "sha256//",
            "not base64!",
            // 16 bytes: an MD5-sized digest.
            "AAAAAAAAAAAAAAAAAAAAAA==",
            // 33 bytes.
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "sha1//2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn hosts_are_matched_in_canonical_form() {
        let mut pins = PinSet::default();
        pins.add("Example.COM.", EMPTY_SHA256).unwrap();
        pins.add("[::1]", EMPTY_SHA256).unwrap();
        pins.add("127.0.0.1", EMPTY_SHA256).unwrap();
        assert_eq!(pins.hosts(), 3);
        for name in ["example.com", "::1", "127.0.0.1"] {
            assert_eq!(pins.for_server(&server(name)).map(<[Pin]>::len), Some(1));
        }
        for name in ["www.example.com", "127.0.0.2", "localhost"] {
            assert!(pins.for_server(&server(name)).is_none(), "{name}");
        }
    }

    #[test]
    fn a_repeated_pin_is_kept_once() {
        let mut pins = PinSet::default();
        pins.add("example.com", EMPTY_SHA256).unwrap();
        pins.add("example.com", &format!("sha256//{EMPTY_SHA256}"))
            .unwrap();
        assert_eq!(pins.for_server(&server("example.com")).unwrap().len(), 1);
    }

    #[test]
    fn urls_and_ports_are_not_hosts() {
        let mut pins = PinSet::default();
        for bad in ["https://example.com/", "example.com:443", "", "a b"] {
            let err = pins.add(bad, EMPTY_SHA256).unwrap_err();
            assert!(err.is_builder());
            assert!(err.to_string().contains("not a host name"), "{err}");
        }
        let err = pins.add("example.com", "AAAA").unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("pin_sha256 for example.com"), "{shown}");
        assert!(shown.contains("\"AAAA\""), "{shown}");
        assert!(pins.is_empty());
    }
}
