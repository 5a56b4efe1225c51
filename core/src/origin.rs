//! Where requests go, checked once when the client is built.

use std::net::IpAddr;

use crate::error::Error;

/// Longest API URL accepted (a host name is at most 253 characters; the rest is a path prefix).
const MAX_URL: usize = 2048;

/// Where requests go: scheme, host, port and an optional path prefix, checked once.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    https: bool,
    loopback: bool,
    base_url: String,
}

impl Origin {
    /// Accepts `https://host[:port][/prefix]`, and `http://` only to a loopback host so a
    /// token is never sent in clear over a network.
    pub(crate) fn parse(base_url: &str) -> Result<Origin, Error> {
        let shown = crate::text::clean_server_text(base_url, "");
        if base_url.len() > MAX_URL {
            return Err(Error::invalid(format!(
                "invalid API URL: longer than {MAX_URL} characters"
            )));
        }
        let url = url::Url::parse(base_url)
            .map_err(|e| Error::invalid(format!("invalid API URL {shown:?}: {e}")))?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => {
                return Err(Error::invalid(format!(
                    "invalid API URL {shown:?}: scheme {other:?} is not http or https"
                )))
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid(
                "invalid API URL: credentials in the URL are not accepted (use the token)",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(Error::invalid(format!(
                "invalid API URL {shown:?}: it may not have a query or fragment"
            )));
        }
        let (host, ip) = match url.host() {
            Some(url::Host::Domain(d)) => (d.to_owned(), None),
            Some(url::Host::Ipv4(a)) => (a.to_string(), Some(IpAddr::V4(a))),
            Some(url::Host::Ipv6(a)) => (a.to_string(), Some(IpAddr::V6(a))),
            None => {
                return Err(Error::invalid(format!(
                    "invalid API URL {shown:?}: no host"
                )))
            }
        };
        let loopback = match ip {
            Some(ip) => ip.is_loopback(),
            None => host.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        };
        if !https && !loopback {
            return Err(Error::invalid(format!(
                "refusing plain http:// to {host}: the token would cross the network unencrypted \
                 (http is allowed only to loopback hosts)"
            )));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Error::invalid(format!("invalid API URL {shown:?}: no port")))?;
        let host_str = url.host_str().unwrap_or_default();
        let host_header = if url.port().is_some() {
            format!("{host_str}:{port}")
        } else {
            host_str.to_owned()
        };
        let path_prefix = url.path().trim_end_matches('/').to_owned();
        let base_url = format!(
            "{}://{}{}",
            if https { "https" } else { "http" },
            host_header,
            path_prefix
        );
        Ok(Origin {
            https,
            loopback,
            base_url,
        })
    }

    /// The normalised base URL, e.g. `https://api.qovery.com`.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Plain `http://` is only ever allowed to loopback, so this also says "loopback only".
    pub(crate) fn https(&self) -> bool {
        self.https
    }

    /// A loopback IP or `localhost`: a local fake, not the rate-limited API.
    pub(crate) fn loopback(&self) -> bool {
        self.loopback
    }

    /// The absolute URL of an API path such as `/database/{id}/status`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn loopback_hosts() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080", true),
            ("http://127.3.4.5", true),
            ("http://[::1]:9", true),
            ("http://localhost:9", true),
            ("https://LOCALHOST.", true),
            ("https://api.qovery.com", false),
            ("https://10.0.0.1", false),
            ("https://127.0.0.1.example.com", false),
            ("https://localhost.example.com", false),
        ] {
            assert_eq!(Origin::parse(url).unwrap().loopback(), loopback, "{url}");
        }
    }

    #[test]
    fn origin_rules() {
        let o = Origin::parse("https://api.qovery.com").unwrap();
        assert_eq!(o.base_url(), "https://api.qovery.com");
        let o = Origin::parse("http://127.0.0.1:8080/prefix/").unwrap();
        assert_eq!(o.base_url(), "http://127.0.0.1:8080/prefix");
        let o = Origin::parse("http://[::1]:9/").unwrap();
        assert_eq!(o.url("/x"), "http://[::1]:9/x");
        assert!(Origin::parse("http://localhost:1").is_ok());
        for bad in [
            "http://api.qovery.com",
            "http://10.0.0.1:80",
            "ftp://127.0.0.1",
            "https://user:pw@api.qovery.com",
            "https://api.qovery.com/?x=1",
            "https://api.qovery.com/#f",
            "not a url",
            "",
            "https://",
        ] {
            let e = Origin::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
    }
}
