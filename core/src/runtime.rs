//! The one thread this library starts, and how a blocking call waits on it.
//!
//! reqwest is asynchronous; its `blocking` wrapper parks the caller until the answer or the
//! timeout and nothing else can end that wait, so a cancel token, Ctrl-C in Python or a
//! progress callback could not stop a call in the middle of a request. Instead each call is
//! one task on a small runtime owned by the library, and the caller waits with a short poll
//! on its cancel flag and deadline, aborting the task when asked to stop.
//!
//! The runtime is built on the first network call (not at load, not at client creation), is
//! never shut down (it lives as long as the process, as a global allocator would), and is
//! rebuilt in a forked child: the parent's worker thread does not exist there, and dropping
//! its runtime would deregister sockets from an epoll instance the parent still uses, so the
//! inherited one is left alone (leaked) rather than dropped.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::thread::Thread;
use std::time::Instant;

use tokio::runtime::{Handle, Runtime};

use crate::cancel::{cancelled, Cancel, CancelToken, CANCEL_POLL};
use crate::error::{Error, ErrorKind};

/// Worker threads of the runtime. One is enough for this library's traffic: a call is a few
/// microseconds of CPU on the worker and the rest is waiting on the network. Measured in
/// bench/README.md ("threads" columns) against 2.
const WORKERS: usize = 1;

/// Every runtime this process built or inherited, with the process it belongs to; the last
/// one is current. Kept (never dropped) so that leak checkers see them as reachable.
static RUNTIMES: Mutex<Vec<(u32, &'static Runtime)>> = Mutex::new(Vec::new());

/// The runtime of this process, built on first use (and again in a forked child).
fn handle() -> Result<Handle, Error> {
    let pid = std::process::id();
    let mut runtimes = RUNTIMES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, runtime)) = runtimes.last() {
        if *owner == pid {
            return Ok(runtime.handle().clone());
        }
    }
    let runtime: &'static Runtime = Box::leak(Box::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .thread_name("qovery-redeploy")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Network,
                    format!("cannot start the network thread: {e}"),
                )
            })?,
    ));
    // After a fork, the parent's runtime stays in the list untouched (see the module docs).
    runtimes.push((pid, runtime));
    Ok(runtime.handle().clone())
}

/// Why [`run`] gave up on a task before it finished.
pub(crate) enum Stop {
    Cancelled,
    /// The task overran its deadline by more than its own timers allow (a stuck runtime).
    Overran,
    /// The runtime could not be started (out of threads or memory).
    Unavailable(Error),
}

/// Where the task leaves its result for the waiting caller.
struct Slot<T> {
    result: Mutex<Option<T>>,
    waiter: Thread,
}

/// Runs `task` on the library's runtime and waits for it on this thread, polling `cancel`
/// every [`CANCEL_POLL`]. `deadline` is the task's own deadline (its timers end it); the
/// caller only steps in when the task overruns it, which would mean a stuck runtime.
pub(crate) fn run<T, F>(task: F, deadline: Instant, cancel: Option<&dyn Cancel>) -> Result<T, Stop>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let handle = handle().map_err(Stop::Unavailable)?;
    let slot = Arc::new(Slot {
        result: Mutex::new(None),
        waiter: std::thread::current(),
    });
    let theirs = slot.clone();
    let join = handle.spawn(async move {
        let result = task.await;
        *theirs.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        theirs.waiter.unpark();
    });
    let backstop = deadline + CANCEL_POLL * 4;
    loop {
        if let Some(result) = slot.result.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Ok(result);
        }
        if cancelled(cancel) {
            join.abort();
            return Err(Stop::Cancelled);
        }
        let now = Instant::now();
        if now >= backstop {
            join.abort();
            return Err(Stop::Overran);
        }
        let wait = backstop - now;
        // Parked until the task unparks us; a spurious wake-up only costs one more check.
        std::thread::park_timeout(if cancel.is_some() {
            wait.min(CANCEL_POLL)
        } else {
            wait
        });
    }
}

/// The library's runtime (built on first use, rebuilt in a forked child), for a binding that
/// bridges another event loop to this crate, as the Python `AsyncClient` does. Every task
/// spawned on it shares its one worker thread: it must never block.
pub fn runtime_handle() -> Result<Handle, Error> {
    handle()
}

/// Runs a blocking call of this crate (`call`, given a [`CancelToken`] to pass as its cancel)
/// on the blocking pool of the library's runtime, and awaits it from any executor: the one
/// retry loop and wait loop serve async callers too. Dropping the returned future before it
/// completes sets the token, so the call stops within [`CANCEL_POLL`] and its in-flight
/// request is aborted. A panic in `call` is resumed in the awaiting task.
pub async fn unblock<T, F>(call: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&CancelToken) -> Result<T, Error> + Send + 'static,
{
    /// Cancels the call when the awaiting future is dropped (or completes: then a no-op).
    struct CancelOnDrop(CancelToken);
    impl Drop for CancelOnDrop {
        fn drop(&mut self) {
            self.0.cancel();
        }
    }
    let guard = CancelOnDrop(CancelToken::new());
    let token = guard.0.clone();
    let join = handle()?.spawn_blocking(move || call(&token));
    let outcome = join.await;
    drop(guard);
    match outcome {
        Ok(result) => result,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(Error::new(ErrorKind::Cancelled, "cancelled")),
    }
}
