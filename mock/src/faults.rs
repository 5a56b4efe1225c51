//! Fault descriptions (parsed from JSON) and the per-database fault queue.

use std::collections::VecDeque;

use serde_json::{json, Value};

use crate::jsonutil::Obj;

/// Which API requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum On {
    Redeploy,
    Status,
    Any,
}

/// The kind of API request being answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqKind {
    Redeploy,
    Status,
}

/// How an error body is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `{"status": 500, "detail": "..."}`
    New,
    /// `{"status","error","message","timestamp","path"}`
    Old,
    /// Empty body.
    None,
    /// nginx-like HTML page.
    Html,
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    Http {
        code: u16,
        style: ErrorStyle,
        detail: Option<String>,
        headers: Vec<(String, String)>,
    },
    RateLimit {
        retry_after: Option<String>,
        detail: Option<String>,
    },
    SlowHeaders {
        delay_ms: u64,
    },
    SlowBody {
        delay_ms: u64,
    },
    TruncatedBody,
    Reset,
    ResetBefore,
    Close,
    MalformedJson {
        body: Option<String>,
    },
    HugeBody {
        bytes: u64,
        content_length: bool,
    },
    Patch {
        set: Option<Value>,
        remove: Vec<String>,
    },
    Redirect {
        code: u16,
        location: String,
    },
    Raw {
        bytes: String,
    },
    KeepaliveClose,
}

/// Delays are capped so that a typo cannot park a thread for days.
const MAX_DELAY_MS: u64 = 600_000;

impl FaultKind {
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Http { .. } => "http",
            FaultKind::RateLimit { .. } => "rate_limit",
            FaultKind::SlowHeaders { .. } => "slow_headers",
            FaultKind::SlowBody { .. } => "slow_body",
            FaultKind::TruncatedBody => "truncated_body",
            FaultKind::Reset => "reset",
            FaultKind::ResetBefore => "reset_before",
            FaultKind::Close => "close",
            FaultKind::MalformedJson { .. } => "malformed_json",
            FaultKind::HugeBody { .. } => "huge_body",
            FaultKind::Patch { .. } => "patch",
            FaultKind::Redirect { .. } => "redirect",
            FaultKind::Raw { .. } => "raw",
            FaultKind::KeepaliveClose => "keepalive_close",
        }
    }

    /// Whether the request is processed (a redeploy starts, a stale poll is
    /// consumed) when the fault does not say otherwise.
    fn default_process(&self) -> bool {
        match self {
            FaultKind::Http { code, .. } => (200..300).contains(code),
            FaultKind::RateLimit { .. }
            | FaultKind::Redirect { .. }
            | FaultKind::Raw { .. }
            | FaultKind::ResetBefore => false,
            _ => true,
        }
    }

    /// Kinds whose answer replaces the normal one may override `process`;
    /// the others need the normal answer (or are defined by the spec).
    fn process_overridable(&self) -> bool {
        matches!(
            self,
            FaultKind::Http { .. }
                | FaultKind::RateLimit { .. }
                | FaultKind::Redirect { .. }
                | FaultKind::Raw { .. }
        )
    }
}

#[derive(Clone, Debug)]
pub struct Fault {
    pub on: On,
    /// `None` = always; otherwise how many more matching requests it applies to.
    pub remaining: Option<u64>,
    pub process: bool,
    pub kind: FaultKind,
    /// The JSON it was created from (echoed by `GET /_mock/databases/{id}/faults`).
    source: Value,
}

fn check_header_value(what: &str, v: &str) -> Result<(), String> {
    if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(format!("{what} must not contain CR, LF or NUL"));
    }
    Ok(())
}

fn check_header_name(n: &str) -> Result<(), String> {
    let ok = !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("invalid header name {n:?}"))
    }
}

fn delay(o: &mut Obj, kind: &str) -> Result<u64, String> {
    let d = o
        .uint("delay_ms")?
        .ok_or_else(|| format!("fault {kind} needs delay_ms"))?;
    if d > MAX_DELAY_MS {
        return Err(format!("delay_ms must be <= {MAX_DELAY_MS}"));
    }
    Ok(d)
}

impl Fault {
    /// One fault object, or a list of them.
    pub fn parse_many(v: &Value) -> Result<Vec<Fault>, String> {
        match v {
            Value::Array(items) => items.iter().map(Fault::parse).collect(),
            _ => Fault::parse(v).map(|f| vec![f]),
        }
    }

