//! The Qovery API surface: auth, routing, Status bodies, the deployment clock.

mod common;

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

#[test]
fn url_line_only_stdout_and_no_token_in_logs() {
    let secret = "s3cret-token-value";
    let (mut m, stderr) = Mock::spawn(
        &["--port", "0", "--token", secret, "--database", DB],
        Stdio::piped(),
    );
    let port: u16 = m
        .url
        .strip_prefix("http://127.0.0.1:")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    let h = m.control("GET", "/_mock/health", None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json(), json!({"ok": true}));
    let auth = format!("Bearer {secret}");
    let r = m.req(
        "POST",
        &format!("/database/{DB}/redeploy"),
        Some(&auth),
        None,
    );
    assert_eq!(r.status, 202);
    let bad = m.req(
        "GET",
        &format!("/database/{DB}/status"),
        Some("Token wrong-s3cret"),
        None,
    );
    assert_eq!(bad.status, 401);
    let log = m.requests(DB).to_string();
    assert!(
        !log.contains(secret) && !log.contains("wrong-s3cret"),
        "{log}"
    );
    m.kill();
    let mut rest = String::new();
    m.stdout.take().unwrap().read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "stdout must only carry the URL line");
    let mut err = String::new();
    stderr.unwrap().read_to_string(&mut err).unwrap();
    assert!(err.contains("listening on"), "{err}");
    assert!(err.contains("/redeploy"), "request lines are logged: {err}");
    assert!(
        !err.contains(secret) && !err.contains("wrong-s3cret"),
        "{err}"
    );
}

#[test]
fn auth_schemes_and_tokens() {
    let m = Mock::start(&["--token", "alpha", "--token", "beta", "--database", DB]);
    let path = format!("/database/{DB}/status");
    let r = m.req("GET", &path, None, None);
    assert_eq!(r.status, 401);
    let j = r.json();
    assert_eq!(j["status"], 401);
    assert!(j["detail"].is_string());
    for bad in [
        "Token gamma",
        "Bearer",
        "Basic YWxwaGE6",
        "alpha",
        "Token qovery-mock-token",
    ] {
        assert_eq!(m.req("GET", &path, Some(bad), None).status, 401, "{bad}");
    }
    for good in [
        "Token alpha",
        "Bearer beta",
        "bearer alpha",
        "TOKEN beta",
        "Token   alpha  ",
    ] {
        assert_eq!(m.req("GET", &path, Some(good), None).status, 200, "{good}");
    }
    // unauthorised requests are counted, with the scheme but never the token
    let log = m.requests(DB);
    assert_eq!(log["status"], 11);
    let entries = log["log"].as_array().unwrap();
    assert_eq!(entries[0]["auth_scheme"], Value::Null);
    assert_eq!(entries[0]["authorized"], false);
    assert_eq!(entries[1]["auth_scheme"], "Token");
    assert_eq!(entries[3]["auth_scheme"], "other");
    assert_eq!(entries[4]["auth_scheme"], "other");
    assert_eq!(entries[6]["auth_scheme"], "Token");
    assert_eq!(entries[6]["authorized"], true);
    assert_eq!(entries[7]["auth_scheme"], "Bearer");
    assert_eq!(entries[7]["authorized"], true);
    assert_eq!(entries[7]["user_agent"], "mock-tests/1");
    let text = log.to_string();
    assert!(!text.contains("alpha") && !text.contains("gamma") && !text.contains("YWxwaGE6"));

    // default token when none is given
    let d = Mock::start(&["--database", DB]);
    assert_eq!(d.status(DB).status, 200);
}

