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
