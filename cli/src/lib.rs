//! The `qovery-redeploy` command, as a library so other skins (the Python package) can run it
//! verbatim: [`run`] parses the arguments, does the work, prints, and returns the exit code.
//!
//! ```no_run
//! let code = qovery_redeploy_cli::run(std::env::args_os().collect(), None);
//! std::process::exit(code);
//! ```
//!
//! [`run`] never installs signal handlers (an embedding runtime has its own); pass a
//! [`Cancel`] to make Ctrl-C stop a wait. The binary uses [`ctrl_c_cancel`] for that (SIGINT,
//! SIGTERM and SIGHUP).

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use qovery_redeploy::{
    one_line, parse_database_id, redact, short_value, AuthScheme, Cancel, Client, DeploymentStatus,
    Environment, Error, ErrorKind, Progress, RedeployOptions, WaitOptions, DEFAULT_BASE_URL,
    ENV_TOKEN, ENV_URL,
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
/// Exit code: cancelled by SIGHUP (the terminal went away), as shells report a SIGHUP death.
pub const EXIT_HANGUP: i32 = 129;
/// Exit code: cancelled by SIGTERM (a CI job cancelled, `kill`), as shells report its death.
pub const EXIT_TERMINATED: i32 = 143;

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
it). --timeout bounds everything, the redeploy request included. Durations are seconds (90,
0.5, 90s) or humantime units (500ms, 5m, 1h30m). --poll-interval is at least 1s unless the API
host is loopback (a note says so when it is raised). Progress goes to stderr (on a terminal one
line with a spinner and a ticking elapsed time); results go to stdout. With --json stdout holds
the final Status JSON on success, and on any error one object:
  {\"error\": {\"kind\", \"message\", \"http_status\", \"detail\", \"exit_code\"},
   \"accepted\": true|false|null, \"status\": <last Status JSON seen, verbatim, or null>}

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
  129  hung up (SIGHUP: the terminal closed)
  130  interrupted (Ctrl-C, SIGINT)
  143  terminated (SIGTERM, as a CI job cancel or kill sends)
       On 129, 130 and 143 a redeploy already accepted goes on without us; a second signal
       kills at once.

Examples:
  export QOVERY_API_TOKEN=...   # better: read it from a secret store
  qovery-redeploy 3c90c3cc-0d44-4b50-8888-8dd25736052a
  qovery-redeploy --wait --timeout 1200 3c90c3cc-0d44-4b50-8888-8dd25736052a
  qovery-redeploy --wait --json 3c90c3cc-0d44-4b50-8888-8dd25736052a > status.json";

/// The default `--timeout` without `--wait`: one request and its retries, the core's deadline
/// of one call.
const DEFAULT_CALL_TIMEOUT: Duration = qovery_redeploy::DEFAULT_DEADLINE;

/// `--auth-scheme`: the core's parser (names, case), so every skin takes the same words.
fn auth_scheme_arg(text: &str) -> Result<AuthScheme, String> {
    text.parse::<AuthScheme>()
        .map_err(|e| e.message().to_owned())
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

    /// Time between two status polls with --wait; at least 1s unless the API host is
    /// loopback [default: 3]
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
        value_parser = auth_scheme_arg,
        default_value = "auto",
        hide_default_value = true
    )]
    auth_scheme: AuthScheme,

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

/// A duration: seconds (`90`, fractions allowed: `0.2`, with or without an `s`: `1.5s`) or
/// humantime units (`500ms`, `5m`, `1h30m`); within the core's bounds (positive, at most
/// `MAX_DURATION`, 30 days).
fn parse_secs(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let number = trimmed.strip_suffix('s').unwrap_or(trimmed);
    let secs: f64 = match number.parse::<f64>() {
        Ok(secs) => secs,
        Err(_) => humantime::parse_duration(trimmed)
            .map_err(|_| {
                format!("{text:?} is not a duration (seconds such as 90 or 0.5, or 90s, 5m, 1h30m)")
            })?
            .as_secs_f64(),
    };
    // The bounds are the core's, as for every skin.
    qovery_redeploy::duration_from_secs(&format!("{text:?}"), secs, qovery_redeploy::Zero::Refused)
        .map_err(|e| e.message().to_owned())
}

