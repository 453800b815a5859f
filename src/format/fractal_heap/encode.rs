//! Writing fractal heaps: a fresh heap holding a given list of objects, as
//! dense link and attribute storage needs.
//!
//! Objects up to the maximum managed size are packed in order into direct
//! blocks laid out along the doubling table (a single root direct block
//! when they fit one starting-size block, else a root indirect block whose
//! rows are all direct). An object that does not fit the rest of a block
//! starts the next block that can hold it; blocks skipped over stay
//! unallocated, as libhdf5 leaves them. Larger objects are stored as *huge*
//! objects, each on its own and indexed by a type-1 v2 B-tree.
//!
//! No free-space manager is written (its address is undefined, as in a heap
//! libhdf5 has not yet needed one for): libhdf5 creates one when it next
//! inserts and then allocates new blocks after the iterator offset.

use super::{limit_enc_size, log2_floor, FLAG_CHECKSUM_DIRECT_BLOCKS};
use crate::error::{Error, Result};
use crate::format::btree_v2::encode as btree;
use crate::format::checksum::metadata_checksum;
use crate::format::{put_uint, Address, Place, Sizes};

/// Creation parameters of a heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HeapParams {
    /// Heap ID length in bytes.
    pub id_len: u16,
    /// Objects larger than this are stored as huge objects.
    pub max_managed: u32,
    /// Initial doubling-table width; doubled when the objects need more room.
    pub table_width: u16,
    /// Size of the blocks in rows 0 and 1.
    pub start_block: u64,
    /// Largest direct block.
    pub max_direct: u64,
    /// log2 of the managed address space.
    pub max_heap_bits: u16,
}

/// libhdf5's parameters for a dense group's link heap.
pub(crate) const LINK_HEAP: HeapParams = HeapParams {
    id_len: 7,
    max_managed: 4096,
    table_width: 4,
    start_block: 512,
    max_direct: 65536,
    max_heap_bits: 32,
};

/// libhdf5's parameters for dense attribute storage.
pub(crate) const ATTRIBUTE_HEAP: HeapParams = HeapParams {
    id_len: 8,
    max_managed: 4096,
    table_width: 4,
    start_block: 1024,
    max_direct: 65536,
    max_heap_bits: 40,
};

/// Widest doubling table tried (libhdf5's limit).
const MAX_TABLE_WIDTH: u32 = 1 << 16;

/// A direct block to write: (row, column, its objects as (index, offset
/// within the block)).
type PlannedBlock = (u32, u64, Vec<(usize, u64)>);

/// Where managed objects went.
struct Plan {
    width: u64,
    blocks: Vec<PlannedBlock>,
}

impl HeapParams {
    fn off_size(&self) -> usize {
        usize::from(self.max_heap_bits).div_ceil(8)
    }

    fn len_size(&self) -> usize {
        let max_direct_bytes = (log2_floor(self.max_direct) as usize).div_ceil(8);
        max_direct_bytes.min(limit_enc_size(u64::from(self.max_managed)))
    }

    fn row_size(&self, row: u32) -> u64 {
        self.start_block << row.saturating_sub(1)
    }

    fn max_direct_rows(&self) -> u32 {
        log2_floor(self.max_direct) - log2_floor(self.start_block) + 2
    }

    /// Heap offset of block (row, col) in a table `width` wide.
    fn block_offset(&self, width: u64, row: u32, col: u64) -> u64 {
        let row_start = if row == 0 {
            0
        } else {
            (self.start_block * width) << (row - 1)
        };
        row_start + col * self.row_size(row)
    }

    /// Direct block header: signature, version, heap address, block
    /// offset, checksum.
    fn direct_header(&self, sizes: Sizes) -> u64 {
        (5 + usize::from(sizes.offset) + self.off_size() + 4) as u64
    }

