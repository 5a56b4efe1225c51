//! Fault injection through the control API.

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use common::*;

fn redeploy_on(c: &mut Client) {
    c.send(
        "POST",
        &format!("/database/{DB}/redeploy"),
        &[("Authorization", &format!("Token {TOKEN}"))],
        None,
    );
}

fn status_on(c: &mut Client) {
    c.send(
        "GET",
        &format!("/database/{DB}/status"),
        &[("Authorization", &format!("Token {TOKEN}"))],
        None,
    );
}

/// Current deployment_request_id and pending count, without consuming faults.
fn peek(m: &Mock) -> (Value, Value) {
    let j = m
        .control("GET", &format!("/_mock/databases/{DB}"), None)
        .json();
    (
        j["status"]["deployment_request_id"].clone(),
        j["deployments_started"].clone(),
    )
}

#[test]
fn fault_queue_consumption_and_counters() {
    let m = Mock::start(&["--database", DB, "--tick-ms", "0"]);
    m.add_faults(
        DB,
        json!([
            {"on": "status", "kind": "http", "code": 503, "times": 2},
            {"on": "redeploy", "kind": "http", "code": 400, "detail": "ActionAlreadyInProgress: busy"},
            {"kind": "http", "code": 500, "style": "old", "detail": "boom"}
        ]),
    );
    m.add_faults(
        DB,
        json!({"on": "status", "kind": "http", "code": 502, "style": "html"}),
    );
    let listed = m
        .control("GET", &format!("/_mock/databases/{DB}/faults"), None)
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert_eq!(listed[0]["remaining"], 2);

    let (before, started0) = peek(&m);
    // status: 503, 503 (first fault used up), then the "any" 500 (old style)
    for _ in 0..2 {
        let r = m.status(DB);
        assert_eq!(r.status, 503);
        assert_eq!(
            r.json(),
            json!({"status": 503, "detail": "Service Unavailable"})
        );
    }
    // redeploy: the 400, which does NOT start a deployment
    let r = m.redeploy(DB);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["detail"], "ActionAlreadyInProgress: busy");
    assert_eq!(peek(&m), (before.clone(), started0.clone()));
    let r = m.status(DB);
    assert_eq!(r.status, 500);
    let j = r.json();
    assert_eq!(j["status"], 500);
    assert_eq!(j["error"], "Internal Server Error");
    assert_eq!(j["message"], "boom");
    assert_eq!(j["path"], format!("/database/{DB}/status"));
    assert!(j["timestamp"].is_string());
    let r = m.status(DB);
    assert_eq!(r.status, 502);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text().contains("502 Bad Gateway") && r.text().contains("nginx"));
    // queue empty: normal service again
    assert_eq!(m.status(DB).status, 200);
    assert_eq!(m.redeploy(DB).status, 202);
    assert!(m
        .control("GET", &format!("/_mock/databases/{DB}/faults"), None)
        .json()
        .as_array()
        .unwrap()
        .is_empty());

    let log = m.requests(DB);
    assert_eq!(log["redeploy"], 2);
    assert_eq!(log["status"], 5);
    let faults: Vec<Value> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fault"].clone())
        .collect();
    assert_eq!(faults[0], "http");
    assert_eq!(faults[6], Value::Null);
    let codes: Vec<Value> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response_status"].clone())
        .collect();
    assert_eq!(codes, [503, 503, 400, 500, 502, 200, 202].map(|c| json!(c)));
}

#[test]
fn always_faults_headers_and_process_override() {
    let m = Mock::start(&["--database", DB, "--tick-ms", "0"]);
    m.add_faults(
        DB,
        json!({"on": "redeploy", "kind": "http", "code": 504, "style": "none", "always": true,
               "process": true, "headers": {"X-Upstream": "gone"}}),
    );
    let (_, started0) = peek(&m);
    for _ in 0..3 {
        let r = m.redeploy(DB);
        assert_eq!(r.status, 504);
        assert!(r.body.is_empty());
        assert_eq!(r.header("x-upstream"), Some("gone"));
    }
    // process: true -> the deployments did start although the client saw 504s
    let (_, started) = peek(&m);
    assert_eq!(started.as_u64().unwrap(), started0.as_u64().unwrap() + 3);
    assert_eq!(m.status(DB).status, 200);
    let r = m.control("DELETE", &format!("/_mock/databases/{DB}/faults"), None);
    assert_eq!(r.status, 200);
    assert_eq!(m.redeploy(DB).status, 202);
}

