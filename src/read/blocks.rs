//! Splitting a dataset's shape into bounded hyperslabs, for reading values
//! block by block ([`Dataset::values_in_blocks`](super::Dataset::values_in_blocks)).

/// Consecutive hyperslabs covering a shape in C order, each at most a given
/// number of elements: whole trailing dimensions where they fit, split along
/// the first axis whose trailing block fits, one index at a time before it.
pub(crate) struct SlabBlocks {
    dims: Vec<u64>,
    /// The axis split into runs of `step`.
    axis: usize,
    step: u64,
    /// The next block's index on axes `..=axis`.
    next: Vec<u64>,
    pub(crate) done: bool,
}

impl SlabBlocks {
    pub(crate) fn new(dims: &[u64], max_elements: u64) -> SlabBlocks {
        let budget = max_elements.max(1);
        let rank = dims.len();
        // Split the first axis whose trailing dimensions fit in the budget
        // (`trailing` is the product of those after `axis`).
        let mut axis = rank.saturating_sub(1);
        let mut trailing = 1u64;
        while axis > 0 {
            let with_axis = trailing.saturating_mul(dims[axis]);
            if with_axis > budget {
                break;
            }
            trailing = with_axis;
            axis -= 1;
        }
        let step = (budget / trailing.max(1)).max(1);
        SlabBlocks {
            dims: dims.to_vec(),
            axis,
            step,
            next: vec![0; rank.min(axis + 1)],
            done: dims.contains(&0),
        }
    }

    /// The next block as `(start, count)`.
    pub(crate) fn next(&mut self) -> Option<(Vec<u64>, Vec<u64>)> {
        if self.done {
            return None;
        }
        let rank = self.dims.len();
        if rank == 0 {
            self.done = true;
            return Some((Vec::new(), Vec::new()));
        }
        let axis = self.axis;
        let mut start = vec![0u64; rank];
        let mut count = self.dims.clone();
        for k in 0..axis {
            start[k] = self.next[k];
            count[k] = 1;
        }
        let pos = self.next[axis];
        let n = self.step.min(self.dims[axis] - pos);
        start[axis] = pos;
        count[axis] = n;
        // Advance: along the axis, then the odometer before it.
        self.next[axis] = pos + n;
        if self.next[axis] >= self.dims[axis] {
            self.next[axis] = 0;
            let mut k = axis;
            loop {
                if k == 0 {
                    self.done = true;
                    break;
                }
                k -= 1;
                self.next[k] += 1;
                if self.next[k] < self.dims[k] {
                    break;
                }
                self.next[k] = 0;
            }
        }
        Some((start, count))
    }
}

#[cfg(test)]
mod tests {
    use super::SlabBlocks;

    /// Every element of `dims` in C order, from the blocks.
    fn covered(dims: &[u64], budget: u64) -> (Vec<Vec<u64>>, usize) {
        let mut plan = SlabBlocks::new(dims, budget);
        let mut out = Vec::new();
        let mut blocks = 0;
        while let Some((start, count)) = plan.next() {
            blocks += 1;
            let n: u64 = count.iter().product();
            assert!(n <= budget.max(1), "{dims:?} {budget}: block {count:?}");
            // Enumerate the block's indices in C order.
            let mut idx = start.clone();
            for _ in 0..n {
                out.push(idx.clone());
                for k in (0..idx.len()).rev() {
                    idx[k] += 1;
                    if idx[k] < start[k] + count[k] {
                        break;
                    }
                    idx[k] = start[k];
                }
            }
        }
        (out, blocks)
    }

    fn all(dims: &[u64]) -> Vec<Vec<u64>> {
        let mut out = Vec::new();
        let n: u64 = dims.iter().product();
        let mut idx = vec![0u64; dims.len()];
        for _ in 0..n {
            out.push(idx.clone());
            for k in (0..idx.len()).rev() {
                idx[k] += 1;
                if idx[k] < dims[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        out
    }

    #[test]
    fn blocks_cover_every_shape_in_c_order() {
        for dims in [
            vec![],
            vec![0],
            vec![1],
            vec![7],
            vec![3, 5],
            vec![4, 0, 2],
            vec![2, 3, 4],
            vec![5, 1, 7],
        ] {
            for budget in [0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 24, 100] {
                let (got, _) = covered(&dims, budget);
                assert_eq!(got, all(&dims), "{dims:?} budget {budget}");
            }
        }
        // Whole trailing rows when they fit: 3 blocks of 2 rows.
        assert_eq!(covered(&[6, 4], 8).1, 3);
    }
}
