//! The Matrix Market reader's errors (each names the line and what was
//! expected), its symmetric and array forms, and the bounded-memory CSR
//! conversion. The comparison with scipy on real files is in
//! tests/convert.rs.

use super::*;

fn entries(text: &str) -> Result<Vec<(u64, u64, f64)>> {
    let mut r = MtxReader::new(text.as_bytes(), "t.mtx")?;
    let mut out = Vec::new();
    while let Some(e) = r.next_entry()? {
        out.push((e.row, e.col, e.value));
    }
    Ok(out)
}

fn err(text: &str) -> String {
    entries(text).unwrap_err().to_string()
}

#[test]
fn errors_name_the_line_and_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        ("", "line 1: expected a `%%MatrixMarket matrix ...` banner, found an empty file"),
        ("%%MatrixMarket tensor coordinate real general\n1 1 0\n", "line 1: expected `%%MatrixMarket matrix"),
        ("%%MatrixMarket matrix sparse real general\n", "line 1: expected format `coordinate` or `array`"),
        ("%%MatrixMarket matrix coordinate quaternion general\n", "line 1: expected field `real`"),
        ("%%MatrixMarket matrix array pattern general\n", "line 1: expected field"),
        ("%%MatrixMarket matrix coordinate real upper\n", "line 1: expected symmetry"),
        ("%%MatrixMarket matrix coordinate real general\n% c\n", "line 2: expected the size line, found the end of the file"),
        ("%%MatrixMarket matrix coordinate real general\n% c\n3 3\n", "line 3: expected the size line `ROWS COLS ENTRIES`, found `3 3`"),
        ("%%MatrixMarket matrix array real general\n3 x\n", "line 2: expected the size line `ROWS COLS`, found `3 x`"),
        ("%%MatrixMarket matrix coordinate real symmetric\n3 4 1\n", "line 2: expected a square matrix (it is symmetric), found 3 x 4"),
        ("%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1.0\n4 1 2\n", "line 4: expected a row index in 1..=3, found `4`"),
        ("%%MatrixMarket matrix coordinate real general\n3 3 1\n1 0 1.0\n", "line 3: expected a column index in 1..=3, found `0`"),
        ("%%MatrixMarket matrix coordinate real general\n3 3 1\n1 2\n", "line 3: expected a value after the row and column"),
        ("%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 2 1.5\n", "line 3: expected an integer value, found `1.5`"),
        ("%%MatrixMarket matrix coordinate real general\n3 3 1\n1 2 x\n", "line 3: expected a real value, found `x`"),
        ("%%MatrixMarket matrix coordinate pattern general\n3 3 1\n1 2 7\n", "line 3: expected the end of the entry, found `7`"),
        ("%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 1\n\n2 2 2\n", "line 5: expected another entry, found the end of the file after 2 of the 3 declared entries"),
        ("%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1\n2 2 2\n", "line 4: expected the end of the file after 1 entries, found `2 2 2`"),
        ("%%MatrixMarket matrix coordinate real symmetric\n3 3 1\n1 2 1\n", "line 3: expected an entry in the lower triangle"),
        ("%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 1\n2 2 1\n", "line 3: expected an entry below the diagonal"),
        ("%%MatrixMarket matrix array real general\n2 1\n1 2\n", "line 3: expected one value per line, found `2`"),
    ];
    for (text, want) in cases {
        let got = err(text);
        assert!(got.contains("t.mtx, "), "{got}");
        assert!(
            got.contains(want),
            "input {text:?}:\n got  {got}\n want {want}"
        );
    }
}

