//! A [`ReadAt`] source backed by a JavaScript reader object: anything with a
//! `length` and a synchronous `read(offset, length)` returning the bytes.
//! The glue's readers (`blobReader`, `urlReader` in `www/readers.js`) and
//! the node test's file reader are such objects.

use std::io;

use h5sparse::io::ReadAt;
use h5sparse::{Error, Result};
use js_sys::{ArrayBuffer, Function, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// The largest offset a JavaScript number holds exactly (2^53 - 1).
const MAX_SAFE: u64 = (1 << 53) - 1;

/// A JavaScript reader: `{ length, read(offset, length) -> Uint8Array }`.
#[derive(Debug)]
pub(crate) struct JsReader {
    reader: JsValue,
    read: Function,
    len: u64,
    what: String,
}

// SAFETY: wasm32-unknown-unknown without the `atomics` target feature has one
// thread: the JS values are never touched from another thread. A build with
// threads (atomics) would not compile this impl.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Send for JsReader {}
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for JsReader {}

/// The text of a thrown JS value: an `Error`'s message, else its string form.
pub(crate) fn js_text(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

impl JsReader {
    /// Checks `reader`'s shape: a `length` number and a `read` function.
    pub(crate) fn new(reader: JsValue) -> Result<JsReader> {
        let bad = |what: &str| Error::invalid(format!("the reader object: {what}"));
        let len = Reflect::get(&reader, &"length".into())
            .ok()
            .and_then(|v| v.as_f64())
            .ok_or_else(|| bad("expected a numeric `length`, found none"))?;
        if !(len >= 0.0 && len <= MAX_SAFE as f64 && len.fract() == 0.0) {
            return Err(bad(&format!("`length` {len} is not a byte count")));
        }
        let read = Reflect::get(&reader, &"read".into())
            .ok()
            .and_then(|v| v.dyn_into::<Function>().ok())
            .ok_or_else(|| bad("expected a `read(offset, length)` function, found none"))?;
        let what = Reflect::get(&reader, &"name".into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_else(|| format!("{len} bytes from a JavaScript reader"));
        Ok(JsReader {
            reader,
            read,
            len: len as u64,
            what,
        })
    }
}

impl ReadAt for JsReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        let n = buf.len() as u64;
        let end = offset.checked_add(n).filter(|&e| e <= self.len);
        if end.is_none() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: reading {n} bytes at offset {offset} goes past the end ({} bytes)",
                    self.what, self.len
                ),
            )));
        }
        if buf.is_empty() {
            return Ok(());
        }
        let fail = |msg: String| {
            Error::Io(io::Error::other(format!(
                "{}: reading {n} bytes at offset {offset}: {msg}",
                self.what
            )))
        };
        let got = self
            .read
            .call2(
                &self.reader,
                &JsValue::from_f64(offset as f64),
                &JsValue::from_f64(n as f64),
            )
            .map_err(|e| fail(js_text(&e)))?;
        let bytes = if let Some(b) = got.dyn_ref::<Uint8Array>() {
            b.clone()
        } else if let Some(b) = got.dyn_ref::<ArrayBuffer>() {
            Uint8Array::new(b)
        } else {
            return Err(fail(
                "the reader returned neither a Uint8Array nor an ArrayBuffer".into(),
            ));
        };
        if u64::from(bytes.length()) != n {
            return Err(fail(format!(
                "the reader returned {} bytes",
                bytes.length()
            )));
        }
        bytes.copy_to(buf);
        Ok(())
    }

    fn describe(&self) -> String {
        self.what.clone()
    }
}
