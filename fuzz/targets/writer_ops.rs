//! An arbitrary sequence of writer operations (create group or dataset,
//! append, write a hyperslab, delete, set or delete an attribute) against a
//! simple in-memory model. After every step the file is reopened from the
//! sink's bytes and must match the model. A crash is simulated at an
//! arbitrary write ([`FaultSink`]): the file left behind must match the
//! model before or after the operation in flight.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use h5sparse::io::sink::{FaultSink, MemSink};
use h5sparse::write::{CreateOptions, DatasetOptions, Format, Writer};
use h5sparse::{File, Group, Node, Values};

/// Member names (few, so that operations collide).
const NAMES: [&str; 4] = ["a", "b", "c", "d"];
/// Attribute names.
const ATTRS: [&str; 3] = ["x", "y", "z"];
/// Most operations per case.
const MAX_OPS: usize = 24;
/// Longest value list.
const MAX_VALUES: usize = 48;

/// One operation; `target`/`parent` pick among the model's objects.
#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    /// `Writer::create_group`.
    CreateGroup { parent: u8, name: u8 },
    /// `Writer::create_dataset` (int64, 1-D).
    CreateDataset {
        parent: u8,
        name: u8,
        values: Vec<i16>,
        growable: bool,
        gzip: bool,
        chunk: u8,
    },
    /// `Writer::append`.
    Append { target: u8, values: Vec<i16> },
    /// `Writer::write_slab`.
    WriteSlab {
        target: u8,
        start: u8,
        values: Vec<i16>,
    },
    /// `Writer::unlink`.
    Delete { target: u8 },
    /// `Writer::set_attr_str`.
    SetAttrStr { target: u8, name: u8, value: String },
    /// `Writer::set_attr_array` (int64).
    SetAttrInts {
        target: u8,
        name: u8,
        values: Vec<i16>,
    },
    /// `Writer::delete_attr`.
    DeleteAttr { target: u8, name: u8 },
}

/// The generated case.
#[derive(Arbitrary, Debug)]
pub struct Case {
    latest: bool,
    /// Crash after this many writes (none: no crash).
    crash_after: Option<u16>,
    ops: Vec<Op>,
}

/// An attribute value in the model.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrVal {
    /// A scalar vlen string.
    Str(String),
    /// A 1-D int64 array.
    Ints(Vec<i64>),
}

/// An object in the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Obj {
    /// `None` for a group, the values for a dataset.
    pub data: Option<Vec<i64>>,
    /// Can the dataset grow (chunked, unlimited)?
    pub growable: bool,
    /// Attributes by name.
    pub attrs: BTreeMap<String, AttrVal>,
}

/// Path → object, the root `/` included.
pub type Model = BTreeMap<String, Obj>;

fn group() -> Obj {
    Obj {
        data: None,
        growable: false,
        attrs: BTreeMap::new(),
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn pick<'m>(paths: &[&'m String], i: u8) -> Option<&'m String> {
    if paths.is_empty() {
        None
    } else {
        Some(paths[usize::from(i) % paths.len()])
    }
}

fn ints(v: &[i16]) -> Vec<i64> {
    v.iter().take(MAX_VALUES).map(|&x| i64::from(x)).collect()
}

/// What the model says an operation does.
enum Expect {
    /// It must succeed, leaving this model.
    Ok(Model),
    /// It must fail, leaving the file unchanged.
    Err,
    /// Either (a corner the model does not pin down, such as an empty
    /// append); success leaves this model.
    Either(Model),
}

type W = Writer<FaultSink<MemSink>>;

