//! The `qovery-redeploy` command, as a library so other skins (the Python package) can run it
//! verbatim: [`run`] parses the arguments, does the work, prints, and returns the exit code.
//!
//! ```no_run
//! let code = qovery_redeploy_cli::run(std::env::args_os().collect(), None);
//! std::process::exit(code);
//! ```
//!
//! [`run`] never installs signal handlers (an embedding runtime has its own); pass a
//! [`Cancel`] to make Ctrl-C stop a wait. The binary uses [`ctrl_c_cancel`] for that.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use qovery_redeploy::{
    parse_database_id, AuthScheme, Cancel, Client, DeploymentStatus, Error, ErrorKind,
    RedeployOptions, WaitOptions, DEFAULT_BASE_URL, ENV_TOKEN, ENV_URL,
};

/// The command's name, as shown in messages.
pub const NAME: &str = "qovery-redeploy";

/// Exit code: deployed (with `--wait`), accepted (without), status read (`--status`).
pub const EXIT_OK: i32 = 0;
/// Exit code: any error without a code of its own (5xx, network, TLS, unexpected answer).
pub const EXIT_OTHER: i32 = 1;
/// Exit code: bad flags or values, invalid database id, missing or malformed token, bad URL.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the token was refused (401) or may not act on this database (403).
pub const EXIT_AUTH: i32 = 3;
/// Exit code: no such database (404).
pub const EXIT_NOT_FOUND: i32 = 4;
/// Exit code: the deployment ended in a failure state (`*_ERROR`, `CANCELED`).
pub const EXIT_DEPLOYMENT_FAILED: i32 = 5;
/// Exit code: `--timeout` passed.
pub const EXIT_TIMEOUT: i32 = 6;
/// Exit code: the API is busy with this database (409, 400 "in progress") or rate limited (429).
pub const EXIT_BUSY: i32 = 7;
/// Exit code: the redeploy request was sent but no answer came; it may have been processed.
pub const EXIT_OUTCOME_UNKNOWN: i32 = 8;
/// Exit code: cancelled (Ctrl-C), as shells report a SIGINT death.
pub const EXIT_CANCELLED: i32 = 130;

/// The exit code for an error of this kind. Stable: scripts depend on it.
pub fn exit_code(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::InvalidInput => EXIT_USAGE,
        ErrorKind::Unauthorized | ErrorKind::Forbidden => EXIT_AUTH,
        ErrorKind::NotFound => EXIT_NOT_FOUND,
        ErrorKind::DeploymentFailed => EXIT_DEPLOYMENT_FAILED,
        ErrorKind::WaitTimeout | ErrorKind::Timeout => EXIT_TIMEOUT,
        ErrorKind::Conflict | ErrorKind::RateLimited => EXIT_BUSY,
        ErrorKind::OutcomeUnknown => EXIT_OUTCOME_UNKNOWN,
        ErrorKind::Cancelled => EXIT_CANCELLED,
        // Server, Http, Network, Tls, Decode, and kinds added to the core later.
        _ => EXIT_OTHER,
    }
}

const AFTER_HELP: &str = "\
Sends POST /database/DATABASE_ID/redeploy. With --wait, then polls the database's status until
the deployment it started ends (a final state left by an earlier deployment is not taken for
it). --timeout bounds everything, the redeploy request included. Durations are in seconds,
fractions allowed (0.2). Progress goes to stderr (one line, rewritten, on a terminal); results
go to stdout. With --json, on exit 5, 6 or 130 stdout holds the last status seen, if any.

