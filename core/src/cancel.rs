//! Asking a call in progress to stop.
//!
//! Cancellation is polled, not pushed: every blocking step (a socket read, a sleep between
//! polls) wakes at least every [`CANCEL_POLL`] to ask. Polling is what lets a host runtime
//! plug in its own notion of "stop" (Python checks for Ctrl-C, C asks its callback) without
//! this crate knowing about signals or threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a blocked call asks whether it should stop. Bounds how late a cancel is seen.
pub const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Something a long call asks, now and then, whether it should give up.
pub trait Cancel: Sync {
    fn is_cancelled(&self) -> bool;
}

impl<F: Fn() -> bool + Sync> Cancel for F {
    fn is_cancelled(&self) -> bool {
        self()
    }
}

/// A flag shared between the caller and the call: `cancel()` from any thread, and the call
/// returns [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled) within [`CANCEL_POLL`].
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }
}

impl Cancel for CancelToken {
    fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `from + wait`, saturating: a caller may pass `Duration::MAX` to mean "no bound" (plain
/// `Instant + Duration` would panic on overflow).
pub(crate) fn after(from: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    from.checked_add(wait.min(CENTURY)).unwrap_or(from)
}

pub(crate) fn cancelled(cancel: Option<&dyn Cancel>) -> bool {
    cancel.is_some_and(|c| c.is_cancelled())
}

/// Sleeps until `until`, returning early (`false`) if cancelled.
pub(crate) fn sleep_until(until: Instant, cancel: Option<&dyn Cancel>) -> bool {
    loop {
        if cancelled(cancel) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        let left = until - now;
        std::thread::sleep(if cancel.is_some() {
            left.min(CANCEL_POLL)
        } else {
            left
        });
    }
}
