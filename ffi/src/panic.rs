//! The panic guard every exported function runs in, and what a function returns when it
//! stops before or instead of reaching the core (NULL, bad UTF-8, panic).

use std::any::Any;
use std::os::raw::c_char;
use std::ptr;

use crate::code::qovery_code;

/// Why an exported function stopped early: the code, and the message a result handle (or
/// `qovery_client_new`'s error) carries.
#[derive(Debug, Clone)]
pub(crate) struct CallError {
    pub(crate) code: qovery_code,
    pub(crate) message: String,
}

impl CallError {
    pub(crate) fn null(name: &str) -> CallError {
        CallError {
            code: qovery_code::QOVERY_ERR_NULL_PARAMETER,
            message: format!("{name} is NULL"),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> CallError {
        CallError {
            code: qovery_code::QOVERY_ERR_INVALID_ARGUMENT,
            message: message.into(),
        }
    }

    pub(crate) fn panic(payload: Box<dyn Any + Send>) -> CallError {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_owned());
        CallError {
            code: qovery_code::QOVERY_ERR_PANIC,
            message: format!("internal error (panic) in qovery_redeploy: {what}"),
        }
    }
}

/// What an exported function returns when it fails: its code for functions returning a
/// `qovery_code`, a result handle holding the failure for the calls, NULL / false / 0 for
/// getters and constructors.
pub(crate) trait FfiReturn {
    fn from_failure(failure: CallError) -> Self;
}

impl FfiReturn for qovery_code {
    fn from_failure(failure: CallError) -> Self {
        failure.code
    }
}

impl FfiReturn for *const c_char {
    fn from_failure(_: CallError) -> Self {
        ptr::null()
    }
}

impl FfiReturn for bool {
    fn from_failure(_: CallError) -> Self {
        false
    }
}

impl FfiReturn for u16 {
    fn from_failure(_: CallError) -> Self {
        0
    }
}

impl FfiReturn for usize {
    fn from_failure(_: CallError) -> Self {
        0
    }
}

impl FfiReturn for () {
    fn from_failure(_: CallError) -> Self {}
}

/// Runs the body, a block evaluating to `Result<T, CallError>`, so that neither a panic nor a
/// failure crosses the ABI: `Err(failure)` and a caught panic are both turned into the
/// function's failure value by [`FfiReturn`]. `return Err(..)` and `?` work inside the block.
macro_rules! ffi_guard {
    ($body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(
            || -> ::std::result::Result<_, $crate::panic::CallError> { $body },
        )) {
            Ok(Ok(value)) => value,
            Ok(Err(failure)) => $crate::panic::FfiReturn::from_failure(failure),
            Err(payload) => {
                $crate::panic::FfiReturn::from_failure($crate::panic::CallError::panic(payload))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panics(really: bool) -> qovery_code {
        ffi_guard!({
            if really {
                panic!("boom");
            }
            Ok(qovery_code::QOVERY_OK)
        })
    }

    fn fails() -> *const c_char {
        ffi_guard!({ Err(CallError::null("x")) })
    }

    #[test]
    fn a_panic_becomes_the_panic_code() {
        assert_eq!(panics(false), qovery_code::QOVERY_OK);
        assert_eq!(panics(true), qovery_code::QOVERY_ERR_PANIC);
        assert!(fails().is_null());
        let f = CallError::panic(Box::new("boom"));
        assert!(f.message.contains("boom"), "{}", f.message);
    }
}
