//! Zero-copy views of major rows that lie in several stretches of the file.
//!
//! libhdf5 writes a chunk B-tree node between every so many chunks (2 KiB
//! after every 57th chunk in anndata's files), so a block of rows spanning
//! such a node has no single slice to borrow and
//! [`SparseDataset::major_view`] gives up on it. Rows on either side of the
//! node still lie back to back: they are borrowed, and only the row whose
//! entries straddle the node is left to be copied.

use std::ops::Range;

use super::dataset::SparseDataset;
use super::SparseFormat;
use crate::error::{Error, Result};
use crate::read::H5Type;

/// One stretch of rows: a view borrowed from the file, or `None` for rows
/// to read with [`SparseDataset::read`] (their entries straddle a gap).
#[allow(clippy::type_complexity)]
type Stretch<'f, T, I, P> = (
    Range<u64>,
    Option<sprs::CsMatBase<T, I, &'f [P], &'f [I], &'f [T], P>>,
);

impl<'f> SparseDataset<'f> {
    /// Major rows `start..stop` (rows of CSR, columns of CSC) as consecutive
    /// stretches, each a view borrowing `data`, `indices` and `indptr`
    /// straight from the memory map where its bytes lie back to back, or
    /// `None` for rows that cannot be borrowed (read those with
    /// [`SparseDataset::read`]). With the benchmark's anndata file, a
    /// 1000-row block over a B-tree node between chunks is two views and
    /// one copied row instead of a copy of the whole block. `I` and `P`
    /// are the stored index types.
    ///
    /// A filtered or foreign-endian dataset, or a file read from memory, is
    /// one `None` stretch.
    ///
    /// ```
    /// use h5sparse::sparse::{Sel, SparseDataset};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let file = h5sparse::File::open(path)?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// let mut nnz = 0;
    /// for (rows, view) in x.major_views::<i64, i32, i32>(0, 6)? {
    ///     nnz += match view {
    ///         Some(v) => v.nnz(),
    ///         None => x.read::<i64>(&Sel::range(rows.start as i64, rows.end as i64), &Sel::All)?.nnz(),
    ///     };
    /// }
    /// assert_eq!(nnz as u64, x.nnz());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn major_views<T, I, P>(&self, start: u64, stop: u64) -> Result<Vec<Stretch<'f, T, I, P>>>
    where
        T: H5Type,
        I: H5Type + sprs::SpIndex,
        P: H5Type + sprs::SpIndex,
    {
        let (n_major, n_minor) = self.axes();
        if start > stop || stop > n_major {
            return Err(Error::invalid(format!(
                "major range {start}..{stop} is out of bounds for {n_major}"
            )));
        }
        let all_copied = || Ok(vec![(start..stop, None)]);
        let std::borrow::Cow::Borrowed(ptr) =
            self.indptr().read_range_cow::<P>(start, stop - start + 1)?
        else {
            return all_copied();
        };
        let (Some(idx_pieces), Some(val_pieces)) = (
            self.indices().borrowed_pieces::<I>()?,
            self.data().borrowed_pieces::<T>()?,
        ) else {
            return all_copied();
        };
        // Entry positions of the row boundaries, checked non-decreasing and
        // inside the stored entries.
        let mut pos: Vec<u64> = crate::buf::try_with_capacity(ptr.len(), "indptr positions")?;
        for &p in ptr {
            let v = p.try_index().map(|v| v as u64);
            match (v, pos.last()) {
                (Some(v), last) if last.is_none_or(|&l| l <= v) && v <= self.nnz() => pos.push(v),
                _ => {
                    return Err(Error::invalid(format!(
                        "{}: corrupt indptr in rows {start}..{stop}",
                        self.group().path()
                    )))
                }
            }
        }
        let (lo, hi) = (pos[0], pos[pos.len() - 1]);
        // Where either dataset's bytes jump (a new borrowed piece starts).
        let mut breaks: Vec<u64> = idx_pieces
            .iter()
            .map(|p| p.0)
            .chain(val_pieces.iter().map(|p| p.0))
            .filter(|&b| b > lo && b < hi)
            .collect();
        breaks.sort_unstable();
        breaks.dedup();
        // Stretches as (first row, end row, borrowed), rows relative to start.
        let rows = pos.len() - 1;
        let mut stretches: Vec<(usize, usize, bool)> = Vec::new();
        let mut push = |a: usize, b: usize, borrowed: bool| {
            if a >= b {
                return;
            }
            match stretches.last_mut() {
                Some(last) if !borrowed && !last.2 && last.1 == a => last.1 = b,
                _ => stretches.push((a, b, borrowed)),
            }
        };
        let mut a = 0usize;
        for &b in &breaks {
            // First row boundary at or past the break.
            let k = pos.partition_point(|&p| p < b);
            if k <= a {
                continue; // inside a row already left to be copied
            }
            if pos[k] == b {
                push(a, k, true);
            } else {
                push(a, k - 1, true);
                push(k - 1, k, false);
            }
            a = k;
        }
        push(a, rows, true);
        if rows == 0 {
            stretches.push((0, 0, true));
        }

        let mut out = Vec::with_capacity(stretches.len());
        for (a, b, borrowed) in stretches {
            let range = start + a as u64..start + b as u64;
            let (from, to) = (pos[a], pos[b]);
            let view = if !borrowed {
                None
            } else if let (Some(idx), Some(val)) = (
                piece_slice(&idx_pieces, from, to),
                piece_slice(&val_pieces, from, to),
            ) {
                let p = &ptr[a..=b];
                Some(self.checked_view(p, &pos[a..=b], idx, val, n_minor as usize)?)
            } else {
                None
            };
            out.push((range, view));
        }
        Ok(out)
    }
}

