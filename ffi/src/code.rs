//! Status codes and the library version.

use std::ffi::CStr;
use std::os::raw::c_char;

use qovery::ErrorKind;

/// The outcome of a call. The numbers are part of the ABI: a code is never renumbered and a
/// number is never reused; new codes get new numbers. `qovery_code_name()` names them.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum qovery_code {
    /// Success.
    QOVERY_OK = 0,
    /// An argument was refused before any I/O: a database id that is not a UUID, a string
    /// that is not UTF-8, an empty token, a non-loopback `http://` URL, a bad option value.
    QOVERY_ERR_INVALID_ARGUMENT = 1,
    /// A required pointer argument was NULL.
    QOVERY_ERR_NULL_PARAMETER = 2,
    /// HTTP 401: the token is missing, invalid or expired.
    QOVERY_ERR_UNAUTHORIZED = 3,
    /// HTTP 403: the token may not act on this database.
    QOVERY_ERR_FORBIDDEN = 4,
    /// HTTP 404: no such database (or not visible to this token).
    QOVERY_ERR_NOT_FOUND = 5,
    /// HTTP 409, or 400 saying an action is already in progress.
    QOVERY_ERR_CONFLICT = 6,
    /// HTTP 429; `qovery_result_retry_after_ms()` gives the wait the server asked for.
    QOVERY_ERR_RATE_LIMITED = 7,
    /// HTTP 5xx.
    QOVERY_ERR_SERVER = 8,
    /// Any other unexpected HTTP status, redirects included (they are never followed).
    QOVERY_ERR_HTTP = 9,
    /// Connecting or reading took longer than allowed (and the request was not a redeploy
    /// that may have been processed).
    QOVERY_ERR_TIMEOUT = 10,
    /// The connection failed (refused, reset) where that is known to be harmless.
    QOVERY_ERR_NETWORK = 11,
    /// The TLS handshake or the certificate check failed.
    QOVERY_ERR_TLS = 12,
    /// An answer came, but its body is not what the API sends.
    QOVERY_ERR_DECODE = 13,
    /// The redeploy request may have reached the server but no answer came back. It is not
    /// retried: check the status before asking again.
    QOVERY_ERR_OUTCOME_UNKNOWN = 14,
    /// The deployment ended in a failure state (`*_ERROR`, `CANCELED`); the result holds
    /// that final status.
    QOVERY_ERR_DEPLOYMENT_FAILED = 15,
    /// The wait's own timeout passed first; the result holds the last status seen, if any.
    QOVERY_ERR_WAIT_TIMEOUT = 16,
    /// The progress callback or a cancel token asked to stop; the result holds the last
    /// status seen, if any.
    QOVERY_ERR_CANCELLED = 17,
    /// A bug in this library was caught before it could cross into the caller (a Rust
    /// panic). The library stays usable; please report it.
    QOVERY_ERR_PANIC = 18,
}

impl qovery_code {
    /// The code for a core error kind, `None` for a kind this version does not know (a test
    /// checks every known kind has its own code).
    pub(crate) fn for_kind(kind: ErrorKind) -> Option<qovery_code> {
        use qovery_code::*;
        Some(match kind {
            ErrorKind::InvalidInput => QOVERY_ERR_INVALID_ARGUMENT,
            ErrorKind::Unauthorized => QOVERY_ERR_UNAUTHORIZED,
            ErrorKind::Forbidden => QOVERY_ERR_FORBIDDEN,
            ErrorKind::NotFound => QOVERY_ERR_NOT_FOUND,
            ErrorKind::Conflict => QOVERY_ERR_CONFLICT,
            ErrorKind::RateLimited => QOVERY_ERR_RATE_LIMITED,
            ErrorKind::Server => QOVERY_ERR_SERVER,
            ErrorKind::Http => QOVERY_ERR_HTTP,
            ErrorKind::Timeout => QOVERY_ERR_TIMEOUT,
            ErrorKind::Network => QOVERY_ERR_NETWORK,
            ErrorKind::Tls => QOVERY_ERR_TLS,
            ErrorKind::Decode => QOVERY_ERR_DECODE,
            ErrorKind::OutcomeUnknown => QOVERY_ERR_OUTCOME_UNKNOWN,
            ErrorKind::DeploymentFailed => QOVERY_ERR_DEPLOYMENT_FAILED,
            ErrorKind::WaitTimeout => QOVERY_ERR_WAIT_TIMEOUT,
            ErrorKind::Cancelled => QOVERY_ERR_CANCELLED,
            _ => return None,
        })
    }

