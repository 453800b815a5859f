//! The map path's row pieces and searches, and the paged path against an
//! in-test model of the matrix on every index type and source.

use std::borrow::Cow;
use std::sync::Arc;

use super::{lower_bound, Rows};
use crate::io::sink::MemSink;
use crate::io::source::{Counting, CountingStats, Piecewise};
use crate::read::H5Type;
use crate::sparse::{Sel, SparseDataset, SparseFormat};
use crate::write::{DatasetOptions, Writer};

#[test]
fn rows_across_pieces_are_joined_and_gaps_read_through_the_dataset() {
    let values: Vec<i32> = (0..10).map(|v| v * 10).collect();
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    let opts = DatasetOptions::growable().chunks(&[4]);
    w.create_dataset("/i", &[10], &values, &opts).unwrap();
    let f = crate::File::from_bytes(w.close().unwrap().bytes).unwrap();
    let ds = f.dataset("/i").unwrap();
    // Pieces as a file with metadata between its chunks gives them.
    let rows = Rows {
        ds: &ds,
        pieces: vec![(0, &values[0..4]), (4, &values[4..8]), (8, &values[8..10])],
    };
    assert!(matches!(rows.row(1, 3).unwrap(), Cow::Borrowed(r) if r == &values[1..3]));
    assert!(matches!(rows.row(2, 10).unwrap(), Cow::Owned(r) if r == values[2..10]));
    assert_eq!(rows.row(0, 0).unwrap().len(), 0);
    // A missing piece (say, an unallocated chunk): read through the dataset.
    let gap = Rows {
        ds: &ds,
        pieces: vec![(0, &values[0..4]), (8, &values[8..10])],
    };
    assert_eq!(&*gap.row(2, 9).unwrap(), &values[2..9]);
    assert_eq!(&*gap.row(5, 7).unwrap(), &values[5..7]);
}

#[test]
fn lower_bound_agrees_with_partition_point_from_any_guess() {
    let rows: [&[i32]; 4] = [
        &[],
        &[5],
        &[1, 3, 5, 7, 9, 11],
        &[0, 2, 4, 6, 8, 10, 12, 14, 16],
    ];
    for idx in rows {
        for target in -1..20 {
            let want = idx.partition_point(|&c| c < target);
            for guess in 0..idx.len() + 3 {
                assert_eq!(
                    lower_bound(idx, i128::from(target), guess),
                    want,
                    "{idx:?} target {target} guess {guess}"
                );
            }
        }
    }
}

/// A small deterministic generator (tests need no `rand`).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Rows of distinct sorted columns in `0..n_minor`: empty rows, short
/// rows, rows far longer than a window, and rows whose columns crowd one
/// end (where an evenly spread guess misses the range).
fn random_rows(rng: &mut Lcg, n_major: usize, n_minor: u64) -> Vec<Vec<u64>> {
    (0..n_major)
        .map(|_| {
            // Lengths up to 600 entries, whatever the width of the axis.
            let most = n_minor.min(800);
            let (len, span) = match rng.below(5) {
                0 => (0, n_minor),
                1 => (rng.below(4), n_minor),
                2 => (rng.below(most / 3), n_minor / 8 + 1),
                _ => (most / 4 + rng.below(most / 2), n_minor),
            };
            let offset = if span < n_minor {
                [0, n_minor - span][rng.below(2) as usize]
            } else {
                0
            };
            let mut row: Vec<u64> = (0..len.min(span))
                .map(|_| offset + rng.below(span))
                .collect();
            row.sort_unstable();
            row.dedup();
            row
        })
        .collect()
}

/// A CSR (or CSC) group `/X` holding `rows` with indices stored as `I`,
/// values `1, 2, ...` in storage order.
fn sparse_file<I: H5Type + TryFrom<u64>>(
    rows: &[Vec<u64>],
    n_minor: u64,
    csc: bool,
    opts: &DatasetOptions,
) -> Vec<u8> {
    let indices: Vec<I> = rows
        .iter()
        .flatten()
        .map(|&c| I::try_from(c).ok().unwrap())
        .collect();
    let mut indptr = vec![0i64];
    for r in rows {
        indptr.push(indptr[indptr.len() - 1] + r.len() as i64);
    }
    let data: Vec<f64> = (1..=indices.len()).map(|v| v as f64).collect();
    let n = |v: usize| [v as u64];
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    w.create_group("/X").unwrap();
    w.create_dataset("/X/data", &n(data.len()), &data, opts)
        .unwrap();
    w.create_dataset("/X/indices", &n(indices.len()), &indices, opts)
        .unwrap();
    w.create_dataset("/X/indptr", &n(indptr.len()), &indptr, opts)
        .unwrap();
    let (format, shape) = match csc {
        false => ("csr", [rows.len() as i64, n_minor as i64]),
        true => ("csc", [n_minor as i64, rows.len() as i64]),
    };
    w.set_attr_str("/X", "h5sparse_format", format).unwrap();
    w.set_attr_array("/X", "h5sparse_shape", &shape).unwrap();
    w.close().unwrap().bytes
}

