//! One HTTP exchange with the API, on reqwest, and how far it got when it failed.
//!
//! The redeploy POST must never be sent twice by accident, so every failure is classified by
//! [`Stage`]: only a connector error (DNS, TCP connect, TLS handshake, proxy tunnel, or the
//! connect phase overrunning the attempt's deadline) and hyper's "canceled before dispatch"
//! count as not sent; anything else before an answer head may have reached the server.
//! reqwest runs on the library's runtime ([`crate::runtime`]) so that a call can be cancelled
//! from the caller's thread in the middle of a request.

use std::error::Error as StdError;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, USER_AGENT};

use crate::cancel::Cancel;
use crate::error::{Error, ErrorKind};
use crate::origin::Origin;
use crate::runtime::{self, Stop};

/// Largest response body read; anything longer is refused, whatever its headers claim.
pub const MAX_BODY: usize = 1024 * 1024;
/// Most header fields an answer may have (hyper refuses more as a parse error).
pub(crate) const MAX_HEADERS: usize = 64;
/// Largest answer head: hyper's own read-buffer limit (8192 + 4096 × 100 bytes), which
/// reqwest does not expose. A longer head is a parse error, i.e. "maybe sent".
pub const MAX_HEAD: usize = 417_792;
/// Idle keep-alive connections kept per client.
const MAX_IDLE: usize = 32;
/// How long an idle connection is kept before it is closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The connect phase ends at the attempt's deadline; the exchange as a whole gets this much
/// more, so that a connect still hanging at the deadline is reported by the connector (not
/// sent) and never by the outer timer (maybe sent).
const OUTER_GRACE: Duration = Duration::from_millis(5);

/// How far an exchange got before it failed: decides whether it may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Nothing of the request reached a server (connect, DNS, TLS handshake, proxy failed).
    NotSent,
    /// The request may have been written; no complete answer head came back.
    Sent,
    /// An answer with this status arrived, but its body could not be read.
    Answered(u16),
}

#[derive(Debug)]
pub(crate) struct ExchangeError {
    pub stage: Stage,
    pub kind: ErrorKind,
    pub message: String,
}

impl ExchangeError {
    fn new(stage: Stage, kind: ErrorKind, message: impl Into<String>) -> Self {
        ExchangeError {
            stage,
            kind,
            message: message.into(),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub retry_after: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Which proxy a client uses for `https://` origins. A plain-`http://` origin is loopback
/// only and never goes through a proxy: reqwest would send it the token in clear.
#[derive(Clone, Default)]
pub(crate) enum ProxySetting {
    /// `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY` and `NO_PROXY`, as curl reads them.
    #[default]
    FromEnv,
    /// This proxy URL (`http://[user:password@]host:port`); `NO_PROXY` still applies.
    Url(String),
    Off,
}

impl std::fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown())
    }
}

impl ProxySetting {
    /// The proxy URL without credentials, for Debug output and messages.
    pub(crate) fn shown(&self) -> String {
        match self {
            ProxySetting::FromEnv => "from the environment".to_owned(),
            ProxySetting::Off => "off".to_owned(),
            ProxySetting::Url(u) => match url::Url::parse(u) {
                Ok(mut url) => {
                    let _ = url.set_username("");
                    let _ = url.set_password(None);
                    url.to_string()
                }
                Err(_) => "(invalid URL)".to_owned(),
            },
        }
    }
}

/// What a reqwest client is built from: kept so a forked child can build a fresh one.
#[derive(Clone)]
pub(crate) struct Settings {
    pub connect_timeout: Duration,
    pub user_agent: String,
    /// The `Authorization` header value (`Token ...` / `Bearer ...`).
    pub authorization: HeaderValue,
    pub proxy: ProxySetting,
    pub ca_file: Option<PathBuf>,
}

/// Connections to one origin, shared by every thread using the client.
pub(crate) struct Transport {
    origin: Origin,
    settings: Settings,
    tls: rustls::ClientConfig,
    /// The reqwest client and the process it was built in: a forked child builds its own.
    client: Mutex<(u32, reqwest::Client)>,
}

