//! Adding, overwriting and deleting attributes, in an object header
//! ("compact" storage) or in dense storage (see [`super::dense`]).
//!
//! As libhdf5 does for objects with version 2 headers, an object whose
//! attribute count rises above its maximum for compact storage (stored in
//! the header, else 8) moves its attributes to dense storage, and one whose
//! count falls below the minimum for dense storage (else 6) moves them back.
//! An attribute too large for a header message (64 KiB) goes to dense
//! storage too, as a huge heap object. Version 1 headers (libver earliest)
//! have no dense storage: there attributes stay compact and are limited to
//! 64 KiB, as in libhdf5.

use std::borrow::Cow;

use super::dense::{self, Entry, Kind};
use super::header::{self, Edit};
use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::message::attribute::AttributeMessage;
use crate::format::message::attribute_info::AttributeInfo;
use crate::format::message::dataspace::{Dataspace, DataspaceKind};
use crate::format::message::datatype::Datatype;
use crate::format::object_header::{kind, NewMessage, ObjectHeader, Slot, MESSAGE_FLAG_SHARED};
use crate::format::{Address, FileView};

/// libhdf5's default (maximum compact, minimum dense) attribute counts.
const DEFAULT_PHASE_CHANGE: (u16, u16) = (8, 6);
/// Largest attribute message kept in an object header.
const MAX_COMPACT_MESSAGE: usize = 65_000;
/// Object header flag: attribute creation order tracked.
const HEADER_TRACKS_ORDER: u8 = 0x04;

/// One attribute as stored.
struct Attr {
    /// `None` for a shared (committed-datatype-style) message we do not decode.
    name: Option<String>,
    message: Vec<u8>,
    order: u64,
    flags: u8,
    slot: Option<Slot>,
}

/// The attributes of one object and how they are stored.
struct Attrs {
    oh: Address,
    header_version: u8,
    tracked: bool,
    info: Option<(Slot, AttributeInfo)>,
    phase_change: (u16, u16),
    dense: bool,
    attrs: Vec<Attr>,
}

fn attribute_message(data: &[u8]) -> NewMessage<'static> {
    NewMessage {
        kind: kind::ATTRIBUTE,
        flags: 0,
        data: Cow::Owned(data.to_vec()),
    }
}

fn info_message(info: &AttributeInfo) -> Result<NewMessage<'static>> {
    Ok(NewMessage {
        kind: kind::ATTRIBUTE_INFO,
        flags: 0,
        data: Cow::Owned(info.encode()?),
    })
}

impl Attrs {
    fn read(view: &FileView<'_>, tx: &Tx<'_>, oh: Address) -> Result<Attrs> {
        let hdr = ObjectHeader::parse(view, oh, &tx.limits)?;
        let sizes = view.sizes;
        let info = match header::slots_of(view, &hdr, kind::ATTRIBUTE_INFO)?
            .into_iter()
            .next()
        {
            Some((slot, m)) => Some((slot, AttributeInfo::parse(&m.data, slot.header_at, sizes)?)),
            None => None,
        };
        let mut attrs = Vec::new();
        for (slot, m) in header::slots_of(view, &hdr, kind::ATTRIBUTE)? {
            let name = if m.flags & MESSAGE_FLAG_SHARED != 0 {
                None
            } else {
                let at = slot.header_at + header::message_header_len(&hdr);
                Some(AttributeMessage::parse(&m.data, at, sizes)?.name)
            };
            attrs.push(Attr {
                name,
                message: m.data.into_owned(),
                order: u64::from(slot.creation_index.unwrap_or(0)),
                flags: m.flags,
                slot: Some(slot),
            });
        }
        let mut dense = false;
        if let Some((_, i)) = &info {
            if !i.fractal_heap.is_undefined() {
                dense = true;
                let entries = dense::read(
                    view,
                    &tx.limits,
                    Kind::Attributes,
                    i.fractal_heap,
                    i.name_index,
                )?;
                for e in entries {
                    attrs.push(Attr {
                        name: Some(
                            String::from_utf8(e.name)
                                .map_err(|_| Error::invalid("attribute name is not UTF-8"))?,
                        ),
                        message: e.message,
                        order: e.order,
                        flags: e.flags,
                        slot: None,
                    });
                }
            }
        }
        Ok(Attrs {
            oh,
            header_version: hdr.version,
            tracked: hdr.flags & HEADER_TRACKS_ORDER != 0,
            info,
            phase_change: hdr.attribute_phase_change.unwrap_or(DEFAULT_PHASE_CHANGE),
            dense,
            attrs,
        })
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.attrs
            .iter()
            .position(|a| a.name.as_deref() == Some(name))
    }

    /// The attribute info to publish with, its creation index advanced when
    /// `new` attributes are added (returns their first creation order).
    fn next_info(&self, new: bool) -> (AttributeInfo, u64) {
        let mut info = self.info.map(|(_, i)| i).unwrap_or_else(|| {
            let mut i = AttributeInfo::compact(self.tracked);
            if let Some(m) = i.max_creation_index.as_mut() {
                // No info message yet: continue after the header's numbers.
                let next = self.attrs.iter().map(|a| a.order + 1).max().unwrap_or(0);
                *m = u16::try_from(next).unwrap_or(u16::MAX);
            }
            i
        });
        let order = info.max_creation_index.map_or(0, u64::from);
        if new {
            if let Some(m) = info.max_creation_index.as_mut() {
                *m = m.saturating_add(1);
            }
        }
        (info, order)
    }