    /// Packs `lens` (managed objects only) into a table `width` wide, or
    /// `None` when the direct rows run out.
    fn plan(&self, sizes: Sizes, width: u64, lens: &[(usize, u64)]) -> Option<Plan> {
        let header = self.direct_header(sizes);
        let rows = self.max_direct_rows();
        let mut blocks: Vec<PlannedBlock> = Vec::new();
        // The last table position visited, and the bytes used in its block
        // if it was allocated.
        let mut pos: Option<(u32, u64)> = None;
        let mut used: Option<u64> = None;
        for &(i, len) in lens {
            loop {
                if let (Some((row, _)), Some(u)) = (pos, used) {
                    if u + len <= self.row_size(row) {
                        if let Some(b) = blocks.last_mut() {
                            b.2.push((i, u));
                        }
                        used = Some(u + len);
                        break;
                    }
                }
                let (row, col) = match pos {
                    None => (0, 0),
                    Some((row, col)) if col + 1 == width => (row + 1, 0),
                    Some((row, col)) => (row, col + 1),
                };
                if row >= rows {
                    return None;
                }
                pos = Some((row, col));
                used = None;
                if header + len <= self.row_size(row) {
                    blocks.push((row, col, Vec::new()));
                    used = Some(header);
                }
            }
        }
        Some(Plan { width, blocks })
    }
}

