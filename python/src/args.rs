//! Argument checks: Python arguments turned into what the core takes. A value refused raises
//! `InvalidInputError`, a value of the wrong type `TypeError`, before any I/O.

use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use qovery_redeploy::{self as core, Zero};

use crate::error::{invalid_input, to_py_err};
use crate::types::types;

/// Seconds from Python as a `Duration`, by the core's one rule for durations
/// (`duration_from_secs`: finite, not negative, not zero unless `zero` allows it, at most 30
/// days).
pub(crate) fn seconds(py: Python<'_>, name: &str, value: f64, zero: Zero) -> PyResult<Duration> {
    core::duration_from_secs(name, value, zero).map_err(|e| to_py_err(py, &e))
}

/// A wait's timeout, poll interval and settle delay: each given one by the core's rule, each
/// `None` the core's default (`WaitOptions::default()`).
pub(crate) fn wait_durations(
    py: Python<'_>,
    timeout: Option<f64>,
    poll_interval: Option<f64>,
    settle_delay: Option<f64>,
) -> PyResult<(Duration, Duration, Duration)> {
    let d = core::WaitOptions::default();
    let pick = |name: &str, value: Option<f64>, zero: Zero, default: Duration| {
        value.map_or(Ok(default), |v| seconds(py, name, v, zero))
    };
    Ok((
        pick("timeout", timeout, Zero::Refused, d.timeout)?,
        pick(
            "poll_interval",
            poll_interval,
            Zero::Refused,
            d.poll_interval,
        )?,
        pick("settle_delay", settle_delay, Zero::Allowed, d.settle_delay)?,
    ))
}

/// A `str` argument as UTF-8. A `str` holding lone surrogates (how Python keeps undecodable
/// bytes) is refused with `InvalidInputError`, never echoed: it may be the token.
pub(crate) fn utf8_arg(
    py: Python<'_>,
    name: &str,
    value: &Bound<'_, PyString>,
) -> PyResult<String> {
    value.to_cow().map(|c| c.into_owned()).map_err(|_| {
        invalid_input(
            py,
            format!("{name} is not valid UTF-8 (it holds surrogates, e.g. from undecodable bytes)"),
        )
    })
}

/// A database id given as `str` or `uuid.UUID`.
pub(crate) fn database_id(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
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

pub(crate) fn check_callable(py: Python<'_>, callback: Option<&Py<PyAny>>) -> PyResult<()> {
    match callback {
        Some(cb) if !cb.bind(py).is_callable() => Err(PyTypeError::new_err(format!(
            "on_progress must be callable or None, not {}",
            cb.bind(py).get_type().name()?
        ))),
        _ => Ok(()),
    }
}
