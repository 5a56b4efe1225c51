//! Python bindings for qovery-redeploy: the `qovery_redeploy._qovery_redeploy` extension module.
//!
//! Every call that touches the network runs detached from the interpreter (`py.detach`), so
//! other Python threads run meanwhile. Such a call is given a [`Cancel`] that briefly attaches
//! every [`CANCEL_POLL`](qovery_redeploy::CANCEL_POLL) to run `PyErr_CheckSignals`: Ctrl-C
//! stops the call within that poll and the `KeyboardInterrupt` is raised as usual. A progress
//! callback is called the same way, and an exception it raises ends the wait and propagates.
//!
//! Enums (`State`...) and exceptions are plain Python classes in `qovery_redeploy/_types.py`;
//! this module fills the enums' values in from the core and raises those exceptions.

mod asyncio;

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use qovery_redeploy as core;
use qovery_redeploy::{
    AuthScheme, Cancel, Client, DeploymentStatus, ErrorKind, RedeployOptions, WaitOptions,
};

// ---------------------------------------------------------------------------------------------
// Python-side classes this module uses, looked up once.

struct Types {
    state: Py<PyType>,
    service_deployment_status: Py<PyType>,
    service_action: Py<PyType>,
    service_action_status: Py<PyType>,
    service_sub_action: Py<PyType>,
    step_name: Py<PyType>,
    step_status: Py<PyType>,
    /// `_types._ERRORS`: core kind name -> exception class.
    errors: Py<PyDict>,
    base_error: Py<PyType>,
    closed_error: Py<PyType>,
    uuid: Py<PyAny>,
    datetime: Py<PyAny>,
    timezone: Py<PyAny>,
    timedelta: Py<PyAny>,
    json_loads: Py<PyAny>,
}

static TYPES: PyOnceLock<Types> = PyOnceLock::new();

fn types(py: Python<'_>) -> PyResult<&Types> {
    TYPES.get_or_try_init(py, || {
        let m = py.import("qovery_redeploy._types")?;
        let class = |name: &str| -> PyResult<Py<PyType>> {
            Ok(m.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        let install = m.getattr("_install_values")?;
        let enums: [(&str, &[&str]); 7] = [
            ("State", core::State::KNOWN),
            (
                "ServiceDeploymentStatus",
                core::ServiceDeploymentStatus::KNOWN,
            ),
            ("ServiceAction", core::ServiceAction::KNOWN),
            ("ServiceActionStatus", core::ServiceActionStatus::KNOWN),
            ("ServiceSubAction", core::ServiceSubAction::KNOWN),
            ("StepName", core::StepName::KNOWN),
            ("StepStatus", core::StepStatus::KNOWN),
        ];
        for (name, known) in enums {
            install.call1((m.getattr(name)?, PyList::new(py, known)?))?;
        }
        let datetime = py.import("datetime")?;
        Ok(Types {
            state: class("State")?,
            service_deployment_status: class("ServiceDeploymentStatus")?,
            service_action: class("ServiceAction")?,
            service_action_status: class("ServiceActionStatus")?,
            service_sub_action: class("ServiceSubAction")?,
            step_name: class("StepName")?,
            step_status: class("StepStatus")?,
            errors: m.getattr("_ERRORS")?.cast_into::<PyDict>()?.unbind(),
            base_error: class("QoveryError")?,
            closed_error: class("ClientClosedError")?,
            uuid: py.import("uuid")?.getattr("UUID")?.unbind(),
            datetime: datetime.getattr("datetime")?.unbind(),
            timezone: datetime.getattr("timezone")?.unbind(),
            timedelta: datetime.getattr("timedelta")?.unbind(),
            json_loads: py.import("json")?.getattr("loads")?.unbind(),
        })
    })
}

fn open_enum<'py>(py: Python<'py>, class: &Py<PyType>, value: &str) -> PyResult<Bound<'py, PyAny>> {
    class.bind(py).call1((value,))
}

/// An optional enum field: `None` when the API's value was absent or unreadable.
fn open_enum_opt<'py>(
    py: Python<'py>,
    class: &Py<PyType>,
    value: Option<&str>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    value.map(|v| open_enum(py, class, v)).transpose()
}

// ---------------------------------------------------------------------------------------------
// Errors

/// The Python exception for a core error: the class for its kind, with the attributes.
fn to_py_err(py: Python<'_>, e: &core::Error) -> PyErr {
    match build_error(py, e) {
        Ok(err) => err,
        Err(err) => err,
    }
}

