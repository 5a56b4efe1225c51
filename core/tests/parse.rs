//! The API's own history, replayed through the parser: the seed documentation's example,
//! every state added since 2024, a made-up future API, both error body shapes, nulls and
//! missing optional fields.

use qovery_redeploy::{
    DeploymentStatus, ErrorKind, ServiceAction, ServiceActionStatus, ServiceDeploymentStatus,
    ServiceSubAction, State, StepName, StepStatus,
};

const SEED: &str = include_str!("fixtures/seed-status.json");
const FUTURE: &str = include_str!("fixtures/future-status.json");
const MINIMAL: &str = include_str!("fixtures/minimal-status.json");

fn with_state(state: &str) -> String {
    SEED.replace(
        "\"state\": \"BUILDING\"",
        &format!("\"state\": \"{state}\""),
    )
}

#[test]
fn seed_example_body_parses_field_by_field() {
    let s = DeploymentStatus::from_json(SEED).unwrap();
    assert_eq!(
        s.id.map(|u| u.to_string()).as_deref(),
        Some("3c90c3cc-0d44-4b50-8888-8dd25736052a")
    );
    assert_eq!(s.state, State::Building);
    assert_eq!(
        s.service_deployment_status,
        Some(ServiceDeploymentStatus::NeverDeployed)
    );
    assert_eq!(s.is_part_last_deployment, Some(true));
    assert_eq!(s.status_details.action, Some(ServiceAction::Deploy));
    assert_eq!(s.status_details.status, Some(ServiceActionStatus::Queued));
    assert_eq!(s.status_details.sub_action, Some(ServiceSubAction::None));
    assert_eq!(
        s.deployment_request_id.map(|u| u.to_string()).as_deref(),
        Some("3c90c3cc-0d44-4b50-8888-8dd25736052a")
    );
    assert_eq!(s.deployment_requests_count, Some(123));
    let date = s.last_deployment_date.unwrap();
    assert_eq!((date.year(), date.hour(), date.second()), (2023, 5, 56));
    let steps = s.steps.as_ref().unwrap();
    assert_eq!(steps.total_duration_sec, Some(123));
    assert_eq!(steps.total_computing_duration_sec, Some(123));
    assert_eq!(steps.details.len(), 1);
    assert_eq!(
        steps.details[0].step_name,
        Some(StepName::RegistryCreateRepository)
    );
    assert_eq!(steps.details[0].status, Some(StepStatus::Success));
    assert_eq!(steps.details[0].duration_sec, Some(123));
    assert_eq!(s.execution_id.as_deref(), Some("<string>"));
    assert_eq!(s.raw_json(), SEED);
    assert!(!s.accepted_unreadable());
    assert!(!s.is_terminal() && !s.is_success() && !s.is_failure());
}

#[test]
fn every_known_state_parses_to_a_known_variant() {
    for name in State::KNOWN {
        let s = DeploymentStatus::from_json(&with_state(name)).unwrap();
        assert!(s.state.is_known(), "{name}");
        assert_eq!(s.state.as_str(), *name);
    }
    assert_eq!(State::KNOWN.len(), 29);
}

#[test]
fn states_added_since_2024_are_known_and_not_terminal() {
    for (name, state) in [
        ("WAITING_RUNNING", State::WaitingRunning),
        ("WAITING_STOPPING", State::WaitingStopping),
        ("WAITING_DELETING", State::WaitingDeleting),
        ("WAITING_RESTARTING", State::WaitingRestarting),
        ("EXECUTING", State::Executing),
        ("UNAVAILABLE", State::Unavailable),
    ] {
        let s = DeploymentStatus::from_json(&with_state(name)).unwrap();
        assert_eq!(s.state, state);
        assert!(!s.is_success() && !s.is_failure(), "{name}");
    }
}

#[test]
fn outcome_helpers() {
    let cases = [
        ("DEPLOYED", true, false, true),
        ("DEPLOYMENT_ERROR", false, true, true),
        ("BUILD_ERROR", false, true, true),
        ("RESTART_ERROR", false, true, true),
        ("CANCELED", false, true, true),
        ("STOPPED", false, false, true),
        ("DELETED", false, false, true),
        ("RESTARTED", false, false, true),
        ("DEPLOYING", false, false, false),
        ("CANCELING", false, false, false),
        ("SOME_NEW_ERROR", false, true, true),
        ("SOME_NEW_STATE", false, false, false),
    ];
    for (name, success, failure, terminal) in cases {
        let s = DeploymentStatus::from_json(&with_state(name)).unwrap();
        assert_eq!(
            (s.is_success(), s.is_failure(), s.is_terminal()),
            (success, failure, terminal),
            "{name}"
        );
    }
}

