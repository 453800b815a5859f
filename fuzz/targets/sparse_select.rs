//! An arbitrary small sparse matrix, written with
//! [`h5sparse::sparse::write_matrix`] to an in-memory file, then arbitrary
//! selections: each result must equal the same selection of the matrix in
//! memory, computed here from a dense copy with Python's slice rules
//! (independently of [`Sel::resolve`]).

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use h5sparse::io::sink::MemSink;
use h5sparse::sparse::{self, Sel, SparseDataset, SparseWriteOptions};
use h5sparse::write::{CreateOptions, Format, Writer};
use h5sparse::File;
use sprs::{CsMat, TriMat};

/// Longest axis of the generated matrices.
const MAX_AXIS: usize = 40;
/// Most selections tried on one matrix.
const MAX_SELECTIONS: usize = 16;
/// Longest index list or mask.
const MAX_LIST: usize = 64;

/// One axis selection, as generated (converted to [`Sel`]).
#[derive(Arbitrary, Debug, Clone)]
pub enum ArbSel {
    /// `:`.
    All,
    /// `start:stop:step`.
    Slice(Option<i64>, Option<i64>, i64),
    /// Small slice bounds, which hit the axis more often.
    SmallSlice(Option<i8>, Option<i8>, i8),
    /// An index list.
    Indices(Vec<i8>),
    /// A boolean mask (its length is kept unless `fit`: then it is cut or
    /// padded to the axis length).
    Mask(Vec<bool>, bool),
    /// One index.
    Index(i64),
}

/// The generated case.
#[derive(Arbitrary, Debug)]
pub struct Case {
    rows: u8,
    cols: u8,
    entries: Vec<(u8, u8, i64)>,
    csc: bool,
    latest: bool,
    gzip: bool,
    chunk_len: Option<u8>,
    int64_indices: bool,
    selections: Vec<(ArbSel, ArbSel)>,
    elements: Vec<(i64, i64)>,
}

fn to_sel(s: &ArbSel, n: usize) -> Sel {
    match s {
        ArbSel::All => Sel::All,
        ArbSel::Slice(a, b, c) => Sel::Slice {
            start: *a,
            stop: *b,
            step: *c,
        },
        ArbSel::SmallSlice(a, b, c) => Sel::Slice {
            start: a.map(i64::from),
            stop: b.map(i64::from),
            step: i64::from(*c),
        },
        ArbSel::Indices(v) => {
            Sel::Indices(v.iter().take(MAX_LIST).map(|&i| i64::from(i)).collect())
        }
        ArbSel::Mask(m, fit) => {
            let mut m: Vec<bool> = m.iter().copied().take(MAX_LIST).collect();
            if *fit {
                m.resize(n, false);
            }
            Sel::Mask(m)
        }
        ArbSel::Index(i) => Sel::Index(*i),
    }
}

