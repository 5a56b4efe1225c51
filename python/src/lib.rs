//! Python bindings for qovery-redeploy: the `qovery_redeploy._qovery_redeploy` extension module.
//!
//! Every call that touches the network runs detached from the interpreter (`py.detach`), so
//! other Python threads run meanwhile. Such a call is given a
//! [`Cancel`](qovery_redeploy::Cancel) that briefly attaches every
//! [`CANCEL_POLL`](qovery_redeploy::CANCEL_POLL) to run `PyErr_CheckSignals`: Ctrl-C stops the
//! call within that poll and the `KeyboardInterrupt` is raised as usual. A progress callback is
//! called the same way, and an exception it raises ends the wait and propagates (`detach.rs`).
//!
//! Enums (`State`...) and exceptions are plain Python classes in `qovery_redeploy/_types.py`;
//! this module fills the enums' values in from the core and raises those exceptions.

mod args;
mod asyncio;
mod client;
mod detach;
mod error;
mod status;
mod types;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use qovery_redeploy as core;
use qovery_redeploy::ErrorKind;

use crate::client::PyClient;
use crate::detach::Interrupt;
use crate::error::to_py_err;
use crate::status::{make_uuid, PyStatus, PyStatusDetails, PyStepMetric, PySteps};
use crate::types::types;

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
    // `logging.getLogger("qovery_redeploy").setLevel(...)` works at any time. Only that
    // target: the HTTP and TLS crates (hyper, rustls) log from the library's own thread, and
    // a record from there taking the GIL while the interpreter exits ends that thread with
    // pthread_exit's forced unwind through Rust frames, which crashed the process (seen with
    // a TLS client alive at exit).
    let _ = pyo3_log::Logger::new(py, pyo3_log::Caching::Loggers)?
        .filter(log::LevelFilter::Off)
        .filter_target("qovery_redeploy".to_owned(), log::LevelFilter::Debug)
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
    // `add`/`add_function` also append the name to the module's `__all__`, which
    // qovery_redeploy/__init__.py re-exports as the package's public names; the helpers of
    // the package's own Python code are set as plain attributes, out of `__all__`.
    for private in [
        wrap_pyfunction!(_run_cli, m)?,
        wrap_pyfunction!(asyncio::_aredeploy_database, m)?,
        wrap_pyfunction!(asyncio::_adatabase_status, m)?,
        wrap_pyfunction!(asyncio::_await_for_database, m)?,
        wrap_pyfunction!(asyncio::_aredeploy_and_wait, m)?,
        wrap_pyfunction!(asyncio::_async_in_flight, m)?,
    ] {
        let name: String = private.getattr("__name__")?.extract()?;
        m.setattr(name.as_str(), private)?;
    }
    Ok(())
}