impl Transport {
    pub(crate) fn new(origin: Origin, settings: Settings) -> Result<Transport, Error> {
        let tls = crate::tls::client_config(settings.ca_file.as_deref())?;
        let client = build_client(&origin, &settings, &tls)?;
        Ok(Transport {
            origin,
            settings,
            tls,
            client: Mutex::new((std::process::id(), client)),
        })
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    pub(crate) fn proxy(&self) -> &ProxySetting {
        &self.settings.proxy
    }

    /// The reqwest client for this process.
    fn client(&self) -> Result<reqwest::Client, ExchangeError> {
        let pid = std::process::id();
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if slot.0 != pid {
            // Forked: the inherited client's connections belong to the parent's runtime.
            // Leave them alone (dropping them would touch the parent's epoll set).
            let fresh = build_client(&self.origin, &self.settings, &self.tls)
                .map_err(|e| ExchangeError::new(Stage::NotSent, e.kind(), e.message()))?;
            std::mem::forget(std::mem::replace(&mut *slot, (pid, fresh)));
        }
        Ok(slot.1.clone())
    }

    /// Closes the idle connections: the next call gets a fresh client (and connections).
    pub(crate) fn close_idle(&self) {
        if let Ok(fresh) = build_client(&self.origin, &self.settings, &self.tls) {
            let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
            let old = std::mem::replace(&mut *slot, (std::process::id(), fresh));
            drop(slot);
            if old.0 == std::process::id() {
                drop(old);
            } else {
                std::mem::forget(old);
            }
        }
    }

    /// Sends one body-less request to `path` and reads the answer, by `deadline`.
    pub(crate) fn send(
        &self,
        post: bool,
        path: &str,
        deadline: Instant,
        cancel: Option<&dyn Cancel>,
    ) -> Result<Response, ExchangeError> {
        if Instant::now() >= deadline {
            return Err(ExchangeError::new(
                Stage::NotSent,
                ErrorKind::Timeout,
                "deadline passed before sending",
            ));
        }
        let client = self.client()?;
        let url = self.origin.url(path);
        let request = if post {
            client
                .post(url)
                .header(CONTENT_LENGTH, HeaderValue::from_static("0"))
        } else {
            client.get(url)
        };
        // The answer's status as soon as its head arrived, for a cancel that comes later.
        let answered = Arc::new(AtomicU16::new(0));
        let task = exchange(request, deadline, answered.clone());
        match runtime::run(task, deadline, cancel) {
            Ok(result) => result,
            Err(stop) => {
                let stage = match answered.load(Ordering::Acquire) {
                    0 => Stage::Sent,
                    status => Stage::Answered(status),
                };
                Err(match stop {
                    Stop::Cancelled => ExchangeError::new(
                        stage,
                        ErrorKind::Cancelled,
                        "cancelled while waiting for the answer",
                    ),
                    Stop::Overran => ExchangeError::new(
                        stage,
                        ErrorKind::Timeout,
                        "timed out waiting for the answer",
                    ),
                    Stop::Unavailable(e) => {
                        ExchangeError::new(Stage::NotSent, e.kind(), e.message().to_owned())
                    }
                })
            }
        }
    }
}

fn build_client(
    origin: &Origin,
    settings: &Settings,
    tls: &rustls::ClientConfig,
) -> Result<reqwest::Client, Error> {
    let mut headers = HeaderMap::new();
    let mut authorization = settings.authorization.clone();
    authorization.set_sensitive(true);
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_str(&settings.user_agent)
            .map_err(|_| Error::invalid("the user agent is not a valid header value"))?,
    );
    let mut builder = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .retry(reqwest::retry::never())
        .http1_only()
        .http1_max_headers(MAX_HEADERS)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(MAX_IDLE)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .connect_timeout(settings.connect_timeout)
        .connector_layer(ConnectDeadlineLayer)
        .tls_backend_preconfigured(tls.clone());
    builder = match (&settings.proxy, origin.https()) {
        (_, false) | (ProxySetting::Off, _) => builder.no_proxy(),
        // curl's `NO_PROXY=*`: no proxy for any host. hyper-util 0.1.21 applies `*` to domain
        // names only, so an IP-literal API URL would still go through the proxy.
        _ if no_proxy_for_all() => builder.no_proxy(),
        (ProxySetting::FromEnv, true) => builder,
        (ProxySetting::Url(url), true) => {
            let shown = settings.proxy.shown();
            let proxy = reqwest::Proxy::all(url.as_str())
                .map_err(|_| Error::invalid(format!("invalid proxy URL {shown}")))?
                .no_proxy(reqwest::NoProxy::from_env());
            builder.proxy(proxy)
        }
    };
    builder.build().map_err(|e| {
        Error::invalid(format!(
            "cannot set up the HTTP client: {}",
            describe(&e, &[])
        ))
    })
}

