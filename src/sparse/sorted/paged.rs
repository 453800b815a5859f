//! Column ranges of CSR (row ranges of CSC) when `indices` cannot be
//! borrowed: files read by positional reads, over HTTP or from object
//! stores, and maps whose `indices` are misaligned or foreign-endian.
//!
//! Until the rows are proven sorted, [`prove_and_find`] reads `indices`
//! once, in large blocks spread over the workers, and on the stored integer
//! type checks every row (strictly increasing, in range) and searches the
//! selected ones: the first read costs one read of `indices` and leaves the
//! proof behind. Once proven, [`window_hits`] searches each selected row in
//! a small window of `indices` around where the range should sit, every
//! window read in one batched call (rows whose window misses the range are
//! read whole in a second). [`read_values`] then reads `data` in one short
//! run per row. Filtered `indices` keep the general, chunk-wise path: each
//! chunk is inflated whole whatever part of it is wanted.

use super::{concat_hits, Hits, Stored};
use crate::error::Result;
use crate::read::{Dataset, H5Type};

/// Bytes of `indices` per block of the proving pass: large enough that a
/// read costs about its copy, small enough that a worker holds little.
#[cfg(not(test))]
const PASS_BLOCK: u64 = 4 << 20;
#[cfg(test)]
const PASS_BLOCK: u64 = 64;

/// Rows whose indices take at most this many bytes are read whole rather
/// than windowed: a read of a few hundred bytes costs what one of a few
/// bytes does (a system call, or one range of a request).
#[cfg(not(test))]
const WHOLE_ROW: u64 = 512;
#[cfg(test)]
const WHOLE_ROW: u64 = 8;

/// Fewest rows (or runs) a share spread over the workers holds.
#[cfg(not(test))]
const MIN_SHARE: usize = 256;
#[cfg(test)]
const MIN_SHARE: usize = 2;

/// Entries a window adds on either side beyond its statistical margin.
const SLACK: f64 = 8.0;

/// `items` cut into shares for the workers, or whole when the source wants
/// every range in one call.
fn shares<T>(items: &[T], batched: bool) -> Vec<&[T]> {
    if batched || items.is_empty() {
        return vec![items];
    }
    let per = items
        .len()
        .div_ceil(crate::par::workers() * 4)
        .max(MIN_SHARE);
    items.chunks(per).collect()
}

/// Whether `idx`, a whole stored row, is strictly increasing within
/// `0..n_minor`.
fn row_ok<S: Stored>(idx: &[S], n_minor: i128) -> bool {
    super::super::dataset::strictly_increasing(idx)
        && idx.first().is_none_or(|&c| c.into() >= 0)
        && idx.last().is_none_or(|&c| c.into() < n_minor)
}

/// Positions in sorted `idx` of the first index `>= a` and the first `>= b`.
fn search<S: Stored>(idx: &[S], a: i128, b: i128) -> (usize, usize) {
    let k0 = idx.partition_point(|&c| c.into() < a);
    (k0, k0 + idx[k0..].partition_point(|&c| c.into() < b))
}

/// Entries `w0..w1` of a sorted row of `len` entries over `0..n_minor`
/// likely to hold the range `a..b` and an entry on either side: where the
/// range would sit if the row's columns were spread evenly, widened by four
/// standard deviations of that position (binomial) and [`SLACK`].
fn window(len: u64, a: u64, b: u64, n_minor: u64) -> (u64, u64) {
    let (n, l) = (n_minor.max(1) as f64, len as f64);
    let at = |x: u64| {
        let q = (x as f64 / n).clamp(0.0, 1.0);
        (l * q, 4.0 * (l * q * (1.0 - q)).sqrt() + SLACK)
    };
    let ((ea, ma), (eb, mb)) = (at(a), at(b));
    // Float to integer casts saturate (negative to 0).
    let w0 = ((ea - ma).floor() as u64).min(len);
    let w1 = ((eb + mb).ceil() as u64).clamp(w0, len);
    (w0, w1)
}

/// The range's bounds within `idx`, entries `w0..w1` of a sorted row of
/// `len`, when the window brackets them: it starts at the row's start or
/// below `a`, and ends at the row's end or at or above `b`.
fn bracket<S: Stored>(
    idx: &[S],
    (w0, w1): (u64, u64),
    len: u64,
    a: i128,
    b: i128,
) -> Option<(usize, usize)> {
    let starts_below = w0 == 0 || idx.first().is_some_and(|&c| c.into() < a);
    let ends_above = w1 == len || idx.last().is_some_and(|&c| c.into() >= b);
    (starts_below && ends_above).then(|| search(idx, a, b))
}

/// Where a row's kept entries are: read `round` (0: windows, 1: whole
/// rows), from `at` in that read, the row's window starting at entry `w0`,
/// entries `k0..k1` of the window.
#[derive(Clone, Copy, Default)]
struct Found {
    round: u8,
    at: usize,
    w0: u64,
    k0: usize,
    k1: usize,
}