    /// Every code with its name, in number order.
    pub(crate) const ALL: [(qovery_code, &'static CStr); 19] = {
        use qovery_code::*;
        [
            (QOVERY_OK, c"ok"),
            (QOVERY_ERR_INVALID_ARGUMENT, c"invalid_argument"),
            (QOVERY_ERR_NULL_PARAMETER, c"null_parameter"),
            (QOVERY_ERR_UNAUTHORIZED, c"unauthorized"),
            (QOVERY_ERR_FORBIDDEN, c"forbidden"),
            (QOVERY_ERR_NOT_FOUND, c"not_found"),
            (QOVERY_ERR_CONFLICT, c"conflict"),
            (QOVERY_ERR_RATE_LIMITED, c"rate_limited"),
            (QOVERY_ERR_SERVER, c"server"),
            (QOVERY_ERR_HTTP, c"http"),
            (QOVERY_ERR_TIMEOUT, c"timeout"),
            (QOVERY_ERR_NETWORK, c"network"),
            (QOVERY_ERR_TLS, c"tls"),
            (QOVERY_ERR_DECODE, c"decode"),
            (QOVERY_ERR_OUTCOME_UNKNOWN, c"outcome_unknown"),
            (QOVERY_ERR_DEPLOYMENT_FAILED, c"deployment_failed"),
            (QOVERY_ERR_WAIT_TIMEOUT, c"wait_timeout"),
            (QOVERY_ERR_CANCELLED, c"cancelled"),
            (QOVERY_ERR_PANIC, c"panic"),
        ]
    };
}

/// The name of a code: `"ok"`, `"not_found"`, ... (the constant's name without
/// `QOVERY_ERR_`, lowercase), or `"unknown"` for a number that is not a code. The string is
/// static: never free it. Any thread.
#[no_mangle]
pub extern "C" fn qovery_code_name(code: u32) -> *const c_char {
    ffi_guard!({
        let name = qovery_code::ALL
            .iter()
            .find(|(c, _)| *c as u32 == code)
            .map_or(c"unknown", |(_, name)| name);
        Ok(name.as_ptr())
    })
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("the package version contains a NUL byte"),
    };

/// This library's version at run time, e.g. `"0.1.0"` (compare with the header's
/// `QOVERY_VERSION`). The string is static: never free it. Any thread.
#[no_mangle]
pub extern "C" fn qovery_version() -> *const c_char {
    ffi_guard!({ Ok(VERSION.as_ptr()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_its_own_code() {
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            let code = qovery_code::for_kind(kind).expect("kind without a code");
            assert!(seen.insert(code), "{kind:?} shares a code");
            assert_ne!(code, qovery_code::QOVERY_OK);
        }
    }

    #[test]
    fn codes_are_numbered_in_order_and_named() {
        for (i, (code, name)) in qovery_code::ALL.iter().enumerate() {
            assert_eq!(*code as u32, i as u32);
            // SAFETY: a static C string.
            let got = unsafe { CStr::from_ptr(qovery_code_name(i as u32)) };
            assert_eq!(got, *name);
            let constant = format!("{code:?}");
            let expected = constant
                .trim_start_matches("QOVERY_ERR_")
                .trim_start_matches("QOVERY_")
                .to_ascii_lowercase();
            assert_eq!(name.to_str().unwrap(), expected);
        }
        // SAFETY: a static C string.
        let unknown = unsafe { CStr::from_ptr(qovery_code_name(999)) };
        assert_eq!(unknown, c"unknown");
    }

    #[test]
    fn version_is_the_package_version() {
        // SAFETY: a static C string.
        let v = unsafe { CStr::from_ptr(qovery_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }
}
