//! Gathering many ranges of a 1-D dataset in one pass: the primitive
//! behind sparse-matrix reads (`data`/`indices` ranges of selected rows).

use super::ahead::{copy_data, read_pieces_direct, Ahead};
use super::dataset::Storage;
use super::decode::to_native;
use super::{Dataset, H5Type};
use crate::error::{Error, Result};
use crate::format::chunk_index::ChunkRecord;
use crate::format::Address;
use crate::io::paged::PREFETCH_WINDOW;

impl<'f> Dataset<'f> {
    /// Gathers several ranges `(start, count)` of a 1-D dataset into one
    /// vector, in the order given. Chunks are found by binary search and each
    /// is decoded at most once per call (ranges are visited in file order),
    /// so many small ranges of a compressed dataset cost one pass.
    ///
    /// ```no_run
    /// let f = h5sparse::File::open("data.h5")?;
    /// let v = f.dataset("/X/data")?.read_runs::<f32>(&[(10, 3), (0, 2)])?;
    /// assert_eq!(v.len(), 5);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_runs<T: H5Type>(&self, runs: &[(u64, u64)]) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.read_runs_into(runs, &mut out)?;
        Ok(out)
    }

    /// [`Dataset::read_runs`] into `out`, replacing its contents and reusing
    /// its allocation when it is large enough: reading many blocks one after
    /// another through one vector touches no fresh memory (fresh pages cost
    /// a page fault each, and the allocator may return freed ones to the
    /// system between reads).
    pub fn read_runs_into<T: H5Type>(&self, runs: &[(u64, u64)], out: &mut Vec<T>) -> Result<()> {
        self.check_type::<T>()?;
        if self.info.dims.len() != 1 {
            return Err(Error::invalid(format!(
                "{} has rank {}, read_runs needs a 1-D dataset",
                self.path,
                self.info.dims.len()
            )));
        }
        let len = self.info.dims[0];
        let mut total = 0u64;
        for &(start, count) in runs {
            if start.checked_add(count).is_none_or(|e| e > len) {
                return Err(Error::invalid(format!(
                    "{}: range {start}+{count} is out of bounds for length {len}",
                    self.path
                )));
            }
            total += count;
        }
        let elem = self.info.elem;
        self.file
            .limits
            .check_alloc("dataset read", total.saturating_mul(elem as u64))?;
        self.check_storage_fits()?;
        if out.capacity() >= total as usize {
            out.clear();
            out.resize(total as usize, T::zeroed());
        } else {
            *out = crate::buf::try_zeroed_vec::<T>(total as usize, "dataset read")?;
        }
        {
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(out.as_mut_slice());
            // Output byte offset of each run, then visit runs in file order.
            let mut order: Vec<(u64, u64, usize)> = Vec::with_capacity(runs.len());
            let mut at = 0usize;
            for &(start, count) in runs {
                order.push((start, count, at));
                at += count as usize * elem;
            }
            order.sort_unstable_by_key(|r| r.0);
            self.gather(&order, bytes)?;
        }
        to_native(
            bytemuck::cast_slice_mut(out.as_mut_slice()),
            elem,
            self.order(),
        );
        Ok(())
    }

    /// The stored bytes (the dataset's own byte order) of `count` elements
    /// of a 1-D dataset from `start`, into `out` (exactly that long).
    pub(crate) fn read_range_raw(&self, start: u64, count: u64, out: &mut [u8]) -> Result<()> {
        let len = self.range_len()?;
        if start.checked_add(count).is_none_or(|e| e > len) {
            return Err(Error::invalid(format!(
                "{}: range {start}+{count} is out of bounds for length {len}",
                self.path
            )));
        }
        if count.checked_mul(self.info.elem as u64) != Some(out.len() as u64) {
            return Err(Error::invalid(format!(
                "{}: {count} elements of {} bytes do not fill {} bytes",
                self.path,
                self.info.elem,
                out.len()
            )));
        }
        self.check_storage_fits()?;
        self.gather(&[(start, count, 0)], out)
    }

    /// The length of a 1-D dataset (what range reads need).
    fn range_len(&self) -> Result<u64> {
        match self.info.dims[..] {
            [len] => Ok(len),
            _ => Err(Error::invalid(format!(
                "{} has rank {}, a range read needs a 1-D dataset",
                self.path,
                self.info.dims.len()
            ))),
        }
    }

    /// Copies runs `(start, count, out_offset)` sorted by start into `out`.
    pub(crate) fn gather(&self, runs: &[(u64, u64, usize)], out: &mut [u8]) -> Result<()> {
        let info = &self.info;
        let elem = info.elem;
        let view = self.file.view();
        match &info.storage {
            Storage::Unsupported(what) => Err(Error::unsupported(format!("{}: {what}", self.path))),
            Storage::Compact(data) => {
                for &(s, c, o) in runs {
                    let (a, n) = (s as usize * elem, c as usize * elem);
                    let src = data.get(a..a + n).ok_or_else(|| {
                        Error::format(
                            view.abs_u64(self.address),
                            "compact data shorter than the dataset",
                        )
                    })?;
                    out[o..o + n].copy_from_slice(src);
                }
                Ok(())
            }
            Storage::Contiguous { address, .. } => {
                if address.is_undefined() {
                    for &(_, c, o) in runs {
                        fill_bytes(&mut out[o..o + c as usize * elem], &info.fill);
                    }
                    return Ok(());
                }
                let at = |s: u64| Address(address.0.saturating_add(s * elem as u64));
                let direct: Vec<(Address, usize, usize)> = if view.bytes().is_none() {
                    runs.iter()
                        .map(|&(s, c, o)| (at(s), o, c as usize * elem))
                        .collect()
                } else {
                    Vec::new()
                };
                if read_pieces_direct(&view, out, &direct, "dataset range")? {
                    return Ok(());
                }
                let mut through = self.file.streaming_through();
                let mut ahead = Ahead::new(view, || {
                    runs.iter()
                        .map(|&(s, c, _)| (at(s), c * elem as u64))
                        .collect()
                });
                for (i, &(s, c, o)) in runs.iter().enumerate() {
                    ahead.reach(i);
                    let n = c as usize * elem;
                    copy_data(
                        &view,
                        at(s),
                        &mut out[o..o + n],
                        &mut through,
                        "dataset range",
                    )?;
                }
                Ok(())
            }
            Storage::Chunked { chunk_dims, .. } => {
                let chunk = chunk_dims[0];
                let chunk_bytes = chunk as usize * elem;
                self.file.limits.check_alloc("chunk", chunk_bytes as u64)?;
                let mut pieces: Vec<Piece> = Vec::new();
                for &(s, c, o) in runs {
                    let mut pos = s;
                    let end = s + c;
                    while pos < end {
                        let first = pos / chunk * chunk;
                        let take = (first + chunk).min(end) - pos;
                        pieces.push((
                            first,
                            (pos - first) as usize * elem,
                            take as usize * elem,
                            o + ((pos - s) as usize) * elem,
                        ));
                        pos += take;
                    }
                }
                // Every chunk any piece needs (runs come in any order).
                let lo = pieces.iter().map(|p| p.0).min().unwrap_or(0);
                let hi = pieces.iter().map(|p| p.0 + 1).max().unwrap_or(0);
                let span = lo..hi;
                let records = self.chunk_records_for(span)?;
                let find = |first: u64| records.binary_search_by(|r| r.offset[0].cmp(&first)).ok();
                if info.filters.is_empty() {
                    let at = |r: &ChunkRecord, within: usize| {
                        Address(r.address.0.saturating_add(within as u64))
                    };
                    if view.bytes().is_none() {
                        // Chunks never written hold the fill value; the
                        // others are read together.
                        let mut direct: Vec<(Address, usize, usize)> = Vec::new();
                        for &(first, within, n, dst) in &pieces {
                            match find(first) {
                                Some(i) => direct.push((at(&records[i], within), dst, n)),
                                None => fill_bytes(&mut out[dst..dst + n], &info.fill),
                            }
                        }
                        if read_pieces_direct(&view, out, &direct, "chunk")? {
                            return Ok(());
                        }
                    }
                    let mut through = self.file.streaming_through();
                    let mut ahead = Ahead::new(view, || {
                        pieces
                            .iter()
                            .map(|&(first, within, n, _)| match find(first) {
                                Some(i) => (at(&records[i], within), n as u64),
                                None => (Address::UNDEFINED, 0),
                            })
                            .collect()
                    });
                    for (k, &(first, within, n, dst)) in pieces.iter().enumerate() {
                        ahead.reach(k);
                        match find(first) {
                            None => fill_bytes(&mut out[dst..dst + n], &info.fill),
                            Some(i) => copy_data(
                                &view,
                                at(&records[i], within),
                                &mut out[dst..dst + n],
                                &mut through,
                                "chunk",
                            )?,
                        }
                    }
                    return Ok(());
                }
                // Compressed. Chunks that one piece each takes whole are
                // inflated straight into their places, in one parallel
                // pass; the others are decoded in parallel batches (each
                // once, only as far as the pieces reach: a few rows, a
                // single element), then copied out.
                // A large read releases the compressed chunks from the
                // mapping once inflated: a pass over a whole compressed
                // matrix then leaves its result resident, not the file too.
                // Mapping them again costs little next to inflating them.
                let release = out.len() >= RELEASE_COMPRESSED || self.file.is_streaming();
                let mut through = self.read_through();
                pieces.sort_by_key(|p| p.0);
                let whole = self.inflate_whole_chunks(&mut pieces, &records, chunk_bytes, out)?;
                // Only a file in memory has pages to release (a paged
                // source keeps no data).
                if release && view.bytes().is_some() {
                    for r in whole {
                        through.done(view.slice(r.address, r.size, "filtered chunk")?);
                    }
                }
                let mut needed: Vec<(u64, usize)> =
                    pieces.iter().map(|p| (p.0, p.1 + p.2)).collect();
                needed.sort_unstable();
                needed.dedup_by(|b, a| {
                    // `a` is the kept earlier entry; sorted, so `b.1 >= a.1`.
                    if a.0 == b.0 {
                        a.1 = b.1;
                        true
                    } else {
                        false
                    }
                });
                // Groups of chunks decoded together: at least two per
                // worker, and about 1 MiB of them when chunks are small
                // (a group is one fork/join).
                let batch = (crate::par::workers() * 2)
                    .max((1 << 20) / chunk_bytes.max(1))
                    .max(1);
                // Pieces are in chunk order: each group's pieces are the
                // next run of them (a cursor, not a scan per group).
                let mut next = 0usize;
                let mut ahead = Ahead::new(view, || {
                    needed
                        .iter()
                        .map(|&(first, _)| match find(first) {
                            Some(i) => (records[i].address, records[i].size),
                            None => (Address::UNDEFINED, 0),
                        })
                        .collect()
                });
                for (g, group) in needed.chunks(batch).enumerate() {
                    ahead.reach_all(g * batch..g * batch + group.len());
                    let decode = |(first, reach): (u64, usize)| -> Result<Option<DecodedChunk>> {
                        let Some(i) = find(first) else {
                            return Ok(None);
                        };
                        let r = &records[i];
                        let bytes = if reach < chunk_bytes {
                            self.decode_chunk_prefix(r, reach, chunk_bytes)?
                        } else {
                            self.decode_chunk(r, chunk_bytes)?
                        };
                        Ok(Some((first, bytes)))
                    };
                    let decoded = crate::par::map(group.to_vec(), decode)?;
                    if release {
                        for &(first, _) in group {
                            if let Some(r) = find(first).map(|i| &records[i]) {
                                if view.bytes().is_some() {
                                    through.done(view.slice(
                                        r.address,
                                        r.size,
                                        "filtered chunk",
                                    )?);
                                }
                            }
                        }
                    }
                    let mut ready: Vec<DecodedChunk> = Vec::with_capacity(decoded.len());
                    ready.extend(decoded.into_iter().flatten());
                    let hi = group[group.len() - 1].0;
                    let start = next;
                    while next < pieces.len() && pieces[next].0 <= hi {
                        next += 1;
                    }
                    for &(first, within, n, dst) in &pieces[start..next] {
                        // `ready` keeps the group's (sorted) order.
                        match ready
                            .binary_search_by_key(&first, |(f, _)| *f)
                            .ok()
                            .map(|i| &ready[i])
                        {
                            Some((_, data)) => {
                                out[dst..dst + n].copy_from_slice(&data[within..within + n])
                            }
                            None => fill_bytes(&mut out[dst..dst + n], &info.fill),
                        }
                    }
                }
                Ok(())
            }
        }
    }
}

