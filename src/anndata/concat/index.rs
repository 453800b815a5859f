//! The var names of a concatenation, joined as pandas joins indexes
//! (`Index.union` / `Index.intersection`, reduced over the inputs in
//! order).

use std::collections::{HashMap, HashSet};

use crate::error::{Error, Result};

/// pandas' `a.union(b)` (sort=None) for indexes without duplicates: `a`
/// when both are equal or `b` is empty, `b` when `a` is empty, else every
/// name of either, sorted.
pub(crate) fn union(a: &[String], b: &[String]) -> Vec<String> {
    if a == b || b.is_empty() {
        return a.to_vec();
    }
    if a.is_empty() {
        return b.to_vec();
    }
    let mut all: Vec<String> = a.to_vec();
    let seen: HashSet<&str> = a.iter().map(String::as_str).collect();
    all.extend(b.iter().filter(|n| !seen.contains(n.as_str())).cloned());
    // Rust's string order is Unicode code point order, as Python's.
    all.sort();
    all
}

/// pandas' `a.intersection(b)` (sort=False): the names of `a` found in
/// `b`, in `a`'s order.
pub(crate) fn intersection(a: &[String], b: &[String]) -> Vec<String> {
    if a == b {
        return a.to_vec();
    }
    let inb: HashSet<&str> = b.iter().map(String::as_str).collect();
    a.iter()
        .filter(|n| inb.contains(n.as_str()))
        .cloned()
        .collect()
}

/// Each name's position.
pub(crate) fn positions(names: &[String]) -> HashMap<&str, i64> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as i64))
        .collect()
}

/// Fails when `names` repeats a name (pandas cannot reindex along it).
pub(crate) fn check_unique(names: &[String], what: &str) -> Result<()> {
    let mut seen = HashSet::with_capacity(names.len());
    for n in names {
        if !seen.insert(n.as_str()) {
            return Err(Error::invalid(format!(
                "{what}: the name {n:?} appears more than once (make the names unique first)"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn joins_follow_pandas() {
        assert_eq!(union(&s(&["b", "a"]), &s(&["b", "a"])), s(&["b", "a"]));
        assert_eq!(union(&s(&["c", "a"]), &s(&["b"])), s(&["a", "b", "c"]));
        assert_eq!(
            intersection(&s(&["c", "a", "b"]), &s(&["b", "c"])),
            s(&["c", "b"])
        );
        assert!(check_unique(&s(&["a", "a"]), "var").is_err());
    }
}
