//! The C ABI as its consumers use it: installs the library into a temporary prefix
//! (scripts/ffi-install.sh, the installer users run), starts qovery-mock (plain and `--tls`)
//! and tinyproxy on loopback, then builds every consumer in tests/CMakeLists.txt (C tests
//! with ASan+UBSan, the header as C99/C11/C++11/C++17, valgrind, pkg-config and the
//! examples, C++ through find_package, Python ctypes, Go cgo) and runs them with CTest.
//!
//! Driving CMake/CTest from `cargo test` puts the C side into the one test command, with
//! Rust owning what shell did badly: processes that are always stopped (a failed assertion
//! drops the mocks and the proxy), deadlines on every child, ports chosen by the OS.
//! Needs the system packages of .ci/provision (cmake, gcc, g++, valgrind, go, tinyproxy,
//! curl, python3, pkg-config, binutils); a missing one fails the test, it is never skipped.
//! `KEEP_WORK=1` keeps the work directory (prefix, build tree, logs) and prints its path.
#![cfg(target_os = "linux")]

mod support;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::Guard;

const TOOLS: &[&str] = &[
    "cmake",
    "ctest",
    "gcc",
    "g++",
    "pkg-config",
    "valgrind",
    "readelf",
    "go",
    "python3",
    "curl",
    "tinyproxy",
];

/// The plain mock: its base URL.
struct Mock {
    url: String,
    _process: Guard,
}

/// The `--tls` mock (any well-formed database id exists): base URL, CA file and the three
/// TLS-fault listeners (tests/c/tls_util.h).
struct TlsMock {
    url: String,
    ca: PathBuf,
    faults: serde_json::Value,
    _process: Guard,
}

/// Starts target/<profile>/qovery-mock with `args` and reads `lines` lines from its stdout
/// (the URL, then with --tls the CA file), within 20 s. Stdin stays open: the mock exits
/// when it closes, even if this test is killed.
fn spawn_mock(work: &Path, name: &str, args: &[&str], lines: usize) -> (Vec<String>, Guard) {
    let bin = support::profile_dir().join("qovery-mock");
    let mut cmd = Command::new(&bin);
    cmd.args(["--port", "0", "--tick-ms", "50", "--exit-on-stdin-eof"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let log = std::fs::File::create(work.join(format!("{name}.log"))).expect("mock log");
    cmd.stderr(log).process_group(0);
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("piped stdout");
    let guard = Guard(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().take(lines) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while out.len() < lines {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(line)) => out.push(line),
            other => panic!(
                "{name} printed {} of {lines} lines ({other:?}); its log:\n{}",
                out.len(),
                support::tail(&work.join(format!("{name}.log")), 40)
            ),
        }
    }
    (out, guard)
}

/// `curl -fsS` of a mock URL (loopback, never through a proxy), its body.
fn curl(url: &str, ca: Option<&Path>) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-fsS", "--max-time", "10", "--noproxy", "*"]);
    if let Some(ca) = ca {
        cmd.arg("--cacert").arg(ca);
    }
    let out = cmd.arg(url).output().expect("run curl");
    assert!(out.status.success(), "curl {url}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 body")
}

fn start_mock(work: &Path) -> Mock {
    let (lines, process) = spawn_mock(work, "mock", &[], 1);
    let url = lines[0].clone();
    curl(&format!("{url}/_mock/health"), None);
    Mock {
        url,
        _process: process,
    }
}

fn start_tls_mock(work: &Path) -> TlsMock {
    let tls_dir = work.join("tls");
    let tls_dir = tls_dir.to_str().expect("UTF-8 temp path");
    let (lines, process) = spawn_mock(
        work,
        "mock-tls",
        &["--tls", "--tls-dir", tls_dir, "--any-database"],
        2,
    );
    let (url, ca) = (lines[0].clone(), PathBuf::from(&lines[1]));
    let info = curl(&format!("{url}/_mock/tls"), Some(&ca));
    let faults: serde_json::Value = serde_json::from_str(&info).expect("/_mock/tls is JSON");
    TlsMock {
        url,
        ca,
        faults,
        _process: process,
    }
}

/// tinyproxy on 127.0.0.1 (CONNECT to any port, log at Connect level, which test_tls.c
/// reads). The port is picked free by the OS just before; another process can take it in
/// between, hence up to three attempts.
struct Proxy {
    url: String,
    log: PathBuf,
    _process: Guard,
}

fn start_proxy(work: &Path) -> Proxy {
    let dir = work.join("proxy");
    std::fs::create_dir_all(&dir).expect("proxy dir");
    let log = dir.join("tinyproxy.log");
    for _attempt in 0..3 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let conf = dir.join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nAllow 127.0.0.1\nLogFile \"{}\"\nLogLevel Connect\n\
                 PidFile \"{}\"\nMaxClients 50\nTimeout 30\n",
                log.display(),
                dir.join("tinyproxy.pid").display()
            ),
        )
        .expect("write tinyproxy.conf");
        let mut cmd = Command::new("tinyproxy");
        cmd.arg("-d").arg("-c").arg(&conf).stdin(Stdio::null());
        let mut process = support::spawn_logged(&mut cmd, &dir.join("stdout.log"));
        for _ in 0..50 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Proxy {
                    url: format!("http://127.0.0.1:{port}"),
                    log,
                    _process: process,
                };
            }
            if !matches!(process.0.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!(
        "tinyproxy did not start; its output:\n{}",
        support::tail(&dir.join("stdout.log"), 40)
    );
}

