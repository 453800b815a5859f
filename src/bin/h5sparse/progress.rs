//! Progress bars on stderr for the long commands (`copy`, `repack`, and
//! `subset`, `concat`, `convert`).
//!
//! A bar is drawn only when stderr is a terminal and `--quiet` was not
//! given; otherwise [`Progress`] holds nothing and every call returns at
//! once, so a command piped into a file or run by a script pays nothing
//! and prints nothing.
//!
//! How a command uses it:
//!
//! ```text
//! let bar = Progress::bytes(total_payload_bytes, "copying");
//! for block in blocks {
//!     write(block)?;
//!     bar.inc(block.len() as u64);     // bytes of dataset payload done
//! }
//! bar.finish();                          // the full bar stays on stderr
//! ```
//!
//! Count bytes of dataset payload (elements × element size, as read from
//! the source), not bytes written: the total is then known before starting
//! (`h5sparse::write::payload_bytes` sums it for a whole file; for a matrix,
//! `nnz × (data + indices element sizes)`) and does not depend on
//! compression. When the total is unknown, pass 0: the bar then shows bytes
//! done and a rate without a percentage. A `Progress` dropped before
//! `finish` (an error part-way) clears its bar, so the error line stands
//! alone.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Set by `--quiet`: no progress bars even on a terminal.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns progress bars off for the rest of the process (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether notes meant for a person at a terminal (progress bars, hints
/// such as `copy`'s choice of format) should be written to stderr: it is a
/// terminal and `--quiet` was not given.
pub fn chatty() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A bytes-done progress bar on stderr, or nothing.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar counting bytes up to `total` (0: unknown), labelled `what`
    /// (e.g. `"copying"`), shown only when stderr is a terminal and not
    /// `--quiet`.
    pub fn bytes(total: u64, what: &str) -> Progress {
        if !chatty() {
            return Progress { bar: None };
        }
        let (bar, template) = if total > 0 {
            (
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
        } else {
            (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                "{msg} {bytes} ({bytes_per_sec})",
            )
        };
        // The templates are constants; a bad one would only lose the style.
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Progress { bar: Some(bar) }
    }

    /// A progress that shows nothing (for callers that must pass one).
    #[allow(dead_code)] // for the commands that take a bar as an argument
    pub fn hidden() -> Progress {
        Progress { bar: None }
    }

    /// Whether a bar is being drawn.
    #[allow(dead_code)] // for commands that skip work (e.g. a first pass) without a bar
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// `n` more bytes done.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Done: the bar is drawn full and left on stderr.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

impl Drop for Progress {
    /// A command that fails part-way clears its bar before its error line.
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            if !bar.is_finished() {
                bar.finish_and_clear();
            }
        }
    }
}
