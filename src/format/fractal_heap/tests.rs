use super::*;
use crate::format::checksum::metadata_checksum;
use crate::format::Sizes;

fn view(bytes: &[u8]) -> FileView<'_> {
    FileView::new(bytes, Sizes::DEFAULT, 0)
}

fn put(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if buf.len() < at + bytes.len() {
        buf.resize(at + bytes.len(), 0);
    }
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

struct Params {
    id_len: u16,
    flags: u8,
    max_man: u32,
    huge_bt: u64,
    managed_space: u64,
    width: u16,
    start: u64,
    max_direct: u64,
    bits: u16,
    root: u64,
    rows: u16,
}

fn header(p: &Params) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"FRHP");
    b.push(0);
    b.extend_from_slice(&p.id_len.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.push(p.flags);
    b.extend_from_slice(&p.max_man.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&p.huge_bt.to_le_bytes());
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&u64::MAX.to_le_bytes());
    b.extend_from_slice(&p.managed_space.to_le_bytes());
    for _ in 0..7 {
        b.extend_from_slice(&0u64.to_le_bytes());
    }
    b.extend_from_slice(&p.width.to_le_bytes());
    b.extend_from_slice(&p.start.to_le_bytes());
    b.extend_from_slice(&p.max_direct.to_le_bytes());
    b.extend_from_slice(&p.bits.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&p.root.to_le_bytes());
    b.extend_from_slice(&p.rows.to_le_bytes());
    let s = metadata_checksum(&b);
    b.extend_from_slice(&s.to_le_bytes());
    b
}

