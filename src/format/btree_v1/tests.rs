use super::*;
use crate::format::Sizes;

fn view(bytes: &[u8]) -> FileView<'_> {
    FileView::new(bytes, Sizes::DEFAULT, 0)
}

/// Writes a v1 B-tree node at `at` in `buf` (growing it).
pub(crate) fn put_node(
    buf: &mut Vec<u8>,
    at: usize,
    node_type: u8,
    level: u8,
    keys: &[Vec<u8>],
    children: &[u64],
) {
    let mut n = Vec::new();
    n.extend_from_slice(b"TREE");
    n.push(node_type);
    n.push(level);
    n.extend_from_slice(&(children.len() as u16).to_le_bytes());
    n.extend_from_slice(&u64::MAX.to_le_bytes());
    n.extend_from_slice(&u64::MAX.to_le_bytes());
    for (i, ch) in children.iter().enumerate() {
        n.extend_from_slice(&keys[i]);
        n.extend_from_slice(&ch.to_le_bytes());
    }
    n.extend_from_slice(&keys[children.len()]);
    if buf.len() < at + n.len() {
        buf.resize(at + n.len(), 0);
    }
    buf[at..at + n.len()].copy_from_slice(&n);
}

fn chunk_key(size: u32, mask: u32, off: &[u64]) -> Vec<u8> {
    let mut k = Vec::new();
    k.extend_from_slice(&size.to_le_bytes());
    k.extend_from_slice(&mask.to_le_bytes());
    for o in off {
        k.extend_from_slice(&o.to_le_bytes());
    }
    k.extend_from_slice(&0u64.to_le_bytes());
    k
}

#[test]
fn two_level_chunk_tree() {
    let mut b = Vec::new();
    // Root (level 1) at 0 with two leaves at 200 and 400.
    let k = |r: u64| chunk_key(0, 0, &[r, 0]);
    put_node(&mut b, 0, 1, 1, &[k(0), k(20), k(40)], &[200, 400]);
    put_node(
        &mut b,
        200,
        1,
        0,
        &[chunk_key(11, 0, &[0, 0]), chunk_key(12, 1, &[10, 0]), k(20)],
        &[1000, 1100],
    );
    put_node(
        &mut b,
        400,
        1,
        0,
        &[
            chunk_key(13, 0, &[20, 0]),
            chunk_key(14, 2, &[30, 0]),
            k(40),
        ],
        &[1200, 1300],
    );
    b.resize(1400, 0);
    let recs = chunk_records(&view(&b), Address(0), 2, &Limits::default()).unwrap();
    let got: Vec<_> = recs
        .iter()
        .map(|r| (r.offset[0], r.address.0, r.size, r.filter_mask))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 1000, 11, 0),
            (10, 1100, 12, 1),
            (20, 1200, 13, 0),
            (30, 1300, 14, 2)
        ]
    );
}