/// `NO_PROXY` (or `no_proxy`) is `*`.
fn no_proxy_for_all() -> bool {
    ["NO_PROXY", "no_proxy"]
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|v| v.split(',').any(|h| h.trim() == "*")))
}

tokio::task_local! {
    /// The deadline of the attempt this task is making; read by the connector layer.
    static ATTEMPT_DEADLINE: tokio::time::Instant;
}

/// The whole exchange, run as one task on the library's runtime.
async fn exchange(
    request: reqwest::RequestBuilder,
    deadline: Instant,
    answered: Arc<AtomicU16>,
) -> Result<Response, ExchangeError> {
    let deadline = tokio::time::Instant::from_std(deadline);
    let sent = ATTEMPT_DEADLINE.scope(deadline, request.send());
    let mut response = match tokio::time::timeout_at(deadline + OUTER_GRACE, sent).await {
        Err(_) => {
            return Err(ExchangeError::new(
                Stage::Sent,
                ErrorKind::Timeout,
                "timed out waiting for the answer",
            ))
        }
        Ok(Err(e)) => return Err(failure_for(&e)),
        Ok(Ok(response)) => response,
    };
    let status = response.status().as_u16();
    answered.store(status, Ordering::Release);
    let stage = Stage::Answered(status);
    if status == 101 {
        return Err(ExchangeError::new(
            stage,
            ErrorKind::Http,
            "unexpected protocol switch (HTTP 101)",
        ));
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let retry_after = header(reqwest::header::RETRY_AFTER);
    let location = header(reqwest::header::LOCATION);
    let too_large = || {
        ExchangeError::new(
            stage,
            ErrorKind::Decode,
            format!("answer body larger than the {} KiB limit", MAX_BODY / 1024),
        )
    };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => {
                return Err(ExchangeError::new(
                    stage,
                    ErrorKind::Timeout,
                    "timed out reading the answer body",
                ))
            }
            Ok(Err(e)) => {
                return Err(ExchangeError::new(
                    stage,
                    ErrorKind::Network,
                    format!(
                        "connection failed before the end of the answer body: {}",
                        describe(&e, &[])
                    ),
                ))
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    Ok(Response {
        status,
        retry_after,
        location,
        body,
    })
}

/// The connect phase overran the attempt's deadline: a connector error, so "not sent".
#[derive(Debug)]
struct ConnectDeadline;

impl std::fmt::Display for ConnectDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timed out connecting")
    }
}

impl StdError for ConnectDeadline {}

/// Ends the connect phase at the attempt's deadline, so that it fails as a connector error
/// (which reqwest reports as `is_connect`) rather than as the request's total timeout
/// (which says nothing about whether the request was written).
#[derive(Clone, Copy)]
struct ConnectDeadlineLayer;

impl<S> tower_layer::Layer<S> for ConnectDeadlineLayer {
    type Service = ConnectDeadlineService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ConnectDeadlineService { inner }
    }
}