Environment:
  QOVERY_API_TOKEN  The API token (required). There is deliberately no flag for it: command-line
                    arguments are visible to every user in `ps` and are kept in shell history.
                    API tokens are sent as `Token`, JWT-shaped (console) tokens as `Bearer`.
  QOVERY_API_URL    The API base URL (default https://api.qovery.com), overridden by --api-url.
                    Plain http:// is accepted only for loopback hosts.
  QOVERY_CA_BUNDLE  A PEM file of extra CAs to trust (as --ca-file); SSL_CERT_FILE, if set,
                    replaces the system store, as in curl.
  HTTPS_PROXY, ALL_PROXY, NO_PROXY
                    The proxy for https:// API URLs (a CONNECT tunnel), unless --proxy or
                    --no-proxy; http:// (loopback) URLs never use a proxy.

Exit codes:
  0    success: deployed (with --wait), redeploy accepted (without), status read (--status)
  1    other error: server error (5xx), network, TLS, unexpected or unreadable answer
  2    usage: bad flag or value, invalid database id, missing or malformed token, bad API URL
  3    authentication: token refused (401) or not allowed on this database (403)
  4    database not found (404)
  5    deployment failed: it ended in a *_ERROR state or CANCELED
  6    timed out: --timeout passed before the command could finish
  7    busy: another operation is in progress (409, or 400 \"in progress\") or rate limited (429)
  8    outcome unknown: the redeploy request was sent but no answer came back; it may have been
       processed, so check with --status before trying again
  130  interrupted (Ctrl-C); a redeploy already accepted goes on without us

Examples:
  export QOVERY_API_TOKEN=...   # better: read it from a secret store
  qovery-redeploy 3c90c3cc-0d44-4b50-8888-8dd25736052a
  qovery-redeploy --wait --timeout 1200 3c90c3cc-0d44-4b50-8888-8dd25736052a
  qovery-redeploy --wait --json 3c90c3cc-0d44-4b50-8888-8dd25736052a > status.json";

/// The default `--timeout` without `--wait`: one request and its retries.
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The default `--timeout` with `--wait`.
const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The largest duration any flag accepts (30 days): beyond it a typo is likelier than intent.
const MAX_SECS: f64 = 30.0 * 24.0 * 3600.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scheme {
    Auto,
    Token,
    Bearer,
}

impl From<Scheme> for AuthScheme {
    fn from(s: Scheme) -> AuthScheme {
        match s {
            Scheme::Auto => AuthScheme::Auto,
            Scheme::Token => AuthScheme::Token,
            Scheme::Bearer => AuthScheme::Bearer,
        }
    }
}

/// Redeploy a Qovery managed database, and optionally wait for the deployment to end.
#[derive(Debug, Parser)]
#[command(name = NAME, version, after_help = AFTER_HELP)]
struct Args {
    /// The database to redeploy (a UUID)
    #[arg(value_name = "DATABASE_ID")]
    database_id: String,

    /// Wait for the deployment to end (DEPLOYED: exit 0, failure: exit 5)
    #[arg(long)]
    wait: bool,

    /// Bound on the whole command [default: 60, 1800 with --wait]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    timeout: Option<Duration>,

    /// Time between two status polls with --wait [default: 3]
    #[arg(long, value_name = "SECS", value_parser = parse_secs, requires = "wait")]
    poll_interval: Option<Duration>,

    /// Lacking a request id, trust a final state after SECS [default: 10]
    #[arg(long, value_name = "SECS", value_parser = parse_secs, requires = "wait")]
    settle: Option<Duration>,

    /// Apply now, whatever the maintenance window (applyImmediately=true)
    #[arg(long, conflicts_with = "status")]
    apply_immediately: bool,

    /// Only read the status; with --wait, wait for the current deployment
    #[arg(long)]
    status: bool,

    /// Print only the final Status JSON (the API answer, verbatim) on stdout
    #[arg(long)]
    json: bool,

    /// No progress, no summary line (errors still go to stderr)
    #[arg(short, long)]
    quiet: bool,

    /// API base URL [default: $QOVERY_API_URL or https://api.qovery.com]
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,

    /// token, bearer or auto (bearer if JWT-shaped) [default: auto]
    #[arg(
        long,
        value_name = "SCHEME",
        value_enum,
        default_value_t = Scheme::Auto,
        hide_default_value = true,
        hide_possible_values = true
    )]
    auth_scheme: Scheme,

    /// Also trust the CAs in this PEM file [default: $QOVERY_CA_BUNDLE]
    #[arg(long, value_name = "FILE")]
    ca_file: Option<std::path::PathBuf>,

    /// HTTPS proxy (http://[user:pass@]host:port) [default: $HTTPS_PROXY or $ALL_PROXY]
    #[arg(long, value_name = "URL", conflicts_with = "no_proxy")]
    proxy: Option<String>,

    /// Use no proxy, whatever the environment says
    #[arg(long)]
    no_proxy: bool,
}

