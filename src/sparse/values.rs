//! The stored values of selected major rows, visited piece by piece without
//! building a matrix: what `h5sparse slice --to summary` needs (an entry
//! count and a sum) in a few MB of memory however large the selection.

use super::dataset::SparseDataset;
use super::selection::Sel;
use crate::error::Result;
use crate::io::Access;
use crate::read::H5Type;

/// Values per piece handed to the visitor (4 MB of `f32`).
const PIECE: u64 = 1 << 20;
/// Borrowed pieces at least this large (in bytes) are read ahead before
/// the visit; smaller ones are not worth the system call.
const ADVISE_MIN: usize = 256 << 10;

impl SparseDataset<'_> {
    /// Stored entries in the selected majors (rows of CSR, columns of CSC),
    /// counted from `indptr` alone: `read(majors, &Sel::All)`'s `nnz()`
    /// without reading `indices` or `data`.
    ///
    /// ```
    /// use h5sparse::sparse::{Sel, SparseDataset};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let file = h5sparse::File::open(path)?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.major_nnz(&Sel::range(0, 2))?, 2);
    /// assert_eq!(x.major_nnz(&Sel::All)?, x.nnz());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn major_nnz(&self, majors: &Sel) -> Result<u64> {
        let (n_major, _) = self.axes();
        let (bounds, _) = self.major_runs(&majors.resolve(n_major)?)?;
        Ok(bounds.iter().map(|&(a, b)| b - a).sum())
    }

    /// Calls `visit` with the stored values of the selected majors (rows of
    /// CSR, columns of CSC), in selection order, a piece of at most about a
    /// million values at a time; returns how many values it visited. The
    /// values are those `read(majors, &Sel::All)` returns, in stored order
    /// within each row and without checking `indices` (which are not read).
    ///
    /// Unfiltered data is borrowed from the memory map, read ahead before
    /// each piece and released from the process's mapping after it, so a
    /// pass over a whole large file keeps only a piece resident; compressed
    /// data is decoded into one reused buffer.
    ///
    /// ```
    /// use h5sparse::sparse::{Sel, SparseDataset};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let file = h5sparse::File::open(path)?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// let mut sum = 0;
    /// let n = x.for_each_major_values::<i64>(&Sel::All, |v| sum += v.iter().sum::<i64>())?;
    /// assert_eq!(n, x.nnz());
    /// assert_eq!(sum, x.to_memory::<i64>()?.data().iter().sum::<i64>());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn for_each_major_values<T: H5Type>(
        &self,
        majors: &Sel,
        mut visit: impl FnMut(&[T]),
    ) -> Result<u64> {
        let (n_major, _) = self.axes();
        let (_, runs) = self.major_runs(&majors.resolve(n_major)?)?;
        let total = runs.iter().map(|r| r.1).sum();
        let data = self.data();
        if let Some(pieces) = data.borrowed_pieces::<T>()? {
            // Each run cut at the file's discontinuities and every PIECE.
            let mut parts: Vec<&[T]> = Vec::new();
            for &(start, count) in &runs {
                let (mut at, end) = (start, start + count);
                while at < end {
                    // The pieces cover `data` and major_runs checked every
                    // run against its length; a gap would be a bug, reported
                    // rather than indexed past.
                    let k = pieces.partition_point(|p| p.0 <= at).saturating_sub(1);
                    let part = pieces.get(k).and_then(|&(first, slice)| {
                        let rest = slice.get(usize::try_from(at.checked_sub(first)?).ok()?..)?;
                        let take = (end - at).min(rest.len() as u64).min(PIECE);
                        (take > 0).then(|| &rest[..take as usize])
                    });
                    let Some(part) = part else {
                        return Err(crate::error::Error::invalid(format!(
                            "{}: entries {at}..{end} lie outside data",
                            self.group().path()
                        )));
                    };
                    parts.push(part);
                    at += part.len() as u64;
                }
            }
            // Small parts (scattered rows) are released together: the
            // span of the mapping they were read from.
            let big = |p: &[T]| std::mem::size_of_val(p) >= ADVISE_MIN;
            let mut through = data.read_through();
            if let Some(first) = parts.first().filter(|p| big(p)) {
                data.advise(first, Access::Sequential);
            }
            for (k, part) in parts.iter().enumerate() {
                if let Some(next) = parts.get(k + 1).filter(|p| big(p)) {
                    data.advise(next, Access::Sequential);
                }
                visit(part);
                through.done(bytemuck::cast_slice(part));
            }
            return Ok(total);
        }
        // Filtered (or otherwise not borrowable): batches of runs of about
        // 4 PIECEs decoded together (chunks in parallel) into one buffer.
        let mut buf: Vec<T> = Vec::new();
        let mut batch: Vec<(u64, u64)> = Vec::new();
        let mut in_batch = 0u64;
        let mut pending = runs.iter().copied();
        let mut run = pending.next();
        while let Some((start, count)) = run {
            let take = count.min(4 * PIECE - in_batch);
            batch.push((start, take));
            in_batch += take;
            run = if take < count {
                Some((start + take, count - take))
            } else {
                pending.next()
            };
            if in_batch == 4 * PIECE || run.is_none() {
                data.read_runs_into(&batch, &mut buf)?;
                visit(&buf);
                batch.clear();
                in_batch = 0;
            }
        }
        Ok(total)
    }
}
