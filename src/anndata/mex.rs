//! 10x Genomics MEX directories (`matrix.mtx[.gz]`, `features.tsv[.gz]`
//! or `genes.tsv`, `barcodes.tsv[.gz]`), read as `scanpy.read_10x_mtx`
//! reads them, and written as Cell Ranger writes them.
//!
//! Reading: the matrix file is genes × barcodes; the AnnData is barcodes ×
//! genes, built as CSR rows in bounded memory by [`mtx_to_csr`]. var names
//! are the gene symbols made unique the way anndata's `make_index_unique`
//! does (`A`, `A-1`, `A-2`, ...), with `gene_ids` (and, for Cell Ranger ≥ 3
//! directories, `feature_types`) as var columns; or the gene ids, with
//! `gene_symbols`. Cell Ranger ≥ 3 directories keep only `Gene Expression`
//! features unless asked otherwise.
//!
//! ```
//! use h5sparse::anndata::mex::{MexDir, MexOptions};
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/mex_v3");
//! let mex = MexDir::open(dir, &MexOptions::default())?;
//! assert_eq!(mex.shape(), [28, 32]); // barcodes × gene-expression features
//! assert_eq!(&mex.var_names()[12..14], ["GENE5-1", "GENE5-2"]);
//! # Ok::<(), h5sparse::Error>(())
//! ```

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::dataframe::ColumnData;
use super::mtx::{mtx_to_csr, open_maybe_gzip, CsrBlock, MtxHeader, MtxReader, MtxSymmetry};
use crate::error::{Error, Result};
use crate::read::Values;

/// Which feature column names the variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MexVarNames {
    /// Gene symbols (the second column), made unique; ids in `gene_ids`.
    GeneSymbols,
    /// Gene ids (the first column); symbols in `gene_symbols`.
    GeneIds,
}

/// How to read a MEX directory (`scanpy.read_10x_mtx`'s parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MexOptions {
    /// The var names. Default: gene symbols.
    pub var_names: MexVarNames,
    /// Make symbol var names unique (default true, as scanpy).
    pub make_unique: bool,
    /// Keep only `Gene Expression` features of a Cell Ranger ≥ 3 directory
    /// (default true, as scanpy).
    pub gex_only: bool,
}

impl Default for MexOptions {
    fn default() -> Self {
        MexOptions {
            var_names: MexVarNames::GeneSymbols,
            make_unique: true,
            gex_only: true,
        }
    }
}

/// A MEX directory, opened: annotations read, the matrix left on disk.
#[derive(Debug, Clone)]
pub struct MexDir {
    matrix: PathBuf,
    header: MtxHeader,
    legacy: bool,
    n_features: u64,
    n_barcodes: u64,
    keep: Option<Vec<Option<u64>>>,
    obs_names: Vec<String>,
    var_names: Vec<String>,
    var_columns: Vec<(String, ColumnData)>,
}

/// `dir/name` or `dir/name.gz`, whichever exists (the plain file first).
fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

/// True when `dir` holds a matrix file and a features or genes file.
pub fn is_mex_dir(dir: &Path) -> bool {
    dir.is_dir()
        && find(dir, "matrix.mtx").is_some()
        && (find(dir, "features.tsv").is_some() || find(dir, "genes.tsv").is_some())
}

/// The tab-separated fields of every non-blank line.
fn read_tsv(path: &Path) -> Result<Vec<Vec<String>>> {
    let mut rows = Vec::new();
    for (i, line) in open_maybe_gzip(path)?.lines().enumerate() {
        let line =
            line.map_err(|e| Error::invalid(format!("{}, line {}: {e}", path.display(), i + 1)))?;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        rows.push(line.split('\t').map(str::to_string).collect());
    }
    Ok(rows)
}

/// Column `k` of every row; a shorter row is an error naming the line.
fn column(rows: &[Vec<String>], k: usize, path: &Path, what: &str) -> Result<Vec<String>> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            r.get(k).cloned().ok_or_else(|| {
                Error::invalid(format!(
                    "{}, row {}: expected a {what} in column {}, found {} column(s)",
                    path.display(),
                    i + 1,
                    k + 1,
                    r.len()
                ))
            })
        })
        .collect()
}

