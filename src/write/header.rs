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
//! Version 2 headers (`OHDR`/`OCHK`, checksummed) are edited a chunk at a
//! time instead: see [`edit`].
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
    count_v1_messages, encode_message_v1, encode_v1_continuation_block,
    encode_v2_continuation_block, kind, v2_message_header_len, NewMessage, ObjectHeader, Slot,
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

/// Reads the object header at `oh`.
fn editable<'a>(view: &FileView<'a>, tx: &Tx<'_>, oh: Address) -> Result<ObjectHeader<'a>> {
    ObjectHeader::parse(view, oh, &tx.limits)
}

/// One change to an object header.
#[derive(Debug, Clone)]
pub(crate) enum Edit<'m> {
    /// Add a message.
    Add(NewMessage<'m>),
    /// Add a message with this creation order (headers that track
    /// attribute creation order number their attribute messages).
    AddOrdered(NewMessage<'m>, u16),
    /// Replace the message in a slot.
    Replace(Slot, NewMessage<'m>),
    /// Remove the message in a slot.
    Remove(Slot),
}

/// Applies `edits` to the object header at `oh`.
///
/// Version 2 headers: every chunk an edit touches is re-encoded whole
/// (messages, NIL space, checksum) and published with one write, chunks in
/// the order the edits first name them. A chunk whose new messages do not
/// fit moves the new messages (and, if needed, its largest others) into a
/// fresh `OCHK` continuation block linked from that chunk by the same
/// write. Version 1 headers: the edits one by one, as
/// [`add_message`], [`replace_message`] and [`remove_message`].
pub(crate) fn edit(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    oh: Address,
    edits: Vec<Edit<'_>>,
) -> Result<()> {
    let hdr = editable(view, tx, oh)?;
    if hdr.version == 1 {
        for e in edits {
            match e {
                Edit::Add(m) | Edit::AddOrdered(m, _) => add_message(view, tx, oh, m)?,
                Edit::Replace(slot, m) => replace_message(view, tx, oh, &slot, m)?,
                Edit::Remove(slot) => remove_message(view, tx, oh, &slot)?,
            }
        }
        return Ok(());
    }
    edit_v2(view, tx, &hdr, edits)
}

/// A message of a v2 chunk being rebuilt, with its creation order.
struct Kept<'m> {
    msg: NewMessage<'m>,
    order: u16,
}

fn v2_len(hdr: &ObjectHeader<'_>, m: &NewMessage<'_>) -> u64 {
    (v2_message_header_len(hdr.flags) + m.data.len()) as u64
}

fn edit_v2(
    view: &FileView<'_>,
    tx: &mut Tx<'_>,
    hdr: &ObjectHeader<'_>,
    edits: Vec<Edit<'_>>,
) -> Result<()> {
    let tracked = hdr.flags & 0x04 != 0;
    // Current messages per chunk (NIL dropped, re-created as free space).
    let mut chunks: Vec<Vec<(Option<u64>, Kept<'_>)>> =
        hdr.chunk_info.iter().map(|_| Vec::new()).collect();
    for s in &hdr.slots {
        if s.kind == kind::NIL {
            continue;
        }
        let msg = slot_message_v2(view, hdr, s)?;
        let list = chunks
            .get_mut(s.chunk)
            .ok_or_else(|| Error::format(s.header_at, "message slot in an unknown chunk"))?;
        list.push((
            Some(s.header_at),
            Kept {
                msg,
                order: s.creation_index.unwrap_or(0),
            },
        ));
    }
    let area = |c: usize| hdr.chunk_info[c].messages_len;
    let used = |list: &Vec<(Option<u64>, Kept<'_>)>| -> u64 {
        list.iter().map(|(_, k)| v2_len(hdr, &k.msg)).sum()
    };
    let mut touched: Vec<usize> = Vec::new();
    let mut fresh: Vec<Vec<usize>> = vec![Vec::new(); chunks.len()];
    let chunk_of = |header_at: u64| {
        hdr.slots
            .iter()
            .find(|s| s.header_at == header_at)
            .map(|s| s.chunk)
    };
    for e in edits {
        // A message's creation order travels beside the edit.
        let (e, order) = match e {
            Edit::AddOrdered(m, order) => (Edit::Add(m), order),
            Edit::Add(m) if tracked && m.kind == kind::ATTRIBUTE => {
                return Err(Error::unsupported(
                    "adding an attribute without a creation order to an object that tracks it",
                ));
            }
            other => (other, 0),
        };
        match e {
            Edit::Replace(slot, m) => {
                let c = chunk_of(slot.header_at)
                    .ok_or_else(|| Error::invalid("replacing a message not in this header"))?;
                let list = &mut chunks[c];
                let pos = list
                    .iter()
                    .position(|(at, _)| *at == Some(slot.header_at))
                    .ok_or_else(|| Error::invalid("replacing a message not in this header"))?;
                list[pos].1.msg = m;
                list[pos].0 = None;
                fresh[c].push(pos);
                if !touched.contains(&c) {
                    touched.push(c);
                }
            }
            Edit::Remove(slot) => {
                let c = chunk_of(slot.header_at)
                    .ok_or_else(|| Error::invalid("removing a message not in this header"))?;
                chunks[c].retain(|(at, _)| *at != Some(slot.header_at));
                if !touched.contains(&c) {
                    touched.push(c);
                }
            }
            Edit::Add(m) | Edit::AddOrdered(m, _) => {
                // The chunk with the most free space.
                let c = (0..chunks.len())
                    .max_by_key(|&c| area(c).saturating_sub(used(&chunks[c])))
                    .unwrap_or(0);
                chunks[c].push((None, Kept { msg: m, order }));
                let pos = chunks[c].len() - 1;
                fresh[c].push(pos);
                if !touched.contains(&c) {
                    touched.push(c);
                }
            }
        }
    }
    let cont_len = v2_message_header_len(hdr.flags) as u64
        + u64::from(tx.sizes.offset)
        + u64::from(tx.sizes.length);
    for c in touched {
        let mut list: Vec<Kept<'_>>;
        let mut moved: Vec<Kept<'_>> = Vec::new();
        let new_positions = &fresh[c];
        let all = std::mem::take(&mut chunks[c]);
        let total: u64 = all.iter().map(|(_, k)| v2_len(hdr, &k.msg)).sum();
        if total <= area(c) {
            list = all.into_iter().map(|(_, k)| k).collect();
        } else {
            // Move the new messages out, then the largest others until the
            // rest and a continuation message fit.
            let mut stay: Vec<(usize, Kept<'_>)> = Vec::new();
            for (i, (_, k)) in all.into_iter().enumerate() {
                if new_positions.contains(&i) {
                    moved.push(k);
                } else {
                    stay.push((i, k));
                }
            }
            loop {
                let rest: u64 = stay.iter().map(|(_, k)| v2_len(hdr, &k.msg)).sum();
                if rest + cont_len <= area(c) {
                    break;
                }
                let big = stay
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, (_, k))| v2_len(hdr, &k.msg))
                    .map(|(i, _)| i)
                    .ok_or_else(|| {
                        Error::invalid("object header chunk too small for a continuation message")
                    })?;
                moved.push(stay.remove(big).1);
            }
            list = stay.into_iter().map(|(_, k)| k).collect();
            let content: u64 = moved.iter().map(|k| v2_len(hdr, &k.msg)).sum();
            let block_len = 8 + content + CONTINUATION_SLACK as u64;
            let msgs: Vec<NewMessage<'_>> = moved.iter().map(|k| k.msg.clone()).collect();
            let orders: Vec<u16> = moved.iter().map(|k| k.order).collect();
            let block = encode_v2_continuation_block(
                &msgs,
                hdr.flags,
                tracked.then_some(orders.as_slice()),
                block_len as usize,
            )?;
            let addr = tx.put(block)?;
            let mut data = Vec::with_capacity(16);
            data.extend_from_slice(&addr.0.to_le_bytes()[..usize::from(tx.sizes.offset)]);
            data.extend_from_slice(&block_len.to_le_bytes()[..usize::from(tx.sizes.length)]);
            list.push(Kept {
                msg: NewMessage {
                    kind: kind::CONTINUATION,
                    flags: 0,
                    data: Cow::Owned(data),
                },
                order: 0,
            });
        }
        let msgs: Vec<NewMessage<'_>> = list.iter().map(|k| k.msg.clone()).collect();
        let orders: Vec<u16> = list.iter().map(|k| k.order).collect();
        let bytes = hdr.reencode_chunk(
            view.bytes()
                .ok_or_else(|| Error::invalid("editing a file that is not in memory or mapped"))?,
            c,
            &msgs,
            tracked.then_some(orders.as_slice()),
        )?;
        tx.publish_abs(hdr.chunk_info[c].abs, bytes);
    }
    Ok(())
}

/// A v2 message as it sits in a slot.
fn slot_message_v2<'a>(
    view: &FileView<'a>,
    hdr: &ObjectHeader<'a>,
    slot: &Slot,
) -> Result<NewMessage<'a>> {
    let h = v2_message_header_len(hdr.flags) as u64;
    let raw = view.slice(
        Address(slot.header_at - view.base),
        slot.total_len,
        "message slot",
    )?;
    let data = raw
        .get(h as usize..)
        .ok_or_else(|| Error::format(slot.header_at, "message shorter than its header"))?;
    Ok(NewMessage {
        kind: slot.kind,
        flags: slot.flags,
        data: Cow::Borrowed(data),
    })
}