/// A duration in seconds: positive, finite, at most 30 days; fractions allowed (`0.2`).
fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!(
            "{text:?} must be a positive, finite number of seconds"
        ));
    }
    if secs > MAX_SECS {
        return Err(format!("{text:?} is more than 30 days"));
    }
    let d = Duration::try_from_secs_f64(secs).map_err(|e| format!("{text:?}: {e}"))?;
    if d.is_zero() {
        return Err(format!("{text:?} is too small"));
    }
    Ok(d)
}

/// What `run` reads from the process environment, gathered once.
struct Env {
    token: Option<OsString>,
    url: Option<OsString>,
    /// `TERM=dumb`: no cursor tricks even on a terminal.
    dumb_term: bool,
}

impl Env {
    fn from_process() -> Env {
        Env {
            token: std::env::var_os(ENV_TOKEN),
            url: std::env::var_os(ENV_URL),
            dumb_term: std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
        }
    }
}

/// Where `run` writes: stdout for results, stderr for progress and errors.
struct Io<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    /// Progress may rewrite its line (`\r`): stderr is a terminal.
    live: bool,
    /// Cut out of everything printed, as a last line of defence.
    secret: Option<String>,
}

impl Io<'_> {
    fn clean(&self, text: &str) -> String {
        let mut s = one_line(text);
        if let Some(secret) = self.secret.as_deref() {
            if secret.len() >= 4 && s.contains(secret) {
                s = s.replace(secret, "[REDACTED]");
            }
        }
        s
    }

    /// A result line on stdout. Write errors (a closed pipe) are ignored: nothing to tell.
    fn result(&mut self, line: &str) {
        let line = self.clean(line);
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    /// A warning line on stderr.
    fn warn(&mut self, message: &str) {
        let line = self.clean(&format!("{NAME}: warning: {message}"));
        let _ = writeln!(self.err, "{line}");
        let _ = self.err.flush();
    }

    /// The Status JSON on stdout, verbatim, newline-terminated.
    fn json(&mut self, status: &DeploymentStatus) {
        let raw = status.raw_json();
        let _ = self.out.write_all(raw.as_bytes());
        if !raw.ends_with('\n') {
            let _ = self.out.write_all(b"\n");
        }
        let _ = self.out.flush();
    }

    /// The one error line on stderr.
    fn error(&mut self, message: &str, kind: &str) {
        let line = self.clean(&format!("{NAME}: error: {message} [{kind}]"));
        let _ = writeln!(self.err, "{line}");
        let _ = self.err.flush();
    }
}

