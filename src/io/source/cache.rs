//! A block cache over any source: [`CachedSource`].
//!
//! HDF5 metadata is small and scattered (object headers, B-tree nodes,
//! heaps), read again and again while a file is walked; over a network each
//! read would be a round trip. The cache keeps fixed-size blocks aligned to
//! multiples of the block size, fetches the missing blocks of a read in as
//! few calls to the source as it can (neighbouring missing blocks merged into
//! one range, all of a read's ranges in one [`ReadAt::read_ranges`] call so a
//! remote source fetches them concurrently), and evicts the least recently
//! used blocks past its capacity. Large reads (chunk data) go straight to the
//! source, so bulk reads do not evict the metadata.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::sync::{Mutex, MutexGuard};

use super::ReadAt;
use crate::error::Result;

/// How a [`CachedSource`] caches: block size, capacity, which reads bypass
/// it.
///
/// ```
/// use h5sparse::io::source::CacheOptions;
///
/// let opts = CacheOptions::default()
///     .block_size(256 << 10)      // 256 KiB blocks, for a high-latency store
///     .capacity(128 << 20)        // at most 128 MiB of blocks
///     .bypass_at(4 << 20)         // reads of 4 MiB or more go straight to the source
///     .gap_blocks(2);             // refetch up to 2 cached blocks to merge two fetches
/// assert_eq!(opts.get_block_size(), 256 << 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheOptions {
    block_size: usize,
    capacity: usize,
    bypass_at: usize,
    gap_blocks: u64,
}

impl Default for CacheOptions {
    /// 64 KiB blocks, 32 MiB of them at most, reads of 1 MiB or more
    /// bypass the cache, one cached block refetched to save a request.
    fn default() -> Self {
        CacheOptions {
            block_size: 64 << 10,
            capacity: 32 << 20,
            bypass_at: 1 << 20,
            gap_blocks: 1,
        }
    }
}

impl CacheOptions {
    /// The size of a block in bytes (at least 1); blocks start at multiples
    /// of it.
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block_size = bytes.max(1);
        self
    }

    /// The most bytes of blocks kept; least recently used blocks are evicted
    /// past it. Below one block, nothing is kept.
    pub fn capacity(mut self, bytes: usize) -> Self {
        self.capacity = bytes;
        self
    }

    /// Reads of at least this many bytes go straight to the source, neither
    /// looked up nor kept.
    pub fn bypass_at(mut self, bytes: usize) -> Self {
        self.bypass_at = bytes;
        self
    }

    /// Two runs of missing blocks separated by at most this many cached
    /// blocks are fetched as one range (the cached blocks again): one
    /// request instead of two.
    pub fn gap_blocks(mut self, blocks: u64) -> Self {
        self.gap_blocks = blocks;
        self
    }

    /// The block size.
    pub fn get_block_size(&self) -> usize {
        self.block_size
    }

    /// The capacity in bytes.
    pub fn get_capacity(&self) -> usize {
        self.capacity
    }

    /// The bypass threshold in bytes.
    pub fn get_bypass_at(&self) -> usize {
        self.bypass_at
    }
}

/// Counters of a [`CachedSource`]: what was served from memory, what was
/// fetched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Blocks a read found in the cache (a read spanning 3 cached blocks
    /// counts 3).
    pub hits: u64,
    /// Blocks a read did not find, fetched from the source.
    pub misses: u64,
    /// Calls made to the source ([`ReadAt::read_at`] or
    /// [`ReadAt::read_ranges`]).
    pub source_calls: u64,
    /// Byte ranges asked of the source (merged runs of blocks and bypassing
    /// reads).
    pub fetched_ranges: u64,
    /// Bytes fetched from the source, bypassing reads included.
    pub fetched_bytes: u64,
    /// Reads that bypassed the cache.
    pub bypass_reads: u64,
    /// Bytes of reads that bypassed the cache.
    pub bypass_bytes: u64,
    /// Blocks evicted to stay within the capacity.
    pub evictions: u64,
    /// Bytes of blocks held now.
    pub resident_bytes: u64,
    /// Blocks held now.
    pub resident_blocks: u64,
    /// The most bytes of blocks held at any time.
    pub peak_resident_bytes: u64,
}

/// Any [`ReadAt`] source behind a thread-safe LRU cache of aligned blocks
/// (see the [module docs](self) and [`CacheOptions`]).
///
/// Zero-copy access passes through: [`as_bytes`](ReadAt::as_bytes) is the
/// inner source's. The lock is not held while the source is read, so two
/// threads missing the same block at once may both fetch it.
///
/// ```
/// use h5sparse::io::source::{CacheOptions, CachedSource, Piecewise, ReadAt};
///
/// let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
/// let source = CachedSource::with_options(Piecewise::new(&bytes, 7), CacheOptions::default().block_size(1024));
/// assert_eq!(source.read_vec(1000..1100)?, bytes[1000..1100]);  // blocks 0 and 1: one fetch
/// assert_eq!(source.read_vec(1050..1060)?, bytes[1050..1060]);  // block 1: cached
/// let stats = source.stats();
/// assert_eq!((stats.misses, stats.hits, stats.source_calls), (2, 1, 1));
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug)]
pub struct CachedSource<S> {
    inner: S,
    opts: CacheOptions,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Block index -> (bytes, last-use stamp).
    blocks: HashMap<u64, (Box<[u8]>, u64)>,
    /// Last-use stamp -> block index, oldest first.
    lru: BTreeMap<u64, u64>,
    clock: u64,
    stats: CacheStats,
}

