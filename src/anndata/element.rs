//! What an object of an `.h5ad` file is, by anndata's `encoding-type`
//! attribute (or, in files older than anndata 0.7, by its shape).

use crate::error::Result;
use crate::read::{Attribute, File, Node, Values};
use crate::sparse::{self, SparseFormat};

/// One element of an AnnData file, described from its metadata only.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Element {
    /// A CSR or CSC matrix group (anndata's `csr_matrix`/`csc_matrix`, or
    /// the h5sparse convention of anndata ≤ 0.6).
    Sparse {
        /// The group's path.
        path: String,
        /// CSR or CSC.
        format: SparseFormat,
        /// `[rows, cols]`.
        shape: [u64; 2],
    },
    /// A dense array dataset (`array`, `string-array`, or an unmarked
    /// dataset).
    Dense {
        /// The dataset's path.
        path: String,
        /// Its shape.
        shape: Vec<u64>,
        /// numpy's dtype string.
        dtype: String,
    },
    /// A dataframe (`obsm`/`varm` entries, `uns` tables).
    DataFrame {
        /// The group's path.
        path: String,
    },
    /// A `dict` group (nested `uns`).
    Dict {
        /// The group's path.
        path: String,
    },
    /// A scalar (`string`, `numeric-scalar`).
    Scalar {
        /// The dataset's path.
        path: String,
    },
    /// An encoding this crate does not read (`awkward-array`, ...), reported
    /// by name instead of failing the rest of the file.
    Other {
        /// The object's path.
        path: String,
        /// Its `encoding-type`.
        encoding: String,
    },
}

impl Element {
    /// The element's path in the file.
    pub fn path(&self) -> &str {
        match self {
            Element::Sparse { path, .. }
            | Element::Dense { path, .. }
            | Element::DataFrame { path }
            | Element::Dict { path }
            | Element::Scalar { path }
            | Element::Other { path, .. } => path,
        }
    }

    /// The shape, where the element has one.
    pub fn shape(&self) -> Option<Vec<u64>> {
        match self {
            Element::Sparse { shape, .. } => Some(shape.to_vec()),
            Element::Dense { shape, .. } => Some(shape.clone()),
            _ => None,
        }
    }
}

/// A string attribute's value (`None` when absent or not a string).
pub(crate) fn attr_str(attrs: Option<Attribute<'_>>) -> Option<String> {
    match attrs?.values().ok()? {
        Values::Str(mut v) if v.len() == 1 => v.pop(),
        _ => None,
    }
}

/// The element at `path`.
pub(crate) fn element_at(file: &File, path: &str) -> Result<Element> {
    let path = path.to_string();
    match file.get(&path)? {
        Node::Group(g) => {
            let encoding = attr_str(g.attribute("encoding-type")?);
            match encoding.as_deref() {
                Some("dict") => Ok(Element::Dict { path }),
                Some("dataframe") => Ok(Element::DataFrame { path }),
                Some("csr_matrix" | "csc_matrix") | None => match sparse::detect(&g)? {
                    Some(info) => Ok(Element::Sparse {
                        path,
                        format: info.format,
                        shape: info.shape,
                    }),
                    None if encoding.is_none() => Ok(Element::Dict { path }),
                    None => Ok(Element::Other {
                        path,
                        encoding: encoding.unwrap_or_default(),
                    }),
                },
                Some(other) => Ok(Element::Other {
                    path,
                    encoding: other.to_string(),
                }),
            }
        }
        Node::Dataset(d) => {
            let encoding = attr_str(d.attribute("encoding-type")?);
            match encoding.as_deref() {
                Some("string" | "numeric-scalar") => Ok(Element::Scalar { path }),
                None | Some("array" | "string-array") => Ok(Element::Dense {
                    path,
                    shape: d.shape().unwrap_or(&[]).to_vec(),
                    dtype: d.dtype().numpy_str(),
                }),
                Some(other) => Ok(Element::Other {
                    path,
                    encoding: other.to_string(),
                }),
            }
        }
        Node::Datatype { path } => Ok(Element::Other {
            path,
            encoding: "committed datatype".to_string(),
        }),
    }
}