/// The model's answer: majors `majors`, minors `a..b`, as the stored
/// orientation's (indptr, indices, data).
fn model(
    rows: &[Vec<u64>],
    majors: &[usize],
    a: u64,
    b: u64,
) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let starts: Vec<usize> = rows
        .iter()
        .scan(0, |at, r| {
            let s = *at;
            *at += r.len();
            Some(s)
        })
        .collect();
    let (mut ptr, mut idx, mut val) = (vec![0], Vec::new(), Vec::new());
    for &m in majors {
        for (k, &c) in rows[m].iter().enumerate() {
            if (a..b).contains(&c) {
                idx.push((c - a) as usize);
                val.push((starts[m] + k + 1) as f64);
            }
        }
        ptr.push(idx.len());
    }
    (ptr, idx, val)
}

/// Reads majors `majors` and minors `a..b` of `x` in its orientation.
fn read_part(
    x: &SparseDataset<'_>,
    majors: &Sel,
    a: u64,
    b: u64,
) -> crate::Result<(Vec<usize>, Vec<usize>, Vec<f64>)> {
    let minors = Sel::range(a as i64, b as i64);
    let m = match x.format() {
        SparseFormat::Csr => x.read::<f64>(majors, &minors)?,
        SparseFormat::Csc => x.read::<f64>(&minors, majors)?,
    };
    let (ptr, idx, val) = m.into_raw_storage();
    Ok((ptr, idx, val))
}

/// The bytes as a file read range by range: 7 bytes per call, or through
/// a counter that asks for batches (as a remote source does).
fn paged(bytes: &[u8], batched: bool) -> (crate::File, Arc<Counting<Vec<u8>>>) {
    let counting = Arc::new(Counting::new(bytes.to_vec()).prefer_batches(batched));
    let file = if batched {
        crate::File::open_source(Box::new(counting.clone())).unwrap()
    } else {
        crate::File::open_source(Box::new(Piecewise::new(counting.clone(), 7))).unwrap()
    };
    (file, counting)
}

/// Column (row) ranges of random CSR and CSC matrices with indices stored
/// as `I`, in every layout (`all_layouts`) or contiguous only.
fn check_type<I: H5Type + TryFrom<u64>>(n_minor: u64, seed: u64, all_layouts: bool) {
    let mut rng = Lcg(seed);
    let rows = random_rows(&mut rng, 40, n_minor);
    let ranges = [
        (0, 1 + n_minor / 10),
        (n_minor / 2 - 3, n_minor / 2 + 4),
        (n_minor - n_minor / 7, n_minor),
        (n_minor / 3, n_minor / 3 + 1),
    ];
    let all: Vec<usize> = (0..rows.len()).collect();
    let some = [7usize, 3, 3];
    let nnz: usize = rows.iter().map(Vec::len).sum();
    let few = some.iter().map(|&m| rows[m].len()).sum::<usize>() * 8 < nnz;
    let layouts = [
        DatasetOptions::default(),
        DatasetOptions::growable().chunks(&[13]),
        DatasetOptions::default().chunks(&[50]).gzip(1),
    ];
    let layouts = &layouts[..if all_layouts { 3 } else { 1 }];
    for (l, opts) in layouts.iter().enumerate() {
        for csc in [false, true] {
            let bytes = sparse_file::<I>(&rows, n_minor, csc, opts);
            let what = |part: &str| {
                format!(
                    "{} layout {l} csc {csc}: {part}",
                    std::any::type_name::<I>()
                )
            };
            for batched in [false, true] {
                let (file, _) = paged(&bytes, batched);
                let x = SparseDataset::open(&file, "/X").unwrap();
                // A few rows first (proven on their own, not remembered),
                // then every row (the proving pass), then windows.
                for &(a, b) in &ranges[..2] {
                    let got = read_part(&x, &Sel::Indices(some.map(|m| m as i64).to_vec()), a, b)
                        .unwrap();
                    assert_eq!(got, model(&rows, &some, a, b), "{}", what("few rows"));
                }
                if few {
                    let proof = x.sorted_rows.get();
                    assert_eq!(proof, None, "{}", what("few rows prove nothing"));
                }
                for round in ["pass", "windows"] {
                    for &(a, b) in &ranges {
                        let got = read_part(&x, &Sel::All, a, b).unwrap();
                        assert_eq!(got, model(&rows, &all, a, b), "{}", what(round));
                        let got = read_part(&x, &Sel::Indices(vec![39, 1, 39, -40]), a, b).unwrap();
                        assert_eq!(got, model(&rows, &[39, 1, 39, 0], a, b), "{}", what(round));
                    }
                    let proven = if l == 2 { None } else { Some(&true) };
                    assert_eq!(x.sorted_rows.get(), proven, "{}", what(round));
                }
            }
            // The same answers from memory (the map path where it borrows).
            let file = crate::File::from_bytes(bytes.clone()).unwrap();
            let x = SparseDataset::open(&file, "/X").unwrap();
            for &(a, b) in &ranges {
                assert_eq!(
                    read_part(&x, &Sel::All, a, b).unwrap(),
                    model(&rows, &all, a, b),
                    "{}",
                    what("bytes")
                );
            }
        }
    }
}

