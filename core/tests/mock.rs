//! The client against the real `qovery-mock` process: the whole redeploy-and-wait story,
//! every error kind the API can produce, the stale-state race, and retry counts as the
//! server saw them.

mod common;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use qovery_redeploy::{
    AuthScheme, Belongs, CancelToken, Client, DeploymentStatus, Error, ErrorKind, Progress,
    RedeployOptions, WaitOptions,
};

/// One mock for the whole test binary (each test uses its own database ids).
fn mock() -> &'static Mock {
    static MOCK: OnceLock<Mock> = OnceLock::new();
    MOCK.get_or_init(|| Mock::start(&["--tick-ms", "60"]))
}

fn client() -> Client {
    capture_logs();
    Client::builder()
        .token(TOKEN)
        .base_url(&mock().url)
        .request_timeout(Duration::from_millis(1500))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A database registered on the mock with `config`.
fn db(config: &str) -> String {
    let id = new_db();
    mock().configure(&id, config);
    id
}

fn fast_wait<'a>() -> WaitOptions<'a> {
    WaitOptions {
        timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(20),
        settle_delay: Duration::from_secs(20),
        ..Default::default()
    }
}

fn no_secret_anywhere(err: &Error) {
    assert_no_secret(&err.to_string(), TOKEN);
    assert_no_secret(&format!("{err:?}"), TOKEN);
    for line in logged() {
        assert_no_secret(&line, TOKEN);
    }
}

/// Runs redeploy_and_wait, returning the result and every state reported.
fn redeploy_and_wait(
    id: &str,
    wait: WaitOptions<'_>,
) -> (Result<DeploymentStatus, Error>, Vec<String>) {
    let mut seen = Vec::new();
    let mut report = |p: &Progress<'_>| {
        seen.push(p.status.state.as_str().to_owned());
        ControlFlow::Continue(())
    };
    let result = client().redeploy_and_wait(
        id,
        RedeployOptions::default(),
        WaitOptions {
            on_progress: Some(&mut report),
            ..wait
        },
    );
    (result, seen)
}

#[test]
fn redeploy_and_wait_walks_the_states_to_deployed() {
    let id = db("{}");
    let (result, seen) = redeploy_and_wait(&id, fast_wait());
    let status = result.unwrap();
    assert_eq!(status.state.as_str(), "DEPLOYED");
    assert_eq!(status.id.map(|u| u.to_string()), Some(id.clone()));
    assert_eq!(seen.first().map(String::as_str), Some("QUEUED"), "{seen:?}");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("DEPLOYED"),
        "{seen:?}"
    );
    let order = ["QUEUED", "DEPLOYMENT_QUEUED", "DEPLOYING", "DEPLOYED"];
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] < w[1]),
        "states out of order: {seen:?}"
    );
    assert_eq!(mock().counts(&id).0, 1, "exactly one redeploy POST");
}

#[test]
fn the_202_body_has_every_field() {
    let id = db("{}");
    let s = client()
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    assert_eq!(s.id.map(|u| u.to_string()), Some(id.clone()));
    assert!(s.deployment_request_id.is_some());
    assert!(s.last_deployment_date.is_some());
    assert!(s.steps.is_some());
    assert!(s.execution_id.is_some());
    assert!(
        !s.is_terminal(),
        "a fresh deployment is not over: {}",
        s.state
    );
    let raw: serde_json::Value = serde_json::from_str(s.raw_json()).unwrap();
    for key in [
        "id",
        "state",
        "service_deployment_status",
        "last_deployment_date",
        "is_part_last_deployment",
        "steps",
        "execution_id",
        "status_details",
        "deployment_request_id",
        "deployment_requests_count",
    ] {
        assert!(raw.get(key).is_some(), "202 body lacks {key}");
    }
}

