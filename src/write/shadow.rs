//! Transactions: any number of operations, published by one write.
//!
//! Outside a transaction every [`Writer`] operation is atomic on its own
//! (see [`super::tx`]). Inside one ([`Writer::begin`] ...
//! [`Writer::commit`]) the file is changed *copy-on-write from the root*
//! (shadow paging): before an operation touches an object, that object and
//! every group on the path to it are copied to fresh space at the end of the
//! file, and each copied group's link is pointed at the copied child. The
//! operation then edits the copies (in place or not: nothing reachable from
//! the file's root refers to them). Objects created during the transaction
//! are private from the start. The copies form a second version of the
//! file's tree, which shares every untouched object, chunk and B-tree node
//! with the first:
//!
//! ```text
//!   superblock ──root──▶ / ─▶ X ─▶ data, indices, indptr ─▶ chunks ...
//!        ┊                 ╲─▶ obs, var, layers ...   ▲ shared, unchanged
//!        ┊ commit: one      ╲                         │
//!        ┊ superblock write  / ' ─▶ X' ─▶ data', indices', indptr' ─▶ new chunks
//!        └┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄▶ (copies of the changed path, at the end of the file)
//! ```
//!
//! [`Writer::commit`] publishes the new version by rewriting the superblock
//! (end of file and root group address, one small write). A crash before
//! that write leaves the file as it was; after it, every reader (libhdf5,
//! h5py, anndata, ours) sees the whole transaction; then the right-sibling
//! links of shared B-tree nodes left of a copied path are pointed at the
//! copies (readers never follow them, but libhdf5 does when it removes
//! emptied nodes on a shrink). [`Writer::rollback`] forgets the copies. As everywhere in the writer, the space of the
//! superseded structures is not reused; `h5sparse repack` reclaims it.
//!
//! What a copy costs: an object header (its messages re-encoded into one
//! chunk), and for a symbol-table group its B-tree root node and local heap
//! header (the heap's names and the symbol-table nodes stay shared until an
//! edit rewrites them; pointing a member at its copy copies only the one
//! symbol-table node that holds it, once, and patches the entry in place
//! after that). The superblock is written by the commit only: before it,
//! nothing the published file reaches lies in the new space. A dataset's chunk index is not copied: an edit
//! writes its changed nodes fresh and the copy's layout message names the
//! new root. Contiguous data written inside a transaction is copied whole
//! (it would otherwise change in place).
//!
//! An object reachable through more than one hard link cannot be copied
//! without the other links still showing the old one, so changing it inside
//! a transaction is refused.

use std::borrow::Cow;

use super::tx::Tx;
use super::{Backing, Writer};
use crate::error::{Error, Result};
use crate::format::btree_v1::node_size_group;
use crate::format::local_heap::LOCAL_HEAP_HEADER_LEN;
use crate::format::message::symbol_table::SymbolTableMessage;
use crate::format::object_header::{
    encode_v1, encode_v2_with, kind, set_v1_reference_count, NewMessage, ObjectHeader, V2Prefix,
};
use crate::format::superblock::Superblock;
use crate::format::{Address, FileView};
use crate::read::LinkTarget;

/// State of an open transaction.
#[derive(Debug, Clone)]
pub(crate) struct Shadow {
    /// Absolute end of allocated space when the transaction began: every
    /// object header at or after it was written by this transaction.
    start: u64,
    /// The transaction's root group: its object header and, for a
    /// symbol-table group, its (B-tree, local heap), once copied.
    root: Option<(Address, Option<(Address, Address)>)>,
    /// The operations' [`Tx::after_commit`] writes, in order.
    after_commit: Vec<(u64, Vec<u8>)>,
}

impl Shadow {
    /// Keeps `tx`'s writes that wait for the commit.
    pub(crate) fn defer(&mut self, tx: &mut Tx<'_>) {
        self.after_commit.append(&mut tx.after_commit);
    }

    /// Absolute end of allocated space when the transaction began.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// True when the object header at `addr` was written by this
    /// transaction (a copy or a new object).
    fn owns(&self, base: u64, addr: Address) -> bool {
        base.saturating_add(addr.0) >= self.start
    }

