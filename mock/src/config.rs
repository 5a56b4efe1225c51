//! Database configuration (`DatabaseConfig`) and the `--config` file format.

use serde_json::{json, Value};

use crate::faults::Fault;
use crate::ids::parse_uuid;
use crate::jsonutil::Obj;

/// Intermediate states walked through by a deployment before its outcome.
pub const DEFAULT_STATES: [&str; 3] = ["QUEUED", "DEPLOYMENT_QUEUED", "DEPLOYING"];
pub const DEFAULT_INITIAL_STATE: &str = "DEPLOYED";
pub const DEFAULT_OUTCOME: &str = "DEPLOYED";
pub const DEFAULT_TOKEN: &str = "qovery-mock-token";
pub const DEFAULT_TICK_MS: u64 = 500;
const MAX_STATES: usize = 64;

/// Per-database behaviour. Every field is optional in JSON.
#[derive(Clone, Debug, Default)]
pub struct DbConfig {
    pub initial_state: Option<String>,
    pub tick_ms: Option<u64>,
    pub outcome: Option<String>,
    pub null_request_id: bool,
    pub stale_polls: u64,
    pub states: Option<Vec<String>>,
    pub faults: Vec<Fault>,
}

fn check_state(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 128 {
        return Err(format!(
            "{what} must be a non-empty string of at most 128 bytes"
        ));
    }
    Ok(())
}

impl DbConfig {
    pub fn from_json(v: &Value) -> Result<DbConfig, String> {
        if v.is_null() {
            return Ok(DbConfig::default());
        }
        let mut o = Obj::new("database config", v)?;
        let cfg = DbConfig {
            initial_state: o.string("initial_state")?,
            tick_ms: o.uint("tick_ms")?,
            outcome: o.string("outcome")?,
            null_request_id: o.boolean("null_request_id")?.unwrap_or(false),
            stale_polls: o.uint("stale_polls")?.unwrap_or(0),
            states: o.string_list("states")?,
            faults: match o.get("faults") {
                None => Vec::new(),
                Some(f) => Fault::parse_many(f)?,
            },
        };
        o.finish()?;
        if let Some(s) = &cfg.initial_state {
            check_state("initial_state", s)?;
        }
        if let Some(s) = &cfg.outcome {
            check_state("outcome", s)?;
        }
        if let Some(states) = &cfg.states {
            if states.len() > MAX_STATES {
                return Err(format!("states may list at most {MAX_STATES} states"));
            }
            for s in states {
                check_state("states[]", s)?;
            }
        }
        if cfg.tick_ms.is_some_and(|t| t > 3_600_000) {
            return Err("tick_ms must be <= 3600000".into());
        }
        Ok(cfg)
    }

    pub fn initial_state(&self) -> &str {
        self.initial_state
            .as_deref()
            .unwrap_or(DEFAULT_INITIAL_STATE)
    }

    pub fn outcome(&self) -> &str {
        self.outcome.as_deref().unwrap_or(DEFAULT_OUTCOME)
    }

