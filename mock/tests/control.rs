//! The `/_mock/` control API.

mod common;

use common::*;

#[test]
fn databases_crud_and_reset() {
    let m = Mock::start(&["--database", DB, "--tick-ms", "0"]);
    assert_eq!(m.status(DB2).status, 404);
    let r = m.control(
        "PUT",
        &format!("/_mock/databases/{DB2}"),
        Some(json!({"outcome": "CANCELED"})),
    );
    assert_eq!(r.status, 201);
    let j = r.json();
    assert_eq!(j["id"], DB2);
    assert_eq!(j["config"]["outcome"], "CANCELED");
    assert_eq!(j["status"]["state"], "DEPLOYED");
    assert_eq!(m.redeploy(DB2).status, 202);
    assert_eq!(m.status(DB2).json()["state"], "CANCELED");
    assert_eq!(m.requests(DB2)["redeploy"], 1);

    // replace: state and counters reset
    let r = m.control("PUT", &format!("/_mock/databases/{DB2}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(m.requests(DB2)["redeploy"], 0);
    assert_eq!(m.status(DB2).json()["state"], "DEPLOYED");

    let list = m.control("GET", "/_mock/databases", None).json();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // reset forgets run-time changes, keeps the command-line database
    m.add_faults(DB, json!({"kind": "http", "code": 500, "always": true}));
    assert_eq!(m.status(DB).status, 500);
    let r = m.control("POST", "/_mock/reset", None);
    assert_eq!(r.status, 200);
    assert_eq!(m.status(DB).status, 200);
    assert_eq!(m.status(DB2).status, 404);
    assert_eq!(m.requests(DB)["status"], 1);

    let r = m.control("DELETE", &format!("/_mock/databases/{DB}"), None);
    assert_eq!(r.json(), json!({"deleted": true}));
    assert_eq!(m.status(DB).status, 404);
    assert_eq!(
        m.control("DELETE", &format!("/_mock/databases/{DB}"), None)
            .json(),
        json!({"deleted": false})
    );
    m.control("POST", "/_mock/reset", None);
    assert_eq!(m.status(DB).status, 200);
}

#[test]
fn control_validation() {
    let m = Mock::start(&["--database", DB]);
    let bad = |method: &str, path: &str, body: Option<&str>, code: u16| {
        let r = m.req(method, path, None, body);
        assert_eq!(r.status, code, "{method} {path} {body:?}: {}", r.text());
        assert_eq!(r.json()["status"], code);
    };
    let db = format!("/_mock/databases/{DB}");
    bad("PUT", &db, Some("{not json"), 400);
    bad("PUT", &db, Some(r#"{"outcome": 5}"#), 400);
    bad("PUT", &db, Some(r#"{"stale_poll": 1}"#), 400);
    bad("PUT", "/_mock/databases/xyz", Some("{}"), 400);
    bad(
        "POST",
        &format!("{db}/faults"),
        Some(r#"{"kind": "teleport"}"#),
        400,
    );
    bad(
        "POST",
        &format!("{db}/faults"),
        Some(r#"[{"kind": "close"}, {"kind": "http", "code": 42}]"#),
        400,
    );
    bad("POST", &format!("{db}/faults"), None, 400);
    bad(
        "POST",
        &format!("/_mock/databases/{DB2}/faults"),
        Some(r#"{"kind": "close"}"#),
        404,
    );
    bad("GET", "/_mock/nothing", None, 404);
    bad("POST", "/_mock/health", None, 405);
    bad("GET", "/_mock/reset", None, 405);
    bad("PATCH", &db, None, 405);
    // rejected fault lists add nothing
    let faults = m.control("GET", &format!("{db}/faults"), None).json();
    assert_eq!(faults, json!([]));
    // counters of an id never seen are zero
    let r = m.requests(DB2);
    assert_eq!(r["redeploy"], 0);
    assert_eq!(r["log"], json!([]));
}

#[test]
fn config_faults_and_initial_state_via_put() {
    let m = Mock::start(&["--tick-ms", "0"]);
    m.put_db(
        DB,
        json!({"initial_state": "READY", "faults": [{"on": "status", "kind": "http", "code": 403}]}),
    );
    assert_eq!(m.status(DB).status, 403);
    let j = m.status(DB).json();
    assert_eq!(j["state"], "READY");
    assert_eq!(j["service_deployment_status"], "NEVER_DEPLOYED");
    assert_eq!(j["deployment_request_id"], Value::Null);
    m.redeploy(DB);
    let j = m.status(DB).json();
    assert_eq!(j["state"], "DEPLOYED");
    assert_eq!(j["service_deployment_status"], "UP_TO_DATE");
    // DELETE requests clears counters
    assert_eq!(m.requests(DB)["status"], 3);
    m.control("DELETE", &format!("/_mock/databases/{DB}/requests"), None);
    assert_eq!(m.requests(DB)["status"], 0);
}
