//! Connection handling: accept loop, one thread per connection, optional TLS
//! handshake, keep-alive, routing and byte-level fault delivery (the same
//! bytes over plain TCP or inside TLS), and stopping all of it: an in-process
//! server must leave no thread or socket behind when its owner drops it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use rustls::ServerConfig;
use std::time::{Duration, Instant};

use crate::api::{self, Delivery, Reply};
use crate::body::error_new;
use crate::control;
use crate::faults::ReqKind;
use crate::http::{write_head, Conn, Framing, ReadError, Request, Response, IDLE_TIMEOUT};
use crate::logging::mlog;
use crate::state::App;
use crate::stream::Stream;

/// Concurrent connections served; more are answered 503 and closed.
const MAX_CONNS: usize = 2048;
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
const STACK_SIZE: usize = 512 * 1024;

/// What the listeners of one server share: its connections (counted against
/// [`MAX_CONNS`] per server, not per process) and the stop signal that ends
/// accept loops, fault delays and connections.
#[derive(Default)]
pub struct Shared {
    stopped: Mutex<bool>,
    wake: Condvar,
    conns: Mutex<Conns>,
}

#[derive(Default)]
struct Conns {
    next: u64,
    /// A second handle on each open connection's socket, to shut it down on stop.
    live: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

impl Shared {
    fn conns(&self) -> MutexGuard<'_, Conns> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_stopped(&self) -> bool {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps `d`, cut short by [`Shared::stop`]; false if the server stopped (a
    /// `slow_*` fault of minutes must not hold up its owner's drop).
    fn pause(&self, d: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let (stopped, _) = self
            .wake
            .wait_timeout_while(stopped, d, |s| !*s)
            .unwrap_or_else(|e| e.into_inner());
        !*stopped
    }

    /// Accept loops return at their next connection; pauses end now.
    pub fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
    }

    /// After [`Shared::stop`] and once no accept loop runs: shuts every open
    /// connection down (a blocked read or write fails at once) and joins its thread.
    pub fn close_connections(&self) {
        let (live, threads) = {
            let mut c = self.conns();
            (std::mem::take(&mut c.live), std::mem::take(&mut c.threads))
        };
        for s in live.values() {
            let _ = s.shutdown(Shutdown::Both);
        }
        drop(live);
        for t in threads {
            let _ = t.join();
        }
    }
}

/// Removes its connection from [`Conns::live`] when the connection's thread ends.
struct ConnGuard<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.shared.conns().live.remove(&self.id);
    }
}

/// Serves until [`Shared::stop`] (then the next connection, a wake-up, ends the
/// loop): plain HTTP, or HTTPS with `tls`. `name` labels the listener in log lines.
pub fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shared: Arc<Shared>,
    tls: Option<Arc<ServerConfig>>,
    name: &'static str,
) {
    for stream in listener.incoming() {
        if shared.is_stopped() {
            return;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // e.g. EMFILE: back off instead of spinning
                mlog!(app, "accept failed: {e}");
                if !shared.pause(Duration::from_millis(50)) {
                    return;
                }
                continue;
            }
        };
        let mut conns = shared.conns();
        conns.threads.retain(|t| !t.is_finished());
        let second = match stream.try_clone() {
            Ok(s) if conns.live.len() < MAX_CONNS => s,
            _ => {
                drop(conns);
                if tls.is_some() {
                    // a plain-text 503 would be garbage to a TLS client
                    let _ = stream.shutdown(Shutdown::Both);
                } else {
                    reject_busy(stream);
                }
                continue;
            }
        };
        let id = conns.next;
        conns.next += 1;
        conns.live.insert(id, second);
        let (app_, shared_, tls_) = (Arc::clone(&app), Arc::clone(&shared), tls.clone());
        // The guard is made in the thread: if spawning fails, dropping the closure
        // must not take the lock held here.
        let spawned = thread::Builder::new()
            .name("conn".into())
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let _guard = ConnGuard {
                    shared: &shared_,
                    id,
                };
                handle_conn(stream, &app_, &shared_, tls_.as_ref(), name);
            });
        match spawned {
            Ok(t) => conns.threads.push(t),
            Err(e) => {
                conns.live.remove(&id);
                drop(conns);
                mlog!(app, "cannot spawn a connection thread: {e}");
            }
        }
    }
}

