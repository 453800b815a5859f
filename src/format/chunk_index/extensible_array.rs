//! Extensible array index (layout message v4+, index type 4): used for
//! datasets with exactly one unlimited dimension.
//!
//! ## Which entry is which chunk
//!
//! libhdf5 (`H5D__earray_idx_get_addr`, `H5VM_swizzle_coords`,
//! `H5VM_chunk_index`) moves the unlimited dimension to the front
//! ("swizzles" it to the slowest-varying position) and numbers the chunks
//! row-major over the grid of the other dimensions' **maximum** sizes. So
//! entry `i` is the chunk with unlimited-dimension chunk coordinate
//! `i / S` and the other coordinates `unravel(i % S)`, where `S` is the
//! number of chunks in one "slab" of the other dimensions. With the
//! unlimited dimension first this is plain row-major order.
//!
//! ## Structure (spec III.I)
//!
//! Entries `0 .. Index Block Elements` sit in the index block. The rest are
//! split into super blocks `u = 0, 1, ...`, each holding `2^(u/2)` data
//! blocks of `2^((u+1)/2) * Data Block Min Elements` entries
//! (`H5EA__hdr_init`). The data-block addresses of the first
//! `2 * log2(Super Block Min Pointers)` super blocks are stored directly in
//! the index block (`2 * (Super Block Min Pointers - 1)` of them); the
//! later super blocks are separate `EASB` structures listing their data
//! blocks. A data block with more than `2^Page Bits` entries is paged: its
//! entries live in pages of `2^Page Bits` entries after the block, and its
//! super block holds a bitmap of which pages were ever written.
//!
//! ```text
//! Extensible Array Header (III.I.1, "EAHD"):
//!   Signature (4) | Version 0 (1) | Client ID (1) | Element Size (1)
//!   Max Nelmts Bits (1) | Index Block Elements (1)
//!   Data Block Min Elements (1) | Super Block Min Data Pointers (1)
//!   Max Data Block Page Nelmts Bits (1)
//!   Number of Super Blocks Created (L) | Size of Super Blocks Created (L)
//!   Number of Data Blocks Created (L)  | Size of Data Blocks Created (L)
//!   Maximum Index Set (L)              | Number of Elements Realized (L)
//!   Index Block Address (O) | Checksum (4)
//!
//! Extensible Array Index Block (III.I.2, "EAIB"):
//!   Signature (4) | Version 0 (1) | Client ID (1) | Header Address (O)
//!   Elements (Index Block Elements * Element Size)
//!   Data Block Addresses (2 * (Super Block Min Data Pointers - 1) * O)
//!   Super Block Addresses ((number of super blocks - the above) * O)
//!   Checksum (4)
//!
//! Extensible Array Super Block (III.I.3, "EASB"):
//!   Signature (4) | Version 0 (1) | Client ID (1) | Header Address (O)
//!   Block Offset (ceil(Max Nelmts Bits / 8))
//!   Page Bitmap (data blocks * ceil(pages per data block / 8)), paged only
//!   Data Block Addresses (data blocks * O) | Checksum (4)
//!
//! Extensible Array Data Block (III.I.4, "EADB"):
//!   Signature (4) | Version 0 (1) | Client ID (1) | Header Address (O)
//!   Block Offset (ceil(Max Nelmts Bits / 8))
//!   Elements (entries * Element Size), not paged only | Checksum (4)
//!
//! Data Block Page (paged only; page p at data block address + the block's
//! size above + p * (2^Page Bits * Element Size + 4)):
//!   Elements (2^Page Bits * Element Size) | Checksum (4)
//! ```
//!
//! "Maximum Index Set" is one more than the highest entry ever set; entries
//! at or past it read as undefined (`H5EA_iterate` stops there). Entries
//! are as in the fixed array: an address, or for client ID 1 (filtered)
//! address, chunk size and filter mask.

