//! The deployment `Status` returned by the Qovery API, typed.
//!
//! The API adds enum values every year (the `WAITING_*` states in 2024, `EXECUTING` in 2025,
//! `UNAVAILABLE` in 2026) and strict generated clients broke each time. Every enum here
//! therefore keeps a value it does not know as `Unknown`, and serialises it back unchanged;
//! fields the schema does not name are ignored.
//!
//! The reader is tolerant: only `state` is load-bearing. A field out of range for its Rust
//! type, of an unexpected JSON type or malformed reads as unknown (`None`) and is named in a
//! debug log line; it never makes the whole body unreadable (a server answering
//! `"deployment_requests_count": -74768455`, valid under the schema's plain `integer`, made
//! every redeploy look failed).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{Error, ErrorKind};

/// An enum value this version of the crate does not know. Constructed only by parsing, so a
/// known value is never wrapped here by mistake.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Unrecognized(Box<str>);

impl Unrecognized {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Unrecognized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(#[doc = concat!("`", $text, "`")] $variant,)+
            /// A value the API sent that this version does not know; kept verbatim.
            Unknown(Unrecognized),
        }

        impl $name {
            /// Every value this version knows, in the API's spelling.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The API's spelling of this value (unknown values verbatim).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(u) => u.as_str(),
                }
            }

            /// Parses the API's spelling; never fails.
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Unknown(Unrecognized(other.into())),
                }
            }

            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                Self::parse(text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::parse(&text))
            }
        }
    };
}

open_enum! {
    /// `StateEnum`: where the service is in its lifecycle.
    State {
        Building = "BUILDING",
        BuildError = "BUILD_ERROR",
        Canceled = "CANCELED",
        Canceling = "CANCELING",
        Deleted = "DELETED",
        DeleteError = "DELETE_ERROR",
        DeleteQueued = "DELETE_QUEUED",
        Deleting = "DELETING",
        Deployed = "DEPLOYED",
        Deploying = "DEPLOYING",
        DeploymentError = "DEPLOYMENT_ERROR",
        DeploymentQueued = "DEPLOYMENT_QUEUED",
        Executing = "EXECUTING",
        Queued = "QUEUED",
        Ready = "READY",
        Recap = "RECAP",
        Restarted = "RESTARTED",
        Restarting = "RESTARTING",
        RestartError = "RESTART_ERROR",
        RestartQueued = "RESTART_QUEUED",
        Stopped = "STOPPED",
        Stopping = "STOPPING",
        StopError = "STOP_ERROR",
        StopQueued = "STOP_QUEUED",
        Unavailable = "UNAVAILABLE",
        WaitingDeleting = "WAITING_DELETING",
        WaitingRestarting = "WAITING_RESTARTING",
        WaitingRunning = "WAITING_RUNNING",
        WaitingStopping = "WAITING_STOPPING",
    }
}

impl State {
    /// The redeploy succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, State::Deployed)
    }

    /// The redeploy ended badly: any `*_ERROR` state (future ones included) or `CANCELED`.
    pub fn is_failure(&self) -> bool {
        matches!(self, State::Canceled) || self.as_str().ends_with("_ERROR")
    }

    /// A state no further progress comes from without a new request: success, failure, or
    /// one of the other settled states (`STOPPED`, `DELETED`, `RESTARTED`). A redeploy wait
    /// ends only on success or failure.
    pub fn is_terminal(&self) -> bool {
        self.is_success()
            || self.is_failure()
            || matches!(self, State::Stopped | State::Deleted | State::Restarted)
    }
}

open_enum! {
    /// `ServiceDeploymentStatusEnum`: whether the running version is the latest.
    ServiceDeploymentStatus {
        NeverDeployed = "NEVER_DEPLOYED",
        OutOfDate = "OUT_OF_DATE",
        UpToDate = "UP_TO_DATE",
    }
}

open_enum! {
    /// `ServiceActionEnum`
    ServiceAction {
        Deploy = "DEPLOY",
        Delete = "DELETE",
        Restart = "RESTART",
        Stop = "STOP",
        UnknownAction = "UNKNOWN",
    }
}

