use super::*;
use crate::format::checksum::metadata_checksum;

fn view(bytes: &[u8]) -> FileView<'_> {
    FileView::new(bytes, Sizes::DEFAULT, 0)
}

fn put(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if buf.len() < at + bytes.len() {
        buf.resize(at + bytes.len(), 0);
    }
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn with_sum(mut b: Vec<u8>) -> Vec<u8> {
    let s = metadata_checksum(&b);
    b.extend_from_slice(&s.to_le_bytes());
    b
}

/// A v2 B-tree header.
#[allow(clippy::too_many_arguments)]
pub(crate) fn header(
    rtype: u8,
    node_size: u32,
    rsize: u16,
    depth: u16,
    root: u64,
    root_n: u16,
    total: u64,
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"BTHD");
    b.push(0);
    b.push(rtype);
    b.extend_from_slice(&node_size.to_le_bytes());
    b.extend_from_slice(&rsize.to_le_bytes());
    b.extend_from_slice(&depth.to_le_bytes());
    b.extend_from_slice(&[100, 40]);
    b.extend_from_slice(&root.to_le_bytes());
    b.extend_from_slice(&root_n.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    with_sum(b)
}

pub(crate) fn leaf(rtype: u8, records: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"BTLF");
    b.push(0);
    b.push(rtype);
    for r in records {
        b.extend_from_slice(r);
    }
    with_sum(b)
}

/// `children`: (address, nrec, Some(total) when depth > 1), with the
/// widths given.
fn internal(
    rtype: u8,
    records: &[Vec<u8>],
    children: &[(u64, u64, Option<u64>)],
    nrec_w: usize,
    all_w: usize,
) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"BTIN");
    b.push(0);
    b.push(rtype);
    for r in records {
        b.extend_from_slice(r);
    }
    for (a, n, all) in children {
        b.extend_from_slice(&a.to_le_bytes());
        b.extend_from_slice(&n.to_le_bytes()[..nrec_w]);
        if let Some(all) = all {
            b.extend_from_slice(&all.to_le_bytes()[..all_w]);
        }
    }
    with_sum(b)
}

#[test]
fn widths_follow_the_spec() {
    // Dense-link name index: node 512, record 11 (hash + 7-byte heap ID).
    let lv = BTreeV2::derive_levels(Sizes::DEFAULT, 512, 11, 2).unwrap();
    assert_eq!(lv[0].max_nrec, (512 - 10) / 11); // 45
    assert_eq!(limit_enc_size(45), 1);
    // depth 1: ptr = 8 + 1 + 0 = 9; (512 - 19) / 20 = 24
    assert_eq!(lv[1].max_nrec, 24);
    assert_eq!(lv[1].cum_max_nrec, 25 * 45 + 24);
    assert_eq!(lv[1].cum_max_nrec_size, 2);
    // depth 2: ptr = 8 + 1 + 2 = 11; (512 - 21) / 22 = 22
    assert_eq!(lv[2].max_nrec, 22);
    assert_eq!(limit_enc_size(255), 1);
    assert_eq!(limit_enc_size(256), 2);
    assert_eq!(limit_enc_size(0), 1);
    // A node too small for an internal level.
    assert!(BTreeV2::derive_levels(Sizes::DEFAULT, 24, 10, 1).is_err());
    assert_eq!(filtered_size_width(4 * 7 * 4), 2);
    assert_eq!(filtered_size_width(255), 2);
    assert_eq!(filtered_size_width(256), 3);
    assert_eq!(filtered_size_width(u64::MAX), 8);
}

fn rec(v: u8) -> Vec<u8> {
    vec![v; 4]
}

/// Depth-2 tree: root internal (depth 2) -> two depth-1 nodes -> leaves.
fn depth2_tree() -> Vec<u8> {
    let (ns, rs) = (128u32, 4u16);
    let lv = BTreeV2::derive_levels(Sizes::DEFAULT, ns, rs, 2).unwrap();
    let nrec_w = limit_enc_size(lv[0].max_nrec);
    let all_w = lv[1].cum_max_nrec_size;
    let mut b = header(7, ns, rs, 2, 100, 1, 9);
    // Leaves: records 1,2 | 4 | 6,7 | 9
    put(&mut b, 600, &leaf(7, &[rec(1), rec(2)]));
    put(&mut b, 700, &leaf(7, &[rec(4)]));
    put(&mut b, 800, &leaf(7, &[rec(6), rec(7)]));
    put(&mut b, 900, &leaf(7, &[rec(9)]));
    // Depth-1 nodes: [600] 3 [700] and [800] 8 [900]
    put(
        &mut b,
        300,
        &internal(7, &[rec(3)], &[(600, 2, None), (700, 1, None)], nrec_w, 0),
    );
    put(
        &mut b,
        400,
        &internal(7, &[rec(8)], &[(800, 2, None), (900, 1, None)], nrec_w, 0),
    );
    // Root: [300] 5 [400]
    put(
        &mut b,
        100,
        &internal(
            7,
            &[rec(5)],
            &[(300, 1, Some(4)), (400, 1, Some(4))],
            nrec_w,
            all_w,
        ),
    );
    b
}

