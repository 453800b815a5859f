//! The var names of a concatenation, joined as pandas joins indexes
//! (`Index.union` / `Index.intersection`, reduced over the inputs in
//! order), and natsort's natural order for merged categories.

use std::cmp::Ordering;
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

/// One piece of a natural-sort key: text, or a run of ASCII digits as a
/// number.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Number(&'a str),
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    // natsort starts a key that begins with a number with an empty string,
    // so that texts always compare with texts and numbers with numbers.
    if bytes.first().is_some_and(u8::is_ascii_digit) {
        out.push(Piece::Text(""));
    }
    while i < bytes.len() {
        let digit = bytes[i].is_ascii_digit();
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_digit() == digit {
            j += 1;
        }
        let part = &s[i..j];
        out.push(if digit {
            Piece::Number(part.trim_start_matches('0'))
        } else {
            Piece::Text(part)
        });
        i = j;
    }
    out
}

/// natsort's default order for strings: digit runs compare as numbers,
/// the rest as text.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (pieces(a), pieces(b));
    for (x, y) in pa.iter().zip(&pb) {
        let o = match (x, y) {
            (Piece::Text(x), Piece::Text(y)) => x.cmp(y),
            (Piece::Number(x), Piece::Number(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
            // Keys alternate text and number from the same start.
            (Piece::Text(_), Piece::Number(_)) => Ordering::Less,
            (Piece::Number(_), Piece::Text(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
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

    #[test]
    fn natural_order() {
        let mut v = s(&["a10", "a2", "B", "10", "9", "a", "a02x"]);
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, s(&["9", "10", "B", "a", "a2", "a02x", "a10"]));
    }
}
