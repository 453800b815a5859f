//! anndata dataframes (`obs`, `var`, `raw/var`): the current encoding
//! (a group with `_index` and `column-order`), anndata 0.7's (categorical
//! codes carrying an object reference to `__categories/<column>`) and
//! anndata ≤ 0.6's compound record arrays (categories in
//! `uns/<column>_categories`). Metadata is read when the frame is opened;
//! column values when asked for.

use std::ops::Range;

use super::element::attr_str;
use crate::error::{Error, Result};
use crate::read::{Dataset, Dtype, File, Node, Value, Values};

/// How one column is stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ColumnKind {
    /// A numeric or bool array (`array`).
    Array,
    /// Strings (`string-array`).
    Strings,
    /// Codes into categories (`categorical`, anndata 0.7's referenced
    /// `__categories`, or anndata ≤ 0.6's `uns/<col>_categories`).
    Categorical,
    /// `nullable-integer`, `nullable-boolean` or `nullable-string-array`:
    /// values and a mask.
    Nullable,
    /// A field of a compound record array (anndata ≤ 0.6).
    RecordField,
    /// An encoding this crate does not read.
    Other(String),
}

/// A column of a [`DataFrame`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// How it is stored.
    pub kind: ColumnKind,
}

/// A column's values.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ColumnData {
    /// Plain values.
    Values(Values),
    /// Category codes (-1: missing) and the categories they index.
    Categorical {
        /// One code per row.
        codes: Vec<i64>,
        /// The categories.
        categories: Values,
        /// Whether the categories are ordered.
        ordered: bool,
    },
    /// Values with a mask (`true`: missing).
    Nullable {
        /// One value per row.
        values: Values,
        /// One flag per row.
        mask: Vec<bool>,
    },
}

/// Where a frame lives.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Storage {
    /// A group (anndata ≥ 0.7): the index dataset's name.
    Group { index: String },
    /// A compound dataset (anndata ≤ 0.6); categorical fields' categories
    /// are in the `uns` group given.
    Records { uns: Option<String> },
}

/// An anndata dataframe: its index (obs or var names) and columns.
#[derive(Debug, Clone, PartialEq)]
pub struct DataFrame {
    path: String,
    pub(super) storage: Storage,
    columns: Vec<Column>,
    len: u64,
}

impl DataFrame {
    /// Reads the frame's metadata at `path`; `uns` is the group holding
    /// anndata ≤ 0.6's `<column>_categories`.
    pub(crate) fn open(file: &File, path: &str, uns: Option<&str>) -> Result<DataFrame> {
        match file.get(path)? {
            Node::Group(g) => {
                let index = attr_str(g.attribute("_index")?).unwrap_or_else(|| "_index".into());
                let order = match g.attribute("column-order")? {
                    Some(a) => match a.values()? {
                        Values::Str(v) => v,
                        _ => Vec::new(),
                    },
                    None => Vec::new(),
                };
                let len = match g.get(&index)? {
                    Node::Dataset(d) => d.len(),
                    _ => return Err(Error::invalid(format!("{path}/{index} is not a dataset"))),
                };
                let mut columns = Vec::with_capacity(order.len());
                for name in order {
                    let kind = match g.get(&name)? {
                        Node::Group(c) => {
                            match attr_str(c.attribute("encoding-type")?).as_deref() {
                                Some("categorical") => ColumnKind::Categorical,
                                Some(
                                    "nullable-integer"
                                    | "nullable-boolean"
                                    | "nullable-string-array",
                                ) => ColumnKind::Nullable,
                                other => ColumnKind::Other(other.unwrap_or("group").to_string()),
                            }
                        }
                        Node::Dataset(d) => {
                            if d.attribute("categories")?.is_some() {
                                ColumnKind::Categorical
                            } else if matches!(
                                d.dtype(),
                                Dtype::VarString { .. } | Dtype::FixedString { .. }
                            ) {
                                ColumnKind::Strings
                            } else {
                                ColumnKind::Array
                            }
                        }
                        Node::Datatype { .. } => ColumnKind::Other("datatype".into()),
                    };
                    columns.push(Column { name, kind });
                }
                Ok(DataFrame {
                    path: path.to_string(),
                    storage: Storage::Group { index },
                    columns,
                    len,
                })
            }
            Node::Dataset(d) => {
                let Dtype::Compound { fields, .. } = d.dtype() else {
                    return Err(Error::invalid(format!(
                        "{path} is neither a dataframe group nor a record array"
                    )));
                };
                let uns_keys: Vec<String> = match uns.map(|u| file.group(u)) {
                    Some(Ok(g)) => g.links()?.into_iter().map(|l| l.name).collect(),
                    _ => Vec::new(),
                };
                let columns = fields
                    .iter()
                    .filter(|f| f.name != "index")
                    .map(|f| Column {
                        name: f.name.clone(),
                        kind: if uns_keys.contains(&format!("{}_categories", f.name)) {
                            ColumnKind::Categorical
                        } else {
                            ColumnKind::RecordField
                        },
                    })
                    .collect();
                Ok(DataFrame {
                    path: path.to_string(),
                    storage: Storage::Records {
                        uns: uns.map(str::to_string),
                    },
                    columns,
                    len: d.len(),
                })
            }
            Node::Datatype { .. } => Err(Error::invalid(format!("{path} is a datatype"))),
        }
    }