/// Control characters (a hostile server's escape sequences, line breaks) become spaces.
fn one_line(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A server-provided value (a state name), made safe and short for a terminal.
fn shown(text: &str) -> String {
    let s = one_line(text);
    if s.chars().count() > 64 {
        let cut: String = s.chars().take(61).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// An optional field as drawn: `?` when the server's value was absent or unreadable.
fn shown_or_unknown(text: Option<&str>) -> String {
    text.map_or_else(|| "?".to_owned(), shown)
}

/// `status_details`' action and status, e.g. `DEPLOY ONGOING` (`?` for an unknown one).
fn details(status: &DeploymentStatus) -> String {
    let d = &status.status_details;
    format!(
        "{} {}",
        shown_or_unknown(d.action.as_ref().map(|v| v.as_str())),
        shown_or_unknown(d.status.as_ref().map(|v| v.as_str())),
    )
}

/// The warning for a redeploy answered 2xx whose body could not be read.
const ACCEPTED_UNREADABLE: &str = "the redeploy was accepted (HTTP 2xx), but its answer could not \
     be read, so its state is unknown; it is not an error: do not redeploy again, check with --status";

fn request_id(status: &DeploymentStatus) -> String {
    match status.deployment_request_id {
        Some(id) => id.hyphenated().to_string(),
        None => "id not given".to_owned(),
    }
}

/// The state changes seen during a wait, drawn on stderr.
struct Progress {
    start: Instant,
    live: bool,
    quiet: bool,
    /// The first status reported is the redeploy's 202: later ones with another request id
    /// belong to an earlier deployment still running (a redeploy queues behind it).
    correlate: bool,
    /// The request id of the first status reported, once there is one.
    ours: Option<Option<String>>,
    /// The last text drawn (without the time), to skip repeats.
    last: String,
    /// A live line is on screen without its newline.
    open: bool,
    /// Cut out of what is drawn (a server could echo it in a state name).
    secret: Option<String>,
}

impl Progress {
    fn new(start: Instant, live: bool, quiet: bool, correlate: bool) -> Progress {
        Progress {
            start,
            live,
            quiet,
            correlate,
            ours: None,
            last: String::new(),
            open: false,
            secret: None,
        }
    }

    /// Whether a status was reported: for a redeploy, that it was accepted.
    fn accepted(&self) -> bool {
        self.ours.is_some()
    }

    fn text(&mut self, status: &DeploymentStatus) -> String {
        if status.accepted_unreadable() {
            self.ours = Some(None);
            return "redeploy accepted (state unknown: its answer was unreadable)".to_owned();
        }
        let rid = status
            .deployment_request_id
            .map(|id| id.hyphenated().to_string());
        let earlier = match &self.ours {
            None => {
                self.ours = Some(rid);
                false
            }
            Some(ours) => self.correlate && ours.is_some() && rid.is_some() && *ours != rid,
        };
        let mut text = format!("{} ({}", shown(status.state.as_str()), details(status));
        if let Some(count) = status.deployment_requests_count.filter(|c| *c > 1) {
            let _ = write!(text, ", {count} requests queued");
        }
        if earlier {
            text.push_str(", an earlier request");
        }
        text.push(')');
        text
    }

    fn report(&mut self, err: &mut dyn Write, status: &DeploymentStatus) {
        let text = self.text(status);
        if self.quiet || text == self.last {
            return;
        }
        let mut line = format!("[{:6.1}s] {text}", self.start.elapsed().as_secs_f64());
        if let Some(secret) = self.secret.as_deref().filter(|s| s.len() >= 4) {
            line = line.replace(secret, "[REDACTED]");
        }
        self.last = text;
        if self.live {
            // Back to column 0, clear the line, draw; the newline comes with `finish`.
            let _ = write!(err, "\r\x1b[2K{line}");
            self.open = true;
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// Ends a live line (a newline), so what follows starts on its own line.
    fn finish(&mut self, err: &mut dyn Write) {
        if self.open {
            let _ = writeln!(err);
            let _ = err.flush();
            self.open = false;
        }
    }
}

/// Runs the command: `args` as from [`std::env::args_os`] (program name first). Reads
/// `QOVERY_API_TOKEN` and `QOVERY_API_URL`, prints results on stdout and progress and errors
/// on stderr, and returns the exit code (see [`exit_code`]). `cancel`, polled at least every
/// 50 ms, stops a call or wait in progress with exit code 130.
pub fn run(args: Vec<OsString>, cancel: Option<&dyn Cancel>) -> i32 {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let env = Env::from_process();
    let live = stderr.is_terminal() && !env.dumb_term;
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        live,
        secret: None,
    };
    run_with(args, cancel, &env, &mut io)
}

fn run_with(args: Vec<OsString>, cancel: Option<&dyn Cancel>, env: &Env, io: &mut Io) -> i32 {
    if let Some(token) = env.token.as_ref().and_then(|t| t.to_str()) {
        io.secret = Some(token.to_owned());
    }
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => return usage_error(e, io),
    };
    match execute(&args, cancel, env, io) {
        Ok(()) => EXIT_OK,
        Err(failure) => {
            if args.json {
                if let Some(status) = &failure.status {
                    io.json(status);
                }
            }
            io.error(&failure.line, failure.kind.name());
            exit_code(failure.kind)
        }
    }
}

/// Help and version go to stdout (exit 0); a usage error is one line on stderr (exit 2).
fn usage_error(e: clap::Error, io: &mut Io) -> i32 {
    use clap::error::ErrorKind as K;
    let text = e.render().to_string();
    match e.kind() {
        K::DisplayHelp | K::DisplayVersion => {
            let _ = io.out.write_all(text.as_bytes());
            if !text.ends_with('\n') {
                let _ = io.out.write_all(b"\n");
            }
            let _ = io.out.flush();
            EXIT_OK
        }
        _ => {
            // clap's message: "error: ...", maybe continued on indented lines, then a blank
            // line and usage/tips. Keep the message, on one line.
            let mut message = String::new();
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() {
                    if message.is_empty() {
                        continue;
                    }
                    break;
                }
                if !message.is_empty() {
                    message.push(' ');
                }
                message.push_str(line.strip_prefix("error: ").unwrap_or(line));
            }
            if message.is_empty() {
                message = "invalid arguments".to_owned();
            }
            message.push_str(" (see --help)");
            io.error(&message, "usage");
            EXIT_USAGE
        }
    }
}

/// An error: its kind, the line that tells it (the error plus what this command knows), and
/// the status it carries, if any.
struct Failure {
    kind: ErrorKind,
    line: String,
    status: Option<Box<DeploymentStatus>>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            kind: error.kind(),
            line: error.to_string(),
            status: error.status().cloned().map(Box::new),
        }
    }
}

