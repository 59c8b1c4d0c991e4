//! The command line of `fetch`, parsed into plain data the way curl reads its options.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use wireline::TlsVersion;

pub(crate) const USAGE: &str = "\
Usage: fetch [OPTIONS] URL

A small curl on wireline. The body goes to stdout byte for byte.

Options:
  -X, --request METHOD     use this method (default GET; POST with -d/--json)
  -H, --header 'N: V'      add a request header (repeatable)
  -d, --data DATA|@FILE    send a form body (repeats are joined with '&');
                           @FILE sends the file's bytes unchanged
      --json DATA|@FILE    send a JSON body, with Content-Type and Accept JSON
  -F, --form NAME=VALUE|NAME=@FILE[;type=MIME]
                           send a multipart/form-data body (repeatable); @FILE parts
                           are streamed from disk with the file's name
  -b, --cookie 'N=V[; N2=V2]'
                           send these cookies (curl's cookie files are not read)
  -o, --output FILE        write the body to FILE instead of stdout (with a progress
                           bar on stderr when it is a terminal)
      --compressed         ask for a compressed response and decode it (wireline's
                           default: accepted for curl compatibility)
  -s, --silent             no progress bar
  -w, --write-out FORMAT   write FORMAT to stdout after the transfer, with curl's
                           variables: %{http_code} %{size_download} %{url_effective}
                           %{remote_ip} %{remote_port} %{num_connects}
                           %{ssl_verify_result} and the times in seconds from the
                           start, %{time_namelookup} %{time_connect}
                           %{time_appconnect} %{time_pretransfer}
                           %{time_posttransfer} %{time_starttransfer}
                           %{time_redirect} %{time_total}; %% and \n \r \t
  -i, --include            write the response head before the body
  -I, --head               send HEAD and write the response head only
      --max-redirects N    follow up to N redirects (default 10; 0 = don't follow)
      --retry N            retry up to N times on curl's transient statuses (408,
                           429, 500, 502, 503, 504), on failures to connect (unlike
                           curl, a refused connection too) and on connections lost
                           before the response; waits with jittered exponential
                           backoff (up to 0.1 s, 0.2 s, 0.4 s...) or as Retry-After
                           asks (30 s at most); POST and PATCH only with an
                           Idempotency-Key header; --timeout bounds all attempts
      --cacert FILE        trust only the CA certificates in this PEM file
      --crlfile FILE       refuse certificates revoked by the CRLs in this PEM file
      --pinnedpubkey 'sha256//HASH[;sha256//HASH…]'
                           accept the URL's host only with one of these public keys
                           (base64 SHA-256 of the SubjectPublicKeyInfo; checked with -k
                           too; hosts reached by a redirect are not pinned)
  -E, --cert FILE          send this client certificate (PEM; with its key unless
                           --key is given)
      --key FILE           the client certificate's private key (PEM)
  -k, --insecure           don't verify the server's certificate
      --tls-min 1.2|1.3    lowest TLS version to accept (default 1.2)
      --timeout SECS       limit for the whole transfer
      --connect-timeout SECS  limit for the TCP connect and TLS handshake
  -x, --proxy URL          send every request through this HTTP proxy
                           (http://[user:password@]host[:port]; port 80 if none,
                           where curl assumes 1080); https:// URLs go through a
                           CONNECT tunnel. '' uses no proxy, whatever the
                           environment says. Without -x, HTTP_PROXY, HTTPS_PROXY and
                           ALL_PROXY are used, except for localhost and loopback
                           addresses
      --noproxy LIST       hosts that don't go through the proxy: names (which
                           cover the names under them), IP addresses, CIDR
                           networks, or '*'; comma-separated, replaces NO_PROXY
  -f, --fail               exit 22, printing no body, when the status is >= 400
  -v, --verbose            show the request, the TLS connection and the response
                           head on stderr
  -h, --help               show this help

Exit codes are curl's: 2 usage, 3 URL, 5 proxy DNS, 6 DNS, 7 connect (to the server
or the proxy), 22 --fail, 28 timeout, 35 TLS, 47 redirects, 56 proxy refused the
tunnel, 58 client certificate, 60 certificate, 77 CA file, 82 CRL file, 90 pinned
public key mismatch.";