#[test]
fn a_future_api_with_new_values_and_fields_parses_and_round_trips() {
    let s = DeploymentStatus::from_json(FUTURE).unwrap();
    assert_eq!(s.state.as_str(), "HIBERNATING");
    assert!(matches!(s.state, State::Unknown(_)));
    assert_eq!(
        s.service_deployment_status.as_ref().unwrap().as_str(),
        "PARTIALLY_UP_TO_DATE"
    );
    let details = &s.status_details;
    assert_eq!(details.action.as_ref().unwrap().as_str(), "SCALE");
    assert_eq!(details.status.as_ref().unwrap().as_str(), "THROTTLED");
    assert_eq!(
        details.sub_action.as_ref().unwrap().as_str(),
        "TERRAFORM_SOMETHING_NEW"
    );
    let step = &s.steps.as_ref().unwrap().details[0];
    assert_eq!(step.step_name.as_ref().unwrap().as_str(), "WARMUP");
    assert_eq!(step.status.as_ref().unwrap().as_str(), "PAUSED");
    assert_eq!(s.steps.as_ref().unwrap().total_duration_sec, None);
    assert_eq!(s.deployment_request_id, None);
    // Unknown values survive serialisation and a second parse unchanged.
    let again = DeploymentStatus::from_json(&s.to_json()).unwrap();
    assert_eq!(again, s);
    let value: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    assert_eq!(value["state"], "HIBERNATING");
    assert_eq!(value["status_details"]["action"], "SCALE");
    assert!(value.get("new_top_level_field").is_none());
    // The raw body keeps everything.
    assert!(s.raw_json().contains("new_top_level_field"));
}

#[test]
fn missing_optional_fields_and_null_request_id() {
    let s = DeploymentStatus::from_json(MINIMAL).unwrap();
    assert_eq!(s.state, State::Deployed);
    assert_eq!(s.last_deployment_date, None);
    assert_eq!(s.steps, None);
    assert_eq!(s.execution_id, None);
    assert_eq!(s.deployment_request_id, None);
    // sub_action has a schema default of NONE.
    assert_eq!(s.status_details.sub_action, Some(ServiceSubAction::None));
    let with_null = MINIMAL.replace(
        "\"deployment_requests_count\"",
        "\"deployment_request_id\":null,\"deployment_requests_count\"",
    );
    assert_eq!(
        DeploymentStatus::from_json(&with_null)
            .unwrap()
            .deployment_request_id,
        None
    );
}

#[test]
fn broken_bodies_are_decode_errors_naming_the_problem() {
    // Only what a caller decides on is load-bearing: the body must be a JSON object whose
    // `state` is a string.
    let missing_state = SEED.replace("\"state\": \"BUILDING\",", "");
    let null_state = SEED.replace("\"state\": \"BUILDING\"", "\"state\": null");
    let number_state = SEED.replace("\"state\": \"BUILDING\"", "\"state\": 7");
    let cases = [
        ("", "cut short"),
        ("null", "not a JSON object"),
        ("[]", "not a JSON object"),
        ("\"DEPLOYED\"", "not a JSON object"),
        ("{\"id\": ", "cut short"),
        ("<html>502 Bad Gateway</html>", "not JSON"),
        (missing_state.as_str(), "no `state`"),
        (null_state.as_str(), "`state` is not a string"),
        (number_state.as_str(), "`state` is not a string"),
    ];
    for (body, needle) in cases {
        let e = DeploymentStatus::from_json(body).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Decode, "{body}");
        assert!(e.to_string().contains(needle), "{body}: {e}");
    }
}

