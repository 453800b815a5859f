//! Appending to a categorical column: the source's values found among the
//! target's categories, new ones added at the end (so every existing code
//! stays valid), the codes widened where the categories outgrow them.

use std::collections::HashMap;

use super::frame::{CodeMap, ColumnPlan};
use super::grow::Growth;
use super::source::SrcColumn;
use crate::anndata::write::{codes_width, natural_cmp};
use crate::error::{Error, Result};
use crate::read::{ByteOrder, Dtype, File, Values};
/// Plans a categorical: where each source value goes among the
/// categories, the categories added, the codes' type.
#[allow(clippy::too_many_arguments)]
pub(super) fn plan_categorical(
    t: &File,
    s: &File,
    at: &str,
    path: &str,
    ordered: bool,
    source: &SrcColumn,
    n_old: u64,
    n_new: u64,
) -> Result<ColumnPlan> {
    let cats_path = format!("{path}/categories");
    let cats_ds = t.dataset(&cats_path)?;
    let old = cats_ds.values()?;
    let old_keys = keys(&old, at)?;
    let mut position: HashMap<Key, i64> = HashMap::with_capacity(old_keys.len());
    for (k, key) in old_keys.iter().enumerate() {
        position.entry(key.clone()).or_insert(k as i64);
    }
    let mut added: Vec<Key> = Vec::new();
    let check_kind = |key: &Key| -> Result<()> {
        match old_keys.first() {
            Some(first) if !same_kind(first, key) => Err(Error::invalid(format!(
                "{at}: the target's categories are like {first}, the source has {key}"
            ))),
            _ => Ok(()),
        }
    };
    let map = match source {
        SrcColumn::Categorical { categories, .. } => {
            let mut map = Vec::with_capacity(categories.len());
            for key in keys(categories, at)? {
                check_kind(&key)?;
                let next = (old_keys.len() + added.len()) as i64;
                let code = *position.entry(key.clone()).or_insert_with(|| {
                    added.push(key);
                    next
                });
                map.push(code);
            }
            CodeMap::Codes(map)
        }
        _ if source.is_text() => {
            let texts = source.texts(s)?;
            let mut new: Vec<&str> = texts
                .iter()
                .flatten()
                .map(String::as_str)
                .filter(|v| !position.contains_key(&Key::Str(v.to_string())))
                .collect();
            new.sort_unstable();
            new.dedup();
            new.sort_by(|a, b| natural_cmp(a, b));
            for v in new {
                let key = Key::Str(v.to_string());
                check_kind(&key)?;
                added.push(key);
            }
            let mut all = match &old {
                Values::Str(v) => v.clone(),
                _ if old.is_empty() => Vec::new(),
                _ => {
                    return Err(Error::invalid(format!(
                        "{at}: the target's categories are not strings, the source holds strings"
                    )))
                }
            };
            all.extend(added.iter().filter_map(|k| match k {
                Key::Str(s) => Some(s.clone()),
                _ => None,
            }));
            CodeMap::Texts(all)
        }
        other => {
            return Err(Error::invalid(format!(
                "{at}: the target's is a categorical, the source's {}",
                other.describe()
            )))
        }
    };
    if ordered && !added.is_empty() {
        let shown: Vec<String> = added.iter().take(5).map(Key::to_string).collect();
        return Err(Error::invalid(format!(
            "{at}: the target's categorical is ordered and the source brings categories it \
             lacks ({}), which have no place in its order",
            shown.join(", ")
        )));
    }
    let n_final = old_keys.len() + added.len();
    let codes_ds = t.dataset(&format!("{path}/codes"))?;
    let width = match codes_ds.dtype() {
        Dtype::Int { size, .. } => (*size).max(codes_width(n_final)),
        other => {
            return Err(Error::invalid(format!(
                "{at}: codes of type {}",
                other.numpy_str()
            )))
        }
    };
    let codes_dtype = Dtype::Int {
        size: width,
        signed: true,
        order: ByteOrder::Little,
    };
    let codes = Growth::plan(&codes_ds, n_old, n_new, codes_dtype, Vec::new())?;
    let categories = if added.is_empty() {
        None
    } else {
        let mut all = old_keys;
        all.extend(added);
        let like = if old.is_empty() {
            match source {
                SrcColumn::Categorical { categories, .. } => categories.clone(),
                _ => Values::Str(Vec::new()),
            }
        } else {
            old
        };
        let dtype = match (cats_ds.dtype(), &like) {
            // An empty categorical may have been stored with a placeholder type.
            (_, Values::Str(_)) if !matches!(cats_ds.dtype(), Dtype::FixedString { .. }) => {
                crate::anndata::write::vlen_str()
            }
            (d, _) => d.clone(),
        };
        Some((cats_path, dtype, values_of(&all, &like, at)?))
    };
    Ok(ColumnPlan::Categorical {
        codes,
        map,
        categories,
    })
}

/// A category, comparable whatever its stored type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Str(String),
    Int(i128),
    Float(u64),
    Bool(bool),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Str(s) => write!(f, "{s:?}"),
            Key::Int(i) => write!(f, "{i}"),
            Key::Float(b) => write!(f, "{}", f64::from_bits(*b)),
            Key::Bool(b) => write!(f, "{b}"),
        }
    }
}

fn keys(v: &Values, at: &str) -> Result<Vec<Key>> {
    Ok(match v {
        Values::Str(s) => s.iter().cloned().map(Key::Str).collect(),
        Values::Int(x) => x.iter().map(|&i| Key::Int(i128::from(i))).collect(),
        Values::UInt(x) => x.iter().map(|&i| Key::Int(i128::from(i))).collect(),
        Values::Float(x) => x.iter().map(|f| Key::Float(f.to_bits())).collect(),
        Values::Bool(x) => x.iter().map(|&b| Key::Bool(b)).collect(),
        Values::Nested(_) => {
            return Err(Error::unsupported(format!(
                "{at}: categories of structured values"
            )))
        }
    })
}

/// `keys` as values of the same kind as `like`.
fn values_of(keys: &[Key], like: &Values, at: &str) -> Result<Values> {
    let bad = || Error::invalid(format!("{at}: categories of different kinds"));
    macro_rules! collect {
        ($variant:ident, $pat:pat => $e:expr) => {
            Values::$variant(
                keys.iter()
                    .map(|k| match k {
                        $pat => Ok($e),
                        _ => Err(bad()),
                    })
                    .collect::<Result<_>>()?,
            )
        };
    }
    Ok(match like {
        Values::Str(_) => collect!(Str, Key::Str(s) => s.clone()),
        Values::Int(_) => collect!(Int, Key::Int(i) => i64::try_from(*i).map_err(|_| bad())?),
        Values::UInt(_) => collect!(UInt, Key::Int(i) => u64::try_from(*i).map_err(|_| bad())?),
        Values::Float(_) => collect!(Float, Key::Float(b) => f64::from_bits(*b)),
        Values::Bool(_) => collect!(Bool, Key::Bool(b) => *b),
        Values::Nested(_) => return Err(bad()),
    })
}

fn same_kind(a: &Key, b: &Key) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}
