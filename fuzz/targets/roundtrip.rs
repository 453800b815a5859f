//! Arbitrary datasets and attributes → write (either format) → read → equal.

use arbitrary::{Arbitrary, Unstructured};
use h5sparse::io::sink::MemSink;
use h5sparse::write::{CreateOptions, DatasetOptions, Format, Writer};
use h5sparse::{ByteOrder, CharSet, Dtype, File, StringPadding, Values};

/// Most datasets per case.
const MAX_DATASETS: usize = 6;
/// Most attributes per object.
const MAX_ATTRS: usize = 6;
/// Most elements per dataset.
const MAX_ELEMENTS: u64 = 512;

/// Element types the writer supports.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Kind {
    /// Integer of 1, 2, 4 or 8 bytes (`size_code` & 3), signed or not.
    Int {
        size_code: u8,
        signed: bool,
        big: bool,
    },
    /// f32 or f64.
    Float { double: bool, big: bool },
    /// h5py's bool.
    Bool,
    /// Fixed-length NUL-padded string of 1..=16 bytes.
    FixedString { size: u8, utf8: bool },
    /// Variable-length string.
    VarString { utf8: bool },
}

/// One dataset or attribute to write.
#[derive(Arbitrary, Debug)]
pub struct Item {
    kind: Kind,
    /// Dimensions (rank = length, at most 3; each dimension mod 9).
    dims: Vec<u8>,
    /// Attributes only: a null dataspace.
    null: bool,
    /// Datasets only: chunk shape and filters.
    chunked: Option<(Vec<u8>, Option<u8>, bool, bool)>,
    /// Element values, cycled.
    pool: Vec<u64>,
    /// String values, cycled.
    strings: Vec<String>,
    /// Datasets only: attributes.
    attrs: Vec<Item>,
}

/// The generated case.
#[derive(Arbitrary, Debug)]
pub struct Case {
    latest: bool,
    datasets: Vec<Item>,
    root_attrs: Vec<Item>,
}

fn dtype(k: Kind) -> Dtype {
    let order = |big: bool| {
        if big {
            ByteOrder::Big
        } else {
            ByteOrder::Little
        }
    };
    let charset = |utf8: bool| if utf8 { CharSet::Utf8 } else { CharSet::Ascii };
    match k {
        Kind::Int {
            size_code,
            signed,
            big,
        } => {
            let size = 1u8 << (size_code & 3);
            Dtype::Int {
                size,
                signed,
                // One-byte integers have no byte order to keep.
                order: if size == 1 {
                    ByteOrder::Little
                } else {
                    order(big)
                },
            }
        }
        Kind::Float { double, big } => Dtype::Float {
            size: if double { 8 } else { 4 },
            order: order(big),
        },
        Kind::Bool => Dtype::Bool,
        Kind::FixedString { size, utf8 } => Dtype::FixedString {
            size: usize::from(size % 16) + 1,
            padding: StringPadding::NullPadded,
            charset: charset(utf8),
        },
        Kind::VarString { utf8 } => Dtype::VarString {
            charset: charset(utf8),
        },
    }
}

/// `n` values of `k` drawn from the item's pools.
fn values(k: Kind, item: &Item, n: usize) -> Values {
    let raw = |i: usize| {
        item.pool
            .get(i % item.pool.len().max(1))
            .copied()
            .unwrap_or(i as u64)
    };
    match k {
        Kind::Int {
            size_code, signed, ..
        } => {
            let bits = 8u32 << (size_code & 3);
            if signed {
                Values::Int(
                    (0..n)
                        .map(|i| {
                            let shift = 64 - bits;
                            ((raw(i) << shift) as i64) >> shift
                        })
                        .collect(),
                )
            } else {
                let mask = if bits == 64 {
                    u64::MAX
                } else {
                    (1u64 << bits) - 1
                };
                Values::UInt((0..n).map(|i| raw(i) & mask).collect())
            }
        }
        Kind::Float { double, .. } => Values::Float(
            (0..n)
                .map(|i| {
                    if double {
                        f64::from_bits(raw(i))
                    } else {
                        f64::from(f32::from_bits(raw(i) as u32))
                    }
                })
                .collect(),
        ),
        Kind::Bool => Values::Bool((0..n).map(|i| raw(i) & 1 == 1).collect()),
        Kind::FixedString { size, .. } => {
            let size = usize::from(size % 16) + 1;
            Values::Str(
                (0..n)
                    .map(|i| {
                        // Printable ASCII without trailing padding ambiguity.
                        let x = raw(i);
                        let len = (x % (size as u64 + 1)) as usize;
                        (0..len)
                            .map(|j| {
                                char::from(
                                    b'a' + ((x >> (j % 8 * 8)) as u8).wrapping_add(j as u8) % 26,
                                )
                            })
                            .collect()
                    })
                    .collect(),
            )
        }
        Kind::VarString { utf8 } => Values::Str(
            (0..n)
                .map(|i| {
                    let s = item
                        .strings
                        .get(i % item.strings.len().max(1))
                        .cloned()
                        .unwrap_or_default();
                    let s: String = s.chars().filter(|&c| c != '\0').take(40).collect();
                    if utf8 {
                        s
                    } else {
                        s.chars().filter(char::is_ascii).collect()
                    }
                })
                .collect(),
        ),
    }
}

