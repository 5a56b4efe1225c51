//! Shared helpers for the integration tests: start the real binary on an
//! ephemeral port and talk raw HTTP/1.1 to it over std TcpStreams.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub use serde_json::{json, Value};

pub const TOKEN: &str = "qovery-mock-token";
pub const DB: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";
pub const DB2: &str = "0b7f3e59-1f51-4a87-9a7c-6d1a3e1c2b44";
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `qovery-mock`; killed when dropped.
pub struct Mock {
    child: Child,
    pub url: String,
    /// `host:port`
    pub addr: String,
    pub stdout: Option<BufReader<ChildStdout>>,
}

impl Mock {
    /// Starts the binary with `--port 0 --quiet` plus `args`.
    pub fn start(args: &[&str]) -> Mock {
        let mut all = vec!["--port", "0", "--quiet"];
        all.extend_from_slice(args);
        Mock::start_raw(&all, Stdio::null()).0
    }

    /// Starts the binary with exactly `args`; returns stderr if piped.
    pub fn start_raw(args: &[&str], stderr: Stdio) -> (Mock, Option<ChildStderr>) {
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
            let _ = tx.send((line, r));
        });
        let (line, reader) = match rx.recv_timeout(IO_TIMEOUT) {
            Ok(x) => x,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no URL line within {IO_TIMEOUT:?}");
            }
        };
        let url = line.trim_end().to_string();
        assert!(
            url.starts_with("http://") && line.ends_with('\n'),
            "bad first line {line:?}"
        );
        let addr = url.trim_start_matches("http://").to_string();
        (
            Mock {
                child,
                url,
                addr,
                stdout: Some(reader),
            },
            err,
        )
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.addr)
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
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
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
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
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