    pub fn parse(v: &Value) -> Result<Fault, String> {
        let mut o = Obj::new("fault", v)?;
        let on = match o.string("on")?.as_deref() {
            None | Some("any") => On::Any,
            Some("redeploy") => On::Redeploy,
            Some("status") => On::Status,
            Some(other) => {
                return Err(format!(
                    "fault.on must be \"redeploy\", \"status\" or \"any\", not {other:?}"
                ))
            }
        };
        let always = o.boolean("always")?.unwrap_or(false);
        let times = o.uint("times")?;
        let remaining = match (always, times) {
            (true, None | Some(0)) => None,
            (true, Some(_)) => {
                return Err("fault: \"always\": true cannot be combined with times > 0".into())
            }
            (false, Some(0)) => {
                return Err("fault.times must be >= 1 (or use \"always\": true)".into())
            }
            (false, t) => Some(t.unwrap_or(1)),
        };
        let process = o.boolean("process")?;
        let kind_name = o
            .string("kind")?
            .ok_or_else(|| "fault.kind is required".to_string())?;
        let kind = match kind_name.as_str() {
            "http" => {
                let code = o.uint("code")?.unwrap_or(500);
                if !(200..=599).contains(&code) {
                    return Err("fault.code must be between 200 and 599".into());
                }
                let style = match o.string("style")?.as_deref() {
                    None | Some("new") => ErrorStyle::New,
                    Some("old") => ErrorStyle::Old,
                    Some("none") => ErrorStyle::None,
                    Some("html") => ErrorStyle::Html,
                    Some(s) => {
                        return Err(format!(
                            "fault.style must be new, old, none or html, not {s:?}"
                        ))
                    }
                };
                let detail = o.string("detail")?;
                let mut headers = Vec::new();
                if let Some(h) = o.get("headers") {
                    let Value::Object(map) = h else {
                        return Err("fault.headers must be an object of strings".into());
                    };
                    for (k, v) in map {
                        let Value::String(v) = v else {
                            return Err("fault.headers values must be strings".into());
                        };
                        check_header_name(k)?;
                        check_header_value("header value", v)?;
                        headers.push((k.clone(), v.clone()));
                    }
                }
                FaultKind::Http {
                    code: code as u16,
                    style,
                    detail,
                    headers,
                }
            }
            "rate_limit" => {
                let retry_after = o.string("retry_after")?;
                if let Some(r) = &retry_after {
                    check_header_value("retry_after", r)?;
                }
                FaultKind::RateLimit {
                    retry_after,
                    detail: o.string("detail")?,
                }
            }
            "slow_headers" => FaultKind::SlowHeaders {
                delay_ms: delay(&mut o, "slow_headers")?,
            },
            "slow_body" => FaultKind::SlowBody {
                delay_ms: delay(&mut o, "slow_body")?,
            },
            "truncated_body" => FaultKind::TruncatedBody,
            "reset" => FaultKind::Reset,
            "reset_before" => FaultKind::ResetBefore,
            "close" => FaultKind::Close,
            "malformed_json" => FaultKind::MalformedJson {
                body: o.string("body")?,
            },
            "huge_body" => FaultKind::HugeBody {
                bytes: o.uint("bytes")?.unwrap_or(8 << 20),
                content_length: o.boolean("content_length")?.unwrap_or(true),
            },
            "patch" => {
                let set = o.get("set").cloned();
                if let Some(s) = &set {
                    if !s.is_object() {
                        return Err("fault.set must be an object".into());
                    }
                }
                FaultKind::Patch {
                    set,
                    remove: o.string_list("remove")?.unwrap_or_default(),
                }
            }
            "redirect" => {
                let code = o.uint("code")?.unwrap_or(302);
                if !(300..=399).contains(&code) {
                    return Err("fault.code for a redirect must be between 300 and 399".into());
                }
                let location = o
                    .string("location")?
                    .ok_or_else(|| "fault redirect needs location".to_string())?;
                check_header_value("location", &location)?;
                FaultKind::Redirect {
                    code: code as u16,
                    location,
                }
            }
            "raw" => FaultKind::Raw {
                bytes: o
                    .string("bytes")?
                    .ok_or_else(|| "fault raw needs bytes".to_string())?,
            },
            "keepalive_close" => FaultKind::KeepaliveClose,
            other => return Err(format!("unknown fault kind {other:?}")),
        };
        o.finish()?;
        let process = match process {
            None => kind.default_process(),
            Some(p) if kind.process_overridable() => p,
            Some(_) => {
                return Err(format!(
                    "fault.process cannot be set for kind {:?}",
                    kind.name()
                ))
            }
        };
        Ok(Fault {
            on,
            remaining,
            process,
            kind,
            source: v.clone(),
        })
    }

