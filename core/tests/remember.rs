//! The client remembers the redeploy it last had accepted per database (issue 12): a
//! `wait_for_database` without `accepted` waits for that deployment, not the previous one,
//! clones share the memory, an interrupted `redeploy_and_wait` can be resumed, and the memory
//! is dropped once a wait saw the deployment end.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use common::*;
use qovery_redeploy::{CancelToken, Client, ErrorKind, RedeployOptions, WaitOptions};

fn mock() -> &'static Mock {
    static MOCK: OnceLock<Mock> = OnceLock::new();
    MOCK.get_or_init(|| Mock::start(&["--tick-ms", "60"]))
}

fn client() -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(&mock().url)
        .request_timeout(Duration::from_millis(1500))
        .deadline(Duration::from_secs(10))
        .build()
        .unwrap()
}

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
    let mut on_progress = |_: &qovery_redeploy::DeploymentStatus| {
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
