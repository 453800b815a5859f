//! `h5sparse convert IN OUT`: between `.h5ad` and what single-cell
//! pipelines write.
//!
//! * a 10x Genomics HDF5 file (Cell Ranger 1–2 or 3+, Space Ranger) →
//!   `.h5ad`, as `scanpy.read_10x_h5` reads it;
//! * a 10x MEX directory → `.h5ad`, as `scanpy.read_10x_mtx` reads it (X
//!   written CSR, cells × genes);
//! * a Matrix Market file (`.mtx`, `.mtx.gz`) → `.h5ad`, as
//!   `anndata.read_mtx` reads it (float32 CSR, obs/var names `0`, `1`, ...);
//! * an `.h5ad` (X, or `--layer NAME`) → a Matrix Market file (gzip when
//!   OUT ends in `.gz`) or a MEX directory (OUT ending in `/` or an existing
//!   directory: `matrix.mtx.gz`, `features.tsv.gz`, `barcodes.tsv.gz`).
//!
//! Matrices are streamed in blocks of `--block-size` bytes; an `.h5ad` is
//! written beside OUT and renamed into place only when complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use h5sparse::anndata::mex::{self, MexDir, MexOptions, MexVarNames};
use h5sparse::anndata::mtx::{mtx_to_csr, CsrBlock, MtxField, MtxReader, MtxWriter};
use h5sparse::anndata::tenx::{self, TenxMatrix, TenxOptions};
use h5sparse::anndata::{
    AnnData, ColumnData, DataFrameData, Element, H5adWriter, IndexWidth, WriteOptions,
};
use h5sparse::read::{H5Type, Values};
use h5sparse::sparse::SparseFormat;
use h5sparse::{ByteOrder, Dtype, H5File};

use crate::common::{parse_block_size, parse_compression, write_replacing};
use crate::progress::Progress;
use crate::CliError;

/// Arguments of `convert`.
#[derive(Args)]
pub struct ConvertArgs {
    /// A 10x `.h5`, a MEX directory, a `.mtx[.gz]`, or an `.h5ad`.
    input: PathBuf,
    /// An `.h5ad` (from 10x, MEX or Matrix Market input); from an `.h5ad`,
    /// a `.mtx[.gz]` file or a MEX directory (ending in `/`, or existing).
    output: PathBuf,
    /// From an `.h5ad`: write this layer instead of X.
    #[arg(long)]
    layer: Option<String>,
    /// 10x HDF5 input: keep this genome's features (Cell Ranger 3+), or read
    /// this genome's group (Cell Ranger 1-2, required when it has several).
    #[arg(long)]
    genome: Option<String>,
    /// 10x input: keep every feature type, not only `Gene Expression`.
    #[arg(long)]
    all_features: bool,
    /// MEX input: name the variables by `gene_symbols` (made unique, the
    /// default) or `gene_ids`.
    #[arg(long, default_value = "gene_symbols")]
    var_names: String,
    /// Compress the output: `gzip` or `gzip=LEVEL` (0-9, default 4). For an
    /// `.h5ad`, its matrices and arrays (chunked); for a MEX directory, the
    /// gzip level of its files (default 6).
    #[arg(long)]
    compression: Option<String>,
    /// Memory budget of one streamed block of X: the entries of the rows
    /// read and written at once (10x, MEX and Matrix Market input), or of
    /// the rows read from an `.h5ad`. 10x input holds two blocks: the next
    /// is read while the last is written. MEX and Matrix Market input is sorted
    /// into rows by reading it once per block, so a larger block means
    /// fewer passes. Bytes, or with a suffix K, M, G (powers of 1024):
    /// 1048576, 64K, 16M, 1G, 256MiB. Default: 256M for MEX and Matrix
    /// Market input, 16M otherwise (one pass whatever the block).
    #[arg(long)]
    block_size: Option<String>,
    /// Skip the syncs that make an `.h5ad` output durable (`fdatasync` as
    /// it is written and before it is renamed into place; the writeback
    /// started every 16 MiB): faster for scratch outputs, but a power loss
    /// or kernel crash soon after may leave OUT lost, empty or torn. Readers
    /// still see OUT only once it is complete. (Matrix Market and MEX
    /// outputs are never synced.)
    #[arg(long)]
    no_sync: bool,
}

/// What IN is.
enum Input {
    Tenx,
    Mex,
    Mtx,
    H5ad,
}

fn is_mtx_name(p: &Path) -> bool {
    let s = p.to_string_lossy().to_ascii_lowercase();
    s.ends_with(".mtx") || s.ends_with(".mtx.gz")
}