/// What `run` reads from the process environment, gathered once.
struct Env {
    /// The client's variables, read by the core's rules.
    api: Environment,
    /// `TERM=dumb`: no cursor tricks even on a terminal.
    dumb_term: bool,
}

impl Env {
    fn from_process() -> Env {
        Env {
            api: Environment::from_process(),
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
        let line = one_line(text);
        redact(&line, self.secret.as_deref().unwrap_or_default()).into_owned()
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

    /// A note on stderr: something this command changed for you (a poll interval raised).
    fn note(&mut self, message: &str) {
        let line = self.clean(&format!("{NAME}: note: {message}"));
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

    /// With `--json`, an error as one JSON object on stdout (see AFTER_HELP), so that a
    /// script can parse every outcome. The status is the server's, verbatim (if it is JSON).
    fn json_error(&mut self, failure: &CommandError, code: i32) {
        let error = serde_json::json!({
            "kind": failure.name,
            "message": self.clean(&failure.line),
            "http_status": failure.http_status,
            "detail": failure.detail.as_deref().map(|d| self.clean(d)),
            "exit_code": code,
        });
        let accepted = serde_json::json!(failure.accepted);
        let status = failure
            .status
            .as_ref()
            .and_then(|s| {
                serde_json::value::RawValue::from_string(s.raw_json().trim().to_owned()).ok()
            })
            .map_or_else(|| "null".to_owned(), |raw| raw.get().to_owned());
        let _ = writeln!(
            self.out,
            "{{\"error\":{error},\"accepted\":{accepted},\"status\":{status}}}"
        );
        let _ = self.out.flush();
    }

    /// The one error line on stderr.
    fn error(&mut self, message: &str, kind: &str) {
        let line = self.clean(&format!("{NAME}: error: {message} [{kind}]"));
        let _ = writeln!(self.err, "{line}");
        let _ = self.err.flush();
    }
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

/// How often the live line is redrawn when nothing changes (its spinner and elapsed time move),
/// as `gh run watch` does.
const TICK: Duration = Duration::from_secs(1);

/// The state changes seen during a wait, drawn on stderr: on a terminal one live line (an
/// indicatif spinner, redrawn every [`TICK`], cut to the terminal's width), otherwise one plain
/// line per change.
struct ProgressLine {
    start: Instant,
    /// Where the live line goes (`None`: plain lines); taken when the line is first drawn.
    target: Option<ProgressDrawTarget>,
    /// The live line, once drawn.
    bar: Option<ProgressBar>,
    quiet: bool,
    /// Whether a status was reported.
    reported: bool,
    /// The last text drawn (without the time), to skip repeats.
    last: String,
    /// Cut out of what is drawn (a server could echo it in a state name).
    secret: Option<String>,
}

impl ProgressLine {
    fn new(start: Instant, live: bool, quiet: bool) -> ProgressLine {
        let target = live.then(|| ProgressDrawTarget::stderr_with_hz(10));
        ProgressLine::with_target(start, target, quiet)
    }

    fn with_target(
        start: Instant,
        target: Option<ProgressDrawTarget>,
        quiet: bool,
    ) -> ProgressLine {
        ProgressLine {
            start,
            target,
            bar: None,
            quiet,
            reported: false,
            last: String::new(),
            secret: None,
        }
    }

    /// Whether a status was reported: for a redeploy, that it was accepted.
    fn accepted(&self) -> bool {
        self.reported
    }

    /// The live line: `⠂ [  12.0s] DEPLOYING (DEPLOY ONGOING)`, the message cut to fit.
    fn live_bar(start: Instant, target: ProgressDrawTarget) -> ProgressBar {
        let since = move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:6.1}s", start.elapsed().as_secs_f64());
        };
        let style = ProgressStyle::with_template("{spinner} [{since}] {wide_msg}")
            .expect("a valid template")
            .with_key("since", since);
        let bar = ProgressBar::with_draw_target(None, target).with_style(style);
        bar.enable_steady_tick(TICK);
        bar
    }

    fn report(&mut self, err: &mut dyn Write, progress: &Progress<'_>) {
        self.reported = true;
        let text = match progress.status.accepted_unreadable() {
            true => "redeploy accepted (state unknown: its answer was unreadable)".to_owned(),
            false => progress.summary(),
        };
        if self.quiet || text == self.last {
            return;
        }
        self.last.clone_from(&text);
        let text = redact(&text, self.secret.as_deref().unwrap_or_default()).into_owned();
        if let Some(target) = self.target.take() {
            self.bar = Some(ProgressLine::live_bar(self.start, target));
        }
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        } else {
            let _ = writeln!(err, "[{:6.1}s] {text}", self.start.elapsed().as_secs_f64());
            let _ = err.flush();
        }
    }

    /// A line of its own on stderr while the live line is drawn: the live line is put back
    /// under it.
    fn note(&self, err: &mut dyn Write, line: &str) {
        let mut write = || {
            let _ = writeln!(err, "{line}");
            let _ = err.flush();
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Ends a live line: its last state stays on screen, the ticking stops, and a newline
    /// (indicatif leaves the cursor at its end) puts what follows on a line of its own.
    /// Idempotent.
    fn finish(&mut self, err: &mut dyn Write) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
            if !bar.is_hidden() {
                let _ = writeln!(err);
                let _ = err.flush();
            }
        }
    }
}

/// Runs the command: `args` as from [`std::env::args_os`] (program name first). Reads
/// `QOVERY_API_TOKEN` and `QOVERY_API_URL`, prints results on stdout and progress and errors
/// on stderr, and returns the exit code (see [`exit_code`]). `cancel`, polled at least every
/// 50 ms, stops a call or wait in progress with exit code 130 (129 or 143 when it was
/// [`ctrl_c_cancel`]'s and SIGHUP or SIGTERM set it).
pub fn run(args: Vec<OsString>, cancel: Option<&dyn Cancel>) -> i32 {
    let stdout = io::stdout();
    let env = Env::from_process();
    let live = io::stderr().is_terminal() && !env.dumb_term;
    let mut out = stdout.lock();
    // Not locked: the live progress line is redrawn from indicatif's ticker thread.
    let mut err = io::stderr();
    let mut io = Io {
        out: &mut out,
        err: &mut err,
        live,
        secret: None,
    };
    run_with(args, cancel, &env, &mut io)
}

fn run_with(args: Vec<OsString>, cancel: Option<&dyn Cancel>, env: &Env, io: &mut Io) -> i32 {
    if let Ok(Some(token)) = env.api.token() {
        io.secret = Some(token.to_owned());
    }
    // For a usage error, where clap could not tell: --json before any `--`.
    let json = args
        .iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json");
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => return usage_error(e, json, io),
    };
    match execute(&args, cancel, env, io) {
        Ok(()) => EXIT_OK,
        Err(mut failure) => {
            let mut code = exit_code(failure.kind);
            if failure.kind == ErrorKind::Cancelled {
                if let Some((signal_code, name)) = signal::received() {
                    code = signal_code;
                    // "cancelled" -> "cancelled by SIGTERM"
                    if let Some(rest) = failure.line.strip_prefix("cancelled") {
                        failure.line = format!("cancelled by {name}{rest}");
                    }
                }
            }
            if args.json {
                io.json_error(&failure, code);
            }
            io.error(&failure.line, failure.kind.name());
            code
        }
    }
}

