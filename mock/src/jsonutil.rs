//! Helpers for the JSON read from the control API and the config file (parsed with
//! serde derive), plus the deep merge used by `patch` faults.

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::Value;

/// `#[serde(deserialize_with = "named::FIELD")]` puts the field's name in front of
/// the error: serde_json's errors from a `Value` name no field. One generic function
/// per field name; `null` handling is the field type's (`Option<T>`: `null` = absent).
macro_rules! named {
    ($($field:ident)*) => {$(
        pub fn $field<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
            T::deserialize(d).map_err(|e| {
                D::Error::custom(format_args!(concat!(stringify!($field), ": {}"), e))
            })
        }
    )*};
}

pub mod named {
    use super::*;
    named! {
        on always times process
        code style detail headers retry_after delay_ms body bytes content_length set remove location
        initial_state tick_ms outcome null_request_id stale_polls states
        tokens any_database databases
    }
}

/// An integer in `LO..=HI`; one out of range is an error that gives the range.
#[derive(serde::Deserialize)]
#[serde(try_from = "u64")]
pub struct Bounded<const LO: u64, const HI: u64>(pub u64);

impl<const LO: u64, const HI: u64> TryFrom<u64> for Bounded<LO, HI> {
    type Error = String;
    fn try_from(n: u64) -> Result<Self, String> {
        match n {
            _ if (LO..=HI).contains(&n) => Ok(Bounded(n)),
            _ if LO == 0 => Err(format!("must be <= {HI}")),
            _ => Err(format!("must be between {LO} and {HI}")),
        }
    }
}

/// A struct (`#[derive(Deserialize)]`) from a JSON object; errors start with `what`.
/// Only an object: from a `Value`, a derived struct also takes an array (its fields in order).
pub fn from_object<'de, T: Deserialize<'de>>(what: &str, v: &'de Value) -> Result<T, String> {
    if !v.is_object() {
        return Err(format!("{what} must be a JSON object"));
    }
    T::deserialize(v).map_err(|e| format!("{what}: {}", describe(&e)))
}

/// serde's message, except that a string value it quotes (`invalid type: string "...",
/// expected u64`) becomes `a string`: a token in the wrong place must not be echoed.
fn describe(e: &serde_json::Error) -> String {
    const QUOTED: &str = "string \"";
    let msg = e.to_string();
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg.as_str();
    while let Some(i) = rest.find(QUOTED) {
        out.push_str(&rest[..i]);
        out.push_str("a string");
        // serde writes the value with `{:?}`: it ends at the first quote not escaped.
        let quoted = &rest[i + QUOTED.len()..];
        let mut escaped = false;
        let end = quoted
            .char_indices()
            .find(|&(_, c)| match c {
                _ if escaped => {
                    escaped = false;
                    false
                }
                '\\' => {
                    escaped = true;
                    false
                }
                c => c == '"',
            })
            .map_or(quoted.len(), |(j, _)| j + 1);
        rest = &quoted[end..];
    }
    out.push_str(rest);
    out
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
    fn describe_never_quotes_strings() {
        let v = json!({"a": "s3cret \\\" \\\\ é"});
        let e = serde_json::from_value::<std::collections::BTreeMap<String, u64>>(v).unwrap_err();
        assert!(e.to_string().contains("s3cret"), "{e}");
        assert_eq!(describe(&e), "invalid type: a string, expected u64");
        let e = serde_json::from_value::<Vec<u64>>(json!("x\"y")).unwrap_err();
        assert_eq!(describe(&e), "invalid type: a string, expected a sequence");
        let e = serde_json::from_value::<u64>(json!(true)).unwrap_err();
        assert_eq!(describe(&e), "invalid type: boolean `true`, expected u64");
    }

    #[test]
    fn bounded() {
        let b = |v: Value| serde_json::from_value::<Bounded<200, 599>>(v).map(|b| b.0);
        assert_eq!(b(json!(200)).unwrap(), 200);
        assert_eq!(b(json!(599)).unwrap(), 599);
        assert!(b(json!(199))
            .unwrap_err()
            .to_string()
            .contains("between 200 and 599"));
        assert!(b(json!(600)).is_err());
        assert!(b(json!(-1)).is_err());
        assert!(b(json!(250.0)).is_err());
        assert!(b(json!("250")).is_err());
        let d = |v: Value| serde_json::from_value::<Bounded<0, 10>>(v).map(|b| b.0);
        assert_eq!(d(json!(0)).unwrap(), 0);
        assert_eq!(d(json!(11)).unwrap_err().to_string(), "must be <= 10");
    }
}
