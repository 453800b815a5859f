//! Rust values to JavaScript ones: numbers, strings, arrays, typed arrays
//! and plain objects.

use h5sparse::read::Value;
use h5sparse::{Dataset, Dtype, H5Type, Result, Values};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE: i64 = (1 << 53) - 1;

/// A plain object built key by key.
pub(crate) struct Obj(Object);

impl Obj {
    pub(crate) fn new() -> Obj {
        Obj(Object::new())
    }

    /// Sets `key` (chainable).
    pub(crate) fn set(self, key: &str, value: impl Into<JsValue>) -> Obj {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&self.0, &key.into(), &value.into());
        self
    }

    pub(crate) fn build(self) -> JsValue {
        self.0.into()
    }
}

/// An integer as a number when exact, else a BigInt.
pub(crate) fn int(v: i64) -> JsValue {
    if (-MAX_SAFE..=MAX_SAFE).contains(&v) {
        JsValue::from_f64(v as f64)
    } else {
        JsValue::from(v)
    }
}

/// An unsigned integer as a number when exact, else a BigInt.
pub(crate) fn uint(v: u64) -> JsValue {
    if v <= MAX_SAFE as u64 {
        JsValue::from_f64(v as f64)
    } else {
        // From its digits: wasm-bindgen 0.2.129's `JsValue::from(u64)` gives a
        // negative BigInt past i64::MAX.
        js_sys::BigInt::new(&JsValue::from_str(&v.to_string())).map_or(JsValue::NULL, JsValue::from)
    }
}

/// A list of numbers as a JS array of numbers.
pub(crate) fn uints(v: &[u64]) -> JsValue {
    v.iter().map(|&x| uint(x)).collect::<Array>().into()
}

/// Strings as a JS array.
pub(crate) fn strings<S: AsRef<str>>(v: &[S]) -> JsValue {
    v.iter()
        .map(|s| JsValue::from_str(s.as_ref()))
        .collect::<Array>()
        .into()
}

/// One element of a structured type.
pub(crate) fn value(v: &Value) -> JsValue {
    match v {
        Value::Int(x) => int(*x),
        Value::UInt(x) => uint(*x),
        Value::Float(x) => JsValue::from_f64(*x),
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Str(s) => JsValue::from_str(s),
        Value::Bytes(b) => js_sys::Uint8Array::from(&b[..]).into(),
        Value::Complex(re, im) => Obj::new().set("re", *re).set("im", *im).build(),
        Value::List(items) => items.iter().map(value).collect::<Array>().into(),
        Value::Record(fields) => {
            let o = Object::new();
            for (name, v) in fields {
                let _ = Reflect::set(&o, &JsValue::from_str(name), &value(v));
            }
            o.into()
        }
        Value::ObjectRef(r) => match r {
            Some(r) => Obj::new()
                .set("ref", r.path.clone().unwrap_or_default())
                .build(),
            None => JsValue::NULL,
        },
        Value::RegionRef(r) => match r {
            Some(r) => Obj::new()
                .set("regionRef", r.dataset.path.clone().unwrap_or_default())
                .build(),
            None => JsValue::NULL,
        },
    }
}

/// Decoded values as a JS array (numbers, strings, booleans, objects).
pub(crate) fn values(v: &Values) -> JsValue {
    let arr: Array = match v {
        Values::Int(x) => x.iter().map(|&e| int(e)).collect(),
        Values::UInt(x) => x.iter().map(|&e| uint(e)).collect(),
        Values::Float(x) => x.iter().map(|&e| JsValue::from_f64(e)).collect(),
        Values::Bool(x) => x.iter().map(|&e| JsValue::from_bool(e)).collect(),
        Values::Str(x) => x.iter().map(|e| JsValue::from_str(e)).collect(),
        Values::Nested(x) => x.iter().map(value).collect(),
    };
    arr.into()
}

/// Values of an attribute: the single element of a scalar, else the array.
pub(crate) fn attribute_value(v: &Values, shape: Option<&[u64]>) -> JsValue {
    let arr: Array = values(v).into();
    match shape {
        Some([]) if arr.length() == 1 => arr.get(0),
        None => JsValue::NULL,
        _ => arr.into(),
    }
}

/// The typed array kind for a numeric dtype, `None` for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Num {
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl Num {
    /// The typed array a dtype's values go into.
    pub(crate) fn of(dtype: &Dtype) -> Option<Num> {
        Some(match dtype {
            Dtype::Float { size: 4, .. } => Num::F32,
            Dtype::Float { size: 8, .. } => Num::F64,
            Dtype::Int { size, signed, .. } => match (size, signed) {
                (1, true) => Num::I8,
                (1, false) => Num::U8,
                (2, true) => Num::I16,
                (2, false) => Num::U16,
                (4, true) => Num::I32,
                (4, false) => Num::U32,
                (8, true) => Num::I64,
                (8, false) => Num::U64,
                _ => return None,
            },
            _ => return None,
        })
    }
}

/// A typed array copied from a slice.
pub(crate) trait ToTyped: H5Type {
    fn typed(v: &[Self]) -> JsValue;
}

macro_rules! to_typed {
    ($($t:ty => $arr:ty),*) => {$(
        impl ToTyped for $t {
            fn typed(v: &[$t]) -> JsValue {
                <$arr>::from(v).into()
            }
        }
    )*};
}
to_typed!(
    i8 => js_sys::Int8Array, u8 => js_sys::Uint8Array,
    i16 => js_sys::Int16Array, u16 => js_sys::Uint16Array,
    i32 => js_sys::Int32Array, u32 => js_sys::Uint32Array,
    i64 => js_sys::BigInt64Array, u64 => js_sys::BigUint64Array,
    f32 => js_sys::Float32Array, f64 => js_sys::Float64Array
);

/// Calls `$f::<T>($args)` with `T` the Rust type of `$num`.
macro_rules! dispatch_num {
    ($num:expr, $f:ident ( $($args:expr),* )) => {
        match $num {
            $crate::convert::Num::I8 => $f::<i8>($($args),*),
            $crate::convert::Num::U8 => $f::<u8>($($args),*),
            $crate::convert::Num::I16 => $f::<i16>($($args),*),
            $crate::convert::Num::U16 => $f::<u16>($($args),*),
            $crate::convert::Num::I32 => $f::<i32>($($args),*),
            $crate::convert::Num::U32 => $f::<u32>($($args),*),
            $crate::convert::Num::I64 => $f::<i64>($($args),*),
            $crate::convert::Num::U64 => $f::<u64>($($args),*),
            $crate::convert::Num::F32 => $f::<f32>($($args),*),
            $crate::convert::Num::F64 => $f::<f64>($($args),*),
        }
    };
}
pub(crate) use dispatch_num;

/// A hyperslab of a dataset: a typed array for numbers, else a JS array.
pub(crate) fn slab(ds: &Dataset<'_>, start: &[u64], count: &[u64]) -> Result<JsValue> {
    fn typed<T: ToTyped>(ds: &Dataset<'_>, start: &[u64], count: &[u64]) -> Result<JsValue> {
        Ok(T::typed(&ds.read_slab::<T>(start, count)?))
    }
    match Num::of(ds.dtype()) {
        Some(num) => dispatch_num!(num, typed(ds, start, count)),
        None => Ok(values(&ds.values_slab(start, count)?)),
    }
}
