//! Errors: the Python exception (a class of `qovery_redeploy/_types.py`) for a core error,
//! and `InvalidInputError` for an argument refused on the Python side.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use qovery_redeploy as core;
use qovery_redeploy::ErrorKind;

use crate::status::PyStatus;
use crate::types::types;

/// The Python exception for a core error: the class for its kind, with the attributes.
pub(crate) fn to_py_err(py: Python<'_>, e: &core::Error) -> PyErr {
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

pub(crate) fn invalid_input(py: Python<'_>, message: impl Into<String>) -> PyErr {
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