fn build_error(py: Python<'_>, e: &core::Error) -> PyResult<PyErr> {
    let t = types(py)?;
    let class = match t.errors.bind(py).get_item(e.kind().name())? {
        Some(c) => c,
        None => t.base_error.bind(py).clone().into_any(),
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("http_status", e.http_status())?;
    // An argument refused before any I/O has no server detail: its message is the detail,
    // so `e.detail` explains every error that has an explanation.
    let detail = match e.detail() {
        None if e.kind() == ErrorKind::InvalidInput => Some(e.message()),
        other => other,
    };
    kwargs.set_item("detail", detail)?;
    kwargs.set_item("retry_after", e.retry_after().map(|d| d.as_secs_f64()))?;
    let status = match e.status() {
        Some(s) => Some(Py::new(py, PyStatus::new(s.clone()))?),
        None => None,
    };
    kwargs.set_item("status", status)?;
    let instance = class.call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

fn invalid_input(py: Python<'_>, message: impl Into<String>) -> PyErr {
    let message = message.into();
    match types(py).and_then(|t| t.errors.bind(py).get_item("invalid_input")) {
        Ok(Some(class)) => {
            let kwargs = PyDict::new(py);
            match kwargs
                .set_item("detail", &message)
                .and_then(|()| class.call((&message,), Some(&kwargs)))
            {
                Ok(instance) => PyErr::from_value(instance),
                Err(e) => e,
            }
        }
        Ok(None) => PyTypeError::new_err(message),
        Err(e) => e,
    }
}

/// Seconds from Python as a `Duration`: finite, not negative (positive unless `zero_ok`), and
/// small enough that adding it to the clock cannot overflow.
fn seconds(py: Python<'_>, name: &str, value: f64, zero_ok: bool) -> PyResult<Duration> {
    const MAX: f64 = 1e9;
    let ok = value.is_finite() && value <= MAX && (value > 0.0 || (zero_ok && value == 0.0));
    if !ok {
        let want = if zero_ok { "0 or more" } else { "more than 0" };
        return Err(invalid_input(
            py,
            format!("{name} must be a number of seconds, {want} and at most {MAX:e}, not {value}"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// A `str` argument as UTF-8. A `str` holding lone surrogates (how Python keeps undecodable
/// bytes) is refused with `InvalidInputError`, never echoed: it may be the token.
fn utf8_arg(py: Python<'_>, name: &str, value: &Bound<'_, PyString>) -> PyResult<String> {
    value.to_cow().map(|c| c.into_owned()).map_err(|_| {
        invalid_input(
            py,
            format!("{name} is not valid UTF-8 (it holds surrogates, e.g. from undecodable bytes)"),
        )
    })
}

/// A database id given as `str` or `uuid.UUID`.
fn database_id(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = value.cast::<PyString>() {
        return utf8_arg(py, "database_id", text);
    }
    if value.is_instance(types(py)?.uuid.bind(py))? {
        return value.str()?.extract();
    }
    Err(PyTypeError::new_err(format!(
        "database_id must be a str or uuid.UUID, not {}",
        value.get_type().name()?
    )))
}

// ---------------------------------------------------------------------------------------------
// Running a blocking call detached, interruptible

/// What stops a detached call from the Python side: a signal handler's exception
/// (`KeyboardInterrupt`), a progress callback's (the first one is kept), or the caller's
/// `cancel` event being set (no exception: the core's `Cancelled` error is raised).
struct Interrupt {
    flagged: AtomicBool,
    error: Mutex<Option<PyErr>>,
    /// An object with `is_set()`, e.g. `threading.Event`.
    event: Option<Py<PyAny>>,
    /// Without an `event`, polls before this instant answer "go on" without attaching to
    /// the interpreter: a call that ends within it never takes the GIL back mid-call
    /// (threads do not fight over it), and a Ctrl-C is still seen within about two poll
    /// periods (signals that came before the call were handled before it started).
    quiet_until: Instant,
}

impl Interrupt {
    fn new(event: Option<Py<PyAny>>) -> Self {
        Interrupt {
            flagged: AtomicBool::new(false),
            error: Mutex::new(None),
            quiet_until: if event.is_some() {
                Instant::now()
            } else {
                Instant::now() + core::CANCEL_POLL
            },
            event,
        }
    }

    fn store(&self, e: PyErr) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.flagged.store(true, Ordering::Release);
    }

    /// Attaches briefly to run pending signal handlers (only the main thread runs them).
    fn poll(&self) -> bool {
        if self.flagged.load(Ordering::Acquire) {
            return true;
        }
        if Instant::now() < self.quiet_until {
            return false;
        }
        Python::attach(|py| {
            if let Err(e) = py.check_signals() {
                self.store(e);
                return true;
            }
            let Some(event) = &self.event else {
                return false;
            };
            match event
                .call_method0(py, "is_set")
                .and_then(|r| r.is_truthy(py))
            {
                Ok(set) => {
                    if set {
                        self.flagged.store(true, Ordering::Release);
                    }
                    set
                }
                Err(e) => {
                    self.store(e);
                    true
                }
            }
        })
    }

    fn take(&self) -> Option<PyErr> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Runs `call` detached from the interpreter with a Ctrl-C aware cancel. An exception stored
/// by a signal handler or a callback wins over the call's own result: it is what stopped it
/// (and a Ctrl-C pressed during a call that still succeeded is not lost).
fn run_detached<T, F>(py: Python<'_>, cancel: Option<Py<PyAny>>, call: F) -> PyResult<T>
where
    T: Send,
    F: Send + FnOnce(&dyn Cancel, &Interrupt) -> Result<T, core::Error>,
{
    if let Some(event) = &cancel {
        if !event.bind(py).hasattr("is_set")? {
            return Err(PyTypeError::new_err(format!(
                "cancel must have an is_set() method (e.g. threading.Event), not {}",
                event.bind(py).get_type().name()?
            )));
        }
    }
    let interrupt = Interrupt::new(cancel);
    let result = py.detach(|| {
        let cancel = || interrupt.poll();
        call(&cancel, &interrupt)
    });
    if let Some(e) = interrupt.take() {
        return Err(e);
    }
    result.map_err(|e| to_py_err(py, &e))
}

/// A progress callback for the core: attaches, calls `callback(status)`, and on an exception
/// stores it and stops the wait.
fn progress<'a>(
    callback: &'a Py<PyAny>,
    interrupt: &'a Interrupt,
) -> impl FnMut(&DeploymentStatus) -> ControlFlow<()> + Send + 'a {
    move |status: &DeploymentStatus| {
        Python::attach(|py| {
            let result =
                Py::new(py, PyStatus::new(status.clone())).and_then(|s| callback.call1(py, (s,)));
            match result {
                Ok(_) => ControlFlow::Continue(()),
                Err(e) => {
                    interrupt.store(e);
                    ControlFlow::Break(())
                }
            }
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Status model

fn hash_of(parts: &[&dyn Fn(&mut DefaultHasher)]) -> u64 {
    let mut h = DefaultHasher::new();
    for p in parts {
        p(&mut h);
    }
    h.finish()
}

/// `StatusDetails`: the action under way and how far it got.
#[pyclass(frozen, eq, module = "qovery_redeploy", name = "StatusDetails")]
#[derive(Clone, PartialEq)]
struct PyStatusDetails {
    inner: core::StatusDetails,
}

#[pymethods]
impl PyStatusDetails {
    /// `None` if absent or not a string.
    #[getter]
    fn action<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = self.inner.action.as_ref().map(|v| v.as_str());
        open_enum_opt(py, &types(py)?.service_action, v)
    }

    /// `None` if absent or not a string.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = self.inner.status.as_ref().map(|v| v.as_str());
        open_enum_opt(py, &types(py)?.service_action_status, v)
    }

    /// `NONE` when the API leaves it out; `None` if null or not a string.
    #[getter]
    fn sub_action<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = self.inner.sub_action.as_ref().map(|v| v.as_str());
        open_enum_opt(py, &types(py)?.service_sub_action, v)
    }

    fn __hash__(&self) -> u64 {
        let d = &self.inner;
        hash_of(&[
            &|h| d.action.as_ref().map(|v| v.as_str()).hash(h),
            &|h| d.status.as_ref().map(|v| v.as_str()).hash(h),
            &|h| d.sub_action.as_ref().map(|v| v.as_str()).hash(h),
        ])
    }

    fn __repr__(&self) -> String {
        let d = &self.inner;
        format!(
            "StatusDetails(action={}, status={}, sub_action={})",
            opt_repr(d.action.as_ref().map(|v| v.as_str())),
            opt_repr(d.status.as_ref().map(|v| v.as_str())),
            opt_repr(d.sub_action.as_ref().map(|v| v.as_str()))
        )
    }
}

/// `ServiceStepMetric`: one step of the deployment; every field may be `None`.
#[pyclass(frozen, eq, module = "qovery_redeploy", name = "StepMetric")]
#[derive(Clone, PartialEq)]
struct PyStepMetric {
    inner: core::StepMetric,
}

#[pymethods]
impl PyStepMetric {
    /// The step (`StepName`, open enum), or `None` if absent.
    #[getter]
    fn step_name<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner.step_name {
            Some(n) => Ok(Some(open_enum(py, &types(py)?.step_name, n.as_str())?)),
            None => Ok(None),
        }
    }

    /// How the step ended (`StepStatus`, open enum), or `None` if absent.
    #[getter]
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.inner.status {
            Some(s) => Ok(Some(open_enum(py, &types(py)?.step_status, s.as_str())?)),
            None => Ok(None),
        }
    }

    /// The step's duration in seconds (`int`), or `None` if absent or not an integer.
    #[getter]
    fn duration_sec(&self) -> Option<i64> {
        self.inner.duration_sec
    }

    fn __hash__(&self) -> u64 {
        let m = &self.inner;
        hash_of(&[
            &|h| m.step_name.as_ref().map(|n| n.as_str()).hash(h),
            &|h| m.status.as_ref().map(|n| n.as_str()).hash(h),
            &|h| m.duration_sec.hash(h),
        ])
    }

    fn __repr__(&self) -> String {
        let m = &self.inner;
        format!(
            "StepMetric(step_name={}, status={}, duration_sec={})",
            opt_repr(m.step_name.as_ref().map(|n| n.as_str())),
            opt_repr(m.status.as_ref().map(|n| n.as_str())),
            m.duration_sec
                .map_or_else(|| "None".to_owned(), |d| d.to_string())
        )
    }
}

fn opt_repr(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_owned(), py_str)
}

/// A string as Python's `repr` shows it (single quotes unless the text has one and no `"`).
fn py_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `ServiceStepMetrics`: durations of the deployment's steps.
#[pyclass(frozen, eq, module = "qovery_redeploy", name = "Steps")]
#[derive(Clone, PartialEq)]
struct PySteps {
    inner: core::Steps,
}

#[pymethods]
impl PySteps {
    /// `None` while the deployment has not completed (or if not an integer within 64 bits).
    #[getter]
    fn total_duration_sec(&self) -> Option<i64> {
        self.inner.total_duration_sec
    }

    /// `None` if absent or not an integer within 64 bits.
    #[getter]
    fn total_computing_duration_sec(&self) -> Option<i64> {
        self.inner.total_computing_duration_sec
    }

    /// One `StepMetric` per step, as a tuple.
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let items = self
            .inner
            .details
            .iter()
            .map(|m| Py::new(py, PyStepMetric { inner: m.clone() }))
            .collect::<PyResult<Vec<_>>>()?;
        PyTuple::new(py, items)
    }

    fn __hash__(&self) -> u64 {
        let s = &self.inner;
        hash_of(&[
            &|h| s.total_duration_sec.hash(h),
            &|h| s.total_computing_duration_sec.hash(h),
            &|h| s.details.len().hash(h),
        ])
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        format!(
            "Steps(total_duration_sec={}, total_computing_duration_sec={}, details=<{} step{}>)",
            s.total_duration_sec
                .map_or_else(|| "None".to_owned(), |d| d.to_string()),
            s.total_computing_duration_sec
                .map_or_else(|| "None".to_owned(), |d| d.to_string()),
            s.details.len(),
            if s.details.len() == 1 { "" } else { "s" }
        )
    }
}

/// The `Status` of a database's deployment, as answered by the redeploy (202) and status
/// (200) endpoints. Immutable; equal when every typed field is equal.
#[pyclass(frozen, module = "qovery_redeploy", name = "DeploymentStatus")]
struct PyStatus {
    inner: DeploymentStatus,
}

impl PyStatus {
    fn new(inner: DeploymentStatus) -> Self {
        PyStatus { inner }
    }
}

#[pymethods]
impl PyStatus {
    /// Parses a `Status` JSON body (as the API sends it); raises `DecodeError` if it is not one.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Self> {
        DeploymentStatus::from_json(text)
            .map(PyStatus::new)
            .map_err(|e| to_py_err(py, &e))
    }

    /// The status `redeploy_database` returns for an accepted redeploy whose body (`text`)
    /// could not be read; used by pickling.
    #[staticmethod]
    fn _accepted_unreadable(text: &str) -> Self {
        PyStatus::new(DeploymentStatus::unreadable_accepted(text.as_bytes()))
    }

    /// The service id, a `uuid.UUID`; `None` if absent or not a UUID.
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .id
            .map(|id| make_uuid(py, &id.hyphenated().to_string()))
            .transpose()
    }

    /// The service's state (`State`, an open enum: unknown values are kept as sent).
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        open_enum(py, &types(py)?.state, self.inner.state.as_str())
    }

    /// `None` if absent or not a string.
    #[getter]
    fn service_deployment_status<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = self.inner.service_deployment_status.as_ref();
        open_enum_opt(
            py,
            &types(py)?.service_deployment_status,
            v.map(|v| v.as_str()),
        )
    }

    /// A timezone-aware `datetime`, or `None` if the API did not send one, or sent one that
    /// is not RFC 3339 or is outside `datetime`'s range (years 1 to 9999).
    #[getter]
    fn last_deployment_date<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        self.inner
            .last_deployment_date
            .and_then(|d| to_datetime(py, d).ok())
    }

    /// `None` if absent or not a boolean.
    #[getter]
    fn is_part_last_deployment(&self) -> Option<bool> {
        self.inner.is_part_last_deployment
    }

    /// The deployment's step durations (`Steps`), or `None` if absent.
    #[getter]
    fn steps(&self) -> Option<PySteps> {
        self.inner
            .steps
            .as_ref()
            .map(|s| PySteps { inner: s.clone() })
    }

    /// The deployment's execution id (`str`), or `None` if absent.
    #[getter]
    fn execution_id(&self) -> Option<&str> {
        self.inner.execution_id.as_deref()
    }

    /// The action under way and how far it got (`StatusDetails`; its fields may be `None`).
    #[getter]
    fn status_details(&self) -> PyStatusDetails {
        PyStatusDetails {
            inner: self.inner.status_details.clone(),
        }
    }

    /// The deployment request this status belongs to (`uuid.UUID`), or `None`.
    #[getter]
    fn deployment_request_id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match self.inner.deployment_request_id {
            Some(id) => Ok(Some(make_uuid(py, &id.hyphenated().to_string())?)),
            None => Ok(None),
        }
    }

    /// Any integer within 64 bits, negative included, as sent; `None` if absent, null, not an
    /// integer or beyond 64 bits.
    #[getter]
    fn deployment_requests_count(&self) -> Option<i64> {
        self.inner.deployment_requests_count
    }

    /// `True` for the answer to a redeploy the API accepted (HTTP 2xx) whose body could not be
    /// read: the redeploy was accepted (do not send it again); `state` is `""`, every other
    /// field `None`, and `raw_json` what was received.
    #[getter]
    fn accepted_unreadable(&self) -> bool {
        self.inner.accepted_unreadable()
    }

    /// `True` when the state is `DEPLOYED`.
    #[getter]
    fn is_success(&self) -> bool {
        self.inner.is_success()
    }

    /// `True` for any `*_ERROR` state (future ones included) and `CANCELED`.
    #[getter]
    fn is_failure(&self) -> bool {
        self.inner.is_failure()
    }

    /// `True` for success, failure, `STOPPED`, `DELETED` and `RESTARTED`.
    #[getter]
    fn is_terminal(&self) -> bool {
        self.inner.is_terminal()
    }

    /// The body this status was parsed from, byte for byte.
    #[getter]
    fn raw_json(&self) -> &str {
        self.inner.raw_json()
    }

    /// The typed fields as JSON (unknown enum values kept, fields the API added dropped).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The typed fields as a dict of plain JSON values (`str`, `int`, `bool`, `None`...).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        types(py)?
            .json_loads
            .bind(py)
            .call1((self.inner.to_json(),))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = other.py();
        match other.cast::<PyStatus>() {
            Ok(o) => Ok(pyo3::types::PyBool::new(py, self.inner == o.get().inner)
                .to_owned()
                .into_any()
                .unbind()),
            Err(_) => Ok(py.NotImplemented()),
        }
    }

    fn __hash__(&self) -> u64 {
        let s = &self.inner;
        hash_of(&[
            &|h| s.id.hash(h),
            &|h| s.state.as_str().hash(h),
            &|h| s.deployment_request_id.hash(h),
            &|h| s.deployment_requests_count.hash(h),
        ])
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let inner = &slf.get().inner;
        let name = if inner.accepted_unreadable() {
            "_accepted_unreadable"
        } else {
            "from_json"
        };
        let make = slf.get_type().getattr(name)?;
        Ok((make, (inner.raw_json().to_owned(),)))
    }

    fn __repr__(&self) -> String {
        let s = &self.inner;
        let mut out = format!(
            "DeploymentStatus(id={}, state={}, service_deployment_status={}",
            opt_repr(s.id.map(|id| id.hyphenated().to_string()).as_deref()),
            py_str(s.state.as_str()),
            opt_repr(s.service_deployment_status.as_ref().map(|v| v.as_str()))
        );
        let d = &s.status_details;
        let _ = write!(
            out,
            ", status_details=StatusDetails(action={}, status={}, sub_action={})",
            opt_repr(d.action.as_ref().map(|v| v.as_str())),
            opt_repr(d.status.as_ref().map(|v| v.as_str())),
            opt_repr(d.sub_action.as_ref().map(|v| v.as_str()))
        );
        match s.deployment_request_id {
            Some(id) => {
                let _ = write!(out, ", deployment_request_id='{}'", id.hyphenated());
            }
            None => out.push_str(", deployment_request_id=None"),
        }
        let _ = write!(
            out,
            ", deployment_requests_count={}",
            s.deployment_requests_count
                .map_or_else(|| "None".to_owned(), |c| c.to_string())
        );
        if let Some(d) = s.last_deployment_date {
            if let Ok(text) = d.format(&time::format_description::well_known::Rfc3339) {
                let _ = write!(out, ", last_deployment_date='{text}'");
            }
        }
        out.push(')');
        out
    }
}

