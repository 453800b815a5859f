//! Data object headers (spec IV.A.1 "Data Object Header Prefix" and IV.A.2
//! "Data Object Header Messages").
//!
//! An object header is a prefix plus a list of messages spread over one or
//! more chunks: the first chunk follows the prefix, the others are
//! continuation blocks named by continuation messages. Version 1 headers
//! (libver earliest) align messages to 8 bytes and have plain continuation
//! blocks; version 2 headers (`OHDR`) are packed, may store times and
//! creation-order indexes, and each chunk (`OCHK` for continuations) ends in
//! a lookup3 checksum, which is verified.
//!
//! [`ObjectHeader::parse`] walks every chunk, bounded by
//! [`Limits::max_continuations`] and [`Limits::max_messages`], refuses
//! continuation cycles, and returns the messages with NIL messages, gaps and
//! continuation messages consumed.

use std::collections::HashSet;

use super::{verify_checksum, Address, Cursor, FileView};
use crate::error::{Error, Result};
use crate::limits::Limits;

/// Object header message types (spec IV.A.2, "Header Message Type").
pub mod kind {
    /// NIL: padding, ignored.
    pub const NIL: u16 = 0x0000;
    /// Dataspace.
    pub const DATASPACE: u16 = 0x0001;
    /// Link info (new-style groups).
    pub const LINK_INFO: u16 = 0x0002;
    /// Datatype.
    pub const DATATYPE: u16 = 0x0003;
    /// Fill value (old).
    pub const FILL_VALUE_OLD: u16 = 0x0004;
    /// Fill value.
    pub const FILL_VALUE: u16 = 0x0005;
    /// Link (compact new-style groups).
    pub const LINK: u16 = 0x0006;
    /// External data files.
    pub const EXTERNAL_FILES: u16 = 0x0007;
    /// Data layout.
    pub const LAYOUT: u16 = 0x0008;
    /// Bogus (testing only).
    pub const BOGUS: u16 = 0x0009;
    /// Group info.
    pub const GROUP_INFO: u16 = 0x000A;
    /// Filter pipeline.
    pub const FILTER_PIPELINE: u16 = 0x000B;
    /// Attribute.
    pub const ATTRIBUTE: u16 = 0x000C;
    /// Object comment.
    pub const COMMENT: u16 = 0x000D;
    /// Object modification time (old).
    pub const MODIFICATION_TIME_OLD: u16 = 0x000E;
    /// Shared message table (superblock extension only).
    pub const SHARED_MESSAGE_TABLE: u16 = 0x000F;
    /// Object header continuation.
    pub const CONTINUATION: u16 = 0x0010;
    /// Symbol table (old-style groups).
    pub const SYMBOL_TABLE: u16 = 0x0011;
    /// Object modification time.
    pub const MODIFICATION_TIME: u16 = 0x0012;
    /// B-tree 'K' values (superblock extension only).
    pub const BTREE_K: u16 = 0x0013;
    /// Driver info (superblock extension only).
    pub const DRIVER_INFO: u16 = 0x0014;
    /// Attribute info.
    pub const ATTRIBUTE_INFO: u16 = 0x0015;
    /// Object reference count.
    pub const REFERENCE_COUNT: u16 = 0x0016;
    /// File space info (superblock extension only).
    pub const FILE_SPACE_INFO: u16 = 0x0017;
}

/// Message flag bit 0: the message is constant.
pub const MESSAGE_FLAG_CONSTANT: u8 = 0x01;
/// Message flag bit 1: the message data is a shared-message pointer
/// ([`crate::format::message::shared`]), not the message itself.
pub const MESSAGE_FLAG_SHARED: u8 = 0x02;

/// One message of an object header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// Message type ([`kind`]).
    pub kind: u16,
    /// Message flags ([`MESSAGE_FLAG_SHARED`], ...).
    pub flags: u8,
    /// The message data.
    pub data: &'a [u8],
    /// Absolute file address of `data[0]`.
    pub at: u64,
    /// Creation order of the message (v2 headers that track attribute
    /// creation order).
    pub creation_index: Option<u16>,
}

