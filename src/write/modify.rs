//! Changing existing datasets in place: hyperslab and point writes,
//! appends and resizes, published copy-on-write.

use std::borrow::Cow;

use super::btree::ChunkEntry;
use super::btree_append::{RightmostPath, RootPlacement};
use super::chunks::{
    borrowed_chunk, chunks_covering, fill_with, kept, load_chunk, publish_chunks, store_chunks,
    stored_chunks,
};
use super::header;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::filters::FilterSpec;
use crate::format::chunk_index::ChunkIndexKind;
use crate::format::message::dataspace::Dataspace;
use crate::format::message::datatype::Datatype;
use crate::format::message::fill_value::FillValue;
use crate::format::message::filter_pipeline;
use crate::format::message::layout::Layout;
use crate::format::object_header::{kind, NewMessage, ObjectHeader, Slot};
use crate::format::{Address, FileView};
use crate::read::hyperslab::{copy_intersection, element_count, intersect, Block};

/// Everything the writer needs to know about an existing dataset.
pub(crate) struct Existing<'a> {
    pub space: Dataspace,
    pub space_slot: Slot,
    pub space_version: u8,
    pub layout: Layout<'a>,
    pub layout_slot: Slot,
    pub layout_version: u8,
    pub elem: usize,
    pub filters: Vec<FilterSpec>,
    pub fill: Vec<u8>,
}

impl<'a> Existing<'a> {
    pub(crate) fn read(view: &FileView<'a>, tx: &Tx<'_>, addr: Address) -> Result<Existing<'a>> {
        let header = ObjectHeader::parse(view, addr, &tx.limits)?;
        let one = |k: u16, what: &str| -> Result<(Slot, NewMessage<'a>)> {
            header::slots_of(view, &header, k)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "object at {:#x} has no {what} message: not a dataset",
                        addr.0
                    ))
                })
        };
        let (space_slot, space_msg) = one(kind::DATASPACE, "dataspace")?;
        let data_at = space_slot.header_at + header::message_header_len(&header);
        let space = Dataspace::parse(&space_msg.data, data_at, view.sizes)?;
        let space_version = space_msg.data.first().copied().unwrap_or(1);
        let (_, dt_msg) = one(kind::DATATYPE, "datatype")?;
        if dt_msg.flags & crate::format::object_header::MESSAGE_FLAG_SHARED != 0 {
            return Err(Error::unsupported(
                "writing to a dataset with a committed (shared) datatype",
            ));
        }
        let (dt, _) = Datatype::parse(&dt_msg.data, data_at, view.sizes)?;
        let elem = dt.size() as usize;
        let (layout_slot, layout_msg) = one(kind::LAYOUT, "layout")?;
        let layout_data: &'a [u8] = match layout_msg.data {
            Cow::Borrowed(b) => b,
            Cow::Owned(_) => {
                return Err(Error::invalid("layout message not borrowed from the file"))
            }
        };
        let layout_version = Layout::version_of(layout_data).unwrap_or(3);
        let layout = Layout::parse(
            layout_data,
            layout_slot.header_at + header::message_header_len(&header),
            view.sizes,
        )?;
        let filters = match header.first(kind::FILTER_PIPELINE) {
            Some(m) => filter_pipeline::parse(m.data, m.at)?,
            None => Vec::new(),
        };
        let fill = match header.first(kind::FILL_VALUE) {
            Some(m) => FillValue::parse(m.data, m.at)?.value,
            None => match header.first(kind::FILL_VALUE_OLD) {
                Some(m) => FillValue::parse_old(m.data, m.at)?.value,
                None => None,
            },
        };
        let fill = match fill {
            Some(v) if v.len() == elem => v,
            _ => vec![0; elem],
        };
        Ok(Existing {
            space,
            space_slot,
            space_version,
            layout,
            layout_slot,
            layout_version,
            elem,
            filters,
            fill,
        })
    }
}