    /// `sb` as the transaction sees it: rooted at the copied root group.
    pub(crate) fn superblock(&self, sb: &Superblock) -> Superblock {
        let mut sb = sb.clone();
        if let Some((root, stab)) = self.root {
            sb.root_object_header = root;
            sb.root_symbol_table = stab;
        }
        sb
    }
}

/// Free bytes left in a copied object header for the edits that follow.
const COPY_SLACK: usize = 128;

/// Copies the object header at `addr` into fresh space, with what an edit
/// of the copy would otherwise change in place: a symbol-table group's
/// B-tree root node and local heap header. Returns the copy's address and,
/// for a symbol-table group, its (B-tree, heap) for the link's cache.
fn copy_object(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    addr: Address,
    group_internal_k: u16,
    path: &str,
) -> Result<(Address, Option<(Address, Address)>)> {
    let hdr = ObjectHeader::parse(view, addr, &tx.limits)?;
    let links = match hdr.reference_count {
        Some(n) => n,
        None => match hdr.first(kind::REFERENCE_COUNT) {
            Some(m) => m
                .data
                .get(1..5)
                .map_or(1, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            None => 1,
        },
    };
    if links > 1 {
        return Err(Error::unsupported(format!(
            "changing {path} inside a transaction: it is reached by {links} hard links, \
             which would not all see the change"
        )));
    }
    let mut stab = None;
    let mut messages = Vec::with_capacity(hdr.messages.len());
    let mut orders = Vec::with_capacity(hdr.messages.len());
    for m in &hdr.messages {
        let mut data = Cow::Owned(m.data.to_vec());
        if m.kind == kind::SYMBOL_TABLE {
            let stm = SymbolTableMessage::parse(m.data, m.at, view.sizes)?;
            let node_len = node_size_group(group_internal_k, view.sizes) as u64;
            let root = view
                .slice(stm.btree, node_len, "group B-tree root")?
                .to_vec();
            let heap = view
                .slice(
                    stm.local_heap,
                    LOCAL_HEAP_HEADER_LEN as u64,
                    "local heap header",
                )?
                .to_vec();
            let copy = SymbolTableMessage {
                btree: tx.put(root)?,
                local_heap: tx.put(heap)?,
            };
            stab = Some((copy.btree, copy.local_heap));
            data = Cow::Owned(copy.encode()?);
        }
        messages.push(NewMessage {
            kind: m.kind,
            flags: m.flags,
            data,
        });
        orders.push(m.creation_index.unwrap_or(0));
    }
    let bytes = if hdr.version == 1 {
        let mut b = encode_v1(&messages, COPY_SLACK)?;
        set_v1_reference_count(&mut b, hdr.reference_count.unwrap_or(1))?;
        b
    } else {
        let prefix = V2Prefix {
            flags: hdr.flags,
            times: hdr.times,
            phase_change: hdr.attribute_phase_change,
        };
        encode_v2_with(&messages, &prefix, Some(&orders), COPY_SLACK)?
    };
    Ok((tx.put(bytes)?, stab))
}

impl<B: Backing> Writer<B> {
    /// Starts a transaction: until [`Writer::commit`], no operation is
    /// visible to any reader of the file (ours, libhdf5, h5py, anndata),
    /// and a crash leaves the file as it was before `begin`.
    /// [`Writer::reader`] shows the transaction's own changes. See
    /// [`Writer::transaction`] for the usual form.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/x", &[2], &[1i32, 2], &DatasetOptions::growable())?;
    /// w.begin()?;
    /// w.append("/x", &[3i32])?;
    /// w.set_attr_str("/x", "note", "grown")?;
    /// assert_eq!(w.reader()?.dataset("/x")?.read::<i32>()?, vec![1, 2, 3]);    // our view
    /// let others = h5sparse::File::from_bytes(w.sink().bytes.clone())?;       // everyone else's
    /// assert_eq!(others.dataset("/x")?.read::<i32>()?, vec![1, 2]);
    /// w.commit()?;                                                         // one write
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/x")?.read::<i32>()?, vec![1, 2, 3]);
    /// assert!(f.dataset("/x")?.attribute("note")?.is_some());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn begin(&mut self) -> Result<()> {
        if self.shadow.is_some() {
            return Err(Error::invalid("a transaction is already open"));
        }
        self.shadow = Some(Shadow {
            start: self.eoa,
            root: None,
            after_commit: Vec::new(),
        });
        Ok(())
    }

    /// Publishes every change since [`Writer::begin`] with one write of the
    /// superblock, after syncing what the transaction wrote (so that no
    /// crash, of the process or of the machine, can publish a tree whose
    /// nodes are not on disk; see [`Writer::set_commit_sync`]). The
    /// superblock write itself is not synced: call [`Writer::flush`] to
    /// make the commit durable.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.begin()?;
    /// w.create_group("/a")?;
    /// w.create_group("/a/b")?;
    /// w.commit()?;
    /// assert!(w.reader()?.group("/a/b").is_ok());
    /// assert!(w.commit().is_err());                      // no transaction open
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn commit(&mut self) -> Result<()> {
        let shadow = self
            .shadow
            .take()
            .ok_or_else(|| Error::invalid("commit without an open transaction"))?;
        if shadow.root.is_none() {
            return Ok(()); // nothing was changed
        }
        // The copies must be durable before the superblock names them: a
        // machine that stops with the new superblock on disk but not the
        // tree it points to would show neither version.
        if self.commit_sync {
            self.sink.sync()?;
        }
        let sb = shadow.superblock(&self.sb);
        let mut next = sb.clone();
        next.eof_address = self.eoa - sb.base_address;
        let bytes = next.encode()?;
        self.sink.write_at(next.superblock_address, &bytes)?;
        self.sb = next;
        // Then the shared nodes' sibling links (readers do not follow them;
        // a crash before these leaves them naming superseded copies).
        for (at, bytes) in &shadow.after_commit {
            self.sink.write_at(*at, bytes)?;
        }
        Ok(())
    }

    /// Whether [`Writer::commit`] syncs the transaction's bytes before the
    /// superblock write that publishes them (default `true`). Without it a
    /// commit is still atomic for every reader and for a crash of the
    /// process, as every other operation is, but a power loss before the
    /// next [`Writer::flush`] may leave the superblock naming a tree that
    /// never reached the disk. Turn it off to batch many small transactions
    /// and flush once (h5py and libhdf5 never sync unless asked).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/n", &[1], &[0u32], &DatasetOptions::growable())?;
    /// w.set_commit_sync(false);
    /// for i in 1..100u32 {
    ///     w.transaction(|w| w.append("/n", &[i]))?;
    /// }
    /// w.flush()?;                                        // one sync for all of them
    /// assert_eq!(w.reader()?.dataset("/n")?.len(), 100);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_commit_sync(&mut self, sync: bool) {
        self.commit_sync = sync;
    }

    /// Whether the file's writes are made durable at all (default `true`).
    /// `false` is for scratch outputs: [`Writer::set_commit_sync`] is
    /// turned off and [`Writer::flush`] only writes out buffered bytes
    /// (no `fdatasync`), so a power loss or kernel crash may lose or tear
    /// the file; every reader and a crash of the process still see a
    /// complete file, as with any other write. `true` turns both back on.
    ///
    /// ```
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-writer-durable", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("scratch.h5");
    /// let mut w = Writer::create(&path)?;
    /// w.set_durable(false);                               // no fdatasync
    /// w.create_dataset("/x", &[2], &[1u8, 2], &DatasetOptions::default())?;
    /// w.close()?;                                          // written out, not synced
    /// assert_eq!(h5sparse::File::open(&path)?.dataset("/x")?.read::<u8>()?, vec![1, 2]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn set_durable(&mut self, durable: bool) {
        self.commit_sync = durable;
        self.sink.set_durable(durable);
    }

    /// Registers a file whose mapped bytes may be written through this
    /// writer, to be copied in the kernel
    /// ([`Sink::add_copy_source`](crate::io::sink::Sink::add_copy_source)).
    pub fn add_copy_source(&mut self, source: crate::io::sink::CopySource) {
        self.sink.add_copy_source(source);
    }

    /// Abandons the open transaction: the file stays as readers saw it
    /// (the space written so far is not reused).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.begin()?;
    /// w.create_group("/draft")?;
    /// w.rollback();
    /// assert!(w.reader()?.group("/draft").is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn rollback(&mut self) {
        self.shadow = None;
    }

    /// True between [`Writer::begin`] and [`Writer::commit`] /
    /// [`Writer::rollback`].
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// let mut w = h5sparse::write::Writer::create_in(MemSink::default())?;
    /// assert!(!w.in_transaction());
    /// w.transaction(|w| { assert!(w.in_transaction()); Ok(()) })?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn in_transaction(&self) -> bool {
        self.shadow.is_some()
    }

    /// Runs `f` as one transaction: committed when it returns `Ok`, rolled
    /// back when it returns `Err` (nothing it did becomes visible). Inside
    /// an open transaction, `f` simply joins it.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/n", &[1], &[1u8], &DatasetOptions::growable())?;
    /// let failed = w.transaction(|w| {
    ///     w.append("/n", &[2u8])?;
    ///     w.append("/missing", &[3u8])                   // fails: the append is undone
    /// });
    /// assert!(failed.is_err());
    /// assert_eq!(w.reader()?.dataset("/n")?.read::<u8>()?, vec![1]);
    /// w.transaction(|w| w.append("/n", &[2u8]))?;
    /// assert_eq!(w.reader()?.dataset("/n")?.read::<u8>()?, vec![1, 2]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn transaction<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R>) -> Result<R> {
        if self.in_transaction() {
            return f(self);
        }
        self.begin()?;
        match f(self) {
            Ok(r) => {
                self.commit()?;
                Ok(r)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Inside a transaction, makes the object at `path` and every group on
    /// the way to it the transaction's own (copying what is not yet), so
    /// that editing it changes nothing readers see. Outside one, nothing.
    pub(crate) fn make_private(&mut self, path: &str) -> Result<()> {
        let Some(shadow) = self.shadow.clone() else {
            return Ok(());
        };
        let k = Self::group_k(&self.sb);
        if shadow.root.is_none() {
            let root =
                self.run(|view, tx, sb| copy_object(view, tx, sb.root_object_header, k.1, "/"))?;
            if let Some(s) = self.shadow.as_mut() {
                s.root = Some(root);
            }
        }
        let limits = self.limits.clone();
        let names = self.run(|view, _, sb| Ok(Self::resolve_trail(view, &limits, sb, path)?.1))?;
        let mut parent_path = String::new();
        for name in names {
            let base = self.sb.base_address;
            let child_path = format!("{parent_path}/{name}");
            self.run(|view, tx, sb| {
                let parent = Self::resolve(view, &limits, sb, &parent_path)?;
                let links = crate::read::links_at(view, &limits, parent)?;
                let link = links
                    .into_iter()
                    .find(|l| l.name == name)
                    .ok_or_else(|| Error::invalid(format!("{parent_path}: no member {name:?}")))?;
                let LinkTarget::Hard(child) = link.target else {
                    return Err(Error::invalid(format!(
                        "{child_path} is not a hard link after resolving soft links"
                    )));
                };
                if shadow.owns(base, child) {
                    return Ok(());
                }
                let (copy, stab) = copy_object(view, tx, child, k.1, &child_path)?;
                super::group::set_member(view, tx, parent, &name, copy, stab, k)
            })?;
            parent_path = child_path;
        }
        Ok(())
    }

    /// [`Writer::make_private`] for the group that holds `path`.
    pub(crate) fn make_parent_private(&mut self, path: &str) -> Result<()> {
        if self.shadow.is_none() {
            return Ok(());
        }
        let trimmed = path.trim_end_matches('/');
        let parent = match trimmed.rfind('/') {
            Some(i) => &trimmed[..i],
            None => "",
        };
        self.make_private(parent)
    }
}