fn classify(input: &Path) -> Result<Input, CliError> {
    if input.is_dir() {
        if mex::is_mex_dir(input) {
            return Ok(Input::Mex);
        }
        return Err(CliError::Message(format!(
            "{}: expected a 10x MEX directory (matrix.mtx[.gz] with features.tsv[.gz] or genes.tsv), found neither",
            input.display()
        )));
    }
    if is_mtx_name(input) {
        return Ok(Input::Mtx);
    }
    let file = h5sparse::File::open(input)?;
    if tenx::is_tenx(&file) {
        return Ok(Input::Tenx);
    }
    if file.get("/obs").is_ok() && file.get("/var").is_ok() {
        return Ok(Input::H5ad);
    }
    Err(CliError::Message(format!(
        "{}: expected a 10x HDF5 matrix, an .h5ad, a MEX directory or a .mtx[.gz] file",
        input.display()
    )))
}

/// Runs `convert`.
pub fn run(args: &ConvertArgs) -> Result<(), CliError> {
    let level = args
        .compression
        .as_deref()
        .map(parse_compression)
        .transpose()?;
    let input = classify(&args.input)?;
    let default_block = match input {
        Input::Mex | Input::Mtx => "256M",
        Input::Tenx | Input::H5ad => "16M",
    };
    let block_bytes = parse_block_size(args.block_size.as_deref().unwrap_or(default_block))?;
    if !matches!(input, Input::H5ad) {
        for (given, flag) in [(args.layer.is_some(), "--layer")] {
            if given {
                return Err(CliError::Message(format!(
                    "{flag} applies to .h5ad input only"
                )));
            }
        }
    }
    let opts = WriteOptions {
        compression: level,
        block_bytes,
        durable: !args.no_sync,
        ..WriteOptions::default()
    };
    match input {
        Input::Tenx => write_h5ad(&args.output, opts, |w| tenx_to_h5ad(args, w)),
        Input::Mex => write_h5ad(&args.output, opts, |w| mex_to_h5ad(args, w)),
        Input::Mtx => write_h5ad(&args.output, opts, |w| mtx_to_h5ad(args, w)),
        Input::H5ad => h5ad_out(args, level, block_bytes),
    }
}

/// Writes an `.h5ad` at `out` through a temporary file beside it, renamed
/// into place only when `fill` and the writer succeed.
fn write_h5ad(
    out: &Path,
    opts: WriteOptions,
    fill: impl FnOnce(&mut H5adWriter) -> Result<(), CliError>,
) -> Result<(), CliError> {
    write_replacing(out, |tmp| {
        let mut w = H5adWriter::create(tmp, opts)?;
        fill(&mut w)?;
        w.finish()?;
        Ok(())
    })
}

fn frame(index: &[String], columns: &[(String, ColumnData)]) -> DataFrameData {
    let mut df = DataFrameData::with_index(index.to_vec());
    df.columns = columns.to_vec();
    df
}

/// X from CSR blocks: `upper_nnz` bounds the entries (it picks the index
/// width as scipy would for the whole matrix). A progress bar on a terminal
/// counts the entries' bytes (values and column indices) pushed, out of
/// the bound's.
fn write_x(
    w: &mut H5adWriter,
    shape: [u64; 2],
    dtype: &Dtype,
    upper_nnz: u64,
    blocks: impl FnOnce(&mut dyn FnMut(&CsrBlock) -> h5sparse::Result<()>) -> h5sparse::Result<()>,
) -> Result<(), CliError> {
    let width = IndexWidth::for_matrix(SparseFormat::Csr, shape, upper_nnz);
    let entry_bytes = (dtype.size() + width.bytes()) as u64;
    let bar = Progress::bytes(upper_nnz.saturating_mul(entry_bytes), "converting");
    let mut x = w.sparse("X", SparseFormat::Csr, shape, dtype, width)?;
    blocks(&mut |b| {
        x.push_raw(&b.indptr, &b.indices, &b.data)?;
        bar.inc(b.indices.len() as u64 * entry_bytes);
        Ok(())
    })?;
    x.finish()?;
    bar.finish();
    Ok(())
}

fn tenx_to_h5ad(args: &ConvertArgs, w: &mut H5adWriter) -> Result<(), CliError> {
    let file = h5sparse::File::open(&args.input)?;
    file.set_streaming(true);
    let opts = TenxOptions {
        genome: args.genome.clone(),
        gex_only: !args.all_features,
    };
    let m = TenxMatrix::open(&file, &opts)?;
    w.write_dataframe("obs", &frame(m.obs_names(), m.obs_columns()))?;
    w.write_dataframe("var", &frame(m.var_names(), m.var_columns()))?;
    let stored_nnz = m.stored_nnz()?;
    let block = w.options().block_bytes;
    write_x(w, m.shape(), m.x_dtype(), stored_nnz, |sink| {
        m.for_each_block(block, sink)
    })
}

