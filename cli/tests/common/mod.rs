//! Test harness: `qovery-mock` in this process, and the `qovery-redeploy` binary run against
//! it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "qovery-mock-token";
pub const DB: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

/// The mock over plain HTTP, quiet; stopped when dropped.
pub struct Mock {
    pub url: String,
    server: qovery_mock::MockServer,
}

/// A control-API body as the control API reads it (blank = `null`).
fn json_body(text: &str) -> serde_json::Value {
    if text.trim().is_empty() {
        return serde_json::Value::Null;
    }
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

impl Mock {
    /// From the binary's flags (`--quiet` added).
    pub fn start(extra: &[&str]) -> Mock {
        let server = qovery_mock::Builder::from_args(["--quiet"].iter().chain(extra).copied())
            .and_then(qovery_mock::Builder::start)
            .unwrap_or_else(|e| panic!("qovery-mock {extra:?}: {e}"));
        let url = server.url().to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "unexpected URL {url:?}"
        );
        Mock { url, server }
    }

    /// A database registered (or replaced) with a config.
    pub fn database(&self, id: &str, config: &str) {
        self.server
            .put_database(id, json_body(config))
            .unwrap_or_else(|e| panic!("PUT database: {e}"));
    }

    /// Faults queued.
    pub fn fault(&self, id: &str, fault: &str) {
        self.server
            .add_faults(id, json_body(fault))
            .unwrap_or_else(|e| panic!("POST fault: {e}"));
    }

    /// What `GET /_mock/databases/{id}/requests` answers.
    pub fn requests(&self, id: &str) -> serde_json::Value {
        self.server.requests(id)
    }

    /// (redeploy POSTs, status GETs) the mock received for `id`.
    pub fn counts(&self, id: &str) -> (u64, u64) {
        let r = self.requests(id);
        (
            r["redeploy"].as_u64().expect("redeploy count"),
            r["status"].as_u64().expect("status count"),
        )
    }

    pub fn delete_database(&self, id: &str) {
        self.server.delete_database(id);
    }

    pub fn clear_requests(&self, id: &str) {
        self.server.clear_requests(id);
    }
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
