//! The result handle: the outcome of one call, with every string it hands out.

use std::ffi::CString;
use std::os::raw::c_char;
use std::ptr;
use std::sync::OnceLock;
use std::time::Duration;

use qovery::{Belongs, DeploymentStatus, Error, Progress};
use time::format_description::well_known::Rfc3339;

use crate::code::qovery_code;
use crate::ffi::{self, Handle};
use crate::panic::CallError;

/// The outcome of one call: either a deployment status (code `QOVERY_OK`) or an error (any
/// other code), which may also carry a status (`QOVERY_ERR_DEPLOYMENT_FAILED`: the final one;
/// `QOVERY_ERR_WAIT_TIMEOUT`, `QOVERY_ERR_CANCELLED`: the last one seen).
///
/// Ownership: returned by the calls (`qovery_redeploy_database()`, ...), never NULL, owned
/// by the caller, freed with `qovery_result_free()`. Every string a getter returns is owned
/// by the result and stays valid until the result is freed; never free those strings. The
/// result given to a progress callback is borrowed: it is valid only during the callback and
/// must not be freed (freeing it does nothing).
///
/// Threads: immutable once returned, so getters may be called from any number of threads at
/// once; `qovery_result_free()` must not run concurrently with them.
///
/// Getters of status fields return NULL (strings) or false (out-parameter getters) when the
/// result holds no status or the field is unknown in the status: absent, null, of the wrong
/// JSON type, out of range (integers beyond `int64_t`) or malformed (a UUID or date that is
/// not one). Only `state` is always there: the library refuses a status body without it.
pub struct qovery_result {
    _private: [u8; 0],
}

impl Handle for qovery_result {
    type Rust = ResultData;
}

/// Whether a status given to a progress callback is the deployment waited for (see
/// `qovery_result_belongs()`). Values are never renumbered.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum qovery_belongs {
    /// Cannot be told, or the result was not given to a progress callback.
    QOVERY_BELONGS_UNKNOWN = 0,
    /// The deployment waited for.
    QOVERY_BELONGS_OURS = 1,
    /// An earlier deployment, still running ahead of the one waited for.
    QOVERY_BELONGS_EARLIER = 2,
}

impl crate::panic::FfiReturn for qovery_belongs {
    fn from_failure(_: CallError) -> Self {
        qovery_belongs::QOVERY_BELONGS_UNKNOWN
    }
}

pub(crate) struct ResultData {
    code: qovery_code,
    /// `""` on success; otherwise one line, server detail included, never the token.
    message: CString,
    detail: Option<CString>,
    http_status: u16,
    retry_after: Option<Duration>,
    pub(crate) status: Option<StatusData>,
    /// Given to a progress callback: owned by the library, `qovery_result_free` ignores it.
    borrowed: bool,
}

/// A status and the C strings its getters hand out. Each string is made on the first call
/// of its getter (`OnceLock`: getters may run on several threads at once), not when the
/// result is built: a caller that reads one field pays for one string, not eleven plus an
/// RFC 3339 formatting and a copy of the body.
pub(crate) struct StatusData {
    pub(crate) status: DeploymentStatus,
    /// For a status given to a progress callback, whether it is the deployment waited for.
    belongs: Belongs,
    summary: OnceLock<CString>,
    id: OnceLock<Option<CString>>,
    state: OnceLock<CString>,
    service_deployment_status: OnceLock<Option<CString>>,
    last_deployment_date: OnceLock<Option<CString>>,
    execution_id: OnceLock<Option<CString>>,
    action: OnceLock<Option<CString>>,
    action_status: OnceLock<Option<CString>>,
    sub_action: OnceLock<Option<CString>>,
    deployment_request_id: OnceLock<Option<CString>>,
    raw_json: OnceLock<CString>,
    steps: OnceLock<Vec<(Option<CString>, Option<CString>)>>,
}

/// A C copy of a string. A NUL inside (possible only in an unknown enum value the server sent
/// as `\u0000`) becomes U+FFFD, so the C string is never cut short silently.
fn c_string(text: &str) -> CString {
    CString::new(text)
        .unwrap_or_else(|_| CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default())
}

