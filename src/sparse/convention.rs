//! Detection of the on-disk conventions for compressed sparse matrices.
//!
//! Three conventions store a CSR or CSC matrix as a group holding three 1-D
//! datasets `data`, `indices` and `indptr`; they differ in where the format and
//! the shape are recorded:
//!
//! | convention | format from                                   | shape from                       |
//! |------------|-----------------------------------------------|----------------------------------|
//! | h5sparse   | attribute `h5sparse_format` (`csr`/`csc`)     | attribute `h5sparse_shape`       |
//! | anndata    | attribute `encoding-type` (`csr_matrix`/`csc_matrix`) | attribute `shape`        |
//! | 10x        | always CSC (features × barcodes)              | 2-element integer dataset `shape`|
//!
//! The rules are tried in that order and the first that matches wins. String
//! attributes may be variable-length or fixed-length (bytes or text); shapes
//! may be of any integer type.

use crate::error::Result;
use crate::read::{Dataset, Dtype, Group, Link, Node, Values};

/// Which convention a sparse group follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Convention {
    /// This crate's own: attributes `h5sparse_format` and `h5sparse_shape`.
    H5sparse,
    /// anndata (`.h5ad`): attributes `encoding-type` and `shape`.
    Anndata,
    /// 10x Genomics feature-barcode matrices: a `shape` dataset, always CSC.
    TenX,
}

impl Convention {
    /// The name used in `h5sparse dump --json`: `h5sparse`, `anndata`, `10x`.
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::H5sparse => "h5sparse",
            Convention::Anndata => "anndata",
            Convention::TenX => "10x",
        }
    }
}

/// Compressed sparse row or column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SparseFormat {
    /// Compressed sparse row: `indptr` has one entry per row plus one.
    Csr,
    /// Compressed sparse column: `indptr` has one entry per column plus one.
    Csc,
}

impl SparseFormat {
    /// `csr` or `csc`.
    pub fn as_str(self) -> &'static str {
        match self {
            SparseFormat::Csr => "csr",
            SparseFormat::Csc => "csc",
        }
    }
}

/// What [`detect`] found out about a sparse group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseInfo {
    /// The convention the group follows.
    pub convention: Convention,
    /// CSR or CSC.
    pub format: SparseFormat,
    /// Rows and columns of the matrix.
    pub shape: [u64; 2],
    /// Number of stored entries: the length of `data`.
    pub nnz_stored: u64,
    /// Element type of `data`.
    pub data_dtype: Dtype,
    /// Element type of `indices`.
    pub indices_dtype: Dtype,
    /// Element type of `indptr`.
    pub indptr_dtype: Dtype,
}

/// Recognises a sparse matrix group under any supported convention.
///
/// Returns `Ok(None)` when the group is not a sparse matrix (including when
/// its attributes name a convention but the `data`/`indices`/`indptr`
/// datasets are missing), and `Err` only when reading the group fails.
///
/// ```
/// use h5sparse::sparse::{Convention, SparseFormat};
/// assert_eq!(Convention::TenX.as_str(), "10x");
/// assert_eq!(SparseFormat::Csc.as_str(), "csc");
/// ```
///
/// ```no_run
/// let file = h5sparse::File::open("pbmc.h5ad")?;
/// if let Some(info) = h5sparse::sparse::detect(&file.group("/X")?)? {
///     println!("{} {:?} {}", info.format.as_str(), info.shape, info.nnz_stored);
/// }
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn detect(group: &Group<'_>) -> Result<Option<SparseInfo>> {
    let links = group.links()?;
    let Some((convention, format, shape)) = detect_header(group, &links)? else {
        return Ok(None);
    };
    let Some(data) = member_dataset(group, &links, "data")? else {
        return Ok(None);
    };
    let Some(indices) = member_dataset(group, &links, "indices")? else {
        return Ok(None);
    };
    let Some(indptr) = member_dataset(group, &links, "indptr")? else {
        return Ok(None);
    };
    let Some(nnz_stored) = one_dimensional_len(&data) else {
        return Ok(None);
    };
    Ok(Some(SparseInfo {
        convention,
        format,
        shape,
        nnz_stored,
        data_dtype: data.dtype().clone(),
        indices_dtype: indices.dtype().clone(),
        indptr_dtype: indptr.dtype().clone(),
    }))
}

