//! The client and the options it is built from.

use std::ptr;
use std::time::Duration;

use qovery::{AuthScheme, Client, ClientBuilder};

use crate::code::qovery_code;
use crate::ffi::{self, Handle};
use crate::panic::CallError;
use crate::result::{qovery_result, ResultData};

/// How the token is presented in the `Authorization` header
/// (`qovery_client_options_set_auth_scheme()`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum qovery_auth_scheme {
    /// `Bearer` if the token looks like a JWT, `Token` otherwise (the default).
    QOVERY_AUTH_AUTO = 0,
    /// `Authorization: Token <token>`: Qovery API tokens.
    QOVERY_AUTH_TOKEN = 1,
    /// `Authorization: Bearer <token>`: OIDC tokens from the console.
    QOVERY_AUTH_BEARER = 2,
}

/// A `*_ms` setting as a `Duration`: the core's rule, larger values (`UINT64_MAX` for
/// "forever") capped to the longest duration any setting takes, 30 days.
pub(crate) fn millis(ms: u64) -> Duration {
    qovery::duration_from_millis(ms)
}

/// Settings for `qovery_client_new()`: token, auth scheme, base URL, timeouts, retries, user
/// agent, and whether to read `QOVERY_API_TOKEN` / `QOVERY_API_URL`.
///
/// Ownership: created by `qovery_client_options_new()`, owned by the caller, freed with
/// `qovery_client_options_free()`. It may be freed as soon as `qovery_client_new()` returns;
/// one options handle may build several clients.
///
/// Threads: not synchronised. Use it from one thread at a time (moving it between threads is
/// fine).
///
/// A setter that refuses its value returns the error code and remembers the first such
/// error: `qovery_client_new()` then fails with it, message included, so a sequence of
/// setters can be checked once. The token is kept in memory that is zeroed when freed.
pub struct qovery_client_options {
    _private: [u8; 0],
}

pub(crate) struct ClientOptions {
    builder: ClientBuilder,
    error: Option<CallError>,
}

impl Handle for qovery_client_options {
    type Rust = ClientOptions;
}

impl ClientOptions {
    /// Runs one setter; the first refused value is remembered for `qovery_client_new`.
    fn set(
        &mut self,
        change: impl FnOnce(ClientBuilder) -> Result<ClientBuilder, CallError>,
    ) -> Result<qovery_code, CallError> {
        let builder = std::mem::take(&mut self.builder);
        // On a refusal the builder is lost, but the remembered error makes any
        // `qovery_client_new` fail, so nothing is ever built from the partial settings.
        match change(builder) {
            Ok(builder) => {
                self.builder = builder;
                Ok(qovery_code::QOVERY_OK)
            }
            Err(failure) => {
                self.error.get_or_insert_with(|| failure.clone());
                Err(failure)
            }
        }
    }
}

/// A Qovery API client: configuration plus a pool of kept-alive connections.
///
/// Ownership: created by `qovery_client_new()`, owned by the caller, freed with
/// `qovery_client_free()` once no call is using it.
///
/// Threads: safe to share. Any number of threads may make calls on one client at the same
/// time (`const qovery_client *`); connections are pooled and reused between them.
///
/// The library's one thread: the first network call of the process starts one worker thread
/// (named `qovery-redeploy`) that runs every client's HTTP exchanges (reqwest is asynchronous);
/// the calling thread waits for its answer, checking its cancel token every 50 ms, and a
/// cancelled call stops its exchange at once. The thread lives until the process exits; name
/// resolution for a host name may briefly add a helper thread. No thread starts before the
/// first call. After `fork()`, the child's first call starts its own thread and opens its own
/// connections; the parent's are left untouched.
pub struct qovery_client {
    _private: [u8; 0],
}

impl Handle for qovery_client {
    type Rust = Client;
}

/// A new options handle with every setting at its default: no token, `QOVERY_AUTH_AUTO`,
/// `https://api.qovery.com`, request timeout 30 s, connect timeout 10 s (or the request
/// timeout if shorter), deadline 60 s (or the request timeout if longer), 2 retries, user agent `qovery-redeploy/<version>`, environment not read. Free it with
/// `qovery_client_options_free()`. Returns NULL only on an internal error.
#[no_mangle]
pub extern "C" fn qovery_client_options_new() -> *mut qovery_client_options {
    ffi_guard!({
        Ok(ffi::into_raw::<qovery_client_options>(ClientOptions {
            builder: Client::builder(),
            error: None,
        }))
    })
}

