//! Waiting for a deployment to end.
//!
//! Right after a redeploy is accepted, the status endpoint may still show the *previous*
//! deployment's terminal state (terraform-provider-qovery #467): a waiter that stops at the
//! first `DEPLOYED` reports success for a deployment that has not started. Peers sleep a few
//! seconds and hope. This waiter instead decides whether a terminal status belongs to the
//! deployment it waits for:
//!
//! * both the accepted (202) status and the polled one carry a `deployment_request_id`: they
//!   must match (or ours must have been seen in progress, then superseded);
//! * otherwise: the deployment must have been seen in progress, or `settle_delay` must have
//!   passed since the redeploy was accepted.
//!
//! A wait always ends: success, failure, its own timeout, a non-transient error, or cancel.

use std::fmt;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use crate::cancel::{after, cancelled, sleep_until, Cancel};
use crate::client::{Accepted, Client, RedeployOptions};
use crate::error::{Error, ErrorKind};
use crate::model::DeploymentStatus;

/// The shortest poll interval against an API host that is not loopback: the API is rate
/// limited, and a state change takes seconds anyway. A loopback fake may be polled faster.
pub const MIN_REMOTE_POLL_INTERVAL: Duration = Duration::from_secs(1);

/// The shortest poll interval at all (a zero would spin).
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Time left for the last status poll before the wait's deadline.
const FINAL_POLL_BUDGET: Duration = Duration::from_millis(250);

/// A progress callback: gets each status whose state changed; `Break` stops the wait with
/// [`ErrorKind::Cancelled`].
pub type OnProgress<'a> = &'a mut dyn FnMut(&Progress<'_>) -> ControlFlow<()>;

/// Whether a status seen during a wait is the deployment waited for. A redeploy queues
/// behind a deployment already running, and the status endpoint shows that one first: a
/// display that does not tell them apart shows someone else's deployment as ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Belongs {
    /// The redeploy's own answer, or a status with its request id.
    Ours,
    /// A status with another request id: an earlier deployment, still running or just ended.
    Earlier,
    /// Nothing to tell by: no redeploy to correlate with (a plain wait), or no request id on
    /// one side.
    Unknown,
}

impl Belongs {
    /// `ours`, `earlier`, `unknown`: the name every skin uses.
    pub fn name(self) -> &'static str {
        match self {
            Belongs::Ours => "ours",
            Belongs::Earlier => "earlier",
            Belongs::Unknown => "unknown",
        }
    }
}

/// One status given to a progress callback, with whether it is the deployment waited for.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    pub status: &'a DeploymentStatus,
    pub belongs: Belongs,
}

impl Progress<'_> {
    /// The status's [`summary`](DeploymentStatus::summary), marked `an earlier request` when
    /// it is [`Belongs::Earlier`].
    pub fn summary(&self) -> String {
        let note = (self.belongs == Belongs::Earlier).then_some("an earlier request");
        self.status.summary_noting(note)
    }
}

/// How to wait. `Default` gives 30 minutes, a poll every 3 s and a 10 s settle delay.
pub struct WaitOptions<'a> {
    /// Bound on the whole wait (for [`Client::redeploy_and_wait`], the redeploy included).
    pub timeout: Duration,
    /// Raised to [`MIN_REMOTE_POLL_INTERVAL`] for an API host that is not loopback (see
    /// [`Client::poll_interval_for`]).
    pub poll_interval: Duration,
    /// Without a request id to correlate with, how long after the redeploy a terminal state
    /// is trusted even though the deployment was never seen in progress.
    pub settle_delay: Duration,
    pub on_progress: Option<OnProgress<'a>>,
    pub cancel: Option<&'a dyn Cancel>,
    /// The redeploy's 202 status, to tell its deployment from the previous one. `None`: the
    /// redeploy this client last had accepted for the database, if it remembers one (see
    /// [`Client::accepted_redeploy`]); else the first success or failure state seen ends the
    /// wait.
    pub accepted: Option<&'a DeploymentStatus>,
}

impl Default for WaitOptions<'_> {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(3),
            settle_delay: Duration::from_secs(10),
            on_progress: None,
            cancel: None,
            accepted: None,
        }
    }
}

impl fmt::Debug for WaitOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitOptions")
            .field("timeout", &self.timeout)
            .field("poll_interval", &self.poll_interval)
            .field("settle_delay", &self.settle_delay)
            .field("on_progress", &self.on_progress.is_some())
            .field("cancel", &self.cancel.is_some())
            .field("accepted", &self.accepted.map(|s| s.deployment_request_id))
            .finish()
    }
}

