//! `h5sparse append-obs TARGET.h5ad SOURCE.h5ad [--block-size SIZE]
//! [--drop-extra]`: the cells of SOURCE appended to TARGET in place (see
//! `h5sparse::anndata::append`), streamed block by block.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use h5sparse::anndata::{AnnData, AppendOptions};

use crate::common::{open_error, parse_block_size};
use crate::progress::Progress;
use crate::slice::message;
use crate::CliError;

/// Arguments of `append-obs`.
#[derive(Args)]
pub struct AppendArgs {
    /// The .h5ad file to grow, in place.
    target: PathBuf,
    /// The .h5ad file whose cells are appended (same var names, the same
    /// elements as TARGET).
    source: PathBuf,
    /// Memory budget of one block of a streamed matrix or column. Bytes, or
    /// with a suffix K, M, G (powers of 1024): 1048576, 64K, 16M, 1G.
    #[arg(long, default_value = "16M")]
    block_size: String,
    /// Ignore what SOURCE has and TARGET lacks (obs columns, layers, obsm
    /// or obsp keys, raw) instead of refusing, as anndata.concat's inner
    /// join drops them.
    #[arg(long)]
    drop_extra: bool,
}

/// Runs `append-obs`; says what it did on `out`.
pub fn run(args: &AppendArgs, out: &mut impl Write) -> Result<(), CliError> {
    let opts = AppendOptions::default()
        .block_bytes(parse_block_size(&args.block_size)?)
        .drop_extra(args.drop_extra);
    let source = h5sparse::H5File::open(&args.source)
        .and_then(|f| {
            f.snapshot()?.set_streaming(true);
            AnnData::open(&f)
        })
        .map_err(|e| open_error(&args.source, e))?;
    let mut target = h5sparse::H5File::open_rw(&args.target)
        .and_then(|f| AnnData::open(&f))
        .map_err(|e| open_error(&args.target, e))?;
    let mut bar: Option<Progress> = None;
    let mut shown = 0u64;
    let mut progress = |done: u64, total: u64| {
        let bar = bar.get_or_insert_with(|| Progress::bytes(total, "appending"));
        bar.inc(done.saturating_sub(shown));
        shown = shown.max(done);
    };
    let done = target
        .append_obs_with_progress(&source, &opts, &mut progress)
        .map_err(|e| CliError::Message(format!("{}: {}", args.target.display(), message(e))))?;
    if let Some(bar) = &bar {
        bar.finish();
    }
    writeln!(
        out,
        "{}: {} cells appended to {} ({} now): {}",
        args.target.display(),
        done.n_obs_added,
        done.n_obs_before,
        done.n_obs_before + done.n_obs_added,
        done.elements.join(", ")
    )?;
    if !done.rewritten.is_empty() {
        writeln!(
            out,
            "rewritten (HDF5 cannot grow them in place; they can grow from now on): {}",
            done.rewritten.join(", ")
        )?;
    }
    Ok(())
}
