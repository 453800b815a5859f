//! The write path: files we create or modify read back in our reader and in
//! the real libraries (h5py on HDF5 2.0, Debian's h5dump on libhdf5 1.10).
//! Crashes at every write: tests/write_crash.rs.

mod support;

use std::path::PathBuf;
use std::process::Command;

use h5sparse::io::sink::MemSink;
use h5sparse::write::{CreateOptions, DatasetOptions, Format, Writer};
use h5sparse::{ByteOrder, CharSet, Dtype, File, StringPadding, Values};

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("write-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Saves `bytes` under `name` and has h5py and h5dump check every object
/// against our reader's dump.
fn check_with_real_libraries(name: &str, bytes: &[u8]) {
    let path = tmp(name);
    std::fs::write(&path, bytes).unwrap();
    let ours = h5sparse::dump::dump_json(&File::from_bytes(bytes.to_vec()).unwrap());
    support::check_written(&path, &ours).unwrap_or_else(|e| panic!("{name}: {e}"));
}

use support::dump_value as dump;

/// Builds a file with one of everything the writer supports.
fn build_everything<B: h5sparse::write::Backing>(w: &mut Writer<B>) -> h5sparse::Result<()> {
    w.create_group("/X")?;
    w.create_dataset(
        "/X/data",
        &[4],
        &[1.0f32, 2.0, 3.0, 4.0],
        &DatasetOptions::growable(),
    )?;
    w.create_dataset(
        "/X/indices",
        &[4],
        &[1i32, 2, 0, 1],
        &DatasetOptions::growable().gzip(4).shuffle(),
    )?;
    w.create_dataset(
        "/X/indptr",
        &[5],
        &[0i64, 1, 2, 2, 4],
        &DatasetOptions::growable(),
    )?;
    w.set_attr_str("/X", "h5sparse_format", "csr")?;
    w.set_attr_array("/X", "h5sparse_shape", &[4i64, 3])?;
    w.create_dataset(
        "/Y",
        &[4, 3],
        &[0i64, 1, 0, 0, 0, 2, 0, 0, 0, 3, 4, 0],
        &DatasetOptions::default(),
    )?;
    w.create_dataset(
        "/big_endian",
        &[3],
        &[1u16, 2, 3],
        &DatasetOptions::default(),
    )?;
    w.create_dataset_values(
        "/strings",
        &Dtype::VarString {
            charset: CharSet::Utf8,
        },
        &[3],
        &Values::Str(vec!["a".into(), "ünïcode".into(), String::new()]),
        &DatasetOptions::default(),
    )?;
    w.create_dataset_values(
        "/fixed",
        &Dtype::FixedString {
            size: 4,
            padding: StringPadding::NullPadded,
            charset: CharSet::Ascii,
        },
        &[2],
        &Values::Str(vec!["ab".into(), "cdef".into()]),
        &DatasetOptions::default(),
    )?;
    w.create_dataset_values(
        "/flags",
        &Dtype::Bool,
        &[3],
        &Values::Bool(vec![true, false, true]),
        &DatasetOptions::default(),
    )?;
    w.create_dataset_values(
        "/half_be",
        &Dtype::Float {
            size: 2,
            order: ByteOrder::Big,
        },
        &[2],
        &Values::Float(vec![1.5, -2.0]),
        &DatasetOptions::default(),
    )?;
    w.create_group("/nested")?;
    for i in 0..40 {
        w.create_group(&format!("/nested/g{i:02}"))?;
    }
    w.set_attr(
        "/nested",
        "scalar",
        &Dtype::Int {
            size: 4,
            signed: true,
            order: ByteOrder::Little,
        },
        Some(&[]),
        &Values::Int(vec![-7]),
    )?;
    w.soft_link("/link_to_y", "/Y")?;
    Ok(())
}

#[test]
fn a_new_file_reads_back_in_our_reader() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    build_everything(&mut w).unwrap();
    let bytes = w.close().unwrap().bytes;
    check_with_real_libraries("new_file.h5", &bytes);
    let f = File::from_bytes(bytes).unwrap();
    assert_eq!(f.superblock_version(), 0);
    assert_eq!(
        f.dataset("/X/data").unwrap().read::<f32>().unwrap(),
        vec![1.0, 2.0, 3.0, 4.0]
    );
    assert_eq!(
        f.dataset("/X/indices").unwrap().read::<i32>().unwrap(),
        vec![1, 2, 0, 1]
    );
    assert_eq!(f.dataset("/X/indices").unwrap().filters().len(), 2);
    assert_eq!(
        f.dataset("/Y")
            .unwrap()
            .read_slab::<i64>(&[3, 0], &[1, 3])
            .unwrap(),
        vec![3, 4, 0]
    );
    assert_eq!(
        f.dataset("/strings").unwrap().values().unwrap(),
        Values::Str(vec!["a".into(), "ünïcode".into(), String::new()])
    );
    assert_eq!(
        f.dataset("/fixed").unwrap().values().unwrap(),
        Values::Str(vec!["ab".into(), "cdef".into()])
    );
    assert_eq!(
        f.dataset("/flags").unwrap().values().unwrap(),
        Values::Bool(vec![true, false, true])
    );
    assert_eq!(
        f.dataset("/half_be").unwrap().values().unwrap(),
        Values::Float(vec![1.5, -2.0])
    );
    assert_eq!(f.group("/nested").unwrap().links().unwrap().len(), 40);
    let g = f.group("/X").unwrap();
    assert_eq!(
        g.attribute("h5sparse_format")
            .unwrap()
            .unwrap()
            .values()
            .unwrap(),
        Values::Str(vec!["csr".into()])
    );
    assert_eq!(
        g.attribute("h5sparse_shape")
            .unwrap()
            .unwrap()
            .values()
            .unwrap(),
        Values::Int(vec![4, 3])
    );
    let sparse = h5sparse::sparse::detect(&g)
        .unwrap()
        .expect("the group is a sparse matrix");
    assert_eq!(sparse.shape, [4, 3]);
}

