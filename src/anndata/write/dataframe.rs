//! Dataframes in anndata 0.12's encoding (`dataframe` 0.2.0) and the
//! column encodings inside them: `array`, `string-array`, `categorical`
//! 0.2.0, `nullable-integer` / `nullable-boolean` /
//! `nullable-string-array` 0.1.0.

use super::{vlen_str, H5adWriter};
use crate::anndata::{ColumnData, DataFrameData};
use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dtype, Values};

impl H5adWriter {
    /// A dataframe (`obs`, `var`, `raw/var`, an `obsm` or `uns` table):
    /// a group with the index as a string array named after
    /// [`DataFrameData::index_name`], the `_index` and `column-order`
    /// attributes, and one element per column.
    ///
    /// ```
    /// use h5sparse::anndata::{AnnData, ColumnData, DataFrameData, H5adWriter, WriteOptions};
    /// use h5sparse::Values;
    /// let f = h5sparse::H5File::in_memory()?;
    /// let mut w = H5adWriter::new(f.clone(), WriteOptions::default())?;
    /// let mut obs = DataFrameData::with_index(vec!["c0".into(), "c1".into(), "c2".into()]);
    /// obs.columns.push(("cell_type".into(), ColumnData::Categorical {
    ///     codes: vec![1, 0, -1],
    ///     categories: Values::Str(vec!["B".into(), "T".into()]),
    ///     ordered: false,
    /// }));
    /// obs.columns.push(("n_genes".into(), ColumnData::Values(Values::Int(vec![10, 20, 30]))));
    /// w.write_dataframe("obs", &obs)?;
    /// w.write_dataframe("var", &DataFrameData::with_index(vec!["g0".into()]))?;
    /// w.finish()?;
    /// let adata = AnnData::open(&f)?;
    /// assert_eq!(adata.obs().column_names(), ["cell_type", "n_genes"]);
    /// assert_eq!(adata.obs().to_data(&*f.snapshot()?)?.columns, obs.columns);
    /// # Ok::<(), h5sparse::Error>(())
    /// ```
    pub fn write_dataframe(&mut self, path: &str, df: &DataFrameData) -> Result<()> {
        let n = df.len();
        for (name, c) in &df.columns {
            if c.len() != n {
                return Err(Error::invalid(format!(
                    "{path}: column {name:?} has {} rows, the index {n}",
                    c.len()
                )));
            }
            if *name == df.index_name || name.contains('/') || name.is_empty() {
                return Err(Error::invalid(format!(
                    "{path}: {name:?} cannot name a column (the index is {:?})",
                    df.index_name
                )));
            }
        }
        let index_name = if df.index_name.is_empty() {
            "_index"
        } else {
            df.index_name.as_str()
        };
        let path = self.new_group(path)?;
        self.mark(&path, "dataframe", "0.2.0")?;
        let names: Vec<String> = df.columns.iter().map(|(n, _)| n.clone()).collect();
        self.file.write(|w| {
            w.set_attr_str(&path, "_index", index_name)?;
            if names.is_empty() {
                // What h5py stores for anndata's empty list: float64, shape (0,).
                let f8 = Dtype::Float {
                    size: 8,
                    order: ByteOrder::Little,
                };
                w.set_attr(
                    &path,
                    "column-order",
                    &f8,
                    Some(&[0]),
                    &Values::Float(vec![]),
                )
            } else {
                let shape = [names.len() as u64];
                w.set_attr(
                    &path,
                    "column-order",
                    &vlen_str(),
                    Some(&shape),
                    &Values::Str(names),
                )
            }
        })?;
        self.write_string_array(&format!("{path}/{index_name}"), &df.index)?;
        for (name, c) in &df.columns {
            let at = format!("{path}/{name}");
            self.write_column(&at, c, df.dtypes.get(name))
                .map_err(|e| e.context(&at))?;
        }
        Ok(())
    }

