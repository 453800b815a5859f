//! Dataframes that grow with the cells: `obs` and the dataframes of
//! `obsm`. Every column gets the source's rows, its index too:
//!
//! * numbers and bools: converted to the column's type when that holds
//!   them without loss, else the column widens to numpy's common type (as
//!   `pd.concat` makes it); bools and numbers do not mix;
//! * strings (the index, `string-array` columns, nullable strings'
//!   values): appended in place when the dataset is chunked and growable
//!   (new global heap collections hold the new strings, the old ones keep
//!   every byte); a contiguous one (as anndata writes them) is rewritten
//!   once, old values then new, as a chunked growable dataset, so the next
//!   append is in place;
//! * categoricals: the source's values are looked up among the
//!   categories; new ones extend the categories array at its end (in the
//!   source's order, or naturally sorted when the source holds plain
//!   strings), so every existing code stays valid; the codes widen when
//!   the categories outgrow them (int8 below 127 categories, as pandas);
//!   an ordered categorical accepts no new category;
//! * nullable integers, booleans and strings: values and mask, a source
//!   without a mask counting as nothing missing.
//!
//! A source column may be stored differently from the target's as long
//! as its values fit: anndata writes strings with repeats as a categorical
//! and unique ones as strings, so either goes into either.

use std::collections::HashMap;

use super::categorical::plan_categorical;
use super::grow::{little, rewrite_whole, Grower, Growth, Old, Reads};
use super::matrix::lossless;
use super::source::{source_column, SrcColumn, SrcValues};
use crate::anndata::concat::dtype::{result_type, Converter};
use crate::anndata::dataframe::Storage;
use crate::anndata::{ColumnKind, DataFrame};
use crate::error::{Error, Result};
use crate::read::{Dtype, File, LayoutKind, Node, Values};
use crate::write::{guess_chunks, Backing, DatasetOptions, Writer};

/// How the source's codes become the target's.
#[derive(Debug, Clone)]
pub(super) enum CodeMap {
    /// By source code: the target's code.
    Codes(Vec<i64>),
    /// Text looked up among these (the final) categories.
    Texts(Vec<String>),
}

/// What one column of the target becomes.
#[derive(Debug, Clone)]
pub(super) enum ColumnPlan {
    Numbers {
        growth: Growth,
    },
    Strings(StringsPlan),
    Categorical {
        codes: Growth,
        map: CodeMap,
        /// The categories dataset rewritten with new ones at its end.
        categories: Option<(String, Dtype, Values)>,
    },
    NullableNumbers {
        values: Growth,
        mask: Growth,
    },
    NullableStrings {
        values: StringsPlan,
        mask: Growth,
    },
}

/// A string dataset to grow (the index, a `string-array` column, a
/// nullable string column's values).
#[derive(Debug, Clone)]
pub(super) struct StringsPlan {
    path: String,
    dtype: Dtype,
    /// Rows it holds now (more than the frame's after an interrupted
    /// append: those are cut off first).
    len: u64,
    /// Chunked with room to grow: the new strings are appended; else the
    /// dataset is rewritten whole, chunked and growable.
    in_place: bool,
}

impl StringsPlan {
    /// Plans growing the string dataset at `path` of `t` from `n_old` to
    /// `n_old + n_new` rows.
    fn plan(t: &File, path: &str, n_old: u64, n_new: u64) -> Result<StringsPlan> {
        let ds = t.dataset(path)?;
        let len = match ds.shape() {
            Some([n]) => *n,
            _ => {
                return Err(Error::invalid(format!(
                    "{path}: strings of a dataframe must be one-dimensional"
                )))
            }
        };
        let total = n_old
            .checked_add(n_new)
            .ok_or_else(|| Error::invalid(format!("{path}: its length overflows")))?;
        let room = ds
            .maxshape()
            .and_then(|m| m.first().copied())
            .is_some_and(|m| m.is_none_or(|m| m >= total));
        let in_place = ds.layout() == LayoutKind::Chunked && room && len >= n_old;
        Ok(StringsPlan {
            path: path.to_string(),
            dtype: ds.dtype().clone(),
            len,
            in_place,
        })
    }