impl StatusData {
    pub(crate) fn new(status: DeploymentStatus) -> StatusData {
        StatusData {
            status,
            belongs: Belongs::Unknown,
            summary: OnceLock::new(),
            id: OnceLock::new(),
            state: OnceLock::new(),
            service_deployment_status: OnceLock::new(),
            last_deployment_date: OnceLock::new(),
            execution_id: OnceLock::new(),
            action: OnceLock::new(),
            action_status: OnceLock::new(),
            sub_action: OnceLock::new(),
            deployment_request_id: OnceLock::new(),
            raw_json: OnceLock::new(),
            steps: OnceLock::new(),
        }
    }

    fn summary(&self) -> &CString {
        self.summary.get_or_init(|| {
            let progress = Progress {
                status: &self.status,
                belongs: self.belongs,
            };
            c_string(&progress.summary())
        })
    }

    fn id(&self) -> Option<&CString> {
        self.id
            .get_or_init(|| {
                self.status
                    .id
                    .map(|id| c_string(&id.hyphenated().to_string()))
            })
            .as_ref()
    }

    fn state(&self) -> &CString {
        self.state
            .get_or_init(|| c_string(self.status.state.as_str()))
    }

    fn service_deployment_status(&self) -> Option<&CString> {
        self.service_deployment_status
            .get_or_init(|| {
                let v = self.status.service_deployment_status.as_ref();
                v.map(|v| c_string(v.as_str()))
            })
            .as_ref()
    }

    fn last_deployment_date(&self) -> Option<&CString> {
        self.last_deployment_date
            .get_or_init(|| {
                self.status
                    .last_deployment_date
                    .and_then(|d| d.format(&Rfc3339).ok())
                    .map(|d| c_string(&d))
            })
            .as_ref()
    }

    fn execution_id(&self) -> Option<&CString> {
        self.execution_id
            .get_or_init(|| self.status.execution_id.as_deref().map(c_string))
            .as_ref()
    }

    fn action(&self) -> Option<&CString> {
        self.action
            .get_or_init(|| {
                let v = self.status.status_details.action.as_ref();
                v.map(|v| c_string(v.as_str()))
            })
            .as_ref()
    }

    fn action_status(&self) -> Option<&CString> {
        self.action_status
            .get_or_init(|| {
                let v = self.status.status_details.status.as_ref();
                v.map(|v| c_string(v.as_str()))
            })
            .as_ref()
    }

    fn sub_action(&self) -> Option<&CString> {
        self.sub_action
            .get_or_init(|| {
                let v = self.status.status_details.sub_action.as_ref();
                v.map(|v| c_string(v.as_str()))
            })
            .as_ref()
    }

    fn deployment_request_id(&self) -> Option<&CString> {
        self.deployment_request_id
            .get_or_init(|| {
                self.status
                    .deployment_request_id
                    .map(|id| c_string(&id.hyphenated().to_string()))
            })
            .as_ref()
    }

    fn raw_json(&self) -> &CString {
        self.raw_json
            .get_or_init(|| c_string(self.status.raw_json()))
    }

    fn steps(&self) -> &[(Option<CString>, Option<CString>)] {
        self.steps.get_or_init(|| {
            self.status.steps.as_ref().map_or_else(Vec::new, |steps| {
                steps
                    .details
                    .iter()
                    .map(|m| {
                        (
                            m.step_name.as_ref().map(|n| c_string(n.as_str())),
                            m.status.as_ref().map(|st| c_string(st.as_str())),
                        )
                    })
                    .collect()
            })
        })
    }
}

impl ResultData {
    pub(crate) fn success(status: DeploymentStatus) -> ResultData {
        ResultData {
            code: qovery_code::QOVERY_OK,
            message: CString::default(),
            detail: None,
            http_status: 0,
            retry_after: None,
            status: Some(StatusData::new(status)),
            borrowed: false,
        }
    }

