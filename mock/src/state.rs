//! Shared server state: databases, their deployment clock/queue, request
//! counters. Deployment progress is computed from timestamps on demand; no
//! background thread.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use crate::body::{render_status, StatusView, Steps};
use crate::config::DbConfig;
use crate::faults::Fault;
use crate::ids::new_v4;
use crate::timefmt;

/// Maps monotonic instants to wall-clock time.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    wall0: SystemTime,
    inst0: Instant,
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            wall0: SystemTime::now(),
            inst0: Instant::now(),
        }
    }

    pub fn wall(&self, i: Instant) -> SystemTime {
        match i.checked_duration_since(self.inst0) {
            Some(d) => self.wall0 + d,
            None => self.wall0 - self.inst0.duration_since(i),
        }
    }
}

/// `QUEUED` and `*_QUEUED` states count as queueing time.
fn is_queue_state(s: &str) -> bool {
    s == "QUEUED" || s.ends_with("_QUEUED")
}

/// `status_details.status` for a state.
fn action_status(s: &str, terminal: bool) -> &'static str {
    if is_queue_state(s) {
        return "QUEUED";
    }
    if s.ends_with("_ERROR") {
        return "ERROR";
    }
    match s {
        "CANCELED" => "CANCELED",
        "CANCELING" => "CANCELING",
        "EXECUTING" => "EXECUTING",
        "DEPLOYED" | "RESTARTED" | "STOPPED" | "DELETED" | "RECAP" | "READY" => "SUCCESS",
        "BUILDING" | "DEPLOYING" | "RESTARTING" | "STOPPING" | "DELETING" => "ONGOING",
        s if s.starts_with("WAITING_") => "ONGOING",
        _ if terminal => "SUCCESS",
        _ => "ONGOING",
    }
}

fn round_secs(ms: u64) -> u64 {
    (ms + 500) / 1000
}

/// How a deployment unfolds: each state lasts `tick_ms`, then `outcome`.
#[derive(Debug)]
pub struct Plan {
    tick_ms: u64,
    states: Vec<String>,
    outcome: Arc<str>,
    queue_states: u64,
}

impl Plan {
    fn new(tick_ms: u64, states: Vec<String>, outcome: &str) -> Plan {
        let queue_states = states.iter().filter(|s| is_queue_state(s)).count() as u64;
        Plan {
            tick_ms,
            states,
            outcome: outcome.into(),
            queue_states,
        }
    }

    fn duration(&self) -> Duration {
        Duration::from_millis(self.tick_ms.saturating_mul(self.states.len() as u64))
    }
}

/// A terminal (or static initial) status.
#[derive(Clone, Debug)]
struct Snapshot {
    state: Arc<str>,
    service_deployment_status: &'static str,
    action_status: &'static str,
    date: SystemTime,
    steps: Steps,
    execution_id: String,
    request_id: Option<String>,
}

impl Snapshot {
    /// The status after a deployment ended in `state`.
    fn finished(
        state: Arc<str>,
        queue_secs: Option<u64>,
        deploy_secs: u64,
        date: SystemTime,
        execution_id: String,
        request_id: Option<String>,
    ) -> Snapshot {
        let action_status = action_status(&state, true);
        let is_final = matches!(action_status, "SUCCESS" | "ERROR" | "CANCELED");
        let step_status = match action_status {
            "ERROR" => "ERROR",
            "CANCELED" => "CANCEL",
            _ => "SUCCESS",
        };
        Snapshot {
            service_deployment_status: if action_status == "SUCCESS" {
                "UP_TO_DATE"
            } else {
                "OUT_OF_DATE"
            },
            action_status,
            date,
            steps: Steps {
                total: is_final.then(|| queue_secs.unwrap_or(0) + deploy_secs),
                computing: deploy_secs,
                queueing: queue_secs,
                deployment: is_final.then_some((deploy_secs, step_status)),
            },
            execution_id,
            request_id,
            state,
        }
    }

