//! How each element of an AnnData file is stored: shape, dtype, sparse
//! format and stored entries, index dtypes, chunks and filters. What
//! `h5sparse info` prints, from metadata only.

use super::{Column, ColumnKind, DataFrame, Element};
use crate::dump::json::JsonWriter;
use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype, FilterInfo, Group, LayoutKind, Node};
use crate::sparse::{detect, SparseInfo};
use crate::File;

/// How one dataset is laid out in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetStorage {
    /// The dataset's path.
    pub path: String,
    /// numpy's dtype string of its elements (`<f4`, `|O` for vlen strings).
    pub dtype: String,
    /// Its shape (empty for a scalar).
    pub shape: Vec<u64>,
    /// Compact, contiguous or chunked.
    pub layout: LayoutKind,
    /// The chunk shape, when chunked.
    pub chunks: Option<Vec<u64>>,
    /// The maximum shape (`None` entries: unlimited), when it has a
    /// dataspace.
    pub maxshape: Option<Vec<Option<u64>>>,
    /// The filter pipeline, in order.
    pub filters: Vec<FilterInfo>,
}

impl DatasetStorage {
    /// The layout of `ds`.
    ///
    /// ```
    /// use h5sparse::anndata::DatasetStorage;
    /// let f = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata_gzip.h5ad"))?;
    /// let s = DatasetStorage::of(&f.dataset("/X/data")?);
    /// assert_eq!(s.compression(), Some(("gzip", Some(4))));
    /// assert_eq!(s.chunks, Some(vec![72]));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn of(ds: &Dataset<'_>) -> DatasetStorage {
        DatasetStorage {
            path: ds.path().to_string(),
            dtype: ds.dtype().numpy_str(),
            shape: ds.shape().unwrap_or(&[]).to_vec(),
            layout: ds.layout(),
            chunks: ds.chunks().map(<[u64]>::to_vec),
            maxshape: ds.maxshape(),
            filters: ds.filters().to_vec(),
        }
    }

    /// The compressor as h5py names it (`gzip`, `lzf`, `szip`, or the
    /// filter's own name) and its level where it has one, as h5py's
    /// `Dataset.compression` / `compression_opts` report them.
    pub fn compression(&self) -> Option<(&str, Option<u32>)> {
        self.filters.iter().find_map(|f| match f.id {
            1 => Some(("gzip", Some(f.cd_values.first().copied().unwrap_or(0)))),
            32000 => Some(("lzf", None)),
            4 => Some(("szip", None)),
            // shuffle, fletcher32, scaleoffset, nbit: not compressors.
            2 | 3 | 5 | 6 => None,
            _ => Some((f.name.as_str(), None)),
        })
    }

    /// Whether the shuffle filter is in the pipeline.
    pub fn shuffle(&self) -> bool {
        self.filters.iter().any(|f| f.id == 2)
    }

    /// Whether the Fletcher-32 checksum filter is in the pipeline.
    pub fn fletcher32(&self) -> bool {
        self.filters.iter().any(|f| f.id == 3)
    }

    /// Layout, chunk shape, growability and filters in words, as `h5sparse
    /// info` prints them: `chunked (72,), max shape (unlimited), filters:
    /// deflate (level 4)`.
    ///
    /// ```
    /// use h5sparse::anndata::DatasetStorage;
    /// let f = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata_gzip.h5ad"))?;
    /// let s = DatasetStorage::of(&f.dataset("/X/data")?);
    /// assert_eq!(s.describe(), "chunked (72,), max shape (unlimited), filters: deflate (level 4)");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn describe(&self) -> String {
        let mut s = match self.layout {
            LayoutKind::Compact => "compact".to_string(),
            LayoutKind::Contiguous => "contiguous".to_string(),
            LayoutKind::Chunked => match &self.chunks {
                Some(c) => format!("chunked {}", dims(c)),
                None => "chunked".to_string(),
            },
        };
        if let Some(max) = &self.maxshape {
            if max.iter().any(Option::is_none) {
                let max: Vec<String> = max
                    .iter()
                    .map(|m| m.map_or("unlimited".to_string(), |v| v.to_string()))
                    .collect();
                s.push_str(&format!(", max shape ({})", max.join(", ")));
            }
        }
        let filters: Vec<String> = self
            .filters
            .iter()
            .map(|f| match (f.id, f.cd_values.as_slice()) {
                (1, [level, ..]) => format!("{} (level {level})", f.name),
                // deflate without a level, shuffle, fletcher32: nothing to add.
                (1..=3, _) => f.name.clone(),
                (_, []) => format!("{} (id {})", f.name, f.id),
                (_, cd) => format!(
                    "{} (id {}, parameters {})",
                    f.name,
                    f.id,
                    cd.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
                ),
            })
            .collect();
        if filters.is_empty() {
            s.push_str(", filters: none");
        } else {
            s.push_str(&format!(", filters: {}", filters.join(", ")));
        }
        s
    }

    fn write_json(&self, w: &mut JsonWriter<'_>) {
        w.key("layout");
        w.string(match self.layout {
            LayoutKind::Compact => "compact",
            LayoutKind::Contiguous => "contiguous",
            LayoutKind::Chunked => "chunked",
        });
        w.key("chunks");
        uints_or_null(w, self.chunks.as_deref());
        w.key("maxshape");
        match &self.maxshape {
            None => w.null(),
            Some(m) => {
                w.begin_array();
                for d in m {
                    match d {
                        Some(d) => w.uint(*d),
                        None => w.null(),
                    }
                }
                w.end_array();
            }
        }
        let (compression, level) = match self.compression() {
            Some((c, l)) => (Some(c), l),
            None => (None, None),
        };
        w.key("compression");
        match compression {
            Some(c) => w.string(c),
            None => w.null(),
        }
        w.key("compression_opts");
        match level {
            Some(l) => w.uint(u64::from(l)),
            None => w.null(),
        }
        w.key("shuffle");
        w.bool(self.shuffle());
        w.key("fletcher32");
        w.bool(self.fletcher32());
        w.key("filters");
        w.begin_array();
        for f in &self.filters {
            w.begin_object();
            w.key("id");
            w.uint(u64::from(f.id));
            w.key("name");
            w.string(&f.name);
            w.key("params");
            w.begin_array();
            for v in &f.cd_values {
                w.uint(u64::from(*v));
            }
            w.end_array();
            w.end_object();
        }
        w.end_array();
    }
}