/// Applies `op` to the writer and says what the model expects.
fn apply(w: &mut W, model: &Model, op: &Op) -> Option<(Expect, h5sparse::Result<()>, String)> {
    let all: Vec<&String> = model.keys().collect();
    let groups: Vec<&String> = model
        .iter()
        .filter(|(_, o)| o.data.is_none())
        .map(|(p, _)| p)
        .collect();
    let datasets: Vec<&String> = model
        .iter()
        .filter(|(_, o)| o.data.is_some())
        .map(|(p, _)| p)
        .collect();
    let non_root: Vec<&String> = model.keys().filter(|p| p.as_str() != "/").collect();
    let mut next = model.clone();
    Some(match op {
        Op::CreateGroup { parent, name } => {
            let path = join(
                pick(&groups, *parent)?,
                NAMES[usize::from(*name) % NAMES.len()],
            );
            let r = w.create_group(&path);
            let e = if model.contains_key(&path) {
                Expect::Err
            } else {
                next.insert(path.clone(), group());
                Expect::Ok(next)
            };
            (e, r, format!("create group {path}"))
        }
        Op::CreateDataset {
            parent,
            name,
            values,
            growable,
            gzip,
            chunk,
        } => {
            let path = join(
                pick(&groups, *parent)?,
                NAMES[usize::from(*name) % NAMES.len()],
            );
            let v = ints(values);
            let mut opts = if *growable {
                DatasetOptions::growable().chunks(&[u64::from(chunk % 8) + 1])
            } else {
                DatasetOptions::default()
            };
            if *gzip {
                opts = opts.gzip(1);
            }
            let r = w.create_dataset(&path, &[v.len() as u64], &v, &opts);
            let e = if model.contains_key(&path) {
                Expect::Err
            } else {
                next.insert(
                    path.clone(),
                    Obj {
                        data: Some(v),
                        growable: *growable,
                        attrs: BTreeMap::new(),
                    },
                );
                Expect::Ok(next)
            };
            (
                e,
                r,
                format!("create dataset {path} (growable {growable}, gzip {gzip})"),
            )
        }
        Op::Append { target, values } => {
            let path = pick(&datasets, *target)?.clone();
            let v = ints(values);
            let r = w.append(&path, &v);
            let obj = next.get_mut(&path)?;
            let growable = obj.growable;
            obj.data.as_mut()?.extend_from_slice(&v);
            let e = if v.is_empty() {
                Expect::Either(next)
            } else if growable {
                Expect::Ok(next)
            } else {
                Expect::Err
            };
            (e, r, format!("append {} to {path}", v.len()))
        }
        Op::WriteSlab {
            target,
            start,
            values,
        } => {
            let path = pick(&datasets, *target)?.clone();
            let v = ints(values);
            let data = next.get_mut(&path)?.data.as_mut()?;
            let start = usize::from(*start) % (data.len() + 2);
            let r = w.write_slab(&path, &[start as u64], &[v.len() as u64], &v);
            let fits = start + v.len() <= data.len();
            if fits {
                data[start..start + v.len()].copy_from_slice(&v);
            }
            let e = if v.is_empty() {
                Expect::Either(next)
            } else if fits {
                Expect::Ok(next)
            } else {
                Expect::Err
            };
            (e, r, format!("write {} at {start} of {path}", v.len()))
        }
        Op::Delete { target } => {
            let path = pick(&non_root, *target)?.clone();
            let r = w.unlink(&path);
            let prefix = format!("{path}/");
            next.retain(|p, _| *p != path && !p.starts_with(&prefix));
            (Expect::Ok(next), r, format!("delete {path}"))
        }
        Op::SetAttrStr {
            target,
            name,
            value,
        } => {
            let path = pick(&all, *target)?.clone();
            let attr = ATTRS[usize::from(*name) % ATTRS.len()];
            let value: String = value.chars().filter(|&c| c != '\0').take(64).collect();
            let r = w.set_attr_str(&path, attr, &value);
            next.get_mut(&path)?
                .attrs
                .insert(attr.to_string(), AttrVal::Str(value));
            (
                Expect::Ok(next),
                r,
                format!("set string attribute {attr} of {path}"),
            )
        }
        Op::SetAttrInts {
            target,
            name,
            values,
        } => {
            let path = pick(&all, *target)?.clone();
            let attr = ATTRS[usize::from(*name) % ATTRS.len()];
            let v = ints(values);
            let r = w.set_attr_array(&path, attr, &v);
            let empty = v.is_empty();
            next.get_mut(&path)?
                .attrs
                .insert(attr.to_string(), AttrVal::Ints(v));
            let e = if empty {
                Expect::Either(next)
            } else {
                Expect::Ok(next)
            };
            (e, r, format!("set int attribute {attr} of {path}"))
        }
        Op::DeleteAttr { target, name } => {
            let path = pick(&all, *target)?.clone();
            let attr = ATTRS[usize::from(*name) % ATTRS.len()];
            let r = w.delete_attr(&path, attr);
            let existed = next.get_mut(&path)?.attrs.remove(attr).is_some();
            let e = if existed {
                Expect::Ok(next)
            } else {
                Expect::Err
            };
            (e, r, format!("delete attribute {attr} of {path}"))
        }
    })
}

/// Runs one case.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(case) = Case::arbitrary(&mut u) else {
        return;
    };
    check(&case);
}

