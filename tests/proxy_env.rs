//! The environment's proxies: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`
//! (lower case too), read by `build()`; never for loopback destinations; the httpoxy
//! rule (RELIABILITY Y02); and SOCKS proxies in them, used with the `socks` feature and
//! named in the error without it.
//!
//! The environment is global to the process, so this binary has tests of its own and each
//! holds [`ENV`] from start to end: no other test here runs while one changes it.

mod support;

use std::time::{Duration, Instant};

use support::{
    basic, bounded, echo_router, http_server, https_server, proxy_server, socks_server,
    trusting_test_ca, ProxyOptions, ServerOptions, SocksOptions,
};
use wireline::{Client, ClientBuilder, Proxy};

static ENV: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const VARS: [&str; 9] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Builds a client while exactly `vars` of [`VARS`] are set, then puts the environment
/// back. The caller holds [`ENV`].
fn build_with_env(vars: &[(&str, &str)], builder: ClientBuilder) -> Client {
    let saved: Vec<(&str, Option<std::ffi::OsString>)> = VARS
        .iter()
        .map(|name| (*name, std::env::var_os(name)))
        .collect();
    for name in VARS {
        std::env::remove_var(name);
    }
    for (name, value) in vars {
        assert!(
            VARS.contains(name),
            "{name} is not restored: add it to VARS"
        );
        std::env::set_var(name, value);
    }
    let client = builder.build();
    for (name, value) in saved {
        match value {
            Some(value) => std::env::set_var(name, value),
            None => std::env::remove_var(name),
        }
    }
    client.expect("builds")
}

async fn status(client: &Client, url: &str) -> wireline::Result<u16> {
    bounded(async { Ok(client.get(url).send().await?.status().as_u16()) }).await
}

#[tokio::test]
async fn http_proxy_takes_http_urls_and_https_proxy_tunnels_https_ones() {
    let _env = ENV.lock().await;
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let for_http = proxy_server(ProxyOptions::default()).await;
    let for_https = proxy_server(ProxyOptions::default()).await;
    let client = build_with_env(
        &[
            ("HTTP_PROXY", &for_http.url()),
            ("HTTPS_PROXY", &for_https.url()),
        ],
        // The test certificate names localhost, never proxied from the environment; the
        // name the proxy is asked for is another, and routing is what this test is about.
        trusting_test_ca().danger_accept_invalid_hostnames(true),
    );

    let http_url = format!("http://origin.test:{}/", http_origin.addr.port());
    let https_url = format!("https://origin.test:{}/", https_origin.addr.port());
    assert_eq!(status(&client, &http_url).await.unwrap(), 200);
    assert_eq!(status(&client, &https_url).await.unwrap(), 200);

    let seen = for_http.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].target.as_str()),
        ("GET", http_url.as_str())
    );
    let seen = for_https.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "CONNECT");
    assert_eq!(
        seen[0].target,
        format!("origin.test:{}", https_origin.addr.port())
    );
}

#[tokio::test]
async fn lower_case_names_and_all_proxy_with_credentials() {
    let _env = ENV.lock().await;
    let origin = http_server(echo_router()).await;
    let lower = proxy_server(ProxyOptions::default()).await;
    let all = proxy_server(ProxyOptions {
        require_auth: Some(basic("u", "p w")),
        ..ProxyOptions::default()
    })
    .await;
    let url = format!("http://origin.test:{}/", origin.addr.port());

    let client = build_with_env(&[("http_proxy", &lower.url())], Client::builder());
    assert_eq!(status(&client, &url).await.unwrap(), 200);
    assert_eq!(lower.requests().len(), 1);

    let with_credentials = format!("http://u:p%20w@{}", all.addr);
    let client = build_with_env(&[("all_proxy", &with_credentials)], Client::builder());
    assert_eq!(status(&client, &url).await.unwrap(), 200);
    assert_eq!(
        all.requests()[0].header("proxy-authorization"),
        Some(basic("u", "p w").as_str())
    );
}

