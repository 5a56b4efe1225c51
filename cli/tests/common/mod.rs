//! Test harness: the real `qovery-mock` server as a child process, its control API over plain
//! HTTP/1.1 on a `TcpStream`, and the `qovery-redeploy` binary run against it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "qovery-mock-token";
pub const DB: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

/// The `qovery-mock` binary, built once per test process. `cargo test -p
/// qovery-redeploy-cli` builds only this package's binaries, and a mock left over from an
/// earlier build may be stale, so this always asks cargo (a no-op when up to date).
pub fn mock_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/<this test> -> target/<profile>/qovery-mock
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test executable in target/<profile>/deps")
            .to_path_buf();
        let bin = profile_dir.join(format!("qovery-mock{}", std::env::consts::EXE_SUFFIX));
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args(["build", "--quiet", "-p", "qovery-mock", "--manifest-path"]);
        cargo.arg(&manifest);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("run cargo build -p qovery-mock");
        assert!(status.success(), "cargo build -p qovery-mock failed");
        assert!(bin.exists(), "no mock binary at {}", bin.display());
        bin
    })
}

/// A running `qovery-mock`, killed when dropped.
pub struct Mock {
    child: Child,
    pub url: String,
}

impl Mock {
    /// `qovery-mock --port 0 --quiet` plus `extra` flags; waits for the URL line.
    pub fn start(extra: &[&str]) -> Mock {
        let mut child = Command::new(mock_binary())
            .args(["--port", "0", "--quiet"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start qovery-mock");
        let stdout = child.stdout.take().expect("mock stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the mock never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut mock = Mock {
            child,
            url: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("qovery-mock printed no URL within 20 s");
        let url = line.trim().to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "unexpected URL line {url:?}"
        );
        mock.url = url;
        mock
    }

    fn addr(&self) -> SocketAddr {
        self.url
            .trim_start_matches("http://")
            .parse()
            .expect("mock URL is ip:port")
    }

    /// One control-API request; returns (status, body).
    pub fn control(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        http(self.addr(), method, path, body)
    }

    /// `PUT /_mock/databases/{id}` with a config.
    pub fn database(&self, id: &str, config: &str) {
        let (code, body) = self.control("PUT", &format!("/_mock/databases/{id}"), config);
        assert!(code == 200 || code == 201, "PUT database: {code} {body}");
    }

    /// `POST /_mock/databases/{id}/faults`.
    pub fn fault(&self, id: &str, fault: &str) {
        let (code, body) = self.control("POST", &format!("/_mock/databases/{id}/faults"), fault);
        assert_eq!(code, 200, "POST fault: {body}");
    }

    /// `GET /_mock/databases/{id}/requests`, parsed.
    pub fn requests(&self, id: &str) -> serde_json::Value {
        let (code, body) = self.control("GET", &format!("/_mock/databases/{id}/requests"), "");
        assert_eq!(code, 200, "GET requests: {body}");
        serde_json::from_str(&body).expect("requests JSON")
    }

    /// (redeploy POSTs, status GETs) the mock received for `id`.
    pub fn counts(&self, id: &str) -> (u64, u64) {
        let r = self.requests(id);
        (
            r["redeploy"].as_u64().expect("redeploy count"),
            r["status"].as_u64().expect("status count"),
        )
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 exchange (`Connection: close`), bounded by timeouts.
pub fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect to mock");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let text = String::from_utf8(raw).expect("UTF-8 answer");
    let (head, rest) = text.split_once("\r\n\r\n").expect("HTTP head");
    let code: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (code, body)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&after[..n]);
        rest = &after[n + 2..];
    }
    out
}

/// What one run of the command gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The single error line on stderr (asserts there is exactly one, with the token absent).
    pub fn error_line(&self) -> &str {
        assert!(
            !self.stderr.contains(TOKEN),
            "stderr shows the token: {}",
            self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| l.contains("error:")).count(),
            1,
            "expected one error line: {:?}",
            self.stderr
        );
        let last = *lines.last().expect("an error line");
        assert!(
            last.starts_with("qovery-redeploy: error: "),
            "error line: {last:?}"
        );
        last
    }
}

fn output(out: Output, elapsed: Duration) -> Run {
    Run {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
        elapsed,
    }
}

/// The command with a clean environment: only the variables given.
pub fn command(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qovery-redeploy"));
    cmd.env_remove("QOVERY_API_TOKEN")
        .env_remove("QOVERY_API_URL")
        .env_remove("TERM")
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null());
    cmd
}

/// Runs the command to its end (every test command is bounded by its own --timeout).
pub fn run_with_env(env: &[(&str, &str)], args: &[&str]) -> Run {
    let start = Instant::now();
    let out = command(env, args).output().expect("run qovery-redeploy");
    output(out, start.elapsed())
}

/// Runs the command with `QOVERY_API_TOKEN` set to the mock's token.
pub fn run(args: &[&str]) -> Run {
    run_with_env(&[("QOVERY_API_TOKEN", TOKEN)], args)
}

/// A loopback listener nothing answers on, to prove no connection was attempted.
pub struct Silent {
    listener: TcpListener,
    pub url: String,
}

impl Silent {
    pub fn new() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        Silent { listener, url }
    }

    /// Whether anything connected (connections queue in the backlog until accepted).
    pub fn was_contacted(&self) -> bool {
        self.listener.accept().is_ok()
    }
}
