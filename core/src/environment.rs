//! The process environment a client is configured from, read in one place.
//!
//! Every skin takes the token and the URL from the same variables with the same rules (an
//! empty variable is unset, one that is not UTF-8 is an error naming it). A command line reads
//! them before parsing its arguments, to cut the token out of what it prints, and its tests
//! give values instead of the process's: hence a value type rather than reads inside `build`.

use std::ffi::OsString;
use std::fmt;

use crate::error::Error;

/// The API token's variable.
pub const ENV_TOKEN: &str = "QOVERY_API_TOKEN";
/// The API base URL's variable.
pub const ENV_URL: &str = "QOVERY_API_URL";
pub use crate::tls::ENV_CA_BUNDLE;

/// `QOVERY_API_TOKEN`, `QOVERY_API_URL` and `QOVERY_CA_BUNDLE`, as read once. `Debug` never
/// shows the token.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    token: Option<OsString>,
    url: Option<OsString>,
    ca_bundle: Option<OsString>,
}

impl Environment {
    /// The three variables of this process, now.
    pub fn from_process() -> Environment {
        Environment {
            token: std::env::var_os(ENV_TOKEN),
            url: std::env::var_os(ENV_URL),
            ca_bundle: std::env::var_os(ENV_CA_BUNDLE),
        }
    }

    /// `QOVERY_API_TOKEN` set to `value` (for tests and embedders with their own source).
    pub fn with_token(mut self, value: impl Into<OsString>) -> Environment {
        self.token = Some(value.into());
        self
    }

    /// `QOVERY_API_URL` set to `value`.
    pub fn with_url(mut self, value: impl Into<OsString>) -> Environment {
        self.url = Some(value.into());
        self
    }

    /// `QOVERY_CA_BUNDLE` set to `value`.
    pub fn with_ca_bundle(mut self, value: impl Into<OsString>) -> Environment {
        self.ca_bundle = Some(value.into());
        self
    }

    /// The token, `None` when unset or empty; an error naming the variable when it is not
    /// UTF-8. Not checked further here: the client's builder does that.
    pub fn token(&self) -> Result<Option<&str>, Error> {
        value(ENV_TOKEN, self.token.as_ref())
    }

    /// The base URL, `None` when unset or empty.
    pub fn url(&self) -> Result<Option<&str>, Error> {
        value(ENV_URL, self.url.as_ref())
    }

    /// The extra CA bundle's path, `None` when unset or empty.
    pub fn ca_bundle(&self) -> Result<Option<&str>, Error> {
        value(ENV_CA_BUNDLE, self.ca_bundle.as_ref())
    }
}

fn value<'a>(name: &str, v: Option<&'a OsString>) -> Result<Option<&'a str>, Error> {
    match v.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .ok_or_else(|| Error::invalid(format!("{name} is not valid UTF-8"))),
    }
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("url", &self.url)
            .field("ca_bundle", &self.ca_bundle)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_unset_and_non_utf8_names_the_variable() {
        let env = Environment::default()
            .with_token("")
            .with_url("http://127.0.0.1:1");
        assert_eq!(env.token().unwrap(), None);
        assert_eq!(env.url().unwrap(), Some("http://127.0.0.1:1"));
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = Environment::default().with_token(OsString::from_vec(vec![0xff]));
            let e = bad.token().unwrap_err();
            assert_eq!(e.message(), "QOVERY_API_TOKEN is not valid UTF-8");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let env = Environment::default().with_token("s3cr3t-token");
        let shown = format!("{env:?}");
        assert!(
            !shown.contains("s3cr3t") && shown.contains("[REDACTED]"),
            "{shown}"
        );
    }
}