#[derive(Clone)]
struct ConnectDeadlineService<S> {
    inner: S,
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl<S, R> tower_service::Service<R> for ConnectDeadlineService<S>
where
    S: tower_service::Service<R, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        // hyper-util polls a new connection's connector inside the request's own task, so
        // the task-local deadline is there; a connect it finishes in the background (the
        // request took a pooled connection meanwhile) has none and keeps connect_timeout.
        let deadline = ATTEMPT_DEADLINE.try_with(|d| *d).ok();
        let connecting = self.inner.call(request);
        Box::pin(async move {
            match deadline {
                Some(deadline) => tokio::time::timeout_at(deadline, connecting)
                    .await
                    .unwrap_or_else(|_| Err(Box::new(ConnectDeadline))),
                None => connecting.await,
            }
        })
    }
}

/// Every error in `e`'s chain, looking inside `io::Error`s too (`source()` skips the error an
/// `io::Error` wraps, which is where hyper-rustls puts the `rustls::Error`).
fn chain<'a>(e: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        out.push(err);
        next = match err.downcast_ref::<io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => err.source(),
        };
        if out.len() > 16 {
            break;
        }
    }
    out
}

/// A readable one-line account of `e`: the chain's texts without reqwest's and hyper-util's
/// wrappers (which repeat the URL or say only "client error"), and never the URL.
fn describe(e: &reqwest::Error, skip: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for err in chain(e).into_iter().skip(1) {
        let text = err.to_string();
        if text.starts_with("client error (") || skip.iter().any(|s| text == *s) {
            continue;
        }
        if parts
            .last()
            .is_some_and(|p| p.ends_with(&text) || p == &text)
        {
            continue;
        }
        parts.push(text);
    }
    if parts.is_empty() {
        // Only reqwest's own text: drop its "for url (...)" part.
        let text = e.to_string();
        return text
            .split(" for url (")
            .next()
            .unwrap_or("request failed")
            .to_owned();
    }
    parts.join(": ")
}

/// Classifies a failure before an answer head: see the module docs and RELIABILITY.md.
fn failure_for(e: &reqwest::Error) -> ExchangeError {
    let links = chain(e);
    let has_io = |kind: io::ErrorKind| {
        links.iter().any(|l| {
            l.downcast_ref::<io::Error>()
                .is_some_and(|io| io.kind() == kind)
        })
    };
    let connect_deadline = links.iter().any(|l| l.is::<ConnectDeadline>());
    let tls = links.iter().any(|l| l.is::<rustls::Error>());
    let canceled = links.iter().any(|l| {
        l.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_canceled())
    });
    let text = describe(e, &[]);
    if e.is_connect() || connect_deadline {
        let kind = if tls {
            ErrorKind::Tls
        } else if connect_deadline || e.is_timeout() || has_io(io::ErrorKind::TimedOut) {
            ErrorKind::Timeout
        } else {
            ErrorKind::Network
        };
        let message = match kind {
            ErrorKind::Tls => format!("TLS handshake failed: {text}"),
            ErrorKind::Timeout if connect_deadline => {
                "timed out connecting (the attempt's deadline passed)".to_owned()
            }
            ErrorKind::Timeout => format!("timed out connecting: {text}"),
            _ if e.is_dns() => format!("cannot resolve the API host: {text}"),
            _ if text.contains("tunnel") || text.contains("proxy") => {
                format!("cannot connect through the proxy: {text}")
            }
            _ => format!("cannot connect: {text}"),
        };
        return ExchangeError::new(Stage::NotSent, kind, message);
    }
    if canceled {
        return ExchangeError::new(
            Stage::NotSent,
            ErrorKind::Network,
            format!("the connection closed before the request was sent: {text}"),
        );
    }
    let kind = if e.is_timeout() || has_io(io::ErrorKind::TimedOut) {
        ErrorKind::Timeout
    } else if tls {
        ErrorKind::Tls
    } else {
        ErrorKind::Network
    };
    ExchangeError::new(Stage::Sent, kind, format!("no complete answer: {text}"))
}
