//! The binary's command line, here rather than in main.rs so that
//! [`Builder::from_args`](crate::Builder::from_args) gives flags shared with
//! the binary's other users (test data, scripts) exactly the binary's meaning.

use std::net::{IpAddr, Ipv4Addr};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;

use crate::config::{check_token, MAX_TICK_MS};
use crate::ids::parse_uuid;
use crate::Builder;

/// qovery-mock: a fake Qovery API (POST /database/{id}/redeploy, GET /database/{id}/status)
#[derive(Default, Parser)]
#[command(
    name = "qovery-mock",
    version,
    after_help = "\
The first line on stdout is the base URL (e.g. http://127.0.0.1:40123).
With --tls it is https://... and a second line follows: the absolute path of
the CA certificate file (PEM) to trust.
Control API (no auth): /_mock/health, /_mock/reset, /_mock/databases/{id}[/requests|/faults],
/_mock/tls (with --tls: CA file and the unknown_ca/wrong_host/expired listener URLs)."
)]
pub struct Args {
    /// Address to bind (default 127.0.0.1; loopback only, e.g. ::1, unless --allow-non-loopback)
    #[arg(long, value_name = "H")]
    host: Option<String>,
    /// Port (0 = ephemeral)
    #[arg(long, value_name = "P", default_value_t = 0)]
    port: u16,
    /// Accepted API token, repeatable (default: qovery-mock-token)
    #[arg(long = "token", value_name = "T", value_parser = token_arg)]
    tokens: Vec<String>,
    /// Pre-registered database, repeatable
    #[arg(long = "database", value_name = "UUID", value_parser = uuid_arg)]
    databases: Vec<String>,
    /// Auto-create any well-formed database UUID on first use
    #[arg(long)]
    any_database: bool,
    /// JSON config: {"tokens", "tick_ms", "any_database", "databases"}
    #[arg(long, value_name = "FILE")]
    config: Option<String>,
    /// Duration of each deployment state in ms (default 500)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(..=MAX_TICK_MS))]
    tick_ms: Option<u64>,
    /// Benchmark mode: tick 0, no request log/logging
    #[arg(long)]
    fast: bool,
    /// No logs on stderr
    #[arg(long)]
    quiet: bool,
    /// Exit when standard input closes (a test harness that dies, even by SIGKILL, takes the
    /// mock with it)
    #[arg(long)]
    pub exit_on_stdin_eof: bool,
    /// Permit binding a non-loopback --host
    #[arg(long)]
    allow_non_loopback: bool,
    /// Serve HTTPS (certificate for 127.0.0.1, ::1, localhost signed by a CA generated at
    /// start), plus three TLS-fault listeners
    #[arg(long)]
    tls: bool,
    /// With --tls: write the CA certificate to DIR/ca.pem (DIR is created; default: a fresh
    /// <tmp>/qovery-mock-<pid>-<random>)
    #[arg(long, value_name = "DIR", requires = "tls", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    tls_dir: Option<String>,
}

fn token_arg(t: &str) -> Result<String, String> {
    check_token(t).map(|()| t.to_owned())
}

fn uuid_arg(v: &str) -> Result<String, String> {
    parse_uuid(v).ok_or_else(|| "not a UUID".to_owned())
}

pub enum Parsed {
    Run(Args),
    /// --help or --version: the text to print.
    Exit(String),
}

/// Parses the command line. Error messages never echo values (a value may be a token): they
/// name the kind of mistake and the option, from clap's error context, never clap's own
/// rendering (which quotes the offending value).
pub fn parse_args(argv: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let argv = std::iter::once("qovery-mock".to_owned()).chain(argv);
    match Args::try_parse_from(argv) {
        Ok(a) => Ok(Parsed::Run(a)),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Ok(Parsed::Exit(e.render().to_string()))
        }
        Err(e) => {
            let what = e.kind().as_str().unwrap_or("invalid command line");
            // The option's name as declared (`--port <P>`), never what was typed.
            let arg = match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(arg)) if arg.starts_with('-') => arg.clone(),
                Some(ContextValue::Strings(args)) => args.join(", "),
                _ => return Err(what.to_owned()),
            };
            // Our own value checks (token_arg, uuid_arg) say why, without the value.
            Err(match std::error::Error::source(&e) {
                Some(why) if e.kind() == ErrorKind::ValueValidation => format!("{arg}: {why}"),
                _ => format!("{what}: {arg}"),
            })
        }
    }
}

