//! One handle that reads and writes: [`H5File`], and the handles it gives
//! out for sparse matrices ([`SparseHandle`]) and dense datasets
//! ([`DatasetHandle`]).
//!
//! This is the API for people arriving from h5py (`f['X'][0:2] = ...`) and
//! the `hdf5` crate (`file.dataset("x")?.read_slice(..)`): open a file once,
//! read and write through handles with methods, and never re-open after a
//! write.
//!
//! ```
//! use h5sparse::H5File;
//! use sprs::CsMat;
//!
//! let f = H5File::in_memory()?;
//! let m = CsMat::new((2, 3), vec![0, 1, 2], vec![1, 2], vec![1.0f64, 2.0]);
//! let x = f.create_sparse("X", &m, &Default::default())?;
//! x.append(&m)?;                                   // rows 2 and 3
//! assert_eq!(x.shape()?, [4, 3]);
//! assert_eq!(x.get::<f64>(3, 2)?, 2.0);
//! let rows = x.read::<f64>([3, 0], 1..)?;          // numpy's X[[3, 0], 1:]
//! assert_eq!(rows.to_dense(), ndarray::arr2(&[[0.0, 2.0], [1.0, 0.0]]));
//! # Ok::<(), h5sparse::Error>(())
//! ```

mod dense;
mod pinned;
mod sparse;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

pub use dense::DatasetHandle;
pub use sparse::SparseHandle;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::read::{File, H5Type};
use crate::sparse::{IndexType, SparseWriteOptions};
use crate::write::{Backing, CreateOptions, DatasetOptions, Writer};

/// The writer every read-write [`H5File`] keeps, whatever it writes to.
pub type DynWriter = Writer<Box<dyn Backing + Send>>;

/// An open HDF5 file, for reading or for reading and writing, shared by
/// every handle taken from it.
///
/// # Handles and writes
/// An [`H5File`] is a cheap, cloneable, thread-safe reference to one open
/// file; handles own a clone, so they have no lifetime and stay valid across
/// every write, including writes made through other handles: each read sees
/// the file as the last completed write left it (a handle to a matrix that
/// [`SparseHandle::replace`] turned from CSR into CSC reads the CSC one).
/// Writes are serialised and reads wait for a write in progress, so a read
/// never sees half an operation.
///
/// Underneath, reads go through a [`File`] snapshot, the
/// read-only object model, which [`H5File::snapshot`] hands out for
/// everything the handles do not cover (walking groups, attributes, zero-copy
/// views). A snapshot is taken again after each write. Like any memory map,
/// a snapshot held across a write made through its `H5File` sees that
/// write's in-place updates to metadata: take a fresh one after writing.
///
/// ```
/// use h5sparse::H5File;
/// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5file", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("pbmc.h5ad");
/// # std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"), &path)?;
/// let f = H5File::open_rw(&path)?;
/// let x = f.sparse("X")?;
/// println!("{x}");                       // <HDF5 sparse dataset: format 'csr', ...>
/// let four = x.read::<f32>(1..5, ..)?;   // reads 4 rows, not the matrix
/// x.append(&four)?;                       // 4 more rows at the end
/// assert_eq!(x.shape()?, [24, 12]);
/// assert_eq!(x.read::<f32>(20..24, ..)?, four);
/// f.close()?;
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Clone)]
pub struct H5File {
    inner: Arc<Inner>,
}

struct Inner {
    path: Option<PathBuf>,
    limits: Limits,
    /// `None` for a read-only file.
    writer: Option<Mutex<DynWriter>>,
    /// The current snapshot and its generation. Reads hold the read lock
    /// for the whole read; writes hold the write lock, so no read runs
    /// while bytes change.
    state: RwLock<State>,
}

struct State {
    /// Bumped by every write; handles re-open what they cached when it
    /// changes.
    generation: u64,
    /// `None` after a write, until the next read maps the file again.
    snapshot: Option<Arc<File>>,
}

impl std::fmt::Debug for H5File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H5File")
            .field("path", &self.inner.path)
            .field("writable", &self.is_writable())
            .finish()
    }
}

/// A read in progress: the snapshot, its generation, and the lock that keeps
/// writes out until the read ends.
pub(crate) struct ReadGuard<'a> {
    _lock: RwLockReadGuard<'a, State>,
    pub(crate) file: Arc<File>,
    pub(crate) generation: u64,
}

