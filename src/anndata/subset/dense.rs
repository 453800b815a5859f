//! Streaming `a[rows][:, cols]` of a dense array (X, layers, obsm, varm,
//! obsp, varp), block by block along axis 0, as raw element bytes.
//!
//! Each block is about `block_bytes` of input rows. Its rows are read as
//! one covering hyperslab when they are dense enough in the file (every
//! chunk decoded once), else run by run; columns, when selected, are
//! gathered per row. Bytes come out in native byte order, for the dtype
//! [`DenseSubset::dtype`] names.

use crate::anndata::WriteOptions;
use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dtype, File};

use super::Take;

/// Where the row blocks of a streamed dense array go.
pub(crate) trait DenseSink {
    /// Appends whole rows of the result, in C order, native byte order.
    fn push_raw(&mut self, rows: &[u8]) -> Result<()>;
}

/// Whether the raw bytes of `dtype` can be streamed as they are (numbers,
/// bools, fixed-length strings): no heap references inside.
pub(crate) fn streamable(dtype: &Dtype) -> bool {
    matches!(
        dtype,
        Dtype::Int { .. } | Dtype::Float { .. } | Dtype::Bool | Dtype::FixedString { .. }
    )
}

/// A planned subset of one dense array along axis 0 (and axis 1 when
/// `cols` is given).
#[derive(Debug)]
pub(crate) struct DenseSubset<'t> {
    path: String,
    shape: Vec<u64>,
    dtype: Dtype,
    rows: &'t Take,
    cols: Option<&'t Take>,
    block_rows: u64,
}

impl<'t> DenseSubset<'t> {
    /// Plans `a[rows]` (1-D or more) or `a[rows][:, cols]` (2-D).
    pub(crate) fn plan(
        file: &File,
        path: &str,
        rows: &'t Take,
        cols: Option<&'t Take>,
        block_bytes: usize,
    ) -> Result<DenseSubset<'t>> {
        let ds = file.dataset(path)?;
        let shape = ds.shape().unwrap_or(&[]).to_vec();
        let dtype = ds.dtype().clone();
        if !streamable(&dtype) {
            return Err(Error::unsupported(format!(
                "{path}: streaming arrays of type {}",
                dtype.numpy_str()
            )));
        }
        let Some(&n) = shape.first() else {
            return Err(Error::invalid(format!(
                "{path}: a scalar has no rows to subset"
            )));
        };
        rows.check(n, "rows")?;
        if let Some(cols) = cols {
            if shape.len() != 2 {
                return Err(Error::invalid(format!(
                    "{path}: columns selected on an array of rank {}",
                    shape.len()
                )));
            }
            cols.check(shape[1], "columns")?;
        }
        let row_bytes = shape[1..]
            .iter()
            .try_fold(dtype.size() as u64, |a, &d| a.checked_mul(d))
            .ok_or_else(|| Error::invalid(format!("{path}: row size overflows")))?;
        // A row as read, its selected columns, and the writer's copy.
        let block_rows = WriteOptions {
            block_bytes,
            ..WriteOptions::default()
        }
        .per_block(row_bytes.saturating_mul(3));
        Ok(DenseSubset {
            path: path.to_string(),
            shape,
            dtype,
            rows,
            cols,
            block_rows,
        })
    }

    /// The result's shape.
    pub(crate) fn shape(&self) -> Vec<u64> {
        let mut s = self.shape.clone();
        s[0] = self.rows.len(self.shape[0]);
        if let Some(cols) = self.cols {
            s[1] = cols.len(self.shape[1]);
        }
        s
    }

    /// The element type of the bytes pushed (native byte order).
    pub(crate) fn dtype(&self) -> Dtype {
        match &self.dtype {
            Dtype::Int { size, signed, .. } => Dtype::Int {
                size: *size,
                signed: *signed,
                order: ByteOrder::NATIVE,
            },
            Dtype::Float { size, .. } => Dtype::Float {
                size: *size,
                order: ByteOrder::NATIVE,
            },
            other => other.clone(),
        }
    }

    /// Reads every block of rows, gathers columns, pushes into `sink`;
    /// `progress` is told the bytes read after each block.
    pub(crate) fn run(
        &self,
        file: &File,
        sink: &mut impl DenseSink,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let ds = file.dataset(&self.path)?;
        let es = self.dtype.size();
        let row_elems: u64 = self.shape[1..].iter().product();
        let row_bytes = row_elems as usize * es;
        let n_out = self.rows.len(self.shape[0]);
        let swap = match &self.dtype {
            Dtype::Int { order, .. } | Dtype::Float { order, .. } => *order != ByteOrder::NATIVE,
            _ => false,
        };
        let mut out: Vec<u8> = Vec::new();
        let mut from = 0u64;
        while from < n_out {
            let to = (from + self.block_rows).min(n_out);
            out.clear();
            let count = to - from;
            let read_rows = |start: u64, len: u64| -> Result<Vec<u8>> {
                let mut s = vec![0u64; self.shape.len()];
                let mut c = self.shape.clone();
                s[0] = start;
                c[0] = len;
                ds.read_raw(&s, &c)
            };
            // Rows of this block, each one slice of `buf` at `offsets[k]`.
            let (buf, offsets): (Vec<u8>, Vec<usize>) = match self.rows.run_start(from, to) {
                Some(first) => (
                    read_rows(first, count)?,
                    (0..count as usize).map(|k| k * row_bytes).collect(),
                ),
                None => {
                    let picked: Vec<u64> = (from..to).map(|i| self.rows.get(i)).collect();
                    let lo = *picked.iter().min().unwrap_or(&0);
                    let hi = *picked.iter().max().unwrap_or(&0) + 1;
                    if hi - lo <= 2 * count {
                        // Dense enough: one covering read.
                        let buf = read_rows(lo, hi - lo)?;
                        let offs = picked
                            .iter()
                            .map(|&p| (p - lo) as usize * row_bytes)
                            .collect();
                        (buf, offs)
                    } else {
                        // Sparse picks: the distinct rows, ascending, in runs.
                        let mut sorted = picked.clone();
                        sorted.sort_unstable();
                        sorted.dedup();
                        let mut buf = Vec::with_capacity(sorted.len() * row_bytes);
                        let mut k = 0;
                        while k < sorted.len() {
                            let mut e = k + 1;
                            while e < sorted.len() && sorted[e] == sorted[e - 1] + 1 {
                                e += 1;
                            }
                            buf.extend_from_slice(&read_rows(sorted[k], (e - k) as u64)?);
                            k = e;
                        }
                        let offs = picked
                            .iter()
                            .map(|p| sorted.partition_point(|s| s < p) * row_bytes)
                            .collect();
                        (buf, offs)
                    }
                }
            };
            for &o in &offsets {
                let row = &buf[o..o + row_bytes];
                match self.cols {
                    None => out.extend_from_slice(row),
                    Some(cols) => {
                        for j in 0..cols.len(self.shape[1]) {
                            let c = cols.get(j) as usize * es;
                            out.extend_from_slice(&row[c..c + es]);
                        }
                    }
                }
            }
            if swap && es > 1 {
                for e in out.chunks_exact_mut(es) {
                    e.reverse();
                }
            }
            sink.push_raw(&out)?;
            progress(buf.len() as u64);
            from = to;
        }
        Ok(())
    }
}