    /// Appends `texts` (missing ones as empty strings) after the first
    /// `n_old` rows: in place, or by rewriting the dataset whole.
    fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        old: &Old<'_>,
        n_old: u64,
        texts: Vec<Option<String>>,
    ) -> Result<()> {
        let new = Values::Str(texts.into_iter().map(Option::unwrap_or_default).collect());
        let path = &self.path;
        if self.in_place {
            if self.len != n_old {
                w.resize(path, &[n_old])?;
            }
            return w.append_values(path, &new);
        }
        let mut all = match old.dataset(path)?.values()? {
            Values::Str(v) => v,
            _ => return Err(Error::invalid(format!("{path}: expected strings"))),
        };
        all.truncate(usize::try_from(n_old).unwrap_or(usize::MAX));
        if let Values::Str(new) = new {
            all.extend(new);
        }
        let all = Values::Str(all);
        let chunks = guess_chunks(&[all.len().max(1) as u64], self.dtype.size());
        let opts = DatasetOptions::growable().chunks(&chunks);
        rewrite_whole(w, old, path, &self.dtype, &all, &opts)
    }
}

/// One column (or the index) to grow.
#[derive(Debug, Clone)]
struct ColumnStep {
    at: String,
    source: SrcColumn,
    plan: ColumnPlan,
    old_rows: u64,
}

/// A dataframe to grow: its index, then its columns.
#[derive(Debug, Clone)]
pub(super) struct FrameStep {
    pub at: String,
    columns: Vec<ColumnStep>,
}

/// What the caller knows of a dataframe to grow.
pub(super) struct FrameSpec<'a> {
    /// Its name (`obs`, `obsm/meta`).
    pub at: &'a str,
    pub target: &'a DataFrame,
    pub source: &'a DataFrame,
    pub n_old: u64,
    pub n_new: u64,
    /// Rows read at once while checking the source's values.
    pub block_rows: u64,
}

/// The columns `target` has and `source` lacks (into `missing`) and the
/// reverse (into `extra`), named after the frame `at`.
pub(super) fn differences(
    at: &str,
    target: &DataFrame,
    source: &DataFrame,
    missing: &mut Vec<String>,
    extra: &mut Vec<String>,
) {
    let t_names = target.column_names();
    let s_names = source.column_names();
    missing.extend(
        t_names
            .iter()
            .filter(|n| !s_names.contains(n))
            .map(|n| format!("{at} column {n:?}")),
    );
    extra.extend(
        s_names
            .iter()
            .filter(|n| !t_names.contains(n))
            .map(|n| format!("{at} column {n:?}")),
    );
}

/// Plans growing a dataframe: its index and the columns both frames have
/// (see [`differences`] for the others).
pub(super) fn plan_frame(t: &File, s: &File, spec: &FrameSpec<'_>) -> Result<FrameStep> {
    let at = spec.at;
    if !matches!(spec.target.storage, Storage::Group { .. }) {
        return Err(Error::unsupported(format!(
            "{at}: the target is an anndata ≤ 0.6 record array; `h5sparse subset` rewrites \
             the file in the current encoding, which append grows"
        )));
    }
    for (df, n, which) in [
        (spec.target, spec.n_old, "target"),
        (spec.source, spec.n_new, "source"),
    ] {
        if df.len() != n {
            return Err(Error::invalid(format!(
                "{at}: the {which}'s has {} rows, expected {n}",
                df.len()
            )));
        }
    }
    let s_names = spec.source.column_names();
    let mut columns = vec![plan_column(t, s, spec, None)?];
    for name in spec.target.column_names() {
        if s_names.contains(&name) {
            columns.push(plan_column(t, s, spec, Some(name))?);
        }
    }
    Ok(FrameStep {
        at: at.to_string(),
        columns,
    })
}

/// The type a numeric column takes: its own when it holds the source's
/// values without loss, else numpy's common type; bools and numbers do
/// not mix (pandas makes objects of them).
fn column_type(to: &Dtype, from: &Dtype, at: &str) -> Result<Dtype> {
    let numeric = |d: &Dtype| matches!(d, Dtype::Int { .. } | Dtype::Float { .. });
    let both_bool = *to == Dtype::Bool && *from == Dtype::Bool;
    if both_bool || (numeric(to) && numeric(from)) {
        if lossless(from, to, at)? {
            return Ok(little(to));
        }
        if numeric(to) && numeric(from) {
            return result_type([to, from], at);
        }
    }
    Err(Error::invalid(format!(
        "{at}: the target holds {}, the source {}, which do not combine",
        to.numpy_str(),
        from.numpy_str()
    )))
}