/// Help and version go to stdout (exit 0); a usage error is one line on stderr (exit 2),
/// clap's tips ("a similar argument exists: '--wait'") kept on it.
fn usage_error(e: clap::Error, json: bool, io: &mut Io) -> i32 {
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
            // line, "tip: ..." lines, and usage. Keep the message and the tips, on one line.
            let mut message = String::new();
            let mut tips = Vec::new();
            let mut in_message = true;
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() {
                    in_message &= message.is_empty();
                } else if let Some(tip) = line.strip_prefix("tip: ") {
                    tips.push(tip);
                } else if in_message {
                    if !message.is_empty() {
                        message.push(' ');
                    }
                    message.push_str(line.strip_prefix("error: ").unwrap_or(line));
                }
            }
            if message.is_empty() {
                message = "invalid arguments".to_owned();
            }
            for tip in tips {
                let _ = write!(message, "; tip: {tip}");
            }
            message.push_str(" (see --help)");
            if json {
                io.json_error(&invalid_kind(message.clone(), "usage"), EXIT_USAGE);
            }
            io.error(&message, "usage");
            EXIT_USAGE
        }
    }
}

/// An error: its kind, the line that tells it (the error plus what this command knows), and
/// the status it carries, if any.
struct CommandError {
    kind: ErrorKind,
    /// The kind's name as printed (`usage` for clap's errors, otherwise the kind's own).
    name: &'static str,
    line: String,
    status: Option<Box<DeploymentStatus>>,
    http_status: Option<u16>,
    detail: Option<String>,
    /// Whether this command's redeploy was accepted: `None` when that is unknown (the
    /// request was sent but no answer came).
    accepted: Option<bool>,
}

