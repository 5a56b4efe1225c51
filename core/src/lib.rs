//! Redeploy a Qovery managed database through the Qovery REST API, and wait for the outcome.
//!
//! ```no_run
//! use qovery_redeploy::{Client, RedeployOptions, WaitOptions};
//!
//! let client = Client::builder().from_env().build()?;
//! let status = client.redeploy_and_wait(
//!     "3c90c3cc-0d44-4b50-8888-8dd25736052a",
//!     RedeployOptions::default(),
//!     WaitOptions::default(),
//! )?;
//! println!("{}", status.state);
//! # Ok::<(), qovery_redeploy::Error>(())
//! ```
//!
//! The same core is exposed to C (`ffi/`), Python (`python/`) and the `qovery-redeploy`
//! command (`cli/`).

mod auth;
mod cancel;
mod client;
mod error;
mod model;
mod origin;
mod retry;
mod runtime;
mod tls;
mod transport;
mod wait;

pub use auth::{AuthScheme, Secret};
pub use cancel::{Cancel, CancelToken, CANCEL_POLL};
pub use client::{
    parse_database_id, Client, ClientBuilder, RedeployOptions, DEFAULT_BASE_URL,
    DEFAULT_USER_AGENT, ENV_CA_BUNDLE, ENV_TOKEN, ENV_URL,
};
pub use error::{Error, ErrorKind};
pub use model::{
    DeploymentStatus, ServiceAction, ServiceActionStatus, ServiceDeploymentStatus,
    ServiceSubAction, State, StatusDetails, StepMetric, StepName, StepStatus, Steps, Unrecognized,
};
pub use runtime::{runtime_handle, unblock};
pub use transport::{MAX_BODY, MAX_HEAD};
pub use wait::{OnProgress, WaitOptions};

/// This crate's version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
