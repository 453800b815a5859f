//! Creating and modifying HDF5 files.
//!
//! [`Writer`] creates files in the classic layout h5py and anndata write by
//! default (superblock v0, v1 object headers, symbol-table groups, chunked
//! datasets indexed by v1 B-trees) and modifies such files in place:
//! hyperslab writes, appends to chunked datasets with unlimited maximum
//! shape, attributes, new and deleted groups, datasets and links.
//!
//! With [`Format::Latest`] ([`Writer::create_in_with`]) it writes what h5py
//! writes for `libver=('v110', 'v110')` instead: superblock v3, v2 object
//! headers, link-message groups, layout v4 chunk indexes (single chunk,
//! fixed array, extensible array). Such files, ours and h5py's, are
//! modified in place the same way; a changed chunk index other than a v1
//! B-tree is rebuilt fresh and published by rewriting the layout message
//! (one re-encoded, re-checksummed header chunk); an append then updates the
//! dataspace (the same chunk, or a second write that a crash may skip,
//! leaving the old extent and so the old content). Dense (fractal heap)
//! link and attribute storage is refused as unsupported.
//!
//! ## Crash consistency
//! Every operation stages new bytes in fresh space at the end of the file,
//! extends the superblock's end-of-file address, and only then publishes the
//! change with one small in-place write (a B-tree root, a message slot, a
//! heap header). A crash at any write leaves the file showing either the
//! content before the operation or after it. Space that an operation makes
//! unreachable is not reused, as in libhdf5; `h5sparse repack` compacts.
//! Operations do not sync; [`Writer::flush`] and [`Writer::close`] do.
//!
//! ## Transactions
//! [`Writer::transaction`] (or [`Writer::begin`] / [`Writer::commit`])
//! groups any number of operations into one change that every reader sees
//! whole or not at all, by copying the changed path from the root and
//! switching the superblock's root in one write (see the `shadow` module's
//! notes in the source and the README).
//!
//! ## Growing contiguous datasets
//! Impossible in libhdf5 too: [`Writer::append`] on a contiguous dataset is
//! an [`Error::InvalidArgument`] that says to create it with `maxshape`.
//!
//! ```
//! use h5sparse::write::{DatasetOptions, Writer};
//! use h5sparse::io::sink::MemSink;
//!
//! let mut w = Writer::create_in(MemSink::default())?;
//! w.create_group("/X")?;
//! w.create_dataset("/X/indptr", &[3], &[0i64, 1, 2], &DatasetOptions::growable())?;
//! w.append("/X/indptr", &[4i64, 5])?;
//! w.set_attr_str("/X", "h5sparse_format", "csr")?;
//! let bytes = w.close()?.bytes;
//!
//! let f = h5sparse::File::from_bytes(bytes)?;
//! assert_eq!(f.dataset("/X/indptr")?.read::<i64>()?, vec![0, 1, 2, 4, 5]);
//! # Ok::<(), h5sparse::Error>(())
//! ```

mod attribute;
mod attrs;
mod backing;
mod btree;
mod btree_append;
mod chunks;
mod copy;
mod dataset;
mod datasets;
mod dense;
mod encode;
pub(crate) use encode::f64_to_f16;
mod encode_nested;
mod group;
mod header;
mod link_group;
mod links;
mod modify;
mod shadow;
mod stored;
pub(crate) use stored::bytes_as_stored;
use stored::{dataset_dtype, stored_bytes};
mod tx;

#[cfg(feature = "mmap")]
pub use backing::MappedFile;
pub use copy::{copy_file, copy_file_with_progress, copy_object, payload_bytes, CopyOptions};
pub(crate) use dataset::guess_chunks;
pub use dataset::DatasetOptions;

use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::format::superblock::Superblock;
use crate::format::{Address, FileView, Sizes};
use crate::io::sink::Sink;
use crate::limits::Limits;
use crate::read::{LinkTarget, ObjectRef};
use tx::Tx;

/// Free bytes left in every new object header for later messages
/// (attributes added without a continuation block).
pub(crate) const HEADER_SLACK: usize = 256;

