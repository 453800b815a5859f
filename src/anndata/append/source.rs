//! The source's dataframe columns, read a block of rows at a time where
//! they are stored in anndata's current encoding (one dataset per part),
//! or whole where an older encoding keeps them in a record array or
//! behind object references.

use super::grow::little;
use crate::anndata::dataframe::Storage;
use crate::anndata::{ColumnData, ColumnKind, DataFrame};
use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dtype, File, Node, Values};

/// One part of a source column: a dataset, or its values read whole.
#[derive(Debug, Clone)]
pub(super) enum SrcValues {
    /// A 1-D dataset of the source.
    Dataset {
        path: String,
        dtype: Dtype,
        len: u64,
    },
    /// Values in memory, numbers to be stored as `dtype`.
    Memory { values: Values, dtype: Dtype },
}

/// The canonical type of in-memory numbers (what they decode from).
fn canonical(values: &Values) -> Dtype {
    let order = ByteOrder::Little;
    match values {
        Values::Int(_) => Dtype::Int {
            size: 8,
            signed: true,
            order,
        },
        Values::UInt(_) => Dtype::Int {
            size: 8,
            signed: false,
            order,
        },
        Values::Float(_) => Dtype::Float { size: 8, order },
        Values::Bool(_) => Dtype::Bool,
        Values::Str(_) | Values::Nested(_) => crate::anndata::write::vlen_str(),
    }
}

/// `values[start..start + count]`.
fn slice(values: &Values, start: u64, count: u64) -> Result<Values> {
    let (a, b) = (start as usize, (start + count) as usize);
    let bad = || Error::invalid(format!("rows {a}..{b} are out of range"));
    Ok(match values {
        Values::Int(v) => Values::Int(v.get(a..b).ok_or_else(bad)?.to_vec()),
        Values::UInt(v) => Values::UInt(v.get(a..b).ok_or_else(bad)?.to_vec()),
        Values::Float(v) => Values::Float(v.get(a..b).ok_or_else(bad)?.to_vec()),
        Values::Bool(v) => Values::Bool(v.get(a..b).ok_or_else(bad)?.to_vec()),
        Values::Str(v) => Values::Str(v.get(a..b).ok_or_else(bad)?.to_vec()),
        Values::Nested(v) => Values::Nested(v.get(a..b).ok_or_else(bad)?.to_vec()),
    })
}

/// Numbers as little-endian bytes of `dtype` (of their kind).
fn encode(values: &Values, dtype: &Dtype) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(values.len() * dtype.size());
    let int = |x: i128, out: &mut Vec<u8>| -> Result<()> {
        let Dtype::Int { size, signed, .. } = dtype else {
            return Err(Error::invalid(format!(
                "integers cannot be stored as {}",
                dtype.numpy_str()
            )));
        };
        let bits = 8 * u32::from(*size);
        let (lo, hi) = if *signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        };
        if x < lo || x > hi {
            return Err(Error::invalid(format!(
                "{x} does not fit {}",
                dtype.numpy_str()
            )));
        }
        out.extend_from_slice(&x.to_le_bytes()[..usize::from(*size)]);
        Ok(())
    };
    match (values, dtype) {
        (Values::Int(v), _) => v.iter().try_for_each(|&x| int(i128::from(x), &mut out))?,
        (Values::UInt(v), _) => v.iter().try_for_each(|&x| int(i128::from(x), &mut out))?,
        (Values::Float(v), Dtype::Float { size: 8, .. }) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        (Values::Float(v), Dtype::Float { size: 4, .. }) => v
            .iter()
            .for_each(|&x| out.extend_from_slice(&(x as f32).to_le_bytes())),
        (Values::Float(v), Dtype::Float { size: 2, .. }) => v
            .iter()
            .for_each(|&x| out.extend_from_slice(&crate::write::f64_to_f16(x).to_le_bytes())),
        (Values::Bool(v), Dtype::Bool) => out.extend(v.iter().map(|&b| u8::from(b))),
        _ => {
            return Err(Error::invalid(format!(
                "these values cannot be stored as {}",
                dtype.numpy_str()
            )))
        }
    }
    Ok(out)
}