#[test]
fn in_order_traversal() {
    let b = depth2_tree();
    let t = BTreeV2::open(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(t.depth, 2);
    let got: Vec<u8> = t.records().unwrap().iter().map(|r| r[0]).collect();
    assert_eq!(got, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}

/// Every single-byte change of a depth-2 tree, checksums recomputed:
/// errors are fine, panics are not.
#[test]
fn single_byte_mutations_never_panic() {
    let orig = depth2_tree();
    let hlen = header(7, 128, 4, 2, 100, 1, 9).len();
    // Node starts and their checksummed lengths.
    let lv = BTreeV2::derive_levels(Sizes::DEFAULT, 128, 4, 2).unwrap();
    let w = limit_enc_size(lv[0].max_nrec);
    let d2 = 6 + 4 + 2 * (8 + w + lv[1].cum_max_nrec_size);
    let d1 = 6 + 4 + 2 * (8 + w);
    let sealed = [
        (0, hlen - 4),
        (100, d2),
        (300, d1),
        (400, d1),
        (600, 14),
        (700, 10),
        (800, 14),
        (900, 10),
    ];
    let lim = Limits::strict();
    for i in 0..orig.len() {
        for v in [
            0u8,
            0xff,
            orig[i] ^ 1,
            orig[i] ^ 0x80,
            orig[i].wrapping_add(3),
        ] {
            let mut b = orig.clone();
            b[i] = v;
            for &(start, len) in &sealed {
                let c = metadata_checksum(&b[start..start + len]);
                b[start + len..start + len + 4].copy_from_slice(&c.to_le_bytes());
            }
            if let Ok(t) = BTreeV2::open(&view(&b), Address(0), &lim) {
                let _ = t.records();
            }
        }
    }
}

#[test]
fn hostile_trees() {
    let lim = Limits::default();
    // Corrupt a leaf byte: checksum mismatch.
    let mut b = depth2_tree();
    b[607] ^= 1;
    let t = BTreeV2::open(&view(&b), Address(0), &lim).unwrap();
    assert!(t.records().unwrap_err().to_string().contains("checksum"));
    // Corrupt the header: checksum mismatch.
    let mut b = depth2_tree();
    b[20] ^= 1;
    assert!(BTreeV2::open(&view(&b), Address(0), &lim).is_err());
    // Wrong total.
    let mut b = depth2_tree();
    put(&mut b, 0, &header(7, 128, 4, 2, 100, 1, 10));
    let t = BTreeV2::open(&view(&b), Address(0), &lim).unwrap();
    assert!(t.records().is_err());
    // Depth over the limit.
    let mut b = depth2_tree();
    put(&mut b, 0, &header(7, 128, 4, 2, 100, 1, 9));
    let tight = Limits {
        max_depth: 1,
        ..Limits::default()
    };
    assert!(BTreeV2::open(&view(&b), Address(0), &tight).is_err());
    // A cycle: a depth-1 root whose children are both the same leaf.
    let lv = BTreeV2::derive_levels(Sizes::DEFAULT, 128, 4, 1).unwrap();
    let w = limit_enc_size(lv[0].max_nrec);
    let mut b = header(7, 128, 4, 1, 100, 1, 3);
    put(
        &mut b,
        100,
        &internal(7, &[rec(5)], &[(300, 1, None), (300, 1, None)], w, 0),
    );
    put(&mut b, 300, &leaf(7, &[rec(1)]));
    let t = BTreeV2::open(&view(&b), Address(0), &lim).unwrap();
    assert!(t.records().unwrap_err().to_string().contains("twice"));
    // Absurd depth for the node size.
    let b = header(7, 30, 4, 30, 100, 1, 3);
    assert!(BTreeV2::open(&view(&b), Address(0), &lim).is_err());
    // Root record count beyond capacity.
    let b = header(7, 128, 4, 0, 100, 500, 500);
    assert!(BTreeV2::open(&view(&b), Address(0), &lim).is_err());
    // Record size 0.
    let b = header(7, 128, 0, 0, 100, 0, 0);
    assert!(BTreeV2::open(&view(&b), Address(0), &lim).is_err());
}

#[test]
fn record_parsers() {
    let mut r = vec![1, 0, 0, 0];
    r.extend_from_slice(&[9; 7]);
    let l = LinkNameRecord::parse(&r, 0).unwrap();
    assert_eq!((l.hash, l.heap_id.len()), (1, 7));
    let mut r = 5u64.to_le_bytes().to_vec();
    r.extend_from_slice(&[9; 7]);
    assert_eq!(LinkOrderRecord::parse(&r, 0).unwrap().creation_order, 5);
    let mut r = vec![7; 8];
    r.push(1);
    r.extend_from_slice(&3u32.to_le_bytes());
    r.extend_from_slice(&0xabcdu32.to_le_bytes());
    let a = AttrNameRecord::parse(&r, 0).unwrap();
    assert_eq!((a.flags, a.creation_order, a.hash), (1, 3, 0xabcd));
    let a = AttrOrderRecord::parse(&r[..13], 0).unwrap();
    assert_eq!(a.creation_order, 3);
    assert!(AttrNameRecord::parse(&r[..10], 0).is_err());
    assert!(LinkNameRecord::parse(&r[..3], 0).is_err());
    let mut h = 0x100u64.to_le_bytes().to_vec();
    h.extend_from_slice(&50u64.to_le_bytes());
    h.extend_from_slice(&7u64.to_le_bytes());
    let hr = HugeObjectRecord::parse(&h, 1, Sizes::DEFAULT, 0).unwrap();
    assert_eq!((hr.address, hr.length, hr.id), (Address(0x100), 50, 7));
    assert!(HugeObjectRecord::parse(&h, 2, Sizes::DEFAULT, 0).is_err());
    assert!(HugeObjectRecord::parse(&h, 5, Sizes::DEFAULT, 0).is_err());
}

#[test]
fn filtered_chunk_index() {
    // 2-D, chunk 7×4 of 4-byte elements: 112 bytes → size field 2 bytes.
    let rsize = 8 + 2 + 4 + 16;
    let r = |addr: u64, size: u16, mask: u32, s0: u64, s1: u64| {
        let mut v = addr.to_le_bytes().to_vec();
        v.extend_from_slice(&size.to_le_bytes());
        v.extend_from_slice(&mask.to_le_bytes());
        v.extend_from_slice(&s0.to_le_bytes());
        v.extend_from_slice(&s1.to_le_bytes());
        v
    };
    let mut b = header(11, 512, rsize, 0, 100, 2, 2);
    put(
        &mut b,
        100,
        &leaf(11, &[r(0x2000, 60, 0, 1, 2), r(0x1000, 50, 1, 0, 3)]),
    );
    let dims = [40, 30];
    let max = [u64::MAX, u64::MAX];
    let chunk = [7, 4];
    let geom = ChunkGeometry {
        dims: &dims,
        max_dims: &max,
        chunk_dims: &chunk,
        element_size: 4,
        filtered: true,
    };
    let recs = chunk_records(&view(&b), Address(0), &geom, &Limits::default()).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].offset, vec![0, 12]);
    assert_eq!(
        (recs[0].address, recs[0].size, recs[0].filter_mask),
        (Address(0x1000), 50, 1)
    );
    assert_eq!(recs[1].offset, vec![7, 8]);
    // The same tree read as unfiltered: wrong record type.
    let geom_u = ChunkGeometry {
        filtered: false,
        ..geom
    };
    assert!(chunk_records(&view(&b), Address(0), &geom_u, &Limits::default()).is_err());

    // Layout v5 (libhdf5 2.0): an 8-byte chunk size field.
    let mut v = 0x3000u64.to_le_bytes().to_vec();
    v.extend_from_slice(&75u64.to_le_bytes());
    v.extend_from_slice(&0u32.to_le_bytes());
    v.extend_from_slice(&2u64.to_le_bytes());
    v.extend_from_slice(&1u64.to_le_bytes());
    let mut b = header(11, 512, v.len() as u16, 0, 100, 1, 1);
    put(&mut b, 100, &leaf(11, &[v.clone()]));
    let recs = chunk_records(&view(&b), Address(0), &geom, &Limits::default()).unwrap();
    assert_eq!((recs[0].offset.clone(), recs[0].size), (vec![14, 4], 75));
    // Any other width is refused.
    v.push(0);
    let mut b = header(11, 512, v.len() as u16, 0, 100, 1, 1);
    put(&mut b, 100, &leaf(11, &[v]));
    assert!(chunk_records(&view(&b), Address(0), &geom, &Limits::default()).is_err());
    assert_eq!(
        crate::format::chunk_index::filtered_size_width_for_layout(5, 112, Sizes::DEFAULT),
        8
    );
    assert_eq!(
        crate::format::chunk_index::filtered_size_width_for_layout(4, 112, Sizes::DEFAULT),
        2
    );
}
