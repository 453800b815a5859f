//! A sparse matrix stored in an HDF5 group, read as if it were in memory.

use std::fmt;

use sprs::{CsMat, CsMatI};

use super::index_type::read_ints;
use super::index_type::IndexType;
use super::selection::Sel;
use super::{detect, Convention, SparseFormat, SparseInfo};
use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype, File, Group, H5Type};

/// A CSR or CSC matrix in a group (`data`, `indices`, `indptr` plus the
/// convention's format and shape), indexed without loading it.
///
/// Reads return [`sprs::CsMat`] in the stored orientation. A selection of
/// the major axis (rows of CSR, columns of CSC) reads only the needed
/// ranges of `data` and `indices`; a minor-axis selection filters each
/// selected major row's entries and never loads the rest.
///
/// This is the reader over one [`File`] snapshot, borrowed from it; most
/// code wants [`H5File::sparse`](crate::H5File::sparse) instead, whose
/// [`SparseHandle`](crate::SparseHandle) has no lifetime, takes Rust-syntax
/// selections (`x.read(1..5, ..)`) and writes too.
///
/// ```
/// use h5sparse::sparse::{Sel, SparseDataset};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
/// let file = h5sparse::File::open(path)?;
/// let x = SparseDataset::open(&file, "/X")?;
/// assert_eq!(x.to_string(), "<HDF5 sparse dataset: format 'csr', shape (6, 3), type '<i8'>");
/// let cols = x.read::<i64>(&Sel::All, &Sel::range(1, 3))?;
/// assert_eq!(cols.to_dense()[[0, 0]], 18);
/// assert_eq!(x.get::<i64>(3, 1)?, 4);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug)]
pub struct SparseDataset<'f> {
    group: Group<'f>,
    info: SparseInfo,
    data: Dataset<'f>,
    indices: Dataset<'f>,
    indptr: Dataset<'f>,
    /// Whether every stored row's indices are strictly increasing and in
    /// range (see `sorted.rs`), once known.
    pub(crate) sorted_rows: std::sync::OnceLock<bool>,
    /// All of `indptr`, widened, once read (`None` when it could not be
    /// read whole): kept for files read by positional reads, where every
    /// row lookup would otherwise cost a system call.
    indptr_kept: std::sync::OnceLock<Option<Vec<u64>>>,
}

impl fmt::Display for SparseDataset<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<HDF5 sparse dataset: format '{}', shape ({}, {}), type '{}'>",
            self.info.format.as_str(),
            self.info.shape[0],
            self.info.shape[1],
            self.info.data_dtype.numpy_str()
        )
    }
}

/// `(start, end)` of one major row's entries in `data`/`indices`.
type Bounds = (u64, u64);
/// `(start, count)` of a range read from `data`/`indices`.
type Run = (u64, u64);

