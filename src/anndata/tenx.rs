//! 10x Genomics feature-barcode matrices in HDF5 (Cell Ranger's and Space
//! Ranger's `filtered_feature_bc_matrix.h5`), read into AnnData's terms the
//! way `scanpy.read_10x_h5` does:
//!
//! * Cell Ranger ≥ 3 (a `matrix` group with `features`): var names are the
//!   feature names (gene symbols, kept as they are, duplicates included);
//!   var columns `gene_ids` (and `probe_ids` for probe-barcode matrices),
//!   `feature_types`, then every other dataset of `features` but
//!   `_all_tag_keys` (`genome`, antibody `read`/`pattern`/`sequence`, ...),
//!   as strings (bools stay bools). `genome` keeps that genome's features,
//!   and `gex_only` (the default) keeps the `Gene Expression` ones.
//! * Cell Ranger 1 and 2 (one group per genome): `genome` picks the group,
//!   and must be given when the file has several; var names from
//!   `gene_names`, var column `gene_ids` from `genes`.
//!
//! Obs names are the barcodes. The matrix, features × barcodes CSC on disk,
//! is barcodes × features CSR with the same `indptr`, `indices` and `data`,
//! so it streams block by block without a transpose; `int32` counts become
//! `float32` as scanpy makes them.
//!
//! ```
//! use h5sparse::anndata::tenx::{TenxMatrix, TenxOptions};
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tenx_v3.h5");
//! let file = h5sparse::File::open(path)?;
//! let m = TenxMatrix::open(&file, &TenxOptions::default())?;
//! assert_eq!(m.shape(), [30, 44]); // barcodes × gene-expression features
//! assert_eq!(m.var_names()[0], "GR0");
//! let mut nnz = 0;
//! m.for_each_block(1 << 20, |block| {
//!     nnz += block.indices.len();
//!     Ok(())
//! })?;
//! assert!(nnz > 0);
//! # Ok::<(), h5sparse::Error>(())
//! ```

use super::dataframe::ColumnData;
use super::ints::{ints_into, read_ints};
use super::mtx::CsrBlock;
use crate::buf;
use crate::error::{Error, Result};
use crate::read::{ByteOrder, Consecutive, Dataset, Dtype, File, Node, Values};

/// What to read from a 10x file (`scanpy.read_10x_h5`'s parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenxOptions {
    /// Keep only this genome's features (Cell Ranger ≥ 3), or read this
    /// genome's group (Cell Ranger 1–2; required when there are several).
    pub genome: Option<String>,
    /// Keep only `Gene Expression` features (Cell Ranger ≥ 3). Default true.
    pub gex_only: bool,
}

impl Default for TenxOptions {
    fn default() -> Self {
        TenxOptions {
            genome: None,
            gex_only: true,
        }
    }
}

impl TenxOptions {
    /// Sets [`TenxOptions::genome`].
    pub fn genome(mut self, genome: impl Into<String>) -> Self {
        self.genome = Some(genome.into());
        self
    }

    /// Sets [`TenxOptions::gex_only`].
    pub fn gex_only(mut self, gex_only: bool) -> Self {
        self.gex_only = gex_only;
        self
    }
}

/// Which Cell Ranger layout a file has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenxLayout {
    /// Cell Ranger ≥ 3 / Space Ranger: `/matrix` with `features`.
    Matrix,
    /// Cell Ranger 1–2: the group of this genome.
    Legacy {
        /// The genome's group name.
        genome: String,
    },
}

/// A 10x matrix, opened: annotations read, the matrix left on disk.
#[derive(Debug, Clone)]
pub struct TenxMatrix<'f> {
    file: &'f File,
    group: String,
    layout: TenxLayout,
    n_features: u64,
    n_barcodes: u64,
    /// For each stored feature, its column in the result (None: dropped).
    /// None when every feature is kept.
    keep: Option<Vec<Option<u64>>>,
    n_vars: u64,
    obs_names: Vec<String>,
    obs_columns: Vec<(String, ColumnData)>,
    var_names: Vec<String>,
    var_columns: Vec<(String, ColumnData)>,
    x_dtype: Dtype,
}

/// True when `file` looks like a 10x matrix file: a `/matrix` group with a
/// `shape` dataset, or top-level groups each holding `gene_names` and
/// `shape`.
pub fn is_tenx(file: &File) -> bool {
    if let Ok(Node::Group(m)) = file.get("/matrix") {
        return matches!(m.get("shape"), Ok(Node::Dataset(_)));
    }
    let Ok(root) = file.root() else { return false };
    let Ok(links) = root.links() else {
        return false;
    };
    !links.is_empty()
        && links.iter().all(|l| match root.get(&l.name) {
            Ok(Node::Group(g)) => {
                matches!(g.get("gene_names"), Ok(Node::Dataset(_)))
                    && matches!(g.get("shape"), Ok(Node::Dataset(_)))
            }
            _ => false,
        })
}

