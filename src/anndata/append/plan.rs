//! Everything an append checks before it writes a byte: that `var` is the
//! same, that the source has every element the target has (and nothing
//! more, unless asked to drop it), that shapes, types and storage allow
//! the rows to be added, that no cell name repeats; and, element by
//! element, how each dataset grows.

use std::collections::HashSet;

use super::frame::{differences, plan_frame, FrameSpec, FrameStep};
use super::grow::{temporary_name, Reads};
use super::matrix::{plan_matrix, MatrixSpec, MatrixStep};
use super::{AppendOptions, AppendSummary};
use crate::anndata::{DataFrame, Element, Parts};
use crate::error::{Error, Result};
use crate::read::{File, Node, Values};
use crate::write::{Backing, Writer};

/// An append, planned.
#[derive(Debug)]
pub(super) struct Plan {
    pub n_old: u64,
    pub n_new: u64,
    frames: Vec<FrameStep>,
    matrices: Vec<MatrixStep>,
}

/// Names of `e`'s members, for the presence checks.
fn keys(m: &[(String, Element)]) -> Vec<&str> {
    m.iter().map(|(k, _)| k.as_str()).collect()
}

fn find<'a>(m: &'a [(String, Element)], key: &str) -> Option<&'a Element> {
    m.iter().find(|(k, _)| k == key).map(|(_, e)| e)
}

/// Compares the names of two frames (`var`, `raw/var`): same names, same
/// order.
fn same_names(t: &File, s: &File, td: &DataFrame, sd: &DataFrame, what: &str) -> Result<()> {
    let (a, b) = (td.index(t)?, sd.index(s)?);
    if a.len() != b.len() {
        return Err(Error::invalid(format!(
            "{what}: the target has {} names, the source {}; appending cells needs the same \
             {what} names in the same order",
            a.len(),
            b.len()
        )));
    }
    if let Some(k) = (0..a.len()).find(|&k| a[k] != b[k]) {
        return Err(Error::invalid(format!(
            "{what}: name {k} is {:?} in the target, {:?} in the source; appending cells needs \
             the same {what} names in the same order",
            a[k], b[k]
        )));
    }
    Ok(())
}

/// Refuses names of the source that repeat, among themselves or in the
/// target (read `block` names at a time).
fn check_names(t: &File, s: &File, tp: &Parts, sp: &Parts, block: u64) -> Result<()> {
    let new = sp.obs.index(s)?;
    let mut seen: HashSet<&str> = HashSet::with_capacity(new.len());
    for n in &new {
        if !seen.insert(n.as_str()) {
            return Err(Error::invalid(format!(
                "obs: the source names two cells {n:?}; obs names must stay unique"
            )));
        }
    }
    let crate::anndata::dataframe::Storage::Group { index } = &tp.obs.storage else {
        return Ok(());
    };
    let ds = t.dataset(&format!("{}/{index}", tp.obs.path()))?;
    for block in ds.values_in_blocks(block.max(1)) {
        if let Values::Str(names) = block? {
            if let Some(n) = names.iter().find(|n| seen.contains(n.as_str())) {
                return Err(Error::invalid(format!(
                    "obs: the source's cell {n:?} is already in the target; obs names must stay \
                     unique"
                )));
            }
        }
    }
    Ok(())
}

/// Refuses a target whose temporary names (for rewritten datasets) are
/// taken.
fn check_free(t: &File, paths: &[String]) -> Result<()> {
    for p in paths {
        let tmp = temporary_name(p);
        if t.get(&tmp).is_ok() {
            return Err(Error::invalid(format!(
                "{tmp} exists (left by an interrupted append?); remove it to append"
            )));
        }
    }
    Ok(())
}

