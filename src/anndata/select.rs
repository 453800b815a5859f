//! Selections of observations or variables, as `h5sparse subset --obs SEL
//! --var SEL` takes them, resolved against an [`AnnData`] axis into the
//! positions anndata would take.
//!
//! The grammar of `SEL`:
//!
//! * numpy positions, as [`Sel::parse`] reads them: `START:STOP[:STEP]`
//!   (negatives count from the end, steps may be negative) or `i,j,k`;
//! * `@PATH`: a file of obs or var names, one per line (empty lines are
//!   skipped, a trailing `\r` is dropped), taken in the file's order;
//! * `COLUMN==VALUE` and `COLUMN!=VALUE`: the rows whose value in that
//!   column of `obs` (or `var`) equals, or differs from, `VALUE`. Spaces
//!   around `COLUMN` and `VALUE` are trimmed; a `VALUE` in matching single
//!   or double quotes is taken verbatim between them.
//!
//! `VALUE` is read as the column's type: a category label for categorical
//! columns (a number for numeric categories), an integer or float for
//! numeric columns (float32 columns compare in float32, as numpy does with
//! a Python float), `true`/`false`/`True`/`False`/`1`/`0` for bools, the
//! string itself for strings. The rows then follow pandas' boolean-mask
//! semantics, `df[df[col] == v]`:
//! * a missing category or a NaN never equals anything and always differs;
//! * a masked value of a nullable column (`nullable-integer`,
//!   `nullable-boolean`, `nullable-string-array`) matches neither `==` nor
//!   `!=`: pandas' comparison gives `<NA>` there, and indexing a frame
//!   with that mask drops the row. (anndata's `adata[mask]` refuses a mask
//!   holding `<NA>`; `adata[mask.fillna(False)]` is what this selects.)
//! * a `VALUE` that is not one of a categorical column's categories
//!   (including one that is not even of their type) matches no row with
//!   `==` and every row with `!=`; for other columns, a `VALUE` that is not
//!   of the column's type is an error.
//!
//! Positions come in the order anndata takes them: a comparison is a
//! boolean mask, so ascending; a list of positions or names as given
//! (repeats kept).

use std::collections::HashMap;

use super::{AnnData, ColumnData, ColumnKind, DataFrame};
use crate::error::{Error, Result};
use crate::read::{Dtype, File, Node, Values};
use crate::sparse::Sel;

/// An AnnData axis: observations (rows, `obs`) or variables (columns,
/// `var`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Observations (cells): `obs`, `obs_names`, rows of `X`.
    Obs,
    /// Variables (genes): `var`, `var_names`, columns of `X`.
    Var,
}

impl Axis {
    /// `"obs"` or `"var"`.
    ///
    /// ```
    /// assert_eq!(h5sparse::anndata::Axis::Var.as_str(), "var");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Axis::Obs => "obs",
            Axis::Var => "var",
        }
    }
}

/// `==` or `!=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `COLUMN==VALUE`.
    Eq,
    /// `COLUMN!=VALUE`.
    Ne,
}

/// A selection along one AnnData axis (see the [module docs](crate::anndata::select) for the
/// grammar).
///
/// ```
/// use h5sparse::anndata::{AnnData, Axis, Selection};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let adata = AnnData::open(&h5sparse::H5File::open(path)?)?;
///
/// let every_other = Selection::parse("::2")?.resolve(&adata, Axis::Obs)?;
/// assert_eq!(every_other.len(), 10);
/// let b_cells = Selection::parse("cell_type==B")?.resolve(&adata, Axis::Obs)?;
/// let others = Selection::parse("cell_type != B")?.resolve(&adata, Axis::Obs)?;
/// assert_eq!(b_cells.len() + others.len(), 20);
/// let genes = Selection::names(["gene_03", "gene_00"]).resolve(&adata, Axis::Var)?;
/// assert_eq!(genes, [3, 0]);
/// assert!(Selection::names(["no such gene"]).resolve(&adata, Axis::Var).is_err());
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Selection {
    /// Positions in numpy's syntax (slices, lists, masks).
    Positions(Sel),
    /// obs or var names, in the order wanted.
    Names(Vec<String>),
    /// The rows whose `column` compares with `value` by `op`.
    Compare {
        /// A column of `obs` or `var`.
        column: String,
        /// `==` or `!=`.
        op: CompareOp,
        /// The value as written, read as the column's type on resolving.
        value: String,
    },
}

