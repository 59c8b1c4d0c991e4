//! `Policy`: the user's retry settings, their defaults, and their check in `build()`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::budget::{Budget, Tokens};
use super::builder::{Classifier, Scope};
use crate::error::{Error, Result};

/// Retries a client makes on its own: how many, after which failures, how long it waits
/// between attempts, and how many retries it may spend overall. Give one to
/// [`ClientBuilder::retry`](crate::ClientBuilder::retry); a client without one never
/// retries (except the one resend of a request that met a stale pooled connection, see
/// the crate docs).
///
/// The defaults ([`Policy::default`]):
///
/// | setting | default |
/// |---|---|
/// | [`max_retries`](Policy::max_retries) | 2 (3 attempts in all) |
/// | [`backoff`](Policy::backoff) | 100 ms base, 20 s max, full jitter |
/// | [`max_retry_after`](Policy::max_retry_after) | 30 s |
/// | [`retry_on_status`](Policy::retry_on_status) | 429, 502, 503, 504 |
/// | [`retry_non_idempotent`](Policy::retry_non_idempotent) | `false` |
/// | [`budget`](Policy::budget) | [`Budget::default`]: 10 tokens, 0.2 back per success |
///
/// See the [module docs](crate::retry) for what is retried and when.
///
/// ```
/// # fn run() -> wireline::Result<()> {
/// use std::time::Duration;
/// use wireline::retry::Policy;
///
/// let client = wireline::Client::builder()
///     .retry(
///         Policy::default()
///             .max_retries(3)
///             .backoff(Duration::from_millis(200), Duration::from_secs(5)),
///     )
///     .timeout(Duration::from_secs(30)) // all attempts and waits together
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct Policy {
    pub(crate) max_retries: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_max: Duration,
    pub(crate) max_retry_after: Duration,
    pub(crate) statuses: Vec<StatusCode>,
    pub(crate) non_idempotent: bool,
    pub(crate) budget: Budget,
    /// From reqwest's `for_host`: the hosts whose requests the policy retries (all when
    /// `None`).
    pub(crate) scope: Option<Scope>,
    /// From reqwest's `classify_fn`: what is retried, instead of `statuses` and the
    /// idempotency rule.
    pub(crate) classifier: Option<Classifier>,
}

impl Default for Policy {
    /// The defaults in the table above.
    ///
    /// ```
    /// let client = wireline::Client::builder()
    ///     .retry(wireline::retry::Policy::default())
    ///     .build();
    /// ```
    fn default() -> Policy {
        Policy {
            max_retries: 2,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(30),
            statuses: vec![
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::BAD_GATEWAY,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::GATEWAY_TIMEOUT,
            ],
            non_idempotent: false,
            budget: Budget::default(),
            scope: None,
            classifier: None,
        }
    }
}

impl PartialEq for Policy {
    /// A scope or a classifier is equal only to itself (in a clone of the same policy).
    fn eq(&self, other: &Policy) -> bool {
        fn same<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
            match (a, b) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
        }
        self.max_retries == other.max_retries
            && self.backoff_base == other.backoff_base
            && self.backoff_max == other.backoff_max
            && self.max_retry_after == other.max_retry_after
            && self.statuses == other.statuses
            && self.non_idempotent == other.non_idempotent
            && self.budget == other.budget
            && same(&self.scope, &other.scope)
            && same(&self.classifier, &other.classifier)
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("max_retry_after", &self.max_retry_after)
            .field("statuses", &self.statuses)
            .field("non_idempotent", &self.non_idempotent)
            .field("budget", &self.budget)
            .field("scoped", &self.scope.is_some())
            .field("classifier", &self.classifier.is_some())
            .finish()
    }
}

impl Policy {
    /// The default policy, as [`Policy::default`].
    ///
    /// ```
    /// assert_eq!(wireline::retry::Policy::new(), wireline::retry::Policy::default());
    /// ```
    pub fn new() -> Policy {
        Policy::default()
    }

    /// The most retries for one request, after its first attempt (default 2). Retries
    /// made for the hops of a redirect count together. `0` turns retrying off.
    ///
    /// ```
    /// let policy = wireline::retry::Policy::default().max_retries(3); // 4 attempts at most
    /// ```
    pub fn max_retries(mut self, retries: u32) -> Policy {
        self.max_retries = retries;
        self
    }

    /// The exponential backoff between attempts: before retry `n` (from 0) the client waits
    /// a random time between zero and `min(max, base × 2ⁿ)` ("full jitter"), so clients
    /// that failed together don't come back together. Defaults: 100 ms and 20 s. A zero
    /// `base` retries at once. [`build`](crate::ClientBuilder::build) fails when `base`
    /// is longer than `max`.
    ///
    /// A `Retry-After` header replaces the backoff, see
    /// [`max_retry_after`](Policy::max_retry_after).
    ///
    /// ```
    /// use std::time::Duration;
    /// // Waits of up to 0.5 s, 1 s, 2 s, 4 s, then 5 s for every later retry.
    /// let policy = wireline::retry::Policy::default()
    ///     .max_retries(6)
    ///     .backoff(Duration::from_millis(500), Duration::from_secs(5));
    /// ```
    pub fn backoff(mut self, base: Duration, max: Duration) -> Policy {
        self.backoff_base = base;
        self.backoff_max = max;
        self
    }

