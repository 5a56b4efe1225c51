//! Database configuration (`DatabaseConfig`) and the `--config` file format, parsed
//! with serde.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::ids::parse_uuid;
use crate::jsonutil::{from_object, named, Bounded};

/// Intermediate states walked through by a deployment before its outcome.
pub const DEFAULT_STATES: [&str; 3] = ["QUEUED", "DEPLOYMENT_QUEUED", "DEPLOYING"];
pub const DEFAULT_INITIAL_STATE: &str = "DEPLOYED";
pub const DEFAULT_OUTCOME: &str = "DEPLOYED";
pub const DEFAULT_TOKEN: &str = "qovery-mock-token";
pub const DEFAULT_TICK_MS: u64 = 500;
/// The largest `--tick-ms` (a config file's global `tick_ms` has no bound).
pub const MAX_TICK_MS: u64 = 3_600_000;
const MAX_STATES: usize = 64;
const MAX_DB_TICK_MS: u64 = 3_600_000;

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

/// A deployment state name.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct State(String);

impl TryFrom<String> for State {
    type Error = String;
    fn try_from(s: String) -> Result<State, String> {
        if s.is_empty() || s.len() > 128 {
            return Err("must be a non-empty string of at most 128 bytes".into());
        }
        Ok(State(s))
    }
}

/// A DatabaseConfig as sent. A `null` field counts as absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DbConfigSpec {
    #[serde(default, deserialize_with = "named::initial_state")]
    initial_state: Option<State>,
    #[serde(default, deserialize_with = "named::tick_ms")]
    tick_ms: Option<Bounded<0, MAX_DB_TICK_MS>>,
    #[serde(default, deserialize_with = "named::outcome")]
    outcome: Option<State>,
    #[serde(default, deserialize_with = "named::null_request_id")]
    null_request_id: Option<bool>,
    #[serde(default, deserialize_with = "named::stale_polls")]
    stale_polls: Option<u64>,
    #[serde(default, deserialize_with = "named::states")]
    states: Option<Vec<State>>,
    /// One fault or a list, parsed by `Fault::parse_many` (which keeps the JSON of each).
    #[serde(default)]
    faults: Option<Value>,
}

impl TryFrom<DbConfigSpec> for DbConfig {
    type Error = String;
    fn try_from(s: DbConfigSpec) -> Result<DbConfig, String> {
        if s.states.as_ref().is_some_and(|st| st.len() > MAX_STATES) {
            return Err(format!("states may list at most {MAX_STATES} states"));
        }
        Ok(DbConfig {
            initial_state: s.initial_state.map(|st| st.0),
            tick_ms: s.tick_ms.map(|t| t.0),
            outcome: s.outcome.map(|st| st.0),
            null_request_id: s.null_request_id.unwrap_or(false),
            stale_polls: s.stale_polls.unwrap_or(0),
            states: s.states.map(|st| st.into_iter().map(|st| st.0).collect()),
            faults: match &s.faults {
                None => Vec::new(),
                Some(f) => Fault::parse_many(f)?,
            },
        })
    }
}

impl DbConfig {
    /// A DatabaseConfig object; `null` is the default configuration.
    pub fn from_json(v: &Value) -> Result<DbConfig, String> {
        if v.is_null() {
            return Ok(DbConfig::default());
        }
        let spec: DbConfigSpec = from_object("database config", v)?;
        DbConfig::try_from(spec).map_err(|e| format!("database config: {e}"))
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
        return Err("a token must be 1-4096 visible ASCII characters without spaces".into());
    }
    Ok(())
}

/// An API token from the config file (its errors never quote it).
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Token(String);

impl TryFrom<String> for Token {
    type Error = String;
    fn try_from(t: String) -> Result<Token, String> {
        check_token(&t).map(|()| Token(t))
    }
}

/// A `--config` file as sent. A `null` field counts as absent.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfigSpec {
    #[serde(default, deserialize_with = "named::tokens")]
    tokens: Option<Vec<Token>>,
    #[serde(default, deserialize_with = "named::tick_ms")]
    tick_ms: Option<u64>,
    #[serde(default, deserialize_with = "named::any_database")]
    any_database: Option<bool>,
    /// Keyed by database UUID; each value a DatabaseConfig (or `null`), parsed by
    /// `DbConfig::from_json` so that an error names the database.
    #[serde(default, deserialize_with = "named::databases")]
    databases: Option<BTreeMap<String, Value>>,
}