impl SrcValues {
    /// The 1-D dataset at `path`.
    pub(super) fn dataset(f: &File, path: &str) -> Result<SrcValues> {
        let ds = f.dataset(path)?;
        match ds.shape() {
            Some([len]) => Ok(SrcValues::Dataset {
                path: path.to_string(),
                dtype: ds.dtype().clone(),
                len: *len,
            }),
            other => Err(Error::invalid(format!(
                "{path}: expected a 1-D dataset, found shape {other:?}"
            ))),
        }
    }

    /// Values in memory, stored as `dtype` (their canonical type if none).
    pub(super) fn memory(values: Values, dtype: Option<Dtype>) -> SrcValues {
        let dtype = dtype.map_or_else(|| canonical(&values), |d| little(&d));
        SrcValues::Memory { values, dtype }
    }

    pub(super) fn len(&self) -> u64 {
        match self {
            SrcValues::Dataset { len, .. } => *len,
            SrcValues::Memory { values, .. } => values.len() as u64,
        }
    }

    /// The type the values are stored in ([`SrcValues::raw`]'s bytes).
    pub(super) fn dtype(&self) -> &Dtype {
        match self {
            SrcValues::Dataset { dtype, .. } | SrcValues::Memory { dtype, .. } => dtype,
        }
    }

    /// Elements `start..start + count` as stored bytes of
    /// [`SrcValues::dtype`] (numbers and bools).
    pub(super) fn raw(&self, f: &File, start: u64, count: u64) -> Result<Vec<u8>> {
        match self {
            SrcValues::Dataset { path, .. } => f.dataset(path)?.read_raw(&[start], &[count]),
            SrcValues::Memory { values, dtype } => encode(&slice(values, start, count)?, dtype),
        }
    }

    /// Elements `start..start + count`, decoded.
    pub(super) fn values(&self, f: &File, start: u64, count: u64) -> Result<Values> {
        match self {
            SrcValues::Dataset { path, .. } => f.dataset(path)?.values_slab(&[start], &[count]),
            SrcValues::Memory { values, .. } => slice(values, start, count),
        }
    }

    /// Every element, decoded.
    pub(super) fn all(&self, f: &File) -> Result<Values> {
        self.values(f, 0, self.len())
    }

    /// Bytes of its elements (for progress).
    pub(super) fn bytes(&self) -> u64 {
        let size = match self.dtype() {
            Dtype::VarString { .. } => 16,
            d => d.size() as u64,
        };
        self.len().saturating_mul(size)
    }
}

/// A column of the source.
#[derive(Debug, Clone)]
pub(super) enum SrcColumn {
    /// Numbers or bools (`array`).
    Numbers(SrcValues),
    /// Strings (`string-array`).
    Strings(SrcValues),
    /// Codes (-1: missing) into categories.
    Categorical {
        codes: SrcValues,
        categories: Values,
    },
    /// Values and a mask (`true`: missing).
    Nullable { values: SrcValues, mask: SrcValues },
}

/// Integers of `values` (codes).
fn ints(values: Values, at: &str) -> Result<Vec<i64>> {
    match values {
        Values::Int(v) => Ok(v),
        Values::UInt(v) => v
            .into_iter()
            .map(|x| i64::try_from(x).map_err(|_| Error::invalid(format!("{at}: code {x}"))))
            .collect(),
        _ => Err(Error::invalid(format!("{at}: codes are not integers"))),
    }
}

fn bools(values: Values, at: &str) -> Result<Vec<bool>> {
    match values {
        Values::Bool(v) => Ok(v),
        Values::Int(v) => Ok(v.into_iter().map(|x| x != 0).collect()),
        Values::UInt(v) => Ok(v.into_iter().map(|x| x != 0).collect()),
        _ => Err(Error::invalid(format!("{at}: a mask is not bools"))),
    }
}

