//! The control API under `/_mock/` (no auth, JSON in and out), and the same
//! operations for `MockServer`'s methods (one implementation for both).

use std::time::Instant;

use serde_json::{json, Value};

use crate::body::error_new;
use crate::config::DbConfig;
use crate::faults::Fault;
use crate::http::{Request, Response};
use crate::ids::parse_uuid;
use crate::state::{App, Db, Stats};
use crate::timefmt;

fn ok(code: u16, v: Value) -> Response {
    Response::json(code, serde_json::to_vec(&v).unwrap_or_default())
}

fn err(code: u16, detail: &str) -> Response {
    Response::json(code, error_new(code, detail))
}

fn method_not_allowed(allow: &str) -> Response {
    err(405, "Method Not Allowed").header("Allow", allow)
}

/// Parses a JSON request body; an empty body is `null`.
fn json_body(req: &Request) -> Result<Value, Response> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&req.body).map_err(|e| err(400, &format!("invalid JSON body: {e}")))
}

/// Snapshot of a database for `GET /_mock/databases/{id}`.
fn db_json(db: &mut Db) -> Value {
    let now = Instant::now();
    let mut status = Vec::new();
    db.status(now, false, &mut status);
    json!({
        "id": db.id,
        "config": db.cfg.to_json(),
        "faults": db.faults.iter().map(Fault::to_json).collect::<Vec<_>>(),
        "deployment_requests_count": db.pending(now),
        "deployments_started": db.deployments_started,
        "last_apply_immediately": db.last_apply_immediately,
        "status": serde_json::from_slice::<Value>(&status).unwrap_or(Value::Null),
    })
}

fn stats_json(st: Option<&Stats>, db: Option<&Db>) -> Value {
    let empty = Stats::default();
    let st = st.unwrap_or(&empty);
    json!({
        "redeploy": st.redeploy,
        "status": st.status,
        "last_apply_immediately": db.and_then(|d| d.last_apply_immediately),
        "log": st.log.iter().map(|e| json!({
            "time": timefmt::rfc3339_millis(e.time),
            "method": e.method,
            "path": e.path,
            "query": e.query,
            "auth_scheme": e.auth_scheme,
            "authorized": e.authorized,
            "user_agent": e.user_agent,
            "fault": e.fault,
            "response_status": e.response_status,
        })).collect::<Vec<_>>(),
    })
}

/// Registers (or replaces) a database: its counters start over. Returns whether
/// it existed and its snapshot.
pub fn put_database(app: &App, id: &str, cfg: DbConfig) -> (bool, Value) {
    let mut db = app.new_db(id, cfg);
    let v = db_json(&mut db);
    let mut inner = app.lock();
    let existed = inner.dbs.insert(id.to_owned(), db).is_some();
    inner.stats.remove(id);
    (existed, v)
}

/// Queues faults on a database (created first under `any_database`). Returns
/// (added, queued), or the 404 detail.
pub fn add_faults(app: &App, id: &str, faults: Vec<Fault>) -> Result<(usize, usize), String> {
    let mut inner = app.lock();
    if !inner.dbs.contains_key(id) && app.any_database {
        let db = app.new_db(id, DbConfig::default());
        inner.dbs.insert(id.to_owned(), db);
    }
    match inner.dbs.get_mut(id) {
        Some(db) => {
            let added = faults.len();
            db.faults.extend(faults);
            Ok((added, db.faults.len()))
        }
        None => Err(format!("Database {id} not found")),
    }
}

/// The request log and counters of a database id.
pub fn requests(app: &App, id: &str) -> Value {
    let inner = app.lock();
    stats_json(inner.stats.get(id), inner.dbs.get(id))
}

/// Forgets a database's request log and counters.
pub fn clear_requests(app: &App, id: &str) {
    app.lock().stats.remove(id);
}

/// Forgets a database and its counters; returns whether it existed.
pub fn delete_database(app: &App, id: &str) -> bool {
    let mut inner = app.lock();
    let existed = inner.dbs.remove(id).is_some();
    inner.stats.remove(id);
    existed
}

