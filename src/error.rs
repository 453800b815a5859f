//! The crate's one error type, split by who caused the problem.

use std::fmt;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, split by cause.
///
/// * [`Error::Io`]: the operating system refused a read, write or map.
/// * [`Error::Format`]: the file's bytes are wrong; `at` is the absolute file
///   address where the problem was found.
/// * [`Error::Unsupported`]: valid HDF5 that this crate does not handle (a
///   filter id, a datatype class, ...), named.
/// * [`Error::LimitsExceeded`]: the file asks for more than the configured
///   [`Limits`](crate::Limits) allow.
/// * [`Error::OutOfMemory`]: the system refused an allocation the file asked
///   for (under `max_alloc`, but more than the process may have, e.g. under an
///   address-space limit). The process never aborts on it.
/// * [`Error::InvalidArgument`]: the caller's mistake (a selection out of
///   bounds, a path that does not exist, a write that would change a sparsity
///   structure).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error from the operating system.
    Io(std::io::Error),
    /// The file is malformed.
    Format {
        /// Absolute byte address in the file where the problem was found.
        at: u64,
        /// What was expected and what was found.
        what: String,
    },
    /// Valid HDF5 that this crate does not support.
    Unsupported {
        /// What is not supported, named (e.g. `filter 32004 (lz4)`).
        what: String,
    },
    /// A count or size in the file exceeds the configured limits.
    LimitsExceeded {
        /// What was being allocated or followed.
        what: &'static str,
        /// What the file asked for.
        requested: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The caller asked for something impossible.
    InvalidArgument(String),
    /// An allocation whose size comes from the file failed: the system (or an
    /// address-space limit) refused it, although it was within
    /// [`Limits::max_alloc`](crate::Limits).
    OutOfMemory {
        /// What was being allocated (e.g. `dataset read`, `chunk`).
        what: &'static str,
        /// How many bytes were asked for.
        bytes: u64,
    },
}

impl Error {
    /// A [`Error::Format`] at absolute file address `at`.
    pub fn format(at: u64, what: impl Into<String>) -> Self {
        Error::Format {
            at,
            what: what.into(),
        }
    }

    /// An [`Error::Unsupported`].
    pub fn unsupported(what: impl Into<String>) -> Self {
        Error::Unsupported { what: what.into() }
    }

    /// An [`Error::InvalidArgument`].
    pub fn invalid(what: impl Into<String>) -> Self {
        Error::InvalidArgument(what.into())
    }

    /// Prefix the description with context such as an object's path.
    pub fn context(self, ctx: &str) -> Self {
        match self {
            Error::Format { at, what } => Error::Format {
                at,
                what: format!("{ctx}: {what}"),
            },
            Error::Unsupported { what } => Error::Unsupported {
                what: format!("{ctx}: {what}"),
            },
            Error::InvalidArgument(what) => Error::InvalidArgument(format!("{ctx}: {what}")),
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Format { at, what } => write!(f, "malformed HDF5 at address {at:#x}: {what}"),
            Error::Unsupported { what } => write!(f, "unsupported: {what}"),
            Error::LimitsExceeded {
                what,
                requested,
                limit,
            } => write!(
                f,
                "limit exceeded: {what} needs {requested}, the limit is {limit}"
            ),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::OutOfMemory { what, bytes } => write!(
                f,
                "out of memory: {what} needs {bytes} bytes, which could not be allocated"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
