//! The asyncio half of the bindings: `asyncio.Future`s for the client's calls, used by the
//! pure-Python `qovery_redeploy.AsyncClient` (`qovery_redeploy/_asyncio.py`), whose methods
//! are real coroutines awaiting them.
//!
//! A call is the blocking one of the sync client, run by [`core::unblock`] on the blocking
//! pool of the core's own runtime: one retry loop and one wait loop serve both clients. The
//! Python future is created by pyo3-async-runtimes over that same runtime ([`LibRuntime`]),
//! so no second runtime exists. Cancelling the Python future (`task.cancel()`, a timeout of
//! `asyncio.wait_for`) drops the Rust future; [`core::unblock`] then sets the call's cancel
//! token and the core aborts the request within `CANCEL_POLL` (50 ms).
//!
//! A progress callback is run on the event loop's thread (`call_soon_threadsafe`) while the
//! call waits for it to have run; an exception it raises ends the wait and is raised.

use std::cell::OnceCell;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use pyo3_async_runtimes::generic::{self, ContextExt, Runtime};
use pyo3_async_runtimes::TaskLocals;
use qovery_redeploy as core;
use qovery_redeploy::{CancelToken, DeploymentStatus, Progress, RedeployOptions, WaitOptions};

use crate::args::{check_callable, database_id, wait_durations};
use crate::client::{with_accepted, PyClient};
use crate::error::to_py_err;
use crate::status::PyStatus;

/// The core's runtime, as pyo3-async-runtimes sees it. Looked up on every spawn, so a forked
/// child uses its own runtime (the core rebuilds it there).
struct LibRuntime;

fn runtime() -> tokio::runtime::Handle {
    // `calls` checked that the runtime is up before creating any future: this cannot fail
    // afterwards (the handle is cached per process).
    core::runtime_handle().expect("qovery-redeploy: the network runtime is gone")
}

impl Runtime for LibRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle = tokio::task::JoinHandle<()>;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(f)
    }
}

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl ContextExt for LibRuntime {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        let cell = OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}

/// Blocking calls of the async client still running (a cancelled one until it has stopped).
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

struct Counted;

impl Counted {
    fn new() -> Self {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a call ends with, turned into the future's result on a blocking thread holding the
/// GIL (never on the runtime's worker): an exception stored by a progress callback wins, and
/// `accepted` (for `redeploy_and_wait`) goes onto the exception.
struct Outcome {
    result: Result<DeploymentStatus, core::Error>,
    raised: Option<PyErr>,
    accepted: Option<DeploymentStatus>,
}

impl<'py> IntoPyObject<'py> for Outcome {
    type Target = PyStatus;
    type Output = Bound<'py, PyStatus>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let error = match (self.raised, self.result) {
            (Some(e), _) => e,
            (None, Ok(status)) => return Bound::new(py, PyStatus::new(status)),
            (None, Err(e)) => to_py_err(py, &e),
        };
        Err(with_accepted(py, error, self.accepted))
    }
}

/// A progress callback for the core that runs `callback(status)` on the loop's thread and
/// waits for it; its exception is kept in `raised` and stops the wait.
struct LoopCallback {
    callback: Arc<Py<PyAny>>,
    locals: TaskLocals,
    raised: Arc<Mutex<Option<PyErr>>>,
    accepted: Option<Arc<Mutex<Option<DeploymentStatus>>>>,
}

impl LoopCallback {
    fn report(&self, event: &Progress<'_>, cancel: &CancelToken) -> ControlFlow<()> {
        if let Some(slot) = &self.accepted {
            slot.lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(|| event.status.clone());
        }
        let (tx, rx) = mpsc::channel::<PyResult<()>>();
        let scheduled = Python::attach(|py| -> PyResult<()> {
            let status = Py::new(py, PyStatus::reported(event))?;
            let callback = self.callback.clone();
            let run = PyCFunction::new_closure(
                py,
                None,
                None,
                move |args: &Bound<'_, PyTuple>, _: Option<&Bound<'_, PyDict>>| {
                    let py = args.py();
                    let result = callback.call1(py, (status.clone_ref(py),)).map(drop);
                    let _ = tx.send(result);
                },
            )?;
            self.locals
                .event_loop(py)
                .call_method1("call_soon_threadsafe", (run,))?;
            Ok(())
        });
        let outcome = match scheduled {
            Err(e) => Err(e),
            Ok(()) => loop {
                match rx.recv_timeout(core::CANCEL_POLL) {
                    Ok(result) => break result,
                    // Dropped unrun: the loop was closed.
                    Err(mpsc::RecvTimeoutError::Disconnected) => return ControlFlow::Break(()),
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        if core::Cancel::is_cancelled(cancel) {
                            return ControlFlow::Break(());
                        }
                    }
                }
            },
        };
        match outcome {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                let mut slot = self.raised.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
                ControlFlow::Break(())
            }
        }
    }
}

/// The `asyncio.Future` of `call`, run on the core runtime's blocking pool.
fn spawn<'py, F>(
    py: Python<'py>,
    locals: TaskLocals,
    raised: Arc<Mutex<Option<PyErr>>>,
    accepted: Option<Arc<Mutex<Option<DeploymentStatus>>>>,
    call: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: FnOnce(&CancelToken) -> Result<DeploymentStatus, core::Error> + Send + 'static,
{
    core::runtime_handle().map_err(|e| to_py_err(py, &e))?;
    let fut = async move {
        let result = core::unblock(move |cancel| {
            let _counted = Counted::new();
            call(cancel)
        })
        .await;
        let take =
            |slot: &Mutex<Option<PyErr>>| slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(Outcome {
            result,
            raised: take(&raised),
            accepted: accepted.and_then(|a| a.lock().unwrap_or_else(|p| p.into_inner()).take()),
        })
    };
    generic::future_into_py_with_locals::<LibRuntime, _, _>(py, locals, fut)
}

