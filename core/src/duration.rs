//! The one rule for every duration a caller sets (timeouts, poll intervals, settle delays),
//! whichever skin it comes through: the CLI, Python and C all ask this module.

use std::time::Duration;

use crate::error::Error;

/// The longest duration any setting takes: 30 days. Beyond it a unit mistake (milliseconds
/// given as seconds) is likelier than intent, and the clock arithmetic stays far from
/// overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Whether zero is a meaningful value of a setting (a settle delay of 0 is; a timeout of 0 is
/// not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zero {
    Allowed,
    Refused,
}

/// Seconds (as Python and the command line give them) as a `Duration`: finite, not negative,
/// not zero unless `zero` allows it, at most [`MAX_DURATION`]. The error (`invalid_input`)
/// names the setting.
pub fn duration_from_secs(name: &str, secs: f64, zero: Zero) -> Result<Duration, Error> {
    let max = MAX_DURATION.as_secs_f64();
    let positive = secs > 0.0 || (zero == Zero::Allowed && secs == 0.0);
    if !(secs.is_finite() && positive && secs <= max) {
        let want = match zero {
            Zero::Allowed => "0 or more",
            Zero::Refused => "more than 0",
        };
        return Err(Error::invalid(format!(
            "{name} must be a number of seconds, {want} and at most {max} (30 days), not {secs}"
        )));
    }
    let d = Duration::from_secs_f64(secs);
    if d.is_zero() && zero == Zero::Refused {
        return Err(Error::invalid(format!(
            "{name} must be at least 1 ns, not {secs}"
        )));
    }
    Ok(d)
}

/// Milliseconds (as C gives them) as a `Duration`, capped to [`MAX_DURATION`]: C callers pass
/// `UINT64_MAX` for "as long as allowed".
pub fn duration_from_millis(ms: u64) -> Duration {
    Duration::from_millis(ms).min(MAX_DURATION)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn bounds() {
        let ok = |s, z| duration_from_secs("t", s, z).map_err(|e| e.kind());
        assert_eq!(ok(1.5, Zero::Refused), Ok(Duration::from_millis(1500)));
        assert_eq!(ok(0.0, Zero::Allowed), Ok(Duration::ZERO));
        assert_eq!(ok(2_592_000.0, Zero::Refused), Ok(MAX_DURATION));
        for (secs, zero) in [
            (0.0, Zero::Refused),
            (1e-12, Zero::Refused),
            (-1.0, Zero::Allowed),
            (-0.0, Zero::Refused),
            (2_592_000.001, Zero::Allowed),
            (f64::NAN, Zero::Allowed),
            (f64::INFINITY, Zero::Allowed),
        ] {
            assert_eq!(ok(secs, zero), Err(ErrorKind::InvalidInput), "{secs}");
        }
        let e = duration_from_secs("poll_interval", -1.0, Zero::Refused).unwrap_err();
        assert!(e.message().contains("poll_interval"), "{}", e.message());
        assert_eq!(duration_from_millis(u64::MAX), MAX_DURATION);
        assert_eq!(duration_from_millis(250), Duration::from_millis(250));
    }
}
