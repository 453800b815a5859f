//! Writing `.h5ad` files in anndata 0.12's encoding, element by element,
//! with matrices streamed block by block ([`SparseStream`],
//! [`DenseStream`]) so that none has to be in memory whole.
//!
//! What is written matches what anndata 0.12 writes through h5py: every
//! element carries `encoding-type` / `encoding-version` as scalar
//! variable-length UTF-8 strings, the root is `anndata` 0.1.0, the mapping
//! groups (`layers`, `obsm`, `varm`, `obsp`, `varp`, `uns`) are `dict`
//! 0.1.0 and are created by [`H5adWriter::finish`] when nothing was written
//! into them, `raw` is `raw` 0.1.0. A missing parent group is created as it
//! is needed (`raw` for `raw`, `dict` for every other).
//!
//! ```
//! use h5sparse::anndata::{AnnData, DataFrameData, H5adWriter, IndexWidth, WriteOptions};
//! use h5sparse::sparse::SparseFormat;
//! use h5sparse::{ByteOrder, Dtype};
//!
//! # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5adw", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! let path = dir.join("out.h5ad");
//! let mut w = H5adWriter::create(&path, WriteOptions::default())?;
//! w.write_dataframe("obs", &DataFrameData::with_index(vec!["c0".into(), "c1".into()]))?;
//! w.write_dataframe("var", &DataFrameData::with_index(vec!["g0".into(), "g1".into(), "g2".into()]))?;
//! let f32 = Dtype::Float { size: 4, order: ByteOrder::Little };
//! let mut x = w.sparse("X", SparseFormat::Csr, [2, 3], &f32, IndexWidth::I32)?;
//! x.push::<f32, usize>(&[0, 1], &[2], &[1.5])?;           // row 0
//! x.push::<f32, usize>(&[0, 2], &[0, 1], &[2.0, 3.0])?;   // row 1
//! x.finish()?;
//! w.write_string("uns/note", "made in Rust")?;
//! w.finish()?;
//!
//! let adata = AnnData::open(&h5sparse::H5File::open(&path)?)?;
//! assert_eq!((adata.n_obs(), adata.n_vars()), (2, 3));
//! assert_eq!(adata.x_sparse()?.expect("sparse").read::<f32>(1..2, ..)?.nnz(), 2);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), h5sparse::Error>(())
//! ```

mod categoricals;
mod dataframe;
mod legacy;
mod streams;

use std::collections::HashSet;
use std::path::Path;

pub(crate) use categoricals::{natural_cmp, strings_column};
pub(crate) use dataframe::codes_width;
pub use streams::{DenseStream, SparseStream};

use crate::error::{Error, Result};
use crate::read::{ByteOrder, CharSet, Dtype, Values};
use crate::sparse::SparseFormat;
use crate::write::{copy_object, CopyOptions, DatasetOptions};
use crate::H5File;

/// The mapping groups every `.h5ad` has, empty or not.
const MAPPINGS: [&str; 6] = ["/layers", "/obsm", "/obsp", "/uns", "/varm", "/varp"];

/// How an [`H5adWriter`] stores what it writes.
///
/// ```
/// let o = h5sparse::anndata::WriteOptions::default().gzip(4);
/// assert_eq!((o.compression, o.block_bytes), (Some(4), 256 << 20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Deflate level for arrays and matrices (`None`, anndata's default:
    /// uncompressed).
    pub compression: Option<u32>,
    /// Memory budget of one streamed block, in bytes: what subset, concat
    /// and conversion hold for a block of a matrix while it is read,
    /// remapped and written, the writer's own buffers included (it buffers
    /// an eighth of it, at most 64 MiB, per matrix before writing).
    pub block_bytes: usize,
    /// Whether the written file is made durable (`fdatasync` before
    /// transactions publish and at [`H5adWriter::finish`]; default `true`).
    /// `false` is for scratch outputs: faster on large files, but a power
    /// loss or kernel crash may leave the file lost or torn
    /// ([`H5File::set_durable`]).
    pub durable: bool,
    /// When `concat` copies the chunks it takes unchanged from an input
    /// file to file in the kernel (`copy_file_range`), placed at offsets
    /// congruent to the input's modulo 4096 so that XFS (with reflink)
    /// and btrfs share the input's blocks instead of copying them.
    pub kernel_copy: KernelCopy,
}

