//! The environment's proxy variables as `build()` reads them, with the two rules that
//! narrow them: no proxy for loopback destinations, and no `HTTP_PROXY` under CGI.

use std::net::IpAddr;

use hyper_util::client::proxy::matcher::Matcher;

use super::rules::{Rule, Target};
use super::NoProxy;

/// The proxy variables of the environment, as read by `build()`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct EnvProxies {
    http: Option<String>,
    https: Option<String>,
    all: Option<String>,
    no: Option<String>,
}

impl EnvProxies {
    pub(super) fn read() -> EnvProxies {
        EnvProxies::from_vars(|name| std::env::var(name).ok())
    }

    /// Upper case first, then lower case; empty counts as unset (as Go reads them).
    ///
    /// httpoxy: a CGI server passes each request header `Proxy: x` to its program as
    /// `HTTP_PROXY=x`, so in a CGI program (`REQUEST_METHOD` set) `HTTP_PROXY` is chosen by
    /// whoever sent the request. It is ignored there, with its lower-case spelling (the
    /// same variable on Windows), as Go does; the other variables can't be set that way
    /// and still count (hyper-util's `from_env` drops them all); curl never reads
    /// `HTTP_PROXY` at all.
    pub(super) fn from_vars(var: impl Fn(&str) -> Option<String>) -> EnvProxies {
        let first = |names: &[&str]| first_set(&var, names);
        let cgi = var("REQUEST_METHOD").is_some();
        let mut http = first(&["HTTP_PROXY", "http_proxy"]);
        if cgi && http.is_some() {
            tracing::warn!(
                "wireline: ignoring HTTP_PROXY in a CGI program (REQUEST_METHOD is set): \
                 a request's `Proxy` header can set it (httpoxy)"
            );
            http = None;
        }
        EnvProxies {
            http,
            https: first(&["HTTPS_PROXY", "https_proxy"]),
            all: first(&["ALL_PROXY", "all_proxy"]),
            no: first(&["NO_PROXY", "no_proxy"]),
        }
    }

    pub(super) fn rule(self) -> Option<Rule> {
        if self.http.is_none() && self.https.is_none() && self.all.is_none() {
            return None;
        }
        let no = self.no.as_deref().and_then(NoProxy::from_string);
        if no.as_ref().is_some_and(NoProxy::is_wildcard) {
            return None;
        }
        // Credentials for an http destination can only come from these two URLs' user
        // info (hyper-util's matcher reads them); `@` anywhere errs towards looking.
        let forwards_extras = [&self.http, &self.all]
            .into_iter()
            .flatten()
            .any(|url| url.contains('@'));
        let matcher = Matcher::builder()
            .http(self.http.unwrap_or_default())
            .https(self.https.unwrap_or_default())
            .all(self.all.unwrap_or_default())
            .no(no.as_ref().map_or("", |no| no.list.as_str()))
            .build();
        Some(Rule {
            target: Target::Matcher(matcher),
            #[cfg(feature = "socks")]
            login: None,
            http_auth: None,
            headers: None,
            skip_loopback: true,
            forwards_extras,
        })
    }
}

/// The first of `names` set to something other than blanks.
pub(super) fn first_set(var: impl Fn(&str) -> Option<String>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|name| var(name))
        .find(|value| !value.trim().is_empty())
}

/// `localhost`, a name under it, or a loopback address: what the environment's proxies
/// never get, since a proxy elsewhere would reach its own loopback, not ours (Go's rule).
pub(super) fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.trim_end_matches('.');
    host.eq_ignore_ascii_case("localhost")
        || host
            .len()
            .checked_sub(".localhost".len())
            .and_then(|at| host.get(at..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(".localhost"))
}

#[cfg(test)]
mod tests {
    use super::super::{routed, Proxies, Proxy};
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvProxies {
        EnvProxies::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    /// Where `url` goes: the proxy's `host:port`, or "direct".
    fn env_proxies(vars: &[(&str, &str)]) -> Proxies {
        Proxies::of(env(vars).rule().into_iter().collect())
    }

    #[test]
    fn upper_case_wins_and_empty_counts_as_unset() {
        let e = env(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:1"),
            ("HTTPS_PROXY", " "),
            ("https_proxy", "http://lower:2"),
            ("all_proxy", "http://all:3"),
            ("no_proxy", "x.test"),
        ]);
        assert_eq!(e.http.as_deref(), Some("http://upper:1"));
        assert_eq!(e.https.as_deref(), Some("http://lower:2"));
        assert_eq!(e.all.as_deref(), Some("http://all:3"));
        assert_eq!(e.no.as_deref(), Some("x.test"));
        assert_eq!(env(&[]), EnvProxies::default());
        assert!(env(&[("NO_PROXY", "x")]).rule().is_none());
    }

