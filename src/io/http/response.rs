//! Reading an HTTP/1.1 response: the status line and headers (bounded), the
//! body's framing (`Content-Length`, `chunked`, or until the connection
//! closes) and `Content-Range`.

use std::io::{self, BufRead, Read};

/// At most this many bytes of status line and headers.
const MAX_HEAD: usize = 64 << 10;
/// At most this many header lines.
const MAX_HEADERS: usize = 256;
/// At most this many bytes in a chunk-size line or trailer line.
const MAX_CHUNK_LINE: usize = 4 << 10;

/// A response's status line and headers.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub minor: u8,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `"206 Partial Content"`.
    pub fn status_line(&self) -> String {
        format!("{} {}", self.status, self.reason)
    }

    /// Whether the connection stays open after this response's body
    /// (HTTP/1.1 without `Connection: close`).
    pub fn keep_alive(&self) -> bool {
        let close = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .any(|(_, v)| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
        self.minor >= 1 && !close
    }

    /// How the body is delimited.
    pub fn framing(&self) -> io::Result<Framing> {
        if let Some(te) = self.header("transfer-encoding") {
            let last = te.rsplit(',').next().unwrap_or("").trim();
            if last.eq_ignore_ascii_case("chunked") {
                return Ok(Framing::Chunked);
            }
            return Err(invalid(format!(
                "unsupported Transfer-Encoding {te:?} (expected chunked or none)"
            )));
        }
        let mut lengths = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"));
        match lengths.next() {
            None if self.status == 204 || self.status == 304 => Ok(Framing::Length(0)),
            None => Ok(Framing::UntilClose),
            Some((_, v)) => {
                let n = v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| invalid(format!("Content-Length {v:?} is not a number")))?;
                if lengths.any(|(_, w)| w.trim() != v.trim()) {
                    return Err(invalid("two different Content-Length headers".into()));
                }
                Ok(Framing::Length(n))
            }
        }
    }
}

/// How a response body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// After this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// When the server closes the connection.
    UntilClose,
}

/// An [`io::ErrorKind::InvalidData`] error: the server broke the protocol.
pub(crate) fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Reads one line ending in `\n` (its `\r\n` or `\n` removed), of at most
/// `max` bytes. `Ok(None)` when the stream ends before any byte.
pub(crate) fn read_line<R: BufRead>(r: &mut R, max: usize) -> io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            if line.is_empty() {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed in the middle of a header line",
            ));
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if line.len() + take > max {
            return Err(invalid(format!("a header line longer than {max} bytes")));
        }
        line.extend_from_slice(&available[..take]);
        r.consume(take);
        if done {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(line));
        }
    }
}

/// Reads a response's status line and headers, skipping `1xx` interim
/// responses. `Ok(None)` when the connection closed before the first byte
/// (a kept-alive connection the server had closed).
pub(crate) fn read_head<R: BufRead>(r: &mut R) -> io::Result<Option<Head>> {
    let mut budget = MAX_HEAD;
    let mut first = true;
    loop {
        let Some(status_line) = read_line(r, budget)? else {
            if first {
                return Ok(None);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed after an interim response",
            ));
        };
        first = false;
        budget = budget.saturating_sub(status_line.len() + 2);
        let text = String::from_utf8_lossy(&status_line);
        let mut parts = text.splitn(3, ' ');
        let (version, code, reason) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("").trim().to_string(),
        );
        let minor = match version {
            "HTTP/1.1" => 1,
            "HTTP/1.0" => 0,
            _ => {
                return Err(invalid(format!(
                    "expected an HTTP/1.x status line, got {:?}",
                    truncate(&text, 80)
                )))
            }
        };
        let status = code
            .parse::<u16>()
            .ok()
            .filter(|s| (100..600).contains(s))
            .ok_or_else(|| invalid(format!("bad status code in {:?}", truncate(&text, 80))))?;
        let mut headers = Vec::new();
        loop {
            let line = read_line(r, budget)?.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the connection closed in the middle of the response headers",
                )
            })?;
            budget = budget.saturating_sub(line.len() + 2);
            if line.is_empty() {
                break;
            }
            if headers.len() == MAX_HEADERS {
                return Err(invalid(format!("more than {MAX_HEADERS} response headers")));
            }
            let line = String::from_utf8_lossy(&line);
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| invalid(format!("bad header line {:?}", truncate(&line, 80))))?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        return Ok(Some(Head {
            minor,
            status,
            reason,
            headers,
        }));
    }
}

/// A `Content-Range` value: `bytes first-last/complete`, `bytes */complete`
/// or `bytes first-last/*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentRange {
    /// First and last byte sent (inclusive), `None` for `*`.
    pub range: Option<(u64, u64)>,
    /// The complete length, `None` for `*`.
    pub complete: Option<u64>,
}

