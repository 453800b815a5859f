//! AnnData `.h5ad` files as a whole: the cells' and genes' annotations
//! (`obs`, `var`), the matrices (`X`, `layers`, `obsp`, `varp`), the
//! embeddings (`obsm`, `varm`), `raw` and `uns`, in anndata's current
//! on-disk encoding and the legacy ones still in circulation (anndata
//! ≤ 0.6 record arrays, anndata 0.7's referenced categories).
//!
//! Opening reads metadata only: matrices stay on disk behind
//! [`SparseHandle`]s and
//! [`DatasetHandle`](crate::DatasetHandle)s, and dataframe columns are read
//! when asked for.
//!
//! ```
//! use h5sparse::anndata::{AnnData, ColumnData};
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/anndata.h5ad");
//! let adata = AnnData::open(&h5sparse::H5File::open(path)?)?;
//! assert_eq!((adata.n_obs(), adata.n_vars()), (20, 12));
//! assert!(adata.to_string().starts_with("AnnData object with n_obs × n_vars = 20 × 12"));
//! let names = adata.obs_names()?;                       // from obs/_index
//! assert_eq!(names[0], "cell_00");
//! let cell_type = adata.obs_column("cell_type")?;        // a categorical
//! assert!(matches!(cell_type, ColumnData::Categorical { .. }));
//! let x = adata.x_sparse()?.expect("X is sparse here");
//! assert_eq!(x.shape()?, [20, 12]);
//! # Ok::<(), h5sparse::Error>(())
//! ```

pub mod append;
pub mod concat;
mod dataframe;
mod element;
mod frame_data;
mod ints;
pub mod mex;
pub mod mtx;
pub mod select;
mod storage;
mod subset;
pub mod tenx;
pub mod write;

use std::fmt;

pub use append::{append_obs_in, AppendOptions, AppendSummary};
pub use concat::{concat, concat_with_progress, ConcatOptions, Join};
pub use dataframe::{Column, ColumnData, ColumnKind, DataFrame};
pub use element::Element;
pub use frame_data::DataFrameData;
pub use select::{Axis, CompareOp, Selection};
pub use storage::{sparse_storage, DatasetStorage, SparseStorage, Storage};
pub use subset::{subset, subset_with_progress, Take};
pub use write::{DenseStream, H5adWriter, IndexWidth, KernelCopy, SparseStream, WriteOptions};

use crate::error::{Error, Result};
use crate::read::{Dtype, File, Node};
use crate::{H5File, SparseHandle};

/// An AnnData file, opened: its shape, annotations and elements.
#[derive(Debug)]
pub struct AnnData {
    file: H5File,
    obs: DataFrame,
    var: DataFrame,
    x: Option<Element>,
    layers: Vec<(String, Element)>,
    obsm: Vec<(String, Element)>,
    varm: Vec<(String, Element)>,
    obsp: Vec<(String, Element)>,
    varp: Vec<(String, Element)>,
    uns: Vec<(String, Element)>,
    raw: Option<Raw>,
}

/// `raw`: an earlier X and the var it had.
#[derive(Debug, Clone)]
pub struct Raw {
    /// `raw.X`.
    pub x: Option<Element>,
    /// `raw.var`.
    pub var: Option<DataFrame>,
}

/// Where an anndata generation keeps `raw`'s parts.
struct RawPaths {
    x: &'static str,
    var: &'static str,
}

/// Every element's metadata, read from a snapshot: what [`AnnData`] holds
/// besides its file (and what appending reads of a file being written).
pub(crate) struct Parts {
    pub(crate) obs: DataFrame,
    pub(crate) var: DataFrame,
    pub(crate) x: Option<Element>,
    pub(crate) layers: Vec<(String, Element)>,
    pub(crate) obsm: Vec<(String, Element)>,
    pub(crate) varm: Vec<(String, Element)>,
    pub(crate) obsp: Vec<(String, Element)>,
    pub(crate) varp: Vec<(String, Element)>,
    pub(crate) uns: Vec<(String, Element)>,
    pub(crate) raw: Option<Raw>,
}