fn mex_to_h5ad(args: &ConvertArgs, w: &mut H5adWriter) -> Result<(), CliError> {
    if args.genome.is_some() {
        return Err(CliError::Message(
            "--genome applies to 10x HDF5 input only".into(),
        ));
    }
    let var_names = match args.var_names.as_str() {
        "gene_symbols" => MexVarNames::GeneSymbols,
        "gene_ids" => MexVarNames::GeneIds,
        other => {
            return Err(CliError::Message(format!(
                "--var-names {other}: expected gene_symbols or gene_ids"
            )))
        }
    };
    let opts = MexOptions {
        var_names,
        gex_only: !args.all_features,
        ..MexOptions::default()
    };
    let mex = MexDir::open(&args.input, &opts)?;
    w.write_dataframe("obs", &frame(mex.obs_names(), &[]))?;
    w.write_dataframe("var", &frame(mex.var_names(), mex.var_columns()))?;
    let upper = mex.stored_entries_bound();
    let block = w.options().block_bytes;
    write_x(w, mex.shape(), &f32_dtype(), upper, |sink| {
        mex.for_each_block(block, sink)
    })
}

fn mtx_to_h5ad(args: &ConvertArgs, w: &mut H5adWriter) -> Result<(), CliError> {
    if args.genome.is_some() {
        return Err(CliError::Message(
            "--genome applies to 10x HDF5 input only".into(),
        ));
    }
    let header = *MtxReader::open(&args.input)?.header();
    let names = |n: u64| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
    w.write_dataframe("obs", &frame(&names(header.rows), &[]))?;
    w.write_dataframe("var", &frame(&names(header.cols), &[]))?;
    let block = w.options().block_bytes;
    let upper = header.entries.saturating_mul(2);
    let path = args.input.clone();
    write_x(w, [header.rows, header.cols], &f32_dtype(), upper, |sink| {
        mtx_to_csr(|| MtxReader::open(&path), false, block, sink).map(|_| ())
    })
}

fn f32_dtype() -> Dtype {
    Dtype::Float {
        size: 4,
        order: ByteOrder::Little,
    }
}

/// `.h5ad` → Matrix Market file or MEX directory.
fn h5ad_out(args: &ConvertArgs, level: Option<u32>, block: usize) -> Result<(), CliError> {
    if args.genome.is_some() || args.all_features {
        return Err(CliError::Message(
            "--genome and --all-features apply to 10x input only".into(),
        ));
    }
    let file = H5File::open(&args.input)?;
    file.snapshot()?.set_streaming(true);
    let adata = AnnData::open(&file)?;
    let element = match &args.layer {
        None => adata
            .x()
            .cloned()
            .ok_or_else(|| CliError::Message(format!("{}: no X to write", args.input.display())))?,
        Some(name) => adata
            .layers()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, e)| e.clone())
            .ok_or_else(|| {
                let have: Vec<&str> = adata.layers().iter().map(|(k, _)| k.as_str()).collect();
                CliError::Message(format!(
                    "{}: no layer {name:?} (layers: {have:?})",
                    args.input.display()
                ))
            })?,
    };
    let out = &args.output;
    let to_dir = out.to_string_lossy().ends_with('/') || out.is_dir();
    if to_dir {
        std::fs::create_dir_all(out)
            .map_err(|e| CliError::Message(format!("{}: {e}", out.display())))?;
        let level = level.unwrap_or(6);
        let mex_out = (|| -> Result<(), CliError> {
            let gz = mex::gzip_file(&out.join("matrix.mtx.gz"), level)?;
            let gz = write_matrix(&file, &element, gz, true, block)?;
            gz.finish()?.flush()?;
            let (ids, names, types) = mex_features(&adata)?;
            mex::write_features_barcodes(out, &ids, &names, &types, &adata.obs_names()?, level)?;
            Ok(())
        })();
        return mex_out;
    }
    if !is_mtx_name(out) {
        return Err(CliError::Message(format!(
            "{}: from an .h5ad, expected OUT to be a .mtx or .mtx.gz file or a directory (ending in /)",
            out.display()
        )));
    }
    let created = std::fs::File::create(out)
        .map_err(|e| CliError::Message(format!("cannot create {}: {e}", out.display())))?;
    let buffered = std::io::BufWriter::with_capacity(1 << 16, created);
    if out.to_string_lossy().to_ascii_lowercase().ends_with(".gz") {
        let gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(buffered, flate2::Compression::new(level.unwrap_or(6)));
        write_matrix(&file, &element, gz, false, block)?
            .finish()?
            .flush()?;
    } else {
        write_matrix(&file, &element, buffered, false, block)?.flush()?;
    }
    Ok(())
}