impl Args {
    /// The server these flags describe (`--exit-on-stdin-eof` is the caller's: it
    /// concerns the process, not the server). A bad `--host` is an error here, not
    /// a usage error: the binary exits 1 for it, as for a bind failure.
    pub fn builder(&self) -> Result<Builder, String> {
        let mut b = Builder::default()
            .port(self.port)
            .any_database(self.any_database)
            .fast(self.fast)
            .quiet(self.quiet)
            .tls(self.tls)
            .allow_non_loopback(self.allow_non_loopback);
        if let Some(h) = &self.host {
            b = b.host(parse_host(h)?);
        }
        for t in &self.tokens {
            b = b.token(t);
        }
        for d in &self.databases {
            b = b.database(d);
        }
        if let Some(c) = &self.config {
            b = b.config(c);
        }
        if let Some(t) = self.tick_ms {
            b = b.tick_ms(t);
        }
        if let Some(d) = &self.tls_dir {
            b = b.tls_dir(d);
        }
        Ok(b)
    }
}

fn parse_host(h: &str) -> Result<IpAddr, String> {
    if h.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h);
    h.parse()
        .map_err(|_| format!("--host {h:?} is not an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Result<Parsed, String> {
        parse_args(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags() {
        let Parsed::Run(a) = args(&[
            "--host=::1",
            "--port",
            "0",
            "--token",
            "a",
            "--token=b",
            "--database",
            "3C90C3CC-0D44-4B50-8888-8DD25736052A",
            "--any-database",
            "--tick-ms",
            "5",
            "--fast",
            "--quiet",
            "--tls",
            "--tls-dir=/tmp/d",
        ])
        .unwrap() else {
            panic!()
        };
        assert_eq!(a.host.as_deref(), Some("::1"));
        assert_eq!(a.tokens, vec!["a", "b"]);
        assert_eq!(a.databases, vec!["3c90c3cc-0d44-4b50-8888-8dd25736052a"]);
        assert!(a.any_database && a.fast && a.quiet);
        assert_eq!(a.tick_ms, Some(5));
        assert!(a.tls);
        assert_eq!(a.tls_dir.as_deref(), Some("/tmp/d"));
        assert!(matches!(args(&["--help"]), Ok(Parsed::Exit(_))));
    }

    #[test]
    fn errors_never_echo_token_values() {
        for bad in [
            vec!["s3cret"],
            vec!["--token", "s3cret value"],
            vec!["--tokne=s3cret"],
            vec!["--fast=s3cret"],
        ] {
            let err = match args(&bad) {
                Err(e) => e,
                Ok(_) => panic!("accepted {bad:?}"),
            };
            assert!(!err.contains("s3cret"), "{err}");
        }
        assert!(args(&["--token"]).is_err());
        assert!(args(&["--port", "70000"]).is_err());
        assert!(args(&["--database", "nope"]).is_err());
        assert!(args(&["--tls-dir", "/tmp/x"]).is_err());
        assert!(args(&["--tls", "--tls-dir="]).is_err());
        assert!(args(&["--tls=yes"]).is_err());
    }

    #[test]
    fn hosts() {
        assert!(parse_host("localhost").unwrap().is_loopback());
        assert!(parse_host("[::1]").unwrap().is_loopback());
        assert!(!parse_host("0.0.0.0").unwrap().is_loopback());
        assert!(parse_host("example.com").is_err());
    }
}