    pub(crate) fn error(error: &Error) -> ResultData {
        ResultData {
            code: qovery_code::for_kind(error.kind()).unwrap_or(qovery_code::QOVERY_ERR_HTTP),
            message: c_string(&error.to_string()),
            detail: error.detail().map(c_string),
            http_status: error.http_status().unwrap_or(0),
            retry_after: error.retry_after(),
            status: error.status().cloned().map(StatusData::new),
            borrowed: false,
        }
    }

    pub(crate) fn from_core(outcome: Result<DeploymentStatus, Error>) -> ResultData {
        match outcome {
            Ok(status) => ResultData::success(status),
            Err(error) => ResultData::error(&error),
        }
    }

    pub(crate) fn failure(failure: CallError) -> ResultData {
        ResultData {
            code: failure.code,
            message: c_string(&failure.message),
            detail: None,
            http_status: 0,
            retry_after: None,
            status: None,
            borrowed: false,
        }
    }

    /// A view of a status for a progress callback (see `borrowed`).
    pub(crate) fn borrowed_view(progress: &Progress<'_>) -> ResultData {
        let mut view = ResultData {
            borrowed: true,
            ..ResultData::success(progress.status.clone())
        };
        if let Some(data) = view.status.as_mut() {
            data.belongs = progress.belongs;
        }
        view
    }

    pub(crate) fn into_raw(self) -> *mut qovery_result {
        ffi::into_raw::<qovery_result>(self)
    }
}

impl crate::panic::FfiReturn for *mut qovery_result {
    /// A call that fails before reaching the core still returns a result holding the code.
    fn from_failure(failure: CallError) -> Self {
        ResultData::failure(failure).into_raw()
    }
}

fn data<'a>(result: *const qovery_result) -> Result<&'a ResultData, CallError> {
    ffi::handle(result, "result")
}

fn status<'a>(result: *const qovery_result) -> Result<Option<&'a StatusData>, CallError> {
    Ok(data(result)?.status.as_ref())
}

fn c_ptr(text: Option<&CString>) -> *const c_char {
    text.map_or(ptr::null(), |t| t.as_ptr())
}

/// A string field of the status, or NULL.
fn status_str(
    result: *const qovery_result,
    field: impl FnOnce(&StatusData) -> Option<&CString>,
) -> Result<*const c_char, CallError> {
    Ok(c_ptr(status(result)?.and_then(field)))
}

/// Writes a present value to `out` and returns true; false (and `out` untouched) if absent.
fn optional<T>(out: *mut T, value: Option<T>) -> Result<bool, CallError> {
    match value {
        Some(v) => ffi::write_out(out, "out", v).map(|()| true),
        None => Ok(false),
    }
}

/// Parses a saved `Status` body (as the API sends it, NUL-terminated UTF-8), like Python's
/// `DeploymentStatus.from_json`: `QOVERY_OK` with the status when `json` is a JSON object with a
/// string `state` (every other field is read tolerantly: unknown when absent, null, of the
/// wrong type, out of range or malformed), `QOVERY_ERR_DECODE` otherwise. NULL is
/// `QOVERY_ERR_NULL_PARAMETER`, non-UTF-8 `QOVERY_ERR_INVALID_ARGUMENT`. No I/O. Never returns
/// NULL: free the result with `qovery_result_free()`.
#[no_mangle]
pub extern "C" fn qovery_status_from_json(json: *const c_char) -> *mut qovery_result {
    ffi_guard!({
        let text = ffi::string(json, "json")?;
        Ok(ResultData::from_core(DeploymentStatus::from_json(text)).into_raw())
    })
}

/// Frees a result and every string it handed out. NULL, and the borrowed result given to a
/// progress callback, do nothing.
#[no_mangle]
pub extern "C" fn qovery_result_free(result: *mut qovery_result) {
    ffi_guard!({
        if !result.is_null() && !data(result)?.borrowed {
            ffi::free(result);
        }
        Ok(())
    })
}