open_enum! {
    /// `ServiceActionStatusEnum`
    ServiceActionStatus {
        Queued = "QUEUED",
        Ongoing = "ONGOING",
        Success = "SUCCESS",
        Error = "ERROR",
        Executing = "EXECUTING",
        Canceled = "CANCELED",
        Canceling = "CANCELING",
        Never = "NEVER",
    }
}

open_enum! {
    /// `ServiceSubActionEnum` (the schema's default is `NONE`).
    ServiceSubAction {
        None = "NONE",
        TerraformPlanOnly = "TERRAFORM_PLAN_ONLY",
        TerraformPlanAndApply = "TERRAFORM_PLAN_AND_APPLY",
        TerraformDestroy = "TERRAFORM_DESTROY",
        TerraformForceUnlockState = "TERRAFORM_FORCE_UNLOCK_STATE",
        TerraformMigrateState = "TERRAFORM_MIGRATE_STATE",
    }
}

open_enum! {
    /// `ServiceStepMetricNameEnum`
    StepName {
        RegistryCreateRepository = "REGISTRY_CREATE_REPOSITORY",
        GitClone = "GIT_CLONE",
        BuildQueueing = "BUILD_QUEUEING",
        Build = "BUILD",
        DeploymentQueueing = "DEPLOYMENT_QUEUEING",
        Deployment = "DEPLOYMENT",
        RouterDeployment = "ROUTER_DEPLOYMENT",
        MirrorImage = "MIRROR_IMAGE",
        Executing = "EXECUTING",
    }
}

open_enum! {
    /// `StepMetricStatusEnum`
    StepStatus {
        Success = "SUCCESS",
        Error = "ERROR",
        Cancel = "CANCEL",
        Skip = "SKIP",
    }
}

/// `StatusDetails`: the action under way and how far it got.
///
/// Each field is `None` when the API left it out (or sent `status_details` as something other
/// than an object), sent `null`, or sent a value of the wrong JSON type; a string this version
/// does not know is kept as the enum's `Unknown` variant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StatusDetails {
    pub action: Option<ServiceAction>,
    pub status: Option<ServiceActionStatus>,
    /// `Some(ServiceSubAction::None)` when `status_details` has no `sub_action` (the schema's
    /// default); `None` when it is `null` or not a string, or `status_details` itself is
    /// unreadable.
    pub sub_action: Option<ServiceSubAction>,
}

/// `ServiceStepMetric`: one step of the deployment. Every field is optional in the schema; a
/// value of the wrong type, or an integer beyond `i64`, is `None` too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StepMetric {
    pub step_name: Option<StepName>,
    pub status: Option<StepStatus>,
    /// Seconds. The schema types it as a plain `integer`: any value that fits an `i64`,
    /// negative ones included, is kept as sent.
    pub duration_sec: Option<i64>,
}

/// `ServiceStepMetrics`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Steps {
    /// `None` while the deployment has not completed (`null`), or when absent, of the wrong
    /// type or beyond `i64`.
    pub total_duration_sec: Option<i64>,
    /// `None` when absent, of the wrong type or beyond `i64` (the schema allows any integer).
    pub total_computing_duration_sec: Option<i64>,
    /// Empty when absent or not an array. An entry that is not an object is kept, with every
    /// field `None`, so indices match the body's.
    pub details: Vec<StepMetric>,
}

