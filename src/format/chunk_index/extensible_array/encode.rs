//! Writing a complete extensible array: the header, the index block, and
//! the super and data blocks its entries need (the parser beside it reads
//! them back).

use super::{ExtensibleArrayHeader, Geometry};
use crate::error::{Error, Result};
use crate::format::chunk_index::{encode_entry, IndexEntry};
use crate::format::Address;

/// Creation parameters of an extensible array (the layout message's
/// index fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtensibleArrayParams {
    /// log2 of the largest number of entries.
    pub max_bits: u8,
    /// Entries stored in the index block.
    pub index_elements: u8,
    /// Data-block pointers in the smallest super block.
    pub min_pointers: u8,
    /// Entries in the smallest data block.
    pub min_elements: u8,
    /// log2 of the entries per data-block page.
    pub page_bits: u8,
}

impl ExtensibleArrayParams {
    /// libhdf5's defaults (`H5D__layout_set_latest_indexing`): 32, 4, 4,
    /// 16, 10.
    pub const DEFAULT: ExtensibleArrayParams = ExtensibleArrayParams {
        max_bits: 32,
        index_elements: 4,
        min_pointers: 4,
        min_elements: 16,
        page_bits: 10,
    };
}

/// One block of an encoded array, placed at `off` from its start.
enum Planned {
    Data { u: usize, j: u64, first: u64 },
    Super { u: usize, dblks: Vec<Option<u64>> },
}