/// Frees an options handle (its token memory is zeroed). NULL does nothing.
#[no_mangle]
pub extern "C" fn qovery_client_options_free(options: *mut qovery_client_options) {
    ffi_guard!({
        ffi::free(options);
        Ok(())
    })
}

/// The API token (copied). Checked by `qovery_client_new()`: non-empty printable ASCII
/// without spaces; the scheme word (`Token `) must not be included.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_token(
    options: *mut qovery_client_options,
    token: *const std::os::raw::c_char,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| Ok(b.token(ffi::string(token, "token")?)))
    })
}

/// A `qovery_auth_scheme` value; anything else is `QOVERY_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_auth_scheme(
    options: *mut qovery_client_options,
    scheme: u32,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| {
            let scheme = match scheme {
                0 => AuthScheme::Auto,
                1 => AuthScheme::Token,
                2 => AuthScheme::Bearer,
                other => {
                    return Err(CallError::invalid(format!(
                        "unknown auth scheme {other} (expected QOVERY_AUTH_AUTO, _TOKEN or _BEARER)"
                    )))
                }
            };
            Ok(b.auth_scheme(scheme))
        })
    })
}

/// The API's base URL (copied), default `https://api.qovery.com`. `http://` is accepted
/// only for loopback hosts. Checked by `qovery_client_new()`.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_base_url(
    options: *mut qovery_client_options,
    base_url: *const std::os::raw::c_char,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?
            .set(|b| Ok(b.base_url(ffi::string(base_url, "base_url")?)))
    })
}

/// Longest wait for a TCP connection, in milliseconds (default 10000, or the request timeout
/// if shorter; 0 is refused by
/// `qovery_client_new()`; values above 30 days are capped).
#[no_mangle]
pub extern "C" fn qovery_client_options_set_connect_timeout_ms(
    options: *mut qovery_client_options,
    timeout_ms: u64,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| Ok(b.connect_timeout(millis(timeout_ms))))
    })
}

/// Longest one attempt may take, connecting to last byte, in milliseconds (default 30000;
/// 0 is refused by `qovery_client_new()`; values above 30 days are capped).
#[no_mangle]
pub extern "C" fn qovery_client_options_set_request_timeout_ms(
    options: *mut qovery_client_options,
    timeout_ms: u64,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| Ok(b.request_timeout(millis(timeout_ms))))
    })
}

/// Longest one API call may take, retries and their waits included, in milliseconds
/// (default 60000, or the request timeout if longer; 0 is refused by `qovery_client_new()`;
/// values above 30 days are capped).
/// A wait is bounded by its own timeout instead (`qovery_wait_options`).
#[no_mangle]
pub extern "C" fn qovery_client_options_set_deadline_ms(
    options: *mut qovery_client_options,
    deadline_ms: u64,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| Ok(b.deadline(millis(deadline_ms))))
    })
}

/// Retries after a failed attempt where retrying is safe (default 2; 0 disables). A
/// redeploy whose request may have reached the server is never retried.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_max_retries(
    options: *mut qovery_client_options,
    max_retries: u32,
) -> qovery_code {
    ffi_guard!({ ffi::handle_mut(options, "options")?.set(|b| Ok(b.max_retries(max_retries))) })
}

/// The `User-Agent` header (copied), 1 to 256 printable ASCII characters (default
/// `qovery-redeploy/<version>`). Checked by `qovery_client_new()`.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_user_agent(
    options: *mut qovery_client_options,
    user_agent: *const std::os::raw::c_char,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?
            .set(|b| Ok(b.user_agent(ffi::string(user_agent, "user_agent")?)))
    })
}