/// The result's code: `QOVERY_OK` when it holds a status, the error's code otherwise.
/// `QOVERY_ERR_NULL_PARAMETER` for NULL.
#[no_mangle]
pub extern "C" fn qovery_result_code(result: *const qovery_result) -> qovery_code {
    ffi_guard!({ Ok(data(result)?.code) })
}

/// What went wrong, in one line: the library's message, the HTTP status, the server's detail
/// and the requested retry delay, never the token. `""` on success; NULL only for NULL.
#[no_mangle]
pub extern "C" fn qovery_result_message(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ Ok(data(result)?.message.as_ptr()) })
}

/// The server's own explanation from the error body (`detail`), cleaned (token removed,
/// one line, bounded); NULL if there was none.
#[no_mangle]
pub extern "C" fn qovery_result_detail(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ Ok(c_ptr(data(result)?.detail.as_ref())) })
}

/// The HTTP status of the answer that caused the error; 0 on success or when no answer came.
#[no_mangle]
pub extern "C" fn qovery_result_http_status(result: *const qovery_result) -> u16 {
    ffi_guard!({ Ok(data(result)?.http_status) })
}

/// For `QOVERY_ERR_RATE_LIMITED` (and 503): the wait the server asked for (`Retry-After`),
/// in milliseconds. Returns false if there is none.
#[no_mangle]
pub extern "C" fn qovery_result_retry_after_ms(
    result: *const qovery_result,
    out: *mut u64,
) -> bool {
    ffi_guard!({
        let wait = data(result)?.retry_after;
        optional(
            out,
            wait.map(|w| w.as_millis().min(u64::MAX as u128) as u64),
        )
    })
}

/// Whether the result holds a deployment status (always on success; for some errors).
#[no_mangle]
pub extern "C" fn qovery_result_has_status(result: *const qovery_result) -> bool {
    ffi_guard!({ Ok(status(result)?.is_some()) })
}

/// Whether the result is the answer to a redeploy that the API **accepted** (HTTP 2xx) but whose
/// body could not be read (not JSON, no string `state`, cut short, over the size cap). The
/// code is then `QOVERY_OK`: the redeploy was accepted, do not send it again. `state` is `""`,
/// every other status getter returns NULL / false, and `qovery_result_raw_json()` gives what
/// was received (possibly empty). `qovery_redeploy_and_wait()` goes on waiting in that case.
/// False otherwise (and for NULL).
#[no_mangle]
pub extern "C" fn qovery_result_accepted_unreadable(result: *const qovery_result) -> bool {
    ffi_guard!({ Ok(status(result)?.is_some_and(|s| s.status.accepted_unreadable())) })
}

/// Whether the status of a result given to a progress callback is the deployment waited for
/// (the redeploy's own answer, or a status with its request id), an earlier one still running
/// ahead of it (another request id), or cannot be told (no request id, or a plain wait with no
/// redeploy to correlate with). `QOVERY_BELONGS_UNKNOWN` for any other result and for NULL.
#[no_mangle]
pub extern "C" fn qovery_result_belongs(result: *const qovery_result) -> qovery_belongs {
    ffi_guard!({
        Ok(match status(result)?.map(|s| s.belongs) {
            Some(Belongs::Ours) => qovery_belongs::QOVERY_BELONGS_OURS,
            Some(Belongs::Earlier) => qovery_belongs::QOVERY_BELONGS_EARLIER,
            _ => qovery_belongs::QOVERY_BELONGS_UNKNOWN,
        })
    })
}

/// The one-line summary every binding shows, e.g. `"DEPLOYING (DEPLOY ONGOING)"`: the state,
/// then `status_details`' action and status (`?` where unknown), `, 3 requests queued` when
/// more than one is, and `, an earlier request` for a progress status of an earlier
/// deployment. Server values are made safe for a terminal (no control characters, each cut
/// to 64 characters). NULL if there is no status.
#[no_mangle]
pub extern "C" fn qovery_result_summary(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ Ok(status(result)?.map_or(ptr::null(), |s| s.summary().as_ptr())) })
}

