//! A small HTTP/1.1 client for exactly what this crate sends: body-less GET and POST
//! requests to one origin, with keep-alive.
//!
//! Why not a general client: the redeploy POST must never be sent twice by accident, so this
//! layer reports precisely how far an exchange got ([`Stage`]); every blocking step honours a
//! deadline and a [`Cancel`] poll; bodies are capped whatever `Content-Length` says; and the
//! whole call runs on the caller's thread (no runtime hop), which is what keeps the C and
//! Python bindings as fast as a hand-held libcurl handle.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::cancel::{cancelled, Cancel, CANCEL_POLL};
use crate::error::{Error, ErrorKind};

/// Largest response body read; anything longer is refused, whatever its headers claim.
pub const MAX_BODY: usize = 1024 * 1024;
/// Largest response head (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
/// Idle connections kept for reuse.
const MAX_IDLE: usize = 32;
const READ_CHUNK: usize = 16 * 1024;

/// Where requests go: scheme, host, port and an optional path prefix, checked once.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    https: bool,
    host: String,
    ip: Option<IpAddr>,
    port: u16,
    host_header: String,
    path_prefix: String,
    base_url: String,
}

impl Origin {
    /// Accepts `https://host[:port][/prefix]`, and `http://` only to a loopback host so a
    /// token is never sent in clear over a network.
    pub(crate) fn parse(base_url: &str) -> Result<Origin, Error> {
        let shown = crate::error::clean_server_text(base_url, "");
        let url = url::Url::parse(base_url)
            .map_err(|e| Error::invalid(format!("invalid API URL {shown:?}: {e}")))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => {
                return Err(Error::invalid(format!(
                    "invalid API URL {shown:?}: scheme {other:?} is not http or https"
                )))
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid(
                "invalid API URL: credentials in the URL are not accepted (use the token)",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid(format!(
                "invalid API URL {shown:?}: it may not have a query or fragment"
            )));
        }
        let (host, ip) = match url.host() {
            Some(url::Host::Domain(d)) => (d.to_owned(), None),
            Some(url::Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
            Some(url::Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
            None => {
                return Err(Error::invalid(format!(
                    "invalid API URL {shown:?}: no host"
                )))
            }
        };
        let loopback = match ip {
            Some(ip) => ip.is_loopback(),
            None => host.eq_ignore_ascii_case("localhost"),
        };
        if !https && !loopback {
            return Err(Error::invalid(format!(
                "refusing plain http:// to {host}: the token would cross the network unencrypted \
                 (http is allowed only to loopback hosts)"
            )));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Error::invalid(format!("invalid API URL {shown:?}: no port")))?;
        let host_str = url.host_str().unwrap_or_default();
        let host_header = if url.port().is_some() {
            format!("{host_str}:{port}")
        } else {
            host_str.to_owned()
        };
        let path_prefix = url.path().trim_end_matches('/').to_owned();
        let base_url = format!(
            "{}://{}{}",
            if https { "https" } else { "http" },
            host_header,
            path_prefix
        );
        Ok(Origin {
            https,
            host,
            ip,
            port,
            host_header,
            path_prefix,
            base_url,
        })
    }

    pub(crate) fn host_header(&self) -> &str {
        &self.host_header
    }

    pub(crate) fn path_prefix(&self) -> &str {
        &self.path_prefix
    }

    /// The normalised base URL, e.g. `https://api.qovery.com`.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    fn is_loopback_only(&self) -> bool {
        !self.https
    }
}

/// How far an exchange got before it failed: decides whether it may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Nothing of the request reached a server (connect, DNS, TLS handshake failed).
    NotSent,
    /// The request was written; no complete answer head came back.
    Sent,
    /// An answer with this status arrived, but its body could not be read.
    Answered(u16),
}

#[derive(Debug)]
pub(crate) struct Failure {
    pub stage: Stage,
    pub kind: ErrorKind,
    pub message: String,
}

