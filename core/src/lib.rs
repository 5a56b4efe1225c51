#![doc = include_str!("../README.md")]

mod auth;
mod cancel;
mod client;
mod duration;
mod environment;
mod error;
mod model;
mod origin;
mod retry;
mod runtime;
mod text;
mod tls;
mod transport;
mod wait;

pub use auth::{AuthScheme, Secret};
pub use cancel::{Cancel, CancelToken, CANCEL_POLL};
pub use client::{
    parse_database_id, Client, ClientBuilder, Environment, RedeployOptions, DEFAULT_BASE_URL,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE, DEFAULT_REQUEST_TIMEOUT, DEFAULT_USER_AGENT,
    ENV_CA_BUNDLE, ENV_TOKEN, ENV_URL,
};
pub use duration::{duration_from_millis, duration_from_secs, Zero, MAX_DURATION};
pub use error::{Error, ErrorKind};
pub use model::{
    DeploymentStatus, ServiceAction, ServiceActionStatus, ServiceDeploymentStatus,
    ServiceSubAction, State, StatusDetails, StepMetric, StepName, StepStatus, Steps, Unrecognized,
};
pub use runtime::{runtime_handle, unblock};
pub use text::{
    clean_server_text, one_line, redact, short_value, MAX_SERVER_TEXT, MAX_VALUE_SHOWN,
};
pub use transport::{MAX_BODY, MAX_HEAD};
pub use wait::{Belongs, OnProgress, Progress, WaitOptions, MIN_REMOTE_POLL_INTERVAL};

/// This crate's version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
