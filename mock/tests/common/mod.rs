//! Shared helpers for the integration tests: the mock in process
//! (`qovery_mock::MockServer`, from the same flags as the binary), or the real
//! binary for the tests about the binary itself (stdout lines, stderr, exit),
//! and raw HTTP/1.1 to either over std TcpStreams, plain or inside TLS (a
//! rustls client trusting only the CA file the mock wrote).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use qovery_mock::{Builder, MockServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub use serde_json::{json, Value};

pub const TOKEN: &str = "qovery-mock-token";
pub const DB: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
pub const DB2: &str = "0b7f3e59-1f51-4a87-9a7c-6d1a3e1c2b44";
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A running mock, in process or the binary; stopped when dropped.
pub struct Mock {
    server: Option<MockServer>,
    child: Option<Child>,
    pub url: String,
    /// `host:port`
    pub addr: String,
    /// The binary's stdout after its startup line(s).
    pub stdout: Option<BufReader<ChildStdout>>,
    /// With `--tls`: the CA file, and a client config trusting it.
    pub ca_file: Option<PathBuf>,
    pub tls: Option<Arc<ClientConfig>>,
    /// A `--tls-dir` made by the test, removed on drop.
    owned_dir: Option<PathBuf>,
}

static DIRS: AtomicUsize = AtomicUsize::new(0);

impl Mock {
    /// In process, from the binary's flags plus `--quiet`.
    pub fn start(args: &[&str]) -> Mock {
        let builder = Builder::from_args(["--quiet"].iter().chain(args).copied())
            .unwrap_or_else(|e| panic!("flags {args:?}: {e}"));
        let server = builder.start().expect("start the mock");
        let url = server.url().to_owned();
        let ca_file = server.ca_file().map(Path::to_path_buf);
        Mock {
            addr: server.addr().to_string(),
            tls: ca_file.as_deref().map(client_config),
            ca_file,
            url,
            server: Some(server),
            child: None,
            stdout: None,
            owned_dir: None,
        }
    }

    /// Like [`Mock::start`] with `--tls`; every helper (`req`, `control`,
    /// `connect`...) then speaks HTTPS.
    pub fn start_tls(args: &[&str]) -> Mock {
        Mock::start(&[&["--tls"], args].concat())
    }

    /// The binary with `--port 0 --quiet --tls --tls-dir <fresh dir>` plus `args`.
    pub fn spawn_tls(args: &[&str]) -> Mock {
        let dir = temp_path(&format!("tls-{}", DIRS.fetch_add(1, Ordering::Relaxed)));
        let _ = std::fs::remove_dir_all(&dir);
        let dir_s = dir.to_str().expect("UTF-8 temp dir").to_string();
        let mut all = vec!["--port", "0", "--quiet", "--tls", "--tls-dir", &dir_s];
        all.extend_from_slice(args);
        let mut m = Mock::spawn(&all, Stdio::null()).0;
        m.owned_dir = Some(dir);
        m
    }