    /// Found by the `proxy_rules` fuzz target: a bracketed IPv6 entry (as URLs and this
    /// crate's own `NoProxy` docs write them) bypassed nothing.
    #[test]
    fn no_proxy_takes_ipv6_entries_in_brackets_alone_or_as_networks() {
        let proxies = env_proxies(&[
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "[2001:db8::1], [fd00::]/8, [bad]"),
        ]);
        assert_eq!(routed(&proxies, "http://[2001:db8::1]/"), "direct");
        assert_eq!(routed(&proxies, "http://[fd12::5]:8080/"), "direct");
        assert_eq!(routed(&proxies, "http://[2001:db8::2]/"), "p:1");
        assert_eq!(routed(&proxies, "http://example.com/"), "p:1");
    }

    #[test]
    fn no_proxy_drops_ipv4_networks_with_leading_zeros() {
        let proxies = env_proxies(&[
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "1.0.00.0/8, 010.0.0.0/8, 192.168.0.0/16"),
        ]);
        // ipnet would read both as decimal networks; octal readers see 8.0.0.0/8.
        assert_eq!(routed(&proxies, "http://1.0.0.0/"), "p:1");
        assert_eq!(routed(&proxies, "http://10.1.2.3/"), "p:1");
        assert_eq!(routed(&proxies, "http://8.1.2.3/"), "p:1");
        assert_eq!(routed(&proxies, "http://192.168.1.1/"), "direct");
    }

    #[test]
    fn httpoxy_http_proxy_is_ignored_under_cgi() {
        for name in ["HTTP_PROXY", "http_proxy"] {
            let e = env(&[
                ("REQUEST_METHOD", "GET"),
                (name, "http://attacker:1"),
                ("HTTPS_PROXY", "http://admin:2"),
                ("ALL_PROXY", "http://admin:3"),
            ]);
            assert_eq!(e.http, None, "{name}");
            // Variables a request header can't set still count.
            assert_eq!(e.https.as_deref(), Some("http://admin:2"));
            let proxies = env_proxies(&[
                ("REQUEST_METHOD", "GET"),
                (name, "http://attacker:1"),
                ("HTTPS_PROXY", "http://admin:2"),
            ]);
            assert_eq!(routed(&proxies, "http://example.com/"), "direct");
            assert_eq!(routed(&proxies, "https://example.com/"), "admin:2");
        }
        let outside_cgi = env(&[("HTTP_PROXY", "http://p:1")]);
        assert_eq!(outside_cgi.http.as_deref(), Some("http://p:1"));
    }

    #[test]
    fn env_schemes_pick_their_proxy_and_all_fills_in() {
        let proxies = env_proxies(&[("HTTPS_PROXY", "http://secure:1"), ("ALL_PROXY", "all:2")]);
        assert_eq!(routed(&proxies, "https://example.com/"), "secure:1");
        assert_eq!(routed(&proxies, "http://example.com/"), "all:2");
    }

    #[test]
    fn a_socks_proxy_without_a_port_is_on_1080_and_keeps_its_login() {
        let proxies = env_proxies(&[("ALL_PROXY", "socks5h://u:p%20w@s")]);
        assert_eq!(routed(&proxies, "https://example.com/"), "s:1080");
        let route = proxies
            .route(&"http://example.com/".parse().unwrap())
            .unwrap()
            .unwrap();
        // An HTTP proxy's `Proxy-Authorization` it is not.
        assert!(route.auth.is_none());
        #[cfg(feature = "socks")]
        {
            let login = route.login.unwrap();
            assert_eq!((login.user.as_str(), login.password.as_str()), ("u", "p w"));
        }
    }

    #[test]
    fn no_proxy_rules() {
        let proxies = env_proxies(&[
            ("HTTP_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                "example.com, .internal.test, 192.168.0.0/16, 10.1.2.3, fd00::/8",
            ),
        ]);
        for (url, expected) in [
            // Suffixes on a label boundary, with or without the leading dot.
            ("http://example.com/", "direct"),
            ("http://www.example.com/", "direct"),
            ("http://WWW.EXAMPLE.COM/", "direct"),
            ("http://notexample.com/", "p:1"),
            ("http://internal.test/", "direct"),
            ("http://a.b.internal.test:8080/", "direct"),
            // Addresses and networks, IPv4 and IPv6.
            ("http://192.168.44.1/", "direct"),
            ("http://192.169.0.1/", "p:1"),
            ("http://10.1.2.3/", "direct"),
            ("http://10.1.2.4/", "p:1"),
            ("http://[fd12::1]/", "direct"),
            ("http://[fe80::1]/", "p:1"),
        ] {
            assert_eq!(routed(&proxies, url), expected, "{url}");
        }
        let everything = env_proxies(&[("ALL_PROXY", "http://p:1"), ("no_proxy", "*")]);
        for url in [
            "http://example.com/",
            "https://10.0.0.1/",
            "http://[2001:db8::1]/",
        ] {
            assert_eq!(routed(&everything, url), "direct", "{url}");
        }
    }

    #[test]
    fn env_proxies_never_take_loopback_but_explicit_ones_do() {
        let from_env = env_proxies(&[("ALL_PROXY", "http://p:1")]);
        let explicit = Proxies::new(&[Proxy::all("http://p:1").unwrap()], false).unwrap();
        for url in [
            "http://localhost/",
            "http://LOCALHOST.:8080/",
            "http://app.localhost/",
            "http://127.0.0.1/",
            "http://127.9.9.9/",
            "https://[::1]:8443/",
        ] {
            assert_eq!(routed(&from_env, url), "direct", "{url}");
            assert_eq!(routed(&explicit, url), "p:1", "{url}");
        }
        assert_eq!(routed(&from_env, "http://notlocalhost/"), "p:1");
    }
}
