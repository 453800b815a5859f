//! Conversions between Python and the library: errors, selections, values.

use h5sparse::read::Value;
use h5sparse::sparse::Sel;
use h5sparse::{Dtype, Error, Values};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyFileNotFoundError, PyMemoryError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PySlice};

/// Maps the library's errors to the exceptions h5py users expect, keeping
/// our message: a missing file is `FileNotFoundError`, the caller's mistake
/// `ValueError`, a failed allocation `MemoryError`, everything the file or
/// the system did wrong `OSError`.
pub fn err(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(msg)
        }
        Error::InvalidArgument(_) => PyValueError::new_err(msg),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(msg),
        _ => PyOSError::new_err(msg),
    }
}

/// `Result<T, Error>` into `PyResult<T>`.
pub trait IntoPy<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for h5sparse::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(err)
    }
}

/// One axis of a selection, as the Python layer normalises it: `None`
/// (everything), an `int`, a `slice`, a 1-D `int64` array (indices) or a
/// 1-D `bool` array (mask).
pub fn sel(obj: &Bound<'_, PyAny>) -> PyResult<Sel> {
    if obj.is_none() {
        return Ok(Sel::All);
    }
    if let Ok(s) = obj.cast::<PySlice>() {
        let part = |name: &str| -> PyResult<Option<i64>> {
            let v = s.getattr(name)?;
            if v.is_none() {
                Ok(None)
            } else {
                Ok(Some(v.extract()?))
            }
        };
        let step = part("step")?.unwrap_or(1);
        if step == 0 {
            return Err(PyValueError::new_err("slice step cannot be zero"));
        }
        return Ok(Sel::Slice {
            start: part("start")?,
            stop: part("stop")?,
            step,
        });
    }
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, i64>>() {
        return Ok(Sel::Indices(a.as_array().to_vec()));
    }
    if let Ok(a) = obj.extract::<PyReadonlyArray1<'_, bool>>() {
        return Ok(Sel::Mask(a.as_array().to_vec()));
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Sel::Index(i));
    }
    Err(PyValueError::new_err(format!(
        "a selection is None, an int, a slice, or a 1-D int64 or bool array, not {}",
        obj.get_type().name()?
    )))
}

/// The element types a matrix or dataset is read as, by stored dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Elem {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    /// Read as `u16` bits; the Python layer views them as `float16`.
    F16,
    /// Read as `u8`; the Python layer views them as `bool`.
    Bool,
}

impl Elem {
    /// The element type for a stored dtype; `None` for non-numeric types.
    pub fn of(d: &Dtype) -> Option<Elem> {
        Some(match d {
            Dtype::Int { size, signed, .. } => match (size, signed) {
                (1, true) => Elem::I8,
                (2, true) => Elem::I16,
                (4, true) => Elem::I32,
                (8, true) => Elem::I64,
                (1, false) => Elem::U8,
                (2, false) => Elem::U16,
                (4, false) => Elem::U32,
                (8, false) => Elem::U64,
                _ => return None,
            },
            Dtype::Float { size: 2, .. } => Elem::F16,
            Dtype::Float { size: 4, .. } => Elem::F32,
            Dtype::Float { size: 8, .. } => Elem::F64,
            Dtype::Bool => Elem::Bool,
            _ => return None,
        })
    }

    /// The same, or a `TypeError`-like `ValueError` naming the dtype.
    pub fn require(d: &Dtype, what: &str) -> PyResult<Elem> {
        Elem::of(d).ok_or_else(|| {
            PyValueError::new_err(format!(
                "{what}: dtype {} is not numeric; only numbers and bools are supported here",
                d.numpy_str()
            ))
        })
    }

    /// From numpy's `dtype.str` of an input array, normalised by the Python
    /// layer to native byte order (`bool` and `float16` arrive as `u1`/`u2`
    /// views with `kind` saying what they are).
    pub fn from_numpy(s: &str, kind: &str) -> PyResult<Elem> {
        let e = match (kind, s.trim_start_matches(['<', '>', '|', '='])) {
            ("bool", "u1") => Elem::Bool,
            ("f16", "u2") => Elem::F16,
            (_, "i1") => Elem::I8,
            (_, "i2") => Elem::I16,
            (_, "i4") => Elem::I32,
            (_, "i8") => Elem::I64,
            (_, "u1") => Elem::U8,
            (_, "u2") => Elem::U16,
            (_, "u4") => Elem::U32,
            (_, "u8") => Elem::U64,
            (_, "f4") => Elem::F32,
            (_, "f8") => Elem::F64,
            (_, other) => {
                return Err(PyValueError::new_err(format!(
                    "unsupported dtype {other}: numbers and bools only"
                )))
            }
        };
        Ok(e)
    }
}