fn make_uuid<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    types(py)?.uuid.bind(py).call1((text,))
}

fn to_datetime<'py>(py: Python<'py>, d: time::OffsetDateTime) -> PyResult<Bound<'py, PyAny>> {
    let t = types(py)?;
    let offset = d.offset().whole_seconds();
    let tz = if offset == 0 {
        t.timezone.bind(py).getattr("utc")?
    } else {
        let delta = t.timedelta.bind(py).call1((0, offset))?;
        t.timezone.bind(py).call1((delta,))?
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("tzinfo", tz)?;
    t.datetime
        .bind(py)
        .call(
            (
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute(),
                d.second(),
                d.microsecond(),
            ),
            Some(&kwargs),
        )
        .map_err(|_| {
            let e = format!("last_deployment_date {d} is outside the range of datetime");
            match t.errors.bind(py).get_item("decode") {
                Ok(Some(class)) => match class.call1((e,)) {
                    Ok(instance) => PyErr::from_value(instance),
                    Err(err) => err,
                },
                _ => PyTypeError::new_err(e),
            }
        })
}

// ---------------------------------------------------------------------------------------------
// Client

/// A Qovery API client. `token`, `base_url`, `user_agent`: `str | None`; `auth_scheme`: `str`;
/// `timeout`, `connect_timeout`, `deadline`: seconds (`float`); `max_retries`: `int`;
/// `ca_file`: a path; `proxy`: `str | False | None`. `token` and `base_url` left `None` are read from `QOVERY_API_TOKEN`
/// and `QOVERY_API_URL` (the URL defaults to https://api.qovery.com; plain http:// only for
/// loopback). `auth_scheme`: "auto" (Bearer for JWT-shaped tokens, else Token), "token" or
/// "bearer". `timeout` bounds one HTTP attempt, `connect_timeout` connecting (default: the
/// smaller of 10 s and `timeout`), `deadline` one call with its retries (default: the larger
/// of 60 s and `timeout`). `max_retries`: retries where safe (5xx, 429, network; never a
/// redeploy that may have been processed).
///
/// Thread-safe: share one client between threads; it keeps connections open for reuse.
/// Network waits release the GIL; Ctrl-C interrupts them (`KeyboardInterrupt`). Every call
/// also takes `cancel=`, a `threading.Event` (or anything with `is_set()`) checked every
/// 50 ms: once it is set the call stops with `CancelledError`. A client may be used in a
/// child made by `os.fork()`: the child opens its own connections. Use it as a context
/// manager, or call `close()`.
#[pyclass(frozen, module = "qovery_redeploy", name = "Client")]
struct PyClient {
    client: RwLock<Option<Client>>,
    base_url: String,
    auth_scheme: &'static str,
    timeout: f64,
    max_retries: u32,
    user_agent: String,
}

