//! Dense link and attribute storage (fractal heap + v2 B-trees): groups and
//! objects past libhdf5's compact thresholds, in files h5py wrote and in
//! our own latest-format files, modified by us and then by h5py again.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use h5sparse::io::sink::MemSink;
use h5sparse::write::{CreateOptions, Format, Writer};
use h5sparse::{File, Values};

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dense-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn latest() -> CreateOptions {
    CreateOptions {
        format: Format::Latest,
    }
}

/// Member names of `group`, sorted.
fn members(f: &File, group: &str) -> Vec<String> {
    let mut names: Vec<String> = f
        .group(group)
        .unwrap()
        .links()
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    names.sort();
    names
}

/// Integer attributes of the object at `path`.
fn int_attrs(f: &File, path: &str) -> BTreeMap<String, i64> {
    let attrs = match f.group(path) {
        Ok(g) => g.attributes().unwrap(),
        Err(_) => f.dataset(path).unwrap().attributes().unwrap(),
    };
    attrs
        .into_iter()
        .map(|a| {
            let v = match a.values().unwrap() {
                Values::Int(v) => v[0],
                other => panic!("attribute {}: {other:?}", a.name()),
            };
            (a.name().to_string(), v)
        })
        .collect()
}

fn run_python(py: &Path, script: &str) {
    let out = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_real_libraries(path: &Path) {
    let f = File::open(path).unwrap();
    let ours = h5sparse::dump::dump_json(&f);
    support::check_written(path, &ours).unwrap();
}

#[test]
fn our_groups_go_dense_past_eight_members_and_back_below_six() {
    let mut w = Writer::create_in_with(MemSink::default(), &latest()).unwrap();
    w.create_group("/g").unwrap();
    let mut want = Vec::new();
    for i in 0..40 {
        let name = format!("member_{i:03}");
        w.create_group(&format!("/g/{name}")).unwrap();
        want.push(name);
    }
    let f = w.reader().unwrap();
    assert_eq!(members(&f, "/g"), want);
    assert!(f.group("/g/member_017").is_ok());
    for i in (0..40).filter(|i| i % 3 != 0) {
        w.unlink(&format!("/g/member_{i:03}")).unwrap();
    }
    want.retain(|n| n[7..].parse::<u32>().unwrap() % 3 == 0);
    let f = w.reader().unwrap();
    assert_eq!(members(&f, "/g"), want);
    for i in (0..40).filter(|i| i % 3 == 0 && *i > 6) {
        w.unlink(&format!("/g/member_{i:03}")).unwrap();
    }
    want.truncate(3);
    let bytes = w.close().unwrap().bytes;
    let f = File::from_bytes(bytes).unwrap();
    assert_eq!(members(&f, "/g"), want);
}

#[test]
fn dense_storage_written_by_h5py_is_modified_in_place() {
    let Some(py) = support::require_python("dense storage").unwrap() else {
        return;
    };
    let path = tmp("h5py_dense.h5");
    let p = path.to_str().unwrap();
    run_python(
        &py,
        &format!(
            r#"
import h5py, numpy as np
with h5py.File({p:?}, 'w', libver='latest') as f:
    g = f.create_group('many')
    for i in range(20):
        g.create_group(f'm{{i:02d}}')
        g.attrs[f'a{{i:02d}}'] = np.int64(i)
    o = f.create_group('ordered', track_order=True)
    for i in range(12):
        o.create_dataset(f'd{{i:02d}}', data=np.arange(i + 1))
    d = f.create_dataset('ds', data=np.arange(3), track_order=True)
    for i in range(10):
        d.attrs[f'a{{i:02d}}'] = np.int64(100 + i)
"#
        ),
    );
    let mut w = Writer::open(&path).unwrap();
    for i in 20..30 {
        w.create_group(&format!("/many/m{i:02}")).unwrap();
    }
    w.unlink("/many/m03").unwrap();
    w.create_group("/many/tmp").unwrap();
    w.replace_member("/many/m05", "/many/tmp").unwrap();
    w.create_group("/ordered/late").unwrap();
    w.unlink("/ordered/d04").unwrap();
    for i in 20..25 {
        w.set_attr_array("/many", &format!("a{i:02}"), &[i as i64])
            .unwrap();
    }
    w.set_attr_array("/many", "a07", &[-7i64]).unwrap();
    w.delete_attr("/many", "a11").unwrap();
    w.set_attr_array("/ds", "a10", &[110i64]).unwrap();
    w.delete_attr("/ds", "a02").unwrap();
    drop(w.close().unwrap());

    let f = File::open(&path).unwrap();
    let mut want: Vec<String> = (0..30)
        .filter(|&i| i != 3)
        .map(|i| format!("m{i:02}"))
        .collect();
    want.sort();
    assert_eq!(members(&f, "/many"), want);
    assert_eq!(f.group("/many/m05").unwrap().links().unwrap().len(), 0);
    let mut ordered: Vec<String> = (0..12)
        .filter(|&i| i != 4)
        .map(|i| format!("d{i:02}"))
        .collect();
    ordered.push("late".into());
    assert_eq!(members(&f, "/ordered"), ordered);
    let want_attrs: BTreeMap<String, i64> = (0..25)
        .filter(|&i| i != 11)
        .map(|i| (format!("a{i:02}"), if i == 7 { -7 } else { i }))
        .collect();
    assert_eq!(int_attrs(&f, "/many"), want_attrs);
    let want_ds: BTreeMap<String, i64> = (0..11)
        .filter(|&i| i != 2)
        .map(|i| (format!("a{i:02}"), 100 + i))
        .collect();
    assert_eq!(int_attrs(&f, "/ds"), want_ds);
    check_real_libraries(&path);

    // libhdf5 keeps modifying the storage we rewrote: its free-space and
    // B-tree code runs over our heaps and indexes.
    run_python(
        &py,
        &format!(
            r#"
import h5py, numpy as np
with h5py.File({p:?}, 'a') as f:
    g = f['many']
    for i in range(30, 40):
        g.create_group(f'm{{i:02d}}')
        g.attrs[f'a{{i:02d}}'] = np.int64(i)
    del g['m00']
    del g.attrs['a00']
    o = f['ordered']
    o.create_group('later')
    assert list(o)[-2:] == ['late', 'later'], list(o)
    f['ds'].attrs['a11'] = np.int64(111)
    assert list(f['ds'].attrs)[-2:] == ['a10', 'a11'], list(f['ds'].attrs)
"#
        ),
    );
    let f = File::open(&path).unwrap();
    let mut want: Vec<String> = (1..40)
        .filter(|&i| i != 3)
        .map(|i| format!("m{i:02}"))
        .collect();
    want.sort();
    assert_eq!(members(&f, "/many"), want);
    assert_eq!(int_attrs(&f, "/many").len(), 24 + 10 - 1);
    check_real_libraries(&path);
}

#[test]
fn our_latest_files_keep_many_attributes_and_large_ones_dense() {
    let path = tmp("ours_dense_attrs.h5");
    let mut w = Writer::create_with(&path, &latest()).unwrap();
    w.create_group("/g").unwrap();
    for i in 0..50 {
        w.set_attr_array("/g", &format!("attr_{i:02}"), &[i as i64])
            .unwrap();
    }
    // 100 kB: beyond a header message (64 KiB) and the heap's managed
    // objects (4 KiB), so stored as a huge object.
    let big: Vec<f64> = (0..12_500).map(f64::from).collect();
    w.set_attr_array("/g", "big", &big).unwrap();
    w.delete_attr("/g", "attr_13").unwrap();
    drop(w.close().unwrap());
    let f = File::open(&path).unwrap();
    let g = f.group("/g").unwrap();
    let attrs = g.attributes().unwrap();
    assert_eq!(attrs.len(), 50);
    let got_big = attrs.iter().find(|a| a.name() == "big").unwrap();
    assert_eq!(got_big.values().unwrap(), Values::Float(big));
    assert!(attrs.iter().all(|a| a.name() != "attr_13"));
    check_real_libraries(&path);
}
