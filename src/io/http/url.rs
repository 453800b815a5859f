//! `http://` and `https://` URLs: just what a request line and a `Host`
//! header need, and the resolution of a redirect's `Location`.

use crate::error::{Error, Result};
use crate::io::source::redact_query as redact;

/// A parsed `http(s)://host[:port]/path?query` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `https`?
    pub https: bool,
    /// The host name or address, IPv6 without its brackets.
    pub host: String,
    /// The port, the scheme's default when the URL names none.
    pub port: u16,
    /// The request target: the path and query, starting with `/`, with
    /// spaces, controls and non-ASCII bytes percent-encoded.
    pub target: String,
}

impl Url {
    /// Parses an absolute `http://` or `https://` URL. User names and
    /// passwords in the URL are refused (they would end up in messages);
    /// send credentials as headers instead.
    pub fn parse(s: &str) -> Result<Url> {
        let bad = |why: &str| Error::invalid(format!("URL {}: {why}", redact(s)));
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host/path"))?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return Err(bad("the scheme is not http or https")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.contains('@') {
            return Err(bad(
                "user names and passwords in URLs are not accepted; send an Authorization \
                 header (HttpOptions::header) instead",
            ));
        }
        let default_port = if https { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("an IPv6 host needs its closing ']'"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("junk after the IPv6 host"))?,
                ),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            None | Some("") => default_port,
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("the port is not a number below 65536"))?,
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:%".contains(&b))
        {
            return Err(bad(
                "the host is empty or has characters a host name cannot have",
            ));
        }
        let tail = tail.split('#').next().unwrap_or("");
        let target = if tail.starts_with('/') {
            encode_target(tail)
        } else {
            format!("/{}", encode_target(tail))
        };
        Ok(Url {
            https,
            host: host.to_ascii_lowercase(),
            port,
            target,
        })
    }

    /// Where a redirect's `Location` points, resolved against this URL:
    /// absolute, scheme-relative (`//host/path`), absolute path or relative
    /// path.
    pub fn join(&self, location: &str) -> Result<Url> {
        let location = location.trim();
        if location.contains("://") && !location.starts_with('/') {
            return Url::parse(location);
        }
        let scheme = if self.https { "https" } else { "http" };
        if let Some(rest) = location.strip_prefix("//") {
            return Url::parse(&format!("{scheme}://{rest}"));
        }
        let path = if location.starts_with('/') {
            location.to_string()
        } else {
            let dir = self.target.split(['?']).next().unwrap_or("/");
            let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Url::parse(&format!("{scheme}://{}{path}", self.authority()))
    }

    /// `host[:port]` as the `Host` header gives it (the port only when it is
    /// not the scheme's default).
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == if self.https { 443 } else { 80 } {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The URL for messages, its query (which may hold a signature) elided.
    pub fn redacted(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let path = match self.target.split_once('?') {
            Some((path, _)) => format!("{path}?…"),
            None => self.target.clone(),
        };
        format!("{scheme}://{}{path}", self.authority())
    }
}

/// Percent-encodes what may not appear raw in a request line (spaces,
/// controls, non-ASCII); everything else, `%` escapes included, stays.
fn encode_target(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_ports_and_targets() {
        let u = Url::parse("http://Example.org/a/b.h5?x=1#frag").unwrap();
        assert_eq!(
            (u.https, u.host.as_str(), u.port, u.target.as_str()),
            (false, "example.org", 80, "/a/b.h5?x=1")
        );
        assert_eq!(u.authority(), "example.org");
        assert_eq!(u.redacted(), "http://example.org/a/b.h5?…");
        let u = Url::parse("https://[::1]:8443").unwrap();
        assert_eq!(
            (u.https, u.host.as_str(), u.port, u.target.as_str()),
            (true, "::1", 8443, "/")
        );
        assert_eq!(u.authority(), "[::1]:8443");
        let u = Url::parse("http://127.0.0.1:8080/dir/a file é.h5").unwrap();
        assert_eq!(u.target, "/dir/a%20file%20%C3%A9.h5");
        assert_eq!(Url::parse("http://h?q").unwrap().target, "/?q");
        for bad in [
            "ftp://h/x",
            "h/x",
            "http:///x",
            "http://user:pw@h/x",
            "http://h:99999/x",
            "http://h:x/",
            "http://[::1/x",
            "http://h\r\nX: y/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn joins_redirect_locations() {
        let base = Url::parse("http://h:81/a/b/c.h5?sig=1").unwrap();
        let j = |l: &str| base.join(l).unwrap();
        assert_eq!(j("https://o/x"), Url::parse("https://o/x").unwrap());
        assert_eq!(j("//o:9/x"), Url::parse("http://o:9/x").unwrap());
        assert_eq!(j("/x?y"), Url::parse("http://h:81/x?y").unwrap());
        assert_eq!(j("d.h5"), Url::parse("http://h:81/a/b/d.h5").unwrap());
    }
}