/// When chunks taken unchanged from an input are copied file to file in
/// the kernel ([`WriteOptions::kernel_copy`]).
///
/// ```
/// use h5sparse::anndata::{KernelCopy, WriteOptions};
/// assert_eq!(WriteOptions::default().kernel_copy, KernelCopy::Auto);
/// let o = WriteOptions::default().kernel_copy(KernelCopy::Never);   // always pwrite
/// assert_eq!(o.kernel_copy, KernelCopy::Never);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KernelCopy {
    /// Where the output and the input lie on one file system that shares
    /// blocks between files (XFS, btrfs:
    /// [`shares_extents`](crate::io::fs::shares_extents)); elsewhere
    /// (ext4) copying in the kernel is no faster than writing from the
    /// input's map, and slower when synced.
    #[default]
    Auto,
    /// Whenever the input is a mapped file (the kernel copies where it
    /// cannot share; writing takes over where it refuses).
    Always,
    /// Never: every byte is written from the input's map.
    Never,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: None,
            block_bytes: 256 << 20,
            durable: true,
            kernel_copy: KernelCopy::Auto,
        }
    }
}

impl WriteOptions {
    /// Deflate at `level` (0..=9).
    ///
    /// ```
    /// assert_eq!(h5sparse::anndata::WriteOptions::default().gzip(12).compression, Some(9));
    /// ```
    pub fn gzip(mut self, level: u32) -> Self {
        self.compression = Some(level.min(9));
        self
    }

    /// Sets when chunks taken unchanged from an input are copied in the
    /// kernel.
    ///
    /// ```
    /// use h5sparse::anndata::{KernelCopy, WriteOptions};
    /// let o = WriteOptions::default().kernel_copy(KernelCopy::Always);
    /// assert_eq!(o.kernel_copy, KernelCopy::Always);
    /// ```
    pub fn kernel_copy(mut self, when: KernelCopy) -> Self {
        self.kernel_copy = when;
        self
    }

    /// How many bytes a stream buffers before it writes them (whole
    /// chunks; less than a chunk stays buffered).
    pub(crate) fn flush_bytes(&self) -> usize {
        (self.block_bytes / 8).clamp(1, 64 << 20)
    }

    /// What a block's own buffers may take: the budget less the writer's
    /// buffered bytes.
    pub(crate) fn reading_bytes(&self) -> u64 {
        self.block_bytes.saturating_sub(self.flush_bytes()).max(1) as u64
    }

    /// How many entries (or rows) a block holds when each keeps `held`
    /// bytes alive between being read and being written; at least one.
    pub(crate) fn per_block(&self, held: u64) -> u64 {
        (self.reading_bytes() / held.max(1)).max(1)
    }

    /// Dataset options for an array of `len` rows: chunked and deflated
    /// when compression is asked for (and there is something to chunk),
    /// contiguous otherwise, as h5py does.
    fn array_options(&self, shape: &[u64]) -> DatasetOptions {
        match self.compression {
            Some(level) if !shape.is_empty() && !shape.contains(&0) => {
                DatasetOptions::default().gzip(level)
            }
            _ => DatasetOptions::default(),
        }
    }
}

/// The integer type of a sparse matrix's `indices` and `indptr`.
///
/// ```
/// use h5sparse::anndata::IndexWidth;
/// use h5sparse::sparse::SparseFormat;
/// assert_eq!(IndexWidth::for_matrix(SparseFormat::Csr, [10, 20], 150), IndexWidth::I32);
/// assert_eq!(IndexWidth::for_matrix(SparseFormat::Csr, [10, 20], 1 << 31), IndexWidth::I64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexWidth {
    /// int32, what scipy (and so anndata) uses while every value fits.
    I32,
    /// int64.
    I64,
}

impl IndexWidth {
    /// What scipy picks for a matrix of `shape` holding `nnz` entries:
    /// int32 when the number of entries and the dimensions fit, else int64.
    pub fn for_matrix(format: SparseFormat, shape: [u64; 2], nnz: u64) -> IndexWidth {
        let _ = format; // both dimensions count, as in scipy
        let max = i32::MAX as u64;
        if nnz <= max && shape[0] <= max && shape[1] <= max {
            IndexWidth::I32
        } else {
            IndexWidth::I64
        }
    }

    /// The stored datatype (little-endian signed).
    pub(crate) fn dtype(self) -> Dtype {
        Dtype::Int {
            size: self.bytes() as u8,
            signed: true,
            order: ByteOrder::Little,
        }
    }

    /// Bytes per index.
    ///
    /// ```
    /// use h5sparse::anndata::IndexWidth;
    /// assert_eq!((IndexWidth::I32.bytes(), IndexWidth::I64.bytes()), (4, 8));
    /// ```
    pub fn bytes(self) -> usize {
        match self {
            IndexWidth::I32 => 4,
            IndexWidth::I64 => 8,
        }
    }