/// Reads the consecutive ranges of a 1-D dataset that a pass over it asks
/// for, one after another, whole chunks at a time: the part of the last
/// chunk beyond a range stays in the buffer for the next one, so each chunk
/// is inflated once, straight into place (a range ending inside a chunk
/// would otherwise inflate its beginning twice, and through a buffer of
/// its own). The buffer is kept from range to range: it grows (fallibly)
/// and is never zeroed again.
#[derive(Debug)]
pub(crate) struct Consecutive<'d, 'f> {
    ds: &'d Dataset<'f>,
    /// Elements per chunk (1 when not chunked: nothing is read ahead).
    chunk: u64,
    /// The stored bytes of elements `start..end`.
    buf: Vec<u8>,
    start: u64,
    end: u64,
}

impl<'d, 'f> Consecutive<'d, 'f> {
    /// A reader of `ds`'s ranges, nothing read yet.
    pub(crate) fn new(ds: &'d Dataset<'f>) -> Consecutive<'d, 'f> {
        let chunk = match &ds.info.storage {
            Storage::Chunked { chunk_dims, .. } => chunk_dims.first().copied().unwrap_or(1),
            _ => 1,
        };
        Consecutive {
            ds,
            chunk: chunk.max(1),
            buf: Vec::new(),
            start: 0,
            end: 0,
        }
    }