#[test]
fn column_ranges_read_by_range_equal_the_model_on_every_index_type() {
    check_type::<i8>(100, 1, false);
    check_type::<u8>(250, 2, false);
    check_type::<i16>(3000, 3, false);
    check_type::<u16>(60_000, 4, true);
    check_type::<i32>(5000, 5, true);
    check_type::<u32>(100_000, 6, false);
    check_type::<i64>(7000, 7, false);
    check_type::<u64>(9000, 8, true);
}

/// A CSR file whose row `bad` is stored unsorted (or with `index` in it),
/// the other rows sorted; with the model of the sorted-on-read matrix.
fn with_bad_row(index: Option<u64>) -> (Vec<u8>, Vec<Vec<u64>>) {
    let mut rng = Lcg(11);
    let mut rows = random_rows(&mut rng, 30, 4000);
    let bad = rows.iter().position(|r| r.len() > 100).unwrap();
    let stored: Vec<Vec<u64>> = rows
        .iter()
        .enumerate()
        .map(|(m, r)| {
            let mut r = r.clone();
            if m == bad {
                match index {
                    Some(c) => r[50] = c,
                    None => r.swap(10, 60),
                }
            }
            r
        })
        .collect();
    let bytes = sparse_file::<i32>(&stored, 4000, false, &DatasetOptions::default());
    // The model: the stored row sorted with its values (value = position + 1).
    rows[bad] = stored[bad].clone();
    (bytes, rows)
}

#[test]
fn an_unsorted_row_falls_back_to_the_general_path_and_reads_sorted() {
    let (bytes, rows) = with_bad_row(None);
    let bad = rows
        .iter()
        .position(|r| !r.windows(2).all(|w| w[0] < w[1]))
        .unwrap();
    let all: Vec<usize> = (0..rows.len()).collect();
    for batched in [false, true] {
        let (file, _) = paged(&bytes, batched);
        let x = SparseDataset::open(&file, "/X").unwrap();
        for (a, b) in [(0, 300), (1000, 1400), (3900, 4000)] {
            let (ptr, idx, val) = read_part(&x, &Sel::All, a, b).unwrap();
            // The model, its unsorted row sorted as scipy's sort_indices does.
            let (want_ptr, mut want_idx, mut want_val) = model(&rows, &all, a, b);
            let (s, e) = (want_ptr[bad], want_ptr[bad + 1]);
            let mut pairs: Vec<(usize, f64)> = want_idx[s..e]
                .iter()
                .copied()
                .zip(want_val[s..e].iter().copied())
                .collect();
            pairs.sort_by_key(|p| p.0);
            for (k, (c, v)) in pairs.into_iter().enumerate() {
                (want_idx[s + k], want_val[s + k]) = (c, v);
            }
            assert_eq!((ptr, idx, val), (want_ptr, want_idx, want_val), "{a}..{b}");
            assert_eq!(x.sorted_rows.get(), Some(&false));
        }
    }
}