#[test]
fn c_cpp_ctypes_go_consumers() {
    let missing: Vec<&str> = TOOLS
        .iter()
        .copied()
        .filter(|t| !support::on_path(t))
        .collect();
    assert!(
        missing.is_empty(),
        "missing system tools {missing:?}: run `bash .ci/provision`"
    );
    let root = support::root();
    let started = Instant::now();
    // Two builds, not one: built together, the library would get the mock's dependency
    // features, a different artifact than the other tests' `--lib` build (each run would
    // rebuild it twice).
    support::shared_library();
    support::cargo_build(&["-p", "qovery-mock", "--bin", "qovery-mock"]);
    let built = started.elapsed();

    let work = tempfile::Builder::new()
        .prefix("qovery-ffi-consumers.")
        .tempdir()
        .expect("a temporary directory");
    let (work_path, keep) = (
        work.path().to_path_buf(),
        std::env::var_os("KEEP_WORK").is_some_and(|v| v == "1"),
    );
    let _work = if keep {
        println!("keeping {}", work_path.display());
        let _ = work.keep();
        None
    } else {
        Some(work)
    };
    let work = work_path.as_path();
    let prefix = work.join("prefix");
    let build = work.join("build");
    let step = |cmd: &mut Command, name: &str, secs: u64| {
        let t0 = Instant::now();
        if let Err(e) = support::run(
            cmd,
            &work.join(format!("{name}.log")),
            Duration::from_secs(secs),
        ) {
            panic!("{name} failed: {e}");
        }
        println!("{name}: {:.1} s", t0.elapsed().as_secs_f64());
    };

    step(
        Command::new("bash")
            .arg(root.join("scripts/ffi-install.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--from")
            .arg(support::profile_dir()),
        "install",
        120,
    );

    let mock = start_mock(work);
    let tls = start_tls_mock(work);
    let proxy = start_proxy(work);
    let fault = |name: &str| {
        tls.faults[name]
            .as_str()
            .unwrap_or_else(|| panic!("/_mock/tls has no {name}: {}", tls.faults))
            .to_string()
    };
    let env: Vec<(&str, String)> = vec![
        ("QOVERY_EXPECTED_VERSION", env!("CARGO_PKG_VERSION").into()),
        ("QOVERY_MOCK_URL", mock.url.clone()),
        ("QOVERY_TLS_MOCK_URL", tls.url.clone()),
        ("QOVERY_TLS_CA", tls.ca.display().to_string()),
        ("QOVERY_TLS_UNKNOWN_CA", fault("unknown_ca")),
        ("QOVERY_TLS_WRONG_HOST", fault("wrong_host")),
        ("QOVERY_TLS_EXPIRED", fault("expired")),
        ("QOVERY_PROXY_URL", proxy.url.clone()),
        ("QOVERY_PROXY_LOG", proxy.log.display().to_string()),
    ];
    println!("mocks: {} and {}, proxy {}", mock.url, tls.url, proxy.url);

    step(
        Command::new("cmake")
            .arg("-S")
            .arg(root.join("tests"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
            .arg("-DCMAKE_BUILD_TYPE=Debug")
            .envs(env.iter().map(|(k, v)| (k, v))),
        "cmake-configure",
        120,
    );
    step(
        Command::new("cmake")
            .arg("--build")
            .arg(&build)
            .args(["-j", "2"]),
        "cmake-build",
        600,
    );
    let ctest_log = work.join("ctest.log");
    let ran = support::run(
        Command::new("ctest")
            .arg("--test-dir")
            .arg(&build)
            // -V: every test's output into the log, for the summary below and for reading
            // after a failure (KEEP_WORK=1).
            .args([
                "-V",
                "--output-on-failure",
                "--no-tests=error",
                "--timeout",
                "300",
            ])
            .envs(env.iter().map(|(k, v)| (k, v))),
        &ctest_log,
        Duration::from_secs(1200),
    );
    // What the old shell runner printed per part, from the tests' own output.
    let summary = std::fs::read_to_string(&ctest_log).unwrap_or_default();
    let wanted = [
        " Test ",
        "tests passed",
        "tests failed",
        "checks passed",
        "cancel latency",
        "threads: 8",
        "Ran ",
        "definitely lost:",
        "ERROR SUMMARY",
        "--- FAIL",
        "ok  \t",
    ];
    for line in summary
        .lines()
        .filter(|l| wanted.iter().any(|w| l.contains(w)))
    {
        println!("{line}");
    }
    if let Err(e) = ran {
        panic!("ctest failed: {e}");
    }
    println!(
        "cargo build {:.1} s, consumers {:.1} s",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64()
    );
}
