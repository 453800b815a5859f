//! Fixed array index (layout message v4+, index type 3): used when no
//! dimension is unlimited and the dataset is not a single chunk. One entry
//! per chunk of the grid of the dataset's **maximum** dimensions, in
//! row-major order (libhdf5 `H5D__farray_idx_get_addr`:
//! `H5VM_array_offset_pre` over `max_down_chunks`).
//!
//! ```text
//! Fixed Array Header (spec III.H.1, "FAHD"):
//!   Signature "FAHD" (4) | Version 0 (1) | Client ID (1)
//!   Entry Size (1) | Page Bits (1)
//!   Max Num Entries (length size)
//!   Data Block Address (offset size)
//!   Checksum (4)                                   lookup3 of the above
//!
//! Fixed Array Data Block (spec III.H.2, "FADB"):
//!   Signature "FADB" (4) | Version 0 (1) | Client ID (1)
//!   Header Address (offset size)
//!   Page Bitmap (ceil(pages / 8))                  only when paged
//!   Elements (Max Num Entries * Entry Size)        only when not paged
//!   Checksum (4)                                   lookup3 of the above
//!
//! Fixed Array Data Block Page (paged only; pages follow the data block):
//!   Elements (entries in this page * Entry Size) | Checksum (4)
//! ```
//!
//! The data block is paged when Max Num Entries exceeds `2^Page Bits`
//! (1024 with libhdf5's default of 10). Each page holds `2^Page Bits`
//! entries except the last, which holds the remainder; page `p` starts at
//! `data block address + prefix size + p * (2^Page Bits * Entry Size + 4)`,
//! the prefix being everything up to and including the block's checksum. A
//! page whose bit is clear in the bitmap (most significant bit first, as
//! `H5VM_bit_get`) was never written: all its chunks are undefined.
//!
//! Client ID 0 entries are a chunk address; client ID 1 (filtered) entries
//! are address, chunk size (Entry Size − offset size − 4 bytes) and a 4-byte
//! filter mask.

use super::{
    bit_is_set, check_geometry, chunk_bytes, chunk_counts, product, read_entry, unravel,
    ChunkGeometry, ChunkRecord, RecordSink,
};
use crate::error::{Error, Result};
use crate::format::{verify_checksum, Address, FileView};
use crate::limits::Limits;

/// Parsed fixed array header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedArrayHeader {
    /// 0: unfiltered chunks, 1: filtered chunks.
    pub client_id: u8,
    /// Bytes per entry.
    pub entry_size: u8,
    /// log2 of the entries per data-block page.
    pub page_bits: u8,
    /// Number of entries.
    pub max_num_entries: u64,
    /// Data block address (undefined: no chunk written yet).
    pub data_block: Address,
}

impl FixedArrayHeader {
    /// Parses and checksum-verifies the header at `addr`.
    pub fn parse(view: &FileView<'_>, addr: Address) -> Result<FixedArrayHeader> {
        let mut c = view.cursor(addr, "fixed array header")?;
        c.signature(b"FAHD", "fixed array header")?;
        let version = c.u8("fixed array header version")?;
        if version != 0 {
            return Err(c.error(format!(
                "fixed array header: expected version 0, found {version}"
            )));
        }
        let client_id = c.u8("fixed array client id")?;
        let entry_size = c.u8("fixed array entry size")?;
        let page_bits = c.u8("fixed array page bits")?;
        let max_num_entries = c.length("fixed array max num entries")?;
        let data_block = c.address("fixed array data block address")?;
        let covered = &c.all()[..c.position()];
        let at = c.at();
        let stored = c.u32("fixed array header checksum")?;
        verify_checksum(covered, stored, at, "fixed array header")?;
        Ok(FixedArrayHeader {
            client_id,
            entry_size,
            page_bits,
            max_num_entries,
            data_block,
        })
    }
}

/// Checks a fixed/extensible array's client id and entry size against the
/// dataset; returns the width of the filtered chunk-size field (`None`
/// when unfiltered).
pub(crate) fn entry_layout(
    what: &str,
    client_id: u8,
    entry_size: u8,
    offset_size: u8,
    filtered: bool,
    at: u64,
) -> Result<Option<usize>> {
    let entry = usize::from(entry_size);
    let addr = usize::from(offset_size);
    match (client_id, filtered) {
        (0, false) if entry == addr => Ok(None),
        (1, true) if entry > addr + 4 && entry <= addr + 4 + 8 => Ok(Some(entry - addr - 4)),
        (0, false) | (1, true) => Err(Error::format(
            at,
            format!(
                "{what}: entry size {entry} does not fit client id {client_id} with \
                 {addr}-byte addresses"
            ),
        )),
        (0 | 1, _) => Err(Error::format(
            at,
            format!(
                "{what}: client id {client_id} ({}) but the dataset is {}",
                if client_id == 1 {
                    "filtered chunks"
                } else {
                    "unfiltered chunks"
                },
                if filtered { "filtered" } else { "unfiltered" }
            ),
        )),
        _ => Err(Error::format(
            at,
            format!("{what}: expected client id 0 or 1, found {client_id}"),
        )),
    }
}