fn execute(
    args: &Args,
    cancel: Option<&dyn Cancel>,
    env: &Env,
    io: &mut Io,
) -> Result<(), Failure> {
    let database_id = parse_database_id(&args.database_id)?
        .hyphenated()
        .to_string();
    let client = build_client(args, env)?;
    let timeout = args.timeout.unwrap_or(if args.wait {
        DEFAULT_WAIT_TIMEOUT
    } else {
        DEFAULT_CALL_TIMEOUT
    });
    let start = Instant::now();
    let redeploy = RedeployOptions {
        apply_immediately: args.apply_immediately.then_some(true),
        cancel,
    };
    // Adds what this command knows to an error's own text.
    let explain = |error: Error, accepted: bool| -> Failure {
        let mut line = error.to_string();
        let going_on = if accepted && !args.status {
            "; the redeploy was accepted and goes on without us"
        } else {
            ""
        };
        match error.kind() {
            ErrorKind::DeploymentFailed => {
                let rid = error.status().map(request_id).unwrap_or_default();
                let _ = write!(line, " (database {database_id}, request {rid})");
            }
            ErrorKind::WaitTimeout | ErrorKind::Timeout => {
                let _ = write!(line, " (--timeout {}s){going_on}", timeout.as_secs_f64());
            }
            ErrorKind::Cancelled => {
                if let Some(status) = error.status() {
                    let _ = write!(line, "; last state {}", shown(status.state.as_str()));
                }
                line.push_str(going_on);
            }
            _ => {}
        }
        Failure {
            kind: error.kind(),
            line,
            status: error.status().cloned().map(Box::new),
        }
    };

    if !args.wait {
        let status = if args.status {
            client.database_status_with(&database_id, Some(start + timeout), cancel)
        } else {
            client.redeploy_database(&database_id, redeploy)
        }
        .map_err(|e| explain(e, false))?;
        if status.accepted_unreadable() {
            // Issue 10: a 2xx answer means accepted, whatever its body. Success (exit 0),
            // said plainly, so that no script retries it into a second redeploy.
            io.warn(ACCEPTED_UNREADABLE);
        }
        if args.json {
            io.json(&status);
        } else if !args.quiet {
            let line = if args.status {
                format!(
                    "database {database_id} state {} ({}, request {})",
                    shown(status.state.as_str()),
                    details(&status),
                    request_id(&status),
                )
            } else if status.accepted_unreadable() {
                format!(
                    "redeploy accepted: database {database_id} state unknown (answer unreadable)"
                )
            } else {
                format!(
                    "redeploy accepted: database {database_id} state {} (request {})",
                    shown(status.state.as_str()),
                    request_id(&status),
                )
            };
            io.result(&line);
        }
        return Ok(());
    }

    let mut progress = Progress::new(start, io.live, args.quiet, !args.status);
    progress.secret = io.secret.clone();
    let result = {
        let err: &mut dyn Write = &mut *io.err;
        let mut on_progress = |status: &DeploymentStatus| {
            if status.accepted_unreadable() {
                progress.finish(err);
                let _ = writeln!(err, "{NAME}: warning: {ACCEPTED_UNREADABLE}; waiting");
            }
            progress.report(err, status);
            ControlFlow::Continue(())
        };
        let mut wait = WaitOptions {
            timeout,
            on_progress: Some(&mut on_progress),
            cancel,
            ..WaitOptions::default()
        };
        if let Some(poll) = args.poll_interval {
            wait.poll_interval = poll;
        }
        if let Some(settle) = args.settle {
            wait.settle_delay = settle;
        }
        if args.status {
            client.wait_for_database(&database_id, wait)
        } else {
            client.redeploy_and_wait(&database_id, redeploy, wait)
        }
    };
    progress.finish(io.err);
    let status = result.map_err(|e| explain(e, progress.accepted()))?;
    if args.json {
        io.json(&status);
    } else if !args.quiet {
        io.result(&format!(
            "deployed: database {database_id} state {} in {:.1}s (request {})",
            shown(status.state.as_str()),
            start.elapsed().as_secs_f64(),
            request_id(&status),
        ));
    }
    Ok(())
}

