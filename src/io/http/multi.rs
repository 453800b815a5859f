//! Multi-range requests: many byte ranges in one request
//! (`Range: bytes=a-b,c-d,...`), answered `206 Partial Content` with a
//! `multipart/byteranges` body (RFC 9110 section 14.6, RFC 2046): one part
//! per range, each with its own `Content-Range`, in the server's order, and
//! possibly several asked ranges coalesced into one part.
//!
//! [`split`] decides which planned requests are better served this way
//! (many small ranges far apart: the gaps a merged request would fetch
//! cost more than the parts' headers and the extra requests), and
//! [`Client::get_multi`] makes one such request. A server that answers
//! anything but a multipart `206` (`200` with the whole file, a single
//! part, a refusal) is left at once, without reading its body, and the
//! ranges are fetched the ordinary way.

use std::io::{self, BufReader, Read};
use std::ops::Range;
use std::time::Duration;

use super::client::{context, io_error, Client, Expect, Failure};
use super::response::{self, Body};
use super::url::Url;
use crate::error::Result;
use crate::io::source::plan;

/// The longest `Range` header value sent (`bytes=` and the list): nginx's
/// default buffer for a request header line is 8 KiB, and other servers
/// accept about as much.
pub(crate) const MAX_RANGE_HEADER: usize = 7000;

/// Bytes a part costs besides its data: the boundary line and the part's
/// `Content-Type` and `Content-Range` headers.
const PART_OVERHEAD: u64 = 100;

/// What a part is taken to cost in time (the server finding and framing
/// it, the client parsing it) until multi-range answers were timed: about
/// what nginx on loopback was measured at (50,000 parts in 0.38 s).
const PART_TIME_PRIOR: Duration = Duration::from_micros(5);

/// How fast bytes are taken to arrive until ranged answers were timed
/// (a fair wide-area link).
const THROUGHPUT_PRIOR: f64 = 100e6;

/// Batches shorter than this say little about throughput (their time is
/// mostly the round trip) and are not counted.
const MIN_TIMED_BYTES: u64 = 1 << 20;

/// What requests to one server were seen to cost, for deciding between a
/// merged request (which fetches the gaps) and a multi-range one (which
/// costs the server and the client some work per part). On a slow link
/// the gaps dominate and multi-range wins; on a fast one (a LAN, loopback)
/// fetching a few KiB of gap costs less than a part, and merging wins.
#[derive(Debug, Clone, Default)]
pub(crate) struct Link {
    /// Bytes per second of batches of ordinary requests (moving average).
    throughput: Option<f64>,
    /// Time per part of batches of multi-range requests (moving average).
    part_time: Option<f64>,
}

/// A moving average giving each new sample a quarter of the weight.
fn average(old: Option<f64>, new: f64) -> Option<f64> {
    Some(old.map_or(new, |o| 0.75 * o + 0.25 * new))
}

impl Link {
    /// A batch of ordinary requests brought `bytes` in `took`, from the
    /// first request to the last byte.
    pub(crate) fn saw_bytes(&mut self, bytes: u64, took: Duration) {
        let secs = took.as_secs_f64();
        if bytes >= MIN_TIMED_BYTES && secs > 0.0 {
            self.throughput = average(self.throughput, bytes as f64 / secs);
        }
    }

    /// A batch of multi-range requests of `parts` parts in all took
    /// `took`.
    pub(crate) fn saw_parts(&mut self, parts: usize, took: Duration) {
        if parts > 0 {
            self.part_time = average(self.part_time, took.as_secs_f64() / parts as f64);
        }
    }

    /// What one part costs, in bytes of transfer: its headers plus its
    /// time at the link's throughput.
    pub(crate) fn part_cost(&self) -> u64 {
        let time = self.part_time.unwrap_or(PART_TIME_PRIOR.as_secs_f64());
        let rate = self.throughput.unwrap_or(THROUGHPUT_PRIOR);
        // Bounded: a wild sample must not turn multi-range off for good.
        PART_OVERHEAD + ((time * rate) as u64).min(1 << 20)
    }
}