/// Tells the deployment waited for from earlier ones.
struct Tracker {
    ours: Option<uuid::Uuid>,
    correlating: bool,
    accepted_at: Instant,
    settle_delay: Duration,
    seen_in_progress: bool,
}

impl Tracker {
    fn new(accepted: Option<&DeploymentStatus>, settle_delay: Duration, now: Instant) -> Self {
        Tracker {
            ours: accepted.and_then(|s| s.deployment_request_id),
            correlating: accepted.is_some(),
            accepted_at: now,
            settle_delay,
            seen_in_progress: false,
        }
    }

    /// Whether `status` is the deployment waited for, as far as request ids tell.
    fn belongs(&self, status: &DeploymentStatus) -> Belongs {
        match (self.correlating, self.ours, status.deployment_request_id) {
            (true, Some(ours), Some(seen)) if ours == seen => Belongs::Ours,
            (true, Some(_), Some(_)) => Belongs::Earlier,
            _ => Belongs::Unknown,
        }
    }

    /// Whether `status` is the final word on the deployment waited for.
    fn is_final(&mut self, status: &DeploymentStatus, now: Instant) -> bool {
        let ended = status.is_success() || status.is_failure();
        if !self.correlating {
            return ended;
        }
        let same = match (self.ours, status.deployment_request_id) {
            (Some(ours), Some(seen)) => Some(ours == seen),
            _ => None,
        };
        if !ended {
            // In progress. With ids, only ours counts (a previous deployment may still run).
            if same != Some(false) {
                self.seen_in_progress = true;
            }
            return false;
        }
        match same {
            Some(true) => true,
            Some(false) => self.seen_in_progress,
            None => {
                self.seen_in_progress || now.duration_since(self.accepted_at) >= self.settle_delay
            }
        }
    }
}

impl Client {
    /// The interval a wait asked to poll every `requested` uses: at least
    /// [`MIN_REMOTE_POLL_INTERVAL`] unless the API host is loopback, and never under 10 ms.
    pub fn poll_interval_for(&self, requested: Duration) -> Duration {
        let floor = match self.is_loopback() {
            true => MIN_POLL_INTERVAL,
            false => MIN_REMOTE_POLL_INTERVAL,
        };
        requested.max(floor)
    }

    /// Polls `GET /database/{id}/status` until the deployment ends. `DEPLOYED` returns the
    /// status; a failure state (`*_ERROR`, `CANCELED`) is [`ErrorKind::DeploymentFailed`]
    /// carrying it. Transient poll failures are retried within the timeout; 401/403/404 and
    /// other definite answers end the wait.
    ///
    /// Without `options.accepted`, the redeploy this client last had accepted for the
    /// database is waited for (see [`accepted_redeploy`](Self::accepted_redeploy)); once a
    /// wait sees it end, it is forgotten.
    pub fn wait_for_database(
        &self,
        database_id: &str,
        mut options: WaitOptions<'_>,
    ) -> Result<DeploymentStatus, Error> {
        let id = crate::client::parse_database_id(database_id)?;
        let deadline = after(Instant::now(), options.timeout);
        let remembered = match options.accepted {
            Some(_) => None,
            None => self.remembered(&id),
        };
        self.wait_until(
            database_id,
            &mut options,
            deadline,
            None,
            remembered.as_ref(),
        )
    }

    /// Redeploys, then waits for that deployment (correlated with the 202's request id).
    /// `wait.timeout` bounds both; the accepted status is reported to `on_progress` first.
    /// If the wait is cancelled or times out, the accepted status stays remembered
    /// ([`accepted_redeploy`](Self::accepted_redeploy)): `wait_for_database` resumes it.
    pub fn redeploy_and_wait(
        &self,
        database_id: &str,
        redeploy: RedeployOptions<'_>,
        mut wait: WaitOptions<'_>,
    ) -> Result<DeploymentStatus, Error> {
        let deadline = after(Instant::now(), wait.timeout);
        let redeploy = RedeployOptions {
            cancel: redeploy.cancel.or(wait.cancel),
            ..redeploy
        };
        let accepted = self
            .redeploy_until(database_id, redeploy, Some(deadline))
            .map_err(|e| {
                if e.kind() == ErrorKind::Timeout && Instant::now() >= deadline {
                    e.with_kind(ErrorKind::WaitTimeout)
                } else {
                    e
                }
            })?;
        if let Some(report) = wait.on_progress.as_mut() {
            let progress = Progress {
                status: &accepted,
                belongs: Belongs::Ours,
            };
            if report(&progress).is_break() {
                return Err(
                    Error::new(ErrorKind::Cancelled, "cancelled by the progress callback")
                        .with_status(accepted)
                        .redacted(self.secret()),
                );
            }
        }
        self.wait_until(database_id, &mut wait, deadline, Some(&accepted), None)
    }

