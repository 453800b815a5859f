//! The datatype message parser, and its encoder as a round trip.
//!
//! Header layout (see [`Input`]): `sizes (1) | message bytes`. A message
//! that parses is encoded at its own version and at every version 1 to 5
//! (the encoder stamps `max(version, min_version())`); every encoding that
//! succeeds must parse back to the same datatype, consume exactly the
//! encoded bytes, carry the expected version, and encode again to the same
//! bytes. The encoder may refuse what it cannot write (revised references,
//! numbers too wide for a 16-bit precision, an enum over a non-integer,
//! over-long opaque tags, empty member names...), but never panic.

use h5sparse::format::message::datatype::{CompoundMember, Datatype, MAX_NESTING};
use h5sparse::format::types::ByteOrder;
use h5sparse::format::Sizes;

use super::input::{Header, Input};

/// `sizes | message` → [`Datatype::parse`] → [`Datatype::encode`] at every
/// version → parse again.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.sizes();
    let msg = input.rest();
    let Ok((dt, used)) = Datatype::parse(msg, 0, sizes) else {
        return;
    };
    assert!(
        used <= msg.len(),
        "parse consumed {used} of {} bytes",
        msg.len()
    );
    check_accessors(&dt, 0);
    let own = msg[0] >> 4;
    for version in [own, 1, 2, 3, 4, 5] {
        round_trip(&dt, version, sizes);
    }
    // Versions outside 1..=5 are refused, not encoded.
    for version in [0, 6, 15] {
        assert!(
            dt.encode(version).is_err(),
            "encode accepted version {version}"
        );
    }
}

/// `size()`, `min_version()` and `class_name()` of `dt` and everything
/// nested in it: no panic, and a version the encoder knows.
fn check_accessors(dt: &Datatype, depth: u32) {
    assert!(
        depth <= MAX_NESTING + 1,
        "nested deeper than the parser allows"
    );
    let _ = dt.size();
    let _ = dt.class_name();
    let v = dt.min_version();
    assert!((1..=5).contains(&v), "min_version {v}");
    match dt {
        Datatype::Enum { base, .. }
        | Datatype::VarSequence { base, .. }
        | Datatype::Array { base, .. }
        | Datatype::Complex { base, .. } => check_accessors(base, depth + 1),
        Datatype::Compound { members, .. } => {
            for m in members {
                check_accessors(&m.dtype, depth + 1);
            }
        }
        _ => {}
    }
}

fn round_trip(dt: &Datatype, version: u8, sizes: Sizes) {
    let Ok(bytes) = dt.encode(version) else {
        return;
    };
    let stamped = version.max(dt.min_version());
    assert_eq!(
        bytes.first().map(|b| b >> 4),
        Some(stamped),
        "{dt:?} encoded at {version}: version nibble"
    );
    let (back, used) = match Datatype::parse(&bytes, 0, sizes) {
        Ok(r) => r,
        Err(e) => panic!("{dt:?} encoded at {version} does not parse: {e}\n{bytes:02x?}"),
    };
    assert_eq!(
        used,
        bytes.len(),
        "{dt:?} encoded at {version}: parse consumed {used} of {} bytes",
        bytes.len()
    );
    assert_eq!(&back, dt, "encoded at {version}: {bytes:02x?}");
    match back.encode(version) {
        Ok(again) => assert_eq!(again, bytes, "{dt:?}: second encoding at {version} differs"),
        Err(e) => panic!("{dt:?}: re-parsed datatype does not encode at {version}: {e}"),
    }
}

/// Seeds no fixture holds (the fixtures give the rest, see `seeds.rs`):
/// the complex class (HDF5 2.0), arrays and records of it, the revised
/// reference kinds, a version 1 compound with an old-style array member.
pub fn built_seeds() -> Vec<Vec<u8>> {
    let f32le = || Datatype::ieee_float(4, ByteOrder::Little).expect("f32");
    let f64be = || Datatype::ieee_float(8, ByteOrder::Big).expect("f64");
    let c64 = Datatype::Complex {
        size: 8,
        base: Box::new(f32le()),
    };
    let c128 = Datatype::Complex {
        size: 16,
        base: Box::new(f64be()),
    };
    let array = Datatype::Array {
        size: 48,
        dims: vec![2, 3],
        base: Box::new(c64.clone()),
    };
    let record = Datatype::Compound {
        size: 24,
        members: vec![
            CompoundMember {
                name: "z".into(),
                offset: 0,
                dtype: c128.clone(),
            },
            CompoundMember {
                name: "n".into(),
                offset: 16,
                dtype: Datatype::int(8, true),
            },
        ],
    };
    let seq = Datatype::VarSequence {
        size: 16,
        base: Box::new(record.clone()),
    };
    let mut msgs: Vec<Vec<u8>> = [c64, c128, array, record, seq]
        .iter()
        .filter_map(|d| d.encode(5).ok())
        .collect();
    // Revised references (H5R_OBJECT2, H5R_DATASET_REGION2, H5R_ATTR):
    // version 4, class 7, 64-byte buffers.
    for kind in 2u8..=4 {
        let mut m = vec![0x47, kind, 0, 0];
        m.extend_from_slice(&64u32.to_le_bytes());
        msgs.push(m);
    }
    // Version 1 compound of 24 bytes, one member "a" at 0: a 2 x 3 array
    // (described in the member) of 4-byte integers.
    let mut m = vec![0x16, 1, 0, 0];
    m.extend_from_slice(&24u32.to_le_bytes());
    m.extend_from_slice(b"a\0\0\0\0\0\0\0");
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&[2, 0, 0, 0]);
    m.extend_from_slice(&[0; 8]);
    for d in [2u32, 3, 0, 0] {
        m.extend_from_slice(&d.to_le_bytes());
    }
    m.extend_from_slice(&Datatype::int(4, true).encode(1).expect("int"));
    msgs.push(m);
    msgs.into_iter()
        .map(|m| Header::new().u8(0).then(&m))
        .collect()
}
