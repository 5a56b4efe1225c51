//! The C ABI of qovery-redeploy: `libqovery_redeploy.so` / `.a` and `qovery_redeploy.h`.
//!
//! Conventions (the header repeats them for C readers):
//!
//! * Every exported function runs inside one panic guard ([`ffi_guard!`]): a panic becomes
//!   `QOVERY_ERR_PANIC` (or NULL / false / 0 for getters), never an abort across the ABI.
//! * Every pointer argument goes through one NULL check ([`ffi::non_null`]); a NULL becomes
//!   `QOVERY_ERR_NULL_PARAMETER`. Strings are NUL-terminated UTF-8; anything else is
//!   `QOVERY_ERR_INVALID_ARGUMENT` with a message saying which argument.
//! * Handles are opaque. Each one's doc comment says who owns it, how it is freed and whether
//!   it may be shared between threads. `*_free(NULL)` does nothing.
//! * No initialisation function. The one process-wide setting is the optional log callback
//!   (`qovery_log_set_callback`).

#![allow(non_camel_case_types)]

// The panic guard catches unwinding panics; with `panic = "abort"` a bug would abort the host.
#[cfg(panic = "abort")]
compile_error!(
    "qovery-redeploy-ffi must be built with panic = \"unwind\" (its panic guard relies on it)"
);

#[macro_use]
mod panic;
mod call;
mod client;
mod code;
mod ffi;
mod log;
mod result;

pub use call::{
    qovery_apply_immediately, qovery_cancel_token, qovery_cancel_token_cancel,
    qovery_cancel_token_free, qovery_cancel_token_is_cancelled, qovery_cancel_token_new,
    qovery_database_status, qovery_progress_callback, qovery_redeploy_and_wait,
    qovery_redeploy_database, qovery_redeploy_options, qovery_redeploy_options_init,
    qovery_wait_for_database, qovery_wait_options, qovery_wait_options_init,
};
pub use client::{
    qovery_auth_scheme, qovery_client, qovery_client_free, qovery_client_new,
    qovery_client_options, qovery_client_options_free, qovery_client_options_new,
    qovery_client_options_set_auth_scheme, qovery_client_options_set_base_url,
    qovery_client_options_set_connect_timeout_ms, qovery_client_options_set_deadline_ms,
    qovery_client_options_set_max_retries, qovery_client_options_set_request_timeout_ms,
    qovery_client_options_set_token, qovery_client_options_set_user_agent,
    qovery_client_options_use_env,
};
pub use code::{qovery_code, qovery_code_name, qovery_version};
pub use log::{qovery_log_callback, qovery_log_level, qovery_log_set_callback};
pub use result::*;