#[test]
fn complex_and_hermitian_are_refused_as_unsupported() {
    for text in [
        "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 2\n",
        "%%MatrixMarket matrix coordinate real hermitian\n1 1 0\n",
    ] {
        let e = entries(text).unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}

#[test]
fn symmetric_forms_are_mirrored() {
    let sym = "%%MatrixMarket matrix coordinate real symmetric\n3 3 2\n1 1 2\n3 2 4.5\n";
    assert_eq!(
        entries(sym).unwrap(),
        [(0, 0, 2.0), (2, 1, 4.5), (1, 2, 4.5)]
    );
    let skew = "%%MatrixMarket matrix coordinate integer skew-symmetric\n3 3 1\n3 1 -2\n";
    assert_eq!(entries(skew).unwrap(), [(2, 0, -2.0), (0, 2, 2.0)]);
    let pattern = "%%MatrixMarket matrix coordinate pattern general\n2 2 1\n2 1\n";
    assert_eq!(entries(pattern).unwrap(), [(1, 0, 1.0)]);
}

#[test]
fn array_files_go_column_by_column_and_drop_zeros() {
    let general = "%%MatrixMarket matrix array real general\n2 3\n1\n0\n0\n2\n3\n0\n";
    assert_eq!(
        entries(general).unwrap(),
        [(0, 0, 1.0), (1, 1, 2.0), (0, 2, 3.0)]
    );
    // Symmetric 3x3: columns hold rows j..3.
    let sym = "%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n";
    let mut got = entries(sym).unwrap();
    got.sort_by_key(|a| (a.0, a.1));
    let dense = [[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]];
    let want: Vec<_> = (0..3)
        .flat_map(|i| (0..3).map(move |j| (i as u64, j as u64, dense[i][j])))
        .collect();
    assert_eq!(got, want);
    // Skew-symmetric 3x3: columns hold rows j+1..3.
    let skew = "%%MatrixMarket matrix array integer skew-symmetric\n3 3\n1\n2\n3\n";
    let mut got = entries(skew).unwrap();
    got.sort_by_key(|a| (a.0, a.1));
    assert_eq!(
        got,
        [
            (0, 1, -1.0),
            (0, 2, -2.0),
            (1, 0, 1.0),
            (1, 2, -3.0),
            (2, 0, 2.0),
            (2, 1, 3.0)
        ]
    );
}

#[test]
fn gzip_input_is_recognised() {
    use flate2::write::GzEncoder;
    let text = "%%MatrixMarket matrix coordinate real general\n2 2 1\n2 2 3.5\n";
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(text.as_bytes()).unwrap();
    let path = std::env::temp_dir().join(format!("h5sparse-mtx-{}.mtx.gz", std::process::id()));
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    let mut r = MtxReader::open(&path).unwrap();
    assert_eq!(r.header().rows, 2);
    assert_eq!(r.next_entry().unwrap().map(|e| e.value), Some(3.5));
    assert_eq!(r.next_entry().unwrap(), None);
    std::fs::remove_file(&path).unwrap();
}

/// The whole matrix as (row, col, value) triples from the CSR blocks.
fn csr_triples(text: &str, transpose: bool, block_bytes: usize) -> (Vec<(u64, u64, f32)>, usize) {
    let mut out = Vec::new();
    let mut blocks = 0;
    mtx_to_csr(
        || MtxReader::new(text.as_bytes(), "t.mtx"),
        transpose,
        block_bytes,
        |b| {
            blocks += 1;
            let data: Vec<f32> = bytemuck::pod_collect_to_vec(&b.data);
            for r in 0..b.rows() as usize {
                let (s, e) = (b.indptr[r] as usize, b.indptr[r + 1] as usize);
                let cols = &b.indices[s..e];
                assert!(cols.windows(2).all(|w| w[0] < w[1]), "sorted, unique");
                for (&c, &v) in cols.iter().zip(&data[s..e]) {
                    out.push((b.first_row + r as u64, c, v));
                }
            }
            Ok(())
        },
    )
    .unwrap();
    (out, blocks)
}

#[test]
fn csr_rows_are_sorted_summed_and_the_same_in_small_blocks() {
    // Random order, a repeated position, an explicit zero, an empty row.
    let text = "%%MatrixMarket matrix coordinate real general\n4 3 7\n\
                3 2 1\n1 3 2\n3 1 4\n1 1 0\n3 2 0.5\n4 3 6\n1 2 7\n";
    let want = vec![
        (0, 0, 0.0),
        (0, 1, 7.0),
        (0, 2, 2.0),
        (2, 0, 4.0),
        (2, 1, 1.5),
        (3, 2, 6.0),
    ];
    let (whole, blocks) = csr_triples(text, false, 1 << 20);
    assert_eq!((whole.clone(), blocks), (want.clone(), 1));
    // One entry's worth of budget: one row per range.
    let (small, blocks) = csr_triples(text, false, 12);
    assert_eq!((small, blocks), (want.clone(), 4));
    // Transposed: each (r, c) becomes (c, r), rows sorted again.
    let (t, _) = csr_triples(text, true, 24);
    let mut want_t: Vec<_> = want.iter().map(|&(r, c, v)| (c, r, v)).collect();
    want_t.sort_by_key(|&(r, c, _)| (r, c));
    assert_eq!(t, want_t);
}

#[test]
fn writer_round_trips_through_the_reader() {
    let mut out = Vec::new();
    let mut w = MtxWriter::new(&mut out, MtxField::Real, [3, 2], 3, &["two\nlines"]).unwrap();
    w.entry(0, 1, 0.1).unwrap();
    w.entry_f32(2, 0, 0.1f32).unwrap();
    w.entry(1, 1, -2.5e-300).unwrap();
    w.finish().unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("%%MatrixMarket matrix coordinate real general\n%two\n%lines\n3 2 3\n")
    );
    // The f32 is written in its shortest form, `0.1`, not as its f64 widening.
    assert!(text.contains("\n3 1 0.1\n"), "{text}");
    assert_eq!(
        entries(&text).unwrap(),
        [(0, 1, 0.1), (2, 0, 0.1), (1, 1, -2.5e-300)]
    );
    let mut short = MtxWriter::new(Vec::new(), MtxField::Integer, [1, 1], 2, &[]).unwrap();
    short.entry(0, 0, 1.0).unwrap();
    assert!(short
        .finish()
        .unwrap_err()
        .to_string()
        .contains("2 entries declared, 1 written"));
}