/// A sparse matrix's own facts.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseStorage {
    /// `csr` or `csc`.
    pub format: String,
    /// `anndata`, `h5sparse` or `10x`.
    pub convention: String,
    /// Stored entries: the length of `data`.
    pub nnz: u64,
    /// numpy's dtype string of `indices`.
    pub indices_dtype: String,
    /// numpy's dtype string of `indptr`.
    pub indptr_dtype: String,
}

/// How one element of an AnnData file is stored, from its metadata: what
/// `h5sparse info` prints for `X`, `layers/*`, `obsm/*`, `obsp/*`, `raw/X`,
/// `obs` and `var`.
///
/// ```
/// use h5sparse::anndata::AnnData;
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata_gzip.h5ad");
/// let h5 = h5sparse::H5File::open(path)?;
/// let adata = AnnData::open(&h5)?;
/// let file = h5.snapshot()?;
/// let x = adata.x().unwrap().storage(&file)?;
/// assert_eq!((x.encoding.as_str(), x.shape.as_slice()), ("csr_matrix", &[20, 12][..]));
/// let sparse = x.sparse.as_ref().unwrap();
/// assert_eq!((sparse.nnz, sparse.indptr_dtype.as_str()), (72, "<i4"));
/// assert_eq!(x.data.as_ref().unwrap().compression(), Some(("gzip", Some(4))));
/// let obs = adata.obs().storage(&file)?;
/// assert_eq!(obs.columns.unwrap().len(), 3);
/// println!("{}", x.to_json());
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Storage {
    /// The element's path (for a field of an anndata ≤ 0.6 record array,
    /// the record array's).
    pub path: String,
    /// anndata's encoding: `csr_matrix`, `csc_matrix`, `array`,
    /// `string-array`, `dataframe`, `dict`, `string`, `numeric-scalar`, or
    /// the unread encoding's name. Files older than anndata 0.7 carry no
    /// encoding attributes: theirs is named from what the element is.
    pub encoding: String,
    /// The element's shape: `[rows, cols]` for a matrix, the array's shape,
    /// `[rows, columns]` for a dataframe, `[]` for a scalar or a dict.
    pub shape: Vec<u64>,
    /// numpy's dtype string of the values (`data` of a sparse matrix).
    pub dtype: Option<String>,
    /// The sparse matrix's facts, when it is one.
    pub sparse: Option<SparseStorage>,
    /// How the values are laid out: the dataset itself, or a sparse
    /// matrix's `data`.
    pub data: Option<DatasetStorage>,
    /// A dataframe's columns, in order.
    pub columns: Option<Vec<Column>>,
}

