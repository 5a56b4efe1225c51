//! Client: the `Client` class, whose calls run detached (`detach.rs`). The async client
//! (`asyncio.rs`) runs the same core calls on a `PyClient`'s `Client`.

use std::ops::ControlFlow;
use std::sync::{Mutex, RwLock};

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};
use qovery_redeploy as core;
use qovery_redeploy::{
    AuthScheme, Client, DeploymentStatus, Progress, RedeployOptions, WaitOptions, Zero,
};

use crate::args::{check_callable, database_id, seconds, utf8_arg, wait_durations};
use crate::detach::{progress, run_detached};
use crate::error::{invalid_input, to_py_err};
use crate::status::{py_str, PyStatus};
use crate::types::types;

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
pub(crate) struct PyClient {
    client: RwLock<Option<Client>>,
    base_url: String,
    auth_scheme: &'static str,
    timeout: f64,
    max_retries: u32,
    user_agent: String,
}

impl PyClient {
    pub(crate) fn client(&self, py: Python<'_>) -> PyResult<Client> {
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
        token=None, base_url=None, auth_scheme="auto", timeout=None, max_retries=None,
        user_agent=None, *, connect_timeout=None, deadline=None, ca_file=None, proxy=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        token: Option<Bound<'_, PyString>>,
        base_url: Option<Bound<'_, PyString>>,
        auth_scheme: &str,
        timeout: Option<f64>,
        max_retries: Option<i64>,
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
        // Each setting left None keeps the core's default (and its rules: the connect timeout
        // and the deadline follow the request timeout unless set).
        let mut builder = Client::builder().from_env().auth_scheme(scheme);
        if let Some(v) = timeout {
            builder = builder.request_timeout(seconds(py, "timeout", v, Zero::Refused)?);
        }
        if let Some(v) = connect_timeout {
            builder = builder.connect_timeout(seconds(py, "connect_timeout", v, Zero::Refused)?);
        }
        if let Some(v) = deadline {
            builder = builder.deadline(seconds(py, "deadline", v, Zero::Refused)?);
        }
        if let Some(n) = max_retries {
            let n = u32::try_from(n).map_err(|_| {
                invalid_input(py, format!("max_retries must be 0 or more, not {n}"))
            })?;
            builder = builder.max_retries(n);
        }
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
            timeout: client.request_timeout().as_secs_f64(),
            max_retries: client.max_retries(),
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
        database_id, timeout=None, poll_interval=None, on_progress=None, *,
        settle_delay=None, accepted=None, cancel=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn wait_for_database(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
        timeout: Option<f64>,
        poll_interval: Option<f64>,
        on_progress: Option<Py<PyAny>>,
        settle_delay: Option<f64>,
        accepted: Option<PyRef<'_, PyStatus>>,
        cancel: Option<Py<PyAny>>,
    ) -> PyResult<PyStatus> {
        let id = self::database_id(py, database_id)?;
        let (timeout, poll_interval, settle_delay) =
            wait_durations(py, timeout, poll_interval, settle_delay)?;
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
                        .map(|r| r as &mut dyn FnMut(&Progress<'_>) -> ControlFlow<()>),
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
        database_id, apply_immediately=None, timeout=None, poll_interval=None,
        on_progress=None, *, settle_delay=None, cancel=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn redeploy_and_wait(
        &self,
        py: Python<'_>,
        database_id: &Bound<'_, PyAny>,
        apply_immediately: Option<bool>,
        timeout: Option<f64>,
        poll_interval: Option<f64>,
        on_progress: Option<Py<PyAny>>,
        settle_delay: Option<f64>,
        cancel: Option<Py<PyAny>>,
    ) -> PyResult<PyStatus> {
        let id = self::database_id(py, database_id)?;
        let (timeout, poll_interval, settle_delay) =
            wait_durations(py, timeout, poll_interval, settle_delay)?;
        check_callable(py, on_progress.as_ref())?;
        let client = self.client(py)?;
        // The first status reported is the accepted one: kept to put on the exception
        // (`e.accepted`) if the wait does not end, so that it can be resumed.
        let accepted: Mutex<Option<DeploymentStatus>> = Mutex::new(None);
        let result = run_detached(py, cancel, |cancel, interrupt| {
            let mut user = on_progress.as_ref().map(|cb| progress(cb, interrupt));
            let mut report = |event: &Progress<'_>| {
                accepted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get_or_insert_with(|| event.status.clone());
                match user.as_mut() {
                    Some(user) => user(event),
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
pub(crate) fn with_accepted(py: Python<'_>, e: PyErr, accepted: Option<DeploymentStatus>) -> PyErr {
    if let Some(status) = accepted {
        if let Ok(status) = Py::new(py, PyStatus::new(status)) {
            // An exception type that takes no attributes keeps going without it.
            let _ = e.value(py).setattr("accepted", status);
        }
    }
    e
}