    /// `last_reported`: the accepted status, already given to `on_progress`. `remembered`:
    /// the client's memory of the accepted redeploy, used when no status is given.
    fn wait_until(
        &self,
        database_id: &str,
        options: &mut WaitOptions<'_>,
        deadline: Instant,
        last_reported: Option<&DeploymentStatus>,
        remembered: Option<&Accepted>,
    ) -> Result<DeploymentStatus, Error> {
        let poll_interval = self.poll_interval_for(options.poll_interval);
        let now = Instant::now();
        let (accepted, accepted_at) = match last_reported.or(options.accepted) {
            Some(given) => (Some(given), now),
            // The settle delay runs from when the redeploy was accepted, not from the wait.
            None => match remembered {
                Some(r) => (Some(&r.status), r.at.min(now)),
                None => (None, now),
            },
        };
        let id = crate::client::parse_database_id(database_id)?;
        // The deployment waited for ended: the client need not remember it any more.
        let settle = || {
            if let Some(a) = accepted {
                self.settled(&id, a);
            }
        };
        let mut tracker = Tracker::new(accepted, options.settle_delay, accepted_at);
        let mut last: Option<DeploymentStatus> = last_reported.cloned();
        let mut reported_key = last_reported.map(progress_key);
        let mut last_error: Option<Error>;
        let cancel = options.cancel;
        // These messages quote the server's states: redacted like every error from server data.
        let secret = self.secret();
        let stop = |last: Option<DeploymentStatus>, kind: ErrorKind, message: String| {
            let e = Error::new(kind, message);
            match last {
                Some(s) => e.with_status(s),
                None => e,
            }
            .redacted(secret)
        };
        loop {
            if cancelled(cancel) {
                return Err(stop(last, ErrorKind::Cancelled, "cancelled".into()));
            }
            match self.database_status_with(database_id, Some(deadline), cancel) {
                Ok(status) => {
                    last_error = None;
                    let key = progress_key(&status);
                    if reported_key.as_ref() != Some(&key) {
                        reported_key = Some(key);
                        if let Some(report) = options.on_progress.as_mut() {
                            let progress = Progress {
                                status: &status,
                                belongs: tracker.belongs(&status),
                            };
                            if report(&progress).is_break() {
                                return Err(stop(
                                    Some(status),
                                    ErrorKind::Cancelled,
                                    "cancelled by the progress callback".into(),
                                ));
                            }
                        }
                    }
                    if tracker.is_final(&status, Instant::now()) {
                        settle();
                        if status.is_success() {
                            return Ok(status);
                        }
                        let message = format!("deployment ended in {}", status.state);
                        return Err(stop(Some(status), ErrorKind::DeploymentFailed, message));
                    }
                    last = Some(status);
                }
                Err(e) if e.kind() == ErrorKind::Cancelled => {
                    return Err(stop(last, ErrorKind::Cancelled, e.message().to_owned()));
                }
                Err(e) if e.is_transient() => {
                    log::warn!(target: "qovery_redeploy", "status poll failed, will poll again: {e}");
                    last_error = Some(e);
                }
                Err(e) => return Err(e),
            }
            // The last poll comes just before the deadline rather than a whole interval early,
            // leaving it FINAL_POLL_BUDGET to be answered.
            let now = Instant::now();
            if after(now, FINAL_POLL_BUDGET) >= deadline {
                let mut message = match &last {
                    Some(s) => format!("wait timed out; last state {}", s.state),
                    None => "wait timed out before any status was read".to_owned(),
                };
                if let Some(e) = last_error {
                    message.push_str(&format!("; last poll failed: {e}"));
                }
                return Err(stop(last, ErrorKind::WaitTimeout, message));
            }
            let next = after(now, poll_interval).min(deadline - FINAL_POLL_BUDGET);
            if !sleep_until(next, cancel) {
                return Err(stop(last, ErrorKind::Cancelled, "cancelled".into()));
            }
        }
    }
}