impl State {
    fn get(&mut self, block: u64) -> Option<&[u8]> {
        self.clock += 1;
        let clock = self.clock;
        let (data, stamp) = self.blocks.get_mut(&block)?;
        self.lru.remove(stamp);
        *stamp = clock;
        self.lru.insert(clock, block);
        Some(data)
    }

    fn insert(&mut self, block: u64, data: &[u8], capacity: usize) {
        if data.len() > capacity {
            return;
        }
        if let Some((old, stamp)) = self.blocks.remove(&block) {
            self.lru.remove(&stamp);
            self.stats.resident_bytes -= <[u8]>::len(&old) as u64;
            self.stats.resident_blocks -= 1;
        }
        while self.stats.resident_bytes + data.len() as u64 > capacity as u64 {
            let Some((_, victim)) = self.lru.pop_first() else {
                break;
            };
            if let Some((old, _)) = self.blocks.remove(&victim) {
                self.stats.resident_bytes -= <[u8]>::len(&old) as u64;
                self.stats.resident_blocks -= 1;
                self.stats.evictions += 1;
            }
        }
        self.clock += 1;
        self.blocks.insert(block, (data.into(), self.clock));
        self.lru.insert(self.clock, block);
        self.stats.resident_bytes += data.len() as u64;
        self.stats.resident_blocks += 1;
        self.stats.peak_resident_bytes = self
            .stats
            .peak_resident_bytes
            .max(self.stats.resident_bytes);
    }
}

impl<S: ReadAt> CachedSource<S> {
    /// `inner` behind a cache with [`CacheOptions::default`].
    pub fn new(inner: S) -> CachedSource<S> {
        CachedSource::with_options(inner, CacheOptions::default())
    }

    /// `inner` behind a cache with `opts`.
    pub fn with_options(inner: S, opts: CacheOptions) -> CachedSource<S> {
        CachedSource {
            inner,
            opts,
            state: Mutex::new(State::default()),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }

    /// Sets the counters back to zero (what is resident stays, and so do
    /// the resident counts).
    pub fn reset_stats(&self) {
        let mut st = self.lock();
        let s = st.stats;
        st.stats = CacheStats {
            resident_bytes: s.resident_bytes,
            resident_blocks: s.resident_blocks,
            peak_resident_bytes: s.resident_bytes,
            ..CacheStats::default()
        };
    }

    /// Drops every cached block.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.blocks.clear();
        st.lru.clear();
        st.stats.resident_bytes = 0;
        st.stats.resident_blocks = 0;
    }

    /// The options in force.
    pub fn options(&self) -> CacheOptions {
        self.opts
    }