/// The `Status` of a database's deployment, as answered by the redeploy (202) and status
/// (200) endpoints.
///
/// Built by [`DeploymentStatus::from_json`], a tolerant reader: only `state` is load-bearing
/// (with `deployment_request_id`, which correlates a wait). Every other field that is absent,
/// `null`, of an unexpected JSON type, out of range for its Rust type, or malformed (a date
/// that is not RFC 3339, a UUID that is not one) reads as unknown: `None`, and a debug log line
/// (target `qovery_redeploy`) names the field. The body it came from is kept
/// ([`raw_json`](Self::raw_json)) so nothing the API sends is lost to a caller.
///
/// A redeploy answered 2xx whose body is unreadable (not JSON, no string `state`, cut short)
/// was still accepted: [`Client::redeploy_database`](crate::Client::redeploy_database) returns
/// a status whose [`accepted_unreadable`](Self::accepted_unreadable) is true, with an empty
/// `state` (`State::Unknown("")`), every other field `None`, and the body as received.
#[derive(Debug, Clone, Serialize)]
pub struct DeploymentStatus {
    pub id: Option<Uuid>,
    pub state: State,
    pub service_deployment_status: Option<ServiceDeploymentStatus>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_deployment_date: Option<OffsetDateTime>,
    pub is_part_last_deployment: Option<bool>,
    pub steps: Option<Steps>,
    pub execution_id: Option<String>,
    pub status_details: StatusDetails,
    /// Nullable in the schema; also absent from bodies older than the field, and `None` when
    /// it is not a UUID.
    pub deployment_request_id: Option<Uuid>,
    /// The schema types it as a plain `integer`: any `i64` is kept as sent, negative ones
    /// included; `None` when absent, `null`, of the wrong type or beyond `i64`.
    pub deployment_requests_count: Option<i64>,
    #[serde(skip)]
    raw: Arc<str>,
    #[serde(skip)]
    accepted_unreadable: bool,
}

impl PartialEq for DeploymentStatus {
    /// Equal when every typed field is (and both are, or neither is, an unreadable accepted
    /// answer); formatting of the raw body does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.state == other.state
            && self.service_deployment_status == other.service_deployment_status
            && self.last_deployment_date == other.last_deployment_date
            && self.is_part_last_deployment == other.is_part_last_deployment
            && self.steps == other.steps
            && self.execution_id == other.execution_id
            && self.status_details == other.status_details
            && self.deployment_request_id == other.deployment_request_id
            && self.deployment_requests_count == other.deployment_requests_count
            && self.accepted_unreadable == other.accepted_unreadable
    }
}

impl Eq for DeploymentStatus {}

impl DeploymentStatus {
    /// Parses a `Status` body tolerantly (see the type's documentation). The body must be a
    /// JSON object whose `state` is a string; anything else is an [`ErrorKind::Decode`] error
    /// saying what is wrong, never quoting the body.
    pub fn from_json(body: &str) -> Result<Self, Error> {
        let decode = |why: String| {
            Error::new(
                ErrorKind::Decode,
                format!("response body is not a deployment Status: {why}"),
            )
        };
        let object: RawObject<'_> = serde_json::from_str(body).map_err(|e| {
            decode(match e.classify() {
                serde_json::error::Category::Data => "not a JSON object".to_owned(),
                serde_json::error::Category::Eof => "JSON cut short".to_owned(),
                _ => format!("not JSON (line {}, column {})", e.line(), e.column()),
            })
        })?;
        let mut status = read_status(&object).map_err(|why| decode(why.to_owned()))?;
        status.raw = Arc::from(body);
        Ok(status)
    }

    /// The status of a redeploy answered 2xx whose body could not be read, as
    /// [`Client::redeploy_database`](crate::Client::redeploy_database) returns it:
    /// [`accepted_unreadable`](Self::accepted_unreadable), every field unknown, `state` empty,
    /// `raw_json` the body as received (invalid UTF-8 replaced). Public so that a saved one
    /// can be made again (and for tests).
    pub fn unreadable_accepted(body: &[u8]) -> Self {
        DeploymentStatus {
            id: None,
            state: State::Unknown(Unrecognized("".into())),
            service_deployment_status: None,
            last_deployment_date: None,
            is_part_last_deployment: None,
            steps: None,
            execution_id: None,
            status_details: StatusDetails::default(),
            deployment_request_id: None,
            deployment_requests_count: None,
            raw: Arc::from(String::from_utf8_lossy(body)),
            accepted_unreadable: true,
        }
    }

    /// True for the answer to a redeploy that the API accepted (HTTP 2xx) but whose body could
    /// not be read (not JSON, no string `state`, cut short, over the size cap): the redeploy
    /// **was** accepted; only its status is unknown. `state` is then `""` and every other field
    /// `None`; [`raw_json`](Self::raw_json) holds what was received. Always false for a status
    /// that parsed.
    pub fn accepted_unreadable(&self) -> bool {
        self.accepted_unreadable
    }

    /// The body this status was parsed from, byte for byte (for an
    /// [`accepted_unreadable`](Self::accepted_unreadable) answer: what was received, which
    /// may be empty or cut short).
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The typed fields as JSON (unknown enum values kept verbatim, unknown fields `null`,
    /// extra fields dropped).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Status always serialises")
    }

    /// The one line every skin shows for a status: `DEPLOYING (DEPLOY ONGOING)`, the state
    /// then `status_details`' action and status (`?` for one absent or unreadable), and
    /// `, 3 requests queued` when more than one is. Server values are cleaned with
    /// [`short_value`](crate::short_value), so the line is safe for a terminal. An
    /// [`accepted_unreadable`](Self::accepted_unreadable) answer reads `state unknown (...)`.
    pub fn summary(&self) -> String {
        self.summary_noting(None)
    }

    /// [`summary`](Self::summary) with `note` added inside the parentheses.
    pub(crate) fn summary_noting(&self, note: Option<&str>) -> String {
        use std::fmt::Write;
        if self.accepted_unreadable {
            return "state unknown (the answer to the redeploy was unreadable)".to_owned();
        }
        let shown = |v: Option<&str>| v.map_or_else(|| "?".to_owned(), crate::short_value);
        let d = &self.status_details;
        let mut line = format!(
            "{} ({} {}",
            crate::short_value(self.state.as_str()),
            shown(d.action.as_ref().map(|v| v.as_str())),
            shown(d.status.as_ref().map(|v| v.as_str())),
        );
        if let Some(count) = self.deployment_requests_count.filter(|c| *c > 1) {
            let _ = write!(line, ", {count} requests queued");
        }
        if let Some(note) = note {
            let _ = write!(line, ", {note}");
        }
        line.push(')');
        line
    }

    pub fn is_success(&self) -> bool {
        self.state.is_success()
    }

    pub fn is_failure(&self) -> bool {
        self.state.is_failure()
    }

    pub fn is_terminal(&self) -> bool {
        self.state.is_terminal()
    }
}