impl Selection {
    /// Parses `SEL`; `@PATH` reads the names in the file at `PATH` now.
    ///
    /// ```
    /// use h5sparse::anndata::{CompareOp, Selection};
    /// use h5sparse::sparse::Sel;
    /// assert_eq!(Selection::parse("1:3")?, Selection::Positions(Sel::range(1, 3)));
    /// assert_eq!(
    ///     Selection::parse("louvain != '3'")?,
    ///     Selection::Compare { column: "louvain".into(), op: CompareOp::Ne, value: "3".into() }
    /// );
    /// assert!(Selection::parse("cell_type").is_err());
    /// assert!(Selection::parse("@/no/such/file").is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Selection> {
        if let Some(path) = s.strip_prefix('@') {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::invalid(format!("selection @{path}: cannot read it: {e}")))?;
            return Ok(Selection::parse_names(&text));
        }
        let op = [("==", CompareOp::Eq), ("!=", CompareOp::Ne)]
            .into_iter()
            .filter_map(|(token, op)| s.find(token).map(|at| (at, op)))
            .min_by_key(|&(at, _)| at);
        if let Some((at, op)) = op {
            let column = s[..at].trim();
            if column.is_empty() {
                return Err(Error::invalid(format!(
                    "selection {s:?}: no column name before the comparison"
                )));
            }
            return Ok(Selection::Compare {
                column: column.to_string(),
                op,
                value: unquote(s[at + 2..].trim()).to_string(),
            });
        }
        Sel::parse(s).map(Selection::Positions).map_err(|e| {
            let e = match e {
                Error::InvalidArgument(m) => m,
                e => e.to_string(),
            };
            Error::invalid(format!(
                "{e}; a selection is START:STOP[:STEP], i,j,k, @NAMES_FILE, \
                 COLUMN==VALUE or COLUMN!=VALUE"
            ))
        })
    }

    /// The names of a names file's text: one per line, empty lines skipped,
    /// a trailing `\r` dropped.
    ///
    /// ```
    /// use h5sparse::anndata::Selection;
    /// assert_eq!(Selection::parse_names("a\r\n\nb c\n"), Selection::names(["a", "b c"]));
    /// ```
    pub fn parse_names(text: &str) -> Selection {
        Selection::Names(
            text.lines()
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        )
    }

    /// A selection of names.
    ///
    /// ```
    /// use h5sparse::anndata::Selection;
    /// assert_eq!(Selection::names(["x"]), Selection::Names(vec!["x".to_string()]));
    /// ```
    pub fn names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Selection {
        Selection::Names(names.into_iter().map(Into::into).collect())
    }

    /// The positions selected along `axis` of `adata`, in the order anndata
    /// takes them. Fails on positions out of range, names that are not
    /// obs/var names (the first few named) or that occur more than once,
    /// a column that does not exist, or a `VALUE` that cannot be read as
    /// the column's type.
    ///
    /// ```
    /// use h5sparse::anndata::{AnnData, Axis, Selection};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
    /// let adata = AnnData::open(&h5sparse::H5File::open(path)?)?;
    /// assert_eq!(Selection::parse("-1,0")?.resolve(&adata, Axis::Var)?, [11, 0]);
    /// let err = Selection::parse("n_genes==many")?.resolve(&adata, Axis::Obs).unwrap_err();
    /// assert!(err.to_string().contains("n_genes"));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn resolve(&self, adata: &AnnData, axis: Axis) -> Result<Vec<u64>> {
        let (frame, len) = match axis {
            Axis::Obs => (adata.obs(), adata.n_obs()),
            Axis::Var => (adata.var(), adata.n_vars()),
        };
        match self {
            Selection::Positions(sel) => sel.resolve(len).map_err(|e| {
                Error::invalid(format!(
                    "{} selection: {}",
                    axis.as_str(),
                    match e {
                        Error::InvalidArgument(m) => m,
                        e => e.to_string(),
                    }
                ))
            }),
            Selection::Names(names) => {
                let index = match axis {
                    Axis::Obs => adata.obs_names()?,
                    Axis::Var => adata.var_names()?,
                };
                positions_of(names, &index, axis)
            }
            Selection::Compare { column, op, value } => {
                let snap = adata.file().snapshot()?;
                let data = frame.column(&snap, column)?;
                let f32_values = stored_as_f32(&snap, frame, column);
                let what = format!("{}[{column:?}]", axis.as_str());
                let mask = compare(&data, *op, value, f32_values, &what)?;
                Ok(mask
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| **m)
                    .map(|(i, _)| i as u64)
                    .collect())
            }
        }
    }
}