#[test]
fn failure_outcomes_are_deployment_failed_with_the_final_status() {
    for outcome in ["DEPLOYMENT_ERROR", "CANCELED"] {
        let id = db(&format!(r#"{{"outcome":"{outcome}"}}"#));
        let (result, seen) = redeploy_and_wait(&id, fast_wait());
        let err = result.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DeploymentFailed, "{err}");
        assert_eq!(err.status().unwrap().state.as_str(), outcome);
        assert!(err.to_string().contains(outcome), "{err}");
        assert_eq!(seen.last().map(String::as_str), Some(outcome));
        no_secret_anywhere(&err);
    }
}

#[test]
fn unknown_states_are_reported_and_waited_through() {
    let id = db(r#"{"states":["QUEUED","FUTURE_STATE_2027","DEPLOYING"]}"#);
    let (result, seen) = redeploy_and_wait(&id, fast_wait());
    assert_eq!(result.unwrap().state.as_str(), "DEPLOYED");
    assert!(seen.iter().any(|s| s == "FUTURE_STATE_2027"), "{seen:?}");
}

#[test]
fn a_stale_deployed_is_not_taken_for_the_new_deployment() {
    let id = db(r#"{"stale_polls":4}"#);
    let c = client();
    let accepted = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    let status = c
        .wait_for_database(
            &id,
            WaitOptions {
                accepted: Some(&accepted),
                ..fast_wait()
            },
        )
        .unwrap();
    assert_eq!(status.state.as_str(), "DEPLOYED");
    assert!(accepted.deployment_request_id.is_some());
    assert_eq!(
        status.deployment_request_id, accepted.deployment_request_id,
        "ended on our deployment, not the previous one"
    );
    assert!(
        mock().counts(&id).1 > 4,
        "the stale polls were seen and skipped"
    );
}

/// Each reported status with the wait's word on whose it is.
fn belongs_seen(config: &str) -> Vec<(String, Belongs)> {
    let id = db(config);
    let mut seen = Vec::new();
    let mut report = |p: &Progress<'_>| {
        seen.push((p.status.state.as_str().to_owned(), p.belongs));
        ControlFlow::Continue(())
    };
    let wait = WaitOptions {
        on_progress: Some(&mut report),
        ..fast_wait()
    };
    let status = client().redeploy_and_wait(&id, RedeployOptions::default(), wait);
    assert_eq!(status.unwrap().state.as_str(), "DEPLOYED");
    seen
}

#[test]
fn progress_says_which_statuses_are_the_deployment_waited_for() {
    let seen = belongs_seen(r#"{"stale_polls":3}"#);
    assert_eq!(seen[0], ("QUEUED".to_owned(), Belongs::Ours), "{seen:?}");
    // The previous deployment's DEPLOYED (another request id) is reported as earlier.
    assert!(
        seen.contains(&("DEPLOYED".to_owned(), Belongs::Earlier)),
        "{seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&("DEPLOYED".to_owned(), Belongs::Ours)),
        "{seen:?}"
    );
    // Without request ids only the redeploy's own answer is known to be ours.
    let seen = belongs_seen(r#"{"stale_polls":3,"null_request_id":true}"#);
    assert_eq!(seen[0].1, Belongs::Ours, "{seen:?}");
    assert!(
        seen[1..].iter().all(|(_, b)| *b == Belongs::Unknown),
        "{seen:?}"
    );
}

#[test]
fn without_request_ids_the_deployment_must_be_seen_in_progress() {
    let id = db(r#"{"stale_polls":3,"null_request_id":true}"#);
    let (result, seen) = redeploy_and_wait(&id, fast_wait());
    assert_eq!(result.unwrap().state.as_str(), "DEPLOYED");
    // The stale DEPLOYED is reported (it is what the API said) but does not end the wait:
    // the deployment is seen running after it, and only then DEPLOYED ends it.
    let stale = seen.iter().position(|s| s == "DEPLOYED").unwrap();
    assert!(
        seen[stale + 1..].iter().any(|s| s == "DEPLOYING"),
        "the wait ended on the stale DEPLOYED: {seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("DEPLOYED"));
}

#[test]
fn without_request_ids_a_settle_delay_ends_the_wait_when_progress_is_never_seen() {
    // The deployment finishes between two polls: only the settle delay can end the wait.
    let id = db(r#"{"null_request_id":true,"tick_ms":0}"#);
    let started = Instant::now();
    let (result, _) = redeploy_and_wait(
        &id,
        WaitOptions {
            poll_interval: Duration::from_millis(100),
            settle_delay: Duration::from_millis(300),
            ..fast_wait()
        },
    );
    assert_eq!(result.unwrap().state.as_str(), "DEPLOYED");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_wait_times_out_with_its_own_kind_and_the_last_status() {
    let id = db(r#"{"tick_ms":60000}"#);
    let started = Instant::now();
    let (result, _) = redeploy_and_wait(
        &id,
        WaitOptions {
            timeout: Duration::from_millis(400),
            ..fast_wait()
        },
    );
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout, "{err}");
    assert!(err.status().is_some());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_wait_is_cancelled_promptly_from_another_thread() {
    let id = db(r#"{"tick_ms":60000}"#);
    let token = CancelToken::new();
    let t = {
        let token = token.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            token.cancel();
        })
    };
    let started = Instant::now();
    let err = client()
        .redeploy_and_wait(
            &id,
            RedeployOptions::default(),
            WaitOptions {
                poll_interval: Duration::from_secs(5),
                cancel: Some(&token),
                ..fast_wait()
            },
        )
        .unwrap_err();
    t.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1200), "cancel took {took:?}");
}

#[test]
fn the_progress_callback_can_stop_the_wait() {
    let id = db(r#"{"tick_ms":60000}"#);
    let mut calls = 0;
    let mut stop = |_: &Progress<'_>| {
        calls += 1;
        ControlFlow::Break(())
    };
    let err = client()
        .redeploy_and_wait(
            &id,
            RedeployOptions::default(),
            WaitOptions {
                on_progress: Some(&mut stop),
                ..fast_wait()
            },
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    assert_eq!(calls, 1);
    assert_eq!(
        mock().counts(&id),
        (1, 0),
        "no poll after the callback said stop"
    );
}

#[test]
fn tokens_are_checked_and_both_schemes_accepted() {
    let id = db("{}");
    let bad = Client::builder()
        .token("wrong-token")
        .base_url(&mock().url)
        .build()
        .unwrap();
    let err = bad
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.http_status(), Some(401));
    for scheme in [AuthScheme::Token, AuthScheme::Bearer] {
        let c = Client::builder()
            .token(TOKEN)
            .auth_scheme(scheme)
            .base_url(&mock().url)
            .build()
            .unwrap();
        c.database_status(&id).unwrap();
    }
    let log = mock().requests(&id)["log"].clone();
    let schemes: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["auth_scheme"].as_str())
        .collect();
    assert!(
        schemes.contains(&"Token") && schemes.contains(&"Bearer"),
        "{log}"
    );
    assert!(
        !log.to_string().contains(TOKEN),
        "the mock never echoes tokens"
    );
}

#[test]
fn unknown_databases_are_not_found() {
    let c = client();
    let id = new_db();
    let err = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.detail().is_some(), "Qovery-style body carries a detail");
    assert_eq!(
        c.database_status(&id).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    no_secret_anywhere(&err);
}

/// Injects `fault` for `id`'s next redeploy and returns the error and the POST count.
fn redeploy_with_fault(fault: &str) -> (Result<DeploymentStatus, Error>, u64) {
    let id = db("{}");
    mock().fault(&id, fault);
    let result = client().redeploy_database(&id, RedeployOptions::default());
    if let Err(e) = &result {
        no_secret_anywhere(e);
    }
    (result, mock().counts(&id).0)
}

#[test]
fn http_faults_map_to_kinds_and_post_retry_counts() {
    let cases = [
        (
            r#"{"on":"redeploy","kind":"http","code":403}"#,
            Some(ErrorKind::Forbidden),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"http","code":409}"#,
            Some(ErrorKind::Conflict),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"http","code":400,"detail":"ActionAlreadyInProgress: deployment in progress"}"#,
            Some(ErrorKind::Conflict),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"http","code":400,"style":"old","detail":"bad"}"#,
            Some(ErrorKind::Http),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"http","code":500}"#,
            Some(ErrorKind::Server),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"http","code":502,"style":"html"}"#,
            Some(ErrorKind::Server),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"http","code":504}"#,
            Some(ErrorKind::Server),
            1,
        ),
        // Retried: the server said the request was not processed.
        (r#"{"on":"redeploy","kind":"http","code":503}"#, None, 2),
        (
            r#"{"on":"redeploy","kind":"rate_limit","retry_after":"1"}"#,
            None,
            2,
        ),
        (
            r#"{"on":"redeploy","kind":"rate_limit","retry_after":"0","times":2}"#,
            None,
            3,
        ),
        (
            r#"{"on":"redeploy","kind":"rate_limit","retry_after":"0","times":3}"#,
            Some(ErrorKind::RateLimited),
            3,
        ),
        (
            r#"{"on":"redeploy","kind":"rate_limit","retry_after":"7200"}"#,
            Some(ErrorKind::RateLimited),
            1,
        ),
        // Not retried: the request may have been processed.
        (
            r#"{"on":"redeploy","kind":"reset"}"#,
            Some(ErrorKind::OutcomeUnknown),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"close"}"#,
            Some(ErrorKind::OutcomeUnknown),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"slow_headers","delay_ms":3000}"#,
            Some(ErrorKind::OutcomeUnknown),
            1,
        ),
        (
            r#"{"on":"redeploy","kind":"redirect","code":302,"location":"http://127.0.0.1:1/x"}"#,
            Some(ErrorKind::Http),
            1,
        ),
    ];
    for (fault, expected, posts) in cases {
        let (result, seen_posts) = redeploy_with_fault(fault);
        match expected {
            Some(kind) => assert_eq!(
                result.as_ref().map_err(Error::kind).err(),
                Some(kind),
                "{fault}"
            ),
            None => assert!(result.is_ok(), "{fault}: {:?}", result.err()),
        }
        assert_eq!(seen_posts, posts, "{fault}: POSTs seen by the server");
    }
    // 2xx answers that are not a Status were still accepted, and sent once.
    for fault in [
        r#"{"on":"redeploy","kind":"malformed_json"}"#,
        r#"{"on":"redeploy","kind":"truncated_body"}"#,
        r#"{"on":"redeploy","kind":"huge_body","bytes":3000000,"content_length":true}"#,
        r#"{"on":"redeploy","kind":"huge_body","bytes":3000000,"content_length":false}"#,
        r#"{"on":"redeploy","kind":"patch","remove":["state"]}"#,
    ] {
        let (result, seen_posts) = redeploy_with_fault(fault);
        let status = result.unwrap_or_else(|e| panic!("{fault}: {e}"));
        assert!(status.accepted_unreadable(), "{fault}");
        assert_eq!(seen_posts, 1, "{fault}: POSTs seen by the server");
    }
}

