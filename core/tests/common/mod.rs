//! Test support: a raw TCP fault server, the real `qovery-mock` as a child process, and a
//! logger that captures every record so tests can check the token never shows.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "qovery-mock-token";
pub const DB: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

// ---------------------------------------------------------------------------------------
// Captured logs

struct Capture;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LINES
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

/// Installs the capturing logger (once per test binary).
pub fn capture_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

pub fn logged() -> Vec<String> {
    LINES.lock().unwrap().clone()
}

/// Asserts a text (an error's Display, Debug, or the log) never contains `secret`.
pub fn assert_no_secret(text: &str, secret: &str) {
    assert!(!text.contains(secret), "secret leaked into: {text}");
}

// ---------------------------------------------------------------------------------------
// Raw TCP fault server

/// What the raw server saw.
#[derive(Default)]
pub struct Seen {
    pub connections: AtomicUsize,
    pub requests: AtomicUsize,
    pub heads: Mutex<Vec<String>>,
}

impl Seen {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

type Script = dyn Fn(usize, TcpStream, &Seen) + Send + Sync;

/// A TCP server on 127.0.0.1 that runs `script(connection_index, stream, seen)` per
/// connection on its own thread. Stops when dropped.
pub struct RawServer {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(script: impl Fn(usize, TcpStream, &Seen) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                // Bounded: a test server lives at most two minutes.
                while !stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(120) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nonblocking(false).unwrap();
                            let n = seen.connections.fetch_add(1, Ordering::SeqCst);
                            let (script, seen) = (script.clone(), seen.clone());
                            std::thread::spawn(move || script(n, stream, &seen));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        };
        RawServer {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request head (counted in `seen`); `None` if the peer closed first.
pub fn read_request(stream: &mut TcpStream, seen: &Seen) -> Option<String> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 65536 {
            return None;
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    seen.requests.fetch_add(1, Ordering::SeqCst);
    seen.heads.lock().unwrap().push(text.clone());
    Some(text)
}

/// Closes with a TCP RST instead of a FIN.
pub fn reset(stream: TcpStream) {
    set_linger_zero(&stream);
    drop(stream);
}

fn set_linger_zero(stream: &TcpStream) {
    // SO_LINGER {on, 0} makes close() send RST.
    #[cfg(unix)]
    unsafe {
        use std::os::unix::io::AsRawFd;
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

pub fn status_body(state: &str, request_id: &str) -> String {
    format!(
        r#"{{"id":"{DB}","state":"{state}","service_deployment_status":"OUT_OF_DATE","is_part_last_deployment":true,"status_details":{{"action":"DEPLOY","status":"QUEUED","sub_action":"NONE"}},"deployment_request_id":"{request_id}","deployment_requests_count":1,"last_deployment_date":"2026-11-27T08:00:00Z"}}"#
    )
}

pub fn respond(stream: &mut TcpStream, status: &str, headers: &str, body: &str) {
    let msg = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(msg.as_bytes());
}

/// Answers every request on the connection with `status`/`body` until the peer closes.
pub fn serve_forever(mut stream: TcpStream, seen: &Seen, status: &str, headers: &str, body: &str) {
    while read_request(&mut stream, seen).is_some() {
        respond(&mut stream, status, headers, body);
    }
}

// ---------------------------------------------------------------------------------------
// The real qovery-mock, as a child process

fn mock_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/debug/deps/<test> -> target/debug/qovery-mock
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
            let bin = dir.join(format!("qovery-mock{}", std::env::consts::EXE_SUFFIX));
            // Always ask cargo (a no-op when up to date): a stale mock lacks new flags.
            let status = Command::new(env!("CARGO"))
                .args(["build", "--quiet", "-p", "qovery-mock"])
                .status()
                .expect("cargo build -p qovery-mock");
            assert!(status.success(), "building qovery-mock failed");
            assert!(bin.exists(), "{} missing", bin.display());
            bin
        })
        .clone()
}

pub struct Mock {
    pub url: String,
    child: Child,
}

impl Mock {
    pub fn start(args: &[&str]) -> Mock {
        let mut child = Command::new(mock_binary())
            .args(["--port", "0", "--quiet", "--exit-on-stdin-eof"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qovery-mock");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "mock said {url:?}");
        Mock { url, child }
    }

    /// One control-API call; returns the status code and body.
    pub fn control(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(&self.url, method, path, &[], body)
    }

    pub fn configure(&self, db: &str, config: &str) {
        let (code, body) = self.control("PUT", &format!("/_mock/databases/{db}"), config);
        assert!((200..300).contains(&code), "configure {db}: {code} {body}");
    }

    pub fn fault(&self, db: &str, fault: &str) {
        let (code, body) = self.control("POST", &format!("/_mock/databases/{db}/faults"), fault);
        assert!((200..300).contains(&code), "fault {db}: {code} {body}");
    }

    /// (redeploy POSTs, status GETs) the mock received for `db`.
    pub fn counts(&self, db: &str) -> (u64, u64) {
        let v = self.requests(db);
        (
            v["redeploy"].as_u64().unwrap(),
            v["status"].as_u64().unwrap(),
        )
    }

    pub fn requests(&self, db: &str) -> serde_json::Value {
        let (code, body) = self.control("GET", &format!("/_mock/databases/{db}/requests"), "");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal one-shot HTTP/1.1 request (Connection: close), for the control API.
pub fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    http_on(s, addr, method, path, headers, body)
}

/// One request on `stream` (plain TCP, or a TLS stream from `tlsutil`), read to its close:
/// the answer's status code and body.
pub fn http_on(
    mut stream: impl Read + Write,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    // The mock closes after the answer (a TLS one sends close_notify first); an abrupt EOF
    // after the answer is fine too.
    let _ = stream.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_owned();
    (code, body)
}

/// A fresh database id per test, so tests sharing a mock don't see each other.
pub fn new_db() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------
// Captured logs, per thread (for suites that run cases on several threads at once)

struct TaggedCapture;

static TAGGED: Mutex<Vec<(std::thread::ThreadId, String)>> = Mutex::new(Vec::new());

impl log::Log for TaggedCapture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {}", record.level(), record.args());
        TAGGED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((std::thread::current().id(), line));
    }
    fn flush(&self) {}
}

/// Installs a capturing logger that remembers which thread logged each line (once per test
/// binary; use it instead of [`capture_logs`], not with it).
pub fn capture_logs_by_thread() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        log::set_logger(&TaggedCapture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
}

/// Removes and returns the lines the current thread logged since the last call.
pub fn take_logged_on_this_thread() -> Vec<String> {
    let me = std::thread::current().id();
    let mut all = TAGGED.lock().unwrap_or_else(|p| p.into_inner());
    let (mine, others): (Vec<_>, Vec<_>) = all.drain(..).partition(|(id, _)| *id == me);
    *all = others;
    mine.into_iter().map(|(_, line)| line).collect()
}