fn reject_busy(mut stream: TcpStream) {
    let _ = stream.set_write_timeout(Some(Duration::from_millis(100)));
    let r = Response::json(503, error_new(503, "qovery-mock: too many connections"));
    let mut out = Vec::new();
    write_head(
        &mut out,
        &r,
        Framing::Length(r.body.len() as u64),
        false,
        false,
    );
    out.extend_from_slice(&r.body);
    let _ = stream.write_all(&out);
    let _ = stream.shutdown(Shutdown::Both);
}

fn handle_conn(
    tcp: TcpStream,
    app: &App,
    shared: &Shared,
    tls: Option<&Arc<ServerConfig>>,
    name: &str,
) {
    let _ = tcp.set_nodelay(true);
    let log = !app.fast && !app.quiet;
    let stream = match tls {
        None => Stream::Plain(tcp),
        Some(config) => {
            let peer = tcp.peer_addr().ok();
            match Stream::accept_tls(tcp, config) {
                Ok(s) => s,
                Err(e) => {
                    // Nothing was read as HTTP: the request log and counters
                    // never see a connection whose handshake failed.
                    if log {
                        let peer = peer.map_or_else(|| "?".to_string(), |p| p.to_string());
                        mlog!(
                            app,
                            "debug: TLS handshake failed on the {name} listener (peer {peer}): {e}"
                        );
                    }
                    return;
                }
            }
        }
    };
    let _ = stream.tcp().set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.tcp().set_write_timeout(Some(WRITE_TIMEOUT));
    let mut conn = Conn::new(stream);
    let mut out = Vec::with_capacity(2048);
    loop {
        let req = match conn.read_request() {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Bad(code, detail)) => {
                if log {
                    mlog!(app, "bad request: {code} {detail}");
                }
                let r = Response::json(code, error_new(code, detail));
                out.clear();
                write_head(
                    &mut out,
                    &r,
                    Framing::Length(r.body.len() as u64),
                    false,
                    false,
                );
                out.extend_from_slice(&r.body);
                send(&mut conn.stream, &out);
                graceful_close(&mut conn.stream);
                return;
            }
        };
        let started = Instant::now();
        let reply = route(app, &req);
        let shown = reply.visible_status();
        // Logged before the answer goes out, so that a client which saw the
        // answer can rely on the line being there.
        if log {
            let q = req
                .query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let code = shown.map_or_else(|| "-".to_string(), |c| c.to_string());
            mlog!(
                app,
                "{} {}{} -> {} {}({:.1} ms)",
                req.method,
                req.path,
                q,
                code,
                reply.fault.map(|f| format!("[{f}] ")).unwrap_or_default(),
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
        let keep = deliver(&mut conn.stream, &mut out, reply, &req, shared);
        if !keep {
            return;
        }
    }
}

fn route(app: &App, req: &Request) -> Reply {
    let path = req.path.as_str();
    if path == "/_mock" || path.starts_with("/_mock/") {
        return Reply::normal(control::handle(app, req));
    }
    if let Some((id, action)) = path
        .strip_prefix("/database/")
        .and_then(|rest| rest.split_once('/'))
    {
        let (kind, allowed) = match action {
            "redeploy" => (ReqKind::Redeploy, "POST"),
            "status" => (ReqKind::Status, "GET"),
            _ => return not_found(),
        };
        if id.is_empty() {
            return not_found();
        }
        if req.method != allowed {
            return Reply::normal(
                Response::json(405, error_new(405, "Method Not Allowed")).header("Allow", allowed),
            );
        }
        return api::handle(app, kind, id, req);
    }
    not_found()
}

fn not_found() -> Reply {
    Reply::normal(Response::json(404, error_new(404, "Not Found")))
}

/// Half-closes (on TLS after a `close_notify` alert), then discards what the
/// client still sends (bounded, raw TCP bytes), so that unread request bytes
/// do not turn our FIN into an RST.
fn graceful_close(stream: &mut Stream) {
    stream.close_notify();
    let stream = stream.tcp();
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let mut total = 0usize;
    let mut s = stream;
    while total < (1 << 20) {
        match s.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

/// Closes with a TCP RST: SO_LINGER {on, 0} then close (on TLS too: no
/// alert, the socket just dies).
fn abort(stream: &TcpStream) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let l = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: valid fd owned by `stream`; pointer and length describe `l`.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                &l as *const libc::linger as *const libc::c_void,
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(unix))]
    {
        let _ = stream.shutdown(Shutdown::Both);
    }
}