impl<'f> TenxMatrix<'f> {
    /// Reads the annotations of the 10x matrix in `file`.
    pub fn open(file: &'f File, opts: &TenxOptions) -> Result<TenxMatrix<'f>> {
        if matches!(file.get("/matrix"), Ok(Node::Group(_))) {
            open_v3(file, opts)
        } else {
            open_legacy(file, opts)
        }
    }

    /// The layout read.
    pub fn layout(&self) -> &TenxLayout {
        &self.layout
    }

    /// `[barcodes, kept features]`: the AnnData's `[n_obs, n_vars]`.
    pub fn shape(&self) -> [u64; 2] {
        [self.n_barcodes, self.n_vars]
    }

    /// The barcodes.
    pub fn obs_names(&self) -> &[String] {
        &self.obs_names
    }

    /// obs columns (`filtered_barcodes` when the file has it).
    pub fn obs_columns(&self) -> &[(String, ColumnData)] {
        &self.obs_columns
    }

    /// The kept features' names.
    pub fn var_names(&self) -> &[String] {
        &self.var_names
    }

    /// var columns, in scanpy's order.
    pub fn var_columns(&self) -> &[(String, ColumnData)] {
        &self.var_columns
    }

    /// The type of X's values: `float32` for Cell Ranger's `int32` counts,
    /// else the stored type.
    pub fn x_dtype(&self) -> &Dtype {
        &self.x_dtype
    }

    /// Number of entries stored in the file, before features are dropped:
    /// an upper bound of X's.
    pub fn stored_nnz(&self) -> Result<u64> {
        Ok(self.ds("data")?.len())
    }

    fn ds(&self, name: &str) -> Result<Dataset<'f>> {
        self.file.dataset(&format!("{}/{name}", self.group))
    }

    /// X, barcodes × kept features CSR, in blocks of rows whose stored
    /// entries take at most about `block_bytes` (a single larger row is a
    /// block of its own). Indices are sorted as stored; values are
    /// little-endian [`TenxMatrix::x_dtype`]. The next block is read on a
    /// thread of its own while `sink` takes the last one (on the calling
    /// thread), so two blocks are held at a time.
    pub fn for_each_block(
        &self,
        block_bytes: usize,
        mut sink: impl FnMut(&CsrBlock) -> Result<()>,
    ) -> Result<()> {
        let indptr_ds = self.ds("indptr")?;
        let indices_ds = self.ds("indices")?;
        let data_ds = self.ds("data")?;
        let n = self.n_barcodes;
        if indptr_ds.len() != n + 1 {
            return Err(Error::invalid(format!(
                "{}: expected {} elements (barcodes + 1), found {}",
                indptr_ds.path(),
                n + 1,
                indptr_ds.len()
            )));
        }
        let indptr = read_ints(&indptr_ds, 0, n + 1)?;
        let nnz = indices_ds.len().min(data_ds.len());
        if indptr.first() != Some(&0)
            || indptr.windows(2).any(|w| w[0] > w[1])
            || indptr.last().is_some_and(|&l| l > nnz)
        {
            return Err(Error::invalid(format!(
                "{}: expected offsets rising from 0 to at most {nnz} (the length of data and indices)",
                indptr_ds.path()
            )));
        }
        let elem = (self.x_dtype.size() as u64).max(1);
        let budget = (block_bytes as u64 / (8 + elem)).max(1);
        let mut row = 0u64;
        // The stored bytes of the block being read, whole chunks at a
        // time (each inflated once), one allocation for every block.
        let mut raw = [Consecutive::new(&indices_ds), Consecutive::new(&data_ds)];
        // The next block is read (its chunks inflated) while `sink` takes
        // the last one, whose vectors it then refills.
        let next_block = |spent: Option<CsrBlock>| {
            if row >= n {
                return None;
            }
            let mut end = row + 1;
            while end < n && indptr[end as usize + 1] - indptr[row as usize] <= budget {
                end += 1;
            }
            let ptr = &indptr[row as usize..=end as usize];
            let block = self.read_block(row, ptr, &mut raw, spent);
            row = end;
            Some(block)
        };
        crate::par::pipeline(next_block, |block| sink(block))
    }