    /// The binary with exactly `args`, its URL line(s) read; returns stderr if piped.
    pub fn spawn(args: &[&str], stderr: Stdio) -> (Mock, Option<ChildStderr>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_qovery-mock"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn qovery-mock");
        let stdout = child.stdout.take().expect("stdout");
        let err = child.stderr.take();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut line = String::new();
            let _ = r.read_line(&mut line);
            // with --tls a second line (the CA file) follows at once
            let mut ca = String::new();
            if line.starts_with("https://") {
                let _ = r.read_line(&mut ca);
            }
            let _ = tx.send((line, ca, r));
        });
        let (line, ca, reader) = match rx.recv_timeout(IO_TIMEOUT) {
            Ok(x) => x,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no URL line within {IO_TIMEOUT:?}");
            }
        };
        let url = line.trim_end().to_string();
        let tls = url.starts_with("https://");
        assert!(
            (url.starts_with("http://") || tls) && line.ends_with('\n'),
            "bad first line {line:?}"
        );
        let addr = url.split_once("://").unwrap().1.to_string();
        let (ca_file, config) = if tls {
            assert!(ca.ends_with('\n'), "bad second line {ca:?}");
            let path = PathBuf::from(ca.trim_end());
            let config = client_config(&path);
            (Some(path), Some(config))
        } else {
            (None, None)
        };
        (
            Mock {
                server: None,
                child: Some(child),
                url,
                addr,
                stdout: Some(reader),
                ca_file,
                tls: config,
                owned_dir: None,
            },
            err,
        )
    }

    /// What the binary wrote on stdout after the startup line(s), read after
    /// killing it (so: everything it ever printed there).
    pub fn kill_and_read_rest_of_stdout(&mut self) -> String {
        self.kill();
        let mut rest = String::new();
        if let Some(mut r) = self.stdout.take() {
            let _ = r.read_to_string(&mut rest);
        }
        rest
    }

    /// Stops it (the binary: SIGKILL).
    pub fn kill(&mut self) {
        self.server = None;
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A new connection to the main listener (TLS, server name 127.0.0.1 /
    /// ::1, when started with `--tls`).
    pub fn connect(&self) -> Client {
        match &self.tls {
            None => Client::connect(&self.addr),
            Some(config) => Client::connect_tls(&self.addr, config, host_of(&self.addr))
                .unwrap_or_else(|e| panic!("TLS handshake with {}: {e}", self.addr)),
        }
    }

    /// One request on a fresh connection.
    pub fn req(&self, method: &str, path: &str, auth: Option<&str>, body: Option<&str>) -> Resp {
        let mut c = self.connect();
        let mut headers = vec![("Connection", "close")];
        if let Some(a) = auth {
            headers.push(("Authorization", a));
        }
        c.send(method, path, &headers, body.map(str::as_bytes));
        c.read_response().expect("response")
    }

    pub fn redeploy(&self, db: &str) -> Resp {
        self.req(
            "POST",
            &format!("/database/{db}/redeploy"),
            Some(&format!("Token {TOKEN}")),
            None,
        )
    }

    pub fn status(&self, db: &str) -> Resp {
        self.req(
            "GET",
            &format!("/database/{db}/status"),
            Some(&format!("Token {TOKEN}")),
            None,
        )
    }

    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string());
        self.req(method, path, None, body.as_deref())
    }

    pub fn add_faults(&self, db: &str, faults: Value) {
        let r = self.control(
            "POST",
            &format!("/_mock/databases/{db}/faults"),
            Some(faults),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }

    pub fn put_db(&self, db: &str, cfg: Value) {
        let r = self.control("PUT", &format!("/_mock/databases/{db}"), Some(cfg));
        assert!(r.status == 200 || r.status == 201, "{}", r.text());
    }

    pub fn requests(&self, db: &str) -> Value {
        self.control("GET", &format!("/_mock/databases/{db}/requests"), None)
            .json()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.kill();
        if let Some(d) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// `127.0.0.1` from `127.0.0.1:80`, `::1` from `[::1]:80`.
pub fn host_of(addr: &str) -> &str {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// A rustls client config (ring, TLS 1.2 + 1.3, ALPN http/1.1) trusting only
/// the certificates in `ca_file`.
pub fn client_config(ca_file: &Path) -> Arc<ClientConfig> {
    client_config_with(ca_file, rustls::DEFAULT_VERSIONS, &[b"http/1.1"])
}

pub fn client_config_with(
    ca_file: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).expect("read the CA file") {
        roots
            .add(cert.expect("a PEM certificate"))
            .expect("a CA certificate");
    }
    assert_eq!(roots.len(), 1, "the CA file holds exactly one certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut c = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(c)
}

/// A client connection: plain TCP or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }

    pub fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        self.tcp().set_read_timeout(t)
    }

    /// The negotiated ALPN protocol (TLS only).
    pub fn alpn(&self) -> Option<Vec<u8>> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(s) => s.conn.alpn_protocol().map(<[u8]>::to_vec),
        }
    }

    /// Connects and completes a TLS handshake (bounded) with `server_name`.
    pub fn tls(
        addr: &str,
        config: &Arc<ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<Stream> {
        let mut tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(IO_TIMEOUT))?;
        tcp.set_write_timeout(Some(IO_TIMEOUT))?;
        let name = ServerName::try_from(server_name.to_string()).expect("server name");
        let mut conn =
            ClientConnection::new(Arc::clone(config), name).map_err(std::io::Error::other)?;
        for _ in 0..100 {
            if !conn.is_handshaking() {
                return Ok(Stream::Tls(Box::new(StreamOwned::new(conn, tcp))));
            }
            conn.complete_io(&mut tcp)?;
        }
        panic!("TLS handshake with {addr} did not finish");
    }
}