    /// The longest wait a `Retry-After` header can ask for (default 30 s).
    ///
    /// On a 429 or 503 response (when its status is retried), `Retry-After` in seconds
    /// (`Retry-After: 120`) or as an HTTP date sets the wait before the next attempt,
    /// instead of the backoff. A longer wait than this maximum is cut to it, so a server
    /// can't park the request for an hour. A wait that would end past the request's
    /// [`timeout`](crate::ClientBuilder::timeout) is not taken: the response is returned
    /// at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = wireline::retry::Policy::default().max_retry_after(Duration::from_secs(5));
    /// ```
    pub fn max_retry_after(mut self, max: Duration) -> Policy {
        self.max_retry_after = max;
        self
    }

    /// The response statuses to retry, replacing the default list (429, 502, 503, 504).
    /// An empty list retries failures to connect or send only. When the retries run out
    /// on such a status, the last response is returned, not an error.
    ///
    /// ```
    /// use wireline::StatusCode;
    /// // curl's `--retry` list.
    /// let policy = wireline::retry::Policy::default().retry_on_status([
    ///     StatusCode::REQUEST_TIMEOUT,
    ///     StatusCode::TOO_MANY_REQUESTS,
    ///     StatusCode::INTERNAL_SERVER_ERROR,
    ///     StatusCode::BAD_GATEWAY,
    ///     StatusCode::SERVICE_UNAVAILABLE,
    ///     StatusCode::GATEWAY_TIMEOUT,
    /// ]);
    /// ```
    pub fn retry_on_status<I>(mut self, statuses: I) -> Policy
    where
        I: IntoIterator<Item = StatusCode>,
    {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Whether to retry requests that are not idempotent, such as POST and PATCH, once the
    /// server may have seen them (default `false`).
    ///
    /// By default a request that reached the server is retried only if sending it twice
    /// is harmless: GET, HEAD, OPTIONS, TRACE, PUT and DELETE, or a request carrying an
    /// `Idempotency-Key` header. Any request is retried when it never left (the connection
    /// could not be opened, or closed before a byte of the request was written). Set this
    /// when the server deduplicates requests some other way.
    ///
    /// ```
    /// let policy = wireline::retry::Policy::default().retry_non_idempotent(true);
    /// ```
    pub fn retry_non_idempotent(mut self, retry: bool) -> Policy {
        self.non_idempotent = retry;
        self
    }

    /// The retry budget, shared by all the requests of the client (default
    /// [`Budget::default`]). It caps the extra load retries add when a server is failing
    /// for everyone.
    ///
    /// ```
    /// use wireline::retry::{Budget, Policy};
    /// let policy = Policy::default().budget(Budget::new(100, 0.1));
    /// ```
    pub fn budget(mut self, budget: Budget) -> Policy {
        self.budget = budget;
        self
    }

    /// Checks the settings; `None` when the policy never retries.
    pub(crate) fn build(self) -> Result<Option<Retrying>> {
        if self.backoff_base > self.backoff_max {
            return Err(Error::builder(format!(
                "retry policy: the backoff base ({:?}) is longer than its max ({:?})",
                self.backoff_base, self.backoff_max
            )));
        }
        let tokens = self.budget.tokens()?;
        if self.max_retries == 0 {
            return Ok(None);
        }
        Ok(Some(Retrying {
            policy: self,
            tokens,
        }))
    }

    /// Whether a response with this status may be retried.
    pub(crate) fn retries_status(&self, status: StatusCode) -> bool {
        self.statuses.contains(&status)
    }
}

/// A client's policy once checked, with the budget its requests share.
#[derive(Debug)]
pub(crate) struct Retrying {
    pub(crate) policy: Policy,
    pub(crate) tokens: Tokens,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backoff_base_over_its_max_is_a_builder_error() {
        let policy = Policy::default().backoff(Duration::from_secs(2), Duration::from_secs(1));
        let err = policy.build().unwrap_err();
        assert!(err.is_builder(), "{err}");
        assert!(err.to_string().contains("backoff"), "{err}");
    }

    #[test]
    fn zero_retries_is_no_policy() {
        assert!(Policy::default().max_retries(0).build().unwrap().is_none());
        assert!(Policy::default().build().unwrap().is_some());
    }

    #[test]
    fn the_status_list_is_replaced_not_extended() {
        let policy = Policy::default().retry_on_status([StatusCode::INTERNAL_SERVER_ERROR]);
        assert!(policy.retries_status(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!policy.retries_status(StatusCode::SERVICE_UNAVAILABLE));
        let default = Policy::default();
        for code in [429, 502, 503, 504] {
            assert!(default.retries_status(StatusCode::from_u16(code).unwrap()));
        }
        for code in [200, 404, 500, 501] {
            assert!(!default.retries_status(StatusCode::from_u16(code).unwrap()));
        }
    }
}