/// `state`, e.g. `"DEPLOYING"`. Values this version does not know are returned verbatim; `""`
/// for an accepted redeploy whose answer was unreadable (`qovery_result_accepted_unreadable()`).
#[no_mangle]
pub extern "C" fn qovery_result_state(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ status_str(result, |s| Some(s.state())) })
}

/// Whether `state` is `DEPLOYED`.
#[no_mangle]
pub extern "C" fn qovery_result_is_success(result: *const qovery_result) -> bool {
    ffi_guard!({ Ok(status(result)?.is_some_and(|s| s.status.is_success())) })
}

/// Whether `state` is a failure: any `*_ERROR` state (future ones included) or `CANCELED`.
#[no_mangle]
pub extern "C" fn qovery_result_is_failure(result: *const qovery_result) -> bool {
    ffi_guard!({ Ok(status(result)?.is_some_and(|s| s.status.is_failure())) })
}

/// Whether `state` is settled: a success, a failure, `STOPPED`, `DELETED` or `RESTARTED`.
#[no_mangle]
pub extern "C" fn qovery_result_is_terminal(result: *const qovery_result) -> bool {
    ffi_guard!({ Ok(status(result)?.is_some_and(|s| s.status.is_terminal())) })
}

/// `id`: the database id, lowercase hyphenated UUID; NULL if absent or not a UUID.
#[no_mangle]
pub extern "C" fn qovery_result_id(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.id()) })
}

/// `service_deployment_status`: `NEVER_DEPLOYED`, `OUT_OF_DATE`, `UP_TO_DATE` (or newer);
/// NULL if absent or not a string.
#[no_mangle]
pub extern "C" fn qovery_result_service_deployment_status(
    result: *const qovery_result,
) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.service_deployment_status()) })
}

/// `last_deployment_date` as RFC 3339 (`2026-11-27T08:00:00Z`); NULL if absent.
#[no_mangle]
pub extern "C" fn qovery_result_last_deployment_date(
    result: *const qovery_result,
) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.last_deployment_date()) })
}

/// `last_deployment_date` as seconds since the Unix epoch; false if absent.
#[no_mangle]
pub extern "C" fn qovery_result_last_deployment_unix(
    result: *const qovery_result,
    out: *mut i64,
) -> bool {
    ffi_guard!({
        let date = status(result)?.and_then(|s| s.status.last_deployment_date);
        optional(out, date.map(|d| d.unix_timestamp()))
    })
}

/// `is_part_last_deployment`; false (and `*out` untouched) if there is no status or the field
/// is absent or not a boolean.
#[no_mangle]
pub extern "C" fn qovery_result_is_part_last_deployment(
    result: *const qovery_result,
    out: *mut bool,
) -> bool {
    ffi_guard!({
        let value = status(result)?.and_then(|s| s.status.is_part_last_deployment);
        optional(out, value)
    })
}

/// `execution_id`; NULL if absent.
#[no_mangle]
pub extern "C" fn qovery_result_execution_id(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.execution_id()) })
}

/// `status_details.action`: `DEPLOY`, `DELETE`, `RESTART`, `STOP`, `UNKNOWN` (or newer); NULL
/// if absent or not a string.
#[no_mangle]
pub extern "C" fn qovery_result_status_details_action(
    result: *const qovery_result,
) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.action()) })
}

/// `status_details.status`: `QUEUED`, `ONGOING`, `SUCCESS`, `ERROR`, ... (or newer); NULL if
/// absent or not a string.
#[no_mangle]
pub extern "C" fn qovery_result_status_details_status(
    result: *const qovery_result,
) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.action_status()) })
}

/// `status_details.sub_action`: `NONE` (also when the API leaves it out),
/// `TERRAFORM_PLAN_ONLY`, ... (or newer); NULL if null or not a string.
#[no_mangle]
pub extern "C" fn qovery_result_status_details_sub_action(
    result: *const qovery_result,
) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.sub_action()) })
}

/// `deployment_request_id`, lowercase hyphenated UUID; NULL if null or absent.
#[no_mangle]
pub extern "C" fn qovery_result_deployment_request_id(
    result: *const qovery_result,
) -> *const c_char {
    ffi_guard!({ status_str(result, |s| s.deployment_request_id()) })
}