#[tokio::test]
async fn no_proxy_sends_matching_names_direct() {
    let _env = ENV.lock().await;
    let origin = http_server(echo_router()).await;
    let port = origin.addr.port();
    let proxy = proxy_server(ProxyOptions::default()).await;
    for (name, list) in [
        ("NO_PROXY", ".bypass.invalid, 10.0.0.0/8"),
        ("no_proxy", "bypass.invalid"),
    ] {
        let client = build_with_env(
            &[("HTTP_PROXY", &proxy.url()), (name, list)],
            Client::builder(),
        );
        // Direct: `.invalid` resolves nowhere, so the lookup fails, and the proxy sees nothing.
        let before = proxy.accepts();
        let err = status(&client, &format!("http://api.bypass.invalid:{port}/"))
            .await
            .unwrap_err();
        assert!(err.is_dns() && !err.is_proxy(), "{name}={list}: {err}");
        assert_eq!(proxy.accepts(), before, "{name}={list}");
        // Not on the list: through the proxy.
        let url = format!("http://api.proxied.invalid:{port}/");
        assert_eq!(status(&client, &url).await.unwrap(), 200, "{name}={list}");
        assert_eq!(proxy.accepts(), before + 1, "{name}={list}");
    }
    let client = build_with_env(
        &[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", "*")],
        Client::builder(),
    );
    let err = status(&client, &format!("http://api.proxied.invalid:{port}/"))
        .await
        .unwrap_err();
    assert!(err.is_dns(), "{err}");
}

#[tokio::test]
async fn loopback_destinations_never_use_the_environments_proxy() {
    let _env = ENV.lock().await;
    let origin = http_server(echo_router()).await;
    let proxy = proxy_server(ProxyOptions::default()).await;
    let client = build_with_env(&[("ALL_PROXY", &proxy.url())], Client::builder());
    for host in ["127.0.0.1", "localhost"] {
        assert_eq!(
            status(&client, &origin.url_host(host, "/")).await.unwrap(),
            200
        );
    }
    assert_eq!(proxy.accepts(), 0);
    assert_eq!(origin.requests().len(), 2);
}

#[tokio::test]
async fn builder_proxies_replace_the_environment_and_no_proxy_ignores_it() {
    let _env = ENV.lock().await;
    let origin = http_server(echo_router()).await;
    let from_env = proxy_server(ProxyOptions::default()).await;
    let explicit = proxy_server(ProxyOptions::default()).await;
    let env = [("HTTP_PROXY", from_env.url())];
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let url = format!("http://origin.test:{}/", origin.addr.port());

    let client = build_with_env(
        &env,
        Client::builder().proxy(Proxy::http(explicit.url()).unwrap()),
    );
    assert_eq!(status(&client, &url).await.unwrap(), 200);
    assert_eq!((from_env.accepts(), explicit.accepts()), (0, 1));

    let client = build_with_env(&env, Client::builder().no_proxy());
    let err = status(&client, &url).await.unwrap_err();
    assert!(err.is_dns(), "went to a proxy instead of resolving: {err}");
    assert_eq!(from_env.accepts(), 0);

    // The variables are read by build(): a client built before they were set has none.
    let client = build_with_env(&[], Client::builder());
    std::env::set_var("HTTP_PROXY", from_env.url());
    let result = status(&client, &url).await;
    std::env::remove_var("HTTP_PROXY");
    assert!(result.unwrap_err().is_dns());
    assert_eq!(from_env.accepts(), 0);
}

/// RELIABILITY Y02 (httpoxy): a CGI server turns a request's `Proxy:` header into
/// `HTTP_PROXY`, so a CGI program (`REQUEST_METHOD` set) must not use it.
#[tokio::test]
async fn y02_httpoxy_http_proxy_is_ignored_in_a_cgi_program() {
    let _env = ENV.lock().await;
    let attacker = proxy_server(ProxyOptions::default()).await;
    let url = "http://no-such-host.invalid/";

    // Outside CGI the variable is used: the request reaches the "attacker's" proxy.
    let client = build_with_env(&[("HTTP_PROXY", &attacker.url())], Client::builder());
    bounded(client.get(url).send()).await.unwrap();
    assert_eq!(attacker.accepts(), 1);

    for name in ["HTTP_PROXY", "http_proxy"] {
        let client = build_with_env(
            &[("REQUEST_METHOD", "GET"), (name, &attacker.url())],
            Client::builder(),
        );
        let started = Instant::now();
        let err = bounded(client.get(url).send()).await.unwrap_err();
        assert!(err.is_dns() && err.is_connect(), "{name}: {err}");
        assert!(!err.is_proxy(), "{name}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{name}: {:?}",
            started.elapsed()
        );
        assert_eq!(attacker.accepts(), 1, "{name}: the proxy was used");
    }

    // Variables a request header can't set still count in CGI.
    let origin = https_server(ServerOptions::default()).await;
    let admin = proxy_server(ProxyOptions::default()).await;
    let client = build_with_env(
        &[("REQUEST_METHOD", "GET"), ("HTTPS_PROXY", &admin.url())],
        trusting_test_ca().danger_accept_invalid_hostnames(true),
    );
    let https_url = format!("https://origin.test:{}/", origin.addr.port());
    assert_eq!(status(&client, &https_url).await.unwrap(), 200);
    assert_eq!(admin.requests()[0].method, "CONNECT");
}

#[cfg(feature = "socks")]
#[tokio::test]
async fn socks_proxies_in_the_environment_are_used_by_their_scheme() {
    let _env = ENV.lock().await;
    let http_origin = http_server(echo_router()).await;
    let https_origin = https_server(ServerOptions::default()).await;
    let remote = socks_server(SocksOptions::default()).await;
    let local = socks_server(SocksOptions {
        login: Some(("u".into(), "p w".into())),
        ..SocksOptions::default()
    })
    .await;
    let client = build_with_env(
        &[
            ("ALL_PROXY", &remote.url("socks5h")),
            ("HTTPS_PROXY", &format!("socks5://u:p%20w@{}", local.addr)),
        ],
        // The certificate names localhost, never proxied from the environment.
        trusting_test_ca()
            .danger_accept_invalid_hostnames(true)
            .resolve("origin.test", "127.0.0.1:0".parse().unwrap()),
    );
    let http_url = format!("http://origin.test:{}/", http_origin.addr.port());
    let https_url = format!("https://origin.test:{}/", https_origin.addr.port());
    assert_eq!(status(&client, &http_url).await.unwrap(), 200);
    assert_eq!(status(&client, &https_url).await.unwrap(), 200);

    let remote = remote.requests();
    assert_eq!(remote.len(), 1);
    assert_eq!(
        remote[0].target,
        support::SocksTarget::Name("origin.test".into(), http_origin.addr.port()),
        "socks5h: the proxy resolves"
    );
    let local = local.requests();
    assert_eq!(local.len(), 1);
    assert_eq!(
        local[0].target,
        support::SocksTarget::Addr(([127, 0, 0, 1], https_origin.addr.port()).into()),
        "socks5: the client resolves, with its overrides"
    );
    assert_eq!(local[0].login, Some(("u".into(), "p w".into())));
}

#[cfg(not(feature = "socks"))]
#[tokio::test]
async fn a_socks_proxy_in_the_environment_fails_saying_to_turn_on_the_socks_feature() {
    let _env = ENV.lock().await;
    let socks = socks_server(SocksOptions::default()).await;
    let client = build_with_env(&[("ALL_PROXY", &socks.url("socks5h"))], Client::builder());
    let err = status(&client, "http://origin.test:9/").await.unwrap_err();
    assert!(err.is_connect() && err.is_proxy(), "{err}");
    let message = err.to_string();
    let named = format!("the proxy {} uses socks5h://", socks.url("socks5h"));
    for part in [named.as_str(), "`socks` Cargo feature"] {
        assert!(message.contains(part), "{part:?} missing: {message}");
    }
    assert_eq!(socks.accepts(), 0);
}
