//! Groups: members (symbol tables, link messages, dense links) and
//! attributes (compact and dense), shared with datasets.

use std::borrow::Cow;

use super::file::join_path;
use super::{Attribute, File, Group, Link, Node};
use crate::error::{Error, Result};
use crate::format::btree_v2::{AttrNameRecord, BTreeV2, LinkNameRecord};
use crate::format::fractal_heap::FractalHeap;
use crate::format::message::attribute::{AttributeMessage, CommittedResolver};
use crate::format::message::attribute_info::AttributeInfo;
use crate::format::message::dataspace::DataspaceKind;
use crate::format::message::link::LinkMessage;
use crate::format::message::link_info::LinkInfo;
use crate::format::message::symbol_table::SymbolTableMessage;
use crate::format::object_header::kind;
use crate::format::symbol_table;
use crate::format::{Address, FileView};

/// Absolute file address of `part`, a sub-slice of the file's bytes (for
/// error messages); 0 when it is not one (an owned heap object).
pub(crate) fn address_of(view: &FileView<'_>, part: &[u8]) -> u64 {
    let Some(bytes) = view.bytes() else {
        return 0;
    };
    let start = bytes.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    if p >= start && p <= start + bytes.len() {
        (p - start) as u64
    } else {
        0
    }
}

/// Every link of the group whose object header is at `addr`, unsorted.
pub(crate) fn links_at(
    view: &FileView<'_>,
    limits: &crate::limits::Limits,
    addr: Address,
) -> Result<Vec<Link>> {
    let sizes = view.sizes;
    let hdr = crate::format::object_header::ObjectHeader::parse(view, addr, limits)?;
    if let Some(m) = hdr.first(kind::SYMBOL_TABLE) {
        let st = SymbolTableMessage::parse(m.data, m.at, sizes)?;
        return symbol_table::read_group(view, st.btree, st.local_heap, limits);
    }
    let mut links = Vec::new();
    for m in hdr.all(kind::LINK) {
        links.push(link_from(LinkMessage::parse(m.data, m.at, sizes)?));
    }
    if let Some(m) = hdr.first(kind::LINK_INFO) {
        let info = LinkInfo::parse(m.data, m.at, sizes)?;
        if !info.fractal_heap.is_undefined() && !info.name_index.is_undefined() {
            let heap = FractalHeap::open(view, info.fractal_heap, limits)?;
            let tree = BTreeV2::open(view, info.name_index, limits)?;
            for rec in tree.records()? {
                let at = address_of(view, rec);
                let r = LinkNameRecord::parse(rec, at)?;
                let obj = heap.get(&r.heap_id)?;
                let at = address_of(view, &obj);
                links.push(link_from(LinkMessage::parse(&obj, at, sizes)?));
            }
        }
    }
    Ok(links)
}

impl File {
    /// Every link of the group whose object header is at `addr`, unsorted.
    pub(crate) fn read_links(&self, addr: Address) -> Result<Vec<Link>> {
        links_at(&self.view(), &self.limits, addr)
    }

    /// Every attribute of the object whose header is at `addr`, in name order.
    pub(crate) fn read_attributes(&self, addr: Address) -> Result<Vec<Attribute<'_>>> {
        let view = self.view();
        let sizes = view.sizes;
        let hdr = self.header(addr)?;
        let mut out = Vec::new();
        for m in hdr.all(kind::ATTRIBUTE) {
            let (data, at) = self.message_data(m)?;
            let msg = AttributeMessage::parse_with(
                data,
                at,
                sizes,
                &mut CommittedResolver {
                    view: &view,
                    limits: &self.limits,
                },
            )?;
            out.push(self.attribute_from(msg, None)?);
        }
        if let Some(m) = hdr.first(kind::ATTRIBUTE_INFO) {
            let info = AttributeInfo::parse(m.data, m.at, sizes)?;
            if !info.fractal_heap.is_undefined() && !info.name_index.is_undefined() {
                let heap = FractalHeap::open(&view, info.fractal_heap, &self.limits)?;
                let tree = BTreeV2::open(&view, info.name_index, &self.limits)?;
                for rec in tree.records()? {
                    let at = address_of(&view, rec);
                    let r = AttrNameRecord::parse(rec, at)?;
                    match heap.get(&r.heap_id)? {
                        Cow::Borrowed(obj) => {
                            let at = address_of(&view, obj);
                            let msg = AttributeMessage::parse_with(
                                obj,
                                at,
                                sizes,
                                &mut CommittedResolver {
                                    view: &view,
                                    limits: &self.limits,
                                },
                            )?;
                            out.push(self.attribute_from(msg, None)?);
                        }
                        Cow::Owned(obj) => {
                            let at = self.view().abs_u64(info.fractal_heap);
                            let msg = AttributeMessage::parse_with(
                                &obj,
                                at,
                                sizes,
                                &mut CommittedResolver {
                                    view: &view,
                                    limits: &self.limits,
                                },
                            )?;
                            let owned = msg.data.to_vec();
                            out.push(self.attribute_from(msg, Some(owned))?);
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(out)
    }

    fn attribute_from<'s>(
        &'s self,
        msg: AttributeMessage<'_>,
        owned: Option<Vec<u8>>,
    ) -> Result<Attribute<'s>> {
        let dtype = File::dtype_from(&msg.datatype);
        let shape = match msg.dataspace.kind {
            DataspaceKind::Null => None,
            DataspaceKind::Scalar => Some(Vec::new()),
            DataspaceKind::Simple => Some(msg.dataspace.dims.clone()),
        };
        let at = address_of(&self.view(), msg.data);
        let raw: Cow<'s, [u8]> = match owned {
            Some(v) => Cow::Owned(v),
            None => {
                // Re-borrow the data from the file itself so it lives as long
                // as `self` (the message borrowed it from the mapped bytes).
                let start = at as usize;
                let bytes = self.view().bytes().unwrap_or(&[]);
                match bytes.get(start..start + msg.data.len()) {
                    Some(s) if s.as_ptr() == msg.data.as_ptr() => Cow::Borrowed(s),
                    _ => Cow::Owned(msg.data.to_vec()),
                }
            }
        };
        Ok(Attribute {
            file: self,
            name: msg.name,
            dtype,
            shape,
            raw,
            at,
        })
    }
}

fn link_from(m: LinkMessage) -> Link {
    Link {
        name: m.name,
        target: m.target,
        creation_order: m.creation_order,
    }
}

impl<'f> Group<'f> {
    /// Absolute path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Address of the group's object header (identifies the object).
    pub fn address(&self) -> Address {
        self.address
    }

