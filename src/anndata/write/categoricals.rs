//! What anndata's `write_h5ad` does to string columns before writing
//! (`AnnData.strings_to_categoricals`), and natsort's natural order, which
//! their categories (and the categories concat merges) are sorted in.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::anndata::{ColumnData, DataFrameData};
use crate::read::Values;

impl DataFrameData {
    /// Turns every column of strings with fewer distinct values than rows
    /// into an unordered categorical, as anndata's `write_h5ad` does to
    /// `obs`, `var` and `raw.var`: categories in natural order (natsort's:
    /// digit runs compare as numbers; names equal that way keep code-point
    /// order). A nullable string column (pandas' string dtype) is converted
    /// the same way; its masked rows are missing values, code -1, not a
    /// category. Other columns are left as they are.
    ///
    /// ```
    /// use h5sparse::anndata::{ColumnData, DataFrameData};
    /// use h5sparse::read::Values;
    /// let mut df = DataFrameData::with_index((0..4).map(|i| i.to_string()).collect());
    /// let s = |v: &[&str]| Values::Str(v.iter().map(|x| x.to_string()).collect());
    /// df.columns.push(("cluster".into(), ColumnData::Values(s(&["c10", "c9", "c10", "c9"]))));
    /// df.columns.push(("barcode".into(), ColumnData::Values(s(&["a", "b", "c", "d"]))));
    /// df.strings_to_categoricals();
    /// assert_eq!(df.columns[0].1, ColumnData::Categorical {
    ///     codes: vec![1, 0, 1, 0],
    ///     categories: s(&["c9", "c10"]),           // natural order: 9 before 10
    ///     ordered: false,
    /// });
    /// assert_eq!(df.columns[1].1, ColumnData::Values(s(&["a", "b", "c", "d"])));  // all distinct
    /// ```
    pub fn strings_to_categoricals(&mut self) {
        for (_, column) in &mut self.columns {
            let categorical = match &*column {
                ColumnData::Values(Values::Str(s)) => categorize(s, |_| true),
                ColumnData::Nullable {
                    values: Values::Str(s),
                    mask,
                } if mask.len() == s.len() => categorize(s, |k| !mask[k]),
                _ => None,
            };
            if let Some(c) = categorical {
                *column = c;
            }
        }
    }
}

/// Strings, `None` where missing (pandas' object column with NaN), as
/// `write_h5ad` stores them: a categorical when there are fewer distinct
/// strings than rows (always, when one is missing), else the strings.
pub(crate) fn strings_column(values: Vec<Option<String>>) -> ColumnData {
    let present: Vec<bool> = values.iter().map(Option::is_some).collect();
    let strings: Vec<String> = values.into_iter().map(Option::unwrap_or_default).collect();
    categorize(&strings, |k| present[k]).unwrap_or(ColumnData::Values(Values::Str(strings)))
}

/// The categorical `strings_to_categoricals` makes of `strings` (rows
/// where `present` is false are missing), or `None` when every present
/// value is distinct and there is none missing.
fn categorize(strings: &[String], present: impl Fn(usize) -> bool) -> Option<ColumnData> {
    let mut categories: Vec<&str> = strings
        .iter()
        .enumerate()
        .filter(|&(k, _)| present(k))
        .map(|(_, s)| s.as_str())
        .collect();
    categories.sort_unstable();
    categories.dedup();
    if categories.len() >= strings.len() {
        return None;
    }
    // Stable: names equal in natural order keep their code-point order.
    categories.sort_by_cached_key(|s| natural_key(s));
    let position: HashMap<&str, i64> = categories
        .iter()
        .enumerate()
        .map(|(k, &c)| (c, k as i64))
        .collect();
    let codes = strings
        .iter()
        .enumerate()
        .map(|(k, s)| if present(k) { position[s.as_str()] } else { -1 })
        .collect();
    let categories = categories.into_iter().map(str::to_string).collect();
    Some(ColumnData::Categorical {
        codes,
        categories: Values::Str(categories),
        ordered: false,
    })
}

/// One piece of a natural-sort key. Keys alternate text and number from
/// the same start, so pieces at the same position are of the same kind.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Piece<'s> {
    /// Text between digit runs.
    Text(&'s str),
    /// A run of ASCII digits, by value: (length without leading zeros,
    /// those digits).
    Number(usize, &'s str),
}

/// natsort's key of `s`: text and numbers alternating, starting with text
/// (an empty one when `s` starts with a digit).
pub(crate) fn natural_key(s: &str) -> Vec<Piece<'_>> {
    let mut key = Vec::new();
    if s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        key.push(Piece::Text(""));
    }
    let mut rest = s;
    while let Some(first) = rest.as_bytes().first() {
        let digits = first.is_ascii_digit();
        let end = rest
            .bytes()
            .position(|b| b.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (head, tail) = rest.split_at(end);
        key.push(if digits {
            let n = head.trim_start_matches('0');
            Piece::Number(n.len(), n)
        } else {
            Piece::Text(head)
        });
        rest = tail;
    }
    key
}

/// natsort's default order for strings: digit runs compare as numbers,
/// the rest as text.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    natural_key(a).cmp(&natural_key(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn natural_order() {
        let mut v = s(&[
            "a10", "a2", "B", "10", "9", "a", "a02x", "", "x1y2", "x1y10",
        ]);
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            s(&["", "9", "10", "B", "a", "a2", "a02x", "a10", "x1y2", "x1y10"])
        );
    }

    #[test]
    fn missing_values_are_no_category() {
        let c = strings_column(vec![Some("b".into()), None, Some("a".into())]);
        assert_eq!(
            c,
            ColumnData::Categorical {
                codes: vec![1, -1, 0],
                categories: Values::Str(s(&["a", "b"])),
                ordered: false
            }
        );
        let distinct = strings_column(vec![Some("b".into()), Some("a".into())]);
        assert_eq!(distinct, ColumnData::Values(Values::Str(s(&["b", "a"]))));
    }
}
