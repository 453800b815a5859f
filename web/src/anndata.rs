//! `AnnData`: an `.h5ad` file's summary and its obs/var dataframes.

use std::ops::Range;

use h5sparse::anndata::{AnnData, ColumnData, ColumnKind, DataFrame};
use h5sparse::H5File;
use js_sys::Array;
use wasm_bindgen::prelude::*;

use crate::convert::{self, Obj};
use crate::{js_err, JsResult};

/// An AnnData file (`AnnData` in JavaScript): opening reads metadata;
/// columns are read when asked for.
#[wasm_bindgen(js_name = AnnData)]
pub struct WebAnnData {
    adata: AnnData,
}

impl WebAnnData {
    pub(crate) fn open(file: &H5File) -> JsResult<WebAnnData> {
        Ok(WebAnnData {
            adata: AnnData::open(file).map_err(js_err)?,
        })
    }
}

#[wasm_bindgen(js_class = AnnData)]
impl WebAnnData {
    /// anndata's repr: `AnnData object with n_obs × n_vars = ...` and one
    /// line per non-empty slot.
    pub fn summary(&self) -> String {
        self.adata.to_string()
    }

    /// The number of observations (cells).
    #[wasm_bindgen(getter, js_name = nObs)]
    pub fn n_obs(&self) -> f64 {
        self.adata.n_obs() as f64
    }

    /// The number of variables (genes).
    #[wasm_bindgen(getter, js_name = nVars)]
    pub fn n_vars(&self) -> f64 {
        self.adata.n_vars() as f64
    }

    /// obs's columns: `[{ name, kind }]`, `kind` one of `array`,
    /// `strings`, `categorical`, `nullable`, `record-field` or the
    /// encoding this reader does not read.
    #[wasm_bindgen(js_name = obsColumns)]
    pub fn obs_columns(&self) -> Array {
        columns(self.adata.obs())
    }

    /// var's columns, as [`obsColumns`](WebAnnData::obs_columns).
    #[wasm_bindgen(js_name = varColumns)]
    pub fn var_columns(&self) -> Array {
        columns(self.adata.var())
    }

    /// The obs names (obs's index); with `start` (and `stop`, default the
    /// end), only rows `start..stop`, read alone (a page of a big table).
    #[wasm_bindgen(js_name = obsNames)]
    pub fn obs_names(&self, start: Option<f64>, stop: Option<f64>) -> JsResult<JsValue> {
        self.names(self.adata.obs(), start, stop)
    }

    /// The var names, as [`obsNames`](WebAnnData::obs_names).
    #[wasm_bindgen(js_name = varNames)]
    pub fn var_names(&self, start: Option<f64>, stop: Option<f64>) -> JsResult<JsValue> {
        self.names(self.adata.var(), start, stop)
    }

    /// One obs column: `{ kind: "values", values }`, `{ kind:
    /// "categorical", codes, categories, ordered }` (code -1: missing) or
    /// `{ kind: "nullable", values, mask }` (`true`: missing). With `start`
    /// (and `stop`), only rows `start..stop` are read (a categorical's
    /// categories whole).
    #[wasm_bindgen(js_name = obsColumn)]
    pub fn obs_column(
        &self,
        name: &str,
        start: Option<f64>,
        stop: Option<f64>,
    ) -> JsResult<JsValue> {
        self.column(self.adata.obs(), name, start, stop)
    }

    /// One var column, as [`obsColumn`](WebAnnData::obs_column).
    #[wasm_bindgen(js_name = varColumn)]
    pub fn var_column(
        &self,
        name: &str,
        start: Option<f64>,
        stop: Option<f64>,
    ) -> JsResult<JsValue> {
        self.column(self.adata.var(), name, start, stop)
    }

    /// The path of X when it is a sparse matrix (for `H5File.sparse`),
    /// else `null`.
    #[wasm_bindgen(js_name = xSparsePath)]
    pub fn x_sparse_path(&self) -> JsResult<Option<String>> {
        Ok(self
            .adata
            .x_sparse()
            .map_err(js_err)?
            .map(|x| x.path().to_string()))
    }
}

impl WebAnnData {
    fn names(&self, frame: &DataFrame, start: Option<f64>, stop: Option<f64>) -> JsResult<JsValue> {
        let file = self.adata.file().snapshot().map_err(js_err)?;
        let names = match rows(frame, start, stop)? {
            None => frame.index(&file),
            Some(r) => frame.index_range(&file, r),
        };
        Ok(convert::strings(&names.map_err(js_err)?))
    }

    fn column(
        &self,
        frame: &DataFrame,
        name: &str,
        start: Option<f64>,
        stop: Option<f64>,
    ) -> JsResult<JsValue> {
        let file = self.adata.file().snapshot().map_err(js_err)?;
        let data = match rows(frame, start, stop)? {
            None => frame.column(&file, name),
            Some(r) => frame.column_range(&file, name, r),
        };
        Ok(column(&data.map_err(js_err)?))
    }
}

/// The rows `start..stop` of `frame` (`stop` default its length), `None`
/// without `start`; fractions and negatives refused (a range past the end
/// is the frame's error).
fn rows(frame: &DataFrame, start: Option<f64>, stop: Option<f64>) -> JsResult<Option<Range<u64>>> {
    let Some(start) = start else {
        return Ok(None);
    };
    let start = crate::to_u64s(&[start], "start")?[0];
    let stop = match stop {
        Some(s) => crate::to_u64s(&[s], "stop")?[0],
        None => frame.len(),
    };
    Ok(Some(start..stop))
}

fn columns(frame: &DataFrame) -> Array {
    frame
        .columns()
        .iter()
        .map(|c| {
            let kind = match &c.kind {
                ColumnKind::Array => "array".to_string(),
                ColumnKind::Strings => "strings".to_string(),
                ColumnKind::Categorical => "categorical".to_string(),
                ColumnKind::Nullable => "nullable".to_string(),
                ColumnKind::RecordField => "record-field".to_string(),
                ColumnKind::Other(what) => what.clone(),
                _ => "other".to_string(),
            };
            Obj::new()
                .set("name", c.name.as_str())
                .set("kind", kind)
                .build()
        })
        .collect()
}

fn column(data: &ColumnData) -> JsValue {
    match data {
        ColumnData::Values(v) => Obj::new()
            .set("kind", "values")
            .set("values", convert::values(v))
            .build(),
        ColumnData::Categorical {
            codes,
            categories,
            ordered,
        } => {
            let codes: Array = codes.iter().map(|&c| convert::int(c)).collect();
            Obj::new()
                .set("kind", "categorical")
                .set("codes", codes)
                .set("categories", convert::values(categories))
                .set("ordered", *ordered)
                .build()
        }
        ColumnData::Nullable { values, mask } => {
            let mask: Array = mask.iter().map(|&m| JsValue::from_bool(m)).collect();
            Obj::new()
                .set("kind", "nullable")
                .set("values", convert::values(values))
                .set("mask", mask)
                .build()
        }
        _ => Obj::new().set("kind", "other").build(),
    }
}
