//! Response bodies: the Qovery `Status` object (hand-rendered, no
//! intermediate tree, so the fast path allocates little), Qovery-style error
//! bodies, nginx-like HTML pages and the `patch` transformation.

use std::io::Write;
use std::time::SystemTime;

use serde_json::Value;

use crate::jsonutil::{deep_merge, remove_path};
use crate::timefmt;

/// `steps` of a Status.
#[derive(Clone, Debug, Default)]
pub struct Steps {
    /// `None` while the deployment is not completed.
    pub total: Option<u64>,
    pub computing: u64,
    /// Duration of a completed DEPLOYMENT_QUEUEING step (always SUCCESS).
    pub queueing: Option<u64>,
    /// Duration and step status of a completed DEPLOYMENT step.
    pub deployment: Option<(u64, &'static str)>,
}

/// Everything needed to render one Status body.
pub struct StatusView<'a> {
    pub id: &'a str,
    pub state: &'a str,
    pub service_deployment_status: &'static str,
    pub last_deployment_date: SystemTime,
    pub steps: &'a Steps,
    pub execution_id: &'a str,
    pub action_status: &'static str,
    /// Rendered as `null` when `None`.
    pub request_id: Option<&'a str>,
    pub requests_count: u64,
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Renders a Status object with every field of the OpenAPI schema.
pub fn render_status(v: &StatusView, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    json_str(out, v.id);
    out.extend_from_slice(b",\"state\":");
    json_str(out, v.state);
    out.extend_from_slice(b",\"service_deployment_status\":\"");
    out.extend_from_slice(v.service_deployment_status.as_bytes());
    out.extend_from_slice(b"\",\"last_deployment_date\":\"");
    out.extend_from_slice(timefmt::rfc3339(v.last_deployment_date).as_bytes());
    out.extend_from_slice(
        b"\",\"is_part_last_deployment\":true,\"steps\":{\"total_duration_sec\":",
    );
    match v.steps.total {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.extend_from_slice(b"null"),
    }
    let _ = write!(
        out,
        ",\"total_computing_duration_sec\":{},\"details\":[",
        v.steps.computing
    );
    if let Some(q) = v.steps.queueing {
        let _ = write!(
            out,
            "{{\"step_name\":\"DEPLOYMENT_QUEUEING\",\"status\":\"SUCCESS\",\"duration_sec\":{q}}}"
        );
    }
    if let Some((d, status)) = v.steps.deployment {
        if v.steps.queueing.is_some() {
            out.push(b',');
        }
        let _ = write!(
            out,
            "{{\"step_name\":\"DEPLOYMENT\",\"status\":\"{status}\",\"duration_sec\":{d}}}"
        );
    }
    out.extend_from_slice(b"]},\"execution_id\":");
    json_str(out, v.execution_id);
    out.extend_from_slice(b",\"status_details\":{\"action\":\"DEPLOY\",\"status\":\"");
    out.extend_from_slice(v.action_status.as_bytes());
    out.extend_from_slice(b"\",\"sub_action\":\"NONE\"},\"deployment_request_id\":");
    match v.request_id {
        Some(r) => json_str(out, r),
        None => out.extend_from_slice(b"null"),
    }
    let _ = write!(out, ",\"deployment_requests_count\":{}}}", v.requests_count);
}

/// Standard reason phrase (HTTP status line and old-style `error` field): the `http` crate's,
/// or the status class for a code it does not name.
pub fn reason(code: u16) -> &'static str {
    http::StatusCode::from_u16(code)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or(match code / 100 {
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            _ => "Server Error",
        })
}

/// Default `detail` for an error code when a fault does not give one.
pub fn default_detail(code: u16) -> &'static str {
    match code {
        401 => "Access token is missing or invalid",
        403 => "Access forbidden",
        404 => "Resource not found",
        409 => "Operation is in progress",
        429 => "Too many requests",
        _ => reason(code),
    }
}

/// `{"status": 404, "detail": "..."}`
pub fn error_new(code: u16, detail: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 + detail.len());
    let _ = write!(out, "{{\"status\":{code},\"detail\":");
    json_str(&mut out, detail);
    out.push(b'}');
    out
}