pub fn handle(app: &App, req: &Request) -> Response {
    let rest = req.path.strip_prefix("/_mock").unwrap_or_default();
    let m = req.method.as_str();
    match rest {
        "/health" => {
            return match m {
                "GET" => ok(200, json!({"ok": true})),
                _ => method_not_allowed("GET"),
            }
        }
        "/reset" => {
            return match m {
                "POST" => {
                    app.reset();
                    ok(200, json!({"ok": true}))
                }
                _ => method_not_allowed("POST"),
            }
        }
        "/tls" => {
            let Some(info) = app.tls_info.get() else {
                return err(404, "TLS is not enabled (start qovery-mock with --tls)");
            };
            return match m {
                "GET" => ok(200, info.clone()),
                _ => method_not_allowed("GET"),
            };
        }
        "/databases" => {
            return match m {
                "GET" => {
                    let mut inner = app.lock();
                    let mut ids: Vec<&mut Db> = inner.dbs.values_mut().collect();
                    ids.sort_by(|a, b| a.id.cmp(&b.id));
                    ok(200, json!(ids.into_iter().map(db_json).collect::<Vec<_>>()))
                }
                _ => method_not_allowed("GET"),
            }
        }
        _ => {}
    }
    let Some(rest) = rest.strip_prefix("/databases/") else {
        return err(404, "Unknown control endpoint");
    };
    let (raw_id, sub) = match rest.split_once('/') {
        Some((id, sub)) => (id, Some(sub)),
        None => (rest, None),
    };
    let Some(id) = parse_uuid(raw_id) else {
        return err(400, "Invalid UUID string");
    };
    match (sub, m) {
        (None, "GET") => match app.lock().dbs.get_mut(&id) {
            Some(db) => ok(200, db_json(db)),
            None => err(404, &format!("Database {id} not found")),
        },
        (None, "PUT") => {
            let cfg = match json_body(req)
                .and_then(|v| DbConfig::from_json(&v).map_err(|e| err(400, &e)))
            {
                Ok(c) => c,
                Err(r) => return r,
            };
            let (existed, v) = put_database(app, &id, cfg);
            ok(if existed { 200 } else { 201 }, v)
        }
        (None, "DELETE") => ok(200, json!({"deleted": delete_database(app, &id)})),
        (None, _) => method_not_allowed("GET, PUT, DELETE"),
        (Some("requests"), "GET") => ok(200, requests(app, &id)),
        (Some("requests"), "DELETE") => {
            clear_requests(app, &id);
            ok(200, json!({"ok": true}))
        }
        (Some("requests"), _) => method_not_allowed("GET, DELETE"),
        (Some("faults"), "POST") => {
            let faults = match json_body(req).and_then(|v| {
                if v.is_null() {
                    return Err(err(400, "expected a fault object or a list of faults"));
                }
                Fault::parse_many(&v).map_err(|e| err(400, &e))
            }) {
                Ok(f) => f,
                Err(r) => return r,
            };
            match add_faults(app, &id, faults) {
                Ok((added, queued)) => ok(200, json!({"added": added, "queued": queued})),
                Err(detail) => err(404, &detail),
            }
        }
        (Some("faults"), "GET") => match app.lock().dbs.get(&id) {
            Some(db) => ok(
                200,
                json!(db.faults.iter().map(Fault::to_json).collect::<Vec<_>>()),
            ),
            None => err(404, &format!("Database {id} not found")),
        },
        (Some("faults"), "DELETE") => match app.lock().dbs.get_mut(&id) {
            Some(db) => {
                db.faults.clear();
                ok(200, json!({"queued": 0}))
            }
            None => err(404, &format!("Database {id} not found")),
        },
        (Some("faults"), _) => method_not_allowed("GET, POST, DELETE"),
        _ => err(404, "Unknown control endpoint"),
    }
}
