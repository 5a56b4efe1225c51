//! Fault descriptions (parsed from JSON with serde) and the per-database fault queue.

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::jsonutil::{from_object, named, Bounded};

/// Which API requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum On {
    Redeploy,
    Status,
    Any,
}

impl TryFrom<String> for On {
    type Error = String;
    fn try_from(s: String) -> Result<On, String> {
        match s.as_str() {
            "any" => Ok(On::Any),
            "redeploy" => Ok(On::Redeploy),
            "status" => Ok(On::Status),
            _ => Err(format!(
                "must be \"redeploy\", \"status\" or \"any\", not {s:?}"
            )),
        }
    }
}

/// The kind of API request being answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqKind {
    Redeploy,
    Status,
}

/// How an error body is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
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

impl TryFrom<String> for ErrorStyle {
    type Error = String;
    fn try_from(s: String) -> Result<ErrorStyle, String> {
        match s.as_str() {
            "new" => Ok(ErrorStyle::New),
            "old" => Ok(ErrorStyle::Old),
            "none" => Ok(ErrorStyle::None),
            "html" => Ok(ErrorStyle::Html),
            _ => Err(format!("must be new, old, none or html, not {s:?}")),
        }
    }
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

/// A header value we send: no CR, LF or NUL (no header injection).
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct HeaderValue(String);

impl TryFrom<String> for HeaderValue {
    type Error = String;
    fn try_from(v: String) -> Result<HeaderValue, String> {
        if v.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err("must not contain CR, LF or NUL".into());
        }
        Ok(HeaderValue(v))
    }
}

/// A header name: an RFC 9110 token.
#[derive(PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
struct HeaderName(String);

impl TryFrom<String> for HeaderName {
    type Error = String;
    fn try_from(n: String) -> Result<HeaderName, String> {
        let ok = !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if ok {
            Ok(HeaderName(n))
        } else {
            Err(format!("invalid header name {n:?}"))
        }
    }
}

/// A fault as sent, `kind` and parameters included. A `null` field counts as absent.
#[derive(Deserialize)]
struct FaultSpec {
    #[serde(default, deserialize_with = "named::on")]
    on: Option<On>,
    #[serde(default, deserialize_with = "named::always")]
    always: Option<bool>,
    #[serde(default, deserialize_with = "named::times")]
    times: Option<u64>,
    #[serde(default, deserialize_with = "named::process")]
    process: Option<bool>,
    /// Gets every other field: the kind's `deny_unknown_fields` rejects those it does not know.
    #[serde(flatten)]
    kind: KindSpec,
}

/// A fault kind and its parameters as sent; `From<KindSpec> for FaultKind` applies the
/// defaults. The kinds without parameters are empty struct variants: a unit variant of an
/// internally tagged enum would accept any field.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum KindSpec {
    Http {
        #[serde(default, deserialize_with = "named::code")]
        code: Option<Bounded<200, 599>>,
        #[serde(default, deserialize_with = "named::style")]
        style: Option<ErrorStyle>,
        #[serde(default, deserialize_with = "named::detail")]
        detail: Option<String>,
        #[serde(default, deserialize_with = "named::headers")]
        headers: Option<BTreeMap<HeaderName, HeaderValue>>,
    },
    RateLimit {
        #[serde(default, deserialize_with = "named::retry_after")]
        retry_after: Option<HeaderValue>,
        #[serde(default, deserialize_with = "named::detail")]
        detail: Option<String>,
    },
    SlowHeaders {
        #[serde(deserialize_with = "named::delay_ms")]
        delay_ms: Bounded<0, MAX_DELAY_MS>,
    },
    SlowBody {
        #[serde(deserialize_with = "named::delay_ms")]
        delay_ms: Bounded<0, MAX_DELAY_MS>,
    },
    TruncatedBody {},
    Reset {},
    ResetBefore {},
    Close {},
    MalformedJson {
        #[serde(default, deserialize_with = "named::body")]
        body: Option<String>,
    },
    HugeBody {
        #[serde(default, deserialize_with = "named::bytes")]
        bytes: Option<u64>,
        #[serde(default, deserialize_with = "named::content_length")]
        content_length: Option<bool>,
    },
    Patch {
        #[serde(default, deserialize_with = "named::set")]
        set: Option<Map<String, Value>>,
        #[serde(default, deserialize_with = "named::remove")]
        remove: Option<Vec<String>>,
    },
    Redirect {
        #[serde(default, deserialize_with = "named::code")]
        code: Option<Bounded<300, 399>>,
        #[serde(deserialize_with = "named::location")]
        location: HeaderValue,
    },
    Raw {
        #[serde(deserialize_with = "named::bytes")]
        bytes: String,
    },
    KeepaliveClose {},
}