/// `'x'` or `"x"` → `x`; anything else as it is.
fn unquote(v: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Each name's position in `index`, as pandas' `Index.get_indexer`.
fn positions_of(names: &[String], index: &[String], axis: Axis) -> Result<Vec<u64>> {
    /// Marks a name found more than once in the index.
    const REPEATED: u64 = u64::MAX;
    let mut at: HashMap<&str, u64> = HashMap::new();
    for (i, name) in index.iter().enumerate() {
        at.entry(name.as_str())
            .and_modify(|p| *p = REPEATED)
            .or_insert(i as u64);
    }
    let mut out = crate::buf::try_with_capacity(names.len(), "selected names")?;
    let mut missing = Vec::new();
    for name in names {
        match at.get(name.as_str()) {
            Some(&REPEATED) => {
                return Err(Error::invalid(format!(
                    "{name:?} occurs more than once in {}_names: a name cannot select one {}",
                    axis.as_str(),
                    axis.as_str()
                )))
            }
            Some(&p) => out.push(p),
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() {
        const SHOWN: usize = 5;
        let shown: Vec<String> = missing
            .iter()
            .take(SHOWN)
            .map(|n| format!("{n:?}"))
            .collect();
        let more = if missing.len() > SHOWN { ", ..." } else { "" };
        return Err(Error::invalid(format!(
            "{} of {} names are not {}_names: {}{more}",
            missing.len(),
            names.len(),
            axis.as_str(),
            shown.join(", ")
        )));
    }
    Ok(out)
}

/// Whether `column` of `frame` holds float32 values (then a float `VALUE`
/// is rounded to float32 before comparing, as numpy compares a float32
/// array with a Python float).
fn stored_as_f32(file: &File, frame: &DataFrame, column: &str) -> bool {
    let Some(col) = frame.columns().iter().find(|c| c.name == column) else {
        return false;
    };
    let path = match col.kind {
        ColumnKind::Array => format!("{}/{column}", frame.path()),
        ColumnKind::Nullable => format!("{}/{column}/values", frame.path()),
        ColumnKind::RecordField => {
            return match file.get(frame.path()) {
                Ok(Node::Dataset(d)) => match d.dtype() {
                    Dtype::Compound { fields, .. } => fields.iter().any(|f| {
                        f.name == column && matches!(f.dtype, Dtype::Float { size: 4, .. })
                    }),
                    _ => false,
                },
                _ => false,
            };
        }
        _ => return false,
    };
    matches!(file.get(&path), Ok(Node::Dataset(d)) if matches!(d.dtype(), Dtype::Float { size: 4, .. }))
}

/// The boolean mask of `column OP value`, in pandas' semantics (module
/// docs).
fn compare(
    data: &ColumnData,
    op: CompareOp,
    value: &str,
    f32_values: bool,
    what: &str,
) -> Result<Vec<bool>> {
    let flip = |eq: Vec<bool>| -> Vec<bool> {
        match op {
            CompareOp::Eq => eq,
            CompareOp::Ne => eq.into_iter().map(|b| !b).collect(),
        }
    };
    match data {
        ColumnData::Values(values) => Ok(flip(equal(values, value, f32_values, what)?)),
        ColumnData::Categorical {
            codes, categories, ..
        } => {
            // A VALUE that cannot be read as the categories' type is not
            // one of them: no row equals it (pandas compares it so too).
            let labels = match equal(categories, value, false, what) {
                Err(Error::InvalidArgument(_)) => vec![false; categories.len()],
                other => other?,
            };
            Ok(flip(
                codes
                    .iter()
                    .map(|&c| {
                        usize::try_from(c)
                            .ok()
                            .and_then(|c| labels.get(c).copied())
                            .unwrap_or(false)
                    })
                    .collect(),
            ))
        }
        ColumnData::Nullable { values, mask } => {
            let eq = equal(values, value, f32_values, what)?;
            if eq.len() != mask.len() {
                return Err(Error::invalid(format!(
                    "{what}: {} values but a mask of {}",
                    eq.len(),
                    mask.len()
                )));
            }
            Ok(flip(eq)
                .into_iter()
                .zip(mask)
                .map(|(m, &missing)| m && !missing)
                .collect())
        }
        #[allow(unreachable_patterns)] // ColumnData is non-exhaustive
        _ => Err(Error::unsupported(format!(
            "{what}: comparing this kind of column"
        ))),
    }
}

/// Element-wise `values == value`, `value` read as the values' type.
fn equal(values: &Values, value: &str, f32_values: bool, what: &str) -> Result<Vec<bool>> {
    let not_a = |kind: &str| Error::invalid(format!("{what} holds {kind}; {value:?} is not one"));
    let float = |v: &str| -> Option<f64> {
        let x: f64 = v.parse().ok()?;
        Some(if f32_values { f64::from(x as f32) } else { x })
    };
    Ok(match values {
        Values::Int(v) => match value.parse::<i64>() {
            Ok(x) => v.iter().map(|&y| y == x).collect(),
            Err(_) => {
                let x = float(value).ok_or_else(|| not_a("integers"))?;
                v.iter().map(|&y| y as f64 == x).collect()
            }
        },
        Values::UInt(v) => match value.parse::<u64>() {
            Ok(x) => v.iter().map(|&y| y == x).collect(),
            Err(_) => {
                let x = float(value).ok_or_else(|| not_a("integers"))?;
                v.iter().map(|&y| y as f64 == x).collect()
            }
        },
        Values::Float(v) => {
            let x = float(value).ok_or_else(|| not_a("numbers"))?;
            v.iter().map(|&y| y == x).collect()
        }
        Values::Bool(v) => {
            let x = match value {
                "true" | "True" | "1" => true,
                "false" | "False" | "0" => false,
                _ => return Err(not_a("bools (true or false)")),
            };
            v.iter().map(|&y| y == x).collect()
        }
        Values::Str(v) => v.iter().map(|y| y == value).collect(),
        Values::Nested(_) => {
            return Err(Error::unsupported(format!(
                "{what}: comparing structured values"
            )))
        }
    })
}