use super::fixed_array::entry_layout;
use super::{
    bit_is_set, check_geometry, chunk_bytes, chunk_counts, product, read_entry, to_elements,
    ChunkGeometry, ChunkRecord, RecordSink,
};
use crate::error::{Error, Result};
use crate::format::{verify_checksum, Address, Cursor, FileView};
use crate::limits::Limits;

/// Parsed extensible array header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensibleArrayHeader {
    /// 0: unfiltered chunks, 1: filtered chunks.
    pub client_id: u8,
    /// Bytes per entry.
    pub element_size: u8,
    /// log2 of the largest number of entries.
    pub max_nelmts_bits: u8,
    /// Entries stored in the index block.
    pub index_block_elements: u8,
    /// Entries in the smallest data block.
    pub data_block_min_elements: u8,
    /// Data-block pointers in the smallest super block.
    pub super_block_min_pointers: u8,
    /// log2 of the entries per data-block page.
    pub page_bits: u8,
    /// One more than the highest entry ever set.
    pub max_index_set: u64,
    /// Index block address (undefined: nothing written).
    pub index_block: Address,
}

impl ExtensibleArrayHeader {
    /// Parses and checksum-verifies the header at `addr`.
    pub fn parse(view: &FileView<'_>, addr: Address) -> Result<ExtensibleArrayHeader> {
        let mut c = view.cursor(addr, "extensible array header")?;
        c.signature(b"EAHD", "extensible array header")?;
        let version = c.u8("extensible array header version")?;
        if version != 0 {
            return Err(c.error(format!(
                "extensible array header: expected version 0, found {version}"
            )));
        }
        let client_id = c.u8("extensible array client id")?;
        let element_size = c.u8("extensible array element size")?;
        let max_nelmts_bits = c.u8("extensible array max nelmts bits")?;
        let index_block_elements = c.u8("extensible array index block elements")?;
        let data_block_min_elements = c.u8("extensible array data block min elements")?;
        let super_block_min_pointers = c.u8("extensible array super block min pointers")?;
        let page_bits = c.u8("extensible array page bits")?;
        for what in [
            "number of super blocks created",
            "size of super blocks created",
            "number of data blocks created",
            "size of data blocks created",
        ] {
            c.length(what)?;
        }
        let max_index_set = c.length("extensible array maximum index set")?;
        c.length("extensible array number of elements realized")?;
        let index_block = c.address("extensible array index block address")?;
        let covered = &c.all()[..c.position()];
        let at = c.at();
        let stored = c.u32("extensible array header checksum")?;
        verify_checksum(covered, stored, at, "extensible array header")?;
        Ok(ExtensibleArrayHeader {
            client_id,
            element_size,
            max_nelmts_bits,
            index_block_elements,
            data_block_min_elements,
            super_block_min_pointers,
            page_bits,
            max_index_set,
            index_block,
        })
    }
}

/// Shape of super block `u` (`H5EA_sblk_info_t`).
#[derive(Debug, Clone, Copy)]
struct SuperBlockInfo {
    /// Data blocks in it.
    ndblks: u64,
    /// Entries per data block.
    dblk_nelmts: u64,
    /// First entry, counted after the index block's entries.
    start_idx: u64,
    /// Index of its first data block among all data blocks.
    start_dblk: u64,
}

/// Everything derived from the header's creation parameters.
struct Geometry {
    sblk: Vec<SuperBlockInfo>,
    /// Super blocks whose data-block addresses are in the index block.
    iblock_nsblks: usize,
    /// Data-block address slots in the index block.
    ndblk_addrs: usize,
    /// Super-block address slots in the index block.
    nsblk_addrs: usize,
    /// Width of a block's "Block Offset" field.
    arr_off_size: usize,
    /// Entries per data-block page.
    page_nelmts: u64,
}

fn log2_exact(v: u8) -> Option<u32> {
    (v != 0 && v.is_power_of_two()).then(|| v.trailing_zeros())
}

