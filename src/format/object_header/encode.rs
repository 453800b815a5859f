//! Encoding object headers (spec IV.A): v1 prefixes and message areas, v2
//! `OHDR`/`OCHK` chunks with checksums, single messages for in-place
//! rewrites, and whole-chunk re-encoding of parsed headers.

use super::*;

/// A message to encode into an object header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage<'a> {
    /// Message type ([`kind`]).
    pub kind: u16,
    /// Message flags ([`MESSAGE_FLAG_CONSTANT`], ...).
    pub flags: u8,
    /// The message data, without the message header.
    pub data: std::borrow::Cow<'a, [u8]>,
}

impl<'a> NewMessage<'a> {
    /// A message borrowing `data`.
    pub fn new(kind: u16, flags: u8, data: &'a [u8]) -> NewMessage<'a> {
        NewMessage {
            kind,
            flags,
            data: std::borrow::Cow::Borrowed(data),
        }
    }

    /// A message owning `data`.
    pub fn owned(kind: u16, flags: u8, data: Vec<u8>) -> NewMessage<'static> {
        NewMessage {
            kind,
            flags,
            data: std::borrow::Cow::Owned(data),
        }
    }
}

/// Length of the version 1 object header prefix (with its 4 bytes of
/// alignment padding); the message area starts right after it.
pub const V1_PREFIX_LEN: usize = 16;
/// Length of a version 1 message header.
pub const V1_MESSAGE_HEADER_LEN: usize = 8;
/// Smallest message area libhdf5 gives an object header chunk
/// (`H5O_MIN_SIZE`, 22, aligned to 8 for v1): room for a continuation
/// message, so the header can always grow.
pub const V1_MIN_DATA_SIZE: usize = 24;
/// `H5O_MIN_SIZE` for version 2 headers.
pub const V2_MIN_DATA_SIZE: usize = 22;
/// Largest data of one message (its size field is 16 bits).
pub const MAX_MESSAGE_DATA: usize = u16::MAX as usize;

fn data_len_u16(m: &NewMessage<'_>, padded: usize) -> Result<u16> {
    u16::try_from(padded).map_err(|_| {
        Error::invalid(format!(
            "object header message type {:#06x}: {} bytes of data do not fit the 16-bit size field \
             (at most {MAX_MESSAGE_DATA})",
            m.kind,
            m.data.len()
        ))
    })
}

fn round8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// Encodes one version 1 message: its 8-byte header (type, size, flags,
/// reserved) and its data padded with zeros to a multiple of 8.
///
/// Fails when the padded data exceeds 65 535 bytes.
pub fn encode_message_v1(m: &NewMessage<'_>) -> Result<Vec<u8>> {
    let padded = round8(m.data.len());
    let size = data_len_u16(m, padded)?;
    let mut out = Vec::with_capacity(V1_MESSAGE_HEADER_LEN + padded);
    out.extend_from_slice(&m.kind.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[m.flags, 0, 0, 0]);
    out.extend_from_slice(&m.data);
    out.resize(V1_MESSAGE_HEADER_LEN + padded, 0);
    Ok(out)
}

/// Encodes one version 2 message: type (1 byte: v2 types are below 256),
/// size, flags, the creation order when `creation_order` is `Some` (headers
/// with flag bit 2), then the data, unpadded.
pub fn encode_message_v2(m: &NewMessage<'_>, creation_order: Option<u16>) -> Result<Vec<u8>> {
    let size = data_len_u16(m, m.data.len())?;
    let kind = u8::try_from(m.kind).map_err(|_| {
        Error::invalid(format!(
            "object header message type {:#06x} does not fit a version 2 header",
            m.kind
        ))
    })?;
    let mut out = Vec::with_capacity(6 + m.data.len());
    out.push(kind);
    out.extend_from_slice(&size.to_le_bytes());
    out.push(m.flags);
    if let Some(o) = creation_order {
        out.extend_from_slice(&o.to_le_bytes());
    }
    out.extend_from_slice(&m.data);
    Ok(out)
}

