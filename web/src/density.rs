//! `DensityPlot`: stored-value counts per pixel block of a whole sparse
//! matrix, streamed from `indptr` and `indices` (never `data`), in steps
//! the caller paces (a worker reports progress between them).

use std::sync::Arc;

use h5sparse::sparse::{IndexType, SparseDataset, SparseFormat};
use h5sparse::{Error, File, Result};
use js_sys::Uint32Array;
use wasm_bindgen::prelude::*;

use crate::{js_err, JsResult};

/// The largest side of a plot, in pixels.
const MAX_SIDE: u32 = 4096;

/// A density plot in progress (`DensityPlot` in JavaScript).
///
/// ```js
/// const plot = file.density("/X", 400, 300);   // reads indptr
/// while (!plot.done) plot.step(1 << 20);       // 1 Mi indices per step
/// const counts = plot.counts();                // Uint32Array, row-major, 400 × 300
/// ```
#[wasm_bindgen(js_name = DensityPlot)]
pub struct WebDensity {
    file: Arc<File>,
    path: String,
    /// The matrix's rows and columns.
    shape: [u64; 2],
    csr: bool,
    indptr: Vec<u64>,
    width: u32,
    height: u32,
    counts: Vec<u32>,
    /// The next stored entry to read, and the major index it belongs to.
    pos: u64,
    major: usize,
}

impl WebDensity {
    pub(crate) fn new(
        file: Arc<File>,
        path: &str,
        width: u32,
        height: u32,
    ) -> JsResult<WebDensity> {
        if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
            return Err(js_err(format!(
                "density plot of {width} × {height} pixels: each side must be 1 to {MAX_SIDE}"
            )));
        }
        let (shape, csr, indptr, path) = {
            let x = SparseDataset::open(&file, path).map_err(js_err)?;
            let n = x.indptr().len();
            let indptr = <u64 as IndexType>::gather(x.indptr(), &[(0, n)]).map_err(js_err)?;
            check_indptr(&indptr, x.indices().len(), x.group().path()).map_err(js_err)?;
            let csr = x.format() == SparseFormat::Csr;
            let major = if csr { x.shape()[0] } else { x.shape()[1] };
            if indptr.len() as u64 != major + 1 {
                return Err(js_err(format!(
                    "{}/indptr: expected {} entries for the shape {:?}, found {}",
                    x.group().path(),
                    major + 1,
                    x.shape(),
                    indptr.len()
                )));
            }
            (x.shape(), csr, indptr, x.group().path().to_string())
        };
        let pos = indptr.first().copied().unwrap_or(0);
        Ok(WebDensity {
            file,
            path,
            shape,
            csr,
            indptr,
            width,
            height,
            counts: vec![0; width as usize * height as usize],
            pos,
            major: 0,
        })
    }

    fn end(&self) -> u64 {
        self.indptr.last().copied().unwrap_or(0)
    }

    fn step_inner(&mut self, max_entries: u64) -> Result<()> {
        let end = self.end();
        if self.pos >= end {
            return Ok(());
        }
        let count = max_entries.max(1).min(end - self.pos);
        let x = SparseDataset::open(&self.file, &self.path)?;
        let indices = <u64 as IndexType>::gather(x.indices(), &[(self.pos, count)])?;
        let (n_rows, n_cols) = (self.shape[0], self.shape[1]);
        let n_minor = if self.csr { n_cols } else { n_rows };
        let (w, h) = (self.width as usize, self.height as usize);
        // Pixel of a row / column: floor(i * side / n) in f64, as JavaScript computes it
        // (exact products below 2^53), clamped to the last pixel.
        let pixel = |i: u64, side: usize, n: u64| -> usize {
            (((i as f64) * (side as f64) / (n.max(1) as f64)) as usize).min(side - 1)
        };
        let mut major_pixel = None;
        for (k, &minor) in indices.iter().enumerate() {
            let at = self.pos + k as u64;
            while self.indptr[self.major + 1] <= at {
                self.major += 1;
                major_pixel = None;
            }
            if minor >= n_minor {
                return Err(Error::invalid(format!(
                    "{}/indices[{at}]: expected an index below {n_minor}, found {minor}",
                    self.path
                )));
            }
            let major = self.major as u64;
            let cell = if self.csr {
                let y = *major_pixel.get_or_insert_with(|| pixel(major, h, n_rows));
                y * w + pixel(minor, w, n_cols)
            } else {
                let x = *major_pixel.get_or_insert_with(|| pixel(major, w, n_cols));
                pixel(minor, h, n_rows) * w + x
            };
            let c = &mut self.counts[cell];
            *c = c.saturating_add(1);
        }
        self.pos += count;
        Ok(())
    }
}

#[wasm_bindgen(js_class = DensityPlot)]
impl WebDensity {
    /// Reads up to `max_entries` more stored indices and counts them;
    /// returns the fraction done (0 to 1).
    pub fn step(&mut self, max_entries: f64) -> JsResult<f64> {
        self.step_inner(max_entries.max(1.0) as u64)
            .map_err(js_err)?;
        Ok(self.progress())
    }

    /// The fraction of stored values counted so far.
    #[wasm_bindgen(getter)]
    pub fn progress(&self) -> f64 {
        let start = self.indptr.first().copied().unwrap_or(0);
        let total = self.end() - start;
        if total == 0 {
            1.0
        } else {
            (self.pos - start) as f64 / total as f64
        }
    }

    /// Whether every stored value has been counted.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.pos >= self.end()
    }

    /// The counts so far: `width × height` values, row-major (row 0 at
    /// the top is the matrix's first rows).
    pub fn counts(&self) -> Uint32Array {
        Uint32Array::from(&self.counts[..])
    }

    /// The plot's width in pixels.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The plot's height in pixels.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.height
    }
}

/// `indptr` must not decrease and must end within `indices`.
fn check_indptr(indptr: &[u64], n_indices: u64, path: &str) -> Result<()> {
    if let Some(i) = indptr.windows(2).position(|w| w[1] < w[0]) {
        return Err(Error::invalid(format!(
            "{path}/indptr: expected non-decreasing offsets, found {} then {} at entry {}",
            indptr[i],
            indptr[i + 1],
            i + 1
        )));
    }
    match indptr.last() {
        Some(&last) if last > n_indices => Err(Error::invalid(format!(
            "{path}/indptr: the last offset {last} is past the end of indices ({n_indices} entries)"
        ))),
        _ => Ok(()),
    }
}
