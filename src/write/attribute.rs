//! Adding, overwriting and deleting attributes (compact storage).

use std::borrow::Cow;

use super::header;
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::message::attribute::AttributeMessage;
use crate::format::message::attribute_info::AttributeInfo;
use crate::format::message::dataspace::{Dataspace, DataspaceKind};
use crate::format::message::datatype::Datatype;
use crate::format::object_header::{kind, NewMessage, ObjectHeader};
use crate::format::{Address, FileView};

fn refuse_dense(view: &FileView<'_>, hdr: &ObjectHeader<'_>) -> Result<()> {
    if let Some(m) = hdr.first(kind::ATTRIBUTE_INFO) {
        let info = AttributeInfo::parse(m.data, m.at, view.sizes)?;
        if !info.fractal_heap.is_undefined() {
            return Err(Error::unsupported("modifying dense attribute storage (more than 8 attributes in a libver='latest' file)"));
        }
    }
    Ok(())
}

/// The slot of attribute `name` on the object at `oh`, if any.
fn find(
    view: &FileView<'_>,
    tx: &Tx<'_>,
    oh: Address,
    name: &str,
) -> Result<Option<crate::format::object_header::Slot>> {
    let hdr = ObjectHeader::parse(view, oh, &tx.limits)?;
    refuse_dense(view, &hdr)?;
    for (slot, msg) in header::slots_of(view, &hdr, kind::ATTRIBUTE)? {
        if msg.flags & crate::format::object_header::MESSAGE_FLAG_SHARED != 0 {
            continue;
        }
        let at = slot.header_at + header::message_header_len(&hdr);
        let parsed = AttributeMessage::parse(&msg.data, at, view.sizes);
        if let Ok(a) = parsed {
            if a.name == name {
                return Ok(Some(slot));
            }
        }
    }
    Ok(None)
}

/// Sets attribute `name` (replacing one of the same name) on the object at
/// `oh`. `shape`: `None` null dataspace, empty scalar.
pub(crate) fn set(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    name: &str,
    datatype: &Datatype,
    shape: Option<&[u64]>,
    data: &[u8],
) -> Result<()> {
    let space = match shape {
        None => Dataspace {
            kind: DataspaceKind::Null,
            dims: Vec::new(),
            max_dims: None,
        },
        Some([]) => Dataspace {
            kind: DataspaceKind::Scalar,
            dims: Vec::new(),
            max_dims: None,
        },
        Some(dims) => Dataspace {
            kind: DataspaceKind::Simple,
            dims: dims.to_vec(),
            max_dims: None,
        },
    };
    let hdr_version = ObjectHeader::parse(view, oh, &tx.limits)?.version;
    let version = if hdr_version >= 2 { 3 } else { 1 };
    let encoded = AttributeMessage::encode(name, datatype, &space, data, version)?;
    if encoded.len() > 65_000 {
        return Err(Error::unsupported(format!(
            "attribute {name:?} is {} bytes; compact attributes are limited to 64 KiB",
            encoded.len()
        )));
    }
    let msg = NewMessage {
        kind: kind::ATTRIBUTE,
        flags: 0,
        data: Cow::Owned(encoded),
    };
    match find(view, tx, oh, name)? {
        Some(slot) => header::replace_message(view, tx, oh, &slot, msg),
        None => header::add_message(view, tx, oh, msg),
    }
}

/// Deletes attribute `name` from the object at `oh`.
pub(crate) fn delete(view: &FileView<'_>, tx: &mut Tx<'_>, oh: Address, name: &str) -> Result<()> {
    match find(view, tx, oh, name)? {
        Some(slot) => header::remove_message(view, tx, oh, &slot),
        None => Err(Error::invalid(format!("no attribute named {name:?}"))),
    }
}