/// Writes `bytes` (through TLS if any) and pushes them onto the wire.
fn send(stream: &mut Stream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).is_ok() && stream.flush().is_ok()
}

/// Writes `reply`; returns whether the connection stays open.
fn deliver(
    stream: &mut Stream,
    out: &mut Vec<u8>,
    reply: Reply,
    req: &Request,
    shared: &Shared,
) -> bool {
    let http10 = req.minor_version == 0;
    let keep = req.keep_alive() && !reply.resp.close;
    let r = reply.resp;
    out.clear();
    match reply.delivery {
        Delivery::Normal | Delivery::SlowHeaders(_) | Delivery::KeepaliveClose => {
            if let Delivery::SlowHeaders(ms) = reply.delivery {
                if !shared.pause(Duration::from_millis(ms)) {
                    return false;
                }
            }
            let closing = matches!(reply.delivery, Delivery::KeepaliveClose);
            write_head(out, &r, Framing::Length(r.body.len() as u64), keep, http10);
            out.extend_from_slice(&r.body);
            let ok = send(stream, out);
            if ok && keep && !closing {
                return true;
            }
            graceful_close(stream);
            false
        }
        Delivery::SlowBody(ms) => {
            write_head(out, &r, Framing::Length(r.body.len() as u64), keep, http10);
            if !send(stream, out) {
                return false;
            }
            let pieces = r.body.len().clamp(1, 20);
            let size = r.body.len().div_ceil(pieces).max(1);
            let pause = Duration::from_millis(ms / pieces as u64);
            for piece in r.body.chunks(size) {
                if !shared.pause(pause) || !send(stream, piece) {
                    return false;
                }
            }
            if keep {
                return true;
            }
            graceful_close(stream);
            false
        }
        Delivery::Truncated => {
            // Announce keep-alive and the full length, send half, then FIN.
            write_head(out, &r, Framing::Length(r.body.len() as u64), true, http10);
            out.extend_from_slice(&r.body[..r.body.len() / 2]);
            send(stream, out);
            graceful_close(stream);
            false
        }
        Delivery::Reset => {
            abort(stream.tcp());
            false
        }
        Delivery::Close => {
            graceful_close(stream);
            false
        }
        Delivery::Raw(bytes) => {
            send(stream, &bytes);
            graceful_close(stream);
            false
        }
        Delivery::Huge {
            bytes,
            content_length,
        } => deliver_huge(stream, out, &r, bytes, content_length, keep, http10),
    }
}

/// A valid JSON object padded with a `"padding"` string to `bytes` bytes.
fn deliver_huge(
    stream: &mut Stream,
    out: &mut Vec<u8>,
    r: &Response,
    bytes: u64,
    content_length: bool,
    keep: bool,
    http10: bool,
) -> bool {
    static PAD: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let body = &r.body;
    let (prefix, suffix): (Vec<u8>, &[u8]) = match body.iter().rposition(|&b| b == b'}') {
        Some(end) => {
            let mut p = body[..end].to_vec();
            while p.last().is_some_and(u8::is_ascii_whitespace) {
                p.pop();
            }
            if p.last() != Some(&b'{') {
                p.push(b',');
            }
            p.extend_from_slice(b"\"padding\":\"");
            (p, b"\"}")
        }
        None => (body.clone(), b""),
    };
    let fixed = (prefix.len() + suffix.len()) as u64;
    let mut pad = bytes.saturating_sub(fixed);
    let framing = if content_length {
        Framing::Length(fixed + pad)
    } else if http10 {
        Framing::Close
    } else {
        Framing::Chunked
    };
    let keep = keep && framing != Framing::Close;
    write_head(out, r, framing, keep, http10);
    if !send(stream, out) {
        return false;
    }
    let chunked = framing == Framing::Chunked;
    let mut piece = |data: &[u8]| -> bool {
        if data.is_empty() {
            return true;
        }
        if chunked && !send(stream, format!("{:x}\r\n", data.len()).as_bytes()) {
            return false;
        }
        send(stream, data) && (!chunked || send(stream, b"\r\n"))
    };
    if !piece(&prefix) {
        return false;
    }
    while pad > 0 {
        let n = pad.min(PAD.len() as u64) as usize;
        if !piece(&PAD[..n]) {
            return false;
        }
        pad -= n as u64;
    }
    if !piece(suffix) || (chunked && !send(stream, b"0\r\n\r\n")) {
        return false;
    }
    if keep {
        return true;
    }
    graceful_close(stream);
    false
}