/// Stages a new v1 message count in the header prefix.
fn set_count(tx: &mut Tx<'_>, view: &FileView<'_>, oh: Address, delta: i64) -> Result<()> {
    if delta == 0 {
        return Ok(());
    }
    let prefix = view.slice(oh, 4, "object header prefix")?;
    let earlier = match tx.count_deltas.iter_mut().find(|(a, _)| *a == oh) {
        Some((_, d)) => {
            let before = *d;
            *d += delta;
            before
        }
        None => {
            tx.count_deltas.push((oh, delta));
            0
        }
    };
    let old = i64::from(u16::from_le_bytes([prefix[2], prefix[3]])) + earlier;
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
    if hdr.version != 1 {
        return edit_v2(view, tx, &hdr, vec![Edit::Add(msg)]);
    }
    let need = encode_message_v1(&msg)?.len() as u64;
    // 1. A free slot that fits: the smallest one.
    let fit = hdr
        .slots
        .iter()
        .filter(|s| {
            s.kind == kind::NIL && s.total_len >= need && !tx.claimed.contains(&s.header_at)
        })
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
        .filter(|s| {
            s.total_len >= cont_len
                && s.kind != kind::CONTINUATION
                && !tx.claimed.contains(&s.header_at)
        })
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
    let hdr = editable(view, tx, oh)?;
    if hdr.version != 1 {
        return edit_v2(view, tx, &hdr, vec![Edit::Replace(*slot, msg)]);
    }
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
    let hdr = editable(view, tx, oh)?;
    if hdr.version != 1 {
        return edit_v2(view, tx, &hdr, vec![Edit::Remove(*slot)]);
    }
    tx.publish_abs(slot.header_at, nil(slot.total_len)?);
    Ok(())
}

/// Bytes from a message's header to its data in `hdr`.
pub(crate) fn message_header_len(hdr: &ObjectHeader<'_>) -> u64 {
    if hdr.version == 1 {
        V1_MSG_HEADER
    } else {
        v2_message_header_len(hdr.flags) as u64
    }
}

/// The slots of `hdr` holding messages of kind `k`, with their data.
pub(crate) fn slots_of<'a>(
    view: &FileView<'a>,
    hdr: &ObjectHeader<'a>,
    k: u16,
) -> Result<Vec<(Slot, NewMessage<'a>)>> {
    let mut out = Vec::new();
    for s in hdr.slots.iter().filter(|s| s.kind == k) {
        let m = if hdr.version == 1 {
            slot_message(view, s)?
        } else {
            slot_message_v2(view, hdr, s)?
        };
        out.push((*s, m));
    }
    Ok(out)
}