    /// Reads the rows whose offsets are `indptr` (the first row is
    /// `first_row`) into `spent`'s vectors (or new ones): indices checked
    /// against the features, dropped features filtered out and the kept
    /// ones renumbered. `indices` and `data` read the stored bytes.
    fn read_block(
        &self,
        first_row: u64,
        indptr: &[u64],
        [indices, data]: &mut [Consecutive<'_, '_>; 2],
        spent: Option<CsrBlock>,
    ) -> Result<CsrBlock> {
        let mut block = spent.unwrap_or_default();
        block.first_row = first_row;
        let (s, e) = (indptr[0], indptr[indptr.len() - 1]);
        block.indptr.clear();
        buf::try_reserve(&mut block.indptr, indptr.len(), "10x indptr")?;
        block.indptr.extend(indptr.iter().map(|&p| p - s));
        let ds = indices.dataset();
        let stored = indices.range(s, e)?;
        if !ints_into(ds, stored, &mut block.indices, self.n_features)? {
            let bad = block.indices.iter().find(|&&i| i >= self.n_features);
            return Err(Error::invalid(format!(
                "{}/indices: expected feature indices below {}, found {}",
                self.group,
                self.n_features,
                bad.copied().unwrap_or_default()
            )));
        }
        let ds = data.dataset();
        let stored = data.range(s, e)?;
        x_bytes_into(ds, stored, &self.x_dtype, &mut block.data)?;
        match &self.keep {
            None => Ok(block),
            // Every index passed the check above, so each is in `keep`.
            Some(keep) => block.keep_columns(keep, self.x_dtype.size()),
        }
    }
}

/// Cell Ranger ≥ 3: `/matrix` and `/matrix/features`.
fn open_v3<'f>(file: &'f File, opts: &TenxOptions) -> Result<TenxMatrix<'f>> {
    let group = "/matrix".to_string();
    let [n_features, n_barcodes] = read_shape(file, &group)?;
    let obs_names = strings(file, "/matrix/barcodes", n_barcodes)?;
    let mut obs_columns = Vec::new();
    if let Ok(Node::Dataset(d)) = file.get("/matrix/filtered_barcodes") {
        let flags = match d.values()? {
            Values::Bool(b) => b,
            Values::Int(v) => v.iter().map(|&x| x != 0).collect(),
            Values::UInt(v) => v.iter().map(|&x| x != 0).collect(),
            _ => {
                return Err(Error::invalid(
                    "/matrix/filtered_barcodes: expected bools or integers",
                ))
            }
        };
        check_len("/matrix/filtered_barcodes", flags.len(), n_barcodes)?;
        obs_columns.push((
            "filtered_barcodes".to_string(),
            ColumnData::Values(Values::Bool(flags)),
        ));
    }
    let features = match file.get("/matrix/features") {
        Ok(Node::Group(g)) => g,
        _ => {
            return Err(Error::invalid(
                "/matrix: expected a `features` group (Cell Ranger 3 or later), found none",
            ))
        }
    };
    let feat = |name: &str| strings(file, &format!("/matrix/features/{name}"), n_features);
    let names = feat("name")?;
    let has = |name: &str| matches!(features.get(name), Ok(Node::Dataset(_)));
    let mut columns: Vec<(String, Vec<String>)> = Vec::new();
    if has("gene_id") {
        // A probe-barcode matrix: `id` names probes.
        columns.push(("gene_ids".into(), feat("gene_id")?));
        columns.push(("probe_ids".into(), feat("id")?));
    } else {
        columns.push(("gene_ids".into(), feat("id")?));
    }
    columns.push(("feature_types".into(), feat("feature_type")?));
    let mut var_columns: Vec<(String, ColumnData)> = columns
        .into_iter()
        .map(|(k, v)| (k, ColumnData::Values(Values::Str(v))))
        .collect();
    for link in features.links_in_creation_order()? {
        let name = link.name;
        if ["name", "feature_type", "id", "gene_id", "_all_tag_keys"].contains(&name.as_str()) {
            continue;
        }
        let Ok(Node::Dataset(d)) = features.get(&name) else {
            continue;
        };
        let path = format!("/matrix/features/{name}");
        let values = match d.values()? {
            Values::Bool(b) => Values::Bool(b),
            other => Values::Str(as_strings(other, &path)?),
        };
        check_len(&path, values.len(), n_features)?;
        var_columns.push((name, ColumnData::Values(values)));
    }
    // scanpy: the genome filter, then the feature-type filter.
    let column = |name: &str| {
        var_columns.iter().find_map(|(k, c)| match c {
            ColumnData::Values(Values::Str(v)) if k == name => Some(v.clone()),
            _ => None,
        })
    };
    let mut mask = vec![true; n_features as usize];
    let mut filtered = false;
    if let Some(genome) = &opts.genome {
        let genomes = column("genome").ok_or_else(|| {
            Error::invalid(format!(
                "--genome {genome}: /matrix/features has no `genome` dataset"
            ))
        })?;
        if !genomes.contains(genome) {
            let mut available: Vec<&String> = Vec::new();
            for g in &genomes {
                if !available.contains(&g) {
                    available.push(g);
                }
            }
            return Err(Error::invalid(format!(
                "could not find genome {genome:?} in the 10x file; available genomes are {available:?}"
            )));
        }
        for (m, g) in mask.iter_mut().zip(&genomes) {
            *m &= g == genome;
        }
        filtered = true;
    }
    if opts.gex_only {
        let types = column("feature_types").unwrap_or_default();
        for (m, t) in mask.iter_mut().zip(&types) {
            *m &= t == "Gene Expression";
        }
        filtered = true;
    }
    let data_dtype = file.dataset("/matrix/data")?.dtype().clone();
    let mut m = TenxMatrix {
        file,
        group,
        layout: TenxLayout::Matrix,
        n_features,
        n_barcodes,
        keep: None,
        n_vars: n_features,
        obs_names,
        obs_columns,
        var_names: names,
        var_columns,
        x_dtype: x_dtype(&data_dtype),
    };
    if filtered && mask.iter().any(|&k| !k) {
        m.apply_mask(&mask);
    }
    Ok(m)
}