/// The indices `sel` picks from an axis of length `n`, by Python's rules;
/// `None` where numpy raises (zero step, index out of range, mask of the
/// wrong length).
pub fn expected_indices(sel: &Sel, n: usize) -> Option<Vec<usize>> {
    let n = n as i128;
    let wrap = |i: i64| -> Option<usize> {
        let i = i128::from(i);
        let j = if i < 0 { i + n } else { i };
        (0..n).contains(&j).then_some(j as usize)
    };
    match sel {
        Sel::All => Some((0..n as usize).collect()),
        Sel::Index(i) => Some(vec![wrap(*i)?]),
        Sel::Indices(v) => v.iter().map(|&i| wrap(i)).collect(),
        Sel::Mask(m) => {
            if m.len() as i128 != n {
                return None;
            }
            Some(
                m.iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| i)
                    .collect(),
            )
        }
        Sel::Slice { start, stop, step } => {
            let step = i128::from(*step);
            if step == 0 {
                return None;
            }
            // CPython's PySlice_AdjustIndices.
            let adjust = |v: Option<i64>, default: i128| -> i128 {
                match v {
                    None => default,
                    Some(v) => {
                        let mut v = i128::from(v);
                        if v < 0 {
                            v += n;
                            if v < 0 {
                                v = if step < 0 { -1 } else { 0 };
                            }
                        } else if v >= n {
                            v = if step < 0 { n - 1 } else { n };
                        }
                        v
                    }
                }
            };
            let (s, e) = if step > 0 {
                (adjust(*start, 0), adjust(*stop, n))
            } else {
                (adjust(*start, n - 1), adjust(*stop, -1))
            };
            let mut out = Vec::new();
            let mut i = s;
            while (step > 0 && i < e) || (step < 0 && i > e) {
                out.push(i as usize);
                i += step;
            }
            Some(out)
        }
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

/// Writes the case's matrix and checks every selection.
pub fn check(case: &Case) {
    let rows = usize::from(case.rows) % (MAX_AXIS + 1);
    let cols = usize::from(case.cols) % (MAX_AXIS + 1);
    // Last write of a position wins (no sums that could overflow).
    let mut cells = BTreeMap::new();
    if rows > 0 && cols > 0 {
        for &(r, c, v) in case.entries.iter().take(4 * MAX_AXIS * MAX_AXIS) {
            cells.insert((usize::from(r) % rows, usize::from(c) % cols), v);
        }
    }
    let mut tri = TriMat::new((rows, cols));
    for (&(r, c), &v) in &cells {
        tri.add_triplet(r, c, v);
    }
    let m: CsMat<i64> = if case.csc { tri.to_csc() } else { tri.to_csr() };
    let dense = |r: usize, c: usize| cells.get(&(r, c)).copied().unwrap_or(0);

    let format = if case.latest {
        Format::Latest
    } else {
        Format::Earliest
    };
    let mut w = Writer::create_in_with(MemSink::new(), &CreateOptions { format })
        .expect("create in memory");
    let opts = SparseWriteOptions {
        compression: case.gzip.then_some(4),
        chunk_len: case.chunk_len.map(|c| u64::from(c % 8) + 1),
        int64_indices: case.int64_indices,
    };
    sparse::write_matrix(&mut w, "/m", m.view(), &opts)
        .unwrap_or_else(|e| panic!("write_matrix of a valid {rows}x{cols} matrix: {e}"));
    let bytes = w.close().expect("close").into_bytes();
    let file = File::from_bytes(bytes).expect("reopen");
    let ds = SparseDataset::open(&file, "/m").expect("open the sparse group");
    assert_eq!(ds.shape(), [rows as u64, cols as u64], "shape");
    assert_eq!(ds.nnz(), cells.len() as u64, "nnz");

    let all = ds.to_memory::<i64>().expect("read everything");
    compare(
        &all,
        &(0..rows).collect::<Vec<_>>(),
        &(0..cols).collect::<Vec<_>>(),
        &dense,
        "all",
    );

    for (rs, cs) in case.selections.iter().take(MAX_SELECTIONS) {
        let (rsel, csel) = (to_sel(rs, rows), to_sel(cs, cols));
        let want = expected_indices(&rsel, rows).zip(expected_indices(&csel, cols));
        let got = ds.read::<i64>(&rsel, &csel);
        match (want, got) {
            (Some((ri, ci)), Ok(g)) => {
                compare(&g, &ri, &ci, &dense, &format!("{rsel:?} x {csel:?}"))
            }
            (None, Err(_)) => {}
            (Some(_), Err(e)) => panic!("{rsel:?} x {csel:?} on {rows}x{cols}: refused: {e}"),
            (None, Ok(_)) => panic!("{rsel:?} x {csel:?} on {rows}x{cols}: accepted, numpy raises"),
        }
    }
    for &(r, c) in case.elements.iter().take(MAX_SELECTIONS) {
        let want = expected_indices(&Sel::Index(r), rows)
            .zip(expected_indices(&Sel::Index(c), cols))
            .map(|(r, c)| dense(r[0], c[0]));
        match (want, ds.get::<i64>(r, c)) {
            (Some(v), Ok(g)) => assert_eq!(g, v, "get({r}, {c})"),
            (None, Err(_)) => {}
            (w, g) => panic!("get({r}, {c}) on {rows}x{cols}: expected {w:?}, got {g:?}"),
        }
    }
}

/// `got` must be `dense` restricted to `ri × ci`, with no position stored
/// twice.
fn compare(
    got: &CsMat<i64>,
    ri: &[usize],
    ci: &[usize],
    dense: &dyn Fn(usize, usize) -> i64,
    what: &str,
) {
    assert_eq!(got.shape(), (ri.len(), ci.len()), "{what}: shape");
    let mut seen = BTreeMap::new();
    for (&v, (r, c)) in got.iter() {
        assert!(
            seen.insert((r, c), v).is_none(),
            "{what}: ({r}, {c}) stored twice"
        );
    }
    for (i, &r) in ri.iter().enumerate() {
        for (j, &c) in ci.iter().enumerate() {
            let g = seen.get(&(i, j)).copied().unwrap_or(0);
            assert_eq!(
                g,
                dense(r, c),
                "{what}: element ({i}, {j}) = source ({r}, {c})"
            );
        }
    }
}
