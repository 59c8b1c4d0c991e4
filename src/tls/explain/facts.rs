//! What a person needs to read off a certificate to understand a failure: its subject and
//! issuer, its names, its dates, whether it is a CA; parsed with x509-parser, for the
//! explanations in `certificate.rs`.

use rustls::pki_types::{CertificateDer, ServerName};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;

/// What a person needs to read off a certificate to understand a failure.
pub(super) struct Facts {
    pub(super) subject: String,
    pub(super) issuer: String,
    pub(super) self_issued: bool,
    /// basicConstraints CA:TRUE.
    pub(super) is_ca: bool,
    /// It has a subjectAltName extension, whatever `names` found in it.
    pub(super) has_san: bool,
    /// The DNS names and IP addresses of its subjectAltName.
    pub(super) names: Vec<String>,
    /// notBefore and notAfter, in seconds since 1970.
    pub(super) not_before: i64,
    pub(super) not_after: i64,
}

pub(super) fn facts(der: &CertificateDer<'_>) -> Option<Facts> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(Facts {
        subject: name_or_empty(&cert.subject().to_string()),
        issuer: name_or_empty(&cert.issuer().to_string()),
        self_issued: cert.subject().as_raw() == cert.issuer().as_raw(),
        is_ca: cert.is_ca(),
        has_san: matches!(cert.subject_alternative_name(), Ok(Some(_))),
        names: subject_alt_names(&cert),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    })
}

fn name_or_empty(name: &str) -> String {
    if name.is_empty() {
        "an empty subject".to_owned()
    } else {
        name.to_owned()
    }
}

fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            GeneralName::IPAddress(bytes) => ip_to_string(bytes),
            _ => None,
        })
        .collect()
}

fn ip_to_string(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).ok()?).to_string()),
        16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?).to_string()),
        _ => None,
    }
}

/// Whether `server_name` is an IP address that the certificate lists only spelled out as a
/// DNS name, which does not count for an IP address (and would read as a match).
pub(super) fn spells_ip_as_dns_name(
    der: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
) -> bool {
    let ServerName::IpAddress(ip) = server_name else {
        return false;
    };
    let ip = std::net::IpAddr::from(*ip);
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return false;
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    san.value.general_names.iter().any(|name| {
        matches!(name, GeneralName::DNSName(dns) if dns.parse::<std::net::IpAddr>() == Ok(ip))
    })
}

/// The subject of a certificate as "CN=…, O=…", for Debug output.
pub(crate) fn subject_of(der: &CertificateDer<'_>) -> String {
    facts(der)
        .map(|f| f.subject)
        .unwrap_or_else(|| "unparsable certificate".to_owned())
}

pub(super) fn host_of(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => "the server".to_owned(),
    }
}

/// "2026-01-01 00:00:00 UTC".
pub(super) fn format_time(seconds: u64) -> String {
    match i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
    {
        Some(t) => format!(
            "{} {:02}:{:02}:{:02} UTC",
            t.date(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        None => format!("{seconds} seconds after 1970"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_in_utc() {
        assert_eq!(format_time(1_767_225_600), "2026-01-01 00:00:00 UTC");
    }
}