impl Failure {
    fn new(stage: Stage, kind: ErrorKind, message: impl Into<String>) -> Self {
        Failure {
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

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

struct Conn {
    stream: Stream,
    /// Read buffer, initialised once (reads land in `buf[end..]`, never re-zeroed).
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    pos: usize,
    /// Bytes of `buf` filled by reads.
    end: usize,
    reused: bool,
    /// The socket's current read and write timeouts as last set by us (None: unknown).
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

/// A socket timeout for `wait`: never longer than `wait` (a deadline is never overrun), and
/// coarse (100 ms steps above 1 s) so that consecutive calls ask for the same value and the
/// `setsockopt` can be skipped. A read that times out early just loops and asks again.
fn socket_timeout(wait: Duration) -> Duration {
    let wait = wait.max(Duration::from_millis(1));
    if wait >= Duration::from_secs(1) {
        Duration::from_millis(wait.as_millis() as u64 / 100 * 100)
    } else {
        Duration::from_millis(wait.as_millis() as u64)
    }
}

/// A socket read or handshake step that only ran out of its time slice (or was interrupted):
/// the caller checks its deadline and cancel flag, then tries again.
fn is_retry_later(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// A read that did not produce bytes.
enum ReadStop {
    Timeout,
    Cancelled,
    Io(io::Error),
}

impl Conn {
    fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            reused: false,
            read_timeout: None,
            write_timeout: None,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads more bytes into the buffer; `Ok(0)` is end of stream.
    fn fill(&mut self, deadline: Instant, cancel: Option<&dyn Cancel>) -> Result<usize, ReadStop> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
        loop {
            if cancelled(cancel) {
                return Err(ReadStop::Cancelled);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ReadStop::Timeout);
            }
            let mut wait = deadline - now;
            if cancel.is_some() {
                wait = wait.min(CANCEL_POLL);
            }
            let timeout = socket_timeout(wait);
            if self.read_timeout != Some(timeout) {
                self.stream
                    .tcp()
                    .set_read_timeout(Some(timeout))
                    .map_err(ReadStop::Io)?;
                self.read_timeout = Some(timeout);
            }
            // Zeroed only when it grows: the old resize-then-truncate wrote 16 KiB of zeros
            // before every read (half of the client's instructions per call).
            if self.buf.len() - self.end < READ_CHUNK {
                self.buf.resize(self.end + READ_CHUNK, 0);
            }
            match self.stream.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if is_retry_later(&e) => {}
                Err(e) => return Err(ReadStop::Io(e)),
            }
        }
    }

    /// Still open and silent: an idle connection the server has closed (or written junk on)
    /// must not carry the next request.
    fn is_reusable(&self) -> bool {
        if !self.pending().is_empty() {
            return false;
        }
        probe_idle(self.stream.tcp())
    }
}

/// An idle connection is reusable when a non-blocking peek finds nothing to read (no FIN,
/// no RST, no stray bytes). One `recv(MSG_PEEK | MSG_DONTWAIT)` on Unix instead of three
/// system calls (non-blocking on, peek, non-blocking off).
#[cfg(unix)]
fn probe_idle(tcp: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut probe = [0u8; 1];
    // SAFETY: a valid socket descriptor and a 1-byte buffer we own.
    let n = unsafe {
        libc::recv(
            tcp.as_raw_fd(),
            probe.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}

#[cfg(not(unix))]
fn probe_idle(tcp: &TcpStream) -> bool {
    if tcp.set_nonblocking(true).is_err() {
        return false;
    }
    let mut probe = [0u8; 1];
    let alive = matches!(tcp.peek(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    alive && tcp.set_nonblocking(false).is_ok()
}

struct Pool {
    /// Process that opened the pooled sockets: after `fork()` the child must not share them.
    pid: u32,
    idle: Vec<Conn>,
}

/// Connections to one origin, shared by every thread using the client.
pub(crate) struct Transport {
    origin: Origin,
    server_name: Option<ServerName<'static>>,
    tls: Option<Arc<ClientConfig>>,
    connect_timeout: Duration,
    pool: Mutex<Pool>,
}

/// One TLS configuration per process: Mozilla's roots, ring, TLS 1.2 and 1.3.
fn tls_config() -> Result<Arc<ClientConfig>, Error> {
    static CONFIG: OnceLock<Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::new(ErrorKind::Tls, format!("cannot set up TLS: {e}")))
}

impl Transport {
    pub(crate) fn new(origin: Origin, connect_timeout: Duration) -> Result<Transport, Error> {
        let (tls, server_name) = if origin.https {
            let name = ServerName::try_from(origin.host.clone()).map_err(|_| {
                Error::invalid(format!("invalid API URL: bad host name {:?}", origin.host))
            })?;
            (Some(tls_config()?), Some(name))
        } else {
            (None, None)
        };
        Ok(Transport {
            origin,
            server_name,
            tls,
            connect_timeout,
            pool: Mutex::new(Pool {
                pid: std::process::id(),
                idle: Vec::new(),
            }),
        })
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Sends `request` (a complete request head) and reads the answer.
    ///
    /// `idempotent` allows one silent resend on a fresh connection when a reused one turns
    /// out to have been closed by the server; a POST is resent only if writing it failed.
    pub(crate) fn send(
        &self,
        request: &[u8],
        idempotent: bool,
        deadline: Instant,
        cancel: Option<&dyn Cancel>,
    ) -> Result<Response, Failure> {
        if let Some(mut conn) = self.checkout() {
            match exchange(&mut conn, request, idempotent, deadline, cancel) {
                Ok((response, keep)) => {
                    if keep {
                        self.checkin(conn);
                    }
                    return Ok(response);
                }
                Err(Some(failure)) => return Err(failure),
                Err(None) => log::debug!(
                    target: "qovery_redeploy",
                    "idle connection was closed by the server; reconnecting"
                ),
            }
        }
        let mut conn = self.connect(deadline, cancel)?;
        match exchange(&mut conn, request, false, deadline, cancel) {
            Ok((response, keep)) => {
                if keep {
                    self.checkin(conn);
                }
                Ok(response)
            }
            Err(failure) => Err(failure.unwrap_or_else(|| {
                Failure::new(Stage::Sent, ErrorKind::Network, "connection closed")
            })),
        }
    }

    fn checkout(&self) -> Option<Conn> {
        loop {
            let conn = {
                let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
                let pid = std::process::id();
                if pool.pid != pid {
                    // Forked: these sockets belong to the parent too. Forget them without a
                    // word on the wire (dropping only closes this process's descriptors).
                    pool.idle.clear();
                    pool.pid = pid;
                }
                pool.idle.pop()?
            };
            // Probed outside the lock: the probe is a few system calls.
            if conn.is_reusable() {
                return Some(conn);
            }
        }
    }

    /// Closes every idle connection (connections in use finish their call first).
    pub(crate) fn close_idle(&self) {
        let idle = std::mem::take(&mut self.pool.lock().unwrap_or_else(|p| p.into_inner()).idle);
        drop(idle);
    }

    fn checkin(&self, mut conn: Conn) {
        conn.reused = true;
        if conn.buf.len() > 4 * READ_CHUNK && conn.pos == conn.end {
            // A large answer grew the buffer; an idle connection should not keep it.
            conn.buf = Vec::new();
            conn.pos = 0;
            conn.end = 0;
        }
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.idle.len() < MAX_IDLE && pool.pid == std::process::id() {
            pool.idle.push(conn);
        }
    }

    fn connect(&self, deadline: Instant, cancel: Option<&dyn Cancel>) -> Result<Conn, Failure> {
        let not_sent = |kind, msg: String| Failure::new(Stage::NotSent, kind, msg);
        let addrs: Vec<SocketAddr> = match self.origin.ip {
            Some(ip) => vec![SocketAddr::new(ip, self.origin.port)],
            None => (self.origin.host.as_str(), self.origin.port)
                .to_socket_addrs()
                .map_err(|e| {
                    not_sent(
                        ErrorKind::Network,
                        format!("cannot resolve {}: {e}", self.origin.host),
                    )
                })?
                .filter(|a| !self.origin.is_loopback_only() || a.ip().is_loopback())
                .collect(),
        };
        if addrs.is_empty() {
            return Err(not_sent(
                ErrorKind::Network,
                format!("{} has no usable address", self.origin.host),
            ));
        }
        let mut last = None;
        let mut tcp = None;
        for addr in &addrs {
            let now = Instant::now();
            if now >= deadline || cancelled(cancel) {
                break;
            }
            match TcpStream::connect_timeout(addr, self.connect_timeout.min(deadline - now)) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if cancelled(cancel) {
            return Err(not_sent(
                ErrorKind::Cancelled,
                "cancelled while connecting".into(),
            ));
        }
        let tcp = match (tcp, last) {
            (Some(tcp), _) => tcp,
            (None, Some(e)) if e.kind() == io::ErrorKind::TimedOut => {
                return Err(not_sent(
                    ErrorKind::Timeout,
                    format!("timed out connecting to {}", self.origin.host_header),
                ))
            }
            (None, Some(e)) => {
                return Err(not_sent(
                    ErrorKind::Network,
                    format!("cannot connect to {}: {e}", self.origin.host_header),
                ))
            }
            (None, None) => {
                return Err(not_sent(
                    ErrorKind::Timeout,
                    format!("timed out connecting to {}", self.origin.host_header),
                ))
            }
        };
        let _ = tcp.set_nodelay(true);
        let stream = match (&self.tls, &self.server_name) {
            (Some(config), Some(name)) => Stream::Tls(Box::new(
                self.handshake(config, name, tcp, deadline, cancel)?,
            )),
            _ => Stream::Plain(tcp),
        };
        Ok(Conn::new(stream))
    }

    fn handshake(
        &self,
        config: &Arc<ClientConfig>,
        name: &ServerName<'static>,
        mut tcp: TcpStream,
        deadline: Instant,
        cancel: Option<&dyn Cancel>,
    ) -> Result<StreamOwned<ClientConnection, TcpStream>, Failure> {
        let fail = |kind, msg: String| Failure::new(Stage::NotSent, kind, msg);
        let mut tls = ClientConnection::new(config.clone(), name.clone())
            .map_err(|e| fail(ErrorKind::Tls, format!("TLS setup failed: {e}")))?;
        while tls.is_handshaking() {
            if cancelled(cancel) {
                return Err(fail(
                    ErrorKind::Cancelled,
                    "cancelled during TLS handshake".into(),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(fail(
                    ErrorKind::Timeout,
                    "timed out in the TLS handshake".into(),
                ));
            }
            let wait = (deadline - now)
                .min(CANCEL_POLL)
                .max(Duration::from_millis(1));
            let _ = tcp.set_read_timeout(Some(wait));
            let _ = tcp.set_write_timeout(Some(deadline - now));
            match tls.complete_io(&mut tcp) {
                Ok((0, 0)) if tls.is_handshaking() && !tls.wants_write() => {
                    return Err(fail(
                        ErrorKind::Tls,
                        "the server closed the connection during the TLS handshake".into(),
                    ))
                }
                Ok(_) => {}
                Err(e) if is_retry_later(&e) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err(fail(ErrorKind::Tls, format!("TLS handshake failed: {e}")))
                }
                Err(e) => {
                    return Err(fail(
                        ErrorKind::Network,
                        format!("connection failed during the TLS handshake: {e}"),
                    ))
                }
            }
        }
        Ok(StreamOwned::new(tls, tcp))
    }
}

/// One request and its answer on `conn`. `Ok((response, keep_alive))`; `Err(None)` means a
/// reused connection was found closed before anything was processed, so the caller may
/// resend on a fresh one.
fn exchange(
    conn: &mut Conn,
    request: &[u8],
    idempotent: bool,
    deadline: Instant,
    cancel: Option<&dyn Cancel>,
) -> Result<(Response, bool), Option<Failure>> {
    let now = Instant::now();
    if now >= deadline {
        return Err(Some(Failure::new(
            Stage::NotSent,
            ErrorKind::Timeout,
            "deadline passed before sending",
        )));
    }
    let timeout = socket_timeout(deadline - now);
    if conn.write_timeout != Some(timeout) {
        let _ = conn.stream.tcp().set_write_timeout(Some(timeout));
        conn.write_timeout = Some(timeout);
    }
    if let Err(e) = conn
        .stream
        .write_all(request)
        .and_then(|_| conn.stream.flush())
    {
        if conn.reused {
            return Err(None);
        }
        let kind = if e.kind() == io::ErrorKind::TimedOut || e.kind() == io::ErrorKind::WouldBlock {
            ErrorKind::Timeout
        } else {
            ErrorKind::Network
        };
        return Err(Some(Failure::new(
            Stage::Sent,
            kind,
            format!("sending the request failed: {e}"),
        )));
    }
    let retry_if_reused = conn.reused && idempotent;
    read_response(conn, deadline, cancel, retry_if_reused)
}

fn read_failure(stage: Stage, stop: ReadStop, tls: bool) -> Failure {
    match stop {
        ReadStop::Timeout => Failure::new(
            stage,
            ErrorKind::Timeout,
            "timed out waiting for the answer",
        ),
        ReadStop::Cancelled => Failure::new(
            stage,
            ErrorKind::Cancelled,
            "cancelled while waiting for the answer",
        ),
        ReadStop::Io(e) if tls && e.kind() == io::ErrorKind::InvalidData => {
            Failure::new(stage, ErrorKind::Tls, format!("TLS error: {e}"))
        }
        ReadStop::Io(e) => {
            Failure::new(stage, ErrorKind::Network, format!("connection failed: {e}"))
        }
    }
}

fn read_response(
    conn: &mut Conn,
    deadline: Instant,
    cancel: Option<&dyn Cancel>,
    retry_if_reused: bool,
) -> Result<(Response, bool), Option<Failure>> {
    let tls = matches!(conn.stream, Stream::Tls(_));
    let mut received_any = false;
    loop {
        let head = match parse_head(conn.pending()) {
            Ok(Some(head)) if head.len > MAX_HEAD => {
                return Err(Some(Failure::new(
                    Stage::Sent,
                    ErrorKind::Network,
                    "invalid HTTP answer: header section too large",
                )))
            }
            Ok(Some(head)) => head,
            Ok(None) => {
                if conn.pending().len() > MAX_HEAD {
                    return Err(Some(Failure::new(
                        Stage::Sent,
                        ErrorKind::Network,
                        "invalid HTTP answer: header section too large",
                    )));
                }
                match conn.fill(deadline, cancel) {
                    Ok(0) if !received_any && retry_if_reused => return Err(None),
                    Ok(0) => {
                        return Err(Some(Failure::new(
                            Stage::Sent,
                            ErrorKind::Network,
                            if received_any {
                                "connection closed in the middle of the answer's headers"
                            } else {
                                "connection closed before any answer"
                            },
                        )))
                    }
                    Ok(_) => {
                        received_any = true;
                        continue;
                    }
                    Err(ReadStop::Io(e))
                        if !received_any
                            && retry_if_reused
                            && matches!(
                                e.kind(),
                                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                            ) =>
                    {
                        return Err(None)
                    }
                    Err(stop) => return Err(Some(read_failure(Stage::Sent, stop, tls))),
                }
            }
            Err(msg) => {
                return Err(Some(Failure::new(
                    Stage::Sent,
                    ErrorKind::Network,
                    format!("invalid HTTP answer: {msg}"),
                )))
            }
        };
        conn.pos += head.len;
        if (100..200).contains(&head.status) {
            if head.status == 101 {
                return Err(Some(Failure::new(
                    Stage::Answered(101),
                    ErrorKind::Http,
                    "unexpected protocol switch (HTTP 101)",
                )));
            }
            continue; // 100 Continue and friends: the real answer follows.
        }
        let stage = Stage::Answered(head.status);
        let body =
            read_body(conn, &head, deadline, cancel).map_err(|f| Some(Failure { stage, ..f }))?;
        let keep = head.keep_alive && conn.pending().is_empty();
        return Ok((
            Response {
                status: head.status,
                retry_after: head.retry_after,
                location: head.location,
                body,
            },
            keep,
        ));
    }
}

#[derive(Debug)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
    Empty,
}

#[derive(Debug)]
struct Head {
    len: usize,
    status: u16,
    framing: Framing,
    keep_alive: bool,
    retry_after: Option<String>,
    location: Option<String>,
}

/// Parses a response head if `buf` holds a complete one.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.code.ok_or("no status code")?;
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut close = resp.version == Some(0);
    let mut retry_after = None;
    let mut location = None;
    for h in resp.headers.iter() {
        let value = || String::from_utf8_lossy(h.value).trim().to_owned();
        if h.name.eq_ignore_ascii_case("content-length") {
            let v: usize = value()
                .parse()
                .map_err(|_| "invalid Content-Length".to_owned())?;
            if content_length.is_some_and(|old| old != v) {
                return Err("conflicting Content-Length headers".into());
            }
            content_length = Some(v);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let v = value().to_ascii_lowercase();
            if v.rsplit(',').next().map(str::trim) == Some("chunked") {
                chunked = true;
            } else {
                // The value is not quoted back: it is server data.
                return Err("unsupported Transfer-Encoding".to_owned());
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = value().to_ascii_lowercase();
            if v.split(',').any(|t| t.trim() == "close") {
                close = true;
            } else if v.split(',').any(|t| t.trim() == "keep-alive") && resp.version == Some(0) {
                close = false;
            }
        } else if h.name.eq_ignore_ascii_case("retry-after") {
            retry_after = Some(value());
        } else if h.name.eq_ignore_ascii_case("location") {
            location = Some(value());
        }
    }
    let framing = if status == 204 || status == 304 || (100..200).contains(&status) {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if let Some(n) = content_length {
        Framing::Length(n)
    } else {
        close = true;
        Framing::UntilClose
    };
    Ok(Some(Head {
        len,
        status,
        framing,
        keep_alive: !close,
        retry_after,
        location,
    }))
}

fn too_large() -> Failure {
    Failure::new(
        Stage::Sent,
        ErrorKind::Decode,
        format!("answer body larger than the {} KiB limit", MAX_BODY / 1024),
    )
}

fn read_body(
    conn: &mut Conn,
    head: &Head,
    deadline: Instant,
    cancel: Option<&dyn Cancel>,
) -> Result<Vec<u8>, Failure> {
    let tls = matches!(conn.stream, Stream::Tls(_));
    let short = |what: &str| {
        Failure::new(
            Stage::Sent,
            ErrorKind::Network,
            format!("connection closed before the end of the answer body ({what})"),
        )
    };
    match head.framing {
        Framing::Empty => Ok(Vec::new()),
        Framing::Length(n) => {
            if n > MAX_BODY {
                return Err(too_large());
            }
            while conn.pending().len() < n {
                match conn.fill(deadline, cancel) {
                    Ok(0) => return Err(short("shorter than its Content-Length")),
                    Ok(_) => {}
                    Err(stop) => return Err(read_failure(Stage::Sent, stop, tls)),
                }
            }
            let body = conn.pending()[..n].to_vec();
            conn.pos += n;
            Ok(body)
        }
        Framing::UntilClose => {
            loop {
                if conn.pending().len() > MAX_BODY {
                    return Err(too_large());
                }
                match conn.fill(deadline, cancel) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(stop) => return Err(read_failure(Stage::Sent, stop, tls)),
                }
            }
            let body = conn.pending().to_vec();
            conn.pos = conn.end;
            Ok(body)
        }
        Framing::Chunked => {
            let mut body = Vec::new();
            loop {
                // Chunk size line.
                let line = read_line(conn, deadline, cancel, tls)?;
                let size_text = line.split(';').next().unwrap_or("").trim();
                let size = usize::from_str_radix(size_text, 16).map_err(|_| {
                    Failure::new(
                        Stage::Sent,
                        ErrorKind::Network,
                        "invalid chunk size in answer",
                    )
                })?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    while !read_line(conn, deadline, cancel, tls)?.is_empty() {}
                    return Ok(body);
                }
                if body.len().saturating_add(size) > MAX_BODY {
                    return Err(too_large());
                }
                while conn.pending().len() < size + 2 {
                    match conn.fill(deadline, cancel) {
                        Ok(0) => return Err(short("chunked answer cut short")),
                        Ok(_) => {}
                        Err(stop) => return Err(read_failure(Stage::Sent, stop, tls)),
                    }
                }
                let pending = conn.pending();
                if &pending[size..size + 2] != b"\r\n" {
                    return Err(Failure::new(
                        Stage::Sent,
                        ErrorKind::Network,
                        "invalid chunk framing in answer",
                    ));
                }
                body.extend_from_slice(&pending[..size]);
                conn.pos += size + 2;
            }
        }
    }
}

/// Reads one CRLF-terminated line (without the CRLF), bounded in length.
fn read_line(
    conn: &mut Conn,
    deadline: Instant,
    cancel: Option<&dyn Cancel>,
    tls: bool,
) -> Result<String, Failure> {
    loop {
        if let Some(i) = conn.pending().windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&conn.pending()[..i]).into_owned();
            conn.pos += i + 2;
            return Ok(line);
        }
        if conn.pending().len() > 4096 {
            return Err(Failure::new(
                Stage::Sent,
                ErrorKind::Network,
                "invalid chunk framing in answer: line too long",
            ));
        }
        match conn.fill(deadline, cancel) {
            Ok(0) => return Err(Failure::new(
                Stage::Sent,
                ErrorKind::Network,
                "connection closed before the end of the answer body (chunked answer cut short)",
            )),
            Ok(_) => {}
            Err(stop) => return Err(read_failure(Stage::Sent, stop, tls)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        let o = Origin::parse("https://api.qovery.com").unwrap();
        assert_eq!(o.host_header(), "api.qovery.com");
        assert_eq!(o.path_prefix(), "");
        let o = Origin::parse("http://127.0.0.1:8080/prefix/").unwrap();
        assert_eq!(o.host_header(), "127.0.0.1:8080");
        assert_eq!(o.path_prefix(), "/prefix");
        assert_eq!(o.base_url(), "http://127.0.0.1:8080/prefix");
        let o = Origin::parse("http://[::1]:9/").unwrap();
        assert_eq!(o.host_header(), "[::1]:9");
        assert!(Origin::parse("http://localhost:1").is_ok());
        for bad in [
            "http://api.qovery.com",
            "http://10.0.0.1:80",
            "ftp://127.0.0.1",
            "https://user:pw@api.qovery.com",
            "https://api.qovery.com/?x=1",
            "https://api.qovery.com/#f",
            "not a url",
            "",
            "https://",
        ] {
            let e = Origin::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn head_framing() {
        let h = parse_head(b"HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap()
            .unwrap();
        assert_eq!(h.status, 202);
        assert!(matches!(h.framing, Framing::Length(5)));
        assert!(h.keep_alive);
        let h = parse_head(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert!(matches!(h.framing, Framing::UntilClose));
        assert!(!h.keep_alive);
        let h = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(matches!(h.framing, Framing::Chunked));
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .is_err()
        );
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(parse_head(b"garbage\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n").unwrap().is_none());
    }
}