fn shape_of(item: &Item) -> (Vec<u64>, u64) {
    let dims: Vec<u64> = item
        .dims
        .iter()
        .take(3)
        .map(|&d| u64::from(d % 9))
        .collect();
    let n: u64 = dims.iter().product();
    (dims, n)
}

/// Floats compare by bits, except that any NaN equals any NaN (an f32
/// signalling NaN is quieted on its way through f64).
fn same(a: &Values, b: &Values) -> bool {
    match (a, b) {
        (Values::Float(x), Values::Float(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
        }
        _ => a == b,
    }
}

/// Runs one case.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(case) = Case::arbitrary(&mut u) else {
        return;
    };
    check(&case);
}

/// Expected attribute: (path, name, dtype, values).
type Expected = (String, String, Dtype, Option<Vec<u64>>, Values);

fn set_attrs(w: &mut Writer<MemSink>, path: &str, items: &[Item], out: &mut Vec<Expected>) {
    for (i, a) in items.iter().take(MAX_ATTRS).enumerate() {
        let name = format!("a{i}");
        let (dims, n) = shape_of(a);
        if n > MAX_ELEMENTS {
            continue;
        }
        let dt = dtype(a.kind);
        let shape = (!a.null).then_some(dims);
        let n = if a.null { 0 } else { n as usize };
        let v = values(a.kind, a, n);
        w.set_attr(path, &name, &dt, shape.as_deref(), &v)
            .unwrap_or_else(|e| panic!("set attribute {path}@{name} ({dt:?}, {shape:?}): {e}"));
        out.push((path.to_string(), name, dt, shape, v));
    }
}

/// Writes the case, reads it back and compares.
pub fn check(case: &Case) {
    let format = if case.latest {
        Format::Latest
    } else {
        Format::Earliest
    };
    let mut w = Writer::create_in_with(MemSink::new(), &CreateOptions { format }).expect("create");
    let mut datasets = Vec::new();
    let mut attrs = Vec::new();
    for (i, item) in case.datasets.iter().take(MAX_DATASETS).enumerate() {
        let path = format!("/d{i}");
        let (dims, n) = shape_of(item);
        if n > MAX_ELEMENTS {
            continue;
        }
        let dt = dtype(item.kind);
        let v = values(item.kind, item, n as usize);
        let mut opts = DatasetOptions::default();
        if let Some((chunk, gzip, shuffle, fletcher)) = &item.chunked {
            if !dims.is_empty() {
                let c: Vec<u64> = dims
                    .iter()
                    .enumerate()
                    .map(|(k, &d)| 1 + u64::from(chunk.get(k).copied().unwrap_or(0)) % d.max(1))
                    .collect();
                opts = opts.chunks(&c);
                if let Some(level) = gzip {
                    opts = opts.gzip(u32::from(level % 10));
                }
                opts.shuffle = *shuffle;
                opts.fletcher32 = *fletcher;
            }
        }
        w.create_dataset_values(&path, &dt, &dims, &v, &opts)
            .unwrap_or_else(|e| panic!("create {path} ({dt:?}, {dims:?}, {opts:?}): {e}"));
        set_attrs(&mut w, &path, &item.attrs, &mut attrs);
        datasets.push((path, dt, dims, v));
    }
    set_attrs(&mut w, "/", &case.root_attrs, &mut attrs);
    let bytes = w.close().expect("close").into_bytes();
    let file = File::from_bytes(bytes).expect("reopen");
    for (path, dt, dims, v) in &datasets {
        let d = file.dataset(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert_eq!(d.dtype(), dt, "{path}: dtype");
        assert_eq!(d.shape(), Some(&dims[..]), "{path}: shape");
        let got = d.values().unwrap_or_else(|e| panic!("{path}: read: {e}"));
        assert!(same(&got, v), "{path}: wrote {v:?}, read {got:?}");
    }
    for (path, name, dt, shape, v) in &attrs {
        let obj = file.get(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let a = match obj {
            h5sparse::Node::Group(g) => g.attribute(name),
            h5sparse::Node::Dataset(d) => d.attribute(name),
            other => panic!("{path}: {other:?}"),
        }
        .unwrap_or_else(|e| panic!("{path}@{name}: {e}"))
        .unwrap_or_else(|| panic!("{path}@{name}: missing"));
        assert_eq!(a.dtype(), dt, "{path}@{name}: dtype");
        assert_eq!(a.shape(), shape.as_deref(), "{path}@{name}: shape");
        let got = a
            .values()
            .unwrap_or_else(|e| panic!("{path}@{name}: read: {e}"));
        if shape.is_none() {
            assert!(got.is_empty(), "{path}@{name}: null dataspace read {got:?}");
        } else {
            assert!(same(&got, v), "{path}@{name}: wrote {v:?}, read {got:?}");
        }
    }
}
