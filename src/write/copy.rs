//! Rewriting every object of one file into another through the [`Writer`]:
//! what `h5sparse copy` and `h5sparse repack` do.

use std::collections::HashMap;

use super::{Backing, DatasetOptions, Writer};
use crate::error::{Error, Result};
use crate::filters::{FILTER_DEFLATE, FILTER_FLETCHER32, FILTER_SHUFFLE};
use crate::format::Address;
use crate::read::{Attribute, Dataset, Dtype, File, Group, LayoutKind, LinkTarget, Node};

/// Storage choices for [`copy_file`].
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::write::{copy_file, CopyOptions, Writer};
///
/// let src = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
/// let mut dst = Writer::create_in(MemSink::default())?;
/// let opts = CopyOptions { compression: Some(6), shuffle: true, ..Default::default() };
/// copy_file(&src, &mut dst, &opts)?;
/// let f = dst.reader()?;
/// let y = f.dataset("/Y")?;                            // contiguous in the seed
/// assert_eq!(y.filters().iter().map(|f| f.id).collect::<Vec<_>>(), [2, 1]);
/// assert_eq!(y.read::<i64>()?, src.dataset("/Y")?.read::<i64>()?);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopyOptions {
    /// Deflate every non-scalar dataset at this level, chunking it if it
    /// was not (`None`: keep each dataset's own deflate setting).
    pub compression: Option<u32>,
    /// Shuffle every dataset compressed because of `compression`.
    pub shuffle: bool,
    /// Store every dataset contiguously unless it needs chunks (a maximum
    /// shape larger than its shape, or a filter we write): `repack`'s
    /// compaction.
    pub repack: bool,
}

/// Copies every group, dataset, committed datatype, attribute and link of
/// `src` into `dst`, which should be a new, empty file.
///
/// # What is kept
/// * Every group, dataset, committed datatype, attribute and link. Soft and
///   external links stay links (a group holding external links becomes a
///   link-message group, since symbol tables cannot store them). An object
///   reached by several hard links is written once and linked again
///   ([`Writer::hard_link`]), so shared objects stay shared and hard-link
///   cycles are copied as cycles.
/// * Element bytes exactly as stored (fixed-length strings keep every byte
///   and their padding, floats every bit); variable-length strings are
///   decoded and written to the new file's global heap.
/// * Dataset shape, maximum shape, fill value, and the filters this crate
///   writes (deflate with its level, shuffle, fletcher32), in the source's
///   order. Filters it does not write (lzf, ...) are dropped: those
///   datasets are stored without them.
///
/// # What changes on purpose
/// * The format: superblock v0, v1 object headers, symbol-table groups, v1
///   B-tree chunk indexes, whatever the source used.
/// * Compact datasets become contiguous.
/// * Datasets that used a committed datatype get their own copy of it.
/// * [`CopyOptions::compression`] chunks and deflates every non-scalar
///   dataset (shuffled when [`CopyOptions::shuffle`]), with the source's
///   chunk shape when it had one, else a guessed one.
/// * [`CopyOptions::repack`] (`h5sparse repack`): a chunked dataset stays
///   chunked, with its chunk shape and filters, only when it needs chunks:
///   its maximum shape differs from its shape (it can grow), or it has a
///   filter we write (compression, shuffle, fletcher32). Every other
///   dataset is written contiguous. Space the source lost to deleted
///   objects and superseded metadata is not carried over.
///
/// # What aborts
/// An object this crate cannot write aborts the copy with an error naming
/// it: attributes of a type it does not read (the time class, HDF5 1.12+
/// revised references), data behind filters it cannot decode (scaleoffset,
/// zstd, ...), attributes too large for a v1 object header message (64 KiB)
/// in the earliest format.
///
/// # Structured types and references
/// Compound, array, enum, opaque, bitfield and complex data are copied byte
/// for byte; variable-length strings and sequences are decoded and written
/// to the new file's global heap; time-class datasets are copied with their
/// datatype as stored. Object and region references are remapped: datasets
/// and attributes holding references are written after every other object,
/// each reference as the copy's address of the path it resolved to in the
/// source, so `f[ref].name` in h5py names the copied object. [`copy_file`] writes into a [`Writer`] the caller owns;
/// the CLI writes through a temporary file renamed into place only on
/// success, so a failed copy leaves no destination behind.
///
/// Each dataset is read whole into memory (bounded by the source file's
/// [`Limits`](crate::Limits)) before it is written.
///
/// ```
/// use h5sparse::write::{copy_file, CopyOptions, DatasetOptions, Writer};
/// use h5sparse::io::sink::MemSink;
///
/// let mut w = Writer::create_in(MemSink::default())?;
/// w.create_dataset("/x", &[3], &[1i32, 2, 3], &DatasetOptions::default())?;
/// let src = h5sparse::File::from_bytes(w.close()?.bytes)?;
///
/// let mut copy = Writer::create_in(MemSink::default())?;
/// copy_file(&src, &mut copy, &CopyOptions::default())?;
/// let dst = h5sparse::File::from_bytes(copy.close()?.bytes)?;
/// assert_eq!(dst.dataset("/x")?.read::<i32>()?, vec![1, 2, 3]);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn copy_file<B: Backing>(src: &File, dst: &mut Writer<B>, opts: &CopyOptions) -> Result<()> {
    copy_file_with_progress(src, dst, opts, &mut |_| {})
}

