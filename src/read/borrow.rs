//! Borrowing a dataset's elements straight from the memory map: what
//! zero-copy reads and views stand on.

use std::borrow::Cow;

use super::dataset::{Pieces, Storage};
use super::{ByteOrder, Dataset, H5Type};
use crate::error::Result;
use crate::format::Address;

impl<'f> Dataset<'f> {
    /// Elements `start..start+count` of a 1-D dataset, borrowed from the file
    /// when contiguous, unfiltered, aligned and native-endian; copied
    /// otherwise.
    pub fn read_range_cow<T: H5Type>(&self, start: u64, count: u64) -> Result<Cow<'f, [T]>> {
        self.check_type::<T>()?;
        if self.order() == ByteOrder::NATIVE {
            if let Some(bytes) = self.borrowed_range(start, count)? {
                if bytes.is_empty() {
                    return Ok(Cow::Borrowed(&[]));
                }
                if let Ok(slice) = bytemuck::try_cast_slice::<u8, T>(bytes) {
                    return Ok(Cow::Borrowed(slice));
                }
            }
        }
        self.read_range(start, count).map(Cow::Owned)
    }

    /// The stored bytes of elements `start..start+count` of a 1-D dataset
    /// (file byte order): borrowed from the file when they lie there in one
    /// piece, unfiltered (`true` with them), else read into `scratch`,
    /// whose allocation is reused from one block to the next.
    pub(crate) fn read_raw_reusing<'a>(
        &self,
        start: u64,
        count: u64,
        scratch: &'a mut Vec<u8>,
    ) -> Result<(&'a [u8], bool)>
    where
        'f: 'a,
    {
        if let Some(bytes) = self.borrowed_range(start, count)? {
            return Ok((bytes, true));
        }
        let n = self.check_selection(&[start], &[count])?;
        let len = n
            .checked_mul(self.info.elem as u64)
            .ok_or_else(|| crate::error::Error::invalid("selection size overflows"))?;
        self.file.limits.check_alloc("dataset read", len)?;
        self.check_storage_fits()?;
        // The gather writes every byte: only growth is zeroed.
        let len = len as usize;
        if scratch.len() >= len {
            scratch.truncate(len);
        } else {
            crate::buf::try_reserve(scratch, len - scratch.len(), "dataset read")?;
            scratch.resize(len, 0);
        }
        self.gather(&[(start, count, 0)], scratch)?;
        Ok((scratch, false))
    }

    /// Elements `start..start+count` of an unfiltered 1-D dataset as their
    /// stored bytes in the file, when they are one piece there: contiguous
    /// storage, or chunks that are all stored and each follows the previous
    /// one directly (as writers lay out chunks written in order). The range
    /// is checked against the dataset's length.
    fn borrowed_range(&self, start: u64, count: u64) -> Result<Option<&'f [u8]>> {
        if self.info.dims.len() != 1 || !self.info.filters.is_empty() || !self.mapped() {
            return Ok(None);
        }
        self.check_selection(&[start], &[count])?;
        if count == 0 {
            return Ok(Some(&[]));
        }
        let want = start.saturating_add(count);
        match self.piece_at(start, want)? {
            Some((address, end)) if end >= want => {
                let elem = self.info.elem as u64;
                self.file
                    .view()
                    .slice(address, count.saturating_mul(elem), "dataset range")
                    .map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Where the piece of an unfiltered 1-D dataset that holds element
    /// `start` ends, looked for up to `until`: a read of `start..end`
    /// borrows from the file (see [`Dataset::read_raw_reusing`]). `start`
    /// when nothing from `start` on can be borrowed.
    pub(crate) fn borrowable_until(&self, start: u64, until: u64) -> Result<u64> {
        if self.info.dims.len() != 1 || !self.info.filters.is_empty() || !self.mapped() {
            return Ok(start);
        }
        Ok(self
            .piece_at(start, until)?
            .map_or(start, |(_, end)| end.min(self.info.dims[0])))
    }

    /// Whether the file is in memory or mapped: borrowing needs its bytes
    /// (a file read range by range has none to lend).
    fn mapped(&self) -> bool {
        self.file.view().bytes().is_some()
    }

    /// The file address of element `start` and the end of the piece it
    /// lies in (contiguous storage, or back-to-back stored chunks), followed
    /// no further than `until`.
    fn piece_at(&self, start: u64, until: u64) -> Result<Option<(Address, u64)>> {
        let elem = self.info.elem as u64;
        let at = |a: Address, skip: u64| Address(a.0.saturating_add(skip.saturating_mul(elem)));
        Ok(match &self.info.storage {
            Storage::Contiguous { address, .. } if !address.is_undefined() => {
                Some((at(*address, start), self.info.dims[0]))
            }
            Storage::Chunked { chunk_dims, .. } => {
                let c = chunk_dims[0];
                let first = start / c * c;
                let records = self.chunk_records()?;
                let Ok(i) = records.binary_search_by(|r| r.offset[0].cmp(&first)) else {
                    return Ok(None);
                };
                let chunk_bytes = c.saturating_mul(elem);
                let mut k = i;
                while records[k].offset[0].saturating_add(c) < until {
                    let adjacent = records.get(k + 1).is_some_and(|n| {
                        Some(n.offset[0]) == records[k].offset[0].checked_add(c)
                            && Some(n.address.0) == records[k].address.0.checked_add(chunk_bytes)
                    });
                    if !adjacent {
                        break;
                    }
                    k += 1;
                }
                let end = records[k].offset[0].saturating_add(c);
                Some((at(records[i].address, start - first), end))
            }
            _ => None,
        })
    }

    /// Advice about how `part`, a slice borrowed from this dataset (e.g.
    /// through [`Dataset::borrowed_pieces`]), is about to be used.
    pub(crate) fn advise<T: H5Type>(&self, part: &[T], access: crate::io::Access) {
        self.file.advise(bytemuck::cast_slice(part), access);
    }

    /// Whether the file is read from a source that serves many ranges best
    /// in one call ([`crate::io::ReadAt::prefers_batches`]: a remote one):
    /// readers of many small ranges then ask for them all at once (one
    /// [`Dataset::read_runs`]) rather than spreading them over threads.
    pub(crate) fn fetches_in_batches(&self) -> bool {
        self.file.view().wants_prefetch()
    }

    /// Whether the file's bytes are fetched on demand (positional reads, a
    /// remote source) rather than mapped or in memory: each read then costs
    /// a system call or a request, and small hot arrays are worth keeping.
    pub(crate) fn is_paged(&self) -> bool {
        self.file.view().bytes().is_none()
    }

    /// A tracker releasing the mapped pages a large read of this dataset
    /// has finished with.
    pub(crate) fn read_through(&self) -> super::file::ReadThrough<'f> {
        self.file.read_through()
    }

    /// The whole of a 1-D dataset as slices borrowed from the file, each
    /// `(first element, elements)`, in order and covering every element:
    /// one slice for contiguous storage, one per run of back-to-back chunks
    /// for chunked storage. `None` when that is impossible: filters,
    /// non-native byte order, misalignment, or chunks never written.
    pub fn borrowed_pieces<T: H5Type>(&self) -> Result<Option<Pieces<'f, T>>> {
        self.check_type::<T>()?;
        if self.info.dims.len() != 1
            || self.order() != ByteOrder::NATIVE
            || !self.info.filters.is_empty()
        {
            return Ok(None);
        }
        let len = self.info.dims[0];
        let elem = self.info.elem as u64;
        let view = self.file.view();
        if view.bytes().is_none() {
            return Ok(None); // nothing to borrow from a file read range by range
        }
        let cast = |addr: Address, n: u64| -> Result<Option<&'f [T]>> {
            // Saturating: a length past the file is refused by the slice.
            let bytes = view.slice(addr, n.saturating_mul(elem), "dataset range")?;
            Ok(bytemuck::try_cast_slice::<u8, T>(bytes).ok())
        };
        match &self.info.storage {
            Storage::Contiguous { address, .. } if !address.is_undefined() => {
                Ok(cast(*address, len)?.map(|s| vec![(0, s)]))
            }
            Storage::Chunked { chunk_dims, .. } => {
                let c = chunk_dims[0];
                let mut runs: Vec<(u64, Address, u64)> = Vec::new();
                let mut expect = 0u64;
                for r in self.chunk_records()? {
                    if expect >= len {
                        break;
                    }
                    if r.offset[0] != expect {
                        return Ok(None); // a chunk never written
                    }
                    let n = c.min(len - expect);
                    match runs.last_mut() {
                        Some((_, a, m))
                            if a.0.checked_add(m.saturating_mul(elem)) == Some(r.address.0) =>
                        {
                            *m += n
                        }
                        _ => runs.push((expect, r.address, n)),
                    }
                    expect += c;
                }
                if expect < len {
                    return Ok(None);
                }
                let mut out = Vec::with_capacity(runs.len());
                for (first, addr, n) in runs {
                    match cast(addr, n)? {
                        Some(s) => out.push((first, s)),
                        None => return Ok(None),
                    }
                }
                Ok(Some(out))
            }
            _ => Ok(None),
        }
    }
}