impl SrcColumn {
    /// A column read whole (from an older encoding), numbers stored as
    /// `dtype` when known.
    fn from_data(data: ColumnData, dtype: Option<Dtype>) -> SrcColumn {
        match data {
            ColumnData::Values(v @ Values::Str(_)) => {
                SrcColumn::Strings(SrcValues::memory(v, None))
            }
            ColumnData::Values(v) => SrcColumn::Numbers(SrcValues::memory(v, dtype)),
            ColumnData::Categorical {
                codes, categories, ..
            } => SrcColumn::Categorical {
                codes: SrcValues::memory(Values::Int(codes), None),
                categories,
            },
            ColumnData::Nullable { values, mask } => SrcColumn::Nullable {
                values: SrcValues::memory(values, dtype),
                mask: SrcValues::memory(Values::Bool(mask), None),
            },
        }
    }

    /// What it is, for messages.
    pub(super) fn describe(&self) -> String {
        match self {
            SrcColumn::Numbers(v) => format!("numbers ({})", v.dtype().numpy_str()),
            SrcColumn::Strings(_) => "strings".into(),
            SrcColumn::Categorical { .. } => "a categorical".into(),
            SrcColumn::Nullable { .. } if self.is_text() => "nullable strings".into(),
            SrcColumn::Nullable { values, .. } => {
                format!("nullable {}", values.dtype().numpy_str())
            }
        }
    }

    /// Rows.
    pub(super) fn len(&self) -> u64 {
        match self {
            SrcColumn::Numbers(v) | SrcColumn::Strings(v) => v.len(),
            SrcColumn::Categorical { codes, .. } => codes.len(),
            SrcColumn::Nullable { mask, .. } => mask.len(),
        }
    }

    /// Whether its values are text: strings, string categories, nullable
    /// strings.
    pub(super) fn is_text(&self) -> bool {
        let text = |d: &Dtype| matches!(d, Dtype::VarString { .. } | Dtype::FixedString { .. });
        match self {
            SrcColumn::Strings(_) => true,
            SrcColumn::Categorical { categories, .. } => matches!(categories, Values::Str(_)),
            SrcColumn::Nullable { values, .. } => text(values.dtype()),
            SrcColumn::Numbers(_) => false,
        }
    }

    /// The numbers of a plain or nullable numeric column.
    pub(super) fn numbers(&self) -> Option<&SrcValues> {
        match self {
            SrcColumn::Numbers(v) => Some(v),
            SrcColumn::Nullable { values, .. } if !self.is_text() => Some(values),
            _ => None,
        }
    }

    /// Codes of rows `start..start + count` (a categorical).
    pub(super) fn codes(&self, f: &File, start: u64, count: u64) -> Result<Vec<i64>> {
        match self {
            SrcColumn::Categorical { codes, .. } => ints(codes.values(f, start, count)?, "codes"),
            _ => Err(Error::invalid("not a categorical")),
        }
    }

    /// Which of rows `start..start + count` are missing.
    pub(super) fn mask(&self, f: &File, start: u64, count: u64) -> Result<Vec<bool>> {
        match self {
            SrcColumn::Nullable { mask, .. } => bools(mask.values(f, start, count)?, "mask"),
            SrcColumn::Categorical { .. } => Ok(self
                .codes(f, start, count)?
                .iter()
                .map(|&c| c < 0)
                .collect()),
            SrcColumn::Numbers(_) | SrcColumn::Strings(_) => Ok(vec![false; count as usize]),
        }
    }

    /// Whether a row is missing, scanning `block` rows at a time.
    pub(super) fn has_missing(&self, f: &File, block: u64) -> Result<bool> {
        if matches!(self, SrcColumn::Numbers(_) | SrcColumn::Strings(_)) {
            return Ok(false);
        }
        let n = self.len();
        let mut r = 0;
        while r < n {
            let k = block.max(1).min(n - r);
            if self.mask(f, r, k)?.contains(&true) {
                return Ok(true);
            }
            r += k;
        }
        Ok(false)
    }