/// Writes `src` (the bytes of selection `start`/`count`, stored byte order)
/// into the dataset at `addr`, growing its extent to `new_dims` when given
/// (append). Chunks are replaced copy-on-write and published with one write
/// of the B-tree root; the dataspace is updated last.
#[allow(clippy::too_many_arguments)]
pub(crate) fn write_selection<'d>(
    view: &FileView<'_>,
    tx: &mut Tx<'d>,
    addr: Address,
    start: &[u64],
    count: &[u64],
    src_cow: Cow<'d, [u8]>,
    new_dims: Option<Vec<u64>>,
    k: u16,
) -> Result<()> {
    // A borrowed source can back new chunks directly.
    let borrowed: Option<&'d [u8]> = match src_cow {
        Cow::Borrowed(b) => Some(b),
        Cow::Owned(_) => None,
    };
    let src: &[u8] = &src_cow;
    let ex = Existing::read(view, tx, addr)?;
    let rank = ex.space.dims.len();
    let dims = new_dims.clone().unwrap_or_else(|| ex.space.dims.clone());
    if start.len() != rank || count.len() != rank {
        return Err(Error::invalid(format!(
            "selection rank does not match dataset rank {rank}"
        )));
    }
    for d in 0..rank {
        if start[d].checked_add(count[d]).is_none_or(|e| e > dims[d]) {
            return Err(Error::invalid(format!(
                "selection {}+{} exceeds dimension {d} of size {}",
                start[d], count[d], dims[d]
            )));
        }
    }
    if let Some(nd) = &new_dims {
        let max = ex
            .space
            .max_dims
            .clone()
            .unwrap_or_else(|| ex.space.dims.clone());
        for d in 0..rank {
            if nd[d] > max[d] {
                return Err(Error::invalid(format!(
                    "cannot grow dimension {d} to {}: its maximum is {} (create the dataset with \
                     maxshape None for that dimension to make it growable)",
                    nd[d], max[d]
                )));
            }
        }
    }
    let n = element_count(count, "selection")?;
    if src.len() as u64 != n.saturating_mul(ex.elem as u64) {
        return Err(Error::invalid(format!(
            "expected {} bytes for the selection, got {}",
            n * ex.elem as u64,
            src.len()
        )));
    }
    if n == 0 && new_dims.is_none() {
        // Nothing to write: in particular, storage that was never allocated
        // stays unallocated.
        return Ok(());
    }
    let sel = Block {
        offset: start,
        dims: count,
    };
    let mut layout_msg: Option<NewMessage<'static>> = None;
    match &ex.layout {
        Layout::Chunked {
            chunk_dims, index, ..
        } => {
            let touched = chunks_covering(start, count, chunk_dims);
            // An append (any write within the right-most leaf of a v1
            // B-tree) reads and rewrites the right-most path only.
            let path = match index {
                ChunkIndexKind::BtreeV1 { address } if !address.is_undefined() => {
                    let p = RightmostPath::read(view, *address, rank, &tx.limits)?;
                    touched.iter().all(|o| p.covers(o)).then_some(p)
                }
                _ => None,
            };
            let records = match &path {
                Some(p) => p.last_leaf().map(ChunkEntry::into_record).collect(),
                None => stored_chunks(view, tx, &ex)?,
            };
            let chunk_bytes = element_count(chunk_dims, "chunk shape")?
                .checked_mul(ex.elem as u64)
                .ok_or_else(|| Error::invalid("chunk size overflows"))?
                as usize;
            let mut keep = Vec::new();
            let mut bufs = Vec::new();
            for r in records {
                let block = Block {
                    offset: &r.offset,
                    dims: chunk_dims,
                };
                if intersect(block, sel).is_some() {
                    // Rewritten below from its current contents.
                    let mut buf = load_chunk(view, tx, &ex, &r, chunk_bytes)?;
                    copy_intersection(src, sel, &mut buf, block, ex.elem);
                    bufs.push((r.offset.clone(), Cow::Owned(buf)));
                } else if path.is_none() {
                    keep.push(kept(view, r)?);
                }
            }
            for off in touched {
                if bufs.iter().any(|(o, _)| *o == off) {
                    continue;
                }
                // Unfiltered new chunks that are whole rows of a borrowed
                // source (e.g. an append) are staged without a copy.
                if let (Some(whole), true) = (borrowed, ex.filters.is_empty()) {
                    let at = Block {
                        offset: &off,
                        dims: chunk_dims,
                    };
                    if let Some(run) = borrowed_chunk(whole, at, sel, &dims, ex.elem) {
                        bufs.push((off, Cow::Borrowed(run)));
                        continue;
                    }
                }
                let mut buf = vec![0u8; chunk_bytes];
                fill_with(&mut buf, &ex.fill);
                copy_intersection(
                    src,
                    sel,
                    &mut buf,
                    Block {
                        offset: &off,
                        dims: chunk_dims,
                    },
                    ex.elem,
                );
                bufs.push((off, Cow::Owned(buf)));
            }
            store_chunks(tx, bufs, &ex.filters, ex.elem, &mut keep, borrowed)?;
            layout_msg = match &path {
                // Nothing written (an append of no rows): the tree stays.
                Some(_) if keep.is_empty() => None,
                Some(p) if tx.shadow => {
                    // Inside a transaction the root is shared with the
                    // published file: the path is copied whole, root
                    // included, and the copied header's layout names it.
                    // The kept left neighbours are shared too: their
                    // right-sibling links are fixed once the transaction is
                    // published (libhdf5 follows them when it removes
                    // emptied nodes; readers descend from the root).
                    let tree = p.apply(tx, &keep, ex.elem as u32, k, RootPlacement::Fresh)?;
                    for (at, bytes) in tree.sibling_fixes {
                        let abs = tx.base.saturating_add(at.0);
                        tx.after_commit.push((abs, bytes));
                    }
                    let Layout::Chunked {
                        chunk_dims, flags, ..
                    } = &ex.layout
                    else {
                        return Err(Error::invalid("not a chunked dataset"));
                    };
                    let layout = Layout::Chunked {
                        chunk_dims: chunk_dims.clone(),
                        element_size: ex.elem as u32,
                        index: ChunkIndexKind::BtreeV1 { address: tree.root },
                        flags: *flags,
                    };
                    Some(NewMessage {
                        kind: kind::LAYOUT,
                        flags: 0,
                        data: Cow::Owned(layout.encode(ex.layout_version.max(3), tx.sizes)?),
                    })
                }
                Some(p) => {
                    p.apply(tx, &keep, ex.elem as u32, k, RootPlacement::InPlace)?;
                    None
                }
                None => publish_chunks(tx, &ex, keep, k)?,
            };
        }
        Layout::Contiguous { address, .. } => {
            if new_dims.is_some() {
                return Err(Error::invalid(
                    "a contiguous dataset cannot grow (as in libhdf5); create it with maxshape to make it chunked",
                ));
            }
            let total = element_count(&dims, "dataset shape")?;
            let zeros = vec![0u64; rank];
            let whole = Block {
                offset: &zeros,
                dims: &dims,
            };
            if address.is_undefined() {
                // Never written: allocate it whole, then point the layout at it.
                let mut buf = vec![0u8; (total as usize) * ex.elem];
                fill_with(&mut buf, &ex.fill);
                copy_intersection(src, sel, &mut buf, whole, ex.elem);
                let size = buf.len() as u64;
                let new_addr = tx.put(buf)?;
                let layout = Layout::Contiguous {
                    address: new_addr,
                    size,
                };
                layout_msg = Some(NewMessage {
                    kind: kind::LAYOUT,
                    flags: 0,
                    data: Cow::Owned(layout.encode(3, tx.sizes)?),
                });
            } else if tx.shadow {
                // Inside a transaction the data is shared with the published
                // file: the changed copy goes to fresh space.
                let size = total * ex.elem as u64;
                let layout = relocated_contiguous(view, tx, &ex, *address, size, |buf| {
                    copy_intersection(src, sel, buf, whole, ex.elem)
                })?;
                layout_msg = Some(layout);
            } else {
                // In place, one write per contiguous run of the selection.
                for (offset, bytes) in runs(src, sel, whole, ex.elem) {
                    tx.publish(Address(address.0 + offset), bytes);
                }
            }
        }
        Layout::Compact { data } => {
            let mut buf = data.to_vec();
            let zeros = vec![0u64; rank];
            copy_intersection(
                src,
                sel,
                &mut buf,
                Block {
                    offset: &zeros,
                    dims: &dims,
                },
                ex.elem,
            );
            let layout = Layout::Compact { data: &buf };
            layout_msg = Some(NewMessage {
                kind: kind::LAYOUT,
                flags: 0,
                data: Cow::Owned(layout.encode(ex.layout_version.max(3), tx.sizes)?),
            });
        }
        Layout::Virtual => return Err(Error::unsupported("writing virtual datasets")),
    }
    // The layout first (it publishes the new chunks), the extent second: a
    // crash between them leaves the old extent over the new index, which
    // shows the old content.
    let mut edits = Vec::new();
    if let Some(msg) = layout_msg {
        edits.push(header::Edit::Replace(ex.layout_slot, msg));
    }
    if let Some(nd) = new_dims {
        let space = Dataspace {
            kind: ex.space.kind,
            dims: nd,
            max_dims: ex.space.max_dims.clone(),
        };
        let msg = NewMessage {
            kind: kind::DATASPACE,
            flags: 0,
            data: Cow::Owned(space.encode(ex.space_version)?),
        };
        edits.push(header::Edit::Replace(ex.space_slot, msg));
    }
    if !edits.is_empty() {
        header::edit(view, tx, addr, edits)?;
    }
    Ok(())
}