#[test]
fn appends_grow_the_v1_btree_through_splits_and_new_levels() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    // 2-element chunks: 70 appends of 3 make 105 chunks, past one 64-entry node.
    w.create_dataset(
        "/a",
        &[0],
        &[] as &[i64],
        &DatasetOptions::growable().chunks(&[2]),
    )
    .unwrap();
    w.create_dataset(
        "/z",
        &[1],
        &[9i32],
        &DatasetOptions::growable().chunks(&[2]).gzip(1),
    )
    .unwrap();
    let mut want = Vec::new();
    for i in 0..70i64 {
        let rows = [3 * i, 3 * i + 1, 3 * i + 2];
        w.append("/a", &rows).unwrap();
        w.append("/z", &[i as i32]).unwrap();
        want.extend_from_slice(&rows);
    }
    w.write_slab("/a", &[5], &[3], &[-1i64, -2, -3]).unwrap();
    want[5..8].copy_from_slice(&[-1, -2, -3]);
    let bytes = w.close().unwrap().bytes;
    check_with_real_libraries("appends.h5", &bytes);
    let f = File::from_bytes(bytes).unwrap();
    let a = f.dataset("/a").unwrap();
    assert_eq!(a.read::<i64>().unwrap(), want);
    assert_eq!(a.maxshape(), Some(vec![None]));
    assert_eq!(a.chunk_records().unwrap().len(), 105);
    let z = f.dataset("/z").unwrap().read::<i32>().unwrap();
    assert_eq!(z.len(), 71);
    assert_eq!(z[70], 69);
}

#[test]
fn attributes_overwrite_delete_and_overflow_into_continuation_blocks() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    w.create_dataset("/d", &[2], &[1i8, 2], &DatasetOptions::default())
        .unwrap();
    for i in 0..30 {
        w.set_attr_array("/d", &format!("attr{i:02}"), &[i as i64; 5])
            .unwrap();
    }
    w.set_attr_str(
        "/d",
        "attr03",
        "now a string that is much longer than forty bytes",
    )
    .unwrap();
    w.delete_attr("/d", "attr07").unwrap();
    let bytes = w.close().unwrap().bytes;
    check_with_real_libraries("attributes.h5", &bytes);
    let f = File::from_bytes(bytes).unwrap();
    let d = f.dataset("/d").unwrap();
    let names: Vec<String> = d
        .attributes()
        .unwrap()
        .iter()
        .map(|a| a.name().to_string())
        .collect();
    assert_eq!(names.len(), 29);
    assert!(!names.contains(&"attr07".to_string()));
    assert_eq!(
        d.attribute("attr03").unwrap().unwrap().values().unwrap(),
        Values::Str(vec![
            "now a string that is much longer than forty bytes".into()
        ])
    );
    assert_eq!(
        d.attribute("attr29").unwrap().unwrap().values().unwrap(),
        Values::Int(vec![29; 5])
    );
}

