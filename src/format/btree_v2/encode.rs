//! Writing version 2 B-trees: a balanced tree bulk-built from records
//! already in key order.
//!
//! The tree is as shallow as the node geometry allows (the depth whose
//! subtree capacity first holds every record), and each internal node
//! spreads its records evenly over its children, so every node is at least
//! about half full and all leaves sit at the same depth, as libhdf5's own
//! insertions and removals expect.

use super::{limit_enc_size, BTreeV2, LevelInfo};
use crate::error::{Error, Result};
use crate::format::checksum::metadata_checksum;
use crate::format::{put_uint, Address, Place, Sizes};

/// libhdf5's node size for dense link and attribute indexes.
pub(crate) const NODE_SIZE: u32 = 512;
/// Split and merge percentages libhdf5 records (100 % and 40 %).
const SPLIT_PERCENT: u8 = 100;
const MERGE_PERCENT: u8 = 40;

/// The shape of the tree being built.
struct Shape<'r> {
    sizes: Sizes,
    record_type: u8,
    node_size: u32,
    levels: Vec<LevelInfo>,
    records: &'r [Vec<u8>],
}

/// Builds a v2 B-tree of `record_type` holding `records` (each exactly
/// `record_size` bytes, already sorted in the tree's key order) with nodes
/// of `node_size` bytes; returns the header's address.
///
/// ```text
/// Version 2 B-tree Header (spec III.A.2):
/// "BTHD" | Version 0 | Type | Node Size (4) | Record Size (2) | Depth (2)
/// Split Percent | Merge Percent | Root Node Address (offset)
/// Number of Records in Root Node (2) | Total Number of Records (length)
/// Checksum (4)
/// ```
pub(crate) fn build(
    place: &mut dyn Place,
    sizes: Sizes,
    record_type: u8,
    record_size: u16,
    node_size: u32,
    records: &[Vec<u8>],
) -> Result<Address> {
    if let Some(bad) = records.iter().find(|r| r.len() != usize::from(record_size)) {
        return Err(Error::invalid(format!(
            "v2 B-tree record of {} bytes, the tree's records are {record_size}",
            bad.len()
        )));
    }
    let total = records.len() as u64;
    let mut depth = 0u16;
    let levels = loop {
        let levels = BTreeV2::derive_levels(sizes, node_size, record_size, depth)
            .map_err(|what| Error::invalid(format!("v2 B-tree of {total} records: {what}")))?;
        if levels[usize::from(depth)].cum_max_nrec >= total {
            break levels;
        }
        depth += 1;
    };
    let shape = Shape {
        sizes,
        record_type,
        node_size,
        levels,
        records,
    };
    let (root, root_records) = if records.is_empty() {
        (Address::UNDEFINED, 0)
    } else {
        let (addr, n, _) = shape.node(place, 0..records.len(), usize::from(depth))?;
        (addr, n)
    };
    let root_records = u16::try_from(root_records)
        .map_err(|_| Error::invalid("v2 B-tree root would hold more than 65535 records"))?;
    let mut b = Vec::with_capacity(64);
    b.extend_from_slice(b"BTHD");
    b.push(0);
    b.push(record_type);
    b.extend_from_slice(&node_size.to_le_bytes());
    b.extend_from_slice(&record_size.to_le_bytes());
    b.extend_from_slice(&depth.to_le_bytes());
    b.extend_from_slice(&[SPLIT_PERCENT, MERGE_PERCENT]);
    put_uint(&mut b, root.0, usize::from(sizes.offset));
    b.extend_from_slice(&root_records.to_le_bytes());
    put_uint(&mut b, total, usize::from(sizes.length));
    let sum = metadata_checksum(&b);
    b.extend_from_slice(&sum.to_le_bytes());
    place.put(b)
}

