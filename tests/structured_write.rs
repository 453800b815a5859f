//! Writing structured types through the public API (not only by copying):
//! compound records with vlen strings, arrays and object references, region
//! references, vlen sequences, opaque data; h5py (HDF5 2.0) reads them back,
//! references resolving to the objects they name.

mod support;

use std::process::Command;

use h5sparse::read::{ObjectRef, RegionRef, Selection, Value};
use h5sparse::write::{DatasetOptions, Writer};
use h5sparse::{ByteOrder, CharSet, Dtype, Field, Values};

fn obj(path: &str) -> Value {
    Value::ObjectRef(Some(ObjectRef {
        address: 0,
        path: Some(path.to_string()),
    }))
}

#[test]
fn structured_values_written_by_the_api_read_back_in_h5py() {
    let dir = support::test_dir("structured-write");
    let path = dir.join("structured.h5");
    let mut w = Writer::create(&path).unwrap();
    let opts = DatasetOptions::default();
    w.create_group("/g").unwrap();
    w.create_dataset("/g/grid", &[3, 4], &(0..12).collect::<Vec<i32>>(), &opts)
        .unwrap();
    let f4 = Dtype::Float {
        size: 4,
        order: ByteOrder::Little,
    };
    let record = Dtype::Compound {
        size: 40,
        fields: vec![
            Field {
                name: "id".into(),
                offset: 0,
                dtype: Dtype::Int {
                    size: 4,
                    signed: true,
                    order: ByteOrder::Big,
                },
            },
            Field {
                name: "name".into(),
                offset: 4,
                dtype: Dtype::VarString {
                    charset: CharSet::Utf8,
                },
            },
            Field {
                name: "pos".into(),
                offset: 20,
                dtype: Dtype::Array {
                    dims: vec![3],
                    base: Box::new(f4.clone()),
                },
            },
            Field {
                name: "target".into(),
                offset: 32,
                dtype: Dtype::ObjectRef,
            },
        ],
    };
    let rec = |id: i64, name: &str, pos: [f64; 3], target: Value| {
        Value::Record(vec![
            ("id".into(), Value::Int(id)),
            ("name".into(), Value::Str(name.into())),
            (
                "pos".into(),
                Value::List(pos.iter().map(|&x| Value::Float(x)).collect()),
            ),
            ("target".into(), target),
        ])
    };
    let records = Values::Nested(vec![
        rec(-7, "γάμμα", [0.5, 1.0, -2.0], obj("/g/grid")),
        rec(8, "", [0.0, 0.0, 3.25], Value::ObjectRef(None)),
        rec(9, "root", [1.0, 2.0, 4.0], obj("/g")),
    ]);
    w.create_dataset_values("/records", &record, &[3], &records, &opts)
        .unwrap();
    let region = Value::RegionRef(Some(RegionRef {
        dataset: ObjectRef {
            address: 0,
            path: Some("/g/grid".into()),
        },
        selection: Selection::Blocks(vec![(vec![1, 0], vec![2, 1])]),
    }));
    w.set_attr(
        "/g",
        "region",
        &Dtype::RegionRef,
        Some(&[]),
        &Values::Nested(vec![region]),
    )
    .unwrap();
    let seq = Dtype::VarSequence {
        base: Box::new(Dtype::Int {
            size: 2,
            signed: false,
            order: ByteOrder::Little,
        }),
    };
    let lists = Values::Nested(vec![
        Value::List(vec![Value::UInt(1), Value::UInt(65535)]),
        Value::List(vec![]),
    ]);
    w.create_dataset_values("/seq", &seq, &[2], &lists, &opts)
        .unwrap();
    let opaque = Dtype::Opaque {
        size: 3,
        tag: "raw bytes".into(),
    };
    w.create_dataset_values(
        "/opaque",
        &opaque,
        &[1],
        &Values::Nested(vec![Value::Bytes(vec![0xde, 0xad, 0x01])]),
        &opts,
    )
    .unwrap();
    // A reference to a path that does not exist is refused, naming it.
    let err = w
        .create_dataset_values(
            "/bad",
            &Dtype::ObjectRef,
            &[1],
            &Values::Nested(vec![obj("/nope")]),
            &opts,
        )
        .unwrap_err();
    assert!(err.to_string().contains("/nope"), "{err}");
    w.close().unwrap();

    // Our reader gives the values back.
    let f = h5sparse::File::open(&path).unwrap();
    let back = f.dataset("/records").unwrap().values().unwrap();
    let Values::Nested(v) = &back else {
        panic!("{back:?}")
    };
    assert_eq!(v[0].field("name"), Some(&Value::Str("γάμμα".into())));
    assert!(
        matches!(v[0].field("target"), Some(Value::ObjectRef(Some(r))) if r.path.as_deref() == Some("/g/grid"))
    );

    let Some(py) = support::require_python("structured write").unwrap() else {
        return;
    };
    let script = format!(
        "import h5py, numpy as np\n\
         f = h5py.File({p:?}, 'r')\n\
         r = f['records'][()]\n\
         assert list(r['id']) == [-7, 8, 9], r['id']\n\
         assert [x.decode() for x in r['name']] == ['γάμμα', '', 'root'], r['name']\n\
         assert r['pos'].tolist() == [[0.5, 1.0, -2.0], [0.0, 0.0, 3.25], [1.0, 2.0, 4.0]]\n\
         assert f[r['target'][0]].name == '/g/grid' and not r['target'][1] and f[r['target'][2]].name == '/g'\n\
         reg = f['g'].attrs['region']\n\
         assert f[reg].name == '/g/grid'\n\
         assert f['g/grid'][reg].tolist() == [[4, 5], [8, 9]], f['g/grid'][reg]\n\
         s = f['seq'][()]\n\
         assert s[0].tolist() == [1, 65535] and len(s[1]) == 0\n\
         o = f['opaque']; buf = np.empty(o.shape, dtype='V3')\n\
         o.id.read(h5py.h5s.ALL, h5py.h5s.ALL, buf, mtype=o.id.get_type())  # the file's own tag\n\
         assert o.id.get_type().get_tag() == b'raw bytes' and bytes(buf[0]) == b'\\xde\\xad\\x01'\n\
         assert 'bad' not in f\n\
         print('ok')\n",
        p = path.display().to_string()
    );
    let out = Command::new(py).arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "h5py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