/// A copy of contiguous storage (`size` bytes at `address`) changed by
/// `patch`, written to fresh space; returns the layout message naming it.
fn relocated_contiguous(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    ex: &Existing<'_>,
    address: Address,
    size: u64,
    patch: impl FnOnce(&mut [u8]),
) -> Result<NewMessage<'static>> {
    let old = view.slice(address, size, "contiguous data")?;
    let mut buf = crate::buf::try_with_capacity(old.len(), "contiguous data copy")?;
    buf.extend_from_slice(old);
    patch(&mut buf);
    let new_addr = tx.put(buf)?;
    let layout = Layout::Contiguous {
        address: new_addr,
        size,
    };
    Ok(NewMessage {
        kind: kind::LAYOUT,
        flags: 0,
        data: Cow::Owned(layout.encode(ex.layout_version.max(3), tx.sizes)?),
    })
}

/// [`relocated_contiguous`], published in the header at `oh`.
fn relocate_contiguous(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    ex: &Existing<'_>,
    address: Address,
    size: u64,
    patch: impl FnOnce(&mut [u8]),
) -> Result<()> {
    let msg = relocated_contiguous(view, tx, ex, address, size, patch)?;
    header::edit(
        view,
        tx,
        oh,
        vec![header::Edit::Replace(ex.layout_slot, msg)],
    )
}