#[test]
fn unlink_and_replace() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    w.create_group("/X").unwrap();
    w.create_dataset("/X/data", &[2], &[1i64, 2], &DatasetOptions::default())
        .unwrap();
    w.unlink("/X").unwrap();
    w.create_group("/X").unwrap();
    w.create_dataset(
        "/X/data",
        &[3],
        &[7.0f64, 8.0, 9.0],
        &DatasetOptions::default(),
    )
    .unwrap();
    let err = w.create_group("/X").unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let bytes = w.close().unwrap().bytes;
    check_with_real_libraries("unlink.h5", &bytes);
    let f = File::from_bytes(bytes).unwrap();
    assert_eq!(
        f.dataset("/X/data").unwrap().read::<f64>().unwrap(),
        vec![7.0, 8.0, 9.0]
    );
}

#[test]
fn growing_a_contiguous_dataset_is_refused() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    w.create_dataset("/c", &[2], &[1i64, 2], &DatasetOptions::default())
        .unwrap();
    let err = w.append("/c", &[3i64]).unwrap_err();
    assert!(err.to_string().contains("maxshape"), "{err}");
}

#[test]
fn written_files_open_in_h5py_and_h5dump() {
    let path = tmp("everything.h5");
    let mut w = Writer::create(&path).unwrap();
    build_everything(&mut w).unwrap();
    w.append("/X/data", &[5.0f32, 6.0]).unwrap();
    w.append("/X/indices", &[2i32, 0]).unwrap();
    w.append("/X/indptr", &[5i64, 6]).unwrap();
    drop(w.close().unwrap());
    let ours = h5sparse::dump::dump_json(&File::open(&path).unwrap());
    support::check_written(&path, &ours).unwrap();
}

#[test]
fn appending_in_place_to_an_anndata_file_keeps_it_readable_by_anndata() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/anndata.h5ad");
    let path = tmp("anndata_appended.h5ad");
    std::fs::copy(&src, &path).unwrap();
    let before = File::open(&path).unwrap();
    let data: Vec<f32> = before.dataset("/X/data").unwrap().read().unwrap();
    let indices: Vec<i32> = before.dataset("/X/indices").unwrap().read().unwrap();
    let indptr: Vec<i32> = before.dataset("/X/indptr").unwrap().read().unwrap();
    let shape = match before
        .group("/X")
        .unwrap()
        .attribute("shape")
        .unwrap()
        .unwrap()
        .values()
        .unwrap()
    {
        Values::Int(v) => v,
        other => panic!("shape {other:?}"),
    };
    drop(before);
    // Two new rows: row A has columns 0 and 3, row B is empty.
    let nnz = *indptr.last().unwrap();
    let mut w = Writer::open(&path).unwrap();
    w.append("/X/data", &[10.5f32, 11.5]).unwrap();
    w.append("/X/indices", &[0i32, 3]).unwrap();
    w.append("/X/indptr", &[nnz + 2, nnz + 2]).unwrap();
    w.set_attr_array("/X", "shape", &[shape[0] + 2, shape[1]])
        .unwrap();
    drop(w.close().unwrap());

    let after = File::open(&path).unwrap();
    let mut want = data.clone();
    want.extend([10.5, 11.5]);
    assert_eq!(
        after.dataset("/X/data").unwrap().read::<f32>().unwrap(),
        want
    );
    assert_eq!(
        after
            .dataset("/X/indices")
            .unwrap()
            .read::<i32>()
            .unwrap()
            .len(),
        indices.len() + 2
    );
    // anndata and h5py on HDF5 2.0 read the result.
    let py = support::python().expect("python with anndata (scripts/test installs .venv)");
    let script = format!(
        "import anndata, h5py, numpy as np\n\
         f = h5py.File({p:?}, 'r')\n\
         ds = anndata.io.sparse_dataset(f['X'])\n\
         assert ds.shape == ({r}, {c}), ds.shape\n\
         X = ds.to_memory().toarray()\n\
         assert X[{r} - 2, 0] == np.float32(10.5) and X[{r} - 2, 3] == np.float32(11.5), X[{r} - 2]\n\
         assert not X[{r} - 1].any()\n\
         assert np.isclose(X[:{r0}].sum(), {s}, rtol=1e-5)\n\
         print('anndata ok')\n",
        p = path.display().to_string(),
        r = shape[0] + 2,
        c = shape[1],
        r0 = shape[0],
        s = data.iter().sum::<f32>(),
    );
    let out = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "anndata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = h5sparse::dump::dump_json(&after);
    support::check_written(&path, &ours).unwrap();
}