impl Message<'_> {
    /// True when the data is a shared-message pointer.
    pub fn is_shared(&self) -> bool {
        self.flags & MESSAGE_FLAG_SHARED != 0
    }
}

/// A parsed object header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeader<'a> {
    /// Object header version, 1 or 2.
    pub version: u8,
    /// Where it lives (relative address).
    pub address: Address,
    /// All messages in file order, chunk by chunk; NIL and continuation
    /// messages are not included.
    pub messages: Vec<Message<'a>>,
    /// v2 flag bit 2: attribute creation order is tracked.
    pub attribute_creation_order_tracked: bool,
    /// v2 flag bit 3: attribute creation order is indexed.
    pub attribute_creation_order_indexed: bool,
    /// v2 flag bit 4: (max compact, min dense) attribute counts.
    pub attribute_phase_change: Option<(u16, u16)>,
    /// v2 flag bit 5: access, modification, change and birth times.
    pub times: Option<[u32; 4]>,
    /// v1 only: the object reference count (v2 keeps it in a message).
    pub reference_count: Option<u32>,
    /// Every chunk read, in order: (absolute start, length). The first is
    /// the header's own chunk (for v2 from the signature to the checksum,
    /// for v1 the message area after the prefix); later ones are
    /// continuation blocks.
    pub chunks: Vec<(u64, u64)>,
    /// v2 only: the header's flags byte (0 for v1).
    pub flags: u8,
    /// Every message in file order, NIL and continuation messages included,
    /// with where it sits: what an in-place edit needs.
    pub slots: Vec<Slot>,
    /// Per entry of [`ObjectHeader::chunks`]: where its message area is and
    /// how it ends.
    pub chunk_info: Vec<ChunkInfo>,
}

/// Where one message (of any type, NIL and continuation included) sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Message type ([`kind`]).
    pub kind: u16,
    /// Message flags.
    pub flags: u8,
    /// Absolute file address of the message header.
    pub header_at: u64,
    /// Message header plus data, in bytes.
    pub total_len: u64,
    /// Index into [`ObjectHeader::chunks`] / [`ObjectHeader::chunk_info`].
    pub chunk: usize,
    /// Creation order stored in the message header (v2 headers that track
    /// attribute creation order).
    pub creation_index: Option<u16>,
}

/// The layout of one chunk of an object header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkInfo {
    /// Absolute start of the chunk: v1: its message area; v2: the `OHDR`
    /// or `OCHK` signature.
    pub abs: u64,
    /// Whole length of the chunk (v2: signature to checksum inclusive).
    pub len: u64,
    /// Absolute start of the message area.
    pub messages_abs: u64,
    /// Length of the message area, gap included, checksum excluded.
    pub messages_len: u64,
    /// v2: bytes at the end of the message area too small for a message
    /// (the gap); v1: unused trailing bytes (normally 0).
    pub gap: u64,
    /// True for the header's own chunk (v2: the one with the `OHDR`
    /// prefix), false for continuation blocks.
    pub first: bool,
}

/// Signature of a version 2 object header.
const OHDR: &[u8; 4] = b"OHDR";
/// Signature of a version 2 continuation block.
const OCHK: &[u8; 4] = b"OCHK";

/// A chunk still to be read: absolute start and length of its message area
/// (for v2 continuation blocks: the whole block, signature and checksum
/// included).
struct Pending {
    abs: u64,
    len: u64,
    first: bool,
}