/// Byte runs (offset in the dataset's storage, bytes) of selection `sel`
/// within `whole`, coalescing along the last dimension.
fn runs(src: &[u8], sel: Block<'_>, whole: Block<'_>, elem: usize) -> Vec<(u64, Vec<u8>)> {
    let rank = whole.dims.len();
    if rank == 0 {
        return vec![(0, src.to_vec())];
    }
    let row = sel.dims[rank - 1] as usize * elem;
    if row == 0 {
        return Vec::new();
    }
    let mut strides = vec![1u64; rank];
    for i in (0..rank - 1).rev() {
        strides[i] = strides[i + 1] * whole.dims[i + 1];
    }
    let mut out: Vec<(u64, Vec<u8>)> = Vec::new();
    for (i, chunk) in src.chunks(row).enumerate() {
        // Coordinates of this row's first element.
        let mut rem = i as u64;
        let mut off = 0u64;
        for d in (0..rank - 1).rev() {
            let c = rem % sel.dims[d];
            rem /= sel.dims[d];
            off += (sel.offset[d] + c) * strides[d];
        }
        off += sel.offset[rank - 1];
        let byte_off = off * elem as u64;
        match out.last_mut() {
            Some((o, b)) if *o + b.len() as u64 == byte_off => b.extend_from_slice(chunk),
            _ => out.push((byte_off, chunk.to_vec())),
        }
    }
    out
}