impl Element {
    /// How this element is stored in `file`.
    ///
    /// ```
    /// use h5sparse::anndata::AnnData;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
    /// let h5 = h5sparse::H5File::open(path)?;
    /// let adata = AnnData::open(&h5)?;
    /// let (name, pca) = &adata.obsm()[0];
    /// let s = pca.storage(&*h5.snapshot()?)?;
    /// assert_eq!((name.as_str(), s.encoding.as_str(), s.shape.as_slice()), ("X_pca", "array", &[20, 3][..]));
    /// assert_eq!(s.dtype.as_deref(), Some("<f4"));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn storage(&self, file: &File) -> Result<Storage> {
        let mut s = Storage {
            path: self.path().to_string(),
            encoding: String::new(),
            shape: Vec::new(),
            dtype: None,
            sparse: None,
            data: None,
            columns: None,
        };
        match self {
            Element::Sparse { path, .. } => {
                let group = file.group(path)?;
                let info = detect(&group)?.ok_or_else(|| {
                    Error::invalid(format!("{path}: no longer a sparse matrix group"))
                })?;
                return sparse_storage(&group, &info);
            }
            Element::Dense { path, shape, dtype } => {
                let ds = file.dataset(path)?;
                s.encoding = if matches!(
                    ds.dtype(),
                    Dtype::VarString { .. } | Dtype::FixedString { .. }
                ) {
                    "string-array".into()
                } else {
                    "array".into()
                };
                s.shape = shape.clone();
                s.dtype = Some(dtype.clone());
                s.data = Some(DatasetStorage::of(&ds));
            }
            Element::DataFrame { path } => {
                return DataFrame::open(file, path, None)?.storage(file);
            }
            Element::Dict { .. } => s.encoding = "dict".into(),
            Element::Scalar { path } => {
                let ds = file.dataset(path)?;
                s.encoding = match ds.dtype() {
                    Dtype::VarString { .. } | Dtype::FixedString { .. } => "string".into(),
                    _ => "numeric-scalar".into(),
                };
                s.dtype = Some(ds.dtype().numpy_str());
                s.data = Some(DatasetStorage::of(&ds));
            }
            Element::Other { path, encoding } => {
                s.encoding = encoding.clone();
                if let Ok(Node::Dataset(ds)) = file.get(path) {
                    s.shape = ds.shape().unwrap_or(&[]).to_vec();
                    s.dtype = Some(ds.dtype().numpy_str());
                    s.data = Some(DatasetStorage::of(&ds));
                }
            }
        }
        Ok(s)
    }
}

/// The storage of the sparse matrix group `group`, of any convention.
///
/// ```
/// let f = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tenx.h5"))?;
/// let g = f.group("/matrix")?;
/// let info = h5sparse::sparse::detect(&g)?.unwrap();
/// let s = h5sparse::anndata::sparse_storage(&g, &info)?;
/// assert_eq!(s.sparse.unwrap().convention, "10x");
/// assert!(s.data.unwrap().shuffle());
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn sparse_storage(group: &Group<'_>, info: &SparseInfo) -> Result<Storage> {
    let data = match group.get("data")? {
        Node::Dataset(d) => Some(DatasetStorage::of(&d)),
        _ => None,
    };
    Ok(Storage {
        path: group.path().to_string(),
        encoding: format!("{}_matrix", info.format.as_str()),
        shape: info.shape.to_vec(),
        dtype: Some(info.data_dtype.numpy_str()),
        sparse: Some(SparseStorage {
            format: info.format.as_str().to_string(),
            convention: info.convention.as_str().to_string(),
            nnz: info.nnz_stored,
            indices_dtype: info.indices_dtype.numpy_str(),
            indptr_dtype: info.indptr_dtype.numpy_str(),
        }),
        data,
        columns: None,
    })
}

impl DataFrame {
    /// How this dataframe is stored: its rows and columns, each column's
    /// kind; for anndata ≤ 0.6's record arrays, the record array's layout.
    ///
    /// ```
    /// use h5sparse::anndata::{AnnData, ColumnKind};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
    /// let h5 = h5sparse::H5File::open(path)?;
    /// let adata = AnnData::open(&h5)?;
    /// let var = adata.var().storage(&*h5.snapshot()?)?;
    /// assert_eq!(var.shape, [12, 2]);
    /// assert_eq!(var.columns.unwrap()[0].kind, ColumnKind::Array);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn storage(&self, file: &File) -> Result<Storage> {
        let data = match file.get(self.path())? {
            Node::Dataset(d) => Some(DatasetStorage::of(&d)),
            _ => None,
        };
        Ok(Storage {
            path: self.path().to_string(),
            encoding: "dataframe".into(),
            shape: vec![self.len(), self.columns().len() as u64],
            dtype: None,
            sparse: None,
            data,
            columns: Some(self.columns().to_vec()),
        })
    }
}

