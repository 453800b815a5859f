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
use crate::read::{Attribute, Dataset, Dtype, Group, Link, LinkTarget, Node, Values};

/// Which convention a sparse group follows.
///
/// ```
/// use h5sparse::sparse::Convention;
/// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
/// assert_eq!(f.sparse("X")?.convention()?, Convention::Anndata);   // encoding-type: csr_matrix
/// # Ok::<(), h5sparse::Error>(())
/// ```
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
    ///
    /// ```
    /// use h5sparse::sparse::Convention;
    /// assert_eq!(Convention::TenX.as_str(), "10x");
    /// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
    /// assert_eq!(f.sparse("X")?.convention()?.as_str(), "h5sparse");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Convention::H5sparse => "h5sparse",
            Convention::Anndata => "anndata",
            Convention::TenX => "10x",
        }
    }
}

/// Compressed sparse row or column.
///
/// ```
/// use h5sparse::sparse::SparseFormat;
/// let f = h5sparse::H5File::in_memory()?;
/// let m = sprs::CsMat::new_csc((2, 2), vec![0, 1, 2], vec![1, 0], vec![5i64, 6]);
/// let x = f.create_sparse("X", &m, &Default::default())?;
/// assert_eq!(x.format()?, SparseFormat::Csc);             // stored as given
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SparseFormat {
    /// Compressed sparse row: `indptr` has one entry per row plus one.
    Csr,
    /// Compressed sparse column: `indptr` has one entry per column plus one.
    Csc,
}

impl SparseFormat {
    /// `csr` or `csc`.
    ///
    /// ```
    /// use h5sparse::sparse::SparseFormat;
    /// assert_eq!(SparseFormat::Csr.as_str(), "csr");           // the h5sparse_format attribute
    /// assert_eq!(SparseFormat::Csc.as_str(), "csc");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            SparseFormat::Csr => "csr",
            SparseFormat::Csc => "csc",
        }
    }
}

