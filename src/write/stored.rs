//! Elements as the dataset being written stores them: its dtype read from
//! its header, native values put in its byte order.

use std::borrow::Cow;

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::{Address, FileView};
use crate::read::{Dtype, H5Type};

/// The user-facing dtype of the dataset whose header is at `addr`.
pub(super) fn dataset_dtype(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    addr: Address,
    path: &str,
) -> Result<Dtype> {
    let hdr = crate::format::object_header::ObjectHeader::parse(view, addr, &tx.limits)?;
    let m = hdr
        .first(crate::format::object_header::kind::DATATYPE)
        .ok_or_else(|| Error::invalid(format!("{path} is not a dataset")))?;
    let (dt, _) = crate::format::message::datatype::Datatype::parse(m.data, m.at, view.sizes)?;
    Ok(crate::read::File::dtype_from(&dt))
}

/// Native `T` elements in the stored byte order of the dataset at `addr`
/// (borrowed when that is the native order), refusing a type mismatch.
pub(super) fn stored_bytes<'d, T: H5Type>(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    addr: Address,
    path: &str,
    data: &'d [T],
) -> Result<Cow<'d, [u8]>> {
    let dtype = dataset_dtype(view, tx, addr, path)?;
    bytes_as_stored(data, &dtype, path)
}

/// Native `T` elements as bytes in `dtype`'s byte order (borrowed when that
/// is the native order), refusing a `T` that is not `dtype`'s type.
pub(crate) fn bytes_as_stored<'d, T: H5Type>(
    data: &'d [T],
    dtype: &Dtype,
    path: &str,
) -> Result<Cow<'d, [u8]>> {
    if !T::matches(dtype) {
        return Err(Error::invalid(format!(
            "{path} holds {}, cannot write {}",
            dtype.numpy_str(),
            std::any::type_name::<T>()
        )));
    }
    let bytes: &[u8] = bytemuck::cast_slice(data);
    let order = match dtype {
        Dtype::Int { order, .. } | Dtype::Float { order, .. } => *order,
        _ => crate::read::ByteOrder::NATIVE,
    };
    if order == crate::read::ByteOrder::NATIVE || std::mem::size_of::<T>() == 1 {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut v = bytes.to_vec();
    for e in v.chunks_exact_mut(std::mem::size_of::<T>()) {
        e.reverse();
    }
    Ok(Cow::Owned(v))
}