/// Which HDF5 format a new file is written in.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::write::{CreateOptions, Format, Writer};
///
/// let opts = CreateOptions { format: Format::Latest };
/// let w = Writer::create_in_with(MemSink::default(), &opts)?;
/// let f = h5sparse::File::from_bytes(w.close()?.bytes)?;
/// assert_eq!(f.superblock_version(), 3);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// What h5py writes by default (libver 'earliest'), readable by every
    /// libhdf5 since 1.8: superblock v0, v1 object headers, symbol-table
    /// groups, layout v3 with v1 B-tree chunk indexes.
    #[default]
    Earliest,
    /// libver ('v110', 'v110'), readable by libhdf5 1.10 and later:
    /// superblock v3, v2 object headers with checksums, link-message groups,
    /// attribute messages v3, layout v4 chunk indexes (single chunk, fixed
    /// array, extensible array for one unlimited dimension; a v1 B-tree
    /// under layout v3 for two or more unlimited dimensions).
    Latest,
}

/// Options for creating a file.
///
/// ```
/// use h5sparse::write::{CreateOptions, Format};
/// assert_eq!(CreateOptions::default().format, Format::Earliest);    // h5py's default
/// let f = h5sparse::H5File::in_memory_with(&CreateOptions { format: Format::Latest })?;
/// assert_eq!(f.snapshot()?.superblock_version(), 3);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// The format of the new file.
    pub format: Format,
}

/// A [`Sink`] whose current contents can be read back as one slice, so the
/// writer can parse the metadata it is about to change.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::write::{Backing, Writer};
///
/// let mut sink = Writer::create_in(MemSink::default())?.close()?;
/// assert_eq!(&sink.contents()?[..4], b"\x89HDF");
/// assert_eq!(sink.path(), None);                        // in memory: no path to map
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub trait Backing: Sink {
    /// The file's current bytes (after any buffered writes).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{Backing, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_group("/g")?;
    /// let mut sink = w.close()?;
    /// let f = h5sparse::File::from_bytes(sink.contents()?.to_vec())?;
    /// assert!(f.group("/g").is_ok());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    fn contents(&mut self) -> std::io::Result<&[u8]>;

    /// The file's path, when it has one (lets [`Writer::reader`] map it
    /// instead of copying it).
    ///
    /// ```
    /// use h5sparse::write::{Backing, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-backing-path", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let w = Writer::create(&path)?;
    /// assert_eq!(w.sink().path(), Some(path.as_path()));  // the reader maps this file
    /// # drop(w);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    fn path(&self) -> Option<&std::path::Path> {
        None
    }
}

/// Creates and modifies an HDF5 file through a [`Backing`] sink.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::write::{DatasetOptions, Writer};
///
/// let mut w = Writer::create_in(MemSink::default())?;
/// w.create_group("/obs")?;
/// w.create_dataset("/obs/n", &[2], &[10u32, 20], &DatasetOptions::growable())?;
/// w.append("/obs/n", &[30u32])?;
/// assert_eq!(w.reader()?.dataset("/obs/n")?.read::<u32>()?, vec![10, 20, 30]);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug)]
pub struct Writer<B: Backing> {
    sink: B,
    sb: Superblock,
    /// Absolute end of allocated space.
    eoa: u64,
    limits: Limits,
    /// The open transaction, if any.
    shadow: Option<shadow::Shadow>,
    /// [`Writer::set_commit_sync`].
    commit_sync: bool,
}