/// The kept entries of rows `bounds` (each `(start, end)` in `indices`,
/// validated by the caller) for the minor range `a..b`, reading a window
/// of each row; `checked` reads every row whole and checks it instead
/// (rows not proven sorted), `None` when one fails.
pub(super) fn window_hits<S: Stored>(
    indices: &Dataset<'_>,
    bounds: &[(u64, u64)],
    (a, b): (u64, u64),
    n_minor: u64,
    checked: bool,
) -> Result<Option<Hits>> {
    let batched = indices.fetches_in_batches();
    let parts = crate::par::map(shares(bounds, batched), |rows| {
        share_hits::<S>(indices, rows, (a, b), n_minor, checked)
    })?;
    let parts: Option<Vec<Hits>> = parts.into_iter().collect();
    Ok(parts.map(|p| concat_hits(p, bounds.len())))
}

/// [`window_hits`] for one share of rows: its windows in one read, then the
/// rows they missed, whole, in another.
fn share_hits<S: Stored>(
    indices: &Dataset<'_>,
    rows: &[(u64, u64)],
    (a, b): (u64, u64),
    n_minor: u64,
    checked: bool,
) -> Result<Option<Hits>> {
    let elem = std::mem::size_of::<S>() as u64;
    let (a128, b128, n128) = (i128::from(a), i128::from(b), i128::from(n_minor));
    let mut windows: Vec<(u64, u64)> = Vec::with_capacity(rows.len());
    let mut runs: Vec<(u64, u64)> = Vec::with_capacity(rows.len());
    for &(lo, hi) in rows {
        let len = hi - lo;
        let mut w = (0, len);
        if !checked && len.saturating_mul(elem) > WHOLE_ROW {
            let (w0, w1) = window(len, a, b, n_minor);
            // A window of half the row or more: the row, which never misses.
            if (w1 - w0).saturating_mul(2) < len {
                w = (w0, w1);
            }
        }
        if w.1 > w.0 {
            runs.push((lo + w.0, w.1 - w.0));
        }
        windows.push(w);
    }
    let first = indices.read_runs::<S>(&runs)?;
    let mut found: Vec<Found> = Vec::with_capacity(rows.len());
    let mut again: Vec<usize> = Vec::new();
    let mut at = 0usize;
    for (r, (&(lo, hi), &w)) in rows.iter().zip(&windows).enumerate() {
        let idx = &first[at..at + (w.1 - w.0) as usize];
        if checked && !row_ok(idx, n128) {
            return Ok(None);
        }
        match bracket(idx, w, hi - lo, a128, b128) {
            Some((k0, k1)) => found.push(Found {
                round: 0,
                at,
                w0: w.0,
                k0,
                k1,
            }),
            None => {
                again.push(r);
                found.push(Found::default());
            }
        }
        at += idx.len();
    }
    let mut second = Vec::new();
    if !again.is_empty() {
        let runs: Vec<(u64, u64)> = again
            .iter()
            .map(|&r| (rows[r].0, rows[r].1 - rows[r].0))
            .collect();
        second = indices.read_runs::<S>(&runs)?;
        let mut at = 0usize;
        for (&r, &(_, n)) in again.iter().zip(&runs) {
            let idx = &second[at..at + n as usize];
            let (k0, k1) = search(idx, a128, b128);
            found[r] = Found {
                round: 1,
                at,
                w0: 0,
                k0,
                k1,
            };
            at += idx.len();
        }
    }
    let mut hits = Vec::new();
    let mut ends = Vec::with_capacity(rows.len());
    for (&(lo, _), f) in rows.iter().zip(&found) {
        let read = if f.round == 0 { &first } else { &second };
        let idx = &read[f.at + f.k0..f.at + f.k1];
        let start = lo + f.w0 + f.k0 as u64;
        hits.extend(
            idx.iter()
                .enumerate()
                .map(|(k, &c)| (start + k as u64, (c.into() - a128) as usize)),
        );
        ends.push(hits.len());
    }
    Ok(Some((hits, ends)))
}

