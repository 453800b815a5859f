//! One write operation's staged bytes: new space first, publishing updates last.
//!
//! Every public operation of the [`Writer`](super::Writer) plans its changes
//! against the file as it is, staging two lists:
//!
//! * `fresh`: bytes written into newly allocated space at the end of the file
//!   (chunks, copied B-tree nodes, heaps, object headers). Nothing in the file
//!   refers to them yet, so writing them changes nothing a reader can see.
//! * `publish`: small in-place updates of existing metadata (a B-tree root, a
//!   message slot, a heap header), applied in order after the superblock's
//!   end-of-file address has grown to cover the fresh space. The first publish
//!   write is the one that makes the change visible; later ones only fix up
//!   bookkeeping (such as a v1 header's message count) that readers tolerate.
//!
//! A crash (any prefix of the writes) therefore leaves the file showing the
//! state before the operation or after it.

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::format::{Address, Sizes};
use crate::io::sink::Placement;
use crate::limits::Limits;

/// Staged writes of one operation. `'d` is the lifetime of caller data
/// staged without copying (a dataset's elements).
#[derive(Debug)]
pub(crate) struct Tx<'d> {
    /// Absolute end of allocated space.
    pub eoa: u64,
    /// Superblock base address (absolute).
    pub base: u64,
    pub sizes: Sizes,
    pub limits: Limits,
    /// New objects get the latest format (v2 object headers, link-message
    /// groups, layout v4 chunk indexes): the file has a v2/v3 superblock.
    pub latest: bool,
    pub fresh: Vec<(u64, Cow<'d, [u8]>)>,
    pub publish: Vec<(u64, Vec<u8>)>,
    /// v1 header slots (absolute addresses) already rewritten by this
    /// operation: later edits of the same header must not reuse them.
    pub claimed: Vec<u64>,
    /// v1 header message-count changes already staged, per header, so a
    /// second edit adds to the first instead of overwriting it.
    pub count_deltas: Vec<(Address, i64)>,
    /// Inside a transaction ([`super::shadow`]): structures shared with the
    /// published file must not change in place, so a chunk index root and
    /// contiguous data move instead of being rewritten where they are.
    pub shadow: bool,
    /// Inside a transaction: the absolute end of the file when it began.
    /// Structures at or after it were written by the transaction and are
    /// reachable only from its unpublished root, so they may be edited in
    /// place. `None` outside a transaction.
    pub private_from: Option<u64>,
    /// In-place writes to structures the transaction shares with the
    /// published file, which may only happen once it is published (the
    /// right-sibling links of kept B-tree nodes left of a copied path):
    /// absolute position and bytes, in order. Empty outside a transaction.
    pub after_commit: Vec<(u64, Vec<u8>)>,
    /// Where the sink would rather have borrowed slices placed (see
    /// [`Tx::alloc_placed`]).
    pub placement: Placement,
}

impl<'d> Tx<'d> {
    /// Allocates `len` bytes at the end of the file (8-byte aligned).
    pub fn alloc(&mut self, len: u64) -> Result<Address> {
        let start = eoa_align(self.eoa);
        let end = start
            .checked_add(len)
            .ok_or_else(|| Error::invalid("file would exceed 2^64 bytes"))?;
        self.eoa = end;
        Ok(Address(start - self.base))
    }

    /// Allocates `len` bytes at the end of the file for `bytes`, a slice
    /// the sink would rather have at a position congruent to some residue
    /// ([`Placement`]: a slice of a file the sink can share blocks with):
    /// the space is padded by less than [`Placement::BLOCK`] bytes (left
    /// unused) to start there. Without a preference, as [`Tx::alloc`].
    pub fn alloc_placed(&mut self, bytes: &[u8]) -> Result<Address> {
        let Some(residue) = self.placement.residue(bytes) else {
            return self.alloc(bytes.len() as u64);
        };
        let block = Placement::BLOCK;
        let pad = (residue + block - self.eoa % block) % block;
        let start = self
            .eoa
            .checked_add(pad)
            .ok_or_else(|| Error::invalid("file would exceed 2^64 bytes"))?;
        let end = start
            .checked_add(bytes.len() as u64)
            .ok_or_else(|| Error::invalid("file would exceed 2^64 bytes"))?;
        self.eoa = end;
        Ok(Address(start - self.base))
    }

    /// Allocates space for `bytes` and stages them; returns the address.
    pub fn put(&mut self, bytes: Vec<u8>) -> Result<Address> {
        let addr = self.alloc(bytes.len() as u64)?;
        self.fresh.push((self.base + addr.0, Cow::Owned(bytes)));
        Ok(addr)
    }

    /// Like [`Tx::put`], staging caller data without a copy when borrowed.
    pub fn put_cow(&mut self, bytes: Cow<'d, [u8]>) -> Result<Address> {
        let addr = self.alloc(bytes.len() as u64)?;
        self.fresh.push((self.base + addr.0, bytes));
        Ok(addr)
    }

    /// Stages bytes for space allocated earlier with [`Tx::alloc`].
    pub fn put_at(&mut self, addr: Address, bytes: Vec<u8>) {
        self.fresh.push((self.base + addr.0, Cow::Owned(bytes)));
    }

    /// Stages an in-place update of existing metadata at relative `addr`.
    pub fn publish(&mut self, addr: Address, bytes: Vec<u8>) {
        self.publish.push((self.base + addr.0, bytes));
    }

    /// Stages an in-place update at an absolute position.
    pub fn publish_abs(&mut self, abs: u64, bytes: Vec<u8>) {
        self.claimed.push(abs);
        self.publish.push((abs, bytes));
    }
}

fn eoa_align(x: u64) -> u64 {
    x.div_ceil(8) * 8
}

impl crate::format::Place for Tx<'_> {
    fn alloc(&mut self, len: u64) -> Result<Address> {
        Tx::alloc(self, len)
    }

    fn put_at(&mut self, addr: Address, bytes: Vec<u8>) {
        Tx::put_at(self, addr, bytes)
    }
}
