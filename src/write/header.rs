//! Editing messages of existing object headers in place.
//!
//! Three primitives, each published by a single write of one message slot:
//!
//! * a message that fits a NIL (free) slot is written over it;
//! * a message that does not fit anywhere moves, with the message it
//!   displaces, into a fresh continuation block, and the displaced slot
//!   becomes the continuation message that links the block in;
//! * a removed message becomes NIL.
//!
//! Version 1 headers also count their messages in the prefix. libhdf5
//! refuses a header holding more messages than its prefix declares ("bad
//! object header message count") but accepts fewer outside strict format
//! checking, so a count that grows is written *before* the publishing write:
//! a crash between the two leaves a declared count that is merely too high.

use std::borrow::Cow;

use super::tx::Tx;
use crate::error::{Error, Result};
use crate::format::object_header::{
    count_v1_messages, encode_message_v1, encode_v1_continuation_block, kind, NewMessage,
    ObjectHeader, Slot,
};
use crate::format::{Address, FileView};

/// Size of a v1 message header.
const V1_MSG_HEADER: u64 = 8;
/// Free space left in a new continuation block for later additions.
const CONTINUATION_SLACK: usize = 256;

/// A message as it sits in a slot (raw header + data).
fn slot_message<'a>(view: &FileView<'a>, slot: &Slot) -> Result<NewMessage<'a>> {
    let raw = view.slice(
        Address(slot.header_at - view.base),
        slot.total_len,
        "message slot",
    )?;
    let size = u16::from_le_bytes([raw[2], raw[3]]) as usize;
    let data = raw
        .get(8..8 + size)
        .ok_or_else(|| Error::format(slot.header_at, "message data runs past its slot"))?;
    Ok(NewMessage {
        kind: u16::from_le_bytes([raw[0], raw[1]]),
        flags: raw[4],
        data: Cow::Borrowed(data),
    })
}

/// A v1 message whose data is padded to fill exactly `total_len` bytes.
fn encode_filling(msg: &NewMessage<'_>, total_len: u64) -> Result<Vec<u8>> {
    let mut bytes = encode_message_v1(msg)?;
    if bytes.len() as u64 > total_len {
        return Err(Error::invalid("message does not fit its slot"));
    }
    let data_len = total_len - V1_MSG_HEADER;
    let data_len16 = u16::try_from(data_len)
        .map_err(|_| Error::invalid("object header message larger than 64 KiB"))?;
    bytes[2..4].copy_from_slice(&data_len16.to_le_bytes());
    bytes.resize(total_len as usize, 0);
    Ok(bytes)
}

/// A v1 NIL message of `total_len` bytes.
fn nil(total_len: u64) -> Result<Vec<u8>> {
    encode_filling(
        &NewMessage {
            kind: kind::NIL,
            flags: 0,
            data: Cow::Borrowed(&[]),
        },
        total_len,
    )
}

/// Reads the object header at `oh`, refusing versions not yet editable.
fn editable<'a>(view: &FileView<'a>, tx: &Tx<'_>, oh: Address) -> Result<ObjectHeader<'a>> {
    let hdr = ObjectHeader::parse(view, oh, &tx.limits)?;
    if hdr.version != 1 {
        return Err(Error::unsupported(
            "modifying version 2 object headers (files written with libver='latest'); \
             rewrite the file with `h5sparse copy --libver earliest` first",
        ));
    }
    Ok(hdr)
}

/// Stages a new v1 message count in the header prefix.
fn set_count(tx: &mut Tx<'_>, view: &FileView<'_>, oh: Address, delta: i64) -> Result<()> {
    if delta == 0 {
        return Ok(());
    }
    let prefix = view.slice(oh, 4, "object header prefix")?;
    let old = i64::from(u16::from_le_bytes([prefix[2], prefix[3]]));
    let new = u16::try_from(old + delta)
        .map_err(|_| Error::invalid("object header would hold more than 65535 messages"))?;
    tx.publish(Address(oh.0 + 2), new.to_le_bytes().to_vec());
    Ok(())
}