fn build_client(args: &Args, env: &Env) -> Result<Client, Failure> {
    let token = match env.token.as_ref().filter(|t| !t.is_empty()) {
        None => {
            return Err(invalid(format!(
                "no API token: set {ENV_TOKEN} (it is never taken from a flag, which would show \
                 it in ps and shell history)"
            )))
        }
        Some(t) => t
            .to_str()
            .ok_or_else(|| invalid(format!("{ENV_TOKEN} is not valid UTF-8")))?,
    };
    let url = match (&args.api_url, env.url.as_ref().filter(|u| !u.is_empty())) {
        (Some(url), _) => url.clone(),
        (None, Some(url)) => url
            .to_str()
            .ok_or_else(|| invalid(format!("{ENV_URL} is not valid UTF-8")))?
            .to_owned(),
        (None, None) => DEFAULT_BASE_URL.to_owned(),
    };
    let mut builder = Client::builder()
        .token(token)
        .auth_scheme(args.auth_scheme.into())
        .base_url(url);
    if let Some(path) = &args.ca_file {
        builder = builder.ca_file(path);
    }
    if let Some(proxy) = &args.proxy {
        builder = builder.proxy(proxy);
    }
    if args.no_proxy {
        builder = builder.no_proxy();
    }
    if !args.wait {
        // One call: the client's deadline is the command's.
        builder = builder.deadline(args.timeout.unwrap_or(DEFAULT_CALL_TIMEOUT));
    }
    builder.build().map_err(|e| match e.kind() {
        // Name the variable: the core speaks of "the API token".
        ErrorKind::InvalidInput if e.message().contains("API token") => {
            invalid(format!("{ENV_TOKEN}: {}", e.message()))
        }
        _ => e.into(),
    })
}

