//! # wireline
//!
//! An async HTTPS client for tokio, in the spirit of Python's `requests`: builders on top of
//! hyper's pooled client, with TLS by rustls and verification you can configure.
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! // One call:
//! let text = wireline::get("https://example.com/").await?.text().await?;
//!
//! // A client to reuse (it pools connections):
//! let client = wireline::Client::builder()
//!     .ca_file("ca.pem")                                  // trust only this CA
//!     .min_tls_version(wireline::TlsVersion::TLS_1_3)
//!     .timeout(std::time::Duration::from_secs(30))
//!     .build()?;
//! let resp = client
//!     .post("https://example.com/api")
//!     .bearer_auth("token")
//!     .json(&serde_json::json!({"hello": "world"}))
//!     .send()
//!     .await?
//!     .error_for_status()?;
//! println!("{} from {:?}", resp.status(), resp.remote_addr());
//! # Ok(()) }
//! ```
//!
//! Without an async runtime, as with requests, the [blocking client][blocking] (the
//! `blocking` Cargo feature) has the same settings and calls, without the `.await`s:
//! `wireline::blocking::get(url)?.text()?`.
//!
// Without the feature the module doesn't exist: the link points at docs.rs' build (every
// feature on).
#![cfg_attr(feature = "blocking", doc = "[blocking]: crate::blocking")]
#![cfg_attr(
    not(feature = "blocking"),
    doc = "[blocking]: https://docs.rs/wireline/latest/wireline/blocking/index.html"
)]
//!
//! ## What is built in
//! - **TLS**: the system's root certificates (loaded once per process, shared by every
//!   client), a CA file ([`ClientBuilder::ca_file`]), extra roots
//!   ([`ClientBuilder::add_root_certificate`]), or no verification
//!   ([`ClientBuilder::danger_accept_invalid_certs`], which still checks handshake
//!   signatures), or everything but the host name
//!   ([`ClientBuilder::danger_accept_invalid_hostnames`]). Public-key pins per host on top
//!   of any of these ([`ClientBuilder::pin_sha256`]), and certificate revocation lists
//!   ([`ClientBuilder::add_crl`] with a [`CertificateRevocationList`]). A version range
//!   ([`ClientBuilder::min_tls_version`], [`ClientBuilder::max_tls_version`]), client
//!   certificates ([`ClientBuilder::identity`] with an [`Identity`]), SNI
//!   ([`ClientBuilder::tls_sni`]), a key log for Wireshark ([`ClientBuilder::tls_keylog`]),
//!   and what each connection negotiated ([`Response::tls_info`]). A failed verification
//!   names the host, the certificate, the failed check and the fix. Cargo features choose
//!   the crypto (`ring` by default, or `aws-lc-rs` with post-quantum key exchange), add
//!   the operating system's verifier (`platform-verifier`) and PKCS#12 identities
//!   (`pkcs12`, on by default); your own rustls configuration goes in with
//!   [`ClientBuilder::use_preconfigured_tls`]; reqwest 0.13's TLS names work too
//!   ([`tls`]; the TLS guide's [reqwest spellings](guide::tls#reqwest-013s-spellings)).
//! - **HTTP/2** by ALPN, falling back to HTTP/1.1, or with prior knowledge
//!   ([`ClientBuilder::http2_prior_knowledge`]); keep-alive connection reuse; the HTTP/1
//!   and h2 settings under reqwest's names (see [below](#http-versions)).
//! - **Redirects**: up to 10 by default; credentials (`Authorization`, `Cookie`,
//!   `Proxy-Authorization`) never follow a redirect to another origin.
//! - **Timeouts**: [`ClientBuilder::timeout`] bounds the whole request including the body;
//!   [`ClientBuilder::connect_timeout`] bounds TCP connect and TLS handshake together;
//!   [`ClientBuilder::read_timeout`] and [`ClientBuilder::low_speed_limit`] bound a slow
//!   server (see below).
//! - **Decompression**: gzip, deflate, brotli and zstd bodies are decoded as they are read
//!   (see below).
//! - **Stale connections**: a request that meets a pooled connection the server closed
//!   while idle, or an h2 stream the server refused, is sent again, when that is safe
//!   (see below).
//! - **Retries**, opt-in: [`ClientBuilder::retry`] with a [`retry::Policy`] retries
//!   failed connections and 429/502/503/504 with jittered backoff, `Retry-After`, and a
//!   budget (see below).
//! - **Proxies**: HTTP proxies from the environment (`HTTPS_PROXY` and the rest) or from
//!   [`ClientBuilder::proxy`], with `CONNECT` tunnels for https (see below).
//! - **Name resolution and sockets**: per-name overrides ([`ClientBuilder::resolve`], curl's
//!   `--resolve`), your own resolver ([`ClientBuilder::dns_resolver`]) or hickory's (the
//!   `hickory-dns` feature), TCP options, a local address or interface, and Unix sockets
//!   ([`ClientBuilder::unix_socket`]) (see below).
//! - **Typed errors**: [`Error::kind`] and the `is_*` methods.
//! - **Limits on what a server can make us do**: response heads of 64 KiB at most
//!   ([`ClientBuilder::max_response_header_size`]), and no plain HTTP at all with
//!   [`ClientBuilder::https_only`] (see below).
//! - **Cookies** (the `cookies` feature, off by default): see [below](#cookies).
//! - **Uploads**: multipart forms (the `multipart` feature, on by default) and file
//!   bodies, streamed from disk: see [below](#uploads).
//!
//! The guides in `docs/` cover TLS configuration ([`guide::tls`]) and reliability
//! ([`guide::reliability`]) in depth.
//!
//! ## Decompression
//! Every request asks for `Accept-Encoding: gzip, deflate, br, zstd` unless it sets its own
//! `Accept-Encoding` or asks for a `Range` (part of a compressed body could not be decoded
//! on its own; reqwest does the same), and a response with one of those codings is decoded as you read it:
//! [`Response::bytes`], [`Response::text`], [`Response::chunk`] and the rest see the
//! original bytes, and the `Content-Encoding` and `Content-Length` headers are removed (so
//! [`Response::content_length`] is `None`). Responses without a coding we decode, or with a
//! list of several, arrive exactly as sent, and cost nothing extra. Corrupt data is an
//! [`is_decode`](Error::is_decode) error; an empty body (HEAD, 204, 304) is never one.
//!
//! Each coding has a switch ([`ClientBuilder::gzip`], [`ClientBuilder::deflate`],
//! [`ClientBuilder::brotli`], [`ClientBuilder::zstd`]) and a Cargo feature of the same name
//! (`brotli` for `br`), all on by default. Compressed data can inflate a thousandfold, so a
//! client that reads bodies whole from servers it doesn't trust should set
//! [`ClientBuilder::max_decoded_body`]:
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! let client = wireline::Client::builder()
//!     .max_decoded_body(50 * 1024 * 1024) // a 50 MiB body at most, once decoded
//!     .build()?;
//! match client.get("https://example.com/huge").send().await?.bytes().await {
//!     Ok(body) => println!("{} bytes", body.len()),
//!     Err(e) if e.is_decode() => eprintln!("refused: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Slow servers
//! [`ClientBuilder::timeout`] caps a request's total time. Two rules bound a server that is
//! merely slow, both off by default and free when off:
//! [`read_timeout`](ClientBuilder::read_timeout) is the longest it may keep us waiting for
//! the head or for the next piece of the body, and
//! [`low_speed_limit`](ClientBuilder::low_speed_limit) (curl's rule) fails a response slower
//! than a rate for a whole window. A server that trickles one byte just inside the read
//! timeout defeats the first rule but not the second. Only time spent waiting on the server
//! counts, never time your code takes between reads. Both fail with
//! [`is_timeout`](Error::is_timeout) errors that name the rule.
//!
//! ```
//! # fn run() -> wireline::Result<()> {
//! use std::time::Duration;
//! let client = wireline::Client::builder()
//!     .read_timeout(Duration::from_secs(15))
//!     .low_speed_limit(1024, Duration::from_secs(30)) // 1 KiB/s over 30 s
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! ## Stale connections
//! A server may close an idle keep-alive connection just as we send a request on it. The
//! pool keeps idle connections for 50 s by default
//! ([`ClientBuilder::pool_idle_timeout`]), less than nginx (75 s) and most load balancers
//! (60 s), so we usually close first. When a server closes sooner, the pool already
//! resends a request that never left; wireline adds the case of a request written into
//! the closing connection, which then ends before any byte of the answer. Such a request
//! is sent again on another connection by Go's rule (`shouldRetryRequest`): only on a
//! reused HTTP/1 connection, never on a fresh one, never once any byte of the response
//! arrived, only with a body that is bytes (not a stream), and, since the server may have
//! seen it, only for GET, HEAD, OPTIONS and TRACE or a request carrying an
//! `Idempotency-Key` header. When the resend meets another stale connection (a server
//! that closed all its idle connections at once), it goes again, up to eight times.
//! Anything else is returned as an
//! [`is_request`](Error::is_request) error, unless a retry policy retries it (below).
//! Over h2 the server tells which requests it never processed (a stream reset with
//! `REFUSED_STREAM`, or above the last stream id of a `GOAWAY`); those are sent again
//! once, whatever the method, if the body is bytes (twice if refused after a `GOAWAY`).
//!
//! ## Many requests at once
//! A client's requests share its pool: over h2 they share one connection per server, up
//! to the streams the server allows on it, past which another is opened (docs/pooling.md);
//! over HTTP/1.1 each request that finds no idle connection opens one, as in reqwest, so
//! 1,000 requests at once hold up to 1,000 sockets;
//! [`pool_max_idle_per_host`](ClientBuilder::pool_max_idle_per_host) bounds only what stays
//! open between requests. To bound sockets, bound concurrency:
//!
//! ```no_run
//! # async fn run(urls: Vec<String>) -> wireline::Result<()> {
//! use futures_util::{stream, StreamExt};
//!
//! let client = wireline::Client::builder().pool_max_idle_per_host(8).build()?;
//! let fetch = |url: String| {
//!     let client = client.clone();
//!     async move { client.get(url).send().await?.bytes().await }
//! };
//! // At most 8 requests, and so 8 sockets, at a time.
//! let bodies: Vec<_> = stream::iter(urls).map(fetch).buffer_unordered(8).collect().await;
//! # Ok(()) }
//! ```
//!
//! ## HTTP versions
//! An https connection speaks h2 when the server chooses it by ALPN, else HTTP/1.1, and
//! `http://` URLs speak HTTP/1.1; [`Response::version`] tells which.
//! [`http1_only`](ClientBuilder::http1_only) offers only HTTP/1.1.
//! [`http2_prior_knowledge`](ClientBuilder::http2_prior_knowledge) speaks h2 on every
//! connection without asking: over plain TCP (services that speak h2 without TLS, such as
//! many gRPC servers), and over TLS offering only `h2` by ALPN and speaking it even when
//! the server's ALPN chose nothing. A server that knows only HTTP/1.1 then fails the
//! request: over TLS with a `NoApplicationProtocol` alert (an [`is_tls`](Error::is_tls)
//! error), over TCP with an [`is_request`](Error::is_request) error saying it does not
//! speak HTTP/2. Of the two settings, the later call wins, as in reqwest.
//!
//! A request's own [`version`](RequestBuilder::version) does not choose the protocol: as
//! in reqwest it is handed to hyper, which sends `HTTP_10` as an `HTTP/1.0` request line
//! and refuses `HTTP_2` on a connection that speaks HTTP/1, so
//! `.version(Version::HTTP_2)` on an `http://` URL fails unless the client has prior
//! knowledge.
//!
//! The h2 settings keep reqwest's names and hyper's defaults: the flow-control windows
//! ([`http2_initial_stream_window_size`](ClientBuilder::http2_initial_stream_window_size),
//! 2 MiB; [`http2_initial_connection_window_size`](ClientBuilder::http2_initial_connection_window_size),
//! 5 MiB; or [`http2_adaptive_window`](ClientBuilder::http2_adaptive_window)), the largest
//! frame accepted ([`http2_max_frame_size`](ClientBuilder::http2_max_frame_size), 16 KiB),
//! the header list limit
//! ([`http2_max_header_list_size`](ClientBuilder::http2_max_header_list_size), by default
//! `max_response_header_size`), and keep-alive PINGs
//! ([`http2_keep_alive_interval`](ClientBuilder::http2_keep_alive_interval), off by
//! default, with its timeout and
//! [`http2_keep_alive_while_idle`](ClientBuilder::http2_keep_alive_while_idle)). For
//! HTTP/1: [`http1_title_case_headers`](ClientBuilder::http1_title_case_headers) and
//! [`http1_max_headers`](ClientBuilder::http1_max_headers). Four settings accept replies
//! wireline refuses by default, each giving up one check of the
//! [reliability guide](guide::reliability#choices):
//! [`http09_responses`](ClientBuilder::http09_responses),
//! [`http1_allow_obsolete_multiline_headers_in_responses`](ClientBuilder::http1_allow_obsolete_multiline_headers_in_responses),
//! [`http1_ignore_invalid_headers_in_responses`](ClientBuilder::http1_ignore_invalid_headers_in_responses)
//! and [`http1_allow_spaces_after_header_name_in_responses`](ClientBuilder::http1_allow_spaces_after_header_name_in_responses).
//! Turn one on only for a server known to need it, and only for its client. Settings left
//! alone cost nothing.
//!
//! ```
//! # fn run() -> wireline::Result<()> {
//! use std::time::Duration;
//! // An h2 service over plain TCP, its connections pinged while requests wait, so that
//! // a request on a connection that died silently fails within about 40 s.
//! let client = wireline::Client::builder()
//!     .http2_prior_knowledge()
//!     .http2_keep_alive_interval(Duration::from_secs(30))
//!     .http2_keep_alive_timeout(Duration::from_secs(10))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! ## Retries
//! A client retries nothing unless given a [`retry::Policy`] (the stale-connection resend
//! above aside). With one, a request that could not connect, lost its connection before
//! any byte of the response, or got a status in the policy's list (429, 502, 503, 504) is
//! sent again, up to [`max_retries`](retry::Policy::max_retries) times: only when it is safe
//! to send twice (an idempotent method, an `Idempotency-Key`, or a request that never
//! left), after a jittered exponential backoff or the server's `Retry-After`, within
//! [`ClientBuilder::timeout`], and within a [`retry::Budget`] the client's requests share,
//! so retries can't multiply the load on a failing server. When they run out on a status,
//! the server's last response is returned. The [`retry`] module has the details, the
//! comparison with reqwest, requests and curl, and reqwest 0.13's `retry::for_host`.
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! use std::time::Duration;
//! use wireline::retry::Policy;
//!
//! let client = wireline::Client::builder()
//!     .retry(Policy::default().max_retries(3))
//!     .timeout(Duration::from_secs(30)) // all attempts and waits together
//!     .build()?;
//! let resp = client.get("https://example.com/api").send().await?;
//! # Ok(()) }
//! ```
//!
//! ## Cookies
//! With the `cookies` Cargo feature (off by default, as in reqwest), a client built with
//! [`ClientBuilder::cookie_store`][cookie_store]`(true)` keeps the cookies servers set and
//! sends them back, by RFC 6265's Domain, Path, Secure and expiry rules
//! ([`cookie::Jar`][jar] lists what it enforces). `Set-Cookie` on a redirect response is
//! stored too, and each hop of a redirect gets the cookies for its own URL. To share a jar
//! between clients, or fill it before the first request, pass it to
//! [`ClientBuilder::cookie_provider`][cookie_provider].
//!
// Without the feature these items don't exist: the links point at this section instead.
#![cfg_attr(
    feature = "cookies",
    doc = "[cookie_store]: ClientBuilder::cookie_store"
)]
#![cfg_attr(
    feature = "cookies",
    doc = "[cookie_provider]: ClientBuilder::cookie_provider"
)]
#![cfg_attr(feature = "cookies", doc = "[jar]: cookie::Jar")]
#![cfg_attr(not(feature = "cookies"), doc = "[cookie_store]: #cookies")]
#![cfg_attr(not(feature = "cookies"), doc = "[cookie_provider]: #cookies")]
#![cfg_attr(not(feature = "cookies"), doc = "[jar]: #cookies")]
//!
//! ```toml
//! wireline = { version = "0.1", features = ["cookies"] }
//! ```
//!
#![cfg_attr(feature = "cookies", doc = "```no_run")]
#![cfg_attr(not(feature = "cookies"), doc = "```ignore")]
//! # async fn run() -> wireline::Result<()> {
//! use std::sync::Arc;
//! use wireline::cookie::Jar;
//!
//! let jar = Arc::new(Jar::default());
//! jar.add_cookie_str("consent=yes; Domain=example.com", &"https://example.com/".parse().unwrap());
//! let client = wireline::Client::builder().cookie_provider(jar.clone()).build()?;
//!
//! client.post("https://example.com/login").form(&[("user", "ada")]).send().await?;
//! // Sent with consent=yes and whatever session cookie the login set:
//! let me = client.get("https://example.com/me").send().await?.text().await?;
//! # Ok(()) }
//! ```
//!
//! A `Cookie` header you set on a request is sent instead of the jar's on the hops it
//! reaches; like `Authorization`, it never follows a redirect to another origin. Without
//! a cookie store a client keeps nothing and pays nothing for cookies.
//!
//! ## Uploads
//! A file given as a body, or as a part of a multipart form, is read while the request is
//! sent, so its size doesn't matter: uploading a 1 GiB file raises the process's peak
//! memory by under 2 MiB (the `upload` test measures it).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = wireline::Client::new();
//!
//! // The file as the whole body (chunked, unless you set Content-Length):
//! let file = tokio::fs::File::open("disk.img").await?;
//! client.put("https://example.com/images/disk.img").body(file).send().await?;
//! # Ok(()) }
//! ```
//!
//! A [`multipart::Form`] ([`RequestBuilder::multipart`]) carries text fields, bytes and
//! files; file parts get their name and a MIME type guessed from the extension, and the
//! request gets a `Content-Length` whenever every part's length is known. A form that is
//! all in memory is one buffer, sent again if a 307/308 redirect asks.
//!
#![cfg_attr(feature = "multipart", doc = "```no_run")]
#![cfg_attr(not(feature = "multipart"), doc = "```ignore")]
//! # async fn run() -> wireline::Result<()> {
//! use wireline::multipart::{Form, Part};
//!
//! let form = Form::new()
//!     .text("album", "2024")
//!     .part("cover", Part::bytes(std::fs::read("cover.jpg").unwrap()).file_name("cover.jpg"))
//!     .file("track", "01-intro.flac")
//!     .await?;
//! wireline::Client::new()
//!     .post("https://example.com/albums")
//!     .multipart(form)
//!     .send()
//!     .await?
//!     .error_for_status()?;
//! # Ok(()) }
//! ```
//!
//! ## Proxies
//! A client sends its requests through an HTTP proxy when one applies to the URL:
//! `http://` URLs go to the proxy as a whole (`GET http://host/path`), with the proxy's
//! credentials in a `Proxy-Authorization` header; for `https://` URLs the proxy is asked
//! for a tunnel (`CONNECT host:443`), with the credentials on that request only, and TLS
//! runs through the tunnel to the server itself. The proxy sees the host and port, never
//! the request, and the server is verified exactly as without a proxy (every TLS setting
//! applies, [`TlsOptions`] included) and never sees the proxy's credentials.
//!
//! What the proxy is sent besides, as reqwest sends it: the client's `User-Agent` on the
//! `CONNECT`, and the headers of [`Proxy::headers`] on the `CONNECT` and with each
//! `http://` request (replacing the client's `User-Agent` if they have one);
//! [`Proxy::custom_http_auth`] sets the whole `Proxy-Authorization` value, a token for
//! instance.
//!
//! By default [`build`](ClientBuilder::build) (and [`Client::new`]) reads the variables
//! curl and most tools read, upper case first, then lower case:
//!
//! | variable | used for |
//! |---|---|
//! | `HTTP_PROXY` | `http://` URLs |
//! | `HTTPS_PROXY` | `https://` URLs |
//! | `ALL_PROXY` | either, when the variable above is unset |
//! | `NO_PROXY` | destinations that go direct: domains with the names under them, IP addresses, CIDR networks, or `*` ([`NoProxy`]) |
//!
//! Two exceptions, both Go's rules: `localhost`, names under it and loopback addresses
//! never go through the environment's proxy, which couldn't reach them; and in a CGI
//! program (`REQUEST_METHOD` set) `HTTP_PROXY` is ignored, since a request's `Proxy:`
//! header arrives there as that variable ("httpoxy"). A request that would go through a
//! proxy wireline can't use (`https://`, or SOCKS without the `socks` feature) fails,
//! saying so.
//!
//! Proxies given to the builder replace the environment's; several are tried in order,
//! and [`ClientBuilder::no_proxy`] turns proxies off. [`Proxy::custom`] chooses one per
//! destination with a function of your own:
//!
//! ```
//! # fn run() -> wireline::Result<()> {
//! use wireline::{NoProxy, Proxy};
//! let client = wireline::Client::builder()
//!     .proxy(
//!         Proxy::all("http://proxy.corp.example:3128")?
//!             .basic_auth("alice", "s3cret")
//!             .no_proxy(NoProxy::from_string(".corp.example, 10.0.0.0/8")),
//!     )
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! ### SOCKS
//! With the `socks` Cargo feature (reqwest's name), a proxy URL may be a SOCKS one, given
//! to [`Proxy`] or in the variables above (`ALL_PROXY=socks5h://127.0.0.1:1080`):
//!
//! | scheme | the destination's name is resolved by |
//! |---|---|
//! | `socks5h://` | the proxy (the name is sent, and never looked up here) |
//! | `socks5://` | the client, with its own resolver ([`resolve`](ClientBuilder::resolve) overrides and [`dns_resolver`](ClientBuilder::dns_resolver) included); the first address is sent |
//! | `socks4a://` | the proxy |
//! | `socks4://` | the client, as for `socks5://`; the first IPv4 address is sent |
//!
//! The port is 1080 unless the URL gives one. SOCKS5 takes the user and password of the
//! URL (`socks5h://user:password@host`) or of [`Proxy::basic_auth`]; SOCKS4 carries no
//! password (credentials fail the request, saying so) and no IPv6 address. Through a
//! SOCKS proxy, an `http://` request goes as it would to the server, and an `https://`
//! one gets TLS to the server through it, verified for the URL's host exactly as without
//! a proxy. [`Proxy::headers`] and [`Proxy::custom_http_auth`] are for HTTP proxies only.
//!
//! ```
//! # fn run() -> wireline::Result<()> {
//! # #[cfg(feature = "socks")] {
//! let client = wireline::Client::builder()
//!     .proxy(wireline::Proxy::all("socks5h://user:password@127.0.0.1:1080")?)
//!     .build()?;
//! # }
//! # Ok(()) }
//! ```
//!
//! ### Failures
//! A proxy that can't be reached is an [`is_connect`](Error::is_connect) error naming it;
//! one that refuses the tunnel is an [`ErrorKind::ProxyTunnel`] error with its status
//! (407 when it wants credentials or refused them). A SOCKS proxy that refuses the
//! connection is an [`ErrorKind::Connect`] error naming it and saying why: its reply code
//! in words, or the user and password it refused. [`Error::is_proxy`] tells all of these
//! from the server's own failures. An `http://` request gets an HTTP proxy's refusal as
//! its response, as with curl. [`Response::remote_addr`] is the proxy's address.
//!
//! ## Name resolution and sockets
//! Host names go to the system's resolver, unless [`resolve`](ClientBuilder::resolve) or
//! [`resolve_to_addrs`](ClientBuilder::resolve_to_addrs) send a name to addresses you give
//! (curl's `--resolve`: TLS still checks the URL's name), your
//! [`dns_resolver`](ClientBuilder::dns_resolver) answers, or hickory-resolver does (the
//! `hickory-dns` Cargo feature). A proxy's name goes the same way. The [`dns`] module has
//! the details (ports, failures) and a resolver to copy.
//!
//! Sockets get reqwest 0.13's options: `TCP_NODELAY`, keepalive probes after 15 s idle,
//! every 15 s, 3 of them, so a pooled connection to a vanished server is found dead within
//! a minute, and on Linux a `TCP_USER_TIMEOUT` of 30 s ([`tcp_nodelay`](ClientBuilder::tcp_nodelay),
//! [`tcp_keepalive`](ClientBuilder::tcp_keepalive) and the settings after it).
//! [`local_address`](ClientBuilder::local_address) and
//! [`interface`](ClientBuilder::interface) pick where connections leave from;
//! [`unix_socket`](ClientBuilder::unix_socket) sends every request over a Unix socket
//! instead (the URL's host only names the server; nothing is resolved, no proxy used).
//!
//! ```no_run
//! # async fn run() -> wireline::Result<()> {
//! use std::time::Duration;
//! let staging = wireline::Client::builder()
//!     .resolve("api.example.com", "10.1.2.3:0".parse().unwrap()) // port 0: the URL's
//!     .tcp_keepalive(Duration::from_secs(60))
//!     .build()?;
//! let health = staging.get("https://api.example.com/health").send().await?;
//!
//! # #[cfg(unix)] {
//! let docker = wireline::Client::builder().unix_socket("/var/run/docker.sock").build()?;
//! let containers = docker.get("http://docker/v1.43/containers/json").send().await?;
//! # }
//! # Ok(()) }
//! ```
//!
//! ## Broken and hostile servers
//! A response head over [`max_response_header_size`](ClientBuilder::max_response_header_size)
//! (64 KiB by default; HTTP/1 heads may also have at most 100 fields, h2 header lists
//! have their own limit if [`http2_max_header_list_size`](ClientBuilder::http2_max_header_list_size)
//! is set) fails the request after reading no more than about twice that. A response framed by both `Transfer-Encoding` and
//! `Content-Length`, or by a transfer coding other than `chunked`, is refused and its
//! connection closed, never reused: that is how request smuggling and response splitting
//! look. Conflicting `Content-Length`s, malformed heads and HTTP/0.9 are refused too; these
//! are [`is_request`](Error::is_request) errors (four opt-ins accept some of them: see
//! [HTTP versions](#http-versions)). A body cut short (by a close, a reset, bad
//! chunking, or a TLS close without `close_notify` where only the close ends the body) is
//! an [`is_body`](Error::is_body) error, never a short success. Interim responses (100,
//! 102–199) are skipped; an unrequested 101 is returned as the response.
//!
//! Over h2, a request the server says it never processed (`REFUSED_STREAM`, or a stream
//! above a `GOAWAY`'s last id) is sent again once, whatever its method, if its body is
//! bytes. [`ClientBuilder::https_only`] refuses `http://` URLs and redirects to them before
//! anything is sent. The `Debug` output of requests, clients and responses never shows
//! `Authorization`, `Proxy-Authorization`, `Cookie` or `Set-Cookie` values, nor a URL's
//! password, and wireline never logs them. [`guide::reliability`] has the fault matrix the
//! tests play, with each choice and limit.
//!
//! ## Runtime
//! wireline runs on tokio with its timer enabled (`#[tokio::main]` does this). The
//! blocking client brings its own runtime, on a thread of its own.

