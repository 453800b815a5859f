//! Writing sparse matrices as HDF5 groups.

use std::borrow::Cow;

use sprs::CsMatViewI;

use super::IndexType;

use super::SparseFormat;
use crate::error::Result;
use crate::read::H5Type;
use crate::write::{Backing, DatasetOptions, Writer};

/// How [`write_matrix`] stores a matrix.
///
/// ```
/// use h5sparse::sparse::SparseWriteOptions;
/// let f = h5sparse::H5File::in_memory()?;
/// let m = sprs::CsMat::new((1, 3), vec![0, 2], vec![0, 2], vec![1.0f64, 2.0]);
/// let opts = SparseWriteOptions::default().gzip(4).chunk_len(1024);
/// f.create_sparse("X", &m, &opts)?;
/// let snap = f.snapshot()?;
/// let data = snap.dataset("/X/data")?;
/// assert_eq!((data.chunks(), data.filters()[0].name.as_str()), (Some(&[1024][..]), "deflate"));
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseWriteOptions {
    /// Deflate level for `data`, `indices` and `indptr`.
    pub compression: Option<u32>,
    /// Chunk length of the three datasets (automatic when `None`).
    pub chunk_len: Option<u64>,
    /// Store `indices`/`indptr` as int64 even when int32 suffices.
    pub int64_indices: bool,
}

impl SparseWriteOptions {
    /// Deflate (gzip) at `level` (0..=9), as anndata's `compression="gzip"`.
    ///
    /// ```
    /// let o = h5sparse::sparse::SparseWriteOptions::default().gzip(4).chunk_len(80_000);
    /// assert_eq!((o.compression, o.chunk_len), (Some(4), Some(80_000)));
    /// ```
    pub fn gzip(mut self, level: u32) -> Self {
        self.compression = Some(level.min(9));
        self
    }

    /// Chunks of `len` elements for `data`, `indices` and `indptr`.
    ///
    /// ```
    /// use h5sparse::sparse::SparseWriteOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((1, 3), vec![0, 2], vec![0, 2], vec![1i64, 2]);
    /// f.create_sparse("X", &m, &SparseWriteOptions::default().chunk_len(4096))?;
    /// let snap = f.snapshot()?;
    /// assert_eq!(snap.dataset("/X/indices")?.chunks(), Some(&[4096][..]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn chunk_len(mut self, len: u64) -> Self {
        self.chunk_len = Some(len);
        self
    }

    /// int64 `indices`/`indptr` even when int32 would do (room to grow past
    /// 2^31 stored values by appending).
    ///
    /// ```
    /// use h5sparse::sparse::SparseWriteOptions;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((1, 3), vec![0, 2], vec![0, 2], vec![1i64, 2]);
    /// let x = f.create_sparse("X", &m, &SparseWriteOptions::default())?;
    /// assert_eq!(x.info()?.indptr_dtype.numpy_str(), "<i4");  // anndata's default
    /// let y = f.create_sparse("Y", &m, &SparseWriteOptions::default().int64_indices())?;
    /// assert_eq!(y.info()?.indptr_dtype.numpy_str(), "<i8");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn int64_indices(mut self) -> Self {
        self.int64_indices = true;
        self
    }
}

fn options(o: &SparseWriteOptions) -> DatasetOptions {
    let mut d = DatasetOptions::growable();
    if let Some(level) = o.compression {
        d = d.gzip(level);
    }
    if let Some(c) = o.chunk_len {
        d = d.chunks(&[c.max(1)]);
    }
    d
}