/// A usage error found here (the core's errors cannot be built outside it).
fn invalid(line: String) -> Failure {
    Failure {
        kind: ErrorKind::InvalidInput,
        line,
        status: None,
    }
}

/// Ctrl-C for the binary: installs a SIGINT handler that sets a flag, and returns it as a
/// [`Cancel`] for [`run`]. A second Ctrl-C kills the process the usual way. `None` where
/// nothing was installed (not Unix, or SIGINT ignored, as in background jobs). Call it once,
/// from a program's `main`, never from a library embedding [`run`].
pub fn ctrl_c_cancel() -> Option<&'static dyn Cancel> {
    signal::install()
}

#[cfg(unix)]
mod signal {
    use std::sync::atomic::{AtomicBool, Ordering};

    use qovery_redeploy::Cancel;

    static INTERRUPTED: AtomicBool = AtomicBool::new(false);

    struct Interrupted;

    impl Cancel for Interrupted {
        fn is_cancelled(&self) -> bool {
            INTERRUPTED.load(Ordering::Acquire)
        }
    }

    /// Async-signal-safe: one atomic store.
    extern "C" fn on_sigint(_: libc::c_int) {
        INTERRUPTED.store(true, Ordering::Release);
    }

    pub(super) fn install() -> Option<&'static dyn Cancel> {
        // SAFETY: plain sigaction calls with zeroed, then filled, structs; the handler only
        // stores to an atomic.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                return None;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // One-shot: a second Ctrl-C gets the default action and ends the process.
            action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) != 0 {
                return None;
            }
        }
        Some(&Interrupted)
    }
}