    /// The largest value it holds.
    pub(crate) fn max(self) -> u64 {
        match self {
            IndexWidth::I32 => i32::MAX as u64,
            IndexWidth::I64 => i64::MAX as u64,
        }
    }
}

/// A new `.h5ad` file being written. Elements are written by path
/// (`"obs"`, `"/layers/counts"`, `"uns/params/n_pcs"`); [`H5adWriter::finish`]
/// completes the file.
#[derive(Debug)]
pub struct H5adWriter {
    file: H5File,
    opts: WriteOptions,
    /// Groups known to exist.
    groups: HashSet<String>,
}

/// A variable-length UTF-8 string: h5py's `str`.
pub(crate) fn vlen_str() -> Dtype {
    Dtype::VarString {
        charset: CharSet::Utf8,
    }
}

/// `path` from the root.
pub(crate) fn absolute(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    format!("/{trimmed}")
}

impl H5adWriter {
    /// Creates (truncating) the file at `path`, its root marked
    /// `encoding-type="anndata"`, `encoding-version="0.1.0"`.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-h5adw-create", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let w = H5adWriter::create(dir.join("a.h5ad"), WriteOptions::default())?;
    /// let root = w.file().snapshot()?;
    /// assert!(root.root()?.attribute("encoding-type")?.is_some());
    /// # drop(w);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    #[cfg(feature = "mmap")]
    pub fn create(path: impl AsRef<Path>, opts: WriteOptions) -> Result<H5adWriter> {
        let file = H5File::create(path)?;
        Self::new(file, opts)
    }

    /// [`H5adWriter::create`] where files can be created by path (the
    /// `mmap` feature); an error naming the way round otherwise (e.g. on
    /// wasm32, where [`H5adWriter::new`] over [`H5File::in_memory`] works).
    pub(crate) fn create_at(path: impl AsRef<Path>, opts: WriteOptions) -> Result<H5adWriter> {
        #[cfg(feature = "mmap")]
        return Self::create(path, opts);
        #[cfg(not(feature = "mmap"))]
        {
            let _ = opts;
            Err(crate::error::Error::unsupported(format!(
                "{}: creating a file by path needs the `mmap` feature \
                 (H5adWriter::new over H5File::in_memory works without it)",
                path.as_ref().display()
            )))
        }
    }