fn loop_callback(
    py: Python<'_>,
    on_progress: Option<Py<PyAny>>,
    locals: &TaskLocals,
    raised: &Arc<Mutex<Option<PyErr>>>,
    accepted: Option<&Arc<Mutex<Option<DeploymentStatus>>>>,
) -> PyResult<Option<LoopCallback>> {
    check_callable(py, on_progress.as_ref())?;
    Ok(on_progress.map(|cb| LoopCallback {
        callback: Arc::new(cb),
        locals: locals.clone(),
        raised: raised.clone(),
        accepted: accepted.cloned(),
    }))
}

/// `redeploy_database` as an `asyncio.Future`; see `AsyncClient`.
#[pyfunction]
#[pyo3(signature = (client, database_id, apply_immediately=None))]
pub(crate) fn _aredeploy_database<'py>(
    py: Python<'py>,
    client: PyRef<'py, PyClient>,
    database_id: &Bound<'py, PyAny>,
    apply_immediately: Option<bool>,
) -> PyResult<Bound<'py, PyAny>> {
    let id = self::database_id(py, database_id)?;
    let client = client.client(py)?;
    let locals = generic::get_current_locals::<LibRuntime>(py)?;
    spawn(py, locals, Arc::default(), None, move |cancel| {
        client.redeploy_database(
            &id,
            RedeployOptions {
                apply_immediately,
                cancel: Some(cancel),
            },
        )
    })
}

/// `database_status` as an `asyncio.Future`; see `AsyncClient`.
#[pyfunction]
pub(crate) fn _adatabase_status<'py>(
    py: Python<'py>,
    client: PyRef<'py, PyClient>,
    database_id: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let id = self::database_id(py, database_id)?;
    let client = client.client(py)?;
    let locals = generic::get_current_locals::<LibRuntime>(py)?;
    spawn(py, locals, Arc::default(), None, move |cancel| {
        client.database_status_with(&id, None, Some(cancel))
    })
}

/// `wait_for_database` as an `asyncio.Future`; see `AsyncClient`.
#[pyfunction]
#[pyo3(signature = (
    client, database_id, timeout, poll_interval, on_progress, settle_delay, accepted
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _await_for_database<'py>(
    py: Python<'py>,
    client: PyRef<'py, PyClient>,
    database_id: &Bound<'py, PyAny>,
    timeout: Option<f64>,
    poll_interval: Option<f64>,
    on_progress: Option<Py<PyAny>>,
    settle_delay: Option<f64>,
    accepted: Option<PyRef<'py, PyStatus>>,
) -> PyResult<Bound<'py, PyAny>> {
    let id = self::database_id(py, database_id)?;
    let (timeout, poll_interval, settle_delay) =
        wait_durations(py, timeout, poll_interval, settle_delay)?;
    let accepted = accepted.map(|a| a.inner.clone());
    let client = client.client(py)?;
    let locals = generic::get_current_locals::<LibRuntime>(py)?;
    let raised = Arc::default();
    let report = loop_callback(py, on_progress, &locals, &raised, None)?;
    spawn(py, locals, raised, None, move |cancel| {
        let mut on_progress = |event: &Progress<'_>| match &report {
            Some(r) => r.report(event, cancel),
            None => ControlFlow::Continue(()),
        };
        client.wait_for_database(
            &id,
            WaitOptions {
                timeout,
                poll_interval,
                settle_delay,
                on_progress: Some(&mut on_progress),
                cancel: Some(cancel),
                accepted: accepted.as_ref(),
            },
        )
    })
}

/// `redeploy_and_wait` as an `asyncio.Future`; see `AsyncClient`.
#[pyfunction]
#[pyo3(signature = (
    client, database_id, apply_immediately, timeout, poll_interval, on_progress, settle_delay
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _aredeploy_and_wait<'py>(
    py: Python<'py>,
    client: PyRef<'py, PyClient>,
    database_id: &Bound<'py, PyAny>,
    apply_immediately: Option<bool>,
    timeout: Option<f64>,
    poll_interval: Option<f64>,
    on_progress: Option<Py<PyAny>>,
    settle_delay: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    let id = self::database_id(py, database_id)?;
    let (timeout, poll_interval, settle_delay) =
        wait_durations(py, timeout, poll_interval, settle_delay)?;
    let client = client.client(py)?;
    let locals = generic::get_current_locals::<LibRuntime>(py)?;
    let raised = Arc::default();
    let accepted: Arc<Mutex<Option<DeploymentStatus>>> = Arc::default();
    let report = loop_callback(py, on_progress, &locals, &raised, Some(&accepted))?;
    let seen = accepted.clone();
    spawn(py, locals, raised, Some(accepted), move |cancel| {
        let mut on_progress = |event: &Progress<'_>| match &report {
            Some(r) => r.report(event, cancel),
            None => {
                seen.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert_with(|| event.status.clone());
                ControlFlow::Continue(())
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
                on_progress: Some(&mut on_progress),
                cancel: Some(cancel),
                accepted: None,
            },
        )
    })
}

/// Blocking calls of async clients still running in this process, cancelled ones included
/// until they have stopped (for the tests: a cancelled request really ends).
#[pyfunction]
pub(crate) fn _async_in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}
