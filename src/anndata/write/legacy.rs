//! Giving objects copied from files of anndata < 0.8, which carry no
//! `encoding-type`, the encoding anndata 0.12 would write for what it reads
//! from them.

use super::{vlen_str, H5adWriter};
use crate::anndata::element::attr_str;
use crate::error::Result;
use crate::read::{Dtype, Node};

/// Marks the object at `path` (just copied) and, for a group that becomes
/// a `dict`, its members.
pub(super) fn mark_unencoded(w: &mut H5adWriter, path: &str, depth: u32) -> Result<()> {
    let snap = w.file.snapshot()?;
    snap.limits()
        .check_depth("dict nesting while marking encodings", depth)?;
    match snap.get(path)? {
        Node::Group(g) => {
            if attr_str(g.attribute("encoding-type")?).is_some() {
                return Ok(());
            }
            if let Some(info) = crate::sparse::detect(&g)? {
                let encoding = match info.format {
                    crate::sparse::SparseFormat::Csr => "csr_matrix",
                    crate::sparse::SparseFormat::Csc => "csc_matrix",
                };
                let shape = [info.shape[0] as i64, info.shape[1] as i64];
                w.mark(path, encoding, "0.1.0")?;
                return w.file.write(|wr| wr.set_attr_array(path, "shape", &shape));
            }
            let members: Vec<String> = g
                .links()?
                .into_iter()
                .map(|l| crate::read::join_path(path, &l.name))
                .collect();
            drop(snap);
            w.mark(path, "dict", "0.1.0")?;
            for m in members {
                mark_unencoded(w, &m, depth + 1)?;
            }
            Ok(())
        }
        Node::Dataset(d) => {
            if attr_str(d.attribute("encoding-type")?).is_some() {
                return Ok(());
            }
            let shape = d.shape().unwrap_or(&[]).to_vec();
            match d.dtype() {
                Dtype::VarString { charset } | Dtype::FixedString { charset, .. } => {
                    let values = d.values()?;
                    // anndata reads byte strings (not UTF-8) as str, and a
                    // one-element array of them as one str.
                    let bytes = *charset != crate::read::CharSet::Utf8;
                    let shape = if bytes && shape == [1] {
                        Vec::new()
                    } else {
                        shape
                    };
                    let rewrite = bytes || !matches!(d.dtype(), Dtype::VarString { .. });
                    drop(snap);
                    if rewrite {
                        w.file.write(|wr| {
                            wr.unlink(path)?;
                            wr.create_dataset_values(
                                path,
                                &vlen_str(),
                                &shape,
                                &values,
                                &Default::default(),
                            )
                        })?;
                    }
                    let encoding = if shape.is_empty() {
                        "string"
                    } else {
                        "string-array"
                    };
                    w.mark(path, encoding, "0.2.0")
                }
                Dtype::Int { .. } | Dtype::Float { .. } | Dtype::Bool => {
                    drop(snap);
                    if shape.is_empty() {
                        w.mark(path, "numeric-scalar", "0.2.0")
                    } else {
                        w.mark(path, "array", "0.2.0")
                    }
                }
                // Record arrays and the rest: left as they are.
                _ => Ok(()),
            }
        }
        Node::Datatype { .. } => Ok(()),
    }
}