/// Runs the case's operations, checking the file after each.
pub fn check(case: &Case) {
    let format = if case.latest {
        Format::Latest
    } else {
        Format::Earliest
    };
    let crash = case.crash_after.map_or(u64::MAX, u64::from);
    let Ok(mut w) = Writer::create_in_with(
        FaultSink::new(MemSink::new(), crash),
        &CreateOptions { format },
    ) else {
        return;
    };
    if w.sink().crashed() {
        return; // the crash hit file creation, before any operation
    }
    let mut model = Model::new();
    model.insert("/".to_string(), group());
    if let Err(e) = matches(&w.sink().inner().bytes, &model) {
        panic!("new empty file: {e}");
    }
    for (i, op) in case.ops.iter().take(MAX_OPS).enumerate() {
        let Some((expect, result, what)) = apply(&mut w, &model, op) else {
            continue;
        };
        let after = match (expect, &result) {
            (Expect::Ok(m), Ok(())) | (Expect::Either(m), Ok(())) => m,
            (Expect::Err, Err(_)) | (Expect::Either(_), Err(_)) => model.clone(),
            (Expect::Ok(_), Err(e)) => panic!("op {i} ({what}) failed: {e}"),
            (Expect::Err, Ok(())) => {
                panic!("op {i} ({what}) succeeded, the model says it must fail")
            }
        };
        let bytes = &w.sink().inner().bytes;
        if w.sink().crashed() {
            let before = matches(bytes, &model);
            let now = matches(bytes, &after);
            if let (Err(b), Err(a)) = (before, now) {
                panic!(
                    "crash after {crash} writes during op {i} ({what}): the file matches neither \
                     the model before ({b}) nor after ({a})"
                );
            }
            return;
        }
        if let Err(e) = matches(bytes, &after) {
            panic!("after op {i} ({what}): {e}");
        }
        model = after;
    }
}

/// Reopens `bytes` and compares every object with `model`.
pub fn matches(bytes: &[u8], model: &Model) -> Result<(), String> {
    let file = File::from_bytes(bytes.to_vec()).map_err(|e| format!("reopen: {e}"))?;
    let root = file.root().map_err(|e| format!("root: {e}"))?;
    let mut found = Model::new();
    collect(&root, "/", &mut found, 0)?;
    if found == *model {
        return Ok(());
    }
    for (p, o) in model {
        match found.get(p) {
            None => return Err(format!("{p} is missing")),
            Some(f) if f != o => return Err(format!("{p}: file has {f:?}, model {o:?}")),
            _ => {}
        }
    }
    let extra: Vec<&String> = found.keys().filter(|p| !model.contains_key(*p)).collect();
    Err(format!("objects not in the model: {extra:?}"))
}

fn attrs_of(
    list: h5sparse::Result<Vec<h5sparse::Attribute<'_>>>,
    path: &str,
) -> Result<BTreeMap<String, AttrVal>, String> {
    let mut out = BTreeMap::new();
    for a in list.map_err(|e| format!("{path}: attributes: {e}"))? {
        let v = match a
            .values()
            .map_err(|e| format!("{path}@{}: {e}", a.name()))?
        {
            Values::Str(mut s) if s.len() == 1 => AttrVal::Str(s.remove(0)),
            Values::Int(v) => AttrVal::Ints(v),
            other => return Err(format!("{path}@{}: unexpected values {other:?}", a.name())),
        };
        out.insert(a.name().to_string(), v);
    }
    Ok(out)
}

fn collect(g: &Group<'_>, path: &str, out: &mut Model, depth: u32) -> Result<(), String> {
    if depth > 16 {
        return Err(format!("{path}: nested too deep"));
    }
    out.insert(
        path.to_string(),
        Obj {
            data: None,
            growable: false,
            attrs: attrs_of(g.attributes(), path)?,
        },
    );
    for link in g.links().map_err(|e| format!("{path}: links: {e}"))? {
        let child = join(path, &link.name);
        match g.follow(&link).map_err(|e| format!("{child}: {e}"))? {
            Node::Group(c) => collect(&c, &child, out, depth + 1)?,
            Node::Dataset(d) => {
                let data = d.read::<i64>().map_err(|e| format!("{child}: read: {e}"))?;
                let growable = d.maxshape().is_some_and(|m| m.first() == Some(&None));
                out.insert(
                    child.clone(),
                    Obj {
                        data: Some(data),
                        growable,
                        attrs: attrs_of(d.attributes(), &child)?,
                    },
                );
            }
            other => return Err(format!("{child}: unexpected {other:?}")),
        }
    }
    Ok(())
}