    pub fn states(&self) -> Vec<String> {
        match &self.states {
            Some(s) => s.clone(),
            None => DEFAULT_STATES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Effective configuration, as echoed by the control API.
    pub fn to_json(&self) -> Value {
        json!({
            "initial_state": self.initial_state(),
            "tick_ms": self.tick_ms,
            "outcome": self.outcome(),
            "null_request_id": self.null_request_id,
            "stale_polls": self.stale_polls,
            "states": self.states(),
            "faults": self.faults.iter().map(Fault::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Contents of a `--config` file. Absent fields stay `None` / empty so that
/// command-line flags can be merged on top.
#[derive(Debug, Default)]
pub struct FileConfig {
    pub tokens: Vec<String>,
    pub tick_ms: Option<u64>,
    pub any_database: Option<bool>,
    pub databases: Vec<(String, DbConfig)>,
}

/// Tokens must be usable in an `Authorization` header.
pub fn check_token(t: &str) -> Result<(), String> {
    if t.is_empty() || t.len() > 4096 || t.bytes().any(|b| !(0x21..=0x7e).contains(&b)) {
        return Err("tokens must be 1-4096 visible ASCII characters without spaces".into());
    }
    Ok(())
}

impl FileConfig {
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        // Never echo serde's message: it may quote a value (a token).
        let v: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "not valid JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })?;
        let mut o = Obj::new("config", &v)?;
        let mut cfg = FileConfig {
            tokens: match o.get("tokens") {
                None => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|t| match t {
                        Value::String(s) => check_token(s).map(|_| s.clone()),
                        _ => Err("config.tokens must be a list of strings".to_string()),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("config.tokens must be a list of strings".into()),
            },
            tick_ms: o.uint("tick_ms")?,
            any_database: o.boolean("any_database")?,
            databases: Vec::new(),
        };
        if let Some(dbs) = o.get("databases") {
            let Value::Object(map) = dbs else {
                return Err("config.databases must be an object keyed by database UUID".into());
            };
            for (id, dbv) in map {
                let uuid = parse_uuid(id)
                    .ok_or_else(|| format!("config.databases: {id:?} is not a UUID"))?;
                let db = DbConfig::from_json(dbv).map_err(|e| format!("databases.{id}: {e}"))?;
                cfg.databases.push((uuid, db));
            }
        }
        o.finish()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_db_config() {
        let c = DbConfig::from_json(&json!({
            "initial_state": "DEPLOYMENT_ERROR", "tick_ms": 10, "outcome": "CANCELED",
            "null_request_id": true, "stale_polls": 2, "states": ["QUEUED", "X"],
            "faults": [{"kind": "close"}]
        }))
        .unwrap();
        assert_eq!(c.initial_state(), "DEPLOYMENT_ERROR");
        assert_eq!(c.tick_ms, Some(10));
        assert_eq!(c.outcome(), "CANCELED");
        assert!(c.null_request_id);
        assert_eq!(c.stale_polls, 2);
        assert_eq!(c.states(), vec!["QUEUED", "X"]);
        assert_eq!(c.faults.len(), 1);
        let d = DbConfig::from_json(&json!({})).unwrap();
        assert_eq!(d.states(), DEFAULT_STATES);
        assert!(DbConfig::from_json(&json!({"stale_poll": 1})).is_err());
        assert!(DbConfig::from_json(&json!({"outcome": ""})).is_err());
        assert!(DbConfig::from_json(&json!({"states": "QUEUED"})).is_err());
    }

    #[test]
    fn parses_file_config_without_leaking_tokens() {
        let f = FileConfig::parse(
            r#"{"tokens": ["a", "b"], "tick_ms": 5, "any_database": true,
                "databases": {"3C90C3CC-0D44-4B50-8888-8DD25736052A": {"outcome": "DEPLOYMENT_ERROR"},
                              "3c90c3cc-0d44-4b50-8888-8dd25736052b": null}}"#,
        )
        .unwrap();
        assert_eq!(f.tokens, vec!["a", "b"]);
        assert_eq!(f.tick_ms, Some(5));
        assert_eq!(f.any_database, Some(true));
        assert_eq!(f.databases.len(), 2);
        assert!(f
            .databases
            .iter()
            .any(|(id, _)| id == "3c90c3cc-0d44-4b50-8888-8dd25736052a"));
        let err = FileConfig::parse(r#"{"tokens": "s3cret-value"}"#).unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        let err = FileConfig::parse(r#"{"tokens": ["s3cret value"]}"#).unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        let err = FileConfig::parse(r#"{"tokens": ["s3cret-value"#).unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(FileConfig::parse(r#"{"databases": {"nope": {}}}"#).is_err());
        assert!(FileConfig::parse(r#"{"port": 1}"#).is_err());
    }
}