/// One pass over all of `indices` (rows `ptr`, the whole `indptr`): proves
/// every row strictly increasing and in `0..n_minor` and finds the kept
/// entries of the selected rows `bounds` for the range `a..b`; `None` when
/// a row (or `indptr`) fails, for the general path to sort or report.
pub(super) fn prove_and_find<S: Stored>(
    indices: &Dataset<'_>,
    ptr: &[u64],
    bounds: &[(u64, u64)],
    (a, b): (u64, u64),
    n_minor: u64,
) -> Result<Option<Hits>> {
    let n_major = ptr.len().saturating_sub(1);
    if ptr.windows(2).any(|w| w[0] > w[1]) || ptr.last().is_some_and(|&e| e > indices.len()) {
        return Ok(None);
    }
    // Blocks of whole rows, about PASS_BLOCK bytes each (a longer row is a
    // block of its own).
    let per_block = (PASS_BLOCK / std::mem::size_of::<S>() as u64).max(1);
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut r0 = 0usize;
    while r0 < n_major {
        let limit = ptr[r0].saturating_add(per_block);
        let within = ptr[r0..].partition_point(|&p| p <= limit);
        let r1 = (r0 + within - 1).clamp(r0 + 1, n_major);
        blocks.push((r0, r1));
        r0 = r1;
    }
    // The selected rows that hold entries, by position in `indices`: each
    // lies in the one block holding its start.
    let mut order: Vec<usize> = (0..bounds.len())
        .filter(|&i| bounds[i].1 > bounds[i].0)
        .collect();
    order.sort_by_key(|&i| bounds[i].0);
    let mut items: Vec<(usize, usize, usize, usize)> = Vec::with_capacity(blocks.len());
    let mut s0 = 0usize;
    for (r0, r1) in blocks {
        let e1 = ptr[r1];
        let s1 = s0 + order[s0..].partition_point(|&i| bounds[i].0 < e1);
        items.push((r0, r1, s0, s1));
        s0 = s1;
    }
    let (a128, b128, n128) = (i128::from(a), i128::from(b), i128::from(n_minor));
    let order = &order;
    // Per block: its hits, and (selected row, start, end) in them.
    type BlockHits = (Vec<(u64, usize)>, Vec<(usize, usize, usize)>);
    let per_block = crate::par::map(items, |(r0, r1, s0, s1)| -> Result<Option<BlockHits>> {
        let e0 = ptr[r0];
        let idx = indices.read_range::<S>(e0, ptr[r1] - e0)?;
        let rows_ok = ptr[r0..=r1]
            .windows(2)
            .all(|w| row_ok(&idx[(w[0] - e0) as usize..(w[1] - e0) as usize], n128));
        if !rows_ok {
            return Ok(None);
        }
        let mut hits = Vec::new();
        let mut marks = Vec::with_capacity(s1 - s0);
        for &i in &order[s0..s1] {
            let (lo, hi) = bounds[i];
            // Inside the block by construction (rows and `bounds` come
            // from the same `indptr`); anything else goes the general way.
            let Some(row) = lo
                .checked_sub(e0)
                .and_then(|s| idx.get(s as usize..(hi - e0) as usize))
            else {
                return Ok(None);
            };
            let (k0, k1) = search(row, a128, b128);
            let start = hits.len();
            hits.extend(
                row[k0..k1]
                    .iter()
                    .enumerate()
                    .map(|(k, &c)| (lo + (k0 + k) as u64, (c.into() - a128) as usize)),
            );
            marks.push((i, start, hits.len()));
        }
        Ok(Some((hits, marks)))
    })?;
    let Some(per_block) = per_block.into_iter().collect::<Option<Vec<BlockHits>>>() else {
        return Ok(None);
    };
    // Back into selection order.
    let mut place: Vec<(usize, usize, usize)> = vec![(0, 0, 0); bounds.len()];
    for (k, (_, marks)) in per_block.iter().enumerate() {
        for &(i, s, e) in marks {
            place[i] = (k, s, e);
        }
    }
    let mut hits = Vec::with_capacity(per_block.iter().map(|b| b.0.len()).sum());
    let mut ends = Vec::with_capacity(bounds.len());
    for &(k, s, e) in &place {
        if e > s {
            hits.extend_from_slice(&per_block[k].0[s..e]);
        }
        ends.push(hits.len());
    }
    Ok(Some((hits, ends)))
}

/// Reads of `ds`'s `runs`, in order: one call when the source batches,
/// else shares of the runs over the workers (unfiltered data only: a
/// compressed chunk split between shares would be inflated twice).
fn read_runs_spread<T: H5Type>(ds: &Dataset<'_>, runs: &[(u64, u64)]) -> Result<Vec<T>> {
    let batched = ds.fetches_in_batches() || !ds.filters().is_empty();
    let parts = shares(runs, batched);
    if parts.len() <= 1 {
        return ds.read_runs::<T>(runs);
    }
    let parts = crate::par::map(parts, |share| ds.read_runs::<T>(share))?;
    let mut out =
        crate::buf::try_with_capacity(parts.iter().map(Vec::len).sum::<usize>(), "sparse values")?;
    for p in parts {
        out.extend_from_slice(&p);
    }
    Ok(out)
}

/// The values of `data` at `positions` (kept entries, in output order):
/// neighbouring positions read as one run, the runs in one batched call
/// (or spread over the workers for a local source), each value once.
pub(crate) fn read_values<T: H5Type>(data: &Dataset<'_>, positions: &[u64]) -> Result<Vec<T>> {
    let runs_of = |sorted: &mut dyn Iterator<Item = u64>| {
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for w in sorted {
            match runs.last_mut() {
                Some((s, c)) if *s + *c == w => *c += 1,
                _ => runs.push((w, 1)),
            }
        }
        runs
    };
    if positions.windows(2).all(|w| w[0] < w[1]) {
        // Already in file order, each once (rows selected in order): the
        // values come back in output order.
        let runs = runs_of(&mut positions.iter().copied());
        return read_runs_spread(data, &runs);
    }
    let mut wanted = positions.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let runs = runs_of(&mut wanted.iter().copied());
    let values = read_runs_spread::<T>(data, &runs)?;
    Ok(positions
        .iter()
        .map(|&p| values[wanted.partition_point(|&w| w < p)])
        .collect())
}