// The rooms, in the order a request passes through them (docs/architecture.md): what a
// user calls, one request's loop, one attempt through the pool, the pool, the connector,
// TLS; `src/rooms.rs` checks that each imports only the rooms below it. (Blank lines
// keep rustfmt from sorting them.)
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;

mod body;
#[cfg(feature = "cookies")]
pub mod cookie;
mod into_url;
#[cfg(feature = "multipart")]
pub mod multipart;
pub mod redirect;
mod request;
mod response;
pub mod retry;

mod attempt;

mod timeouts;
mod timings;

mod pool;

mod connect;

mod proxy;

pub mod tls;

mod error;
mod progress;
mod redact;

/// Not for users: the fuzz targets' in-memory connections (see `fuzz/`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::connect::memory::MemoryIo;
    pub use crate::proxy::fuzzing_route as proxy_route;
}

pub use body::Body;
pub use client::{layer, Client, RequestBuilder};

/// Settings for a [`Client`]. Each method takes and returns the builder by value, so
/// `builder = builder.timeout(d)` works; [`build`](ClientBuilder::build) turns the settings
/// into the TLS configuration, the connector and the pool, and reports any invalid one.
/// (It is [`builder::ClientBuilder`] for the async [`Client`]: the blocking client's
/// builder has the same settings.)
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// use std::time::Duration;
/// let client = wireline::Client::builder()
///     .timeout(Duration::from_secs(30))
///     .connect_timeout(Duration::from_secs(5))
///     .min_tls_version(wireline::TlsVersion::TLS_1_3)
///     .user_agent("my-app/1.0")
///     .build()?;
/// # Ok(()) }
/// ```
pub type ClientBuilder = builder::ClientBuilder<Client>;