/// Adds `msg` to the object header at `oh`.
pub(crate) fn add_message(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    msg: NewMessage<'_>,
) -> Result<()> {
    let hdr = editable(view, tx, oh)?;
    let need = encode_message_v1(&msg)?.len() as u64;
    // 1. A free slot that fits: the smallest one.
    let fit = hdr
        .slots
        .iter()
        .filter(|s| s.kind == kind::NIL && s.total_len >= need)
        .min_by_key(|s| s.total_len);
    if let Some(slot) = fit {
        let rest = slot.total_len - need;
        if rest >= V1_MSG_HEADER {
            let mut bytes = encode_message_v1(&msg)?;
            bytes.extend(nil(rest)?);
            set_count(tx, view, oh, 1)?;
            tx.publish_abs(slot.header_at, bytes);
            return Ok(());
        }
        tx.publish_abs(slot.header_at, encode_filling(&msg, slot.total_len)?);
        return Ok(());
    }
    // 2. Move into a continuation block, displacing a slot big enough to
    //    hold the continuation message (header + address + length).
    let cont_len = V1_MSG_HEADER + 8 + u64::from(tx.sizes.length);
    let victim = hdr
        .slots
        .iter()
        .filter(|s| s.total_len >= cont_len && s.kind != kind::CONTINUATION)
        .min_by_key(|s| (s.kind != kind::NIL, s.total_len))
        .ok_or_else(|| {
            Error::invalid("object header has no slot large enough to link a continuation block")
        })?;
    let mut moved = Vec::new();
    if victim.kind != kind::NIL {
        moved.push(slot_message(view, victim)?);
    }
    moved.push(msg);
    move_into_continuation(view, tx, oh, victim, &moved)
}

/// Writes `messages` into a fresh continuation block and publishes it by
/// turning `slot` into the continuation message that links it in (one
/// write; whatever `slot` held disappears with it). The header's message
/// count is raised first.
fn move_into_continuation(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    slot: &Slot,
    messages: &[NewMessage<'_>],
) -> Result<()> {
    let content: usize = messages
        .iter()
        .map(|m| encode_message_v1(m).map(|b| b.len()))
        .sum::<Result<usize>>()?;
    let block_len = content + CONTINUATION_SLACK;
    let block = encode_v1_continuation_block(messages, block_len)?;
    let block_messages = count_v1_messages(&block)? as i64;
    let addr = tx.put(block)?;
    let mut data = Vec::with_capacity(16);
    data.extend_from_slice(&addr.0.to_le_bytes()[..usize::from(tx.sizes.offset)]);
    data.extend_from_slice(&(block_len as u64).to_le_bytes()[..usize::from(tx.sizes.length)]);
    let cont = NewMessage {
        kind: kind::CONTINUATION,
        flags: 0,
        data: Cow::Owned(data),
    };
    set_count(tx, view, oh, block_messages)?;
    tx.publish_abs(slot.header_at, encode_filling(&cont, slot.total_len)?);
    Ok(())
}

/// Replaces the message in `slot` of the header at `oh` with `msg`.
pub(crate) fn replace_message(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    slot: &Slot,
    msg: NewMessage<'_>,
) -> Result<()> {
    editable(view, tx, oh)?;
    let need = encode_message_v1(&msg)?.len() as u64;
    if need <= slot.total_len {
        tx.publish_abs(slot.header_at, encode_filling(&msg, slot.total_len)?);
        return Ok(());
    }
    // Too big: the slot becomes a continuation to a block holding the new
    // message, so the old one disappears in the same write.
    let cont_len = V1_MSG_HEADER + 8 + u64::from(tx.sizes.length);
    if slot.total_len < cont_len {
        return Err(Error::invalid("message slot too small to replace"));
    }
    move_into_continuation(view, tx, oh, slot, std::slice::from_ref(&msg))
}

/// Turns the message in `slot` into free space.
pub(crate) fn remove_message(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    slot: &Slot,
) -> Result<()> {
    editable(view, tx, oh)?;
    tx.publish_abs(slot.header_at, nil(slot.total_len)?);
    Ok(())
}

/// The slots of `hdr` holding messages of kind `k`, with their data.
pub(crate) fn slots_of<'a>(
    view: &FileView<'a>,
    hdr: &ObjectHeader<'a>,
    k: u16,
) -> Result<Vec<(Slot, NewMessage<'a>)>> {
    let mut out = Vec::new();
    for s in hdr.slots.iter().filter(|s| s.kind == k) {
        out.push((*s, slot_message(view, s)?));
    }
    Ok(out)
}