/// Writes a heap holding `objects`; returns the header address and each
/// object's heap ID.
///
/// ```text
/// Fractal Heap Header (spec III.G), as written here:
/// "FRHP" | Version 0 | Heap ID Length (2) | I/O Filters' Length (2) = 0
/// Flags = checksummed direct blocks | Maximum Size of Managed Objects (4)
/// Next Huge Object ID | Huge-object B-tree Address | Free Space in Managed
/// Blocks | Free-space Manager Address = undefined | Managed Space | Allocated
/// Managed Space | Direct Block Allocation Iterator Offset | Managed Objects
/// | Huge Object Size | Huge Objects | Tiny Object Size = 0 | Tiny Objects = 0
/// Table Width (2) | Starting Block Size | Maximum Direct Block Size
/// Maximum Heap Size (2) | Starting Root Rows (2) = 1 | Root Block Address
/// Current Root Rows (2) | Checksum (4)
/// ```
pub(crate) fn build(
    place: &mut dyn Place,
    sizes: Sizes,
    params: &HeapParams,
    objects: &[Vec<u8>],
) -> Result<(Address, Vec<Vec<u8>>)> {
    let o = usize::from(sizes.offset);
    let l = usize::from(sizes.length);
    let header_len = 4 + 1 + 2 + 2 + 1 + 4 + 10 * l + 2 * o + 2 + 2 * l + 2 + 2 + o + 2 + 4;
    let header_addr = place.alloc(header_len as u64)?;
    let mut ids = vec![Vec::new(); objects.len()];

    // Huge objects: stored on their own, found by ID through a B-tree.
    let mut huge_records = Vec::new();
    let mut huge_size = 0u64;
    let huge_id_width = (usize::from(params.id_len) - 1).min(8);
    for (i, obj) in objects.iter().enumerate() {
        if obj.len() as u64 > u64::from(params.max_managed) {
            let id = huge_records.len() as u64 + 1;
            let addr = place.put(obj.clone())?;
            let mut rec = Vec::with_capacity(o + 2 * l);
            put_uint(&mut rec, addr.0, o);
            put_uint(&mut rec, obj.len() as u64, l);
            put_uint(&mut rec, id, l);
            huge_records.push(rec);
            huge_size += obj.len() as u64;
            let mut hid = vec![0x10];
            put_uint(&mut hid, id, huge_id_width);
            hid.resize(usize::from(params.id_len), 0);
            ids[i] = hid;
        }
    }
    let huge_btree = if huge_records.is_empty() {
        Address::UNDEFINED
    } else {
        btree::build(
            place,
            sizes,
            1,
            (o + 2 * l) as u16,
            btree::NODE_SIZE,
            &huge_records,
        )?
    };

    // Managed objects.
    let managed: Vec<(usize, u64)> = objects
        .iter()
        .enumerate()
        .filter(|(_, obj)| obj.len() as u64 <= u64::from(params.max_managed))
        .map(|(i, obj)| (i, obj.len() as u64))
        .collect();
    if let Some((i, _)) = managed.iter().find(|(_, len)| *len == 0) {
        return Err(Error::invalid(format!("fractal heap object {i} is empty")));
    }
    let dh = params.direct_header(sizes);
    let single = managed.iter().map(|(_, len)| len).sum::<u64>() + dh <= params.start_block;
    let mut width = u64::from(params.table_width);
    let plan = loop {
        if let Some(plan) = params.plan(sizes, width, &managed) {
            break plan;
        }
        width *= 2;
        if width > u64::from(MAX_TABLE_WIDTH) {
            return Err(Error::unsupported(
                "a fractal heap this large (it would need child indirect blocks)",
            ));
        }
    };
    let off_size = params.off_size();
    let len_size = params.len_size();
    let mut block_addrs = Vec::with_capacity(plan.blocks.len());
    let mut free = 0u64;
    let mut allocated = 0u64;
    for (row, col, members) in &plan.blocks {
        let size = params.row_size(*row);
        let offset = params.block_offset(plan.width, *row, *col);
        let mut b = Vec::with_capacity(size as usize);
        b.extend_from_slice(b"FHDB");
        b.push(0);
        put_uint(&mut b, header_addr.0, o);
        put_uint(&mut b, offset, off_size);
        let sum_at = b.len();
        b.extend_from_slice(&[0; 4]);
        for &(i, at) in members {
            debug_assert_eq!(b.len() as u64, at);
            b.extend_from_slice(&objects[i]);
            let mut id = vec![0x00];
            put_uint(&mut id, offset + at, off_size);
            put_uint(&mut id, objects[i].len() as u64, len_size);
            id.resize(usize::from(params.id_len), 0);
            ids[i] = id;
        }
        free += size - b.len() as u64;
        allocated += size;
        b.resize(size as usize, 0);
        let sum = metadata_checksum(&b);
        b[sum_at..sum_at + 4].copy_from_slice(&sum.to_le_bytes());
        block_addrs.push(place.put(b)?);
    }

    let (root, root_rows, managed_space, iterator) = match plan.blocks.as_slice() {
        [] => (Address::UNDEFINED, 0u16, 0, 0),
        [(0, 0, _)] if single => (block_addrs[0], 0, params.start_block, 0),
        blocks => {
            let (last_row, last_col, _) = blocks[blocks.len() - 1];
            let rows = last_row + 1;
            let entries = (u64::from(rows) * plan.width) as usize;
            let mut children = vec![Address::UNDEFINED; entries];
            for ((row, col, _), addr) in blocks.iter().zip(&block_addrs) {
                children[(u64::from(*row) * plan.width + col) as usize] = *addr;
            }
            let mut b = Vec::with_capacity(5 + o + off_size + entries * o + 4);
            b.extend_from_slice(b"FHIB");
            b.push(0);
            put_uint(&mut b, header_addr.0, o);
            put_uint(&mut b, 0, off_size);
            for c in &children {
                put_uint(&mut b, c.0, o);
            }
            let sum = metadata_checksum(&b);
            b.extend_from_slice(&sum.to_le_bytes());
            let root = place.put(b)?;
            let space = (0..rows).map(|r| params.row_size(r) * plan.width).sum();
            let (next_row, next_col) = if last_col + 1 == plan.width {
                (last_row + 1, 0)
            } else {
                (last_row, last_col + 1)
            };
            let iterator = params.block_offset(plan.width, next_row, next_col);
            (root, rows as u16, space, iterator)
        }
    };

    let mut h = Vec::with_capacity(header_len);
    h.extend_from_slice(b"FRHP");
    h.push(0);
    h.extend_from_slice(&params.id_len.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.push(FLAG_CHECKSUM_DIRECT_BLOCKS);
    h.extend_from_slice(&params.max_managed.to_le_bytes());
    let huge_count = huge_records.len() as u64;
    put_uint(&mut h, huge_count + 1, l); // next huge object ID
    put_uint(&mut h, huge_btree.0, o);
    put_uint(&mut h, free, l);
    put_uint(&mut h, Address::UNDEFINED.0, o); // free-space manager
    put_uint(&mut h, managed_space, l);
    put_uint(&mut h, allocated, l);
    put_uint(&mut h, iterator, l);
    put_uint(&mut h, managed.len() as u64, l);
    put_uint(&mut h, huge_size, l);
    put_uint(&mut h, huge_count, l);
    put_uint(&mut h, 0, l); // tiny objects: size
    put_uint(&mut h, 0, l); // tiny objects: count
    h.extend_from_slice(&(plan.width as u16).to_le_bytes());
    put_uint(&mut h, params.start_block, l);
    put_uint(&mut h, params.max_direct, l);
    h.extend_from_slice(&params.max_heap_bits.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // starting root rows
    put_uint(&mut h, root.0, o);
    h.extend_from_slice(&root_rows.to_le_bytes());
    let sum = metadata_checksum(&h);
    h.extend_from_slice(&sum.to_le_bytes());
    debug_assert_eq!(h.len(), header_len);
    place.put_at(header_addr, h);
    Ok((header_addr, ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::fractal_heap::FractalHeap;
    use crate::format::TestImage as Image;
    use crate::limits::Limits;

    fn round_trip(params: &HeapParams, objects: &[Vec<u8>]) -> (u16, u16) {
        let mut img = Image(vec![0; 8]);
        let (addr, ids) = build(&mut img, Sizes::DEFAULT, params, objects).unwrap();
        let view = img.view();
        let heap = FractalHeap::open(&view, addr, &Limits::default()).unwrap();
        for (i, (obj, id)) in objects.iter().zip(&ids).enumerate() {
            assert_eq!(id.len(), usize::from(params.id_len));
            assert_eq!(&heap.get(id).unwrap()[..], &obj[..], "object {i}");
        }
        (heap.table_width, heap.root_rows)
    }

    fn objects(n: usize, len: impl Fn(usize) -> usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| (0..len(i)).map(|j| (i * 31 + j) as u8).collect())
            .collect()
    }

    #[test]
    fn a_few_objects_share_the_root_direct_block() {
        assert_eq!(round_trip(&LINK_HEAP, &objects(10, |_| 40)), (4, 0));
        assert_eq!(round_trip(&LINK_HEAP, &[]), (4, 0));
    }

    #[test]
    fn more_objects_grow_a_root_indirect_block() {
        // 300 links of ~48 bytes: rows 0..=3 as libhdf5 lays them out.
        assert_eq!(
            round_trip(&LINK_HEAP, &objects(300, |i| 40 + i % 17)),
            (4, 4)
        );
        assert_eq!(
            round_trip(&ATTRIBUTE_HEAP, &objects(150, |i| 30 + i * 7 % 3000)).0,
            4
        );
    }

    #[test]
    fn objects_larger_than_small_blocks_skip_them() {
        let objs = objects(6, |i| if i == 2 { 4000 } else { 100 });
        round_trip(&LINK_HEAP, &objs);
    }

    #[test]
    fn huge_objects_go_through_the_b_tree() {
        let objs = objects(5, |i| if i % 2 == 0 { 70_000 + i } else { 50 });
        round_trip(&ATTRIBUTE_HEAP, &objs);
    }

    #[test]
    fn the_table_widens_instead_of_nesting_indirect_blocks() {
        // ~2 MB of objects exceed width 4's 512 KiB of direct rows.
        let (width, _) = round_trip(&LINK_HEAP, &objects(1000, |_| 2000));
        assert!(width >= 16, "width {width}");
    }
}
