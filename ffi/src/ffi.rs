//! Turning C pointers into Rust references, in one place.
//!
//! Every opaque handle given to C is a `Box` of a Rust value, cast to a pointer to a
//! zero-sized stand-in type ([`Handle`]). Nothing here can check that a non-NULL pointer is
//! one this library handed out and has not freed: that is the C caller's side of the
//! contract, stated in the header. What can be checked (NULL, UTF-8) is, by [`non_null`].

use std::ffi::CStr;
use std::os::raw::c_char;

use crate::panic::CallError;

/// An opaque C type standing for a boxed `Self::Rust`.
pub(crate) trait Handle: Sized {
    type Rust;
}

/// Hands a value to C as an owned handle.
pub(crate) fn into_raw<H: Handle>(value: H::Rust) -> *mut H {
    Box::into_raw(Box::new(value)).cast()
}

/// Takes back and drops a handle given by [`into_raw`]; NULL does nothing.
pub(crate) fn free<H: Handle>(ptr: *mut H) {
    if !ptr.is_null() {
        // SAFETY: the caller passes a pointer from `into_raw::<H>` not freed yet (header
        // contract), i.e. a live `Box<H::Rust>`.
        drop(unsafe { Box::from_raw(ptr.cast::<H::Rust>()) });
    }
}

/// THE NULL check: every pointer argument goes through here. `name` is the C parameter name
/// used in the message.
pub(crate) fn non_null<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, CallError> {
    // SAFETY: non-NULL pointers from C point to a live, aligned `T` (header contract).
    unsafe { ptr.as_ref() }.ok_or_else(|| CallError::null(name))
}

/// A handle argument, borrowed for the duration of the call.
pub(crate) fn handle<'a, H: Handle>(ptr: *const H, name: &str) -> Result<&'a H::Rust, CallError> {
    non_null(ptr.cast::<H::Rust>(), name)
}

/// A handle argument the call may change (only options builders are ever mutated).
pub(crate) fn handle_mut<'a, H: Handle>(
    ptr: *mut H,
    name: &str,
) -> Result<&'a mut H::Rust, CallError> {
    non_null(ptr.cast_const().cast::<H::Rust>(), name)?;
    // SAFETY: non-NULL (checked above) and, by contract, a live handle no other thread is
    // using during this call.
    Ok(unsafe { &mut *ptr.cast::<H::Rust>() })
}

/// A NUL-terminated UTF-8 string argument. NULL is `QOVERY_ERR_NULL_PARAMETER`, anything not
/// UTF-8 is `QOVERY_ERR_INVALID_ARGUMENT`.
pub(crate) fn string<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, CallError> {
    non_null(ptr, name)?;
    // SAFETY: non-NULL, and by contract NUL-terminated and valid for the call.
    let text = unsafe { CStr::from_ptr(ptr) };
    text.to_str().map_err(|e| {
        CallError::invalid(format!(
            "{name} is not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })
}

/// Writes `value` to an out-parameter; NULL is `QOVERY_ERR_NULL_PARAMETER`.
pub(crate) fn write_out<T>(out: *mut T, name: &str, value: T) -> Result<(), CallError> {
    non_null(out.cast_const(), name)?;
    // SAFETY: non-NULL and, by contract, valid for writes of a `T`.
    unsafe { out.write(value) };
    Ok(())
}