/// At most this many bytes in a line of the multipart body outside the
/// data (a boundary, a part header).
const MAX_LINE: usize = 4 << 10;

/// At most this many header lines in a part, and lines of preamble.
const MAX_PART_LINES: usize = 32;

/// At most this many bytes after the closing boundary are read (and
/// dropped) so the connection can serve again; more and it is closed.
const MAX_EPILOGUE: u64 = 64 << 10;

/// Where the bytes of one range go: `(offset, buffer)` pieces, which may
/// overlap each other (the caller's ranges may).
pub(crate) type Targets<'b> = Vec<(u64, &'b mut [u8])>;

/// How a multi-range request ended.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Every range was received.
    Done,
    /// The server does not serve multi-range requests (why, for
    /// messages): fetch these ranges the ordinary way.
    Fallback(String),
}

/// The length of `a-b,` in a `Range` header.
fn spec_len(r: &Range<u64>) -> usize {
    let digits = |n: u64| n.checked_ilog10().unwrap_or(0) as usize + 1;
    digits(r.start) + digits(r.end - 1) + 2
}

/// Splits the planned requests `parts` (made by [`plan::plan`] for
/// `ranges`) into those fetched whole and groups of ranges fetched by
/// multi-range requests. A part goes to the multi-range requests when its
/// wanted bytes (`ranges` within it, touching ones joined), their parts'
/// cost and the requests they take (at least one), each costing
/// `request_cost` bytes (the merge gap: what a request is worth in bytes),
/// come to less than the part and its request. A part costs `part_cost`
/// bytes besides its data ([`Link::part_cost`]). Each group fits a `Range`
/// header and carries at most `max_payload` bytes, so several run at once.
pub(crate) fn split(
    ranges: &[Range<u64>],
    parts: Vec<Range<u64>>,
    request_cost: u64,
    part_cost: u64,
    max_payload: u64,
) -> (Vec<Range<u64>>, Vec<Vec<Range<u64>>>) {
    let spans = plan::merge(ranges, 0);
    let budget = MAX_RANGE_HEADER - "bytes=".len();
    let mut whole = Vec::new();
    let mut sparse: Vec<Range<u64>> = Vec::new();
    let mut s = 0usize;
    for p in parts {
        // The spans within `p`, clipped to it (a span longer than a part
        // was cut with it).
        while s < spans.len() && spans[s].end <= p.start {
            s += 1;
        }
        let mut inside = Vec::new();
        let mut k = s;
        while k < spans.len() && spans[k].start < p.end {
            inside.push(spans[k].start.max(p.start)..spans[k].end.min(p.end));
            k += 1;
        }
        if inside.len() < 2 {
            whole.push(p);
            continue;
        }
        let data: u64 = inside.iter().map(|r| r.end - r.start).sum();
        let header: usize = inside.iter().map(spec_len).sum();
        let requests = header.div_ceil(budget) as u64;
        let multi = data
            .saturating_add(part_cost.saturating_mul(inside.len() as u64))
            .saturating_add(requests.saturating_mul(request_cost));
        let single = (p.end - p.start).saturating_add(request_cost);
        if multi < single {
            sparse.extend(inside);
        } else {
            whole.push(p);
        }
    }
    let mut groups: Vec<Vec<Range<u64>>> = Vec::new();
    let (mut header, mut payload) = (0usize, 0u64);
    for r in sparse {
        let n = r.end - r.start;
        let h = spec_len(&r);
        match groups.last_mut() {
            Some(g) if header + h <= budget && payload + n <= max_payload => {
                g.push(r);
                header += h;
                payload += n;
            }
            _ => {
                groups.push(vec![r]);
                (header, payload) = (h, n);
            }
        }
    }
    // A group of one range is an ordinary request.
    let (ones, groups): (Vec<_>, Vec<_>) = groups.into_iter().partition(|g| g.len() < 2);
    whole.extend(ones.into_iter().flatten());
    whole.sort_unstable_by_key(|r| r.start);
    (whole, groups)
}

