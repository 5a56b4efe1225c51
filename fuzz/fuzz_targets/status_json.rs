//! `DeploymentStatus::from_json` on arbitrary bytes.
//!
//! Properties:
//! - never panics, whatever the input (not UTF-8 inputs go through `from_utf8_lossy`);
//! - an error is always `ErrorKind::Decode` and prints as one line;
//! - a body that parses keeps itself byte for byte in `raw_json()`;
//! - `to_json()` of a parsed status parses again and compares equal (`PartialEq` covers every
//!   typed field), and serialising that copy gives the same text: unknown enum values,
//!   `null`s and optional fields all survive the round trip;
//! - the tolerant reader's promise: any input that is a JSON object (as
//!   `serde_json::Value` reads it) with a string `state` parses, with that `state`, whatever
//!   its other fields hold (out of range, wrong types, malformed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qovery_redeploy::{DeploymentStatus, ErrorKind};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = DeploymentStatus::from_json(&text);
    let oracle: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    if let Some(state) = oracle
        .as_ref()
        .and_then(|v| v.as_object())
        .and_then(|o| o.get("state"))
        .and_then(|s| s.as_str())
    {
        match &parsed {
            Ok(status) => assert_eq!(status.state.as_str(), state, "input: {text:?}"),
            Err(e) => panic!("an object with a string state must parse: {e}\ninput: {text:?}"),
        }
    }
    match parsed {
        Ok(status) => {
            assert_eq!(status.raw_json(), &*text, "raw_json must be the body");
            let json = status.to_json();
            let again = DeploymentStatus::from_json(&json).unwrap_or_else(|e| {
                panic!("to_json() output does not parse back: {e}\ninput: {text:?}\njson: {json}")
            });
            assert_eq!(
                status, again,
                "round trip changed the status\ninput: {text:?}\njson: {json}"
            );
            assert_eq!(json, again.to_json(), "to_json is not stable");
            // The typed views never panic either.
            let _ = (
                status.is_success(),
                status.is_failure(),
                status.is_terminal(),
            );
            let _ = status.state.as_str();
            let _ = format!("{status:?}");
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Decode, "{e:?}");
            let shown = e.to_string();
            assert!(
                !shown.contains('\n') && !shown.contains('\r'),
                "error text is not one line: {shown:?}"
            );
            let _ = format!("{e:?}");
        }
    }
});