#[test]
fn rate_limit() {
    let m = Mock::start(&["--database", DB]);
    m.add_faults(
        DB,
        json!([{"kind": "rate_limit", "retry_after": "2"}, {"kind": "rate_limit", "retry_after": "soon-ish"},
               {"kind": "rate_limit"}]),
    );
    let r = m.redeploy(DB);
    assert_eq!(r.status, 429);
    assert_eq!(
        r.json(),
        json!({"status": 429, "detail": "Too many requests"})
    );
    assert_eq!(r.header("retry-after"), Some("2"));
    assert_eq!(r.header("x-ratelimit-limit"), Some("1000"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r
        .header("x-ratelimit-reset")
        .unwrap()
        .parse::<u64>()
        .is_ok());
    assert_eq!(m.status(DB).header("retry-after"), Some("soon-ish"));
    let r = m.status(DB);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), None);
}

#[test]
fn reset_close_and_reset_before() {
    reset_close_and_reset_before_on(Mock::start(&["--database", DB, "--tick-ms", "0"]));
}

/// The same bytes, inside TLS.
#[test]
fn reset_close_and_reset_before_over_tls() {
    reset_close_and_reset_before_on(Mock::start_tls(&["--database", DB, "--tick-ms", "0"]));
}

fn reset_close_and_reset_before_on(m: Mock) {
    m.add_faults(
        DB,
        json!([{"on": "redeploy", "kind": "reset"}, {"on": "redeploy", "kind": "reset_before"},
               {"on": "redeploy", "kind": "close"}]),
    );
    let (id0, started0) = peek(&m);
    let started0 = started0.as_u64().unwrap();

    // reset: processed, then RST
    let mut c = m.connect();
    redeploy_on(&mut c);
    let mut buf = [0u8; 64];
    match c.stream.read(&mut buf) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
        Ok(n) => {
            assert_eq!(n, 0, "no answer expected");
            if cfg!(target_os = "linux") {
                panic!("expected a TCP reset, got EOF");
            }
        }
    }
    let (id1, started1) = peek(&m);
    assert_ne!(id1, id0, "the redeploy was processed");
    assert_eq!(started1.as_u64().unwrap(), started0 + 1);

    // reset_before: not processed
    let mut c = m.connect();
    redeploy_on(&mut c);
    assert!(c.read_response().is_err());
    assert_eq!(peek(&m).1.as_u64().unwrap(), started0 + 1);

    // close: processed, clean EOF without an answer
    let mut c = m.connect();
    redeploy_on(&mut c);
    assert_eq!(c.stream.read(&mut buf).unwrap(), 0);
    assert_eq!(peek(&m).1.as_u64().unwrap(), started0 + 2);
    let log = m.requests(DB);
    let codes: Vec<Value> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response_status"].clone())
        .collect();
    assert_eq!(codes, [Value::Null, Value::Null, Value::Null]);
}

#[test]
fn huge_body_with_and_without_content_length() {
    huge_body_with_and_without_content_length_on(Mock::start(&["--database", DB]));
}

/// The same bytes, inside TLS.
#[test]
fn huge_body_with_and_without_content_length_over_tls() {
    huge_body_with_and_without_content_length_on(Mock::start_tls(&["--database", DB]));
}

fn huge_body_with_and_without_content_length_on(m: Mock) {
    let n: usize = 3 * 1024 * 1024 + 7;
    m.add_faults(
        DB,
        json!([{"on": "status", "kind": "huge_body", "bytes": n},
               {"on": "status", "kind": "huge_body", "bytes": n, "content_length": false}]),
    );
    let mut c = m.connect();
    status_on(&mut c);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(n.to_string().as_str()));
    assert_eq!(r.body.len(), n);
    let j = r.json();
    assert_eq!(j["id"], DB);
    assert_eq!(j["state"], "DEPLOYED");
    assert!(j["padding"].as_str().unwrap().len() > n - 2000);
    // same keep-alive connection, chunked this time
    status_on(&mut c);
    let r = c.read_response().unwrap();
    assert_eq!(r.header("content-length"), None);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    assert_eq!(r.body.len(), n);
    assert_eq!(r.json()["id"], DB);
    // and the connection is still usable
    status_on(&mut c);
    assert!(c.read_response().unwrap().body.len() < 2000);
}