#[cfg(not(unix))]
mod signal {
    pub(super) fn install() -> Option<&'static dyn qovery_redeploy::Cancel> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, rid: &str, count: u64) -> DeploymentStatus {
        DeploymentStatus::from_json(&format!(
            r#"{{"id":"3c90c3cc-0d44-4b50-8888-8dd25736052a","state":"{state}",
            "service_deployment_status":"UP_TO_DATE","is_part_last_deployment":true,
            "status_details":{{"action":"DEPLOY","status":"ONGOING","sub_action":"NONE"}},
            "deployment_request_id":"{rid}","deployment_requests_count":{count}}}"#
        ))
        .unwrap()
    }

    const OURS: &str = "22222222-2222-4222-8222-222222222222";
    const OLD: &str = "11111111-1111-4111-8111-111111111111";

    #[test]
    fn exit_codes_are_fixed_and_grouped() {
        use ErrorKind as K;
        let expected = [
            (K::InvalidInput, 2),
            (K::Unauthorized, 3),
            (K::Forbidden, 3),
            (K::NotFound, 4),
            (K::Conflict, 7),
            (K::RateLimited, 7),
            (K::Server, 1),
            (K::Http, 1),
            (K::Timeout, 6),
            (K::Network, 1),
            (K::Tls, 1),
            (K::Decode, 1),
            (K::OutcomeUnknown, 8),
            (K::DeploymentFailed, 5),
            (K::WaitTimeout, 6),
            (K::Cancelled, 130),
        ];
        assert_eq!(
            expected.len(),
            ErrorKind::ALL.len(),
            "a kind without a decided code"
        );
        for (kind, code) in expected {
            assert_eq!(exit_code(kind), code, "{kind}");
            assert_ne!(exit_code(kind), EXIT_OK);
        }
    }

    #[test]
    fn durations_are_positive_finite_seconds() {
        assert_eq!(parse_secs("0.2"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_secs("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_secs(" 1.5 "), Ok(Duration::from_millis(1500)));
        for bad in [
            "0", "-1", "nan", "NaN", "inf", "-inf", "", "abc", "1e300", "1e-12", "3s",
        ] {
            assert!(parse_secs(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        assert_eq!(shown("DEPLOY\x1b]0;owned\x07ED\r\n"), "DEPLOY ]0;owned ED");
        assert!(shown(&"X".repeat(500)).chars().count() <= 64);
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            live: false,
            secret: Some("s3cr3t-token".into()),
        };
        io.error("server said s3cr3t-token\nsecond line", "server");
        let err = String::from_utf8(err).unwrap();
        assert_eq!(
            err,
            "qovery-redeploy: error: server said [REDACTED] second line [server]\n"
        );
    }

    #[test]
    fn live_progress_rewrites_one_line_and_ends_it() {
        let mut err = Vec::new();
        let mut p = Progress::new(Instant::now(), true, false, true);
        p.report(&mut err, &status("QUEUED", OURS, 2));
        p.report(&mut err, &status("DEPLOYING", OLD, 2));
        p.report(&mut err, &status("DEPLOYING", OLD, 2)); // no change: not drawn again
        p.report(&mut err, &status("DEPLOYED", OURS, 1));
        p.finish(&mut err);
        p.finish(&mut err); // idempotent
        let text = String::from_utf8(err).unwrap();
        assert_eq!(text.matches("\r\x1b[2K").count(), 3, "{text:?}");
        assert_eq!(text.matches('\n').count(), 1, "{text:?}");
        assert!(text.ends_with("DEPLOYED (DEPLOY ONGOING)\n"), "{text:?}");
        let mut p = Progress::new(Instant::now(), false, false, true);
        p.secret = Some("s3cr3t-token".into());
        let mut err = Vec::new();
        p.report(&mut err, &status("s3cr3t-token", OURS, 1));
        let drawn = String::from_utf8(err).unwrap();
        assert!(
            drawn.contains("[REDACTED]") && !drawn.contains("s3cr3t"),
            "{drawn}"
        );
        assert!(text.contains("DEPLOYING (DEPLOY ONGOING, 2 requests queued, an earlier request)"));
        assert!(p.accepted());
    }

    #[test]
    fn plain_progress_is_one_line_per_change() {
        let mut err = Vec::new();
        let mut p = Progress::new(Instant::now(), false, false, false);
        assert!(!p.accepted());
        p.report(&mut err, &status("QUEUED", OURS, 1));
        p.report(&mut err, &status("DEPLOYING", OLD, 1)); // not correlating: no "earlier"
        p.finish(&mut err);
        let text = String::from_utf8(err).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert!(lines[0].starts_with('[') && lines[0].ends_with("] QUEUED (DEPLOY ONGOING)"));
        assert!(
            lines[1].ends_with("] DEPLOYING (DEPLOY ONGOING)"),
            "{text:?}"
        );
        assert!(!text.contains('\r'));
    }

    fn run_captured(args: &[&str], env: Env) -> (i32, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut io = Io {
            out: &mut out,
            err: &mut err,
            live: false,
            secret: None,
        };
        let args = std::iter::once(NAME)
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let code = run_with(args, None, &env, &mut io);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn no_env() -> Env {
        Env {
            token: None,
            url: None,
            dumb_term: false,
        }
    }

    #[test]
    fn help_goes_to_stdout_and_usage_errors_are_one_line() {
        let (code, out, err) = run_captured(&["--help"], no_env());
        assert_eq!((code, err.as_str()), (0, ""));
        assert!(
            out.contains("Exit codes:") && out.contains("130  interrupted"),
            "{out}"
        );
        let (code, out, err) = run_captured(&["--wait", "--timeout", "-0.5"], no_env());
        assert_eq!((code, out.as_str()), (2, ""));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.ends_with("[usage]\n"), "{err}");
    }

    #[test]
    fn an_id_typed_as_the_token_is_not_echoed() {
        // Pasting the token where the id goes must not print it back.
        let env = Env {
            token: Some("abcdefgh-secret".into()),
            url: None,
            dumb_term: false,
        };
        let (code, _, err) = run_captured(&["abcdefgh-secret"], env);
        assert_eq!(code, 2);
        assert!(!err.contains("abcdefgh-secret"), "{err}");
        assert!(err.contains("[REDACTED]"), "{err}");
    }
}