/// Everything the user asked for.
#[derive(Debug, Default)]
pub(crate) struct Args {
    pub(crate) url: String,
    pub(crate) method: Option<String>,
    /// In command-line order, as (name, value).
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) payload: Option<Payload>,
    pub(crate) output: Option<PathBuf>,
    pub(crate) include: bool,
    pub(crate) head: bool,
    pub(crate) max_redirects: usize,
    /// `--retry N`: 0 means no retries.
    pub(crate) retry: u32,
    pub(crate) cacert: Option<PathBuf>,
    pub(crate) crlfile: Option<PathBuf>,
    /// The base64 hashes of `--pinnedpubkey`, without their `sha256//` prefix.
    pub(crate) pinned_keys: Vec<String>,
    /// The client certificate chain, and its key too when `key` is `None`.
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
    pub(crate) insecure: bool,
    pub(crate) tls_min: Option<TlsVersion>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    /// `-x`: `Some("")` turns proxies off.
    pub(crate) proxy: Option<String>,
    /// `--noproxy`, in place of `NO_PROXY`.
    pub(crate) noproxy: Option<String>,
    pub(crate) fail: bool,
    pub(crate) verbose: bool,
    pub(crate) silent: bool,
    /// `-w`: the format written after the transfer.
    pub(crate) write_out: Option<String>,
    /// `-F` fields in command-line order: (name, value or file).
    pub(crate) form: Vec<FormField>,
    /// `-b`: the `Cookie` header value.
    pub(crate) cookie: Option<String>,
}

/// One `-F` field.
#[derive(Debug)]
pub(crate) struct FormField {
    pub(crate) name: String,
    pub(crate) value: Source,
    /// `;type=MIME` after a file.
    pub(crate) mime: Option<String>,
}

/// A request body: its parts, read later so parsing stays free of I/O.
#[derive(Debug)]
pub(crate) struct Payload {
    pub(crate) kind: PayloadKind,
    pub(crate) parts: Vec<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayloadKind {
    /// `-d`: parts joined with `&`, sent as a form.
    Form,
    /// `--json`: parts concatenated, sent as JSON.
    Json,
}

#[derive(Debug)]
pub(crate) enum Source {
    Inline(String),
    File(PathBuf),
}

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    Fetch(Box<Args>),
    Help,
}

/// Parses the arguments after the program name. The error is the one line to show.
pub(crate) fn parse(raw: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    let mut words = Vec::new();
    for word in raw {
        words.push(
            word.into_string()
                .map_err(|w| format!("argument {w:?} is not valid UTF-8"))?,
        );
    }
    let mut args = Args {
        max_redirects: 10,
        ..Args::default()
    };
    let mut url = None;
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let options = if word == "--" {
            for rest in words.by_ref() {
                set_url(&mut url, rest)?;
            }
            break;
        } else if let Some(long) = word.strip_prefix("--") {
            // `--name=value` or `--name value`.
            match long.split_once('=') {
                Some((name, value)) => vec![(format!("--{name}"), Some(value.to_owned()))],
                None => vec![(word.clone(), None)],
            }
        } else if word.len() > 1 && word.starts_with('-') {
            split_short(&word)
        } else {
            set_url(&mut url, word)?;
            continue;
        };
        for (name, attached) in options {
            if name == "-h" || name == "--help" {
                return Ok(Command::Help);
            }
            let mut value = || match attached.clone() {
                Some(value) => Ok(value),
                None => words
                    .next()
                    .ok_or_else(|| format!("option {name} needs a value")),
            };
            apply(&mut args, &name, &mut value)?;
        }
    }
    args.url = url.ok_or("no URL given")?;
    if args.key.is_some() && args.cert.is_none() {
        return Err("--key needs --cert (the certificate the key belongs to)".into());
    }
    if args.head && (args.payload.is_some() || !args.form.is_empty()) {
        return Err("-I/--head sends no body, so it can't be used with -d, --json or -F".into());
    }
    if args.payload.is_some() && !args.form.is_empty() {
        return Err("-F can't be combined with -d or --json".into());
    }
    Ok(Command::Fetch(Box::new(args)))
}

fn set_url(url: &mut Option<String>, word: String) -> Result<(), String> {
    if url.is_some() {
        return Err(format!(
            "only one URL is supported (got a second one: {word:?})"
        ));
    }
    *url = Some(word);
    Ok(())
}

/// Short options as getopt reads them: `-fv` is `-f -v`, and an option that takes a value
/// takes the rest of the word (`-XPOST`) or, when that is empty, the next word.
fn split_short(word: &str) -> Vec<(String, Option<String>)> {
    let mut options = Vec::new();
    for (at, letter) in word.char_indices().skip(1) {
        let name = format!("-{letter}");
        if matches!(letter, 'X' | 'H' | 'd' | 'o' | 'E' | 'x' | 'F' | 'b' | 'w') {
            let rest = &word[at + letter.len_utf8()..];
            options.push((name, (!rest.is_empty()).then(|| rest.to_owned())));
            break;
        }
        options.push((name, None));
    }
    options
}

