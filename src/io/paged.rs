//! A file read range by range, as the parsers see it: [`PagedFile`]
//! implements [`Pages`] over any [`ReadAt`] source.
//!
//! Metadata (object headers, B-tree nodes, heaps) is fetched in aligned
//! blocks and kept for as long as the file is open, so that parsed
//! structures can borrow from it as they borrow from a memory map; it is a
//! small part of any file (the chunk index of a 50 GB matrix is a few MB)
//! and [`crate::Limits::max_metadata_cache`] bounds it. Bulk data (chunks,
//! contiguous storage) is read straight into the caller's buffer and not
//! kept, so it never evicts or inflates the metadata.
//!
//! Over a remote source ([`ReadAt::prefers_batches`]), a read that knows
//! the data it needs announces it first ([`Pages::prefetch`]): the ranges
//! are fetched with one [`ReadAt::read_ranges`] call, which merges
//! neighbours and fetches independent ones concurrently, and held (at most
//! [`MAX_STAGED`] bytes) until the reads take them, each byte once.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::format::Pages;
use crate::io::source::ReadAt;

/// Default metadata block: large enough that a typical object header, B-tree
/// node or heap is one fetch, small enough that scattered metadata does not
/// pull in much else.
pub const DEFAULT_BLOCK: usize = 64 * 1024;

/// Metadata block for remote sources ([`ReadAt::prefers_batches`]): a
/// request costs a round trip whatever its size, but metadata far from the
/// start of a file (the headers and chunk-index nodes of a dataset written
/// after its data) is a few KiB each, and 64 KiB blocks would fetch mostly
/// data. The start of a file comes in one larger first request (an HTTP
/// source's probe).
pub const REMOTE_BLOCK: usize = 16 * 1024;

/// The metadata block [`crate::File::open_source`] uses for `src`:
/// [`REMOTE_BLOCK`] for remote sources, [`DEFAULT_BLOCK`] otherwise.
///
/// ```
/// use h5sparse::io::paged::{block_for, DEFAULT_BLOCK};
/// assert_eq!(block_for(&vec![0u8; 10]), DEFAULT_BLOCK);
/// ```
pub fn block_for(src: &dyn ReadAt) -> usize {
    if src.prefers_batches() {
        REMOTE_BLOCK
    } else {
        DEFAULT_BLOCK
    }
}

/// How many bytes of announced data a [`PagedFile`] holds at most; readers
/// announce at most [`PREFETCH_WINDOW`] at a time, so this only bounds
/// announcements that are never read.
pub const MAX_STAGED: u64 = 4 * PREFETCH_WINDOW;

/// How many bytes of data readers announce at once: large reads fetch in
/// windows of this size, so what is held stays bounded while each window is
/// still many concurrent requests.
pub const PREFETCH_WINDOW: u64 = 64 << 20;

/// A fetched run of announced data, and how many announced bytes of it
/// are still to be read.
struct Part {
    bytes: Vec<u8>,
    left: u64,
    seq: u64,
}

/// Announced data fetched ahead of its reads, by start position.
#[derive(Default)]
struct Staged {
    parts: BTreeMap<u64, Part>,
    bytes: u64,
    seq: u64,
}

impl Staged {
    /// The start of the part holding all of `pos..end`.
    fn holding(&self, pos: u64, end: u64) -> Option<u64> {
        let (&start, part) = self.parts.range(..=pos).next_back()?;
        (end <= start + part.bytes.len() as u64).then_some(start)
    }

    /// `n` announced bytes of the part at `start` were read; the part goes
    /// once all were.
    fn used(&mut self, start: u64, n: u64) {
        if let Some(part) = self.parts.get_mut(&start) {
            part.left = part.left.saturating_sub(n);
            if part.left == 0 {
                self.remove(start);
            }
        }
    }

    fn remove(&mut self, start: u64) -> Option<Part> {
        let part = self.parts.remove(&start)?;
        self.bytes -= part.bytes.len() as u64;
        Some(part)
    }

    /// Makes room for `n` more bytes, dropping the oldest parts.
    fn make_room(&mut self, n: u64, max: u64) {
        while self.bytes + n > max {
            let Some(oldest) = self
                .parts
                .iter()
                .min_by_key(|(_, p)| p.seq)
                .map(|(&s, _)| s)
            else {
                break;
            };
            self.remove(oldest);
        }
    }
}