impl TenxMatrix<'_> {
    /// Keeps the features where `mask` is true, in order.
    fn apply_mask(&mut self, mask: &[bool]) {
        let keep = super::mtx::kept_positions(mask);
        self.n_vars = mask.iter().filter(|&&k| k).count() as u64;
        self.var_names = pick(&self.var_names, mask);
        for (_, c) in &mut self.var_columns {
            if let ColumnData::Values(v) = c {
                match v {
                    Values::Str(s) => *s = pick(s, mask),
                    Values::Bool(b) => *b = pick(b, mask),
                    _ => {}
                }
            }
        }
        self.keep = Some(keep);
    }
}

fn pick<T: Clone>(v: &[T], mask: &[bool]) -> Vec<T> {
    v.iter()
        .zip(mask)
        .filter(|&(_, &k)| k)
        .map(|(x, _)| x.clone())
        .collect()
}

/// Cell Ranger 1–2: one group per genome at the root.
fn open_legacy<'f>(file: &'f File, opts: &TenxOptions) -> Result<TenxMatrix<'f>> {
    let children: Vec<String> = file
        .root()?
        .links_in_creation_order()?
        .into_iter()
        .map(|l| l.name)
        .collect();
    let genome = match &opts.genome {
        None if children.len() == 1 => children[0].clone(),
        None if children.is_empty() => {
            return Err(Error::invalid(
                "expected a 10x matrix (a `matrix` group or one group per genome), found an empty file",
            ))
        }
        None => {
            return Err(Error::invalid(format!(
                "this Cell Ranger 1/2 file has more than one genome: give one of {children:?} (--genome)"
            )))
        }
        Some(g) if !children.contains(g) => {
            return Err(Error::invalid(format!(
                "could not find genome {g:?} in the 10x file; available genomes are {children:?}"
            )))
        }
        Some(g) => g.clone(),
    };
    let group = format!("/{genome}");
    let [n_features, n_barcodes] = read_shape(file, &group)?;
    let obs_names = strings(file, &format!("{group}/barcodes"), n_barcodes)?;
    let var_names = strings(file, &format!("{group}/gene_names"), n_features)?;
    let gene_ids = strings(file, &format!("{group}/genes"), n_features)?;
    let data_dtype = file.dataset(&format!("{group}/data"))?.dtype().clone();
    Ok(TenxMatrix {
        file,
        group,
        layout: TenxLayout::Legacy { genome },
        n_features,
        n_barcodes,
        keep: None,
        n_vars: n_features,
        obs_names,
        obs_columns: Vec::new(),
        var_names,
        var_columns: vec![(
            "gene_ids".to_string(),
            ColumnData::Values(Values::Str(gene_ids)),
        )],
        x_dtype: x_dtype(&data_dtype),
    })
}