/// anndata's `make_index_unique`: each repeat of a name (not its first
/// occurrence) gets `-1`, `-2`, ... appended, the number counting up per
/// name and skipping any result already among the names.
///
/// ```
/// let mut names: Vec<String> = ["a", "a", "b", "a-1", "a"].map(String::from).to_vec();
/// h5sparse::anndata::mex::make_index_unique(&mut names);
/// assert_eq!(names, ["a", "a-2", "b", "a-1", "a-3"]);
/// ```
pub fn make_index_unique(names: &mut [String]) {
    use std::collections::{HashMap, HashSet};
    let mut seen: HashSet<String> = HashSet::new();
    let mut duplicate = vec![false; names.len()];
    for (i, n) in names.iter().enumerate() {
        duplicate[i] = !seen.insert(n.clone());
    }
    if !duplicate.contains(&true) {
        return;
    }
    let mut taken = seen;
    let mut counter: HashMap<String, u64> = HashMap::new();
    for (i, n) in names.iter_mut().enumerate() {
        if !duplicate[i] {
            continue;
        }
        let c = counter.entry(n.clone()).or_insert(0);
        loop {
            *c += 1;
            let candidate = format!("{n}-{c}");
            if taken.insert(candidate.clone()) {
                *n = candidate;
                break;
            }
        }
    }
}

impl MexDir {
    /// Reads the features and barcodes of the MEX directory `dir` and the
    /// matrix file's header.
    pub fn open(dir: impl AsRef<Path>, opts: &MexOptions) -> Result<MexDir> {
        let dir = dir.as_ref();
        let missing = |what: &str| {
            Error::invalid(format!(
                "{}: expected a 10x MEX directory with {what}, found none",
                dir.display()
            ))
        };
        let matrix = find(dir, "matrix.mtx").ok_or_else(|| missing("matrix.mtx[.gz]"))?;
        let (features, legacy) = match find(dir, "features.tsv") {
            Some(p) => (p, false),
            None => (
                find(dir, "genes.tsv").ok_or_else(|| missing("features.tsv[.gz] or genes.tsv"))?,
                true,
            ),
        };
        let barcodes = find(dir, "barcodes.tsv").ok_or_else(|| missing("barcodes.tsv[.gz]"))?;
        let header = *MtxReader::open(&matrix)?.header();
        let rows = read_tsv(&features)?;
        if rows.len() as u64 != header.rows {
            return Err(Error::invalid(format!(
                "{}: expected {} features (the rows of {}), found {}",
                features.display(),
                header.rows,
                matrix.display(),
                rows.len()
            )));
        }
        let obs_names = column(&read_tsv(&barcodes)?, 0, &barcodes, "barcode")?;
        if obs_names.len() as u64 != header.cols {
            return Err(Error::invalid(format!(
                "{}: expected {} barcodes (the columns of {}), found {}",
                barcodes.display(),
                header.cols,
                matrix.display(),
                obs_names.len()
            )));
        }
        let ids = column(&rows, 0, &features, "feature id")?;
        let symbols = column(&rows, 1, &features, "feature name")?;
        let (var_names, mut var_columns) = match opts.var_names {
            MexVarNames::GeneSymbols => {
                let mut names = symbols;
                if opts.make_unique {
                    make_index_unique(&mut names);
                }
                (names, vec![("gene_ids".to_string(), ids)])
            }
            MexVarNames::GeneIds => (ids, vec![("gene_symbols".to_string(), symbols)]),
        };
        if !legacy {
            var_columns.push((
                "feature_types".to_string(),
                column(&rows, 2, &features, "feature type")?,
            ));
        }
        let mut mex = MexDir {
            matrix,
            header,
            legacy,
            n_features: header.rows,
            n_barcodes: header.cols,
            keep: None,
            obs_names,
            var_names,
            var_columns: var_columns
                .into_iter()
                .map(|(k, v)| (k, ColumnData::Values(Values::Str(v))))
                .collect(),
        };
        if !legacy && opts.gex_only {
            let types = match &mex.var_columns.last() {
                Some((_, ColumnData::Values(Values::Str(t)))) => t.clone(),
                _ => Vec::new(),
            };
            let mask: Vec<bool> = types.iter().map(|t| t == "Gene Expression").collect();
            if mask.contains(&false) {
                mex.apply_mask(&mask);
            }
        }
        Ok(mex)
    }