    /// The frame stored at `path` (a dataframe group, or anndata ≤ 0.6's
    /// record array with categories in `/uns`): an `obsm` table, a `uns`
    /// frame, `raw/var`.
    ///
    /// ```
    /// use h5sparse::anndata::DataFrame;
    /// let f = h5sparse::File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let var = DataFrame::open_at(&f, "/var")?;
    /// assert_eq!(var.column_names(), ["highly_variable", "gene_symbol"]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn open_at(file: &File, path: &str) -> Result<DataFrame> {
        let uns = file.group("/uns").is_ok().then_some("/uns");
        Self::open(file, path, uns)
    }

    /// The frame's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Number of rows.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the frame has no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The columns, in anndata's `column-order`.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column names, in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// Columns of categories consumed from `uns` (anndata ≤ 0.6), which
    /// anndata does not show among `uns`'s keys.
    pub(crate) fn consumed_uns_keys(&self) -> Vec<String> {
        match self.storage {
            Storage::Records { .. } => self
                .columns
                .iter()
                .filter(|c| c.kind == ColumnKind::Categorical)
                .map(|c| format!("{}_categories", c.name))
                .collect(),
            Storage::Group { .. } => Vec::new(),
        }
    }

    /// The index: obs or var names.
    pub fn index(&self, file: &File) -> Result<Vec<String>> {
        self.index_rows(file, None)
    }

    /// The names of rows `rows` of the index (`start..end`), reading only
    /// those rows where the storage allows (anndata ≤ 0.6's record arrays
    /// are read whole): a page of a big table without its whole index.
    /// A range beyond [`len`](DataFrame::len) is an error.
    ///
    /// ```
    /// use h5sparse::anndata::AnnData;
    /// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let adata = AnnData::open(&f)?;
    /// let names = adata.obs().index_range(&*f.snapshot()?, 1..3)?;
    /// assert_eq!(names, adata.obs_names()?[1..3]);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn index_range(&self, file: &File, rows: Range<u64>) -> Result<Vec<String>> {
        self.check_rows(&rows)?;
        self.index_rows(file, Some(rows))
    }

    fn index_rows(&self, file: &File, rows: Option<Range<u64>>) -> Result<Vec<String>> {
        let values = match &self.storage {
            Storage::Group { index } => {
                rows_of(&file.dataset(&format!("{}/{index}", self.path))?, rows)?
            }
            Storage::Records { .. } => record_field(file, &self.path, "index", rows)?,
        };
        match values {
            Values::Str(v) => Ok(v),
            Values::Int(v) => Ok(v.iter().map(i64::to_string).collect()),
            Values::UInt(v) => Ok(v.iter().map(u64::to_string).collect()),
            _ => Err(Error::invalid(format!(
                "{}: the index is not strings",
                self.path
            ))),
        }
    }

    /// The values of column `name`.
    pub fn column(&self, file: &File, name: &str) -> Result<ColumnData> {
        self.column_rows(file, name, None)
    }

    /// The values of rows `rows` (`start..end`) of column `name`, reading
    /// only those rows where the storage allows (anndata ≤ 0.6's record
    /// arrays are read whole); a categorical column's categories are read
    /// whole. A range beyond [`len`](DataFrame::len) is an error.
    ///
    /// ```
    /// use h5sparse::anndata::{AnnData, ColumnData};
    /// let f = h5sparse::H5File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad"))?;
    /// let adata = AnnData::open(&f)?;
    /// let page = adata.obs().column_range(&*f.snapshot()?, "cell_type", 2..4)?;
    /// let ColumnData::Categorical { codes, .. } = adata.obs_column("cell_type")? else { panic!() };
    /// assert!(matches!(page, ColumnData::Categorical { codes: c, .. } if c == codes[2..4]));
    /// assert!(adata.obs().column_range(&*f.snapshot()?, "cell_type", 0..1_000_000).is_err());
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn column_range(&self, file: &File, name: &str, rows: Range<u64>) -> Result<ColumnData> {
        self.check_rows(&rows)?;
        self.column_rows(file, name, Some(rows))
    }

    /// Refuses a range of rows that is not within the frame.
    fn check_rows(&self, rows: &Range<u64>) -> Result<()> {
        if rows.start > rows.end || rows.end > self.len {
            return Err(Error::invalid(format!(
                "{}: rows {}..{} are not within its {} rows",
                self.path, rows.start, rows.end, self.len
            )));
        }
        Ok(())
    }

    fn column_rows(&self, file: &File, name: &str, rows: Option<Range<u64>>) -> Result<ColumnData> {
        let col = self
            .columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{} has no column {name:?} (its columns: {})",
                    self.path,
                    self.column_names().join(", ")
                ))
            })?;
        let at = format!("{}/{name}", self.path);
        match (&self.storage, &col.kind) {
            (Storage::Records { uns }, kind) => {
                let values = record_field(file, &self.path, name, rows)?;
                if *kind != ColumnKind::Categorical {
                    return Ok(ColumnData::Values(values));
                }
                let uns = uns.as_deref().unwrap_or("/uns");
                let categories = file
                    .dataset(&format!("{uns}/{name}_categories"))?
                    .values()?;
                Ok(ColumnData::Categorical {
                    codes: ints(values, &at)?,
                    categories,
                    ordered: false,
                })
            }
            (Storage::Group { .. }, ColumnKind::Categorical) => match file.get(&at)? {
                Node::Group(g) => {
                    let codes = rows_of(&file.dataset(&format!("{at}/codes"))?, rows)?;
                    let categories = file.dataset(&format!("{at}/categories"))?.values()?;
                    let ordered = attr_bool(g.attribute("ordered")?);
                    Ok(ColumnData::Categorical {
                        codes: ints(codes, &at)?,
                        categories,
                        ordered,
                    })
                }
                Node::Dataset(d) => {
                    let target =
                        match d.attribute("categories")?.map(|a| a.values()).transpose()? {
                            Some(Values::Nested(v)) => match v.first() {
                                Some(Value::ObjectRef(Some(r))) => r.path.clone(),
                                _ => None,
                            },
                            _ => None,
                        }
                        .ok_or_else(|| {
                            Error::invalid(format!("{at}: its categories reference leads nowhere"))
                        })?;
                    let cats = file.dataset(&target)?;
                    let ordered = attr_bool(cats.attribute("ordered")?);
                    Ok(ColumnData::Categorical {
                        codes: ints(rows_of(&d, rows)?, &at)?,
                        categories: cats.values()?,
                        ordered,
                    })
                }
                Node::Datatype { .. } => Err(Error::invalid(format!("{at} is a datatype"))),
            },
            (Storage::Group { .. }, ColumnKind::Nullable) => {
                let values = rows_of(&file.dataset(&format!("{at}/values"))?, rows.clone())?;
                let mask = match rows_of(&file.dataset(&format!("{at}/mask"))?, rows)? {
                    Values::Bool(m) => m,
                    _ => return Err(Error::invalid(format!("{at}/mask is not bool"))),
                };
                Ok(ColumnData::Nullable { values, mask })
            }
            (Storage::Group { .. }, ColumnKind::Other(encoding)) => Err(Error::unsupported(
                format!("{at}: a column of encoding {encoding:?}"),
            )),
            (Storage::Group { .. }, _) => {
                Ok(ColumnData::Values(rows_of(&file.dataset(&at)?, rows)?))
            }
        }
    }
}

