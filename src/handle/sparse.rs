//! [`SparseHandle`]: a sparse matrix group, read and written with methods.

use std::fmt;

use sprs::{CsMat, CsMatBase, CsMatI};

use super::pinned::{Cached, Opens};
use super::H5File;
use crate::error::Result;
use crate::read::{Dtype, File, H5Type};
use crate::sparse::{
    self, AxisIndex, Convention, IndexType, Sel, SparseDataset, SparseFormat, SparseInfo,
    SparseWriteOptions,
};

impl Opens for SparseDataset<'static> {
    type At<'f> = SparseDataset<'f>;
    fn open<'f>(file: &'f File, path: &str) -> Result<SparseDataset<'f>> {
        SparseDataset::open(file, path)
    }
}

/// A sparse matrix stored in a group of an [`H5File`] (h5sparse, anndata or
/// 10x convention), indexed as if it were in memory: h5sparse's and
/// anndata's `f['X']`.
///
/// Selections take Rust syntax (`1..5`, `..`, `[3, 1, 3]`, `&mask`, `-1`,
/// see [`Sel`]) with numpy's meaning, one per axis, combined like `np.ix_`.
/// Reads touch only what they select. Writes go through the file's writer
/// and are each atomic; the handle stays valid across them.
///
/// ```
/// use h5sparse::H5File;
/// use sprs::CsMat;
///
/// let f = H5File::in_memory()?;
/// // The seed's X: [[0, 1, 0], [0, 0, 2], [0, 0, 0], [3, 4, 0]]
/// let m = CsMat::new((4, 3), vec![0, 1, 2, 2, 4], vec![1, 2, 0, 1], vec![1i64, 2, 3, 4]);
/// let x = f.create_sparse("X", &m, &Default::default())?;
/// assert_eq!(x.read::<i64>(.., 1..3)?.to_dense(), ndarray::arr2(&[[1, 0], [0, 2], [0, 0], [4, 0]]));
/// x.set_value(0, 1, 9i64)?;                         // f['X'][0, 1] = 9
/// let top = x.read::<i64>(0..2, ..)?;
/// x.set(0..2, .., &top.map(|v| 2 * v))?;            // f['X'][0:2] = 2*f['X'][0:2]
/// x.append(&x.read::<i64>(0..2, ..)?.map(|v| 2 * v))?;
/// assert_eq!(x.to_memory::<i64>()?.to_dense(), ndarray::arr2(
///     &[[0, 18, 0], [0, 0, 4], [0, 0, 0], [3, 4, 0], [0, 36, 0], [0, 0, 8]]));
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub struct SparseHandle {
    file: H5File,
    cached: Cached<SparseDataset<'static>>,
}

impl fmt::Debug for SparseHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SparseHandle")
            .field("file", &self.file)
            .field("path", &self.cached.path())
            .finish()
    }
}

/// h5sparse's repr: `<HDF5 sparse dataset: format 'csr', shape (4, 3), type '<i8'>`.
impl fmt::Display for SparseHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.with(|x| Ok(x.to_string())) {
            Ok(s) => f.write_str(&s),
            Err(e) => write!(f, "<HDF5 sparse dataset {}: {e}>", self.path()),
        }
    }
}

impl SparseHandle {
    pub(super) fn open(file: H5File, path: String) -> Result<SparseHandle> {
        let h = SparseHandle {
            file,
            cached: Cached::new(path),
        };
        h.with(|_| Ok(()))?;
        Ok(h)
    }

    /// Runs `op` on the matrix as the file is now.
    fn with<R>(&self, op: impl FnOnce(&SparseDataset<'_>) -> Result<R>) -> Result<R> {
        self.cached.with(&self.file, op)
    }

    /// The group's absolute path.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.sparse("X")?.path(), "/X");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn path(&self) -> &str {
        self.cached.path()
    }