#[cfg(feature = "mmap")]
impl Writer<MappedFile> {
    /// Creates (or truncates) the file at `path`, locked for writing
    /// ([`Format::Earliest`]).
    ///
    /// ```
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-writer-create", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("new.h5");
    /// let mut w = Writer::create(&path)?;
    /// w.create_dataset("/x", &[3], &[1.0f64, 2.0, 3.0], &DatasetOptions::default())?;
    /// w.close()?;
    /// let f = h5sparse::File::open(&path)?;
    /// assert_eq!(f.dataset("/x")?.read::<f64>()?, vec![1.0, 2.0, 3.0]);
    /// # drop(f);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create(path: impl AsRef<std::path::Path>) -> Result<Writer<MappedFile>> {
        Self::create_with(path, &CreateOptions::default())
    }

    /// Creates (or truncates) the file at `path` in the format `opts` names,
    /// locked for writing.
    ///
    /// ```
    /// use h5sparse::write::{CreateOptions, Format, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-writer-create-with", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("v110.h5");
    /// let opts = CreateOptions { format: Format::Latest };   // h5py's libver='v110'
    /// Writer::create_with(&path, &opts)?.close()?;
    /// assert_eq!(h5sparse::File::open(&path)?.superblock_version(), 3);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_with(
        path: impl AsRef<std::path::Path>,
        opts: &CreateOptions,
    ) -> Result<Writer<MappedFile>> {
        let sink = crate::io::sink::FileSink::create(path)?;
        Writer::create_in_with(MappedFile::new(sink), opts)
    }

    /// Opens the existing file at `path` for modification, locked for
    /// writing (a second writer, ours or libhdf5's, is refused).
    ///
    /// ```
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-writer-open", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let mut w = Writer::create(&path)?;
    /// w.create_dataset("/x", &[2], &[1i32, 2], &DatasetOptions::growable())?;
    /// w.close()?;                                       // releases the lock
    ///
    /// let mut w = Writer::open(&path)?;
    /// w.append("/x", &[3i32])?;
    /// assert_eq!(w.reader()?.dataset("/x")?.read::<i32>()?, vec![1, 2, 3]);
    /// # drop(w);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Writer<MappedFile>> {
        let sink = crate::io::sink::FileSink::open_rw(path)?;
        Writer::open_in(MappedFile::new(sink))
    }
}

