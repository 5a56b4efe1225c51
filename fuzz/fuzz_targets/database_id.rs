//! `parse_database_id` on arbitrary strings: the gate every id passes before it goes into a
//! URL path.
//!
//! Properties: never panics; `Ok` only for a 36-character hyphenated UUID, which it gives
//! back unchanged (but for case); an error is `InvalidInput`, one line and bounded in
//! length however long or strange the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qovery_redeploy::{parse_database_id, ErrorKind};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_database_id(&text) {
        Ok(id) => {
            assert_eq!(text.len(), 36, "accepted a non-36-byte id {text:?}");
            assert_eq!(
                id.hyphenated().to_string(),
                text.to_ascii_lowercase(),
                "accepted {text:?} as a different id"
            );
            assert!(
                text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()),
                "accepted {text:?}: only hex digits and hyphens can be put in a URL path"
            );
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
            let shown = e.to_string();
            assert!(
                !shown.contains('\n') && !shown.contains('\r'),
                "error text is not one line: {shown:?}"
            );
            assert!(
                shown.len() <= 600,
                "error text too long: {} bytes",
                shown.len()
            );
        }
    }
});
