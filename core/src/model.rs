//! The deployment `Status` returned by the Qovery API, typed.
//!
//! The API adds enum values every year (the `WAITING_*` states in 2024, `EXECUTING` in 2025,
//! `UNAVAILABLE` in 2026) and strict generated clients broke each time. Every enum here
//! therefore keeps a value it does not know as `Unknown`, and serialises it back unchanged;
//! fields the schema does not name are ignored.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{clean_server_text, Error, ErrorKind};

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

/// The schema's default for a missing `sub_action`.
fn no_sub_action() -> ServiceSubAction {
    ServiceSubAction::None
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetails {
    pub action: ServiceAction,
    pub status: ServiceActionStatus,
    #[serde(default = "no_sub_action")]
    pub sub_action: ServiceSubAction,
}

/// `ServiceStepMetric`: one step of the deployment. Every field is optional in the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepMetric {
    #[serde(default)]
    pub step_name: Option<StepName>,
    #[serde(default)]
    pub status: Option<StepStatus>,
    #[serde(default)]
    pub duration_sec: Option<u64>,
}

/// `ServiceStepMetrics`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Steps {
    /// `None` while the deployment has not completed.
    pub total_duration_sec: Option<u64>,
    pub total_computing_duration_sec: u64,
    pub details: Vec<StepMetric>,
}

/// The `Status` of a database's deployment, as answered by the redeploy (202) and status
/// (200) endpoints.
///
/// Built only by [`DeploymentStatus::from_json`], which keeps the body it came from
/// ([`raw_json`](Self::raw_json)) so nothing the API adds is lost to a caller.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentStatus {
    pub id: Uuid,
    pub state: State,
    pub service_deployment_status: ServiceDeploymentStatus,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_deployment_date: Option<OffsetDateTime>,
    pub is_part_last_deployment: bool,
    #[serde(default)]
    pub steps: Option<Steps>,
    #[serde(default)]
    pub execution_id: Option<String>,
    pub status_details: StatusDetails,
    /// Nullable in the schema; also absent from bodies older than the field.
    #[serde(default)]
    pub deployment_request_id: Option<Uuid>,
    pub deployment_requests_count: u64,
    #[serde(skip)]
    raw: Arc<str>,
}

impl PartialEq for DeploymentStatus {
    /// Equal when every typed field is; formatting of the raw body does not matter.
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
    }
}

impl Eq for DeploymentStatus {}

impl DeploymentStatus {
    /// Parses a `Status` body. Unknown enum values and extra fields are accepted; a body that
    /// is not JSON, or lacks a required field, is a [`ErrorKind::Decode`] error naming it.
    pub fn from_json(body: &str) -> Result<Self, Error> {
        let mut status: DeploymentStatus = serde_json::from_str(body).map_err(|e| {
            // serde quotes offending values from the body: one line, bounded.
            let message = format!("response body is not a deployment Status: {e}");
            Error::new(ErrorKind::Decode, clean_server_text(&message, ""))
        })?;
        status.raw = Arc::from(body);
        Ok(status)
    }

    /// The body this status was parsed from, byte for byte.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The typed fields as JSON (unknown enum values kept verbatim, extra fields dropped).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a Status always serialises")
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
