//! Which redirects a client follows: [`Policy`] (reqwest's `limited`, `none` and `custom`).
//! The rules for one hop (where to, with which method, what may cross to another origin,
//! the `Referer`, the chain's heads) are in `hop.rs`.

mod hop;

pub(crate) use hop::{add_to_chain, headers_for_hop, next_hop};

use std::fmt;
use std::sync::Arc;

use http::StatusCode;
use url::Url;

use crate::error::BoxError;

/// Which redirects a client follows: up to a number ([`limited`](Policy::limited), 10 by
/// default), none, or what a function of yours decides ([`custom`](Policy::custom)).
///
/// Each hop follows RFC 9110 as browsers do: 301/302 turn POST into GET and drop its body,
/// 303 turns anything but HEAD into GET, and other redirects keep the method and the body.
/// A hop that would keep a streamed body, which can't be sent twice, is not followed: the
/// 3xx is returned to the caller, as it is when its `Location` is missing or is not a URL.
/// A `Location` with a scheme other than http and https is an
/// [`is_builder`](crate::Error::is_builder) error. `Authorization`, `Cookie` and
/// `Proxy-Authorization` stay behind when the scheme, host or port changes.
///
/// ```
/// use wireline::redirect::Policy;
/// let client = wireline::Client::builder().redirect(Policy::limited(3)).build();
/// let client = wireline::Client::builder().redirect(Policy::none()).build();
/// ```
#[derive(Clone)]
pub struct Policy {
    pub(super) kind: PolicyKind,
}

#[derive(Clone)]
pub(super) enum PolicyKind {
    Limit(usize),
    None,
    Custom(Arc<dyn Fn(Attempt<'_>) -> Action + Send + Sync>),
}

impl Policy {
    /// Follow up to `max` redirects; one more is an [`is_redirect`](crate::Error::is_redirect) error.
    ///
    /// ```
    /// let policy = wireline::redirect::Policy::limited(3);
    /// ```
    pub fn limited(max: usize) -> Policy {
        Policy {
            kind: PolicyKind::Limit(max),
        }
    }

    /// Follow no redirect: 3xx responses are returned as they are.
    ///
    /// ```
    /// let policy = wireline::redirect::Policy::none();
    /// ```
    pub fn none() -> Policy {
        Policy {
            kind: PolicyKind::None,
        }
    }

    /// A policy of your own: `policy` sees each redirect (its status, where it goes, the
    /// URLs of the chain so far) and answers [`follow`](Attempt::follow),
    /// [`stop`](Attempt::stop) (the 3xx is returned) or [`error`](Attempt::error) (an
    /// [`is_redirect`](crate::Error::is_redirect) error with yours as its source). It has
    /// no limit of its own: count [`previous`](Attempt::previous), or ask
    /// [`Policy::default`]'s [`redirect`](Policy::redirect). The hop rules above still
    /// apply to a redirect it follows.
    ///
    /// ```
    /// use wireline::redirect::Policy;
    /// let policy = Policy::custom(|attempt| {
    ///     if attempt.previous().len() > 5 {
    ///         attempt.error("too many redirects")
    ///     } else if attempt.url().host_str() == Some("tracker.example") {
    ///         attempt.stop()
    ///     } else {
    ///         attempt.follow()
    ///     }
    /// });
    /// let client = wireline::Client::builder().redirect(policy).build();
    /// ```
    pub fn custom<T>(policy: T) -> Policy
    where
        T: Fn(Attempt<'_>) -> Action + Send + Sync + 'static,
    {
        Policy {
            kind: PolicyKind::Custom(Arc::new(policy)),
        }
    }

    /// What this policy does with `attempt`: a custom policy can defer to another.
    ///
    /// ```
    /// use wireline::redirect::Policy;
    /// let logging = Policy::custom(|attempt| {
    ///     eprintln!("{} to {}", attempt.status(), attempt.url());
    ///     Policy::default().redirect(attempt)
    /// });
    /// ```
    pub fn redirect(&self, attempt: Attempt<'_>) -> Action {
        match &self.kind {
            PolicyKind::Custom(policy) => policy(attempt),
            // `previous` starts with the first request's URL, which no redirect led to.
            PolicyKind::Limit(max) if attempt.previous.len() > *max => {
                attempt.error(TooManyRedirects(*max))
            }
            PolicyKind::Limit(_) => attempt.follow(),
            PolicyKind::None => attempt.stop(),
        }
    }

    /// Whether a response can be followed at all, so a request keeps what a next hop
    /// would need.
    pub(crate) fn follows(&self) -> bool {
        !matches!(self.kind, PolicyKind::None)
    }
}

impl Default for Policy {
    /// Up to 10 redirects, like reqwest and ureq.
    fn default() -> Policy {
        Policy::limited(10)
    }
}

impl PartialEq for Policy {
    /// Custom policies are equal when they are the same function (clones of one policy).
    fn eq(&self, other: &Policy) -> bool {
        match (&self.kind, &other.kind) {
            (PolicyKind::Limit(a), PolicyKind::Limit(b)) => a == b,
            (PolicyKind::None, PolicyKind::None) => true,
            (PolicyKind::Custom(a), PolicyKind::Custom(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for Policy {}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PolicyKind::Limit(max) => f.debug_tuple("Policy::limited").field(max).finish(),
            PolicyKind::None => f.write_str("Policy::none"),
            PolicyKind::Custom(_) => f.write_str("Policy::custom"),
        }
    }
}

/// A redirect, as a [`Policy::custom`] function sees it.
#[derive(Debug)]
pub struct Attempt<'a> {
    pub(super) status: StatusCode,
    pub(super) next: &'a Url,
    pub(super) previous: &'a [Url],
}

/// What to do with a redirect: made by [`Attempt::follow`], [`Attempt::stop`] or
/// [`Attempt::error`].
#[derive(Debug)]
pub struct Action {
    pub(super) kind: ActionKind,
}

#[derive(Debug)]
pub(super) enum ActionKind {
    Follow,
    Stop,
    Error(BoxError),
}

impl Attempt<'_> {
    /// The redirect's status (301, 302, 303, 307 or 308).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Where it goes: its `Location`, resolved against the URL it came from (without any
    /// user name or password it named, which are never sent).
    pub fn url(&self) -> &Url {
        self.next
    }

    /// The URLs requested so far in this chain, the first request's first; the last one
    /// answered with this redirect.
    pub fn previous(&self) -> &[Url] {
        self.previous
    }

    /// Follow the redirect.
    pub fn follow(self) -> Action {
        Action {
            kind: ActionKind::Follow,
        }
    }

    /// Don't follow it: the 3xx response is returned to the caller.
    pub fn stop(self) -> Action {
        Action {
            kind: ActionKind::Stop,
        }
    }

    /// Fail the request with an [`is_redirect`](crate::Error::is_redirect) error whose
    /// source is `error`.
    pub fn error<E: Into<BoxError>>(self, error: E) -> Action {
        Action {
            kind: ActionKind::Error(error.into()),
        }
    }
}

/// The limit of [`Policy::limited`] was reached.
#[derive(Debug)]
pub(super) struct TooManyRedirects(pub(super) usize);

impl fmt::Display for TooManyRedirects {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many redirects: stopped after {} (set redirect(Policy::limited(n)) to allow more)",
            self.0
        )
    }
}

impl std::error::Error for TooManyRedirects {}