/// Plans appending the cells of `s` to `t` (the target as it is before
/// the append), refusing whatever would not work.
pub(super) fn plan(t: &File, s: &File, opts: &AppendOptions) -> Result<Plan> {
    if matches!(t.get("/obs")?, Node::Dataset(_)) {
        return Err(Error::unsupported(
            "the target is an anndata ≤ 0.6 file (obs is a record array); `h5sparse subset` \
             rewrites it in the current encoding, which append grows",
        ));
    }
    let tp = Parts::read(t).map_err(|e| e.context("the target"))?;
    let sp = Parts::read(s).map_err(|e| e.context("the source"))?;
    let (n_old, n_new) = (tp.obs.len(), sp.obs.len());
    if n_old.checked_add(n_new).is_none() {
        return Err(Error::invalid(format!(
            "obs: {n_old} cells and {n_new} more overflow a 64-bit count"
        )));
    }
    same_names(t, s, &tp.var, &sp.var, "var")?;

    // What one has and the other lacks, all named in one error.
    let (mut missing, mut extra) = (Vec::new(), Vec::new());
    let mut presence = |name: &str, in_t: bool, in_s: bool| {
        if in_t && !in_s {
            missing.push(name.to_string());
        } else if in_s && !in_t {
            extra.push(name.to_string());
        }
    };
    presence("X", tp.x.is_some(), sp.x.is_some());
    for (group, a, b) in [
        ("layers", &tp.layers, &sp.layers),
        ("obsm", &tp.obsm, &sp.obsm),
        ("obsp", &tp.obsp, &sp.obsp),
    ] {
        let (ka, kb) = (keys(a), keys(b));
        for k in &ka {
            presence(&format!("{group}/{k}"), true, kb.contains(k));
        }
        for k in kb.iter().filter(|k| !ka.contains(k)) {
            presence(&format!("{group}/{k}"), false, true);
        }
    }
    let raw_x = |p: &Parts| p.raw.as_ref().and_then(|r| r.x.clone());
    let (t_raw, s_raw) = (raw_x(&tp), raw_x(&sp));
    presence("raw/X", t_raw.is_some(), s_raw.is_some());
    differences("obs", &tp.obs, &sp.obs, &mut missing, &mut extra);
    let frame_of = |f: &File, e: &Element| -> Result<Option<DataFrame>> {
        match e {
            Element::DataFrame { path } => Ok(Some(DataFrame::open_at(f, path)?)),
            _ => Ok(None),
        }
    };
    let mut obsm_frames = Vec::new();
    for (k, te) in &tp.obsm {
        let Some(se) = find(&sp.obsm, k) else {
            continue;
        };
        match (frame_of(t, te)?, frame_of(s, se)?) {
            (Some(tf), Some(sf)) => {
                let at = format!("obsm/{k}");
                differences(&at, &tf, &sf, &mut missing, &mut extra);
                obsm_frames.push((at, tf, sf));
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(Error::invalid(format!(
                    "obsm/{k}: the target's is a dataframe, the source's is not"
                )))
            }
            (None, Some(_)) => {
                return Err(Error::invalid(format!(
                    "obsm/{k}: the source's is a dataframe, the target's is not"
                )))
            }
        }
    }
    if !missing.is_empty() {
        return Err(Error::invalid(format!(
            "the source lacks what the target has: {}; every cell appended needs them",
            missing.join(", ")
        )));
    }
    if !extra.is_empty() && !opts.drop_extra {
        return Err(Error::invalid(format!(
            "the source has what the target lacks: {}; they would be lost (drop them \
             explicitly: AppendOptions::drop_extra, --drop-extra)",
            extra.join(", ")
        )));
    }
    if let (Some(_), Some(_)) = (&t_raw, &s_raw) {
        let raw_var = |p: &Parts, which: &str| {
            p.raw
                .as_ref()
                .and_then(|r| r.var.clone())
                .ok_or_else(|| Error::invalid(format!("the {which}'s raw has no var")))
        };
        same_names(
            t,
            s,
            &raw_var(&tp, "target")?,
            &raw_var(&sp, "source")?,
            "raw/var",
        )?;
    }
    let block = opts.write_options().reading_bytes();
    check_names(t, s, &tp, &sp, (block / 64).max(1))?;

    let mut frames = Vec::new();
    let block_rows = (block / 16).max(1);
    let spec = |at, target, source| FrameSpec {
        at,
        target,
        source,
        n_old,
        n_new,
        block_rows,
    };
    frames.push(plan_frame(t, s, &spec("obs", &tp.obs, &sp.obs))?);
    for (at, tf, sf) in &obsm_frames {
        frames.push(plan_frame(t, s, &spec(at, tf, sf))?);
    }

    let mut matrices = Vec::new();
    let mut matrix = |at: &str, target: &Element, source: &Element, pairwise: bool| {
        let spec = MatrixSpec {
            at,
            target,
            source,
            n_old,
            n_new,
            pairwise,
        };
        matrices.push(plan_matrix(t, s, &spec)?);
        Ok::<(), Error>(())
    };
    if let (Some(a), Some(b)) = (&tp.x, &sp.x) {
        matrix("X", a, b, false)?;
    }
    for (group, a, b, pairwise) in [
        ("layers", &tp.layers, &sp.layers, false),
        ("obsm", &tp.obsm, &sp.obsm, false),
        ("obsp", &tp.obsp, &sp.obsp, true),
    ] {
        for (k, te) in a {
            if matches!(te, Element::DataFrame { .. }) {
                continue;
            }
            if let Some(se) = find(b, k) {
                matrix(&format!("{group}/{k}"), te, se, pairwise)?;
            }
        }
    }
    if let (Some(a), Some(b)) = (&t_raw, &s_raw) {
        matrix("raw/X", a, b, false)?;
    }
    let plan = Plan {
        n_old,
        n_new,
        frames,
        matrices,
    };
    check_free(t, &plan.rewritten())?;
    Ok(plan)
}

impl Plan {
    /// Every dataset rewritten rather than grown in place.
    pub(super) fn rewritten(&self) -> Vec<String> {
        let mut out: Vec<String> = self.frames.iter().flat_map(FrameStep::rewritten).collect();
        out.extend(self.matrices.iter().flat_map(MatrixStep::rewritten));
        out
    }

    /// What the append does, before it does it.
    pub(super) fn summary(&self) -> AppendSummary {
        let mut elements: Vec<String> = self.frames.iter().map(|f| f.at.clone()).collect();
        elements.extend(self.matrices.iter().map(|m| m.at().to_string()));
        AppendSummary {
            n_obs_before: self.n_old,
            n_obs_added: self.n_new,
            elements,
            rewritten: self.rewritten(),
        }
    }

    /// Bytes read while writing (for progress).
    pub(super) fn total_bytes(&self) -> u64 {
        let frames = self.frames.iter().map(FrameStep::bytes);
        let matrices = self.matrices.iter().map(MatrixStep::bytes);
        frames.chain(matrices).fold(0u64, u64::saturating_add)
    }

    /// Writes every element; old data is read from `t` (the target as it
    /// was before the append), new from `s`.
    pub(super) fn write<B: Backing>(
        &self,
        w: &mut Writer<B>,
        r: &Reads<'_>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<()> {
        let total = self.total_bytes();
        let mut done = 0u64;
        progress(0, total);
        let mut advance = |b: u64| {
            done = done.saturating_add(b).min(total);
            progress(done, total);
        };
        for f in &self.frames {
            f.write(w, r, &mut advance)?;
        }
        for m in &self.matrices {
            m.write(w, r, &mut advance)?;
        }
        progress(total, total);
        Ok(())
    }
}
