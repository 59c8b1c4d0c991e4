//! A `Domain` of one label (`com`, `intranet`): browsers take every such name for a
//! public suffix (the list's `*` rule), so a cookie naming one would go to every site
//! under it. Found by the `cookies` fuzz target (docs/fuzzing.md); cookie_store checks
//! public suffixes only when given a list, which the jar has none of.

use cookie_store::RawCookie;
use url::Url;

/// Why `raw`, received from `url`, must be ignored for a `Domain` of one label other than
/// `url`'s host. When it is the host itself (`Domain=localhost` from `localhost`), the
/// cookie becomes host-only instead, as RFC 6265 §5.3 step 5 has it for a public suffix.
pub(super) fn top_level(raw: &mut RawCookie<'_>, url: &Url) -> Option<&'static str> {
    let domain = raw.domain()?.trim_start_matches('.');
    if domain.is_empty() || domain.contains('.') {
        return None;
    }
    if url
        .host_str()
        .is_some_and(|host| host.eq_ignore_ascii_case(domain))
    {
        raw.unset_domain();
        return None;
    }
    Some("its Domain is a top-level domain: it would go to every site under it")
}

#[cfg(test)]
mod tests {
    use cookie_store::CookieStore;

    use super::*;

    /// Stores `set_cookie` from `from` as the jar does, and says which of `hosts` get it.
    fn sent_to(set_cookie: &str, from: &str, hosts: &[&str]) -> Vec<String> {
        let from = Url::parse(from).unwrap();
        let mut raw = RawCookie::parse(set_cookie).unwrap();
        let mut store = CookieStore::default();
        if top_level(&mut raw, &from).is_none() {
            let _ = store.insert_raw(&raw, &from);
        }
        hosts
            .iter()
            .filter(|host| {
                let url = Url::parse(&format!("https://{host}/")).unwrap();
                store.get_request_values(&url).next().is_some()
            })
            .map(|host| host.to_string())
            .collect()
    }

    #[test]
    fn a_top_level_domain_is_refused_unless_it_is_the_host_which_keeps_it_alone() {
        let hosts = [
            "example.com",
            "a.example.com",
            "other.com",
            "a.intranet",
            "intranet",
        ];
        assert!(sent_to("c=1; Domain=com", "https://a.example.com/", &hosts).is_empty());
        assert!(sent_to("c=1; Domain=.intranet", "https://a.intranet/", &hosts).is_empty());
        assert_eq!(
            sent_to("c=1; Domain=intranet", "https://intranet/", &hosts),
            ["intranet"]
        );
        // Two labels and more are left to the Domain rules.
        assert_eq!(
            sent_to("c=1; Domain=example.com", "https://a.example.com/", &hosts),
            ["example.com", "a.example.com"]
        );
    }
}