/// Metadata kept: aligned blocks, and exact copies of the (rare) requests
/// that span several blocks.
#[derive(Default)]
struct Kept {
    blocks: HashMap<u64, Box<[u8]>>,
    spans: HashMap<(u64, usize), Box<[u8]>>,
    bytes: u64,
}

/// A file read through a [`ReadAt`] source (see the module docs).
pub struct PagedFile {
    src: Box<dyn ReadAt>,
    len: u64,
    block: usize,
    max_kept: u64,
    kept: Mutex<Kept>,
    batches: bool,
    staged: Mutex<Staged>,
}

impl std::fmt::Debug for PagedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagedFile")
            .field("source", &self.src.describe())
            .field("len", &self.len)
            .field("block", &self.block)
            .finish()
    }
}

impl PagedFile {
    /// A paged view of `src`, fetching metadata in blocks of `block` bytes
    /// and keeping at most `max_kept` bytes of it.
    pub fn new(src: Box<dyn ReadAt>, block: usize, max_kept: u64) -> Result<PagedFile> {
        let len = src.len();
        let batches = src.prefers_batches();
        Ok(PagedFile {
            src,
            len,
            block: block.max(1),
            max_kept,
            kept: Mutex::new(Kept::default()),
            batches,
            staged: Mutex::new(Staged::default()),
        })
    }

    /// Bytes of announced data fetched and not read yet.
    pub fn staged_bytes(&self) -> u64 {
        self.staged.lock().map_or(0, |s| s.bytes)
    }

    /// Copies `buf.len()` bytes at `pos` out of the announced data, when
    /// one fetched part holds them all.
    fn copy_staged(&self, pos: u64, buf: &mut [u8]) -> bool {
        let Ok(mut st) = self.staged.lock() else {
            return false;
        };
        let end = pos + buf.len() as u64;
        let Some(start) = st.holding(pos, end) else {
            return false;
        };
        let from = (pos - start) as usize;
        buf.copy_from_slice(&st.parts[&start].bytes[from..from + buf.len()]);
        st.used(start, buf.len() as u64);
        true
    }

    /// The announced part that is exactly `pos..pos + len` and has nothing
    /// else left to read, taken whole (no copy).
    fn take_staged(&self, pos: u64, len: usize) -> Option<Vec<u8>> {
        let mut st = self.staged.lock().ok()?;
        let part = st.parts.get(&pos)?;
        if part.bytes.len() != len || part.left > len as u64 {
            return None;
        }
        st.remove(pos).map(|p| p.bytes)
    }

    /// The source's name, for messages.
    pub fn describe(&self) -> String {
        self.src.describe()
    }

    /// Reads `buf.len()` bytes at `pos` from the source (not kept).
    pub fn read_at(&self, pos: u64, buf: &mut [u8]) -> Result<()> {
        self.src.read_at(pos, buf)
    }

    /// Bytes of metadata kept so far.
    pub fn kept_bytes(&self) -> u64 {
        self.kept.lock().map_or(0, |k| k.bytes)
    }

    fn fetch(&self, pos: u64, len: usize) -> Result<Box<[u8]>> {
        let mut buf = crate::buf::try_with_capacity(len, "metadata block")?;
        buf.resize(len, 0);
        self.src.read_at(pos, &mut buf)?;
        Ok(buf.into_boxed_slice())
    }

    fn keep(&self, kept: &mut Kept, n: usize) -> Result<()> {
        kept.bytes = kept.bytes.saturating_add(n as u64);
        if kept.bytes > self.max_kept {
            return Err(Error::invalid(format!(
                "{}: more than {} bytes of metadata read (Limits::max_metadata_cache)",
                self.src.describe(),
                self.max_kept
            )));
        }
        Ok(())
    }
}