impl PyClient {
    fn client(&self, py: Python<'_>) -> PyResult<Client> {
        let guard = self.client.read().unwrap_or_else(|p| p.into_inner());
        match guard.as_ref() {
            Some(c) => Ok(c.clone()),
            None => Err(closed_error(py)),
        }
    }
}

fn closed_error(py: Python<'_>) -> PyErr {
    let message = "the client is closed";
    match types(py).and_then(|t| t.closed_error.bind(py).call1((message,))) {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (
        token=None, base_url=None, auth_scheme="auto", timeout=30.0, max_retries=2,
        user_agent=None, *, connect_timeout=None, deadline=None, ca_file=None, proxy=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        token: Option<Bound<'_, PyString>>,
        base_url: Option<Bound<'_, PyString>>,
        auth_scheme: &str,
        timeout: f64,
        max_retries: i64,
        user_agent: Option<Bound<'_, PyString>>,
        connect_timeout: Option<f64>,
        deadline: Option<f64>,
        ca_file: Option<std::path::PathBuf>,
        proxy: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let text = |name: &str, value: Option<Bound<'_, PyString>>| {
            value.map(|v| utf8_arg(py, name, &v)).transpose()
        };
        let token = text("token", token)?;
        let base_url = text("base_url", base_url)?;
        let user_agent = text("user_agent", user_agent)?;
        let scheme: AuthScheme = auth_scheme.parse().map_err(|e| to_py_err(py, &e))?;
        let request_timeout = seconds(py, "timeout", timeout, false)?;
        let connect_timeout = match connect_timeout {
            Some(v) => seconds(py, "connect_timeout", v, false)?,
            None => request_timeout.min(Duration::from_secs(10)),
        };
        let deadline = match deadline {
            Some(v) => seconds(py, "deadline", v, false)?,
            None => request_timeout.max(Duration::from_secs(60)),
        };
        let max_retries = u32::try_from(max_retries).map_err(|_| {
            invalid_input(
                py,
                format!("max_retries must be 0 or more, not {max_retries}"),
            )
        })?;
        let mut builder = Client::builder()
            .from_env()
            .auth_scheme(scheme)
            .connect_timeout(connect_timeout)
            .request_timeout(request_timeout)
            .deadline(deadline)
            .max_retries(max_retries);
        if let Some(t) = token {
            builder = builder.token(t);
        }
        if let Some(u) = base_url {
            builder = builder.base_url(u);
        }
        if let Some(a) = user_agent.clone() {
            builder = builder.user_agent(a);
        }
        if let Some(path) = ca_file {
            builder = builder.ca_file(path);
        }
        // `proxy`: None reads HTTPS_PROXY / ALL_PROXY / NO_PROXY, a URL sets one, False none.
        if let Some(proxy) = proxy {
            if let Ok(url) = proxy.cast::<PyString>() {
                builder = builder.proxy(utf8_arg(py, "proxy", url)?);
            } else if proxy.is_instance_of::<pyo3::types::PyBool>() && !proxy.is_truthy()? {
                builder = builder.no_proxy();
            } else {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "proxy must be None (from the environment), a proxy URL, or False (no proxy)",
                ));
            }
        }
        let client = builder.build().map_err(|e| to_py_err(py, &e))?;
        Ok(PyClient {
            base_url: client.base_url().to_owned(),
            auth_scheme: client.auth_scheme().name(),
            timeout,
            max_retries,
            user_agent: user_agent.unwrap_or_else(|| core::DEFAULT_USER_AGENT.to_owned()),
            client: RwLock::new(Some(client)),
        })
    }

    /// The API's base URL (`str`), without a trailing slash.
    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The scheme the token is sent with: `"token"` or `"bearer"` (`"auto"` resolved).
    #[getter]
    fn auth_scheme(&self) -> &'static str {
        self.auth_scheme
    }

    /// Seconds one HTTP attempt may take (`float`), as given to the constructor.
    #[getter]
    fn timeout(&self) -> f64 {
        self.timeout
    }

    /// Retries allowed after a failed attempt, where retrying is safe (`int`).
    #[getter]
    fn max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The `User-Agent` header sent (`str`).
    #[getter]
    fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// `True` once `close()` was called (or the `with` block ended).
    #[getter]
    fn closed(&self) -> bool {
        self.client
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_none()
    }

    /// Drops this client's pooled connections; later calls raise `ClientClosedError`. Calls
    /// already running in other threads finish first. Closing twice is allowed.
    fn close(&self) {
        let taken = self
            .client
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(client) = taken {
            client.close_idle_connections();
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Closes the client (see `close()`); exceptions raised in the block propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) {
        self.close();
    }

    /// `POST /database/{id}/redeploy`: asks for a redeploy and returns the accepted
    /// `DeploymentStatus` (also remembered by the client for `wait_for_database`).
    /// `database_id`: `str` or `uuid.UUID`; `apply_immediately`: `bool | None`.
    /// `apply_immediately=None` leaves the choice to the server (maintenance window).
    /// `cancel`: a `threading.Event` (anything with `is_set()`); once set, `CancelledError`.
    #[pyo3(signature = (database_id, apply_immediately=None, *, cancel=None))]
    fn redeploy_database(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
        apply_immediately: Option<bool>,
        cancel: Option<Py<PyAny>>,
    ) -> PyResult<PyStatus> {
        let id = self::database_id(py, database_id)?;
        let client = self.client(py)?;
        run_detached(py, cancel, |cancel, _| {
            client.redeploy_database(
                &id,
                RedeployOptions {
                    apply_immediately,
                    cancel: Some(cancel),
                },
            )
        })
        .map(PyStatus::new)
    }

    /// `GET /database/{id}/status`: returns the current `DeploymentStatus`. `database_id`:
    /// `str` or `uuid.UUID`; `cancel`: as for `redeploy_database`.
    #[pyo3(signature = (database_id, *, cancel=None))]
    fn database_status(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
        cancel: Option<Py<PyAny>>,
    ) -> PyResult<PyStatus> {
        let id = self::database_id(py, database_id)?;
        let client = self.client(py)?;
        run_detached(py, cancel, |cancel, _| {
            client.database_status_with(&id, None, Some(cancel))
        })
        .map(PyStatus::new)
    }

    /// Polls the status until the deployment ends: returns the `DEPLOYED` `DeploymentStatus`,
    /// raises `DeploymentFailedError` on a failure state and `WaitTimeoutError` after
    /// `timeout` (seconds, like `poll_interval` and `settle_delay`). `on_progress(status)` is
    /// called with each status whose state changed; an exception it raises ends the wait and
    /// propagates. `accepted` (the redeploy's `DeploymentStatus`) tells its deployment from
    /// the previous one; left `None`, the redeploy this client last had accepted for the
    /// database is used, if any (else the first final state seen ends the wait).
    /// `settle_delay`: without request ids, when a final state is trusted anyway. `cancel`: a
    /// `threading.Event`; once set, `CancelledError` carrying the last status seen.
    #[pyo3(signature = (
        database_id, timeout=1800.0, poll_interval=3.0, on_progress=None, *,
        settle_delay=10.0, accepted=None, cancel=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn wait_for_database(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
        timeout: f64,
        poll_interval: f64,
        on_progress: Option<Py<PyAny>>,
        settle_delay: f64,
        accepted: Option<PyRef<'_, PyStatus>>,
        cancel: Option<Py<PyAny>>,
    ) -> PyResult<PyStatus> {
        let id = self::database_id(py, database_id)?;
        let timeout = seconds(py, "timeout", timeout, false)?;
        let poll_interval = seconds(py, "poll_interval", poll_interval, false)?;
        let settle_delay = seconds(py, "settle_delay", settle_delay, true)?;
        check_callable(py, on_progress.as_ref())?;
        let accepted = accepted.map(|a| a.inner.clone());
        let client = self.client(py)?;
        run_detached(py, cancel, |cancel, interrupt| {
            let mut report = on_progress.as_ref().map(|cb| progress(cb, interrupt));
            client.wait_for_database(
                &id,
                WaitOptions {
                    timeout,
                    poll_interval,
                    settle_delay,
                    on_progress: report
                        .as_mut()
                        .map(|r| r as &mut dyn FnMut(&DeploymentStatus) -> ControlFlow<()>),
                    cancel: Some(cancel),
                    accepted: accepted.as_ref(),
                },
            )
        })
        .map(PyStatus::new)
    }

    /// Redeploys, then waits for that deployment (told from earlier ones by its request id).
    /// `timeout` bounds both; `on_progress` first gets the accepted status. The other
    /// arguments are those of `redeploy_database` and `wait_for_database`.
    #[pyo3(signature = (
        database_id, apply_immediately=None, timeout=1800.0, poll_interval=3.0,
        on_progress=None, *, settle_delay=10.0, cancel=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn redeploy_and_wait(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
        apply_immediately: Option<bool>,
        timeout: f64,
        poll_interval: f64,
        on_progress: Option<Py<PyAny>>,
        settle_delay: f64,
        cancel: Option<Py<PyAny>>,
    ) -> PyResult<PyStatus> {
        let id = self::database_id(py, database_id)?;
        let timeout = seconds(py, "timeout", timeout, false)?;
        let poll_interval = seconds(py, "poll_interval", poll_interval, false)?;
        let settle_delay = seconds(py, "settle_delay", settle_delay, true)?;
        check_callable(py, on_progress.as_ref())?;
        let client = self.client(py)?;
        // The first status reported is the accepted one: kept to put on the exception
        // (`e.accepted`) if the wait does not end, so that it can be resumed.
        let accepted: Mutex<Option<DeploymentStatus>> = Mutex::new(None);
        let result = run_detached(py, cancel, |cancel, interrupt| {
            let mut user = on_progress.as_ref().map(|cb| progress(cb, interrupt));
            let mut report = |status: &DeploymentStatus| {
                accepted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert_with(|| status.clone());
                match user.as_mut() {
                    Some(user) => user(status),
                    None => ControlFlow::Continue(()),
                }
            };
            client.redeploy_and_wait(
                &id,
                RedeployOptions {
                    apply_immediately,
                    cancel: Some(cancel),
                },
                WaitOptions {
                    timeout,
                    poll_interval,
                    settle_delay,
                    on_progress: Some(&mut report),
                    cancel: Some(cancel),
                    accepted: None,
                },
            )
        });
        let accepted = accepted.into_inner().unwrap_or_else(|p| p.into_inner());
        result
            .map(PyStatus::new)
            .map_err(|e| with_accepted(py, e, accepted))
    }

    /// The `DeploymentStatus` of the last redeploy this client had accepted for the database
    /// (by `redeploy_database` or `redeploy_and_wait`), remembered until a wait sees that
    /// deployment end; `None` if there is none. `wait_for_database` without `accepted` uses it.
    fn accepted_redeploy(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
    ) -> PyResult<Option<PyStatus>> {
        let id = self::database_id(py, database_id)?;
        core::parse_database_id(&id).map_err(|e| to_py_err(py, &e))?;
        Ok(self.client(py)?.accepted_redeploy(&id).map(PyStatus::new))
    }

    /// Forgets the remembered accepted redeploy of the database (see `accepted_redeploy`).
    fn forget_accepted_redeploy(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let id = self::database_id(py, database_id)?;
        core::parse_database_id(&id).map_err(|e| to_py_err(py, &e))?;
        self.client(py)?.forget_accepted_redeploy(&id);
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(base_url={}, auth_scheme={}, timeout={:?}, max_retries={}{})",
            py_str(&self.base_url),
            py_str(self.auth_scheme),
            self.timeout,
            self.max_retries,
            if self.closed() { ", closed=True" } else { "" }
        )
    }
}

