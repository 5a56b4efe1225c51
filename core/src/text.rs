//! Server-provided text made safe to show.
//!
//! A state name, an error message or a detail comes from whoever answers at the API URL: it
//! may hold escape sequences that drive a terminal, line breaks that forge a log line, the
//! token itself (a server echoing the header), or megabytes. Every skin prints such text
//! through these functions, so the rule is the same in every language.

use std::borrow::Cow;

/// The longest error message or detail kept, in bytes (then `...`).
pub const MAX_SERVER_TEXT: usize = 512;

/// The longest server value (a state name) put on a terminal line, in characters, `...`
/// included.
pub const MAX_VALUE_SHOWN: usize = 64;

/// `text` with `secret` replaced by `[REDACTED]`, both as sent and in the escaped form that
/// `{:?}` quoting gives it. An empty secret redacts nothing.
pub fn redact<'a>(text: &'a str, secret: &str) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    if secret.is_empty() {
        return out;
    }
    let escaped = secret.escape_debug().to_string();
    for form in [secret, escaped.as_str()] {
        if out.contains(form) {
            out = Cow::Owned(out.replace(form, "[REDACTED]"));
        }
    }
    out
}

/// `text` trimmed, every control character (escape sequences, line breaks) a space.
pub fn one_line(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// An error message or detail from a server, safe to show: redacted, one line, at most
/// [`MAX_SERVER_TEXT`] bytes (then `...`).
pub fn clean_server_text(text: &str, secret: &str) -> String {
    let redacted = redact(text, secret);
    let mut out = String::with_capacity(redacted.len().min(MAX_SERVER_TEXT + 3));
    for c in redacted.trim().chars() {
        if out.len() >= MAX_SERVER_TEXT {
            out.push_str("...");
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// A server value (a state name) for a terminal line: one line, at most [`MAX_VALUE_SHOWN`]
/// characters.
pub fn short_value(text: &str) -> String {
    let s = one_line(text);
    if s.chars().count() > MAX_VALUE_SHOWN {
        let mut cut: String = s.chars().take(MAX_VALUE_SHOWN - 3).collect();
        cut.push_str("...");
        cut
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_redacted_single_line_and_capped() {
        let cleaned = clean_server_text("bad token s3cr3t\r\nInjected: s3cr3t", "s3cr3t");
        assert_eq!(cleaned, "bad token [REDACTED]  Injected: [REDACTED]");
        let escaped = clean_server_text(r#"string "to\"k\\en""#, r#"to"k\en"#);
        assert_eq!(escaped, r#"string "[REDACTED]""#);
        let long = "x".repeat(10_000);
        assert!(clean_server_text(&long, "tok").len() <= MAX_SERVER_TEXT + 3);
    }

    #[test]
    fn values_cannot_drive_the_terminal_and_stay_short() {
        assert_eq!(
            short_value("DEPLOY\x1b]0;owned\x07ED\r\n"),
            "DEPLOY ]0;owned ED"
        );
        let long = short_value(&"X".repeat(500));
        assert_eq!(long.chars().count(), MAX_VALUE_SHOWN);
        assert!(long.ends_with("..."));
        assert_eq!(short_value("DEPLOYED"), "DEPLOYED");
    }

    #[test]
    fn redaction_leaves_text_without_the_secret_untouched() {
        assert!(matches!(
            redact("no secret here", "s3cr3t"),
            Cow::Borrowed(_)
        ));
        assert_eq!(redact("abc", ""), "abc");
    }
}