impl From<Error> for CommandError {
    fn from(error: Error) -> CommandError {
        CommandError {
            kind: error.kind(),
            name: error.kind().name(),
            line: error.to_string(),
            status: error.status().cloned().map(Box::new),
            http_status: error.http_status(),
            detail: error.detail().map(str::to_owned),
            accepted: (error.kind() != ErrorKind::OutcomeUnknown).then_some(false),
        }
    }
}

fn execute(
    args: &Args,
    cancel: Option<&dyn Cancel>,
    env: &Env,
    io: &mut Io,
) -> Result<(), CommandError> {
    let database_id = parse_database_id(&args.database_id)?
        .hyphenated()
        .to_string();
    let url = api_url(args, env)?;
    let client = build_client(args, env, &url)?;
    // With --wait, the core's default wait.
    let timeout = args.timeout.unwrap_or(if args.wait {
        WaitOptions::default().timeout
    } else {
        DEFAULT_CALL_TIMEOUT
    });
    let start = Instant::now();
    let redeploy = RedeployOptions {
        apply_immediately: args.apply_immediately.then_some(true),
        cancel,
    };
    // Adds what this command knows to an error's own text.
    let explain = |error: Error, accepted: bool| -> CommandError {
        let mut failure = CommandError::from(error);
        let error_status = failure.status.as_deref();
        let line = &mut failure.line;
        let going_on = if accepted && !args.status {
            "; the redeploy was accepted and goes on without us"
        } else {
            ""
        };
        match failure.kind {
            ErrorKind::DeploymentFailed => {
                let rid = error_status.map(request_id).unwrap_or_default();
                let _ = write!(line, " (database {database_id}, request {rid})");
            }
            ErrorKind::WaitTimeout | ErrorKind::Timeout => {
                let _ = write!(line, " (--timeout {}s){going_on}", timeout.as_secs_f64());
            }
            ErrorKind::Cancelled => {
                if let Some(status) = error_status {
                    let _ = write!(line, "; last state {}", short_value(status.state.as_str()));
                }
                line.push_str(going_on);
            }
            ErrorKind::NotFound if !is_api_404(failure.detail.as_deref()) => {
                // Not the API's "no such database": most likely the base URL is wrong.
                let _ = write!(
                    line,
                    "; the answer is not a Qovery API error, so the API URL may be wrong: \
                     asked {} for database {database_id} (the default is {DEFAULT_BASE_URL})",
                    url_shown(&url),
                );
            }
            _ => {}
        }
        if failure.accepted.is_some() {
            failure.accepted = Some(accepted && !args.status);
        }
        failure
    };

    if !args.wait {
        let status = if args.status {
            client.database_status_with(&database_id, Some(start + timeout), cancel)
        } else {
            client.redeploy_database(&database_id, redeploy)
        }
        .map_err(|e| explain(e, false))?;
        if status.accepted_unreadable() {
            // A 2xx answer means accepted, whatever its body. Success (exit 0),
            // said plainly, so that no script retries it into a second redeploy.
            io.warn(ACCEPTED_UNREADABLE);
        }
        if args.json {
            io.json(&status);
        } else if !args.quiet {
            let line = if args.status {
                format!(
                    "database {database_id} state {}, request {}",
                    status.summary(),
                    request_id(&status),
                )
            } else if status.accepted_unreadable() {
                format!(
                    "redeploy accepted: database {database_id} state unknown (answer unreadable)"
                )
            } else {
                format!(
                    "redeploy accepted: database {database_id} state {} (request {})",
                    short_value(status.state.as_str()),
                    request_id(&status),
                )
            };
            io.result(&line);
        }
        return Ok(());
    }

    // The core raises a poll interval below its floor for a remote API host: say so.
    let poll_interval = args.poll_interval;
    if let Some(poll) = poll_interval.filter(|p| client.poll_interval_for(*p) > *p) {
        if !args.quiet {
            let floor = client.poll_interval_for(poll).as_secs_f64();
            io.note(&format!(
                "--poll-interval {}s is below the {floor}s floor for a non-loopback API host: \
                 polling every {floor}s",
                poll.as_secs_f64(),
            ));
        }
    }

    let mut progress = ProgressLine::new(start, io.live, args.quiet);
    progress.secret = io.secret.clone();
    let result = {
        let err: &mut dyn Write = &mut *io.err;
        let mut on_progress = |event: &Progress<'_>| {
            if event.status.accepted_unreadable() {
                progress.note(
                    err,
                    &format!("{NAME}: warning: {ACCEPTED_UNREADABLE}; waiting"),
                );
            }
            progress.report(err, event);
            ControlFlow::Continue(())
        };
        let mut wait = WaitOptions {
            timeout,
            on_progress: Some(&mut on_progress),
            cancel,
            ..WaitOptions::default()
        };
        if let Some(poll) = poll_interval {
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
            short_value(status.state.as_str()),
            start.elapsed().as_secs_f64(),
            request_id(&status),
        ));
    }
    Ok(())
}

