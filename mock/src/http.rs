//! HTTP/1.1 wire handling: reading requests (httparse, bounded) and
//! serialising response heads. Fault delivery lives in `server.rs`.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant, SystemTime};

use crate::body::reason;
use crate::stream::Stream;
use crate::timefmt;

/// Cap on the request line + headers.
pub const MAX_HEAD: usize = 64 * 1024;
/// Cap on the number of request headers.
const MAX_HEADERS: usize = 100;
/// Cap on request bodies (control API payloads).
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// An idle keep-alive connection is closed after this.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A request must arrive completely within this.
const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn connection_has(&self, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// HTTP/1.1 keeps alive unless `Connection: close`; HTTP/1.0 only with
    /// `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.minor_version == 0 {
            self.connection_has("keep-alive")
        } else {
            !self.connection_has("close")
        }
    }

    /// `applyImmediately` etc.: the raw value of the first query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub enum ReadError {
    /// EOF, timeout or socket error: just close.
    Closed,
    /// Malformed or oversized request: answer with this status, then close.
    Bad(u16, &'static str),
}

/// A client connection with its read buffer (which may hold pipelined bytes).
pub struct Conn {
    pub stream: Stream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn {
            stream,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Reads more bytes into the buffer.
    fn fill(&mut self, deadline: Instant) -> Result<(), ReadError> {
        if Instant::now() > deadline {
            return Err(ReadError::Bad(408, "Request not received in time"));
        }
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return Err(ReadError::Closed),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(ReadError::Closed),
            }
        }
    }

    /// Reads one request. Pipelined bytes after it stay buffered.
    pub fn read_request(&mut self) -> Result<Request, ReadError> {
        let deadline = Instant::now() + REQUEST_DEADLINE;
        // tolerate stray CRLFs between requests (RFC 9112 section 2.2)
        loop {
            while matches!(self.buf.first(), Some(b'\r' | b'\n')) {
                self.buf.remove(0);
            }
            if !self.buf.is_empty() {
                break;
            }
            self.fill(deadline)?;
        }
        let (mut req, head_len, body_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut headers);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let req = convert(&parsed)?;
                    let body_len = body_framing(&req)?;
                    break (req, n, body_len);
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > MAX_HEAD {
                        return Err(ReadError::Bad(431, "Request headers too large"));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Err(ReadError::Bad(431, "Too many request headers"))
                }
                Err(_) => return Err(ReadError::Bad(400, "Malformed HTTP request")),
            }
            self.fill(deadline)?;
        };
        if head_len > MAX_HEAD {
            return Err(ReadError::Bad(431, "Request headers too large"));
        }
        self.buf.drain(..head_len);
        let expects_body = !matches!(body_len, Some(0));
        if expects_body
            && req.minor_version == 1
            && req
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && self.buf.is_empty()
        {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            let _ = self.stream.flush();
        }
        req.body = match body_len {
            Some(n) => {
                while self.buf.len() < n {
                    self.fill(deadline)?;
                }
                self.buf.drain(..n).collect()
            }
            None => self.read_chunked(deadline)?,
        };
        Ok(req)
    }

    /// Decodes a chunked request body.
    fn read_chunked(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(deadline)?;
            let size_str = line.split(|&b| b == b';').next().unwrap_or_default();
            let size_str = std::str::from_utf8(size_str)
                .map_err(|_| ReadError::Bad(400, "Bad chunk size"))?
                .trim();
            let size = usize::from_str_radix(size_str, 16)
                .map_err(|_| ReadError::Bad(400, "Bad chunk size"))?;
            if size == 0 {
                // trailers up to an empty line
                while !self.read_line(deadline)?.is_empty() {}
                return Ok(body);
            }
            if size > MAX_BODY - body.len() {
                return Err(ReadError::Bad(413, "Request body too large"));
            }
            while self.buf.len() < size + 2 {
                self.fill(deadline)?;
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadError::Bad(400, "Bad chunk framing"));
            }
            self.buf.drain(..size + 2);
        }
    }

    fn read_line(&mut self, deadline: Instant) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..pos].to_vec();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > 4096 {
                return Err(ReadError::Bad(400, "Chunk line too long"));
            }
            self.fill(deadline)?;
        }
    }
}