// ---------------------------------------------------------------------------
// The latest format (libver ('v110', 'v110')).
// ---------------------------------------------------------------------------

fn latest() -> CreateOptions {
    CreateOptions {
        format: Format::Latest,
    }
}

#[test]
fn a_latest_format_file_reads_back_with_the_same_content() {
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    build_everything(&mut w).unwrap();
    let earliest = dump(&w.close().unwrap().bytes);
    let mut w = Writer::create_in_with(MemSink::default(), &latest()).unwrap();
    build_everything(&mut w).unwrap();
    let bytes = w.close().unwrap().bytes;
    let f = File::from_bytes(bytes.clone()).unwrap();
    assert_eq!(f.superblock_version(), 3);
    let got = dump(&bytes);
    assert_eq!(got["groups"], earliest["groups"]);
    assert_eq!(
        f.dataset("/X/indices").unwrap().read::<i32>().unwrap(),
        vec![1, 2, 0, 1]
    );
}

#[test]
fn latest_format_files_open_in_h5py_and_h5dump() {
    let path = tmp("everything_latest.h5");
    let mut w = Writer::create_with(&path, &latest()).unwrap();
    build_everything(&mut w).unwrap();
    w.append("/X/data", &[5.0f32, 6.0]).unwrap();
    w.append("/X/indices", &[2i32, 0]).unwrap();
    w.append("/X/indptr", &[5i64, 6]).unwrap();
    // One of each index kind: single chunk, fixed array (unpaged and
    // paged), extensible array, v2 B-tree (two unlimited dimensions).
    w.create_dataset(
        "/single",
        &[3, 2],
        &[1i32, 2, 3, 4, 5, 6],
        &DatasetOptions::default().chunks(&[3, 2]).gzip(1),
    )
    .unwrap();
    let v: Vec<i64> = (0..3000).collect();
    w.create_dataset(
        "/fixed_array",
        &[300],
        &v[..300],
        &DatasetOptions::default().chunks(&[7]),
    )
    .unwrap();
    w.create_dataset(
        "/fixed_array_paged",
        &[3000],
        &v,
        &DatasetOptions::default().chunks(&[2]).shuffle().gzip(1),
    )
    .unwrap();
    w.write_slab("/fixed_array", &[5], &[4], &[-1i64, -2, -3, -4])
        .unwrap();
    w.create_dataset(
        "/two_unlimited",
        &[2, 2],
        &[1u8, 2, 3, 4],
        &DatasetOptions::growable().chunks(&[1, 1]),
    )
    .unwrap();
    w.append("/two_unlimited", &[5u8, 6]).unwrap();
    w.set_attr_str("/fixed_array", "note", "hello").unwrap();
    w.unlink("/big_endian").unwrap();
    drop(w.close().unwrap());
    let f = File::open(&path).unwrap();
    assert_eq!(
        f.dataset("/fixed_array")
            .unwrap()
            .read_slab::<i64>(&[4], &[6])
            .unwrap(),
        vec![4, -1, -2, -3, -4, 9]
    );
    let ours = h5sparse::dump::dump_json(&f);
    support::check_written(&path, &ours).unwrap();
}

#[test]
fn appends_grow_the_extensible_array_through_data_blocks_and_super_blocks() {
    let path = tmp("ea_appends.h5");
    let mut w = Writer::create_with(&path, &latest()).unwrap();
    let opts = DatasetOptions::growable().chunks(&[2]);
    w.create_dataset("/a", &[1], &[0i64], &opts).unwrap();
    w.create_dataset("/z", &[1], &[0i32], &opts.clone().gzip(3))
        .unwrap();
    let mut want = vec![0i64];
    // 2-element chunks: 1500 elements = 750 entries: index block, the two
    // index-block super blocks' data blocks, then EASB super blocks.
    let mut next = 1i64;
    for step in [1usize, 3, 10, 40, 200, 1246] {
        let add: Vec<i64> = (next..next + step as i64).collect();
        next += step as i64;
        w.append("/a", &add).unwrap();
        let add32: Vec<i32> = add.iter().map(|&x| x as i32).collect();
        w.append("/z", &add32).unwrap();
        want.extend(add);
    }
    drop(w.close().unwrap());
    let f = File::open(&path).unwrap();
    assert_eq!(f.dataset("/a").unwrap().read::<i64>().unwrap(), want);
    let ours = h5sparse::dump::dump_json(&f);
    support::check_written(&path, &ours).unwrap();
}