    /// Every row as text, `None` where missing (read whole).
    pub(super) fn texts(&self, f: &File) -> Result<Vec<Option<String>>> {
        let strings = |v: Values| match v {
            Values::Str(s) => Ok(s),
            _ => Err(Error::invalid("expected strings")),
        };
        match self {
            SrcColumn::Strings(v) => Ok(strings(v.all(f)?)?.into_iter().map(Some).collect()),
            SrcColumn::Categorical {
                categories: Values::Str(cats),
                ..
            } => {
                let codes = self.codes(f, 0, self.len())?;
                codes
                    .iter()
                    .map(|&c| match usize::try_from(c) {
                        Ok(k) => cats.get(k).cloned().map(Some).ok_or_else(|| {
                            Error::invalid(format!(
                                "code {c} is out of range for {} categories",
                                cats.len()
                            ))
                        }),
                        Err(_) => Ok(None),
                    })
                    .collect()
            }
            SrcColumn::Nullable { values, .. } if self.is_text() => {
                let mask = self.mask(f, 0, self.len())?;
                Ok(strings(values.all(f)?)?
                    .into_iter()
                    .zip(mask)
                    .map(|(s, m)| (!m).then_some(s))
                    .collect())
            }
            _ => Err(Error::invalid(format!("{} are not text", self.describe()))),
        }
    }

    /// Bytes of its stored parts (for progress).
    pub(super) fn bytes(&self) -> u64 {
        match self {
            SrcColumn::Numbers(v) | SrcColumn::Strings(v) => v.bytes(),
            SrcColumn::Categorical { codes, .. } => codes.bytes(),
            SrcColumn::Nullable { values, mask } => values.bytes().saturating_add(mask.bytes()),
        }
    }
}

/// The dtype of field `name` of a record array (anndata ≤ 0.6).
fn field_dtype(f: &File, path: &str, name: &str) -> Option<Dtype> {
    match f.dataset(path).ok()?.dtype() {
        Dtype::Compound { fields, .. } => fields
            .iter()
            .find(|x| x.name == name)
            .map(|x| x.dtype.clone()),
        _ => None,
    }
}

/// Column `name` of the source frame `df` (`None`: its index).
pub(super) fn source_column(f: &File, df: &DataFrame, name: Option<&str>) -> Result<SrcColumn> {
    let Storage::Group { index } = &df.storage else {
        // anndata ≤ 0.6: a record array, read whole.
        return Ok(match name {
            None => SrcColumn::Strings(SrcValues::memory(Values::Str(df.index(f)?), None)),
            Some(n) => SrcColumn::from_data(df.column(f, n)?, field_dtype(f, df.path(), n)),
        });
    };
    let Some(name) = name else {
        let path = format!("{}/{index}", df.path());
        let v = SrcValues::dataset(f, &path)?;
        return Ok(match v.dtype() {
            Dtype::VarString { .. } | Dtype::FixedString { .. } => SrcColumn::Strings(v),
            _ => SrcColumn::Numbers(v),
        });
    };
    let at = format!("{}/{name}", df.path());
    let kind = df
        .columns()
        .iter()
        .find(|c| c.name == name)
        .map(|c| c.kind.clone())
        .ok_or_else(|| Error::invalid(format!("{} has no column {name:?}", df.path())))?;
    Ok(match kind {
        ColumnKind::Array => SrcColumn::Numbers(SrcValues::dataset(f, &at)?),
        ColumnKind::Strings => SrcColumn::Strings(SrcValues::dataset(f, &at)?),
        ColumnKind::Categorical => match f.get(&at)? {
            Node::Group(_) => SrcColumn::Categorical {
                codes: SrcValues::dataset(f, &format!("{at}/codes"))?,
                categories: f.dataset(&format!("{at}/categories"))?.values()?,
            },
            // anndata 0.7: categories behind a reference, read whole.
            _ => SrcColumn::from_data(df.column(f, name)?, None),
        },
        ColumnKind::Nullable => SrcColumn::Nullable {
            values: SrcValues::dataset(f, &format!("{at}/values"))?,
            mask: SrcValues::dataset(f, &format!("{at}/mask"))?,
        },
        ColumnKind::RecordField | ColumnKind::Other(_) => {
            SrcColumn::from_data(df.column(f, name)?, None)
        }
    })
}
