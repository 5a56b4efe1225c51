//! The API calls, their options, and the cancel token.

use std::mem::size_of;
use std::ops::ControlFlow;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::time::Duration;

use qovery::{CancelToken, Client, DeploymentStatus, RedeployOptions, WaitOptions};

use crate::client::{millis, qovery_client};
use crate::ffi::{self, Handle};
use crate::panic::CallError;
use crate::result::{qovery_result, ResultData};

/// A flag that makes the calls using it stop early with `QOVERY_ERR_CANCELLED` (they check it
/// at least every 50 ms, also while blocked on the network or sleeping between polls).
///
/// Ownership: created by `qovery_cancel_token_new()`, owned by the caller, freed with
/// `qovery_cancel_token_free()` after the last call using it has returned.
///
/// Threads: safe to share; `qovery_cancel_token_cancel()` is meant to be called from another
/// thread (or a signal-driven loop) while a call blocks. Once cancelled it stays cancelled:
/// use a new token for the next call.
pub struct qovery_cancel_token {
    _private: [u8; 0],
}

impl Handle for qovery_cancel_token {
    type Rust = CancelToken;
}

/// `applyImmediately` of a redeploy (`qovery_redeploy_options.apply_immediately`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum qovery_apply_immediately {
    /// Leave the query parameter out: the server's default (0, so a zeroed field means it).
    QOVERY_APPLY_IMMEDIATELY_UNSET = 0,
    /// `applyImmediately=true`: apply regardless of the maintenance window.
    QOVERY_APPLY_IMMEDIATELY_TRUE = 1,
    /// `applyImmediately=false`.
    QOVERY_APPLY_IMMEDIATELY_FALSE = 2,
}

/// Options of `qovery_redeploy_database()`. Fill it with `qovery_redeploy_options_init()`,
/// then change fields. Passing NULL instead means the defaults.
///
/// `struct_size` must be at least `sizeof(qovery_redeploy_options)` as known to this library
/// version (`_init` sets it); a smaller value is `QOVERY_ERR_INVALID_ARGUMENT`. Later versions
/// only add fields at the end.
#[repr(C)]
pub struct qovery_redeploy_options {
    /// `sizeof(qovery_redeploy_options)`.
    pub struct_size: usize,
    /// A `qovery_apply_immediately` value; default `QOVERY_APPLY_IMMEDIATELY_UNSET`.
    pub apply_immediately: u32,
    /// Optional (NULL by default): cancels the call when triggered. Borrowed for the call.
    pub cancel: *const qovery_cancel_token,
}

/// Options of `qovery_wait_for_database()` and `qovery_redeploy_and_wait()`. Fill it with
/// `qovery_wait_options_init()`, then change fields. Passing NULL instead means the defaults.
///
/// `struct_size` as in `qovery_redeploy_options`. Durations are in milliseconds; values
/// above 30 days (e.g. `UINT64_MAX`) are capped to 30 days.
#[repr(C)]
pub struct qovery_wait_options {
    /// `sizeof(qovery_wait_options)`.
    pub struct_size: usize,
    /// Bound on the whole wait (for `qovery_redeploy_and_wait()`, the redeploy included);
    /// default 1800000 (30 minutes). When it passes the call returns
    /// `QOVERY_ERR_WAIT_TIMEOUT`.
    pub timeout_ms: u64,
    /// Pause between two status polls; default 3000 (at least 10 ms is used, and at least
    /// 1000 when the API host is not loopback: the API is rate limited).
    pub poll_interval_ms: u64,
    /// When the deployment cannot be told apart from the previous one by its request id: how
    /// long after the redeploy a finished state is trusted without having seen the deployment
    /// in progress; default 10000.
    pub settle_delay_ms: u64,
    /// Optional (NULL by default): cancels the wait when triggered. Borrowed for the call.
    pub cancel: *const qovery_cancel_token,
    /// Optional, `qovery_wait_for_database()` only: the result of the redeploy being waited
    /// for, so that the previous deployment's final state is not mistaken for this one's.
    /// Borrowed for the call; it must hold a status. NULL (default): the redeploy this client
    /// last had accepted for the database (`qovery_redeploy_database()` or an interrupted
    /// `qovery_redeploy_and_wait()`), remembered until a wait sees it end; if none, the first
    /// success or failure state seen ends the wait. `qovery_redeploy_and_wait()` ignores it
    /// and uses its own redeploy's result.
    pub accepted: *const qovery_result,
}

