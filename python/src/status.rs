//! Status model: the frozen Python classes over the core's status (`DeploymentStatus`,
//! `StatusDetails`, `Steps`, `StepMetric`), with their hashes and Python-style reprs.

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use qovery_redeploy as core;
use qovery_redeploy::DeploymentStatus;

use crate::error::to_py_err;
use crate::types::{open_enum, open_enum_opt, types};

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
pub(crate) struct PyStatusDetails {
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
pub(crate) struct PyStepMetric {
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
pub(crate) fn py_str(text: &str) -> String {
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
pub(crate) struct PySteps {
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
pub(crate) struct PyStatus {
    pub(crate) inner: DeploymentStatus,
    /// Set for a status given to `on_progress`: the wait's word on whether it is ours.
    belongs: Option<core::Belongs>,
}

impl PyStatus {
    pub(crate) fn new(inner: DeploymentStatus) -> Self {
        PyStatus {
            inner,
            belongs: None,
        }
    }

    /// A status as given to `on_progress`.
    pub(crate) fn reported(progress: &core::Progress<'_>) -> Self {
        PyStatus {
            inner: progress.status.clone(),
            belongs: Some(progress.belongs),
        }
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

    /// For a status given to `on_progress`: `"ours"` (the deployment waited for: the
    /// redeploy's own answer, or a status with its request id), `"earlier"` (another request
    /// id: a deployment still running ahead of ours) or `"unknown"` (nothing to tell by: no
    /// request id, or a plain wait). `None` for any other status. Not part of equality.
    #[getter]
    fn belongs(&self) -> Option<&'static str> {
        self.belongs.map(core::Belongs::name)
    }

    /// The one line every binding shows: `"DEPLOYING (DEPLOY ONGOING)"`, with
    /// `", 3 requests queued"` when more than one is and `", an earlier request"` for an
    /// `"earlier"` progress status; server values made safe for a terminal.
    #[getter]
    fn summary(&self) -> String {
        let progress = core::Progress {
            status: &self.inner,
            belongs: self.belongs.unwrap_or(core::Belongs::Unknown),
        };
        progress.summary()
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

pub(crate) fn make_uuid<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
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
