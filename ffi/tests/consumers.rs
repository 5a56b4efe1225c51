//! The C ABI as its consumers use it: installs the library into a temporary prefix
//! (scripts/ffi-install.sh, the installer users run), starts qovery-mock in process (plain and
//! TLS) and tinyproxy on loopback, then builds every consumer in tests/CMakeLists.txt (C tests
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

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qovery_mock::MockServer;
use support::Guard;

const TOOLS: &[&str] = &[
    "cmake",
    "ctest",
    "make",
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

/// The two mocks, in this process (qovery_mock's library): stopped when dropped, even when
/// an assertion fails; CTest's programs reach them over loopback. Quiet: their log would go
/// to the test's stderr, which the harness does not capture.
fn start_mock() -> MockServer {
    MockServer::builder()
        .tick_ms(50)
        .quiet(true)
        .start()
        .expect("start qovery-mock")
}

/// `--tls --any-database` (test_tls.c and test_fork.c use ids they never register).
fn start_tls_mock(work: &Path) -> MockServer {
    MockServer::builder()
        .tick_ms(50)
        .tls(true)
        .tls_dir(work.join("tls"))
        .any_database(true)
        .quiet(true)
        .start()
        .expect("start qovery-mock --tls")
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
    support::shared_library();
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

    let mock = start_mock();
    let tls = start_tls_mock(work);
    let proxy = start_proxy(work);
    let tls_info = tls.tls_info().expect("a TLS mock has TLS info");
    let fault = |name: &str| {
        tls_info[name]
            .as_str()
            .unwrap_or_else(|| panic!("/_mock/tls has no {name}: {tls_info}"))
            .to_string()
    };
    let env: Vec<(&str, String)> = vec![
        ("QOVERY_EXPECTED_VERSION", env!("CARGO_PKG_VERSION").into()),
        ("QOVERY_MOCK_URL", mock.url().to_string()),
        ("QOVERY_TLS_MOCK_URL", tls.url().to_string()),
        (
            "QOVERY_TLS_CA",
            tls.ca_file().expect("a CA file").display().to_string(),
        ),
        ("QOVERY_TLS_UNKNOWN_CA", fault("unknown_ca")),
        ("QOVERY_TLS_WRONG_HOST", fault("wrong_host")),
        ("QOVERY_TLS_EXPIRED", fault("expired")),
        ("QOVERY_PROXY_URL", proxy.url.clone()),
        ("QOVERY_PROXY_LOG", proxy.log.display().to_string()),
    ];
    println!(
        "mocks: {} and {}, proxy {}",
        mock.url(),
        tls.url(),
        proxy.url
    );

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
            // after a failure (KEEP_WORK=1). -j 2: valgrind and the Go build dominate and
            // overlap the rest; the tests sharing the TLS mock's counters and tinyproxy's
            // log hold a RESOURCE_LOCK.
            .args(["-V", "--output-on-failure", "--no-tests=error"])
            .args(["--timeout", "300", "-j", "2"])
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
        "--- PASS",
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