/// A MEX features file's columns: ids, names, feature types.
type Features = (Vec<String>, Vec<String>, Vec<String>);

/// MEX features: ids (`gene_ids`, else the var names), names (the var
/// names, or `gene_symbols` when the var names are ids), feature types
/// (`feature_types`, else `Gene Expression`).
fn mex_features(adata: &AnnData) -> Result<Features, CliError> {
    let var_names = adata.var_names()?;
    let has = |name: &str| adata.var().column_names().contains(&name);
    let (ids, names) = if has("gene_ids") {
        (column_strings(adata, "gene_ids")?, var_names)
    } else if has("gene_symbols") {
        (var_names, column_strings(adata, "gene_symbols")?)
    } else {
        (var_names.clone(), var_names)
    };
    let types = if has("feature_types") {
        column_strings(adata, "feature_types")?
    } else {
        vec!["Gene Expression".to_string(); names.len()]
    };
    Ok((ids, names, types))
}

/// A var column as strings (plain strings or string categories).
fn column_strings(adata: &AnnData, name: &str) -> Result<Vec<String>, CliError> {
    let not_strings = || CliError::Message(format!("var column {name:?} does not hold strings"));
    match adata.var_column(name)? {
        ColumnData::Values(Values::Str(v)) => Ok(v),
        ColumnData::Categorical {
            codes,
            categories: Values::Str(cats),
            ..
        } => codes
            .iter()
            .map(|&c| {
                usize::try_from(c)
                    .ok()
                    .and_then(|c| cats.get(c).cloned())
                    .ok_or_else(not_strings)
            })
            .collect(),
        _ => Err(not_strings()),
    }
}

/// Calls `$body` with `T` the Rust type of a numeric dtype.
macro_rules! dispatch {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            Dtype::Float { size: 4, .. } => {
                type $t = f32;
                $body
            }
            Dtype::Float { size: 8, .. } => {
                type $t = f64;
                $body
            }
            Dtype::Int {
                size: 1,
                signed: true,
                ..
            } => {
                type $t = i8;
                $body
            }
            Dtype::Int {
                size: 2,
                signed: true,
                ..
            } => {
                type $t = i16;
                $body
            }
            Dtype::Int {
                size: 4,
                signed: true,
                ..
            } => {
                type $t = i32;
                $body
            }
            Dtype::Int {
                size: 8,
                signed: true,
                ..
            } => {
                type $t = i64;
                $body
            }
            Dtype::Int {
                size: 1,
                signed: false,
                ..
            } => {
                type $t = u8;
                $body
            }
            Dtype::Int {
                size: 2,
                signed: false,
                ..
            } => {
                type $t = u16;
                $body
            }
            Dtype::Int {
                size: 4,
                signed: false,
                ..
            } => {
                type $t = u32;
                $body
            }
            Dtype::Int {
                size: 8,
                signed: false,
                ..
            } => {
                type $t = u64;
                $body
            }
            other => Err(CliError::Message(format!(
                "matrix values of type {} cannot be written to Matrix Market",
                other.numpy_str()
            ))),
        }
    };
}

