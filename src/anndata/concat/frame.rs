//! Rows of dataframes stacked as `pd.concat(..., join=...)` stacks them
//! after anndata's `unify_dtypes`, then written as `write_h5ad` writes
//! them (`strings_to_categoricals`).
//!
//! Per column, over the inputs holding it (inputs lacking it count as
//! missing rows in an outer join):
//! * categoricals everywhere: one categorical whose categories are the
//!   union, natural-sorted (unordered); ordered ones keep their categories
//!   when every non-empty one has the same; otherwise the values become
//!   strings;
//! * bools: bool, or pandas' nullable boolean when rows are missing;
//! * numbers: numpy's common type; missing rows make integers float64 NaN
//!   (floats keep their width);
//! * nullable integers, bools or strings (alone or with their plain
//!   kind): nullable, masked where missing;
//! * strings (or strings and categoricals): strings, and missing rows are
//!   NaN. Before writing, a string column with fewer distinct values than
//!   rows (always the case with a NaN) becomes a categorical with
//!   natural-sorted categories.

use std::collections::HashMap;

use super::dtype::{result_type, with_nan};
use super::index::union;
use super::Join;
use crate::anndata::write::{natural_cmp, strings_column};
use crate::anndata::{ColumnData, DataFrameData};
use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dtype, Values};

