//! Column ranges of CSR (row ranges of CSC) by binary search in the file.
//!
//! When `indices` can be borrowed from the file (unfiltered, native-endian,
//! aligned) and every stored row's indices are strictly increasing and in
//! range, a contiguous minor-axis range is found in each row by two binary
//! searches straight in the mapped bytes: a few cache lines per row instead
//! of reading every stored index. Whether the rows are sorted is proven
//! once per opened matrix, by one scan of `indices` (in parallel), and
//! remembered; unsorted or broken rows send reads down the general path,
//! which sorts rows and reports bad indices.

use std::borrow::Cow;

use super::dataset::SparseDataset;
use super::index_type::read_ints;
use crate::error::Result;
use crate::read::{Dataset, Dtype, H5Type};

/// Per selected major: (position in `data`, output minor position) of the
/// kept entries, and where each row ends in them.
pub(crate) type Hits = (Vec<(u64, usize)>, Vec<usize>);

/// Rows of a stored index array, borrowed from the file where possible.
struct Rows<'f, S> {
    ds: &'f Dataset<'f>,
    pieces: Vec<(u64, &'f [S])>,
}

impl<'f, S: H5Type> Rows<'f, S> {
    fn new(ds: &'f Dataset<'f>) -> Result<Option<Rows<'f, S>>> {
        Ok(ds.borrowed_pieces::<S>()?.map(|pieces| Rows { ds, pieces }))
    }

    /// The piece holding entry `pos`, if any.
    fn piece_of(&self, pos: u64) -> Option<usize> {
        let i = self.pieces.partition_point(|(first, _)| *first <= pos);
        let i = i.checked_sub(1)?;
        let (first, slice) = self.pieces[i];
        ((pos - first) < slice.len() as u64).then_some(i)
    }

    /// Entries `lo..hi`: borrowed when inside one piece, copied from the
    /// pieces when it spans consecutive ones (a row across a chunk
    /// boundary), read through the dataset otherwise.
    fn row(&self, lo: u64, hi: u64) -> Result<Cow<'f, [S]>> {
        if let Some(i) = self.piece_of(lo) {
            let (first, slice) = self.pieces[i];
            let a = (lo - first) as usize;
            if hi - first <= slice.len() as u64 {
                return Ok(Cow::Borrowed(&slice[a..(hi - first) as usize]));
            }
            let mut out = crate::buf::try_with_capacity(
                usize::try_from(hi - lo).unwrap_or(usize::MAX),
                "sparse row",
            )?;
            out.extend_from_slice(&slice[a..]);
            for &(first, slice) in &self.pieces[i + 1..] {
                let at = lo + out.len() as u64;
                if first != at {
                    break;
                }
                let take = ((hi - at) as usize).min(slice.len());
                out.extend_from_slice(&slice[..take]);
                if lo + out.len() as u64 == hi {
                    return Ok(Cow::Owned(out));
                }
            }
        }
        self.ds.read_range::<S>(lo, hi - lo).map(Cow::Owned)
    }

    /// Starts loading the cache line of entry `pos` (nothing when it is
    /// not in a piece).
    fn prefetch(&self, pos: u64) {
        if let Some(i) = self.piece_of(pos) {
            let (first, slice) = self.pieces[i];
            prefetch(slice[(pos - first) as usize..].as_ptr());
        }
    }
}

/// How many rows (or gathered entries) ahead the searches prefetch: each
/// row costs a cache miss or two at an address known from `indptr`, so
/// asking for it early overlaps the misses instead of waiting on each.
const AHEAD: usize = 16;

/// Asks the CPU to start loading the cache line at `p` (a hint: any
/// address is allowed, nothing is read).
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint that never faults, whatever the
    // address; SSE is part of the x86-64 baseline.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Integer types `indices` may be stored as.
trait Stored: H5Type + Copy + Into<i128> + PartialOrd {}
impl<T: H5Type + Copy + Into<i128> + PartialOrd> Stored for T {}