/// Every allocated chunk of a fixed-array-indexed dataset.
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
    let hdr = FixedArrayHeader::parse(view, address)?;
    let size_width = entry_layout(
        "fixed array header",
        hdr.client_id,
        hdr.entry_size,
        view.sizes.offset,
        geom.filtered,
        at,
    )?;
    let unfiltered = chunk_bytes(geom, at)?;
    let counts = chunk_counts(geom.max_dims, geom.chunk_dims, at)?;
    let n = product(&counts, at, "fixed array")?;
    if hdr.max_num_entries != n {
        return Err(Error::format(
            at,
            format!(
                "fixed array header: expected {n} entries (chunk grid {counts:?} of the maximum \
                 dimensions), found {}",
                hdr.max_num_entries
            ),
        ));
    }
    if hdr.data_block.is_undefined() || n == 0 {
        return Ok(Vec::new());
    }
    if hdr.page_bits >= 32 {
        return Err(Error::format(
            at,
            format!(
                "fixed array header: page bits {} (at most 31 supported)",
                hdr.page_bits
            ),
        ));
    }
    let entry = u64::from(hdr.entry_size);
    let page_entries = 1u64 << hdr.page_bits;
    let paged = n > page_entries;
    let db = hdr.data_block;
    let db_at = view.abs_u64(db);
    let mut c = view.cursor(db, "fixed array data block")?;
    c.signature(b"FADB", "fixed array data block")?;
    let version = c.u8("fixed array data block version")?;
    if version != 0 {
        return Err(c.error(format!(
            "fixed array data block: expected version 0, found {version}"
        )));
    }
    let client_id = c.u8("fixed array data block client id")?;
    if client_id != hdr.client_id {
        return Err(c.error(format!(
            "fixed array data block: client id {client_id}, the header says {}",
            hdr.client_id
        )));
    }
    let owner = c.address("fixed array data block header address")?;
    if owner != address {
        return Err(c.error(format!(
            "fixed array data block: header address {:#x}, expected {:#x}",
            owner.0, address.0
        )));
    }
    let mut sink = RecordSink::new(geom.dims.len(), limits);
    let mut push = |idx: u64, (addr, size, filter_mask): (Address, u64, u32)| -> Result<()> {
        if addr.is_undefined() {
            return Ok(());
        }
        sink.push(ChunkRecord {
            offset: unravel(idx, &counts, geom.chunk_dims, db_at)?,
            address: addr,
            size,
            filter_mask,
        })
    };
    if !paged {
        // n <= 2^31 here, and the slice below checks it against the file.
        let elements = n * entry;
        let body = c.read_bytes(
            usize::try_from(elements).unwrap_or(usize::MAX),
            "fixed array data block elements",
        )?;
        let covered = &c.all()[..c.position()];
        let sum_at = c.at();
        let stored = c.u32("fixed array data block checksum")?;
        verify_checksum(covered, stored, sum_at, "fixed array data block")?;
        let mut e = crate::format::Cursor::new(body, db_at, view.sizes);
        for idx in 0..n {
            push(idx, read_entry(&mut e, size_width, unfiltered)?)?;
        }
        return Ok(sink.finish());
    }
    let pages = n.div_ceil(page_entries);
    // One bit per page; pages (each at least 4 bytes) must fit in the file.
    let bitmap_len = pages.div_ceil(8);
    if bitmap_len > c.remaining() as u64 {
        return Err(c.error(format!(
            "fixed array data block: {pages} pages need a {bitmap_len}-byte bitmap, only {} \
             bytes remain",
            c.remaining()
        )));
    }
    let bitmap = c.read_bytes(bitmap_len as usize, "fixed array page bitmap")?;
    let covered = &c.all()[..c.position()];
    let sum_at = c.at();
    let stored = c.u32("fixed array data block checksum")?;
    verify_checksum(covered, stored, sum_at, "fixed array data block")?;
    let prefix = c.position() as u64;
    let page_size = page_entries * entry + 4;
    for p in 0..pages {
        if !bit_is_set(bitmap, p) {
            continue;
        }
        let first = p * page_entries;
        let count = page_entries.min(n - first);
        // p * page_size <= n * (entry + 4) + page_size: bounded by the file
        // check in `cursor_len` long before overflowing.
        let page_addr =
            db.0.checked_add(prefix)
                .and_then(|a| a.checked_add(p.checked_mul(page_size)?))
                .ok_or_else(|| Error::format(db_at, "fixed array: page address overflows"))?;
        let len = count * entry + 4;
        let pc = view.cursor_len(Address(page_addr), len, "fixed array data block page")?;
        let bytes = pc.all();
        let (body, sum) = bytes.split_at(bytes.len() - 4);
        let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
        verify_checksum(
            body,
            stored,
            pc.at() + body.len() as u64,
            "fixed array data block page",
        )?;
        let mut e = crate::format::Cursor::new(body, pc.at(), view.sizes);
        for k in 0..count {
            push(first + k, read_entry(&mut e, size_width, unfiltered)?)?;
        }
    }
    Ok(sink.finish())
}

