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

use h5sparse::format::message::datatype::{Datatype, MAX_NESTING};
use h5sparse::format::Sizes;

use super::input::Input;

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