impl Parts {
    /// Reads the metadata of the AnnData file `f`.
    pub(crate) fn read(f: &File) -> Result<Parts> {
        let legacy = matches!(f.get("/obs")?, Node::Dataset(_));
        let uns_path = has(f, "/uns").then_some("/uns");
        let obs = DataFrame::open(f, "/obs", uns_path)?;
        let var = DataFrame::open(f, "/var", uns_path)?;
        let x = if has(f, "/X") {
            Some(element::element_at(f, "/X")?)
        } else {
            None
        };
        let mapping = |name: &str| -> Result<Vec<(String, Element)>> { members(f, name) };
        let mut consumed = obs.consumed_uns_keys();
        consumed.extend(var.consumed_uns_keys());
        let uns = mapping("/uns")?
            .into_iter()
            .filter(|(k, _)| !consumed.contains(k))
            .collect();
        let paths = if legacy {
            RawPaths {
                x: "/raw.X",
                var: "/raw.var",
            }
        } else {
            RawPaths {
                x: "/raw/X",
                var: "/raw/var",
            }
        };
        let raw = (has(f, paths.x) || has(f, paths.var))
            .then(|| -> Result<Raw> {
                Ok(Raw {
                    x: if has(f, paths.x) {
                        Some(element::element_at(f, paths.x)?)
                    } else {
                        None
                    },
                    var: if has(f, paths.var) {
                        Some(DataFrame::open(f, paths.var, uns_path)?)
                    } else {
                        None
                    },
                })
            })
            .transpose()?;
        Ok(Parts {
            x,
            layers: mapping("/layers")?,
            obsm: mapping("/obsm")?,
            varm: mapping("/varm")?,
            obsp: mapping("/obsp")?,
            varp: mapping("/varp")?,
            uns,
            raw,
            obs,
            var,
        })
    }
}

impl AnnData {
    /// Reads the metadata of the AnnData file open in `file`.
    pub fn open(file: &H5File) -> Result<AnnData> {
        let snap = file.snapshot()?;
        let p = Parts::read(&snap)?;
        Ok(AnnData {
            file: file.clone(),
            obs: p.obs,
            var: p.var,
            x: p.x,
            layers: p.layers,
            obsm: p.obsm,
            varm: p.varm,
            obsp: p.obsp,
            varp: p.varp,
            uns: p.uns,
            raw: p.raw,
        })
    }

    /// Number of observations (cells): the length of `obs`.
    pub fn n_obs(&self) -> u64 {
        self.obs.len()
    }

    /// Number of variables (genes): the length of `var`.
    pub fn n_vars(&self) -> u64 {
        self.var.len()
    }

    /// The file.
    pub fn file(&self) -> &H5File {
        &self.file
    }

    /// The cells' annotations.
    pub fn obs(&self) -> &DataFrame {
        &self.obs
    }

    /// The genes' annotations.
    pub fn var(&self) -> &DataFrame {
        &self.var
    }

    /// `X`, when the file has one.
    pub fn x(&self) -> Option<&Element> {
        self.x.as_ref()
    }

    /// `X` as a sparse handle, when it is sparse.
    pub fn x_sparse(&self) -> Result<Option<SparseHandle>> {
        match &self.x {
            Some(Element::Sparse { path, .. }) => Ok(Some(self.file.sparse(path)?)),
            _ => Ok(None),
        }
    }

    /// `layers`, by name.
    pub fn layers(&self) -> &[(String, Element)] {
        &self.layers
    }

    /// `obsm`, by name (for anndata ≤ 0.6, the record array's fields).
    pub fn obsm(&self) -> &[(String, Element)] {
        &self.obsm
    }

    /// `varm`, by name.
    pub fn varm(&self) -> &[(String, Element)] {
        &self.varm
    }