#[test]
fn an_h5py_v110_file_is_modified_in_place() {
    h5py_latest_file_is_modified_in_place("('v110', 'v110')", "h5py_v110.h5");
}

/// HDF5 2.0's own latest format: layout message v5, datatype message v5.
#[test]
fn an_hdf5_2_0_latest_file_is_modified_in_place() {
    h5py_latest_file_is_modified_in_place("'latest'", "h5py_latest.h5");
}

fn h5py_latest_file_is_modified_in_place(libver: &str, name: &str) {
    let Some(py) = support::require_python("h5py latest file").unwrap() else {
        return;
    };
    let path = tmp(name);
    let script = format!(
        r#"
import h5py, numpy as np
with h5py.File({p:?}, 'w', libver={libver}) as f:
    g = f.create_group('X')
    g.attrs['encoding-type'] = 'csr_matrix'
    g.create_dataset('data', data=np.arange(5, dtype='f4'), maxshape=(None,), chunks=(2,))
    g.create_dataset('indptr', data=np.arange(6), maxshape=(None,), chunks=(4,), compression='gzip')
    g.create_dataset('fixed', data=np.arange(20).reshape(4, 5), chunks=(2, 2))
    g.create_dataset('grid', data=np.arange(6).reshape(2, 3), maxshape=(None, None), chunks=(1, 2))
    g.create_dataset('grid_gz', data=np.arange(6.0).reshape(2, 3), maxshape=(None, None), chunks=(2, 2), compression='gzip')
    for i in range(5):
        f.create_group(f'g{{i}}')
"#,
        p = path.to_str().unwrap()
    );
    let out = Command::new(&py).arg("-c").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unmodified = path.with_extension("unmodified.h5");
    std::fs::copy(&path, &unmodified).unwrap();
    let mut w = Writer::open(&path).unwrap();
    w.append("/X/data", &[5.0f32, 6.0, 7.0, 8.0, 9.0, 10.0])
        .unwrap();
    w.append("/X/indptr", &(6i64..40).collect::<Vec<_>>())
        .unwrap();
    w.write_slab("/X/fixed", &[1, 1], &[2, 2], &[-1i64, -2, -3, -4])
        .unwrap();
    // v2 B-tree chunk indexes (two unlimited dimensions), rebuilt.
    w.append("/X/grid", &[6i64, 7, 8, 9, 10, 11]).unwrap();
    w.append("/X/grid_gz", &[6.0f64, 7.0, 8.0]).unwrap();
    w.set_attr_str("/X", "encoding-version", "0.1.0").unwrap();
    w.set_attr_array("/X", "shape", &[4i64, 3]).unwrap();
    w.delete_attr("/X", "encoding-type").unwrap();
    w.create_group("/g5").unwrap();
    w.create_dataset("/g5/new", &[3], &[1u16, 2, 3], &DatasetOptions::default())
        .unwrap();
    w.unlink("/g0").unwrap();
    for i in 0..30 {
        w.set_attr_array("/g1", &format!("a{i}"), &[i as i64])
            .unwrap_or_else(|e| {
                // Past 8 attributes the storage goes dense, as in libhdf5.
                panic!("attribute {i}: {e}")
            });
    }
    drop(w.close().unwrap());
    let f = File::open(&path).unwrap();
    assert_eq!(
        f.dataset("/X/data").unwrap().read::<f32>().unwrap(),
        (0..11).map(|x| x as f32).collect::<Vec<_>>()
    );
    assert_eq!(
        f.dataset("/X/indptr").unwrap().read::<i64>().unwrap(),
        (0..40).collect::<Vec<_>>()
    );
    assert_eq!(
        f.dataset("/X/grid").unwrap().read::<i64>().unwrap(),
        (0..12).collect::<Vec<_>>()
    );
    assert_eq!(
        f.dataset("/X/grid_gz").unwrap().read::<f64>().unwrap(),
        (0..9).map(f64::from).collect::<Vec<_>>()
    );
    let ours = h5sparse::dump::dump_json(&f);
    support::check_written_beyond_h5dump(&path, &unmodified, &ours).unwrap();
}