/// Writes the matrix `element` as a coordinate Matrix Market file into
/// `out` (transposed, genes × cells, for MEX), in blocks of rows of about
/// `block` bytes.
fn write_matrix<W: Write>(
    file: &H5File,
    element: &Element,
    out: W,
    mex: bool,
    block: usize,
) -> Result<W, CliError> {
    let comment = format!(
        "metadata_json: {{\"software_version\": \"h5sparse-{}\", \"format_version\": 2}}",
        env!("CARGO_PKG_VERSION")
    );
    let comments: &[&str] = if mex { &[&comment] } else { &[] };
    let block = block as u64;
    match element {
        Element::Sparse {
            path,
            format,
            shape,
        } => {
            let x = file.sparse(path)?;
            let dtype = x.dtype()?;
            let nnz = x.nnz()?;
            let out_shape = if mex { [shape[1], shape[0]] } else { *shape };
            let w = MtxWriter::new(out, field_of(&dtype)?, out_shape, nnz, comments)?;
            let major = match format {
                SparseFormat::Csr => shape[0],
                _ => shape[1],
            };
            // Rows per block from the mean row size.
            let per = (block / 12 / (nnz / major.max(1)).max(1)).max(1);
            let csr = matches!(format, SparseFormat::Csr);
            dispatch!(&dtype, T => sparse_entries::<T, W>(&x, csr, major, per, mex, w))
        }
        Element::Dense { path, shape, .. } if shape.len() == 2 => {
            let d = file.dataset(path)?;
            let stored = d.dtype()?;
            let out_shape = if mex {
                [shape[1], shape[0]]
            } else {
                [shape[0], shape[1]]
            };
            let per = (block / 8 / shape[1].max(1)).max(1);
            dispatch!(&stored, T => dense_entries::<T, W>(&d, [shape[0], shape[1]], per, mex, out_shape, comments, out))
        }
        other => Err(CliError::Message(format!(
            "{}: expected a sparse matrix or a 2-D array, found {other:?}",
            other.path()
        ))),
    }
}

fn field_of(dtype: &Dtype) -> Result<MtxField, CliError> {
    match dtype {
        Dtype::Float { .. } => Ok(MtxField::Real),
        Dtype::Int { .. } => Ok(MtxField::Integer),
        other => Err(CliError::Message(format!(
            "matrix values of type {} cannot be written to Matrix Market",
            other.numpy_str()
        ))),
    }
}

/// A value as the writer takes it: f32 keeps its shortest form.
trait MtxValue: H5Type + Copy + PartialEq {
    fn put<W: Write>(self, w: &mut MtxWriter<W>, r: u64, c: u64) -> h5sparse::Result<()>;
    fn is_zero(self) -> bool {
        self == Self::default()
    }
}

impl MtxValue for f32 {
    fn put<W: Write>(self, w: &mut MtxWriter<W>, r: u64, c: u64) -> h5sparse::Result<()> {
        w.entry_f32(r, c, self)
    }
}

macro_rules! mtx_value {
    ($($t:ty),*) => {$(
        impl MtxValue for $t {
            fn put<W: Write>(self, w: &mut MtxWriter<W>, r: u64, c: u64) -> h5sparse::Result<()> {
                w.entry(r, c, self as f64)
            }
        }
    )*};
}
mtx_value!(f64, i8, i16, i32, i64, u8, u16, u32, u64);

fn sparse_entries<T: MtxValue, W: Write>(
    x: &h5sparse::SparseHandle,
    csr: bool,
    major: u64,
    per: u64,
    mex: bool,
    mut w: MtxWriter<W>,
) -> Result<W, CliError> {
    let mut start = 0;
    while start < major {
        let end = (start + per).min(major);
        let m = if csr {
            x.read::<T>(start..end, ..)?
        } else {
            x.read::<T>(.., start..end)?
        };
        // Stored order: by row for CSR, by column for CSC.
        for (&v, (r, c)) in m.iter() {
            let (r, c) = if csr {
                (start + r as u64, c as u64)
            } else {
                (r as u64, start + c as u64)
            };
            if mex {
                v.put(&mut w, c, r)?;
            } else {
                v.put(&mut w, r, c)?;
            }
        }
        start = end;
    }
    Ok(w.finish()?)
}

fn dense_entries<T: MtxValue, W: Write>(
    d: &h5sparse::DatasetHandle,
    shape: [u64; 2],
    per: u64,
    mex: bool,
    out_shape: [u64; 2],
    comments: &[&str],
    out: W,
) -> Result<W, CliError> {
    let blocks = || {
        (0..shape[0])
            .step_by(per as usize)
            .map(move |s| (s, (s + per).min(shape[0])))
    };
    let mut nnz = 0u64;
    for (s, e) in blocks() {
        let v = d.read_slab::<T>(&[s, 0], &[e - s, shape[1]])?;
        nnz += v.iter().filter(|x| !x.is_zero()).count() as u64;
    }
    let mut w = MtxWriter::new(out, field_of(&T::dtype())?, out_shape, nnz, comments)?;
    for (s, e) in blocks() {
        let v = d.read_slab::<T>(&[s, 0], &[e - s, shape[1]])?;
        for (k, &x) in v.iter().enumerate() {
            if x.is_zero() {
                continue;
            }
            let (r, c) = (s + k as u64 / shape[1], k as u64 % shape[1]);
            if mex {
                x.put(&mut w, c, r)?;
            } else {
                x.put(&mut w, r, c)?;
            }
        }
    }
    Ok(w.finish()?)
}