    fn set(
        mut self,
        view: &FileView<'_>,
        tx: &mut Tx<'_>,
        name: &str,
        message: Vec<u8>,
    ) -> Result<()> {
        let too_big = message.len() > MAX_COMPACT_MESSAGE;
        if too_big && self.header_version < 2 {
            return Err(Error::unsupported(format!(
                "attribute {name:?} is {} bytes; attributes of objects with version 1 headers \
                 (libver earliest) are limited to 64 KiB: write the latest format \
                 (Format::Latest, `h5sparse copy --libver latest`)",
                message.len()
            )));
        }
        let existing = self.position(name);
        if let Some(i) = existing {
            if let (Some(slot), false) = (self.attrs[i].slot, too_big) {
                return header::replace_message(
                    view,
                    tx,
                    self.oh,
                    &slot,
                    attribute_message(&message),
                );
            }
            let (info, _) = self.next_info(false);
            self.attrs[i].message = message;
            return self.store(view, tx, info, true);
        }
        let (info, order) = self.next_info(true);
        let count = self.attrs.len() + 1;
        self.attrs.push(Attr {
            name: Some(name.to_string()),
            message,
            order,
            flags: 0,
            slot: None,
        });
        if self.dense || too_big || self.over_compact_limit(count) {
            return self.store(view, tx, info, true);
        }
        let new = self
            .attrs
            .last()
            .map(|a| a.message.clone())
            .unwrap_or_default();
        let mut edits = Vec::new();
        if self.tracked {
            let order = u16::try_from(order)
                .map_err(|_| Error::invalid("attribute creation order past 65535"))?;
            edits.push(match self.info {
                Some((slot, _)) => Edit::Replace(slot, info_message(&info)?),
                None => Edit::Add(info_message(&info)?),
            });
            edits.push(Edit::AddOrdered(attribute_message(&new), order));
        } else {
            edits.push(Edit::Add(attribute_message(&new)));
        }
        header::edit(view, tx, self.oh, edits)
    }

    fn delete(mut self, view: &FileView<'_>, tx: &mut Tx<'_>, name: &str) -> Result<()> {
        let i = self
            .position(name)
            .ok_or_else(|| Error::invalid(format!("no attribute named {name:?}")))?;
        let gone = self.attrs.remove(i);
        match gone.slot {
            Some(slot) => header::remove_message(view, tx, self.oh, &slot),
            None => {
                let (info, _) = self.next_info(false);
                self.store(view, tx, info, false)
            }
        }
    }

    fn over_compact_limit(&self, count: usize) -> bool {
        self.header_version >= 2 && count > usize::from(self.phase_change.0)
    }

    /// Stores the attributes afresh, dense or compact by the thresholds,
    /// published together with the attribute info message.
    fn store(
        self,
        view: &FileView<'_>,
        tx: &mut Tx<'_>,
        mut info: AttributeInfo,
        growing: bool,
    ) -> Result<()> {
        let count = self.attrs.len();
        let any_too_big = self
            .attrs
            .iter()
            .any(|a| a.message.len() > MAX_COMPACT_MESSAGE);
        let dense = any_too_big
            || if self.dense {
                growing || count >= usize::from(self.phase_change.1)
            } else {
                self.over_compact_limit(count)
            };
        let mut edits = Vec::new();
        if dense {
            let mut entries = Vec::with_capacity(count);
            for a in &self.attrs {
                let Some(name) = &a.name else {
                    return Err(Error::unsupported(
                        "moving shared attribute messages into dense attribute storage",
                    ));
                };
                entries.push(Entry {
                    name: name.clone().into_bytes(),
                    message: a.message.clone(),
                    order: a.order,
                    flags: a.flags,
                });
            }
            let indexed = info.max_creation_index.is_some();
            let stored = dense::write(tx, Kind::Attributes, &entries, indexed)?;
            info.fractal_heap = stored.heap;
            info.name_index = stored.name_index;
            info.order_index = stored.order_index;
            for a in &self.attrs {
                if let Some(slot) = a.slot {
                    edits.push(Edit::Remove(slot));
                }
            }
        } else {
            info.fractal_heap = Address::UNDEFINED;
            info.name_index = Address::UNDEFINED;
            info.order_index = Address::UNDEFINED;
            for a in self.attrs.iter().filter(|a| a.slot.is_none()) {
                let msg = NewMessage {
                    kind: kind::ATTRIBUTE,
                    flags: a.flags,
                    data: Cow::Owned(a.message.clone()),
                };
                edits.push(if self.tracked {
                    Edit::AddOrdered(msg, u16::try_from(a.order).unwrap_or(u16::MAX))
                } else {
                    Edit::Add(msg)
                });
            }
        }
        // The info message first: its chunk is published first, so a crash
        // part-way (messages spread over several chunks) can show an
        // attribute twice but never loses one.
        edits.insert(
            0,
            match self.info {
                Some((slot, _)) => Edit::Replace(slot, info_message(&info)?),
                None => Edit::Add(info_message(&info)?),
            },
        );
        header::edit(view, tx, self.oh, edits)
    }
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
    let attrs = Attrs::read(view, tx, oh)?;
    let version = if attrs.header_version >= 2 { 3 } else { 1 };
    let encoded = AttributeMessage::encode(name, datatype, &space, data, version)?;
    attrs.set(view, tx, name, encoded)
}

/// Deletes attribute `name` from the object at `oh`.
pub(crate) fn delete(view: &FileView<'_>, tx: &mut Tx<'_>, oh: Address, name: &str) -> Result<()> {
    Attrs::read(view, tx, oh)?.delete(view, tx, name)
}
