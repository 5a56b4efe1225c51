//! The API token, held so it cannot leak through `Debug`, logs or freed memory.

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroizing;

use crate::error::Error;

/// How the token is presented in the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthScheme {
    /// `Bearer` if the token is shaped like a JWT (three base64url parts, the first starting
    /// `eyJ`, i.e. a JSON header), `Token` otherwise. Same rule as qovery-cli.
    #[default]
    Auto,
    /// `Authorization: Token <api token>`: Qovery API tokens (no expiry).
    Token,
    /// `Authorization: Bearer <jwt>`: OIDC tokens from the console (they expire).
    Bearer,
}

impl AuthScheme {
    pub fn name(self) -> &'static str {
        match self {
            AuthScheme::Auto => "auto",
            AuthScheme::Token => "token",
            AuthScheme::Bearer => "bearer",
        }
    }
}

impl FromStr for AuthScheme {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(AuthScheme::Auto),
            "token" => Ok(AuthScheme::Token),
            "bearer" => Ok(AuthScheme::Bearer),
            _ => Err(Error::invalid(format!(
                "unknown auth scheme {s:?} (expected auto, token or bearer)"
            ))),
        }
    }
}

/// An API token: checked on creation, zeroed on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Refuses what could not be sent safely in a header: empty, whitespace (a pasted
    /// `Token abc` or trailing newline), control characters (header injection) or non-ASCII.
    pub fn new(token: impl Into<String>) -> Result<Secret, Error> {
        let token = Zeroizing::new(token.into());
        if token.is_empty() {
            return Err(Error::invalid("the API token is empty"));
        }
        if let Some(bad) = token.chars().find(|c| !c.is_ascii_graphic()) {
            let what = match bad {
                '\r' | '\n' => "a line break",
                c if c.is_whitespace() => "whitespace",
                c if c.is_control() => "a control character",
                _ => "a non-ASCII character",
            };
            let hint = if token.starts_with("Token ") || token.starts_with("Bearer ") {
                " (pass the token alone; the scheme is set separately)"
            } else {
                ""
            };
            return Err(Error::invalid(format!(
                "the API token contains {what}, which cannot be sent in a header{hint}"
            )));
        }
        Ok(Secret(token))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme `Auto` resolves to for this token.
    pub fn resolve(&self, scheme: AuthScheme) -> AuthScheme {
        match scheme {
            AuthScheme::Auto if looks_like_jwt(&self.0) => AuthScheme::Bearer,
            AuthScheme::Auto => AuthScheme::Token,
            other => other,
        }
    }

    /// The `Authorization` header value, `<Scheme> <token>`, marked sensitive so reqwest and
    /// hyper never show it in Debug output. (It lives in reqwest's header map from then on, which
    /// is not zeroed on drop: the one copy this crate cannot wipe.)
    pub(crate) fn header_value(&self, scheme: AuthScheme) -> reqwest::header::HeaderValue {
        let word = match self.resolve(scheme) {
            AuthScheme::Bearer => "Bearer",
            _ => "Token",
        };
        let text = Zeroizing::new(format!("{word} {}", self.0.as_str()));
        // `Secret::new` admits printable ASCII only, which is always a valid header value.
        let mut value = reqwest::header::HeaderValue::from_str(&text)
            .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Token invalid"));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let base64url = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
    };
    header.starts_with("eyJ") && base64url(header) && base64url(payload) && base64url(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn bad_tokens_are_refused_with_invalid_input() {
        for bad in [
            "",
            "abc\r\nX-Evil: 1",
            "abc\n",
            "a b",
            "Token abc",
            "tok\0en",
            "tøken",
        ] {
            let err = Secret::new(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
            assert!(!err.to_string().contains("abc\r"), "{err}");
        }
    }

    #[test]
    fn auto_scheme_follows_token_shape() {
        let jwt = Secret::new("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln").unwrap();
        assert_eq!(jwt.resolve(AuthScheme::Auto), AuthScheme::Bearer);
        let api = Secret::new("qov_abcdef0123").unwrap();
        assert_eq!(api.resolve(AuthScheme::Auto), AuthScheme::Token);
        assert_eq!(api.resolve(AuthScheme::Bearer), AuthScheme::Bearer);
        let value = api.header_value(AuthScheme::Auto);
        assert_eq!(value.as_bytes(), b"Token qov_abcdef0123");
        assert!(value.is_sensitive());
        assert!(!format!("{value:?}").contains("qov_"));
    }

    #[test]
    fn debug_hides_the_token() {
        let s = Secret::new("supersecret").unwrap();
        assert!(!format!("{s:?}").contains("supersecret"));
    }
}