fn poisoned() -> Error {
    Error::invalid("the file's lock was poisoned by a panic in another thread")
}

impl H5File {
    /// Opens `path` read-only, memory-mapped, as [`File::open`] does.
    /// Writing through it is an error that says to use [`H5File::open_rw`].
    ///
    /// ```
    /// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.sparse("X")?.shape()?, [6, 3]);
    /// let err = f.create_group("g").unwrap_err();           // read-only
    /// assert!(err.to_string().contains("open_rw"));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn open(path: impl AsRef<Path>) -> Result<H5File> {
        Self::open_with_limits(path, Limits::default())
    }

    /// [`H5File::open`] with custom [`Limits`] (use [`Limits::strict`] for
    /// files from strangers).
    ///
    /// ```
    /// use h5sparse::{H5File, Limits};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let f = H5File::open_with_limits(path, Limits::strict())?;
    /// assert_eq!(f.limits(), &Limits::strict());
    /// assert_eq!(f.sparse("X")?.nnz()?, 6);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn open_with_limits(path: impl AsRef<Path>, limits: Limits) -> Result<H5File> {
        let file = File::open_with_limits(path.as_ref(), limits.clone())?;
        Ok(Self::read_only(
            file,
            Some(path.as_ref().to_path_buf()),
            limits,
        ))
    }

    /// Reads a file already in memory, read-only (no mmap; works on wasm).
    ///
    /// ```
    /// let err = h5sparse::H5File::from_bytes(b"not HDF5".to_vec()).unwrap_err();
    /// assert!(err.to_string().contains("signature"));
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<H5File> {
        let limits = Limits::default();
        let file = File::from_bytes_with_limits(bytes, limits.clone())?;
        Ok(Self::read_only(file, None, limits))
    }

    /// Opens a URL read-only, read range by range ([`File::open_url`]), or
    /// a local path as [`H5File::open`] does when `name` is not a URL.
    ///
    /// ```
    /// let f = h5sparse::H5File::open_any(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.sparse("X")?.shape()?, [6, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn open_any(name: &str) -> Result<H5File> {
        if crate::io::source::url_scheme(name).is_none() {
            return Self::open(name);
        }
        let file = File::open_url(name)?;
        let limits = file.limits().clone();
        Ok(Self::read_only(file, None, limits))
    }

    /// A read-only handle on a [`File`] already open, whatever it reads
    /// from: a [`ReadAt`](crate::io::ReadAt) source through
    /// [`File::open_source_with`] (a browser `Blob`, a URL), bytes, a map.
    /// The handle keeps the file's [`Limits`].
    ///
    /// ```
    /// use h5sparse::{File, H5File, Limits};
    /// let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let file = File::open_source_with(Box::new(bytes), Limits::strict())?;
    /// let f = H5File::from_file(file);
    /// assert_eq!(f.sparse("X")?.shape()?, [6, 3]);
    /// assert_eq!(f.limits(), &Limits::strict());
    /// assert!(!f.is_writable());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(file: File) -> H5File {
        let limits = file.limits().clone();
        Self::read_only(file, None, limits)
    }

    fn read_only(file: File, path: Option<PathBuf>, limits: Limits) -> H5File {
        H5File {
            inner: Arc::new(Inner {
                path,
                limits,
                writer: None,
                state: RwLock::new(State {
                    generation: 0,
                    snapshot: Some(Arc::new(file)),
                }),
            }),
        }
    }

    /// Opens the existing file at `path` for reading and writing, locked
    /// against other writers (ours and libhdf5's), as h5py's `'r+'`.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-open-rw", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("data.h5ad");
    /// # std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"), &path)?;
    /// let f = h5sparse::H5File::open_rw(&path)?;
    /// let x = f.sparse("X")?;
    /// let (row, col) = (0, 4);                       // a stored entry of the fixture
    /// x.set_value(row, col, 9.0f32)?;                 // f['X'][0, 4] = 9
    /// assert_eq!(x.get::<f32>(row, col)?, 9.0);
    /// f.close()?;
    /// assert_eq!(h5sparse::H5File::open(&path)?.sparse("X")?.get::<f32>(row, col)?, 9.0);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn open_rw(path: impl AsRef<Path>) -> Result<H5File> {
        let w = Writer::open(path.as_ref())?;
        Ok(Self::writable(boxed(w), Some(path.as_ref().to_path_buf())))
    }

    /// Creates (or truncates) the file at `path` in the layout h5py writes by
    /// default, locked for writing, as h5py's `'w'`.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5file-create", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("new.h5");
    /// let f = h5sparse::H5File::create(&path)?;
    /// f.create_group("sparse")?;
    /// f.close()?;
    /// let f = h5sparse::File::open(&path)?;
    /// assert_eq!((f.superblock_version(), f.group("sparse")?.path()), (0, "/sparse"));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn create(path: impl AsRef<Path>) -> Result<H5File> {
        Self::create_with(path, &CreateOptions::default())
    }

    /// [`H5File::create`] in the format `opts` names
    /// ([`Format::Latest`](crate::write::Format::Latest) for h5py's
    /// `libver='v110'` layout).
    ///
    /// ```
    /// use h5sparse::write::{CreateOptions, Format};
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5file-create-with", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("v110.h5");
    /// let f = h5sparse::H5File::create_with(&path, &CreateOptions { format: Format::Latest })?;
    /// f.create_group("g")?;
    /// assert_eq!(f.snapshot()?.superblock_version(), 3);
    /// # drop(f);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn create_with(path: impl AsRef<Path>, opts: &CreateOptions) -> Result<H5File> {
        let w = Writer::create_with(path.as_ref(), opts)?;
        Ok(Self::writable(boxed(w), Some(path.as_ref().to_path_buf())))
    }

    /// A new, empty file in memory, readable and writable (tests, wasm);
    /// [`H5File::to_bytes`] gives its bytes.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let y = f.create_dataset("Y", &[2], &[1u8, 2], &Default::default())?;
    /// assert_eq!((f.path(), y.read::<u8>()?), (None, vec![1, 2]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn in_memory() -> Result<H5File> {
        Self::in_memory_with(&CreateOptions::default())
    }

    /// [`H5File::in_memory`] in the format `opts` names.
    ///
    /// ```
    /// use h5sparse::write::{CreateOptions, Format};
    /// let f = h5sparse::H5File::in_memory_with(&CreateOptions { format: Format::Latest })?;
    /// f.create_dataset("x", &[3], &[1i32, 2, 3], &Default::default())?;
    /// let back = h5sparse::File::from_bytes(f.to_bytes()?)?;
    /// assert_eq!(back.superblock_version(), 3);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn in_memory_with(opts: &CreateOptions) -> Result<H5File> {
        let sink: Box<dyn Backing + Send> = Box::new(crate::io::sink::MemSink::default());
        let w = Writer::create_in_with(sink, opts)?;
        Ok(Self::writable(w, None))
    }

    fn writable(w: DynWriter, path: Option<PathBuf>) -> H5File {
        H5File {
            inner: Arc::new(Inner {
                path,
                limits: Limits::default(),
                writer: Some(Mutex::new(w)),
                state: RwLock::new(State {
                    generation: 0,
                    snapshot: None,
                }),
            }),
        }
    }

    /// The path the file was opened from (`None` in memory).
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// assert_eq!(h5sparse::H5File::open(path)?.path(), Some(std::path::Path::new(path)));
    /// assert_eq!(h5sparse::H5File::in_memory()?.path(), None);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Whether writes are allowed (opened with `open_rw`, `create` or
    /// `in_memory`).
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// assert!(!h5sparse::H5File::open(path)?.is_writable());
    /// assert!(h5sparse::H5File::in_memory()?.is_writable());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn is_writable(&self) -> bool {
        self.inner.writer.is_some()
    }

    /// The limits reads are checked against.
    ///
    /// ```
    /// use h5sparse::{H5File, Limits};
    /// assert_eq!(H5File::in_memory()?.limits(), &Limits::default());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The read-only object model of the file as it is now: groups, links,
    /// attributes, datasets, zero-copy views.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.create_group("g")?;
    /// let snap = f.snapshot()?;
    /// assert_eq!(snap.root()?.links()?[0].name, "g");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn snapshot(&self) -> Result<Arc<File>> {
        Ok(self.begin_read()?.file.clone())
    }

    /// The file's bytes as they are now (a copy).
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.create_group("g")?;
    /// let bytes = f.to_bytes()?;                          // e.g. to save or send
    /// let copy = h5sparse::H5File::from_bytes(bytes)?;    // read-only
    /// assert_eq!(copy.snapshot()?.root()?.links()?[0].name, "g");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let read = self.begin_read()?;
        match read.file.bytes() {
            Some(b) => Ok(b.to_vec()),
            None => Err(Error::unsupported(
                "the bytes of a file read range by range",
            )),
        }
    }

    /// Starts a read: the current snapshot (mapped again if a write made
    /// the last one stale), with writes held off until the guard drops.
    pub(crate) fn begin_read(&self) -> Result<ReadGuard<'_>> {
        loop {
            {
                let st = self.inner.state.read().map_err(|_| poisoned())?;
                if let Some(file) = st.snapshot.clone() {
                    let generation = st.generation;
                    return Ok(ReadGuard {
                        _lock: st,
                        file,
                        generation,
                    });
                }
            }
            let mut st = self.inner.state.write().map_err(|_| poisoned())?;
            if st.snapshot.is_none() {
                let writer = self
                    .inner
                    .writer
                    .as_ref()
                    .ok_or_else(|| Error::invalid("read-only file without a snapshot"))?;
                let mut w = writer.lock().map_err(|_| poisoned())?;
                st.snapshot = Some(Arc::new(w.reader()?));
            }
        }
    }

    /// Runs one write operation with every read held off; the next read
    /// takes a fresh snapshot.
    pub(crate) fn write<R>(&self, op: impl FnOnce(&mut DynWriter) -> Result<R>) -> Result<R> {
        let writer = self.inner.writer.as_ref().ok_or_else(|| {
            Error::invalid(format!(
                "{} was opened read-only; open it with H5File::open_rw to write",
                self.display_name()
            ))
        })?;
        let mut st = self.inner.state.write().map_err(|_| poisoned())?;
        let mut w = writer.lock().map_err(|_| poisoned())?;
        // Even a failed operation may have moved the end of file: re-read.
        st.snapshot = None;
        st.generation += 1;
        op(&mut w)
    }

    fn display_name(&self) -> String {
        match &self.inner.path {
            Some(p) => p.display().to_string(),
            None => "the in-memory file".to_string(),
        }
    }

    /// The sparse matrix stored in the group at `path` (h5sparse, anndata
    /// or 10x convention), as h5sparse's `f['X']`.
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let f = h5sparse::H5File::open(path)?;
    /// let x = f.sparse("X")?;
    /// assert_eq!(x.to_string(), "<HDF5 sparse dataset: format 'csr', shape (6, 3), type '<i8'>");
    /// assert!(f.sparse("Y").is_err());   // a dense dataset
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn sparse(&self, path: &str) -> Result<SparseHandle> {
        SparseHandle::open(self.clone(), absolute(path))
    }

    /// Writes `m` as a sparse matrix group at `path` (both the h5sparse and
    /// anndata markers, `data`/`indices`/`indptr` growable), as h5sparse's
    /// `f.create_dataset('X', data=X)`.
    ///
    /// ```
    /// use h5sparse::{sparse::SparseWriteOptions, H5File};
    /// let f = H5File::in_memory()?;
    /// let m = sprs::CsMat::new((1, 2), vec![0, 1], vec![1], vec![7i64]);
    /// let x = f.create_sparse("X", &m, &SparseWriteOptions::default().gzip(4))?;
    /// assert_eq!(x.get::<i64>(0, 1)?, 7);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_sparse<T, I, Iptr, IpS, IS, DS>(
        &self,
        path: &str,
        m: &sprs::CsMatBase<T, I, IpS, IS, DS, Iptr>,
        opts: &SparseWriteOptions,
    ) -> Result<SparseHandle>
    where
        T: H5Type,
        I: IndexType,
        Iptr: IndexType,
        IpS: std::ops::Deref<Target = [Iptr]>,
        IS: std::ops::Deref<Target = [I]>,
        DS: std::ops::Deref<Target = [T]>,
    {
        let path = absolute(path);
        self.write(|w| crate::sparse::write_matrix(w, &path, m.view(), opts))?;
        SparseHandle::open(self.clone(), path)
    }

    /// The dataset at `path`.
    ///
    /// ```
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5");
    /// let f = h5sparse::H5File::open(path)?;
    /// let y = f.dataset("Y")?;
    /// assert_eq!(y.shape()?, vec![4, 3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dataset(&self, path: &str) -> Result<DatasetHandle> {
        DatasetHandle::open(self.clone(), absolute(path))
    }

    /// Creates a dataset of shape `shape` from `data` (C order), stored as
    /// `opts` says (contiguous by default, as h5py; growable with
    /// [`DatasetOptions::growable`]).
    ///
    /// ```
    /// use h5sparse::{write::DatasetOptions, H5File};
    /// let f = H5File::in_memory()?;
    /// let y = f.create_dataset("Y", &[2, 2], &[1i64, 2, 3, 4], &DatasetOptions::growable())?;
    /// y.append(&[5i64, 6])?;
    /// assert_eq!(y.read_2d::<i64>()?, ndarray::arr2(&[[1, 2], [3, 4], [5, 6]]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_dataset<T: H5Type>(
        &self,
        path: &str,
        shape: &[u64],
        data: &[T],
        opts: &DatasetOptions,
    ) -> Result<DatasetHandle> {
        let path = absolute(path);
        self.write(|w| w.create_dataset(&path, shape, data, opts))?;
        DatasetHandle::open(self.clone(), path)
    }

    /// Creates a dataset from an ndarray (any shape; h5py's
    /// `create_dataset(name, data=array)`).
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let a = ndarray::arr2(&[[0i64, 1, 0], [0, 0, 2]]);
    /// let y = f.create_array("Y", &a, &Default::default())?;
    /// assert_eq!(y.to_string(), "<HDF5 dataset \"Y\": shape (2, 3), type \"<i8\">");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_array<T, S, D>(
        &self,
        path: &str,
        array: &ndarray::ArrayBase<S, D>,
        opts: &DatasetOptions,
    ) -> Result<DatasetHandle>
    where
        T: H5Type,
        S: ndarray::Data<Elem = T>,
        D: ndarray::Dimension,
    {
        let shape: Vec<u64> = array.shape().iter().map(|&n| n as u64).collect();
        match array.as_slice() {
            Some(flat) => self.create_dataset(path, &shape, flat, opts),
            None => {
                let flat: Vec<T> = array.iter().copied().collect();
                self.create_dataset(path, &shape, &flat, opts)
            }
        }
    }

    /// Creates the group at `path` (its parent must exist).
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.create_group("obsm")?;
    /// f.create_group("obsm/pca")?;                        // relative to the root, as h5py
    /// assert!(f.create_group("varm/pca").is_err());       // no parent varm
    /// assert_eq!(f.snapshot()?.group("/obsm/pca")?.path(), "/obsm/pca");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_group(&self, path: &str) -> Result<()> {
        self.write(|w| w.create_group(&absolute(path)))
    }

    /// Sets a scalar UTF-8 string attribute on the object at `path`, as
    /// h5py's `f[path].attrs[name] = "text"`.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.set_attr_str("/", "encoding-type", "anndata")?;
    /// let snap = f.snapshot()?;
    /// let attr = snap.root()?.attribute("encoding-type")?.unwrap();
    /// assert_eq!(attr.values()?, h5sparse::Values::Str(vec!["anndata".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_attr_str(&self, path: &str, name: &str, value: &str) -> Result<()> {
        self.write(|w| w.set_attr_str(&absolute(path), name, value))
    }

    /// Sets a 1-D numeric attribute on the object at `path`.
    ///
    /// ```
    /// use h5sparse::Values;
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.create_group("X")?;
    /// f.set_attr_array("X", "shape", &[6i64, 3])?;         // attrs['shape'] = np.array([6, 3])
    /// let snap = f.snapshot()?;
    /// let attr = snap.group("/X")?.attribute("shape")?.expect("just set");
    /// assert_eq!(attr.values()?, Values::Int(vec![6, 3]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_attr_array<T: H5Type>(&self, path: &str, name: &str, values: &[T]) -> Result<()> {
        self.write(|w| w.set_attr_array(&absolute(path), name, values))
    }

    /// Deletes attribute `name` of the object at `path`.
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// f.set_attr_str("/", "note", "draft")?;
    /// f.delete_attr("/", "note")?;                        // del f.attrs['note']
    /// assert!(f.snapshot()?.root()?.attribute("note")?.is_none());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn delete_attr(&self, path: &str, name: &str) -> Result<()> {
        self.write(|w| w.delete_attr(&absolute(path), name))
    }

    /// Removes the link at `path` (h5py's `del f[path]`).
    ///
    /// ```
    /// let f = h5sparse::H5File::in_memory()?;
    /// let y = f.create_dataset("Y", &[1], &[1i64], &Default::default())?;
    /// f.unlink("Y")?;
    /// assert!(f.dataset("Y").is_err());
    /// assert!(y.read::<i64>().is_err());                  // the handle sees it gone
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn unlink(&self, path: &str) -> Result<()> {
        self.write(|w| w.unlink(&absolute(path)))
    }

    /// Runs `f` on the file's [`Writer`] as one transaction: every reader
    /// (this process's handles, h5py, anndata) sees the file before it or
    /// after all of it, even after a crash at any write
    /// ([`Writer::transaction`]); an `Err` from `f` undoes it. Inside `f`,
    /// write through the writer (paths from the root), not through handles
    /// of this file, which would wait for `f` to end.
    ///
    /// ```
    /// use h5sparse::sparse;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let m = sprs::CsMat::new((1, 3), vec![0, 2], vec![0, 2], vec![1.0f32, 2.0]);
    /// let x = f.create_sparse("X", &m, &Default::default())?;
    /// let l = f.create_sparse("layer", &m, &Default::default())?;
    /// f.transaction(|w| {
    ///     sparse::append(w, "/X", &m)?;
    ///     sparse::append(w, "/layer", &m)                  // both or neither
    /// })?;
    /// assert_eq!((x.shape()?, l.shape()?), ([2, 3], [2, 3]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn transaction<R>(&self, f: impl FnOnce(&mut DynWriter) -> Result<R>) -> Result<R> {
        self.write(|w| w.transaction(f))
    }

    /// Makes every write so far durable (fsync). Handles keep working.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5file-flush", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let f = h5sparse::H5File::create(&path)?;
    /// let y = f.create_dataset("Y", &[2], &[1i64, 2], &Default::default())?;
    /// f.flush()?;                                         // durable; f and y stay usable
    /// y.write_slab(&[0], &[1], &[5i64])?;
    /// assert_eq!(y.read::<i64>()?, vec![5, 2]);
    /// # drop((f, y));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        match &self.inner.writer {
            Some(w) => w.lock().map_err(|_| poisoned())?.flush(),
            None => Ok(()),
        }
    }

    /// Whether writes to the file are made durable (default `true`; see
    /// [`Writer::set_durable`](crate::write::Writer::set_durable)): `false`
    /// for scratch outputs skips every `fdatasync`, at the risk of losing
    /// or tearing the file in a power loss. A read-only file ignores it.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5file-durable", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("scratch.h5");
    /// let f = h5sparse::H5File::create(&path)?;
    /// f.set_durable(false)?;
    /// f.create_dataset("Y", &[2], &[1i64, 2], &Default::default())?;
    /// f.close()?;                                          // written out, not synced
    /// assert_eq!(h5sparse::File::open(&path)?.dataset("Y")?.read::<i64>()?, vec![1, 2]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_durable(&self, durable: bool) -> Result<()> {
        if let Some(w) = &self.inner.writer {
            w.lock().map_err(|_| poisoned())?.set_durable(durable);
        }
        Ok(())
    }

    /// Lets writes of slices of another file's memory map be copied file
    /// to file in the kernel ([`CopySource`](crate::io::sink::CopySource);
    /// e.g. chunks copied unchanged from an input). No effect on a file in
    /// memory or read-only.
    pub fn add_copy_source(&self, source: crate::io::sink::CopySource) -> Result<()> {
        if let Some(w) = &self.inner.writer {
            w.lock().map_err(|_| poisoned())?.add_copy_source(source);
        }
        Ok(())
    }

    /// Flushes; the file closes (and its lock is released) when the last
    /// clone and handle are dropped, as in h5py.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5file-close", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let f = h5sparse::H5File::create(&path)?;
    /// f.create_group("g")?;
    /// f.close()?;                                          // the last reference: unlocked
    /// let again = h5sparse::H5File::open_rw(&path)?;       // so a new writer may open it
    /// assert_eq!(again.snapshot()?.root()?.links()?[0].name, "g");
    /// # drop(again);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn close(self) -> Result<()> {
        self.flush()
    }
}

#[cfg(feature = "mmap")]
fn boxed(w: Writer<crate::write::MappedFile>) -> DynWriter {
    w.map_sink(|s| Box::new(s) as Box<dyn Backing + Send>)
}

/// `path` from the root: handles and h5py alike take `X` for `/X`.
fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests;
