//! The log callback: the records Python's `logging` gets (target `qovery_redeploy`), for a C
//! host.
//!
//! The `log` crate has one logger per library image, installed once; this one forwards to
//! whatever callback is set now (none: records are dropped before they are formatted). The
//! core never puts the token in a log record (it redacts server text first), so neither does
//! the callback.

use std::ffi::CString;
use std::os::raw::{c_char, c_void};
use std::sync::RwLock;

use crate::code::qovery_code;
use crate::panic::CallError;

/// How much the log callback gets; each level includes the ones above it.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum qovery_log_level {
    /// Nothing (the default).
    QOVERY_LOG_OFF = 0,
    QOVERY_LOG_ERROR = 1,
    /// Retries and their reasons.
    QOVERY_LOG_WARN = 2,
    QOVERY_LOG_INFO = 3,
    /// Each request and its outcome, fields of a status read as unknown.
    QOVERY_LOG_DEBUG = 4,
    QOVERY_LOG_TRACE = 5,
}

/// Gets one log record: `level`, `target` (`"qovery_redeploy"`) and a one-line `message`,
/// both NUL-terminated UTF-8 and valid only during the call. It may be called from any thread
/// that makes calls, at the same time from several, and must not call back into the library.
pub type qovery_log_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: qovery_log_level,
        target: *const c_char,
        message: *const c_char,
    ),
>;

#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(*mut c_void, qovery_log_level, *const c_char, *const c_char),
    user_data: *mut c_void,
    level: log::LevelFilter,
}

// The user data is the caller's: they promise it may be used from any thread (see
// `qovery_log_set_callback`).
unsafe impl Send for Sink {}
unsafe impl Sync for Sink {}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

struct Forward;

static FORWARD: Forward = Forward;

impl log::Log for Forward {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("qovery_redeploy")
            && SINK
                .read()
                .ok()
                .and_then(|s| *s)
                .is_some_and(|s| metadata.level() <= s.level)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Some(sink) = SINK.read().ok().and_then(|s| *s) else {
            return;
        };
        let text = |s: String| CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default();
        let message = text(record.args().to_string());
        let target = text(record.target().to_owned());
        let level = match record.level() {
            log::Level::Error => qovery_log_level::QOVERY_LOG_ERROR,
            log::Level::Warn => qovery_log_level::QOVERY_LOG_WARN,
            log::Level::Info => qovery_log_level::QOVERY_LOG_INFO,
            log::Level::Debug => qovery_log_level::QOVERY_LOG_DEBUG,
            log::Level::Trace => qovery_log_level::QOVERY_LOG_TRACE,
        };
        // SAFETY: the caller registered this function for exactly these arguments.
        unsafe { (sink.callback)(sink.user_data, level, target.as_ptr(), message.as_ptr()) };
    }

    fn flush(&self) {}
}

/// Sends the library's log records of `level` and above to `callback(user_data, ...)`, for the
/// whole process (every client), replacing any callback set before; a NULL `callback` or
/// `QOVERY_LOG_OFF` turns logging off again. Records never contain the API token.
///
/// `user_data` is passed back unchanged; it must stay valid, and usable from any thread, until
/// the callback is replaced or removed. The callback runs on the thread making the call, so a
/// call in progress on another thread may still be inside it right after this function
/// returns. Returns `QOVERY_ERR_INVALID_ARGUMENT` for a level outside the enum.
#[no_mangle]
pub extern "C" fn qovery_log_set_callback(
    level: u32,
    callback: qovery_log_callback,
    user_data: *mut c_void,
) -> qovery_code {
    ffi_guard!({
        let filter = match level {
            0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            5 => log::LevelFilter::Trace,
            other => {
                return Err(CallError::invalid(format!(
                    "level {other} is not a qovery_log_level"
                )))
            }
        };
        // Installed on first use; fails only if this library image already has a logger,
        // which can only be this one.
        let _ = log::set_logger(&FORWARD);
        let sink = callback.map(|callback| Sink {
            callback,
            user_data,
            level: filter,
        });
        let on = sink.filter(|s| s.level != log::LevelFilter::Off);
        *SINK.write().unwrap_or_else(|p| p.into_inner()) = on;
        log::set_max_level(on.map_or(log::LevelFilter::Off, |s| s.level));
        Ok(qovery_code::QOVERY_OK)
    })
}