/// Whether a 404's detail is the API's own (`Database ... not found`), not a bare reason
/// phrase or no JSON error body at all, as a gateway or web server answers for a wrong path.
fn is_api_404(detail: Option<&str>) -> bool {
    let Some(detail) = detail else { return false };
    let d = detail
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .replace(['-', '_'], " ");
    !matches!(
        d.trim_start_matches("http ")
            .trim_start_matches("404")
            .trim(),
        "" | "not found" | "notfound" | "page not found" | "no route found"
    )
}

/// A base URL as it may be shown: scheme, host, port and path, without credentials, query or
/// fragment.
fn url_shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => "an unreadable URL".to_owned(),
    }
}

/// The API base URL: --api-url, else QOVERY_API_URL, else the default. One without a scheme
/// (`api.qovery.com`) is refused here, with the fix, before the client says it in URL terms.
fn api_url(args: &Args, env: &Env) -> Result<String, CommandError> {
    let (url, source) = match (&args.api_url, env.api.url()?) {
        (Some(url), _) => (url.clone(), "--api-url"),
        (None, Some(url)) => (url.to_owned(), ENV_URL),
        (None, None) => return Ok(DEFAULT_BASE_URL.to_owned()),
    };
    if !url.contains("://") {
        let host = url.trim();
        return Err(invalid(format!(
            "{source} {host:?} has no scheme: add https:// (https://{host}); the default API \
             URL is {DEFAULT_BASE_URL}"
        )));
    }
    Ok(url)
}

