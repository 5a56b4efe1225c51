//! When a failed attempt is tried again, and after how long.
//!
//! The redeploy POST is not idempotent: sending it twice queues two deployments. It is
//! retried only when the request provably was not processed: it never left (connect refused,
//! DNS, connect timeout), or the server said so (429, 503). A status GET may be retried after
//! any transient failure.

use std::time::{Duration, SystemTime};

use crate::error::ErrorKind;
use crate::transport::Stage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }

    pub(crate) fn idempotent(self) -> bool {
        self == Method::Get
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub max_retries: u32,
    /// First backoff; doubles each retry.
    pub base: Duration,
    /// Longest backoff between two attempts.
    pub cap: Duration,
    /// Longest `Retry-After` honoured; a server asking for more gets the error back instead.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            retry_after_cap: Duration::from_secs(60),
        }
    }
}

/// What a failed attempt tells the retry decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Attempt {
    pub stage: Stage,
    pub kind: ErrorKind,
    pub retry_after: Option<Duration>,
}

impl RetryPolicy {
    /// Backoff before retry number `retry` (0-based): exponential with "equal jitter", so two
    /// clients that failed together do not come back together, yet never retry at once.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX))
            .min(self.cap);
        let half = exp / 2;
        half + half.mul_f64(fastrand::f64())
    }

    /// `Some(wait)` if the attempt may be made again after `wait`; `None` if the failure is
    /// final. The caller still checks the wait fits its deadline.
    pub(crate) fn decide(&self, method: Method, attempt: &Attempt, retry: u32) -> Option<Duration> {
        if retry >= self.max_retries {
            return None;
        }
        let backoff = self.backoff(retry);
        let honoured = |asked: Option<Duration>| match asked {
            Some(asked) if asked > self.retry_after_cap => None,
            Some(asked) => Some(asked.max(backoff / 4)),
            None => Some(backoff),
        };
        match (attempt.stage, attempt.kind) {
            (_, ErrorKind::Cancelled | ErrorKind::Tls | ErrorKind::InvalidInput) => None,
            (Stage::NotSent, ErrorKind::Network | ErrorKind::Timeout) => Some(backoff),
            (Stage::Answered(429 | 503), _) => honoured(attempt.retry_after),
            (Stage::Answered(500..=599), _) if method.idempotent() => honoured(attempt.retry_after),
            (Stage::Sent, ErrorKind::Network | ErrorKind::Timeout) if method.idempotent() => {
                Some(backoff)
            }
            (Stage::Answered(200..=299), ErrorKind::Network | ErrorKind::Timeout)
                if method.idempotent() =>
            {
                Some(backoff)
            }
            _ => None,
        }
    }
}

/// `Retry-After` as delay-seconds or an HTTP date; `None` if it is neither.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(u32::MAX as u64)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(stage: Stage, kind: ErrorKind) -> Attempt {
        Attempt {
            stage,
            kind,
            retry_after: None,
        }
    }

    #[test]
    fn post_is_retried_only_when_provably_unprocessed() {
        let p = RetryPolicy::default();
        let post = Method::Post;
        assert!(p
            .decide(post, &attempt(Stage::NotSent, ErrorKind::Network), 0)
            .is_some());
        assert!(p
            .decide(post, &attempt(Stage::NotSent, ErrorKind::Timeout), 0)
            .is_some());
        assert!(p
            .decide(
                post,
                &attempt(Stage::Answered(429), ErrorKind::RateLimited),
                0
            )
            .is_some());
        assert!(p
            .decide(post, &attempt(Stage::Answered(503), ErrorKind::Server), 0)
            .is_some());
        for stage in [
            Stage::Answered(500),
            Stage::Answered(502),
            Stage::Answered(504),
        ] {
            assert!(p
                .decide(post, &attempt(stage, ErrorKind::Server), 0)
                .is_none());
        }
        assert!(p
            .decide(post, &attempt(Stage::Sent, ErrorKind::Timeout), 0)
            .is_none());
        assert!(p
            .decide(post, &attempt(Stage::Sent, ErrorKind::Network), 0)
            .is_none());
        assert!(p
            .decide(post, &attempt(Stage::NotSent, ErrorKind::Tls), 0)
            .is_none());
        assert!(p
            .decide(post, &attempt(Stage::NotSent, ErrorKind::Network), 2)
            .is_none());
    }

    #[test]
    fn get_is_retried_after_transient_failures() {
        let p = RetryPolicy::default();
        let get = Method::Get;
        assert!(p
            .decide(get, &attempt(Stage::Answered(500), ErrorKind::Server), 0)
            .is_some());
        assert!(p
            .decide(get, &attempt(Stage::Sent, ErrorKind::Timeout), 1)
            .is_some());
        assert!(p
            .decide(get, &attempt(Stage::Answered(404), ErrorKind::NotFound), 0)
            .is_none());
        assert!(p
            .decide(
                get,
                &attempt(Stage::Answered(401), ErrorKind::Unauthorized),
                0
            )
            .is_none());
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        let mut a = attempt(Stage::Answered(429), ErrorKind::RateLimited);
        a.retry_after = Some(Duration::from_secs(3));
        assert_eq!(p.decide(Method::Post, &a, 0), Some(Duration::from_secs(3)));
        a.retry_after = Some(Duration::from_secs(3600));
        assert_eq!(p.decide(Method::Post, &a, 0), None);
    }

    #[test]
    fn backoff_grows_with_jitter_within_bounds() {
        let p = RetryPolicy::default();
        for retry in 0..10 {
            let full = p.base.saturating_mul(1 << retry).min(p.cap);
            let b = p.backoff(retry);
            assert!(b >= full / 2 && b <= full, "{retry}: {b:?}");
        }
    }

    #[test]
    fn retry_after_formats() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("99999999999999999999", now), None);
    }
}