    /// The dataset read.
    pub(crate) fn dataset(&self) -> &'d Dataset<'f> {
        self.ds
    }

    /// The stored bytes of elements `start..end`. Ranges may come in any
    /// order; one that starts where the last ended (or inside what was
    /// read ahead) reuses what is buffered.
    pub(crate) fn range(&mut self, start: u64, end: u64) -> Result<&[u8]> {
        let elem = self.ds.info.elem;
        let len = self.ds.range_len()?;
        if start > end || end > len {
            return Err(Error::invalid(format!(
                "{}: range {start}..{end} is out of bounds for length {len}",
                self.ds.path
            )));
        }
        if (self.start..=self.end).contains(&start) {
            // What is buffered from `start` on moves to the front (less
            // than a chunk after a range read whole chunks).
            let from = (start - self.start) as usize * elem;
            let to = (self.end - self.start) as usize * elem;
            self.buf.copy_within(from..to, 0);
        } else {
            self.end = start;
        }
        self.start = start;
        if end > self.end {
            // To the end of `end`'s chunk.
            let ahead = end.div_ceil(self.chunk).saturating_mul(self.chunk).min(len);
            let have = (self.end - self.start) as usize * elem;
            let want = usize::try_from((ahead - self.start).saturating_mul(elem as u64))
                .map_err(|_| crate::buf::out_of_memory::<u8>("dataset read", usize::MAX))?;
            self.ds
                .file
                .limits
                .check_alloc("dataset read", want as u64)?;
            if let Some(more) = want.checked_sub(self.buf.len()).filter(|&n| n > 0) {
                crate::buf::try_reserve(&mut self.buf, more, "dataset read")?;
                self.buf.resize(want, 0);
            }
            self.ds
                .read_range_raw(self.end, ahead - self.end, &mut self.buf[have..want])?;
            self.end = ahead;
        }
        Ok(&self.buf[..(end - start) as usize * elem])
    }
}