impl<'f> SparseDataset<'f> {
    /// A view over borrowed rows, after proving what sprs's structure check
    /// would (in one vectorised pass per row instead of sprs's two scalar
    /// passes over every index): `pos` (the row boundaries of `ptr`) were
    /// checked non-decreasing; here each row's indices are strictly
    /// increasing within `0..n_minor` and the lengths agree.
    #[allow(clippy::type_complexity)]
    fn checked_view<T, I, P>(
        &self,
        ptr: &'f [P],
        pos: &[u64],
        idx: &'f [I],
        val: &'f [T],
        n_minor: usize,
    ) -> Result<sprs::CsMatBase<T, I, &'f [P], &'f [I], &'f [T], P>>
    where
        T: H5Type,
        I: H5Type + sprs::SpIndex,
        P: H5Type + sprs::SpIndex,
    {
        let rows = pos.len() - 1;
        let base = pos[0];
        let fits = I::try_from_usize(n_minor).is_some() && P::try_from_usize(rows + 1).is_some();
        let bad = || {
            Error::invalid(format!(
                "{}: a stored row has an index out of range for {n_minor} columns, \
                 the same index twice, or indices out of order",
                self.group().path()
            ))
        };
        if !fits || idx.len() != val.len() || idx.len() as u64 != pos[rows] - base {
            return Err(bad());
        }
        for w in pos.windows(2) {
            let row = &idx[(w[0] - base) as usize..(w[1] - base) as usize];
            let inside = row.first().is_none_or(|c| c.try_index().is_some())
                && row
                    .last()
                    .is_none_or(|c| c.try_index().is_some_and(|c| c < n_minor));
            if !(inside && super::dataset::strictly_increasing(row)) {
                return Err(bad());
            }
        }
        let (storage, shape) = match self.format() {
            SparseFormat::Csr => (sprs::CompressedStorage::CSR, (rows, n_minor)),
            SparseFormat::Csc => (sprs::CompressedStorage::CSC, (n_minor, rows)),
        };
        // SAFETY: the invariants of sprs's check_compressed_structure hold:
        // `ptr` has one entry per row plus one, is non-negative and
        // non-decreasing (its values are `pos`, checked by the caller), and
        // spans idx.len() == val.len() entries; every row's indices are
        // strictly increasing, non-negative (the first is) and below
        // n_minor (the last is); n_minor and rows + 1 fit I and P.
        Ok(unsafe { sprs::CsMatBase::new_unchecked(storage, shape, ptr, idx, val) })
    }
}

/// Entries `from..to` when one borrowed piece holds them all.
fn piece_slice<'f, X>(pieces: &[(u64, &'f [X])], from: u64, to: u64) -> Option<&'f [X]> {
    let k = pieces.partition_point(|p| p.0 <= from).checked_sub(1)?;
    let (first, s) = pieces[k];
    s.get((from - first) as usize..(to - first) as usize)
}