impl From<KindSpec> for FaultKind {
    fn from(k: KindSpec) -> FaultKind {
        match k {
            KindSpec::Http {
                code,
                style,
                detail,
                headers,
            } => FaultKind::Http {
                code: code.map_or(500, |c| c.0 as u16),
                style: style.unwrap_or(ErrorStyle::New),
                detail,
                headers: headers
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.0, v.0))
                    .collect(),
            },
            KindSpec::RateLimit {
                retry_after,
                detail,
            } => FaultKind::RateLimit {
                retry_after: retry_after.map(|r| r.0),
                detail,
            },
            KindSpec::SlowHeaders { delay_ms } => FaultKind::SlowHeaders {
                delay_ms: delay_ms.0,
            },
            KindSpec::SlowBody { delay_ms } => FaultKind::SlowBody {
                delay_ms: delay_ms.0,
            },
            KindSpec::TruncatedBody {} => FaultKind::TruncatedBody,
            KindSpec::Reset {} => FaultKind::Reset,
            KindSpec::ResetBefore {} => FaultKind::ResetBefore,
            KindSpec::Close {} => FaultKind::Close,
            KindSpec::MalformedJson { body } => FaultKind::MalformedJson { body },
            KindSpec::HugeBody {
                bytes,
                content_length,
            } => FaultKind::HugeBody {
                bytes: bytes.unwrap_or(8 << 20),
                content_length: content_length.unwrap_or(true),
            },
            KindSpec::Patch { set, remove } => FaultKind::Patch {
                set: set.map(Value::Object),
                remove: remove.unwrap_or_default(),
            },
            KindSpec::Redirect { code, location } => FaultKind::Redirect {
                code: code.map_or(302, |c| c.0 as u16),
                location: location.0,
            },
            KindSpec::Raw { bytes } => FaultKind::Raw { bytes },
            KindSpec::KeepaliveClose {} => FaultKind::KeepaliveClose,
        }
    }
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
        // Through `flatten` the tag is read from serde's buffered copy, which would take an
        // integer as a variant index: only a string names a kind.
        if v.get("kind").is_some_and(|k| !k.is_string()) {
            return Err("fault: kind must be a string".into());
        }
        let spec: FaultSpec = from_object("fault", v)?;
        let remaining = match (spec.always.unwrap_or(false), spec.times) {
            (true, None | Some(0)) => None,
            (true, Some(_)) => {
                return Err("fault: \"always\": true cannot be combined with times > 0".into())
            }
            (false, Some(0)) => {
                return Err("fault: times must be >= 1 (or use \"always\": true)".into())
            }
            (false, t) => Some(t.unwrap_or(1)),
        };
        let kind = FaultKind::from(spec.kind);
        let process = match spec.process {
            None => kind.default_process(),
            Some(p) if kind.process_overridable() => p,
            Some(_) => {
                return Err(format!(
                    "fault: process cannot be set for kind {:?}",
                    kind.name()
                ))
            }
        };
        Ok(Fault {
            on: spec.on.unwrap_or(On::Any),
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
    fn parses_every_kind_with_defaults() {
        let k = |v: Value| format!("{:?}", Fault::parse(&v).unwrap().kind);
        assert_eq!(
            k(json!({"kind": "http"})),
            "Http { code: 500, style: New, detail: None, headers: [] }"
        );
        assert_eq!(
            k(
                json!({"kind": "http", "code": 200, "style": "old", "detail": "d",
                     "headers": {"X-B": "2", "X-A": "1"}})
            ),
            r#"Http { code: 200, style: Old, detail: Some("d"), headers: [("X-A", "1"), ("X-B", "2")] }"#
        );
        assert_eq!(
            k(json!({"kind": "rate_limit", "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT"})),
            r#"RateLimit { retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT"), detail: None }"#
        );
        assert_eq!(
            k(json!({"kind": "slow_headers", "delay_ms": 0})),
            "SlowHeaders { delay_ms: 0 }"
        );
        assert_eq!(
            k(json!({"kind": "slow_body", "delay_ms": MAX_DELAY_MS})),
            "SlowBody { delay_ms: 600000 }"
        );
        for unit in [
            "truncated_body",
            "reset",
            "reset_before",
            "close",
            "keepalive_close",
        ] {
            assert_eq!(
                Fault::parse(&json!({"kind": unit})).unwrap().kind.name(),
                unit
            );
        }
        assert_eq!(
            k(json!({"kind": "malformed_json"})),
            "MalformedJson { body: None }"
        );
        assert_eq!(
            k(json!({"kind": "huge_body"})),
            "HugeBody { bytes: 8388608, content_length: true }"
        );
        assert_eq!(
            k(json!({"kind": "huge_body", "bytes": 0, "content_length": false})),
            "HugeBody { bytes: 0, content_length: false }"
        );
        assert_eq!(
            k(json!({"kind": "patch", "set": {"a": null, "b": {"c": 1.5}}, "remove": ["x.y"]})),
            r#"Patch { set: Some(Object {"a": Null, "b": Object {"c": Number(1.5)}}), remove: ["x.y"] }"#
        );
        assert_eq!(
            k(json!({"kind": "redirect", "location": "/elsewhere"})),
            r#"Redirect { code: 302, location: "/elsewhere" }"#
        );
        assert_eq!(
            k(json!({"kind": "raw", "bytes": "HTTP/1.1 200 OK\r\n\r\n"})),
            r#"Raw { bytes: "HTTP/1.1 200 OK\r\n\r\n" }"#
        );
    }

    #[test]
    fn null_counts_as_absent() {
        let f = Fault::parse(&json!({
            "on": null, "always": null, "times": null, "process": null, "kind": "http",
            "code": null, "style": null, "detail": null, "headers": null
        }))
        .unwrap();
        assert_eq!(f.on, On::Any);
        assert_eq!(f.remaining, Some(1));
        assert!(!f.process);
        assert_eq!(
            format!("{:?}", f.kind),
            "Http { code: 500, style: New, detail: None, headers: [] }"
        );
        let f = Fault::parse(&json!({"kind": "patch", "set": null, "remove": null})).unwrap();
        assert_eq!(format!("{:?}", f.kind), "Patch { set: None, remove: [] }");
        // ... but a required parameter is not given by `null`, and an unknown field is unknown
        assert!(Fault::parse(&json!({"kind": "slow_body", "delay_ms": null})).is_err());
        assert!(Fault::parse(&json!({"kind": "close", "code": null})).is_err());
    }

    #[test]
    fn on_times_always() {
        let f = |v: Value| Fault::parse(&v).unwrap();
        assert_eq!(
            f(json!({"kind": "close", "on": "redeploy"})).on,
            On::Redeploy
        );
        assert_eq!(f(json!({"kind": "close", "on": "status"})).on, On::Status);
        assert_eq!(f(json!({"kind": "close", "on": "any"})).on, On::Any);
        assert_eq!(f(json!({"kind": "close", "times": 3})).remaining, Some(3));
        assert_eq!(f(json!({"kind": "close", "always": true})).remaining, None);
        assert_eq!(
            f(json!({"kind": "close", "always": true, "times": 0})).remaining,
            None
        );
        assert_eq!(
            f(json!({"kind": "close", "always": false, "times": 2})).remaining,
            Some(2)
        );
        assert!(Fault::parse(&json!({"kind": "close", "always": true, "times": 2})).is_err());
        // the original JSON is kept (and echoed with the uses left)
        let v = json!({"kind": "close", "times": 2, "on": null});
        assert_eq!(
            f(v).to_json(),
            json!({"kind": "close", "times": 2, "on": null, "remaining": 2})
        );
    }

    #[test]
    fn errors_name_the_field() {
        let e = |v: Value| Fault::parse_many(&v).unwrap_err();
        for (bad, field) in [
            (json!({"kind": "http", "code": "500"}), "code"),
            (json!({"kind": "http", "code": 600}), "code"),
            (
                json!({"kind": "redirect", "code": 302.0, "location": "/"}),
                "code",
            ),
            (json!({"kind": "http", "detail": 1}), "detail"),
            (json!({"kind": "http", "headers": {"X": 1}}), "headers"),
            (json!({"kind": "http", "headers": ["X"]}), "headers"),
            (
                json!({"kind": "rate_limit", "retry_after": 2}),
                "retry_after",
            ),
            (
                json!({"kind": "rate_limit", "retry_after": "2\n"}),
                "retry_after",
            ),
            (
                json!({"kind": "slow_headers", "delay_ms": 600_001}),
                "delay_ms",
            ),
            (json!({"kind": "slow_headers", "delay_ms": -1}), "delay_ms"),
            (json!({"kind": "slow_headers"}), "delay_ms"),
            (
                json!({"kind": "huge_body", "content_length": "yes"}),
                "content_length",
            ),
            (json!({"kind": "huge_body", "bytes": true}), "bytes"),
            (json!({"kind": "patch", "remove": "steps"}), "remove"),
            (json!({"kind": "patch", "remove": [1]}), "remove"),
            (
                json!({"kind": "redirect", "code": 200, "location": "/"}),
                "code",
            ),
            (
                json!({"kind": "redirect", "location": "/\r\nX: 1"}),
                "location",
            ),
            (json!({"kind": "raw", "bytes": 1}), "bytes"),
            (json!({"kind": "close", "on": 1}), "on"),
            (json!({"kind": "close", "times": -1}), "times"),
            (json!({"kind": "close", "always": "yes"}), "always"),
            (json!({"kind": "http", "process": 1}), "process"),
            (json!({"kind": "close", "typo": 1}), "typo"),
            (json!({"kind": 0}), "kind"),
            (
                json!([{"kind": "close"}, {"kind": "close", "delay_ms": 1}]),
                "delay_ms",
            ),
        ] {
            let err = e(bad.clone());
            assert!(
                err.starts_with("fault") && err.contains(field),
                "{bad}: {err}"
            );
        }
        // serde quotes a string given where another type is expected: not us
        let err = e(json!({"kind": "http", "code": "s3cret"}));
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn rejects_what_serde_would_take() {
        for bad in [
            // a tag that is not a string (through `flatten`, 0 would be the first variant)
            json!({"kind": 0}),
            json!({"kind": 7}),
            json!({"kind": null}),
            json!({"kind": ["http"]}),
            // fields of a kind without parameters, even `null`
            json!({"kind": "close", "detail": "x"}),
            json!({"kind": "reset", "x": null}),
            json!({"kind": "keepalive_close", "delay_ms": 1}),
            // another kind's parameters
            json!({"kind": "raw", "bytes": "x", "location": "/"}),
            json!({"kind": "http", "delay_ms": 1}),
            // enum values in the externally tagged shape, or not strings
            json!({"kind": "close", "on": {"redeploy": null}}),
            json!({"kind": "http", "style": {"html": null}}),
            json!({"kind": "http", "style": 0}),
            // arrays in place of objects (a derived struct takes its fields in order)
            json!([["close"]]),
            json!(["close"]),
            json!({"kind": "patch", "set": ["a", 1]}),
            // the tag's case and the variants' Rust names
            json!({"kind": "HTTP"}),
            json!({"kind": "RateLimit"}),
            json!({"kind": "Close"}),
            json!(null),
            json!(5),
        ] {
            assert!(Fault::parse_many(&bad).is_err(), "accepted {bad}");
        }
        assert!(Fault::parse_many(&json!([])).unwrap().is_empty());
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
