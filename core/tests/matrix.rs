//! The fault matrix (`tests/matrix/cases.json`) through the Rust API.
//!
//! Every case runs against its own database on one `qovery-mock` (started with the matrix's
//! token), a raw TCP fault server, or a closed port, and is checked for its error kind, the
//! requests the server saw (a redeploy POST is never sent twice by the client), its time
//! bounds, and the token's absence (in any letter case) from the error's `Display`, `Debug`,
//! detail, and every log line the call produced (TRACE included). The same table drives the C
//! ABI (`tests/matrix/run_c.py`) and Python (`tests/python/test_matrix.py`); the rules are
//! written down in `tests/matrix/README.md`.
//!
//! A case marked `known_bug` that fails is reported (on stderr, even without
//! `--nocapture`) and does not fail the test; one that passes does, so the mark is removed
//! once the bug is fixed. `MATRIX_FILTER=substring` runs a subset.

mod common;

use std::io::Write as _;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use common::*;
use qovery_redeploy::{Client, DeploymentStatus, Error, RedeployOptions, WaitOptions};
use serde_json::{json, Map, Value};

const CASES: &str = include_str!("../../tests/matrix/cases.json");
/// Cases run at once: most of a case's time is spent waiting on a socket or a timer.
const WORKERS: usize = 4;

// ---------------------------------------------------------------------------------------
// Placeholders

