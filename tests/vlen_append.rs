//! `Writer::append_values` on variable-length string datasets that h5py
//! wrote (chunked, `maxshape=(None,)`): the new strings go into new global
//! heap collections, the old ones keep every byte, and h5py reads every
//! string back (non-ASCII and empty ones too), then grows the dataset
//! itself and writes into it; inside a transaction nothing shows before
//! the commit.

mod support;

use std::path::Path;

use h5sparse::io::sink::MemSink;
use h5sparse::write::Writer;
use h5sparse::Values;

fn assert_untouched(bytes: &[u8], old: &(Vec<u8>, Vec<(usize, Vec<u8>)>), what: &str) {
    let (now, _) = support::vlen_storage(bytes, "/s");
    assert_eq!(
        &now[..old.0.len()],
        &old.0[..],
        "{what}: old heap IDs changed"
    );
    for (at, heap) in &old.1 {
        assert_eq!(
            &bytes[*at..at + heap.len()],
            &heap[..],
            "{what}: collection at {at} changed"
        );
    }
}

/// h5py's reading of `/s` in `path`, as JSON.
fn h5py_strings(python: &Path, path: &Path) -> Vec<String> {
    let out = support::run_python(
        python,
        "import sys, json, h5py\n\
         with h5py.File(sys.argv[1], 'r') as f:\n\
         \x20   print(json.dumps([s.decode('utf-8') for s in f['s'][()]]))\n",
        [path.as_os_str()],
    );
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn appended_strings_read_back_in_h5py_and_the_old_heap_is_untouched() {
    let Some(python) = support::require_python("vlen append").unwrap() else {
        return;
    };
    let dir = support::test_dir("vlen-append");
    let path = dir.join("strings.h5");
    let first: Vec<String> = ["AAAC-1", "", "naïve", "日本語", "x"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    support::run_python(
        &python,
        "import sys, json, h5py\n\
         with h5py.File(sys.argv[1], 'w') as f:\n\
         \x20   f.create_dataset('s', data=json.loads(sys.argv[2]), dtype=h5py.string_dtype(),\n\
         \x20                    chunks=(4,), maxshape=(None,))\n",
        [
            path.as_os_str(),
            serde_json::to_string(&first).unwrap().as_ref(),
        ],
    );
    assert_eq!(h5py_strings(&python, &path), first);
    let bytes = std::fs::read(&path).unwrap();
    let old = support::vlen_storage(&bytes, "/s");

    // Outside a transaction: more strings than one collection holds, an
    // empty one, a long one, non-ASCII ones.
    let mut second: Vec<String> = (0..5000).map(|i| format!("cell-{i}-é")).collect();
    second.extend(["".to_string(), "ÿ".repeat(10_000), "🧬".to_string()]);
    let mut w = Writer::open_in(MemSink::from_bytes(bytes)).unwrap();
    w.append_values("/s", &Values::Str(second.clone())).unwrap();
    let after_one = w.sink().bytes.clone();
    assert_untouched(&after_one, &old, "plain append");

    // Inside a transaction: nothing shows before the commit, and the
    // published bytes stay as they were until the one superblock write.
    let third: Vec<String> = vec!["late".into(), "".into(), "ünï".into()];
    w.begin().unwrap();
    w.append_values("/s", &Values::Str(third.clone())).unwrap();
    let published = h5sparse::File::from_bytes(w.sink().bytes.clone()).unwrap();
    assert_eq!(
        published.dataset("/s").unwrap().len(),
        (first.len() + second.len()) as u64
    );
    assert_eq!(
        &w.sink().bytes[..after_one.len()],
        &after_one[..],
        "the transaction changed published bytes before its commit"
    );
    w.commit().unwrap();
    let grown = w.close().unwrap().bytes;
    assert_untouched(&grown, &old, "transaction");
    std::fs::write(&path, &grown).unwrap();

    let want: Vec<String> = first.iter().chain(&second).chain(&third).cloned().collect();
    assert_eq!(h5py_strings(&python, &path), want);
    let ours = h5sparse::File::open(&path).unwrap();
    assert_eq!(
        ours.dataset("/s").unwrap().values().unwrap(),
        Values::Str(want.clone())
    );

    // libhdf5 grows the dataset further, writes into it and over old
    // elements, then shrinks it.
    support::run_python(
        &python,
        "import sys, h5py\n\
         with h5py.File(sys.argv[1], 'r+') as f:\n\
         \x20   d = f['s']\n\
         \x20   n = d.shape[0]\n\
         \x20   d.resize((n + 2,))\n\
         \x20   d[n:] = ['h5py-1', 'h5py-ä']\n\
         \x20   d[1] = 'changed'\n\
         \x20   d[n - 1] = 'replaced'\n\
         \x20   d[n - 4] = ''\n\
         \x20   d.resize((n + 1,))\n",
        [path.as_os_str()],
    );
    let mut want = want;
    // Overwritten: an element h5py wrote, and two of ours (libhdf5 frees
    // their objects in our collections).
    want[1] = "changed".into();
    let n = want.len();
    want[n - 1] = "replaced".into();
    want[n - 4] = "".into();
    want.push("h5py-1".into());
    assert_eq!(h5py_strings(&python, &path), want);
    let ours = h5sparse::File::open(&path).unwrap();
    assert_eq!(
        ours.dataset("/s").unwrap().values().unwrap(),
        Values::Str(want)
    );
}

#[test]
fn appending_values_of_the_wrong_kind_or_to_a_fixed_dataset_fails_and_writes_nothing() {
    use h5sparse::write::DatasetOptions;
    use h5sparse::{CharSet, Dtype};
    let utf8 = Dtype::VarString {
        charset: CharSet::Utf8,
    };
    let mut w = Writer::create_in(MemSink::default()).unwrap();
    let names = Values::Str(vec!["a".into()]);
    w.create_dataset_values("/fixed", &utf8, &[1], &names, &DatasetOptions::default())
        .unwrap();
    w.create_dataset_values("/grows", &utf8, &[1], &names, &DatasetOptions::growable())
        .unwrap();
    let before = w.sink().bytes.clone();
    let err = w.append_values("/fixed", &names).unwrap_err().to_string();
    assert!(err.contains("/fixed"), "{err}");
    let err = w
        .append_values("/grows", &Values::Int(vec![1]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("/grows"), "{err}");
    assert_eq!(w.sink().bytes, before);
}