#[test]
fn routing_and_client_errors() {
    let m = Mock::start(&["--database", DB]);
    let auth = format!("Token {TOKEN}");
    let a = Some(auth.as_str());
    let r = m.req("GET", &format!("/database/{DB2}/status"), a, None);
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["status"], 404);
    assert!(r.json()["detail"].as_str().unwrap().contains(DB2));
    assert_eq!(m.redeploy(DB2).status, 404);

    let r = m.req("POST", "/database/not-a-uuid/redeploy", a, None);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["status"], 400);
    assert!(r.json()["detail"].is_string());

    assert_eq!(m.req("GET", "/database", a, None).status, 404);
    assert_eq!(
        m.req("GET", &format!("/database/{DB}"), a, None).status,
        404
    );
    assert_eq!(
        m.req("GET", &format!("/database/{DB}/deploy"), a, None)
            .status,
        404
    );
    assert_eq!(m.req("GET", "/", a, None).status, 404);
    let r = m.req("GET", &format!("/database/{DB}/redeploy"), a, None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = m.req("DELETE", &format!("/database/{DB}/status"), a, None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET"));

    // applyImmediately: recorded; junk rejected
    let p = format!("/database/{DB}/redeploy?applyImmediately=true");
    assert_eq!(m.req("POST", &p, a, None).status, 202);
    assert_eq!(m.requests(DB)["last_apply_immediately"], true);
    let p = format!("/database/{DB}/redeploy?applyImmediately=false");
    assert_eq!(m.req("POST", &p, a, None).status, 202);
    assert_eq!(m.requests(DB)["last_apply_immediately"], false);
    let p = format!("/database/{DB}/redeploy?applyImmediately=maybe");
    assert_eq!(m.req("POST", &p, a, None).status, 400);
    let log = m.requests(DB);
    assert_eq!(log["log"][0]["query"], "applyImmediately=true");
    assert_eq!(log["redeploy"], 3);

    // upper-case ids are the same database
    assert_eq!(m.status(&DB.to_uppercase()).json()["id"], DB);
}

fn assert_status_shape(j: &Value, id: &str) {
    let keys: BTreeSet<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = [
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
    ]
    .into();
    assert_eq!(keys, want, "{j}");
    assert_eq!(j["id"], id);
    assert!(j["state"].is_string());
    let date = j["last_deployment_date"].as_str().unwrap();
    assert_eq!(date.len(), 20, "{date}");
    assert!(date.ends_with('Z') && &date[10..11] == "T");
    assert_eq!(j["is_part_last_deployment"], true);
    assert!(j["steps"]["total_computing_duration_sec"].is_u64());
    assert!(j["steps"]["details"].is_array());
    assert!(j["steps"].get("total_duration_sec").is_some());
    assert!(j["execution_id"].is_string());
    assert_eq!(j["status_details"]["action"], "DEPLOY");
    assert_eq!(j["status_details"]["sub_action"], "NONE");
    assert!(j["status_details"]["status"].is_string());
    assert!(j["deployment_requests_count"].is_u64());
}

#[test]
fn redeploy_body_has_every_field() {
    let m = Mock::start(&["--database", DB]);
    let before = m.status(DB);
    assert_eq!(before.status, 200);
    assert_eq!(before.header("content-type"), Some("application/json"));
    let b = before.json();
    assert_status_shape(&b, DB);
    assert_eq!(b["state"], "DEPLOYED");
    assert_eq!(b["service_deployment_status"], "UP_TO_DATE");
    assert_eq!(b["deployment_requests_count"], 0);
    assert_eq!(b["status_details"]["status"], "SUCCESS");
    assert!(b["steps"]["total_duration_sec"].is_u64());
    let prev_id = b["deployment_request_id"].as_str().unwrap().to_string();
    assert_eq!(prev_id.len(), 36);

    let r = m.redeploy(DB);
    assert_eq!(r.status, 202);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let j = r.json();
    assert_status_shape(&j, DB);
    assert_eq!(j["state"], "QUEUED");
    assert_eq!(j["service_deployment_status"], "OUT_OF_DATE");
    assert_eq!(j["status_details"]["status"], "QUEUED");
    assert_eq!(j["steps"]["total_duration_sec"], Value::Null);
    assert_eq!(j["deployment_requests_count"], 1);
    let id = j["deployment_request_id"].as_str().unwrap();
    assert_ne!(id, prev_id);
    assert_eq!(&id[14..15], "4", "uuid v4: {id}");
    assert_ne!(j["execution_id"], b["execution_id"]);
    // a fresh id per request
    let again = m.redeploy(DB).json();
    assert_ne!(again["deployment_request_id"], j["deployment_request_id"]);
}

#[test]
fn state_progression_with_small_tick() {
    let m = Mock::start(&["--database", DB, "--tick-ms", "80"]);
    let r = m.redeploy(DB).json();
    let rid = r["deployment_request_id"].clone();
    let order = ["QUEUED", "DEPLOYMENT_QUEUED", "DEPLOYING", "DEPLOYED"];
    let mut seen = vec!["QUEUED".to_string()];
    let last = poll(200, Duration::from_millis(15), || {
        let s = m.status(DB).json();
        assert_status_shape(&s, DB);
        assert_eq!(s["deployment_request_id"], rid);
        let st = s["state"].as_str().unwrap().to_string();
        if seen.last() != Some(&st) {
            seen.push(st.clone());
        }
        (st == "DEPLOYED").then_some(s)
    })
    .expect("reached DEPLOYED");
    let idx: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).expect("known state"))
        .collect();
    assert!(idx.windows(2).all(|w| w[0] < w[1]), "order {seen:?}");
    assert!(seen.len() >= 3, "saw intermediate states {seen:?}");
    assert_eq!(last["service_deployment_status"], "UP_TO_DATE");
    assert_eq!(last["status_details"]["status"], "SUCCESS");
    assert_eq!(last["deployment_requests_count"], 0);
    assert!(last["steps"]["total_duration_sec"].is_u64());
    let steps: Vec<&str> = last["steps"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["step_name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["DEPLOYMENT_QUEUEING", "DEPLOYMENT"]);
}

#[test]
fn redeploy_while_in_progress_is_queued() {
    let m = Mock::start(&["--database", DB, "--tick-ms", "150"]);
    let r1 = m.redeploy(DB).json();
    let r2 = m.redeploy(DB).json();
    assert_eq!(r1["deployment_requests_count"], 1);
    assert_eq!(r2["deployment_requests_count"], 2);
    assert_ne!(r1["deployment_request_id"], r2["deployment_request_id"]);
    let s = m.status(DB).json();
    assert_eq!(s["deployment_request_id"], r1["deployment_request_id"]);
    assert_eq!(s["deployment_requests_count"], 2);
    // the second starts over from QUEUED once the first is done
    let s2 = poll(300, Duration::from_millis(10), || {
        let s = m.status(DB).json();
        (s["deployment_request_id"] == r2["deployment_request_id"]).then_some(s)
    })
    .expect("second deployment runs");
    assert_ne!(
        s2["state"], "DEPLOYED",
        "second one restarts the progression"
    );
    assert_eq!(s2["deployment_requests_count"], 1);
    let done = poll(300, Duration::from_millis(10), || {
        let s = m.status(DB).json();
        (s["state"] == "DEPLOYED").then_some(s)
    })
    .expect("finished");
    assert_eq!(done["deployment_request_id"], r2["deployment_request_id"]);
    assert_eq!(done["deployment_requests_count"], 0);
}

#[test]
fn outcome_custom_states_and_any_database() {
    let m = Mock::start(&["--any-database", "--tick-ms", "30"]);
    m.put_db(
        DB,
        json!({"outcome": "DEPLOYMENT_ERROR", "states": ["QUEUED", "FUTURE_STATE_X", "DEPLOYING"]}),
    );
    m.redeploy(DB);
    let mut saw_future = false;
    let s = poll(300, Duration::from_millis(5), || {
        let s = m.status(DB).json();
        saw_future |= s["state"] == "FUTURE_STATE_X";
        (s["state"] == "DEPLOYMENT_ERROR").then_some(s)
    })
    .expect("failed deployment");
    assert!(saw_future);
    assert_eq!(s["status_details"]["status"], "ERROR");
    assert_eq!(s["service_deployment_status"], "OUT_OF_DATE");
    assert_eq!(s["steps"]["details"][1]["status"], "ERROR");

    // auto-created on first use
    let r = m.status(DB2);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["state"], "DEPLOYED");
    assert_eq!(
        m.redeploy("11111111-2222-4333-8444-555555555555").status,
        202
    );
    assert_eq!(
        m.req(
            "GET",
            "/database/nope/status",
            Some("Token qovery-mock-token"),
            None
        )
        .status,
        400
    );
}