/// The rows of `frames` stacked, columns joined by `join`; the index is
/// the inputs' indexes one after the other, its name theirs when they all
/// agree.
pub(crate) fn concat_frames(frames: &[DataFrameData], join: Join) -> Result<DataFrameData> {
    let names: Vec<String> = match join {
        Join::Inner => match frames.first() {
            Some(first) => first
                .columns
                .iter()
                .map(|(n, _)| n.clone())
                .filter(|n| frames.iter().all(|f| f.column(n).is_some()))
                .collect(),
            None => Vec::new(),
        },
        Join::Outer => {
            let mut names: Vec<String> = Vec::new();
            for f in frames {
                for (n, _) in &f.columns {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
            names
        }
    };
    let total: usize = frames.iter().map(DataFrameData::len).sum();
    let mut index = crate::buf::try_with_capacity(total, "the concatenated index")?;
    for f in frames {
        index.extend(f.index.iter().cloned());
    }
    let index_name = match frames.first() {
        Some(f) if frames.iter().all(|g| g.index_name == f.index_name) => f.index_name.clone(),
        _ => "_index".to_string(),
    };
    let mut out = DataFrameData {
        index_name,
        index,
        ..Default::default()
    };
    for name in names {
        let parts: Vec<Part<'_>> = frames
            .iter()
            .map(|f| Part {
                column: f.column(&name),
                dtype: f.dtypes.get(&name),
                len: f.len(),
            })
            .collect();
        let (column, dtype) = concat_column(&parts).map_err(|e| e.context(&name))?;
        if let Some(d) = dtype {
            out.dtypes.insert(name.clone(), d);
        }
        out.columns.push((name, column));
    }
    Ok(out)
}

/// One input's share of a column: its values (`None`: the input lacks the
/// column), their stored dtype, its row count.
struct Part<'a> {
    column: Option<&'a ColumnData>,
    dtype: Option<&'a Dtype>,
    len: usize,
}

/// The dtype numbers of `values` are stored in: `stored`, else the widest
/// of their kind (what the writer picks for them).
fn number_dtype(values: &Values, stored: Option<&Dtype>) -> Option<Dtype> {
    let order = ByteOrder::Little;
    match (values, stored) {
        (_, Some(d @ (Dtype::Int { .. } | Dtype::Float { .. } | Dtype::Bool))) => Some(d.clone()),
        (Values::Int(_), _) => Some(Dtype::Int {
            size: 8,
            signed: true,
            order,
        }),
        (Values::UInt(_), _) => Some(Dtype::Int {
            size: 8,
            signed: false,
            order,
        }),
        (Values::Float(_), _) => Some(Dtype::Float { size: 8, order }),
        (Values::Bool(_), _) => Some(Dtype::Bool),
        _ => None,
    }
}

fn concat_column(parts: &[Part<'_>]) -> Result<(ColumnData, Option<Dtype>)> {
    let present: Vec<&ColumnData> = parts.iter().filter_map(|p| p.column).collect();
    let missing = present.len() < parts.len();
    let all = |f: fn(&ColumnData) -> bool| present.iter().all(|c| f(c));
    let is_cat = |c: &ColumnData| matches!(c, ColumnData::Categorical { .. });
    let is_str = |c: &ColumnData| {
        matches!(
            c,
            ColumnData::Values(Values::Str(_))
                | ColumnData::Nullable {
                    values: Values::Str(_),
                    ..
                }
                | ColumnData::Categorical {
                    categories: Values::Str(_),
                    ..
                }
        )
    };
    if all(is_cat) {
        if let Some(done) = categorical(parts)? {
            return Ok(done);
        }
        return Ok((objects(parts)?, None));
    }
    if all(|c| matches!(c, ColumnData::Values(Values::Bool(_)))) {
        let mut values = Vec::new();
        let mut mask = Vec::new();
        for p in parts {
            match p.column {
                Some(ColumnData::Values(Values::Bool(v))) => {
                    values.extend_from_slice(v);
                    mask.extend(std::iter::repeat_n(false, v.len()));
                }
                _ => {
                    values.extend(std::iter::repeat_n(false, p.len));
                    mask.extend(std::iter::repeat_n(true, p.len));
                }
            }
        }
        return Ok(if missing {
            (
                ColumnData::Nullable {
                    values: Values::Bool(values),
                    mask,
                },
                None,
            )
        } else {
            (ColumnData::Values(Values::Bool(values)), None)
        });
    }
    let numeric = |c: &ColumnData| {
        matches!(
            c,
            ColumnData::Values(Values::Int(_) | Values::UInt(_) | Values::Float(_))
        )
    };
    if all(numeric) {
        return numbers(parts, missing);
    }
    let nullable_or = |c: &ColumnData| {
        matches!(
            c,
            ColumnData::Nullable { .. }
                | ColumnData::Values(Values::Int(_) | Values::UInt(_) | Values::Bool(_))
        )
    };
    let nullable_str = |c: &ColumnData| {
        matches!(
            c,
            ColumnData::Nullable {
                values: Values::Str(_),
                ..
            }
        )
    };
    // pandas' string dtype stays only among string-dtype columns; with
    // plain strings or categoricals it becomes an object column.
    if all(nullable_str)
        || (present
            .iter()
            .any(|c| matches!(c, ColumnData::Nullable { .. }))
            && !present.iter().any(|c| nullable_str(c))
            && all(nullable_or))
    {
        return nullable(parts);
    }
    if all(is_str) {
        return Ok((objects(parts)?, None));
    }
    Err(Error::unsupported(
        "concatenating a column whose kinds differ between inputs (pandas makes it an object column)",
    ))
}

/// A category value as a key: strings as they are, numbers by their bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CatKey {
    Str(String),
    Num(u64),
}

fn cat_keys(v: &Values) -> Result<Vec<CatKey>> {
    Ok(match v {
        Values::Str(s) => s.iter().cloned().map(CatKey::Str).collect(),
        Values::Int(x) => x
            .iter()
            .map(|&i| CatKey::Num((i as f64).to_bits()))
            .collect(),
        Values::UInt(x) => x
            .iter()
            .map(|&i| CatKey::Num((i as f64).to_bits()))
            .collect(),
        Values::Float(x) => x.iter().map(|f| CatKey::Num(f.to_bits())).collect(),
        _ => {
            return Err(Error::unsupported(
                "categories that are neither strings nor numbers",
            ))
        }
    })
}

/// Categoricals merged as `unify_dtypes` merges them; `None` when pandas
/// would fall back to objects.
fn categorical(parts: &[Part<'_>]) -> Result<Option<(ColumnData, Option<Dtype>)>> {
    let cats: Vec<(&Values, bool)> = parts
        .iter()
        .filter_map(|p| match p.column {
            Some(ColumnData::Categorical {
                categories,
                ordered,
                ..
            }) => Some((categories, *ordered)),
            _ => None,
        })
        .collect();
    let strings = cats.iter().all(|(c, _)| matches!(c, Values::Str(_)));
    let numbers = cats
        .iter()
        .all(|(c, _)| matches!(c, Values::Int(_) | Values::UInt(_) | Values::Float(_)));
    if !strings && !numbers {
        return Err(Error::unsupported(
            "merging categories of different kinds (strings and numbers)",
        ));
    }
    let ordered_any = cats.iter().any(|(_, o)| *o);
    // The union of every input's categories, in pandas' order.
    let merged: Values = if strings {
        let mut all: Option<Vec<String>> = None;
        for (c, _) in &cats {
            if let Values::Str(s) = c {
                all = Some(match all {
                    None => s.clone(),
                    Some(a) => union(&a, s),
                });
            }
        }
        let all = all.unwrap_or_default();
        Values::Str(all)
    } else {
        let mut all: Vec<f64> = Vec::new();
        let mut ints = true;
        for (c, _) in &cats {
            match c {
                Values::Int(x) => all.extend(x.iter().map(|&i| i as f64)),
                Values::UInt(x) => all.extend(x.iter().map(|&i| i as f64)),
                Values::Float(x) => {
                    ints = false;
                    all.extend_from_slice(x);
                }
                _ => {}
            }
        }
        all.sort_by(f64::total_cmp);
        all.dedup();
        if ints {
            Values::Int(all.iter().map(|&f| f as i64).collect())
        } else {
            Values::Float(all)
        }
    };
    let categories = if !ordered_any {
        // pandas' `astype` to the merged dtype changes nothing when the
        // categories are the same set (unordered dtypes compare as sets),
        // and `concat` then keeps the first input's dtype.
        let first = cats.first().map(|(c, _)| cat_keys(c)).transpose()?;
        let merged_keys = cat_keys(&merged)?;
        let same_set = first.as_ref().is_some_and(|f| {
            let a: std::collections::HashSet<&CatKey> = f.iter().collect();
            let b: std::collections::HashSet<&CatKey> = merged_keys.iter().collect();
            a == b
        });
        match merged {
            _ if same_set => cats[0].0.clone(),
            Values::Str(mut s) => {
                s.sort_by(|a, b| natural_cmp(a, b));
                Values::Str(s)
            }
            other => other,
        }
    } else {
        let merged_keys = cat_keys(&merged)?;
        let non_empty: Vec<&(&Values, bool)> = cats.iter().filter(|(c, _)| !c.is_empty()).collect();
        let same = !non_empty.is_empty()
            && non_empty
                .iter()
                .all(|(c, o)| *o && cat_keys(c).is_ok_and(|k| k == merged_keys));
        if !same {
            return Ok(None);
        }
        non_empty[0].0.clone()
    };
    let keys = cat_keys(&categories)?;
    let position: HashMap<&CatKey, i64> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k, i as i64))
        .collect();
    let mut codes = Vec::new();
    for p in parts {
        match p.column {
            Some(ColumnData::Categorical {
                codes: c,
                categories: own,
                ..
            }) => {
                let own = cat_keys(own)?;
                let map: Vec<i64> = own
                    .iter()
                    .map(|k| position.get(k).copied().unwrap_or(-1))
                    .collect();
                for &x in c {
                    codes.push(if x < 0 {
                        -1
                    } else {
                        map.get(x as usize).copied().unwrap_or(-1)
                    });
                }
            }
            _ => codes.extend(std::iter::repeat_n(-1, p.len)),
        }
    }
    let dtype = if numbers {
        let ds: Vec<Dtype> = parts.iter().filter_map(|p| p.dtype.cloned()).collect();
        if ds.is_empty() {
            None
        } else {
            Some(result_type(&ds, "categories")?)
        }
    } else {
        None
    };
    Ok(Some((
        ColumnData::Categorical {
            codes,
            categories,
            ordered: ordered_any,
        },
        dtype,
    )))
}