impl<B: Backing> Writer<B> {
    /// Starts a new, empty file in `sink` (superblock v0, as h5py's default).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let bytes = Writer::create_in(MemSink::default())?.close()?.bytes;
    /// let f = h5sparse::File::from_bytes(bytes)?;
    /// assert_eq!(f.superblock_version(), 0);
    /// assert!(f.root()?.links()?.is_empty());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_in(sink: B) -> Result<Writer<B>> {
        Self::create_in_with(sink, &CreateOptions::default())
    }

    /// Starts a new, empty file in `sink` in the format `opts` names.
    ///
    /// [`Format::Latest`] mirrors h5py's `libver=('v110', 'v110')`:
    /// superblock v3 without an extension (default file-space handling),
    /// the root group a v2 object header with link info and group info
    /// messages.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{CreateOptions, Format, Writer};
    ///
    /// let opts = CreateOptions { format: Format::Latest };
    /// let mut w = Writer::create_in_with(MemSink::default(), &opts)?;
    /// w.create_group("/g")?;                            // a link-message group
    /// let f = h5sparse::File::from_bytes(w.close()?.bytes)?;
    /// assert_eq!(f.superblock_version(), 3);
    /// assert_eq!(f.root()?.links()?[0].name, "g");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_in_with(mut sink: B, opts: &CreateOptions) -> Result<Writer<B>> {
        sink.set_len(0)?;
        let sizes = Sizes::DEFAULT;
        let latest = opts.format == Format::Latest;
        let version = if latest { 3 } else { 0 };
        let sb_len = Superblock::encoded_len(version) as u64;
        let limits = Limits::default();
        let mut tx = Tx {
            eoa: sb_len,
            base: 0,
            sizes,
            limits: limits.clone(),
            latest,
            fresh: Vec::new(),
            publish: Vec::new(),
            claimed: Vec::new(),
            count_deltas: Vec::new(),
            shadow: false,
            private_from: None,
            after_commit: Vec::new(),
            placement: Default::default(),
        };
        let (root, root_symbol_table) = if latest {
            (group::create_link_group(&mut tx)?, None)
        } else {
            let (root, btree, heap) = group::create_stab_group(&mut tx, (4, 16))?;
            (root, Some((btree, heap)))
        };
        let eoa = tx.eoa;
        let (fresh, publish) = (
            std::mem::take(&mut tx.fresh),
            std::mem::take(&mut tx.publish),
        );
        let sb = Superblock {
            version,
            sizes,
            superblock_address: 0,
            base_address: 0,
            eof_address: eoa,
            root_object_header: root,
            root_symbol_table,
            extension: Address::UNDEFINED,
            group_leaf_k: 4,
            group_internal_k: 16,
            indexed_storage_k: 32,
        };
        let mut w = Writer {
            sink,
            sb,
            eoa: 0,
            limits,
            shadow: None,
            commit_sync: true,
        };
        w.apply(fresh, publish, eoa)?;
        Ok(w)
    }

    /// Opens the HDF5 file in `sink` for modification.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let seed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// let mut w = Writer::open_in(MemSink::from_bytes(seed))?;
    /// w.write_slab("/Y", &[0, 0], &[1, 1], &[7i64])?;   // Y[0, 0] = 7, in memory
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/Y")?.read_slab::<i64>(&[0, 0], &[1, 3])?, vec![7, 1, 0]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn open_in(mut sink: B) -> Result<Writer<B>> {
        let bytes = sink.contents()?;
        let sb = Superblock::find(bytes)?;
        let len = bytes.len() as u64;
        let eoa = sb.base_address.saturating_add(sb.eof_address).max(len);
        Ok(Writer {
            sink,
            sb,
            eoa,
            limits: Limits::default(),
            shadow: None,
            commit_sync: true,
        })
    }

    /// Runs `plan` against the current file and applies what it staged.
    /// `'d`: caller data that `plan` may stage without copying.
    fn run<'d, R>(
        &mut self,
        plan: impl FnOnce(&FileView<'_>, &mut Tx<'d>, &Superblock) -> Result<R>,
    ) -> Result<R> {
        // Inside a transaction, operations see (and edit) its own tree.
        let sb = match &self.shadow {
            Some(s) => s.superblock(&self.sb),
            None => self.sb.clone(),
        };
        let mut tx = Tx {
            eoa: self.eoa,
            base: sb.base_address,
            sizes: sb.sizes,
            limits: self.limits.clone(),
            latest: sb.version >= 2,
            fresh: Vec::new(),
            publish: Vec::new(),
            claimed: Vec::new(),
            count_deltas: Vec::new(),
            shadow: self.shadow.is_some(),
            private_from: self.shadow.as_ref().map(|s| s.start()),
            after_commit: Vec::new(),
            placement: self.sink.placement(),
        };
        let out = {
            let bytes = self.sink.contents()?;
            let view = FileView::new(bytes, sb.sizes, sb.base_address);
            plan(&view, &mut tx, &sb)?
        };
        if let Some(shadow) = &mut self.shadow {
            shadow.defer(&mut tx);
        }
        let eoa = tx.eoa;
        self.apply(tx.fresh, tx.publish, eoa)?;
        Ok(out)
    }

    /// [`Writer::run`] on the object at `path`.
    fn run_at<'d, R>(
        &mut self,
        path: &str,
        plan: impl FnOnce(&FileView<'_>, &mut Tx<'d>, &Superblock, Address) -> Result<R>,
    ) -> Result<R> {
        self.make_private(path)?;
        let limits = self.limits.clone();
        self.run(|view, tx, sb| {
            let addr = Self::resolve(view, &limits, sb, path)?;
            plan(view, tx, sb, addr)
        })
    }

    /// Creates an object with `make` (its object header address, and for
    /// a symbol-table group its (B-tree, heap) to cache) and links it at
    /// `path`, in one operation.
    fn create_linked<'d>(
        &mut self,
        path: &str,
        make: impl FnOnce(
            &FileView<'_>,
            &mut Tx<'d>,
            &Superblock,
        ) -> Result<(Address, Option<(Address, Address)>)>,
    ) -> Result<()> {
        self.run_in_parent(path, |view, tx, sb, parent, name| {
            let (header, stab) = make(view, tx, sb)?;
            let link = group::NewLink::Hard { header, stab };
            group::insert(view, tx, parent, name, link, Self::group_k(sb))
        })
    }

    /// [`Writer::run`] on the parent group of `path` and the last component.
    fn run_in_parent<'d, R>(
        &mut self,
        path: &str,
        plan: impl FnOnce(&FileView<'_>, &mut Tx<'d>, &Superblock, Address, &str) -> Result<R>,
    ) -> Result<R> {
        self.make_parent_private(path)?;
        let limits = self.limits.clone();
        self.run(|view, tx, sb| {
            let (parent, name) = Self::parent_of(view, &limits, sb, path)?;
            plan(view, tx, sb, parent, name)
        })
    }

    /// Writes fresh bytes, the superblock (end of file), then the publishing
    /// in-place updates, in that order.
    fn apply(
        &mut self,
        mut fresh: Vec<(u64, Cow<'_, [u8]>)>,
        publish: Vec<(u64, Vec<u8>)>,
        eoa: u64,
    ) -> Result<()> {
        fresh.sort_by_key(|(pos, _)| *pos);
        for (pos, bytes) in &fresh {
            self.sink.write_at(*pos, bytes)?;
        }
        // Inside a transaction the end of file is published by the commit's
        // superblock write: nothing published refers to the new space before.
        if eoa != self.eoa && self.shadow.is_none() {
            self.eoa = eoa;
            self.sb.eof_address = eoa - self.sb.base_address;
            let bytes = self.sb.encode()?;
            self.sink.write_at(self.sb.superblock_address, &bytes)?;
        }
        self.eoa = eoa;
        for (pos, bytes) in &publish {
            self.sink.write_at(*pos, bytes)?;
        }
        Ok(())
    }

    /// Object header address of `path`, following soft links.
    fn resolve(
        view: &FileView<'_>,
        limits: &Limits,
        sb: &Superblock,
        path: &str,
    ) -> Result<Address> {
        Ok(Self::resolve_trail(view, limits, sb, path)?.0)
    }

    /// [`Writer::resolve`], with the names of the hard links that lead
    /// from the root to the object (soft links and `..` resolved away).
    fn resolve_trail(
        view: &FileView<'_>,
        limits: &Limits,
        sb: &Superblock,
        path: &str,
    ) -> Result<(Address, Vec<String>)> {
        let mut hops = 0u32;
        let mut stack: Vec<String> = Vec::new();
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_string)
            .collect();
        pending.reverse();
        let mut cur = sb.root_object_header;
        let mut trail: Vec<Address> = vec![cur];
        while let Some(comp) = pending.pop() {
            if comp == ".." {
                trail.pop();
                cur = *trail.last().unwrap_or(&sb.root_object_header);
                stack.pop();
                continue;
            }
            let links = crate::read::links_at(view, limits, cur)?;
            let link = links.into_iter().find(|l| l.name == comp).ok_or_else(|| {
                Error::invalid(format!("/{}: no member {comp:?}", stack.join("/")))
            })?;
            match link.target {
                LinkTarget::Hard(a) => {
                    cur = a;
                    trail.push(a);
                    stack.push(comp);
                }
                LinkTarget::Soft(target) => {
                    hops += 1;
                    if hops > limits.max_link_hops {
                        return Err(Error::invalid(format!(
                            "too many soft links resolving {path}"
                        )));
                    }
                    let mut parts: Vec<String> = target
                        .split('/')
                        .filter(|c| !c.is_empty() && *c != ".")
                        .map(str::to_string)
                        .collect();
                    if target.starts_with('/') {
                        cur = sb.root_object_header;
                        trail = vec![cur];
                        stack.clear();
                    }
                    parts.reverse();
                    pending.extend(parts);
                }
                LinkTarget::External { .. } => {
                    return Err(Error::unsupported(format!(
                        "writing through the external link {comp:?}"
                    )))
                }
            }
        }
        Ok((cur, stack))
    }

    /// Splits `path` into its parent's object header address and the last
    /// component.
    fn parent_of<'p>(
        view: &FileView<'_>,
        limits: &Limits,
        sb: &Superblock,
        path: &'p str,
    ) -> Result<(Address, &'p str)> {
        let trimmed = path.trim_end_matches('/');
        let (parent, name) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        if name.is_empty() {
            return Err(Error::invalid(format!("{path:?} names no member")));
        }
        Ok((Self::resolve(view, limits, sb, parent)?, name))
    }

    fn group_k(sb: &Superblock) -> (u16, u16) {
        (sb.group_leaf_k.max(1), sb.group_internal_k.max(1))
    }

    /// Makes everything written durable.
    ///
    /// ```
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// # let dir = std::env::temp_dir().join(format!("h5sparse-doc-{}-writer-flush", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("f.h5");
    /// let mut w = Writer::create(&path)?;
    /// w.create_dataset("/x", &[2], &[1u8, 2], &DatasetOptions::default())?;
    /// w.flush()?;                                          // on disk, writer still open
    /// assert_eq!(h5sparse::File::open(&path)?.dataset("/x")?.read::<u8>()?, vec![1, 2]);
    /// # drop(w);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn flush(&mut self) -> Result<()> {
        self.sink.sync()?;
        Ok(())
    }

    /// A reader over the file as it is now (mapped again when it has a
    /// path, copied otherwise). Inside a transaction it shows the
    /// transaction's changes, which no other reader sees before
    /// [`Writer::commit`].
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/x", &[2], &[1i64, 2], &DatasetOptions::default())?;
    /// let before = w.reader()?;
    /// w.write_slab("/x", &[1], &[1], &[5i64])?;
    /// assert_eq!(before.dataset("/x")?.read::<i64>()?, vec![1, 2]); // an in-memory copy
    /// assert_eq!(w.reader()?.dataset("/x")?.read::<i64>()?, vec![1, 5]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn reader(&mut self) -> Result<crate::read::File> {
        let file = self.published_reader()?;
        Ok(match &self.shadow {
            Some(s) => {
                let sb = s.superblock(&self.sb);
                file.with_root(sb.root_object_header, sb.root_symbol_table)
            }
            None => file,
        })
    }

    /// A reader over the file as other readers see it now: without the
    /// changes of an open transaction.
    fn published_reader(&mut self) -> Result<crate::read::File> {
        self.sink.contents()?; // flushes buffered writes
        #[cfg(feature = "mmap")]
        if let Some(p) = self.sink.path() {
            return crate::read::File::open(p);
        }
        let bytes = self.sink.contents()?.to_vec();
        crate::read::File::from_bytes(bytes)
    }

    /// The same writer over a wrapped sink (e.g. boxed as
    /// `Box<dyn Backing + Send>`, so files and memory share one type).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{Backing, Writer};
    /// let w = Writer::create_in(MemSink::default())?;
    /// let mut boxed = w.map_sink(|s| Box::new(s) as Box<dyn Backing + Send>);
    /// boxed.create_group("/g")?;
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn map_sink<C: Backing>(self, wrap: impl FnOnce(B) -> C) -> Writer<C> {
        Writer {
            sink: wrap(self.sink),
            sb: self.sb,
            eoa: self.eoa,
            limits: self.limits,
            shadow: self.shadow,
            commit_sync: self.commit_sync,
        }
    }

    /// Syncs and returns the sink.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_group("/g")?;
    /// let sink: MemSink = w.close()?;
    /// let f = h5sparse::File::from_bytes(sink.into_bytes())?;
    /// assert_eq!(f.group("/g")?.path(), "/g");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn close(mut self) -> Result<B> {
        self.flush()?;
        Ok(self.sink)
    }

    /// The sink, for inspection (tests).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let w = Writer::create_in(MemSink::default())?;
    /// assert_eq!(&w.sink().bytes[..8], b"\x89HDF\r\n\x1a\n");  // the superblock's signature
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn sink(&self) -> &B {
        &self.sink
    }
}

/// The address an object reference gets in the file being written: that of
/// the object at the reference's path there.
fn ref_address(
    view: &FileView<'_>,
    limits: &Limits,
    sb: &Superblock,
    r: &ObjectRef,
) -> Result<u64> {
    let path = r.path.as_deref().ok_or_else(|| {
        Error::invalid(format!(
            "object reference to {:#x}, which no link leads to, cannot be written",
            r.address
        ))
    })?;
    Ok(
        Writer::<crate::io::sink::MemSink>::resolve(view, limits, sb, path)
            .map_err(|e| e.context(&format!("object reference to {path}")))?
            .0,
    )
}