    fn view<'a>(&'a self, id: &'a str, null_id: bool, count: u64) -> StatusView<'a> {
        StatusView {
            id,
            state: &self.state,
            service_deployment_status: self.service_deployment_status,
            last_deployment_date: self.date,
            steps: &self.steps,
            execution_id: &self.execution_id,
            action_status: self.action_status,
            request_id: if null_id {
                None
            } else {
                self.request_id.as_deref()
            },
            requests_count: count,
        }
    }
}

#[derive(Debug)]
struct Deployment {
    request_id: String,
    execution_id: String,
    plan: Arc<Plan>,
    /// When it started running (`None` while queued behind another one).
    start: Option<Instant>,
}

impl Deployment {
    fn finished(self, date: SystemTime) -> Snapshot {
        let p = &self.plan;
        let queue_ms = p.queue_states * p.tick_ms;
        let deploy_ms = (p.states.len() as u64 - p.queue_states) * p.tick_ms;
        Snapshot::finished(
            p.outcome.clone(),
            (p.queue_states > 0).then(|| round_secs(queue_ms)),
            round_secs(deploy_ms),
            date,
            self.execution_id,
            Some(self.request_id),
        )
    }
}

/// One database.
#[derive(Debug)]
pub struct Db {
    pub id: String,
    pub cfg: DbConfig,
    pub faults: VecDeque<Fault>,
    pub last_apply_immediately: Option<bool>,
    /// Redeploy requests that were processed (started or queued a deployment).
    pub deployments_started: u64,
    clock: Clock,
    plan: Arc<Plan>,
    /// Front = running deployment, then the queued ones.
    active: VecDeque<Deployment>,
    /// Last terminal status (initially derived from `initial_state`).
    last: Snapshot,
    /// Previous terminal status still served to the next N status polls.
    stale: Option<(Snapshot, u64)>,
    env_id: String,
    exec_counter: u64,
}

impl Db {
    pub fn new(id: String, cfg: DbConfig, global_tick_ms: u64, clock: Clock) -> Db {
        let tick = cfg.tick_ms.unwrap_or(global_tick_ms);
        let plan = Arc::new(Plan::new(tick, cfg.states(), cfg.outcome()));
        let env_id = new_v4();
        let date = clock
            .wall(Instant::now())
            .checked_sub(Duration::from_secs(3600))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let initial: Arc<str> = cfg.initial_state().into();
        let execution_id = format!("{env_id}-1-{}", timefmt::unix_secs(date));
        let last = if &*initial == "READY" {
            Snapshot {
                state: initial,
                service_deployment_status: "NEVER_DEPLOYED",
                action_status: "NEVER",
                date,
                steps: Steps::default(),
                execution_id,
                request_id: None,
            }
        } else {
            Snapshot::finished(initial, Some(3), 41, date, execution_id, Some(new_v4()))
        };
        Db {
            id,
            faults: cfg.faults.iter().cloned().collect(),
            cfg,
            last_apply_immediately: None,
            deployments_started: 0,
            clock,
            plan,
            active: VecDeque::new(),
            last,
            stale: None,
            env_id,
            exec_counter: 1,
        }
    }

    /// Retires the deployments that are over by `now`, starting queued ones
    /// back to back.
    fn advance(&mut self, now: Instant) {
        while let Some(front) = self.active.front_mut() {
            let start = *front.start.get_or_insert(now);
            let end = start + front.plan.duration();
            if now < end {
                break;
            }
            if let Some(d) = self.active.pop_front() {
                self.last = d.finished(self.clock.wall(start));
            }
            if let Some(next) = self.active.front_mut() {
                next.start = Some(end);
            }
        }
    }

    /// Number of pending deployment requests, the running one included.
    pub fn pending(&mut self, now: Instant) -> usize {
        self.advance(now);
        self.active.len()
    }

