//! The body generator shared by the schema property tests: `core/tests/schema_props.rs`
//! (the Rust reader) and `ffi/tests/schema_props.rs` (the C ABI), included by both with
//! `#[path = "../../tests/data/schema_gen.rs"] mod schema_gen;`, so both run the very same
//! strategies.
//!
//! The strategies are built at run time from the committed schema (`status-schema.json`
//! next to this file, a copy of the OpenAPI document's `components.schemas`): `$ref`s are
//! followed, required properties are always present and optional ones sometimes absent,
//! `nullable` values are sometimes `null`, `enum`s give their values, `format: uuid` UUIDs
//! (either case) and `format: date-time` RFC 3339 dates with odd but valid spellings
//! (offsets, fractions up to nanoseconds, lowercase `t`/`z`), `integer` any integer
//! (negative, the i64 limits, and far beyond i64, written as digits), arrays empty to long.
//! On top of what the schema allows, the generator adds what a newer API sends: extra
//! properties (at every object level) and enum strings this version does not know.
//!
//! Needs `proptest` and `serde_json` (dev-dependencies of the including crate).

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::Value;

/// The committed schema.
pub const SCHEMA: &str = include_str!("status-schema.json");

/// A JSON value whose integers are kept as text, so they can exceed any Rust integer.
#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool(bool),
    Int(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(digits) => out.push_str(digits),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn integer() -> BoxedStrategy<J> {
    prop_oneof![
        3 => (-1000i64..1000).prop_map(|n| J::Int(n.to_string())),
        2 => any::<i64>().prop_map(|n| J::Int(n.to_string())),
        1 => Just(J::Int(i64::MAX.to_string())),
        1 => Just(J::Int(i64::MIN.to_string())),
        1 => any::<u64>().prop_map(|n| J::Int(n.to_string())),
        2 => (any::<bool>(), "[1-9][0-9]{19,60}")
            .prop_map(|(neg, d)| J::Int(format!("{}{d}", if neg { "-" } else { "" }))),
    ]
    .boxed()
}

fn uuid() -> BoxedStrategy<J> {
    (any::<u128>(), any::<bool>())
        .prop_map(|(n, upper)| {
            let h = format!("{n:032x}");
            let s = format!(
                "{}-{}-{}-{}-{}",
                &h[..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..]
            );
            J::Str(if upper { s.to_uppercase() } else { s })
        })
        .boxed()
}

/// RFC 3339 `date-time`s, spelled every valid way: `T`/`t`, `Z`/`z`/offsets, fractions.
fn date_time() -> BoxedStrategy<J> {
    (
        (
            0u32..=9999,
            1u32..=12,
            1u32..=28,
            0u32..24,
            0u32..60,
            0u32..60,
        ),
        prop::option::of("[0-9]{1,9}"),
        prop_oneof![
            Just("Z".to_owned()),
            Just("z".to_owned()),
            (any::<bool>(), 0u32..24, 0u32..60)
                .prop_map(|(neg, h, m)| format!("{}{h:02}:{m:02}", if neg { '-' } else { '+' })),
        ],
        any::<bool>(),
    )
        .prop_map(|((y, mo, d, h, mi, s), frac, offset, lower_t)| {
            let mut t = format!(
                "{y:04}-{mo:02}-{d:02}{}{h:02}:{mi:02}:{s:02}",
                if lower_t { 't' } else { 'T' }
            );
            if let Some(f) = frac {
                let _ = write!(t, ".{f}");
            }
            t.push_str(&offset);
            J::Str(t)
        })
        .boxed()
}

/// Any JSON value (for extra properties), nested a little.
fn any_json() -> BoxedStrategy<J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        integer(),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| J::Int(serde_json::to_string(&f).unwrap())),
        any::<String>().prop_map(J::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Arr),
            prop::collection::vec(("[a-z_]{1,12}", inner), 0..4).prop_map(J::Obj),
        ]
    })
    .boxed()
}

/// The strategy for one schema, resolving `$ref`s against `root`.
fn from_schema(root: &Value, schema: &Value) -> BoxedStrategy<J> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return from_schema(root, &root["components"]["schemas"][name]);
    }
    let base = if let Some(values) = schema["enum"].as_array() {
        let known: Vec<String> = values
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        // A newer API's value, sometimes.
        prop_oneof![
            4 => prop::sample::select(known).prop_map(J::Str),
            1 => "[A-Z_]{0,24}".prop_map(J::Str),
        ]
        .boxed()
    } else {
        match schema["type"]
            .as_str()
            .expect("every schema here has a type or enum")
        {
            "string" => match schema["format"].as_str() {
                Some("uuid") => uuid(),
                Some("date-time") => date_time(),
                _ => any::<String>().prop_map(J::Str).boxed(),
            },
            "integer" => integer(),
            "boolean" => any::<bool>().prop_map(J::Bool).boxed(),
            "array" => {
                let items = from_schema(root, &schema["items"]);
                prop_oneof![
                    3 => prop::collection::vec(items.clone(), 0..4),
                    1 => prop::collection::vec(items, 20..60),
                ]
                .prop_map(J::Arr)
                .boxed()
            }
            "object" => object(root, schema),
            other => panic!("type {other} not handled"),
        }
    };
    if schema["nullable"] == Value::Bool(true) {
        prop_oneof![4 => base, 1 => Just(J::Null)].boxed()
    } else {
        base
    }
}

fn object(root: &Value, schema: &Value) -> BoxedStrategy<J> {
    let empty = serde_json::Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
        .unwrap_or_default();
    let fields: Vec<BoxedStrategy<Option<(String, J)>>> = props
        .iter()
        .map(|(name, sub)| {
            let name = name.clone();
            let value = from_schema(root, sub);
            if required.contains(&name.as_str()) {
                value.prop_map(move |v| Some((name.clone(), v))).boxed()
            } else {
                prop::option::weighted(0.7, value.prop_map(move |v| (name.clone(), v))).boxed()
            }
        })
        .collect();
    let names: Vec<String> = props.keys().cloned().collect();
    let extra = prop::collection::vec(
        (
            "[a-z_]{1,16}".prop_filter("not a schema property", move |k| !names.contains(k)),
            any_json(),
        ),
        0..3,
    );
    (fields, extra)
        .prop_map(|(fields, extra)| J::Obj(fields.into_iter().flatten().chain(extra).collect()))
        .boxed()
}

pub fn body_strategy() -> BoxedStrategy<String> {
    let root: Value = serde_json::from_str(SCHEMA).expect("the schema file is JSON");
    from_schema(&root, &root)
        .prop_map(|j| {
            let mut out = String::new();
            j.write(&mut out);
            out
        })
        .boxed()
}