fn build_client(args: &Args, env: &Env, url: &str) -> Result<Client, CommandError> {
    if env.api.token()?.is_none() {
        return Err(invalid(format!(
            "no API token: set {ENV_TOKEN} (it is never taken from a flag, which would show it \
             in ps and shell history)"
        )));
    }
    let mut builder = Client::builder()
        .environment(env.api.clone())
        .auth_scheme(args.auth_scheme)
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
    Ok(builder.build()?)
}

/// A usage error found here (the core's errors cannot be built outside it).
fn invalid(line: String) -> CommandError {
    invalid_kind(line, ErrorKind::InvalidInput.name())
}

fn invalid_kind(line: String, name: &'static str) -> CommandError {
    CommandError {
        kind: ErrorKind::InvalidInput,
        name,
        line,
        status: None,
        http_status: None,
        detail: None,
        accepted: Some(false),
    }
}

/// Signals for the binary: installs handlers for SIGINT (Ctrl-C), SIGTERM (what a CI job
/// cancel or `kill` sends) and SIGHUP (the terminal closed) that set a flag, and returns it as
/// a [`Cancel`] for [`run`], which then ends with its closing line and exit 130, 143 or 129
/// (as shells report those deaths). A second signal kills the process the usual way. A signal
/// ignored at start (`nohup`, background jobs) stays ignored. `None` where nothing was
/// installed (not Unix, or all three ignored). Call it once, from a program's `main`, never
/// from a library embedding [`run`].
pub fn ctrl_c_cancel() -> Option<&'static dyn Cancel> {
    signal::install()
}

#[cfg(unix)]
mod signal {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::{Arc, OnceLock};

    use qovery_redeploy::Cancel;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::flag;

    /// The signals handled, their exit codes and names.
    const HANDLED: [(libc::c_int, i32, &str); 3] = [
        (SIGINT, super::EXIT_CANCELLED, "SIGINT"),
        (SIGTERM, super::EXIT_TERMINATED, "SIGTERM"),
        (SIGHUP, super::EXIT_HANGUP, "SIGHUP"),
    ];

    /// The signal received (0: none yet).
    struct Signalled(Arc<AtomicUsize>);

    impl Cancel for Signalled {
        fn is_cancelled(&self) -> bool {
            self.0.load(Ordering::Acquire) != 0
        }
    }

    static INSTALLED: OnceLock<Option<Signalled>> = OnceLock::new();

    /// Whether `signal` is ignored (SIG_IGN), as `nohup` leaves SIGHUP.
    fn ignored(signal: libc::c_int) -> bool {
        // SAFETY: sigaction's query form (no new action) into a zeroed struct.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, std::ptr::null(), &mut old) == 0
                && old.sa_sigaction == libc::SIG_IGN
        }
    }

    pub(super) fn install() -> Option<&'static dyn Cancel> {
        let installed = INSTALLED.get_or_init(|| {
            let received = Arc::new(AtomicUsize::new(0));
            let any = Arc::new(AtomicBool::new(false));
            let mut count = 0;
            for (signal, _, _) in HANDLED {
                if ignored(signal) {
                    continue;
                }
                // In this order: the second signal finds `any` set and gets the default
                // action (death by that signal); the first one only sets the flags.
                let ok = flag::register_conditional_default(signal, Arc::clone(&any)).is_ok()
                    && flag::register_usize(signal, Arc::clone(&received), signal as usize).is_ok()
                    && flag::register(signal, Arc::clone(&any)).is_ok();
                count += usize::from(ok);
            }
            (count > 0).then_some(Signalled(received))
        });
        installed.as_ref().map(|s| s as &dyn Cancel)
    }

    /// The exit code and name of the signal that cancelled, if [`install`]'s handlers saw one.
    pub(super) fn received() -> Option<(i32, &'static str)> {
        let got = INSTALLED.get()?.as_ref()?.0.load(Ordering::Acquire);
        HANDLED
            .iter()
            .find(|(signal, _, _)| *signal as usize == got)
            .map(|(_, code, name)| (*code, *name))
    }
}