/// Calls `$f::<S>(args)` with `S` the stored integer type of `$ds`.
macro_rules! by_stored_type {
    ($ds:expr, $f:ident($($arg:expr),*)) => {
        match $ds.dtype() {
            Dtype::Int { size: 1, signed: true, .. } => $f::<i8>($($arg),*),
            Dtype::Int { size: 1, signed: false, .. } => $f::<u8>($($arg),*),
            Dtype::Int { size: 2, signed: true, .. } => $f::<i16>($($arg),*),
            Dtype::Int { size: 2, signed: false, .. } => $f::<u16>($($arg),*),
            Dtype::Int { size: 4, signed: true, .. } => $f::<i32>($($arg),*),
            Dtype::Int { size: 4, signed: false, .. } => $f::<u32>($($arg),*),
            Dtype::Int { size: 8, signed: true, .. } => $f::<i64>($($arg),*),
            Dtype::Int { size: 8, signed: false, .. } => $f::<u64>($($arg),*),
            _ => Ok(None),
        }
    };
}

/// Whether every row `bounds` of `indices` (`(start, end)` in stored
/// entries) is strictly increasing within `0..n_minor`; `None` when
/// `indices` cannot be borrowed.
fn scan<S: Stored>(
    indices: &Dataset<'_>,
    bounds: &[(u64, u64)],
    n_minor: u64,
) -> Result<Option<bool>> {
    let Some(rows) = Rows::<S>::new(indices)? else {
        return Ok(None);
    };
    let majors = bounds.len();
    let parts = (crate::par::workers() * 4).min(majors.max(1));
    let per = majors.div_ceil(parts).max(1);
    let shares: Vec<(usize, usize)> = (0..majors)
        .step_by(per)
        .map(|s| (s, (s + per).min(majors)))
        .collect();
    let n_minor = i128::from(n_minor);
    let ok = crate::par::map(shares, |(r0, r1)| -> Result<bool> {
        for &(lo, hi) in &bounds[r0..r1] {
            if hi < lo {
                return Ok(false);
            }
            let idx = rows.row(lo, hi)?;
            // Compared as stored (the same order as through i128), a block
            // at a time so that it vectorises.
            let sorted = super::dataset::strictly_increasing(&idx);
            let inside = idx.first().is_none_or(|&c| c.into() >= 0)
                && idx.last().is_none_or(|&c| c.into() < n_minor);
            if !(sorted && inside) {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    Ok(Some(ok.into_iter().all(|b| b)))
}

/// The first position in sorted `idx` whose value is not below `target`,
/// searched from `guess` outwards (galloping, then binary search): when the
/// guess is close, as an interpolated one usually is, only the cache lines
/// around it are touched, not the ~log2(len) scattered ones of a plain
/// binary search.
fn lower_bound<S: Stored>(idx: &[S], target: i128, guess: usize) -> usize {
    let below = |k: usize| idx[k].into() < target;
    let n = idx.len();
    if n == 0 {
        return 0;
    }
    let g = guess.min(n - 1);
    // Invariant sought: below(lo - 1) (or lo == 0) and !below(hi) (or hi == n).
    let (mut lo, mut hi);
    if below(g) {
        lo = g + 1;
        let mut step = 1;
        hi = lo;
        while hi < n && below(hi) {
            lo = hi + 1;
            hi = hi.saturating_add(step).min(n);
            step *= 2;
        }
    } else {
        hi = g;
        let mut step = 1;
        lo = hi;
        while lo > 0 && !below(lo - 1) {
            hi = lo - 1;
            lo = lo.saturating_sub(step);
            step *= 2;
        }
    }
    lo + idx[lo..hi].partition_point(|&c| c.into() < target)
}

/// The entries of rows `bounds` whose index falls in `a..b`, by searches
/// started where the range would sit if indices were spread evenly over
/// `0..n_minor` (rows already proven sorted).
fn range_hits<S: Stored>(
    indices: &Dataset<'_>,
    bounds: &[(u64, u64)],
    a: u64,
    b: u64,
    n_minor: u64,
) -> Result<Option<Hits>> {
    let Some(rows) = Rows::<S>::new(indices)? else {
        return Ok(None);
    };
    let at =
        |len: usize, x: u64| (len as u128 * u128::from(x) / u128::from(n_minor.max(1))) as usize;
    let (a128, b128) = (i128::from(a), i128::from(b));
    // Rows in shares over the cores: each search costs a cache miss or
    // two, which independent threads overlap.
    let per = bounds.len().div_ceil(crate::par::workers() * 4).max(1024);
    let shares: Vec<&[(u64, u64)]> = bounds.chunks(per).collect();
    let parts = crate::par::map(shares, |share| -> Result<Hits> {
        let mut hits = Vec::new();
        let mut ends = Vec::with_capacity(share.len());
        for (r, &(lo, hi)) in share.iter().enumerate() {
            if let Some(&(lo2, hi2)) = share.get(r + AHEAD) {
                if hi2 > lo2 {
                    rows.prefetch(lo2 + at((hi2 - lo2) as usize, a) as u64);
                }
            }
            let idx = rows.row(lo, hi)?;
            let k0 = lower_bound(&idx, a128, at(idx.len(), a));
            let k1 = k0 + lower_bound(&idx[k0..], b128, at(idx.len(), b - a));
            hits.extend((k0..k1).map(|k| (lo + k as u64, (idx[k].into() - a128) as usize)));
            ends.push(hits.len());
        }
        Ok((hits, ends))
    })?;
    let mut hits = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut ends = Vec::with_capacity(bounds.len());
    for (h, e) in parts {
        let base = hits.len();
        ends.extend(e.into_iter().map(|x| base + x));
        hits.extend(h);
    }
    Ok(Some((hits, ends)))
}

/// The elements of `data` at `positions`, read straight from the file
/// (`None` when `data` cannot be borrowed). Ascending positions walk the
/// pieces in order; others look their piece up.
pub(crate) fn gather<T: H5Type>(
    data: &Dataset<'_>,
    positions: impl ExactSizeIterator<Item = u64> + Clone,
) -> Result<Option<Vec<T>>> {
    let Some(pieces) = data.borrowed_pieces::<T>()? else {
        return Ok(None);
    };
    if pieces.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(positions.len());
    let mut p = 0usize;
    // A second walk AHEAD entries in front, prefetching (ascending
    // positions: its piece only moves forward).
    let mut ahead = positions.clone().skip(AHEAD);
    let mut q = 0usize;
    for pos in positions {
        if let Some(next) = ahead.next() {
            while q + 1 < pieces.len() && pieces[q + 1].0 <= next {
                q += 1;
            }
            let (first, slice) = pieces[q];
            if let Some(k) = next.checked_sub(first) {
                prefetch(slice.as_ptr().wrapping_add(k as usize));
            }
        }
        let (first, slice) = pieces[p];
        let value = match pos.checked_sub(first).and_then(|k| slice.get(k as usize)) {
            Some(v) => *v,
            None => {
                p = pieces.partition_point(|(f, _)| *f <= pos).saturating_sub(1);
                let (first, slice) = pieces[p];
                *pos.checked_sub(first)
                    .and_then(|k| slice.get(k as usize))
                    .ok_or_else(|| {
                        crate::error::Error::invalid(format!(
                            "{}: entry {pos} is past its end",
                            data.path()
                        ))
                    })?
            }
        };
        out.push(value);
    }
    Ok(Some(out))
}

/// Selections holding less than 1/this of the stored entries prove their
/// own rows sorted instead of every row.
const FEW_ROWS_FRACTION: u64 = 8;

impl SparseDataset<'_> {
    /// Kept entries of the minor range `a..b` in rows `bounds`, found by
    /// binary search; `None` when the fast path does not apply.
    pub(crate) fn sorted_range_hits(
        &self,
        bounds: &[(u64, u64)],
        a: u64,
        b: u64,
    ) -> Result<Option<Hits>> {
        let indices = self.indices();
        let (_, n_minor) = self.axes();
        // A few rows (a single element, a short list) are proven on their
        // own: proving every row costs a pass over all of `indices`, which
        // a one-shot process (the CLI) cannot amortise.
        let selected: u64 = bounds.iter().map(|&(lo, hi)| hi.saturating_sub(lo)).sum();
        let sorted = match self.sorted_rows.get() {
            Some(&known) => known,
            None if selected.saturating_mul(FEW_ROWS_FRACTION) < self.nnz() => {
                by_stored_type!(indices, scan(indices, bounds, n_minor))?.unwrap_or(false)
            }
            None => self.rows_sorted()?,
        };
        if !sorted {
            return Ok(None);
        }
        by_stored_type!(indices, range_hits(indices, bounds, a, b, n_minor))
    }

    /// Whether every stored row is strictly increasing and in range, with
    /// `indices` borrowable: proven once (one scan), then remembered.
    fn rows_sorted(&self) -> Result<bool> {
        if let Some(&known) = self.sorted_rows.get() {
            return Ok(known);
        }
        let indices = self.indices();
        let (n_major, n_minor) = self.axes();
        let indptr = read_ints(self.indptr(), &[(0, n_major + 1)])?;
        let bounds: Vec<(u64, u64)> = indptr.windows(2).map(|w| (w[0], w[1])).collect();
        let known = by_stored_type!(indices, scan(indices, &bounds, n_minor))?.unwrap_or(false);
        let _ = self.sorted_rows.set(known);
        Ok(known)
    }
}

#[cfg(test)]
mod tests {
    use super::{lower_bound, Rows};
    use crate::io::sink::MemSink;
    use crate::write::{DatasetOptions, Writer};
    use std::borrow::Cow;

    #[test]
    fn rows_across_pieces_are_joined_and_gaps_read_through_the_dataset() {
        let values: Vec<i32> = (0..10).map(|v| v * 10).collect();
        let mut w = Writer::create_in(MemSink::default()).unwrap();
        let opts = DatasetOptions::growable().chunks(&[4]);
        w.create_dataset("/i", &[10], &values, &opts).unwrap();
        let f = crate::File::from_bytes(w.close().unwrap().bytes).unwrap();
        let ds = f.dataset("/i").unwrap();
        // Pieces as a file with metadata between its chunks gives them.
        let rows = Rows {
            ds: &ds,
            pieces: vec![(0, &values[0..4]), (4, &values[4..8]), (8, &values[8..10])],
        };
        assert!(matches!(rows.row(1, 3).unwrap(), Cow::Borrowed(r) if r == &values[1..3]));
        assert!(matches!(rows.row(2, 10).unwrap(), Cow::Owned(r) if r == values[2..10]));
        assert_eq!(rows.row(0, 0).unwrap().len(), 0);
        // A missing piece (say, an unallocated chunk): read through the dataset.
        let gap = Rows {
            ds: &ds,
            pieces: vec![(0, &values[0..4]), (8, &values[8..10])],
        };
        assert_eq!(&*gap.row(2, 9).unwrap(), &values[2..9]);
        assert_eq!(&*gap.row(5, 7).unwrap(), &values[5..7]);
    }

    #[test]
    fn lower_bound_agrees_with_partition_point_from_any_guess() {
        let rows: [&[i32]; 4] = [
            &[],
            &[5],
            &[1, 3, 5, 7, 9, 11],
            &[0, 2, 4, 6, 8, 10, 12, 14, 16],
        ];
        for idx in rows {
            for target in -1..20 {
                let want = idx.partition_point(|&c| c < target);
                for guess in 0..idx.len() + 3 {
                    assert_eq!(
                        lower_bound(idx, i128::from(target), guess),
                        want,
                        "{idx:?} target {target} guess {guess}"
                    );
                }
            }
        }
    }
}