#[test]
fn stale_polls_show_previous_terminal_state() {
    let m = Mock::start(&["--tick-ms", "0"]);
    m.put_db(DB, json!({"stale_polls": 2}));
    let prev = m.status(DB).json()["deployment_request_id"].clone();
    let r = m.redeploy(DB).json();
    for _ in 0..2 {
        let s = m.status(DB).json();
        assert_eq!(s["deployment_request_id"], prev);
        assert_eq!(s["state"], "DEPLOYED");
        assert_eq!(s["deployment_requests_count"], 0);
    }
    let s = m.status(DB).json();
    assert_eq!(s["deployment_request_id"], r["deployment_request_id"]);
}

#[test]
fn null_request_id() {
    let m = Mock::start(&[]);
    m.put_db(DB, json!({"null_request_id": true, "tick_ms": 0}));
    let r = m.redeploy(DB).json();
    assert!(r.get("deployment_request_id").is_some());
    assert_eq!(r["deployment_request_id"], Value::Null);
    let s = m.status(DB).json();
    assert!(s.get("deployment_request_id").is_some());
    assert_eq!(s["deployment_request_id"], Value::Null);
}

#[test]
fn config_file() {
    let path = temp_path("config.json");
    std::fs::write(
        &path,
        json!({
            "tokens": ["from-file"],
            "tick_ms": 0,
            "databases": {
                DB: {"outcome": "CANCELED", "faults": [{"on": "status", "kind": "http", "code": 503}]},
                DB2: {}
            }
        })
        .to_string(),
    )
    .unwrap();
    let m = Mock::start(&["--config", path.to_str().unwrap(), "--token", "from-cli"]);
    let a = Some("Token from-file");
    let st = format!("/database/{DB}/status");
    assert_eq!(m.req("GET", &st, a, None).status, 503);
    assert_eq!(m.req("GET", &st, Some("Bearer from-cli"), None).status, 200);
    assert_eq!(
        m.req("GET", &st, Some("Token qovery-mock-token"), None)
            .status,
        401
    );
    assert_eq!(
        m.req("POST", &format!("/database/{DB}/redeploy"), a, None)
            .status,
        202
    );
    assert_eq!(m.req("GET", &st, a, None).json()["state"], "CANCELED");
    assert_eq!(
        m.req("GET", &format!("/database/{DB2}/status"), a, None)
            .status,
        200
    );
    let _ = std::fs::remove_file(&path);

    // bad files and flags fail fast without leaking values
    std::fs::write(&path, r#"{"tokens": "leaky-secret"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qovery-mock"))
        .args(["--port", "0", "--config", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tokens") && !err.contains("leaky-secret"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_qovery-mock"))
        .args(["--host", "0.0.0.0", "--port", "0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "non-loopback bind must be refused");
}

#[test]
fn ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; skipped");
        return;
    }
    let m = Mock::start(&["--host", "::1", "--database", DB]);
    assert!(m.url.starts_with("http://[::1]:"), "{}", m.url);
    assert_eq!(m.status(DB).status, 200);
}

#[test]
fn fast_mode_keep_alive() {
    let m = Mock::start(&["--fast", "--database", DB]);
    let mut c = m.connect();
    let auth = format!("Token {TOKEN}");
    for i in 0..50 {
        c.send(
            "POST",
            &format!("/database/{DB}/redeploy"),
            &[("Authorization", &auth)],
            None,
        );
        let r = c.read_response().unwrap();
        assert_eq!(r.status, 202, "request {i}");
        let j = r.json();
        assert_status_shape(&j, DB);
        c.send(
            "GET",
            &format!("/database/{DB}/status"),
            &[("Authorization", &auth)],
            None,
        );
        let s = c.read_response().unwrap().json();
        assert_eq!(s["state"], "DEPLOYED", "deployments complete immediately");
        assert_eq!(s["deployment_request_id"], j["deployment_request_id"]);
    }
    let log = m.requests(DB);
    assert_eq!(log["redeploy"], 50);
    assert_eq!(log["status"], 50);
}