/// Parses a `Content-Range` header value.
pub(crate) fn parse_content_range(v: &str) -> Option<ContentRange> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, complete) = rest.split_once('/')?;
    let range = match range.trim() {
        "*" => None,
        r => {
            let (a, b) = r.split_once('-')?;
            let (a, b) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
            if b < a {
                return None;
            }
            Some((a, b))
        }
    };
    let complete = match complete.trim() {
        "*" => None,
        c => Some(c.parse().ok()?),
    };
    Some(ContentRange { range, complete })
}

/// Reads a body delimited by `framing` from `r`.
pub(crate) struct Body<'a, R> {
    r: &'a mut R,
    framing: Framing,
    /// Bytes left in the body (`Length`) or the current chunk (`Chunked`).
    left: u64,
    done: bool,
}

impl<'a, R: BufRead> Body<'a, R> {
    pub fn new(r: &'a mut R, framing: Framing) -> Self {
        let left = match framing {
            Framing::Length(n) => n,
            _ => 0,
        };
        Body {
            r,
            framing,
            left,
            done: framing == Framing::Length(0),
        }
    }

    /// Whether the whole body was read (the connection can serve another
    /// request).
    pub fn finished(&self) -> bool {
        self.done
    }

    /// Reads the next chunk's size line (and, after the last chunk, the
    /// trailers).
    fn next_chunk(&mut self) -> io::Result<()> {
        let line = read_line(self.r, MAX_CHUNK_LINE)?.ok_or_else(short_chunked)?;
        let line = String::from_utf8_lossy(&line);
        let size = line.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| invalid(format!("bad chunk size line {:?}", truncate(&line, 40))))?;
        if size == 0 {
            for _ in 0..MAX_HEADERS {
                let trailer = read_line(self.r, MAX_CHUNK_LINE)?.ok_or_else(short_chunked)?;
                if trailer.is_empty() {
                    self.done = true;
                    return Ok(());
                }
            }
            return Err(invalid("too many trailer lines".into()));
        }
        self.left = size;
        Ok(())
    }

    /// Reads up to the end of the current chunk's data and its `\r\n`.
    fn end_chunk(&mut self) -> io::Result<()> {
        let line = read_line(self.r, 2)?.ok_or_else(short_chunked)?;
        if !line.is_empty() {
            return Err(invalid("chunk data longer than its size".into()));
        }
        Ok(())
    }
}

fn short_chunked() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the connection closed in the middle of a chunked body",
    )
}

impl<R: BufRead> Read for Body<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        match self.framing {
            Framing::UntilClose => {
                let n = self.r.read(buf)?;
                if n == 0 {
                    self.done = true;
                }
                Ok(n)
            }
            Framing::Length(_) => {
                let want = buf
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                let n = self.r.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the connection closed with {} body bytes still to come",
                            self.left
                        ),
                    ));
                }
                self.left -= n as u64;
                self.done = self.left == 0;
                Ok(n)
            }
            Framing::Chunked => {
                while self.left == 0 {
                    self.next_chunk()?;
                    if self.done {
                        return Ok(0);
                    }
                }
                let want = buf
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                let n = self.r.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(short_chunked());
                }
                self.left -= n as u64;
                if self.left == 0 {
                    self.end_chunk()?;
                }
                Ok(n)
            }
        }
    }
}

impl<R: BufRead> Body<'_, R> {
    /// Passes over up to `max` bytes of the body without copying them
    /// (they are consumed from the reader's buffer); how many, 0 at the
    /// end of the body.
    pub fn skip_some(&mut self, max: usize) -> io::Result<usize> {
        if self.done || max == 0 {
            return Ok(0);
        }
        if self.framing == Framing::Chunked {
            while self.left == 0 {
                self.next_chunk()?;
                if self.done {
                    return Ok(0);
                }
            }
        }
        let want = match self.framing {
            Framing::UntilClose => max,
            _ => max.min(usize::try_from(self.left).unwrap_or(usize::MAX)),
        };
        let n = self.r.fill_buf()?.len().min(want);
        if n == 0 {
            return match self.framing {
                Framing::UntilClose => {
                    self.done = true;
                    Ok(0)
                }
                Framing::Chunked => Err(short_chunked()),
                Framing::Length(_) => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the connection closed with {} body bytes still to come",
                        self.left
                    ),
                )),
            };
        }
        self.r.consume(n);
        if self.framing != Framing::UntilClose {
            self.left -= n as u64;
            match self.framing {
                Framing::Length(_) => self.done = self.left == 0,
                _ if self.left == 0 => self.end_chunk()?,
                _ => {}
            }
        }
        Ok(n)
    }
}

