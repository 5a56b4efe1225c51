//! stderr logging, switched off by `--quiet` (and per-request lines by `--fast`).
//! Nothing here ever receives a token.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

pub fn set_quiet(q: bool) {
    QUIET.store(q, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed)
}

/// Writes one prefixed line to stderr. Errors (e.g. a closed pipe) are
/// ignored: logging must never take a request down.
pub fn write_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "[qovery-mock] {args}");
}

/// `mlog!("...")`: one line on stderr, prefixed, unless quiet.
#[macro_export]
macro_rules! mlog {
    ($($arg:tt)*) => {
        if $crate::logging::enabled() {
            $crate::logging::write_line(format_args!($($arg)*));
        }
    };
}
