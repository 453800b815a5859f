//! Column ranges of CSR (row ranges of CSC) by binary search in the file.
//!
//! When `indices` can be borrowed from the file (unfiltered, native-endian,
//! aligned) and every stored row's indices are strictly increasing and in
//! range, a contiguous minor-axis range is found in each row by two binary
//! searches straight in the mapped bytes: a few cache lines per row instead
//! of reading every stored index. Whether the rows are sorted is proven
//! once per opened matrix, by one scan of `indices` (in parallel), and
//! remembered; unsorted or broken rows send reads down the general path,
//! which sorts rows and reports bad indices. When `indices` cannot be
//! borrowed (positional reads, HTTP, a misaligned map), [`paged`] does the
//! same with reads: one pass that proves and searches, then small windows
//! of each row.

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

/// Whether every row `bounds` of borrowed `rows` (`(start, end)` in stored
/// entries) is strictly increasing within `0..n_minor`.
fn scan<S: Stored>(rows: &Rows<'_, S>, bounds: &[(u64, u64)], n_minor: u64) -> Result<bool> {
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
    Ok(ok.into_iter().all(|b| b))
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
    rows: &Rows<'_, S>,
    bounds: &[(u64, u64)],
    a: u64,
    b: u64,
    n_minor: u64,
) -> Result<Hits> {
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
    Ok(concat_hits(parts, bounds.len()))
}

/// The hits of consecutive shares of rows, joined (`rows` in all).
fn concat_hits(parts: Vec<Hits>, rows: usize) -> Hits {
    let mut hits = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut ends = Vec::with_capacity(rows);
    for (h, e) in parts {
        let base = hits.len();
        ends.extend(e.into_iter().map(|x| base + x));
        hits.extend(h);
    }
    (hits, ends)
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
        by_stored_type!(indices, range_hits_as(self, bounds, a, b))
    }
}

/// [`SparseDataset::sorted_range_hits`] on `indices` stored as `S`.
fn range_hits_as<S: Stored>(
    x: &SparseDataset<'_>,
    bounds: &[(u64, u64)],
    a: u64,
    b: u64,
) -> Result<Option<Hits>> {
    let indices = x.indices();
    let (n_major, n_minor) = x.axes();
    // A few rows (a single element, a short list) are proven on their
    // own: proving every row costs a pass over all of `indices`, which
    // a one-shot process (the CLI) cannot amortise.
    let selected: u64 = bounds.iter().map(|&(lo, hi)| hi.saturating_sub(lo)).sum();
    let few = selected.saturating_mul(FEW_ROWS_FRACTION) < x.nnz();
    let all_rows = || -> Result<Vec<(u64, u64)>> {
        let ptr = x.indptr_range(0, n_major + 1)?;
        Ok(ptr.windows(2).map(|w| (w[0], w[1])).collect())
    };
    if let Some(rows) = Rows::<S>::new(indices)? {
        let sorted = match x.sorted_rows.get() {
            Some(&known) => known,
            None if few => scan(&rows, bounds, n_minor)?,
            None => {
                let known = scan(&rows, &all_rows()?, n_minor)?;
                let _ = x.sorted_rows.set(known);
                known
            }
        };
        return match sorted {
            true => range_hits(&rows, bounds, a, b, n_minor).map(Some),
            false => Ok(None),
        };
    }
    if !indices.filters().is_empty() {
        // Chunks are inflated whole anyway: the general path reads them.
        return Ok(None);
    }
    match x.sorted_rows.get() {
        Some(true) => paged::window_hits::<S>(indices, bounds, (a, b), n_minor, false),
        Some(false) => Ok(None),
        None if few => paged::window_hits::<S>(indices, bounds, (a, b), n_minor, true),
        None => {
            let ptr = read_ints(x.indptr(), &[(0, n_major + 1)])?;
            let found = paged::prove_and_find::<S>(indices, &ptr, bounds, (a, b), n_minor)?;
            let _ = x.sorted_rows.set(found.is_some());
            Ok(found)
        }
    }
}

mod paged;

pub(crate) use paged::read_values;

#[cfg(test)]
mod tests;