/// Changes the extent of a chunked dataset. Elements that a grow exposes
/// inside chunks already stored are reset to the fill value (copy-on-write),
/// so they read as fill, not as whatever an earlier shrink left there.
pub(crate) fn resize(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    addr: Address,
    new_dims: &[u64],
    k: u16,
) -> Result<()> {
    let ex = Existing::read(view, tx, addr)?;
    let rank = ex.space.dims.len();
    if new_dims.len() != rank {
        return Err(Error::invalid(format!(
            "new shape has rank {}, the dataset {rank}",
            new_dims.len()
        )));
    }
    let Layout::Chunked { chunk_dims, .. } = &ex.layout else {
        return Err(Error::invalid(
            "only chunked datasets can change shape (as in libhdf5); create it with maxshape",
        ));
    };
    let max = ex
        .space
        .max_dims
        .clone()
        .unwrap_or_else(|| ex.space.dims.clone());
    for d in 0..rank {
        if new_dims[d] > max[d] {
            return Err(Error::invalid(format!(
                "cannot resize dimension {d} to {}: its maximum is {}",
                new_dims[d], max[d]
            )));
        }
    }
    let old = &ex.space.dims;
    let grows = (0..rank).any(|d| new_dims[d] > old[d]);
    let mut edits = Vec::new();
    if grows {
        let chunk_bytes = element_count(chunk_dims, "chunk shape")? as usize * ex.elem;
        let mut entries = Vec::new();
        let mut scrubbed = Vec::new();
        for r in stored_chunks(view, tx, &ex)? {
            let straddles = (0..rank)
                .any(|d| r.offset[d] < new_dims[d] && r.offset[d] + chunk_dims[d] > old[d]);
            let inside_old = (0..rank).all(|d| r.offset[d] < old[d]);
            if straddles && inside_old {
                let mut buf = load_chunk(view, tx, &ex, &r, chunk_bytes)?;
                let mut idx = vec![0u64; rank];
                for e in buf.chunks_exact_mut(ex.elem) {
                    if (0..rank).any(|d| r.offset[d] + idx[d] >= old[d]) {
                        e.copy_from_slice(&ex.fill);
                    }
                    for d in (0..rank).rev() {
                        idx[d] += 1;
                        if idx[d] < chunk_dims[d] {
                            break;
                        }
                        idx[d] = 0;
                    }
                }
                scrubbed.push((r.offset.clone(), Cow::Owned(buf)));
            } else {
                entries.push(kept(view, r)?);
            }
        }
        if !scrubbed.is_empty() {
            store_chunks(tx, scrubbed, &ex.filters, ex.elem, &mut entries, None)?;
            if let Some(msg) = publish_chunks(tx, &ex, entries, k)? {
                edits.push(header::Edit::Replace(ex.layout_slot, msg));
            }
        }
    }
    let space = Dataspace {
        kind: ex.space.kind,
        dims: new_dims.to_vec(),
        max_dims: ex.space.max_dims.clone(),
    };
    let msg = NewMessage {
        kind: kind::DATASPACE,
        flags: 0,
        data: Cow::Owned(space.encode(ex.space_version)?),
    };
    edits.push(header::Edit::Replace(ex.space_slot, msg));
    header::edit(view, tx, addr, edits)
}