/// What counts as a change worth reporting.
fn progress_key(s: &DeploymentStatus) -> (String, Option<uuid::Uuid>, Option<String>) {
    (
        s.state.as_str().to_owned(),
        s.deployment_request_id,
        s.status_details
            .status
            .as_ref()
            .map(|v| v.as_str().to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: &str, rid: Option<&str>) -> DeploymentStatus {
        let rid = rid.map_or("null".to_owned(), |r| format!("\"{r}\""));
        DeploymentStatus::from_json(&format!(
            r#"{{"id":"3c90c3cc-0d44-4b50-8888-8dd25736052a","state":"{state}",
            "service_deployment_status":"UP_TO_DATE","is_part_last_deployment":true,
            "status_details":{{"action":"DEPLOY","status":"ONGOING","sub_action":"NONE"}},
            "deployment_request_id":{rid},"deployment_requests_count":1}}"#
        ))
        .unwrap()
    }

    const OLD: &str = "11111111-1111-4111-8111-111111111111";
    const NEW: &str = "22222222-2222-4222-8222-222222222222";

    #[test]
    fn each_status_says_whether_it_is_the_deployment_waited_for() {
        let t0 = Instant::now();
        let ours = Tracker::new(Some(&status("QUEUED", Some(NEW))), Duration::ZERO, t0);
        assert_eq!(ours.belongs(&status("DEPLOYING", Some(NEW))), Belongs::Ours);
        assert_eq!(
            ours.belongs(&status("DEPLOYING", Some(OLD))),
            Belongs::Earlier
        );
        assert_eq!(ours.belongs(&status("DEPLOYING", None)), Belongs::Unknown);
        // A 202 without a request id, or no redeploy at all: nothing to tell by.
        let no_id = Tracker::new(Some(&status("QUEUED", None)), Duration::ZERO, t0);
        assert_eq!(
            no_id.belongs(&status("DEPLOYING", Some(OLD))),
            Belongs::Unknown
        );
        let plain = Tracker::new(None, Duration::ZERO, t0);
        assert_eq!(
            plain.belongs(&status("DEPLOYING", Some(OLD))),
            Belongs::Unknown
        );
        let earlier = Progress {
            status: &status("DEPLOYING", Some(OLD)),
            belongs: Belongs::Earlier,
        };
        assert_eq!(
            earlier.summary(),
            "DEPLOYING (DEPLOY ONGOING, an earlier request)"
        );
        let mine = Progress {
            belongs: Belongs::Ours,
            ..earlier
        };
        assert_eq!(mine.summary(), "DEPLOYING (DEPLOY ONGOING)");
    }

    #[test]
    fn stale_terminal_state_with_other_request_id_is_ignored() {
        let accepted = status("QUEUED", Some(NEW));
        let t0 = Instant::now();
        let mut t = Tracker::new(Some(&accepted), Duration::from_secs(10), t0);
        let late = t0 + Duration::from_secs(3600);
        assert!(!t.is_final(&status("DEPLOYED", Some(OLD)), late));
        assert!(!t.is_final(&status("DEPLOYING", Some(OLD)), late));
        assert!(!t.seen_in_progress);
        assert!(!t.is_final(&status("DEPLOYING", Some(NEW)), late));
        assert!(t.is_final(&status("DEPLOYMENT_ERROR", Some(NEW)), late));
    }

    #[test]
    fn without_ids_progress_or_settle_delay_is_required() {
        let accepted = status("QUEUED", None);
        let t0 = Instant::now();
        let mut t = Tracker::new(Some(&accepted), Duration::from_secs(10), t0);
        assert!(!t.is_final(&status("DEPLOYED", Some(OLD)), t0 + Duration::from_secs(1)));
        assert!(t.is_final(&status("DEPLOYED", Some(OLD)), t0 + Duration::from_secs(11)));
        let mut t = Tracker::new(Some(&accepted), Duration::from_secs(10), t0);
        assert!(!t.is_final(&status("FUTURE_STATE", None), t0));
        assert!(t.is_final(&status("DEPLOYED", None), t0 + Duration::from_secs(1)));
    }

    #[test]
    fn unbounded_durations_do_not_overflow() {
        let c = Client::builder()
            .token("t")
            .base_url("http://127.0.0.1:1")
            .deadline(Duration::MAX)
            .request_timeout(Duration::MAX)
            .max_retries(0)
            .build()
            .unwrap();
        let err = c
            .wait_for_database(
                "3c90c3cc-0d44-4b50-8888-8dd25736052a",
                WaitOptions {
                    timeout: Duration::MAX,
                    poll_interval: Duration::MAX,
                    settle_delay: Duration::MAX,
                    cancel: Some(&|| true),
                    ..Default::default()
                },
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
    }

    #[test]
    fn unknown_and_other_settled_states_keep_waiting() {
        let mut t = Tracker::new(None, Duration::ZERO, Instant::now());
        for s in ["SOMETHING_NEW", "STOPPED", "RESTARTED", "DELETED", "QUEUED"] {
            assert!(!t.is_final(&status(s, None), Instant::now()), "{s}");
        }
        assert!(t.is_final(&status("FUTURE_THING_ERROR", None), Instant::now()));
        assert!(t.is_final(&status("CANCELED", None), Instant::now()));
    }
}
