//! reqwest 0.13's way to ask for retries ([`for_host`], [`never`], [`Builder`] and its
//! classifier), accepted as another way to build a [`Policy`]: one retry engine, two front
//! doors.

use std::fmt;
use std::sync::Arc;

use http::{Method, StatusCode, Uri};

use super::{Budget, Policy};
use crate::error::Error;

/// A retry policy as reqwest 0.13 builds one: for one host, with a classifier that says
/// which outcomes to retry. Give it to [`ClientBuilder::retry`](crate::ClientBuilder::retry),
/// which turns it into a [`Policy`].
///
/// It maps onto wireline's engine: `max_retries_per_request` is
/// [`Policy::max_retries`], `max_extra_load(p)` a [`Budget`] refilled by `p` per success
/// (reqwest counts its budget per second over 10 s; the share of extra load is the same),
/// (at most 1), and `no_budget` an unlimited one. Two differences, both wireline's defaults: retries
/// wait a jittered backoff ([`Policy::backoff`]; reqwest retries at once), and a
/// `Retry-After` is honoured. The classifier decides alone, as in reqwest, for any method:
/// wireline's rule that only idempotent requests are retried once the server may have
/// seen them applies to policies without one.
///
/// ```
/// use wireline::retry;
/// let client = wireline::Client::builder()
///     .retry(
///         retry::for_host("api.example.com")
///             .max_retries_per_request(3)
///             .classify_fn(|req_rep| match req_rep.status() {
///                 Some(status) if status.as_u16() == 503 => req_rep.retryable(),
///                 _ => req_rep.success(),
///             }),
///     )
///     .build();
/// ```
#[derive(Clone)]
#[must_use]
pub struct Builder {
    scope: Scope,
    classifier: Option<Classifier>,
    max_retries_per_request: u32,
    /// The extra load allowed, as a fraction of the requests; `None` for no budget.
    budget: Option<f32>,
}

/// A retry policy for the requests to `host` only, as reqwest's: it retries nothing until
/// given a classifier ([`Builder::classify_fn`]).
///
/// ```
/// let policy = wireline::retry::for_host("api.example.com");
/// ```
pub fn for_host<S>(host: S) -> Builder
where
    S: for<'a> PartialEq<&'a str> + Send + Sync + 'static,
{
    Builder {
        scope: Arc::new(move |candidate: &str| host == candidate),
        classifier: None,
        max_retries_per_request: 2,
        budget: Some(0.2),
    }
}

/// A policy that retries nothing (reqwest's way to turn its default retries off). In
/// wireline a client without a policy retries nothing already; the one resend of a request
/// a server never processed (a stale connection, an h2 refusal) is made either way.
///
/// ```
/// let client = wireline::Client::builder().retry(wireline::retry::never()).build();
/// ```
pub fn never() -> Builder {
    Builder {
        scope: Arc::new(|_: &str| false),
        classifier: None,
        max_retries_per_request: 0,
        budget: None,
    }
}

impl Builder {
    /// No retry budget: only `max_retries_per_request` bounds the retries. Not
    /// recommended: a failing server then gets every request several times.
    ///
    /// ```
    /// let policy = wireline::retry::for_host("api.example.com").no_budget();
    /// ```
    pub fn no_budget(mut self) -> Builder {
        self.budget = None;
        self
    }

    /// The extra load the retries may add, as a fraction of the requests (default 0.2:
    /// 20 %). Panics outside 0 to 1,000, as reqwest's does.
    ///
    /// ```
    /// let policy = wireline::retry::for_host("api.example.com").max_extra_load(0.1);
    /// ```
    pub fn max_extra_load(mut self, extra_percent: f32) -> Builder {
        assert!(
            (0.0..=1000.0).contains(&extra_percent),
            "max_extra_load takes 0 to 1000, not {extra_percent}"
        );
        self.budget = Some(extra_percent);
        self
    }

    /// The most retries of one request (default 2).
    ///
    /// ```
    /// let policy = wireline::retry::for_host("api.example.com").max_retries_per_request(5);
    /// ```
    pub fn max_retries_per_request(mut self, max: u32) -> Builder {
        self.max_retries_per_request = max;
        self
    }

    /// Which outcomes to retry: `func` sees each attempt's request and its status or
    /// error, and answers [`ReqRep::retryable`] or [`ReqRep::success`].
    ///
    /// ```
    /// use wireline::Method;
    /// let policy = wireline::retry::for_host("api.example.com").classify_fn(|req_rep| {
    ///     if req_rep.method() == Method::GET && req_rep.error().is_some() {
    ///         req_rep.retryable()
    ///     } else {
    ///         req_rep.success()
    ///     }
    /// });
    /// ```
    pub fn classify_fn<F>(mut self, func: F) -> Builder
    where
        F: Fn(ReqRep<'_>) -> Action + Send + Sync + 'static,
    {
        self.classifier = Some(Arc::new(func));
        self
    }
}

impl From<Builder> for Policy {
    fn from(builder: Builder) -> Policy {
        let budget = match builder.budget {
            // The same share of extra load (at most one retry per success), with the
            // default's reserve of 10 tokens.
            Some(share) => Budget::new(10, share.min(1.0)),
            None => Budget::unlimited(),
        };
        let mut policy = Policy::default()
            .max_retries(builder.max_retries_per_request)
            .budget(budget);
        policy.scope = Some(builder.scope);
        policy.classifier = builder.classifier;
        if policy.classifier.is_none() {
            // reqwest's builders retry nothing until given a classifier.
            policy.max_retries = 0;
        }
        policy
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("retry::Builder")
            .field("classifier", &self.classifier.is_some())
            .field("max_retries_per_request", &self.max_retries_per_request)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// Which requests a policy applies to, by the host of their URL.
pub(crate) type Scope = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Which outcomes a policy retries.
pub(crate) type Classifier = Arc<dyn Fn(ReqRep<'_>) -> Action + Send + Sync>;

/// One attempt's request and outcome, as a classifier sees it.
#[derive(Debug)]
pub struct ReqRep<'a> {
    method: &'a Method,
    uri: &'a Uri,
    outcome: Result<StatusCode, &'a Error>,
}

impl<'a> ReqRep<'a> {
    pub(crate) fn new(
        method: &'a Method,
        uri: &'a Uri,
        outcome: Result<StatusCode, &'a Error>,
    ) -> Self {
        ReqRep {
            method,
            uri,
            outcome,
        }
    }

    /// The request's method.
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The request's URI.
    pub fn uri(&self) -> &Uri {
        self.uri
    }

    /// The response's status, if one came.
    pub fn status(&self) -> Option<StatusCode> {
        self.outcome.ok()
    }

    /// The error, if the attempt failed.
    pub fn error(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.outcome.err().map(|e| e as _)
    }

    /// Retry this request.
    pub fn retryable(self) -> Action {
        Action::Retryable
    }

    /// Don't: the outcome is the answer.
    pub fn success(self) -> Action {
        Action::Success
    }
}

/// A classifier's verdict on an attempt.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The outcome stands.
    Success,
    /// Send the request again.
    Retryable,
}