impl Shape<'_> {
    /// Writes the subtree of depth `depth` holding `range`; returns its
    /// address, the records in its root node and the records in all of it.
    fn node(
        &self,
        place: &mut dyn Place,
        range: std::ops::Range<usize>,
        depth: usize,
    ) -> Result<(Address, u64, u64)> {
        let n = range.len() as u64;
        let mut b = Vec::with_capacity(self.node_size as usize);
        if depth == 0 {
            b.extend_from_slice(b"BTLF");
            b.push(0);
            b.push(self.record_type);
            for r in &self.records[range] {
                b.extend_from_slice(r);
            }
            return Ok((self.finish(place, b)?, n, n));
        }
        // k children of at most `below` records each, k - 1 separators.
        let below = self.levels[depth - 1].cum_max_nrec;
        let k = (n + 1).div_ceil(below + 1).max(2);
        let in_children = n
            .checked_sub(k - 1)
            .ok_or_else(|| Error::invalid("v2 B-tree: too few records for an internal node"))?;
        let (per, extra) = (in_children / k, in_children % k);
        let mut children = Vec::with_capacity(k as usize);
        let mut separators = Vec::with_capacity(k as usize - 1);
        let mut pos = range.start;
        for i in 0..k {
            let len = (per + u64::from(i < extra)) as usize;
            children.push(self.node(place, pos..pos + len, depth - 1)?);
            pos += len;
            if i + 1 < k {
                separators.push(pos);
                pos += 1;
            }
        }
        b.extend_from_slice(b"BTIN");
        b.push(0);
        b.push(self.record_type);
        for &s in &separators {
            b.extend_from_slice(&self.records[s]);
        }
        let nrec_width = limit_enc_size(self.levels[0].max_nrec);
        let total_width = self.levels[depth - 1].cum_max_nrec_size;
        for &(addr, nrec, all) in &children {
            put_uint(&mut b, addr.0, usize::from(self.sizes.offset));
            put_uint(&mut b, nrec, nrec_width);
            if depth > 1 {
                put_uint(&mut b, all, total_width);
            }
        }
        Ok((self.finish(place, b)?, k - 1, n))
    }

    /// Checksums a node's bytes and pads them to the node size.
    fn finish(&self, place: &mut dyn Place, mut b: Vec<u8>) -> Result<Address> {
        let sum = metadata_checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        if b.len() > self.node_size as usize {
            return Err(Error::invalid(format!(
                "v2 B-tree node of {} bytes exceeds the node size {}",
                b.len(),
                self.node_size
            )));
        }
        b.resize(self.node_size as usize, 0);
        place.put(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::TestImage as Image;
    use crate::limits::Limits;

    fn round_trip(n: usize, record_size: u16) {
        let mut img = Image(vec![0; 8]);
        let records: Vec<Vec<u8>> = (0..n as u64)
            .map(|i| {
                let mut r = i.to_be_bytes().to_vec();
                r.resize(usize::from(record_size), 0xab);
                r
            })
            .collect();
        let hdr = build(
            &mut img,
            Sizes::DEFAULT,
            5,
            record_size,
            NODE_SIZE,
            &records,
        )
        .unwrap();
        let view = img.view();
        let tree = BTreeV2::open(&view, hdr, &Limits::default()).unwrap();
        assert_eq!(tree.total_records, n as u64);
        let got: Vec<Vec<u8>> = tree
            .records()
            .unwrap()
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect();
        assert_eq!(got, records, "{n} records of {record_size} bytes");
    }

    #[test]
    fn trees_of_every_depth_read_back_in_order() {
        // 11-byte records: 45 per leaf; depth 1 up to 45 + 46 * 45 …
        for n in [0, 1, 2, 45, 46, 47, 100, 1000, 2115, 2116, 5000, 120_000] {
            round_trip(n, 11);
        }
        for n in [0, 1, 29, 30, 31, 1000, 40_000] {
            round_trip(n, 17);
        }
    }

    /// (depth, records in the root) of a tree of `n` 11-byte records.
    fn shape_of(n: u8) -> (u16, u16) {
        let mut img = Image(vec![0; 8]);
        let records: Vec<Vec<u8>> = (0..n).map(|i| vec![i; 11]).collect();
        let hdr = build(&mut img, Sizes::DEFAULT, 5, 11, NODE_SIZE, &records).unwrap();
        let view = img.view();
        let tree = BTreeV2::open(&view, hdr, &Limits::default()).unwrap();
        (tree.depth, tree.root_records)
    }

    #[test]
    fn depth_grows_only_when_needed() {
        assert_eq!(shape_of(45), (0, 45));
        assert_eq!(shape_of(46), (1, 1));
    }

    #[test]
    fn wrong_record_size_is_refused() {
        let mut img = Image::default();
        let err = build(&mut img, Sizes::DEFAULT, 5, 11, NODE_SIZE, &[vec![0; 10]]);
        assert!(err.is_err());
    }
}
