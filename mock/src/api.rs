//! The Qovery API endpoints: `POST /database/{id}/redeploy` and
//! `GET /database/{id}/status`, with auth, counters and fault selection.

use std::time::{Instant, SystemTime};

use crate::body::{default_detail, error_new, error_old, html_page, patch};
use crate::faults::{take, ErrorStyle, Fault, FaultKind, ReqKind};
use crate::http::{Request, Response};
use crate::ids::parse_uuid;
use crate::state::{App, LogEntry, MAX_LOG, MAX_STATS_IDS};
use crate::timefmt;

/// How a response is put on the wire.
#[derive(Debug)]
pub enum Delivery {
    Normal,
    SlowHeaders(u64),
    SlowBody(u64),
    Truncated,
    /// RST (SO_LINGER 0) without answering.
    Reset,
    /// FIN without answering.
    Close,
    /// These bytes verbatim, then FIN.
    Raw(Vec<u8>),
    KeepaliveClose,
    Huge {
        bytes: u64,
        content_length: bool,
    },
}

#[derive(Debug)]
pub struct Reply {
    pub resp: Response,
    pub delivery: Delivery,
    /// Name of the fault that shaped this reply, if any (for the log).
    pub fault: Option<&'static str>,
}

impl Reply {
    pub fn normal(resp: Response) -> Reply {
        Reply {
            resp,
            delivery: Delivery::Normal,
            fault: None,
        }
    }

    /// The status code the client sees, if it sees one.
    pub fn visible_status(&self) -> Option<u16> {
        match self.delivery {
            Delivery::Reset | Delivery::Close | Delivery::Raw(_) => None,
            _ => Some(self.resp.code),
        }
    }
}

/// `Token <t>` / `Bearer <t>` (scheme case-insensitive). Returns the scheme
/// as logged (`"other"` for anything else, never the header itself) and
/// whether the token is accepted.
fn check_auth(app: &App, req: &Request) -> (Option<&'static str>, bool) {
    let Some(h) = req.header("authorization") else {
        return (None, false);
    };
    let (scheme, rest) = h.split_once([' ', '\t']).unwrap_or((h, ""));
    let scheme = if scheme.eq_ignore_ascii_case("token") {
        "Token"
    } else if scheme.eq_ignore_ascii_case("bearer") {
        "Bearer"
    } else {
        return (Some("other"), false);
    };
    (Some(scheme), app.is_authorized_token(rest.trim()))
}

/// Spring-style boolean conversion for `applyImmediately`.
fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn shorten(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn error(code: u16, detail: &str) -> Response {
    Response::json(code, error_new(code, detail))
}

/// Handles one redeploy/status request.
pub fn handle(app: &App, kind: ReqKind, raw_id: &str, req: &Request) -> Reply {
    let (scheme, authorized) = check_auth(app, req);
    let id = parse_uuid(raw_id);
    let now = Instant::now();
    let mut inner = app.lock();
    let inner = &mut *inner;
    let mut fault_name = None;

    let mut reply = 'reply: {
        if !authorized {
            break 'reply Reply::normal(
                error(401, default_detail(401)).header("WWW-Authenticate", "Token, Bearer"),
            );
        }
        let Some(id) = id.as_deref() else {
            break 'reply Reply::normal(error(
                400,
                &format!("Invalid UUID string: {}", shorten(raw_id)),
            ));
        };
        let apply = match (kind, req.query_param("applyImmediately")) {
            (ReqKind::Redeploy, Some(v)) if !v.is_empty() => match parse_bool(v) {
                Some(b) => Some(b),
                None => {
                    break 'reply Reply::normal(error(
                        400,
                        &format!(
                            "Failed to convert value of type 'String' to required type 'Boolean'; Invalid boolean value [{}]",
                            shorten(v)
                        ),
                    ))
                }
            },
            _ => None,
        };
        if !inner.dbs.contains_key(id) && app.any_database {
            let db = app.new_db(id, Default::default());
            inner.dbs.insert(id.to_string(), db);
        }
        let Some(db) = inner.dbs.get_mut(id) else {
            break 'reply Reply::normal(error(404, &format!("Database {id} not found")));
        };
        if kind == ReqKind::Redeploy {
            db.last_apply_immediately = apply;
        }
        let fault = take(&mut db.faults, kind);
        fault_name = fault.as_ref().map(|f| f.kind.name());
        let process = match &fault {
            Some(f) => f.process,
            None => true,
        };
        let normal = if process {
            let mut out = Vec::with_capacity(1024);
            Some(match kind {
                ReqKind::Redeploy => {
                    db.redeploy(now, &mut out);
                    Response::json(202, out)
                }
                ReqKind::Status => {
                    db.status(now, true, &mut out);
                    Response::json(200, out)
                }
            })
        } else {
            None
        };
        match fault {
            None => Reply::normal(normal.unwrap_or_else(|| error(500, "no response"))),
            Some(f) => faulted(f, normal, id, &req.path),
        }
    };

    reply.fault = fault_name;
    if let Some(id) = id {
        if inner.stats.len() < MAX_STATS_IDS || inner.stats.contains_key(&id) {
            let st = inner.stats.entry(id).or_default();
            match kind {
                ReqKind::Redeploy => st.redeploy += 1,
                ReqKind::Status => st.status += 1,
            }
            if !app.fast {
                if st.log.len() >= MAX_LOG {
                    st.log.pop_front();
                }
                st.log.push_back(LogEntry {
                    time: SystemTime::now(),
                    method: req.method.clone(),
                    path: req.path.clone(),
                    query: req.query.clone(),
                    auth_scheme: scheme,
                    authorized,
                    user_agent: req.header("user-agent").map(|u| shorten(u).to_string()),
                    fault: fault_name,
                    response_status: reply.visible_status(),
                });
            }
        }
    }
    reply
}