#[test]
fn cycles_levels_and_depth() {
    let k = |r: u64| chunk_key(0, 0, &[r]);
    // A level-1 node whose child is itself.
    let mut b = Vec::new();
    put_node(&mut b, 0, 1, 1, &[k(0), k(1)], &[0]);
    let e = chunk_records(&view(&b), Address(0), 1, &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
    // A level-2 node pointing at a level-2 node.
    let mut b = Vec::new();
    put_node(&mut b, 0, 1, 2, &[k(0), k(1)], &[100]);
    put_node(&mut b, 100, 1, 2, &[k(0), k(1)], &[200]);
    let e = chunk_records(&view(&b), Address(0), 1, &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("level"), "{e}");
    // A deep chain beyond max_depth.
    let mut b = Vec::new();
    for i in 0..10u8 {
        put_node(
            &mut b,
            i as usize * 100,
            1,
            200 - i,
            &[k(0), k(1)],
            &[(i as u64 + 1) * 100],
        );
    }
    let lim = Limits {
        max_depth: 4,
        ..Limits::default()
    };
    assert!(matches!(
        chunk_records(&view(&b), Address(0), 1, &lim),
        Err(Error::LimitsExceeded { .. })
    ));
    // Entries used larger than the file.
    let mut b = Vec::new();
    put_node(&mut b, 0, 1, 0, &[k(0), k(1)], &[0]);
    b[6] = 0xff;
    b[7] = 0xff;
    assert!(chunk_records(&view(&b), Address(0), 1, &Limits::default()).is_err());
    // Wrong node type.
    let mut b = Vec::new();
    put_node(&mut b, 0, 0, 0, &[vec![0; 8], vec![0; 8]], &[0]);
    assert!(chunk_records(&view(&b), Address(0), 1, &Limits::default()).is_err());
}

/// Every single-byte change of a two-level tree: errors are fine,
/// panics are not.
#[test]
fn single_byte_mutations_never_panic() {
    let k = |r: u64| chunk_key(0, 0, &[r, 0]);
    let mut orig = Vec::new();
    put_node(&mut orig, 0, 1, 1, &[k(0), k(20), k(40)], &[200, 400]);
    put_node(&mut orig, 200, 1, 0, &[k(0), k(10), k(20)], &[1000, 1100]);
    put_node(&mut orig, 400, 1, 0, &[k(20), k(30), k(40)], &[1200, 1300]);
    orig.resize(1400, 0);
    let lim = Limits::strict();
    for i in 0..600 {
        for v in [
            0u8,
            0xff,
            orig[i] ^ 1,
            orig[i] ^ 0x80,
            orig[i].wrapping_add(3),
        ] {
            let mut b = orig.clone();
            b[i] = v;
            let _ = chunk_records(&view(&b), Address(0), 2, &lim);
            let _ = group_snod_addresses(&view(&b), Address(0), &lim);
        }
    }
}

#[test]
fn encode_round_trips() {
    let sizes = Sizes::DEFAULT;
    assert_eq!(node_size_group(16, sizes), 544);
    assert_eq!(node_size_chunk(32, 1, sizes), 2096);
    // A level-1 chunk tree over two leaves, all encoded.
    let key = |size: u32, mask: u32, r: u64| ChunkKey {
        size,
        filter_mask: mask,
        offset: vec![r, 0],
    };
    let root_at = 0u64;
    let leaf = node_size_chunk(32, 2, sizes) as u64;
    let mut b = encode_chunk_node(
        1,
        Address::UNDEFINED,
        Address::UNDEFINED,
        &[key(0, 0, 0), key(0, 0, 20), key(0, 0, 40)],
        &[Address(leaf), Address(2 * leaf)],
        32,
        2,
    )
    .unwrap();
    assert_eq!(b.len() as u64, leaf);
    b.extend(
        encode_chunk_node(
            0,
            Address::UNDEFINED,
            Address(2 * leaf),
            &[key(11, 0, 0), key(12, 1, 10), key(0, 0, 20)],
            &[Address(10_000), Address(10_100)],
            32,
            2,
        )
        .unwrap(),
    );
    b.extend(
        encode_chunk_node(
            0,
            Address(leaf),
            Address::UNDEFINED,
            &[key(13, 0, 20), key(14, 2, 30), key(0, 0, 40)],
            &[Address(10_200), Address(10_300)],
            32,
            2,
        )
        .unwrap(),
    );
    b.resize(10_400, 0);
    let recs = chunk_records(&view(&b), Address(root_at), 2, &Limits::default()).unwrap();
    let got: Vec<_> = recs
        .iter()
        .map(|r| (r.offset[0], r.address.0, r.size, r.filter_mask))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 10_000, 11, 0),
            (10, 10_100, 12, 1),
            (20, 10_200, 13, 0),
            (30, 10_300, 14, 2)
        ]
    );
    let node = BTreeV1Node::parse(
        &view(&b),
        Address(leaf),
        NODE_TYPE_CHUNK,
        chunk_key_size(2),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(node.right, Address(2 * leaf));
    assert!(node.left.is_undefined());
    // Group node.
    let g = encode_group_node(
        0,
        Address::UNDEFINED,
        Address::UNDEFINED,
        &[0, 8],
        &[Address(0x430)],
        16,
    )
    .unwrap();
    assert_eq!(g.len(), 544);
    let mut file = g.clone();
    file.resize(0x500, 0);
    assert_eq!(
        group_snod_addresses(&view(&file), Address(0), &Limits::default()).unwrap(),
        vec![Address(0x430)]
    );
    // Bad inputs.
    assert!(encode_group_node(0, Address(0), Address(0), &[0], &[Address(1)], 16).is_err());
    let kids = vec![Address(1); 33];
    assert!(encode_group_node(0, Address(0), Address(0), &[0; 34], &kids, 16).is_err());
    assert!(encode_chunk_node(
        0,
        Address(0),
        Address(0),
        &[key(0, 0, 0), key(0, 0, 1)],
        &[Address(1)],
        32,
        3
    )
    .is_err());
}

#[test]
fn group_tree() {
    let k = |v: u64| v.to_le_bytes().to_vec();
    let mut b = Vec::new();
    put_node(&mut b, 0, 0, 1, &[k(0), k(5), k(9)], &[100, 300]);
    put_node(&mut b, 100, 0, 0, &[k(0), k(2), k(5)], &[1000, 1100]);
    put_node(&mut b, 300, 0, 0, &[k(5), k(9)], &[1200]);
    let got = group_snod_addresses(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(got, vec![Address(1000), Address(1100), Address(1200)]);
}
