//! `SparseMatrix`: a sparse matrix group and its row/column selections.

use h5sparse::sparse::Sel;
use h5sparse::{Dtype, H5Bool, H5File, SparseHandle};
use js_sys::{Array, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::convert::{self, dispatch_num, Num, Obj, ToTyped};
use crate::{js_err, JsResult};

/// A sparse matrix (`SparseMatrix` in JavaScript), in any of h5sparse's
/// conventions; reads go to the file.
#[wasm_bindgen(js_name = SparseMatrix)]
pub struct WebSparse {
    x: SparseHandle,
}

impl WebSparse {
    pub(crate) fn open(file: &H5File, path: &str) -> JsResult<WebSparse> {
        let x = file.sparse(path).map_err(js_err)?;
        // Fail here, not on the first read, when the group is no matrix.
        x.info().map_err(js_err)?;
        Ok(WebSparse { x })
    }
}

#[wasm_bindgen(js_class = SparseMatrix)]
impl WebSparse {
    /// `{ format, shape, nnz, convention, dtype, indicesDtype, indptrDtype }`.
    pub fn info(&self) -> JsResult<JsValue> {
        Ok(crate::tree::sparse_info(&self.x.info().map_err(js_err)?))
    }

    /// `[rows, columns]`.
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> JsResult<Vec<f64>> {
        Ok(self.x.shape().map_err(js_err)?.map(|n| n as f64).to_vec())
    }

    /// The number of stored values.
    #[wasm_bindgen(getter)]
    pub fn nnz(&self) -> JsResult<f64> {
        Ok(self.x.nnz().map_err(js_err)? as f64)
    }

    /// `csr` or `csc`: how the file stores it.
    #[wasm_bindgen(getter)]
    pub fn format(&self) -> JsResult<String> {
        Ok(self.x.format().map_err(js_err)?.as_str().to_string())
    }

    /// Reads `X[rows, cols]` as CSR typed arrays: `{ shape, data, indices,
    /// indptr }`, `data` typed by the stored dtype (`Float32Array`,
    /// `Float64Array`, `Int32Array`, `BigInt64Array`...), `indices` and
    /// `indptr` `Uint32Array`s; booleans come as a `Uint8Array` of 0 and 1.
    /// A selection is `null`/`undefined` (all),
    /// a numpy slice string (`"0:10"`, `"::-2"`, `"5"`), an index, an array
    /// of indices (negative from the end, any order, repeats allowed), or
    /// an array of booleans as long as the axis.
    pub fn read(&self, rows: JsValue, cols: JsValue) -> JsResult<JsValue> {
        let rows = selection(&rows, "rows")?;
        let cols = selection(&cols, "cols")?;
        let dtype = self.x.dtype().map_err(js_err)?;
        if dtype == Dtype::Bool {
            return read_bools(&self.x, rows, cols);
        }
        let num = Num::of(&dtype).ok_or_else(|| {
            js_err(format!(
                "{}: sparse values of dtype {} have no typed array",
                self.x.path(),
                dtype.numpy_str()
            ))
        })?;
        dispatch_num!(num, read_csr(&self.x, rows, cols))
    }
}

fn read_csr<T: ToTyped + Clone>(x: &SparseHandle, rows: Sel, cols: Sel) -> JsResult<JsValue> {
    let m = x.read_as::<T, u32>(rows, cols).map_err(js_err)?;
    let m = if m.is_csr() { m } else { m.to_csr() };
    let shape = convert::uints(&[m.rows() as u64, m.cols() as u64]);
    let indptr = m.indptr();
    Ok(Obj::new()
        .set("shape", shape)
        .set("data", T::typed(m.data()))
        .set("indices", Uint32Array::from(m.indices()))
        .set("indptr", Uint32Array::from(indptr.raw_storage()))
        .build())
}

/// Boolean values, as a `Uint8Array` of 0 and 1.
fn read_bools(x: &SparseHandle, rows: Sel, cols: Sel) -> JsResult<JsValue> {
    let m = x.read_as::<H5Bool, u32>(rows, cols).map_err(js_err)?;
    let m = if m.is_csr() { m } else { m.to_csr() };
    let data: Vec<u8> = m.data().iter().map(|b| u8::from(b.0 != 0)).collect();
    let indptr = m.indptr();
    Ok(Obj::new()
        .set("shape", convert::uints(&[m.rows() as u64, m.cols() as u64]))
        .set("data", Uint8Array::from(&data[..]))
        .set("indices", Uint32Array::from(m.indices()))
        .set("indptr", Uint32Array::from(indptr.raw_storage()))
        .build())
}

/// A JS selection as a [`Sel`].
pub(crate) fn selection(v: &JsValue, what: &str) -> JsResult<Sel> {
    if v.is_null() || v.is_undefined() {
        return Ok(Sel::All);
    }
    if let Some(s) = v.as_string() {
        return Sel::parse(&s).map_err(|e| js_err(format!("{what}: {e}")));
    }
    if let Some(n) = v.as_f64() {
        return Ok(Sel::Index(whole(n, what)?));
    }
    if Array::is_array(v) || js_sys::ArrayBuffer::is_view(v) {
        let items = Array::from(v);
        if items.length() > 0 && items.get(0).as_bool().is_some() {
            let mask = items
                .iter()
                .map(|b| {
                    b.as_bool()
                        .ok_or_else(|| js_err(format!("{what}: a mask mixes booleans with {b:?}")))
                })
                .collect::<JsResult<Vec<bool>>>()?;
            return Ok(Sel::Mask(mask));
        }
        let idx = items
            .iter()
            .map(|n| {
                let n = n
                    .as_f64()
                    .or_else(|| i64::try_from(n.clone()).ok().map(|i| i as f64))
                    .ok_or_else(|| js_err(format!("{what}: expected numbers, found {n:?}")))?;
                whole(n, what)
            })
            .collect::<JsResult<Vec<i64>>>()?;
        return Ok(Sel::Indices(idx));
    }
    Err(js_err(format!(
        "{what}: expected null, a slice string, an index or an array, found {v:?}"
    )))
}

fn whole(n: f64, what: &str) -> JsResult<i64> {
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        Ok(n as i64)
    } else {
        Err(js_err(format!("{what}: {n} is not an index")))
    }
}