fn attr_bool(a: Option<crate::read::Attribute<'_>>) -> bool {
    match a.and_then(|a| a.values().ok()) {
        Some(Values::Bool(v)) => v.first().copied().unwrap_or(false),
        Some(Values::Int(v)) => v.first().is_some_and(|&x| x != 0),
        Some(Values::UInt(v)) => v.first().is_some_and(|&x| x != 0),
        _ => false,
    }
}

fn ints(values: Values, at: &str) -> Result<Vec<i64>> {
    match values {
        Values::Int(v) => Ok(v),
        Values::UInt(v) => Ok(v.into_iter().map(|x| x as i64).collect()),
        _ => Err(Error::invalid(format!(
            "{at}: category codes are not integers"
        ))),
    }
}

/// The values of a column's dataset: whole, or rows `rows` of a 1-D one
/// (a range the frame has checked; a dataset shorter than its frame fails
/// in the read, naming it).
fn rows_of(d: &Dataset<'_>, rows: Option<Range<u64>>) -> Result<Values> {
    match rows {
        None => d.values(),
        Some(r) => match d.shape() {
            Some([_]) => d.values_slab(&[r.start], &[r.end - r.start]),
            _ => Err(Error::invalid(format!(
                "{}: expected a 1-D column, found shape {:?}",
                d.path(),
                d.shape()
            ))),
        },
    }
}