/// Appends NIL messages filling exactly `free` bytes of a v1 message area
/// (`free` is a multiple of 8); returns how many were written.
fn fill_v1_nil(out: &mut Vec<u8>, mut free: usize) -> usize {
    let mut n = 0;
    while free > 0 {
        // Largest 8-aligned data a NIL message can carry.
        let data = (free - V1_MESSAGE_HEADER_LEN).min(MAX_MESSAGE_DATA & !7);
        out.extend_from_slice(&kind::NIL.to_le_bytes());
        out.extend_from_slice(&(data as u16).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.resize(out.len() + data, 0);
        free -= V1_MESSAGE_HEADER_LEN + data;
        n += 1;
    }
    n
}

/// Encodes the messages of a v1 message area of exactly `size` bytes,
/// NIL-filled; returns the bytes and the number of messages (NILs
/// included).
fn v1_area(messages: &[NewMessage<'_>], size: usize) -> Result<(Vec<u8>, usize)> {
    if !size.is_multiple_of(8) {
        return Err(Error::invalid(format!(
            "v1 object header chunk size {size} is not a multiple of 8"
        )));
    }
    let mut out = Vec::with_capacity(size);
    for m in messages {
        out.extend(encode_message_v1(m)?);
    }
    if out.len() > size {
        return Err(Error::invalid(format!(
            "v1 object header chunk: {} bytes of messages do not fit in {size} bytes",
            out.len()
        )));
    }
    let free = size - out.len();
    let nils = fill_v1_nil(&mut out, free);
    Ok((out, messages.len() + nils))
}

/// Encoded size of a v1 message (header + data padded to 8).
pub fn message_len_v1(data_len: usize) -> usize {
    V1_MESSAGE_HEADER_LEN + round8(data_len)
}

/// Encodes a complete version 1 object header whose messages all sit in
/// its first chunk.
///
/// ```text
/// Version 1 Object Header (spec IV.A.1.a):
/// 0  Version = 1 (1) | Reserved (1) | Total Number of Header Messages (2)
/// 4  Object Reference Count (4) = 1
/// 8  Object Header Size (4)     -- the message area after this prefix
/// 12 Reserved/alignment (4)
/// 16 messages, each 8-byte aligned, then NIL messages up to the size
/// ```
///
/// The message area is at least `min_data_size` bytes (libhdf5 gives a
/// dataset 256) and at least [`V1_MIN_DATA_SIZE`], rounded up to 8; space
/// after the messages becomes NIL messages, free for later edits.
///
/// The message count in the prefix counts the messages of this chunk, NIL
/// messages included. libhdf5 expects the total over *all* chunks: when
/// continuation blocks are added, fix it with [`set_v1_message_count`]
/// (see [`count_v1_messages`]).
pub fn encode_v1(messages: &[NewMessage<'_>], min_data_size: usize) -> Result<Vec<u8>> {
    let used: usize = messages.iter().map(|m| message_len_v1(m.data.len())).sum();
    let size = round8(used.max(min_data_size).max(V1_MIN_DATA_SIZE));
    let size_u32 = u32::try_from(size)
        .map_err(|_| Error::invalid(format!("v1 object header of {size} bytes is too large")))?;
    let (area, count) = v1_area(messages, size)?;
    let mut out = Vec::with_capacity(V1_PREFIX_LEN + size);
    out.extend_from_slice(&[1, 0, 0, 0]);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&size_u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend(area);
    set_v1_message_count(&mut out, count)?;
    Ok(out)
}

/// Offset of the "Object Reference Count" field in a v1 header prefix.
pub const V1_REFERENCE_COUNT_OFFSET: usize = 4;

/// Rewrites the "Object Reference Count" field of an encoded v1 header
/// prefix (objects reached by more than one hard link count each one).
pub fn set_v1_reference_count(header: &mut [u8], count: u32) -> Result<()> {
    let field = header
        .get_mut(V1_REFERENCE_COUNT_OFFSET..V1_REFERENCE_COUNT_OFFSET + 4)
        .ok_or_else(|| Error::invalid("v1 object header prefix shorter than 8 bytes"))?;
    field.copy_from_slice(&count.to_le_bytes());
    Ok(())
}

/// Rewrites the "Total Number of Header Messages" field of an encoded v1
/// header prefix (`header` starts at the version byte).
pub fn set_v1_message_count(header: &mut [u8], total: usize) -> Result<()> {
    let n = u16::try_from(total).map_err(|_| {
        Error::invalid(format!(
            "v1 object header: {total} messages (the count field holds at most 65535)"
        ))
    })?;
    if header.len() < 4 {
        return Err(Error::invalid(
            "v1 object header prefix shorter than 4 bytes",
        ));
    }
    header[2..4].copy_from_slice(&n.to_le_bytes());
    Ok(())
}

/// Counts the messages (NIL and continuation messages included) in an
/// encoded v1 message area, such as a continuation block.
pub fn count_v1_messages(area: &[u8]) -> Result<usize> {
    let mut c = Cursor::new(area, 0, crate::format::Sizes::DEFAULT);
    let mut n = 0;
    while c.remaining() >= V1_MESSAGE_HEADER_LEN {
        c.skip(2, "message type")?;
        let size = c.u16("message data size")?;
        c.skip(4, "message flags and reserved")?;
        c.skip(usize::from(size), "message data")?;
        n += 1;
    }
    Ok(n)
}

/// Encodes a version 1 continuation block: the messages, then NIL
/// messages up to exactly `size` bytes (a multiple of 8).
pub fn encode_v1_continuation_block(messages: &[NewMessage<'_>], size: usize) -> Result<Vec<u8>> {
    Ok(v1_area(messages, size)?.0)
}

/// The data of a continuation message (type 0x0010, spec IV.A.2.q):
/// Offset (O) | Length (L) of the continuation block (for v2 the whole
/// `OCHK` block, signature and checksum included).
pub fn encode_continuation(address: Address, length: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&address.0.to_le_bytes());
    out.extend_from_slice(&length.to_le_bytes());
    out
}

/// The continuation message, as named in the writer's plan.
pub mod continuation {
    use super::Address;

    /// Data of a continuation message: block address and length.
    pub fn encode(address: Address, length: u64) -> Vec<u8> {
        super::encode_continuation(address, length)
    }
}

/// Optional fields of a version 2 object header prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct V2Prefix {
    /// Header flags: bits 0-1 minimum width of "Size of Chunk #0" (widened
    /// as needed), bit 2 attribute creation order tracked, bit 3 indexed,
    /// bit 4 phase change values stored, bit 5 times stored.
    pub flags: u8,
    /// Access, modification, change and birth times (flag bit 5; zeros
    /// when `None`).
    pub times: Option<[u32; 4]>,
    /// (max compact, min dense) attributes (flag bit 4; libhdf5's defaults
    /// 8 and 6 when `None`).
    pub phase_change: Option<(u16, u16)>,
}

/// Bytes of a v2 message header for a header with `flags`.
pub fn v2_message_header_len(flags: u8) -> usize {
    if flags & 0x04 != 0 {
        6
    } else {
        4
    }
}

/// Encodes v2 messages into a message area of exactly `size` bytes: the
/// messages, then one NIL message over the rest, or, when fewer bytes than
/// a message header remain, a gap of zeros.
fn v2_area(
    messages: &[NewMessage<'_>],
    flags: u8,
    creation_orders: Option<&[u16]>,
    size: usize,
) -> Result<Vec<u8>> {
    let tracked = flags & 0x04 != 0;
    if let Some(o) = creation_orders {
        if o.len() != messages.len() {
            return Err(Error::invalid(format!(
                "{} creation orders for {} messages",
                o.len(),
                messages.len()
            )));
        }
    }
    let mut out = Vec::with_capacity(size);
    for (i, m) in messages.iter().enumerate() {
        let order = if tracked {
            Some(creation_orders.map_or(0, |o| o[i]))
        } else {
            None
        };
        out.extend(encode_message_v2(m, order)?);
    }
    if out.len() > size {
        return Err(Error::invalid(format!(
            "v2 object header chunk: {} bytes of messages do not fit in {size} bytes",
            out.len()
        )));
    }
    let hdr = v2_message_header_len(flags);
    let mut free = size - out.len();
    while free >= hdr {
        let data = (free - hdr).min(MAX_MESSAGE_DATA);
        out.push(0);
        out.extend_from_slice(&(data as u16).to_le_bytes());
        out.push(0);
        if tracked {
            out.extend_from_slice(&[0, 0]);
        }
        out.resize(out.len() + data, 0);
        free -= hdr + data;
    }
    // A gap: too small for a message header.
    out.resize(size, 0);
    Ok(out)
}

/// Encoded size of a v2 message in a header with `flags`.
pub fn message_len_v2(data_len: usize, flags: u8) -> usize {
    v2_message_header_len(flags) + data_len
}

fn chunk0_width(size: u64) -> u8 {
    match size {
        0..=0xff => 0,
        0x100..=0xffff => 1,
        0x1_0000..=0xffff_ffff => 2,
        _ => 3,
    }
}

/// Encodes a complete version 2 object header (`OHDR`) whose messages all
/// sit in chunk #0.
///
/// ```text
/// Version 2 Object Header (spec IV.A.1.b):
/// "OHDR" | Version = 2 | Flags | [times 4x4] | [phase change 2x2]
/// | Size of Chunk #0 (1/2/4/8 bytes, flags bits 0-1)
/// | messages | NIL message or gap | Checksum (lookup3 over all before)
/// ```
///
/// The message area is at least `min_data_size` and
/// [`V2_MIN_DATA_SIZE`] bytes. With flag bit 2 (creation order tracked)
/// every message header carries a creation order: attribute messages are
/// numbered 0, 1, 2 ... in order, the rest get 0 (see
/// [`encode_v2_with`] to choose them). The chunk-size width in flags bits
/// 0-1 is widened when the size does not fit it.
pub fn encode_v2(messages: &[NewMessage<'_>], flags: u8, min_data_size: usize) -> Result<Vec<u8>> {
    let orders = default_creation_orders(messages);
    encode_v2_with(
        messages,
        &V2Prefix {
            flags,
            ..V2Prefix::default()
        },
        Some(&orders),
        min_data_size,
    )
}

/// Creation orders libhdf5 would give a fresh header: attributes 0, 1, 2
/// ..., every other message 0.
pub fn default_creation_orders(messages: &[NewMessage<'_>]) -> Vec<u16> {
    let mut next = 0u16;
    messages
        .iter()
        .map(|m| {
            if m.kind == kind::ATTRIBUTE {
                next = next.wrapping_add(1);
                next - 1
            } else {
                0
            }
        })
        .collect()
}

/// [`encode_v2`] with every prefix field and the creation orders chosen
/// (`None`: all 0; only used when flag bit 2 is set).
pub fn encode_v2_with(
    messages: &[NewMessage<'_>],
    prefix: &V2Prefix,
    creation_orders: Option<&[u16]>,
    min_data_size: usize,
) -> Result<Vec<u8>> {
    let flags = prefix.flags;
    if flags & 0xc0 != 0 {
        return Err(Error::invalid(format!(
            "v2 object header flags {flags:#04x}: bits 6-7 are reserved"
        )));
    }
    let hdr = v2_message_header_len(flags);
    let used: usize = messages.iter().map(|m| hdr + m.data.len()).sum();
    let size = used.max(min_data_size).max(V2_MIN_DATA_SIZE);
    let width_bits = (flags & 0x03).max(chunk0_width(size as u64));
    let flags = (flags & !0x03) | width_bits;
    let mut out = Vec::with_capacity(size + 48);
    out.extend_from_slice(OHDR);
    out.push(2);
    out.push(flags);
    if flags & 0x20 != 0 {
        for t in prefix.times.unwrap_or([0; 4]) {
            out.extend_from_slice(&t.to_le_bytes());
        }
    }
    if flags & 0x10 != 0 {
        let (max_compact, min_dense) = prefix.phase_change.unwrap_or((8, 6));
        out.extend_from_slice(&max_compact.to_le_bytes());
        out.extend_from_slice(&min_dense.to_le_bytes());
    }
    let width = 1usize << width_bits;
    out.extend_from_slice(&(size as u64).to_le_bytes()[..width]);
    out.extend(v2_area(messages, flags, creation_orders, size)?);
    let sum = crate::format::checksum::metadata_checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

/// Encodes a version 2 continuation block (`OCHK`) of exactly `size`
/// bytes, signature and checksum included (the length its continuation
/// message names). `flags` are the object header's flags (bit 2 decides
/// whether message headers carry a creation order); `creation_orders` as
/// for [`encode_v2_with`].
pub fn encode_v2_continuation_block(
    messages: &[NewMessage<'_>],
    flags: u8,
    creation_orders: Option<&[u16]>,
    size: usize,
) -> Result<Vec<u8>> {
    if size < 8 {
        return Err(Error::invalid(format!(
            "v2 continuation block of {size} bytes: needs at least 8 (signature and checksum)"
        )));
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(OCHK);
    out.extend(v2_area(messages, flags, creation_orders, size - 8)?);
    let sum = crate::format::checksum::metadata_checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

impl ObjectHeader<'_> {
    /// Re-encodes chunk `chunk` of this header with `messages` in place of
    /// its current ones, keeping its size: the result replaces the bytes at
    /// [`ChunkInfo::abs`] in one write.
    ///
    /// * v1: the message area (starting at [`ChunkInfo::messages_abs`],
    ///   which equals `abs`), NIL-filled.
    /// * v2: the whole chunk, its prefix (`OHDR` ... or `OCHK`) copied from
    ///   `file` (the bytes of the whole file), the messages, NIL/gap, and a
    ///   fresh checksum.
    ///
    /// `creation_orders` as for [`encode_v2_with`] (v2 headers that track
    /// creation order). For v1 remember the total message count
    /// ([`set_v1_message_count`]) if the number of messages changed.
    pub fn reencode_chunk(
        &self,
        file: &[u8],
        chunk: usize,
        messages: &[NewMessage<'_>],
        creation_orders: Option<&[u16]>,
    ) -> Result<Vec<u8>> {
        let info = self.chunk_info.get(chunk).ok_or_else(|| {
            Error::invalid(format!(
                "object header has {} chunks, no chunk {chunk}",
                self.chunk_info.len()
            ))
        })?;
        let area = usize::try_from(info.messages_len)
            .map_err(|_| Error::invalid("object header chunk too large"))?;
        if self.version == 1 {
            return Ok(v1_area(messages, area)?.0);
        }
        let start = usize::try_from(info.abs).unwrap_or(usize::MAX);
        let body = usize::try_from(info.messages_abs).unwrap_or(usize::MAX);
        let prefix = file.get(start..body).ok_or_else(|| {
            Error::invalid("reencode_chunk: the file bytes do not hold this header's chunk")
        })?;
        let mut out = Vec::with_capacity(prefix.len() + area + 4);
        out.extend_from_slice(prefix);
        out.extend(v2_area(messages, self.flags, creation_orders, area)?);
        let sum = crate::format::checksum::metadata_checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        Ok(out)
    }

    /// The v2 checksum of a chunk whose bytes (signature to just before the
    /// checksum) are `covered`: for writers patching one message in place
    /// and then the checksum.
    pub fn chunk_checksum(covered: &[u8]) -> u32 {
        crate::format::checksum::metadata_checksum(covered)
    }
}
