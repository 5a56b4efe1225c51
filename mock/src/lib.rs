//! `qovery-mock`, a fake of the Qovery API "redeploy database" endpoints with a
//! control API for fault injection (see README.md), as a library: a test starts
//! it in its own process with [`MockServer::builder`], so it needs no binary
//! built beforehand, no URL line read from a pipe and no child process left
//! behind when it panics. The `qovery-mock` binary is a command line over it.
//!
//! ```no_run
//! let mock = qovery_mock::MockServer::builder().tick_ms(50).quiet(true).start().expect("mock");
//! let id = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
//! mock.put_database(id, serde_json::json!({"outcome": "DEPLOYMENT_ERROR"})).unwrap();
//! // ... point a client at mock.url() with the token "qovery-mock-token" ...
//! assert_eq!(mock.requests(id)["redeploy"], 0);
//! ```

mod api;
mod body;
#[doc(hidden)]
pub mod cli;
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

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

use config::{check_token, DbConfig, FileConfig, DEFAULT_TICK_MS, DEFAULT_TOKEN, MAX_TICK_MS};
use faults::Fault;
use ids::parse_uuid;
use logging::mlog;
use server::Shared;
use state::App;

/// Why a server did not start or a control call was refused. Its text never
/// holds a token (the binary prints it as is).
#[derive(Clone, PartialEq, Eq)]
pub struct Error(String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error(s)
    }
}

/// The options of a [`MockServer`], one per flag of the binary (its `--help`
/// and README.md say what each does); nothing is checked before
/// [`Builder::start`].
#[derive(Clone, Default)]
pub struct Builder {
    host: Option<IpAddr>,
    port: u16,
    tokens: Vec<String>,
    databases: Vec<String>,
    any_database: bool,
    config: Option<PathBuf>,
    tick_ms: Option<u64>,
    fast: bool,
    quiet: bool,
    tls: bool,
    tls_dir: Option<PathBuf>,
    allow_non_loopback: bool,
}

/// Tokens are counted, never shown.
impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tokens", &self.tokens.len())
            .field("databases", &self.databases)
            .field("any_database", &self.any_database)
            .field("config", &self.config)
            .field("tick_ms", &self.tick_ms)
            .field("fast", &self.fast)
            .field("quiet", &self.quiet)
            .field("tls", &self.tls)
            .field("tls_dir", &self.tls_dir)
            .field("allow_non_loopback", &self.allow_non_loopback)
            .finish()
    }
}

impl Builder {
    /// `--host`: default 127.0.0.1; loopback only unless [`Builder::allow_non_loopback`].
    pub fn host(mut self, ip: IpAddr) -> Builder {
        self.host = Some(ip);
        self
    }

    /// `--port`: default 0, an ephemeral port (see [`MockServer::url`]).
    pub fn port(mut self, port: u16) -> Builder {
        self.port = port;
        self
    }

    /// `--token`, repeatable; without any (here or in the config file) the
    /// token is `qovery-mock-token`.
    pub fn token(mut self, token: impl Into<String>) -> Builder {
        self.tokens.push(token.into());
        self
    }

    /// `--database`, repeatable: registered with the default configuration.
    pub fn database(mut self, id: impl Into<String>) -> Builder {
        self.databases.push(id.into());
        self
    }

    /// `--any-database`
    pub fn any_database(mut self, yes: bool) -> Builder {
        self.any_database = yes;
        self
    }

    /// `--config`: a JSON config file, the other options merged on top.
    pub fn config(mut self, file: impl Into<PathBuf>) -> Builder {
        self.config = Some(file.into());
        self
    }

    /// `--tick-ms`: how long each deployment state lasts (default 500).
    pub fn tick_ms(mut self, ms: u64) -> Builder {
        self.tick_ms = Some(ms);
        self
    }

    /// `--fast`
    pub fn fast(mut self, yes: bool) -> Builder {
        self.fast = yes;
        self
    }

    /// `--quiet`: nothing on stderr (which a test harness does not capture).
    pub fn quiet(mut self, yes: bool) -> Builder {
        self.quiet = yes;
        self
    }

    /// `--tls`: HTTPS with a CA generated at start ([`MockServer::ca_file`]),
    /// plus the three TLS-fault listeners ([`MockServer::tls_info`]).
    pub fn tls(mut self, yes: bool) -> Builder {
        self.tls = yes;
        self
    }

    /// `--tls-dir`: where the CA file goes (kept on drop). Without it, a fresh
    /// temporary directory, removed on drop.
    pub fn tls_dir(mut self, dir: impl Into<PathBuf>) -> Builder {
        self.tls_dir = Some(dir.into());
        self
    }