impl Dataset<'_> {
    /// Inflates the chunks that exactly one of `pieces` (sorted by chunk)
    /// takes, whole, straight into their places in `out`: no buffer of
    /// their own and no copy, all in one parallel pass. Those pieces leave
    /// `pieces`; the chunks' records are returned (to release them).
    fn inflate_whole_chunks<'r>(
        &self,
        pieces: &mut Vec<Piece>,
        records: &'r [ChunkRecord],
        chunk_bytes: usize,
        out: &mut [u8],
    ) -> Result<Vec<&'r ChunkRecord>> {
        // (output offset, record) of each such chunk.
        let mut whole: Vec<(usize, usize)> = Vec::new();
        let mut k = 0;
        while k < pieces.len() {
            let (first, within, n, dst) = pieces[k];
            let mut next = k + 1;
            while next < pieces.len() && pieces[next].0 == first {
                next += 1;
            }
            if next == k + 1 && within == 0 && n == chunk_bytes {
                if let Ok(i) = records.binary_search_by(|r| r.offset[0].cmp(&first)) {
                    whole.push((dst, i));
                }
            }
            k = next;
        }
        // Disjoint places, in output order (overlapping ones, which no
        // read asks for, stay with the copying path).
        whole.sort_unstable();
        let mut end = 0;
        whole.retain(|&(dst, _)| {
            let apart = dst >= end;
            if apart {
                end = dst + chunk_bytes;
            }
            apart
        });
        let mut jobs: Vec<(&ChunkRecord, &mut [u8])> = Vec::with_capacity(whole.len());
        let (mut rest, mut at) = (out, 0);
        for &(dst, i) in &whole {
            let (_, tail) = std::mem::take(&mut rest).split_at_mut(dst - at);
            let (place, tail) = tail.split_at_mut(chunk_bytes);
            jobs.push((&records[i], place));
            (rest, at) = (tail, dst + chunk_bytes);
        }
        let view = self.file.view();
        if view.wants_prefetch() {
            // A remote source fetches a window of chunks at once, then
            // they are inflated in parallel.
            let mut ahead = Ahead::new(view, || {
                jobs.iter().map(|(r, _)| (r.address, r.size)).collect()
            });
            let mut jobs = jobs.into_iter().enumerate().peekable();
            while jobs.peek().is_some() {
                let mut window: Vec<(&ChunkRecord, &mut [u8])> = Vec::new();
                let mut bytes = 0u64;
                while let Some((k, (r, _))) = jobs.peek() {
                    if !window.is_empty() && bytes + r.size > PREFETCH_WINDOW {
                        break;
                    }
                    ahead.reach(*k);
                    bytes += r.size;
                    if let Some((_, job)) = jobs.next() {
                        window.push(job);
                    }
                }
                crate::par::map(window, |(r, place)| self.decode_chunk_into(r, place))?;
            }
        } else {
            crate::par::map(jobs, |(r, place)| self.decode_chunk_into(r, place))?;
        }
        let mut done: Vec<u64> = whole.iter().map(|&(_, i)| records[i].offset[0]).collect();
        done.sort_unstable();
        pieces.retain(|p| done.binary_search(&p.0).is_err());
        Ok(whole.iter().map(|&(_, i)| &records[i]).collect())
    }
}