/// scanpy turns `int32` counts into `float32`; any other type stays (in
/// little-endian order, as the blocks hold it).
fn x_dtype(stored: &Dtype) -> Dtype {
    let order = crate::read::ByteOrder::Little;
    match stored {
        Dtype::Int {
            size: 4,
            signed: true,
            ..
        } => Dtype::Float { size: 4, order },
        Dtype::Int { size, signed, .. } => Dtype::Int {
            size: *size,
            signed: *signed,
            order,
        },
        Dtype::Float { size, .. } => Dtype::Float { size: *size, order },
        other => other.clone(),
    }
}

/// `shape`: `[features, barcodes]`.
fn read_shape(file: &File, group: &str) -> Result<[u64; 2]> {
    let d = file.dataset(&format!("{group}/shape"))?;
    if d.len() != 2 {
        return Err(Error::invalid(format!(
            "{}: expected 2 elements (features, barcodes), found {}",
            d.path(),
            d.len()
        )));
    }
    let v = read_ints(&d, 0, 2)?;
    Ok([v[0], v[1]])
}

fn check_len(path: &str, len: usize, want: u64) -> Result<()> {
    if len as u64 != want {
        return Err(Error::invalid(format!(
            "{path}: expected {want} elements (from the matrix's shape), found {len}"
        )));
    }
    Ok(())
}

/// A 1-D string dataset of `want` elements.
fn strings(file: &File, path: &str, want: u64) -> Result<Vec<String>> {
    let d = file.dataset(path)?;
    let v = as_strings(d.values()?, path)?;
    check_len(path, v.len(), want)?;
    Ok(v)
}

/// Values as numpy's `astype(str)` gives them (strings as they are,
/// integers in decimal, floats in their shortest form).
fn as_strings(v: Values, path: &str) -> Result<Vec<String>> {
    Ok(match v {
        Values::Str(s) => s,
        Values::Int(v) => v.iter().map(i64::to_string).collect(),
        Values::UInt(v) => v.iter().map(u64::to_string).collect(),
        Values::Float(v) => v.iter().map(|x| format!("{x:?}")).collect(),
        Values::Bool(v) => v
            .iter()
            .map(|&b| if b { "True" } else { "False" }.to_string())
            .collect(),
        Values::Nested(_) => {
            return Err(Error::unsupported(format!(
                "{path}: a structured dataset as a 10x annotation"
            )))
        }
    })
}

/// The values `stored` holds (elements of `d`'s type, as stored) as
/// little-endian bytes of `out`'s type, the stored type or `float32` for
/// `int32` counts, in `bytes` (replacing what it held, its allocation kept).
fn x_bytes_into(d: &Dataset<'_>, stored: &[u8], out: &Dtype, bytes: &mut Vec<u8>) -> Result<()> {
    let (size, order, counts) = match d.dtype() {
        Dtype::Int {
            size,
            signed,
            order,
        } if matches!(size, 1 | 2 | 4 | 8) => (
            *size,
            *order,
            *size == 4 && *signed && matches!(out, Dtype::Float { .. }),
        ),
        Dtype::Float { size, order } if matches!(size, 4 | 8) => (*size, *order, false),
        other => {
            return Err(Error::unsupported(format!(
                "{}: 10x matrix values of type {}",
                d.path(),
                other.numpy_str()
            )))
        }
    };
    let size = usize::from(size);
    // Sized to the block without zeroing what is overwritten anyway.
    bytes.truncate(stored.len());
    buf::try_reserve(bytes, stored.len() - bytes.len(), "10x data")?;
    bytes.resize(stored.len(), 0);
    if !counts && order == ByteOrder::Little {
        bytes.copy_from_slice(stored);
        return Ok(());
    }
    if counts {
        // Cell Ranger's int32 counts as float32, one loop per byte order,
        // over 4-byte elements the compiler knows the size of (each loop
        // compiles to vector conversions, not a copy call per element).
        let pairs = bytes.chunks_exact_mut(4).zip(stored.chunks_exact(4));
        match order {
            ByteOrder::Little => pairs.for_each(|(o, i)| {
                let v = i32::from_le_bytes([i[0], i[1], i[2], i[3]]);
                o.copy_from_slice(&(v as f32).to_le_bytes());
            }),
            ByteOrder::Big => pairs.for_each(|(o, i)| {
                let v = i32::from_be_bytes([i[0], i[1], i[2], i[3]]);
                o.copy_from_slice(&(v as f32).to_le_bytes());
            }),
        }
    } else {
        for (o, i) in bytes.chunks_exact_mut(size).zip(stored.chunks_exact(size)) {
            o.copy_from_slice(i);
            o.reverse();
        }
    }
    Ok(())
}
