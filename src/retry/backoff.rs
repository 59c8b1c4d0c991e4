//! How long to wait before a retry: exponential backoff with full jitter, or what the
//! server's `Retry-After` asks for.

use std::time::{Duration, SystemTime};

use http::header::{HeaderMap, RETRY_AFTER};
use http::StatusCode;

/// The longest wait before retry `retry` (0 for the first): `base × 2^retry`, at most `max`.
pub(crate) fn ceiling(retry: u32, base: Duration, max: Duration) -> Duration {
    base.checked_mul(2u32.saturating_pow(retry))
        .map_or(max, |d| d.min(max))
}

/// The wait before retry `retry`: uniform between zero and its [`ceiling`] ("full jitter",
/// from the AWS Architecture Blog's "Exponential Backoff And Jitter"), so clients that
/// failed at the same moment spread their retries out instead of failing together again.
pub(crate) fn backoff(
    retry: u32,
    base: Duration,
    max: Duration,
    rng: &mut fastrand::Rng,
) -> Duration {
    let ceiling = ceiling(retry, base, max);
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(rng.u64(0..=nanos))
}

/// The wait a 429 or 503 response asks for with `Retry-After` (RFC 9110 §10.2.3, RFC 6585
/// §4): delta-seconds, or an HTTP-date (zero once it has passed). `None` for other
/// statuses, without the header, or when it is neither.
pub(crate) fn retry_after(
    status: StatusCode,
    headers: &HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
        return None;
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More seconds than a u64 holds is still "a very long time": the cap cuts it.
        return Some(value.parse().map_or(Duration::MAX, Duration::from_secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_ceiling_doubles_up_to_the_max() {
        let (base, max) = (100 * MS, 1000 * MS);
        let ceilings: Vec<u128> = (0..6).map(|n| ceiling(n, base, max).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        // No overflow, however many retries.
        assert_eq!(ceiling(u32::MAX, base, max), max);
        assert_eq!(ceiling(64, Duration::MAX, Duration::MAX), Duration::MAX);
        assert_eq!(ceiling(3, Duration::ZERO, max), Duration::ZERO);
    }

    #[test]
    fn waits_stay_between_zero_and_the_ceiling() {
        let (base, max) = (100 * MS, 1000 * MS);
        let mut rng = fastrand::Rng::with_seed(7);
        for retry in 0..10 {
            for _ in 0..1000 {
                let wait = backoff(retry, base, max, &mut rng);
                assert!(wait <= ceiling(retry, base, max), "{retry}: {wait:?}");
            }
        }
        assert_eq!(backoff(5, Duration::ZERO, max, &mut rng), Duration::ZERO);
        // The whole range of a huge ceiling is reachable without overflow.
        let _ = backoff(100, Duration::MAX, Duration::MAX, &mut rng);
    }

    #[test]
    fn the_waits_grow_with_each_retry_until_the_max() {
        let (base, max) = (100 * MS, 800 * MS);
        let mut rng = fastrand::Rng::with_seed(42);
        let mean = |retry: u32, rng: &mut fastrand::Rng| {
            let total: Duration = (0..2000).map(|_| backoff(retry, base, max, rng)).sum();
            total / 2000
        };
        let means: Vec<Duration> = (0..6).map(|n| mean(n, &mut rng)).collect();
        // Uniform on [0, ceiling]: the mean is half the ceiling (50, 100, 200, 400, 400,
        // 400 ms), within 10% for 2000 draws.
        for (retry, mean) in means.iter().enumerate() {
            let expected = ceiling(retry as u32, base, max) / 2;
            let error = mean.abs_diff(expected);
            assert!(
                error < expected / 10,
                "retry {retry}: mean {mean:?}, expected {expected:?}"
            );
        }
        assert!(means[0] < means[1] && means[1] < means[2] && means[2] < means[3]);
        // Spread out, not one value: the point of the jitter.
        let draws: Vec<Duration> = (0..100).map(|_| backoff(3, base, max, &mut rng)).collect();
        let distinct: std::collections::HashSet<_> = draws.iter().collect();
        assert!(
            distinct.len() > 90,
            "{} distinct waits of 100",
            distinct.len()
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_waits() {
        let waits = |seed| {
            let mut rng = fastrand::Rng::with_seed(seed);
            (0..5)
                .map(|n| backoff(n, 100 * MS, 10_000 * MS, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(waits(1), waits(1));
        assert_ne!(waits(1), waits(2));
    }

    const UNAVAILABLE: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        headers
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after(UNAVAILABLE, &headers("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            retry_after(UNAVAILABLE, &headers("0"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(UNAVAILABLE, &headers(" 7 "), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(UNAVAILABLE, &headers("99999999999999999999999"), now),
            Some(Duration::MAX)
        );
        for bad in ["-1", "1.5", "+3", "soon", "", "1 2"] {
            assert_eq!(
                retry_after(UNAVAILABLE, &headers(bad), now),
                None,
                "{bad:?}"
            );
        }
        assert_eq!(retry_after(UNAVAILABLE, &HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_after_counts_on_429_and_503_only() {
        let now = SystemTime::now();
        let asked = headers("5");
        for status in [
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::SERVICE_UNAVAILABLE,
        ] {
            assert_eq!(
                retry_after(status, &asked, now),
                Some(Duration::from_secs(5))
            );
        }
        for status in [
            StatusCode::BAD_GATEWAY,
            StatusCode::GATEWAY_TIMEOUT,
            StatusCode::MOVED_PERMANENTLY,
        ] {
            assert_eq!(retry_after(status, &asked, now), None, "{status}");
        }
    }

    #[test]
    fn retry_after_as_an_http_date() {
        // Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example.
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        for date in [
            "Sun, 06 Nov 1994 08:49:47 GMT",  // IMF-fixdate
            "Sunday, 06-Nov-94 08:49:47 GMT", // obsolete RFC 850 form
            "Sun Nov  6 08:49:47 1994",       // obsolete asctime form
        ] {
            assert_eq!(
                retry_after(UNAVAILABLE, &headers(date), now),
                Some(Duration::from_secs(10)),
                "{date}"
            );
        }
        // A date already past means "now".
        assert_eq!(
            retry_after(UNAVAILABLE, &headers("Sun, 06 Nov 1994 08:49:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(UNAVAILABLE, &headers("Sun, 06 Nov 1994 25:00:00 GMT"), now),
            None
        );
    }
}
