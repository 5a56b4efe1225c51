//! Bodies generated from the API's own `Status` schema parse through
//! `qovery_status_from_json`, several thousand per run.
//!
//! The bodies come from the generator `core/tests/schema_props.rs` uses (the shared
//! `tests/data/schema_gen.rs`: everything the committed schema allows, plus extra properties
//! and unknown enum strings). Each goes through the C library the way a C program calls it:
//! the shared library built from this crate (`cargo build -p qovery-redeploy-ffi`, run by
//! the test; `libqovery_redeploy.so` in target/<profile>/), or `QOVERY_LIB`, loaded with
//! `dlopen`, the body as a NUL-terminated
//! `CString`, then `qovery_result_code` (must be `QOVERY_OK`), `qovery_result_state` (the
//! body's `state`), `qovery_result_raw_json` (the body, byte for byte),
//! `qovery_result_accepted_unreadable` (false), `qovery_result_deployment_requests_count`
//! (the body's count when it fits `int64_t`) and `qovery_result_free`.
//!
//! The crate has no `rlib` (see Cargo.toml), so the test calls the cdylib itself: what is
//! tested is the very file a C program links. `PROPTEST_CASES` sets the number of bodies
//! (default 4000); the count and the time are printed.
#![cfg(unix)]

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

#[path = "../../tests/data/schema_gen.rs"]
mod schema_gen;
mod support;

/// `qovery_result` is opaque to C; so it is here.
type Result_ = c_void;

/// The C functions this test calls, resolved from the shared library.
struct Lib {
    from_json: unsafe extern "C" fn(*const c_char) -> *mut Result_,
    code: unsafe extern "C" fn(*const Result_) -> u32,
    message: unsafe extern "C" fn(*const Result_) -> *const c_char,
    state: unsafe extern "C" fn(*const Result_) -> *const c_char,
    raw_json: unsafe extern "C" fn(*const Result_) -> *const c_char,
    accepted_unreadable: unsafe extern "C" fn(*const Result_) -> bool,
    count: unsafe extern "C" fn(*const Result_, *mut i64) -> bool,
    free: unsafe extern "C" fn(*mut Result_),
}

/// The library: `QOVERY_LIB`, or the one in target/<profile>/. `cargo test` does not build a
/// cdylib-only library for an integration test, and one left over from an earlier build may
/// be stale, so this asks cargo for it first (a no-op when up to date), as cli/tests does
/// for qovery-mock.
fn library_path() -> PathBuf {
    if let Some(p) = std::env::var_os("QOVERY_LIB") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<this test> -> target/<profile>/libqovery_redeploy.so
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>");
    profile_dir.join(format!(
        "{}qovery_redeploy{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

fn build_library() {
    if std::env::var_os("QOVERY_LIB").is_some() {
        return;
    }
    support::cargo_build(&["--lib", "-p", "qovery-redeploy-ffi"]);
}

/// The function `name` of the library behind `handle`, as a function pointer of type `F`.
///
/// # Safety
/// `F` must be the function's signature in include/qovery_redeploy.h.
unsafe fn sym<F: Copy>(handle: *mut c_void, name: &str) -> F {
    assert_eq!(size_of::<F>(), size_of::<*mut c_void>());
    let n = CString::new(name).unwrap();
    let p = libc::dlsym(handle, n.as_ptr());
    assert!(!p.is_null(), "{name} not exported");
    std::mem::transmute_copy::<*mut c_void, F>(&p)
}

impl Lib {
    fn load() -> Lib {
        build_library();
        let path = library_path();
        assert!(
            path.exists(),
            "{} missing: `cargo build -p qovery-redeploy-ffi` (or set QOVERY_LIB)",
            path.display()
        );
        let c_path = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: dlopen with a NUL-terminated path; each symbol is one of the library's
        // exported functions, typed by the field it goes to as in include/qovery_redeploy.h.
        // The handle is never closed: the functions stay valid for the whole process.
        unsafe {
            let h = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            assert!(!h.is_null(), "dlopen {} failed", path.display());
            Lib {
                from_json: sym(h, "qovery_status_from_json"),
                code: sym(h, "qovery_result_code"),
                message: sym(h, "qovery_result_message"),
                state: sym(h, "qovery_result_state"),
                raw_json: sym(h, "qovery_result_raw_json"),
                accepted_unreadable: sym(h, "qovery_result_accepted_unreadable"),
                count: sym(h, "qovery_result_deployment_requests_count"),
                free: sym(h, "qovery_result_free"),
            }
        }
    }
}

/// A C string the library returned, as text (`None` for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid until the result is freed.
unsafe fn text(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// One body through the C ABI, as C would call it.
fn check(lib: &Lib, body: &str) -> Result<(), TestCaseError> {
    let v: Value = serde_json::from_str(body).expect("the generator writes JSON");
    let c_body = CString::new(body).expect("JSON text has no NUL byte");
    // SAFETY: the functions of include/qovery_redeploy.h, called as documented there; every
    // string read is read before `qovery_result_free`.
    unsafe {
        let r = (lib.from_json)(c_body.as_ptr());
        prop_assert!(!r.is_null(), "qovery_status_from_json returned NULL");
        let checked = (|| {
            let code = (lib.code)(r);
            prop_assert_eq!(
                code,
                0,
                "code {} ({:?}) for {}",
                code,
                text((lib.message)(r)),
                body
            );
            let (state, raw) = (text((lib.state)(r)), text((lib.raw_json)(r)));
            prop_assert_eq!(state.as_deref(), v["state"].as_str());
            prop_assert_eq!(raw.as_deref(), Some(body));
            prop_assert!(!(lib.accepted_unreadable)(r));
            let mut n = 7i64;
            let want = v["deployment_requests_count"].as_i64();
            prop_assert_eq!((lib.count)(r, &mut n), want.is_some());
            prop_assert_eq!(n, want.unwrap_or(7));
            Ok(())
        })();
        (lib.free)(r);
        checked
    }
}

#[test]
fn bodies_generated_from_the_schema_parse_through_the_c_abi() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4000);
    let lib = Lib::load();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let strategy = schema_gen::body_strategy();
    let (bytes, seen) = (std::cell::Cell::new(0usize), std::cell::Cell::new(0u32));
    runner
        .run(&strategy, |body| {
            bytes.set(bytes.get() + body.len());
            seen.set(seen.get() + 1);
            check(&lib, &body)
        })
        .unwrap();
    assert!(seen.get() >= cases, "only {} bodies ran", seen.get());
    eprintln!(
        "ffi schema_props: {} bodies ({} KiB) through qovery_status_from_json in {:.2} s ({})",
        seen.get(),
        bytes.get() / 1024,
        started.elapsed().as_secs_f64(),
        library_path().display()
    );
}
