//! One error type for every way a call can end badly, with a kind callers match on.
//!
//! Texts that come from the server (`detail`, `message`) are cleaned before they are stored:
//! the token is cut out (a hostile server may echo the Authorization header), control
//! characters are replaced (errors print as one line) and the length is capped.

use std::fmt;
use std::time::Duration;

use crate::model::DeploymentStatus;
use crate::text::clean_server_text;

/// What went wrong, in the terms a caller acts on. Numbers are never reused: the C ABI and
/// the CLI's exit codes are derived from this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument was refused before any I/O: database id, token, URL, option.
    InvalidInput,
    /// HTTP 401: token missing, invalid or expired.
    Unauthorized,
    /// HTTP 403: the token may not act on this database.
    Forbidden,
    /// HTTP 404: no such database (or not visible to this token).
    NotFound,
    /// HTTP 409, or 400 saying an action is already in progress.
    Conflict,
    /// HTTP 429; [`Error::retry_after`] holds the wait the server asked for.
    RateLimited,
    /// HTTP 5xx.
    Server,
    /// Any other unexpected HTTP status, redirects included (they are never followed).
    Http,
    /// Connecting or reading took longer than allowed, and the request was not a redeploy
    /// that may have been processed.
    Timeout,
    /// The connection failed (refused, DNS, reset) where that is known to be harmless.
    Network,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// An answer came, but its body is not what the API sends: not JSON, not an object, or
    /// without a string `state`. Never for a redeploy answered 2xx: that one was accepted,
    /// and is returned as a status whose
    /// [`accepted_unreadable`](crate::DeploymentStatus::accepted_unreadable) is true.
    Decode,
    /// The redeploy request may have reached the server, but no answer came back (read
    /// timeout, reset after sending). It is never retried: check the status instead.
    OutcomeUnknown,
    /// The deployment ended in a failure state; [`Error::status`] holds it.
    DeploymentFailed,
    /// The wait's own deadline passed before the deployment ended; [`Error::status`] holds
    /// the last status seen, if any.
    WaitTimeout,
    /// The caller asked to stop.
    Cancelled,
}

impl ErrorKind {
    /// A stable, lowercase name (`"not_found"`) for logs, JSON and other languages.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Http => "http",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::Tls => "tls",
            ErrorKind::Decode => "decode",
            ErrorKind::OutcomeUnknown => "outcome_unknown",
            ErrorKind::DeploymentFailed => "deployment_failed",
            ErrorKind::WaitTimeout => "wait_timeout",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 16] = [
        ErrorKind::InvalidInput,
        ErrorKind::Unauthorized,
        ErrorKind::Forbidden,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Http,
        ErrorKind::Timeout,
        ErrorKind::Network,
        ErrorKind::Tls,
        ErrorKind::Decode,
        ErrorKind::OutcomeUnknown,
        ErrorKind::DeploymentFailed,
        ErrorKind::WaitTimeout,
        ErrorKind::Cancelled,
    ];
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of every fallible call in this crate. Never contains the API token.
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    http_status: Option<u16>,
    detail: Option<String>,
    retry_after: Option<Duration>,
    status: Option<DeploymentStatus>,
    /// The status's state as `Debug` shows it: server data, so cleaned by `redacted`.
    state_shown: Option<String>,
    /// For a `Decode` error on a 2xx answer: the body received, so that a redeploy can still
    /// be reported as accepted with it. Server data: never shown by `Display` or `Debug`.
    received: Option<std::sync::Arc<[u8]>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                http_status: None,
                detail: None,
                retry_after: None,
                status: None,
                state_shown: None,
                received: None,
            }),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidInput, message)
    }

    pub(crate) fn with_http_status(mut self, status: u16) -> Self {
        self.inner.http_status = Some(status);
        self
    }

    /// Stores the server's explanation (cleaned later by [`redacted`](Self::redacted)).
    pub(crate) fn with_detail(mut self, detail: Option<String>) -> Self {
        self.inner.detail = detail;
        self
    }

    /// Makes the texts safe to show, whatever server data went into them: `secret` (the
    /// token) cut out, one line, bounded. Every error leaving a client call goes through
    /// here, so no single message site has to remember it.
    pub(crate) fn redacted(mut self, secret: &str) -> Self {
        self.inner.message = clean_server_text(&self.inner.message, secret);
        self.inner.detail = self.inner.detail.map(|d| clean_server_text(&d, secret));
        self.inner.state_shown = self
            .inner
            .state_shown
            .map(|s| clean_server_text(&s, secret));
        self
    }

    pub(crate) fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.inner.retry_after = wait;
        self
    }

    pub(crate) fn with_status(mut self, status: DeploymentStatus) -> Self {
        self.inner.state_shown = Some(status.state.as_str().to_owned());
        self.inner.status = Some(status);
        self
    }

    /// Keeps the body of a 2xx answer that could not be decoded (see `received`).
    pub(crate) fn with_received(mut self, body: &[u8]) -> Self {
        self.inner.received = Some(body.into());
        self
    }

    /// The body kept by [`with_received`](Self::with_received), if any.
    pub(crate) fn received(&self) -> Option<&[u8]> {
        self.inner.received.as_deref()
    }

    pub(crate) fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// What happened, without the server's detail (see [`detail`](Self::detail)).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The HTTP status of the answer that caused this error, if an answer came.
    pub fn http_status(&self) -> Option<u16> {
        self.inner.http_status
    }

    /// The server's `detail` (or older `message`) from the error body.
    pub fn detail(&self) -> Option<&str> {
        self.inner.detail.as_deref()
    }

    /// For [`ErrorKind::RateLimited`]: how long the server asked to wait (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// For [`ErrorKind::DeploymentFailed`] the final status, for [`ErrorKind::WaitTimeout`]
    /// and [`ErrorKind::Cancelled`] the last one seen.
    pub fn status(&self) -> Option<&DeploymentStatus> {
        self.inner.status.as_ref()
    }

    /// Whether a status poll that failed this way may succeed if asked again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RateLimited
                | ErrorKind::Server
                | ErrorKind::Timeout
                | ErrorKind::Network
                | ErrorKind::OutcomeUnknown
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(status) = self.inner.http_status {
            if !self.inner.message.contains("HTTP ") {
                write!(f, " (HTTP {status})")?;
            }
        }
        if let Some(detail) = &self.inner.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(wait) = self.inner.retry_after {
            write!(f, " (retry after {} s)", wait.as_secs_f64().ceil() as u64)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("http_status", &self.inner.http_status)
            .field("detail", &self.inner.detail)
            .field("retry_after", &self.inner.retry_after)
            .field("state", &self.inner.state_shown)
            .finish()
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_distinct() {
        let mut names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }
}
