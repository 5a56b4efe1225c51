//! The `qovery-redeploy` binary against the real `qovery-mock` server.

mod common;

use std::time::Duration;

use common::{run, run_with_env, Mock, Silent, DB, TOKEN};
use qovery_redeploy::DeploymentStatus;

/// A short clock, so a whole deployment takes a fraction of a second.
fn fast_mock() -> Mock {
    let mock = Mock::start(&["--tick-ms", "50"]);
    mock.database(DB, r#"{"tick_ms": 50}"#);
    mock
}

#[test]
fn redeploy_is_accepted_without_waiting() {
    let mock = fast_mock();
    let r = run(&["--api-url", &mock.url, DB]);
    assert_eq!(r.code, 0, "{r:?}");
    let line = r.stdout.trim_end();
    assert!(
        line.starts_with(&format!(
            "redeploy accepted: database {DB} state QUEUED (request "
        )),
        "{line:?}"
    );
    assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
    assert_eq!(r.stderr, "", "no progress without --wait");
    assert_eq!(mock.counts(DB), (1, 0));
    // Without the flag, the query parameter is left out (the server's default applies).
    let log = mock.requests(DB);
    assert_eq!(log["log"][0]["query"], serde_json::Value::Null, "{log}");
}

#[test]
fn wait_reports_progress_and_ends_deployed() {
    let mock = fast_mock();
    let r = run(&[
        "--api-url",
        &mock.url,
        "--wait",
        "--poll-interval",
        "0.05",
        "--timeout",
        "30",
        DB,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = r.stdout.trim_end();
    assert!(
        out.starts_with(&format!("deployed: database {DB} state DEPLOYED in ")),
        "{out:?}"
    );
    // Not a terminal: one plain line per change, no cursor control.
    assert!(
        !r.stderr.contains('\r') && !r.stderr.contains('\x1b'),
        "{r:?}"
    );
    let states: Vec<&str> = r
        .stderr
        .lines()
        .map(|l| {
            assert!(l.starts_with('['), "progress line {l:?}");
            l.split("] ").nth(1).unwrap().split(' ').next().unwrap()
        })
        .collect();
    assert_eq!(states.first(), Some(&"QUEUED"), "{states:?}");
    assert_eq!(states.last(), Some(&"DEPLOYED"), "{states:?}");
    assert!(states.contains(&"DEPLOYING"), "{states:?}");
    let (posts, gets) = mock.counts(DB);
    assert_eq!(posts, 1);
    assert!(gets >= 1);
}

#[test]
fn json_prints_the_status_and_nothing_else() {
    let mock = fast_mock();
    let r = run(&[
        "--api-url",
        &mock.url,
        "--json",
        "--wait",
        "--poll-interval",
        "0.05",
        "--timeout",
        "30",
        DB,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let status = DeploymentStatus::from_json(r.stdout.trim_end()).expect("stdout is a Status");
    assert_eq!(
        status.id.map(|u| u.hyphenated().to_string()).as_deref(),
        Some(DB)
    );
    assert_eq!(status.state.as_str(), "DEPLOYED");
    assert!(r.stdout.ends_with('\n'));
    assert!(!r.stderr.is_empty(), "progress still goes to stderr");

    // Without --wait: the 202's status.
    let r = run(&["--api-url", &mock.url, "--json", "--quiet", DB]);
    assert_eq!(r.code, 0, "{r:?}");
    let status = DeploymentStatus::from_json(&r.stdout).expect("stdout is a Status");
    assert_eq!(
        status.id.map(|u| u.hyphenated().to_string()).as_deref(),
        Some(DB)
    );
    assert_eq!(status.state.as_str(), "QUEUED");
    assert!(status.deployment_request_id.is_some());
    assert_eq!(r.stderr, "");
}

#[test]
fn failed_deployment_exits_5_with_the_final_status() {
    let mock = Mock::start(&[]);
    mock.database(DB, r#"{"tick_ms": 50, "outcome": "DEPLOYMENT_ERROR"}"#);
    let args = [
        "--api-url",
        &mock.url,
        "--wait",
        "--poll-interval",
        "0.05",
        "--timeout",
        "30",
    ];
    let r = run(&[&args[..], &[DB]].concat());
    assert_eq!(r.code, 5, "{r:?}");
    let line = r.error_line();
    assert!(line.contains("DEPLOYMENT_ERROR"), "{line}");
    assert!(line.ends_with("[deployment_failed]"), "{line}");
    assert_eq!(r.stdout, "");

    let r = run(&[&args[..], &["--json", DB]].concat());
    assert_eq!(r.code, 5, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON object");
    assert_eq!(v["error"]["kind"], "deployment_failed", "{v}");
    assert_eq!(v["error"]["exit_code"], 5, "{v}");
    assert_eq!(v["accepted"], true, "{v}");
    let status = DeploymentStatus::from_json(&v["status"].to_string()).expect("the final status");
    assert_eq!(status.state.as_str(), "DEPLOYMENT_ERROR");
}

#[test]
fn json_errors_are_one_object_on_stdout() {
    let mock = Mock::start(&[]);
    // 404: no status, not accepted, the HTTP status and the server's detail.
    let r = run(&["--api-url", &mock.url, "--json", "--timeout", "10", DB]);
    assert_eq!(r.code, 4, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["error"]["kind"], "not_found", "{v}");
    assert_eq!(v["error"]["http_status"], 404, "{v}");
    assert!(
        v["error"]["detail"].as_str().unwrap().contains("not found"),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("database not found"),
        "{v}"
    );
    assert_eq!(
        (&v["accepted"], &v["status"]),
        (&serde_json::json!(false), &serde_json::Value::Null)
    );
    assert_eq!(r.stdout.lines().count(), 1);
    r.error_line();
    // A wait that times out after the redeploy was accepted: the last status seen, verbatim.
    mock.database(DB, r#"{"tick_ms": 60000}"#);
    let r = run(&[
        "--api-url",
        &mock.url,
        "--json",
        "--wait",
        "--poll-interval",
        "0.1",
        "--timeout",
        "0.5",
        DB,
    ]);
    assert_eq!(r.code, 6, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["error"]["kind"], "wait_timeout", "{v}");
    assert_eq!(v["accepted"], true, "{v}");
    assert_eq!(v["status"]["id"], DB, "{v}");
    assert!(v["error"]["http_status"].is_null(), "{v}");
    // A redeploy sent but unanswered: accepted is unknown (null).
    mock.fault(DB, r#"{"on": "redeploy", "kind": "reset"}"#);
    let r = run(&["--api-url", &mock.url, "--json", "--timeout", "10", DB]);
    assert_eq!(r.code, 8, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["error"]["kind"], "outcome_unknown", "{v}");
    assert!(v["accepted"].is_null(), "{v}");
    // A usage error found after parsing (no token).
    let r = run_with_env(&[], &["--api-url", &mock.url, "--json", DB]);
    assert_eq!(r.code, 2, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["error"]["kind"], "invalid_input", "{v}");
}

#[test]
fn unknown_database_exits_4() {
    let mock = Mock::start(&[]);
    let r = run(&["--api-url", &mock.url, "--timeout", "10", DB]);
    assert_eq!(r.code, 4, "{r:?}");
    let line = r.error_line();
    assert!(
        line.starts_with("qovery-redeploy: error: database not found (HTTP 404)"),
        "{line}"
    );
    assert!(line.ends_with("[not_found]"), "{line}");
    assert_eq!(r.stdout, "");
}

#[test]
fn a_wrong_base_url_is_said_to_be_one() {
    let mock = Mock::start(&[]);
    mock.database(DB, "{}");
    // The mock's answer for an unknown path: 404 {"detail": "Not Found"}, not the API's.
    let url = format!("{}/api", mock.url);
    let r = run(&["--api-url", &url, "--timeout", "10", DB]);
    assert_eq!(r.code, 4, "{r:?}");
    let line = r.error_line();
    assert!(line.contains("the API URL may be wrong"), "{line}");
    assert!(
        line.contains(&format!("asked {url} for database {DB}")),
        "{line}"
    );
    assert!(line.ends_with("[not_found]"), "{line}");
    // An HTML 404 (a web server, a gateway) too.
    mock.fault(
        DB,
        r#"{"on": "redeploy", "kind": "http", "code": 404, "style": "html"}"#,
    );
    let r = run(&["--api-url", &mock.url, "--timeout", "10", DB]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(r.error_line().contains("the API URL may be wrong"), "{r:?}");
    // The API's own 404 says only that.
    mock.delete_database(DB);
    let r = run(&["--api-url", &mock.url, "--timeout", "10", DB]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(!r.error_line().contains("may be wrong"), "{r:?}");
}

#[test]
fn a_url_without_a_scheme_asks_for_https() {
    let silent = Silent::new();
    let bare = silent.url.trim_start_matches("http://").to_owned();
    let r = run(&["--api-url", &bare, DB]);
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("--api-url") && line.contains("add https://"),
        "{line}"
    );
    assert!(!line.contains("relative URL"), "{line}");
    let r = run_with_env(
        &[
            ("QOVERY_API_TOKEN", TOKEN),
            ("QOVERY_API_URL", "api.qovery.com"),
        ],
        &[DB],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("QOVERY_API_URL \"api.qovery.com\" has no scheme: add https:// (https://api.qovery.com)"),
        "{line}"
    );
    assert!(!silent.was_contacted());
}

#[test]
fn poll_interval_floor_for_remote_hosts_only() {
    // A remote (documentation-range, unroutable) host: the floor is applied and said.
    let r = run(&[
        "--api-url",
        "https://192.0.2.1",
        "--wait",
        "--poll-interval",
        "0.001",
        "--timeout",
        "0.3",
        DB,
    ]);
    assert!(
        r.stderr.contains(
            "qovery-redeploy: note: --poll-interval 0.001s is below the 1s floor for a \
             non-loopback API host: polling every 1s"
        ),
        "{r:?}"
    );
    let r = run(&[
        "--api-url",
        "https://192.0.2.1",
        "--wait",
        "--quiet",
        "--poll-interval",
        "0.001",
        "--timeout",
        "0.3",
        DB,
    ]);
    assert!(!r.stderr.contains("note:"), "{r:?}");
    // Loopback (the mock) keeps small values: many polls in a short wait.
    let mock = Mock::start(&[]);
    mock.database(DB, r#"{"tick_ms": 60000}"#);
    let r = run(&[
        "--api-url",
        &mock.url,
        "--wait",
        "--poll-interval",
        "50ms",
        "--timeout",
        "1s",
        DB,
    ]);
    assert_eq!(r.code, 6, "{r:?}");
    assert!(!r.stderr.contains("note:"), "{r:?}");
    assert!(mock.counts(DB).1 >= 8, "{:?}", mock.counts(DB));
}

#[test]
fn refused_token_exits_3() {
    let mock = fast_mock();
    let wrong = "wrong-token-value";
    let r = run_with_env(
        &[("QOVERY_API_TOKEN", wrong)],
        &["--api-url", &mock.url, "--timeout", "10", DB],
    );
    assert_eq!(r.code, 3, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("HTTP 401") && line.ends_with("[unauthorized]"),
        "{line}"
    );
    assert!(!r.stderr.contains(wrong), "{r:?}");
    assert_eq!(mock.counts(DB).0, 1, "a 401 is not retried");
}

#[test]
fn forbidden_exits_3_and_a_token_echoed_by_the_server_is_cut_out() {
    let mock = fast_mock();
    mock.fault(
        DB,
        &format!(r#"{{"on": "redeploy", "kind": "http", "code": 403, "detail": "token {TOKEN} may not"}}"#),
    );
    let r = run(&["--api-url", &mock.url, "--timeout", "10", DB]);
    assert_eq!(r.code, 3, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("HTTP 403") && line.ends_with("[forbidden]"),
        "{line}"
    );
    assert!(line.contains("[REDACTED]"), "{line}");
}

#[test]
fn bad_database_id_exits_2_before_any_request() {
    let silent = Silent::new();
    for bad in [
        "../x",
        "a%2Fb",
        "3c90c3cc0d444b5088888dd25736052a",
        "not-a-uuid",
    ] {
        let r = run(&["--api-url", &silent.url, bad]);
        assert_eq!(r.code, 2, "{bad}: {r:?}");
        let line = r.error_line();
        assert!(line.contains("invalid database id"), "{line}");
        assert!(line.ends_with("[invalid_input]"), "{line}");
    }
    assert!(!silent.was_contacted(), "a request was sent for a bad id");
}

#[test]
fn missing_or_malformed_token_exits_2_before_any_request() {
    let silent = Silent::new();
    let r = run_with_env(&[], &["--api-url", &silent.url, DB]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("QOVERY_API_TOKEN"), "{r:?}");

    let r = run_with_env(&[("QOVERY_API_TOKEN", "")], &["--api-url", &silent.url, DB]);
    assert_eq!(r.code, 2, "{r:?}");

    let r = run_with_env(
        &[("QOVERY_API_TOKEN", "Token abcdef")],
        &["--api-url", &silent.url, DB],
    );
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("QOVERY_API_TOKEN") && !line.contains("abcdef"),
        "{line}"
    );

    // There is no flag for the token.
    let r = run(&["--token", TOKEN, "--api-url", &silent.url, DB]);
    assert_eq!(r.code, 2, "{r:?}");
    r.error_line();
    assert!(!silent.was_contacted());
}

#[test]
fn plain_http_to_a_remote_host_is_refused_with_2() {
    let r = run(&["--api-url", "http://example.com", DB]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("refusing plain http://"), "{r:?}");
    // Same through the environment variable.
    let r = run_with_env(
        &[
            ("QOVERY_API_TOKEN", TOKEN),
            ("QOVERY_API_URL", "http://10.1.2.3:8080"),
        ],
        &[DB],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.error_line().contains("refusing plain http://"), "{r:?}");
}

#[test]
fn api_url_from_the_environment_and_flag_precedence() {
    let mock = fast_mock();
    let r = run_with_env(
        &[("QOVERY_API_TOKEN", TOKEN), ("QOVERY_API_URL", &mock.url)],
        &["--timeout", "10", DB],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // --api-url wins over the variable (which points nowhere usable).
    let r = run_with_env(
        &[
            ("QOVERY_API_TOKEN", TOKEN),
            ("QOVERY_API_URL", "http://example.com"),
        ],
        &["--api-url", &mock.url, "--timeout", "10", DB],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(mock.counts(DB).0, 2);
}

#[test]
fn wait_timeout_exits_6_within_the_bound() {
    let mock = Mock::start(&[]);
    mock.database(DB, r#"{"tick_ms": 60000}"#);
    let r = run(&[
        "--api-url",
        &mock.url,
        "--wait",
        "--poll-interval",
        "0.1",
        "--timeout",
        "0.5",
        DB,
    ]);
    assert_eq!(r.code, 6, "{r:?}");
    let line = r.error_line();
    assert!(line.ends_with("[wait_timeout]"), "{line}");
    assert!(line.contains("goes on without us"), "{line}");
    assert!(r.elapsed < Duration::from_secs(10), "took {:?}", r.elapsed);
    assert_eq!(mock.counts(DB).0, 1);
}

#[test]
fn timeout_bounds_the_redeploy_request_itself() {
    let mock = fast_mock();
    // The status poll hangs: the command still ends by --timeout.
    mock.fault(
        DB,
        r#"{"on": "status", "kind": "slow_headers", "delay_ms": 5000}"#,
    );
    let r = run(&["--api-url", &mock.url, "--wait", "--timeout", "0.5", DB]);
    assert_eq!(r.code, 6, "{r:?}");
    r.error_line();
    assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);

    // A redeploy whose answer never comes in time: it may have been processed.
    mock.fault(
        DB,
        r#"{"on": "redeploy", "kind": "slow_headers", "delay_ms": 5000}"#,
    );
    let r = run(&["--api-url", &mock.url, "--timeout", "0.5", DB]);
    assert_eq!(r.code, 8, "{r:?}");
    assert!(r.error_line().ends_with("[outcome_unknown]"), "{r:?}");
    assert!(r.elapsed < Duration::from_secs(4), "took {:?}", r.elapsed);
}

#[test]
fn apply_immediately_reaches_the_server() {
    let mock = fast_mock();
    let r = run(&[
        "--api-url",
        &mock.url,
        "--apply-immediately",
        "--timeout",
        "10",
        DB,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let log = mock.requests(DB);
    assert_eq!(log["last_apply_immediately"], true, "{log}");
    assert_eq!(log["log"][0]["query"], "applyImmediately=true", "{log}");
}

#[test]
fn busy_server_errors_and_unknown_outcomes_have_their_codes() {
    let mock = fast_mock();
    let cases = [
        (
            r#"{"on": "redeploy", "kind": "http", "code": 409}"#,
            7,
            "conflict",
        ),
        (
            r#"{"on": "redeploy", "kind": "http", "code": 400, "detail": "ActionAlreadyInProgress: an action is in progress"}"#,
            7,
            "conflict",
        ),
        // Asks for longer than --timeout allows: given up at once, not retried.
        (
            r#"{"on": "redeploy", "kind": "rate_limit", "retry_after": "30"}"#,
            7,
            "rate_limited",
        ),
        (
            r#"{"on": "redeploy", "kind": "http", "code": 500}"#,
            1,
            "server",
        ),
        (
            r#"{"on": "redeploy", "kind": "reset"}"#,
            8,
            "outcome_unknown",
        ),
    ];
    for (fault, code, kind) in cases {
        mock.fault(DB, fault);
        let before = mock.counts(DB).0;
        let r = run(&["--api-url", &mock.url, "--timeout", "5", DB]);
        assert_eq!(r.code, code, "{fault}: {r:?}");
        let line = r.error_line();
        assert!(line.ends_with(&format!("[{kind}]")), "{fault}: {line}");
        assert_eq!(r.stdout, "");
        assert_eq!(
            mock.counts(DB).0,
            before + 1,
            "{fault}: the POST is sent once"
        );
    }
}

/// A redeploy answered 2xx is accepted whatever its body: exit 0, a warning on
/// stderr, the body as received with --json, and --wait goes on waiting. Never resent.
#[test]
fn an_accepted_redeploy_with_an_unreadable_body_is_a_success_with_a_warning() {
    let mock = fast_mock();
    let body = "{\"id\": \"3c90c3cc-0d44";
    let fault = format!(
        r#"{{"on": "redeploy", "kind": "malformed_json", "body": {}}}"#,
        serde_json::to_string(body).unwrap()
    );

    mock.fault(DB, &fault);
    let r = run(&["--api-url", &mock.url, "--timeout", "5", DB]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .starts_with(&format!("redeploy accepted: database {DB} state unknown")),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("warning: the redeploy was accepted"),
        "{r:?}"
    );
    assert!(!r.stderr.contains(": error:"), "{r:?}");
    assert_eq!(mock.counts(DB).0, 1, "the POST is sent once");

    mock.fault(DB, &fault);
    let r = run(&["--api-url", &mock.url, "--json", DB]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, format!("{body}\n"), "the body as received");
    assert!(
        r.stderr.contains("warning: the redeploy was accepted"),
        "{r:?}"
    );

    mock.fault(DB, &fault);
    let r = run(&[
        "--api-url",
        &mock.url,
        "--wait",
        "--poll-interval",
        "0.02",
        "--timeout",
        "20",
        DB,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with(&format!("deployed: database {DB}")),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("warning: the redeploy was accepted"),
        "{r:?}"
    );
    assert_eq!(mock.counts(DB).0, 3, "one POST per run");
}

#[test]
fn status_reads_without_redeploying() {
    let mock = fast_mock();
    let r = run(&["--api-url", &mock.url, "--status", "--timeout", "10", DB]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .starts_with(&format!("database {DB} state DEPLOYED ")),
        "{r:?}"
    );
    assert_eq!(mock.counts(DB), (0, 1));
    let r = run(&["--api-url", &mock.url, "--status", "--json", DB]);
    assert_eq!(r.code, 0, "{r:?}");
    let status = DeploymentStatus::from_json(&r.stdout).expect("a Status");
    assert_eq!(status.state.as_str(), "DEPLOYED");
    assert_eq!(mock.counts(DB), (0, 2));
}

#[test]
fn quiet_prints_nothing_on_success() {
    let mock = fast_mock();
    let r = run(&[
        "--api-url",
        &mock.url,
        "-q",
        "--wait",
        "--poll-interval",
        "0.05",
        "--timeout",
        "30",
        DB,
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
}

#[test]
fn usage_errors_exit_2_on_one_line() {
    for args in [
        &["--timeout", "0", DB][..],
        &["--timeout=-1", DB],
        &["--timeout", "nan", DB],
        &["--timeout", "inf", DB],
        &["--timeout", "abc", DB],
        &["--timeout", "1e12", DB],
        &["--wait", "--poll-interval", "0", DB],
        &["--poll-interval", "1", DB],
        &["--auth-scheme", "basic", DB],
        &["--wiat", DB],
        &["--timeout", "5 parsecs", DB],
        &["--status", "--apply-immediately", DB],
        &["--no-such-flag", DB],
        &[],
        &[DB, DB],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let line = r.error_line();
        assert!(line.ends_with("[usage]"), "{args:?}: {line}");
        assert_eq!(r.stderr.lines().count(), 1, "{args:?}: {r:?}");
        assert_eq!(r.stdout, "");
    }
    // clap's tips are kept.
    let r = run(&["--wiat", DB]);
    assert!(
        r.error_line().contains(
            "unexpected argument '--wiat' found; tip: a similar argument exists: '--wait'"
        ),
        "{r:?}"
    );
    // Fractions and units are fine; the URL is what is wrong here.
    let r = run(&[
        "--wait",
        "--timeout",
        "1m30s",
        "--poll-interval",
        "0.05s",
        "--settle",
        "500ms",
        "--api-url",
        "http://",
        DB,
    ]);
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.error_line();
    assert!(
        line.contains("API URL") && line.ends_with("[invalid_input]"),
        "{line}"
    );
}

#[test]
fn help_documents_exit_codes_and_the_token_variable() {
    let r = run(&["--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    for needle in [
        "Exit codes:",
        "  0 ",
        "  1 ",
        "  2 ",
        "  3 ",
        "  4 ",
        "  5 ",
        "  6 ",
        "  7 ",
        "  8 ",
        "  130 ",
        "QOVERY_API_TOKEN",
        "QOVERY_API_URL",
        "shell history",
        "--wait",
        "--timeout <SECS>",
        "--poll-interval <SECS>",
        "--apply-immediately",
        "--json",
        "--api-url <URL>",
        "--auth-scheme <SCHEME>",
    ] {
        assert!(r.stdout.contains(needle), "--help lacks {needle:?}");
    }
    assert_eq!(r.stderr, "");
    let r = run(&["--version"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.trim_end(),
        format!("qovery-redeploy {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn auth_scheme_is_sent_as_asked() {
    let mock = fast_mock();
    for (flag, scheme) in [
        ("auto", "Token"),
        ("token", "Token"),
        ("bearer", "Bearer"),
        ("Token", "Token"),
        ("BEARER", "Bearer"),
    ] {
        mock.clear_requests(DB);
        let r = run(&[
            "--api-url",
            &mock.url,
            "--auth-scheme",
            flag,
            "--status",
            DB,
        ]);
        assert_eq!(r.code, 0, "{flag}: {r:?}");
        let log = mock.requests(DB);
        assert_eq!(log["log"][0]["auth_scheme"], scheme, "{flag}: {log}");
    }
}

/// Ctrl-C, SIGTERM (a CI job cancel) and SIGHUP during --wait: the binary stops waiting,
/// closes the progress, says so on one line, and exits 130, 143 or 129.
#[cfg(unix)]
#[test]
fn signals_cancel_the_wait_with_their_codes() {
    for (signal, name, code) in [
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGTERM, "SIGTERM", 143),
        (libc::SIGHUP, "SIGHUP", 129),
    ] {
        let (status, stdout, rest) = signal_during_wait(&[signal], name == "SIGTERM");
        assert_eq!(status.code(), Some(code), "{name}: {status:?}");
        let last = rest.last().expect("an error line");
        assert!(
            last.starts_with(&format!("qovery-redeploy: error: cancelled by {name}"))
                && last.contains("goes on without us")
                && last.ends_with("[cancelled]"),
            "{name}: {last}"
        );
        if name == "SIGTERM" {
            let v: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
            assert_eq!(v["error"]["exit_code"], 143, "{v}");
            assert_eq!(v["accepted"], true, "{v}");
        }
    }
    // A second signal kills at once, by that signal.
    let (status, _, _) = signal_during_wait(&[libc::SIGTERM, libc::SIGTERM], false);
    use std::os::unix::process::ExitStatusExt;
    assert!(
        status.signal() == Some(libc::SIGTERM) || status.code() == Some(143),
        "{status:?}"
    );
}

/// Runs a --wait against a mock whose deployment never ends, sends `signals` once the first
/// progress line is out, and returns the exit status, stdout and the stderr lines after it.
#[cfg(unix)]
fn signal_during_wait(
    signals: &[libc::c_int],
    json: bool,
) -> (std::process::ExitStatus, String, Vec<String>) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Instant;

    let mock = Mock::start(&[]);
    mock.database(DB, r#"{"tick_ms": 60000}"#);
    let mut args = vec![
        "--api-url",
        &mock.url,
        "--wait",
        "--poll-interval",
        "0.1",
        "--timeout",
        "30",
        DB,
    ];
    if json {
        args.insert(0, "--json");
    }
    let mut child = common::command(&[("QOVERY_API_TOKEN", TOKEN)], &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qovery-redeploy");
    let stderr = child.stderr.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    // Wait for the first progress line: the redeploy was accepted, the wait is on.
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a progress line");
    assert!(first.contains("QUEUED"), "{first}");
    for signal in signals {
        // SAFETY: signalling our own child, which is still running (not yet waited for).
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, *signal) }, 0);
    }
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running 5 s after {signals:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let _ = stdout.read_to_string(&mut out);
    // The reader thread ends at EOF: collect everything it saw.
    let rest: Vec<String> = rx.iter().collect();
    assert_eq!(mock.counts(DB).0, 1);
    (status, out, rest)
}