/// Plans column `name` of the frame (`None`: its index).
fn plan_column(t: &File, s: &File, spec: &FrameSpec<'_>, name: Option<&str>) -> Result<ColumnStep> {
    let df = spec.target;
    let Storage::Group { index } = &df.storage else {
        return Err(Error::invalid("a record array has no columns to grow"));
    };
    let (at, path) = match name {
        None => (
            format!("{} index", spec.at),
            format!("{}/{index}", df.path()),
        ),
        Some(n) => (
            format!("{} column {n:?}", spec.at),
            format!("{}/{n}", df.path()),
        ),
    };
    let source = source_column(s, spec.source, name).map_err(|e| e.context(&at))?;
    // Every part of the column holds one value per row (a damaged length
    // would otherwise be streamed, row by row, to its end).
    let mut lengths = vec![source.len()];
    if let SrcColumn::Nullable { values, .. } = &source {
        lengths.push(values.len());
    }
    if let Some(&bad) = lengths.iter().find(|&&l| l != spec.n_new) {
        return Err(Error::invalid(format!(
            "{at}: the source's has {bad} rows, expected {}",
            spec.n_new
        )));
    }
    let step = |plan: ColumnPlan, source: SrcColumn| ColumnStep {
        at: at.clone(),
        source,
        plan,
        old_rows: spec.n_old,
    };
    let kind = match name {
        None => match t.dataset(&path)?.dtype() {
            Dtype::VarString { .. } | Dtype::FixedString { .. } => ColumnKind::Strings,
            _ => ColumnKind::Array,
        },
        Some(n) => df
            .columns()
            .iter()
            .find(|c| c.name == n)
            .map(|c| c.kind.clone())
            .unwrap_or(ColumnKind::Other("missing".into())),
    };
    let no_missing = |source: &SrcColumn, what: &str| -> Result<()> {
        if source.has_missing(s, spec.block_rows)? {
            return Err(Error::invalid(format!(
                "{at}: the target's is {what}, which cannot hold the source's missing values"
            )));
        }
        Ok(())
    };
    let refuse = |source: &SrcColumn, what: &str| {
        Error::invalid(format!(
            "{at}: the target's is {what}, the source's {}",
            source.describe()
        ))
    };
    let numbers = |ds_path: &str, source: &SrcColumn| -> Result<Growth> {
        let ds = t.dataset(ds_path)?;
        let from = source.numbers().ok_or_else(|| refuse(source, "numbers"))?;
        let dtype = column_type(ds.dtype(), from.dtype(), &at)?;
        let rest = ds.shape().unwrap_or(&[]).get(1..).unwrap_or(&[]).to_vec();
        Growth::plan(&ds, spec.n_old, spec.n_new, dtype, rest)
    };
    let mask = |ds_path: &str| -> Result<Growth> {
        let ds = t.dataset(ds_path)?;
        Growth::plan(&ds, spec.n_old, spec.n_new, Dtype::Bool, Vec::new())
    };
    match kind {
        ColumnKind::Array => {
            no_missing(&source, "numbers")?;
            let growth = numbers(&path, &source)?;
            Ok(step(ColumnPlan::Numbers { growth }, source))
        }
        ColumnKind::Strings => {
            if !source.is_text() {
                return Err(refuse(&source, "strings"));
            }
            no_missing(&source, "strings")?;
            let plan = StringsPlan::plan(t, &path, spec.n_old, spec.n_new)?;
            Ok(step(ColumnPlan::Strings(plan), source))
        }
        ColumnKind::Categorical => match t.get(&path)? {
            Node::Group(g) => {
                let ordered = match g.attribute("ordered")?.map(|a| a.values()).transpose()? {
                    Some(Values::Bool(v)) => v.first().copied().unwrap_or(false),
                    Some(Values::Int(v)) => v.first().is_some_and(|&x| x != 0),
                    _ => false,
                };
                let plan =
                    plan_categorical(t, s, &at, &path, ordered, &source, spec.n_old, spec.n_new)?;
                Ok(step(plan, source))
            }
            _ => Err(Error::unsupported(format!(
                "{at}: the target's is anndata 0.7's referenced categorical; `h5sparse subset` \
                 rewrites the file in the current encoding, which append grows"
            ))),
        },
        ColumnKind::Nullable => {
            let encoding = match t.get(&path)? {
                Node::Group(g) => crate::anndata::element::attr_str(g.attribute("encoding-type")?),
                _ => None,
            };
            let (values, mask_path) = (format!("{path}/values"), format!("{path}/mask"));
            if encoding.as_deref() == Some("nullable-string-array") {
                if !source.is_text() {
                    return Err(refuse(&source, "nullable strings"));
                }
                let values = StringsPlan::plan(t, &values, spec.n_old, spec.n_new)?;
                let mask = mask(&mask_path)?;
                Ok(step(ColumnPlan::NullableStrings { values, mask }, source))
            } else {
                let values = numbers(&values, &source)?;
                let mask = mask(&mask_path)?;
                Ok(step(ColumnPlan::NullableNumbers { values, mask }, source))
            }
        }
        ColumnKind::RecordField | ColumnKind::Other(_) => Err(Error::unsupported(format!(
            "{at}: growing a column of this encoding ({kind:?})"
        ))),
    }
}