/// [`copy_file`], calling `progress(bytes)` after each dataset is written
/// with that dataset's payload size (elements × element size in the
/// source): the calls add up to [`payload_bytes`] of `src` when the copy
/// succeeds. What `h5sparse copy` draws its progress bar from.
///
/// ```
/// use h5sparse::io::sink::MemSink;
/// use h5sparse::write::{copy_file_with_progress, payload_bytes, CopyOptions, Writer};
///
/// let src = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
/// let mut dst = Writer::create_in(MemSink::default())?;
/// let mut done = 0;
/// copy_file_with_progress(&src, &mut dst, &CopyOptions::default(), &mut |n| done += n)?;
/// assert_eq!(done, payload_bytes(&src)?);
/// assert!(done > 0);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn copy_file_with_progress<B: Backing>(
    src: &File,
    dst: &mut Writer<B>,
    opts: &CopyOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let root = src.root()?;
    if has_external_links(&root)? {
        dst.use_link_root()?;
    }
    let mut copier = Copier::new(src, dst, opts, "/", "/", progress);
    copier.copied.insert(root.address(), "/".to_string());
    for a in root.attributes()? {
        copier.attribute("/", &a)?;
    }
    copier.group(&root, 0)?;
    copier.finish_deferred()
}

/// Copies the object at `src_path` of `src` (a group with everything under
/// it, a dataset, or a committed datatype, with their attributes) to the
/// new path `dst_path` of `dst`, whose parent must exist. What is kept and
/// what changes is as for [`copy_file`]; hard links inside the subtree stay
/// shared, soft links are copied as written.
///
/// ```
/// use h5sparse::write::{copy_object, CopyOptions, DatasetOptions, Writer};
/// use h5sparse::io::sink::MemSink;
///
/// let mut w = Writer::create_in(MemSink::default())?;
/// w.create_group("/uns")?;
/// w.create_dataset("/uns/x", &[3], &[1i32, 2, 3], &DatasetOptions::default())?;
/// w.set_attr_str("/uns", "encoding-type", "dict")?;
/// let src = h5sparse::File::from_bytes(w.close()?.bytes)?;
///
/// let mut dst = Writer::create_in(MemSink::default())?;
/// dst.create_group("/old")?;
/// copy_object(&src, "/uns", &mut dst, "/old/uns", &CopyOptions::default())?;
/// let f = dst.reader()?;
/// assert_eq!(f.dataset("/old/uns/x")?.read::<i32>()?, vec![1, 2, 3]);
/// assert!(f.group("/old/uns")?.attribute("encoding-type")?.is_some());
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn copy_object<B: Backing>(
    src: &File,
    src_path: &str,
    dst: &mut Writer<B>,
    dst_path: &str,
    opts: &CopyOptions,
) -> Result<()> {
    let node = src.get(src_path)?;
    let (src_root, addr) = match &node {
        Node::Group(g) => (g.path().to_string(), g.address()),
        Node::Dataset(d) => (d.path().to_string(), d.address()),
        Node::Datatype { path } => (path.clone(), datatype_address(src, path)?),
    };
    let dst_root = crate::read::join_path("/", dst_path.trim_start_matches('/'));
    let mut noop = |_: u64| {};
    let mut copier = Copier::new(src, dst, opts, &src_root, &dst_root, &mut noop);
    copier.copied.insert(addr, dst_root.clone());
    match node {
        Node::Group(g) => {
            if has_external_links(&g)? {
                copier.dst.create_link_group(&dst_root)?;
            } else {
                copier.dst.create_group(&dst_root)?;
            }
            for a in g.attributes()? {
                copier.attribute(&dst_root, &a)?;
            }
            copier.group(&g, 0)?;
        }
        Node::Dataset(d) => copier.dataset(&d, &src_root)?,
        Node::Datatype { .. } => copier.datatype(addr, &dst_root)?,
    }
    copier.finish_deferred()
}