/// The convention, format and shape, from attributes or the 10x `shape`
/// dataset, before the three arrays are checked.
fn detect_header(
    group: &Group<'_>,
    links: &[Link],
) -> Result<Option<(Convention, SparseFormat, [u64; 2])>> {
    // 1. h5sparse
    let format = group.attribute("h5sparse_format")?;
    let shape = group.attribute("h5sparse_shape")?;
    if let (Some(format), Some(shape)) = (format, shape) {
        let format = single_string(&format.values()?).and_then(|s| match s {
            "csr" => Some(SparseFormat::Csr),
            "csc" => Some(SparseFormat::Csc),
            _ => None,
        });
        if let (Some(format), Some(shape)) = (format, pair(&shape.values()?)) {
            return Ok(Some((Convention::H5sparse, format, shape)));
        }
    }
    // 2. anndata
    if let Some(encoding) = group.attribute("encoding-type")? {
        let format = single_string(&encoding.values()?).and_then(|s| match s {
            "csr_matrix" => Some(SparseFormat::Csr),
            "csc_matrix" => Some(SparseFormat::Csc),
            _ => None,
        });
        if let Some(format) = format {
            if let Some(shape) = group.attribute("shape")? {
                if let Some(shape) = pair(&shape.values()?) {
                    return Ok(Some((Convention::Anndata, format, shape)));
                }
            }
        }
    }
    // 3. 10x: a 2-element integer `shape` dataset.
    if let Some(shape) = member_dataset(group, links, "shape")? {
        let integer = matches!(shape.dtype(), Dtype::Int { .. });
        if integer && shape.shape() == Some(&[2][..]) {
            if let Some(shape) = pair(&shape.values()?) {
                return Ok(Some((Convention::TenX, SparseFormat::Csc, shape)));
            }
        }
    }
    Ok(None)
}

/// The member `name` if it exists and is a dataset.
fn member_dataset<'f>(
    group: &Group<'f>,
    links: &[Link],
    name: &str,
) -> Result<Option<Dataset<'f>>> {
    let present = links.iter().any(|link| link.name == name);
    if !present {
        return Ok(None);
    }
    match group.get(name) {
        Ok(Node::Dataset(d)) => Ok(Some(d)),
        // A dangling soft link or a group of that name: not a sparse array.
        Ok(_) | Err(_) => Ok(None),
    }
}

/// Length of a 1-D dataset; `None` for any other rank.
fn one_dimensional_len(dataset: &Dataset<'_>) -> Option<u64> {
    match dataset.shape() {
        Some([n]) => Some(*n),
        _ => None,
    }
}

/// The only string of a scalar or one-element string value.
fn single_string(values: &Values) -> Option<&str> {
    match values {
        Values::Str(v) if v.len() == 1 => v.first().map(String::as_str),
        _ => None,
    }
}

/// Two non-negative integers of any integer type.
fn pair(values: &Values) -> Option<[u64; 2]> {
    match values {
        Values::Int(v) => match v.as_slice() {
            [a, b] => Some([u64::try_from(*a).ok()?, u64::try_from(*b).ok()?]),
            _ => None,
        },
        Values::UInt(v) => match v.as_slice() {
            [a, b] => Some([*a, *b]),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_accepts_any_integer_kind() {
        assert_eq!(pair(&Values::Int(vec![6, 3])), Some([6, 3]));
        assert_eq!(pair(&Values::UInt(vec![6, 3])), Some([6, 3]));
        assert_eq!(pair(&Values::Int(vec![-1, 3])), None);
        assert_eq!(pair(&Values::Int(vec![1, 2, 3])), None);
        assert_eq!(pair(&Values::Float(vec![1.0, 2.0])), None);
    }

    #[test]
    fn single_string_needs_exactly_one() {
        assert_eq!(single_string(&Values::Str(vec!["csr".into()])), Some("csr"));
        assert_eq!(single_string(&Values::Str(vec![])), None);
        assert_eq!(single_string(&Values::Int(vec![1])), None);
    }
}