/// Builds the answer for a request that hit a fault. `normal` is the regular
/// answer when the request was processed.
fn faulted(f: Fault, processed: Option<Response>, id: &str, path: &str) -> Reply {
    let normal = move || processed.unwrap_or_else(|| error(500, "fault needs a processed request"));
    let with = |resp: Response, delivery: Delivery| Reply {
        resp,
        delivery,
        fault: None,
    };
    match f.kind {
        FaultKind::Http {
            code,
            style,
            detail,
            headers,
        } => {
            let detail = detail.as_deref().unwrap_or(default_detail(code));
            let (content_type, body) = match style {
                _ if code == 204 || code == 304 => (None, Vec::new()),
                ErrorStyle::New => (Some(crate::http::JSON), error_new(code, detail)),
                ErrorStyle::Old => (Some(crate::http::JSON), error_old(code, detail, path)),
                ErrorStyle::None => (None, Vec::new()),
                ErrorStyle::Html => (Some("text/html"), html_page(code)),
            };
            Reply::normal(Response {
                code,
                content_type,
                headers,
                body,
                close: false,
            })
        }
        FaultKind::RateLimit {
            retry_after,
            detail,
        } => {
            let reset = timefmt::unix_secs(SystemTime::now()) + 60;
            let mut r = error(429, detail.as_deref().unwrap_or(default_detail(429)))
                .header("X-RateLimit-Limit", "1000")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", reset.to_string());
            if let Some(ra) = retry_after {
                r = r.header("Retry-After", ra);
            }
            Reply::normal(r)
        }
        FaultKind::SlowHeaders { delay_ms } => with(normal(), Delivery::SlowHeaders(delay_ms)),
        FaultKind::SlowBody { delay_ms } => with(normal(), Delivery::SlowBody(delay_ms)),
        FaultKind::TruncatedBody => with(normal(), Delivery::Truncated),
        FaultKind::Reset | FaultKind::ResetBefore => with(Response::unsent(), Delivery::Reset),
        FaultKind::Close => with(Response::unsent(), Delivery::Close),
        FaultKind::MalformedJson { body } => {
            let mut r = normal();
            r.body = match body {
                Some(b) => b.into_bytes(),
                None => format!("{{\"id\": \"{id}\", \"state\": ").into_bytes(),
            };
            Reply::normal(r)
        }
        FaultKind::HugeBody {
            bytes,
            content_length,
        } => with(
            normal(),
            Delivery::Huge {
                bytes,
                content_length,
            },
        ),
        FaultKind::Patch { set, remove } => {
            let mut r = normal();
            r.body = patch(&r.body, set.as_ref(), &remove);
            Reply::normal(r)
        }
        FaultKind::Redirect { code, location } => Reply::normal(Response {
            code,
            content_type: None,
            headers: vec![("Location".into(), location)],
            body: Vec::new(),
            close: false,
        }),
        FaultKind::Raw { bytes } => with(Response::unsent(), Delivery::Raw(bytes.into_bytes())),
        FaultKind::KeepaliveClose => with(normal(), Delivery::KeepaliveClose),
    }
}