/// `path`, inside the subtree at `from`, moved to the subtree at `to`.
fn rebase(path: &str, from: &str, to: &str) -> String {
    let rest = path
        .strip_prefix(from)
        .unwrap_or(path)
        .trim_start_matches('/');
    if rest.is_empty() {
        return to.to_string();
    }
    crate::read::join_path(to, rest)
}

/// The object header address of the committed datatype at `path`, from
/// its parent's link.
fn datatype_address(src: &File, path: &str) -> Result<Address> {
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    let parent = src.group(if parent.is_empty() { "/" } else { parent })?;
    match parent.links()?.into_iter().find(|l| l.name == name) {
        Some(crate::read::Link {
            target: LinkTarget::Hard(addr),
            ..
        }) => Ok(addr),
        _ => Err(Error::invalid(format!(
            "{path}: no hard link leads to this datatype"
        ))),
    }
}

/// Whether values of `dtype` hold references, which can only be written
/// once the objects they point to exist in the copy.
fn has_refs(dtype: &Dtype) -> bool {
    match dtype {
        Dtype::ObjectRef | Dtype::RegionRef => true,
        Dtype::Compound { fields, .. } => fields.iter().any(|f| has_refs(&f.dtype)),
        Dtype::Array { base, .. } | Dtype::VarSequence { base } => has_refs(base),
        _ => false,
    }
}

/// An attribute holding references, decoded, waiting for its targets.
struct DeferredAttribute {
    path: String,
    name: String,
    dtype: Dtype,
    shape: Option<Vec<u64>>,
    values: crate::read::Values,
}

fn has_external_links(g: &Group<'_>) -> Result<bool> {
    Ok(g.links()?
        .iter()
        .any(|l| matches!(l.target, LinkTarget::External { .. })))
}

/// One copy in progress.
struct Copier<'a, 'f, B: Backing> {
    src: &'f File,
    dst: &'a mut Writer<B>,
    opts: &'a CopyOptions,
    /// The subtree copied (`/` for a whole file) and where it goes.
    src_root: String,
    dst_root: String,
    /// Source object header address → the destination path it was first
    /// written at (later hard links to it become hard links to that path).
    copied: HashMap<Address, String>,
    /// Datasets holding references, written after every other object so
    /// that what they point to exists; hard links to them; attributes
    /// holding references. Datasets by source path.
    deferred_datasets: Vec<String>,
    deferred_links: Vec<(String, String)>,
    deferred_attributes: Vec<DeferredAttribute>,
    /// Told each dataset's payload bytes once it is written.
    progress: &'a mut dyn FnMut(u64),
}

