//! Where each selected minor index goes in a minor-axis selection's output.

use crate::error::{Error, Result};

/// For each selected minor index, the chain of output positions selecting
/// it: `head(col)` then `next[pos]` until `u32::MAX`.
///
/// The head table is dense over the selection's span when that span is
/// small next to the selection, and a sorted list searched by bisection
/// otherwise, so its size follows the selection and never the stored
/// (possibly absurd) minor dimension.
pub(super) struct MinorChains {
    heads: Heads,
    pub(super) next: Vec<u32>,
}

enum Heads {
    /// `first[col - lo]`.
    Dense { lo: u64, first: Vec<u32> },
    /// `(col, first position)`, sorted by col.
    Sorted(Vec<(u64, u32)>),
}

impl MinorChains {
    pub(super) fn new(minors: &[u64]) -> Result<MinorChains> {
        if minors.len() >= u32::MAX as usize {
            return Err(Error::invalid("minor selection longer than 2^32"));
        }
        let mut next = vec![u32::MAX; minors.len()];
        let (Some(&lo), Some(&hi)) = (minors.iter().min(), minors.iter().max()) else {
            return Ok(MinorChains {
                heads: Heads::Sorted(Vec::new()),
                next,
            });
        };
        let span = hi - lo + 1;
        let heads = if span <= 4 * minors.len() as u64 + 4096 {
            let mut first = vec![u32::MAX; span as usize];
            // Insert in reverse so each chain lists positions in increasing order.
            for (p, &c) in minors.iter().enumerate().rev() {
                let slot = &mut first[(c - lo) as usize];
                next[p] = *slot;
                *slot = p as u32;
            }
            Heads::Dense { lo, first }
        } else {
            let mut order: Vec<(u64, u32)> = minors
                .iter()
                .enumerate()
                .map(|(p, &c)| (c, p as u32))
                .collect();
            order.sort_unstable();
            let mut heads: Vec<(u64, u32)> = Vec::new();
            for w in 0..order.len() {
                let (c, p) = order[w];
                match order.get(w + 1) {
                    Some(&(c2, p2)) if c2 == c => next[p as usize] = p2,
                    _ => {}
                }
                if heads.last().map(|h| h.0) != Some(c) {
                    heads.push((c, p));
                }
            }
            Heads::Sorted(heads)
        };
        Ok(MinorChains { heads, next })
    }

    /// The first output position selecting `col`, or `u32::MAX`.
    #[inline]
    pub(super) fn head(&self, col: u64) -> u32 {
        match &self.heads {
            Heads::Dense { lo, first } => col
                .checked_sub(*lo)
                .and_then(|k| first.get(k as usize))
                .copied()
                .unwrap_or(u32::MAX),
            Heads::Sorted(heads) => match heads.binary_search_by_key(&col, |h| h.0) {
                Ok(k) => heads[k].1,
                Err(_) => u32::MAX,
            },
        }
    }
}
