//! `h5sparse subset IN.h5ad OUT.h5ad [--obs SEL] [--var SEL]`: the cells
//! and genes selected, every element cut along them, written as anndata
//! writes `adata[obs, var].copy()` (see `h5sparse::anndata::subset`).

use std::path::{Path, PathBuf};

use clap::Args;
use h5sparse::anndata::{subset_with_progress, AnnData, Axis, Selection, Take, WriteOptions};
use h5sparse::sparse::Sel;

use crate::progress::Progress;
use crate::slice::message;
use crate::CliError;

/// Arguments of `subset`.
#[derive(Args)]
pub struct SubsetArgs {
    /// The .h5ad file to read.
    input: PathBuf,
    /// The .h5ad file to write (replaced only when the subset succeeds).
    output: PathBuf,
    /// Observations (cells) to keep: `START:STOP[:STEP]`, `i,j,k` (negative
    /// from the end, repeats kept), `@NAMES_FILE` (one obs name a line), or
    /// `COLUMN==VALUE` / `COLUMN!=VALUE` on an obs column. Default: all.
    #[arg(long, allow_hyphen_values = true)]
    obs: Option<String>,
    /// Variables (genes) to keep, in the same syntax (names and columns
    /// from var). Default: all.
    #[arg(long, allow_hyphen_values = true)]
    var: Option<String>,
    /// Memory budget of one block of a streamed matrix, in bytes (suffixes
    /// K, M, G: powers of 1024).
    #[arg(long, default_value = "256M")]
    block_size: String,
    /// Compress matrices and arrays: `gzip` or `gzip=LEVEL` (0-9, default 4).
    #[arg(long)]
    compression: Option<String>,
}

/// The positions `text` selects on `axis` of `adata` (all when absent).
fn resolve(adata: &AnnData, axis: Axis, text: Option<&str>) -> Result<Take, CliError> {
    let Some(text) = text else {
        return Ok(Take::All);
    };
    let n = match axis {
        Axis::Obs => adata.n_obs(),
        Axis::Var => adata.n_vars(),
    };
    let flag = axis.as_str();
    let err = |e: h5sparse::Error| CliError::Message(format!("--{flag} {text}: {}", message(e)));
    let sel = Selection::parse(text).map_err(err)?;
    // Everything, without listing every position of a huge axis.
    if let Selection::Positions(p) = &sel {
        if matches!(p, Sel::All) || (matches!(p, Sel::Slice { .. }) && p.is_everything(n)) {
            return Ok(Take::All);
        }
    }
    Ok(Take::Indices(sel.resolve(adata, axis).map_err(err)?))
}

/// `256M`, `1K`, `1048576`: a byte count (binary suffixes K, M, G,
/// optionally followed by `iB` or `B`).
fn parse_size(s: &str) -> Result<usize, CliError> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 10),
        Some((i, 'm' | 'M')) => (&t[..i], 20),
        Some((i, 'g' | 'G')) => (&t[..i], 30),
        _ => (t, 0),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(1usize << shift))
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            CliError::Message(format!(
                "--block-size {s}: expected a positive byte count such as 1048576, 64K or 256M"
            ))
        })
}

/// Runs `subset`.
pub fn run(args: &SubsetArgs) -> Result<(), CliError> {
    let mut opts = WriteOptions {
        block_bytes: parse_size(&args.block_size)?,
        ..WriteOptions::default()
    };
    if let Some(c) = &args.compression {
        opts = opts.gzip(crate::copy::parse_compression(c)?);
    }
    let file = h5sparse::H5File::open(&args.input).map_err(|e| open_error(&args.input, e))?;
    // One pass: what is read leaves the resident set with its block.
    file.snapshot()?.set_streaming(true);
    let adata = AnnData::open(&file).map_err(|e| open_error(&args.input, e))?;
    let obs = resolve(&adata, Axis::Obs, args.obs.as_deref())?;
    let var = resolve(&adata, Axis::Var, args.var.as_deref())?;

    let tmp = temporary_beside(&args.output)?;
    // The total is known once the matrices are planned: the bar starts then.
    let mut bar: Option<Progress> = None;
    let mut shown = 0u64;
    let mut progress = |done: u64, total: u64| {
        let bar = bar.get_or_insert_with(|| Progress::bytes(total, "subsetting"));
        bar.inc(done.saturating_sub(shown));
        shown = done;
    };
    let written = subset_with_progress(&adata, &obs, &var, &tmp, &opts, &mut progress)
        .map_err(|e| CliError::Message(message(e)))
        .and_then(|()| {
            std::fs::rename(&tmp, &args.output)
                .map_err(|e| CliError::Message(format!("{}: {e}", args.output.display())))
        });
    match &written {
        Ok(()) => {
            if let Some(bar) = &bar {
                bar.finish();
            }
        }
        Err(_) => {
            drop(bar);
            let _ = std::fs::remove_file(&tmp);
        }
    }
    written
}

fn open_error(path: &Path, e: h5sparse::Error) -> CliError {
    match e {
        h5sparse::Error::Io(_) => CliError::Message(e.to_string()),
        e => CliError::Message(format!("{}: {}", path.display(), message(e))),
    }
}

/// A temporary path beside `out`, renamed to it on success.
fn temporary_beside(out: &Path) -> Result<PathBuf, CliError> {
    let name = out
        .file_name()
        .ok_or_else(|| CliError::Message(format!("{}: not a file name", out.display())))?;
    Ok(out.with_file_name(format!(
        ".{}.h5sparse-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576").ok(), Some(1 << 20));
        assert_eq!(parse_size("64K").ok(), Some(64 << 10));
        assert_eq!(parse_size("256MiB").ok(), Some(256 << 20));
        assert_eq!(parse_size("1G").ok(), Some(1 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
    }
}
