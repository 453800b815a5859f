use super::*;

fn int(version: u8, size: u32, big: bool, signed: bool) -> Vec<u8> {
    let mut b = vec![(version << 4), (big as u8) | ((signed as u8) << 3), 0, 0];
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&((size * 8) as u16).to_le_bytes());
    b
}

#[test]
fn integers() {
    let d = int(1, 4, true, true);
    let (dt, n) = Datatype::parse(&d, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, 12);
    assert_eq!(
        dt,
        Datatype::FixedPoint {
            size: 4,
            order: ByteOrder::Big,
            signed: true
        }
    );
    assert_eq!(dt.class_name(), "integer");
}

#[test]
fn float_le_f64() {
    let d = [
        0x11, 0x20, 0x3f, 0x00, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xff, 0x03, 0, 0,
    ];
    let (dt, n) = Datatype::parse(&d, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, 20);
    match dt {
        Datatype::FloatingPoint {
            size: 8,
            order: ByteOrder::Little,
            sign_location: 63,
            exponent_bias: 1023,
            mantissa_size: 52,
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    let mut vax = d;
    vax[1] |= 0x41;
    assert!(matches!(
        Datatype::parse(&vax, 0, Sizes::DEFAULT),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn enum_v5_bool_like_h5py() {
    // Bytes as libhdf5 2.0 writes h5py's bool under libver='latest'.
    let d = [
        0x58, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x08, 0x00, b'F', b'A', b'L', b'S', b'E', 0, b'T', b'R', b'U', b'E', 0,
        0x00, 0x01,
    ];
    let (dt, n) = Datatype::parse(&d, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, d.len());
    match &dt {
        Datatype::Enum {
            base,
            names,
            values,
        } => {
            assert_eq!(base.size(), 1);
            assert_eq!(names, &["FALSE", "TRUE"]);
            assert_eq!(values, &[vec![0], vec![1]]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(dt.size(), 1);
    // Version 1 pads names to 8 bytes.
    let mut v1 = vec![0x18, 0x02, 0x00, 0x00, 0x01, 0, 0, 0];
    v1.extend(int(1, 1, false, true));
    v1.extend_from_slice(b"FALSE\0\0\0TRUE\0\0\0\0");
    v1.extend_from_slice(&[0, 1]);
    let (dt2, n) = Datatype::parse(&v1, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, v1.len());
    assert_eq!(dt2, dt);
}

#[test]
fn encode_matches_h5py_and_round_trips() {
    // Bytes of h5py 3.16 / HDF5 2.0 (libver earliest) messages.
    let i8le = [0x10, 0x08, 0, 0, 8, 0, 0, 0, 0, 0, 64, 0];
    assert_eq!(Datatype::int(8, true).encode(1).unwrap(), i8le);
    let f8 = [
        0x11, 0x20, 0x3f, 0x00, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xff, 0x03, 0, 0,
    ];
    let dt = Datatype::ieee_float(8, ByteOrder::Little).unwrap();
    assert_eq!(dt.encode(1).unwrap(), f8);
    let vlen = [
        0x19, 0x01, 0x01, 0x00, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0,
    ];
    assert_eq!(Datatype::vlen_utf8().encode(1).unwrap(), vlen);
    let mut bool_v1 = vec![0x18, 0x02, 0x00, 0x00, 0x01, 0, 0, 0];
    bool_v1.extend_from_slice(&[0x10, 0x08, 0, 0, 1, 0, 0, 0, 0, 0, 8, 0]);
    bool_v1.extend_from_slice(b"FALSE\0\0\0TRUE\0\0\0\0");
    bool_v1.extend_from_slice(&[0, 1]);
    assert_eq!(Datatype::h5py_bool().encode(1).unwrap(), bool_v1);
    let s3 = [0x13, 0x01, 0, 0, 3, 0, 0, 0];
    let fixed = Datatype::String {
        size: 3,
        padding: StringPadding::NullPadded,
        charset: CharSet::Ascii,
    };
    assert_eq!(fixed.encode(1).unwrap(), s3);
    let all = [
        Datatype::int(1, false),
        Datatype::FixedPoint {
            size: 4,
            order: ByteOrder::Big,
            signed: true,
        },
        Datatype::ieee_float(2, ByteOrder::Big).unwrap(),
        Datatype::ieee_float(4, ByteOrder::Little).unwrap(),
        fixed,
        Datatype::vlen_utf8(),
        Datatype::h5py_bool(),
        Datatype::Enum {
            base: Box::new(Datatype::int(2, true)),
            names: vec!["RED".into(), "a_much_longer_name".into(), "é".into()],
            values: vec![vec![0, 0], vec![1, 0], vec![0xff, 0x7f]],
        },
    ];
    for dt in &all {
        for v in 1..=5u8 {
            let b = dt.encode(v).unwrap();
            assert_eq!(b[0] >> 4, v);
            let (got, n) = Datatype::parse(&b, 0, Sizes::DEFAULT).unwrap();
            assert_eq!(n, b.len());
            assert_eq!(&got, dt, "v{v}");
        }
    }
    let time = Datatype::Time {
        size: 8,
        order: ByteOrder::Big,
    };
    assert_eq!(
        Datatype::parse(&time.encode(1).unwrap(), 0, Sizes::DEFAULT)
            .unwrap()
            .0,
        time
    );
    assert!(Datatype::int(1, true).encode(0).is_err());
}

#[test]
fn strings() {
    let d = [0x13, 0x11, 0, 0, 5, 0, 0, 0];
    let (dt, _) = Datatype::parse(&d, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(
        dt,
        Datatype::String {
            size: 5,
            padding: StringPadding::NullPadded,
            charset: CharSet::Utf8
        }
    );
    // vlen string over a 1-byte string base type, null-terminated UTF-8
    let mut v = vec![0x19, 0x01, 0x01, 0, 16, 0, 0, 0];
    v.extend_from_slice(&[0x13, 0x00, 0, 0, 1, 0, 0, 0]);
    let (dt, n) = Datatype::parse(&v, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, 16);
    assert_eq!(
        dt,
        Datatype::VarString {
            padding: StringPadding::NullTerminated,
            charset: CharSet::Utf8,
            size: 16
        }
    );
    assert_eq!(dt.class_name(), "vlen-string");
}

#[test]
fn compound_v3_and_array_consumed_lengths() {
    // compound { a: i4 at 0, b: f8 at 8 }, size 16, version 3
    let mut d = vec![0x36, 2, 0, 0, 16, 0, 0, 0];
    d.extend_from_slice(b"a\0");
    d.push(0);
    d.extend(int(1, 4, false, true));
    d.extend_from_slice(b"b\0");
    d.push(8);
    d.extend_from_slice(&[
        0x11, 0x20, 0x3f, 0x00, 8, 0, 0, 0, 0, 0, 64, 0, 52, 11, 0, 52, 0xff, 0x03, 0, 0,
    ]);
    let (dt, n) = Datatype::parse(&d, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, d.len());
    let f8 = Datatype::FloatingPoint {
        size: 8,
        order: ByteOrder::Little,
        sign_location: 63,
        exponent_location: 52,
        exponent_size: 11,
        mantissa_location: 0,
        mantissa_size: 52,
        exponent_bias: 1023,
    };
    assert_eq!(
        dt,
        Datatype::Compound {
            size: 16,
            members: vec![
                CompoundMember {
                    name: "a".into(),
                    offset: 0,
                    dtype: Datatype::int(4, true)
                },
                CompoundMember {
                    name: "b".into(),
                    offset: 8,
                    dtype: f8
                },
            ]
        }
    );
    assert_eq!(dt.class_name(), "compound");
    // array v2 of 2x3 i4
    let mut a = vec![0x2a, 0, 0, 0, 24, 0, 0, 0, 2, 0, 0, 0];
    a.extend_from_slice(&2u32.to_le_bytes());
    a.extend_from_slice(&3u32.to_le_bytes());
    a.extend_from_slice(&[0; 8]);
    a.extend(int(1, 4, false, true));
    let (dt, n) = Datatype::parse(&a, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, a.len());
    assert_eq!(dt.size(), 24);
    assert_eq!(
        dt,
        Datatype::Array {
            size: 24,
            dims: vec![2, 3],
            base: Box::new(Datatype::int(4, true))
        }
    );
    // An array whose size disagrees with its dimensions is malformed.
    let mut bad = a.clone();
    bad[4] = 25;
    assert!(Datatype::parse(&bad, 0, Sizes::DEFAULT).is_err());
}

/// Every class this crate decodes survives encode → parse at every version
/// that can describe it, and matches what the spec says for the fields
/// libhdf5 reads.
#[test]
fn every_class_round_trips_at_every_version() {
    let f4 = Datatype::ieee_float(4, ByteOrder::Little).unwrap();
    let f8be = Datatype::ieee_float(8, ByteOrder::Big).unwrap();
    let member = |name: &str, offset: u32, dtype: Datatype| CompoundMember {
        name: name.into(),
        offset,
        dtype,
    };
    let inner = Datatype::Compound {
        size: 12,
        members: vec![
            member("x", 0, Datatype::int(4, false)),
            member("y", 4, f8be.clone()),
        ],
    };
    let all = vec![
        Datatype::Bitfield {
            size: 2,
            order: ByteOrder::Big,
        },
        Datatype::Opaque {
            size: 5,
            tag: "a tag of 13 b".into(),
        },
        Datatype::Opaque {
            size: 3,
            tag: "exactly8".into(),
        },
        Datatype::Reference {
            size: 8,
            kind: ReferenceKind::Object,
        },
        Datatype::Reference {
            size: 12,
            kind: ReferenceKind::DatasetRegion,
        },
        Datatype::VarSequence {
            size: 16,
            base: Box::new(f4.clone()),
        },
        // A padded compound with members out of offset order, nested.
        Datatype::Compound {
            size: 40,
            members: vec![
                member("late", 32, Datatype::int(8, true)),
                member("a_longer_member_name", 0, Datatype::vlen_utf8()),
                member("nested", 16, inner.clone()),
                member("flag", 28, Datatype::h5py_bool()),
            ],
        },
    ];
    for dt in &all {
        for v in 1..=5u8 {
            let b = dt.encode(v).unwrap();
            let (got, n) = Datatype::parse(&b, 0, Sizes::DEFAULT).unwrap();
            assert_eq!(n, b.len(), "{dt:?} v{v}");
            assert_eq!(&got, dt, "v{v}");
        }
    }
    let array = Datatype::Array {
        size: 24,
        dims: vec![2, 3],
        base: Box::new(f4.clone()),
    };
    let with_array = Datatype::Compound {
        size: 32,
        members: vec![
            member("pos", 0, array.clone()),
            member("id", 24, Datatype::int(8, true)),
        ],
    };
    for dt in [&array, &with_array] {
        assert_eq!(dt.min_version(), 2);
        // Version 1 cannot describe an array: the encoding is upgraded.
        assert_eq!(dt.encode(1).unwrap()[0] >> 4, 2);
        for v in 2..=5u8 {
            let b = dt.encode(v).unwrap();
            assert_eq!(
                Datatype::parse(&b, 0, Sizes::DEFAULT).unwrap().0,
                *dt,
                "v{v}"
            );
        }
    }
    let complex = Datatype::Complex {
        size: 8,
        base: Box::new(f4),
    };
    assert_eq!(complex.min_version(), 5);
    assert_eq!(complex.encode(4).unwrap()[0] >> 4, 5);
    assert_eq!(
        Datatype::parse(&complex.encode(5).unwrap(), 0, Sizes::DEFAULT)
            .unwrap()
            .0,
        complex
    );
    // Member offsets are 1 byte wide in version 3 for records under 256
    // bytes: "late" at 32 is the byte after the name's NUL.
    let b = all[6].encode(3).unwrap();
    assert_eq!(&b[8..14], b"late\0\x20");
}

#[test]
fn compound_v1_array_members_and_bad_offsets() {
    // Version 1 compound { v: 3 x i2 at 0 } described with the old
    // dimension block, size 6.
    let mut d = vec![0x16, 1, 0, 0, 6, 0, 0, 0];
    d.extend_from_slice(b"v\0\0\0\0\0\0\0");
    d.extend_from_slice(&0u32.to_le_bytes());
    d.push(1); // dimensionality
    d.extend_from_slice(&[0; 3 + 4 + 4]);
    for dim in [3u32, 0, 0, 0] {
        d.extend_from_slice(&dim.to_le_bytes());
    }
    d.extend(int(1, 2, false, true));
    let (dt, n) = Datatype::parse(&d, 0, Sizes::DEFAULT).unwrap();
    assert_eq!(n, d.len());
    assert_eq!(
        dt,
        Datatype::Compound {
            size: 6,
            members: vec![CompoundMember {
                name: "v".into(),
                offset: 0,
                dtype: Datatype::Array {
                    size: 6,
                    dims: vec![3],
                    base: Box::new(Datatype::int(2, true))
                }
            }]
        }
    );
    // A member that ends past the record is malformed, not read out of
    // bounds later.
    let mut bad = d.clone();
    bad[4] = 5;
    let err = Datatype::parse(&bad, 0, Sizes::DEFAULT)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ends past"), "{err}");
}

#[test]
fn nesting_is_bounded_and_garbage_errors() {
    // vlen sequence of vlen sequence of ... never terminated
    let mut d = Vec::new();
    for _ in 0..100 {
        d.extend_from_slice(&[0x19, 0, 0, 0, 16, 0, 0, 0]);
    }
    assert!(Datatype::parse(&d, 0, Sizes::DEFAULT).is_err());
    for seed in 0u8..=255 {
        let b: Vec<u8> = (0..40u8)
            .map(|i| i.wrapping_mul(seed).rotate_left(3) ^ seed)
            .collect();
        let _ = Datatype::parse(&b, 0, Sizes::DEFAULT);
    }
    assert!(Datatype::parse(&[0x60], 0, Sizes::DEFAULT).is_err());
    assert!(Datatype::parse(&[0x0c, 0, 0, 0, 1, 0, 0, 0], 0, Sizes::DEFAULT).is_err());
}
