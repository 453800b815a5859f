//! A file read range by range, as the parsers see it: [`PagedFile`]
//! implements [`Pages`] over any [`ReadAt`] source.
//!
//! Metadata (object headers, B-tree nodes, heaps) is fetched in aligned
//! blocks and kept for as long as the file is open, so that parsed
//! structures can borrow from it as they borrow from a memory map; it is a
//! small part of any file (the chunk index of a 50 GB matrix is a few MB)
//! and [`crate::Limits::max_metadata_cache`] bounds it. Bulk data (chunks,
//! contiguous storage) is copied out for each read and not kept.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::format::Pages;
use crate::io::source::ReadAt;

/// Default metadata block: large enough that a typical object header, B-tree
/// node or heap is one fetch, small enough that scattered metadata does not
/// pull in much else.
pub const DEFAULT_BLOCK: usize = 64 * 1024;

/// Metadata kept: aligned blocks, and exact copies of the (rare) requests
/// that span several blocks.
#[derive(Default)]
struct Kept {
    blocks: HashMap<u64, Box<[u8]>>,
    spans: HashMap<(u64, usize), Box<[u8]>>,
    bytes: u64,
}

/// A file read through a [`ReadAt`] source (see the module docs).
pub struct PagedFile {
    src: Box<dyn ReadAt>,
    len: u64,
    block: usize,
    max_kept: u64,
    kept: Mutex<Kept>,
}

impl std::fmt::Debug for PagedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagedFile")
            .field("source", &self.src.describe())
            .field("len", &self.len)
            .field("block", &self.block)
            .finish()
    }
}

impl PagedFile {
    /// A paged view of `src`, fetching metadata in blocks of `block` bytes
    /// and keeping at most `max_kept` bytes of it.
    pub fn new(src: Box<dyn ReadAt>, block: usize, max_kept: u64) -> Result<PagedFile> {
        let len = src.len();
        Ok(PagedFile {
            src,
            len,
            block: block.max(1),
            max_kept,
            kept: Mutex::new(Kept::default()),
        })
    }

    /// The source's name, for messages.
    pub fn describe(&self) -> String {
        self.src.describe()
    }

    /// Reads `buf.len()` bytes at `pos` from the source (not kept).
    pub fn read_at(&self, pos: u64, buf: &mut [u8]) -> Result<()> {
        self.src.read_at(pos, buf)
    }

    /// Bytes of metadata kept so far.
    pub fn kept_bytes(&self) -> u64 {
        self.kept.lock().map_or(0, |k| k.bytes)
    }

    fn fetch(&self, pos: u64, len: usize) -> Result<Box<[u8]>> {
        let mut buf = crate::buf::try_with_capacity(len, "metadata block")?;
        buf.resize(len, 0);
        self.src.read_at(pos, &mut buf)?;
        Ok(buf.into_boxed_slice())
    }

    fn keep(&self, kept: &mut Kept, n: usize) -> Result<()> {
        kept.bytes = kept.bytes.saturating_add(n as u64);
        if kept.bytes > self.max_kept {
            return Err(Error::invalid(format!(
                "{}: more than {} bytes of metadata read (Limits::max_metadata_cache)",
                self.src.describe(),
                self.max_kept
            )));
        }
        Ok(())
    }
}

impl Pages for PagedFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn pinned(&self, pos: u64, len: usize) -> Result<&[u8]> {
        let end = pos
            .checked_add(len as u64)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| {
                Error::format(
                    pos,
                    format!(
                        "{len} bytes from here run past the end of the file ({} bytes)",
                        self.len
                    ),
                )
            })?;
        let block = self.block as u64;
        let first = pos / block;
        let last = end.saturating_sub(1) / block;
        let mut kept = self
            .kept
            .lock()
            .map_err(|_| Error::invalid("metadata cache lock poisoned"))?;
        let bytes: &[u8] = if first == last || len == 0 {
            if !kept.blocks.contains_key(&first) {
                let start = first * block;
                let n = (self.len - start).min(block) as usize;
                let b = self.fetch(start, n)?;
                self.keep(&mut kept, n)?;
                kept.blocks.insert(first, b);
            }
            let b = &kept.blocks[&first];
            &b[(pos - first * block) as usize..]
        } else {
            if !kept.spans.contains_key(&(pos, len)) {
                let b = self.fetch(pos, len)?;
                self.keep(&mut kept, len)?;
                kept.spans.insert((pos, len), b);
            }
            &kept.spans[&(pos, len)]
        };
        // SAFETY: the bytes live in a `Box<[u8]>` that is never removed,
        // replaced or mutated while `self` lives (entries are only ever
        // inserted under keys that were absent), so the heap allocation
        // outlives the lock guard and stays valid for `&self`'s lifetime;
        // moving the box inside the map when it grows does not move the
        // bytes it points to.
        Ok(unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) })
    }

    fn copy(&self, pos: u64, len: usize) -> Result<Vec<u8>> {
        if pos.checked_add(len as u64).is_none_or(|e| e > self.len) {
            return Err(Error::format(
                pos,
                format!(
                    "{len} bytes from here run past the end of the file ({} bytes)",
                    self.len
                ),
            ));
        }
        let mut buf = crate::buf::try_with_capacity(len, "data read")?;
        buf.resize(len, 0);
        self.src.read_at(pos, &mut buf)?;
        Ok(buf)
    }
}