/// The client builder, one type for both kinds of client: [`ClientBuilder`] for the async
/// [`Client`], and the blocking client's builder (the `blocking` Cargo feature), so every
/// setting is the same method on both.
pub mod builder {
    pub use crate::client::ClientBuilder;
}
pub use connect::dns;
#[cfg(unix)]
pub use connect::socket::UnixSocketProvider;
pub use error::{CertificateErrorKind, Error, ErrorKind, Result, TlsErrorKind};
pub use into_url::IntoUrl;
pub use proxy::{IntoProxy, NoProxy, Proxy};
pub use request::Request;
pub use response::{Response, ResponseBuilderExt, Upgraded};
pub use timings::Timings;
pub use tls::{
    Certificate, CertificateRevocationList, Identity, PeerCertificate, TlsInfo, TlsOptions,
    TlsVersion,
};

pub use http::header;
pub use http::{Method, StatusCode, Version};
pub use url::Url;

/// Sends a GET request with a default [`Client`] and returns the response.
///
/// Each call makes a new client (cheap: the system roots are loaded once per process), so
/// connections are not reused between calls; make a [`Client`] for repeated requests.
///
/// ```no_run
/// # async fn run() -> wireline::Result<()> {
/// let body = wireline::get("https://example.com/").await?.text().await?;
/// # Ok(()) }
/// ```
pub async fn get<U: IntoUrl>(url: U) -> Result<Response> {
    Client::new().get(url).send().await
}

pub mod guide;

#[cfg(test)]
mod rooms;
