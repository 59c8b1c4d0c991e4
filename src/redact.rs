//! Keeping secrets out of `Debug` output and off the wire's compression tables: which
//! header values are credentials, and how maps and URLs holding them are shown.

use std::fmt;

use http::header::{HeaderMap, HeaderName, AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, SET_COOKIE};
use url::Url;

/// The headers whose values are credentials: never printed, marked sensitive (so h2's
/// HPACK never indexes them either), and never sent to another origin by a redirect.
pub(crate) const CREDENTIAL_HEADERS: [HeaderName; 3] = [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION];

/// Whether `name` is one of [`CREDENTIAL_HEADERS`].
pub(crate) fn is_credential(name: &HeaderName) -> bool {
    CREDENTIAL_HEADERS.contains(name)
}

/// Marks the values of every credential header in `headers` sensitive, whoever put them
/// there (`Request::headers_mut` takes any value as it is).
pub(crate) fn mark_credentials(headers: &mut HeaderMap) {
    // One pass comparing names (standard names compare as small integers) costs less than
    // three hashed lookups, on every hop of every request.
    for (name, value) in headers.iter_mut() {
        if is_credential(name) {
            value.set_sensitive(true);
        }
    }
}

/// Adds `headers` to `into`, each name's values replacing those `into` had, with the values
/// of credential headers marked sensitive: the builders' `headers` and `default_headers`.
pub(crate) fn replace_headers(into: &mut HeaderMap, headers: HeaderMap) {
    let mut last_name = None;
    for (name, mut value) in headers {
        if let Some(name) = name {
            into.remove(&name);
            last_name = Some(name);
        }
        // A map's first value always comes with its name, so `last_name` is set.
        let Some(name) = &last_name else { continue };
        if is_credential(name) {
            value.set_sensitive(true);
        }
        into.append(name.clone(), value);
    }
}

/// A header map as `Debug` shows it, with the value of every credential header, every
/// `Set-Cookie` and every value marked sensitive replaced by `Sensitive`.
pub(crate) struct Headers<'a>(pub(crate) &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || is_credential(name) || name == SET_COOKIE {
                map.entry(name, &format_args!("Sensitive"));
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

/// The URL as `Debug` output shows it: a password becomes `***`.
pub(crate) fn url(url: &Url) -> String {
    if url.password().is_none() {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    let _ = shown.set_password(Some("***"));
    shown.to_string()
}

/// Query parameters whose values are signatures or keys, hidden in [`url_full`] as
/// OpenTelemetry's `url.full` asks (presigned S3, Azure SAS and Google Cloud URLs).
const SECRET_QUERY_PARAMS: [&str; 4] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// The URL as a trace shows it (OpenTelemetry's `url.full`): a user and password become
/// `REDACTED`, and so do the values of the query parameters that carry signatures.
pub(crate) fn url_full(url: &Url) -> String {
    let secret_query = url
        .query_pairs()
        .any(|(name, _)| SECRET_QUERY_PARAMS.contains(&&*name));
    if url.username().is_empty() && url.password().is_none() && !secret_query {
        return url.as_str().to_owned();
    }
    let mut shown = url.clone();
    if !url.username().is_empty() {
        let _ = shown.set_username("REDACTED");
    }
    if url.password().is_some() {
        let _ = shown.set_password(Some("REDACTED"));
    }
    if secret_query {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(
                |(name, value)| match SECRET_QUERY_PARAMS.contains(&&*name) {
                    true => (name.into_owned(), "REDACTED".to_owned()),
                    false => (name.into_owned(), value.into_owned()),
                },
            )
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_full_hides_credentials_and_signatures_and_keeps_the_rest() {
        let url = |s: &str| url_full(&Url::parse(s).unwrap());
        assert_eq!(url("https://a.test/p?q=1"), "https://a.test/p?q=1");
        assert_eq!(
            url("https://u:pw@a.test/p"),
            "https://REDACTED:REDACTED@a.test/p"
        );
        assert_eq!(
            url("https://a.test/o?X-Goog-Signature=abc&x=2"),
            "https://a.test/o?X-Goog-Signature=REDACTED&x=2"
        );
    }

    #[test]
    fn credentials_and_set_cookie_are_hidden_whatever_their_spelling() {
        let mut headers = HeaderMap::new();
        headers.insert("AuThOrIzAtIoN", "Bearer s3cret".parse().unwrap());
        headers.append("cookie", "a=c00kie".parse().unwrap());
        headers.append("cookie", "b=c00kie".parse().unwrap());
        headers.insert("proxy-authorization", "Basic pr0xy".parse().unwrap());
        headers.insert("set-cookie", "id=t0ken; HttpOnly".parse().unwrap());
        let mut marked = http::HeaderValue::from_static("k3y");
        marked.set_sensitive(true);
        headers.insert("x-api-key", marked);
        headers.insert("x-plain", "shown".parse().unwrap());
        let shown = format!("{:?}", Headers(&headers));
        for secret in ["s3cret", "c00kie", "pr0xy", "t0ken", "k3y"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(
            shown.contains("shown") && shown.contains("set-cookie"),
            "{shown}"
        );
    }

    #[test]
    fn marking_covers_every_value() {
        let mut headers = HeaderMap::new();
        headers.append("cookie", "a=1".parse().unwrap());
        headers.append("cookie", "b=2".parse().unwrap());
        headers.insert("authorization", "x".parse().unwrap());
        headers.insert("x-other", "y".parse().unwrap());
        mark_credentials(&mut headers);
        assert!(headers.get_all("cookie").iter().all(|v| v.is_sensitive()));
        assert!(headers["authorization"].is_sensitive());
        assert!(!headers["x-other"].is_sensitive());
    }
}