impl ColumnKind {
    /// The kind in words: `array`, `string-array`, `categorical`,
    /// `nullable`, `record-field`, or the unread encoding's name.
    ///
    /// ```
    /// assert_eq!(h5sparse::anndata::ColumnKind::Categorical.as_str(), "categorical");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            ColumnKind::Array => "array",
            ColumnKind::Strings => "string-array",
            ColumnKind::Categorical => "categorical",
            ColumnKind::Nullable => "nullable",
            ColumnKind::RecordField => "record-field",
            ColumnKind::Other(e) => e,
        }
    }
}

impl Storage {
    /// One JSON object with every key always present (`null` where it does
    /// not apply): `path`, `encoding`, `shape`, `dtype`, `format`,
    /// `convention`, `nnz`, `indices_dtype`, `indptr_dtype`, `layout`,
    /// `chunks`, `maxshape` (`null` entries unlimited), `compression`
    /// (h5py's name: `gzip`, `lzf`, ...), `compression_opts` (the gzip
    /// level), `shuffle`, `fletcher32`, `filters` (`[{id, name, params}]`),
    /// `columns` (`[{name, kind}]` for a dataframe).
    ///
    /// ```
    /// use h5sparse::anndata::AnnData;
    /// let h5 = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let x = AnnData::open(&h5)?.x().unwrap().storage(&*h5.snapshot()?)?;
    /// assert!(x.to_json().starts_with(r#"{"path":"/X","encoding":"csr_matrix","shape":[20,12],"dtype":"<f4","format":"csr""#));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        let mut w = JsonWriter::default();
        self.write_json(&mut w);
        w.finish()
    }

    pub(crate) fn write_json(&self, w: &mut JsonWriter<'_>) {
        w.begin_object();
        w.key("path");
        w.string(&self.path);
        w.key("encoding");
        w.string(&self.encoding);
        w.key("shape");
        uints_or_null(w, Some(&self.shape));
        w.key("dtype");
        str_or_null(w, self.dtype.as_deref());
        let sp = self.sparse.as_ref();
        w.key("format");
        str_or_null(w, sp.map(|s| s.format.as_str()));
        w.key("convention");
        str_or_null(w, sp.map(|s| s.convention.as_str()));
        w.key("nnz");
        match sp {
            Some(s) => w.uint(s.nnz),
            None => w.null(),
        }
        w.key("indices_dtype");
        str_or_null(w, sp.map(|s| s.indices_dtype.as_str()));
        w.key("indptr_dtype");
        str_or_null(w, sp.map(|s| s.indptr_dtype.as_str()));
        match &self.data {
            Some(d) => d.write_json(w),
            None => {
                for key in ["layout", "chunks", "maxshape", "compression"] {
                    w.key(key);
                    w.null();
                }
                w.key("compression_opts");
                w.null();
                w.key("shuffle");
                w.bool(false);
                w.key("fletcher32");
                w.bool(false);
                w.key("filters");
                w.begin_array();
                w.end_array();
            }
        }
        w.key("columns");
        match &self.columns {
            None => w.null(),
            Some(cols) => {
                w.begin_array();
                for c in cols {
                    w.begin_object();
                    w.key("name");
                    w.string(&c.name);
                    w.key("kind");
                    w.string(c.kind.as_str());
                    w.end_object();
                }
                w.end_array();
            }
        }
        w.end_object();
    }

    /// The storage in words, one `  key: value` line each after the
    /// element's name line, as `h5sparse info` prints it.
    ///
    /// ```
    /// use h5sparse::anndata::AnnData;
    /// let h5 = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let x = AnnData::open(&h5)?.x().unwrap().storage(&*h5.snapshot()?)?;
    /// assert!(x.describe("X").starts_with("X\n  path: /X\n  encoding: csr_matrix\n  shape: (20, 12)\n"));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn describe(&self, name: &str) -> String {
        let mut s = format!(
            "{name}\n  path: {}\n  encoding: {}\n",
            self.path, self.encoding
        );
        if !self.shape.is_empty() || self.data.is_some() {
            s.push_str(&format!("  shape: {}\n", dims(&self.shape)));
        }
        if let Some(dtype) = &self.dtype {
            s.push_str(&format!("  dtype: {dtype}\n"));
        }
        if let Some(sp) = &self.sparse {
            s.push_str(&format!(
                "  format: {} ({} convention)\n  nnz: {}\n  index dtypes: indices {}, indptr {}\n",
                sp.format, sp.convention, sp.nnz, sp.indices_dtype, sp.indptr_dtype
            ));
        }
        if let Some(cols) = &self.columns {
            let list: Vec<String> = cols
                .iter()
                .map(|c| format!("{} ({})", c.name, c.kind.as_str()))
                .collect();
            s.push_str(&format!("  columns: {}", cols.len()));
            if !list.is_empty() {
                s.push_str(&format!(": {}", list.join(", ")));
            }
            s.push('\n');
        }
        if let Some(d) = &self.data {
            let what = if self.sparse.is_some() {
                "data storage"
            } else {
                "storage"
            };
            s.push_str(&format!("  {what}: {}\n", d.describe()));
        }
        s
    }
}