/// Called with each status whose state (or request id, or `status_details.status`) changed
/// during a wait; for `qovery_redeploy_and_wait()` first with the redeploy's own (202)
/// status. `status` is a borrowed result (code `QOVERY_OK`) valid only during the call: read
/// it with the `qovery_result_*` getters, do not free it or keep it.
///
/// Return 0 to go on waiting, anything else to stop: the wait then returns
/// `QOVERY_ERR_CANCELLED` holding this status. The callback runs on the thread that called
/// the wait. It may call this library (even with the same client), but must not unwind
/// (C++ exception, `longjmp`) through it.
pub type qovery_progress_callback =
    Option<unsafe extern "C" fn(status: *const qovery_result, user_data: *mut c_void) -> c_int>;

/// Reads an options struct: NULL means the defaults; a `struct_size` smaller than this
/// version's struct is refused.
fn read_options<T>(ptr: *const T, name: &str) -> Result<Option<T>, CallError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // Every version of an options struct starts with `size_t struct_size`.
    let size = *ffi::non_null(ptr.cast::<usize>(), name)?;
    if size < size_of::<T>() {
        return Err(CallError::invalid(format!(
            "{name}->struct_size is {size}, expected at least {} (fill the struct with its _init function)",
            size_of::<T>()
        )));
    }
    // SAFETY: non-NULL, and the caller says (struct_size) it holds at least a whole `T`,
    // which has no invalid bit patterns (integers and raw pointers).
    Ok(Some(unsafe { ptr.read() }))
}

fn cancel_token(
    ptr: *const qovery_cancel_token,
    name: &str,
) -> Result<Option<CancelToken>, CallError> {
    if ptr.is_null() {
        return Ok(None);
    }
    // Cloned: the call holds its own reference to the flag.
    Ok(Some(ffi::handle(ptr, name)?.clone()))
}

struct RedeployArgs {
    apply_immediately: Option<bool>,
    cancel: Option<CancelToken>,
}

impl RedeployArgs {
    fn read(ptr: *const qovery_redeploy_options) -> Result<RedeployArgs, CallError> {
        let Some(o) = read_options(ptr, "redeploy_options")? else {
            return Ok(RedeployArgs {
                apply_immediately: None,
                cancel: None,
            });
        };
        let apply_immediately = match o.apply_immediately {
            0 => None,
            1 => Some(true),
            2 => Some(false),
            other => {
                return Err(CallError::invalid(format!(
                    "redeploy_options->apply_immediately is {other}, expected a qovery_apply_immediately value"
                )))
            }
        };
        Ok(RedeployArgs {
            apply_immediately,
            cancel: cancel_token(o.cancel, "redeploy_options->cancel")?,
        })
    }

    fn core(&self) -> RedeployOptions<'_> {
        RedeployOptions {
            apply_immediately: self.apply_immediately,
            cancel: self.cancel.as_ref().map(|c| c as &dyn qovery::Cancel),
        }
    }
}

struct WaitArgs<'a> {
    timeout: Duration,
    poll_interval: Duration,
    settle_delay: Duration,
    cancel: Option<CancelToken>,
    accepted: Option<&'a DeploymentStatus>,
}

impl<'a> WaitArgs<'a> {
    fn read(ptr: *const qovery_wait_options) -> Result<WaitArgs<'a>, CallError> {
        let defaults = WaitOptions::default();
        let Some(o) = read_options(ptr, "wait_options")? else {
            return Ok(WaitArgs {
                timeout: defaults.timeout,
                poll_interval: defaults.poll_interval,
                settle_delay: defaults.settle_delay,
                cancel: None,
                accepted: None,
            });
        };
        let accepted = if o.accepted.is_null() {
            None
        } else {
            let result = ffi::handle(o.accepted, "wait_options->accepted")?;
            let status = result.status.as_ref().ok_or_else(|| {
                CallError::invalid("wait_options->accepted holds no status (it is an error result)")
            })?;
            Some(&status.status)
        };
        Ok(WaitArgs {
            timeout: millis(o.timeout_ms),
            poll_interval: millis(o.poll_interval_ms),
            settle_delay: millis(o.settle_delay_ms),
            cancel: cancel_token(o.cancel, "wait_options->cancel")?,
            accepted,
        })
    }

    fn core<'b>(&'b self, on_progress: Option<qovery::OnProgress<'b>>) -> WaitOptions<'b> {
        WaitOptions {
            timeout: self.timeout,
            poll_interval: self.poll_interval,
            settle_delay: self.settle_delay,
            on_progress,
            cancel: self.cancel.as_ref().map(|c| c as &dyn qovery::Cancel),
            accepted: self.accepted,
        }
    }
}