/// A direct block of `size` bytes with `data` placed at block offset
/// `at`; bits = 16 → 2-byte block offsets.
fn direct(heap: u64, block_off: u64, size: usize, sum: bool, objs: &[(usize, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"FHDB");
    b.push(0);
    b.extend_from_slice(&heap.to_le_bytes());
    b.extend_from_slice(&(block_off as u16).to_le_bytes());
    let sum_pos = b.len();
    if sum {
        b.extend_from_slice(&[0; 4]);
    }
    b.resize(size, 0);
    for (at, d) in objs {
        b[*at..*at + d.len()].copy_from_slice(d);
    }
    if sum {
        let s = metadata_checksum(&b);
        b[sum_pos..sum_pos + 4].copy_from_slice(&s.to_le_bytes());
    }
    b
}

fn indirect(heap: u64, block_off: u64, entries: &[u64]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(b"FHIB");
    b.push(0);
    b.extend_from_slice(&heap.to_le_bytes());
    b.extend_from_slice(&(block_off as u16).to_le_bytes());
    for e in entries {
        b.extend_from_slice(&e.to_le_bytes());
    }
    let s = metadata_checksum(&b);
    b.extend_from_slice(&s.to_le_bytes());
    b
}

fn base_params() -> Params {
    Params {
        id_len: 7,
        flags: FLAG_CHECKSUM_DIRECT_BLOCKS,
        max_man: 64,
        huge_bt: u64::MAX,
        managed_space: 4096,
        width: 2,
        start: 64,
        max_direct: 128,
        bits: 16,
        root: 1000,
        rows: 0,
    }
}

fn managed_id(off: u64, len: u64) -> Vec<u8> {
    // 16 bits → 2-byte offsets; max_man 64 → 1-byte lengths.
    let mut id = vec![0u8];
    id.extend_from_slice(&(off as u16).to_le_bytes());
    id.push(len as u8);
    id.resize(7, 0);
    id
}

#[test]
fn root_direct_block_and_tiny() {
    let p = base_params();
    let mut b = header(&p);
    put(
        &mut b,
        1000,
        &direct(0, 0, 64, true, &[(20, b"hello world")]),
    );
    let h = FractalHeap::open(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(h.get(&managed_id(20, 11)).unwrap().as_ref(), b"hello world");
    assert_eq!(h.get(&managed_id(20, 5)).unwrap().as_ref(), b"hello");
    // Overlapping the header, running past the block.
    assert!(h.get(&managed_id(2, 5)).is_err());
    assert!(h.get(&managed_id(60, 10)).is_err());
    // Tiny: length 3 (stored as 2), data after the first byte.
    assert_eq!(
        h.get(&[0x22, b'a', b'b', b'c', 0, 0, 0]).unwrap().as_ref(),
        b"abc"
    );
    assert!(h.get(&[0x2f, 1, 2]).is_err());
    // Reserved type, bad version, empty.
    assert!(h.get(&[0x30, 0, 0]).is_err());
    assert!(h.get(&[0x40, 0, 0]).is_err());
    assert!(h.get(&[]).is_err());
    // Corrupt the block: checksum mismatch.
    let mut bad = b.clone();
    bad[1030] ^= 1;
    let h = FractalHeap::open(&view(&bad), Address(0), &Limits::default()).unwrap();
    assert!(h
        .get(&managed_id(20, 5))
        .unwrap_err()
        .to_string()
        .contains("checksum"));
}

#[test]
fn indirect_rows_and_nested_blocks() {
    // width 2, start 64, max direct 128: direct rows 0,1 (64), 2 (128);
    // max_direct_rows = 7 - 6 + 2 = 3. Root with 5 rows: rows 3 and 4
    // hold indirect blocks spanning 256 and 512 bytes.
    let mut p = base_params();
    p.rows = 5;
    p.managed_space = 2048;
    let mut b = header(&p);
    let o = |x: u64| x;
    // Root entries: 6 direct (rows 0..3) + 4 indirect (rows 3..5).
    let mut entries = vec![u64::MAX; 10];
    entries[0] = o(2000); // row 0 col 0: heap 0..64
    entries[3] = o(2100); // row 1 col 1: heap 192..256
    entries[5] = o(2200); // row 2 col 1: heap 384..512
    entries[7] = o(3000); // row 3 col 1: indirect, heap 768..1024
    put(&mut b, 1000, &indirect(0, 0, &entries));
    put(&mut b, 2000, &direct(0, 0, 64, true, &[(30, b"zero")]));
    put(&mut b, 2100, &direct(0, 192, 64, true, &[(20, b"one")]));
    put(&mut b, 2200, &direct(0, 384, 128, true, &[(100, b"two")]));
    // Child indirect block for a 256-byte span: rows = 8 - 7 + 1 = 2
    // (2 × 2 direct entries of 64 bytes).
    put(
        &mut b,
        3000,
        &indirect(0, 768, &[u64::MAX, 3100, u64::MAX, u64::MAX]),
    );
    put(&mut b, 3100, &direct(0, 832, 64, true, &[(40, b"nested")]));
    let h = FractalHeap::open(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(h.get(&managed_id(30, 4)).unwrap().as_ref(), b"zero");
    assert_eq!(h.get(&managed_id(212, 3)).unwrap().as_ref(), b"one");
    assert_eq!(h.get(&managed_id(484, 3)).unwrap().as_ref(), b"two");
    assert_eq!(h.get(&managed_id(872, 6)).unwrap().as_ref(), b"nested");
    // Missing blocks.
    assert!(h.get(&managed_id(100, 3)).is_err());
    assert!(h.get(&managed_id(1100, 3)).is_err());

    // A self-referencing indirect block: the child entry points at root.
    let mut bad = b.clone();
    entries[7] = 1000;
    put(&mut bad, 1000, &indirect(0, 0, &entries));
    let h = FractalHeap::open(&view(&bad), Address(0), &Limits::default()).unwrap();
    assert!(h.get(&managed_id(872, 6)).is_err());
}

/// (start, length, checksum position, checksum field zeroed while summing).
type Sealed = (usize, usize, usize, bool);

/// The heap of `indirect_rows_and_nested_blocks`, with the regions each
/// checksum covers: (start, length, checksum position, zeroed-field).
fn nested_heap() -> (Vec<u8>, Vec<Sealed>) {
    let mut p = base_params();
    p.rows = 5;
    p.managed_space = 2048;
    let mut b = header(&p);
    let hlen = b.len();
    let mut entries = vec![u64::MAX; 10];
    entries[0] = 2000;
    entries[3] = 2100;
    entries[5] = 2200;
    entries[7] = 3000;
    put(&mut b, 1000, &indirect(0, 0, &entries));
    put(&mut b, 2000, &direct(0, 0, 64, true, &[(30, b"zero")]));
    put(&mut b, 2100, &direct(0, 192, 64, true, &[(20, b"one")]));
    put(&mut b, 2200, &direct(0, 384, 128, true, &[(100, b"two")]));
    put(
        &mut b,
        3000,
        &indirect(0, 768, &[u64::MAX, 3100, u64::MAX, u64::MAX]),
    );
    put(&mut b, 3100, &direct(0, 832, 64, true, &[(40, b"nested")]));
    let sealed = vec![
        (0, hlen - 4, hlen - 4, false),
        (1000, 95, 1095, false),
        (3000, 47, 3047, false),
        (2000, 64, 2015, true),
        (2100, 64, 2115, true),
        (2200, 128, 2215, true),
        (3100, 64, 3115, true),
    ];
    (b, sealed)
}

/// Every single-byte change, with checksums recomputed so the change
/// reaches the field parsers: errors are fine, panics are not.
#[test]
fn single_byte_mutations_never_panic() {
    let (orig, sealed) = nested_heap();
    let ids = [
        managed_id(30, 4),
        managed_id(212, 3),
        managed_id(484, 3),
        managed_id(872, 6),
        vec![0x22, 1, 2, 3, 0, 0, 0],
        vec![0x10, 1, 0, 0, 0, 0, 0],
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
            for &(start, len, sum, zeroed) in &sealed {
                if zeroed {
                    b[sum..sum + 4].fill(0);
                }
                let c = metadata_checksum(&b[start..start + len]);
                b[sum..sum + 4].copy_from_slice(&c.to_le_bytes());
            }
            if let Ok(h) = FractalHeap::open(&view(&b), Address(0), &lim) {
                for id in &ids {
                    let _ = h.get(id);
                }
            }
        }
    }
}

#[test]
fn hostile_headers() {
    let lim = Limits::default();
    let check = |f: &dyn Fn(&mut Params)| {
        let mut p = base_params();
        f(&mut p);
        let b = header(&p);
        FractalHeap::open(&view(&b), Address(0), &lim).is_err()
    };
    assert!(!check(&|_| {}));
    assert!(check(&|p| p.width = 3));
    assert!(check(&|p| p.width = 0));
    assert!(check(&|p| p.start = 100));
    assert!(check(&|p| p.start = 0));
    assert!(check(&|p| p.max_direct = 32));
    assert!(check(&|p| p.max_direct = 96));
    assert!(check(&|p| p.bits = 0));
    assert!(check(&|p| p.bits = 65));
    assert!(check(&|p| p.bits = 6));
    assert!(check(&|p| p.rows = 100));
    assert!(check(&|p| p.max_man = 1 << 20));
    assert!(check(&|p| p.id_len = 0));
    // Checksum.
    let mut b = header(&base_params());
    b[20] ^= 1;
    assert!(FractalHeap::open(&view(&b), Address(0), &lim).is_err());
}

#[test]
fn huge_objects_direct_and_by_btree() {
    use crate::format::btree_v2::tests::{header as bt_header, leaf};
    // Direct: ID long enough for address + length (1 + 8 + 8).
    let mut p = base_params();
    p.id_len = 17;
    let mut b = header(&p);
    put(&mut b, 500, b"HUGE OBJECT BYTES");
    let mut id = vec![0x10];
    id.extend_from_slice(&500u64.to_le_bytes());
    id.extend_from_slice(&10u64.to_le_bytes());
    let h = FractalHeap::open(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(h.get(&id).unwrap().as_ref(), b"HUGE OBJEC");
    id[9] = 0xff;
    assert!(h.get(&id).is_err());

    // Through the B-tree: 8-byte IDs (7-byte object IDs), type 1 records.
    let mut p = base_params();
    p.id_len = 8;
    p.huge_bt = 300;
    let mut b = header(&p);
    let rec = |addr: u64, len: u64, id: u64| {
        let mut r = addr.to_le_bytes().to_vec();
        r.extend_from_slice(&len.to_le_bytes());
        r.extend_from_slice(&id.to_le_bytes());
        r
    };
    put(&mut b, 300, &bt_header(1, 512, 24, 0, 400, 2, 2));
    put(&mut b, 400, &leaf(1, &[rec(900, 4, 1), rec(950, 3, 2)]));
    put(&mut b, 900, b"AAAA");
    put(&mut b, 950, b"BBB");
    let h = FractalHeap::open(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(
        h.get(&[0x10, 2, 0, 0, 0, 0, 0, 0]).unwrap().as_ref(),
        b"BBB"
    );
    assert_eq!(
        h.get(&[0x10, 1, 0, 0, 0, 0, 0, 0]).unwrap().as_ref(),
        b"AAAA"
    );
    let e = h.get(&[0x10, 3, 0, 0, 0, 0, 0, 0]).unwrap_err().to_string();
    assert!(e.contains("huge object 3"), "{e}");
}
