//! Database and request ids, on the `uuid` crate.

use uuid::Uuid;

/// Accepts the canonical 8-4-4-4-12 hexadecimal form (any case) and returns it lower-cased;
/// anything else (the simple, braced or URN forms `Uuid::parse_str` also takes) is rejected,
/// as the Qovery API's path ids are the hyphenated form.
pub fn parse_uuid(s: &str) -> Option<String> {
    if s.len() != 36 {
        return None;
    }
    Uuid::try_parse(s).ok().map(|u| u.hyphenated().to_string())
}

/// A random (version 4) UUID in canonical lower-case form.
pub fn new_v4() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        assert_eq!(
            parse_uuid("3C90C3CC-0D44-4B50-8888-8DD25736052A").as_deref(),
            Some("3c90c3cc-0d44-4b50-8888-8dd25736052a")
        );
        assert!(parse_uuid("3c90c3cc0d444b5088888dd25736052a").is_none());
        assert!(parse_uuid("{3c90c3cc-0d44-4b50-8888-8dd2573605}").is_none());
        assert!(parse_uuid("3c90c3cc-0d44-4b50-8888-8dd25736052").is_none());
        assert!(parse_uuid("3c90c3cc-0d44-4b50-8888_8dd25736052a").is_none());
        assert!(parse_uuid("zc90c3cc-0d44-4b50-8888-8dd25736052a").is_none());
        assert!(parse_uuid("").is_none());
        assert!(parse_uuid("é".repeat(18).as_str()).is_none());
    }

    #[test]
    fn v4_is_well_formed() {
        for _ in 0..100 {
            let u = new_v4();
            assert_eq!(parse_uuid(&u).as_deref(), Some(u.as_str()));
            assert_eq!(&u[14..15], "4");
            assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
        }
        assert_ne!(new_v4(), new_v4());
    }
}