/// Runs `$body` with `$T` the Rust type of `$elem` (`H5Bool` and `F16` for
/// bool and float16).
#[macro_export]
macro_rules! with_elem {
    ($elem:expr, $T:ident => $body:expr) => {{
        use $crate::convert::Elem;
        match $elem {
            Elem::I8 => {
                type $T = i8;
                $body
            }
            Elem::I16 => {
                type $T = i16;
                $body
            }
            Elem::I32 => {
                type $T = i32;
                $body
            }
            Elem::I64 => {
                type $T = i64;
                $body
            }
            Elem::U8 => {
                type $T = u8;
                $body
            }
            Elem::U16 => {
                type $T = u16;
                $body
            }
            Elem::U32 => {
                type $T = u32;
                $body
            }
            Elem::U64 => {
                type $T = u64;
                $body
            }
            Elem::F32 => {
                type $T = f32;
                $body
            }
            Elem::F64 => {
                type $T = f64;
                $body
            }
            Elem::F16 => {
                type $T = h5sparse::F16;
                $body
            }
            Elem::Bool => {
                type $T = h5sparse::H5Bool;
                $body
            }
        }
    }};
}

/// A numpy element type for each library element type: the bit-identical
/// plain type (`u16` for `F16`, `u8` for `H5Bool`).
pub trait Plain: h5sparse::H5Type {
    /// The numpy-side type of the same size.
    type Np: numpy::Element + bytemuck::Pod;
}

macro_rules! plain_self {
    ($($t:ty),*) => {$(impl Plain for $t { type Np = $t; })*};
}
plain_self!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);
impl Plain for h5sparse::F16 {
    type Np = u16;
}
impl Plain for h5sparse::H5Bool {
    type Np = u8;
}

/// A vector as a numpy array that owns it: no copy, numpy frees it
/// through Rust when the array dies.
pub fn owned<'py, T: Plain>(py: Python<'py>, v: Vec<T>) -> Bound<'py, PyAny> {
    let v: Vec<T::Np> = match bytemuck::try_cast_vec(v) {
        Ok(v) => v,
        // Same size and alignment by construction; copy if ever not.
        Err((_, v)) => bytemuck::cast_slice(&v).to_vec(),
    };
    PyArray1::from_vec(py, v).into_any()
}

/// Borrows a 1-D contiguous numpy array as `&[T]` (no copy). Writes then
/// run with the GIL released over this borrow: numpy's borrow flags keep
/// Rust code from mutating it, but another Python thread that writes into
/// the same array during the call races with the write (as with any
/// buffer-protocol consumer that releases the GIL); the Python layer passes
/// arrays it made or the caller's own.
pub fn borrow<'a, 'py, T: Plain>(a: &'a PyReadonlyArray1<'py, T::Np>) -> PyResult<&'a [T]> {
    let s = a
        .as_slice()
        .map_err(|_| PyValueError::new_err("array must be C-contiguous"))?;
    bytemuck::try_cast_slice(s).map_err(|e| PyValueError::new_err(format!("array layout: {e}")))
}

/// Extracts a read-only 1-D array of `T`'s numpy type.
pub fn array<'py, T: Plain>(
    obj: &Bound<'py, PyAny>,
    what: &str,
) -> PyResult<PyReadonlyArray1<'py, T::Np>> {
    obj.extract::<PyReadonlyArray1<'py, T::Np>>().map_err(|_| {
        let got = obj
            .getattr("dtype")
            .and_then(|d| d.str().map(|s| s.to_string()))
            .unwrap_or_else(|_| "not an array".into());
        PyValueError::new_err(format!(
            "{what}: expected a 1-D {} array, got {got}",
            std::any::type_name::<T>()
        ))
    })
}

/// Decoded values as Python objects: numbers as a numpy array (the Python
/// layer casts to the stored dtype), strings and structured values as a
/// list.
pub fn values<'py>(py: Python<'py>, v: Values) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Values::Int(v) => PyArray1::from_vec(py, v).into_any(),
        Values::UInt(v) => PyArray1::from_vec(py, v).into_any(),
        Values::Float(v) => PyArray1::from_vec(py, v).into_any(),
        Values::Bool(v) => PyArray1::from_vec(py, v).into_any(),
        Values::Str(v) => PyList::new(py, v)?.into_any(),
        Values::Nested(v) => {
            let items: PyResult<Vec<_>> = v.into_iter().map(|x| value(py, x)).collect();
            PyList::new(py, items?)?.into_any()
        }
    })
}

/// One structured value as a Python object.
pub fn value<'py>(py: Python<'py>, v: Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::UInt(u) => u.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Bool(b) => pyo3::types::PyBool::new(py, b).to_owned().into_any(),
        Value::Str(s) => s.into_pyobject(py)?.into_any(),
        Value::Bytes(b) => pyo3::types::PyBytes::new(py, &b).into_any(),
        Value::Complex(re, im) => pyo3::types::PyComplex::from_doubles(py, re, im).into_any(),
        Value::List(items) => {
            let items: PyResult<Vec<_>> = items.into_iter().map(|x| value(py, x)).collect();
            PyList::new(py, items?)?.into_any()
        }
        Value::Record(fields) => {
            let d = PyDict::new(py);
            for (k, x) in fields {
                d.set_item(k, value(py, x)?)?;
            }
            d.into_any()
        }
        Value::ObjectRef(r) => match r.and_then(|r| r.path) {
            Some(p) => p.into_pyobject(py)?.into_any(),
            None => py.None().into_bound(py),
        },
        Value::RegionRef(r) => format!("{r:?}").into_pyobject(py)?.into_any(),
    })
}
