//! Running a blocking call detached, interruptible: detached so that other Python threads run
//! meanwhile, interruptible so that Ctrl-C, a `cancel` event or a progress callback's exception
//! stops it (see the crate doc).

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use qovery_redeploy as core;
use qovery_redeploy::{Cancel, Progress};

use crate::error::to_py_err;
use crate::status::PyStatus;

/// What stops a detached call from the Python side: a signal handler's exception
/// (`KeyboardInterrupt`), a progress callback's (the first one is kept), or the caller's
/// `cancel` event being set (no exception: the core's `Cancelled` error is raised).
pub(crate) struct Interrupt {
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
    pub(crate) fn new(event: Option<Py<PyAny>>) -> Self {
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
    pub(crate) fn poll(&self) -> bool {
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

    pub(crate) fn take(&self) -> Option<PyErr> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Runs `call` detached from the interpreter with a Ctrl-C aware cancel. An exception stored
/// by a signal handler or a callback wins over the call's own result: it is what stopped it
/// (and a Ctrl-C pressed during a call that still succeeded is not lost).
pub(crate) fn run_detached<T, F>(py: Python<'_>, cancel: Option<Py<PyAny>>, call: F) -> PyResult<T>
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
pub(crate) fn progress<'a>(
    callback: &'a Py<PyAny>,
    interrupt: &'a Interrupt,
) -> impl FnMut(&Progress<'_>) -> ControlFlow<()> + Send + 'a {
    move |event: &Progress<'_>| {
        Python::attach(|py| {
            let result =
                Py::new(py, PyStatus::reported(event)).and_then(|s| callback.call1(py, (s,)));
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