    /// `--allow-non-loopback`
    pub fn allow_non_loopback(mut self, yes: bool) -> Builder {
        self.allow_non_loopback = yes;
        self
    }

    /// The binary's flags (no program name), with the binary's meaning: for flags
    /// kept in data that the binary's other users read too (e.g. the fault
    /// matrix's `mock_args`). `--help`, `--version` and `--exit-on-stdin-eof`
    /// concern a process, and are errors here.
    pub fn from_args<I, S>(args: I) -> Result<Builder, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        match cli::parse_args(args.into_iter().map(Into::into))? {
            cli::Parsed::Exit(_) => Err(Error("--help and --version are the binary's".into())),
            cli::Parsed::Run(a) if a.exit_on_stdin_eof => {
                Err(Error("--exit-on-stdin-eof is the binary's".into()))
            }
            cli::Parsed::Run(a) => Ok(a.builder()?),
        }
    }

    /// Binds, and serves on background threads until the server is dropped.
    pub fn start(self) -> Result<MockServer, Error> {
        let file = match &self.config {
            Some(path) => {
                let shown = path.display();
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {shown}: {e}"))?;
                FileConfig::parse(&text).map_err(|e| format!("config file {shown}: {e}"))?
            }
            None => FileConfig::default(),
        };
        let mut tokens = file.tokens;
        for t in self.tokens {
            check_token(&t).map_err(|e| format!("token: {e}"))?;
            if !tokens.contains(&t) {
                tokens.push(t);
            }
        }
        let default_token = tokens.is_empty();
        if default_token {
            tokens.push(DEFAULT_TOKEN.to_string());
        }
        if self.tick_ms.is_some_and(|t| t > MAX_TICK_MS) {
            return Err(Error(format!("tick_ms: must be <= {MAX_TICK_MS}")));
        }
        let tick_ms = if self.fast {
            0
        } else {
            self.tick_ms.or(file.tick_ms).unwrap_or(DEFAULT_TICK_MS)
        };
        let any_database = self.any_database || file.any_database.unwrap_or(false);
        let mut dbs = file.databases;
        for id in self.databases {
            let id = parse_uuid(&id).ok_or_else(|| format!("database: {id:?} is not a UUID"))?;
            if !dbs.iter().any(|(d, _)| *d == id) {
                dbs.push((id, DbConfig::default()));
            }
        }
        if self.tls_dir.is_some() && !self.tls {
            return Err(Error("tls_dir needs tls".into()));
        }

        let ip = self.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        if !ip.is_loopback() && !self.allow_non_loopback {
            return Err(Error(format!(
                "refusing to bind non-loopback address {ip} (pass --allow-non-loopback to override)"
            )));
        }
        let (listener, addr) = bind(ip, self.port)?;

        let n_dbs = dbs.len();
        let n_tokens = tokens.len();
        let app = Arc::new(App::new(
            tokens,
            any_database,
            tick_ms,
            self.fast,
            self.quiet,
            dbs,
        ));
        // Built now so that an error from here on stops what already runs.
        let mut server = MockServer {
            url: String::new(),
            addr,
            ca_file: None,
            temp_dir: None,
            app,
            shared: Arc::new(Shared::default()),
            accept: Vec::new(),
        };
        let main_tls = if self.tls {
            Some(server.start_tls(self.tls_dir)?)
        } else {
            None
        };
        let scheme = if main_tls.is_some() { "https" } else { "http" };
        server.spawn_accept(listener, addr, main_tls, "main")?;
        server.url = format!("{scheme}://{addr}");

        let app = &server.app;
        if let Some(info) = app.tls_info.get() {
            mlog!(app, "TLS: {info}");
        }
        mlog!(
            app,
            "listening on {} ({n_dbs} database(s), any_database={any_database}, tick_ms={tick_ms}{}, {})",
            server.url,
            if self.fast { ", fast" } else { "" },
            if default_token {
                "default token".to_string()
            } else {
                format!("{n_tokens} token(s)")
            }
        );
        Ok(server)
    }
}