    /// Renders the status of a running (or just queued) deployment,
    /// `elapsed_ms` after it started.
    fn render_running(&self, d: &Deployment, elapsed_ms: u64, date: SystemTime, out: &mut Vec<u8>) {
        let p = &d.plan;
        let idx = elapsed_ms
            .checked_div(p.tick_ms)
            .map_or(0, |i| (i as usize).min(p.states.len().saturating_sub(1)));
        let state = p.states.get(idx).map_or(&*p.outcome, String::as_str);
        let passed_queue = p.states[..idx.min(p.states.len())]
            .iter()
            .filter(|s| is_queue_state(s))
            .count() as u64;
        let in_queue = is_queue_state(state);
        let queue_ms = passed_queue * p.tick_ms;
        let steps = Steps {
            total: None,
            computing: if in_queue {
                0
            } else {
                elapsed_ms.saturating_sub(queue_ms) / 1000
            },
            queueing: (!in_queue && passed_queue > 0).then(|| round_secs(queue_ms)),
            deployment: None,
        };
        let view = StatusView {
            id: &self.id,
            state,
            service_deployment_status: "OUT_OF_DATE",
            last_deployment_date: date,
            steps: &steps,
            execution_id: &d.execution_id,
            action_status: action_status(state, false),
            request_id: if self.cfg.null_request_id {
                None
            } else {
                Some(&d.request_id)
            },
            requests_count: self.active.len() as u64,
        };
        render_status(&view, out);
    }

    /// Accepts a redeploy request: a new deployment starts now (or is queued
    /// behind the running one). Renders the 202 body into `out`.
    pub fn redeploy(&mut self, now: Instant, out: &mut Vec<u8>) {
        self.advance(now);
        if self.cfg.stale_polls > 0 {
            self.stale = Some((self.last.clone(), self.cfg.stale_polls));
        }
        self.deployments_started += 1;
        self.exec_counter += 1;
        let wall = self.clock.wall(now);
        let d = Deployment {
            request_id: new_v4(),
            execution_id: format!(
                "{}-{}-{}",
                self.env_id,
                self.exec_counter,
                timefmt::unix_secs(wall)
            ),
            plan: self.plan.clone(),
            start: self.active.is_empty().then_some(now),
        };
        let count = self.active.len() as u64 + 1;
        if d.plan.states.is_empty() {
            // No intermediate state: the request is answered with its outcome.
            let snap = Deployment {
                request_id: d.request_id.clone(),
                execution_id: d.execution_id.clone(),
                plan: d.plan.clone(),
                start: None,
            }
            .finished(wall);
            render_status(&snap.view(&self.id, self.cfg.null_request_id, count), out);
            self.active.push_back(d);
        } else {
            self.active.push_back(d);
            if let Some(d) = self.active.back() {
                self.render_running(d, 0, wall, out);
            }
        }
        self.advance(now);
    }

    /// Renders the current status. `consume_stale` makes this poll one of the
    /// `stale_polls` that still see the previous terminal status.
    pub fn status(&mut self, now: Instant, consume_stale: bool, out: &mut Vec<u8>) {
        self.advance(now);
        if consume_stale {
            if let Some((snap, left)) = &mut self.stale {
                render_status(&snap.view(&self.id, self.cfg.null_request_id, 0), out);
                *left -= 1;
                if *left == 0 {
                    self.stale = None;
                }
                return;
            }
        }
        match self.active.front() {
            Some(d) => {
                let start = d.start.unwrap_or(now);
                let elapsed = now.duration_since(start).as_millis() as u64;
                self.render_running(d, elapsed, self.clock.wall(start), out);
            }
            None => render_status(&self.last.view(&self.id, self.cfg.null_request_id, 0), out),
        }
    }
}

/// One entry of a database's request log (never holds a token).
#[derive(Clone, Debug)]
pub struct LogEntry {
    pub time: SystemTime,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub auth_scheme: Option<&'static str>,
    pub authorized: bool,
    pub user_agent: Option<String>,
    pub fault: Option<&'static str>,
    pub response_status: Option<u16>,
}