// ---------------------------------------------------------------------------------------
// The tolerant reader
//
// Every object is read as its keys and each value's raw text (`RawValue`, which serde_json
// skips over without recursion and without range checks); each value the model uses is then
// decoded on its own. So nothing in one field (an integer beyond any float, nesting deeper
// than serde_json's recursion limit, a wrong type) can make another field, or the body,
// unreadable.

/// An object's keys and their values' raw JSON text. A key given twice counts once, the last
/// one winning (as in `serde_json::Value`).
struct RawObject<'a>(BTreeMap<String, &'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Visit<'a> {
            type Value = RawObject<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<RawObject<'a>, M::Error> {
                let mut fields = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    fields.insert(key, map.next_value::<&'de RawValue>()?);
                }
                Ok(RawObject(fields))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// The one log line for a field read as unknown. Names the field and the reason, never the
/// value (server data, which may echo the token).
fn unknown(name: &str, why: &str) {
    log::debug!(target: "qovery_redeploy", "status field `{name}` read as unknown: {why}");
}

/// One field of an object, on its way to a typed value.
struct Field<'a> {
    name: &'static str,
    /// `None`: absent.
    raw: Option<&'a RawValue>,
    /// Absent is worth a log line (the schema requires the field).
    required: bool,
}

impl<'a> Field<'a> {
    fn of(object: &RawObject<'a>, name: &'static str) -> Field<'a> {
        Field {
            name,
            raw: object.0.get(name).copied(),
            required: false,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The value decoded as `T` and taken by `accept`; otherwise `None`, logged unless it
    /// was an absent optional field or a `null`.
    fn decode<T: Deserialize<'a>, U>(
        self,
        expected: &str,
        accept: impl FnOnce(T) -> Option<U>,
    ) -> Option<U> {
        let Some(raw) = self.raw else {
            if self.required {
                unknown(self.name, "missing");
            }
            return None;
        };
        let text: &'a str = raw.get();
        if text == "null" {
            return None;
        }
        let got = serde_json::from_str::<T>(text).ok().and_then(accept);
        if got.is_none() {
            unknown(self.name, &format!("not {expected}"));
        }
        got
    }

    fn string(self) -> Option<String> {
        self.decode("a string", Some)
    }

