//! The proxies of a run, as curl chooses them: `-x`, else the environment's, with
//! `--noproxy` in place of `NO_PROXY`.

use wireline::{ClientBuilder, NoProxy, Proxy};

use crate::args::Args;
use crate::exit::{self, Failure};

/// `builder` with the proxies `args` ask for. Without `-x` or `--noproxy` it is left
/// alone, and wireline reads the environment itself.
pub(crate) fn configure(builder: ClientBuilder, args: &Args) -> Result<ClientBuilder, Failure> {
    // curl: --noproxy replaces NO_PROXY, and NO_PROXY applies to -x's proxy too.
    let bypass = || match &args.noproxy {
        Some(list) => NoProxy::from_string(list),
        None => NoProxy::from_env(),
    };
    match (&args.proxy, &args.noproxy) {
        (Some(url), _) if url.is_empty() => Ok(builder.no_proxy()),
        (Some(url), _) => Ok(builder.proxy(proxy(|url| Proxy::all(url), url)?.no_proxy(bypass()))),
        (None, Some(_)) => {
            let mut builder = builder;
            for (make, names) in env_proxies() {
                if let Some(url) = first_set(names) {
                    builder = builder.proxy(proxy(make, &url)?.no_proxy(bypass()));
                }
            }
            Ok(builder)
        }
        (None, None) => Ok(builder),
    }
}

type MakeProxy = fn(&str) -> wireline::Result<Proxy>;

/// The environment's variables, in the order wireline reads them (an `http://` URL takes
/// `HTTP_PROXY` before `ALL_PROXY`). `HTTP_PROXY` is left out under CGI, as wireline
/// does: there a request's `Proxy:` header sets it (httpoxy).
fn env_proxies() -> Vec<(MakeProxy, [&'static str; 2])> {
    let mut vars: Vec<(MakeProxy, [&str; 2])> = Vec::new();
    if std::env::var_os("REQUEST_METHOD").is_none() {
        vars.push((|url| Proxy::http(url), ["HTTP_PROXY", "http_proxy"]));
    }
    vars.push((|url| Proxy::https(url), ["HTTPS_PROXY", "https_proxy"]));
    vars.push((|url| Proxy::all(url), ["ALL_PROXY", "all_proxy"]));
    vars
}

fn first_set(names: [&str; 2]) -> Option<String> {
    names
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.trim().is_empty())
}

/// An unusable proxy URL is a usage error, named without its password.
fn proxy(make: MakeProxy, url: &str) -> Result<Proxy, Failure> {
    make(url).map_err(|e| Failure::new(exit::USAGE, format!("proxy: {}", e.without_url())))
}