/// Trust the certificate authorities in this PEM file too, beside Mozilla's roots and the
/// system store (for a TLS-inspecting proxy or a private CA). Without it, `QOVERY_CA_BUNDLE`
/// is read when `qovery_client_new()` runs (and `SSL_CERT_FILE`, if set, replaces the system
/// store, as in curl and OpenSSL). The file is read by `qovery_client_new()`, which fails with
/// `QOVERY_ERR_INVALID_ARGUMENT` if it is missing, unreadable or holds no certificate. The path is
/// copied; it must be UTF-8.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_ca_file(
    options: *mut qovery_client_options,
    path: *const std::os::raw::c_char,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| Ok(b.ca_file(ffi::string(path, "path")?)))
    })
}

/// Send `https://` requests through this HTTP proxy (`http://[user:password@]host:port`, a
/// CONNECT tunnel) instead of the one `HTTPS_PROXY` / `https_proxy` / `ALL_PROXY` name (the
/// default); `NO_PROXY` still applies. A plain-`http://` (loopback) base URL never goes through
/// a proxy. The URL is checked by `qovery_client_new()`; its credentials never appear in
/// messages.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_proxy(
    options: *mut qovery_client_options,
    url: *const std::os::raw::c_char,
) -> qovery_code {
    ffi_guard!({
        ffi::handle_mut(options, "options")?.set(|b| Ok(b.proxy(ffi::string(url, "url")?)))
    })
}

/// Use no proxy at all: `HTTPS_PROXY`, `ALL_PROXY` and any `qovery_client_options_set_proxy()`
/// are ignored.
#[no_mangle]
pub extern "C" fn qovery_client_options_set_no_proxy(
    options: *mut qovery_client_options,
) -> qovery_code {
    ffi_guard!({ ffi::handle_mut(options, "options")?.set(|b| Ok(b.no_proxy())) })
}

/// Read the token from `QOVERY_API_TOKEN` and the base URL from `QOVERY_API_URL` when
/// `qovery_client_new()` runs, for whichever of the two was not set on these options. (As with
/// any `getenv`, no other thread may change the environment while `qovery_client_new()` runs.)
#[no_mangle]
pub extern "C" fn qovery_client_options_use_env(
    options: *mut qovery_client_options,
) -> qovery_code {
    ffi_guard!({ ffi::handle_mut(options, "options")?.set(|b| Ok(b.from_env())) })
}

/// Builds a client from `options` (which are not consumed: free them when convenient).
///
/// On success returns `QOVERY_OK` and stores the new client in `*client_out` (free it with
/// `qovery_client_free()`). On failure returns the code, stores NULL in `*client_out`, and,
/// if `error_out` is not NULL, stores in `*error_out` a result handle whose message says what
/// was wrong (free it with `qovery_result_free()`); `*error_out` is set to NULL on success.
/// `error_out` may be NULL. No network I/O happens here (connections open on the first call);
/// the CA bundle, if any, and the system's CA store are read.
#[no_mangle]
pub extern "C" fn qovery_client_new(
    options: *const qovery_client_options,
    client_out: *mut *mut qovery_client,
    error_out: *mut *mut qovery_result,
) -> qovery_code {
    ffi_guard!({
        if !error_out.is_null() {
            ffi::write_out(error_out, "error_out", ptr::null_mut())?;
        }
        let built = (|| {
            ffi::write_out(client_out, "client_out", ptr::null_mut())?;
            let options = ffi::handle(options, "options")?;
            if let Some(failure) = &options.error {
                return Err(failure.clone());
            }
            let client = options.builder.clone().build().map_err(|e| CallError {
                code: qovery_code::for_kind(e.kind())
                    .unwrap_or(qovery_code::QOVERY_ERR_INVALID_ARGUMENT),
                message: e.to_string(),
            })?;
            ffi::write_out(
                client_out,
                "client_out",
                ffi::into_raw::<qovery_client>(client),
            )
        })();
        match built {
            Ok(()) => Ok(qovery_code::QOVERY_OK),
            Err(failure) => {
                let code = failure.code;
                if !error_out.is_null() {
                    let error = ResultData::failure(failure).into_raw();
                    ffi::write_out(error_out, "error_out", error)?;
                }
                Ok(code)
            }
        }
    })
}

/// Frees a client and closes its pooled connections. No call may be using it. NULL does
/// nothing.
#[no_mangle]
pub extern "C" fn qovery_client_free(client: *mut qovery_client) {
    ffi_guard!({
        ffi::free(client);
        Ok(())
    })
}
