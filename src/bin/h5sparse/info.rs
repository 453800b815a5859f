//! `h5sparse info FILE`: lists every sparse matrix in a file, one block each,
//! after anndata's repr of the file when it is an AnnData file.
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
//! Every group reachable through hard and soft links is visited once (by
//! object address, so hard-link cycles end); external links are not
//! followed. A sparse group's own members are not searched further.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use h5sparse::sparse::{detect, SparseInfo};
use h5sparse::{Dataset, Group, LayoutKind, LinkTarget, Node};

use crate::CliError;

/// Arguments of `info`.
#[derive(Args)]
pub struct InfoArgs {
    /// The HDF5 file.
    file: PathBuf,
}

/// Deepest group nesting searched.
const MAX_DEPTH: usize = 64;

/// Runs `info`.
pub fn run(args: &InfoArgs, out: &mut impl Write) -> Result<(), CliError> {
    let file = crate::slice::open_file(&args.file)?;
    // An AnnData file: anndata's repr first.
    if file.get("/obs").is_ok() && file.get("/var").is_ok() {
        if let Ok(adata) =
            h5sparse::H5File::open(&args.file).and_then(|f| h5sparse::anndata::AnnData::open(&f))
        {
            writeln!(out, "{adata}\n")?;
        }
    }
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let root = file.root()?;
    seen.insert(root.address());
    walk(&root, 0, &mut seen, &mut found)?;
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
        writeln!(out, "  data storage: {}", storage(&data))?;
    }
    Ok(())
}

/// Layout, chunk shape, growability and filters of a dataset, in words.
fn storage(ds: &Dataset<'_>) -> String {
    let dims = |d: &[u64]| match d {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            d.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    let mut s = match ds.layout() {
        LayoutKind::Compact => "compact".to_string(),
        LayoutKind::Contiguous => "contiguous".to_string(),
        LayoutKind::Chunked => match ds.chunks() {
            Some(c) => format!("chunked {}", dims(c)),
            None => "chunked".to_string(),
        },
    };
    if let Some(max) = ds.maxshape() {
        if max.iter().any(Option::is_none) {
            let max: Vec<String> = max
                .iter()
                .map(|m| m.map_or("unlimited".to_string(), |v| v.to_string()))
                .collect();
            s.push_str(&format!(", max shape ({})", max.join(", ")));
        }
    }
    let filters: Vec<String> = ds
        .filters()
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
