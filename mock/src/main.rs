//! `qovery-mock`: a fake of the Qovery API "redeploy database" endpoints with
//! a control API for fault injection. See README.md.

mod api;
mod body;
mod config;
mod control;
mod faults;
mod http;
mod ids;
mod jsonutil;
mod logging;
mod server;
mod state;
mod stream;
mod timefmt;
mod tls;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;
use serde_json::json;

use config::{check_token, DbConfig, FileConfig, DEFAULT_TICK_MS, DEFAULT_TOKEN};
use ids::parse_uuid;
use state::App;

/// qovery-mock: a fake Qovery API (POST /database/{id}/redeploy, GET /database/{id}/status)
#[derive(Debug, Default, Parser)]
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
struct Args {
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
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(..=3_600_000))]
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
    exit_on_stdin_eof: bool,
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

enum Parsed {
    Run(Args),
    /// --help or --version: the text to print.
    Exit(String),
}

/// Parses the command line. Error messages never echo values (a value may be a token): they
/// name the kind of mistake and the option, from clap's error context, never clap's own
/// rendering (which quotes the offending value).
fn parse_args(argv: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
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

/// The temporary TLS directory this process created (removed on stdin EOF).
static TEMP_TLS_DIR: OnceLock<PathBuf> = OnceLock::new();

fn bind(ip: IpAddr, port: u16) -> Result<(TcpListener, SocketAddr), String> {
    let want = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(want).map_err(|e| format!("cannot bind {want}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    Ok((listener, addr))
}

/// `--tls`: certificates, CA file, the three fault listeners (serving from
/// now on) and the `/_mock/tls` answer. Returns the main listener's config
/// and the CA file path.
fn start_tls(
    tls_dir: Option<&str>,
    bound: IpAddr,
    app: &Arc<App>,
) -> Result<(Arc<rustls::ServerConfig>, PathBuf), String> {
    let setup = tls::generate(bound)?;
    let dir = match tls_dir {
        Some(d) => PathBuf::from(d),
        None => {
            let d = tls::make_temp_dir()?;
            let _ = TEMP_TLS_DIR.set(d.clone());
            d
        }
    };
    let ca_file = tls::write_ca_file(&dir, &setup.ca_pem)?;
    let mut urls = Vec::new();
    for (name, config) in [
        ("unknown_ca", setup.unknown_ca),
        ("wrong_host", setup.wrong_host),
        ("expired", setup.expired),
    ] {
        let (listener, addr) = bind(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)?;
        let app = Arc::clone(app);
        std::thread::Builder::new()
            .name(format!("accept-{name}"))
            .spawn(move || server::serve(listener, app, Some(config), name))
            .map_err(|e| format!("cannot start the {name} listener: {e}"))?;
        urls.push((name, format!("https://{addr}")));
    }
    let mut info = json!({"ca_file": ca_file.to_string_lossy()});
    for (name, url) in urls {
        info[name] = json!(url);
    }
    let _ = app.tls_info.set(info);
    Ok((setup.main, ca_file))
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

fn run(a: Args) -> Result<(), String> {
    logging::set_quiet(a.quiet);
    if a.exit_on_stdin_eof {
        std::thread::spawn(|| {
            // Reads until EOF (or an error): the parent closed the pipe or is gone.
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            if let Some(d) = TEMP_TLS_DIR.get() {
                let _ = std::fs::remove_dir_all(d);
            }
            std::process::exit(0);
        });
    }
    let file = match &a.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read config file {path}: {e}"))?;
            FileConfig::parse(&text).map_err(|e| format!("config file {path}: {e}"))?
        }
        None => FileConfig::default(),
    };

    let mut tokens = file.tokens;
    for t in a.tokens {
        if !tokens.contains(&t) {
            tokens.push(t);
        }
    }
    let default_token = tokens.is_empty();
    if default_token {
        tokens.push(DEFAULT_TOKEN.to_string());
    }
    let tick_ms = if a.fast {
        0
    } else {
        a.tick_ms.or(file.tick_ms).unwrap_or(DEFAULT_TICK_MS)
    };
    let any_database = a.any_database || file.any_database.unwrap_or(false);
    let mut dbs = file.databases;
    for id in a.databases {
        if !dbs.iter().any(|(d, _)| *d == id) {
            dbs.push((id, DbConfig::default()));
        }
    }

    let ip = parse_host(a.host.as_deref().unwrap_or("127.0.0.1"))?;
    if !ip.is_loopback() && !a.allow_non_loopback {
        return Err(format!(
            "refusing to bind non-loopback address {ip} (pass --allow-non-loopback to override)"
        ));
    }
    let (listener, addr) = bind(ip, a.port)?;

    let n_dbs = dbs.len();
    let n_tokens = tokens.len();
    let app = Arc::new(App::new(tokens, any_database, tick_ms, a.fast, dbs));
    let tls = if a.tls {
        Some(start_tls(a.tls_dir.as_deref(), addr.ip(), &app)?)
    } else {
        None
    };
    let scheme = if tls.is_some() { "https" } else { "http" };

    // Line 1: the base URL; with --tls, line 2: the CA file. Nothing else.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{scheme}://{addr}");
    if let Some((_, ca_file)) = &tls {
        let _ = writeln!(out, "{}", ca_file.display());
    }
    let _ = out.flush();
    drop(out);

    if let Some(info) = app.tls_info.get() {
        mlog!("TLS: {info}");
    }
    mlog!(
        "listening on {scheme}://{addr} ({n_dbs} database(s), any_database={any_database}, tick_ms={tick_ms}{}, {})",
        if a.fast { ", fast" } else { "" },
        if default_token {
            "default token".to_string()
        } else {
            format!("{n_tokens} token(s)")
        }
    );
    server::serve(listener, app, tls.map(|(config, _)| config), "main");
    Ok(())
}

fn main() -> ExitCode {
    match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Exit(text)) => {
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(a)) => match run(a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "qovery-mock: error: {e}");
                ExitCode::from(1)
            }
        },
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "qovery-mock: error: {e}\n(see qovery-mock --help)"
            );
            ExitCode::from(2)
        }
    }
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