/// Puts the accepted status on an exception raised after the redeploy was accepted, as its
/// `accepted` attribute (a `QoveryError`, a `KeyboardInterrupt`, a callback's exception).
fn with_accepted(py: Python<'_>, e: PyErr, accepted: Option<DeploymentStatus>) -> PyErr {
    if let Some(status) = accepted {
        if let Ok(status) = Py::new(py, PyStatus::new(status)) {
            // An exception type that takes no attributes keeps going without it.
            let _ = e.value(py).setattr("accepted", status);
        }
    }
    e
}

fn check_callable(py: Python<'_>, callback: Option<&Py<PyAny>>) -> PyResult<()> {
    match callback {
        Some(cb) if !cb.bind(py).is_callable() => Err(PyTypeError::new_err(format!(
            "on_progress must be callable or None, not {}",
            cb.bind(py).get_type().name()?
        ))),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Module

/// Runs the `qovery-redeploy` command in this process: `argv` includes the program name.
/// Returns the exit code. Ctrl-C cancels it like the native binary (exit 130).
#[pyfunction]
fn _run_cli(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    // Python's buffered output first, so the command's lines come after it.
    let sys = py.import("sys")?;
    for stream in ["stdout", "stderr"] {
        let s = sys.getattr(stream)?;
        if !s.is_none() {
            s.call_method0("flush")?;
        }
    }
    let args: Vec<std::ffi::OsString> = argv.into_iter().map(Into::into).collect();
    let interrupt = Interrupt::new(None);
    let code = py.detach(|| {
        let cancel = || interrupt.poll();
        let code = qovery_redeploy_cli::run(args, Some(&cancel));
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let _ = std::io::Write::flush(&mut std::io::stderr());
        code
    });
    // The command reported the interruption itself (exit 130): the KeyboardInterrupt it
    // consumed is not raised again.
    drop(interrupt.take());
    Ok(code)
}

/// Parses a database id: returns it as a `uuid.UUID`, or raises `InvalidInputError`.
#[pyfunction]
fn parse_database_id<'py>(py: Python<'py>, database_id: &str) -> PyResult<Bound<'py, PyAny>> {
    let id = core::parse_database_id(database_id).map_err(|e| to_py_err(py, &e))?;
    make_uuid(py, &id.hyphenated().to_string())
}

