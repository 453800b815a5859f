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
        if count == 0 && self.info.dims.len() == 1 {
            self.check_selection(&[start], &[count])?;
            return Ok(Cow::Borrowed(&[]));
        }
        if self.info.dims.len() == 1
            && self.order() == ByteOrder::NATIVE
            && self.info.filters.is_empty()
        {
            self.check_selection(&[start], &[count])?;
            let elem = self.info.elem as u64;
            let view = self.file.view();
            let located = match &self.info.storage {
                Storage::Contiguous { address, .. } if !address.is_undefined() => {
                    Some((*address, start.saturating_mul(elem)))
                }
                Storage::Chunked { chunk_dims, .. } => {
                    // Borrowable when every chunk of the range is stored
                    // and each follows the previous one directly in the file
                    // (as writers lay out chunks written in order).
                    let c = chunk_dims[0];
                    let first = start / c * c;
                    let records = self.chunk_records()?;
                    match records.binary_search_by(|r| r.offset[0].cmp(&first)) {
                        Ok(i) if count > 0 => {
                            let chunk_bytes = c.saturating_mul(elem);
                            let mut ok = true;
                            let mut k = i;
                            while records[k].offset[0].saturating_add(c)
                                < start.saturating_add(count)
                            {
                                let next = records.get(k + 1);
                                let adjacent = next.is_some_and(|n| {
                                    Some(n.offset[0]) == records[k].offset[0].checked_add(c)
                                        && Some(n.address.0)
                                            == records[k].address.0.checked_add(chunk_bytes)
                                });
                                if !adjacent {
                                    ok = false;
                                    break;
                                }
                                k += 1;
                            }
                            ok.then(|| (records[i].address, (start - first).saturating_mul(elem)))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            // Borrowing needs the file in memory or mapped.
            let located = located.filter(|_| view.bytes().is_some());
            if let Some((address, skip)) = located {
                let bytes = view.slice(
                    Address(address.0.saturating_add(skip)),
                    count.saturating_mul(elem),
                    "dataset range",
                )?;
                if let Ok(slice) = bytemuck::try_cast_slice::<u8, T>(bytes) {
                    return Ok(Cow::Borrowed(slice));
                }
            }
        }
        self.read_range(start, count).map(Cow::Owned)
    }

    /// Advice about how `part`, a slice borrowed from this dataset (e.g.
    /// through [`Dataset::borrowed_pieces`]), is about to be used.
    pub(crate) fn advise<T: H5Type>(&self, part: &[T], access: crate::io::Access) {
        self.file.advise(bytemuck::cast_slice(part), access);
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
