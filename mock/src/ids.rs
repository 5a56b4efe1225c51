//! UUID parsing/normalisation and random v4 generation.

/// Accepts the canonical 8-4-4-4-12 hexadecimal form (any case) and returns
/// it lower-cased; anything else is rejected.
pub fn parse_uuid(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        };
        if !ok {
            return None;
        }
    }
    Some(s.to_ascii_lowercase())
}

/// A random (version 4, RFC 9562 variant) UUID in canonical lower-case form.
pub fn new_v4() -> String {
    let mut v = fastrand::u128(..);
    v &= !(0xF_u128 << 76);
    v |= 0x4_u128 << 76; // version 4
    v &= !(0x3_u128 << 62);
    v |= 0x2_u128 << 62; // variant 10xx
    let h = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
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
