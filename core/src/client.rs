//! The client: configuration, the two API calls, and turning answers into statuses or errors.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use uuid::Uuid;

use crate::auth::{AuthScheme, Secret};
use crate::cancel::{after, cancelled, sleep_until, Cancel};
use crate::error::{Error, ErrorKind};
use crate::model::{error_detail, DeploymentStatus};
use crate::origin::Origin;
use crate::retry::{parse_retry_after, Attempt, Method, RetryPolicy};
use crate::text::clean_server_text;
use crate::transport::{ExchangeError, ProxySetting, Response, Settings, Stage, Transport};

pub const DEFAULT_BASE_URL: &str = "https://api.qovery.com";
pub use crate::environment::{Environment, ENV_CA_BUNDLE, ENV_TOKEN, ENV_URL};
/// Default longest wait for a TCP connection (capped by the request timeout).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default longest attempt.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default longest call, retries included (raised to the request timeout if that is longer).
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
pub const DEFAULT_USER_AGENT: &str = concat!("qovery-redeploy/", env!("CARGO_PKG_VERSION"));

/// Options of a redeploy request.
#[derive(Clone, Copy, Default)]
pub struct RedeployOptions<'a> {
    /// `applyImmediately`: apply regardless of the maintenance window. `None` leaves the
    /// query parameter out (the server's default).
    pub apply_immediately: Option<bool>,
    /// Polled while the call blocks; see [`Cancel`].
    pub cancel: Option<&'a dyn Cancel>,
}

impl fmt::Debug for RedeployOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedeployOptions")
            .field("apply_immediately", &self.apply_immediately)
            .field("cancel", &self.cancel.is_some())
            .finish()
    }
}

/// Builds a [`Client`]. Every setting has a default; only the token is required (directly or
/// from `QOVERY_API_TOKEN` with [`from_env`](Self::from_env)).
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    token: Option<Secret>,
    token_error: Option<String>,
    auth_scheme: AuthScheme,
    base_url: Option<String>,
    /// `None`: derived from the request timeout at build (see `connect_timeout`).
    connect_timeout: Option<Duration>,
    request_timeout: Duration,
    /// `None`: derived from the request timeout at build (see `deadline`).
    deadline: Option<Duration>,
    max_retries: u32,
    user_agent: Option<String>,
    ca_file: Option<PathBuf>,
    proxy: ProxySetting,
    /// Where the token and URL not set on the builder come from (`None`: nowhere).
    environment: Option<Environment>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            token: None,
            token_error: None,
            auth_scheme: AuthScheme::Auto,
            base_url: None,
            connect_timeout: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            deadline: None,
            max_retries: 2,
            user_agent: None,
            ca_file: None,
            proxy: ProxySetting::FromEnv,
            environment: None,
        }
    }
}