fn convert(p: &httparse::Request) -> Result<Request, ReadError> {
    let method = p.method.unwrap_or_default().to_string();
    let mut target = p.path.unwrap_or_default();
    // absolute-form (proxies): keep only the path and query
    for scheme in ["http://", "https://"] {
        let prefix_matches = target
            .get(..scheme.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme));
        if let (true, Some(rest)) = (prefix_matches, target.get(scheme.len()..)) {
            target = rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    let asterisk = method == "OPTIONS" && target == "*";
    if !target.starts_with('/') && !asterisk {
        return Err(ReadError::Bad(400, "Bad request target"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let headers = p
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    Ok(Request {
        method,
        path,
        query,
        minor_version: p.version.unwrap_or(1),
        headers,
        body: Vec::new(),
    })
}

/// `Some(n)`: Content-Length body (0 when absent); `None`: chunked.
fn body_framing(req: &Request) -> Result<Option<usize>, ReadError> {
    let te: Vec<&str> = req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding"))
        .map(|(_, v)| v.as_str())
        .collect();
    let cls: Vec<&str> = req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_str())
        .collect();
    if !te.is_empty() {
        if !cls.is_empty() {
            return Err(ReadError::Bad(
                400,
                "Both Transfer-Encoding and Content-Length",
            ));
        }
        let last = te
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .next_back()
            .unwrap_or_default();
        if te.len() == 1 && last.eq_ignore_ascii_case("chunked") && !te[0].contains(',') {
            return Ok(None);
        }
        return Err(ReadError::Bad(501, "Unsupported Transfer-Encoding"));
    }
    let mut len: Option<usize> = None;
    for v in cls {
        let n: usize = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            v.parse()
                .map_err(|_| ReadError::Bad(413, "Request body too large"))?
        } else {
            return Err(ReadError::Bad(400, "Bad Content-Length"));
        };
        if len.is_some_and(|l| l != n) {
            return Err(ReadError::Bad(400, "Conflicting Content-Length"));
        }
        len = Some(n);
    }
    let n = len.unwrap_or(0);
    if n > MAX_BODY {
        return Err(ReadError::Bad(413, "Request body too large"));
    }
    Ok(Some(n))
}

/// A response to send (fault delivery decides how).
#[derive(Debug)]
pub struct Response {
    pub code: u16,
    /// `None` = no Content-Type header.
    pub content_type: Option<&'static str>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Close the connection after this response.
    pub close: bool,
}

pub const JSON: &str = "application/json";

impl Response {
    pub fn json(code: u16, body: Vec<u8>) -> Response {
        Response {
            code,
            content_type: Some(JSON),
            headers: Vec::new(),
            body,
            close: false,
        }
    }

    /// Placeholder for deliveries that send no response at all (reset, close, raw).
    pub fn unsent() -> Response {
        Response::json(0, Vec::new())
    }

    pub fn header(mut self, k: &str, v: impl Into<String>) -> Response {
        self.headers.push((k.to_string(), v.into()));
        self
    }
}

/// How the body of a response is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    /// Delimited by closing the connection.
    Close,
}

thread_local! {
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// The `Date` header value, formatted at most once per second per thread.
fn date_header(out: &mut Vec<u8>) {
    let now = SystemTime::now();
    let secs = timefmt::unix_secs(now);
    DATE.with(|d| {
        let mut d = d.borrow_mut();
        if d.0 != secs {
            *d = (secs, timefmt::http_date(now));
        }
        out.extend_from_slice(d.1.as_bytes());
    });
}

/// Serialises a status line and headers. `keep_alive` is whether the
/// connection stays open afterwards; `http10` whether the client spoke 1.0.
pub fn write_head(
    out: &mut Vec<u8>,
    r: &Response,
    framing: Framing,
    keep_alive: bool,
    http10: bool,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    let _ = write!(out, "{} {}", r.code, reason(r.code));
    out.extend_from_slice(b"\r\nDate: ");
    date_header(out);
    out.extend_from_slice(b"\r\n");
    let custom_ct = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if let (Some(ct), false) = (r.content_type, custom_ct) {
        let _ = write!(out, "Content-Type: {ct}\r\n");
    }
    match framing {
        Framing::Length(n) => {
            let _ = write!(out, "Content-Length: {n}\r\n");
        }
        Framing::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::Close => {}
    }
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    for (k, v) in &r.headers {
        let _ = write!(out, "{k}: {v}\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    /// Feeds `raw` to a Conn through a real socket pair.
    fn parse(raw: &[u8]) -> Vec<Result<Request, ReadError>> {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        c.write_all(raw).unwrap();
        c.shutdown(std::net::Shutdown::Write).unwrap();
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut conn = Conn::new(Stream::Plain(s));
        let mut out = Vec::new();
        for _ in 0..10 {
            let r = conn.read_request();
            let stop = r.is_err();
            out.push(r);
            if stop {
                break;
            }
        }
        out
    }

    #[test]
    fn pipelined_and_chunked() {
        let rs = parse(
            b"GET /a?x=1&applyImmediately=true HTTP/1.1\r\nHost: h\r\n\r\n\
              POST http://h/b HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n\
              PUT /c HTTP/1.1\r\ncontent-length: 2\r\nConnection: close\r\n\r\nhi",
        );
        assert_eq!(rs.len(), 4);
        let a = rs[0].as_ref().unwrap();
        assert_eq!((a.method.as_str(), a.path.as_str()), ("GET", "/a"));
        assert_eq!(a.query_param("applyImmediately"), Some("true"));
        assert_eq!(a.query_param("y"), None);
        assert!(a.keep_alive());
        let b = rs[1].as_ref().unwrap();
        assert_eq!(b.path, "/b");
        assert_eq!(b.body, b"abcde");
        assert!(!b.keep_alive());
        let c = rs[2].as_ref().unwrap();
        assert_eq!(c.body, b"hi");
        assert!(!c.keep_alive());
        assert!(matches!(rs[3], Err(ReadError::Closed)));
    }

    #[test]
    fn rejects_bad_requests() {
        let bad = |raw: &[u8]| match parse(raw).into_iter().next().unwrap() {
            Err(ReadError::Bad(code, _)) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(bad(b"\x00\x01garbage\r\n\r\n"), 400);
        assert_eq!(bad(b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), 400);
        assert_eq!(
            bad(b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n"),
            413
        );
        assert_eq!(
            bad(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(
            bad(b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
        assert_eq!(
            bad(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n"),
            413
        );
        assert_eq!(
            bad(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            400
        );
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.extend(vec![b'a'; MAX_HEAD + 10]);
        assert_eq!(bad(&big), 431);
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..200 {
            many.extend(format!("X-{i}: 1\r\n").bytes());
        }
        many.extend(b"\r\n");
        assert_eq!(bad(&many), 431);
    }

    #[test]
    fn odd_targets_do_not_panic() {
        for raw in [
            "GET ht\u{e9}\u{e9}p://x HTTP/1.1\r\n\r\n",
            "GET http://\u{e9} HTTP/1.1\r\n\r\n",
            "GET /\u{e9}?\u{e9}=\u{e9} HTTP/1.1\r\n\r\n",
            "GET http:// HTTP/1.1\r\n\r\n",
            "GET \u{e9}\u{e9}\u{e9}\u{e9} HTTP/1.1\r\n\r\n",
        ] {
            // any outcome but a panic
            let _ = parse(raw.as_bytes());
        }
    }

    #[test]
    fn head_serialisation() {
        let r = Response::json(202, b"{}".to_vec()).header("X-A", "b");
        let mut out = Vec::new();
        write_head(&mut out, &r, Framing::Length(2), false, false);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 202 Accepted\r\nDate: "));
        assert!(s.contains("\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\nX-A: b\r\n\r\n"));
    }
}