impl Pages for PagedFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn pinned(&self, pos: u64, len: usize) -> Result<&[u8]> {
        let end = pos
            .checked_add(len as u64)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| {
                Error::format(
                    pos,
                    format!(
                        "{len} bytes from here run past the end of the file ({} bytes)",
                        self.len
                    ),
                )
            })?;
        let block = self.block as u64;
        let first = pos / block;
        let last = end.saturating_sub(1) / block;
        let mut kept = self
            .kept
            .lock()
            .map_err(|_| Error::invalid("metadata cache lock poisoned"))?;
        let bytes: &[u8] = if first == last || len == 0 {
            if !kept.blocks.contains_key(&first) {
                let start = first * block;
                let n = (self.len - start).min(block) as usize;
                let b = self.fetch(start, n)?;
                self.keep(&mut kept, n)?;
                kept.blocks.insert(first, b);
            }
            let b = &kept.blocks[&first];
            &b[(pos - first * block) as usize..]
        } else {
            if !kept.spans.contains_key(&(pos, len)) {
                let b = self.fetch(pos, len)?;
                self.keep(&mut kept, len)?;
                kept.spans.insert((pos, len), b);
            }
            &kept.spans[&(pos, len)]
        };
        // SAFETY: the bytes live in a `Box<[u8]>` that is never removed,
        // replaced or mutated while `self` lives (entries are only ever
        // inserted under keys that were absent), so the heap allocation
        // outlives the lock guard and stays valid for `&self`'s lifetime;
        // moving the box inside the map when it grows does not move the
        // bytes it points to.
        Ok(unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) })
    }

    fn copy(&self, pos: u64, len: usize) -> Result<Vec<u8>> {
        if pos.checked_add(len as u64).is_none_or(|e| e > self.len) {
            return Err(Error::format(
                pos,
                format!(
                    "{len} bytes from here run past the end of the file ({} bytes)",
                    self.len
                ),
            ));
        }
        if !self.batches {
            let mut buf = crate::buf::try_zeroed_vec(len, "data read")?;
            self.src.read_at(pos, &mut buf)?;
            return Ok(buf);
        }
        if let Some(bytes) = self.take_staged(pos, len) {
            return Ok(bytes);
        }
        let mut buf = crate::buf::try_zeroed_vec(len, "data read")?;
        if !self.copy_staged(pos, &mut buf) {
            self.src.read_at(pos, &mut buf)?;
        }
        Ok(buf)
    }

    fn read_into(&self, pos: u64, buf: &mut [u8]) -> Result<()> {
        if self.batches && self.copy_staged(pos, buf) {
            return Ok(());
        }
        self.src.read_at(pos, buf)
    }

    fn read_many_into(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        if !self.batches {
            return self.src.read_at_many(reads);
        }
        // What announced reads already fetched is copied; the rest goes to
        // the source in one planned call, straight into the buffers.
        let mut rest: Vec<(u64, &mut [u8])> = Vec::with_capacity(reads.len());
        for (pos, buf) in reads.iter_mut() {
            if !self.copy_staged(*pos, buf) {
                rest.push((*pos, &mut **buf));
            }
        }
        if rest.is_empty() {
            return Ok(());
        }
        self.src.read_at_many(&mut rest)
    }

    fn wants_prefetch(&self) -> bool {
        self.batches
    }

    fn prefetch(&self, ranges: &[(u64, u64)]) {
        if !self.batches {
            return;
        }
        // Ranges in the file and not fetched already, sorted.
        let mut want: Vec<Range<u64>> = {
            let Ok(st) = self.staged.lock() else {
                return;
            };
            ranges
                .iter()
                .filter_map(|&(pos, n)| Some(pos..pos.checked_add(n)?))
                .filter(|r| r.end > r.start && r.end <= self.len)
                .filter(|r| st.holding(r.start, r.end).is_none())
                .collect()
        };
        // One range is read as well straight into its place (a remote
        // source cuts a long read into concurrent parts itself).
        if want.len() <= 1 {
            return;
        }
        want.sort_unstable_by_key(|r| r.start);
        // Overlapping and touching ranges merged (the source merges across
        // gaps itself), with the bytes announced in each, up to the bound.
        let mut merged: Vec<(Range<u64>, u64)> = Vec::new();
        let mut total = 0u64;
        for r in want {
            let n = r.end - r.start;
            match merged.last_mut() {
                Some((m, left)) if r.start <= m.end => {
                    total += r.end.saturating_sub(m.end);
                    m.end = m.end.max(r.end);
                    *left += n;
                }
                _ => {
                    total += n;
                    merged.push((r, n));
                }
            }
            if total > MAX_STAGED {
                merged.pop();
                break;
            }
        }
        if merged.is_empty() {
            return;
        }
        let asked: Vec<Range<u64>> = merged.iter().map(|(r, _)| r.clone()).collect();
        // A failure is left to the reads, which try again and report it.
        let Ok(fetched) = self.src.read_ranges(&asked) else {
            return;
        };
        let Ok(mut st) = self.staged.lock() else {
            return;
        };
        for ((r, left), bytes) in merged.into_iter().zip(fetched) {
            if bytes.len() as u64 != r.end - r.start {
                continue;
            }
            st.make_room(bytes.len() as u64, MAX_STAGED);
            st.seq += 1;
            let seq = st.seq;
            st.bytes += bytes.len() as u64;
            if let Some(old) = st.parts.insert(r.start, Part { bytes, left, seq }) {
                st.bytes -= old.bytes.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::source::Counting;
    use std::sync::Arc;

    fn file(batches: bool) -> (PagedFile, Arc<Counting<Vec<u8>>>, Vec<u8>) {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let src = Arc::new(Counting::new(bytes.clone()).prefer_batches(batches));
        let paged = PagedFile::new(Box::new(src.clone()), 4096, 1 << 20).unwrap();
        (paged, src, bytes)
    }

    #[test]
    fn announced_ranges_come_from_one_planned_read_each_byte_once() {
        let (p, src, bytes) = file(true);
        let ranges = [
            (1000u64, 500u64),
            (200_000, 3000),
            (1500, 100),
            (250_000, 10),
        ];
        p.prefetch(&ranges);
        let st = src.stats();
        assert_eq!((st.range_calls, st.reads), (1, 0));
        // 1000..1500 and 1500..1600 touch: one range of 600 bytes.
        assert_eq!((st.ranges, st.bytes), (3, 600 + 3000 + 10));
        // Announcing them again fetches nothing more.
        p.prefetch(&ranges);
        assert_eq!(src.stats().range_calls, 1);
        for &(pos, n) in ranges.iter().rev() {
            let mut buf = vec![0u8; n as usize];
            p.read_into(pos, &mut buf).unwrap();
            assert_eq!(buf, bytes[pos as usize..(pos + n) as usize]);
        }
        assert_eq!(
            src.stats().reads,
            0,
            "every read served from the fetched ranges"
        );
        assert_eq!(p.staged_bytes(), 0, "nothing held once all was read");
        assert_eq!(p.kept_bytes(), 0, "data never enters the metadata blocks");
        // A whole announced range is handed over without a copy; a read
        // nobody announced goes to the source.
        p.prefetch(&[(5000, 64), (9000, 64)]);
        assert_eq!(p.copy(5000, 64).unwrap(), bytes[5000..5064]);
        assert_eq!(p.copy(9001, 10).unwrap(), bytes[9001..9011]);
        assert_eq!(p.copy(20_000, 10).unwrap(), bytes[20_000..20_010]);
        assert_eq!(src.stats().reads, 1);
    }

    #[test]
    fn held_data_stays_bounded_and_local_sources_are_not_asked() {
        let (p, src, _) = file(true);
        // Out of the file, empty, or a single range: nothing fetched ahead.
        p.prefetch(&[(299_990, 20), (10, 0)]);
        p.prefetch(&[(10, 20)]);
        assert_eq!(src.stats().range_calls, 0);
        let (p, src, bytes) = file(false);
        p.prefetch(&[(0, 100), (1000, 100)]);
        assert_eq!(src.stats().range_calls, 0);
        let mut buf = vec![0u8; 100];
        p.read_into(1000, &mut buf).unwrap();
        assert_eq!(buf, bytes[1000..1100]);
        let mut st = Staged::default();
        for (i, n) in [10u64, 20, 30].into_iter().enumerate() {
            st.make_room(n, 45);
            st.seq += 1;
            st.bytes += n;
            let part = Part {
                bytes: vec![0; n as usize],
                left: n,
                seq: st.seq,
            };
            st.parts.insert(i as u64 * 100, part);
        }
        // The oldest parts went to make room for the last.
        assert_eq!(st.parts.keys().copied().collect::<Vec<_>>(), [200]);
        assert_eq!(st.bytes, 30);
        assert_eq!(st.holding(205, 230), Some(200));
        assert_eq!(st.holding(205, 231), None);
    }
}