/// Appends the numbers of `from` (rows `0..n`) to `g`, converted.
fn push_numbers<B: Backing>(
    g: &mut Grower<'_>,
    w: &mut Writer<B>,
    s: &File,
    from: &SrcValues,
    to: &Dtype,
    block: u64,
) -> Result<()> {
    let conv = Converter::new(from.dtype(), to, "a column")?;
    let step = (block / (from.dtype().size() + 2 * to.size()).max(1) as u64).max(1);
    let n = from.len();
    let mut out = Vec::new();
    let mut r = 0;
    while r < n {
        let k = step.min(n - r);
        let raw = from.raw(s, r, k)?;
        out.clear();
        conv.push_all(&raw, &mut out);
        g.push(w, &out, k)?;
        r += k;
    }
    Ok(())
}

/// Little-endian `size`-byte two's complement integers.
fn int_bytes(v: &[i64], size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * size);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes()[..size]);
    }
    out
}

impl ColumnStep {
    fn growths(&self) -> Vec<&Growth> {
        match &self.plan {
            ColumnPlan::Numbers { growth } => vec![growth],
            ColumnPlan::Strings { .. } => vec![],
            ColumnPlan::Categorical { codes, .. } => vec![codes],
            ColumnPlan::NullableNumbers { values, mask } => vec![values, mask],
            ColumnPlan::NullableStrings { mask, .. } => vec![mask],
        }
    }

    fn rewritten(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .growths()
            .into_iter()
            .filter(|g| g.rewrites())
            .map(|g| g.path.clone())
            .collect();
        match &self.plan {
            ColumnPlan::Strings(p) | ColumnPlan::NullableStrings { values: p, .. }
                if !p.in_place =>
            {
                out.push(p.path.clone())
            }
            ColumnPlan::Categorical {
                categories: Some((path, ..)),
                ..
            } => out.push(path.clone()),
            _ => {}
        }
        out
    }

    fn bytes(&self) -> u64 {
        let strings = match &self.plan {
            ColumnPlan::Strings(p) | ColumnPlan::NullableStrings { values: p, .. }
                if !p.in_place =>
            {
                self.old_rows.saturating_mul(16)
            }
            _ => 0,
        };
        self.source
            .bytes()
            .saturating_add(strings)
            .saturating_add(self.copy_bytes())
    }

    fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let (t, s, opts) = (r.old, r.source, r.opts);
        let (flush, block) = (opts.flush_bytes(), opts.reading_bytes());
        let n = self.source.len();
        match &self.plan {
            ColumnPlan::Numbers { growth } | ColumnPlan::NullableNumbers { values: growth, .. } => {
                let mut g = Grower::start(growth, w, flush)?;
                g.copy_old(w, t, block, progress)?;
                let from = self
                    .source
                    .numbers()
                    .ok_or_else(|| Error::invalid("the source's column is not numbers"))?;
                push_numbers(&mut g, w, s, from, &growth.dtype, block)?;
                g.finish(w, t)?;
                if let ColumnPlan::NullableNumbers { mask, .. } = &self.plan {
                    self.write_mask(w, r, mask, progress)?;
                }
            }
            ColumnPlan::Strings(p) => p.write(w, t, self.old_rows, self.source.texts(s)?)?,
            ColumnPlan::NullableStrings { values, mask } => {
                values.write(w, t, self.old_rows, self.source.texts(s)?)?;
                self.write_mask(w, r, mask, progress)?;
            }
            ColumnPlan::Categorical {
                codes,
                map,
                categories,
            } => {
                let mut g = Grower::start(codes, w, flush)?;
                g.copy_old(w, t, block, progress)?;
                let size = codes.dtype.size();
                match map {
                    CodeMap::Codes(map) => {
                        // Codes decoded, remapped, encoded and buffered.
                        let step = (block / 32).max(1);
                        let mut r = 0;
                        while r < n {
                            let k = step.min(n - r);
                            let mut c = self.source.codes(s, r, k)?;
                            for x in &mut c {
                                if *x >= 0 {
                                    *x = *usize::try_from(*x)
                                        .ok()
                                        .and_then(|i| map.get(i))
                                        .ok_or_else(|| {
                                            Error::invalid(format!(
                                                "the source's code {x} is out of range for its \
                                                 {} categories",
                                                map.len()
                                            ))
                                        })?;
                                } else {
                                    *x = -1;
                                }
                            }
                            g.push(w, &int_bytes(&c, size), k)?;
                            r += k;
                        }
                    }
                    CodeMap::Texts(all) => {
                        let position: HashMap<&str, i64> = all
                            .iter()
                            .enumerate()
                            .map(|(k, c)| (c.as_str(), k as i64))
                            .collect();
                        let texts = self.source.texts(s)?;
                        let c: Vec<i64> = texts
                            .iter()
                            .map(|v| match v {
                                Some(v) => position.get(v.as_str()).copied().ok_or_else(|| {
                                    Error::invalid(format!("{v:?} is not among the categories"))
                                }),
                                None => Ok(-1),
                            })
                            .collect::<Result<_>>()?;
                        drop(texts);
                        g.push(w, &int_bytes(&c, size), n)?;
                    }
                }
                g.finish(w, t)?;
                if let Some((path, dtype, values)) = categories {
                    rewrite_whole(w, t, path, dtype, values, &DatasetOptions::default())?;
                }
            }
        }
        progress(self.bytes() - self.copy_bytes());
        Ok(())
    }

    /// Bytes of the old rows copied (reported as they are read).
    fn copy_bytes(&self) -> u64 {
        self.growths()
            .iter()
            .fold(0u64, |a, g| a.saturating_add(g.copy_bytes()))
    }

    /// A mask: the old rows, then the source's.
    fn write_mask<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        mask: &Growth,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let (t, s, opts) = (r.old, r.source, r.opts);
        let (flush, block) = (opts.flush_bytes(), opts.reading_bytes());
        let n = self.source.len();
        let mut g = Grower::start(mask, w, flush)?;
        g.copy_old(w, t, block, progress)?;
        let step = (block / 3).max(1);
        let mut r = 0;
        while r < n {
            let k = step.min(n - r);
            let m = self.source.mask(s, r, k)?;
            let bytes: Vec<u8> = m.iter().map(|&b| u8::from(b)).collect();
            g.push(w, &bytes, k)?;
            r += k;
        }
        g.finish(w, t)
    }
}

impl FrameStep {
    /// The datasets rewritten rather than grown in place.
    pub(super) fn rewritten(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(ColumnStep::rewritten)
            .collect()
    }

    /// Bytes read while writing it (for progress).
    pub(super) fn bytes(&self) -> u64 {
        self.columns
            .iter()
            .fold(0u64, |a, c| a.saturating_add(c.bytes()))
    }

    /// Writes every column.
    pub(super) fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        for c in &self.columns {
            c.write(w, r, progress).map_err(|e| e.context(&c.at))?;
        }
        Ok(())
    }
}