impl TryFrom<FileConfigSpec> for FileConfig {
    type Error = String;
    fn try_from(s: FileConfigSpec) -> Result<FileConfig, String> {
        let databases = s
            .databases
            .unwrap_or_default()
            .into_iter()
            .map(|(id, db)| {
                let uuid =
                    parse_uuid(&id).ok_or_else(|| format!("databases: {id:?} is not a UUID"))?;
                let db = DbConfig::from_json(&db).map_err(|e| format!("databases.{id}: {e}"))?;
                Ok((uuid, db))
            })
            .collect::<Result<_, String>>()?;
        Ok(FileConfig {
            tokens: s
                .tokens
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.0)
                .collect(),
            tick_ms: s.tick_ms,
            any_database: s.any_database,
            databases,
        })
    }
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
        let spec: FileConfigSpec = from_object("config", &v)?;
        FileConfig::try_from(spec).map_err(|e| format!("config: {e}"))
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
    fn db_config_nulls_limits_and_field_names() {
        let c = DbConfig::from_json(&json!({
            "initial_state": null, "tick_ms": null, "outcome": null, "null_request_id": null,
            "stale_polls": null, "states": null, "faults": null
        }))
        .unwrap();
        assert_eq!(format!("{c:?}"), format!("{:?}", DbConfig::default()));
        assert_eq!(
            format!("{:?}", DbConfig::from_json(&Value::Null).unwrap()),
            format!("{c:?}")
        );
        let c = DbConfig::from_json(&json!({
            "tick_ms": 3_600_000, "states": vec!["S"; MAX_STATES], "initial_state": "S".repeat(128),
            "faults": {"kind": "close", "times": 2}
        }))
        .unwrap();
        assert_eq!(c.tick_ms, Some(3_600_000));
        assert_eq!(c.states().len(), MAX_STATES);
        assert_eq!(c.faults.len(), 1);
        assert_eq!(c.faults[0].remaining, Some(2));
        let e = |v: Value| DbConfig::from_json(&v).unwrap_err();
        for (bad, field) in [
            (json!({"tick_ms": 3_600_001}), "tick_ms"),
            (json!({"tick_ms": "1"}), "tick_ms"),
            (json!({"states": vec!["S"; MAX_STATES + 1]}), "states"),
            (json!({"states": ["QUEUED", ""]}), "states"),
            (json!({"states": ["QUEUED", null]}), "states"),
            (json!({"initial_state": "S".repeat(129)}), "initial_state"),
            (json!({"outcome": 5}), "outcome"),
            (json!({"null_request_id": 1}), "null_request_id"),
            (json!({"stale_polls": -1}), "stale_polls"),
            (json!({"stale_polls": 1.0}), "stale_polls"),
            (json!({"faults": [{"kind": "http", "code": 42}]}), "code"),
            (json!({"faults": 5}), "fault"),
            (json!({"stale_poll": 1}), "stale_poll"),
            (json!(["DEPLOYED"]), "object"),
            (json!("DEPLOYED"), "object"),
        ] {
            let err = e(bad.clone());
            assert!(
                err.starts_with("database config") && err.contains(field),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn file_config_errors() {
        let e = |t: &str| FileConfig::parse(t).unwrap_err();
        assert!(e(r#"{"tick_ms": -5}"#).contains("tick_ms"));
        assert!(e(r#"{"any_database": "yes"}"#).contains("any_database"));
        assert!(e(r#"{"databases": [1]}"#).contains("databases"));
        assert!(e(r#"[["tok"]]"#).contains("object"));
        // no upper bound on the global tick (only on a database's)
        assert_eq!(
            FileConfig::parse(r#"{"tick_ms": 3600001}"#)
                .unwrap()
                .tick_ms,
            Some(3_600_001)
        );
        // an error in a database names it
        let err = e(r#"{"databases": {"3c90c3cc-0d44-4b50-8888-8dd25736052a": {"outcome": ""}}}"#);
        assert!(
            err.contains("3c90c3cc-0d44-4b50-8888-8dd25736052a") && err.contains("outcome"),
            "{err}"
        );
        // both spellings of one id are kept, in key order (the later one wins at start-up)
        let f = FileConfig::parse(
            r#"{"databases": {"3c90c3cc-0d44-4b50-8888-8dd25736052a": {"outcome": "B"},
                              "3C90C3CC-0D44-4B50-8888-8DD25736052A": {"outcome": "A"}}}"#,
        )
        .unwrap();
        let outcomes: Vec<_> = f
            .databases
            .iter()
            .map(|(id, c)| (id.as_str(), c.outcome()))
            .collect();
        assert_eq!(
            outcomes,
            [
                ("3c90c3cc-0d44-4b50-8888-8dd25736052a", "A"),
                ("3c90c3cc-0d44-4b50-8888-8dd25736052a", "B")
            ]
        );
        // a token anywhere a string does not belong is not quoted back
        for t in [
            r#"{"tick_ms": "s3cret-value"}"#,
            r#"{"tokens": [["s3cret-value"]]}"#,
            r#"{"tokens": {"a": "s3cret-value"}}"#,
            r#"{"any_database": "s3cret"value"}"#,
            r#"{"databases": {"3c90c3cc-0d44-4b50-8888-8dd25736052a": {"stale_polls": "s3cret-value"}}}"#,
            r#""s3cret-value""#,
        ] {
            let err = e(t);
            assert!(!err.contains("s3cret"), "{t}: {err}");
        }
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