/// Keep the log bounded (benchmarks send millions of requests).
pub const MAX_LOG: usize = 1000;

#[derive(Debug, Default)]
pub struct Stats {
    pub redeploy: u64,
    pub status: u64,
    pub log: VecDeque<LogEntry>,
}

/// Bound on the number of distinct database ids with counters.
pub const MAX_STATS_IDS: usize = 100_000;

#[derive(Debug, Default)]
pub struct Inner {
    pub dbs: HashMap<String, Db>,
    pub stats: HashMap<String, Stats>,
}

/// Everything the server knows, shared by all connection threads.
#[derive(Debug)]
pub struct App {
    pub tokens: Vec<String>,
    pub any_database: bool,
    pub tick_ms: u64,
    pub fast: bool,
    /// No stderr logging (see `mlog!`).
    pub quiet: bool,
    /// Databases from the command line / config file (restored by reset).
    base_dbs: Vec<(String, DbConfig)>,
    clock: Clock,
    inner: Mutex<Inner>,
    /// With `--tls`: the answer of `GET /_mock/tls` (set once at start).
    pub tls_info: OnceLock<serde_json::Value>,
}

impl App {
    pub fn new(
        tokens: Vec<String>,
        any_database: bool,
        tick_ms: u64,
        fast: bool,
        quiet: bool,
        base_dbs: Vec<(String, DbConfig)>,
    ) -> App {
        let app = App {
            tokens,
            any_database,
            tick_ms,
            fast,
            quiet,
            base_dbs,
            clock: Clock::new(),
            inner: Mutex::new(Inner::default()),
            tls_info: OnceLock::new(),
        };
        app.reset();
        app
    }