/// What [`detect`] found out about a sparse group.
///
/// ```
/// use h5sparse::sparse::{Convention, SparseFormat};
/// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/seed.h5"))?;
/// let info = f.sparse("X")?.info()?;
/// assert_eq!((info.convention, info.format), (Convention::H5sparse, SparseFormat::Csr));
/// assert_eq!((info.shape, info.nnz_stored), ([6, 3], 6));
/// assert_eq!(info.data_dtype.numpy_str(), "<i8");
/// assert_eq!(info.indices_dtype.numpy_str(), "<i4");
/// # Ok::<(), h5sparse::Error>(())
/// ```
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
/// [`H5File::sparse`](crate::H5File::sparse) runs it for you; call it
/// directly to test groups while walking a [`File`](crate::File) snapshot.
///
/// ```
/// use h5sparse::sparse::{detect, SparseFormat};
/// let file = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
/// let info = detect(&file.group("/X")?)?.expect("X is a csr_matrix");
/// assert_eq!((info.format, info.shape, info.nnz_stored), (SparseFormat::Csr, [20, 12], 72));
/// assert_eq!(detect(&file.group("/obs")?)?, None);        // a dataframe, not a matrix
/// # Ok::<(), h5sparse::Error>(())
/// ```
pub fn detect(group: &Group<'_>) -> Result<Option<SparseInfo>> {
    let links = group.links()?;
    let attributes = group.attributes()?;
    let Some((convention, format, shape)) = detect_header(group, &links, &attributes)? else {
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
    // The length of `data` (its first dimension; 0 for a scalar or null one).
    let nnz_stored = data.shape().and_then(|s| s.first().copied()).unwrap_or(0);
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
    attributes: &[Attribute<'_>],
) -> Result<Option<(Convention, SparseFormat, [u64; 2])>> {
    // 1. h5sparse
    let attribute = |name: &str| attributes.iter().find(|a| a.name() == name);
    let format = attribute("h5sparse_format");
    let shape = attribute("h5sparse_shape");
    if let (Some(format), Some(shape)) = (format, shape) {
        let format = scalar_string(format)?.and_then(|s| match s.as_str() {
            "csr" => Some(SparseFormat::Csr),
            "csc" => Some(SparseFormat::Csc),
            _ => None,
        });
        if let (Some(format), Some(shape)) = (format, attribute_pair(shape)?) {
            return Ok(Some((Convention::H5sparse, format, shape)));
        }
    }
    // 2. anndata
    if let Some(encoding) = attribute("encoding-type") {
        let format = scalar_string(encoding)?.and_then(|s| match s.as_str() {
            "csr_matrix" => Some(SparseFormat::Csr),
            "csc_matrix" => Some(SparseFormat::Csc),
            _ => None,
        });
        if let Some(format) = format {
            if let Some(shape) = attribute("shape") {
                if let Some(shape) = attribute_pair(shape)? {
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

/// The member `name` if it exists and is a dataset in this file (reached
/// through a hard or soft link; external links do not count).
fn member_dataset<'f>(
    group: &Group<'f>,
    links: &[Link],
    name: &str,
) -> Result<Option<Dataset<'f>>> {
    let Some(link) = links.iter().find(|link| link.name == name) else {
        return Ok(None);
    };
    if matches!(link.target, LinkTarget::External { .. }) {
        return Ok(None);
    }
    match group.follow(link) {
        Ok(Node::Dataset(d)) => Ok(Some(d)),
        // A dangling soft link or a group of that name: not a sparse array.
        Ok(_) | Err(_) => Ok(None),
    }
}

/// The value of a scalar string attribute (variable- or fixed-length).
fn scalar_string(attr: &Attribute<'_>) -> Result<Option<String>> {
    if attr.shape() != Some(&[][..]) {
        return Ok(None);
    }
    if !matches!(
        attr.dtype(),
        Dtype::FixedString { .. } | Dtype::VarString { .. }
    ) {
        return Ok(None);
    }
    Ok(match attr.values()? {
        Values::Str(mut v) if v.len() == 1 => v.pop(),
        _ => None,
    })
}

/// The value of a 1-D, two-element integer attribute.
fn attribute_pair(attr: &Attribute<'_>) -> Result<Option<[u64; 2]>> {
    if attr.shape() != Some(&[2][..]) || !matches!(attr.dtype(), Dtype::Int { .. }) {
        return Ok(None);
    }
    Ok(pair(&attr.values()?))
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

    /// Opens a committed fixture, or `None` when fixtures/ is absent.
    fn fixture(name: &str) -> Option<crate::File> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name);
        let bytes = std::fs::read(path).ok()?;
        Some(crate::File::from_bytes(bytes).expect("fixture opens"))
    }

    #[test]
    fn detects_the_seed_h5sparse_group() {
        let Some(file) = fixture("seed.h5") else {
            return;
        };
        let info = detect(&file.group("/X").unwrap()).unwrap().unwrap();
        assert_eq!(info.convention, Convention::H5sparse);
        assert_eq!(info.format, SparseFormat::Csr);
        assert_eq!(info.shape, [6, 3]);
        assert_eq!(info.nnz_stored, 6);
        assert_eq!(info.data_dtype.numpy_str(), "<i8");
        assert_eq!(info.indptr_dtype.numpy_str(), "<i4");
        // The root is not a sparse matrix.
        assert_eq!(detect(&file.root().unwrap()).unwrap(), None);
    }

    #[test]
    fn detects_anndata_groups_but_not_dataframes() {
        let Some(file) = fixture("anndata.h5ad") else {
            return;
        };
        let x = detect(&file.group("/X").unwrap()).unwrap().unwrap();
        assert_eq!(x.convention, Convention::Anndata);
        assert_eq!(x.format, SparseFormat::Csr);
        assert_eq!(x.shape, [20, 12]);
        assert_eq!(x.nnz_stored, 72);
        assert_eq!(detect(&file.group("/obs").unwrap()).unwrap(), None);
    }

    #[test]
    fn detects_the_10x_matrix() {
        let Some(file) = fixture("tenx.h5") else {
            return;
        };
        let info = detect(&file.group("/matrix").unwrap()).unwrap().unwrap();
        assert_eq!(info.convention, Convention::TenX);
        assert_eq!(info.format, SparseFormat::Csc);
        assert_eq!(info.shape, [30, 25]);
        assert_eq!(info.nnz_stored, 150);
        assert_eq!(info.indices_dtype.numpy_str(), "<i8");
    }
}
