//! Small helpers for strict, friendly parsing of JSON objects coming from the
//! control API or the config file, plus the deep-merge used by `patch` faults.

use serde_json::{Map, Value};

/// A view over a JSON object that remembers which keys were read, so that
/// unknown (typo'd) keys can be reported.
pub struct Obj<'a> {
    what: &'a str,
    map: &'a Map<String, Value>,
    seen: Vec<&'static str>,
}

impl<'a> Obj<'a> {
    pub fn new(what: &'a str, v: &'a Value) -> Result<Self, String> {
        match v {
            Value::Object(map) => Ok(Obj {
                what,
                map,
                seen: Vec::new(),
            }),
            _ => Err(format!("{what} must be a JSON object")),
        }
    }

    /// The raw value of `key`; JSON `null` counts as absent.
    pub fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.seen.push(key);
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn string(&mut self, key: &'static str) -> Result<Option<String>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("{}.{key} must be a string", self.what)),
        }
    }

    pub fn boolean(&mut self, key: &'static str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(format!("{}.{key} must be true or false", self.what)),
        }
    }

    pub fn uint(&mut self, key: &'static str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| format!("{}.{key} must be a non-negative integer", self.what)),
        }
    }

    pub fn string_list(&mut self, key: &'static str) -> Result<Option<Vec<String>>, String> {
        let what = self.what;
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(format!("{what}.{key} must be a list of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(format!("{what}.{key} must be a list of strings")),
        }
    }

    /// Fails if the object has keys that were never read.
    pub fn finish(self) -> Result<(), String> {
        let mut unknown: Vec<&str> = self
            .map
            .keys()
            .map(String::as_str)
            .filter(|k| !self.seen.contains(k))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort_unstable();
        Err(format!(
            "{}: unknown field(s): {}",
            self.what,
            unknown
                .iter()
                .map(|k| format!("{k:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// RFC 7396-like deep merge, except that `null` is stored (not a deletion):
/// objects merge key by key, anything else replaces.
pub fn deep_merge(dst: &mut Value, src: &Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                match d.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        deep_merge(existing, v)
                    }
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (d, s) => *d = s.clone(),
    }
}

/// Removes a field named by a dotted path (`"steps"`, `"status_details.sub_action"`).
/// Missing paths are ignored.
pub fn remove_path(v: &mut Value, path: &str) {
    let mut cur = v;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Object(map) = cur else { return };
        if parts.peek().is_none() {
            map.remove(part);
            return;
        }
        match map.get_mut(part) {
            Some(next) => cur = next,
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_and_remove() {
        let mut v = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]});
        deep_merge(
            &mut v,
            &json!({"b": {"c": null, "x": "y"}, "e": {"f": 1}, "n": 5}),
        );
        assert_eq!(
            v,
            json!({"a": 1, "b": {"c": null, "d": 3, "x": "y"}, "e": {"f": 1}, "n": 5})
        );
        remove_path(&mut v, "b.d");
        remove_path(&mut v, "a");
        remove_path(&mut v, "zz.yy");
        remove_path(&mut v, "a.b.c");
        assert_eq!(
            v,
            json!({"b": {"c": null, "x": "y"}, "e": {"f": 1}, "n": 5})
        );
    }

    #[test]
    fn obj_reports_unknown_keys() {
        let v = json!({"a": "x", "typo": 1});
        let mut o = Obj::new("cfg", &v).unwrap();
        assert_eq!(o.string("a").unwrap().as_deref(), Some("x"));
        let err = o.finish().unwrap_err();
        assert!(err.contains("\"typo\""), "{err}");
        let v = json!({"n": -1});
        let mut o = Obj::new("cfg", &v).unwrap();
        assert!(o.uint("n").is_err());
        assert!(Obj::new("cfg", &json!([1])).is_err());
    }
}