impl ClientBuilder {
    /// The API token. Checked by [`build`](Self::build): non-empty, printable ASCII, no
    /// whitespace or control characters.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        match Secret::new(token) {
            Ok(secret) => {
                self.token = Some(secret);
                self.token_error = None;
            }
            Err(e) => {
                self.token = None;
                self.token_error = Some(e.message().to_owned());
            }
        }
        self
    }

    pub fn auth_scheme(mut self, scheme: AuthScheme) -> Self {
        self.auth_scheme = scheme;
        self
    }

    /// Default `https://api.qovery.com`. `http://` is accepted only for loopback hosts.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Longest wait for a TCP connection. Default: 10 s, or the request timeout if that is
    /// shorter (a connection never gets longer than the whole attempt).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Longest one attempt may take, from connecting to the last byte (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Longest one call may take, retries and their waits included. Default: 60 s, or the
    /// request timeout if that is longer (so that a longer attempt set alone still gets to
    /// run once).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Retries after a failed attempt, where retrying is safe (default 2).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Default `qovery-redeploy/<version>`.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// A PEM file of extra certificate authorities to trust, beside Mozilla's roots and the
    /// system store (a TLS-inspecting proxy's CA, a private CA). Without it, `QOVERY_CA_BUNDLE`
    /// is read. A missing, unreadable or empty bundle fails [`build`](Self::build).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Sends `https://` requests through this proxy (`http://[user:password@]host:port`, a
    /// CONNECT tunnel) instead of the one `HTTPS_PROXY` / `ALL_PROXY` name; `NO_PROXY` still
    /// applies. A plain-`http://` (loopback) API URL never goes through a proxy.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxySetting::Url(url.into());
        self
    }

    /// Ignores `HTTPS_PROXY`, `ALL_PROXY` and any proxy set with [`proxy`](Self::proxy).
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::Off;
        self
    }

    /// Take the token from `QOVERY_API_TOKEN` and the URL from `QOVERY_API_URL` where they
    /// were not set on the builder.
    pub fn from_env(self) -> Self {
        self.environment(Environment::from_process())
    }

    /// [`from_env`](Self::from_env) with these values instead of the process's (read once
    /// by a caller that needs them earlier, or given by a test). `QOVERY_CA_BUNDLE` is taken
    /// from here too.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The connect timeout and the deadline as set, or derived from the request timeout.
    fn connect_timeout_and_deadline(&self) -> (Duration, Duration) {
        (
            (self.connect_timeout).unwrap_or(self.request_timeout.min(DEFAULT_CONNECT_TIMEOUT)),
            (self.deadline).unwrap_or(self.request_timeout.max(DEFAULT_DEADLINE)),
        )
    }

    pub fn build(self) -> Result<Client, Error> {
        let (connect_timeout, deadline) = self.connect_timeout_and_deadline();
        if let Some(message) = self.token_error {
            return Err(Error::invalid(message));
        }
        let env = self.environment.as_ref();
        let token = match (self.token, env) {
            (Some(t), _) => t,
            (None, Some(env)) => match env.token()? {
                Some(t) => Secret::new(t)
                    .map_err(|e| Error::invalid(format!("{ENV_TOKEN}: {}", e.message())))?,
                None => {
                    return Err(Error::invalid(format!(
                        "no API token: set {ENV_TOKEN} or pass a token"
                    )))
                }
            },
            (None, None) => return Err(Error::invalid("no API token given")),
        };
        let base_url = match (self.base_url, env) {
            (Some(u), _) => u,
            (None, Some(env)) => env.url()?.unwrap_or(DEFAULT_BASE_URL).to_owned(),
            (None, None) => DEFAULT_BASE_URL.to_owned(),
        };
        for (name, value) in [
            ("connect timeout", connect_timeout),
            ("request timeout", self.request_timeout),
            ("deadline", deadline),
        ] {
            if value.is_zero() {
                return Err(Error::invalid(format!("the {name} must be positive")));
            }
        }
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| DEFAULT_USER_AGENT.to_owned());
        if user_agent.is_empty()
            || user_agent.len() > 256
            || user_agent
                .chars()
                .any(|c| !(c == ' ' || c.is_ascii_graphic()))
        {
            return Err(Error::invalid(
                "the user agent must be 1 to 256 printable ASCII characters",
            ));
        }
        let origin = Origin::parse(&base_url)?;
        let scheme = token.resolve(self.auth_scheme);
        if let ProxySetting::Url(url) = &self.proxy {
            check_proxy_url(url)?;
        }
        let ca_file = match self.ca_file {
            Some(path) => Some(path),
            None => match env {
                Some(env) => env.ca_bundle()?.map(PathBuf::from),
                None => Environment::from_process().ca_bundle()?.map(PathBuf::from),
            },
        };
        let transport = Transport::new(
            origin,
            Settings {
                connect_timeout,
                user_agent: user_agent.clone(),
                authorization: token.header_value(scheme),
                proxy: self.proxy,
                ca_file,
            },
        )?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                token,
                scheme,
                user_agent,
                request_timeout: self.request_timeout,
                deadline,
                policy: RetryPolicy {
                    max_retries: self.max_retries,
                    ..RetryPolicy::default()
                },
                accepted: Mutex::new(HashMap::new()),
            }),
        })
    }
}

/// A Qovery API client. Build it once and share it: it is `Send + Sync`, cheap to clone
/// (one `Arc`), and keeps connections open for reuse.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    token: Secret,
    scheme: AuthScheme,
    user_agent: String,
    request_timeout: Duration,
    deadline: Duration,
    policy: RetryPolicy,
    /// The last redeploy accepted per database and when, until a wait sees its outcome.
    accepted: Mutex<HashMap<Uuid, Accepted>>,
}