/// Calls the C progress callback with a borrowed view of each status.
fn progress(
    callback: qovery_progress_callback,
    user_data: *mut c_void,
) -> impl FnMut(&qovery::Progress<'_>) -> ControlFlow<()> {
    move |event| {
        let Some(callback) = callback else {
            return ControlFlow::Continue(());
        };
        let view = ResultData::borrowed_view(event);
        let view_ptr = ptr::from_ref(&view).cast::<qovery_result>();
        // SAFETY: the caller's function, called as documented; `view` outlives the call.
        match unsafe { callback(view_ptr, user_data) } {
            0 => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        }
    }
}

fn client_ref<'a>(ptr: *const qovery_client) -> Result<&'a Client, CallError> {
    ffi::handle(ptr, "client")
}

/// Fills `options` with the defaults and sets `struct_size`. NULL does nothing.
#[no_mangle]
pub extern "C" fn qovery_redeploy_options_init(options: *mut qovery_redeploy_options) {
    ffi_guard!({
        let defaults = qovery_redeploy_options {
            struct_size: size_of::<qovery_redeploy_options>(),
            apply_immediately: qovery_apply_immediately::QOVERY_APPLY_IMMEDIATELY_UNSET as u32,
            cancel: ptr::null(),
        };
        if !options.is_null() {
            ffi::write_out(options, "options", defaults)?;
        }
        Ok(())
    })
}

/// Fills `options` with the defaults (30 min timeout, 3 s poll, 10 s settle delay, no cancel
/// token, no accepted result) and sets `struct_size`. NULL does nothing.
#[no_mangle]
pub extern "C" fn qovery_wait_options_init(options: *mut qovery_wait_options) {
    ffi_guard!({
        let d = WaitOptions::default();
        let defaults = qovery_wait_options {
            struct_size: size_of::<qovery_wait_options>(),
            timeout_ms: d.timeout.as_millis() as u64,
            poll_interval_ms: d.poll_interval.as_millis() as u64,
            settle_delay_ms: d.settle_delay.as_millis() as u64,
            cancel: ptr::null(),
            accepted: ptr::null(),
        };
        if !options.is_null() {
            ffi::write_out(options, "options", defaults)?;
        }
        Ok(())
    })
}

/// `POST /database/{database_id}/redeploy`: asks for a redeploy. On success the result holds
/// the status of the new deployment request (HTTP 202). `database_id` is a UUID string;
/// `options` may be NULL. Blocks for at most the client's deadline. Never returns NULL: free
/// the result with `qovery_result_free()`.
#[no_mangle]
pub extern "C" fn qovery_redeploy_database(
    client: *const qovery_client,
    database_id: *const c_char,
    options: *const qovery_redeploy_options,
) -> *mut qovery_result {
    ffi_guard!({
        let client = client_ref(client)?;
        let id = ffi::string(database_id, "database_id")?;
        let args = RedeployArgs::read(options)?;
        Ok(ResultData::from_core(client.redeploy_database(id, args.core())).into_raw())
    })
}

/// `GET /database/{database_id}/status`: the current deployment status. Blocks for at most
/// the client's deadline. Never returns NULL: free the result with `qovery_result_free()`.
#[no_mangle]
pub extern "C" fn qovery_database_status(
    client: *const qovery_client,
    database_id: *const c_char,
) -> *mut qovery_result {
    ffi_guard!({
        let client = client_ref(client)?;
        let id = ffi::string(database_id, "database_id")?;
        Ok(ResultData::from_core(client.database_status(id)).into_raw())
    })
}