    fn matches(&self, k: ReqKind) -> bool {
        match self.on {
            On::Any => true,
            On::Redeploy => k == ReqKind::Redeploy,
            On::Status => k == ReqKind::Status,
        }
    }

    /// The original JSON plus the number of uses left (`null` = always).
    pub fn to_json(&self) -> Value {
        let mut v = self.source.clone();
        if let Value::Object(m) = &mut v {
            m.insert("remaining".into(), json!(self.remaining));
        }
        v
    }
}

/// Takes the first queued fault that matches `k` (queue order), consuming one
/// use of it; faults that are used up leave the queue.
pub fn take(queue: &mut VecDeque<Fault>, k: ReqKind) -> Option<Fault> {
    let idx = queue.iter().position(|f| f.matches(k))?;
    let f = &mut queue[idx];
    match &mut f.remaining {
        None => Some(f.clone()),
        Some(n) => {
            *n = n.saturating_sub(1);
            if *n == 0 {
                queue.remove(idx)
            } else {
                Some(f.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: Value) -> VecDeque<Fault> {
        Fault::parse_many(&v).unwrap().into()
    }

    #[test]
    fn consumption_order_and_matching() {
        let mut queue = q(json!([
            {"on": "status", "kind": "http", "code": 503, "times": 2},
            {"on": "redeploy", "kind": "reset"},
            {"kind": "close"}
        ]));
        let f = take(&mut queue, ReqKind::Redeploy).unwrap();
        assert_eq!(f.kind.name(), "reset");
        assert!(f.process);
        assert_eq!(
            take(&mut queue, ReqKind::Status).unwrap().kind.name(),
            "http"
        );
        assert_eq!(
            take(&mut queue, ReqKind::Status).unwrap().kind.name(),
            "http"
        );
        assert_eq!(
            take(&mut queue, ReqKind::Status).unwrap().kind.name(),
            "close"
        );
        assert!(take(&mut queue, ReqKind::Status).is_none());
        assert!(queue.is_empty());
    }

    #[test]
    fn always_is_never_used_up() {
        let mut queue = q(json!({"kind": "http", "code": 502, "style": "html", "always": true}));
        for _ in 0..5 {
            let f = take(&mut queue, ReqKind::Redeploy).unwrap();
            assert!(!f.process);
        }
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].to_json()["remaining"], Value::Null);
    }

    #[test]
    fn rejects_bad_faults() {
        for bad in [
            json!({"kind": "nope"}),
            json!({}),
            json!({"kind": "http", "code": 99}),
            json!({"kind": "http", "style": "xml"}),
            json!({"kind": "http", "times": 0}),
            json!({"kind": "http", "colour": "red"}),
            json!({"kind": "http", "headers": {"X-A": "b\r\nInjected: 1"}}),
            json!({"kind": "http", "headers": {"bad name": "x"}}),
            json!({"kind": "slow_body"}),
            json!({"kind": "reset", "process": false}),
            json!({"kind": "redirect"}),
            json!({"kind": "raw"}),
            json!({"kind": "patch", "set": [1]}),
            json!({"on": "delete", "kind": "close"}),
            json!("close"),
        ] {
            assert!(Fault::parse_many(&bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn process_defaults() {
        let p = |v: Value| Fault::parse(&v).unwrap().process;
        assert!(!p(json!({"kind": "http", "code": 500})));
        assert!(p(json!({"kind": "http", "code": 202})));
        assert!(p(json!({"kind": "http", "code": 504, "process": true})));
        assert!(!p(json!({"kind": "reset_before"})));
        assert!(p(json!({"kind": "close"})));
        assert!(!p(json!({"kind": "rate_limit", "retry_after": "2"})));
    }
}