/// A remembered accepted redeploy (see [`Client::accepted_redeploy`]).
#[derive(Clone)]
pub(crate) struct Accepted {
    pub(crate) status: DeploymentStatus,
    pub(crate) at: Instant,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("auth_scheme", &self.inner.scheme)
            .field("token", &"[REDACTED]")
            .field("user_agent", &self.inner.user_agent)
            .field("proxy", &self.inner.transport.proxy().shown())
            .field("request_timeout", &self.inner.request_timeout)
            .field("deadline", &self.inner.deadline)
            .field("max_retries", &self.inner.policy.max_retries)
            .finish()
    }
}

/// A proxy URL must be `http://` or `https://` with a host: checked at build so a typo is an
/// `invalid_input` error and not a connect failure later. Credentials are never shown.
fn check_proxy_url(url: &str) -> Result<(), Error> {
    let shown = ProxySetting::Url(url.to_owned()).shown();
    let parsed =
        url::Url::parse(url).map_err(|e| Error::invalid(format!("invalid proxy URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(Error::invalid(format!(
            "invalid proxy URL {shown}: expected http://host:port"
        )));
    }
    Ok(())
}

/// A database id, checked to be a UUID before it goes anywhere near a URL.
pub fn parse_database_id(id: &str) -> Result<Uuid, Error> {
    let shown = || {
        let cut: String = id.chars().take(48).collect();
        format!("{cut:?}{}", if cut.len() < id.len() { "..." } else { "" })
    };
    if id.len() != 36 {
        return Err(Error::invalid(format!(
            "invalid database id {}: expected a UUID like 3c90c3cc-0d44-4b50-8888-8dd25736052a",
            shown()
        )));
    }
    Uuid::try_parse(id).map_err(|_| {
        Error::invalid(format!(
            "invalid database id {}: expected a UUID like 3c90c3cc-0d44-4b50-8888-8dd25736052a",
            shown()
        ))
    })
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `QOVERY_API_TOKEN` and `QOVERY_API_URL`.
    pub fn from_env() -> Result<Client, Error> {
        ClientBuilder::default().from_env().build()
    }

    /// Longest one attempt may take (the builder's `request_timeout`).
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    /// Retries after a failed attempt, where safe (the builder's `max_retries`).
    pub fn max_retries(&self) -> u32 {
        self.inner.policy.max_retries
    }

    /// Whether the API host is loopback (an IP or `localhost`): a local fake.
    pub fn is_loopback(&self) -> bool {
        self.inner.transport.origin().loopback()
    }

    pub fn base_url(&self) -> &str {
        self.inner.transport.origin().base_url()
    }

    /// Closes the idle keep-alive connections now instead of when the last clone of the
    /// client is dropped. The client stays usable: the next call connects again.
    pub fn close_idle_connections(&self) {
        self.inner.transport.close_idle();
    }

    /// The token, for redacting texts built from server data.
    pub(crate) fn secret(&self) -> &str {
        self.inner.token.expose()
    }

    /// The scheme the token is sent with (`Auto` resolved).
    pub fn auth_scheme(&self) -> AuthScheme {
        self.inner.scheme
    }

    /// The status of the last redeploy this client (or a clone of it) had accepted for the
    /// database, kept in memory until a wait sees that deployment end (success or failure).
    /// [`wait_for_database`](Self::wait_for_database) without `accepted` uses it, so a wait
    /// after a redeploy, or one resumed after a cancelled or timed-out wait, is not ended by
    /// the previous deployment's final state. `None` for an invalid id.
    pub fn accepted_redeploy(&self, database_id: &str) -> Option<DeploymentStatus> {
        let id = parse_database_id(database_id).ok()?;
        self.remembered(&id).map(|a| a.status)
    }

    /// Forgets the remembered accepted redeploy of the database (see
    /// [`accepted_redeploy`](Self::accepted_redeploy)): the next wait without `accepted`
    /// ends at the first success or failure state seen.
    pub fn forget_accepted_redeploy(&self, database_id: &str) {
        if let Ok(id) = parse_database_id(database_id) {
            self.memory().remove(&id);
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Accepted>> {
        self.inner
            .accepted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn remembered(&self, id: &Uuid) -> Option<Accepted> {
        self.memory().get(id).cloned()
    }

    /// A wait saw the outcome of `status`'s deployment: forgets it, unless a newer redeploy
    /// was remembered meanwhile.
    pub(crate) fn settled(&self, id: &Uuid, status: &DeploymentStatus) {
        let mut memory = self.memory();
        if memory.get(id).is_some_and(|a| a.status == *status) {
            memory.remove(id);
        }
    }

    /// `POST /database/{id}/redeploy`: asks for a redeploy; the answer (202) is the status
    /// of the new deployment request. The client remembers it for a later
    /// [`wait_for_database`](Self::wait_for_database) (see
    /// [`accepted_redeploy`](Self::accepted_redeploy)).
    pub fn redeploy_database(
        &self,
        database_id: &str,
        options: RedeployOptions<'_>,
    ) -> Result<DeploymentStatus, Error> {
        self.redeploy_until(database_id, options, None)
    }

    /// [`redeploy_database`](Self::redeploy_database) ending by `deadline` at the latest.
    pub(crate) fn redeploy_until(
        &self,
        database_id: &str,
        options: RedeployOptions<'_>,
        deadline: Option<Instant>,
    ) -> Result<DeploymentStatus, Error> {
        let id = parse_database_id(database_id)?;
        let query = match options.apply_immediately {
            None => "",
            Some(true) => "?applyImmediately=true",
            Some(false) => "?applyImmediately=false",
        };
        let path = format!("/database/{}/redeploy{query}", id.hyphenated());
        let result = match self.call(Method::Post, &path, deadline, options.cancel) {
            // A 2xx answer means accepted, whatever its body: reported as such, never as a
            // failure a caller might retry. `e` is already redacted.
            Err(e)
                if e.kind() == ErrorKind::Decode
                    && e.http_status().is_some_and(|s| (200..300).contains(&s)) =>
            {
                log::warn!(
                    target: "qovery_redeploy",
                    "redeploy accepted, but its answer is unreadable: {e}"
                );
                Ok(DeploymentStatus::unreadable_accepted(
                    e.received().unwrap_or_default(),
                ))
            }
            other => other,
        };
        if let Ok(status) = &result {
            self.memory().insert(
                id,
                Accepted {
                    status: status.clone(),
                    at: Instant::now(),
                },
            );
        }
        result
    }

    /// `GET /database/{id}/status`.
    pub fn database_status(&self, database_id: &str) -> Result<DeploymentStatus, Error> {
        self.database_status_with(database_id, None, None)
    }

    /// [`database_status`](Self::database_status) with an earlier deadline and a cancel poll.
    pub fn database_status_with(
        &self,
        database_id: &str,
        deadline: Option<Instant>,
        cancel: Option<&dyn Cancel>,
    ) -> Result<DeploymentStatus, Error> {
        let id = parse_database_id(database_id)?;
        let path = format!("/database/{}/status", id.hyphenated());
        self.call(Method::Get, &path, deadline, cancel)
    }

    /// Sends one API call with retries where safe, within the client's deadline (or the
    /// earlier `deadline` given).
    fn call(
        &self,
        method: Method,
        path: &str,
        deadline: Option<Instant>,
        cancel: Option<&dyn Cancel>,
    ) -> Result<DeploymentStatus, Error> {
        let inner = &*self.inner;
        // Every error built from server data is redacted before it is logged or returned.
        let secret = inner.token.expose();
        let start = Instant::now();
        let mut deadline_at = after(start, inner.deadline);
        if let Some(d) = deadline {
            deadline_at = deadline_at.min(d);
        }
        let mut retry = 0;
        loop {
            if cancelled(cancel) {
                return Err(Error::new(ErrorKind::Cancelled, "cancelled"));
            }
            let attempt_start = Instant::now();
            let attempt_deadline = deadline_at.min(after(attempt_start, inner.request_timeout));
            let result =
                inner
                    .transport
                    .send(method == Method::Post, path, attempt_deadline, cancel);
            let elapsed = attempt_start.elapsed();
            let (error, attempt) = match result {
                Ok(response) => {
                    log::debug!(
                        target: "qovery_redeploy",
                        "{} {} -> {} (attempt {}, {:.1} ms)",
                        method.as_str(), path, response.status, retry + 1,
                        elapsed.as_secs_f64() * 1000.0
                    );
                    if (200..300).contains(&response.status) {
                        return decode_status(&response).map_err(|e| e.redacted(secret));
                    }
                    self.error_for_answer(&response)
                }
                Err(failure) => {
                    log::debug!(
                        target: "qovery_redeploy",
                        "{} {} -> failed: {} (attempt {}, {:.1} ms)",
                        method.as_str(), path, clean_server_text(&failure.message, secret), retry + 1,
                        elapsed.as_secs_f64() * 1000.0
                    );
                    self.error_for_failure(method, failure)
                }
            };
            let error = error.redacted(secret);
            let Some(wait) = inner.policy.decide(method, &attempt, retry) else {
                return Err(error);
            };
            let resume = after(Instant::now(), wait);
            if resume >= deadline_at {
                return Err(error);
            }
            log::warn!(
                target: "qovery_redeploy",
                "{} {}: {}; retrying in {} ms",
                method.as_str(), path, error, wait.as_millis()
            );
            if !sleep_until(resume, cancel) {
                return Err(Error::new(ErrorKind::Cancelled, "cancelled"));
            }
            retry += 1;
        }
    }

    /// An answer that is not a 2xx: the error its status means.
    fn error_for_answer(&self, response: &Response) -> (Error, Attempt) {
        let status = response.status;
        let detail = error_detail(&response.body);
        let retry_after = response
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let kind = kind_for_status(status, detail.as_deref());
        let message = match kind {
            ErrorKind::Unauthorized => "the API refused the token".to_owned(),
            ErrorKind::Forbidden => "the token may not act on this database".to_owned(),
            ErrorKind::NotFound => "database not found".to_owned(),
            ErrorKind::Conflict if status == 409 => {
                "conflict: another operation is in progress on this database".to_owned()
            }
            ErrorKind::Conflict => "an action is already in progress on this database".to_owned(),
            ErrorKind::RateLimited => "rate limited by the API".to_owned(),
            ErrorKind::Server => "the API failed".to_owned(),
            _ if (300..400).contains(&status) => format!(
                "redirect to {} refused: the client never follows redirects",
                response.location.as_deref().unwrap_or("(no location)")
            ),
            _ => "unexpected answer from the API".to_owned(),
        };
        let error = Error::new(kind, format!("{message} (HTTP {status})"))
            .with_http_status(status)
            .with_detail(detail)
            .with_retry_after(if kind == ErrorKind::RateLimited || status == 503 {
                retry_after
            } else {
                None
            });
        let attempt = Attempt {
            stage: Stage::Answered(status),
            kind,
            retry_after,
        };
        (error, attempt)
    }

    /// An exchange that did not produce a complete answer.
    fn error_for_failure(&self, method: Method, failure: ExchangeError) -> (Error, Attempt) {
        let message = failure.message;
        let attempt = Attempt {
            stage: failure.stage,
            kind: failure.kind,
            retry_after: None,
        };
        let error = match failure.stage {
            Stage::NotSent => Error::new(failure.kind, message),
            Stage::Sent if method == Method::Post => {
                let kind = if failure.kind == ErrorKind::Cancelled {
                    ErrorKind::Cancelled
                } else {
                    ErrorKind::OutcomeUnknown
                };
                Error::new(
                    kind,
                    format!(
                        "no answer to the redeploy request ({message}); it may have been \
                         processed: check the database status before trying again"
                    ),
                )
            }
            Stage::Sent => Error::new(failure.kind, message),
            Stage::Answered(status) => {
                let accepted = (200..300).contains(&status);
                let kind = match failure.kind {
                    ErrorKind::Cancelled => failure.kind,
                    // A redeploy answered 2xx was accepted: `Decode` (which `redeploy_until`
                    // turns into an accepted, unreadable status), never `Timeout`, which would
                    // read as "not processed" and invite a second redeploy.
                    _ if accepted && method == Method::Post => ErrorKind::Decode,
                    ErrorKind::Timeout => failure.kind,
                    _ if accepted => ErrorKind::Decode,
                    _ => kind_for_status(status, None),
                };
                Error::new(kind, format!("HTTP {status} answer unreadable: {message}"))
                    .with_http_status(status)
            }
        };
        (error, attempt)
    }
}

/// The error kind an HTTP status means; a 400 is a conflict when the server's detail says an
/// action is already in progress (the API answers 400 ActionAlreadyInProgress where its spec says 409).
fn kind_for_status(status: u16, detail: Option<&str>) -> ErrorKind {
    let in_progress = detail.is_some_and(|d| {
        let d = d.to_ascii_lowercase();
        d.contains("in progress") || d.contains("inprogress") || d.contains("already running")
    });
    match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        400 if in_progress => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Http,
    }
}

/// A 2xx answer's status; an error keeps the body received (`Error::received`), for a
/// redeploy to report as accepted.
fn decode_status(response: &Response) -> Result<DeploymentStatus, Error> {
    let fail = |msg: String| {
        Error::new(ErrorKind::Decode, msg)
            .with_http_status(response.status)
            .with_received(&response.body)
    };
    let body = std::str::from_utf8(&response.body)
        .map_err(|_| fail("response body is not UTF-8".to_owned()))?;
    if body.trim().is_empty() {
        return Err(fail(format!(
            "HTTP {} answer has an empty body, expected a deployment Status",
            response.status
        )));
    }
    DeploymentStatus::from_json(body).map_err(|e| {
        e.with_http_status(response.status)
            .with_received(&response.body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timeout_and_deadline_follow_the_request_timeout_unless_set() {
        let s = Duration::from_secs;
        let b = ClientBuilder::default;
        assert_eq!(b().connect_timeout_and_deadline(), (s(10), s(60)));
        assert_eq!(
            b().request_timeout(s(120)).connect_timeout_and_deadline(),
            (s(10), s(120))
        );
        assert_eq!(
            b().request_timeout(s(5)).connect_timeout_and_deadline(),
            (s(5), s(60))
        );
        let set = b()
            .request_timeout(s(120))
            .deadline(s(90))
            .connect_timeout(s(20));
        assert_eq!(set.connect_timeout_and_deadline(), (s(20), s(90)));
        // What build applies.
        let c = b()
            .token("t")
            .base_url("http://127.0.0.1:9")
            .request_timeout(s(120));
        let c = c.build().unwrap();
        assert_eq!(
            (c.inner.request_timeout, c.inner.deadline),
            (s(120), s(120))
        );
    }

    #[test]
    fn database_ids_must_be_uuids() {
        assert!(parse_database_id("3c90c3cc-0d44-4b50-8888-8dd25736052a").is_ok());
        for bad in [
            "",
            "../x",
            "a%2Fb",
            "3c90c3cc-0d44-4b50-8888-8dd25736052a/../../x",
            "3c90c3cc0d444b5088888dd25736052a",
            "{3c90c3cc-0d44-4b50-8888-8dd2573605}",
            "3c90c3cc-0d44-4b50-8888-8dd25736052\0",
            "3c90c3cc-0d44-4b50-8888-8dd25736052g",
            &"a".repeat(10_000),
        ] {
            let e = parse_database_id(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            assert!(e.to_string().len() < 200);
        }
    }

    #[test]
    fn builder_refuses_bad_settings() {
        let ok = || {
            Client::builder()
                .token("tok")
                .base_url("http://127.0.0.1:1")
        };
        assert!(ok().build().is_ok());
        assert_eq!(
            Client::builder().build().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ok().token("a\r\nb").build().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ok().token("").build().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ok().base_url("http://example.com")
                .build()
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ok().deadline(Duration::ZERO).build().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            ok().user_agent("a\nb").build().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = Client::builder()
            .token("s3cr3t-token")
            .base_url("http://127.0.0.1:1")
            .build()
            .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        let b = Client::builder().token("s3cr3t-token");
        assert!(!format!("{b:?}").contains("s3cr3t"));
    }

    #[test]
    fn client_is_send_sync() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
        check::<Error>();
        check::<DeploymentStatus>();
    }
}