/// Bytes of a fixed array header with `sizes`.
fn header_len(sizes: crate::format::Sizes) -> usize {
    8 + usize::from(sizes.length) + usize::from(sizes.offset) + 4
}

/// Bytes [`encode`] produces for `n` entries of `entry_size` bytes.
pub fn encoded_len(n: u64, entry_size: u8, page_bits: u8, sizes: crate::format::Sizes) -> u64 {
    let prefix = 6 + u64::from(sizes.offset);
    let entry = u64::from(entry_size);
    let page_entries = 1u64 << page_bits.min(31);
    let block = if n > page_entries {
        let pages = n.div_ceil(page_entries);
        prefix + pages.div_ceil(8) + 4 + n * entry + pages * 4
    } else {
        prefix + n * entry + 4
    };
    header_len(sizes) as u64 + block
}

/// Encodes a complete fixed array to be placed at `at`: the header, then
/// its data block right after it (paged when there are more than
/// `2^page_bits` entries, every page written and marked in the bitmap).
/// `entries` are in row-major order of the maximum chunk grid;
/// `size_width` is `Some` (see [`super::filtered_size_width`]) for filtered
/// datasets (client id 1).
pub fn encode(
    at: Address,
    entries: &[super::IndexEntry],
    size_width: Option<usize>,
    page_bits: u8,
    sizes: crate::format::Sizes,
) -> Result<Vec<u8>> {
    use crate::format::checksum::metadata_checksum;
    if page_bits >= 32 {
        return Err(Error::invalid(format!(
            "fixed array page bits {page_bits} (at most 31)"
        )));
    }
    let ow = usize::from(sizes.offset);
    let lw = usize::from(sizes.length);
    let entry_size = u8::try_from(ow + size_width.map_or(0, |w| w + 4))
        .map_err(|_| Error::invalid("fixed array entry too large"))?;
    let client_id = u8::from(size_width.is_some());
    let n = entries.len() as u64;
    let db = Address(at.0 + header_len(sizes) as u64);
    let mut out = Vec::with_capacity(encoded_len(n, entry_size, page_bits, sizes) as usize);
    // Header.
    out.extend_from_slice(b"FAHD");
    out.extend_from_slice(&[0, client_id, entry_size, page_bits]);
    out.extend_from_slice(&n.to_le_bytes()[..lw]);
    out.extend_from_slice(&db.0.to_le_bytes()[..ow]);
    let sum = metadata_checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    // Data block prefix.
    let start = out.len();
    out.extend_from_slice(b"FADB");
    out.extend_from_slice(&[0, client_id]);
    out.extend_from_slice(&at.0.to_le_bytes()[..ow]);
    let page_entries = 1usize << page_bits;
    if entries.len() <= page_entries {
        for e in entries {
            super::encode_entry(&mut out, e, size_width, sizes)?;
        }
        let sum = metadata_checksum(&out[start..]);
        out.extend_from_slice(&sum.to_le_bytes());
        return Ok(out);
    }
    let pages = entries.len().div_ceil(page_entries);
    let mut bitmap = vec![0u8; pages.div_ceil(8)];
    for p in 0..pages {
        bitmap[p / 8] |= 0x80 >> (p % 8);
    }
    out.extend_from_slice(&bitmap);
    let sum = metadata_checksum(&out[start..]);
    out.extend_from_slice(&sum.to_le_bytes());
    for page in entries.chunks(page_entries) {
        let page_start = out.len();
        for e in page {
            super::encode_entry(&mut out, e, size_width, sizes)?;
        }
        let sum = metadata_checksum(&out[page_start..]);
        out.extend_from_slice(&sum.to_le_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{file, seal};
    use super::*;
    use crate::format::Sizes;

    fn header(client: u8, entry: u8, page_bits: u8, n: u64, db: u64) -> Vec<u8> {
        let mut v = b"FAHD".to_vec();
        v.extend_from_slice(&[0, client, entry, page_bits]);
        v.extend_from_slice(&n.to_le_bytes());
        v.extend_from_slice(&db.to_le_bytes());
        seal(&mut v);
        v
    }

    fn block_prefix(client: u8, hdr: u64) -> Vec<u8> {
        let mut v = b"FADB".to_vec();
        v.extend_from_slice(&[0, client]);
        v.extend_from_slice(&hdr.to_le_bytes());
        v
    }

    fn view(bytes: &[u8]) -> FileView<'_> {
        FileView::new(bytes, Sizes::DEFAULT, 0)
    }

    const UNDEF: u64 = u64::MAX;

    #[test]
    fn unpaged_unfiltered_2d_uses_max_grid() {
        // dims (3, 3), max (4, 5), chunks (2, 2): max grid 2x3 = 6 entries.
        let hdr = header(0, 8, 10, 6, 100);
        let mut db = block_prefix(0, 0);
        for a in [1000u64, UNDEF, 1016, UNDEF, 1032, UNDEF] {
            db.extend_from_slice(&a.to_le_bytes());
        }
        seal(&mut db);
        let f = file(2000, &[(0, &hdr), (100, &db)]);
        let g = ChunkGeometry {
            dims: &[3, 3],
            max_dims: &[4, 5],
            chunk_dims: &[2, 2],
            element_size: 4,
            filtered: false,
        };
        let r = records(&view(&f), Address(0), &g, &Limits::default()).unwrap();
        let got: Vec<(Vec<u64>, u64, u64)> = r
            .iter()
            .map(|r| (r.offset.clone(), r.address.0, r.size))
            .collect();
        assert_eq!(
            got,
            vec![
                (vec![0, 0], 1000, 16),
                (vec![0, 4], 1016, 16),
                (vec![2, 2], 1032, 16)
            ]
        );
        // A flipped byte anywhere breaks a checksum.
        for pos in [5usize, 100 + 20] {
            let mut bad = f.clone();
            bad[pos] ^= 0x40;
            let e = records(&view(&bad), Address(0), &g, &Limits::default()).unwrap_err();
            assert!(e.to_string().contains("checksum"), "{e}");
        }
        // Wrong entry count for the grid.
        let hdr7 = header(0, 8, 10, 7, 100);
        let f7 = file(2000, &[(0, &hdr7), (100, &db)]);
        assert!(records(&view(&f7), Address(0), &g, &Limits::default()).is_err());
        // Client id disagreeing with the pipeline.
        let gf = ChunkGeometry {
            filtered: true,
            ..g
        };
        assert!(records(&view(&f), Address(0), &gf, &Limits::default()).is_err());
    }

    #[test]
    fn paged_filtered_with_uninitialised_page() {
        // 1-D, 10 chunks of 1 element, page bits 2 (4 entries per page):
        // 3 pages, the middle one never written. Filtered entries: address
        // (8) + size (2) + mask (4) = 14 bytes.
        let n = 10u64;
        let hdr = header(1, 14, 2, n, 200);
        let mut db = block_prefix(1, 0);
        db.push(0b1010_0000); // pages 0 and 2
        seal(&mut db);
        let prefix = db.len();
        let page_size = 4 * 14 + 4;
        let entry = |a: u64, size: u16, mask: u32| {
            let mut v = a.to_le_bytes().to_vec();
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&mask.to_le_bytes());
            v
        };
        let mut p0 = Vec::new();
        for k in 0..4u64 {
            p0.extend(entry(if k == 1 { UNDEF } else { 5000 + k }, 7, 0));
        }
        seal(&mut p0);
        let mut p2 = Vec::new();
        p2.extend(entry(6000, 9, 1));
        p2.extend(entry(6001, 3, 0));
        seal(&mut p2);
        let p2_at = 200 + prefix + 2 * page_size;
        let f = file(
            8000,
            &[(0, &hdr), (200, &db), (200 + prefix, &p0), (p2_at, &p2)],
        );
        let g = ChunkGeometry {
            dims: &[10],
            max_dims: &[10],
            chunk_dims: &[1],
            element_size: 8,
            filtered: true,
        };
        let r = records(&view(&f), Address(0), &g, &Limits::default()).unwrap();
        let got: Vec<(u64, u64, u64, u32)> = r
            .iter()
            .map(|r| (r.offset[0], r.address.0, r.size, r.filter_mask))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 5000, 7, 0),
                (2, 5002, 7, 0),
                (3, 5003, 7, 0),
                (8, 6000, 9, 1),
                (9, 6001, 3, 0)
            ]
        );
        let mut bad = f.clone();
        bad[p2_at + 3] ^= 1;
        assert!(records(&view(&bad), Address(0), &g, &Limits::default()).is_err());
        // Truncated file: the last page runs off the end.
        assert!(records(&view(&f[..p2_at + 10]), Address(0), &g, &Limits::default()).is_err());
    }

    #[test]
    fn hostile_counts_do_not_allocate() {
        // 2^40 entries claimed, paged with page bits 0: the bitmap alone
        // would be 128 GiB; it must fail on the file size, not allocate.
        let n = 1u64 << 40;
        let hdr = header(0, 8, 0, n, 100);
        let mut db = block_prefix(0, 0);
        seal(&mut db);
        let f = file(400, &[(0, &hdr), (100, &db)]);
        let g = ChunkGeometry {
            dims: &[n],
            max_dims: &[n],
            chunk_dims: &[1],
            element_size: 1,
            filtered: false,
        };
        assert!(records(&view(&f), Address(0), &g, &Limits::default()).is_err());
        // Unpaged with a huge count: elements run past the end of the file.
        let hdr = header(0, 8, 31, 1 << 30, 100);
        let f = file(400, &[(0, &hdr), (100, &db)]);
        let g = ChunkGeometry {
            dims: &[1 << 30],
            max_dims: &[1 << 30],
            ..g
        };
        assert!(records(&view(&f), Address(0), &g, &Limits::default()).is_err());
        // Every truncation of a valid structure errors without panicking.
        let hdr = header(0, 8, 10, 2, 60);
        let mut db = block_prefix(0, 0);
        db.extend_from_slice(&7u64.to_le_bytes());
        db.extend_from_slice(&9u64.to_le_bytes());
        seal(&mut db);
        let f = file(60 + db.len(), &[(0, &hdr), (60, &db)]);
        let g = ChunkGeometry {
            dims: &[2],
            max_dims: &[2],
            chunk_dims: &[1],
            element_size: 1,
            filtered: false,
        };
        assert_eq!(
            records(&view(&f), Address(0), &g, &Limits::default())
                .unwrap()
                .len(),
            2
        );
        for cut in 0..f.len() {
            assert!(records(&view(&f[..cut]), Address(0), &g, &Limits::default()).is_err());
        }
    }

    #[test]
    fn encode_round_trips_paged_and_unpaged() {
        use super::super::IndexEntry;
        for (n, filtered, page_bits) in [
            (6u64, false, 10u8),
            (6, true, 10),
            (2500, false, 10),
            (37, true, 3),
        ] {
            let entries: Vec<IndexEntry> = (0..n)
                .map(|i| {
                    if i % 3 == 1 {
                        IndexEntry::UNDEFINED
                    } else {
                        IndexEntry {
                            address: Address(100_000 + i * 16),
                            size: if filtered { 5 + i % 7 } else { 16 },
                            filter_mask: if filtered { (i % 2) as u32 } else { 0 },
                        }
                    }
                })
                .collect();
            let width = filtered.then(|| super::super::filtered_size_width(16));
            let at = 40u64;
            let blob = encode(Address(at), &entries, width, page_bits, Sizes::DEFAULT).unwrap();
            let entry_size = 8 + width.map_or(0, |w| w + 4) as u8;
            assert_eq!(
                blob.len() as u64,
                encoded_len(n, entry_size, page_bits, Sizes::DEFAULT)
            );
            let mut f = vec![0u8; at as usize];
            f.extend_from_slice(&blob);
            let g = ChunkGeometry {
                dims: &[n * 4],
                max_dims: &[n * 4],
                chunk_dims: &[4],
                element_size: 4,
                filtered,
            };
            let r = records(&view(&f), Address(at), &g, &Limits::default()).unwrap();
            let want: Vec<(Vec<u64>, u64, u64, u32)> = entries
                .iter()
                .enumerate()
                .filter(|(_, e)| !e.address.is_undefined())
                .map(|(i, e)| (vec![i as u64 * 4], e.address.0, e.size, e.filter_mask))
                .collect();
            let got: Vec<(Vec<u64>, u64, u64, u32)> = r
                .iter()
                .map(|r| (r.offset.clone(), r.address.0, r.size, r.filter_mask))
                .collect();
            assert_eq!(got, want, "n {n} filtered {filtered}");
        }
    }
}