#[cfg(not(unix))]
mod signal {
    pub(super) fn install() -> Option<&'static dyn qovery_redeploy::Cancel> {
        None
    }

    pub(super) fn received() -> Option<(i32, &'static str)> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qovery_redeploy::Belongs;

    fn status(state: &str, rid: &str, count: u64) -> DeploymentStatus {
        DeploymentStatus::from_json(&format!(
            r#"{{"id":"3c90c3cc-0d44-4b50-8888-8dd25736052a","state":"{state}",
            "service_deployment_status":"UP_TO_DATE","is_part_last_deployment":true,
            "status_details":{{"action":"DEPLOY","status":"ONGOING","sub_action":"NONE"}},
            "deployment_request_id":"{rid}","deployment_requests_count":{count}}}"#
        ))
        .unwrap()
    }

    /// Reports `status` as the core's wait would, saying whether it is ours.
    fn report(
        p: &mut ProgressLine,
        err: &mut Vec<u8>,
        status: &DeploymentStatus,
        belongs: Belongs,
    ) {
        p.report(err, &Progress { status, belongs });
    }

    const DB_ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
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
        assert_eq!(parse_secs("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_secs("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_secs("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_secs("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_secs("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_secs("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_secs("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_secs("1.5m"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_secs("30days"), Ok(Duration::from_secs(30 * 86400)));
        for bad in [
            "0",
            "-1",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "",
            "abc",
            "1e300",
            "1e-12",
            "0s",
            "s",
            "-5m",
            "31d",
            "5 minutes ago",
            "1.5.3",
        ] {
            assert!(parse_secs(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn server_text_cannot_drive_the_terminal() {
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

    /// A terminal for indicatif that records what is drawn (45 columns).
    #[derive(Debug, Default, Clone)]
    struct Recorder(std::sync::Arc<std::sync::Mutex<String>>);

    impl indicatif::TermLike for Recorder {
        fn width(&self) -> u16 {
            45
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> io::Result<()> {
            self.write_str("<clear>")
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn live_progress_is_one_line_cut_to_the_width_and_ends_it() {
        let term = Recorder::default();
        let target = ProgressDrawTarget::term_like_with_hz(Box::new(term.clone()), 100);
        let mut err = Vec::new();
        let mut p = ProgressLine::with_target(Instant::now(), Some(target), false);
        p.secret = Some("s3cr3t-token".into());
        report(&mut p, &mut err, &status("QUEUED", OURS, 2), Belongs::Ours);
        std::thread::sleep(Duration::from_millis(20));
        report(
            &mut p,
            &mut err,
            &status("DEPLOYING", OLD, 2),
            Belongs::Earlier,
        );
        std::thread::sleep(Duration::from_millis(20));
        report(
            &mut p,
            &mut err,
            &status("s3cr3t-token", OURS, 1),
            Belongs::Ours,
        );
        p.note(&mut err, "a warning line");
        p.finish(&mut err);
        p.finish(&mut err); // idempotent
        let drawn = term.0.lock().unwrap().clone();
        assert!(
            drawn.contains("QUEUED (DEPLOY ONGOING, 2 request"),
            "{drawn:?}"
        );
        assert!(
            drawn.contains("[REDACTED]") && !drawn.contains("s3cr3t"),
            "{drawn:?}"
        );
        for line in drawn.split(['\n', '\r']).flat_map(|l| l.split("<clear>")) {
            assert!(
                line.chars().count() <= 45,
                "{line:?} is wider than 45 columns"
            );
        }
        // The long DEPLOYING text was cut to fit, not wrapped.
        assert!(
            drawn.contains("DEPLOYING (DEPLOY ONGOING, 2 requ"),
            "{drawn:?}"
        );
        assert!(!drawn.contains("an earlier request"), "{drawn:?}");
        // The note and the final newline went to stderr itself.
        assert_eq!(String::from_utf8(err).unwrap(), "a warning line\n\n");
        assert!(p.accepted());
    }

    #[test]
    fn plain_progress_is_one_line_per_change() {
        let mut err = Vec::new();
        let mut p = ProgressLine::new(Instant::now(), false, false);
        assert!(!p.accepted());
        report(&mut p, &mut err, &status("QUEUED", OURS, 1), Belongs::Ours);
        // A plain wait cannot tell: no "earlier".
        report(
            &mut p,
            &mut err,
            &status("DEPLOYING", OLD, 1),
            Belongs::Unknown,
        );
        p.note(&mut err, "a note");
        p.finish(&mut err);
        let text = String::from_utf8(err).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text:?}");
        assert_eq!(lines[2], "a note");
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
            api: Environment::default(),
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
    fn usage_errors_keep_clap_tips_on_their_one_line() {
        let (code, _, err) = run_captured(&["--wiat", DB_ID], no_env());
        assert_eq!(code, 2, "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(
                "unexpected argument '--wiat' found; tip: a similar argument exists: '--wait'"
            ),
            "{err}"
        );
        assert!(err.ends_with("(see --help) [usage]\n"), "{err}");
        let (code, _, err) = run_captured(&["--wait", "--timeout", "-1", DB_ID], no_env());
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("tip: to pass '-1' as a value, use '-- -1'"),
            "{err}"
        );
        // --auth-scheme is case-insensitive.
        let (code, _, err) = run_captured(&["--auth-scheme", "Token", DB_ID], no_env());
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("no API token"), "{err}");
    }

    #[test]
    fn json_usage_errors_are_an_object_on_stdout() {
        let (code, out, err) = run_captured(&["--json", "--wiat", DB_ID], no_env());
        assert_eq!(code, 2);
        let v: serde_json::Value = serde_json::from_str(&out).expect(&out);
        assert_eq!(v["error"]["kind"], "usage", "{v}");
        assert_eq!(v["error"]["exit_code"], 2, "{v}");
        assert_eq!(v["accepted"], false, "{v}");
        assert!(
            v["status"].is_null() && v["error"]["http_status"].is_null(),
            "{v}"
        );
        assert!(err.ends_with("[usage]\n"), "{err}");
        // After `--`, `--json` is not a flag.
        let (_, out, _) = run_captured(&["--wiat", "--", "--json"], no_env());
        assert_eq!(out, "");
    }

    #[test]
    fn api_404s_urls_and_loopback() {
        assert!(is_api_404(Some(
            "Database 3c90c3cc-0d44-4b50-8888-8dd25736052a not found"
        )));
        assert!(is_api_404(Some("Resource not found")));
        for generic in [
            None,
            Some("Not Found"),
            Some(" not found. "),
            Some("404 Not Found"),
            Some(""),
        ] {
            assert!(!is_api_404(generic), "{generic:?}");
        }
        assert_eq!(
            url_shown("https://user:pw@api.example.com/api?x=1#f"),
            "https://api.example.com/api"
        );
    }

    #[test]
    fn an_id_typed_as_the_token_is_not_echoed() {
        // Pasting the token where the id goes must not print it back.
        let env = Env {
            api: Environment::default().with_token("abcdefgh-secret"),
            dumb_term: false,
        };
        let (code, _, err) = run_captured(&["abcdefgh-secret"], env);
        assert_eq!(code, 2);
        assert!(!err.contains("abcdefgh-secret"), "{err}");
        assert!(err.contains("[REDACTED]"), "{err}");
    }
}
