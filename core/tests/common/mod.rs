//! Test support: a raw TCP fault server, `qovery-mock` in this process, and a logger that
//! captures every record so tests can check the token never shows.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
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
// qovery-mock, in process

/// A quiet in-process mock from the binary's flags (which the suites and their data, e.g.
/// the matrix's `mock_args`, already speak).
pub fn mock_server(args: &[&str]) -> qovery_mock::MockServer {
    qovery_mock::Builder::from_args(["--quiet"].iter().chain(args).copied())
        .and_then(qovery_mock::Builder::start)
        .unwrap_or_else(|e| panic!("qovery-mock {args:?}: {e}"))
}

/// A control-API body as the control API reads it (blank = `null`).
pub fn json_body(text: &str) -> serde_json::Value {
    if text.trim().is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The mock over plain HTTP; stopped when dropped.
pub struct Mock {
    pub url: String,
    server: qovery_mock::MockServer,
}

impl Mock {
    pub fn start(args: &[&str]) -> Mock {
        let server = mock_server(args);
        let url = server.url().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "mock said {url:?}");
        Mock { url, server }
    }

    pub fn configure(&self, db: &str, config: &str) {
        self.server
            .put_database(db, json_body(config))
            .unwrap_or_else(|e| panic!("configure {db}: {e}"));
    }

    pub fn fault(&self, db: &str, fault: &str) {
        self.server
            .add_faults(db, json_body(fault))
            .unwrap_or_else(|e| panic!("fault {db}: {e}"));
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
        self.server.requests(db)
    }
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