    /// The file this matrix lives in.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = f.sparse("X")?;
    /// let y = x.file().dataset("Y")?;                          // a sibling, same file
    /// assert_eq!(y.shape()?, vec![4, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn file(&self) -> &H5File {
        &self.file
    }

    /// Convention, format, shape, stored count and dtypes, as they are now.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let info = f.sparse("X")?.info()?;
    /// assert_eq!((info.shape, info.nnz_stored), ([6, 3], 6));
    /// assert_eq!(info.indptr_dtype.numpy_str(), "<i4");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn info(&self) -> Result<SparseInfo> {
        self.with(|x| Ok(x.info().clone()))
    }

    /// `[rows, cols]`.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let [rows, cols] = f.sparse("X")?.shape()?;
    /// assert_eq!((rows, cols), (6, 3));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn shape(&self) -> Result<[u64; 2]> {
        self.with(|x| Ok(x.shape()))
    }

    /// CSR or CSC.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// use h5sparse::sparse::SparseFormat;
    /// assert_eq!(f.sparse("X")?.format()?, SparseFormat::Csr);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn format(&self) -> Result<SparseFormat> {
        self.with(|x| Ok(x.format()))
    }

    /// Stored entries (explicit zeros included).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.sparse("X")?.nnz()?, 6);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn nnz(&self) -> Result<u64> {
        self.with(|x| Ok(x.nnz()))
    }

    /// Element type of the values.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.sparse("X")?.dtype()?.numpy_str(), "<i8");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dtype(&self) -> Result<Dtype> {
        self.with(|x| Ok(x.dtype().clone()))
    }

    /// Which convention marks the group.
    ///
    /// ```
    /// use h5sparse::sparse::Convention;
    /// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// assert_eq!(f.sparse("X")?.convention()?, Convention::Anndata);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn convention(&self) -> Result<Convention> {
        self.with(|x| Ok(x.convention()))
    }

    /// The sub-matrix `rows × cols` (outer indexing, numpy's `X[np.ix_(rows,
    /// cols)]`), in the stored orientation, with `usize` indices.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = f.sparse("X")?;
    /// let mask = [true, false, false, true, false, false];
    /// let m = x.read::<i64>(&mask, ..)?;          // f['X'][np.array([True, ...])]
    /// assert_eq!(m.rows(), 2);
    /// let m = x.read::<i64>([3, 1, 3], 1..)?;     // repeats and any order
    /// assert_eq!(m.shape(), (3, 2));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read<T: H5Type>(&self, rows: impl Into<Sel>, cols: impl Into<Sel>) -> Result<CsMat<T>> {
        let (rows, cols) = (rows.into(), cols.into());
        self.with(|x| x.read(&rows, &cols))
    }

    /// [`SparseHandle::read`] with index type `I` (`i32` or `u32` halve the
    /// memory of sprs's `usize`; a result too big for `I` is an error).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let m = f.sparse("X")?.read_as::<i64, u32>(3..5, ..)?;   // CsMatI<i64, u32>
    /// assert_eq!(m.indptr().raw_storage(), &[0u32, 2, 3]);
    /// assert_eq!(m.indices(), &[0u32, 1, 1]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_as<T: H5Type, I: IndexType>(
        &self,
        rows: impl Into<Sel>,
        cols: impl Into<Sel>,
    ) -> Result<CsMatI<T, I>> {
        let (rows, cols) = (rows.into(), cols.into());
        self.with(|x| x.read_as(&rows, &cols))
    }

    /// [`SparseHandle::read_as`] into the storage of a result the caller is
    /// done with: block-by-block reads without fresh memory per block
    /// (see [`SparseDataset::read_as_reusing`]).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = f.sparse("X")?;
    /// let mut block = x.read_as::<i64, u32>(0..2, ..)?;
    /// let mut sum = 0;
    /// for start in (0..6).step_by(2) {
    ///     block = x.read_as_reusing(start..start + 2, .., block)?;   // same buffers
    ///     sum += block.data().iter().sum::<i64>();
    /// }
    /// assert_eq!(sum, 18 + 4 + 3 + 4 + 36 + 8);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn read_as_reusing<T: H5Type, I: IndexType>(
        &self,
        rows: impl Into<Sel>,
        cols: impl Into<Sel>,
        recycled: CsMatI<T, I>,
    ) -> Result<CsMatI<T, I>> {
        let (rows, cols) = (rows.into(), cols.into());
        self.with(|x| x.read_as_reusing(&rows, &cols, recycled))
    }

    /// The whole matrix (h5sparse's `f['X'][:]`).
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let m = f.sparse("X")?.to_memory::<i64>()?;              // f['X'][()]
    /// assert_eq!((m.shape(), m.nnz()), ((6, 3), 6));
    /// assert_eq!(m.to_dense().row(4).to_vec(), vec![0, 36, 0]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_memory<T: H5Type>(&self) -> Result<CsMat<T>> {
        self.with(|x| x.to_memory())
    }

    /// The whole matrix with index type `I`.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let m = f.sparse("X")?.to_memory_as::<i64, i32>()?;      // scipy's int32 indices
    /// assert_eq!(m.indptr().raw_storage(), &[0, 1, 2, 2, 4, 5, 6]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_memory_as<T: H5Type, I: IndexType>(&self) -> Result<CsMatI<T, I>> {
        self.with(|x| x.to_memory_as())
    }

    /// One element (negative counts from the end); zero where nothing is
    /// stored. A binary search in one row, microseconds on any size.
    ///
    /// ```
    /// # let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let x = f.sparse("X")?;
    /// assert_eq!(x.get::<i64>(3, 1)?, 4);
    /// assert_eq!(x.get::<i64>(-1, -1)?, 8);
    /// assert_eq!(x.get::<i64>(2usize, 0usize)?, 0);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn get<T: H5Type>(&self, row: impl AxisIndex, col: impl AxisIndex) -> Result<T> {
        let (r, c) = (row.position(), col.position());
        self.with(|x| x.get(r, c))
    }

    /// `X[rows, cols] = values`, where every nonzero of `values` lands on an
    /// entry already stored; anything that would change the sparsity
    /// structure is refused before a byte is written. One atomic write.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![5.0f32, 6.0]);
    /// let x = f.create_sparse("X", &m, &Default::default())?;
    /// let top = x.read::<f32>(0..1, ..)?;
    /// x.set(0..1, .., &top.map(|v| v.ln_1p()))?;
    /// assert_eq!(x.get::<f32>(0, 1)?, 5.0f32.ln_1p());
    /// let new_entry = sprs::CsMat::new((1, 1), vec![0, 1], vec![0], vec![1.0f32]);
    /// let err = x.set(0, 0, &new_entry).unwrap_err();
    /// assert!(err.to_string().contains("sparsity structure"));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set<T: H5Type>(
        &self,
        rows: impl Into<Sel>,
        cols: impl Into<Sel>,
        values: &CsMat<T>,
    ) -> Result<()> {
        let (rows, cols) = (rows.into(), cols.into());
        let path = self.path();
        self.file
            .write(|w| sparse::set(w, path, &rows, &cols, values))
    }

    /// One stored element `X[row, col] = value` (h5sparse's
    /// `f['X'][0, 1] = 9`); refused when `(row, col)` is not stored and
    /// `value` is not zero.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![5i64, 6]);
    /// let x = f.create_sparse("X", &m, &Default::default())?;
    /// x.set_value(-1, 0, 60i64)?;                              // f['X'][-1, 0] = 60
    /// assert_eq!(x.get::<i64>(1, 0)?, 60);
    /// assert!(x.set_value(0, 0, 1i64).is_err());               // (0, 0) is not stored
    /// x.set_value(0, 0, 0i64)?;                                // zero there changes nothing
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_value<T: H5Type>(
        &self,
        row: impl AxisIndex,
        col: impl AxisIndex,
        value: T,
    ) -> Result<()> {
        let one = CsMat::new((1, 1), vec![0, 1], vec![0], vec![value]);
        self.set(Sel::Index(row.position()), Sel::Index(col.position()), &one)
    }

    /// Appends the rows of `m` (CSR storage) or its columns (CSC storage):
    /// h5sparse's `f['X'].append(m)`. The other dimension must match; an
    /// int32 `indptr` that would overflow is refused before writing.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((2, 3), vec![0, 1, 2], vec![1, 2], vec![1i64, 2]);
    /// let x = f.create_sparse("X", &m, &Default::default())?;
    /// x.append(&m)?;                                           // rows 2 and 3
    /// assert_eq!((x.shape()?, x.get::<i64>(3, 2)?), ([4, 3], 2));
    /// let narrow = sprs::CsMat::new((1, 2), vec![0, 1], vec![0], vec![1i64]);
    /// assert!(x.append(&narrow).is_err());                     // 2 columns, not 3
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn append<T, I, Iptr, IpS, IS, DS>(
        &self,
        m: &CsMatBase<T, I, IpS, IS, DS, Iptr>,
    ) -> Result<()>
    where
        T: H5Type,
        I: IndexType,
        Iptr: IndexType,
        IpS: std::ops::Deref<Target = [Iptr]>,
        IS: std::ops::Deref<Target = [I]>,
        DS: std::ops::Deref<Target = [T]>,
    {
        let path = self.path();
        self.file.write(|w| sparse::append(w, path, m))
    }

    /// Replaces the whole matrix by `m`, CSR by CSC if it likes (anndata's
    /// `adata.X = csc_matrix(...)`), in one atomic swap; this handle then
    /// reads the new matrix.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((2, 2), vec![0, 1, 2], vec![1, 0], vec![5i64, 6]);
    /// let x = f.create_sparse("X", &m, &Default::default())?;
    /// x.replace(&m.to_csc(), &Default::default())?;
    /// assert_eq!(x.to_string(), "<HDF5 sparse dataset: format 'csc', shape (2, 2), type '<i8'>");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn replace<T, I, Iptr, IpS, IS, DS>(
        &self,
        m: &CsMatBase<T, I, IpS, IS, DS, Iptr>,
        opts: &SparseWriteOptions,
    ) -> Result<()>
    where
        T: H5Type,
        I: IndexType,
        Iptr: IndexType,
        IpS: std::ops::Deref<Target = [Iptr]>,
        IS: std::ops::Deref<Target = [I]>,
        DS: std::ops::Deref<Target = [T]>,
    {
        let path = self.path();
        self.file
            .write(|w| sparse::replace(w, path, m.view(), opts))
    }
}