impl<'a, 'f, B: Backing> Copier<'a, 'f, B> {
    fn new(
        src: &'f File,
        dst: &'a mut Writer<B>,
        opts: &'a CopyOptions,
        src_root: &str,
        dst_root: &str,
        progress: &'a mut dyn FnMut(u64),
    ) -> Self {
        Copier {
            src,
            dst,
            opts,
            src_root: src_root.to_string(),
            dst_root: dst_root.to_string(),
            copied: HashMap::new(),
            deferred_datasets: Vec::new(),
            deferred_links: Vec::new(),
            deferred_attributes: Vec::new(),
            progress,
        }
    }

    /// Where the source object at `src_path` (inside the copied subtree)
    /// goes in the destination.
    fn dst_path(&self, src_path: &str) -> String {
        rebase(src_path, &self.src_root, &self.dst_root)
    }

    /// Writes what waited for the objects references point to: datasets
    /// holding references (with their attributes), links to them, then
    /// attributes holding references. References are written as the copy's
    /// address of the path they resolved to in the source.
    fn finish_deferred(&mut self) -> Result<()> {
        for src_path in std::mem::take(&mut self.deferred_datasets) {
            let d = self.src.dataset(&src_path)?;
            let path = self.dst_path(&src_path);
            self.dataset_now(&d, &path)?;
        }
        for (path, existing) in std::mem::take(&mut self.deferred_links) {
            self.dst
                .hard_link(&path, &existing)
                .map_err(|e| e.context(&path))?;
        }
        for a in std::mem::take(&mut self.deferred_attributes) {
            let ctx = format!("{} attribute {:?}", a.path, a.name);
            self.dst
                .set_attr(&a.path, &a.name, &a.dtype, a.shape.as_deref(), &a.values)
                .map_err(|e| e.context(&ctx))?;
        }
        Ok(())
    }