/// The rustls error inside an I/O error from a TLS stream, if any.
pub fn rustls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw HTTP/1.1 client connection.
pub struct Client {
    pub stream: Stream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            stream: Stream::Plain(stream),
            buf: Vec::new(),
        }
    }

    /// A TLS connection (handshake completed) to `addr`.
    pub fn connect_tls(
        addr: &str,
        config: &Arc<ClientConfig>,
        server_name: &str,
    ) -> std::io::Result<Client> {
        Ok(Client {
            stream: Stream::tls(addr, config, server_name)?,
            buf: Vec::new(),
        })
    }

    pub fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: test\r\nUser-Agent: mock-tests/1\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        if let Some(b) = body {
            bytes.extend_from_slice(b);
        }
        self.stream.write_all(&bytes).expect("write request");
        self.stream.flush().expect("flush request");
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
        self.stream.flush().expect("flush");
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 65536];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    fn need(&mut self, n: usize) -> std::io::Result<()> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("EOF after {} of {n} bytes", self.buf.len()),
                ));
            }
        }
        Ok(())
    }

    fn line(&mut self) -> std::io::Result<String> {
        loop {
            if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l = String::from_utf8_lossy(&self.buf[..p]).into_owned();
                self.buf.drain(..p + 2);
                return Ok(l);
            }
            if self.fill()? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads one response (Content-Length, chunked or close-delimited).
    pub fn read_response(&mut self) -> std::io::Result<Resp> {
        let status_line = self.line()?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut headers = Vec::new();
        loop {
            let l = self.line()?;
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').expect("header line");
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let mut resp = Resp {
            status,
            headers,
            body: Vec::new(),
        };
        if let Some(cl) = resp.header("content-length") {
            let n: usize = cl.parse().unwrap();
            self.need(n)?;
            resp.body = self.buf.drain(..n).collect();
        } else if resp
            .header("transfer-encoding")
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
        {
            loop {
                let size = usize::from_str_radix(self.line()?.trim(), 16).expect("chunk size");
                if size == 0 {
                    self.line()?;
                    break;
                }
                self.need(size + 2)?;
                resp.body.extend(self.buf.drain(..size));
                self.buf.drain(..2);
            }
        } else if status >= 200 && status != 204 && status != 304 {
            while self.fill()? > 0 {}
            resp.body = std::mem::take(&mut self.buf);
        }
        Ok(resp)
    }

    /// True if the server closed the connection (EOF or reset) within the timeout.
    pub fn is_closed(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        matches!(self.fill(), Ok(0) | Err(_)) && self.buf.is_empty()
    }
}

/// Polls `f` every `every` until it returns Some, at most `max` times.
pub fn poll<T>(max: usize, every: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    for _ in 0..max {
        if let Some(t) = f() {
            return Some(t);
        }
        thread::sleep(every);
    }
    None
}

pub fn elapsed_ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}

/// A unique temporary file path for this process and `name`.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("qovery-mock-test-{}-{name}", std::process::id()))
}