#[test]
fn an_out_of_range_index_is_the_general_paths_error() {
    for bad in [4000u64, 70_000] {
        let (bytes, rows) = with_bad_row(Some(bad));
        // The two shortest rows without the bad index: read on their own.
        let mut good: Vec<usize> = (0..rows.len())
            .filter(|&m| rows[m].iter().all(|&c| c < 4000))
            .collect();
        good.sort_by_key(|&m| rows[m].len());
        let few = Sel::Indices(good[..2].iter().map(|&m| m as i64).collect());
        let file = crate::File::from_bytes(bytes.clone()).unwrap();
        let x = SparseDataset::open(&file, "/X").unwrap();
        let want = read_part(&x, &Sel::All, 100, 200).unwrap_err().to_string();
        assert!(want.contains("out of range"), "{want}");
        for batched in [false, true] {
            let (file, _) = paged(&bytes, batched);
            let x = SparseDataset::open(&file, "/X").unwrap();
            for majors in [Sel::All, few.clone()] {
                let got = read_part(&x, &majors, 100, 200);
                // A few rows that do not hold the bad one read fine.
                if matches!(majors, Sel::All) {
                    assert_eq!(got.unwrap_err().to_string(), want);
                } else {
                    assert!(got.is_ok());
                }
            }
        }
    }
}

#[test]
fn proven_rows_read_windows_in_one_batched_call_and_values_in_another() {
    let mut rng = Lcg(21);
    let n_minor = 20_000;
    let rows: Vec<Vec<u64>> = (0..200)
        .map(|_| {
            let mut r: Vec<u64> = (0..1000).map(|_| rng.below(n_minor)).collect();
            r.sort_unstable();
            r.dedup();
            r
        })
        .collect();
    let bytes = sparse_file::<i32>(&rows, n_minor, false, &DatasetOptions::default());
    let stored: u64 = rows.iter().map(|r| r.len() as u64).sum::<u64>() * (4 + 8);
    let all: Vec<usize> = (0..rows.len()).collect();
    for batched in [true, false] {
        let (file, counter) = paged(&bytes, batched);
        let x = SparseDataset::open(&file, "/X").unwrap();
        assert_eq!(
            read_part(&x, &Sel::All, 0, 10).unwrap(),
            model(&rows, &all, 0, 10)
        );
        assert_eq!(x.sorted_rows.get(), Some(&true));
        for (a, b) in [(100, 200), (9000, 9100), (19_900, 20_000)] {
            let before = counter.stats();
            let got = read_part(&x, &Sel::All, a, b).unwrap();
            let after = counter.stats();
            assert_eq!(got, model(&rows, &all, a, b), "{a}..{b}");
            let bytes = after.bytes - before.bytes;
            assert!(
                bytes * 4 < stored,
                "{a}..{b}: {bytes} bytes read of {stored}"
            );
            if batched {
                // indptr, the windows (perhaps again for missed rows), values.
                // A batch is a read_ranges (announced reads) or a
                // read_at_many (reads straight into place).
                let batches = |st: &CountingStats| st.range_calls + st.many_calls;
                let calls = batches(&after) - batches(&before);
                assert!((2..=3).contains(&calls), "{a}..{b}: {calls} batched calls");
            }
        }
    }
}

#[test]
fn positional_reads_keep_indptr_for_single_elements() {
    let mut rng = Lcg(5);
    let n_minor = 300;
    let rows = random_rows(&mut rng, 50, n_minor);
    let bytes = sparse_file::<i32>(&rows, n_minor, false, &DatasetOptions::default());
    let mapped = crate::File::from_bytes(bytes.clone()).unwrap();
    let xm = SparseDataset::open(&mapped, "/X").unwrap();
    let counting = Arc::new(Counting::new(bytes).prefer_batches(false));
    let file = crate::File::open_source(Box::new(counting.clone())).unwrap();
    let x = SparseDataset::open(&file, "/X").unwrap();
    // The first lookup reads indptr whole; later ones take it from memory.
    x.get::<f64>(0, 0).unwrap();
    counting.reset();
    let (mut lookups, mut hits) = (0u64, 0u64);
    for _ in 0..300 {
        let (r, c) = (rng.below(50), rng.below(n_minor));
        let got = x.get::<f64>(r as i64, c as i64).unwrap();
        assert_eq!(
            got,
            xm.get::<f64>(r as i64, c as i64).unwrap(),
            "({r}, {c})"
        );
        lookups += u64::from(!rows[r as usize].is_empty());
        hits += u64::from(rows[r as usize].contains(&c));
    }
    assert!(
        hits > 10 && lookups > 100,
        "{hits} hits, {lookups} rows searched"
    );
    // A read of the row's indices per non-empty row, one of the value per
    // hit, none of indptr.
    assert_eq!(counting.stats().reads, lookups + hits);
}
