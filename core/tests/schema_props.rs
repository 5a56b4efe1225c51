//! Bodies generated from the API's own `Status` schema parse, whatever the schema
//! allows.
//!
//! The strategies are built at run time from the committed schema
//! (`tests/data/status-schema.json`) by the generator in `tests/data/schema_gen.rs`, shared
//! with the C ABI's property test (`ffi/tests/schema_props.rs`); see there for what it
//! writes: everything the schema allows, plus extra properties and unknown enum strings.
//!
//! Every body must parse, with the body's `state`, its `raw_json` byte for byte, and every
//! field whose value is valid for its Rust type intact (checked against `serde_json::Value`).
//! `PROPTEST_CASES` overrides the number of bodies (default 4000).

use proptest::prelude::*;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use qovery_redeploy::DeploymentStatus;
use serde_json::Value;

// The generator, shared with the C ABI's property test (ffi/tests/schema_props.rs).
#[path = "../../tests/data/schema_gen.rs"]
mod schema_gen;
use schema_gen::body_strategy;

/// The checks on one body: it parses, keeps `state` and the raw body, and every field whose
/// value fits its Rust type is intact.
fn check(body: &str) -> Result<(), TestCaseError> {
    let v: Value = serde_json::from_str(body).expect("the generator writes JSON");
    let s = DeploymentStatus::from_json(body)
        .map_err(|e| TestCaseError::fail(format!("{e}\nbody: {body}")))?;
    prop_assert_eq!(s.state.as_str(), v["state"].as_str().unwrap());
    prop_assert_eq!(s.raw_json(), body);
    prop_assert!(!s.accepted_unreadable());
    prop_assert_eq!(
        s.deployment_requests_count,
        v["deployment_requests_count"].as_i64()
    );
    let uuid_of = |x: &Value| x.as_str().and_then(|t| uuid::Uuid::parse_str(t).ok());
    prop_assert_eq!(s.id, uuid_of(&v["id"]));
    prop_assert_eq!(
        s.deployment_request_id,
        uuid_of(&v["deployment_request_id"])
    );
    prop_assert_eq!(
        s.is_part_last_deployment,
        v["is_part_last_deployment"].as_bool()
    );
    prop_assert_eq!(s.execution_id.as_deref(), v["execution_id"].as_str());
    prop_assert_eq!(
        s.status_details.action.as_ref().map(|a| a.as_str()),
        v["status_details"]["action"].as_str()
    );
    match (&s.steps, v["steps"].as_object()) {
        (Some(steps), Some(o)) => {
            prop_assert_eq!(steps.total_duration_sec, o["total_duration_sec"].as_i64());
            let details = o["details"].as_array().unwrap();
            prop_assert_eq!(steps.details.len(), details.len());
            for (d, want) in steps.details.iter().zip(details) {
                prop_assert_eq!(d.duration_sec, want["duration_sec"].as_i64());
            }
        }
        (None, None) => {}
        (got, want) => prop_assert!(false, "steps {got:?} for {want:?}"),
    }
    if let Some(text) = v["last_deployment_date"].as_str() {
        // Every date the generator writes is valid RFC 3339 within time's range.
        prop_assert!(s.last_deployment_date.is_some(), "date {text} lost");
    }
    // The typed view round-trips.
    let again = DeploymentStatus::from_json(&s.to_json())
        .map_err(|e| TestCaseError::fail(format!("to_json does not parse back: {e}")))?;
    prop_assert_eq!(again, s);
    Ok(())
}

#[test]
fn bodies_generated_from_the_schema_parse_with_their_state() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let strategy = body_strategy();
    let bytes = std::cell::Cell::new(0usize);
    runner
        .run(&strategy, |body| {
            bytes.set(bytes.get() + body.len());
            check(&body)
        })
        .unwrap();
    eprintln!(
        "schema_props: {cases} bodies ({} KiB) parsed in {:.2} s",
        bytes.get() / 1024,
        started.elapsed().as_secs_f64()
    );
}

/// The generator itself: what it writes is JSON, and every property kind appears.
#[test]
fn the_generator_covers_what_the_schema_allows() {
    let mut runner = TestRunner::deterministic();
    let strategy = body_strategy();
    let (mut negative, mut beyond_i64, mut null_total, mut no_steps, mut extra, mut unknown) =
        (0, 0, 0, 0, 0, 0);
    for _ in 0..500 {
        let body = strategy.new_tree(&mut runner).unwrap().current();
        let v: Value = serde_json::from_str(&body).unwrap();
        let count = &v["deployment_requests_count"];
        negative += count.as_i64().is_some_and(|n| n < 0) as u32;
        beyond_i64 += (count.is_number() && count.as_i64().is_none()) as u32;
        null_total += v["steps"]["total_duration_sec"].is_null() as u32;
        no_steps += v.get("steps").is_none() as u32;
        extra += v.as_object().unwrap().keys().any(|k| {
            !k.contains("deploy")
                && !["id", "state", "steps", "execution_id", "status_details"].contains(&k.as_str())
        }) as u32;
        unknown += !qovery_redeploy::State::KNOWN.contains(&v["state"].as_str().unwrap()) as u32;
    }
    for (what, n) in [
        ("negative counts", negative),
        ("counts beyond i64", beyond_i64),
        ("null total_duration_sec", null_total),
        ("absent steps", no_steps),
        ("extra properties", extra),
        ("unknown states", unknown),
    ] {
        assert!(n > 10, "only {n} bodies with {what} in 500");
    }
}