/// A column of numbers in numpy's common type; missing rows NaN.
fn numbers(parts: &[Part<'_>], missing: bool) -> Result<(ColumnData, Option<Dtype>)> {
    let dtypes: Vec<Dtype> = parts
        .iter()
        .filter_map(|p| match p.column {
            Some(ColumnData::Values(v)) => number_dtype(v, p.dtype),
            _ => None,
        })
        .collect();
    let mut dtype = result_type(&dtypes, "column")?;
    if missing {
        dtype = with_nan(&dtype, "column")?;
    }
    let n: usize = parts.iter().map(|p| p.len).sum();
    let values = match &dtype {
        Dtype::Float { .. } => {
            let mut out = crate::buf::try_with_capacity(n, "a concatenated column")?;
            for p in parts {
                match p.column {
                    Some(ColumnData::Values(Values::Int(v))) => {
                        out.extend(v.iter().map(|&x| x as f64))
                    }
                    Some(ColumnData::Values(Values::UInt(v))) => {
                        out.extend(v.iter().map(|&x| x as f64))
                    }
                    Some(ColumnData::Values(Values::Float(v))) => out.extend_from_slice(v),
                    _ => out.extend(std::iter::repeat_n(f64::NAN, p.len)),
                }
            }
            Values::Float(out)
        }
        Dtype::Int { signed: false, .. } => {
            let mut out = crate::buf::try_with_capacity(n, "a concatenated column")?;
            for p in parts {
                if let Some(ColumnData::Values(Values::UInt(v))) = p.column {
                    out.extend_from_slice(v);
                } else if let Some(ColumnData::Values(Values::Int(v))) = p.column {
                    out.extend(v.iter().map(|&x| x as u64));
                }
            }
            Values::UInt(out)
        }
        _ => {
            let mut out = crate::buf::try_with_capacity(n, "a concatenated column")?;
            for p in parts {
                match p.column {
                    Some(ColumnData::Values(Values::Int(v))) => out.extend_from_slice(v),
                    Some(ColumnData::Values(Values::UInt(v))) => {
                        out.extend(v.iter().map(|&x| x as i64))
                    }
                    _ => {}
                }
            }
            Values::Int(out)
        }
    };
    Ok((ColumnData::Values(values), Some(dtype)))
}

/// Nullable integers, bools or strings (with plain ones of the same kind):
/// masked where missing.
fn nullable(parts: &[Part<'_>]) -> Result<(ColumnData, Option<Dtype>)> {
    let n: usize = parts.iter().map(|p| p.len).sum();
    let mut mask: Vec<bool> = crate::buf::try_with_capacity(n, "a concatenated mask")?;
    let mut dtypes: Vec<Dtype> = Vec::new();
    let kind_of = |v: &Values| match v {
        Values::Int(_) | Values::UInt(_) => Some(0),
        Values::Bool(_) => Some(1),
        Values::Str(_) => Some(2),
        _ => None,
    };
    let mut kind: Option<usize> = None;
    for p in parts {
        let (values, m) = match p.column {
            Some(ColumnData::Nullable { values, mask }) => (values, Some(mask)),
            Some(ColumnData::Values(v)) => (v, None),
            _ => {
                mask.extend(std::iter::repeat_n(true, p.len));
                continue;
            }
        };
        let k =
            kind_of(values).ok_or_else(|| Error::unsupported("a nullable column of this kind"))?;
        if kind.is_some_and(|x| x != k) {
            return Err(Error::unsupported(
                "concatenating nullable columns of different kinds",
            ));
        }
        kind = Some(k);
        if k == 0 {
            dtypes.extend(number_dtype(values, p.dtype));
        }
        match m {
            Some(m) => mask.extend_from_slice(m),
            None => mask.extend(std::iter::repeat_n(false, p.len)),
        }
    }
    let values = match kind {
        Some(0) => {
            let mut out: Vec<i64> = crate::buf::try_with_capacity(n, "a concatenated column")?;
            for p in parts {
                match p.column.map(|c| match c {
                    ColumnData::Nullable { values, .. } | ColumnData::Values(values) => values,
                    ColumnData::Categorical { categories, .. } => categories,
                }) {
                    Some(Values::Int(v)) => out.extend_from_slice(v),
                    Some(Values::UInt(v)) => out.extend(v.iter().map(|&x| x as i64)),
                    _ => out.extend(std::iter::repeat_n(0, p.len)),
                }
            }
            Values::Int(out)
        }
        Some(1) => {
            let mut out: Vec<bool> = crate::buf::try_with_capacity(n, "a concatenated column")?;
            for p in parts {
                match p.column {
                    Some(ColumnData::Nullable {
                        values: Values::Bool(v),
                        ..
                    })
                    | Some(ColumnData::Values(Values::Bool(v))) => out.extend_from_slice(v),
                    _ => out.extend(std::iter::repeat_n(false, p.len)),
                }
            }
            Values::Bool(out)
        }
        _ => {
            let mut out: Vec<String> = crate::buf::try_with_capacity(n, "a concatenated column")?;
            for p in parts {
                match p.column {
                    Some(ColumnData::Nullable {
                        values: Values::Str(v),
                        ..
                    })
                    | Some(ColumnData::Values(Values::Str(v))) => out.extend(v.iter().cloned()),
                    _ => out.extend(std::iter::repeat_n(String::new(), p.len)),
                }
            }
            Values::Str(out)
        }
    };
    let dtype = if dtypes.is_empty() {
        None
    } else {
        Some(result_type(&dtypes, "column")?)
    };
    Ok((ColumnData::Nullable { values, mask }, dtype))
}

/// Strings with NaN where missing (pandas' object column), as categories
/// when `strings_to_categoricals` would make them so.
fn objects(parts: &[Part<'_>]) -> Result<ColumnData> {
    let mut values: Vec<Option<String>> = Vec::new();
    for p in parts {
        match p.column {
            Some(ColumnData::Values(Values::Str(v))) => values.extend(v.iter().cloned().map(Some)),
            Some(ColumnData::Nullable {
                values: Values::Str(v),
                mask,
            }) => values.extend(v.iter().zip(mask).map(|(s, &m)| (!m).then(|| s.clone()))),
            Some(ColumnData::Categorical {
                codes,
                categories: Values::Str(cats),
                ..
            }) => values.extend(
                codes
                    .iter()
                    .map(|&c| usize::try_from(c).ok().and_then(|c| cats.get(c)).cloned()),
            ),
            Some(_) => {
                return Err(Error::unsupported(
                    "a column mixing strings and other kinds",
                ))
            }
            None => values.extend(std::iter::repeat_n(None, p.len)),
        }
    }
    Ok(strings_column(values))
}