/// At most `n` characters of `s`, for messages.
pub(crate) fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    fn head(text: &str) -> io::Result<Option<Head>> {
        read_head(&mut BufReader::new(Cursor::new(text.as_bytes().to_vec())))
    }

    fn body(text: &str, framing: Framing) -> io::Result<Vec<u8>> {
        // A 3-byte buffer, so lines and chunks straddle refills.
        let mut r = BufReader::with_capacity(3, Cursor::new(text.as_bytes().to_vec()));
        let mut out = Vec::new();
        Body::new(&mut r, framing).read_to_end(&mut out)?;
        Ok(out)
    }

    /// The body read with `skip_some` over every stretch `skip` says and
    /// `read` over the others, alternating stretches of `step` bytes.
    fn body_skipping(text: &str, framing: Framing, step: usize) -> io::Result<Vec<u8>> {
        let mut r = BufReader::with_capacity(3, Cursor::new(text.as_bytes().to_vec()));
        let mut body = Body::new(&mut r, framing);
        let mut out = Vec::new();
        for k in 0.. {
            let mut left = step;
            while left > 0 {
                let n = if k % 2 == 1 {
                    body.skip_some(left)?
                } else {
                    let mut buf = vec![0u8; left];
                    let n = body.read(&mut buf)?;
                    out.extend_from_slice(&buf[..n]);
                    n
                };
                if n == 0 {
                    return Ok(out);
                }
                left -= n;
            }
        }
        unreachable!()
    }

    #[test]
    fn skipping_passes_over_body_bytes_in_every_framing() {
        // "0123456789" in three framings; every other stretch of 2 kept.
        let chunked = "3\r\n012\r\n1\r\n3\r\n6\r\n456789\r\n0\r\n\r\n";
        for (text, framing) in [
            ("0123456789", Framing::Length(10)),
            ("0123456789", Framing::UntilClose),
            (chunked, Framing::Chunked),
        ] {
            let got = body_skipping(text, framing, 2).unwrap();
            assert_eq!(got, b"014589", "{framing:?}");
        }
        // A body that ends early is an error, skipped or read.
        assert!(body_skipping("01234", Framing::Length(10), 2).is_err());
        assert!(body_skipping("3\r\n012\r\n5\r\n34", Framing::Chunked, 2).is_err());
    }

    #[test]
    fn reads_status_and_headers() {
        let h = head(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/100\r\n\
             content-length:10\r\nConnection: keep-alive, Close\r\n\r\nbody",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (h.status, h.minor, h.status_line().as_str()),
            (206, 1, "206 Partial Content")
        );
        assert_eq!(h.header("Content-Length"), Some("10"));
        assert_eq!(h.framing().unwrap(), Framing::Length(10));
        assert!(!h.keep_alive());
        assert!(head("").unwrap().is_none());
        for bad in [
            "SPDY/3 200 OK\r\n\r\n",
            "HTTP/1.1 2000 OK\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            "HTTP/1.1 200 OK\r\nA: b\r\n",
        ] {
            assert!(head(bad).is_err(), "{bad:?}");
        }
        let long = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "y".repeat(MAX_HEAD));
        assert!(head(&long).is_err());
    }

    #[test]
    fn framings() {
        let h = |extra: &str| {
            head(&format!("HTTP/1.1 200 OK\r\n{extra}\r\n"))
                .unwrap()
                .unwrap()
        };
        assert_eq!(
            h("Transfer-Encoding: gzip, chunked\r\n").framing().unwrap(),
            Framing::Chunked
        );
        assert!(h("Transfer-Encoding: gzip\r\n").framing().is_err());
        assert!(h("Content-Length: 5\r\nContent-Length: 6\r\n")
            .framing()
            .is_err());
        assert!(h("Content-Length: -5\r\n").framing().is_err());
        assert_eq!(h("").framing().unwrap(), Framing::UntilClose);
        let h10 = head("HTTP/1.0 200 OK\r\n\r\n").unwrap().unwrap();
        assert!(!h10.keep_alive());
    }

    #[test]
    fn reads_bodies() {
        assert_eq!(body("hello world", Framing::Length(5)).unwrap(), b"hello");
        assert!(body("hel", Framing::Length(5)).is_err());
        assert_eq!(
            body("all of it", Framing::UntilClose).unwrap(),
            b"all of it"
        );
        let chunked =
            "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\nworld12345\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        assert_eq!(
            body(chunked, Framing::Chunked).unwrap(),
            b"hello world12345"
        );
        for bad in [
            "5\r\nhel",
            "5\r\nhelloXX\r\n0\r\n\r\n",
            "zz\r\n",
            "5\r\nhello\r\n",
        ] {
            assert!(body(bad, Framing::Chunked).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn content_ranges() {
        let cr = |v| parse_content_range(v);
        assert_eq!(
            cr("bytes 0-9/100"),
            Some(ContentRange {
                range: Some((0, 9)),
                complete: Some(100)
            })
        );
        assert_eq!(
            cr("bytes */42"),
            Some(ContentRange {
                range: None,
                complete: Some(42)
            })
        );
        assert_eq!(
            cr("bytes 5-5/*"),
            Some(ContentRange {
                range: Some((5, 5)),
                complete: None
            })
        );
        for bad in [
            "bytes 9-0/100",
            "items 0-1/2",
            "bytes 0-1",
            "bytes a-b/3",
            "bytes 0-1/x",
        ] {
            assert_eq!(cr(bad), None, "{bad}");
        }
    }
}
