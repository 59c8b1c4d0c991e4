//! Retrying failed requests: an opt-in [`Policy`] with backoff, `Retry-After` and a
//! retry [`Budget`].
//!
//! A client retries nothing on its own, apart from the one resend of a request that met a
//! pooled connection the server had closed (see the crate docs on stale connections).
//! Give it a policy to retry what fails for passing reasons:
//!
//! ```
//! # fn run() -> wireline::Result<()> {
//! use std::time::Duration;
//! use wireline::retry::Policy;
//!
//! let client = wireline::Client::builder()
//!     .retry(Policy::default().max_retries(3))
//!     .timeout(Duration::from_secs(20))
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! # What is retried
//!
//! | the attempt… | retried |
//! |---|---|
//! | could not connect: refused, unreachable, DNS failure, `connect_timeout` | always: nothing was sent |
//! | lost its connection before writing a byte of the request | always: nothing was sent |
//! | lost its connection, or hit `read_timeout`, after sending and before any byte of the response | if the request may be repeated |
//! | got a status in the policy's list (default 429, 502, 503, 504) | if the request may be repeated |
//! | failed a TLS or certificate check, or was refused by a builder check | never: it would fail the same way |
//! | got the first bytes of its response, then failed | never |
//! | failed while its body was being read | never: the [`Response`](crate::Response) was already yours |
//! | sent a streamed body ([`Body::wrap_stream`](crate::Body::wrap_stream)) | never: the stream is spent |
//!
//! A request *may be repeated* when its method is idempotent (GET, HEAD, OPTIONS, TRACE,
//! PUT, DELETE; RFC 9110 §9.2.2), when it carries an `Idempotency-Key` (or
//! `X-Idempotency-Key`) header, or when the policy says
//! [`retry_non_idempotent(true)`](Policy::retry_non_idempotent). A POST that got a 503 is
//! returned as it is by default: the server may have acted on it.
//!
//! When the retries run out on a status, the last **response** is returned, not an error
//! (urllib3's `raise_on_status=False`): its status, headers and body are what the server
//! last said. Use [`Response::error_for_status`](crate::Response::error_for_status) to
//! turn it into an error. When they run out on a failure, the last **error** is returned,
//! with the number of attempts and the reason no other was made in its message:
//!
//! ```text
//! could not connect for http://127.0.0.1:9/: Connection refused (os error 111)
//!     (gave up after 3 attempts: the retry policy's max_retries)
//! ```
//!
//! # How long it waits
//!
//! Before retry `n` (from 0), a random time between zero and `min(max, base × 2ⁿ)`:
//! exponential backoff with "full jitter", from the AWS Architecture Blog's
//! "Exponential Backoff And Jitter", which spreads out the retries of clients that failed
//! together. The defaults, 100 ms and 20 s, are set with [`Policy::backoff`].
//!
//! A 429 or 503 response with a `Retry-After` header sets the wait instead, in seconds or
//! as an HTTP date, cut to [`Policy::max_retry_after`] (default 30 s). No wait ever ends
//! past the request's [`timeout`](crate::ClientBuilder::timeout): a retry that could not
//! start before the timeout is not made, and the last response or error is returned at
//! once instead of a timeout error later. The timeout bounds all attempts and waits
//! together. While it waits after a retried response, the client reads up to 64 KiB of
//! that response's body, so its connection can serve the retry.
//!
//! # The budget
//!
//! `max_retries` bounds one request; the [`Budget`] bounds them all. When a server fails
//! every request, each would otherwise be sent `max_retries + 1` times, tripling the load
//! on a server that is already down. The budget is a token bucket per client: 10 tokens
//! at the start, one spent per retry, 0.2 earned back per success, so once the reserve is
//! spent retries add at most about 20% to the load. A retry the budget refuses is not
//! made. See [`Budget`] to change it.
//!
//! # Defaults
//!
//! | setting | default |
//! |---|---|
//! | [`Policy::max_retries`] | 2 (3 attempts) |
//! | [`Policy::backoff`] | 100 ms base, 20 s max, full jitter |
//! | [`Policy::max_retry_after`] | 30 s |
//! | [`Policy::retry_on_status`] | 429, 502, 503, 504 |
//! | [`Policy::retry_non_idempotent`] | `false` |
//! | [`Policy::budget`] | 10 tokens, 0.2 per success |
//!
//! # Compared with reqwest, requests and curl
//!
//! - **reqwest** 0.13's `retry` module retries only HTTP/2 refusals by default; a policy
//!   from `retry::for_host` retries what its classifier function says, up to 2 retries per
//!   request under a budget of 20% extra load. It retries at once: there is no backoff
//!   and `Retry-After` is not read.
//! - **requests** makes no retries unless you mount an `HTTPAdapter` with a urllib3
//!   `Retry`. urllib3's backoff is off by default (`backoff_factor=0`) and its jitter is
//!   opt-in; it honours `Retry-After` on 413, 429 and 503; it has no budget, so a fleet of
//!   clients multiplies the load on a failing server. Its `allowed_methods` default is
//!   the same idempotent set as here.
//! - **curl** `--retry N` retries timeouts and 408, 429, 500, 502, 503 and 504, waiting
//!   1 s then doubling, without jitter, and honours `Retry-After`; it retries POST too,
//!   and retries a refused connection only with `--retry-connrefused`.
//!
//! wireline retries with jittered backoff by default, honours `Retry-After` within a cap
//! and the request's timeout, keeps to requests that may be repeated, and bounds the
//! extra load with a budget.
//!
//! # reqwest's builders
//!
//! A reqwest 0.13 program's retry setup compiles unchanged: [`for_host`], [`never()`] and
//! [`Builder`]'s `max_retries_per_request`, `max_extra_load`, `no_budget` and
//! `classify_fn` build a [`Policy`] for the same engine (see [`Builder`] for how each maps,
//! and the two differences: backoff between retries, and `Retry-After` honoured).
//!
//! ```
//! let client = wireline::Client::builder()
//!     .retry(wireline::retry::for_host("api.example.com").classify_fn(|req_rep| {
//!         match req_rep.status() {
//!             Some(status) if status.is_server_error() => req_rep.retryable(),
//!             _ => req_rep.success(),
//!         }
//!     }))
//!     .build();
//! ```

mod backoff;
mod budget;
mod builder;
mod outcome;
mod policy;
mod send;

pub use budget::Budget;
pub use builder::{for_host, never, Action, Builder, ReqRep};
pub use policy::Policy;

pub(crate) use policy::Retrying;
pub(crate) use send::Retries;