/// One field of a record array (rows `rows`, or all), as flat values. The
/// records are read whole.
fn record_field(file: &File, path: &str, name: &str, rows: Option<Range<u64>>) -> Result<Values> {
    let records = file.dataset(path)?.read_records()?;
    let records = match rows {
        None => &records[..],
        Some(r) => records
            .get(r.start as usize..r.end as usize)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "{path}: rows {}..{} are not within its {} records",
                    r.start,
                    r.end,
                    records.len()
                ))
            })?,
    };
    let mut items = Vec::with_capacity(records.len());
    for r in records {
        items.push(
            r.field(name)
                .cloned()
                .ok_or_else(|| Error::invalid(format!("{path} has no field {name:?}")))?,
        );
    }
    Ok(flat(items))
}

/// Flat values of a uniform kind where possible, nested otherwise.
fn flat(items: Vec<Value>) -> Values {
    macro_rules! all {
        ($variant:ident) => {
            items.iter().all(|v| matches!(v, Value::$variant(_)))
        };
    }
    macro_rules! collect {
        ($variant:ident) => {
            Values::$variant(
                items
                    .into_iter()
                    .filter_map(|v| match v {
                        Value::$variant(x) => Some(x),
                        _ => None,
                    })
                    .collect(),
            )
        };
    }
    if all!(Int) {
        collect!(Int)
    } else if all!(UInt) {
        collect!(UInt)
    } else if all!(Float) {
        collect!(Float)
    } else if all!(Bool) {
        collect!(Bool)
    } else if all!(Str) {
        collect!(Str)
    } else {
        Values::Nested(items)
    }
}