impl Geometry {
    fn new(h: &ExtensibleArrayHeader, at: u64) -> Result<Geometry> {
        let bad = |what: String| Error::format(at, format!("extensible array header: {what}"));
        if h.max_nelmts_bits == 0 || h.max_nelmts_bits > 64 {
            return Err(bad(format!(
                "max nelmts bits must be 1..=64, found {}",
                h.max_nelmts_bits
            )));
        }
        let min_log = log2_exact(h.data_block_min_elements).ok_or_else(|| {
            bad(format!(
                "data block min elements must be a power of two, found {}",
                h.data_block_min_elements
            ))
        })?;
        let ptr_log = log2_exact(h.super_block_min_pointers).ok_or_else(|| {
            bad(format!(
                "super block min pointers must be a power of two, found {}",
                h.super_block_min_pointers
            ))
        })?;
        if min_log > u32::from(h.max_nelmts_bits) {
            return Err(bad(format!(
                "data block min elements {} exceeds 2^{}",
                h.data_block_min_elements, h.max_nelmts_bits
            )));
        }
        if h.page_bits >= 64 {
            return Err(bad(format!(
                "page bits must be < 64, found {}",
                h.page_bits
            )));
        }
        // At most 65 super blocks; each size below fits easily in u64.
        let nsblks = 1 + u32::from(h.max_nelmts_bits) - min_log;
        let mut sblk = Vec::with_capacity(nsblks as usize);
        let (mut start_idx, mut start_dblk) = (0u64, 0u64);
        for u in 0..nsblks {
            let ndblks = 1u64 << (u / 2);
            let dblk_nelmts = (1u64 << u.div_ceil(2)) * u64::from(h.data_block_min_elements);
            sblk.push(SuperBlockInfo {
                ndblks,
                dblk_nelmts,
                start_idx,
                start_dblk,
            });
            start_idx = start_idx.saturating_add(ndblks.saturating_mul(dblk_nelmts));
            start_dblk = start_dblk.saturating_add(ndblks);
        }
        let iblock_nsblks = 2 * ptr_log as usize;
        Ok(Geometry {
            iblock_nsblks,
            ndblk_addrs: 2 * (usize::from(h.super_block_min_pointers) - 1),
            nsblk_addrs: sblk.len().saturating_sub(iblock_nsblks),
            sblk,
            arr_off_size: usize::from(h.max_nelmts_bits).div_ceil(8),
            page_nelmts: 1u64 << h.page_bits,
        })
    }
}

/// Maps entry numbers to chunk offsets (the swizzled order, see module docs).
struct EntryMap<'g> {
    unlim: usize,
    /// Chunk counts of the maximum grid in the other dimensions, in order.
    others: Vec<u64>,
    /// Product of `others`: entries per step of the unlimited dimension.
    slab: u64,
    chunk_dims: &'g [u64],
}