/// Polls the status until the deployment ends: `QOVERY_OK` with the `DEPLOYED` status, or
/// `QOVERY_ERR_DEPLOYMENT_FAILED` holding the failed status, `QOVERY_ERR_WAIT_TIMEOUT`,
/// `QOVERY_ERR_CANCELLED` (callback or cancel token), or the error of a poll that cannot
/// succeed by asking again (401, 403, 404, ...); transient poll failures are retried until the
/// timeout. `options` and `progress_callback` may be NULL; `user_data` is passed to it as is.
/// Never returns NULL: free the result with `qovery_result_free()`.
#[no_mangle]
pub extern "C" fn qovery_wait_for_database(
    client: *const qovery_client,
    database_id: *const c_char,
    options: *const qovery_wait_options,
    progress_callback: qovery_progress_callback,
    user_data: *mut c_void,
) -> *mut qovery_result {
    ffi_guard!({
        let client = client_ref(client)?;
        let id = ffi::string(database_id, "database_id")?;
        let args = WaitArgs::read(options)?;
        let mut report = progress(progress_callback, user_data);
        let outcome = client.wait_for_database(id, args.core(Some(&mut report)));
        Ok(ResultData::from_core(outcome).into_raw())
    })
}

/// `qovery_redeploy_database()`, then `qovery_wait_for_database()` for that deployment
/// (told apart from earlier ones by its request id). `wait_options->timeout_ms` bounds both;
/// the redeploy's own status is reported to `progress_callback` first. Either cancel token cancels.
/// Never returns NULL: free the result with `qovery_result_free()`.
#[no_mangle]
pub extern "C" fn qovery_redeploy_and_wait(
    client: *const qovery_client,
    database_id: *const c_char,
    redeploy_options: *const qovery_redeploy_options,
    wait_options: *const qovery_wait_options,
    progress_callback: qovery_progress_callback,
    user_data: *mut c_void,
) -> *mut qovery_result {
    ffi_guard!({
        let client = client_ref(client)?;
        let id = ffi::string(database_id, "database_id")?;
        let redeploy = RedeployArgs::read(redeploy_options)?;
        let mut wait = WaitArgs::read(wait_options)?;
        wait.accepted = None;
        let mut report = progress(progress_callback, user_data);
        let outcome = client.redeploy_and_wait(id, redeploy.core(), wait.core(Some(&mut report)));
        Ok(ResultData::from_core(outcome).into_raw())
    })
}

/// A new, untriggered cancel token. Free it with `qovery_cancel_token_free()`. Returns NULL
/// only on an internal error.
#[no_mangle]
pub extern "C" fn qovery_cancel_token_new() -> *mut qovery_cancel_token {
    ffi_guard!({ Ok(ffi::into_raw::<qovery_cancel_token>(CancelToken::new())) })
}

/// Triggers the token: every call using it returns `QOVERY_ERR_CANCELLED` within about 50 ms.
/// Any thread. Returns `QOVERY_ERR_NULL_PARAMETER` for NULL, `QOVERY_OK` otherwise.
#[no_mangle]
pub extern "C" fn qovery_cancel_token_cancel(
    token: *const qovery_cancel_token,
) -> crate::code::qovery_code {
    ffi_guard!({
        ffi::handle(token, "token")?.cancel();
        Ok(crate::code::qovery_code::QOVERY_OK)
    })
}

/// Whether the token was triggered (false for NULL). Any thread.
#[no_mangle]
pub extern "C" fn qovery_cancel_token_is_cancelled(token: *const qovery_cancel_token) -> bool {
    ffi_guard!({ Ok(qovery::Cancel::is_cancelled(ffi::handle(token, "token")?)) })
}

/// Frees a token once no call uses it. NULL does nothing.
#[no_mangle]
pub extern "C" fn qovery_cancel_token_free(token: *mut qovery_cancel_token) {
    ffi_guard!({
        ffi::free(token);
        Ok(())
    })
}

impl crate::panic::FfiReturn for *mut qovery_cancel_token {
    fn from_failure(_: CallError) -> Self {
        ptr::null_mut()
    }
}

impl crate::panic::FfiReturn for *mut crate::client::qovery_client_options {
    fn from_failure(_: CallError) -> Self {
        ptr::null_mut()
    }
}