fn bind(ip: IpAddr, port: u16) -> Result<(TcpListener, SocketAddr), String> {
    let want = SocketAddr::new(ip, port);
    let listener = TcpListener::bind(want).map_err(|e| format!("cannot bind {want}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    Ok((listener, addr))
}

/// A running mock: its listeners and their connections run on background
/// threads, which dropping it stops and joins (the listeners close, and a
/// temporary TLS directory it created is removed).
pub struct MockServer {
    url: String,
    addr: SocketAddr,
    ca_file: Option<PathBuf>,
    temp_dir: Option<PathBuf>,
    app: Arc<App>,
    shared: Arc<Shared>,
    /// Each listener's address (to wake its accept loop) and thread.
    accept: Vec<(SocketAddr, JoinHandle<()>)>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("url", &self.url)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

/// The id as the mock keys it; a test that passes something else has a typo.
fn database_id(id: &str) -> Result<String, Error> {
    parse_uuid(id).ok_or_else(|| Error(format!("{id:?} is not a UUID")))
}

fn expect_id(id: &str) -> String {
    database_id(id).unwrap_or_else(|e| panic!("qovery-mock: {e}"))
}

impl MockServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// `http://127.0.0.1:PORT` (`https://` with TLS), what the binary prints first.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The main listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// With TLS: the CA certificate (PEM) to trust, what the binary prints second.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// With TLS: what `GET /_mock/tls` answers (the CA file and the URLs of the
    /// `unknown_ca`, `wrong_host` and `expired` listeners).
    pub fn tls_info(&self) -> Option<Value> {
        self.app.tls_info.get().cloned()
    }

    /// `PUT /_mock/databases/{id}`: registers or replaces a database (a
    /// DatabaseConfig object, or `null` for the defaults); its counters start over.
    pub fn put_database(&self, id: &str, config: Value) -> Result<(), Error> {
        let id = database_id(id)?;
        let cfg = DbConfig::from_json(&config)?;
        control::put_database(&self.app, &id, cfg);
        Ok(())
    }

    /// `DELETE /_mock/databases/{id}`: whether it existed.
    ///
    /// # Panics
    /// If `id` is not a UUID.
    pub fn delete_database(&self, id: &str) -> bool {
        control::delete_database(&self.app, &expect_id(id))
    }

    /// `POST /_mock/databases/{id}/faults`: one fault object or a list, queued.
    pub fn add_faults(&self, id: &str, faults: Value) -> Result<(), Error> {
        let id = database_id(id)?;
        if faults.is_null() {
            return Err(Error("expected a fault object or a list of faults".into()));
        }
        let faults = Fault::parse_many(&faults)?;
        control::add_faults(&self.app, &id, faults)?;
        Ok(())
    }

    /// `GET /_mock/databases/{id}/requests`: the counters and the request log.
    ///
    /// # Panics
    /// If `id` is not a UUID: zero counters for a mistyped id would pass for
    /// "no request was sent".
    pub fn requests(&self, id: &str) -> Value {
        control::requests(&self.app, &expect_id(id))
    }

    /// `DELETE /_mock/databases/{id}/requests`
    ///
    /// # Panics
    /// If `id` is not a UUID.
    pub fn clear_requests(&self, id: &str) {
        control::clear_requests(&self.app, &expect_id(id));
    }

    /// `POST /_mock/reset`: back to the start-up databases, no faults, no counters.
    pub fn reset(&self) {
        self.app.reset();
    }

    /// Certificates, the CA file and the three TLS-fault listeners (serving from
    /// now on); returns the main listener's configuration.
    fn start_tls(&mut self, tls_dir: Option<PathBuf>) -> Result<Arc<rustls::ServerConfig>, Error> {
        let setup = tls::generate(self.addr.ip())?;
        let dir = match tls_dir {
            Some(d) => d,
            None => {
                let d = tls::make_temp_dir()?;
                self.temp_dir = Some(d.clone());
                d
            }
        };
        let ca_file = tls::write_ca_file(&dir, &setup.ca_pem)?;
        let mut info = json!({"ca_file": ca_file.to_string_lossy()});
        for (name, config) in [
            ("unknown_ca", setup.unknown_ca),
            ("wrong_host", setup.wrong_host),
            ("expired", setup.expired),
        ] {
            let (listener, addr) = bind(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)?;
            self.spawn_accept(listener, addr, Some(config), name)?;
            info[name] = json!(format!("https://{addr}"));
        }
        let _ = self.app.tls_info.set(info);
        self.ca_file = Some(ca_file);
        Ok(setup.main)
    }

    fn spawn_accept(
        &mut self,
        listener: TcpListener,
        addr: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
        name: &'static str,
    ) -> Result<(), Error> {
        let (app, shared) = (Arc::clone(&self.app), Arc::clone(&self.shared));
        let thread = std::thread::Builder::new()
            .name(format!("accept-{name}"))
            .spawn(move || server::serve(listener, app, shared, tls, name))
            .map_err(|e| format!("cannot start the {name} listener: {e}"))?;
        self.accept.push((addr, thread));
        Ok(())
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.shared.stop();
        for (addr, thread) in self.accept.drain(..) {
            // The loop waits in accept(): one connection wakes it to see the stop.
            let wake = match addr.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
                IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
                _ => addr,
            };
            // Not joined if it cannot be woken: a drop must not hang.
            if TcpStream::connect_timeout(&wake, Duration::from_secs(5)).is_ok() {
                let _ = thread.join();
            }
        }
        self.shared.close_connections();
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