    fn attribute(&mut self, path: &str, a: &Attribute<'_>) -> Result<()> {
        let ctx = format!("{path} attribute {:?}", a.name());
        if let Dtype::Unsupported { class, .. } = a.dtype() {
            return Err(Error::unsupported(format!(
                "{ctx}: copying datatype class {class}"
            )));
        }
        if has_refs(a.dtype()) {
            let values = a.values().map_err(|e| e.context(&ctx))?;
            self.deferred_attributes.push(DeferredAttribute {
                path: path.to_string(),
                name: a.name().to_string(),
                dtype: a.dtype().clone(),
                shape: a.shape().map(<[u64]>::to_vec),
                values,
            });
            return Ok(());
        }
        let result = if a.dtype().needs_file() {
            a.values().and_then(|values| {
                self.dst
                    .set_attr(path, a.name(), a.dtype(), a.shape(), &values)
            })
        } else {
            let count = match a.shape() {
                None => 0,
                Some(dims) => crate::read::hyperslab::element_count(dims, &ctx)?,
            };
            let need = count
                .checked_mul(a.dtype().size() as u64)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| Error::invalid(format!("{ctx}: size overflows")))?;
            let raw = a.raw_bytes().get(..need).ok_or_else(|| {
                Error::invalid(format!(
                    "{ctx}: {need} bytes of data expected, {} stored",
                    a.raw_bytes().len()
                ))
            })?;
            self.dst
                .set_attr_raw(path, a.name(), a.dtype(), a.shape(), raw)
        };
        result.map_err(|e| e.context(&ctx))
    }

    fn group(&mut self, g: &Group<'_>, depth: u32) -> Result<()> {
        self.src
            .limits()
            .check_depth("group nesting while copying", depth)?;
        for link in g.links()? {
            let src_path = crate::read::join_path(g.path(), &link.name);
            let path = self.dst_path(&src_path);
            match &link.target {
                LinkTarget::Soft(target) => self.dst.soft_link(&path, target)?,
                LinkTarget::External { file, path: target } => {
                    self.dst.external_link(&path, file, target)?
                }
                LinkTarget::Hard(addr) => {
                    if let Some(existing) = self.copied.get(addr) {
                        let src_existing = self.src_path_of(existing);
                        if self.deferred_datasets.contains(&src_existing) {
                            self.deferred_links.push((path, existing.clone()));
                            continue;
                        }
                        self.dst
                            .hard_link(&path, existing)
                            .map_err(|e| e.context(&path))?;
                        continue;
                    }
                    self.copied.insert(*addr, path.clone());
                    match g.follow(&link)? {
                        Node::Group(child) => {
                            if has_external_links(&child)? {
                                self.dst.create_link_group(&path)?;
                            } else {
                                self.dst.create_group(&path)?;
                            }
                            for a in child.attributes()? {
                                self.attribute(&path, &a)?;
                            }
                            self.group(&child, depth + 1)?;
                        }
                        Node::Dataset(d) => self.dataset(&d, &src_path)?,
                        Node::Datatype { .. } => self.datatype(*addr, &path)?,
                    }
                }
            }
        }
        Ok(())
    }

    fn datatype(&mut self, addr: Address, path: &str) -> Result<()> {
        let hdr = self.src.header(addr)?;
        let dt = self
            .src
            .datatype_of(&hdr)?
            .ok_or_else(|| Error::invalid(format!("{path}: a datatype without a datatype")))?;
        let dtype = File::dtype_from(&dt);
        if let Dtype::Unsupported { class, .. } = &dtype {
            return Err(Error::unsupported(format!(
                "{path}: copying committed datatype of class {class}"
            )));
        }
        self.dst
            .commit_datatype(path, &dtype)
            .map_err(|e| e.context(path))?;
        for a in self.src.read_attributes(addr)? {
            self.attribute(path, &a)?;
        }
        Ok(())
    }

    /// The source path of an object copied to `dst_path`.
    fn src_path_of(&self, dst_path: &str) -> String {
        rebase(dst_path, &self.dst_root, &self.src_root)
    }

    /// Copies the dataset at `src_path` (now, or after every other object
    /// when it holds references).
    fn dataset(&mut self, d: &Dataset<'_>, src_path: &str) -> Result<()> {
        if has_refs(d.dtype()) {
            self.deferred_datasets.push(src_path.to_string());
            return Ok(());
        }
        let path = self.dst_path(src_path);
        self.dataset_now(d, &path)
    }

    fn dataset_now(&mut self, d: &Dataset<'_>, path: &str) -> Result<()> {
        self.dataset_written(d, path)?;
        (self.progress)(dataset_payload(d));
        Ok(())
    }

    fn dataset_written(&mut self, d: &Dataset<'_>, path: &str) -> Result<()> {
        if let Dtype::Unsupported { class, .. } = d.dtype() {
            // Classes whose values this crate does not interpret (time)
            // are copied byte for byte with their datatype as stored.
            let hdr = self.src.header(d.address())?;
            let datatype = self.src.datatype_of(&hdr)?;
            let (Some(datatype), Some(shape), true) = (datatype, d.shape(), class == "time") else {
                return Err(Error::unsupported(format!(
                    "{path}: copying datatype class {class}"
                )));
            };
            let o = storage_for(d, shape, self.opts);
            let zeros = vec![0; shape.len()];
            let raw = d.read_raw(&zeros, shape).map_err(|e| e.context(path))?;
            self.dst
                .create_dataset_with_datatype(path, &datatype, shape, &raw, &o)
                .map_err(|e| e.context(path))?;
            for a in d.attributes()? {
                self.attribute(path, &a)?;
            }
            return Ok(());
        }
        match d.shape() {
            None => self
                .dst
                .create_dataset_null(path, d.dtype())
                .map_err(|e| e.context(path))?,
            Some(shape) => {
                let o = storage_for(d, shape, self.opts);
                if d.dtype().needs_file() {
                    let values = d.values().map_err(|e| e.context(path))?;
                    self.dst
                        .create_dataset_values(path, d.dtype(), shape, &values, &o)
                } else {
                    let zeros = vec![0; shape.len()];
                    let raw = d.read_raw(&zeros, shape).map_err(|e| e.context(path))?;
                    self.dst
                        .create_dataset_raw(path, d.dtype(), shape, &raw, &o)
                }
                .map_err(|e| e.context(path))?
            }
        }
        for a in d.attributes()? {
            self.attribute(path, &a)?;
        }
        Ok(())
    }
}