/// Fields out of range, of the wrong type or malformed read as unknown, the rest
/// intact. These bodies were decode errors before.
#[test]
fn fields_out_of_range_of_wrong_type_or_malformed_read_as_unknown() {
    let replace = |from: &str, to: &str| {
        assert!(SEED.contains(from), "{from}");
        SEED.replace(from, to)
    };
    let count = |v: &str| {
        replace(
            "\"deployment_requests_count\": 123",
            &format!("\"deployment_requests_count\": {v}"),
        )
    };
    for (v, want) in [
        ("-74768455", Some(-74768455)),
        ("-1", Some(-1)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("18446744073709551616", None),
        ("-99999999999999999999999", None),
        ("1.5", None),
        ("\"many\"", None),
        ("null", None),
        ("[1]", None),
        ("{}", None),
        ("true", None),
    ] {
        let s = DeploymentStatus::from_json(&count(v)).unwrap();
        assert_eq!(s.deployment_requests_count, want, "{v}");
        assert_eq!(s.state, State::Building);
        assert_eq!(s.steps.as_ref().unwrap().total_duration_sec, Some(123));
    }
    let s = DeploymentStatus::from_json(&replace(
        "\"id\": \"3c90c3cc-0d44-4b50-8888-8dd25736052a\"",
        "\"id\": \"not-a-uuid\"",
    ))
    .unwrap();
    assert_eq!((s.id, s.state.clone()), (None, State::Building));
    assert!(s.deployment_request_id.is_some());
    let s = DeploymentStatus::from_json(&replace("2023-11-07T05:31:56Z", "yesterday")).unwrap();
    assert_eq!(s.last_deployment_date, None);
    assert_eq!(s.deployment_requests_count, Some(123));
    let s = DeploymentStatus::from_json(&replace(
        "\"deployment_request_id\": \"3c90c3cc-0d44-4b50-8888-8dd25736052a\"",
        "\"deployment_request_id\": 42",
    ))
    .unwrap();
    assert_eq!(s.deployment_request_id, None);
    assert!(s.id.is_some());
    let s = DeploymentStatus::from_json(&replace(
        "\"is_part_last_deployment\": true",
        "\"is_part_last_deployment\": \"yes\"",
    ))
    .unwrap();
    assert_eq!(s.is_part_last_deployment, None);
    let s =
        DeploymentStatus::from_json(&replace("\"action\": \"DEPLOY\"", "\"action\": 3")).unwrap();
    assert_eq!(s.status_details.action, None);
    assert_eq!(s.status_details.status, Some(ServiceActionStatus::Queued));
    let s = DeploymentStatus::from_json(&replace(
        "\"total_duration_sec\": 123",
        "\"total_duration_sec\": -5",
    ))
    .unwrap();
    let steps = s.steps.unwrap();
    assert_eq!(
        (steps.total_duration_sec, steps.details.len()),
        (Some(-5), 1)
    );
    let s =
        DeploymentStatus::from_json(&replace("\"duration_sec\": 123", "\"duration_sec\": 1e400"))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.steps.unwrap().details[0].duration_sec, None);
    // Wholesale: every field but `state` missing.
    let s = DeploymentStatus::from_json("{\"state\":\"DEPLOYED\",\"x\":1}").unwrap();
    assert!(s.is_success());
    assert_eq!(
        (
            s.id,
            s.is_part_last_deployment,
            s.deployment_requests_count,
            s.steps
        ),
        (None, None, None, None)
    );
    assert_eq!(s.status_details, Default::default());
    // The raw body is kept as sent, and to_json round-trips the unknowns as null.
    let odd = count("-74768455");
    let s = DeploymentStatus::from_json(&odd).unwrap();
    assert_eq!(s.raw_json(), odd);
    assert_eq!(DeploymentStatus::from_json(&s.to_json()).unwrap(), s);
}

#[test]
fn a_state_given_twice_counts_once_the_last_winning() {
    let s = DeploymentStatus::from_json("{\"state\":\"QUEUED\",\"state\":\"DEPLOYED\"}").unwrap();
    assert_eq!(s.state, State::Deployed);
}

#[test]
fn deeply_nested_json_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = DeploymentStatus::from_json(&deep).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    let deep_field = SEED.replace(
        "\"execution_id\": \"<string>\"",
        &format!("\"extra\": {}1{}", "[".repeat(10_000), "]".repeat(10_000)),
    );
    // Deep nesting inside a field the model ignores is skipped without recursion trouble.
    let parsed = DeploymentStatus::from_json(&deep_field).map_err(|e| e.kind());
    assert_eq!(parsed.map(|s| s.state), Ok(State::Building));
}

#[test]
fn decode_errors_are_one_line_even_when_the_body_quotes_a_line_break() {
    // Found by fuzzing: the uuid crate quotes the offending character as it is.
    let e = DeploymentStatus::from_json("{\"id\":\"3c90c3cc-0d44-4b50-8888-8dd25736052\\n\"}")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert!(!e.to_string().contains('\n'), "{e}");
}

#[test]
fn summary_is_one_safe_line_for_every_shape() {
    let seed = DeploymentStatus::from_json(SEED).unwrap();
    assert_eq!(
        seed.summary(),
        "BUILDING (DEPLOY QUEUED, 123 requests queued)"
    );
    let minimal = DeploymentStatus::from_json(MINIMAL).unwrap();
    assert_eq!(minimal.summary(), "DEPLOYED (DEPLOY SUCCESS)");
    let future = DeploymentStatus::from_json(FUTURE).unwrap();
    assert_eq!(future.summary(), "HIBERNATING (SCALE THROTTLED)");
    let bare = DeploymentStatus::from_json(r#"{"state":"DEPLOYING"}"#).unwrap();
    assert_eq!(bare.summary(), "DEPLOYING (? ?)");
    let hostile =
        DeploymentStatus::from_json(&with_state("DEPLOY\\u001b]0;owned\\u0007ED\\r\\n")).unwrap();
    assert_eq!(
        hostile.summary(),
        "DEPLOY ]0;owned ED (DEPLOY QUEUED, 123 requests queued)"
    );
    let unreadable = DeploymentStatus::unreadable_accepted(b"<html>");
    assert!(unreadable.summary().starts_with("state unknown"));
}