/// `deployment_requests_count`. The schema types it as a plain integer, so any `int64_t`
/// value, negative included, is given as sent; false (and `*out` untouched) if there is no
/// status, or the count is absent, null, not an integer or beyond `int64_t`.
#[no_mangle]
pub extern "C" fn qovery_result_deployment_requests_count(
    result: *const qovery_result,
    out: *mut i64,
) -> bool {
    ffi_guard!({
        let value = status(result)?.and_then(|s| s.status.deployment_requests_count);
        optional(out, value)
    })
}

/// Whether the status has `steps`.
#[no_mangle]
pub extern "C" fn qovery_result_has_steps(result: *const qovery_result) -> bool {
    ffi_guard!({ Ok(status(result)?.is_some_and(|s| s.status.steps.is_some())) })
}

/// `steps.total_duration_sec` in seconds (any `int64_t`, as sent); false if absent or null
/// (the deployment has not completed), not an integer or beyond `int64_t`.
#[no_mangle]
pub extern "C" fn qovery_result_steps_total_duration_sec(
    result: *const qovery_result,
    out: *mut i64,
) -> bool {
    ffi_guard!({
        let steps = status(result)?.and_then(|s| s.status.steps.as_ref());
        optional(out, steps.and_then(|st| st.total_duration_sec))
    })
}

/// `steps.total_computing_duration_sec` in seconds (any `int64_t`, as sent); false if there
/// are no steps, or it is absent, not an integer or beyond `int64_t`.
#[no_mangle]
pub extern "C" fn qovery_result_steps_total_computing_duration_sec(
    result: *const qovery_result,
    out: *mut i64,
) -> bool {
    ffi_guard!({
        let steps = status(result)?.and_then(|s| s.status.steps.as_ref());
        optional(out, steps.and_then(|st| st.total_computing_duration_sec))
    })
}

/// The number of entries in `steps.details` (0 without steps). Index them from 0 with the
/// `qovery_result_step_*` getters.
#[no_mangle]
pub extern "C" fn qovery_result_step_count(result: *const qovery_result) -> usize {
    ffi_guard!({ Ok(status(result)?.map_or(0, |s| s.steps().len())) })
}

/// `steps.details[index].step_name`, e.g. `"DEPLOYMENT"`; NULL if absent or `index` is out
/// of range.
#[no_mangle]
pub extern "C" fn qovery_result_step_name(
    result: *const qovery_result,
    index: usize,
) -> *const c_char {
    ffi_guard!({
        status_str(result, |s| {
            s.steps().get(index).and_then(|st| st.0.as_ref())
        })
    })
}

/// `steps.details[index].status`, e.g. `"SUCCESS"`; NULL if absent or `index` is out of
/// range.
#[no_mangle]
pub extern "C" fn qovery_result_step_status(
    result: *const qovery_result,
    index: usize,
) -> *const c_char {
    ffi_guard!({
        status_str(result, |s| {
            s.steps().get(index).and_then(|st| st.1.as_ref())
        })
    })
}

/// `steps.details[index].duration_sec` in seconds (any `int64_t`, as sent); false if absent,
/// not an integer, beyond `int64_t`, or `index` is out of range.
#[no_mangle]
pub extern "C" fn qovery_result_step_duration_sec(
    result: *const qovery_result,
    index: usize,
    out: *mut i64,
) -> bool {
    ffi_guard!({
        let steps = status(result)?.and_then(|s| s.status.steps.as_ref());
        let metric = steps.and_then(|st| st.details.get(index));
        optional(out, metric.and_then(|m| m.duration_sec))
    })
}

/// The status body exactly as the server sent it (JSON), including fields this version does
/// not model; for `qovery_result_accepted_unreadable()`, what was received (any text, maybe
/// empty or cut short); NULL if there is no status.
#[no_mangle]
pub extern "C" fn qovery_result_raw_json(result: *const qovery_result) -> *const c_char {
    ffi_guard!({ status_str(result, |s| Some(s.raw_json())) })
}