/// Writes elements at many positions of a 1-D dataset in one operation:
/// `points` are (element index, stored-order element bytes). Touched chunks
/// are rewritten copy-on-write and published with one B-tree root write;
/// contiguous storage is patched in place, one write per run of adjacent
/// points.
pub(crate) fn write_points(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    addr: Address,
    points: &[(u64, &[u8])],
    k: u16,
) -> Result<()> {
    let ex = Existing::read(view, tx, addr)?;
    if ex.space.dims.len() != 1 {
        return Err(Error::invalid("write_points needs a 1-D dataset"));
    }
    let len = ex.space.dims[0];
    for (i, b) in points {
        if *i >= len || b.len() != ex.elem {
            return Err(Error::invalid(format!(
                "point {i} is out of bounds for length {len} or has the wrong size"
            )));
        }
    }
    match &ex.layout {
        Layout::Contiguous { address, size } if !address.is_undefined() && tx.shadow => {
            relocate_contiguous(view, tx, addr, &ex, *address, *size, |buf| {
                for (i, b) in points {
                    let at = *i as usize * ex.elem;
                    buf[at..at + ex.elem].copy_from_slice(b);
                }
            })
        }
        Layout::Contiguous { address, .. } if !address.is_undefined() => {
            let mut sorted: Vec<&(u64, &[u8])> = points.iter().collect();
            sorted.sort_by_key(|p| p.0);
            let mut run: Option<(u64, Vec<u8>)> = None;
            for (i, b) in sorted {
                match &mut run {
                    Some((s, bytes)) if *s + (bytes.len() / ex.elem) as u64 == *i => {
                        bytes.extend_from_slice(b)
                    }
                    Some((s, bytes)) if *s + (bytes.len() / ex.elem) as u64 > *i => {
                        // A repeated point: the later one wins.
                        let at = (*i - *s) as usize * ex.elem;
                        bytes[at..at + ex.elem].copy_from_slice(b);
                    }
                    _ => {
                        if let Some((s, bytes)) = run.take() {
                            tx.publish(Address(address.0 + s * ex.elem as u64), bytes);
                        }
                        run = Some((*i, b.to_vec()));
                    }
                }
            }
            if let Some((s, bytes)) = run {
                tx.publish(Address(address.0 + s * ex.elem as u64), bytes);
            }
            Ok(())
        }
        Layout::Chunked { chunk_dims, .. } => {
            let chunk = chunk_dims[0];
            let chunk_bytes = chunk as usize * ex.elem;
            let records = stored_chunks(view, tx, &ex)?;
            let mut touched: std::collections::BTreeMap<u64, Vec<(u64, &[u8])>> =
                Default::default();
            for &(i, b) in points {
                touched.entry(i / chunk * chunk).or_default().push((i, b));
            }
            let mut bufs = Vec::new();
            let mut keep = Vec::new();
            for r in records {
                match touched.remove(&r.offset[0]) {
                    Some(pts) => {
                        let mut buf = load_chunk(view, tx, &ex, &r, chunk_bytes)?;
                        for (i, b) in pts {
                            let at = (i - r.offset[0]) as usize * ex.elem;
                            buf[at..at + ex.elem].copy_from_slice(b);
                        }
                        bufs.push((r.offset.clone(), Cow::Owned(buf)));
                    }
                    None => keep.push(kept(view, r)?),
                }
            }
            for (first, pts) in touched {
                let mut buf = vec![0u8; chunk_bytes];
                fill_with(&mut buf, &ex.fill);
                for (i, b) in pts {
                    let at = (i - first) as usize * ex.elem;
                    buf[at..at + ex.elem].copy_from_slice(b);
                }
                bufs.push((vec![first], Cow::Owned(buf)));
            }
            store_chunks(tx, bufs, &ex.filters, ex.elem, &mut keep, None)?;
            if let Some(msg) = publish_chunks(tx, &ex, keep, k)? {
                header::edit(
                    view,
                    tx,
                    addr,
                    vec![header::Edit::Replace(ex.layout_slot, msg)],
                )?;
            }
            Ok(())
        }
        _ => Err(Error::unsupported(
            "writing points into this dataset's layout (only contiguous and chunked)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_coalesce_whole_rows() {
        let src: Vec<u8> = (0..8).collect();
        let r = runs(
            &src,
            Block {
                offset: &[1, 0],
                dims: &[2, 4],
            },
            Block {
                offset: &[0, 0],
                dims: &[4, 4],
            },
            1,
        );
        assert_eq!(r, vec![(4, src.clone())]);
        let r = runs(
            &src[..4],
            Block {
                offset: &[0, 1],
                dims: &[2, 2],
            },
            Block {
                offset: &[0, 0],
                dims: &[4, 4],
            },
            1,
        );
        assert_eq!(r, vec![(1, vec![0, 1]), (5, vec![2, 3])]);
    }
}