    /// The inner source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Loads the blocks of `range` that are not cached yet, in one call to
    /// the source (for example the first blocks of a file before its
    /// metadata is walked), whatever its size.
    pub fn prefetch(&self, range: Range<u64>) -> Result<()> {
        super::range_len(self, &range)?;
        if range.is_empty() {
            return Ok(());
        }
        let bs = self.opts.block_size as u64;
        let missing: BTreeSet<u64> = {
            let st = self.lock();
            (range.start / bs..=(range.end - 1) / bs)
                .filter(|b| !st.blocks.contains_key(b))
                .collect()
        };
        let runs = self.runs(&missing);
        let fetched = self.fetch(&runs, &mut [])?;
        self.keep(&runs, &fetched, missing.len() as u64);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves consistent blocks.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The byte range of block `b`.
    fn block_range(&self, b: u64) -> Range<u64> {
        let bs = self.opts.block_size as u64;
        let start = b.saturating_mul(bs);
        start..start.saturating_add(bs).min(self.inner.len())
    }

    /// The byte ranges that fetch the `missing` blocks: runs of neighbouring
    /// blocks, merged across at most `gap_blocks` cached ones.
    fn runs(&self, missing: &BTreeSet<u64>) -> Vec<Range<u64>> {
        let mut runs: Vec<Range<u64>> = Vec::new();
        for &b in missing {
            match runs.last_mut() {
                Some(last) if b <= last.end.saturating_add(self.opts.gap_blocks) => {
                    last.end = b + 1
                }
                _ => runs.push(b..b + 1),
            }
        }
        runs.iter()
            .map(|r| self.block_range(r.start).start..self.block_range(r.end - 1).end)
            .collect()
    }

    /// Fetches `runs` and the bypassing `direct` reads from the source in one
    /// call: `direct` buffers are filled, the runs' bytes returned.
    fn fetch(&self, runs: &[Range<u64>], direct: &mut [(u64, &mut [u8])]) -> Result<Vec<Vec<u8>>> {
        let mut ranges: Vec<Range<u64>> = runs.to_vec();
        ranges.extend(direct.iter().map(|(o, b)| *o..*o + b.len() as u64));
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        {
            let mut st = self.lock();
            st.stats.source_calls += 1;
            st.stats.fetched_ranges += ranges.len() as u64;
            st.stats.fetched_bytes += ranges.iter().map(|r| r.end - r.start).sum::<u64>();
        }
        if let ([], [(offset, buf)]) = (runs, &mut *direct) {
            self.inner.read_at(*offset, buf)?;
            return Ok(Vec::new());
        }
        if let ([run], []) = (runs, &*direct) {
            return Ok(vec![self.inner.read_vec(run.clone())?]);
        }
        let mut data = self.inner.read_ranges(&ranges)?;
        if data.len() != ranges.len()
            || data
                .iter()
                .zip(&ranges)
                .any(|(d, r)| d.len() as u64 != r.end - r.start)
        {
            return Err(crate::Error::Io(std::io::Error::other(format!(
                "{}: read_ranges returned other lengths than the {} ranges asked for",
                self.inner.describe(),
                ranges.len()
            ))));
        }
        for ((_, buf), bytes) in direct.iter_mut().zip(data.drain(runs.len()..)) {
            buf.copy_from_slice(&bytes);
        }
        Ok(data)
    }

    /// Keeps the blocks of the fetched runs.
    fn keep(&self, runs: &[Range<u64>], fetched: &[Vec<u8>], misses: u64) {
        let bs = self.opts.block_size as u64;
        let mut st = self.lock();
        st.stats.misses += misses;
        for (run, bytes) in runs.iter().zip(fetched) {
            for b in run.start / bs..run.end.div_ceil(bs) {
                let r = self.block_range(b);
                let (from, to) = ((r.start - run.start) as usize, (r.end - run.start) as usize);
                if let Some(block) = bytes.get(from..to) {
                    st.insert(b, block, self.opts.capacity);
                }
            }
        }
    }

    /// Fills every `(offset, buffer)` request, already checked against the
    /// source's length.
    fn fill(&self, requests: &mut [(u64, &mut [u8])]) -> Result<()> {
        let bs = self.opts.block_size as u64;
        let mut missing = BTreeSet::new();
        let (mut cached, mut direct): (Vec<_>, Vec<_>) = requests
            .iter_mut()
            .filter(|(_, buf)| !buf.is_empty())
            .map(|(o, b)| (*o, &mut **b))
            .partition(|(_, buf)| buf.len() < self.opts.bypass_at);
        {
            let mut st = self.lock();
            st.stats.bypass_reads += direct.len() as u64;
            st.stats.bypass_bytes += direct.iter().map(|(_, b)| b.len() as u64).sum::<u64>();
            for (offset, buf) in cached.iter_mut() {
                let end = *offset + buf.len() as u64;
                for b in *offset / bs..=(end - 1) / bs {
                    let r = self.block_range(b);
                    match st.get(b) {
                        Some(data) => {
                            copy_overlap(buf, *offset, data, r.start);
                            st.stats.hits += 1;
                        }
                        None => {
                            missing.insert(b);
                        }
                    }
                }
            }
        }
        let runs = self.runs(&missing);
        let fetched = self.fetch(&runs, &mut direct)?;
        for (offset, buf) in cached.iter_mut() {
            let end = *offset + buf.len() as u64;
            let first = runs.partition_point(|r| r.end <= *offset);
            for (run, bytes) in runs[first..].iter().zip(&fetched[first..]) {
                if run.start >= end {
                    break;
                }
                copy_overlap(buf, *offset, bytes, run.start);
            }
        }
        self.keep(&runs, &fetched, missing.len() as u64);
        Ok(())
    }
}

/// Copies the bytes that `src` (starting at offset `src_at`) and `dst`
/// (starting at `dst_at`) have in common.
fn copy_overlap(dst: &mut [u8], dst_at: u64, src: &[u8], src_at: u64) {
    let start = dst_at.max(src_at);
    let end = (dst_at + dst.len() as u64).min(src_at + src.len() as u64);
    if start < end {
        let n = (end - start) as usize;
        let (d, s) = ((start - dst_at) as usize, (start - src_at) as usize);
        dst[d..d + n].copy_from_slice(&src[s..s + n]);
    }
}

impl<S: ReadAt> ReadAt for CachedSource<S> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        super::check_range(self, offset, buf.len())?;
        self.fill(&mut [(offset, buf)])
    }

    fn read_at_many(&self, reads: &mut [(u64, &mut [u8])]) -> Result<()> {
        for (offset, buf) in reads.iter() {
            super::check_range(self, *offset, buf.len())?;
        }
        self.fill(reads)
    }

    fn read_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>> {
        super::ranges_in_one_call(self, ranges)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn prefers_batches(&self) -> bool {
        self.inner.prefers_batches()
    }

    fn as_bytes(&self) -> Option<&[u8]> {
        self.inner.as_bytes()
    }
}