    /// A writer over an empty file already open for writing (e.g.
    /// [`H5File::in_memory`]).
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// w.create_dict("uns/empty")?;
    /// let f = w.file().clone();
    /// w.finish()?;
    /// assert!(f.snapshot()?.group("/obsm").is_ok());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn new(file: H5File, opts: WriteOptions) -> Result<H5adWriter> {
        if !opts.durable {
            file.set_durable(false)?;
        }
        let mut w = H5adWriter {
            file,
            opts,
            groups: HashSet::new(),
        };
        w.groups.insert("/".to_string());
        w.mark("/", "anndata", "0.1.0")?;
        Ok(w)
    }

    /// The file being written.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// let w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// assert!(w.file().is_writable());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn file(&self) -> &H5File {
        &self.file
    }

    /// The options given at creation.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// let w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default().gzip(1))?;
    /// assert_eq!(w.options().compression, Some(1));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn options(&self) -> &WriteOptions {
        &self.opts
    }

    /// Sets `encoding-type` and `encoding-version` on the object at `path`.
    pub(crate) fn mark(&mut self, path: &str, encoding: &str, version: &str) -> Result<()> {
        self.file.write(|w| {
            w.set_attr_str(path, "encoding-type", encoding)?;
            w.set_attr_str(path, "encoding-version", version)
        })
    }

    /// Whether an object exists at `path` (absolute).
    fn exists(&self, path: &str) -> Result<bool> {
        if self.groups.contains(path) {
            return Ok(true);
        }
        Ok(self.file.snapshot()?.get(path).is_ok())
    }

    /// Creates the groups above `path` that do not exist yet (`raw` as
    /// anndata's `raw`, every other as a `dict`), and refuses a `path`
    /// already taken. Returns `path` from the root.
    pub(crate) fn prepare(&mut self, path: &str) -> Result<String> {
        let path = absolute(path);
        if path == "/" {
            return Err(Error::invalid("an element needs a name, not the root"));
        }
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        for part in &parts[..parts.len() - 1] {
            parent.push('/');
            parent.push_str(part);
            if !self.exists(&parent)? {
                self.file.write(|w| w.create_group(&parent))?;
                let encoding = if parent == "/raw" { "raw" } else { "dict" };
                self.mark(&parent, encoding, "0.1.0")?;
            }
            self.groups.insert(parent.clone());
        }
        if self.exists(&path)? {
            return Err(Error::invalid(format!("{path} is already written")));
        }
        Ok(path)
    }

    /// A new group at `path` (parents prepared), remembered as existing.
    pub(crate) fn new_group(&mut self, path: &str) -> Result<String> {
        let path = self.prepare(path)?;
        self.file.write(|w| w.create_group(&path))?;
        self.groups.insert(path.clone());
        Ok(path)
    }

    /// An empty `dict` group (a nested `uns` entry, an empty mapping).
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// w.create_dict("uns/params")?;
    /// assert!(w.create_dict("uns/params").is_err());          // already there
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_dict(&mut self, path: &str) -> Result<()> {
        let path = self.new_group(path)?;
        self.mark(&path, "dict", "0.1.0")
    }

    /// A numeric or bool array (`array` 0.2.0) of `shape` from `values`
    /// (converted to `dtype`, refusing values it cannot hold), or a string
    /// array (`string-array` 0.2.0) when `dtype` is a string type.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// use h5sparse::{ByteOrder, Dtype, Values};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let f4 = Dtype::Float { size: 4, order: ByteOrder::Little };
    /// w.write_array("obsm/X_pca", &f4, &[2, 2], &Values::Float(vec![0.5, 1.0, 1.5, 2.0]))?;
    /// let snap = w.file().snapshot()?;
    /// assert_eq!(snap.dataset("/obsm/X_pca")?.read::<f32>()?, vec![0.5, 1.0, 1.5, 2.0]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_array(
        &mut self,
        path: &str,
        dtype: &Dtype,
        shape: &[u64],
        values: &Values,
    ) -> Result<()> {
        if shape.is_empty() {
            return Err(Error::invalid(format!(
                "{path}: an array needs at least one dimension (write_scalar writes scalars)"
            )));
        }
        let strings = matches!(dtype, Dtype::VarString { .. } | Dtype::FixedString { .. });
        let dtype = if strings { vlen_str() } else { dtype.clone() };
        let path = self.prepare(path)?;
        let opts = self.opts.array_options(shape);
        self.file
            .write(|w| w.create_dataset_values(&path, &dtype, shape, values, &opts))
            .map_err(|e| e.context(&path))?;
        if strings {
            self.mark(&path, "string-array", "0.2.0")
        } else {
            self.mark(&path, "array", "0.2.0")
        }
    }

    /// A 1-D array of strings (`string-array` 0.2.0, variable-length
    /// UTF-8, as anndata writes `obs_names` and string columns).
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// use h5sparse::Values;
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// w.write_string_array("uns/colors", &["#ff0000".to_string(), "#00ff00".to_string()])?;
    /// let snap = w.file().snapshot()?;
    /// assert_eq!(snap.dataset("/uns/colors")?.values()?, Values::Str(vec!["#ff0000".into(), "#00ff00".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_string_array(&mut self, path: &str, values: &[String]) -> Result<()> {
        self.write_array(
            path,
            &vlen_str(),
            &[values.len() as u64],
            &Values::Str(values.to_vec()),
        )
    }

    /// A numeric (or bool) scalar (`numeric-scalar` 0.2.0): `value` holds
    /// one value, converted to `dtype`.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// use h5sparse::{ByteOrder, Dtype, Values};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let i8 = Dtype::Int { size: 8, signed: true, order: ByteOrder::Little };
    /// w.write_scalar("uns/n_pcs", &i8, &Values::Int(vec![50]))?;
    /// assert_eq!(w.file().snapshot()?.dataset("/uns/n_pcs")?.read::<i64>()?, vec![50]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_scalar(&mut self, path: &str, dtype: &Dtype, value: &Values) -> Result<()> {
        if value.len() != 1 {
            return Err(Error::invalid(format!(
                "{path}: a scalar holds one value, {} given",
                value.len()
            )));
        }
        let path = self.prepare(path)?;
        self.file
            .write(|w| {
                w.create_dataset_values(&path, dtype, &[], value, &DatasetOptions::default())
            })
            .map_err(|e| e.context(&path))?;
        self.mark(&path, "numeric-scalar", "0.2.0")
    }

    /// A string scalar (`string` 0.2.0, variable-length UTF-8).
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// use h5sparse::Values;
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// w.write_string("uns/note", "hello")?;
    /// let snap = w.file().snapshot()?;
    /// assert_eq!(snap.dataset("/uns/note")?.values()?, Values::Str(vec!["hello".into()]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_string(&mut self, path: &str, value: &str) -> Result<()> {
        let path = self.prepare(path)?;
        let values = Values::Str(vec![value.to_string()]);
        self.file.write(|w| {
            w.create_dataset_values(&path, &vlen_str(), &[], &values, &DatasetOptions::default())
        })?;
        self.mark(&path, "string", "0.2.0")
    }

    /// A sparse matrix of `shape` at `path`, written block by block along
    /// its major axis (rows for CSR, columns for CSC) through the returned
    /// stream; `dtype` is the stored type of `data`, `index` that of
    /// `indices` and `indptr` ([`IndexWidth::for_matrix`] picks as scipy
    /// does).
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, IndexWidth, WriteOptions};
    /// use h5sparse::sparse::SparseFormat;
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let i8 = Dtype::Int { size: 8, signed: true, order: ByteOrder::Little };
    /// let mut s = w.sparse("obsp/connectivities", SparseFormat::Csr, [3, 3], &i8, IndexWidth::I32)?;
    /// s.push::<i64, u32>(&[0, 1, 1, 2], &[1, 0], &[7, 8])?;
    /// s.finish()?;
    /// let x = w.file().sparse("obsp/connectivities")?;
    /// assert_eq!(x.get::<i64>(2, 0)?, 8);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn sparse(
        &mut self,
        path: &str,
        format: SparseFormat,
        shape: [u64; 2],
        dtype: &Dtype,
        index: IndexWidth,
    ) -> Result<SparseStream<'_>> {
        SparseStream::new(self, path, format, shape, dtype, index)
    }

    /// A dense array of `shape` (`array` 0.2.0) at `path`, written block
    /// by block along axis 0 through the returned stream.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// use h5sparse::{ByteOrder, Dtype};
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// let f8 = Dtype::Float { size: 8, order: ByteOrder::Little };
    /// let mut d = w.dense("layers/dense", &[3, 2], &f8)?;
    /// d.push(&[1.0f64, 2.0])?;                                // row 0
    /// d.push(&[3.0f64, 4.0, 5.0, 6.0])?;                      // rows 1-2
    /// d.finish()?;
    /// let snap = w.file().snapshot()?;
    /// assert_eq!(snap.dataset("/layers/dense")?.read::<f64>()?, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn dense(&mut self, path: &str, shape: &[u64], dtype: &Dtype) -> Result<DenseStream<'_>> {
        DenseStream::new(self, path, shape, dtype)
    }

    /// Copies the object at `src_path` of `src` (a group with everything
    /// under it or a dataset, attributes kept) to `dst_path`: for `uns` and
    /// any element written unchanged. Objects that older anndata wrote
    /// without `encoding-type` get the encoding anndata 0.12 gives what it
    /// reads from them (a plain group: `dict`, an h5sparse-convention
    /// group: `csr_matrix`/`csc_matrix`, a string dataset: `string` or
    /// `string-array` rewritten as variable-length UTF-8, a number
    /// dataset: `numeric-scalar` or `array`), so that anndata reads the
    /// result without a warning.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// let src = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let mut w = H5adWriter::new(h5sparse::H5File::in_memory()?, WriteOptions::default())?;
    /// w.copy_from(&src, "/uns", "uns")?;
    /// w.copy_from(&src, "/obsm/X_pca", "obsm/X_pca")?;
    /// let snap = w.file().snapshot()?;
    /// assert_eq!(snap.dataset("/obsm/X_pca")?.shape(), src.dataset("/obsm/X_pca")?.shape());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn copy_from(
        &mut self,
        src: &crate::read::File,
        src_path: &str,
        dst_path: &str,
    ) -> Result<()> {
        let dst = self.prepare(dst_path)?;
        self.file
            .write(|w| copy_object(src, src_path, w, &dst, &CopyOptions::default()))?;
        self.groups.retain(|g| g != &dst);
        legacy::mark_unencoded(self, &dst, 0)
    }

    /// Completes the file: creates the mapping groups nothing was written
    /// into (as anndata always writes them), flushes, and closes it.
    ///
    /// ```
    /// use h5sparse::anndata::{H5adWriter, WriteOptions};
    /// let f = h5sparse::H5File::in_memory()?;
    /// H5adWriter::new(f.clone(), WriteOptions::default())?.finish()?;
    /// let snap = f.snapshot()?;
    /// for g in ["/layers", "/obsm", "/obsp", "/uns", "/varm", "/varp"] {
    ///     assert!(snap.group(g).is_ok());
    /// }
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn finish(mut self) -> Result<()> {
        for m in MAPPINGS {
            if !self.exists(m)? {
                self.create_dict(m)?;
            }
        }
        if self.exists("/raw")? && !self.exists("/raw/varm")? {
            self.create_dict("/raw/varm")?;
        }
        self.file.flush()
    }
}
