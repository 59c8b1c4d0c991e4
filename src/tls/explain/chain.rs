//! An unknown issuer explained by the chain the server sent: the leaf, the intermediates
//! that issued it in turn, and the CA at the top that no trusted root vouches for.

use rustls::pki_types::CertificateDer;

use super::facts::{facts, Facts};

/// How many subjects of certificates outside the chain a message names before it only
/// counts them.
const STRAYS_NAMED: usize = 3;

/// The leaf's issuers among the certificates the server sent, in order: each the issuer
/// (by name) of the one before, each used once, ending at a self-issued one or where the
/// server sent no issuer. The rest are the certificates that are no part of that chain.
fn walk(leaf: &Facts, intermediates: &[CertificateDer<'_>]) -> (Vec<Facts>, Vec<Facts>) {
    let mut rest: Vec<Facts> = intermediates.iter().filter_map(facts).collect();
    let mut chain: Vec<Facts> = Vec::new();
    loop {
        let wanted = chain.last().unwrap_or(leaf);
        if chain.last().is_some_and(|f| f.self_issued) {
            break;
        }
        match rest.iter().position(|f| f.subject == wanted.issuer) {
            Some(at) => chain.push(rest.remove(at)),
            None => break,
        }
    }
    (chain, rest)
}

/// "`who` is issued by A (sent by the server), which is issued by B; B, at the top of this
/// chain, is not among the trusted roots (…)", for a leaf sent with intermediates.
pub(super) fn unknown_issuer(
    who: &str,
    leaf: &Facts,
    intermediates: &[CertificateDer<'_>],
    roots_label: &str,
) -> String {
    let (chain, strays) = walk(leaf, intermediates);
    let mut text = format!("{who} is issued by {}", leaf.issuer);
    for issuer in &chain {
        text.push_str(if issuer.self_issued {
            " (sent by the server, self-signed)"
        } else {
            " (sent by the server)"
        });
        if !issuer.self_issued {
            text.push_str(&format!(", which is issued by {}", issuer.issuer));
        }
    }
    let top = chain.last().map_or(&leaf.issuer, |f| {
        if f.self_issued {
            &f.subject
        } else {
            &f.issuer
        }
    });
    let (position, missing) = if chain.is_empty() {
        (
            ", which the server did not send,",
            format!(" (If {top} is an intermediate CA, the server sent the wrong intermediates.)"),
        )
    } else {
        (", at the top of this chain,", String::new())
    };
    text.push_str(&format!(
        "; {top}{position} is not among the trusted roots ({roots_label}); pass that CA with \
         ca_file() (--cacert) or add_root_certificate().{missing}"
    ));
    if !strays.is_empty() {
        let mut subjects: Vec<&str> = Vec::new();
        for stray in &strays {
            if !subjects.contains(&stray.subject.as_str()) {
                subjects.push(&stray.subject);
            }
        }
        let others = subjects.len().saturating_sub(STRAYS_NAMED);
        subjects.truncate(STRAYS_NAMED);
        let others = if others > 0 {
            format!(", and {others} other subjects")
        } else {
            String::new()
        };
        text.push_str(&format!(
            " The server also sent {} certificate(s) that are no part of this chain ({}{others}).",
            strays.len(),
            subjects.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    fn ca_params(cn: &str) -> CertificateParams {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
    }

    /// Root "Top" → "Middle" → "Lower" → leaf "Leaf"; the DER of each and a stray CA.
    fn chain() -> [CertificateDer<'static>; 5] {
        let top_key = KeyPair::generate().unwrap();
        let top = ca_params("Top").self_signed(&top_key).unwrap();
        let top_issuer = Issuer::new(ca_params("Top"), top_key);
        let middle_key = KeyPair::generate().unwrap();
        let middle = ca_params("Middle")
            .signed_by(&middle_key, &top_issuer)
            .unwrap();
        let middle_issuer = Issuer::new(ca_params("Middle"), middle_key);
        let lower_key = KeyPair::generate().unwrap();
        let lower = ca_params("Lower")
            .signed_by(&lower_key, &middle_issuer)
            .unwrap();
        let lower_issuer = Issuer::new(ca_params("Lower"), lower_key);
        let mut leaf_params = CertificateParams::default();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "Leaf");
        let leaf = leaf_params
            .signed_by(&KeyPair::generate().unwrap(), &lower_issuer)
            .unwrap();
        let stray = ca_params("Stray")
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap();
        [leaf, lower, middle, top, stray].map(|c| c.der().clone())
    }

    fn explain(sent: &[&CertificateDer<'static>]) -> String {
        let leaf = facts(sent[0]).unwrap();
        let rest: Vec<CertificateDer<'static>> = sent[1..].iter().map(|c| (*c).clone()).collect();
        unknown_issuer(
            "certificate for example.com (CN=Leaf)",
            &leaf,
            &rest,
            "system roots",
        )
    }

    #[test]
    fn a_chain_sent_to_its_root_names_each_issuer_and_the_root_as_untrusted() {
        let [leaf, lower, middle, top, _] = chain();
        // Sent out of order: the walk follows names, not positions.
        let message = explain(&[&leaf, &top, &lower, &middle]);
        assert_eq!(
            message,
            "certificate for example.com (CN=Leaf) is issued by CN=Lower (sent by the \
             server), which is issued by CN=Middle (sent by the server), which is issued by \
             CN=Top (sent by the server, self-signed); CN=Top, at the top of this chain, is \
             not among the trusted roots (system roots); pass that CA with ca_file() \
             (--cacert) or add_root_certificate()."
        );
    }

    #[test]
    fn a_chain_sent_without_its_root_names_the_root_as_the_untrusted_issuer_at_the_top() {
        let [leaf, lower, middle, _, stray] = chain();
        let message = explain(&[&leaf, &lower, &stray, &middle]);
        assert_eq!(
            message,
            "certificate for example.com (CN=Leaf) is issued by CN=Lower (sent by the \
             server), which is issued by CN=Middle (sent by the server), which is issued by \
             CN=Top; CN=Top, at the top of this chain, is not among the trusted roots \
             (system roots); pass that CA with ca_file() (--cacert) or \
             add_root_certificate(). The server also sent 1 certificate(s) that are no \
             part of this chain (CN=Stray)."
        );
    }

    #[test]
    fn intermediates_that_did_not_issue_the_leaf_are_named_as_outside_the_chain() {
        let [leaf, _, middle, top, _] = chain();
        let message = explain(&[&leaf, &middle, &top]);
        assert!(
            message.starts_with(
                "certificate for example.com (CN=Leaf) is issued by CN=Lower; CN=Lower, \
                 which the server did not send, is not among the trusted roots"
            ),
            "{message}"
        );
        assert!(
            message.ends_with(
                "the server sent the wrong intermediates.) The server also sent 2 \
                 certificate(s) that are no part of this chain (CN=Middle, CN=Top)."
            ),
            "{message}"
        );
    }
}