/// `(20, 12)`, `(72,)`, `()`: a shape as numpy prints it.
fn dims(d: &[u64]) -> String {
    match d {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            d.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ),
    }
}

fn uints_or_null(w: &mut JsonWriter<'_>, v: Option<&[u64]>) {
    match v {
        None => w.null(),
        Some(v) => {
            w.begin_array();
            for x in v {
                w.uint(*x);
            }
            w.end_array();
        }
    }
}

fn str_or_null(w: &mut JsonWriter<'_>, v: Option<&str>) {
    match v {
        Some(s) => w.string(s),
        None => w.null(),
    }
}

impl super::AnnData {
    /// The storage of every matrix-like element, named as anndata names
    /// them: `X`, `layers/<key>`, `obsm/<key>`, `varm/<key>`, `obsp/<key>`,
    /// `varp/<key>`, `raw/X`, in that order (`obs`, `var`: see
    /// [`DataFrame::storage`]).
    ///
    /// ```
    /// use h5sparse::anndata::AnnData;
    /// let h5 = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let names: Vec<String> = AnnData::open(&h5)?.storage()?.into_iter().map(|(k, _)| k).collect();
    /// assert_eq!(names, ["X", "layers/counts", "obsm/X_pca", "obsp/distances"]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn storage(&self) -> Result<Vec<(String, Storage)>> {
        let snap = self.file().snapshot()?;
        let file: &File = &snap;
        let mut out = Vec::new();
        if let Some(x) = self.x() {
            out.push(("X".to_string(), x.storage(file)?));
        }
        for (group, members) in [
            ("layers", self.layers()),
            ("obsm", self.obsm()),
            ("varm", self.varm()),
            ("obsp", self.obsp()),
            ("varp", self.varp()),
        ] {
            for (key, element) in members {
                out.push((format!("{group}/{key}"), element.storage(file)?));
            }
        }
        if let Some(x) = self.raw().and_then(|r| r.x.as_ref()) {
            out.push(("raw/X".to_string(), x.storage(file)?));
        }
        Ok(out)
    }

    /// `h5sparse info --json`'s document: `{"anndata": true, "repr": ...,
    /// "n_obs": ..., "n_vars": ..., "obs": STORAGE, "var": STORAGE,
    /// "raw_var": STORAGE or null, "elements": {NAME: STORAGE, ...}}`, with
    /// each STORAGE as [`Storage::to_json`] writes it and the elements of
    /// [`AnnData::storage`](super::AnnData::storage).
    ///
    /// ```
    /// use h5sparse::anndata::AnnData;
    /// let h5 = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let json = AnnData::open(&h5)?.storage_json()?;
    /// assert!(json.starts_with(r#"{"anndata":true,"repr":"AnnData object with n_obs × n_vars = 20 × 12\n"#));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn storage_json(&self) -> Result<String> {
        let snap = self.file().snapshot()?;
        let file: &File = &snap;
        let mut w = JsonWriter::default();
        w.begin_object();
        w.key("anndata");
        w.bool(true);
        w.key("repr");
        w.string(&self.to_string());
        w.key("n_obs");
        w.uint(self.n_obs());
        w.key("n_vars");
        w.uint(self.n_vars());
        w.key("obs");
        self.obs().storage(file)?.write_json(&mut w);
        w.key("var");
        self.var().storage(file)?.write_json(&mut w);
        w.key("raw_var");
        match self.raw().and_then(|r| r.var.as_ref()) {
            Some(v) => v.storage(file)?.write_json(&mut w),
            None => w.null(),
        }
        w.key("elements");
        w.begin_object();
        for (name, s) in self.storage()? {
            w.key(&name);
            s.write_json(&mut w);
        }
        w.end_object();
        w.end_object();
        Ok(w.finish())
    }
}