#[test]
fn the_retry_after_wait_is_reported_when_it_does_not_fit() {
    let (result, _) =
        redeploy_with_fault(r#"{"on":"redeploy","kind":"rate_limit","retry_after":"7200"}"#);
    let err = result.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7200)));
    assert_eq!(err.http_status(), Some(429));
}

#[test]
fn patched_bodies_with_unknown_values_and_nulls_parse() {
    let (result, _) = redeploy_with_fault(
        r#"{"on":"redeploy","kind":"patch","set":{"state":"HIBERNATING","service_deployment_status":"NEW","status_details":{"action":"SCALE"},"deployment_request_id":null,"brand_new":{"x":1}},"remove":["steps","last_deployment_date","execution_id"]}"#,
    );
    let s = result.unwrap();
    assert_eq!(s.state.as_str(), "HIBERNATING");
    assert_eq!(
        s.service_deployment_status.as_ref().map(|v| v.as_str()),
        Some("NEW")
    );
    assert_eq!(
        s.status_details.action.as_ref().map(|v| v.as_str()),
        Some("SCALE")
    );
    assert_eq!(s.deployment_request_id, None);
    assert_eq!(
        (
            s.steps.is_none(),
            s.last_deployment_date.is_none(),
            s.execution_id.is_none()
        ),
        (true, true, true)
    );
}

