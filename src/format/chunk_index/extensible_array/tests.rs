use super::super::test_util::seal;
use super::*;
use crate::format::Sizes;

const UNDEF: u64 = u64::MAX;
const HDR: u64 = 0;
const HDR_LEN: usize = 72;

/// Appends structures and hands back their addresses; the header is
/// written last into the space reserved at 0.
struct Builder(Vec<u8>);

impl Builder {
    fn place(&mut self, v: &[u8]) -> u64 {
        let at = self.0.len() as u64;
        self.0.extend_from_slice(v);
        at
    }
}

fn prefix(sig: &[u8; 4]) -> Vec<u8> {
    let mut v = sig.to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&HDR.to_le_bytes());
    v
}

fn addrs(list: &[u64]) -> Vec<u8> {
    list.iter().flat_map(|a| a.to_le_bytes()).collect()
}

fn data_block(entries: &[u64]) -> Vec<u8> {
    let mut v = prefix(b"EADB");
    v.push(0); // block offset (1 byte for 8 max-nelmts bits)
    v.extend(addrs(entries));
    seal(&mut v);
    v
}

/// A paged data block of 2 pages of 4 entries; `None` pages stay zero.
fn paged_block(pages: [Option<[u64; 4]>; 2]) -> Vec<u8> {
    let mut v = prefix(b"EADB");
    v.push(0);
    seal(&mut v);
    for p in pages {
        match p {
            Some(e) => {
                let mut page = addrs(&e);
                seal(&mut page);
                v.extend(page);
            }
            None => v.extend([0u8; 36]),
        }
    }
    v
}

fn header(max_index_set: u64, iblock: u64) -> Vec<u8> {
    let mut v = b"EAHD".to_vec();
    // version, client, element size, max bits, iblock elmts,
    // dblk min elmts, sblk min ptrs, page bits
    v.extend_from_slice(&[0, 0, 8, 8, 2, 2, 2, 2]);
    for stat in [0u64, 0, 0, 0, max_index_set, 0] {
        v.extend_from_slice(&stat.to_le_bytes());
    }
    v.extend_from_slice(&iblock.to_le_bytes());
    seal(&mut v);
    assert_eq!(v.len(), HDR_LEN);
    v
}

/// Parameters: 2 entries in the index block, data blocks of at least 2
/// entries, super blocks of at least 2 data blocks, 4-entry pages,
/// 8 max-nelmts bits. Super blocks: u0 1x2 entries (2..4), u1 1x4
/// (4..8), both listed in the index block; u2 2x4 (8..16) and u3 2x8
/// (16..32, paged) through EASB blocks.
fn build(max_index_set: u64) -> Vec<u8> {
    let mut b = Builder(vec![0u8; HDR_LEN]);
    let d0 = b.place(&data_block(&[1002, 1003]));
    let d2a = b.place(&data_block(&[1008, UNDEF, UNDEF, 1011]));
    let mut s2 = prefix(b"EASB");
    s2.push(0);
    s2.extend(addrs(&[d2a, UNDEF]));
    seal(&mut s2);
    let s2 = b.place(&s2);
    let d3a = b.place(&paged_block([None, Some([1020, UNDEF, UNDEF, 1023])]));
    let d3b = b.place(&paged_block([
        Some([1024, UNDEF, UNDEF, UNDEF]),
        Some([UNDEF, 1029, 1030, UNDEF]),
    ]));
    let mut s3 = prefix(b"EASB");
    s3.push(0);
    s3.extend_from_slice(&[0b0100_0000, 0b1100_0000]); // page bitmaps
    s3.extend(addrs(&[d3a, d3b]));
    seal(&mut s3);
    let s3 = b.place(&s3);
    let mut ib = prefix(b"EAIB");
    ib.extend(addrs(&[1000, UNDEF])); // elements
    ib.extend(addrs(&[d0, UNDEF])); // data blocks of u0, u1
    ib.extend(addrs(&[s2, s3, UNDEF, UNDEF, UNDEF, UNDEF])); // super blocks
    seal(&mut ib);
    let ib = b.place(&ib);
    let h = header(max_index_set, ib);
    b.0[..HDR_LEN].copy_from_slice(&h);
    b.0
}

fn view(bytes: &[u8]) -> FileView<'_> {
    FileView::new(bytes, Sizes::DEFAULT, 0)
}

#[test]
fn walks_every_block_kind_with_swizzled_offsets() {
    let f = build(30);
    // dims (3, 20) with dimension 1 unlimited, chunks (1, 2): the slab
    // of the other dimensions holds 3 chunks, so entry i is the chunk
    // (i % 3, i / 3) in chunk coordinates.
    let g = ChunkGeometry {
        dims: &[3, 20],
        max_dims: &[3, u64::MAX],
        chunk_dims: &[1, 2],
        element_size: 4,
        filtered: false,
    };
    let r = records(&view(&f), Address(HDR), &g, &Limits::default()).unwrap();
    let mut got: Vec<(Vec<u64>, u64)> = r.iter().map(|r| (r.offset.clone(), r.address.0)).collect();
    got.sort();
    let chunk = |i: u64| vec![i % 3, (i / 3) * 2];
    let mut want: Vec<(Vec<u64>, u64)> = [0u64, 2, 3, 8, 11, 20, 23, 24, 29]
        .iter()
        .map(|&i| (chunk(i), 1000 + i))
        .collect();
    want.sort();
    // Entry 30 is past "Maximum Index Set" and is ignored.
    assert_eq!(got, want);
    assert!(r.iter().all(|r| r.size == 8 && r.filter_mask == 0));
    // Fewer entries set: the walk stops early.
    let f = build(9);
    let r = records(&view(&f), Address(HDR), &g, &Limits::default()).unwrap();
    assert_eq!(r.len(), 4); // entries 0, 2, 3, 8
}