/// A piece of a read: (chunk start, byte offset within the chunk, bytes,
/// output offset).
type Piece = (u64, usize, usize, usize);

/// Reads of compressed data producing at least this many bytes release the
/// chunks they inflated from the mapping.
const RELEASE_COMPRESSED: usize = 1 << 20;

/// A decoded chunk: its first element index and its bytes.
type DecodedChunk = (u64, Vec<u8>);

/// Fills `buf` with repetitions of one element's fill value.
fn fill_bytes(buf: &mut [u8], fill: &[u8]) {
    if fill.is_empty() {
        return;
    }
    for e in buf.chunks_exact_mut(fill.len()) {
        e.copy_from_slice(fill);
    }
}

#[cfg(test)]
mod tests {
    use super::Consecutive;
    use crate::io::sink::MemSink;
    use crate::write::{DatasetOptions, Writer};

    #[test]
    fn consecutive_ranges_read_as_single_reads_do() {
        let values: Vec<i64> = (0..10_000).map(|i| i * 7 - 3_000).collect();
        let mut w = Writer::create_in(MemSink::default()).unwrap();
        let gz = DatasetOptions::default().chunks(&[640]).gzip(1);
        w.create_dataset("/gz", &[10_000], &values, &gz).unwrap();
        w.create_dataset("/flat", &[10_000], &values, &DatasetOptions::default())
            .unwrap();
        let f = w.reader().unwrap();
        for name in ["/gz", "/flat"] {
            let ds = f.dataset(name).unwrap();
            let mut r = Consecutive::new(&ds);
            let want = |s: u64, e: u64| -> Vec<u8> {
                values[s as usize..e as usize]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect()
            };
            // Back to back (within chunks, across several, to the end),
            // then a step back, a jump ahead and an empty range.
            let mut at = 0;
            for len in [1, 639, 1, 1_280, 2_000, 3, 5_000, 1_076] {
                assert_eq!(
                    r.range(at, at + len).unwrap(),
                    want(at, at + len),
                    "{name} {at}"
                );
                at += len;
            }
            assert_eq!(at, 10_000);
            for (s, e) in [(5, 900), (9_999, 10_000), (4_000, 4_000), (10, 20)] {
                assert_eq!(r.range(s, e).unwrap(), want(s, e), "{name} {s}..{e}");
            }
            assert!(r.range(9_000, 10_001).is_err());
            assert!(r.range(20, 10).is_err());
        }
    }
}
