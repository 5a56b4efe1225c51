//! stderr logging, switched off per server by `quiet` (and per-request lines by `fast`):
//! per server, not per process, so that a quiet in-process mock does not silence another.
//! Nothing here ever receives a token.

/// Writes one prefixed line to stderr. Errors (e.g. a closed pipe) are
/// ignored: logging must never take a request down.
pub fn write_line(args: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "[qovery-mock] {args}");
}

/// `mlog!(app, "...")`: one line on stderr, prefixed, unless `app` is quiet.
macro_rules! mlog {
    ($app:expr, $($arg:tt)*) => {
        if !$app.quiet {
            $crate::logging::write_line(format_args!($($arg)*));
        }
    };
}
pub(crate) use mlog;