    /// A lock that survives a panicked holder (state stays usable).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn new_db(&self, id: &str, cfg: DbConfig) -> Db {
        Db::new(id.to_string(), cfg, self.tick_ms, self.clock)
    }

    /// Back to the command-line configuration: run-time databases, faults,
    /// counters and deployment state are forgotten.
    pub fn reset(&self) {
        let dbs = self
            .base_dbs
            .iter()
            .map(|(id, cfg)| (id.clone(), self.new_db(id, cfg.clone())))
            .collect();
        *self.lock() = Inner {
            dbs,
            stats: HashMap::new(),
        };
    }

    pub fn is_authorized_token(&self, t: &str) -> bool {
        self.tokens.iter().any(|k| k == t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn status(db: &mut Db, now: Instant) -> Value {
        let mut out = Vec::new();
        db.status(now, true, &mut out);
        serde_json::from_slice(&out).unwrap()
    }

    fn redeploy(db: &mut Db, now: Instant) -> Value {
        let mut out = Vec::new();
        db.redeploy(now, &mut out);
        serde_json::from_slice(&out).unwrap()
    }

    const ID: &str = "3c90c3cc-0d44-4b50-8888-8dd25736052a";

    #[test]
    fn clock_walks_states_and_queues() {
        let mut db = Db::new(ID.into(), DbConfig::default(), 100, Clock::new());
        let t0 = Instant::now();
        let s = status(&mut db, t0);
        assert_eq!(s["state"], "DEPLOYED");
        assert_eq!(s["service_deployment_status"], "UP_TO_DATE");
        assert_eq!(s["deployment_requests_count"], 0);
        let prev = s["deployment_request_id"].clone();

        let r = redeploy(&mut db, t0);
        assert_eq!(r["state"], "QUEUED");
        assert_eq!(r["status_details"]["status"], "QUEUED");
        assert_eq!(r["deployment_requests_count"], 1);
        assert_ne!(r["deployment_request_id"], prev);
        let first = r["deployment_request_id"].clone();

        let ms = Duration::from_millis;
        assert_eq!(status(&mut db, t0 + ms(150))["state"], "DEPLOYMENT_QUEUED");
        let s = status(&mut db, t0 + ms(250));
        assert_eq!(s["state"], "DEPLOYING");
        assert_eq!(s["status_details"]["status"], "ONGOING");
        assert_eq!(s["service_deployment_status"], "OUT_OF_DATE");
        assert_eq!(s["steps"]["total_duration_sec"], Value::Null);

        // a second request while deploying is queued
        let r2 = redeploy(&mut db, t0 + ms(260));
        assert_eq!(r2["deployment_requests_count"], 2);
        let second = r2["deployment_request_id"].clone();
        let s = status(&mut db, t0 + ms(270));
        assert_eq!(s["deployment_request_id"], first);
        assert_eq!(s["deployment_requests_count"], 2);
        // first ends at 300, second runs 300..600
        let s = status(&mut db, t0 + ms(310));
        assert_eq!(s["state"], "QUEUED");
        assert_eq!(s["deployment_request_id"], second);
        assert_eq!(s["deployment_requests_count"], 1);
        let s = status(&mut db, t0 + ms(600));
        assert_eq!(s["state"], "DEPLOYED");
        assert_eq!(s["deployment_request_id"], second);
        assert_eq!(s["deployment_requests_count"], 0);
        assert_eq!(s["status_details"]["status"], "SUCCESS");
        assert_eq!(s["steps"]["details"].as_array().unwrap().len(), 2);
        assert_eq!(db.deployments_started, 2);
    }

    #[test]
    fn tick_zero_outcome_and_stale_polls() {
        let cfg = DbConfig::from_json(&json!({
            "tick_ms": 0, "outcome": "DEPLOYMENT_ERROR", "stale_polls": 2
        }))
        .unwrap();
        let mut db = Db::new(ID.into(), cfg, 500, Clock::new());
        let t0 = Instant::now();
        let prev = status(&mut db, t0)["deployment_request_id"].clone();
        let r = redeploy(&mut db, t0);
        assert_eq!(r["state"], "QUEUED");
        for _ in 0..2 {
            let s = status(&mut db, t0);
            assert_eq!(s["state"], "DEPLOYED");
            assert_eq!(s["deployment_request_id"], prev);
        }
        let s = status(&mut db, t0);
        assert_eq!(s["state"], "DEPLOYMENT_ERROR");
        assert_eq!(s["status_details"]["status"], "ERROR");
        assert_eq!(s["service_deployment_status"], "OUT_OF_DATE");
        assert_eq!(s["steps"]["details"][1]["status"], "ERROR");
        assert_eq!(s["deployment_request_id"], r["deployment_request_id"]);
    }

    #[test]
    fn custom_states_null_ids_and_ready() {
        let cfg = DbConfig::from_json(&json!({
            "tick_ms": 10, "states": ["QUEUED", "FUTURE_STATE_X"], "null_request_id": true,
            "initial_state": "READY"
        }))
        .unwrap();
        let mut db = Db::new(ID.into(), cfg, 500, Clock::new());
        let t0 = Instant::now();
        let s = status(&mut db, t0);
        assert_eq!(s["service_deployment_status"], "NEVER_DEPLOYED");
        assert_eq!(s["status_details"]["status"], "NEVER");
        let r = redeploy(&mut db, t0);
        assert_eq!(r["deployment_request_id"], Value::Null);
        let s = status(&mut db, t0 + Duration::from_millis(15));
        assert_eq!(s["state"], "FUTURE_STATE_X");
        assert_eq!(s["status_details"]["status"], "ONGOING");
        assert_eq!(
            status(&mut db, t0 + Duration::from_millis(25))["state"],
            "DEPLOYED"
        );

        let cfg = DbConfig::from_json(&json!({"states": [], "outcome": "CANCELED"})).unwrap();
        let mut db = Db::new(ID.into(), cfg, 500, Clock::new());
        let r = redeploy(&mut db, t0);
        assert_eq!(r["state"], "CANCELED");
        assert_eq!(status(&mut db, t0)["status_details"]["status"], "CANCELED");
    }
}