/// A dataset's payload: its elements times the element size (0 for a
/// null dataspace; saturating on sizes no file can hold).
fn dataset_payload(d: &Dataset<'_>) -> u64 {
    let elements = d
        .shape()
        .map_or(0, |s| s.iter().fold(1u64, |n, &x| n.saturating_mul(x)));
    elements.saturating_mul(d.dtype().size() as u64)
}

/// The payload bytes of every dataset in `src` reachable from the root
/// through hard links, each counted once (elements × element size): the
/// total [`copy_file_with_progress`] reports. Reads metadata only.
///
/// ```
/// let f = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
/// let y = f.dataset("/Y")?;
/// assert!(h5sparse::write::payload_bytes(&f)? >= y.len() * y.dtype().size() as u64);
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn payload_bytes(src: &File) -> Result<u64> {
    fn walk(
        src: &File,
        g: &Group<'_>,
        depth: u32,
        seen: &mut std::collections::HashSet<Address>,
        total: &mut u64,
    ) -> Result<()> {
        src.limits()
            .check_depth("group nesting while sizing a copy", depth)?;
        for link in g.links()? {
            let LinkTarget::Hard(addr) = link.target else {
                continue;
            };
            if !seen.insert(addr) {
                continue;
            }
            match g.follow(&link)? {
                Node::Group(child) => walk(src, &child, depth + 1, seen, total)?,
                Node::Dataset(d) => *total = total.saturating_add(dataset_payload(&d)),
                Node::Datatype { .. } => {}
            }
        }
        Ok(())
    }
    let root = src.root()?;
    let mut seen = std::collections::HashSet::from([root.address()]);
    let mut total = 0;
    walk(src, &root, 0, &mut seen, &mut total)?;
    Ok(total)
}

/// How the copy of `d` is stored (see the module docs).
fn storage_for(d: &Dataset<'_>, shape: &[u64], opts: &CopyOptions) -> DatasetOptions {
    let maxshape = d.maxshape().unwrap_or_default();
    let growable = maxshape.iter().zip(shape).any(|(m, s)| *m != Some(*s));
    let has = |id: u16| d.filters().iter().any(|f| f.id == id);
    let src_deflate = d
        .filters()
        .iter()
        .find(|f| f.id == FILTER_DEFLATE)
        .map(|f| f.cd_values.first().copied().unwrap_or(4).min(9));
    let writable_filters = src_deflate.is_some() || has(FILTER_SHUFFLE) || has(FILTER_FLETCHER32);
    let src_chunked = d.layout() == LayoutKind::Chunked;
    let keep_chunks = src_chunked && (!opts.repack || growable || writable_filters);
    let mut o = DatasetOptions::default();
    let fill = d.fill_bytes();
    if fill.iter().any(|&b| b != 0) {
        o.fill_value = Some(fill.to_vec());
    }
    if shape.is_empty() || !(keep_chunks || growable || opts.compression.is_some()) {
        return o;
    }
    o.chunks = if src_chunked {
        d.chunks().map(<[u64]>::to_vec)
    } else {
        None
    };
    o.maxshape = Some(maxshape);
    match opts.compression {
        Some(level) => {
            o.compression = Some(level);
            o.shuffle = opts.shuffle;
        }
        None => {
            o.compression = src_deflate;
            o.shuffle = has(FILTER_SHUFFLE);
        }
    }
    o.fletcher32 = has(FILTER_FLETCHER32);
    o
}