    fn open_enum<T>(self, parse: fn(&str) -> T) -> Option<T> {
        self.decode("a string", |s: std::borrow::Cow<'_, str>| Some(parse(&s)))
    }

    fn boolean(self) -> Option<bool> {
        self.decode("a boolean", Some)
    }

    fn integer(self) -> Option<i64> {
        self.decode("an integer within the i64 range", Some)
    }

    fn uuid(self) -> Option<Uuid> {
        self.decode("a UUID", |s: std::borrow::Cow<'_, str>| {
            Uuid::parse_str(&s).ok()
        })
    }

    fn date(self) -> Option<OffsetDateTime> {
        self.decode("an RFC 3339 date-time", |s: std::borrow::Cow<'_, str>| {
            OffsetDateTime::parse(&s, &Rfc3339)
                .ok()
                // Only dates that format back (to_json) are kept.
                .filter(|d| d.format(&Rfc3339).is_ok())
        })
    }

    fn object(self) -> Option<RawObject<'a>> {
        self.decode("an object", Some)
    }

    fn array(self) -> Option<Vec<&'a RawValue>> {
        self.decode("an array", Some)
    }
}

/// The typed status of a body that is an object with a string `state`.
fn read_status(o: &RawObject<'_>) -> Result<DeploymentStatus, &'static str> {
    let state = match o.0.get("state") {
        None => return Err("no `state`"),
        Some(raw) => match serde_json::from_str::<std::borrow::Cow<'_, str>>(raw.get()) {
            Ok(s) => State::parse(&s),
            Err(_) => return Err("`state` is not a string"),
        },
    };
    let f = |name| Field::of(o, name);
    Ok(DeploymentStatus {
        id: f("id").required().uuid(),
        state,
        service_deployment_status: f("service_deployment_status")
            .required()
            .open_enum(ServiceDeploymentStatus::parse),
        last_deployment_date: f("last_deployment_date").date(),
        is_part_last_deployment: f("is_part_last_deployment").required().boolean(),
        steps: f("steps").object().map(|o| read_steps(&o)),
        execution_id: f("execution_id").string(),
        status_details: read_status_details(f("status_details").required().object()),
        deployment_request_id: f("deployment_request_id").uuid(),
        deployment_requests_count: f("deployment_requests_count").required().integer(),
        raw: Arc::from(""),
        accepted_unreadable: false,
    })
}

fn read_status_details(object: Option<RawObject<'_>>) -> StatusDetails {
    let Some(o) = object else {
        return StatusDetails::default();
    };
    let sub_action = match o.0.get("sub_action") {
        // The schema's default.
        None => Some(ServiceSubAction::None),
        Some(_) => Field::of(&o, "sub_action").open_enum(ServiceSubAction::parse),
    };
    StatusDetails {
        action: Field::of(&o, "action")
            .required()
            .open_enum(ServiceAction::parse),
        status: Field::of(&o, "status")
            .required()
            .open_enum(ServiceActionStatus::parse),
        sub_action,
    }
}

fn read_steps(o: &RawObject<'_>) -> Steps {
    let details = Field::of(o, "details")
        .required()
        .array()
        .unwrap_or_default();
    Steps {
        total_duration_sec: Field::of(o, "total_duration_sec").required().integer(),
        total_computing_duration_sec: Field::of(o, "total_computing_duration_sec")
            .required()
            .integer(),
        details: details
            .iter()
            .map(
                |item| match serde_json::from_str::<RawObject<'_>>(item.get()) {
                    Ok(m) => StepMetric {
                        step_name: Field::of(&m, "step_name").open_enum(StepName::parse),
                        status: Field::of(&m, "status").open_enum(StepStatus::parse),
                        duration_sec: Field::of(&m, "duration_sec").integer(),
                    },
                    Err(_) => {
                        unknown("steps.details[]", "not an object");
                        StepMetric::default()
                    }
                },
            )
            .collect(),
    }
}

/// The error bodies the API has used: `{status, detail}` since 2024 and the older
/// `{status, error, message, timestamp, path}`. Whatever else is in them is ignored.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// The server's explanation in an error body, if the body is one of the API's shapes.
pub(crate) fn error_detail(body: &[u8]) -> Option<String> {
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    parsed
        .detail
        .or(parsed.message)
        .or(parsed.error)
        .filter(|d| !d.trim().is_empty())
}
