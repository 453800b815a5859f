//! Groups and links: creating groups, linking, unlinking and replacing
//! members.

use super::{group, Backing, Writer};
use crate::error::{Error, Result};
use crate::format::Address;

impl<B: Backing> Writer<B> {
    /// Creates an empty group at `path` (the parent must exist): a
    /// symbol-table group in earliest-format files, a link-message group in
    /// latest-format ones.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_group("/obsm")?;
    /// w.create_group("/obsm/pca")?;
    /// assert!(w.create_group("/varm/pca").is_err());       // no parent /varm
    /// assert_eq!(w.reader()?.group("/obsm")?.links()?[0].name, "pca");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_group(&mut self, path: &str) -> Result<()> {
        self.create_linked(path, |_, tx, sb| {
            if tx.latest {
                return Ok((group::create_link_group(tx)?, None));
            }
            let (oh, btree, heap) = group::create_stab_group(tx, Self::group_k(sb))?;
            Ok((oh, Some((btree, heap))))
        })
    }
    /// Creates an empty group at `path` that keeps its members as link
    /// messages (compact link storage) instead of a symbol table. External
    /// links can only live in such groups.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_link_group("/g")?;
    /// w.external_link("/g/raw", "raw.h5", "/X")?;          // refused in a symbol-table group
    /// assert_eq!(w.reader()?.group("/g")?.links()?[0].name, "raw");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn create_link_group(&mut self, path: &str) -> Result<()> {
        self.create_linked(path, |_, tx, _| Ok((group::create_link_group(tx)?, None)))
    }
    /// Turns the (still empty) root group into a link-message group, so it
    /// can hold external links ([`Writer::create_link_group`] for the
    /// root). The superblock stays version 0; its root entry then caches
    /// nothing, which libhdf5 reads as it does for any group.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.use_link_root()?;
    /// w.external_link("/raw", "raw.h5", "/X")?;
    /// let f = w.reader()?;
    /// assert_eq!((f.superblock_version(), f.root()?.links()?[0].name.as_str()), (0, "raw"));
    /// w.create_group("/g")?;
    /// assert!(w.use_link_root().is_err());                 // only while the root is empty
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn use_link_root(&mut self) -> Result<()> {
        if self.in_transaction() {
            return Err(Error::invalid(
                "the root group cannot change its storage inside a transaction",
            ));
        }
        let root = self.run(|view, tx, sb| {
            if !group::member_names(view, tx, sb.root_object_header)?.is_empty() {
                return Err(Error::invalid(
                    "the root group can change its storage only while it is empty",
                ));
            }
            group::create_link_group(tx)
        })?;
        self.sb.root_object_header = root;
        self.sb.root_symbol_table = None;
        let bytes = self.sb.encode()?;
        self.sink.write_at(self.sb.superblock_address, &bytes)?;
        Ok(())
    }
    /// Removes the link `path` (the object's space is not reclaimed).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_group("/tmp")?;
    /// w.unlink("/tmp")?;                                   // h5py's del f['tmp']
    /// assert!(w.reader()?.root()?.links()?.is_empty());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn unlink(&mut self, path: &str) -> Result<()> {
        self.run_in_parent(path, |view, tx, sb, parent, name| {
            group::remove(view, tx, parent, name, Self::group_k(sb))
        })
    }
    /// Creates a soft link at `path` pointing to `target`.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    /// use h5sparse::LinkTarget;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/counts", &[2], &[3i64, 4], &DatasetOptions::default())?;
    /// w.soft_link("/latest", "/counts")?;
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/latest")?.read::<i64>()?, vec![3, 4]);   // followed on read
    /// let link = f.root()?.links()?.into_iter().find(|l| l.name == "latest").unwrap();
    /// assert_eq!(link.target, LinkTarget::Soft("/counts".into()));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn soft_link(&mut self, path: &str, target: &str) -> Result<()> {
        self.run_in_parent(path, |view, tx, sb, parent, name| {
            group::insert(
                view,
                tx,
                parent,
                name,
                group::NewLink::Soft(target.to_string()),
                Self::group_k(sb),
            )
        })
    }
    /// Creates a second hard link at `path` to the object `existing` links
    /// to (as `h5py`'s `f[path] = f[existing]`), for symbol-table and
    /// link-message groups alike.
    ///
    /// The target's v1 object header reference count is raised first (one
    /// per hard link, as libhdf5 keeps it), then the link is published, so a
    /// crash in between leaves a count one too high, which only keeps
    /// libhdf5 from freeing the object. Objects with v2 headers (which keep
    /// the count in a reference count message) are refused.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/a", &[1], &[7u8], &DatasetOptions::default())?;
    /// w.hard_link("/b", "/a")?;
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/b")?.address(), f.dataset("/a")?.address());   // one object
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn hard_link(&mut self, path: &str, existing: &str) -> Result<()> {
        let limits = self.limits.clone();
        // The target's header counts its links: it changes too.
        self.make_private(existing)?;
        self.make_parent_private(path)?;
        self.run(|view, tx, sb| {
            let target = Self::resolve(view, &limits, sb, existing)?;
            let hdr = crate::format::object_header::ObjectHeader::parse(view, target, &tx.limits)?;
            let Some(count) = hdr.reference_count else {
                return Err(Error::unsupported(format!(
                    "a second hard link to {existing}, whose object header is version 2"
                )));
            };
            let count = count
                .checked_add(1)
                .ok_or_else(|| Error::invalid(format!("{existing} has 2^32 hard links")))?;
            let field = target
                .0
                .checked_add(crate::format::object_header::V1_REFERENCE_COUNT_OFFSET as u64)
                .ok_or_else(|| Error::invalid("object header address overflows"))?;
            tx.publish(Address(field), count.to_le_bytes().to_vec());
            let (parent, name) = Self::parent_of(view, &limits, sb, path)?;
            group::insert(
                view,
                tx,
                parent,
                name,
                group::NewLink::Hard {
                    header: target,
                    stab: None,
                },
                Self::group_k(sb),
            )
        })
    }
    /// Creates an external link at `path` to `target` inside `file`. The
    /// parent must be a link-message group ([`Writer::create_link_group`]).
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::Writer;
    /// use h5sparse::LinkTarget;
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_link_group("/g")?;
    /// w.external_link("/g/raw", "raw.h5", "/X")?;
    /// let links = w.reader()?.group("/g")?.links()?;
    /// assert_eq!(links[0].target, LinkTarget::External { file: "raw.h5".into(), path: "/X".into() });
    /// w.create_group("/stab")?;                            // a symbol-table group
    /// assert!(w.external_link("/stab/raw", "raw.h5", "/X").is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn external_link(&mut self, path: &str, file: &str, target: &str) -> Result<()> {
        self.run_in_parent(path, |view, tx, sb, parent, name| {
            let link = group::NewLink::External {
                file: file.to_string(),
                path: target.to_string(),
            };
            group::insert(view, tx, parent, name, link, Self::group_k(sb))
        })
    }
    /// Points the member at `path` to the object at `replacement` (a member
    /// of the same group) and removes `replacement`, atomically for
    /// symbol-table groups.
    ///
    /// ```
    /// use h5sparse::io::sink::MemSink;
    /// use h5sparse::write::{DatasetOptions, Writer};
    ///
    /// let mut w = Writer::create_in(MemSink::default())?;
    /// w.create_dataset("/x", &[2], &[1i32, 2], &DatasetOptions::default())?;
    /// w.create_dataset("/x.new", &[3], &[7i32, 8, 9], &DatasetOptions::default())?;
    /// w.replace_member("/x", "/x.new")?;                   // one publishing write
    /// let f = w.reader()?;
    /// assert_eq!(f.dataset("/x")?.read::<i32>()?, vec![7, 8, 9]);
    /// assert_eq!(f.root()?.links()?.len(), 1);             // /x.new is gone
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn replace_member(&mut self, path: &str, replacement: &str) -> Result<()> {
        let limits = self.limits.clone();
        self.run_in_parent(path, |view, tx, sb, parent, name| {
            let (parent2, rep) = Self::parent_of(view, &limits, sb, replacement)?;
            if parent != parent2 {
                return Err(Error::invalid(format!(
                    "{replacement} is not in the same group as {path}"
                )));
            }
            group::replace_member(view, tx, parent, name, rep, Self::group_k(sb))
        })
    }
}
