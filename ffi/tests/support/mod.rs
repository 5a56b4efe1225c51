//! What the C-side tests (header.rs, consumers.rs) share: the freshly built library, and
//! child processes that can never hang the test run (each has a deadline, and on expiry its
//! whole process group is killed: cmake's make and compilers, go's toolchain).
#![allow(dead_code)] // each test file uses a different part

use std::fs::File;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (the workspace).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ffi/ has a parent")
        .to_path_buf()
}

/// target/<profile>/, where cargo puts `libqovery_redeploy.{so,a}`: this test runs from
/// target/<profile>/deps/.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    exe.parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>")
        .to_path_buf()
}

/// `cargo build` of `packages` (e.g. `-p qovery-redeploy-ffi`) in this test's profile.
/// `cargo test` does not build a cdylib/staticlib-only library for an integration test and
/// one left over from an earlier build may be stale; a no-op when up to date.
pub fn cargo_build(args: &[&str]) {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.args(["build", "--quiet", "--locked"]).args(args);
    // Not the variables cargo sets for this test: build scripts that read them (ring reads
    // CARGO_MANIFEST_DIR) would see a different environment than under `cargo test`, and the
    // two builds would rebuild each other's dependencies every run.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_BIN_EXE_"]
            .iter()
            .any(|p| name.starts_with(p))
            || [
                "CARGO_CRATE_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ]
            .contains(&name.as_ref())
            || ["CARGO_RUSTC_CURRENT_DIR", "OUT_DIR"].contains(&name.as_ref())
        {
            cargo.env_remove(name.as_ref());
        }
    }
    cargo.arg("--manifest-path").arg(root().join("Cargo.toml"));
    if profile_dir().file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let log = profile_dir().join("qovery-ffi-cargo-build.log");
    if let Err(e) = run(&mut cargo, &log, Duration::from_secs(900)) {
        panic!("cargo build {}: {e}", args.join(" "));
    }
}

/// The shared library cargo built.
pub fn shared_library() -> PathBuf {
    cargo_build(&["--lib", "-p", "qovery-redeploy-ffi"]);
    let so = profile_dir().join("libqovery_redeploy.so");
    assert!(so.exists(), "{} missing after cargo build", so.display());
    so
}

/// The soname's version part: `<major>`, or `0.<minor>` before 1.0 (ffi/build.rs).
pub fn sover() -> String {
    let (major, minor) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
    );
    if major == "0" {
        format!("0.{minor}")
    } else {
        major.to_string()
    }
}

/// A spawned child that is killed (with its process group) when dropped, so a failing
/// assertion never leaves a mock or proxy running.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // Only while the child is unreaped: its pid (= its group's id) cannot have been reused.
        if matches!(self.0.try_wait(), Ok(None)) {
            kill_group(&self.0);
            let _ = self.0.wait();
        }
    }
}

fn kill_group(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on the process group this module created for the child
        // (process_group(0) makes its pgid its pid); no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Spawns `cmd` in a process group of its own (so it and everything it starts can be killed
/// at once), stdout and stderr appended to `log`.
pub fn spawn_logged(cmd: &mut Command, log: &Path) -> Guard {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap_or_else(|e| panic!("open {}: {e}", log.display()));
    let err = out.try_clone().expect("dup the log file");
    cmd.stdout(out).stderr(err).process_group(0);
    match cmd.spawn() {
        Ok(child) => Guard(child),
        Err(e) => panic!("cannot start {cmd:?}: {e} (system packages: bash .ci/provision)"),
    }
}

/// Runs `cmd` to completion within `timeout`, output in `log`. `Err` says how it failed,
/// with the log's last 80 lines.
pub fn run(cmd: &mut Command, log: &Path, timeout: Duration) -> Result<(), String> {
    cmd.stdin(Stdio::null());
    let mut child = spawn_logged(cmd, log);
    let deadline = Instant::now() + timeout;
    let failure = loop {
        match child.0.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => break format!("{status}"),
            Ok(None) if Instant::now() >= deadline => {
                break format!("no exit within {} s, killed", timeout.as_secs())
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => break format!("wait: {e}"),
        }
    };
    drop(child);
    Err(format!(
        "{cmd:?}: {failure}; last lines of {}:\n{}",
        log.display(),
        tail(log, 80)
    ))
}

/// The last `n` lines of a file (empty if unreadable).
pub fn tail(path: &Path, n: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Whether `program` can be found on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
