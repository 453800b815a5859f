use super::json::FLUSH_AT;
use super::*;

#[test]
fn writer_places_commas_and_escapes() {
    let mut w = JsonWriter::default();
    w.begin_object();
    w.key("a\"b");
    w.begin_array();
    w.int(-1);
    w.uint(u64::MAX);
    w.float(1.0);
    w.float(0.1);
    w.float(1e300);
    w.float(f64::NAN);
    w.float(f64::NEG_INFINITY);
    w.bool(true);
    w.null();
    w.string("tab\there\u{1}\\");
    w.end_array();
    w.key("e");
    w.begin_object();
    w.end_object();
    w.end_object();
    assert_eq!(
        w.finish(),
        r#"{"a\"b":[-1,18446744073709551615,1.0,0.1,1e300,"NaN","-Infinity",true,null,"tab\there\u0001\\"],"e":{}}"#
    );
}

#[test]
fn nested_values_follow_the_shape() {
    let mut w = JsonWriter::default();
    w.begin_object();
    write_values(&mut w, "v", &[2, 3], &Values::Int((0..6).collect()));
    write_values(&mut w, "s", &[], &Values::Bool(vec![true]));
    write_values(&mut w, "z", &[2, 0], &Values::Int(vec![]));
    write_values(&mut w, "bad", &[3], &Values::Int(vec![1]));
    w.end_object();
    let out = w.finish();
    assert!(out.starts_with(r#"{"v":[[0,1,2],[3,4,5]],"s":true,"z":[[],[]],"error":"#));
}

/// Every fixture dumps to the same text when each dataset is streamed
/// in blocks of a few elements as when it is read whole.
#[test]
fn streamed_values_match_whole_reads_on_every_fixture() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if !matches!(p.extension().and_then(|e| e.to_str()), Some("h5" | "h5ad")) {
            continue;
        }
        let file = File::open(&p).unwrap();
        let whole = dump_json(&file);
        for block in [1, 3, 64] {
            let mut w = JsonWriter::default();
            let streaming = Streaming { above: 0, block };
            write_document(&file, &mut w, streaming);
            assert_eq!(w.finish(), whole, "{} in blocks of {block}", p.display());
        }
        let mut sink = Vec::new();
        write_json(&file, &mut sink).unwrap();
        assert_eq!(String::from_utf8(sink).unwrap(), whole, "{}", p.display());
        n += 1;
    }
    assert!(n > 10);
}

/// A dataset past the streaming threshold, written through a sink that
/// drains mid-dataset, gives the text of a whole read.
#[test]
fn a_large_dataset_streams_through_the_sink_as_a_whole_read_prints() {
    use crate::io::sink::MemSink;
    use crate::write::{DatasetOptions, Writer};
    let mut w = Writer::create_in(MemSink::new()).unwrap();
    let a: Vec<f32> = (0..1_100_000).map(|i| i as f32 / 7.0).collect();
    w.create_dataset("/a", &[1100, 1000], &a, &DatasetOptions::default())
        .unwrap();
    let c: Vec<i64> = (0..20_000).collect();
    let gzip = DatasetOptions::default().chunks(&[4096]).gzip(1);
    w.create_dataset("/c", &[20_000], &c, &gzip).unwrap();
    let file = File::from_bytes(w.close().unwrap().into_bytes()).unwrap();
    let mut whole = JsonWriter::default();
    let never = Streaming {
        above: u64::MAX,
        block: 1,
    };
    write_document(&file, &mut whole, never);
    let whole = whole.finish();
    assert!(whole.len() > 4 * FLUSH_AT);
    let mut sink = Vec::new();
    write_json(&file, &mut sink).unwrap();
    assert!(String::from_utf8(sink).unwrap() == whole);
    assert!(dump_json(&file) == whole);
}

#[test]
fn join_paths() {
    assert_eq!(join("/", "X"), "/X");
    assert_eq!(join("/X", "data"), "/X/data");
}
