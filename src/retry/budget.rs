//! `Budget`: the token bucket that bounds how many retries a client's requests may make.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};

/// Tokens are counted in thousandths, so a success can refill a fraction of one.
const MILLI: u32 = 1000;

/// How many retries a client may spend, across all its requests: a bucket of tokens,
/// full at the start, that each retry takes one token from and each success puts a
/// fraction of a token back into, like Finagle's `RetryBudget`, the AWS SDKs' retry quota
/// and gRPC's retry throttling.
///
/// While a server answers, the bucket stays full and retries are free. When it fails
/// every request, the bucket empties after `max_tokens` retries; from then on the client
/// retries about `refill_per_success` times per request that succeeds, so retries add at
/// most that fraction to the load on a struggling server instead of multiplying it by
/// `max_retries + 1`. A retry the budget can't pay for is not made: the attempt's response
/// or error is returned as it is.
///
/// A success is an attempt whose response has a status the policy does not retry (404
/// counts: the server answered). The bucket belongs to the [`Client`](crate::Client) and
/// its clones, and is shared by every host they talk to.
///
/// The default, `Budget::new(10, 0.2)`: 10 retries in reserve, and one more retry for every
/// 5 successes, like the 20% extra load of reqwest's and Finagle's default budgets.
///
/// ```
/// use wireline::retry::{Budget, Policy};
/// // A large reserve, then at most one retry per 10 successful requests.
/// let policy = Policy::default().budget(Budget::new(100, 0.1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// `None`: unlimited.
    bucket: Option<Bucket>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Bucket {
    max_tokens: u32,
    refill_per_success: f32,
}

impl Budget {
    /// A bucket of `max_tokens` retries, full at the start, that gets `refill_per_success`
    /// of a token back for each success (between 0 and 1; it is counted in thousandths).
    /// [`build`](crate::ClientBuilder::build) fails with a builder error for a refill
    /// outside 0–1.
    ///
    /// `Budget::new(n, 0.0)` allows `n` retries for the life of the client.
    ///
    /// ```
    /// let budget = wireline::retry::Budget::new(20, 0.25);
    /// ```
    pub fn new(max_tokens: u32, refill_per_success: f32) -> Budget {
        Budget {
            bucket: Some(Bucket {
                max_tokens,
                refill_per_success,
            }),
        }
    }

    /// No budget: every request may retry up to the policy's
    /// [`max_retries`](super::Policy::max_retries), however many fail. Fine for a
    /// command-line tool making one request; risky for a service, where retries then
    /// multiply the load on a server that is already failing.
    ///
    /// ```
    /// use wireline::retry::{Budget, Policy};
    /// let policy = Policy::default().budget(Budget::unlimited());
    /// ```
    pub fn unlimited() -> Budget {
        Budget { bucket: None }
    }

    /// The bucket a client's requests share.
    pub(crate) fn tokens(&self) -> Result<Tokens> {
        let Some(bucket) = self.bucket else {
            return Ok(Tokens::Unlimited);
        };
        let refill = bucket.refill_per_success;
        if !(0.0..=1.0).contains(&refill) {
            return Err(Error::builder(format!(
                "retry budget: refill_per_success must be between 0 and 1, not {refill}"
            )));
        }
        // A reserve past 4 million retries is as good as unlimited: saturate there.
        let max = bucket.max_tokens.saturating_mul(MILLI);
        Ok(Tokens::Bucket {
            milli: AtomicU32::new(max),
            max,
            refill: (refill * MILLI as f32).round() as u32,
        })
    }
}

impl Default for Budget {
    /// `Budget::new(10, 0.2)`.
    ///
    /// ```
    /// use wireline::retry::Budget;
    /// assert_eq!(Budget::default(), Budget::new(10, 0.2));
    /// ```
    fn default() -> Budget {
        Budget::new(10, 0.2)
    }
}

/// The live bucket of a [`Budget`], in thousandths of a token.
#[derive(Debug)]
pub(crate) enum Tokens {
    Unlimited,
    Bucket {
        milli: AtomicU32,
        max: u32,
        refill: u32,
    },
}

impl Tokens {
    /// Takes a token for a retry; false when there is none.
    pub(crate) fn withdraw(&self) -> bool {
        match self {
            Tokens::Unlimited => true,
            Tokens::Bucket { milli, .. } => milli
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                    t.checked_sub(MILLI)
                })
                .is_ok(),
        }
    }

    /// Puts a success's fraction of a token back.
    pub(crate) fn deposit(&self) {
        if let Tokens::Bucket { milli, max, refill } = self {
            if *refill > 0 {
                let _ = milli.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                    (t < *max).then(|| t.saturating_add(*refill).min(*max))
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_spend_tokens_and_successes_earn_fractions_back() {
        let tokens = Budget::new(2, 0.25).tokens().unwrap();
        assert!(tokens.withdraw());
        assert!(tokens.withdraw());
        assert!(!tokens.withdraw(), "two tokens, two retries");
        for _ in 0..3 {
            tokens.deposit();
        }
        assert!(!tokens.withdraw(), "three successes make 0.75 of a token");
        tokens.deposit();
        assert!(tokens.withdraw(), "the fourth makes a whole one");
        assert!(!tokens.withdraw());
    }

    #[test]
    fn the_bucket_never_holds_more_than_its_max() {
        let tokens = Budget::new(1, 1.0).tokens().unwrap();
        for _ in 0..10 {
            tokens.deposit();
        }
        assert!(tokens.withdraw());
        assert!(!tokens.withdraw());
    }

    #[test]
    fn no_refill_means_a_fixed_number_of_retries() {
        let tokens = Budget::new(3, 0.0).tokens().unwrap();
        for _ in 0..100 {
            tokens.deposit();
        }
        assert_eq!((0..10).filter(|_| tokens.withdraw()).count(), 3);
    }

    #[test]
    fn unlimited_never_runs_out_and_huge_reserves_saturate() {
        let unlimited = Budget::unlimited().tokens().unwrap();
        assert!((0..10_000).all(|_| unlimited.withdraw()));
        let huge = Budget::new(u32::MAX, 0.5).tokens().unwrap();
        assert!((0..10_000).all(|_| huge.withdraw()));
    }

    #[test]
    fn a_refill_outside_zero_to_one_is_a_builder_error() {
        for refill in [-0.1, 1.5, f32::NAN, f32::INFINITY] {
            let err = Budget::new(10, refill).tokens().unwrap_err();
            assert!(err.is_builder(), "{refill}: {err}");
            assert!(err.to_string().contains("refill_per_success"), "{err}");
        }
    }

    #[test]
    fn concurrent_withdrawals_never_overspend() {
        let tokens = std::sync::Arc::new(Budget::new(100, 0.0).tokens().unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let tokens = tokens.clone();
                std::thread::spawn(move || (0..100).filter(|_| tokens.withdraw()).count())
            })
            .collect();
        let spent: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(spent, 100);
    }
}
