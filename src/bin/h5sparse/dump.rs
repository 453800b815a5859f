//! `h5sparse dump --json FILE`: the conformance dump.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::CliError;

/// Arguments of `h5sparse dump`.
#[derive(Args)]
pub struct DumpArgs {
    /// Print JSON (the only format; required so that other formats can be
    /// added later without changing what this command prints).
    #[arg(long, required = true)]
    json: bool,
    /// The HDF5 file.
    file: PathBuf,
}

/// Runs `h5sparse dump`.
pub fn run(args: &DumpArgs, out: &mut dyn Write) -> Result<(), CliError> {
    debug_assert!(args.json);
    let file = h5sparse::File::open_any(&args.file.to_string_lossy())
        .map_err(|e| CliError::Message(format!("{}: {e}", args.file.display())))?;
    // Streamed: a large dataset is never held whole, in memory or as text.
    h5sparse::dump::write_json(&file, out)?;
    out.write_all(b"\n")?;
    Ok(())
}
