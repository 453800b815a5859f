//! The `h5sparse` command-line tool.
//!
//! * `h5sparse ls [-r] [-v] [-d] FILE[/PATH]`: lists objects like `h5ls`.
//! * `h5sparse dump --json FILE`: the conformance dump (see `DUMP-SCHEMA.md`).
//! * `h5sparse copy SRC DST [--compression gzip[=LEVEL]] [--shuffle]`: rewrite every object
//!   through our writer (see `h5sparse::write::copy_file`).
//! * `h5sparse repack SRC DST`: the same, contiguous unless a dataset needs chunks (it can
//!   grow, or is filtered), dropping space freed by deletions.
//! * `h5sparse slice FILE GROUP [--rows SEL] [--cols SEL] [--to TARGET]`: a sub-matrix.
//! * `h5sparse info FILE`: every sparse matrix in the file.
//! * `h5sparse concat A.h5ad B.h5ad ... -o OUT.h5ad [--join inner|outer] [--label COL]
//!   [--keys a,b,...] [--index-unique SEP]`: stack AnnData files along obs as
//!   `anndata.concat` does, streaming.
//! * `h5sparse convert IN OUT`: 10x HDF5 / MEX / Matrix Market → `.h5ad`, and `.h5ad` →
//!   Matrix Market / MEX.
//! * `h5sparse subset IN.h5ad OUT.h5ad [--obs SEL] [--var SEL]`: `adata[obs, var].copy()`,
//!   streamed.
//! * `h5sparse append-obs TARGET.h5ad SOURCE.h5ad`: SOURCE's cells appended to TARGET in
//!   place, streamed.
//! * `h5sparse tour`: the seed walkthrough, end to end.
//!
//! `--quiet` (`-q`) turns off the progress bars that long commands draw on
//! stderr when it is a terminal (`progress.rs`).
//!
//! Failures print one line, `h5sparse: error: <message>`, on stderr and exit
//! with status 1; usage errors exit with status 2 (clap's convention).

mod append;
mod common;
mod concat;
mod convert;
mod copy;
mod dump;
mod info;
mod ls;
mod progress;
mod slice;
mod subset;
mod tour;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command-line arguments.
#[derive(Parser)]
#[command(
    name = "h5sparse",
    version,
    about = "Read HDF5 files and the sparse matrices in them, without libhdf5"
)]
struct Cli {
    /// No progress bars (they are drawn on stderr only when it is a terminal).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
enum Command {
    /// List the objects of a file or group, like h5ls.
    Ls(ls::LsArgs),
    /// Print every reachable object as JSON (the conformance dump).
    Dump(dump::DumpArgs),
    /// Reproduce the seed walkthrough (sparse matrices with h5py) end to end.
    Tour(tour::TourArgs),
    /// Rewrite every object of SRC into DST through our writer.
    ///
    /// Every group, dataset, committed datatype, attribute and link is
    /// copied; soft and external links stay links, objects reached by several
    /// hard links stay shared. DST is written in the earliest format
    /// (superblock 0); compact datasets become contiguous; filters other than
    /// deflate, shuffle and fletcher32 are dropped. An object that cannot be
    /// copied (e.g. a compound datatype) aborts the copy with an error naming
    /// it, and DST is left untouched.
    Copy(copy::CopyArgs),
    /// Write a compact copy of SRC (space freed by deletions is dropped).
    ///
    /// Like `copy`, and chunked datasets keep their chunks and filters only
    /// when they need them: when they can grow (maximum shape larger than the
    /// shape) or are compressed, shuffled or checksummed. Every other dataset
    /// is written contiguous. DST is left untouched if the copy fails.
    Repack(copy::RepackArgs),
    /// Read a selection of a sparse matrix: print it or save it as a new file.
    Slice(slice::SliceArgs),
    /// List every sparse matrix in a file: convention, format, shape, storage.
    Info(info::InfoArgs),
    /// Stack .h5ad files along obs, as anndata.concat does (streaming).
    Concat(concat::ConcatArgs),
    /// Convert 10x HDF5, MEX directories and Matrix Market files to .h5ad,
    /// and an .h5ad's X (or a layer) to Matrix Market or MEX.
    Convert(convert::ConvertArgs),
    /// Write the selected cells (obs) and genes (var) of an .h5ad file as a
    /// new .h5ad: what anndata writes for `adata[obs, var].copy()`,
    /// streamed block by block.
    Subset(subset::SubsetArgs),
    /// Append the cells (obs) of SOURCE to the .h5ad file TARGET, in place:
    /// X, layers, obs, obsm, obsp (both axes) and raw/X grow; var, varm,
    /// varp and uns stay. Refused before anything is written when SOURCE
    /// lacks an element TARGET has, has one it lacks, or its var differs.
    #[command(name = "append-obs")]
    AppendObs(append::AppendArgs),
}

/// A failure to report on stderr.
#[derive(Debug)]
pub enum CliError {
    /// Something to say to the user.
    Message(String),
    /// Writing to stdout failed (a closed pipe is not reported).
    Io(io::Error),
}

impl From<h5sparse::Error> for CliError {
    fn from(e: h5sparse::Error) -> Self {
        CliError::Message(e.to_string())
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Io(e)
    }
}

fn main() -> ExitCode {
    // Any panic is a bug; still report it as one line, without a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("h5sparse: error: internal error (please report): {message}{at}");
    }));

    let cli = Cli::parse();
    progress::set_quiet(cli.quiet);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Ls(args) => ls::run(&args, &mut out),
        Command::Dump(args) => dump::run(&args, &mut out),
        Command::Tour(args) => tour::run(&args, &mut out),
        Command::Copy(args) => copy::run_copy(&args),
        Command::Repack(args) => copy::run_repack(&args),
        Command::Slice(args) => slice::run(&args, &mut out),
        Command::Info(args) => info::run(&args, &mut out),
        Command::Concat(args) => concat::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Subset(args) => subset::run(&args),
        Command::AppendObs(args) => append::run(&args, &mut out),
    };
    let result = result.and_then(|()| out.flush().map_err(CliError::Io));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(CliError::Io(e)) => {
            eprintln!("h5sparse: error: writing output: {e}");
            ExitCode::FAILURE
        }
        Err(CliError::Message(m)) => {
            eprintln!("h5sparse: error: {m}");
            ExitCode::FAILURE
        }
    }
}