/// Expands `${...}` in a string (see tests/matrix/README.md).
fn expand_str(text: &str, ctx: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').expect("unterminated ${ in cases.json");
        let name = &after[..end];
        if let Some(spec) = name.strip_prefix("REPEAT:") {
            let (n, unit) = spec.split_once(':').expect("REPEAT:N:text");
            out.push_str(&unit.repeat(n.parse().expect("REPEAT count")));
        } else if let Some(offset) = name.strip_prefix("HTTP_DATE:") {
            let secs: i64 = offset.parse().expect("HTTP_DATE:+N");
            let now = SystemTime::now();
            let when = if secs >= 0 {
                now + Duration::from_secs(secs as u64)
            } else {
                now - Duration::from_secs(secs.unsigned_abs())
            };
            out.push_str(&httpdate::fmt_http_date(when));
        } else {
            let value = ctx
                .get(name)
                .unwrap_or_else(|| panic!("unknown placeholder ${{{name}}}"));
            out.push_str(value.as_str().unwrap());
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn expand(value: &Value, ctx: &Map<String, Value>) -> Value {
    match value {
        Value::String(s) => Value::String(expand_str(s, ctx)),
        Value::Array(a) => Value::Array(a.iter().map(|v| expand(v, ctx)).collect()),
        Value::Object(o) => {
            Value::Object(o.iter().map(|(k, v)| (k.clone(), expand(v, ctx))).collect())
        }
        other => other.clone(),
    }
}

/// An input as bytes: a string, `{"hex": ...}`, or a list of those.
fn input_bytes(value: &Value, ctx: &Map<String, Value>) -> Vec<u8> {
    match value {
        Value::String(s) => expand_str(s, ctx).into_bytes(),
        Value::Array(parts) => parts.iter().flat_map(|p| input_bytes(p, ctx)).collect(),
        Value::Object(o) => {
            let hex = o["hex"].as_str().unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect()
        }
        other => panic!("bad input {other}"),
    }
}

/// Rust takes `&str`: bytes that are not UTF-8 cannot be passed at all, so the matrix passes
/// what a Rust caller would have after `String::from_utf8_lossy`.
fn as_rust_str(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------
// Raw TCP fault servers

fn raw_server(mode: &str, hold: Duration) -> RawServer {
    match mode {
        "ok" => RawServer::start(|_, mut s, seen| {
            while let Some(head) = read_request(&mut s, seen) {
                let body = if head.starts_with("POST ") {
                    status_body("QUEUED", "11111111-1111-4111-8111-111111111111")
                } else {
                    status_body("DEPLOYED", "11111111-1111-4111-8111-111111111111")
                };
                let line = if head.starts_with("POST ") {
                    "202 Accepted"
                } else {
                    "200 OK"
                };
                respond(&mut s, line, "", &body);
            }
        }),
        "silent" => RawServer::start(move |_, mut s, seen| {
            if read_request(&mut s, seen).is_some() {
                std::thread::sleep(hold);
            }
        }),
        "accept_silent" => RawServer::start(move |_, s, _| {
            std::thread::sleep(hold);
            drop(s);
        }),
        "reset_on_accept" => RawServer::start(|_, s, _| reset(s)),
        "close_on_accept" => RawServer::start(|_, s, _| drop(s)),
        other => panic!("unknown raw mode {other}"),
    }
}

fn closed_port_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

// ---------------------------------------------------------------------------------------
// One case

/// One call's result, in the matrix's language-neutral terms.
#[derive(Debug, Default)]
struct Outcome {
    kind: String,
    elapsed_ms: f64,
    http_status: Option<u16>,
    message: String,
    detail: Option<String>,
    debug: String,
    state: Option<String>,
    retry_after_ms: Option<u64>,
    logs: Vec<String>,
}

impl Outcome {
    fn of(result: Result<DeploymentStatus, Error>, started: Instant) -> Outcome {
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match result {
            // A redeploy answered 2xx with a body that could not be read: accepted.
            Ok(status) if status.accepted_unreadable() => Outcome {
                kind: "accepted".into(),
                elapsed_ms,
                state: Some(status.state.as_str().to_owned()),
                debug: format!("{status:?}"),
                ..Default::default()
            },
            Ok(status) => Outcome {
                kind: "ok".into(),
                elapsed_ms,
                state: Some(status.state.as_str().to_owned()),
                debug: format!("{status:?}"),
                ..Default::default()
            },
            Err(e) => Outcome {
                kind: e.kind().name().into(),
                elapsed_ms,
                http_status: e.http_status(),
                message: e.to_string(),
                detail: e.detail().map(str::to_owned),
                debug: format!("{e:?}"),
                state: e.status().map(|s| s.state.as_str().to_owned()),
                retry_after_ms: e.retry_after().map(|d| d.as_millis() as u64),
                logs: Vec::new(),
            },
        }
    }

    /// Every text a user might see, print or log.
    fn texts(&self) -> Vec<&str> {
        let mut t = vec![self.message.as_str(), self.detail.as_deref().unwrap_or("")];
        if self.kind != "ok" && self.kind != "accepted" {
            t.push(&self.debug); // a status's Debug is the server's data, not an error text
        }
        t.extend(self.logs.iter().map(String::as_str));
        t.into_iter().filter(|s| !s.is_empty()).collect()
    }
}

fn leaks(text: &str, token: &str) -> bool {
    text.to_lowercase().contains(&token.to_lowercase())
}

fn ms(v: &Value) -> Duration {
    Duration::from_millis(v.as_u64().unwrap())
}

struct Counts {
    posts: Option<u64>,
    gets: Option<u64>,
    connections: Option<u64>,
    request_lines: Vec<String>,
}

fn run_case(doc: &Value, case: &Value, mock: &Mock) -> (Vec<Outcome>, Counts) {
    let settings = &doc["settings"];
    let token = settings["token"].as_str().unwrap();
    let server = case["server"].as_str().unwrap_or("mock");
    let db = new_db();
    let mut ctx = Map::new();
    ctx.insert("TOKEN".into(), json!(token));
    ctx.insert("TOKEN_LOWER".into(), json!(token.to_lowercase()));
    ctx.insert("MOCK_URL".into(), json!(mock.url));
    ctx.insert(
        "MOCK_HTTPS_URL".into(),
        json!(mock.url.replacen("http://", "https://", 1)),
    );
    ctx.insert("DB".into(), json!(db));
    ctx.insert("NEW_UUID".into(), json!(new_db()));
    let mut raw = None;
    let default_url = match server {
        "mock" => {
            let config = expand(case.get("db_config").unwrap_or(&json!({})), &ctx);
            mock.configure(&db, &config.to_string());
            if let Some(faults) = case.get("faults") {
                mock.fault(&db, &expand(faults, &ctx).to_string());
            }
            mock.url.clone()
        }
        "raw" => {
            let hold = ms(&settings["raw_hold_ms"]);
            let r = raw_server(case["raw_mode"].as_str().unwrap(), hold);
            let url = r.url();
            raw = Some(r);
            url
        }
        "closed" => closed_port_url(),
        other => panic!("unknown server {other}"),
    };
    ctx.insert(
        "RAW_URL".into(),
        json!(raw
            .as_ref()
            .map_or("http://127.0.0.1:1".into(), |r| r.url())),
    );
    let input = case.get("input").cloned().unwrap_or(json!({}));
    let get = |key: &str, default: Value| input.get(key).cloned().unwrap_or(default);
    let database_id = as_rust_str(&input_bytes(&get("database_id", json!("${DB}")), &ctx));
    let token_in = as_rust_str(&input_bytes(&get("token", json!("${TOKEN}")), &ctx));
    let base_url = as_rust_str(&input_bytes(&get("base_url", json!(default_url)), &ctx));
    let user_agent = input
        .get("user_agent")
        .map(|v| as_rust_str(&input_bytes(v, &ctx)));
    let setting = |group: &str, key: &str| -> Value {
        case.get(group)
            .and_then(|g| g.get(key))
            .unwrap_or(&settings[group][key])
            .clone()
    };
    let repeat = case["repeat"].as_u64().unwrap_or(1);
    let pause = Duration::from_millis(case["pause_ms"].as_u64().unwrap_or(0));

    let mut outcomes = Vec::new();
    let started = Instant::now();
    let mut builder = Client::builder()
        .token(token_in)
        .base_url(base_url)
        .connect_timeout(ms(&setting("client", "connect_timeout_ms")))
        .request_timeout(ms(&setting("client", "request_timeout_ms")))
        .deadline(ms(&setting("client", "deadline_ms")))
        .max_retries(setting("client", "max_retries").as_u64().unwrap() as u32);
    if let Some(agent) = user_agent {
        builder = builder.user_agent(agent);
    }
    match builder.build() {
        Err(e) => outcomes.push(Outcome::of(Err(e), started)),
        Ok(client) => {
            for i in 0..repeat {
                if i > 0 {
                    std::thread::sleep(pause);
                }
                let started = Instant::now();
                let result = match case["call"].as_str().unwrap() {
                    "redeploy" => {
                        client.redeploy_database(&database_id, RedeployOptions::default())
                    }
                    "status" => client.database_status(&database_id),
                    "wait" => client.redeploy_and_wait(
                        &database_id,
                        RedeployOptions::default(),
                        WaitOptions {
                            timeout: ms(&setting("wait", "timeout_ms")),
                            poll_interval: ms(&setting("wait", "poll_interval_ms")),
                            settle_delay: ms(&setting("wait", "settle_delay_ms")),
                            ..Default::default()
                        },
                    ),
                    other => panic!("unknown call {other}"),
                };
                outcomes.push(Outcome::of(result, started));
            }
        }
    }
    if let Some(last) = outcomes.last_mut() {
        last.logs = take_logged_on_this_thread();
    }
    let counts = match (&raw, server) {
        (Some(r), _) => {
            let lines: Vec<String> = r
                .seen
                .heads
                .lock()
                .unwrap()
                .iter()
                .map(|h| h.lines().next().unwrap_or("").to_owned())
                .collect();
            Counts {
                posts: Some(lines.iter().filter(|l| l.starts_with("POST ")).count() as u64),
                gets: Some(lines.iter().filter(|l| l.starts_with("GET ")).count() as u64),
                connections: Some(r.seen.connections() as u64),
                request_lines: lines,
            }
        }
        (None, "mock") => {
            let count_id = uuid::Uuid::try_parse(&database_id)
                .map(|u| u.to_string())
                .unwrap_or(db);
            let (posts, gets) = mock.counts(&count_id);
            Counts {
                posts: Some(posts),
                gets: Some(gets),
                connections: None,
                request_lines: Vec::new(),
            }
        }
        _ => Counts {
            posts: None,
            gets: None,
            connections: None,
            request_lines: Vec::new(),
        },
    };
    (outcomes, counts)
}

fn in_range(got: u64, want: &Value) -> bool {
    match want {
        Value::Array(r) => r[0].as_u64().unwrap() <= got && got <= r[1].as_u64().unwrap(),
        v => v.as_u64() == Some(got),
    }
}

/// Every way the outcomes and counts differ from the case's expectations.
fn check(token: &str, case: &Value, outcomes: &[Outcome], counts: &Counts) -> Vec<String> {
    let e = &case["expect"];
    let mut bad = Vec::new();
    let kinds: Vec<&str> = match &e["kind"] {
        Value::Array(a) => a.iter().map(|k| k.as_str().unwrap()).collect(),
        k => vec![k.as_str().unwrap()],
    };
    for (i, o) in outcomes.iter().enumerate() {
        let at = if outcomes.len() > 1 {
            format!("call {}: ", i + 1)
        } else {
            String::new()
        };
        if !kinds.contains(&o.kind.as_str()) {
            let got = if o.kind == "ok" || o.kind == "accepted" {
                format!("ok (state {:?})", o.state)
            } else {
                format!("{} ({})", o.kind, o.message)
            };
            bad.push(format!(
                "{at}kind: expected {}, got {got}",
                kinds.join(" or ")
            ));
        }
        if let Some(want) = e.get("http_status") {
            if want.as_u64().map(|v| v as u16) != o.http_status {
                bad.push(format!(
                    "{at}http_status: expected {want}, got {:?}",
                    o.http_status
                ));
            }
        }
        if let Some(want) = e.get("detail") {
            if want.as_str() != o.detail.as_deref() {
                bad.push(format!("{at}detail: expected {want}, got {:?}", o.detail));
            }
        }
        if let Some(want) = e["detail_contains"].as_str() {
            if !o.detail.as_deref().unwrap_or("").contains(want) {
                bad.push(format!("{at}detail {:?} lacks {want:?}", o.detail));
            }
        }
        if let Some(want) = e["message_contains"].as_str() {
            if !o.message.contains(want) {
                bad.push(format!("{at}message {:?} lacks {want:?}", o.message));
            }
        }
        if let Some(want) = e["state"].as_str() {
            if o.state.as_deref() != Some(want) {
                bad.push(format!("{at}state: expected {want}, got {:?}", o.state));
            }
        }
        if let Some(want) = e.get("retry_after_ms") {
            if want.as_u64() != o.retry_after_ms {
                bad.push(format!(
                    "{at}retry_after_ms: expected {want}, got {:?}",
                    o.retry_after_ms
                ));
            }
        }
        let max = e["max_ms"].as_f64().unwrap();
        if o.elapsed_ms > max {
            bad.push(format!("{at}took {:.0} ms, bound {max} ms", o.elapsed_ms));
        }
        if let Some(min) = e["min_ms"].as_f64() {
            if o.elapsed_ms < min {
                bad.push(format!(
                    "{at}took {:.0} ms, expected at least {min} ms",
                    o.elapsed_ms
                ));
            }
        }
        if o.message.contains('\n') || o.message.contains('\r') {
            bad.push(format!("{at}the message is not one line: {:?}", o.message));
        }
        for text in o.texts() {
            if leaks(text, token) {
                bad.push(format!("{at}TOKEN LEAK in {text:?}"));
            }
        }
    }
    for (key, got) in [
        ("posts", counts.posts),
        ("gets", counts.gets),
        ("connections", counts.connections),
    ] {
        let Some(want) = e.get(key) else { continue };
        match got {
            Some(got) if !in_range(got, want) => {
                bad.push(format!("{key}: expected {want}, the server saw {got}"))
            }
            None if !(in_range(0, want)) => bad.push(format!(
                "{key}: expected {want}, but nothing counts them here"
            )),
            _ => {}
        }
    }
    if let Some(prefix) = e["request_path_prefix"].as_str() {
        for line in &counts.request_lines {
            let path = line.split(' ').nth(1).unwrap_or(line);
            if !path.starts_with(prefix) {
                bad.push(format!("request {line:?} does not start with {prefix:?}"));
            }
        }
    }
    bad
}

fn known_bug(case: &Value) -> Option<String> {
    match &case["known_bug"] {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("rust").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Written to the process's stderr directly: libtest captures `eprintln!`, not this.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[test]
fn fault_matrix() {
    capture_logs_by_thread();
    let doc: Value = serde_json::from_str(CASES).expect("cases.json is JSON");
    let token = doc["settings"]["token"].as_str().unwrap().to_owned();
    let filter = std::env::var("MATRIX_FILTER").unwrap_or_default();
    let cases: Vec<Value> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"].as_str().unwrap().contains(&filter))
        .cloned()
        .collect();
    let mut args = vec!["--token", token.as_str()];
    args.extend(
        doc["settings"]["mock_args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap()),
    );
    let mock = Mock::start(&args);

    struct Report {
        name: String,
        problems: Vec<String>,
        bug: Option<String>,
        texts: usize,
        leaked: usize,
    }
    let next = AtomicUsize::new(0);
    let reports: Mutex<Vec<Report>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let (outcomes, counts) = run_case(&doc, case, &mock);
                let problems = check(&token, case, &outcomes, &counts);
                let texts: Vec<&str> = outcomes.iter().flat_map(Outcome::texts).collect();
                let report = Report {
                    name: case["name"].as_str().unwrap().to_owned(),
                    problems,
                    bug: known_bug(case),
                    texts: texts.len(),
                    leaked: texts.iter().filter(|t| leaks(t, &token)).count(),
                };
                reports.lock().unwrap().push(report);
            });
        }
    });
    let took = started.elapsed();
    let reports = reports.into_inner().unwrap();
    let (mut passed, mut known, mut failed) = (0, Vec::new(), Vec::new());
    let mut texts = 0;
    let mut leaked_in_known = 0;
    for r in &reports {
        texts += r.texts;
        match (&r.bug, r.problems.is_empty()) {
            (None, true) => passed += 1,
            (Some(bug), false) => {
                leaked_in_known += r.leaked;
                say(&format!(
                    "KNOWN BUG {}: {bug}\n    {}",
                    r.name,
                    r.problems.join("\n    ")
                ));
                known.push(r.name.clone());
            }
            (None, false) => failed.push(format!("{}\n    {}", r.name, r.problems.join("\n    "))),
            (Some(bug), true) => failed.push(format!(
                "{}: marked known_bug ({bug}) but passes now: remove the mark",
                r.name
            )),
        }
    }
    // Any line logged outside a case's own thread (there should be none) is checked too.
    let stray = take_logged_on_this_thread();
    for line in &stray {
        if leaks(line, &token) {
            failed.push(format!("TOKEN LEAK in a log line: {line:?}"));
        }
    }
    say(&format!(
        "summary: matrix Rust: {} cases, {passed} passed, {} known bugs, {} failed; {texts} texts \
         checked for the token, {leaked_in_known} with it (in known-bug cases); {:.1} s",
        reports.len(),
        known.len(),
        failed.len(),
        took.as_secs_f64()
    ));
    assert!(
        failed.is_empty(),
        "{} matrix case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
