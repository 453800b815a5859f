//! Budgets that keep hostile files from exhausting memory, stack or time.

use crate::error::{Error, Result};

/// Allocation, recursion and chain-length budgets applied while parsing.
///
/// Every count or size read from a file is checked against the file's length
/// (a structure must fit in the file) and against these budgets before
/// anything is allocated.
///
/// ```
/// let tight = h5sparse::Limits { max_alloc: 1 << 20, ..Default::default() };
/// assert!(tight.check_alloc("chunk", 2 << 20).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest single allocation, in bytes, that reading may make
    /// (a decoded chunk, a whole-dataset read, a heap block).
    pub max_alloc: u64,
    /// Deepest recursion: B-tree levels, nested groups while walking, fractal
    /// heap indirect-block nesting.
    pub max_depth: u32,
    /// Longest chain of object-header continuation blocks.
    pub max_continuations: u32,
    /// Most messages in one object header.
    pub max_messages: u32,
    /// Most soft/external link hops while resolving one path.
    pub max_link_hops: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_alloc: 16 << 30,
            max_depth: 64,
            max_continuations: 1 << 16,
            max_messages: 1 << 20,
            max_link_hops: 40,
        }
    }
}

impl Limits {
    /// Limits for untrusted input: 64 MiB per allocation, shallow recursion.
    pub fn strict() -> Self {
        Limits {
            max_alloc: 64 << 20,
            max_depth: 32,
            max_continuations: 1024,
            max_messages: 1 << 16,
            max_link_hops: 16,
        }
    }

    /// Fails with [`Error::LimitsExceeded`] if `bytes` exceeds `max_alloc`.
    pub fn check_alloc(&self, what: &'static str, bytes: u64) -> Result<()> {
        if bytes > self.max_alloc {
            return Err(Error::LimitsExceeded {
                what,
                requested: bytes,
                limit: self.max_alloc,
            });
        }
        Ok(())
    }

    /// Fails with [`Error::LimitsExceeded`] if `depth` exceeds `max_depth`.
    pub fn check_depth(&self, what: &'static str, depth: u32) -> Result<()> {
        if depth > self.max_depth {
            return Err(Error::LimitsExceeded {
                what,
                requested: u64::from(depth),
                limit: u64::from(self.max_depth),
            });
        }
        Ok(())
    }
}
