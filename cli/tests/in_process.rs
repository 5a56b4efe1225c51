//! `qovery_redeploy_cli::run` called in-process, as the Python package does, with a cancel.
//! Alone in its test binary: it sets `QOVERY_API_TOKEN` in this process's environment.

mod common;

use std::ffi::OsString;
use std::time::{Duration, Instant};

use common::{Mock, DB, TOKEN};

#[test]
fn run_in_process_is_cancelled_with_130() {
    let mock = Mock::start(&[]);
    mock.database(DB, r#"{"tick_ms": 60000}"#);
    std::env::set_var("QOVERY_API_TOKEN", TOKEN);
    std::env::remove_var("QOVERY_API_URL");

    let args = |extra: &[&str]| -> Vec<OsString> {
        ["qovery-redeploy", "--api-url", &mock.url, "--quiet"]
            .iter()
            .chain(extra)
            .map(OsString::from)
            .collect()
    };

    // Without a cancel: accepted.
    assert_eq!(qovery_redeploy_cli::run(args(&[DB]), None), 0);

    // A wait that would last a minute, cancelled after 300 ms.
    let start = Instant::now();
    let cancel = move || start.elapsed() > Duration::from_millis(300);
    let code = qovery_redeploy_cli::run(
        args(&["--wait", "--timeout", "30", "--poll-interval", "0.1", DB]),
        Some(&cancel),
    );
    let elapsed = start.elapsed();
    assert_eq!(code, 130);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(5),
        "cancel seen late: {elapsed:?}"
    );
    assert_eq!(mock.counts(DB).0, 2);

    // The exit code mapping is public, for skins that report errors themselves.
    assert_eq!(
        qovery_redeploy_cli::exit_code(qovery_redeploy::ErrorKind::NotFound),
        4
    );
}
