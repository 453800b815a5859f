//! Lookups by row: `indptr` entries (kept whole for files read by
//! positional reads) and single elements.

use std::borrow::Cow;

use super::SparseDataset;
use crate::error::{Error, Result};
use crate::read::H5Type;
use crate::sparse::index_type::read_ints;
use crate::sparse::{Sel, SparseFormat};

/// `indptr` is kept in memory for files read by positional reads when it
/// holds at most this many entries (64 MiB as u64: 8 M rows).
const INDPTR_KEPT: u64 = 8 << 20;

impl SparseDataset<'_> {
    /// Entries `start..start + count` of `indptr`, widened: from the kept
    /// copy on a file read by positional reads (read whole the first time,
    /// when small enough: one read, where each row lookup would otherwise
    /// be a system call), else read. Remote files do not keep it: reading
    /// all of a chunked `indptr` there costs a request per chunk, more than
    /// a few rows need, and their many-row reads are batched anyway.
    pub(crate) fn indptr_range(&self, start: u64, count: u64) -> Result<Cow<'_, [u64]>> {
        let len = self.indptr.len();
        let local_paged = self.indptr.is_paged() && !self.indptr.fetches_in_batches();
        if local_paged && len <= INDPTR_KEPT {
            // A failing whole read (a bad value anywhere) is not kept: the
            // ranged read below then reports what it finds, where it is.
            let kept = self
                .indptr_kept
                .get_or_init(|| read_ints(&self.indptr, &[(0, len)]).ok());
            if let Some(all) = kept {
                let end = start.saturating_add(count);
                if let Some(part) = all.get(start as usize..end as usize) {
                    return Ok(Cow::Borrowed(part));
                }
            }
        }
        read_ints(&self.indptr, &[(start, count)]).map(Cow::Owned)
    }

    /// One element `(row, col)` (negative counts from the end): a binary
    /// search in the major row's indices; zero when not stored.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.get::<i64>(4, 1)?, 36);
    /// assert_eq!(x.get::<i64>(-1, -1)?, 8);                    // the last row and column
    /// assert_eq!(x.get::<i64>(2, 0)?, 0);                      // not stored
    /// assert!(x.get::<i64>(6, 0).is_err());                    // out of range
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn get<T: H5Type>(&self, row: i64, col: i64) -> Result<T> {
        let r = Sel::Index(row).resolve(self.info.shape[0])?[0];
        let c = Sel::Index(col).resolve(self.info.shape[1])?[0];
        let (major, minor) = match self.info.format {
            SparseFormat::Csr => (r, c),
            SparseFormat::Csc => (c, r),
        };
        let ptr = self.indptr_range(major, 2)?;
        let (a, b) = (ptr[0], ptr[1]);
        if a > b || b > self.info.nnz_stored {
            return Err(Error::invalid(format!(
                "{}: corrupt indptr at {major}",
                self.group.path()
            )));
        }
        if a == b {
            return Ok(T::zeroed());
        }
        let idx = read_ints(&self.indices, &[(a, b - a)])?;
        let hit = if idx.windows(2).all(|w| w[0] <= w[1]) {
            idx.binary_search(&minor).ok()
        } else {
            idx.iter().position(|&v| v == minor)
        };
        match hit {
            Some(k) => Ok(self.data.read_runs::<T>(&[(a + k as u64, 1)])?[0]),
            None => Ok(T::zeroed()),
        }
    }
}