impl<'g> EntryMap<'g> {
    fn new(geom: &ChunkGeometry<'g>, at: u64) -> Result<EntryMap<'g>> {
        let mut unlim = None;
        for (d, &m) in geom.max_dims.iter().enumerate() {
            if m == u64::MAX {
                if unlim.is_some() {
                    return Err(Error::format(
                        at,
                        "extensible array index: expected one unlimited dimension, found more",
                    ));
                }
                unlim = Some(d);
            }
        }
        let unlim = unlim.ok_or_else(|| {
            Error::format(
                at,
                "extensible array index: expected an unlimited dimension, found none",
            )
        })?;
        let other_max: Vec<u64> = (0..geom.max_dims.len())
            .filter(|&d| d != unlim)
            .map(|d| geom.max_dims[d])
            .collect();
        let other_chunks: Vec<u64> = (0..geom.chunk_dims.len())
            .filter(|&d| d != unlim)
            .map(|d| geom.chunk_dims[d])
            .collect();
        let others = chunk_counts(&other_max, &other_chunks, at)?;
        let slab = product(&others, at, "extensible array index")?;
        Ok(EntryMap {
            unlim,
            others,
            slab,
            chunk_dims: geom.chunk_dims,
        })
    }

    fn offset(&self, idx: u64, at: u64) -> Result<Vec<u64>> {
        if self.slab == 0 {
            return Err(Error::format(
                at,
                format!("extensible array index: entry {idx} set, but the chunk grid is empty"),
            ));
        }
        let mut rest = idx % self.slab;
        let mut scaled = vec![0u64; self.others.len() + 1];
        scaled[self.unlim] = idx / self.slab;
        // Fill the other dimensions row-major, last fastest.
        let mut k = self.others.len();
        for d in (0..scaled.len()).rev() {
            if d == self.unlim {
                continue;
            }
            k -= 1;
            let n = self.others[k];
            scaled[d] = rest % n;
            rest /= n;
        }
        to_elements(&scaled, self.chunk_dims, at)
    }
}

/// What every block of one array shares while walking it.
struct Walk<'a, 'v, 'g, 'l> {
    view: &'a FileView<'v>,
    header: Address,
    client_id: u8,
    entry_size: u64,
    size_width: Option<usize>,
    unfiltered: u64,
    max_index_set: u64,
    geo: Geometry,
    map: EntryMap<'g>,
    sink: RecordSink<'l>,
    index_block_elements: u8,
}

impl Walk<'_, '_, '_, '_> {
    /// Reads the common block prefix: signature, version, client id, header
    /// address.
    fn prefix(&self, c: &mut Cursor<'_>, sig: &[u8; 4], what: &str) -> Result<()> {
        c.signature(sig, what)?;
        let version = c.u8(what)?;
        if version != 0 {
            return Err(c.error(format!("{what}: expected version 0, found {version}")));
        }
        let client_id = c.u8(what)?;
        if client_id != self.client_id {
            return Err(c.error(format!(
                "{what}: client id {client_id}, the header says {}",
                self.client_id
            )));
        }
        let owner = c.address(what)?;
        if owner != self.header {
            return Err(c.error(format!(
                "{what}: header address {:#x}, expected {:#x}",
                owner.0, self.header.0
            )));
        }
        Ok(())
    }

    /// Decodes `count` entries from `body`, the first being entry `first`.
    fn entries(&mut self, body: &[u8], at: u64, first: u64, count: u64) -> Result<()> {
        let mut e = Cursor::new(body, at, self.view.sizes);
        for k in 0..count {
            let idx = first.saturating_add(k);
            let (address, size, filter_mask) =
                read_entry(&mut e, self.size_width, self.unfiltered)?;
            if idx >= self.max_index_set || address.is_undefined() {
                continue;
            }
            let offset = self.map.offset(idx, at)?;
            self.sink.push(ChunkRecord {
                offset,
                address,
                size,
                filter_mask,
            })?;
        }
        Ok(())
    }