    /// One column at `at`; `dtype` the stored type of its numbers, if known.
    fn write_column(&mut self, at: &str, c: &ColumnData, dtype: Option<&Dtype>) -> Result<()> {
        match c {
            ColumnData::Values(v) => self.write_values(at, v, dtype),
            ColumnData::Categorical {
                codes,
                categories,
                ordered,
            } => {
                let n = categories.len() as i64;
                if let Some(bad) = codes.iter().find(|&&c| c < -1 || c >= n) {
                    return Err(Error::invalid(format!(
                        "category code {bad} outside -1..{n}"
                    )));
                }
                let at = self.new_group(at)?;
                self.mark(&at, "categorical", "0.2.0")?;
                self.file.write(|w| {
                    w.set_attr(
                        &at,
                        "ordered",
                        &Dtype::Bool,
                        Some(&[]),
                        &Values::Bool(vec![*ordered]),
                    )
                })?;
                let codes_dtype = Dtype::Int {
                    size: codes_width(categories.len()),
                    signed: true,
                    order: ByteOrder::Little,
                };
                let len = codes.len() as u64;
                self.write_array(
                    &format!("{at}/codes"),
                    &codes_dtype,
                    &[len],
                    &Values::Int(codes.clone()),
                )?;
                self.write_values(&format!("{at}/categories"), categories, dtype)
            }
            ColumnData::Nullable { values, mask } => {
                if values.len() != mask.len() {
                    return Err(Error::invalid(format!(
                        "{} values for a mask of {}",
                        values.len(),
                        mask.len()
                    )));
                }
                let encoding = match values {
                    Values::Int(_) | Values::UInt(_) => "nullable-integer",
                    Values::Bool(_) => "nullable-boolean",
                    Values::Str(_) => "nullable-string-array",
                    Values::Float(_) | Values::Nested(_) => {
                        return Err(Error::invalid(
                            "a nullable column holds integers, bools or strings",
                        ))
                    }
                };
                let at = self.new_group(at)?;
                self.mark(&at, encoding, "0.1.0")?;
                self.write_values(&format!("{at}/values"), values, dtype)?;
                self.write_values(&format!("{at}/mask"), &Values::Bool(mask.clone()), None)
            }
        }
    }

    /// A 1-D array of `values`: strings as `string-array`, numbers in
    /// `dtype` when it is a number type, else in the widest of their kind.
    fn write_values(&mut self, at: &str, values: &Values, dtype: Option<&Dtype>) -> Result<()> {
        let stored = match (values, dtype) {
            (Values::Str(s), _) => return self.write_string_array(at, s),
            (Values::Nested(_), _) => {
                return Err(Error::unsupported("writing a column of structured values"))
            }
            (Values::Bool(_), _) => Dtype::Bool,
            (_, Some(Dtype::Int { size, signed, .. })) => Dtype::Int {
                size: *size,
                signed: *signed,
                order: ByteOrder::Little,
            },
            (_, Some(Dtype::Float { size, .. })) => Dtype::Float {
                size: *size,
                order: ByteOrder::Little,
            },
            (Values::Int(_), _) => Dtype::Int {
                size: 8,
                signed: true,
                order: ByteOrder::Little,
            },
            (Values::UInt(_), _) => Dtype::Int {
                size: 8,
                signed: false,
                order: ByteOrder::Little,
            },
            (Values::Float(_), _) => Dtype::Float {
                size: 8,
                order: ByteOrder::Little,
            },
        };
        self.write_array(at, &stored, &[values.len() as u64], values)
    }
}

/// The bytes of the codes pandas keeps for `n` categories: int8 below 127,
/// int16 below 32767, int32 below 2³¹−1, else int64.
pub(crate) fn codes_width(n: usize) -> u8 {
    let n = n as u64;
    if n < i8::MAX as u64 {
        1
    } else if n < i16::MAX as u64 {
        2
    } else if n < i32::MAX as u64 {
        4
    } else {
        8
    }
}
