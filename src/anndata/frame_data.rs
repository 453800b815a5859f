//! A dataframe in memory ([`DataFrameData`]): what [`DataFrame::to_data`]
//! reads and what the writer
//! ([`H5adWriter::write_dataframe`](super::H5adWriter::write_dataframe))
//! stores, with row selection ([`DataFrameData::take`],
//! [`ColumnData::take`]) for subsetting.

use std::collections::BTreeMap;

use super::dataframe::{ColumnData, DataFrame, Storage};
use crate::error::{Error, Result};
use crate::read::{Dtype, File, Node, Value, Values};

/// A whole dataframe in memory: index, columns and the dtypes they were
/// stored with.
///
/// ```
/// use h5sparse::anndata::{AnnData, DataFrameData};
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
/// let f = h5sparse::H5File::open(path)?;
/// let adata = AnnData::open(&f)?;
/// let obs: DataFrameData = adata.obs().to_data(&*f.snapshot()?)?;
/// assert_eq!((obs.index.len(), obs.index_name.as_str()), (20, "_index"));
/// let firsts = obs.take(&[1, 0, 0])?;                  // rows 1, 0, 0
/// assert_eq!(firsts.index, ["cell_01", "cell_00", "cell_00"]);
/// # Ok::<(), h5sparse::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DataFrameData {
    /// The index's name: `_index` when it has none (anndata's default), else
    /// what pandas shows as `df.index.name`.
    pub index_name: String,
    /// The index (obs or var names).
    pub index: Vec<String>,
    /// The columns, in order.
    pub columns: Vec<(String, ColumnData)>,
    /// The stored dtype of a column's numbers (a plain column's values, a
    /// nullable column's values, a categorical's categories), to write
    /// them back alike; a column without an entry is written with the
    /// widest type of its values (int64, uint64, float64, bool). Strings
    /// are always written as variable-length UTF-8.
    pub dtypes: BTreeMap<String, Dtype>,
}

impl DataFrameData {
    /// A frame with an index and no columns.
    ///
    /// ```
    /// let df = h5sparse::anndata::DataFrameData::with_index(vec!["a".into(), "b".into()]);
    /// assert_eq!((df.len(), df.index_name.as_str()), (2, "_index"));
    /// ```
    pub fn with_index(index: Vec<String>) -> DataFrameData {
        DataFrameData {
            index_name: "_index".into(),
            index,
            ..Default::default()
        }
    }

    /// Number of rows.
    ///
    /// ```
    /// assert_eq!(h5sparse::anndata::DataFrameData::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the frame has no rows.
    ///
    /// ```
    /// assert!(h5sparse::anndata::DataFrameData::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The column `name`, if present.
    ///
    /// ```
    /// use h5sparse::anndata::{ColumnData, DataFrameData};
    /// let mut df = DataFrameData::with_index(vec!["a".into()]);
    /// df.columns.push(("n".into(), ColumnData::Values(h5sparse::Values::Int(vec![3]))));
    /// assert!(df.column("n").is_some() && df.column("m").is_none());
    /// ```
    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// The rows `idx`, in that order (repeats repeated), of the index and
    /// every column; categories are kept whole, as pandas keeps them.
    ///
    /// ```
    /// use h5sparse::anndata::{ColumnData, DataFrameData};
    /// use h5sparse::Values;
    /// let mut df = DataFrameData::with_index(vec!["a".into(), "b".into()]);
    /// df.columns.push(("x".into(), ColumnData::Values(Values::Float(vec![1.0, 2.0]))));
    /// let t = df.take(&[1, 1])?;
    /// assert_eq!(t.index, ["b", "b"]);
    /// assert_eq!(t.column("x"), Some(&ColumnData::Values(Values::Float(vec![2.0, 2.0]))));
    /// assert!(df.take(&[2]).is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn take(&self, idx: &[u64]) -> Result<DataFrameData> {
        let index = pick(&self.index, idx, "the index")?;
        let columns = self
            .columns
            .iter()
            .map(|(n, c)| Ok((n.clone(), c.take(idx).map_err(|e| e.context(n))?)))
            .collect::<Result<_>>()?;
        Ok(DataFrameData {
            index_name: self.index_name.clone(),
            index,
            columns,
            dtypes: self.dtypes.clone(),
        })
    }
}