#[test]
fn patch_fault() {
    let m = Mock::start(&["--database", DB, "--tick-ms", "0"]);
    m.add_faults(
        DB,
        json!({"on": "status", "kind": "patch", "times": 2,
               "set": {"state": "SOME_FUTURE_STATE", "status_details": {"action": "NEW_ACTION"},
                       "service_deployment_status": null, "brand_new_field": [1, 2]},
               "remove": ["steps", "last_deployment_date", "status_details.sub_action"]}),
    );
    for _ in 0..2 {
        let j = m.status(DB).json();
        assert_eq!(j["state"], "SOME_FUTURE_STATE");
        assert_eq!(j["status_details"]["action"], "NEW_ACTION");
        assert_eq!(j["status_details"]["status"], "SUCCESS");
        assert!(j["status_details"].get("sub_action").is_none());
        assert!(j.get("steps").is_none() && j.get("last_deployment_date").is_none());
        assert!(j.get("service_deployment_status").unwrap().is_null());
        assert_eq!(j["brand_new_field"], json!([1, 2]));
        assert_eq!(j["id"], DB);
    }
    assert_eq!(m.status(DB).json()["state"], "DEPLOYED");
    // a patched redeploy still starts the deployment
    m.add_faults(
        DB,
        json!({"on": "redeploy", "kind": "patch", "remove": ["deployment_request_id"]}),
    );
    let j = m.redeploy(DB).json();
    assert!(j.get("deployment_request_id").is_none());
    assert_eq!(j["state"], "QUEUED");
}

#[test]
fn slow_truncated_malformed_raw_redirect_keepalive_close() {
    slow_truncated_malformed_raw_redirect_keepalive_close_on(Mock::start(&[
        "--database",
        DB,
        "--tick-ms",
        "0",
    ]));
}

/// The same bytes, inside TLS.
#[test]
fn slow_truncated_malformed_raw_redirect_keepalive_close_over_tls() {
    slow_truncated_malformed_raw_redirect_keepalive_close_on(Mock::start_tls(&[
        "--database",
        DB,
        "--tick-ms",
        "0",
    ]));
}

fn slow_truncated_malformed_raw_redirect_keepalive_close_on(m: Mock) {
    m.add_faults(
        DB,
        json!([
            {"on": "redeploy", "kind": "slow_headers", "delay_ms": 300},
            {"on": "status", "kind": "slow_body", "delay_ms": 300},
            {"on": "status", "kind": "truncated_body"},
            {"on": "status", "kind": "malformed_json"},
            {"on": "status", "kind": "raw", "bytes": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{\"id"},
            {"on": "status", "kind": "redirect", "code": 307, "location": "http://127.0.0.1:1/elsewhere"},
            {"on": "status", "kind": "keepalive_close"}
        ]),
    );
    // slow_headers: the redeploy is processed before the delay
    let (_, s0) = peek(&m);
    let mut c = m.connect();
    let t = Instant::now();
    redeploy_on(&mut c);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(peek(&m).1.as_u64().unwrap(), s0.as_u64().unwrap() + 1);
    let r = c.read_response().unwrap();
    assert!(elapsed_ms(t) >= 290, "{}", elapsed_ms(t));
    assert_eq!(r.status, 202);
    assert_eq!(r.json()["id"], DB);

    // slow_body: headers at once, body over ~300 ms
    let t = Instant::now();
    status_on(&mut c);
    let r = c.read_response().unwrap();
    assert!(elapsed_ms(t) >= 250, "{}", elapsed_ms(t));
    assert_eq!(r.json()["id"], DB);

    // truncated: full Content-Length, half the body, then EOF
    status_on(&mut c);
    let e = c.read_response().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");

    let mut c = m.connect();
    status_on(&mut c);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert!(r.text().starts_with("{\"id\": \""));

    // raw: verbatim, then closed
    status_on(&mut c);
    let r = c.read_response();
    assert!(r.is_err(), "5 bytes promised, 4 sent, then EOF");

    let mut c = m.connect();
    status_on(&mut c);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 307);
    assert_eq!(r.header("location"), Some("http://127.0.0.1:1/elsewhere"));

    // keepalive_close: a normal keep-alive answer, then the server closes
    status_on(&mut c);
    let r = c.read_response().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("connection"), None);
    assert!(c.is_closed());

    assert_eq!(m.status(DB).status, 200);
    let log = m.requests(DB);
    assert_eq!(log["status"], 7);
    assert_eq!(log["redeploy"], 1);
}
