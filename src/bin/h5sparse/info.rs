//! `h5sparse info FILE`: what is in a file and how it is stored.
//!
//! For an AnnData file (a root `encoding-type` of `anndata`, or `obs` and
//! `var` at the root): anndata's repr, then one block per element with its
//! storage: `obs`, `var` (rows, columns and their kinds), `raw/var`, `X`,
//! `layers/*`, `obsm/*`, `varm/*`, `obsp/*`, `varp/*`, `raw/X`:
//!
//! ```text
//! X
//!   path: /X
//!   encoding: csr_matrix
//!   shape: (20, 12)
//!   dtype: <f4
//!   format: csr (anndata convention)
//!   nnz: 72
//!   index dtypes: indices <i4, indptr <i4
//!   data storage: chunked (72,), max shape (unlimited), filters: deflate (level 4)
//! ```
//!
//! For any other HDF5 file: every sparse matrix in it, one block each:
//!
//! ```text
//! /X
//!   convention: anndata
//!   format: csr
//!   shape: (20, 12)
//!   nnz: 72
//!   dtypes: data <f4, indices <i4, indptr <i4
//!   data storage: chunked (72,), max shape (unlimited), filters: deflate (level 4)
//! ```
//!
//! `--json` prints the same as one JSON object (see [`InfoArgs`]).
//!
//! Every group reachable through hard and soft links is visited once (by
//! object address, so hard-link cycles end); external links are not
//! followed. A sparse group's own members are not searched further.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use h5sparse::anndata::{sparse_storage, AnnData, DatasetStorage};
use h5sparse::sparse::{detect, SparseInfo};
use h5sparse::{Group, LinkTarget, Node};

use crate::CliError;

/// Arguments of `info`.
#[derive(Args)]
pub struct InfoArgs {
    /// The HDF5 file.
    file: PathBuf,
    /// Print one JSON object instead of text. For an AnnData file:
    /// {"anndata": true, "repr", "n_obs", "n_vars", "obs", "var", "raw_var",
    /// "elements": {"X": S, "layers/NAME": S, "obsm/NAME": S, ..., "raw/X": S}};
    /// otherwise {"anndata": false, "sparse": [S, ...]}, one per sparse
    /// matrix. Each S holds every key, null where it does not apply: path,
    /// encoding, shape, dtype, format, convention, nnz, indices_dtype,
    /// indptr_dtype, layout, chunks, maxshape (null entries: unlimited),
    /// compression (h5py's name: gzip, lzf...), compression_opts (gzip
    /// level), shuffle, fletcher32, filters ([{id, name, params}]), columns
    /// ([{name, kind}] for obs, var and dataframes).
    #[arg(long)]
    json: bool,
}

/// Deepest group nesting searched.
const MAX_DEPTH: usize = 64;

/// Runs `info`.
pub fn run(args: &InfoArgs, out: &mut impl Write) -> Result<(), CliError> {
    let file = crate::slice::open_file(&args.file)?;
    let root = file.root()?;
    let marked = root
        .attribute("encoding-type")
        .ok()
        .flatten()
        .and_then(|a| a.values().ok())
        .is_some_and(|v| v == h5sparse::Values::Str(vec!["anndata".into()]));
    if marked || (file.get("/obs").is_ok() && file.get("/var").is_ok()) {
        let adata = h5sparse::H5File::open_any(&args.file.to_string_lossy())
            .and_then(|f| AnnData::open(&f))
            .map_err(|e| {
                CliError::Message(format!(
                    "{}: an AnnData file that cannot be read as one: {}",
                    args.file.display(),
                    crate::slice::message(e)
                ))
            })?;
        return anndata(&adata, args.json, out);
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    seen.insert(root.address());
    walk(&root, 0, &mut seen, &mut found)?;
    if args.json {
        let blocks = found
            .iter()
            .map(|(group, info)| sparse_storage(group, info).map(|s| s.to_json()))
            .collect::<h5sparse::Result<Vec<String>>>()?;
        writeln!(
            out,
            "{{\"anndata\":false,\"sparse\":[{}]}}",
            blocks.join(",")
        )?;
        return Ok(());
    }
    if found.is_empty() {
        writeln!(out, "no sparse matrices in {}", args.file.display())?;
    }
    for (k, (group, info)) in found.iter().enumerate() {
        if k > 0 {
            writeln!(out)?;
        }
        block(group, info, out)?;
    }
    Ok(())
}

/// The repr and every element's storage of an AnnData file.
fn anndata(adata: &AnnData, json: bool, out: &mut impl Write) -> Result<(), CliError> {
    if json {
        writeln!(out, "{}", adata.storage_json()?)?;
        return Ok(());
    }
    writeln!(out, "{adata}")?;
    let file = adata.file().snapshot()?;
    let mut blocks = vec![
        adata.obs().storage(&file)?.describe("obs"),
        adata.var().storage(&file)?.describe("var"),
    ];
    if let Some(var) = adata.raw().and_then(|r| r.var.as_ref()) {
        blocks.push(var.storage(&file)?.describe("raw/var"));
    }
    for (name, s) in adata.storage()? {
        blocks.push(s.describe(&name));
    }
    for b in blocks {
        write!(out, "\n{b}")?;
    }
    Ok(())
}

/// Collects the sparse groups under `group`, depth first in name order.
fn walk<'f>(
    group: &Group<'f>,
    depth: usize,
    seen: &mut HashSet<h5sparse::format::Address>,
    found: &mut Vec<(Group<'f>, SparseInfo)>,
) -> Result<(), CliError> {
    if let Some(info) = detect(group)? {
        found.push((group.clone(), info));
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Err(CliError::Message(format!(
            "{}: groups nested deeper than {MAX_DEPTH} levels",
            group.path()
        )));
    }
    for link in group.links()? {
        if matches!(link.target, LinkTarget::External { .. }) {
            continue;
        }
        // A dangling soft link is not an error for a listing.
        let Ok(Node::Group(child)) = group.follow(&link) else {
            continue;
        };
        if seen.insert(child.address()) {
            walk(&child, depth + 1, seen, found)?;
        }
    }
    Ok(())
}

fn block(group: &Group<'_>, info: &SparseInfo, out: &mut impl Write) -> Result<(), CliError> {
    let [r, c] = info.shape;
    writeln!(out, "{}", group.path())?;
    writeln!(out, "  convention: {}", info.convention.as_str())?;
    writeln!(out, "  format: {}", info.format.as_str())?;
    writeln!(out, "  shape: ({r}, {c})")?;
    writeln!(out, "  nnz: {}", info.nnz_stored)?;
    writeln!(
        out,
        "  dtypes: data {}, indices {}, indptr {}",
        info.data_dtype.numpy_str(),
        info.indices_dtype.numpy_str(),
        info.indptr_dtype.numpy_str()
    )?;
    if let Ok(Node::Dataset(data)) = group.get("data") {
        writeln!(
            out,
            "  data storage: {}",
            DatasetStorage::of(&data).describe()
        )?;
    }
    Ok(())
}
