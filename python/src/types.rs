//! Python-side classes this module uses, looked up once (when the module is imported): the
//! enums and exceptions of `qovery_redeploy/_types.py`, the enums' values filled in from the
//! core, and the `uuid`, `datetime` and `json` functions the status classes need.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyType};
use qovery_redeploy as core;

pub(crate) struct Types {
    pub(crate) state: Py<PyType>,
    pub(crate) service_deployment_status: Py<PyType>,
    pub(crate) service_action: Py<PyType>,
    pub(crate) service_action_status: Py<PyType>,
    pub(crate) service_sub_action: Py<PyType>,
    pub(crate) step_name: Py<PyType>,
    pub(crate) step_status: Py<PyType>,
    /// `_types._ERRORS`: core kind name -> exception class.
    pub(crate) errors: Py<PyDict>,
    pub(crate) base_error: Py<PyType>,
    pub(crate) closed_error: Py<PyType>,
    pub(crate) uuid: Py<PyAny>,
    pub(crate) datetime: Py<PyAny>,
    pub(crate) timezone: Py<PyAny>,
    pub(crate) timedelta: Py<PyAny>,
    pub(crate) json_loads: Py<PyAny>,
}

static TYPES: PyOnceLock<Types> = PyOnceLock::new();

pub(crate) fn types(py: Python<'_>) -> PyResult<&Types> {
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

pub(crate) fn open_enum<'py>(
    py: Python<'py>,
    class: &Py<PyType>,
    value: &str,
) -> PyResult<Bound<'py, PyAny>> {
    class.bind(py).call1((value,))
}

/// An optional enum field: `None` when the API's value was absent or unreadable.
pub(crate) fn open_enum_opt<'py>(
    py: Python<'py>,
    class: &Py<PyType>,
    value: Option<&str>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    value.map(|v| open_enum(py, class, v)).transpose()
}