impl ColumnData {
    /// Number of rows.
    ///
    /// ```
    /// use h5sparse::anndata::ColumnData;
    /// assert_eq!(ColumnData::Values(h5sparse::Values::Bool(vec![true, false])).len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Values(v) => v.len(),
            ColumnData::Categorical { codes, .. } => codes.len(),
            ColumnData::Nullable { mask, .. } => mask.len(),
        }
    }

    /// Whether the column has no rows.
    ///
    /// ```
    /// use h5sparse::anndata::ColumnData;
    /// assert!(ColumnData::Values(h5sparse::Values::Int(vec![])).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows `idx`, in that order (repeats repeated); a categorical
    /// keeps all its categories.
    ///
    /// ```
    /// use h5sparse::anndata::ColumnData;
    /// use h5sparse::Values;
    /// let c = ColumnData::Categorical {
    ///     codes: vec![0, -1, 1],
    ///     categories: Values::Str(vec!["B".into(), "T".into()]),
    ///     ordered: false,
    /// };
    /// let ColumnData::Categorical { codes, categories, .. } = c.take(&[2, 1])? else { unreachable!() };
    /// assert_eq!((codes, categories.len()), (vec![1, -1], 2));
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn take(&self, idx: &[u64]) -> Result<ColumnData> {
        Ok(match self {
            ColumnData::Values(v) => ColumnData::Values(take_values(v, idx)?),
            ColumnData::Categorical {
                codes,
                categories,
                ordered,
            } => ColumnData::Categorical {
                codes: pick(codes, idx, "codes")?,
                categories: categories.clone(),
                ordered: *ordered,
            },
            ColumnData::Nullable { values, mask } => ColumnData::Nullable {
                values: take_values(values, idx)?,
                mask: pick(mask, idx, "mask")?,
            },
        })
    }
}

/// `values[idx]`, refusing an index past the end.
fn pick<T: Clone>(values: &[T], idx: &[u64], what: &'static str) -> Result<Vec<T>> {
    let mut out = crate::buf::try_with_capacity(idx.len(), what)?;
    for &i in idx {
        let v = usize::try_from(i)
            .ok()
            .and_then(|i| values.get(i))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "row {i} is out of range for {what} of {} rows",
                    values.len()
                ))
            })?;
        out.push(v.clone());
    }
    Ok(out)
}

/// The elements `idx` of `values`.
pub(crate) fn take_values(values: &Values, idx: &[u64]) -> Result<Values> {
    Ok(match values {
        Values::Int(v) => Values::Int(pick(v, idx, "values")?),
        Values::UInt(v) => Values::UInt(pick(v, idx, "values")?),
        Values::Float(v) => Values::Float(pick(v, idx, "values")?),
        Values::Bool(v) => Values::Bool(pick(v, idx, "values")?),
        Values::Str(v) => Values::Str(pick(v, idx, "values")?),
        Values::Nested(v) => Values::Nested(pick::<Value>(v, idx, "values")?),
    })
}

impl DataFrame {
    /// Reads the whole frame, index and every column, into memory
    /// (whatever encoding it is stored in, legacy ones included).
    ///
    /// ```
    /// use h5sparse::anndata::{AnnData, ColumnData};
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata06_compound.h5ad");
    /// let f = h5sparse::H5File::open(path)?;
    /// let obs = AnnData::open(&f)?.obs().to_data(&*f.snapshot()?)?;
    /// assert_eq!(obs.index_name, "index");                  // as anndata names it
    /// assert!(matches!(obs.column("cell_type"), Some(ColumnData::Categorical { .. })));
    /// assert_eq!(obs.dtypes["quality"].numpy_str(), "<f4");
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn to_data(&self, file: &File) -> Result<DataFrameData> {
        let index = self.index(file)?;
        let mut columns = Vec::with_capacity(self.columns().len());
        let mut dtypes = BTreeMap::new();
        for c in self.columns() {
            let data = self.column(file, &c.name)?;
            if let Some(d) = self.stored_dtype(file, &c.name, &data)? {
                dtypes.insert(c.name.clone(), d);
            }
            columns.push((c.name.clone(), data));
        }
        let index_name = match &self.storage {
            Storage::Group { index } => index.clone(),
            // anndata ≤ 0.6's record arrays: pandas names the index after
            // the field it came from.
            Storage::Records { .. } => "index".to_string(),
        };
        Ok(DataFrameData {
            index_name,
            index,
            columns,
            dtypes,
        })
    }

    /// The dtype column `name`'s numbers are stored in (see
    /// [`DataFrameData::dtypes`]).
    fn stored_dtype(&self, file: &File, name: &str, data: &ColumnData) -> Result<Option<Dtype>> {
        let at = format!("{}/{name}", self.path());
        let dtype = match (&self.storage, data) {
            (Storage::Records { uns }, ColumnData::Categorical { .. }) => {
                let uns = uns.as_deref().unwrap_or("/uns");
                file.dataset(&format!("{uns}/{name}_categories"))?
                    .dtype()
                    .clone()
            }
            (Storage::Records { .. }, _) => match file.dataset(self.path())?.dtype() {
                Dtype::Compound { fields, .. } => match fields.iter().find(|f| f.name == name) {
                    Some(f) => f.dtype.clone(),
                    None => return Ok(None),
                },
                _ => return Ok(None),
            },
            (Storage::Group { .. }, ColumnData::Categorical { .. }) => match file.get(&at)? {
                Node::Group(_) => file.dataset(&format!("{at}/categories"))?.dtype().clone(),
                // anndata 0.7: the categories are behind a reference; the
                // values read tell their kind well enough.
                _ => return Ok(None),
            },
            (Storage::Group { .. }, ColumnData::Nullable { .. }) => {
                file.dataset(&format!("{at}/values"))?.dtype().clone()
            }
            (Storage::Group { .. }, _) => file.dataset(&at)?.dtype().clone(),
        };
        Ok(match dtype {
            Dtype::Int { .. } | Dtype::Float { .. } | Dtype::Bool => Some(dtype),
            _ => None,
        })
    }
}