    /// `obsp`, by name.
    pub fn obsp(&self) -> &[(String, Element)] {
        &self.obsp
    }

    /// `varp`, by name.
    pub fn varp(&self) -> &[(String, Element)] {
        &self.varp
    }

    /// `uns`'s top-level entries (without the categories anndata ≤ 0.6
    /// kept there for `obs`/`var` columns).
    pub fn uns(&self) -> &[(String, Element)] {
        &self.uns
    }

    /// `raw`, when present.
    pub fn raw(&self) -> Option<&Raw> {
        self.raw.as_ref()
    }

    /// The observation names (`obs_names`).
    pub fn obs_names(&self) -> Result<Vec<String>> {
        self.obs.index(&*self.file.snapshot()?)
    }

    /// The variable names (`var_names`).
    pub fn var_names(&self) -> Result<Vec<String>> {
        self.var.index(&*self.file.snapshot()?)
    }

    /// One column of `obs`, read now.
    pub fn obs_column(&self, name: &str) -> Result<ColumnData> {
        self.obs.column(&*self.file.snapshot()?, name)
    }

    /// One column of `var`, read now.
    pub fn var_column(&self, name: &str) -> Result<ColumnData> {
        self.var.column(&*self.file.snapshot()?, name)
    }
}

fn has(f: &File, path: &str) -> bool {
    f.get(path).is_ok()
}

/// The members of a mapping group (`layers`, `obsm`, ...), in the name
/// order h5py iterates them; for anndata ≤ 0.6's record arrays, one
/// element per field.
fn members(f: &File, path: &str) -> Result<Vec<(String, Element)>> {
    match f.get(path) {
        Err(_) => Ok(Vec::new()),
        Ok(Node::Group(g)) => {
            let mut out = Vec::new();
            for link in g.links()? {
                let child = format!("{path}/{}", link.name);
                out.push((link.name, element::element_at(f, &child)?));
            }
            Ok(out)
        }
        Ok(Node::Dataset(d)) => match d.dtype() {
            Dtype::Compound { fields, .. } => Ok(fields
                .iter()
                .map(|field| {
                    let mut shape = d.shape().unwrap_or(&[]).to_vec();
                    if let Dtype::Array { dims, .. } = &field.dtype {
                        shape.extend_from_slice(dims);
                    }
                    (
                        field.name.clone(),
                        Element::Dense {
                            path: path.to_string(),
                            shape,
                            dtype: field.dtype.numpy_str(),
                        },
                    )
                })
                .collect()),
            other => Err(Error::invalid(format!(
                "{path}: expected a group or a record array, found {}",
                other.numpy_str()
            ))),
        },
        Ok(Node::Datatype { .. }) => Err(Error::invalid(format!("{path} is a datatype"))),
    }
}

/// anndata's repr: `AnnData object with n_obs × n_vars = 20 × 12`, then
/// one line per non-empty `obs`, `var`, `uns`, `obsm`, `varm`, `layers`,
/// `obsp`, `varp` listing its keys.
impl fmt::Display for AnnData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AnnData object with n_obs × n_vars = {} × {}",
            self.n_obs(),
            self.n_vars()
        )?;
        let keys = |v: &[(String, Element)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        let lines: [(&str, Vec<String>); 8] = [
            (
                "obs",
                self.obs
                    .column_names()
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            ),
            (
                "var",
                self.var
                    .column_names()
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            ),
            ("uns", keys(&self.uns)),
            ("obsm", keys(&self.obsm)),
            ("varm", keys(&self.varm)),
            ("layers", keys(&self.layers)),
            ("obsp", keys(&self.obsp)),
            ("varp", keys(&self.varp)),
        ];
        for (name, keys) in lines {
            if keys.is_empty() {
                continue;
            }
            let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
            write!(f, "\n    {name}: {}", quoted.join(", "))?;
        }
        Ok(())
    }
}
