//! The mock's three time formats, on the `time` and `httpdate` crates the workspace uses.

use std::time::{SystemTime, UNIX_EPOCH};

use time::macros::format_description;
use time::OffsetDateTime;

/// Unix time in whole seconds (times before 1970 clamp to 0).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Civil UTC date (year, month 1-12, day 1-31) of `t`.
pub fn civil_date(t: SystemTime) -> (i32, u8, u8) {
    let d = OffsetDateTime::from(t).date();
    (d.year(), d.month().into(), d.day())
}

/// `2026-11-27T08:00:00Z`: the API's `last_deployment_date` shape (whole seconds).
pub fn rfc3339(t: SystemTime) -> String {
    format(
        t,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"),
    )
}

/// `2026-11-27T08:00:00.123Z`: the request log's timestamps.
pub fn rfc3339_millis(t: SystemTime) -> String {
    format(
        t,
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"),
    )
}

/// `Fri, 27 Nov 2026 08:00:00 GMT` (RFC 9110 IMF-fixdate).
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t.max(UNIX_EPOCH))
}

fn format(
    t: SystemTime,
    description: &[time::format_description::BorrowedFormatItem<'_>],
) -> String {
    OffsetDateTime::from(t.max(UNIX_EPOCH))
        .format(description)
        // Only a year outside 0..=9999 fails to format; the mock's clock is not there.
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_766_400_123); // 2026-11-27T08:00:00.123Z
        assert_eq!(rfc3339(t), "2026-11-27T08:00:00Z");
        assert_eq!(rfc3339_millis(t), "2026-11-27T08:00:00.123Z");
        assert_eq!(http_date(t), "Fri, 27 Nov 2026 08:00:00 GMT");
        assert_eq!(civil_date(t), (2026, 11, 27));
        assert_eq!(unix_secs(t), 1_795_766_400);
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        // leap day
        let t = UNIX_EPOCH + Duration::from_secs(1_709_164_800); // 2024-02-29
        assert_eq!(rfc3339(t), "2024-02-29T00:00:00Z");
    }
}