/// The `boundary` parameter of a `multipart/byteranges` content type.
fn boundary_of(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    let kind = params.next()?.trim();
    if !kind.eq_ignore_ascii_case("multipart/byteranges") {
        return None;
    }
    params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        (!value.is_empty() && value.len() <= 70).then(|| value.to_string())
    })
}

/// A line of the multipart body (without its line end), as text.
fn line<R: io::BufRead>(r: &mut R) -> io::Result<String> {
    let line = response::read_line(r, MAX_LINE)?.ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the multipart body ended early",
        )
    })?;
    Ok(String::from_utf8_lossy(&line).into_owned())
}

impl Client {
    /// Fetches `units` (sorted, disjoint, at least two) with one
    /// multi-range request and fills their targets; `scratch` holds a
    /// unit's bytes when they go to more than one target. Each part's
    /// `Content-Range` must start where an asked range starts and end where
    /// one ends (a server may join neighbours into one part; the bytes
    /// between them are dropped), every range must come, and the body must
    /// be well-formed: otherwise an error naming the URL and the ranges.
    pub(crate) fn get_multi(
        &self,
        url: &Url,
        expect: &Expect,
        units: &mut [(Range<u64>, Targets<'_>)],
        scratch: &mut Vec<u8>,
    ) -> Result<Answer> {
        let (Some(first), Some(last)) = (units.first(), units.last()) else {
            return Ok(Answer::Done);
        };
        let what = format!(
            "{} ranges within bytes {}-{}",
            units.len(),
            first.0.start,
            last.0.end - 1
        );
        let spec = units
            .iter()
            .map(|(r, _)| format!("{}-{}", r.start, r.end - 1))
            .collect::<Vec<_>>()
            .join(",");
        self.with_retries(|| {
            let (mut conn, head, at) = self.exchange(url, &spec, &what)?;
            let ctx = context(&at, &what);
            let fatal =
                |what: String| Failure::Fatal(io_error(io::ErrorKind::InvalidData, &ctx, what));
            match head.status {
                206 => {}
                408 | 429 | 500 | 502 | 503 | 504 => {
                    return Err(self.status_failure(&ctx, "206 Partial Content", conn, &head))
                }
                // The body (perhaps the whole file) is not read: the
                // connection closes when `conn` is dropped.
                _ => return Ok(Answer::Fallback(head.status_line())),
            }
            let Some(boundary) = head.header("content-type").and_then(boundary_of) else {
                return Ok(Answer::Fallback(
                    "a single range for a multi-range request".into(),
                ));
            };
            if let (Some(was), Some(now)) = (&expect.etag, head.header("etag")) {
                if was != now {
                    return Err(fatal(format!(
                        "the file changed while open: ETag was {was}, now {now}"
                    )));
                }
            }
            let framing = head.framing().map_err(|e| fatal(e.to_string()))?;
            let lost = |e: io::Error| {
                if e.kind() == io::ErrorKind::InvalidData {
                    fatal(e.to_string())
                } else {
                    Failure::Retry(io_error(e.kind(), &ctx, e))
                }
            };
            let malformed =
                |what: String| fatal(format!("malformed multipart/byteranges body: {what}"));
            let mut body = BufReader::with_capacity(16 << 10, Body::new(&mut conn.io, framing));
            let delimiter = format!("--{boundary}");
            let close = format!("{delimiter}--");
            // Preamble, up to the first boundary.
            let mut lines = 0;
            while line(&mut body).map_err(lost)?.trim_end() != delimiter {
                lines += 1;
                if lines > MAX_PART_LINES {
                    return Err(malformed(format!("no boundary line {delimiter:?}")));
                }
            }
            let mut covered = vec![false; units.len()];
            loop {
                let mut range = None;
                let mut lines = 0;
                loop {
                    let l = line(&mut body).map_err(lost)?;
                    if l.is_empty() {
                        break;
                    }
                    lines += 1;
                    if lines > MAX_PART_LINES {
                        return Err(malformed("a part with too many header lines".into()));
                    }
                    if let Some((name, value)) = l.split_once(':') {
                        if name.trim().eq_ignore_ascii_case("content-range") {
                            range = Some(value.trim().to_string());
                        }
                    }
                }
                let Some(cr) = range else {
                    return Err(malformed("a part without Content-Range".into()));
                };
                let (a, b) = match response::parse_content_range(&cr) {
                    Some(response::ContentRange {
                        range: Some(r),
                        complete,
                    }) if complete.is_none_or(|n| n == expect.len) => r,
                    _ => {
                        return Err(fatal(format!(
                            "a part's Content-Range is {cr:?}, expected bytes a-b/{}",
                            expect.len
                        )))
                    }
                };
                let i = units.binary_search_by_key(&a, |u| u.0.start);
                let j = units.binary_search_by_key(&(b + 1), |u| u.0.end);
                let (Ok(i), Ok(j)) = (i, j) else {
                    return Err(fatal(format!(
                        "the server sent a part of bytes {a}-{b}, which does not start and \
                         end where asked ranges do"
                    )));
                };
                if j < i {
                    return Err(fatal(format!("a part of bytes {a}-{b}")));
                }
                let mut pos = a;
                for (k, (r, targets)) in units[i..=j].iter_mut().enumerate() {
                    let gap = r.start - pos;
                    let skipped =
                        io::copy(&mut (&mut body).take(gap), &mut io::sink()).map_err(lost)?;
                    if skipped < gap {
                        return Err(lost(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the part of bytes {a}-{b} ended early"),
                        )));
                    }
                    let n = (r.end - r.start) as usize;
                    match &mut targets[..] {
                        [(at, whole)] if *at == r.start && whole.len() == n => {
                            body.read_exact(whole).map_err(lost)?;
                        }
                        _ => {
                            if scratch.len() < n {
                                scratch.clear();
                                crate::buf::try_reserve(scratch, n, "HTTP ranges")
                                    .map_err(Failure::Fatal)?;
                                scratch.resize(n, 0);
                            }
                            body.read_exact(&mut scratch[..n]).map_err(lost)?;
                            for (at, dst) in targets.iter_mut() {
                                let from = (*at - r.start) as usize;
                                dst.copy_from_slice(&scratch[from..from + dst.len()]);
                            }
                        }
                    }
                    self.received(gap + n as u64);
                    covered[i + k] = true;
                    pos = r.end;
                }
                if !line(&mut body).map_err(lost)?.is_empty() {
                    return Err(malformed(format!(
                        "the part of bytes {a}-{b} is longer than its Content-Range"
                    )));
                }
                let next = line(&mut body).map_err(lost)?;
                match next.trim_end() {
                    d if d == delimiter => {}
                    d if d == close => break,
                    other => {
                        return Err(malformed(format!(
                            "expected a boundary line after bytes {a}-{b}, got {:?}",
                            response::truncate(other, 80)
                        )))
                    }
                }
            }
            if let Some(k) = covered.iter().position(|c| !c) {
                let r = &units[k].0;
                return Err(fatal(format!(
                    "the server sent no part for bytes {}-{}",
                    r.start,
                    r.end - 1
                )));
            }
            // The epilogue, if any, so the connection can serve again.
            let rest = io::copy(&mut (&mut body).take(MAX_EPILOGUE + 1), &mut io::sink());
            let finished = rest.is_ok_and(|n| n <= MAX_EPILOGUE) && body.get_ref().finished();
            drop(body);
            if finished && head.keep_alive() {
                self.keep(conn);
            }
            Ok(Answer::Done)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_from_content_types() {
        let b = |t| boundary_of(t);
        assert_eq!(
            b("multipart/byteranges; boundary=00000000001").as_deref(),
            Some("00000000001")
        );
        assert_eq!(
            b("Multipart/ByteRanges;charset=x; BOUNDARY=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(b("application/octet-stream"), None);
        assert_eq!(b("multipart/byteranges"), None);
        assert_eq!(b("multipart/byteranges; boundary="), None);
    }

    #[test]
    fn sparse_parts_go_to_multi_range_groups_dense_ones_stay_whole() {
        // 300 ranges of 20 bytes, 4000 apart: merged into one part of 1.2 MB
        // with a 128 KiB gap; as multi-range requests, 6 KB of data.
        let sparse: Vec<Range<u64>> = (0..300u64).map(|i| i * 4000..i * 4000 + 20).collect();
        let parts = plan::plan(&sparse, 128 << 10, 8 << 20);
        assert_eq!(parts.len(), 1);
        let (whole, groups) = split(&sparse, parts, 128 << 10, PART_OVERHEAD, 1 << 20);
        assert!(whole.is_empty());
        let mut got: Vec<Range<u64>> = groups.iter().flatten().cloned().collect();
        got.sort_by_key(|r| r.start);
        assert_eq!(got, sparse);
        for g in &groups {
            let header: usize = g.iter().map(spec_len).sum();
            assert!(header + "bytes=".len() <= MAX_RANGE_HEADER && g.len() >= 2);
        }
        // Ranges close together: the merged request is cheaper.
        let dense: Vec<Range<u64>> = (0..300u64).map(|i| i * 120..i * 120 + 100).collect();
        let parts = plan::plan(&dense, 128 << 10, 8 << 20);
        let (whole, groups) = split(&dense, parts.clone(), 128 << 10, PART_OVERHEAD, 1 << 20);
        assert_eq!((whole, groups.len()), (parts, 0));
        // The payload bound makes several groups.
        let (_, groups) = split(
            &sparse,
            plan::plan(&sparse, 128 << 10, 8 << 20),
            128 << 10,
            PART_OVERHEAD,
            1000,
        );
        assert!(groups.len() >= 6, "{}", groups.len());
        assert!(groups.iter().all(|g| g.len() * 20 <= 1000));
    }

    #[test]
    fn a_fast_link_merges_what_a_slow_one_asks_for_in_parts() {
        // The same 300 ranges 4000 bytes apart.
        let sparse: Vec<Range<u64>> = (0..300u64).map(|i| i * 4000..i * 4000 + 20).collect();
        let split_on = |link: &Link| {
            let parts = plan::plan(&sparse, 128 << 10, 8 << 20);
            split(&sparse, parts, 128 << 10, link.part_cost(), 1 << 20)
        };
        // Nothing timed yet: the priors (5 us a part at 100 MB/s, 600 bytes).
        let mut link = Link::default();
        assert_eq!(link.part_cost(), PART_OVERHEAD + 500);
        assert!(split_on(&link).0.is_empty());
        // Short answers are not timed; 8 MiB in 4 ms is 2 GB/s.
        link.saw_bytes(1000, Duration::from_nanos(1));
        assert_eq!(link.part_cost(), PART_OVERHEAD + 500);
        link.saw_bytes(8 << 20, Duration::from_millis(4));
        // A part (5 us) now costs more than the 3980-byte gap beside it.
        assert!(link.part_cost() > 4000, "{}", link.part_cost());
        let (whole, groups) = split_on(&link);
        assert_eq!((whole.len(), groups.len()), (1, 0));
        // Parts timed at 0.5 us: multi-range again.
        for _ in 0..20 {
            link.saw_parts(1000, Duration::from_micros(500));
        }
        assert!(link.part_cost() < 2000, "{}", link.part_cost());
        assert!(split_on(&link).0.is_empty());
        // A slow link: parts cheap in bytes whatever their time.
        let mut slow = Link::default();
        slow.saw_bytes(8 << 20, Duration::from_secs(1));
        assert!(slow.part_cost() < 300, "{}", slow.part_cost());
    }
}