/// Writes `m` as a sparse matrix group at `path`: `data`, `indices`,
/// `indptr` chunked with unlimited maximum shape (so they can grow), marked
/// with both the h5sparse attributes (`h5sparse_format`, `h5sparse_shape`)
/// and anndata's (`encoding-type`, `encoding-version`, `shape`), so that the
/// seed's readers and current anndata both recognise it.
///
/// `indices` and `indptr` are int32 while every value fits (as anndata
/// writes them), int64 otherwise or when asked, whatever index type `m`
/// uses in memory.
///
/// This is the operation behind [`H5File::create_sparse`](crate::H5File::create_sparse),
/// for a [`Writer`] over a sink of your own.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::sparse::{write_matrix, SparseDataset, SparseWriteOptions};
/// use h5sparse::write::Writer;
///
/// let m = sprs::CsMat::new((2, 3), vec![0, 1, 3], vec![1, 0, 2], vec![1.5f32, 2.0, 3.0]);
/// let mut w = Writer::create_in(MemSink::default())?;
/// write_matrix(&mut w, "/X", m.view(), &SparseWriteOptions::default())?;
/// let f = w.reader()?;
/// let x = SparseDataset::open(&f, "/X")?;
/// assert_eq!(x.to_memory::<f32>()?, m);
/// assert!(x.group().attribute("encoding-type")?.is_some());   // anndata reads it too
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn write_matrix<B: Backing, T: H5Type, I: IndexType, Iptr: IndexType>(
    w: &mut Writer<B>,
    path: &str,
    m: CsMatViewI<'_, T, I, Iptr>,
    opts: &SparseWriteOptions,
) -> Result<()> {
    // One transaction: readers never see a group with only some of its
    // datasets or attributes.
    w.transaction(|w| write_parts(w, path, m, opts))
}

fn write_parts<B: Backing, T: H5Type, I: IndexType, Iptr: IndexType>(
    w: &mut Writer<B>,
    path: &str,
    m: CsMatViewI<'_, T, I, Iptr>,
    opts: &SparseWriteOptions,
) -> Result<()> {
    let format = if m.is_csr() {
        SparseFormat::Csr
    } else {
        SparseFormat::Csc
    };
    let (rows, cols) = m.shape();
    let o = options(opts);
    w.create_group(path)?;
    let nnz = m.nnz() as u64;
    w.create_dataset(&format!("{path}/data"), &[nnz], m.data(), &o)?;
    let n_minor = m.inner_dims() as u64;
    let small = !opts.int64_indices && n_minor <= i32::MAX as u64 && nnz <= i32::MAX as u64;
    // Starting at 0 (an outer slice keeps its parent's offsets).
    let indptr = m.indptr();
    let indptr = indptr.to_proper();
    let indptr: &[Iptr] = &indptr;
    if small {
        // int32 in memory already (as scipy keeps them): written in place.
        let idx: Cow<'_, [i32]> = match I::as_i32(m.indices()) {
            Some(v) => Cow::Borrowed(v),
            None => m.indices().iter().map(|&i| i.index() as i32).collect(),
        };
        let ptr: Cow<'_, [i32]> = match Iptr::as_i32(indptr) {
            Some(v) => Cow::Borrowed(v),
            None => indptr.iter().map(|&p| p.index() as i32).collect(),
        };
        w.create_dataset(&format!("{path}/indices"), &[nnz], &idx, &o)?;
        w.create_dataset(&format!("{path}/indptr"), &[ptr.len() as u64], &ptr, &o)?;
    } else {
        let idx: Cow<'_, [i64]> = match I::as_i64(m.indices()) {
            Some(v) => Cow::Borrowed(v),
            None => m.indices().iter().map(|&i| i.index() as i64).collect(),
        };
        let ptr: Cow<'_, [i64]> = match Iptr::as_i64(indptr) {
            Some(v) => Cow::Borrowed(v),
            None => indptr.iter().map(|&p| p.index() as i64).collect(),
        };
        w.create_dataset(&format!("{path}/indices"), &[nnz], &idx, &o)?;
        w.create_dataset(&format!("{path}/indptr"), &[ptr.len() as u64], &ptr, &o)?;
    }
    let shape = [rows as i64, cols as i64];
    w.set_attr_str(path, "h5sparse_format", format.as_str())?;
    w.set_attr_array(path, "h5sparse_shape", &shape)?;
    let encoding = match format {
        SparseFormat::Csr => "csr_matrix",
        SparseFormat::Csc => "csc_matrix",
    };
    w.set_attr_str(path, "encoding-type", encoding)?;
    w.set_attr_str(path, "encoding-version", "0.1.0")?;
    w.set_attr_array(path, "shape", &shape)?;
    Ok(())
}