    /// Reads data block `addr` of super block `u` whose first entry is
    /// `first`; `page_init` is its page bitmap when paged.
    fn data_block(
        &mut self,
        addr: Address,
        u: usize,
        first: u64,
        page_init: Option<&[u8]>,
    ) -> Result<()> {
        let info = self.geo.sblk[u];
        let what = "extensible array data block";
        let mut c = self.view.cursor(addr, what)?;
        self.prefix(&mut c, b"EADB", what)?;
        c.skip(self.geo.arr_off_size, "extensible array data block offset")?;
        let nelmts = info.dblk_nelmts;
        let Some(page_init) = page_init else {
            let len = nelmts
                .checked_mul(self.entry_size)
                .and_then(|l| usize::try_from(l).ok())
                .filter(|&l| l <= c.remaining())
                .ok_or_else(|| {
                    c.error(format!(
                        "{what}: {nelmts} entries of {} bytes do not fit in the file",
                        self.entry_size
                    ))
                })?;
            let body_at = c.at();
            let body = c.read_bytes(len, what)?;
            let covered = &c.all()[..c.position()];
            let sum_at = c.at();
            let stored = c.u32("extensible array data block checksum")?;
            verify_checksum(covered, stored, sum_at, what)?;
            return self.entries(body, body_at, first, nelmts);
        };
        let covered = &c.all()[..c.position()];
        let sum_at = c.at();
        let stored = c.u32("extensible array data block checksum")?;
        verify_checksum(covered, stored, sum_at, what)?;
        let prefix = c.position() as u64;
        let pages = nelmts / self.geo.page_nelmts;
        // page_nelmts < nelmts here, so this cannot overflow in practice.
        let page_size = self
            .geo
            .page_nelmts
            .checked_mul(self.entry_size)
            .and_then(|b| b.checked_add(4))
            .ok_or_else(|| Error::format(sum_at, "extensible array: page size overflows"))?;
        for p in 0..pages {
            let page_first = first.saturating_add(p * self.geo.page_nelmts);
            if page_first >= self.max_index_set {
                break;
            }
            if !bit_is_set(page_init, p) {
                continue;
            }
            let page_addr = addr
                .0
                .checked_add(prefix)
                .and_then(|a| a.checked_add(p.checked_mul(page_size)?))
                .ok_or_else(|| Error::format(sum_at, "extensible array: page address overflows"))?;
            let pc = self.view.cursor_len(
                Address(page_addr),
                page_size,
                "extensible array data block page",
            )?;
            let bytes = pc.all();
            let (body, sum) = bytes.split_at(bytes.len() - 4);
            let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
            verify_checksum(
                body,
                stored,
                pc.at() + body.len() as u64,
                "extensible array data block page",
            )?;
            self.entries(body, pc.at(), page_first, self.geo.page_nelmts)?;
        }
        Ok(())
    }