    /// Members in name order (byte-wise).
    ///
    /// ```no_run
    /// let file = h5sparse::File::open("data.h5")?;
    /// for link in file.root()?.links()? {
    ///     println!("{}", link.name);
    /// }
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn links(&self) -> Result<Vec<Link>> {
        let mut links = self.file.read_links(self.address)?;
        links.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(links)
    }

    /// Members in creation order when the group tracks it, else name order.
    pub fn links_in_creation_order(&self) -> Result<Vec<Link>> {
        let mut links = self.links()?;
        if links.iter().all(|l| l.creation_order.is_some()) {
            links.sort_by_key(|l| l.creation_order);
        }
        Ok(links)
    }

    /// The member `name` (or a relative path), following soft links and
    /// resolvable external links.
    pub fn get(&self, name: &str) -> Result<Node<'f>> {
        let mut hops = 0;
        self.file.resolve(self.clone(), name, &mut hops)
    }

    /// Follows one of this group's links (as returned by [`Group::links`]).
    pub fn follow(&self, link: &Link) -> Result<Node<'f>> {
        let mut hops = 0;
        self.file
            .follow(self, link, join_path(&self.path, &link.name), &mut hops)
    }

    /// All attributes, in name order.
    pub fn attributes(&self) -> Result<Vec<Attribute<'f>>> {
        self.file.read_attributes(self.address)
    }

    /// The attribute `name`, if present.
    pub fn attribute(&self, name: &str) -> Result<Option<Attribute<'f>>> {
        Ok(self.attributes()?.into_iter().find(|a| a.name == name))
    }
}

impl<'f> Attribute<'f> {
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Element type.
    pub fn dtype(&self) -> &super::Dtype {
        &self.dtype
    }

    /// Dimensions; `None` for a null dataspace, empty for a scalar.
    pub fn shape(&self) -> Option<&[u64]> {
        self.shape.as_deref()
    }

    /// The stored element bytes, undecoded (file byte order; global heap
    /// references for variable-length strings), for exact copies.
    pub(crate) fn raw_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// The values, decoded (empty for a null dataspace).
    ///
    /// ```no_run
    /// use h5sparse::Values;
    /// let file = h5sparse::File::open("seed.h5")?;
    /// let fmt = file.group("/X")?.attribute("h5sparse_format")?;
    /// if let Some(Values::Str(s)) = fmt.map(|a| a.values()).transpose()? {
    ///     assert_eq!(s[0], "csr");
    /// }
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn values(&self) -> Result<super::Values> {
        let count = match &self.shape {
            None => 0,
            Some(dims) => super::hyperslab::element_count(dims, "attribute shape")?,
        };
        let size = self.dtype.size() as u64;
        let need = count
            .checked_mul(size)
            .ok_or_else(|| Error::format(self.at, "attribute size overflows"))?;
        if need > self.raw.len() as u64 {
            return Err(Error::format(
                self.at,
                format!(
                    "attribute {:?}: expected {need} bytes of data, found {}",
                    self.name,
                    self.raw.len()
                ),
            ));
        }
        self.file
            .decode(&self.dtype, &self.raw[..need as usize], self.at)
            .map_err(|e| e.context(&format!("attribute {:?}", self.name)))
    }
}