#[test]
fn transient_poll_failures_are_ridden_out_but_not_found_ends_the_wait() {
    let id = db("{}");
    mock().fault(&id, r#"{"on":"status","kind":"http","code":502,"times":4}"#);
    mock().fault(&id, r#"{"on":"status","kind":"reset","times":2}"#);
    let (result, _) = redeploy_and_wait(&id, fast_wait());
    assert_eq!(result.unwrap().state.as_str(), "DEPLOYED");

    let id = db(r#"{"tick_ms":60000}"#);
    mock().fault(&id, r#"{"on":"status","kind":"http","code":404}"#);
    let (result, _) = redeploy_and_wait(&id, fast_wait());
    assert_eq!(result.unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn a_redeploy_during_a_deployment_is_queued() {
    let id = db(r#"{"tick_ms":60000}"#);
    let c = client();
    let first = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    let second = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    assert!(
        second.deployment_requests_count > first.deployment_requests_count,
        "{:?} then {:?}",
        first.deployment_requests_count,
        second.deployment_requests_count
    );
    assert_ne!(first.deployment_request_id, second.deployment_request_id);
}

#[test]
fn apply_immediately_and_the_user_agent_reach_the_server() {
    let id = db("{}");
    let c = Client::builder()
        .token(TOKEN)
        .base_url(&mock().url)
        .user_agent("my-ci/1.2")
        .build()
        .unwrap();
    c.redeploy_database(
        &id,
        RedeployOptions {
            apply_immediately: Some(true),
            ..Default::default()
        },
    )
    .unwrap();
    let log = mock().requests(&id)["log"].clone();
    let entry = &log[0];
    assert!(
        entry["query"].to_string().contains("applyImmediately=true"),
        "{entry}"
    );
    assert_eq!(entry["user_agent"], "my-ci/1.2");
}

#[test]
fn a_server_closing_idle_connections_costs_no_duplicate() {
    let id = db("{}");
    mock().fault(&id, r#"{"on":"redeploy","kind":"keepalive_close"}"#);
    let c = client();
    c.redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    c.redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    assert_eq!(mock().counts(&id).0, 2);
}

// ---------------------------------------------------------------------------------------
// The remembered accepted redeploy: a `wait_for_database` without `accepted` waits
// for the deployment the client last had accepted for that database, not the previous one;
// clones share the memory; an interrupted `redeploy_and_wait` can be resumed; the memory is
// dropped once a wait saw the deployment end.

#[test]
fn a_wait_without_accepted_waits_for_the_remembered_redeploy() {
    // The server keeps showing the previous deployment's DEPLOYED for 4 polls.
    let id = db(r#"{"stale_polls":4}"#);
    let c = client();
    let previous = c.database_status(&id).unwrap().deployment_request_id;
    assert!(c.accepted_redeploy(&id).is_none());
    let accepted = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    assert_eq!(c.accepted_redeploy(&id).as_ref(), Some(&accepted));
    // A clone shares the memory.
    let other = c.clone();
    let final_ = other.wait_for_database(&id, fast_wait()).unwrap();
    assert_eq!(final_.state.as_str(), "DEPLOYED");
    assert_eq!(
        final_.deployment_request_id, accepted.deployment_request_id,
        "the wait ended on the previous deployment ({previous:?})"
    );
    assert_ne!(final_.deployment_request_id, previous);
    let (_, polls) = mock().counts(&id);
    // The status read before, the 4 stale ones, then ours.
    assert!(polls >= 6, "{polls} status polls");
    // Seen to end: forgotten, so the next wait is the plain "first final state" one.
    assert!(c.accepted_redeploy(&id).is_none());
    let again = c.wait_for_database(&id, fast_wait()).unwrap();
    assert_eq!(again.deployment_request_id, accepted.deployment_request_id);
}

#[test]
fn an_interrupted_redeploy_and_wait_can_be_resumed() {
    let id = db(r#"{"tick_ms":300,"stale_polls":2}"#);
    let c = client();
    let cancel = CancelToken::new();
    let reported = AtomicUsize::new(0);
    let mut on_progress = |_: &qovery_redeploy::Progress<'_>| {
        // The accepted status is reported first: stop right after it (as a Ctrl-C would).
        if reported.fetch_add(1, Ordering::SeqCst) == 0 {
            cancel.cancel();
        }
        std::ops::ControlFlow::Continue(())
    };
    let err = c
        .redeploy_and_wait(
            &id,
            RedeployOptions::default(),
            WaitOptions {
                on_progress: Some(&mut on_progress),
                cancel: Some(&cancel),
                ..fast_wait()
            },
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled);
    let accepted = c
        .accepted_redeploy(&id)
        .expect("the accepted redeploy is remembered");
    assert!(accepted.deployment_request_id.is_some());
    assert_eq!(mock().counts(&id).0, 1);
    // Resumed: waits through the stale DEPLOYED for that same deployment, no second POST.
    let final_ = c.wait_for_database(&id, fast_wait()).unwrap();
    assert_eq!(final_.deployment_request_id, accepted.deployment_request_id);
    assert_eq!(mock().counts(&id).0, 1);
    assert!(c.accepted_redeploy(&id).is_none());
}

#[test]
fn a_timed_out_wait_keeps_the_memory_and_forget_drops_it() {
    let id = db(r#"{"tick_ms":2000}"#);
    let c = client();
    let accepted = c
        .redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    let err = c
        .wait_for_database(
            &id,
            WaitOptions {
                timeout: Duration::from_millis(400),
                ..fast_wait()
            },
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WaitTimeout);
    assert_eq!(c.accepted_redeploy(&id).as_ref(), Some(&accepted));
    c.forget_accepted_redeploy(&id);
    assert!(c.accepted_redeploy(&id).is_none());
    // Unrelated databases and invalid ids have nothing remembered.
    assert!(c.accepted_redeploy(&new_db()).is_none());
    assert!(c.accepted_redeploy("not-an-id").is_none());
}

#[test]
fn a_failed_deployment_is_forgotten_too() {
    let id = db(r#"{"outcome":"DEPLOYMENT_ERROR"}"#);
    let c = client();
    c.redeploy_database(&id, RedeployOptions::default())
        .unwrap();
    let err = c.wait_for_database(&id, fast_wait()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::DeploymentFailed);
    assert!(c.accepted_redeploy(&id).is_none());
}