#[test]
fn corruption_is_detected() {
    let f = build(30);
    let g = ChunkGeometry {
        dims: &[32],
        max_dims: &[u64::MAX],
        chunk_dims: &[1],
        element_size: 1,
        filtered: false,
    };
    assert_eq!(
        records(&view(&f), Address(HDR), &g, &Limits::default())
            .unwrap()
            .len(),
        9
    );
    // Any single flipped byte in the used structures is caught by a
    // checksum, a signature or a structural check, never a panic.
    for pos in 0..f.len() {
        let mut bad = f.clone();
        bad[pos] ^= 0x10;
        let _ = records(&view(&bad), Address(HDR), &g, &Limits::default());
    }
    for pos in [3usize, 10, HDR_LEN + 20] {
        let mut bad = f.clone();
        bad[pos] ^= 0x10;
        assert!(records(&view(&bad), Address(HDR), &g, &Limits::default()).is_err());
    }
    for cut in 0..f.len() {
        let _ = records(&view(&f[..cut]), Address(HDR), &g, &Limits::default());
    }
    assert!(records(
        &view(&f[..f.len() - 1]),
        Address(HDR),
        &g,
        &Limits::default()
    )
    .is_err());
    // No unlimited dimension, or two.
    let fixed = ChunkGeometry {
        max_dims: &[32],
        ..g
    };
    assert!(records(&view(&f), Address(HDR), &fixed, &Limits::default()).is_err());
    let g2 = ChunkGeometry {
        dims: &[1, 1],
        max_dims: &[u64::MAX, u64::MAX],
        chunk_dims: &[1, 1],
        element_size: 1,
        filtered: false,
    };
    assert!(records(&view(&f), Address(HDR), &g2, &Limits::default()).is_err());
    // Filtered dataset but client id 0.
    let gf = ChunkGeometry {
        filtered: true,
        ..g
    };
    assert!(records(&view(&f), Address(HDR), &gf, &Limits::default()).is_err());
    // Record budget.
    let tight = Limits {
        max_alloc: 200,
        ..Limits::default()
    };
    assert!(matches!(
        records(&view(&f), Address(HDR), &g, &tight),
        Err(Error::LimitsExceeded { .. })
    ));
}

#[test]
fn hostile_parameters() {
    // Non-power-of-two data block minimum.
    let mut h = header(30, 100);
    h[9] = 3;
    h.truncate(HDR_LEN - 4);
    seal(&mut h);
    let g = ChunkGeometry {
        dims: &[32],
        max_dims: &[u64::MAX],
        chunk_dims: &[1],
        element_size: 1,
        filtered: false,
    };
    let mut f = h.clone();
    f.resize(400, 0);
    assert!(records(&view(&f), Address(HDR), &g, &Limits::default()).is_err());
    // max nelmts bits 64 with huge max index set: super blocks claim
    // billions of data blocks; the file size bounds it.
    let mut h = header(u64::MAX, 72);
    h[7] = 64;
    h.truncate(HDR_LEN - 4);
    seal(&mut h);
    let mut ib = prefix(b"EAIB");
    ib.extend(addrs(&[UNDEF, UNDEF, UNDEF, UNDEF]));
    let mut sblks = vec![UNDEF; 64 - 2];
    sblks[20] = 0; // points at the header: wrong signature
    ib.extend(addrs(&sblks));
    seal(&mut ib);
    let mut f = h;
    f.extend(ib);
    let e = records(&view(&f), Address(HDR), &g, &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("signature"), "{e}");
}

#[test]
fn encode_round_trips_through_super_blocks() {
    use super::super::IndexEntry;
    let params = ExtensibleArrayParams::DEFAULT;
    for (n, filtered) in [
        (0u64, false),
        (3, false),
        (4, true),
        (21, false),
        (700, true),
        (5000, false),
    ] {
        let entries: Vec<IndexEntry> = (0..n)
            .map(|i| {
                if i % 5 == 2 {
                    IndexEntry::UNDEFINED
                } else {
                    IndexEntry {
                        address: Address(1_000_000 + i * 32),
                        size: if filtered { 9 + i % 11 } else { 32 },
                        filter_mask: if filtered { (i % 2) as u32 } else { 0 },
                    }
                }
            })
            .collect();
        let width = filtered.then(|| super::super::filtered_size_width(32));
        let at = 48u64;
        let blob = encode(Address(at), &entries, width, &params, Sizes::DEFAULT).unwrap();
        let mut f = vec![0u8; at as usize];
        f.extend_from_slice(&blob);
        let view = FileView::new(&f, Sizes::DEFAULT, 0);
        let h = ExtensibleArrayHeader::parse(&view, Address(at)).unwrap();
        assert_eq!(h.max_index_set, n);
        let g = ChunkGeometry {
            dims: &[n * 4],
            max_dims: &[u64::MAX],
            chunk_dims: &[4],
            element_size: 8,
            filtered,
        };
        let r = records(&view, Address(at), &g, &Limits::default()).unwrap();
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