    fn apply_mask(&mut self, mask: &[bool]) {
        self.keep = Some(super::mtx::kept_positions(mask));
        let pick = |v: &[String]| -> Vec<String> {
            v.iter()
                .zip(mask)
                .filter(|&(_, &k)| k)
                .map(|(x, _)| x.clone())
                .collect()
        };
        self.var_names = pick(&self.var_names);
        for (_, c) in &mut self.var_columns {
            if let ColumnData::Values(Values::Str(v)) = c {
                *v = pick(v);
            }
        }
    }

    /// True for a Cell Ranger 1–2 directory (`genes.tsv`, no feature types).
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// `[barcodes, kept features]`.
    pub fn shape(&self) -> [u64; 2] {
        let n_vars = match &self.keep {
            Some(k) => k.iter().flatten().count() as u64,
            None => self.n_features,
        };
        [self.n_barcodes, n_vars]
    }

    /// An upper bound of X's entries: the matrix file's, doubled for a
    /// symmetric file.
    pub fn stored_entries_bound(&self) -> u64 {
        match self.header.symmetry {
            MtxSymmetry::General => self.header.entries,
            _ => self.header.entries.saturating_mul(2),
        }
    }

    /// The barcodes.
    pub fn obs_names(&self) -> &[String] {
        &self.obs_names
    }

    /// The kept features' names.
    pub fn var_names(&self) -> &[String] {
        &self.var_names
    }

    /// var columns, in scanpy's order.
    pub fn var_columns(&self) -> &[(String, ColumnData)] {
        &self.var_columns
    }

    /// X, barcodes × kept features CSR of `float32`, in blocks of rows whose
    /// entries take about `block_bytes` (see [`mtx_to_csr`]).
    pub fn for_each_block(
        &self,
        block_bytes: usize,
        mut sink: impl FnMut(&CsrBlock) -> Result<()>,
    ) -> Result<()> {
        let path = self.matrix.clone();
        let shape = mtx_to_csr(
            || MtxReader::open(&path),
            true,
            block_bytes,
            |block| match &self.keep {
                None => sink(block),
                Some(keep) => sink(&block.keep_columns(keep, 4)?),
            },
        )?;
        debug_assert_eq!(shape[0], self.n_barcodes);
        Ok(())
    }
}

/// Writes `features.tsv.gz` (id, name, feature type per line, as Cell
/// Ranger ≥ 3) and `barcodes.tsv.gz` into `dir`, gzip level `level`.
/// The matrix goes in `matrix.mtx.gz` through [`MtxWriter`](super::mtx::MtxWriter)
/// over [`gzip_file`].
///
/// ```
/// let dir = std::env::temp_dir().join(format!("h5sparse-mex-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// h5sparse::anndata::mex::write_features_barcodes(
///     &dir, &["ENSG1".into()], &["A".into()], &["Gene Expression".into()], &["AAAC-1".into()], 6)?;
/// assert!(dir.join("features.tsv.gz").is_file());
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_features_barcodes(
    dir: &Path,
    ids: &[String],
    names: &[String],
    types: &[String],
    barcodes: &[String],
    level: u32,
) -> Result<()> {
    let mut f = gzip_file(&dir.join("features.tsv.gz"), level)?;
    for ((id, name), t) in ids.iter().zip(names).zip(types) {
        writeln!(f, "{id}\t{name}\t{t}")?;
    }
    f.finish()?.flush()?;
    let mut b = gzip_file(&dir.join("barcodes.tsv.gz"), level)?;
    for bc in barcodes {
        writeln!(b, "{bc}")?;
    }
    b.finish()?.flush()?;
    Ok(())
}

/// A gzip stream into a new file at `path` (modification time 0, no name:
/// the same input gives the same bytes).
pub fn gzip_file(
    path: &Path,
    level: u32,
) -> Result<flate2::write::GzEncoder<std::io::BufWriter<std::fs::File>>> {
    let file = std::fs::File::create(path)
        .map_err(|e| Error::invalid(format!("cannot create {}: {e}", path.display())))?;
    Ok(flate2::GzBuilder::new().mtime(0).write(
        std::io::BufWriter::with_capacity(1 << 16, file),
        flate2::Compression::new(level.min(9)),
    ))
}