/// `{"status":404,"error":"Not Found","message":"...","timestamp":"...","path":"..."}`
pub fn error_old(code: u16, detail: &str, path: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + detail.len() + path.len());
    let _ = write!(out, "{{\"status\":{code},\"error\":");
    json_str(&mut out, reason(code));
    out.extend_from_slice(b",\"message\":");
    json_str(&mut out, detail);
    out.extend_from_slice(b",\"timestamp\":");
    json_str(&mut out, &timefmt::rfc3339_millis(SystemTime::now()));
    out.extend_from_slice(b",\"path\":");
    json_str(&mut out, path);
    out.push(b'}');
    out
}

/// The page nginx serves for an error status.
pub fn html_page(code: u16) -> Vec<u8> {
    let title = format!("{code} {}", reason(code));
    format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    .into_bytes()
}

/// Applies a `patch` fault to a rendered JSON body. Keys of the output are
/// sorted (serde_json's map); JSON clients must not care.
pub fn patch(body: &[u8], set: Option<&Value>, remove: &[String]) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return body.to_vec();
    };
    if let Some(s) = set {
        deep_merge(&mut v, s);
    }
    for path in remove {
        remove_path(&mut v, path);
    }
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn status_has_every_field() {
        let steps = Steps {
            total: Some(3),
            computing: 2,
            queueing: Some(1),
            deployment: Some((2, "SUCCESS")),
        };
        let v = StatusView {
            id: "3c90c3cc-0d44-4b50-8888-8dd25736052a",
            state: "DEPLOYED",
            service_deployment_status: "UP_TO_DATE",
            last_deployment_date: UNIX_EPOCH + Duration::from_secs(1_795_766_400),
            steps: &steps,
            execution_id: "e-1",
            action_status: "SUCCESS",
            request_id: None,
            requests_count: 0,
        };
        let mut out = Vec::new();
        render_status(&v, &mut out);
        let j: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            j,
            json!({
                "id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
                "state": "DEPLOYED",
                "service_deployment_status": "UP_TO_DATE",
                "last_deployment_date": "2026-11-27T08:00:00Z",
                "is_part_last_deployment": true,
                "steps": {"total_duration_sec": 3, "total_computing_duration_sec": 2, "details": [
                    {"step_name": "DEPLOYMENT_QUEUEING", "status": "SUCCESS", "duration_sec": 1},
                    {"step_name": "DEPLOYMENT", "status": "SUCCESS", "duration_sec": 2}]},
                "execution_id": "e-1",
                "status_details": {"action": "DEPLOY", "status": "SUCCESS", "sub_action": "NONE"},
                "deployment_request_id": null,
                "deployment_requests_count": 0
            })
        );
        // weird states are escaped
        let steps = Steps::default();
        let v = StatusView {
            state: "A\"B\\\n",
            request_id: Some("r"),
            steps: &steps,
            ..v
        };
        let mut out = Vec::new();
        render_status(&v, &mut out);
        let j: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(j["state"], "A\"B\\\n");
        assert_eq!(j["steps"]["details"], json!([]));
        assert_eq!(j["steps"]["total_duration_sec"], Value::Null);
    }

    #[test]
    fn error_bodies() {
        let j: Value = serde_json::from_slice(&error_new(404, "no \"db\"")).unwrap();
        assert_eq!(j, json!({"status": 404, "detail": "no \"db\""}));
        let j: Value =
            serde_json::from_slice(&error_old(503, "down", "/database/x/status")).unwrap();
        assert_eq!(j["error"], "Service Unavailable");
        assert_eq!(j["message"], "down");
        assert_eq!(j["path"], "/database/x/status");
        assert!(j["timestamp"].as_str().unwrap().ends_with('Z'));
        let h = String::from_utf8(html_page(502)).unwrap();
        assert!(h.contains("<title>502 Bad Gateway</title>"));
    }

    #[test]
    fn patch_sets_and_removes() {
        let out = patch(
            br#"{"state":"DEPLOYED","status_details":{"action":"DEPLOY","status":"SUCCESS"},"steps":{}}"#,
            Some(&json!({"state": "FUTURE", "status_details": {"action": "NEW"}, "extra": null})),
            &["steps".to_string()],
        );
        let j: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            j,
            json!({"state": "FUTURE", "status_details": {"action": "NEW", "status": "SUCCESS"}, "extra": null})
        );
    }
}
