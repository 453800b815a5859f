//! A dataset's elements decoded generically ([`Values`]): whole, a slab,
//! or block by block, within the file's limits.

use super::super::blocks::SlabBlocks;
use super::super::decode::decoded_len;
use super::super::hyperslab::element_count;
use super::super::{Dataset, Values};
use crate::error::{Error, Result};
use crate::format::message::dataspace::DataspaceKind;

impl<'f> Dataset<'f> {
    /// Every element, decoded generically (empty for a null dataspace).
    pub fn values(&self) -> Result<Values> {
        let dims = self.info.dims.clone();
        if self.info.kind == DataspaceKind::Null {
            return self.decode_raw(&[]);
        }
        self.values_slab(&vec![0u64; dims.len()], &dims)
    }

    /// The elements of the hyperslab `start`/`count` (C order), decoded
    /// generically.
    ///
    /// ```no_run
    /// let f = h5sparse::File::open("data.h5")?;
    /// let corner = f.dataset("/matrix")?.values_slab(&[0, 0], &[2, 2])?;
    /// assert_eq!(corner.len(), 4);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn values_slab(&self, start: &[u64], count: &[u64]) -> Result<Values> {
        let raw = self.read_raw(start, count)?;
        self.decode_raw(&raw)
    }

    /// Every element in C order, as consecutive blocks of at most
    /// `max_elements` values each (empty for a null dataspace), so that a
    /// dataset of any size can be printed or scanned in bounded memory.
    /// Each block is one hyperslab read; an error ends the iteration. What
    /// [`Dataset::values`] would refuse for its size (the [`Limits`] on the
    /// whole read and the decoded values) is refused as the first item.
    ///
    /// [`Limits`]: crate::Limits
    ///
    /// ```no_run
    /// let f = h5sparse::File::open("data.h5")?;
    /// let mut n = 0;
    /// for block in f.dataset("/X/data")?.values_in_blocks(1 << 16) {
    ///     n += block?.len();
    /// }
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn values_in_blocks(&self, max_elements: u64) -> impl Iterator<Item = Result<Values>> + '_ {
        let mut plan = SlabBlocks::new(&self.info.dims, max_elements);
        if self.info.kind == DataspaceKind::Null {
            plan.done = true;
        }
        // What a whole read refuses is refused first: the limits bound the
        // work of a scan as well as its memory.
        let mut refused = if plan.done {
            None
        } else {
            self.check_values_budget().err()
        };
        let mut failed = false;
        std::iter::from_fn(move || {
            if let Some(e) = refused.take() {
                failed = true;
                return Some(Err(e));
            }
            if failed {
                return None;
            }
            let (start, count) = plan.next()?;
            let v = self.values_slab(&start, &count);
            failed = v.is_err();
            Some(v)
        })
    }

    /// Checks the budgets a whole [`Dataset::values`] would check (the raw
    /// read and the decoded values against `max_alloc`), so that reading
    /// block by block refuses what a whole read refuses, with the same
    /// errors.
    fn check_values_budget(&self) -> Result<()> {
        let n = element_count(&self.info.dims, &self.path)?;
        let bytes = n
            .checked_mul(self.info.elem as u64)
            .ok_or_else(|| Error::invalid("selection size overflows"))?;
        self.file.limits.check_alloc("dataset read", bytes)?;
        self.check_storage_fits()?;
        self.file
            .limits
            .check_alloc("decoded values", decoded_len(&self.info.dtype, n))
    }

    /// Decodes raw element bytes of this dataset into [`Values`].
    fn decode_raw(&self, raw: &[u8]) -> Result<Values> {
        let at = self.file.view().abs_u64(self.address);
        self.file
            .decode(&self.info.dtype, raw, at)
            .map_err(|e| e.context(&self.path))
    }
}
