//! The typed read API over real h5py-written fixtures: whole reads, ranges,
//! hyperslabs, byte-order conversion, zero-copy borrows, links.

use std::borrow::Cow;
use std::path::PathBuf;

use h5sparse::{Error, File, LayoutKind, LinkTarget, Node};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn open(name: &str) -> File {
    File::open(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn both_byte_orders_read_to_the_same_native_values() {
    let f = open("dtypes.h5");
    let le = f.dataset("/i32_le").unwrap().read::<i32>().unwrap();
    let be = f.dataset("/i32_be").unwrap().read::<i32>().unwrap();
    assert_eq!(le, vec![i32::MIN, -1, 0, 1, i32::MAX]);
    assert_eq!(le, be);
    let u = f.dataset("/u64_be").unwrap().read::<u64>().unwrap();
    assert_eq!(u[4], u64::MAX);
    let x = f.dataset("/f64_be").unwrap().read::<f64>().unwrap();
    assert_eq!(&x[..5], &[0.0, -0.0, 1.0, -2.5, 0.1]);
    assert!(x[1].is_sign_negative());
}

#[test]
fn a_type_mismatch_is_an_invalid_argument() {
    let f = open("dtypes.h5");
    let err = f.dataset("/i32_le").unwrap().read::<i64>().unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    assert!(err.to_string().contains("<i4"), "{err}");
}

#[test]
fn hyperslabs_cross_partial_edge_chunks() {
    // /chunked_edges is 10x7 int16 in 4x3 chunks holding 0..70 row-major.
    let f = open("layouts.h5");
    let d = f.dataset("/chunked_edges").unwrap();
    assert_eq!(d.layout(), LayoutKind::Chunked);
    assert_eq!(d.chunks(), Some(&[4u64, 3][..]));
    let all = d.read::<i16>().unwrap();
    assert_eq!(all, (0..70).collect::<Vec<i16>>());
    let slab = d.read_slab::<i16>(&[3, 2], &[5, 4]).unwrap();
    let want: Vec<i16> = (3..8)
        .flat_map(|r| (2..6).map(move |c| (r * 7 + c) as i16))
        .collect();
    assert_eq!(slab, want);
    // The last row and column: only edge chunks.
    assert_eq!(d.read_slab::<i16>(&[9, 6], &[1, 1]).unwrap(), vec![69]);
}

#[test]
fn out_of_bounds_selections_are_rejected() {
    let f = open("layouts.h5");
    let d = f.dataset("/chunked_edges").unwrap();
    for (start, count) in [
        ([0, 0], [11, 1]),
        ([10, 0], [1, 1]),
        ([0, u64::MAX], [1, 2]),
    ] {
        let err = d.read_slab::<i16>(&start, &count).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }
    let err = d.read_range::<i16>(0, 1).unwrap_err();
    assert!(err.to_string().contains("1-D"), "{err}");
}

#[test]
fn never_written_chunks_and_storage_read_as_the_fill_value() {
    let f = open("layouts.h5");
    let d = f.dataset("/chunked_never_written_fill").unwrap();
    assert_eq!(d.read::<i64>().unwrap(), vec![-1_099_511_627_776; 7]);
    let c = f.dataset("/contiguous_unwritten_fill").unwrap();
    assert_eq!(c.read::<i32>().unwrap(), vec![42; 6]);
    let partial = f.dataset("/chunked_fill").unwrap().read::<i32>().unwrap();
    assert_eq!(&partial[..4], &[5, 5, 5, -1]);
}

#[test]
fn contiguous_native_ranges_borrow_from_the_map() {
    let f = open("layouts.h5");
    let d = f.dataset("/contiguous").unwrap();
    let r = d.read_range_cow::<f64>(2, 3).unwrap();
    assert_eq!(&*r, &[3.0, 4.5, 6.0]);
    // f64 needs 8-byte alignment of the file offset; the map itself is page aligned.
    assert!(
        matches!(r, Cow::Borrowed(_)),
        "expected a borrow from the mmap"
    );
    // Big-endian data must be copied and converted.
    let f = open("dtypes.h5");
    let be = f
        .dataset("/i32_be")
        .unwrap()
        .read_range_cow::<i32>(0, 2)
        .unwrap();
    assert!(matches!(be, Cow::Owned(_)));
    assert_eq!(&*be, &[i32::MIN, -1]);
}

#[test]
fn gzip_chunked_ranges_match_full_reads() {
    let f = open("anndata_gzip.h5ad");
    let indptr = f.dataset("/X/indptr").unwrap();
    assert!(!indptr.filters().is_empty());
    let all = indptr.read::<i32>().unwrap();
    let part = indptr.read_range::<i32>(1, all.len() as u64 - 2).unwrap();
    assert_eq!(&all[1..all.len() - 1], &part[..]);
}

#[test]
fn soft_links_resolve_and_dangling_ones_are_reported() {
    let f = open("links.h5");
    let Node::Dataset(d) = f.get("/soft_to_data").unwrap() else {
        panic!("soft link should lead to a dataset")
    };
    assert_eq!(d.read::<f64>().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    let Node::Dataset(rel) = f.get("/soft_relative").unwrap() else {
        panic!("relative soft link should lead to a dataset")
    };
    assert_eq!(rel.read::<i32>().unwrap(), vec![1]);
    let links = f.root().unwrap().links().unwrap();
    let dangling = links.iter().find(|l| l.name == "dangling").unwrap();
    assert_eq!(dangling.target, LinkTarget::Soft("/does/not/exist".into()));
    assert!(f.get("/dangling").is_err());
}

#[test]
fn external_links_resolve_when_the_file_sits_beside() {
    let f = open("links.h5");
    let links = f.root().unwrap().links().unwrap();
    let ext = links.iter().find(|l| l.name == "external").unwrap();
    assert_eq!(
        ext.target,
        LinkTarget::External {
            file: "links_target.h5".into(),
            path: "/target_group".into()
        }
    );
    let Node::Group(g) = f.get("/external").unwrap() else {
        panic!("external link should lead to a group")
    };
    assert!(!g.links().unwrap().is_empty());
    let err = f.get("/external_missing").unwrap_err();
    assert!(err.to_string().contains("missing_file.h5"), "{err}");
}

#[test]
fn from_bytes_reads_without_a_map() {
    let bytes = std::fs::read(fixture("seed.h5")).unwrap();
    let f = File::from_bytes(bytes).unwrap();
    let indptr = f.dataset("/X/indptr").unwrap().read::<i32>().unwrap();
    assert_eq!(indptr, vec![0, 1, 2, 2, 4, 5, 6]);
    let y = f.dataset("/Y").unwrap();
    assert_eq!(y.shape(), Some(&[4u64, 3][..]));
    assert_eq!(y.read_slab::<i64>(&[3, 0], &[1, 3]).unwrap(), vec![3, 4, 0]);
}

/// Reads of a few chunks descend the v1 B-tree to just those chunks (the
/// index is not loaded whole): every range, in any run order, on a tree of
/// several levels, equals the full read, compressed or not.
#[test]
fn few_chunk_reads_through_a_pruned_b_tree_equal_full_reads() {
    use h5sparse::io::sink::MemSink;
    use h5sparse::write::{DatasetOptions, Writer};
    let n = 5000u64;
    let values: Vec<i64> = (0..n as i64).map(|v| v * 7 - 3).collect();
    for opts in [
        DatasetOptions::growable().chunks(&[3]),
        DatasetOptions::growable().chunks(&[2]).gzip(1),
    ] {
        let mut w = Writer::create_in(MemSink::default()).unwrap();
        w.create_dataset("/d", &[n], &values, &opts).unwrap();
        let bytes = w.close().unwrap().bytes;
        let mut seed = 12345u64;
        for _ in 0..200 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Out of order, within a few dozen chunks of each other.
            let a = (seed >> 33) % (n - 100);
            let len = 1 + (seed >> 20) % 60;
            let runs = [(a + 30, len), (a, 1), (a + 7, 2)];
            // A fresh file each time: nothing cached.
            let f = File::from_bytes(bytes.clone()).unwrap();
            let got = f.dataset("/d").unwrap().read_runs::<i64>(&runs).unwrap();
            let want: Vec<i64> = runs
                .iter()
                .flat_map(|&(s, c)| values[s as usize..(s + c) as usize].iter().copied())
                .collect();
            assert_eq!(got, want, "runs {runs:?}");
        }
    }
}

/// `read_field` gives, for every numeric field of every compound dataset in
/// the fixtures, what h5py read (the fixtures' JSON), block by block
/// without the other fields; `read_records` gives the whole records.
#[test]
fn compound_fields_read_alone_match_h5py() {
    let mut checked = 0;
    for name in [
        "compound.h5",
        "compound_latest.h5",
        "anndata06_compound.h5ad",
    ] {
        let path = fixture(name);
        let f = h5sparse::File::open(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.json", path.display())).unwrap(),
        )
        .unwrap();
        for (obj_path, obj) in json["objects"].as_object().unwrap() {
            if obj["dtype"] != "compound" || obj.get("values").is_none() {
                continue;
            }
            let d = f.dataset(obj_path).unwrap();
            let flat: Vec<&serde_json::Value> = match &obj["values"] {
                serde_json::Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            assert_eq!(
                d.read_records().unwrap().len(),
                flat.len(),
                "{name} {obj_path}"
            );
            for field in obj["fields"].as_array().unwrap() {
                let fname = field["name"].as_str().unwrap();
                let want: Vec<f64> = flat
                    .iter()
                    .map(|r| r[fname].as_f64().unwrap_or(f64::NAN))
                    .collect();
                let got: Option<Vec<f64>> = match field["dtype"].as_str().unwrap() {
                    d if field.get("subshape").is_some() || field.get("fields").is_some() => {
                        let _ = d;
                        None
                    }
                    "<i8" | ">i8" => d
                        .read_field::<i64>(fname)
                        .ok()
                        .map(|v| v.iter().map(|&x| x as f64).collect()),
                    "<i4" | ">i4" => d
                        .read_field::<i32>(fname)
                        .ok()
                        .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
                    "|i1" => d
                        .read_field::<i8>(fname)
                        .ok()
                        .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
                    "|u1" => d
                        .read_field::<u8>(fname)
                        .ok()
                        .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
                    "<u4" | ">u4" => d
                        .read_field::<u32>(fname)
                        .ok()
                        .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
                    "<f4" | ">f4" => d
                        .read_field::<f32>(fname)
                        .ok()
                        .map(|v| v.iter().map(|&x| f64::from(x)).collect()),
                    "<f8" | ">f8" => d.read_field::<f64>(fname).ok(),
                    _ => None,
                };
                if let Some(got) = got {
                    assert_eq!(got.len(), want.len(), "{name} {obj_path}.{fname}");
                    for (g, w) in got.iter().zip(&want) {
                        assert!(
                            g == w || (g.is_nan() && w.is_nan()),
                            "{name} {obj_path}.{fname}: {got:?} != {want:?}"
                        );
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} fields checked");
    // Asking for the wrong type or a missing field names the problem.
    let f = h5sparse::File::open(fixture("anndata06_compound.h5ad")).unwrap();
    let obs = f.dataset("/obs").unwrap();
    assert!(
        obs.read_field::<f32>("n_genes")
            .unwrap_err()
            .to_string()
            .contains("int64")
            || obs
                .read_field::<f32>("n_genes")
                .unwrap_err()
                .to_string()
                .contains("<i8")
    );
    assert!(obs
        .read_field::<i64>("nope")
        .unwrap_err()
        .to_string()
        .contains("n_genes"));
}

/// `set_streaming` only changes what stays mapped: every dataset of the
/// matrix fixtures reads the same with it on, whole and in slices, again
/// after its pages were released.
#[test]
fn streaming_reads_equal_plain_reads() {
    for name in [
        "anndata.h5ad",
        "anndata_gzip.h5ad",
        "anndata_full.h5ad",
        "seed.h5",
        "tenx_v3.h5",
    ] {
        let plain = File::open(fixture(name)).unwrap();
        let streaming = File::open(fixture(name)).unwrap();
        streaming.set_streaming(true);
        let mut datasets = Vec::new();
        let mut groups = vec!["/".to_string()];
        while let Some(g) = groups.pop() {
            for link in plain.group(&g).unwrap().links().unwrap() {
                let path = format!("{}/{}", g.trim_end_matches('/'), link.name);
                match plain.get(&path) {
                    Ok(Node::Group(_)) => groups.push(path),
                    Ok(Node::Dataset(d))
                        if matches!(
                            d.dtype(),
                            h5sparse::Dtype::Int { .. } | h5sparse::Dtype::Float { .. }
                        ) =>
                    {
                        datasets.push(path)
                    }
                    _ => {}
                }
            }
        }
        assert!(!datasets.is_empty(), "{name}");
        for path in datasets {
            let a = plain.dataset(&path).unwrap();
            let b = streaming.dataset(&path).unwrap();
            assert_eq!(a.values().unwrap(), b.values().unwrap(), "{name} {path}");
            if a.shape().is_some_and(|s| s.len() == 1 && s[0] > 2) {
                let n = a.shape().unwrap()[0];
                let runs = [(1, n - 2), (0, 1), (n / 2, n - n / 2)];
                assert_eq!(
                    a.read_runs::<f64>(&runs).ok(),
                    b.read_runs::<f64>(&runs).ok(),
                    "{name} {path} runs"
                );
            }
            assert_eq!(
                a.values().unwrap(),
                b.values().unwrap(),
                "{name} {path} again"
            );
        }
    }
}
