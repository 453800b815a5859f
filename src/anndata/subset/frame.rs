//! Rows of dataframe columns, with categories pruned as anndata prunes
//! `obs`/`var` of a view (`AnnData._remove_unused_categories`), and the
//! `uns['<column>_colors']` palettes that follow those categories.

use std::collections::BTreeMap;

use crate::anndata::ColumnData;
use crate::error::{Error, Result};
use crate::read::Values;

/// `values[idx]`, through [`ColumnData::take`].
fn take_values(values: &Values, idx: &[u64]) -> Result<Values> {
    match ColumnData::Values(values.clone()).take(idx)? {
        ColumnData::Values(v) => Ok(v),
        _ => Err(Error::invalid(
            "a column changed kind when its rows were taken",
        )),
    }
}

/// A categorical column of `obs`/`var` after its rows were taken loses
/// the categories no kept row uses (the others keep their order), as
/// pandas' `remove_unused_categories`; returns the positions of the
/// categories kept, which the column's palette follows. Other columns
/// pass through.
pub(crate) fn prune_categories(column: ColumnData) -> Result<(ColumnData, Option<Vec<usize>>)> {
    let ColumnData::Categorical {
        codes,
        categories,
        ordered,
    } = column
    else {
        return Ok((column, None));
    };
    let n_cat = categories.len();
    let mut used = vec![false; n_cat];
    for &c in &codes {
        if c >= 0 {
            *used.get_mut(c as usize).ok_or_else(|| {
                Error::invalid(format!(
                    "category code {c} is out of range for {n_cat} categories"
                ))
            })? = true;
        }
    }
    let kept: Vec<usize> = (0..n_cat).filter(|&k| used[k]).collect();
    let mut renumber = vec![-1i64; n_cat];
    for (new, &old) in kept.iter().enumerate() {
        renumber[old] = new as i64;
    }
    let codes = codes
        .into_iter()
        .map(|c| if c >= 0 { renumber[c as usize] } else { c })
        .collect();
    let picked: Vec<u64> = kept.iter().map(|&k| k as u64).collect();
    let categories = take_values(&categories, &picked)?;
    Ok((
        ColumnData::Categorical {
            codes,
            categories,
            ordered,
        },
        Some(kept),
    ))
}

/// A palette in `uns` as subsetting leaves it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Palette {
    /// These colors (1-D).
    Colors(Values),
    /// Removed: its length did not match the categories.
    Dropped,
}

/// What subsetting does to `uns['<column>_colors']`, applied in anndata's
/// order (obs's columns, then var's).
#[derive(Debug, Default)]
pub(crate) struct PaletteEdits {
    /// By `uns` key, the palette's current state.
    pub(crate) edits: BTreeMap<String, Palette>,
}

impl PaletteEdits {
    /// Column `column` had `n_categories` and kept `kept`; `stored` reads
    /// the palette as stored (its values and whether it is 0-d) when `uns`
    /// has one.
    pub(crate) fn apply(
        &mut self,
        column: &str,
        n_categories: usize,
        kept: &[usize],
        stored: impl FnOnce(&str) -> Result<Option<(Values, bool)>>,
    ) -> Result<()> {
        let key = format!("{column}_colors");
        let current = match self.edits.get(&key) {
            Some(Palette::Dropped) => return Ok(()),
            Some(Palette::Colors(v)) => (v.clone(), false),
            None => match stored(&key)? {
                Some(found) => found,
                None => return Ok(()),
            },
        };
        let (colors, scalar) = current;
        let next = if scalar {
            // A 0-d palette becomes 1-d, not subset.
            Palette::Colors(colors)
        } else if colors.len() != n_categories {
            Palette::Dropped
        } else {
            let idx: Vec<u64> = kept.iter().map(|&k| k as u64).collect();
            Palette::Colors(take_values(&colors, &idx)?)
        };
        self.edits.insert(key, next);
        Ok(())
    }
}