fn apply(
    args: &mut Args,
    name: &str,
    value: &mut dyn FnMut() -> Result<String, String>,
) -> Result<(), String> {
    match name {
        "-X" | "--request" => args.method = Some(value()?),
        "-H" | "--header" => args.headers.push(header(&value()?)?),
        "-d" | "--data" => add_part(args, PayloadKind::Form, source(value()?))?,
        "--json" => add_part(args, PayloadKind::Json, source(value()?))?,
        "-o" | "--output" => args.output = Some(PathBuf::from(value()?)),
        "-i" | "--include" => args.include = true,
        "-I" | "--head" => args.head = true,
        "--max-redirects" => {
            let text = value()?;
            args.max_redirects = text
                .parse()
                .map_err(|_| format!("--max-redirects needs a whole number, not {text:?}"))?;
        }
        "--retry" => {
            let text = value()?;
            args.retry = text
                .parse()
                .map_err(|_| format!("--retry needs a whole number, not {text:?}"))?;
        }
        "--cacert" => args.cacert = Some(PathBuf::from(value()?)),
        "--crlfile" => args.crlfile = Some(PathBuf::from(value()?)),
        "--pinnedpubkey" => args.pinned_keys = pinned_keys(&value()?)?,
        "-E" | "--cert" => args.cert = Some(PathBuf::from(value()?)),
        "--key" => args.key = Some(PathBuf::from(value()?)),
        "-k" | "--insecure" => args.insecure = true,
        "--tls-min" => {
            args.tls_min = Some(match value()?.as_str() {
                "1.2" => TlsVersion::TLS_1_2,
                "1.3" => TlsVersion::TLS_1_3,
                other => return Err(format!("--tls-min must be 1.2 or 1.3, not {other:?}")),
            })
        }
        "--timeout" => args.timeout = Some(seconds(name, &value()?)?),
        "--connect-timeout" => args.connect_timeout = Some(seconds(name, &value()?)?),
        "-x" | "--proxy" => args.proxy = Some(value()?),
        "--noproxy" => args.noproxy = Some(value()?),
        "-f" | "--fail" => args.fail = true,
        "-v" | "--verbose" => args.verbose = true,
        "-F" | "--form" => args.form.push(form_field(&value()?)?),
        "-b" | "--cookie" => {
            let text = value()?;
            if !text.contains('=') {
                return Err(format!(
                    "-b {text:?}: fetch reads no cookie files; give the cookies as 'name=value; other=value'"
                ));
            }
            args.cookie = Some(text);
        }
        "-s" | "--silent" => args.silent = true,
        "-w" | "--write-out" => args.write_out = Some(value()?),
        // Decompression is on by default; curl needs the flag to ask for it.
        "--compressed" => {}
        _ => return Err(format!("unknown option {name}")),
    }
    Ok(())
}

fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("header {text:?} must look like 'Name: value'"))?;
    Ok((name.trim().to_owned(), value.trim_start().to_owned()))
}

/// curl's `sha256//A;sha256//B`. curl also takes a public key file there; fetch doesn't.
fn pinned_keys(text: &str) -> Result<Vec<String>, String> {
    text.split(';')
        .map(|pin| {
            pin.trim()
                .strip_prefix("sha256//")
                .filter(|hash| !hash.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    format!(
                        "--pinnedpubkey takes sha256//BASE64 hashes separated by ';', not \
                         {pin:?} (public key files are not supported)"
                    )
                })
        })
        .collect()
}

fn source(text: String) -> Source {
    match text.strip_prefix('@') {
        Some(path) => Source::File(PathBuf::from(path)),
        None => Source::Inline(text),
    }
}

/// `NAME=VALUE`, or `NAME=@FILE` with an optional `;type=MIME`, as curl's `-F` reads them.
fn form_field(text: &str) -> Result<FormField, String> {
    let (name, value) = text
        .split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("-F needs NAME=VALUE or NAME=@FILE, not {text:?}"))?;
    let Some(file) = value.strip_prefix('@') else {
        return Ok(FormField {
            name: name.to_owned(),
            value: Source::Inline(value.to_owned()),
            mime: None,
        });
    };
    let (path, mime) = match file.split_once(";type=") {
        Some((path, mime)) => (path, Some(mime.to_owned())),
        None => (file, None),
    };
    Ok(FormField {
        name: name.to_owned(),
        value: Source::File(PathBuf::from(path)),
        mime,
    })
}

fn add_part(args: &mut Args, kind: PayloadKind, part: Source) -> Result<(), String> {
    let payload = args.payload.get_or_insert_with(|| Payload {
        kind,
        parts: Vec::new(),
    });
    if payload.kind != kind {
        return Err("-d and --json can't be combined".into());
    }
    payload.parts.push(part);
    Ok(())
}

fn seconds(name: &str, text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{name} needs a positive number of seconds, not {text:?}"))
}