impl<'a> ObjectHeader<'a> {
    /// Parses the object header at `addr`, following its continuation
    /// blocks.
    pub fn parse(view: &FileView<'a>, addr: Address, limits: &Limits) -> Result<ObjectHeader<'a>> {
        let start = view.absolute(addr, "object header")?;
        let head = view.slice(addr, (view.len() - start).min(4), "object header")?;
        if head.starts_with(OHDR) {
            Self::parse_v2(view, addr, start, limits)
        } else {
            Self::parse_v1(view, addr, start, limits)
        }
    }

    /// The first message of type `kind`.
    pub fn first(&self, kind: u16) -> Option<&Message<'a>> {
        self.messages.iter().find(|m| m.kind == kind)
    }

    /// All messages of type `kind`, in file order.
    pub fn all(&self, kind: u16) -> impl Iterator<Item = &Message<'a>> {
        self.messages.iter().filter(move |m| m.kind == kind)
    }

    // Layout: Version 1 Object Header (spec IV.A.1.a):
    //   Version (1) | Reserved (1) | Total Number of Header Messages (2)
    //   Object Reference Count (4)
    //   Object Header Size (4)
    //   (4 bytes of padding: messages are aligned to 8 bytes)
    //   Header Message Type #1 (2) | Size of Header Message Data #1 (2)
    //   Header Message #1 Flags (1) | Reserved (3)
    //   Header Message Data #1 (size bytes, a multiple of 8) ...
    fn parse_v1(
        view: &FileView<'a>,
        addr: Address,
        abs: u64,
        limits: &Limits,
    ) -> Result<ObjectHeader<'a>> {
        let mut c = view.cursor(addr, "object header")?;
        let version = c.u8("object header version")?;
        if version != 1 {
            return Err(Error::format(
                abs,
                format!("object header: expected version 1 or signature OHDR, found version byte {version}"),
            ));
        }
        c.skip(1, "object header reserved")?;
        let _total_messages = c.u16("total number of header messages")?;
        let reference_count = c.u32("object reference count")?;
        let size = c.u32("object header size")?;
        c.skip(4, "object header alignment padding")?;
        let mut header = ObjectHeader {
            version: 1,
            address: addr,
            messages: Vec::new(),
            attribute_creation_order_tracked: false,
            attribute_creation_order_indexed: false,
            attribute_phase_change: None,
            times: None,
            reference_count: Some(reference_count),
            chunks: Vec::new(),
            flags: 0,
            slots: Vec::new(),
            chunk_info: Vec::new(),
        };
        let first = Pending {
            abs: c.at(),
            len: u64::from(size),
            first: true,
        };
        header.walk(view, first, limits)?;
        Ok(header)
    }

    // Layout: Version 2 Object Header (spec IV.A.1.b):
    //   Signature "OHDR" (4) | Version (1) | Flags (1)
    //   Access time (4, optional) | Modification Time (4, optional)
    //   Change Time (4, optional) | Birth Time (4, optional)
    //   Maximum # of compact attributes (2, optional)
    //   Minimum # of dense attributes (2, optional)
    //   Size of Chunk #0 (1, 2, 4 or 8 bytes: flags bits 0-1)
    //   Header Message Type #1 (1) | Size of Header Message Data #1 (2)
    //   | Header Message #1 Flags (1)
    //   Header Message #1 Creation Order (2, optional: flags bit 2)
    //   Header Message Data #1 ...
    //   Gap (optional) | Checksum (4)
    fn parse_v2(
        view: &FileView<'a>,
        addr: Address,
        abs: u64,
        limits: &Limits,
    ) -> Result<ObjectHeader<'a>> {
        let mut c = view.cursor(addr, "object header")?;
        c.signature(OHDR, "object header")?;
        let version = c.u8("object header version")?;
        if version != 2 {
            return Err(Error::format(
                abs.saturating_add(4),
                format!("object header OHDR: expected version 2, found {version}"),
            ));
        }
        let flags = c.u8("object header flags")?;
        if flags & 0xc0 != 0 {
            return Err(Error::format(
                abs.saturating_add(5),
                format!("object header flags: reserved bits 6-7 set ({flags:#04x})"),
            ));
        }
        let times = if flags & 0x20 != 0 {
            Some([
                c.u32("access time")?,
                c.u32("modification time")?,
                c.u32("change time")?,
                c.u32("birth time")?,
            ])
        } else {
            None
        };
        let attribute_phase_change = if flags & 0x10 != 0 {
            Some((
                c.u16("maximum number of compact attributes")?,
                c.u16("minimum number of dense attributes")?,
            ))
        } else {
            None
        };
        let width = 1usize << (flags & 0x03);
        let chunk0 = c.uint(width, "size of chunk #0")?;
        let mut header = ObjectHeader {
            version: 2,
            address: addr,
            messages: Vec::new(),
            attribute_creation_order_tracked: flags & 0x04 != 0,
            attribute_creation_order_indexed: flags & 0x08 != 0,
            attribute_phase_change,
            times,
            reference_count: None,
            chunks: Vec::new(),
            flags,
            slots: Vec::new(),
            chunk_info: Vec::new(),
        };
        // Chunk #0 covers the prefix too: the checksum runs from the
        // signature to the end of the messages.
        let prefix_len = c.position() as u64;
        let total = prefix_len
            .checked_add(chunk0)
            .and_then(|v| v.checked_add(4))
            .ok_or_else(|| Error::format(abs, "object header chunk #0 size overflows"))?;
        let first = Pending {
            abs,
            len: total,
            first: true,
        };
        header.walk(view, first, limits)?;
        Ok(header)
    }

    /// Reads every chunk, starting with `first`, queueing continuation
    /// blocks as their messages are found.
    fn walk(&mut self, view: &FileView<'a>, first: Pending, limits: &Limits) -> Result<()> {
        let mut seen: HashSet<u64> = HashSet::new();
        seen.insert(first.abs);
        let mut queue = std::collections::VecDeque::new();
        queue.push_back(first);
        let mut continuations: u32 = 0;
        let mut count: u32 = 0;
        while let Some(chunk) = queue.pop_front() {
            let cont = self.read_chunk(view, &chunk, limits, &mut count)?;
            for (addr, len) in cont {
                continuations = continuations.saturating_add(1);
                if continuations > limits.max_continuations {
                    return Err(Error::LimitsExceeded {
                        what: "object header continuation blocks",
                        requested: u64::from(continuations),
                        limit: u64::from(limits.max_continuations),
                    });
                }
                let abs = view.absolute(addr, "object header continuation block")?;
                if !seen.insert(abs) {
                    return Err(Error::format(
                        abs,
                        "object header continuation: block already visited (cycle)",
                    ));
                }
                queue.push_back(Pending {
                    abs,
                    len,
                    first: false,
                });
            }
        }
        Ok(())
    }

    /// Parses one chunk's messages, returns the continuation messages found.
    fn read_chunk(
        &mut self,
        view: &FileView<'a>,
        chunk: &Pending,
        limits: &Limits,
        count: &mut u32,
    ) -> Result<Vec<(Address, u64)>> {
        let bytes = chunk_bytes(view, chunk.abs, chunk.len)?;
        self.chunks.push((chunk.abs, chunk.len));
        let (body, body_abs) = if self.version == 1 {
            (bytes, chunk.abs)
        } else {
            // v2: verify the checksum over everything before it, then skip
            // the prefix (first chunk) or the OCHK signature.
            if bytes.len() < 8 {
                return Err(Error::format(
                    chunk.abs,
                    format!(
                        "object header chunk: {} bytes is too small for a signature and checksum",
                        bytes.len()
                    ),
                ));
            }
            let split = bytes.len() - 4;
            let stored = u32::from_le_bytes([
                bytes[split],
                bytes[split + 1],
                bytes[split + 2],
                bytes[split + 3],
            ]);
            let what = if chunk.first {
                "object header (OHDR)"
            } else {
                "object header continuation block (OCHK)"
            };
            verify_checksum(&bytes[..split], stored, chunk.abs + split as u64, what)?;
            let skip = if chunk.first {
                v2_prefix_len(bytes)
            } else {
                Cursor::new(bytes, chunk.abs, view.sizes)
                    .signature(OCHK, "object header continuation block")?;
                4
            };
            if skip > split {
                return Err(Error::format(
                    chunk.abs,
                    "object header prefix is longer than its chunk",
                ));
            }
            (&bytes[skip..split], chunk.abs + skip as u64)
        };
        let chunk_index = self.chunks.len() - 1;
        let mut c = Cursor::new(body, body_abs, view.sizes);
        let tracked = self.attribute_creation_order_tracked;
        let prefix = match self.version {
            1 => 8,
            _ if tracked => 6,
            _ => 4,
        };
        let mut continuations = Vec::new();
        while c.remaining() >= prefix {
            let at = c.at();
            let (kind, size, flags, creation_index) = if self.version == 1 {
                let kind = c.u16("message type")?;
                let size = c.u16("message data size")?;
                let flags = c.u8("message flags")?;
                c.skip(3, "message reserved")?;
                (kind, size, flags, None)
            } else {
                let kind = u16::from(c.u8("message type")?);
                let size = c.u16("message data size")?;
                let flags = c.u8("message flags")?;
                // Present for every message when the header tracks
                // attribute creation order (header flag bit 2).
                let order = if tracked {
                    Some(c.u16("message creation order")?)
                } else {
                    None
                };
                (kind, size, flags, order)
            };
            *count = count.saturating_add(1);
            if *count > limits.max_messages {
                return Err(Error::LimitsExceeded {
                    what: "object header messages",
                    requested: u64::from(*count),
                    limit: u64::from(limits.max_messages),
                });
            }
            let data_at = c.at();
            self.slots.push(Slot {
                kind,
                flags,
                header_at: at,
                total_len: (data_at - at) + u64::from(size),
                chunk: chunk_index,
                creation_index,
            });
            let data = c.read_bytes(usize::from(size), "message data").map_err(|_| {
                Error::format(
                    at,
                    format!(
                        "object header message type {kind:#06x}: data size {size} runs past the end of its chunk"
                    ),
                )
            })?;
            match kind {
                kind::NIL => {}
                kind::CONTINUATION => {
                    let mut m = Cursor::new(data, data_at, view.sizes);
                    let addr = m.address("continuation offset")?;
                    let len = m.length("continuation length")?;
                    continuations.push((addr, len));
                }
                _ => self.messages.push(Message {
                    kind,
                    flags,
                    data,
                    at: data_at,
                    creation_index,
                }),
            }
        }
        // Whatever is left is a gap (v2) or alignment padding (v1).
        self.chunk_info.push(ChunkInfo {
            abs: chunk.abs,
            len: chunk.len,
            messages_abs: body_abs,
            messages_len: body.len() as u64,
            gap: c.remaining() as u64,
            first: chunk.first,
        });
        Ok(continuations)
    }
}

/// Length of a v2 object header prefix, from its flags; `bytes` starts at
/// the OHDR signature and has been length-checked by the caller's parse.
fn v2_prefix_len(bytes: &[u8]) -> usize {
    let flags = bytes.get(5).copied().unwrap_or(0);
    let mut n = 6;
    if flags & 0x20 != 0 {
        n += 16;
    }
    if flags & 0x10 != 0 {
        n += 4;
    }
    n + (1usize << (flags & 0x03))
}

fn chunk_bytes<'a>(view: &FileView<'a>, abs: u64, len: u64) -> Result<&'a [u8]> {
    let rel = abs.checked_sub(view.base).ok_or_else(|| {
        Error::format(
            abs,
            "object header chunk: before the superblock's base address",
        )
    })?;
    view.slice(Address(rel), len, "object header chunk")
}

mod encode;
pub use encode::*;

#[cfg(test)]
mod tests;