    /// First entry of data block `j` of super block `u`.
    fn block_first(&self, u: usize, j: u64) -> u64 {
        let info = self.geo.sblk[u];
        u64::from(self.index_block_elements)
            .saturating_add(info.start_idx)
            .saturating_add(j.saturating_mul(info.dblk_nelmts))
    }
}

/// Every allocated chunk of an extensible-array-indexed dataset.
pub fn records(
    view: &FileView<'_>,
    address: Address,
    geom: &ChunkGeometry<'_>,
    limits: &Limits,
) -> Result<Vec<ChunkRecord>> {
    let at = view.abs_u64(address);
    check_geometry(geom, at)?;
    if address.is_undefined() {
        return Ok(Vec::new());
    }
    let h = ExtensibleArrayHeader::parse(view, address)?;
    let size_width = entry_layout(
        "extensible array header",
        h.client_id,
        h.element_size,
        view.sizes.offset,
        geom.filtered,
        at,
    )?;
    let geo = Geometry::new(&h, at)?;
    let map = EntryMap::new(geom, at)?;
    if h.index_block.is_undefined() || h.max_index_set == 0 {
        return Ok(Vec::new());
    }
    let mut w = Walk {
        view,
        header: address,
        client_id: h.client_id,
        entry_size: u64::from(h.element_size),
        size_width,
        unfiltered: chunk_bytes(geom, at)?,
        max_index_set: h.max_index_set,
        geo,
        map,
        sink: RecordSink::new(geom.dims.len(), limits),
        index_block_elements: h.index_block_elements,
    };

    // Index block.
    let what = "extensible array index block";
    let mut c = view.cursor(h.index_block, what)?;
    w.prefix(&mut c, b"EAIB", what)?;
    let ib_elements_len = usize::from(h.index_block_elements) * usize::from(h.element_size);
    let elements_at = c.at();
    let elements = c.read_bytes(ib_elements_len, what)?;
    let sa = usize::from(view.sizes.offset);
    let dblk_addrs = c.read_bytes(w.geo.ndblk_addrs * sa, what)?;
    let sblk_addrs = c.read_bytes(w.geo.nsblk_addrs * sa, what)?;
    let covered = &c.all()[..c.position()];
    let sum_at = c.at();
    let stored = c.u32("extensible array index block checksum")?;
    verify_checksum(covered, stored, sum_at, what)?;
    w.entries(elements, elements_at, 0, u64::from(h.index_block_elements))?;
    let mut dblk_c = Cursor::new(dblk_addrs, sum_at, view.sizes);
    let mut sblk_c = Cursor::new(sblk_addrs, sum_at, view.sizes);

    for u in 0..w.geo.sblk.len() {
        if w.block_first(u, 0) >= w.max_index_set {
            break;
        }
        let info = w.geo.sblk[u];
        let paged = info.dblk_nelmts > w.geo.page_nelmts;
        if u < w.geo.iblock_nsblks {
            if paged {
                return Err(Error::unsupported(
                    "extensible array with paged data blocks listed in the index block",
                ));
            }
            for j in 0..info.ndblks {
                // Slot start_dblk + j of the index block's data-block list.
                let slot = usize::try_from(info.start_dblk.saturating_add(j)).unwrap_or(usize::MAX);
                dblk_c.seek(
                    slot.saturating_mul(sa),
                    "extensible array index block data block slot",
                )?;
                let a = dblk_c.address("extensible array data block address")?;
                if a.is_undefined() || w.block_first(u, j) >= w.max_index_set {
                    continue;
                }
                let first = w.block_first(u, j);
                w.data_block(a, u, first, None)?;
            }
            continue;
        }
        let sb = sblk_c.address("extensible array super block address")?;
        if sb.is_undefined() {
            continue;
        }
        let what = "extensible array super block";
        let mut c = view.cursor(sb, what)?;
        w.prefix(&mut c, b"EASB", what)?;
        c.skip(w.geo.arr_off_size, "extensible array super block offset")?;
        let page_init_size = if paged {
            (info.dblk_nelmts / w.geo.page_nelmts).div_ceil(8)
        } else {
            0
        };
        let too_big = |c: &Cursor<'_>| {
            c.error(format!(
                "{what}: {} data blocks do not fit in the file",
                info.ndblks
            ))
        };
        let bitmaps_len = info
            .ndblks
            .checked_mul(page_init_size)
            .and_then(|l| usize::try_from(l).ok())
            .filter(|&l| l <= c.remaining())
            .ok_or_else(|| too_big(&c))?;
        let bitmaps = c.read_bytes(bitmaps_len, what)?;
        let addrs_len = info
            .ndblks
            .checked_mul(sa as u64)
            .and_then(|l| usize::try_from(l).ok())
            .filter(|&l| l <= c.remaining())
            .ok_or_else(|| too_big(&c))?;
        let addrs_at = c.at();
        let addrs = c.read_bytes(addrs_len, what)?;
        let covered = &c.all()[..c.position()];
        let sum_at = c.at();
        let stored = c.u32("extensible array super block checksum")?;
        verify_checksum(covered, stored, sum_at, what)?;
        let mut ac = Cursor::new(addrs, addrs_at, view.sizes);
        let pis = page_init_size as usize; // <= bitmaps_len, checked above
        for j in 0..info.ndblks {
            let first = w.block_first(u, j);
            if first >= w.max_index_set {
                break;
            }
            let a = ac.address("extensible array data block address")?;
            if a.is_undefined() {
                continue;
            }
            let page_init = if paged {
                let s = usize::try_from(j).ok().and_then(|j| j.checked_mul(pis));
                let bits = s.and_then(|s| bitmaps.get(s..s.checked_add(pis)?));
                Some(bits.unwrap_or(&[]))
            } else {
                None
            };
            w.data_block(a, u, first, page_init)?;
        }
    }
    Ok(w.sink.finish())
}

mod encode;
pub use encode::{encode, ExtensibleArrayParams};

#[cfg(test)]
mod tests;