#[pymodule]
fn _qovery_redeploy(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    types(py)?;
    // The core logs under the target `qovery_redeploy`: its records go to the Python logger
    // of that name. Levels are read from Python on every record (no caching), so
    // `logging.getLogger("qovery_redeploy").setLevel(...)` works at any time.
    let _ = pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)?
        .filter(log::LevelFilter::Debug)
        .install();
    m.add("__version__", core::VERSION)?;
    m.add("DEFAULT_BASE_URL", core::DEFAULT_BASE_URL)?;
    m.add("ENV_TOKEN", core::ENV_TOKEN)?;
    m.add("ENV_URL", core::ENV_URL)?;
    m.add("ERROR_KINDS", {
        let names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        PyTuple::new(py, names)?
    })?;
    m.add_class::<PyClient>()?;
    m.add_class::<PyStatus>()?;
    m.add_class::<PyStatusDetails>()?;
    m.add_class::<PySteps>()?;
    m.add_class::<PyStepMetric>()?;
    m.add_function(wrap_pyfunction!(parse_database_id, m)?)?;
    m.add_function(wrap_pyfunction!(_run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(asyncio::_aredeploy_database, m)?)?;
    m.add_function(wrap_pyfunction!(asyncio::_adatabase_status, m)?)?;
    m.add_function(wrap_pyfunction!(asyncio::_await_for_database, m)?)?;
    m.add_function(wrap_pyfunction!(asyncio::_aredeploy_and_wait, m)?)?;
    m.add_function(wrap_pyfunction!(asyncio::_async_in_flight, m)?)?;
    Ok(())
}
