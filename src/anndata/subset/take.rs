//! [`Take`]: which positions of one axis a subset keeps.

use crate::error::{Error, Result};
use crate::sparse::Sel;

/// The positions kept along one axis (obs or var), in output order:
/// everything, or a list (any order, repeats allowed). `All` costs
/// nothing however long the axis is.
///
/// ```
/// use h5sparse::anndata::Take;
/// assert_eq!(Take::All.len(5), 5);
/// assert_eq!(Take::Indices(vec![3, 1, 3]).len(5), 3);
/// assert_eq!(Take::Indices(vec![3, 1]).get(1), 1);
/// assert!(Take::Indices(vec![7]).check(5, "obs").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// Every position, in order.
    All,
    /// These positions, in this order.
    Indices(Vec<u64>),
}

impl Take {
    /// How many positions are kept on an axis of length `n`.
    pub fn len(&self, n: u64) -> u64 {
        match self {
            Take::All => n,
            Take::Indices(v) => v.len() as u64,
        }
    }

    /// Whether nothing is kept on an axis of length `n`.
    pub fn is_empty(&self, n: u64) -> bool {
        self.len(n) == 0
    }

    /// The input position of output position `i` (which must be below
    /// [`Take::len`]).
    pub fn get(&self, i: u64) -> u64 {
        match self {
            Take::All => i,
            Take::Indices(v) => v[i as usize],
        }
    }

    /// Fails unless every position is below `n`; `axis` names the axis in
    /// the message.
    pub fn check(&self, n: u64, axis: &str) -> Result<()> {
        match self {
            Take::All => Ok(()),
            Take::Indices(v) => match v.iter().position(|&p| p >= n) {
                Some(k) => Err(Error::invalid(format!(
                    "{axis} selection: position {} (entry {k}) is out of range for {n} {axis}",
                    v[k]
                ))),
                None => Ok(()),
            },
        }
    }

    /// Whether output positions `from..to` are one forward run of input
    /// positions; returns its first input position.
    pub(crate) fn run_start(&self, from: u64, to: u64) -> Option<u64> {
        match self {
            Take::All => Some(from),
            Take::Indices(v) => {
                let s = &v[from as usize..to as usize];
                let first = *s.first()?;
                s.iter()
                    .enumerate()
                    .all(|(k, &p)| p == first + k as u64)
                    .then_some(first)
            }
        }
    }

    /// Output positions `from..to` as a [`Sel`] over the input axis: a
    /// range when they are consecutive, a list otherwise.
    pub(crate) fn sel(&self, from: u64, to: u64) -> Sel {
        match self.run_start(from, to) {
            Some(first) => Sel::range(first as i64, (first + (to - from)) as i64),
            None => match self {
                Take::All => Sel::range(from as i64, to as i64),
                Take::Indices(v) => Sel::Indices(
                    v[from as usize..to as usize]
                        .iter()
                        .map(|&p| p as i64)
                        .collect(),
                ),
            },
        }
    }
}

impl From<Vec<u64>> for Take {
    fn from(v: Vec<u64>) -> Take {
        Take::Indices(v)
    }
}