impl<'f> SparseDataset<'f> {
    /// Opens the sparse matrix group at `path`.
    ///
    /// ```
    /// use h5sparse::sparse::SparseDataset;
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.shape(), [6, 3]);
    /// assert!(SparseDataset::open(&file, "/Y").is_err());      // a dense dataset
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn open(file: &'f File, path: &str) -> Result<SparseDataset<'f>> {
        SparseDataset::from_group(file.group(path)?)
    }

    /// Wraps a group recognised by [`detect`].
    ///
    /// ```
    /// use h5sparse::sparse::{detect, SparseDataset};
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let mut matrices = Vec::new();
    /// for link in file.root()?.links()? {                      // every sparse group at the top
    ///     if let h5sparse::Node::Group(g) = file.root()?.follow(&link)? {
    ///         if detect(&g)?.is_some() {
    ///             matrices.push(SparseDataset::from_group(g)?);
    ///         }
    ///     }
    /// }
    /// assert_eq!(matrices.iter().map(|x| x.group().path()).collect::<Vec<_>>(), ["/X"]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn from_group(group: Group<'f>) -> Result<SparseDataset<'f>> {
        let info = detect(&group)?.ok_or_else(|| {
            Error::invalid(format!(
                "{} is not a sparse matrix (no h5sparse, anndata or 10x markers with data/indices/indptr)",
                group.path()
            ))
        })?;
        let ds = |name: &str| -> Result<Dataset<'f>> {
            match group.get(name)? {
                crate::read::Node::Dataset(d) => Ok(d),
                _ => Err(Error::invalid(format!(
                    "{}/{name} is not a dataset",
                    group.path()
                ))),
            }
        };
        let data = ds("data")?;
        let indices = ds("indices")?;
        let indptr = ds("indptr")?;
        let major = match info.format {
            SparseFormat::Csr => info.shape[0],
            SparseFormat::Csc => info.shape[1],
        };
        let indptr_len = indptr.shape().and_then(|s| s.first().copied()).unwrap_or(0);
        // Longer is tolerated: an append interrupted before the shape
        // attribute was updated leaves indptr one row ahead of the shape.
        if indptr_len < major + 1 {
            return Err(Error::invalid(format!(
                "{}: indptr has {indptr_len} entries, the shape needs {}",
                group.path(),
                major + 1
            )));
        }
        Ok(SparseDataset {
            group,
            info,
            data,
            indices,
            indptr,
            sorted_rows: std::sync::OnceLock::new(),
            indptr_kept: std::sync::OnceLock::new(),
        })
    }

    /// CSR or CSC.
    ///
    /// ```
    /// use h5sparse::sparse::{SparseDataset, SparseFormat};
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(SparseDataset::open(&file, "/X")?.format(), SparseFormat::Csr);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn format(&self) -> SparseFormat {
        self.info.format
    }

    /// (rows, columns).
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(h5sparse::sparse::SparseDataset::open(&file, "/X")?.shape(), [6, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn shape(&self) -> [u64; 2] {
        self.info.shape
    }

    /// Stored entries.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(h5sparse::sparse::SparseDataset::open(&file, "/X")?.nnz(), 6);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn nnz(&self) -> u64 {
        self.info.nnz_stored
    }

    /// Element type of the values.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.dtype().numpy_str(), "<f4");                // read::<f32>
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dtype(&self) -> &Dtype {
        &self.info.data_dtype
    }

    /// Everything [`detect`] found: convention, format, shape, stored
    /// count, dtypes.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let info = h5sparse::sparse::SparseDataset::open(&file, "/X")?.info().clone();
    /// assert_eq!((info.shape, info.nnz_stored), ([20, 12], 72));
    /// assert_eq!(info.indptr_dtype.numpy_str(), "<i4");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn info(&self) -> &SparseInfo {
        &self.info
    }

    /// Which convention marked the group.
    ///
    /// ```
    /// use h5sparse::sparse::{Convention, SparseDataset};
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(SparseDataset::open(&file, "/X")?.convention(), Convention::H5sparse);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn convention(&self) -> Convention {
        self.info.convention
    }

    /// The `indices` dataset.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.indices().read::<i32>()?, vec![1, 2, 0, 1, 1, 2]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn indices(&self) -> &Dataset<'f> {
        &self.indices
    }

    /// The `indptr` dataset.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.indptr().read::<i32>()?, vec![0, 1, 2, 2, 4, 5, 6]);
    /// assert_eq!(x.indptr().maxshape(), Some(vec![None]));     // growable: rows can be appended
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn indptr(&self) -> &Dataset<'f> {
        &self.indptr
    }

    /// The `data` dataset.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// assert_eq!(x.data().read::<i64>()?, vec![18, 4, 3, 4, 36, 8]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn data(&self) -> &Dataset<'f> {
        &self.data
    }

    /// The group.
    ///
    /// ```
    /// use h5sparse::Values;
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// let attr = x.group().attribute("h5sparse_format")?.expect("the h5sparse marker");
    /// assert_eq!(attr.values()?, Values::Str(vec!["csr".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn group(&self) -> &Group<'f> {
        &self.group
    }

    /// (major, minor) axis lengths.
    pub(crate) fn axes(&self) -> (u64, u64) {
        match self.info.format {
            SparseFormat::Csr => (self.info.shape[0], self.info.shape[1]),
            SparseFormat::Csc => (self.info.shape[1], self.info.shape[0]),
        }
    }

    /// The whole matrix.
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let m = h5sparse::sparse::SparseDataset::open(&file, "/X")?.to_memory::<i64>()?;
    /// assert_eq!(m.to_dense().row(0).to_vec(), vec![0, 18, 0]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_memory<T: H5Type>(&self) -> Result<CsMat<T>> {
        self.read(&Sel::All, &Sel::All)
    }

    /// The whole matrix, with indices of type `I` (e.g. `i32`, as scipy).
    ///
    /// ```
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let x = h5sparse::sparse::SparseDataset::open(&file, "/X")?;
    /// let m = x.to_memory_as::<f32, i32>()?;                   // as scipy holds it
    /// assert_eq!((m.shape(), m.nnz()), ((20, 12), 72));
    /// assert_eq!(m.indptr().raw_storage()[..4], [0, 2, 3, 7]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_memory_as<T: H5Type, I: IndexType>(&self) -> Result<CsMatI<T, I>> {
        self.read_as(&Sel::All, &Sel::All)
    }

    /// The sub-matrix `rows × cols` (outer indexing, like numpy's `ix_`).
    ///
    /// ```
    /// use h5sparse::sparse::{Sel, SparseDataset};
    /// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// let m = x.read::<i64>(&Sel::Indices(vec![4, 0]), &Sel::parse("1:")?)?;   // X[[4, 0], 1:]
    /// assert_eq!(m.to_dense(), ndarray::arr2(&[[36, 0], [18, 0]]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read<T: H5Type>(&self, rows: &Sel, cols: &Sel) -> Result<CsMat<T>> {
        self.read_as(rows, cols)
    }

    /// [`SparseDataset::read`] with indices and indptr of type `I`: `i32`
    /// takes half the memory of sprs's default `usize` (a result with more
    /// stored values than `I` can count is an error).
    ///
    /// ```
    /// use h5sparse::sparse::{Sel, SparseDataset};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let file = h5sparse::File::open(path)?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// let m = x.read_as::<i64, i32>(&Sel::range(0, 2), &Sel::All)?;
    /// assert_eq!(m.indptr().raw_storage(), &[0, 1, 2]);
    /// assert_eq!(m.indices(), &[1, 2]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_as<T: H5Type, I: IndexType>(&self, rows: &Sel, cols: &Sel) -> Result<CsMatI<T, I>> {
        self.read_with(rows, cols, (Vec::new(), Vec::new(), Vec::new()))
    }

    /// [`SparseDataset::read_as`] into the storage of `recycled`, a matrix
    /// an earlier read returned and the caller is done with: reading a large
    /// matrix block by block (a data loader, say) through one set of
    /// vectors touches no fresh memory after the first block. Fresh memory
    /// costs a page fault per 4 KiB, and glibc's allocator hands freed
    /// blocks of several MB back to the system between reads; on the
    /// benchmark's 1000-row blocks, reusing is about 3× faster.
    ///
    /// ```
    /// use h5sparse::sparse::{Sel, SparseDataset};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let file = h5sparse::File::open(path)?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// let mut block = sprs::CsMatI::<i64, i32>::zero((0, 0));
    /// let mut total = 0;
    /// let rows = x.shape()[0] as i64;
    /// for start in (0..rows).step_by(2) {
    ///     let stop = (start + 2).min(rows);
    ///     block = x.read_as_reusing(&Sel::range(start, stop), &Sel::All, block)?;
    ///     total += block.data().iter().sum::<i64>();
    /// }
    /// assert_eq!(total, x.to_memory::<i64>()?.data().iter().sum::<i64>());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_as_reusing<T: H5Type, I: IndexType>(
        &self,
        rows: &Sel,
        cols: &Sel,
        recycled: CsMatI<T, I>,
    ) -> Result<CsMatI<T, I>> {
        let (ptr, idx, val) = recycled.into_raw_storage();
        self.read_with(rows, cols, (ptr, idx, val))
    }

    /// The read behind [`SparseDataset::read_as`], with vectors whose
    /// allocations may be reused for indptr, indices and data.
    fn read_with<T: H5Type, I: IndexType>(
        &self,
        rows: &Sel,
        cols: &Sel,
        (mut out_ptr, mut out_idx, mut out_val): (Vec<I>, Vec<I>, Vec<T>),
    ) -> Result<CsMatI<T, I>> {
        let count = |n: usize| {
            I::try_from_usize(n).ok_or_else(|| {
                Error::invalid(format!(
                    "{}: {n} does not fit the requested {}-byte index type",
                    self.group.path(),
                    std::mem::size_of::<I>()
                ))
            })
        };
        let (major_sel, minor_sel) = match self.info.format {
            SparseFormat::Csr => (rows, cols),
            SparseFormat::Csc => (cols, rows),
        };
        let (n_major, n_minor) = self.axes();
        let majors = major_sel.resolve(n_major)?;
        let minor_all = minor_sel.is_everything(n_minor);
        let minors = if minor_all {
            Vec::new()
        } else {
            minor_sel.resolve(n_minor)?
        };
        let out_minor = if minor_all {
            n_minor as usize
        } else {
            minors.len()
        };

        // indptr: one covering range (zero-copy friendly), then per major.
        let (bounds, runs) = self.major_runs(&majors)?;

        out_ptr.clear();
        out_ptr.reserve(majors.len() + 1);
        out_ptr.push(I::zero());
        let mut validated = false;
        let (out_idx, out_val) = if minor_all {
            // Whole rows: the gathered vectors become the result in place
            // (u64 -> usize reuses the allocation); rows are sorted in place
            // where the file stores them unsorted.
            I::gather_into(&self.indices, &runs, &mut out_idx)?;
            self.data.read_runs_into::<T>(&runs, &mut out_val)?;
            if out_idx.len() != out_val.len() {
                return Err(Error::invalid(format!(
                    "{}: read {} indices but {} values",
                    self.group.path(),
                    out_idx.len(),
                    out_val.len()
                )));
            }
            // One pass per row proves what sprs's structure check would:
            // indices strictly increasing and inside 0..n_minor.
            let in_order = |idx: &[I]| {
                strictly_increasing(idx)
                    && idx.first().is_none_or(|c| c.try_index().is_some())
                    && idx
                        .last()
                        .is_none_or(|c| c.try_index().is_some_and(|c| (c as u64) < n_minor))
            };
            let mut pos = 0usize;
            for &(lo, hi) in &bounds {
                let len = (hi - lo) as usize;
                let end = pos + len;
                if !in_order(&out_idx[pos..end]) {
                    // Stored unsorted: sort the row (values with it).
                    let mut pairs: Vec<(I, T)> = out_idx[pos..end]
                        .iter()
                        .copied()
                        .zip(out_val[pos..end].iter().copied())
                        .collect();
                    pairs.sort_by_key(|p| p.0);
                    for (k, (c, v)) in pairs.into_iter().enumerate() {
                        out_idx[pos + k] = c;
                        out_val[pos + k] = v;
                    }
                    if !in_order(&out_idx[pos..end]) {
                        return Err(Error::invalid(format!(
                            "{}: the row stored at entries {lo}..{hi} has an index out of \
                             range for {n_minor} columns, or the same index twice",
                            self.group.path()
                        )));
                    }
                }
                pos = end;
                out_ptr.push(count(pos)?);
            }
            validated = true;
            (out_idx, out_val)
        } else {
            // Pass 1: which stored entries each output row keeps, as
            // (position in data, output minor position). Only those values
            // are read from `data`.
            let chains = MinorChains::new(&minors)?;
            let forward_range = match minor_sel {
                Sel::Slice { step: 1, .. } | Sel::Index(_) => {
                    minors.first().map(|&a| (a, a + minors.len() as u64))
                }
                _ => None,
            };
            let fast = match forward_range {
                Some((a, b)) => self.sorted_range_hits(&bounds, a, b)?,
                None => None,
            };
            let (hits, row_ends) = match fast {
                Some(found) => found,
                None => self.scanned_hits(&bounds, n_minor, forward_range, &chains)?,
            };

            // Pass 2: just those values, straight from the file where
            // `data` can be borrowed, else read (adjacent positions merged).
            let mut out_idx: Vec<I> = Vec::with_capacity(hits.len());
            for &(_, out_pos) in &hits {
                out_idx.push(count(out_pos)?);
            }
            let out_val = match super::sorted::gather(&self.data, hits.iter().map(|h| h.0))? {
                Some(values) => values,
                None => {
                    let positions: Vec<u64> = hits.iter().map(|h| h.0).collect();
                    super::sorted::read_values::<T>(&self.data, &positions)?
                }
            };
            for end in row_ends {
                out_ptr.push(count(end)?);
            }
            (out_idx, out_val)
        };
        let shape = (majors.len(), out_minor);
        count(out_minor)?;
        if validated {
            let (storage, shape) = match self.info.format {
                SparseFormat::Csr => (sprs::CompressedStorage::CSR, shape),
                SparseFormat::Csc => (sprs::CompressedStorage::CSC, (shape.1, shape.0)),
            };
            // SAFETY: every invariant of sprs's check_compressed_structure
            // holds: out_ptr starts at 0, never decreases (row lengths are
            // added in order) and ends at out_idx.len() == out_val.len()
            // (checked above), with one entry per major plus one; each
            // row's indices were proven strictly increasing and within
            // 0..out_minor; out_minor and the entry count fit `I` (count).
            return Ok(unsafe { CsMatI::new_unchecked(storage, shape, out_ptr, out_idx, out_val) });
        }
        let mat = match self.info.format {
            SparseFormat::Csr => CsMatI::try_new(shape, out_ptr, out_idx, out_val),
            SparseFormat::Csc => CsMatI::try_new_csc((shape.1, shape.0), out_ptr, out_idx, out_val),
        };
        mat.map_err(|e| Error::invalid(format!("{}: {}", self.group.path(), e.3)))
    }

    /// Kept entries of rows `bounds` for the minor selection given by
    /// `forward_range` (a contiguous range) or the selection's `chains`,
    /// reading every stored index of those rows in batches (in parallel).
    fn scanned_hits(
        &self,
        bounds: &[Bounds],
        n_minor: u64,
        forward_range: Option<(u64, u64)>,
        chains: &MinorChains,
    ) -> Result<BatchHits> {
        // Rows are processed in batches of about BATCH stored entries,
        // so a column selection over a huge matrix holds one batch of
        // `indices` per worker at a time; batches run in parallel.
        let mut batches: Vec<(usize, usize)> = Vec::new();
        let mut b0 = 0usize;
        while b0 < bounds.len() {
            let mut b1 = b0;
            let mut total = 0u64;
            while b1 < bounds.len() && (b1 == b0 || total + (bounds[b1].1 - bounds[b1].0) <= BATCH)
            {
                total += bounds[b1].1 - bounds[b1].0;
                b1 += 1;
            }
            batches.push((b0, b1));
            b0 = b1;
        }
        let batch_hits = |(b0, b1): (usize, usize)| -> Result<BatchHits> {
            let mut hits: Vec<(u64, usize)> = Vec::new();
            let mut row_ends: Vec<usize> = Vec::with_capacity(b1 - b0);
            let mut batch_runs: Vec<(u64, u64)> = Vec::new();
            for &(lo, hi) in &bounds[b0..b1] {
                if hi > lo {
                    match batch_runs.last_mut() {
                        Some((s0, c)) if *s0 + *c == lo => *c += hi - lo,
                        _ => batch_runs.push((lo, hi - lo)),
                    }
                }
            }
            let indices = read_ints(&self.indices, &batch_runs)?;
            let mut pos = 0usize;
            for &(lo, hi) in &bounds[b0..b1] {
                let len = (hi - lo) as usize;
                let idx = &indices[pos..pos + len];
                pos += len;
                if let Some(&bad) = idx.iter().find(|&&c| c >= n_minor) {
                    return Err(Error::invalid(format!(
                        "{}: stored index {bad} is out of range for {n_minor} columns",
                        self.group.path()
                    )));
                }
                let start_len = hits.len();
                match forward_range {
                    // A column range on sorted indices: two binary searches.
                    Some((a, b)) if idx.windows(2).all(|w| w[0] < w[1]) => {
                        let k0 = idx.partition_point(|&c| c < a);
                        let k1 = idx.partition_point(|&c| c < b);
                        hits.extend((k0..k1).map(|k| (lo + k as u64, (idx[k] - a) as usize)));
                    }
                    _ => {
                        for (k, &c) in idx.iter().enumerate() {
                            let mut p = chains.head(c);
                            while p != u32::MAX {
                                hits.push((lo + k as u64, p as usize));
                                p = chains.next[p as usize];
                            }
                        }
                        let row = &mut hits[start_len..];
                        if !row.windows(2).all(|w| w[0].1 < w[1].1) {
                            row.sort_by_key(|h| h.1);
                        }
                    }
                }
                row_ends.push(hits.len());
            }
            Ok((hits, row_ends))
        };
        let per_batch = crate::par::map(batches, batch_hits)?;
        let mut hits: Vec<(u64, usize)> =
            Vec::with_capacity(per_batch.iter().map(|b| b.0.len()).sum());
        let mut row_ends: Vec<usize> = Vec::with_capacity(bounds.len());
        for (batch, ends) in per_batch {
            let base = hits.len();
            row_ends.extend(ends.into_iter().map(|e| base + e));
            hits.extend(batch);
        }

        Ok((hits, row_ends))
    }

    /// indptr bounds of each selected major and the merged ranges of
    /// `data`/`indices` to read (neighbouring majors coalesce).
    pub(crate) fn major_runs(&self, majors: &[u64]) -> Result<(Vec<Bounds>, Vec<Run>)> {
        if majors.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let lo = *majors.iter().min().unwrap_or(&0);
        let hi = *majors.iter().max().unwrap_or(&0);
        let ptr = self.indptr_range(lo, hi - lo + 2)?;
        let nnz = self.info.nnz_stored;
        let mut bounds = Vec::with_capacity(majors.len());
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for &m in majors {
            let (a, b) = (ptr[(m - lo) as usize], ptr[(m - lo + 1) as usize]);
            if a > b || b > nnz {
                return Err(Error::invalid(format!(
                    "{}: indptr[{m}..={}] = {a}..{b} is not a valid range of {nnz} stored values",
                    self.group.path(),
                    m + 1
                )));
            }
            bounds.push((a, b));
            if b > a {
                match runs.last_mut() {
                    Some((s, c)) if *s + *c == a => *c += b - a,
                    _ => runs.push((a, b - a)),
                }
            }
        }
        Ok((bounds, runs))
    }

    /// Major rows `start..stop` (rows of CSR, columns of CSC) as a view that
    /// borrows `data`, `indices` and `indptr` straight from the memory map:
    /// no copy at all. `I` and `P` are the stored index types (e.g. `i32`).
    ///
    /// Returns `Ok(None)` when the bytes cannot be borrowed: a filter, a
    /// foreign byte order, misalignment, chunks not adjacent in the file, or
    /// a file read from memory; then use [`SparseDataset::read`].
    ///
    /// ```
    /// use h5sparse::sparse::SparseDataset;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let file = h5sparse::File::open(path)?;
    /// let x = SparseDataset::open(&file, "/X")?;
    /// if let Some(v) = x.major_view::<i64, i32, i32>(0, 2)? {
    ///     assert_eq!(v.to_dense()[[0, 1]], 18);
    /// }
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn major_view<T, I, P>(
        &self,
        start: u64,
        stop: u64,
    ) -> Result<Option<sprs::CsMatBase<T, I, &'f [P], &'f [I], &'f [T], P>>>
    where
        T: H5Type,
        I: H5Type + sprs::SpIndex,
        P: H5Type + sprs::SpIndex,
    {
        let (n_major, n_minor) = self.axes();
        if start > stop || stop > n_major {
            return Err(Error::invalid(format!(
                "major range {start}..{stop} is out of bounds for {n_major}"
            )));
        }
        let std::borrow::Cow::Borrowed(ptr) =
            self.indptr.read_range_cow::<P>(start, stop - start + 1)?
        else {
            return Ok(None);
        };
        let bound = |p: P| p.try_index().map(|v| v as u64);
        let (Some(lo), Some(hi)) = (bound(ptr[0]), bound(ptr[ptr.len() - 1])) else {
            return Err(Error::invalid(format!(
                "{}: negative indptr value",
                self.group.path()
            )));
        };
        if lo > hi || hi > self.info.nnz_stored {
            return Err(Error::invalid(format!(
                "{}: corrupt indptr",
                self.group.path()
            )));
        }
        let std::borrow::Cow::Borrowed(idx) = self.indices.read_range_cow::<I>(lo, hi - lo)? else {
            return Ok(None);
        };
        let std::borrow::Cow::Borrowed(val) = self.data.read_range_cow::<T>(lo, hi - lo)? else {
            return Ok(None);
        };
        let rows = (stop - start) as usize;
        let m = match self.info.format {
            SparseFormat::Csr => sprs::CsMatBase::try_new((rows, n_minor as usize), ptr, idx, val),
            SparseFormat::Csc => {
                sprs::CsMatBase::try_new_csc((n_minor as usize, rows), ptr, idx, val)
            }
        };
        m.map(Some)
            .map_err(|e| Error::invalid(format!("{}: {}", self.group.path(), e.3)))
    }
}

/// Whether every value is below the next. Compared a block at a time
/// without an early exit inside the block, so the comparisons vectorise
/// (`windows(2).all` stops at each pair and does not): on the benchmark's
/// 1000-row blocks this check was a fifth of the read.
pub(crate) fn strictly_increasing<I: PartialOrd + Copy>(idx: &[I]) -> bool {
    const BLOCK: usize = 256;
    let Some(pairs) = idx.len().checked_sub(1) else {
        return true;
    };
    let (a, b) = (&idx[..pairs], &idx[1..]);
    a.chunks(BLOCK)
        .zip(b.chunks(BLOCK))
        .all(|(x, y)| x.iter().zip(y).fold(true, |ok, (p, q)| ok & (p < q)))
}

/// Stored entries per batch of rows in minor-axis selections (tiny in unit
/// tests so that batching is exercised).
#[cfg(not(test))]
const BATCH: u64 = 1 << 20;

/// One batch's kept entries (position in `data`, output minor position)
/// and where each of its rows ends in them.
type BatchHits = (Vec<(u64, usize)>, Vec<usize>);
#[cfg(test)]
const BATCH: u64 = 3;

mod lookup;
mod minor_chains;

use minor_chains::MinorChains;

#[cfg(test)]
mod tests;
