//! Announcing the data a read will need to a remote source, a window at a
//! time, and copying it out: see [`crate::format::FileView::prefetch`].

use std::borrow::Cow;

use super::file::ReadThrough;
use crate::error::Result;
use crate::format::{Address, FileView};
use crate::io::paged::PREFETCH_WINDOW;

/// The (address, length) ranges a read visits, in its order, announced
/// [`PREFETCH_WINDOW`] bytes at a time just before the read reaches them.
/// Holds nothing (and costs nothing) when the file is mapped, in memory or
/// local: those reads need no announcing.
pub(crate) struct Ahead<'a> {
    view: FileView<'a>,
    ranges: Vec<(Address, u64)>,
    /// The first range not announced yet.
    next: usize,
}

impl<'a> Ahead<'a> {
    /// For the ranges `ranges()` lists (called only when `view` prefetches).
    pub(crate) fn new(
        view: FileView<'a>,
        ranges: impl FnOnce() -> Vec<(Address, u64)>,
    ) -> Ahead<'a> {
        let ranges = if view.wants_prefetch() {
            ranges()
        } else {
            Vec::new()
        };
        Ahead {
            view,
            ranges,
            next: 0,
        }
    }

    /// Before the read of range `i`: announces it and those after it, up
    /// to a window of bytes, unless already announced.
    pub(crate) fn reach(&mut self, i: usize) {
        if i < self.next || i >= self.ranges.len() {
            return;
        }
        let mut end = i;
        let mut bytes = 0u64;
        while let Some(&(_, n)) = self.ranges.get(end) {
            if end > i && bytes.saturating_add(n) > PREFETCH_WINDOW {
                break;
            }
            bytes = bytes.saturating_add(n);
            end += 1;
        }
        self.view.prefetch(&self.ranges[i..end]);
        self.next = end;
    }

    /// Before reading ranges `range`: [`Ahead::reach`] for each.
    pub(crate) fn reach_all(&mut self, range: std::ops::Range<usize>) {
        for i in range {
            self.reach(i);
        }
    }
}

/// Fills `out` with the data at `addr`: copied from the map (and handed to
/// `through` when streaming), or read straight into `out` from a paged
/// source.
pub(crate) fn copy_data(
    view: &FileView<'_>,
    addr: Address,
    out: &mut [u8],
    through: &mut Option<ReadThrough<'_>>,
    what: &str,
) -> Result<()> {
    if view.bytes().is_none() {
        return view.read_data_into(addr, out, what);
    }
    let src = view.data(addr, out.len() as u64, what)?;
    out.copy_from_slice(&src);
    if let (Some(t), Cow::Borrowed(part)) = (through, &src) {
        t.done(part);
    }
    Ok(())
}

/// Reads `(address, output offset, length)` pieces of data straight into
/// `out` with one [`FileView::read_data_many`] call, when `view` is a paged
/// source: a local file without a map (its reads go out together, on
/// several threads) or a remote one (one planned batch of requests, the
/// bytes landing in `out` rather than in staged parts copied after).
/// `Ok(false)`, with nothing read, for files in memory or mapped, for a
/// single local piece (the ordinary read is as good) and when pieces
/// overlap in `out`.
pub(crate) fn read_pieces_direct(
    view: &FileView<'_>,
    out: &mut [u8],
    pieces: &[(Address, usize, usize)],
    what: &str,
) -> Result<bool> {
    // One local piece is read as well by the ordinary path; a remote one
    // goes here too, so it lands in `out` without a staging copy.
    if view.bytes().is_some() || pieces.is_empty() || (pieces.len() < 2 && !view.wants_prefetch()) {
        return Ok(false);
    }
    // Pieces by output offset, cut out of `out` one after another.
    let mut order: Vec<usize> = (0..pieces.len()).collect();
    order.sort_unstable_by_key(|&k| pieces[k].1);
    let mut places: Vec<Option<&mut [u8]>> = (0..pieces.len()).map(|_| None).collect();
    let (mut rest, mut at) = (out, 0usize);
    for k in order {
        let (_, dst, n) = pieces[k];
        if dst < at || dst - at > rest.len() || n > rest.len() - (dst - at) {
            return Ok(false);
        }
        let (_, tail) = std::mem::take(&mut rest).split_at_mut(dst - at);
        let (place, tail) = tail.split_at_mut(n);
        places[k] = Some(place);
        (rest, at) = (tail, dst + n);
    }
    let mut reads: Vec<(Address, &mut [u8])> = pieces
        .iter()
        .zip(places)
        .filter_map(|(&(addr, _, _), place)| Some((addr, place?)))
        .collect();
    view.read_data_many(&mut reads, what)?;
    Ok(true)
}