/// Encodes a complete extensible array to be placed at `at`: header, index
/// block, then the super blocks and data blocks that entries
/// `0..entries.len()` need (libhdf5 creates a block when an entry in it is
/// first set). "Maximum Index Set" is `entries.len()`; the statistics
/// fields count the blocks written. `size_width` is `Some` (see
/// [`filtered_size_width`](crate::format::chunk_index::filtered_size_width)) for filtered datasets (client id 1).
/// Paged data blocks (more than `2^page_bits` entries, past about
/// 100 000 chunks with the default parameters) are not written: an
/// [`Error::Unsupported`].
pub fn encode(
    at: Address,
    entries: &[IndexEntry],
    size_width: Option<usize>,
    params: &ExtensibleArrayParams,
    sizes: crate::format::Sizes,
) -> Result<Vec<u8>> {
    use crate::format::checksum::metadata_checksum;
    let ow = usize::from(sizes.offset);
    let lw = usize::from(sizes.length);
    let entry_size = u8::try_from(ow + size_width.map_or(0, |w| w + 4))
        .map_err(|_| Error::invalid("extensible array entry too large"))?;
    let client_id = u8::from(size_width.is_some());
    let hdr = ExtensibleArrayHeader {
        client_id,
        element_size: entry_size,
        max_nelmts_bits: params.max_bits,
        index_block_elements: params.index_elements,
        data_block_min_elements: params.min_elements,
        super_block_min_pointers: params.min_pointers,
        page_bits: params.page_bits,
        max_index_set: entries.len() as u64,
        index_block: Address::UNDEFINED,
    };
    let geo = Geometry::new(&hdr, at.0)
        .map_err(|e| Error::invalid(format!("extensible array parameters: {e}")))?;
    let n = entries.len() as u64;
    if params.max_bits < 64 && n > 1u64 << params.max_bits {
        return Err(Error::invalid(format!(
            "{n} chunks exceed the extensible array's 2^{} entries",
            params.max_bits
        )));
    }
    let esize = u64::from(entry_size);
    let nie = u64::from(params.index_elements);
    let prefix = 6 + ow as u64;
    let aos = geo.arr_off_size as u64;
    let header_len = 12 + 6 * lw as u64 + ow as u64 + 4;
    let iblock_len =
        prefix + nie * esize + (geo.ndblk_addrs + geo.nsblk_addrs) as u64 * ow as u64 + 4;
    // Plan the blocks.
    let block_first = |u: usize, j: u64| nie + geo.sblk[u].start_idx + j * geo.sblk[u].dblk_nelmts;
    let mut plan: Vec<(u64, Planned)> = Vec::new();
    let mut off = header_len + iblock_len;
    let mut iblock_dblks = vec![None; geo.ndblk_addrs];
    let mut iblock_sblks = vec![None; geo.nsblk_addrs];
    let (mut nsblks, mut sblk_bytes, mut ndblks, mut dblk_bytes, mut realized) =
        (0u64, 0u64, 0u64, 0u64, nie);
    for u in 0..geo.sblk.len() {
        if block_first(u, 0) >= n {
            break;
        }
        let info = geo.sblk[u];
        if info.dblk_nelmts > geo.page_nelmts {
            return Err(Error::unsupported(format!(
                "writing extensible arrays with paged data blocks ({} chunks)",
                n
            )));
        }
        let dblk_len = prefix + aos + info.dblk_nelmts * esize + 4;
        let sblk_at = if u >= geo.iblock_nsblks {
            let len = prefix + aos + info.ndblks * ow as u64 + 4;
            let s = off;
            plan.push((
                off,
                Planned::Super {
                    u,
                    dblks: Vec::new(),
                },
            ));
            iblock_sblks[u - geo.iblock_nsblks] = Some(at.0 + off);
            off += len;
            nsblks += 1;
            sblk_bytes += len;
            Some((plan.len() - 1, s))
        } else {
            None
        };
        let mut dblks = Vec::new();
        for j in 0..info.ndblks {
            let first = block_first(u, j);
            if first >= n {
                dblks.push(None);
                continue;
            }
            plan.push((off, Planned::Data { u, j, first }));
            dblks.push(Some(at.0 + off));
            if sblk_at.is_none() {
                iblock_dblks[(info.start_dblk + j) as usize] = Some(at.0 + off);
            }
            off += dblk_len;
            ndblks += 1;
            dblk_bytes += dblk_len;
            realized += info.dblk_nelmts;
        }
        if let Some((k, _)) = sblk_at {
            plan[k].1 = Planned::Super { u, dblks };
        }
    }
    let put = |out: &mut Vec<u8>, v: u64, w: usize| out.extend_from_slice(&v.to_le_bytes()[..w]);
    let undef = Address::UNDEFINED.0;
    let mut out = Vec::with_capacity(off as usize);
    // Header.
    out.extend_from_slice(b"EAHD");
    out.extend_from_slice(&[
        0,
        client_id,
        entry_size,
        params.max_bits,
        params.index_elements,
        params.min_elements,
        params.min_pointers,
        params.page_bits,
    ]);
    for v in [nsblks, sblk_bytes, ndblks, dblk_bytes, n, realized] {
        put(&mut out, v, lw);
    }
    put(&mut out, at.0 + header_len, ow);
    let sum = metadata_checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    let block_prefix = |out: &mut Vec<u8>, sig: &[u8; 4]| {
        out.extend_from_slice(sig);
        out.extend_from_slice(&[0, client_id]);
        out.extend_from_slice(&at.0.to_le_bytes()[..ow]);
    };
    let entries_of = |out: &mut Vec<u8>, first: u64, count: u64| -> Result<()> {
        for i in first..first + count {
            let e = entries.get(i as usize).unwrap_or(&IndexEntry::UNDEFINED);
            encode_entry(out, e, size_width, sizes)?;
        }
        Ok(())
    };
    // Index block.
    let start = out.len();
    block_prefix(&mut out, b"EAIB");
    entries_of(&mut out, 0, nie)?;
    for a in iblock_dblks.iter().chain(&iblock_sblks) {
        put(&mut out, a.unwrap_or(undef), ow);
    }
    let sum = metadata_checksum(&out[start..]);
    out.extend_from_slice(&sum.to_le_bytes());
    // Super and data blocks.
    for (block_off, block) in &plan {
        debug_assert_eq!(out.len() as u64, *block_off);
        let start = out.len();
        match block {
            Planned::Super { u, dblks } => {
                block_prefix(&mut out, b"EASB");
                put(&mut out, geo.sblk[*u].start_idx, aos as usize);
                for a in dblks {
                    put(&mut out, a.unwrap_or(undef), ow);
                }
            }
            Planned::Data { u, j, first } => {
                let info = geo.sblk[*u];
                block_prefix(&mut out, b"EADB");
                put(
                    &mut out,
                    info.start_idx + j * info.dblk_nelmts,
                    aos as usize,
                );
                entries_of(&mut out, *first, info.dblk_nelmts)?;
            }
        }
        let sum = metadata_checksum(&out[start..]);
        out.extend_from_slice(&sum.to_le_bytes());
    }
    Ok(out)
}
