use super::*;
use crate::format::checksum::metadata_checksum;
use crate::format::Sizes;

fn view(bytes: &[u8]) -> FileView<'_> {
    FileView::new(bytes, Sizes::DEFAULT, 0)
}

fn v1_msg(kind: u16, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut padded = data.to_vec();
    while !padded.len().is_multiple_of(8) {
        padded.push(0);
    }
    let mut m = kind.to_le_bytes().to_vec();
    m.extend_from_slice(&(padded.len() as u16).to_le_bytes());
    m.extend_from_slice(&[flags, 0, 0, 0]);
    m.extend_from_slice(&padded);
    m
}

fn cont(addr: u64, len: u64) -> Vec<u8> {
    let mut d = addr.to_le_bytes().to_vec();
    d.extend_from_slice(&len.to_le_bytes());
    d
}

fn v1_header(messages: &[u8]) -> Vec<u8> {
    let mut b = vec![1, 0, 1, 0];
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&(messages.len() as u32).to_le_bytes());
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(messages);
    b
}

#[test]
fn v1_with_continuation_and_nil() {
    let mut msgs = v1_msg(kind::DATASPACE, 0, &[1, 2, 3]);
    msgs.extend(v1_msg(kind::NIL, 0, &[0; 8]));
    // continuation to the block placed after the header
    let header_len = 16 + msgs.len() + 24;
    msgs.extend(v1_msg(kind::CONTINUATION, 0, &cont(header_len as u64, 16)));
    let mut b = v1_header(&msgs);
    assert_eq!(b.len(), header_len);
    b.extend(v1_msg(kind::ATTRIBUTE, 2, &[9; 8]));
    let v = view(&b);
    let oh = ObjectHeader::parse(&v, Address(0), &Limits::default()).unwrap();
    assert_eq!(oh.version, 1);
    assert_eq!(oh.messages.len(), 2);
    assert_eq!(oh.messages[0].kind, kind::DATASPACE);
    assert_eq!(oh.messages[0].at, 24);
    assert_eq!(&oh.messages[0].data[..3], &[1, 2, 3]);
    let attr = oh.first(kind::ATTRIBUTE).unwrap();
    assert!(attr.is_shared());
    assert_eq!(oh.all(kind::ATTRIBUTE).count(), 1);
}

#[test]
fn v1_continuation_cycle_is_refused() {
    // continuation pointing back at the header's own message area
    let msgs = v1_msg(kind::CONTINUATION, 0, &cont(16, 24));
    let b = v1_header(&msgs);
    let err = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
    // self-loop of a continuation block
    let mut msgs = v1_msg(kind::CONTINUATION, 0, &cont(40, 24));
    let b0 = v1_header(&msgs);
    assert_eq!(b0.len(), 40);
    msgs = b0;
    msgs.extend(v1_msg(kind::CONTINUATION, 0, &cont(40, 24)));
    let err = ObjectHeader::parse(&view(&msgs), Address(0), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("cycle"), "{err}");
}

#[test]
fn limits_are_enforced() {
    let mut msgs = Vec::new();
    for _ in 0..10 {
        msgs.extend(v1_msg(kind::COMMENT, 0, b"x"));
    }
    let b = v1_header(&msgs);
    let limits = Limits {
        max_messages: 5,
        ..Limits::default()
    };
    let err = ObjectHeader::parse(&view(&b), Address(0), &limits).unwrap_err();
    assert!(matches!(err, Error::LimitsExceeded { .. }), "{err}");
    let limits = Limits {
        max_continuations: 0,
        ..Limits::default()
    };
    let msgs = v1_msg(kind::CONTINUATION, 0, &cont(100, 8));
    let mut b = v1_header(&msgs);
    b.resize(200, 0);
    let err = ObjectHeader::parse(&view(&b), Address(0), &limits).unwrap_err();
    assert!(matches!(err, Error::LimitsExceeded { .. }), "{err}");
}

fn v2_header(flags: u8, messages: &[u8]) -> Vec<u8> {
    let mut b = b"OHDR".to_vec();
    b.extend_from_slice(&[2, flags]);
    if flags & 0x20 != 0 {
        for t in [1u32, 2, 3, 4] {
            b.extend_from_slice(&t.to_le_bytes());
        }
    }
    if flags & 0x10 != 0 {
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&6u16.to_le_bytes());
    }
    let w = 1usize << (flags & 3);
    b.extend_from_slice(&(messages.len() as u64).to_le_bytes()[..w]);
    b.extend_from_slice(messages);
    let sum = metadata_checksum(&b);
    b.extend_from_slice(&sum.to_le_bytes());
    b
}

fn v2_msg(kind: u8, flags: u8, order: Option<u16>, data: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&(data.len() as u16).to_le_bytes());
    m.push(flags);
    if let Some(o) = order {
        m.extend_from_slice(&o.to_le_bytes());
    }
    m.extend_from_slice(data);
    m
}

#[test]
fn v2_with_times_phase_change_gap_and_ochk() {
    let flags = 0x20 | 0x10 | 0x04 | 0x01; // times, phase, tracked, 2-byte size
    let mut msgs = v2_msg(12, 0, Some(3), b"attr");
    msgs.extend(v2_msg(0, 0, Some(0), &[0; 2]));
    // header (prefix) length: 6 + 16 + 4 + 2 = 28; messages so far
    let cont_msg_len = 6 + 16;
    let prefix = 28;
    let gap = 3;
    let header_len = prefix + msgs.len() + cont_msg_len + gap + 4;
    msgs.extend(v2_msg(16, 0, Some(0), &cont(header_len as u64, 4 + 10 + 4)));
    msgs.extend_from_slice(&[0; 3]); // gap smaller than a message prefix
    let mut b = v2_header(flags, &msgs);
    assert_eq!(b.len(), header_len);
    let mut block = b"OCHK".to_vec();
    block.extend(v2_msg(1, 0, Some(1), b"dspc"));
    let sum = metadata_checksum(&block);
    block.extend_from_slice(&sum.to_le_bytes());
    b.extend(block);
    let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(oh.version, 2);
    assert!(oh.attribute_creation_order_tracked);
    assert!(!oh.attribute_creation_order_indexed);
    assert_eq!(oh.times, Some([1, 2, 3, 4]));
    assert_eq!(oh.attribute_phase_change, Some((8, 6)));
    assert_eq!(oh.messages.len(), 2);
    assert_eq!(oh.messages[0].creation_index, Some(3));
    assert_eq!(oh.messages[0].data, b"attr");
    assert_eq!(oh.messages[1].kind, kind::DATASPACE);
    assert_eq!(oh.messages[1].data, b"dspc");
    assert_eq!(oh.chunks.len(), 2);

    // Any corrupted byte fails the checksum (or the structure).
    for i in 0..b.len() {
        let mut bad = b.clone();
        bad[i] ^= 0x40;
        assert!(
            ObjectHeader::parse(&view(&bad), Address(0), &Limits::default()).is_err(),
            "byte {i}"
        );
    }
    // Every truncation fails cleanly.
    for n in 0..b.len() {
        assert!(ObjectHeader::parse(&view(&b[..n]), Address(0), &Limits::default()).is_err());
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for seed in 0u8..=255 {
        let b: Vec<u8> = (0..64u8)
            .map(|i| i.wrapping_mul(seed).wrapping_add(seed))
            .collect();
        let _ = ObjectHeader::parse(&view(&b), Address(0), &Limits::default());
    }
    let mut b = b"OHDR".to_vec();
    b.extend_from_slice(&[2, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    assert!(ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).is_err());
}

#[test]
fn encode_v1_round_trips_and_pads() {
    let d1 = [1u8, 2, 3];
    let msgs = [
        NewMessage::new(kind::DATASPACE, 0, &d1),
        NewMessage::owned(kind::DATATYPE, MESSAGE_FLAG_CONSTANT, vec![9; 12]),
    ];
    let b = encode_v1(&msgs, 256).unwrap();
    assert_eq!(b.len(), 16 + 256);
    assert_eq!(&b[8..12], &256u32.to_le_bytes());
    // 2 messages + one NIL over the rest
    assert_eq!(u16::from_le_bytes([b[2], b[3]]), 3);
    assert_eq!(count_v1_messages(&b[16..]).unwrap(), 3);
    let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(oh.messages.len(), 2);
    assert_eq!(&oh.messages[0].data[..3], &d1);
    assert_eq!(oh.messages[0].data.len(), 8);
    assert_eq!(oh.messages[1].flags, MESSAGE_FLAG_CONSTANT);
    assert_eq!(oh.slots.len(), 3);
    assert_eq!(oh.slots[0].header_at, 16);
    assert_eq!(oh.slots[0].total_len, 16);
    assert_eq!(oh.slots[1].header_at, 32);
    assert_eq!(oh.slots[2].kind, kind::NIL);
    assert_eq!(oh.slots[2].total_len, 256 - 16 - 24);
    assert_eq!(oh.chunk_info[0].messages_abs, 16);
    assert_eq!(oh.chunk_info[0].messages_len, 256);
    // Minimum size: one 16-byte message exactly fills 24 bytes.
    let st = [0u8; 16];
    let b = encode_v1(&[NewMessage::new(kind::SYMBOL_TABLE, 0, &st)], 0).unwrap();
    assert_eq!(b.len(), 40);
    assert_eq!(u16::from_le_bytes([b[2], b[3]]), 1);
    let b = encode_v1(&[], 0).unwrap();
    assert_eq!(b.len(), 16 + V1_MIN_DATA_SIZE);
    // Too large a message.
    let big = vec![0u8; 70_000];
    assert!(encode_v1(&[NewMessage::new(kind::ATTRIBUTE, 0, &big)], 0).is_err());
    // A big NIL filler splits into several NIL messages.
    let b = encode_v1(&[], 200_000).unwrap();
    let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
    assert!(oh.slots.len() >= 4);
    assert_eq!(
        usize::from(u16::from_le_bytes([b[2], b[3]])),
        oh.slots.len()
    );
}

#[test]
fn encode_v1_with_continuation_block() {
    let a = [7u8; 20];
    let block_len = 64usize;
    let mut head_msgs = vec![NewMessage::new(
        kind::DATASPACE,
        0,
        &[1, 0, 0, 0, 0, 0, 0, 0],
    )];
    // The header is 16 + 16 + 24 (dataspace + continuation) = 56 bytes;
    // the block follows it.
    let cont = encode_continuation(Address(56), block_len as u64);
    head_msgs.push(NewMessage::owned(kind::CONTINUATION, 0, cont));
    let mut b = encode_v1(&head_msgs, 0).unwrap();
    assert_eq!(b.len(), 56);
    let block = encode_v1_continuation_block(&[NewMessage::new(kind::ATTRIBUTE, 0, &a)], block_len)
        .unwrap();
    assert_eq!(block.len(), block_len);
    let total = 2 + count_v1_messages(&block).unwrap();
    set_v1_message_count(&mut b, total).unwrap();
    b.extend(block);
    let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(oh.messages.len(), 2);
    assert_eq!(&oh.messages[1].data[..20], &a);
    assert_eq!(oh.slots.len(), total);
    assert_eq!(oh.slots[1].kind, kind::CONTINUATION);
    assert_eq!(oh.slots[2].chunk, 1);
    assert_eq!(oh.slots[2].header_at, 56);
    // Re-encode the continuation block with the attribute removed.
    let new = oh.reencode_chunk(&b, 1, &[], None).unwrap();
    assert_eq!(new.len(), block_len);
    let mut b2 = b.clone();
    b2[56..].copy_from_slice(&new);
    let oh2 = ObjectHeader::parse(&view(&b2), Address(0), &Limits::default()).unwrap();
    assert_eq!(oh2.messages.len(), 1);
    assert!(encode_v1_continuation_block(&[NewMessage::new(kind::ATTRIBUTE, 0, &a)], 16).is_err());
}

#[test]
fn encode_v2_round_trips() {
    let a = b"attr-data".to_vec();
    let msgs = [
        NewMessage::new(kind::DATASPACE, 0, &[2, 0, 0, 0]),
        NewMessage::new(kind::ATTRIBUTE, 0, &a),
        NewMessage::new(kind::ATTRIBUTE, 0, &a),
    ];
    for flags in [0u8, 0x04, 0x20 | 0x10 | 0x04 | 0x02] {
        for min in [0usize, 3, 100, 300] {
            let b = encode_v2(&msgs, flags, min).unwrap();
            let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
            assert_eq!(oh.messages.len(), 3, "flags {flags:#x} min {min}");
            assert_eq!(oh.messages[1].data, &a[..]);
            if flags & 0x04 != 0 {
                assert_eq!(oh.messages[1].creation_index, Some(0));
                assert_eq!(oh.messages[2].creation_index, Some(1));
            }
            let info = oh.chunk_info[0];
            assert_eq!(info.abs + info.len, b.len() as u64);
            assert_eq!(
                oh.slots.iter().map(|s| s.total_len).sum::<u64>() + info.gap,
                info.messages_len
            );
            if flags & 0x10 != 0 {
                assert_eq!(oh.attribute_phase_change, Some((8, 6)));
            }
            // Re-encode chunk 0 without the second attribute: same size.
            let new = oh.reencode_chunk(&b, 0, &msgs[..2], Some(&[0, 0])).unwrap();
            assert_eq!(new.len(), b.len());
            let oh2 = ObjectHeader::parse(&view(&new), Address(0), &Limits::default()).unwrap();
            assert_eq!(oh2.messages.len(), 2);
        }
    }
    // Chunk #0 size width widens as needed.
    let big = vec![1u8; 300];
    let b = encode_v2(&[NewMessage::new(kind::ATTRIBUTE, 0, &big)], 0, 0).unwrap();
    assert_eq!(b[5] & 3, 1);
    assert!(ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).is_ok());
    assert!(encode_v2(&[], 0x40, 0).is_err());
}

#[test]
fn encode_v2_with_ochk() {
    let a = b"xyz".to_vec();
    // OHDR with a continuation to an OCHK right after it.
    let probe = encode_v2(
        &[NewMessage::owned(
            kind::CONTINUATION,
            0,
            encode_continuation(Address(0), 0),
        )],
        0,
        0,
    )
    .unwrap();
    let block_len = 40usize;
    let head = encode_v2(
        &[NewMessage::owned(
            kind::CONTINUATION,
            0,
            encode_continuation(Address(probe.len() as u64), block_len as u64),
        )],
        0,
        0,
    )
    .unwrap();
    assert_eq!(head.len(), probe.len());
    let block = encode_v2_continuation_block(
        &[NewMessage::new(kind::ATTRIBUTE, 0, &a)],
        0,
        None,
        block_len,
    )
    .unwrap();
    assert_eq!(block.len(), block_len);
    let mut b = head;
    b.extend(block);
    let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(oh.messages.len(), 1);
    assert_eq!(oh.messages[0].data, &a[..]);
    assert!(!oh.chunk_info[1].first);
    let new = oh
        .reencode_chunk(
            &b,
            1,
            &[NewMessage::new(kind::ATTRIBUTE, 0, b"other")],
            None,
        )
        .unwrap();
    let at = oh.chunk_info[1].abs as usize;
    b[at..].copy_from_slice(&new);
    let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
    assert_eq!(oh.messages[0].data, b"other");
    // A gap: 3 free bytes cannot hold a message header.
    let block = encode_v2_continuation_block(
        &[NewMessage::new(kind::ATTRIBUTE, 0, &a)],
        0,
        None,
        4 + 7 + 3 + 4,
    )
    .unwrap();
    assert_eq!(&block[11..14], &[0, 0, 0]);
    assert!(encode_v2_continuation_block(&[], 0, None, 4).is_err());
}

proptest::proptest! {
    #[test]
    fn encode_v1_proptest(
        sizes in proptest::collection::vec(0usize..300, 0..8),
        min in 0usize..1000,
    ) {
        let datas: Vec<Vec<u8>> = sizes.iter().enumerate().map(|(i, &n)| vec![i as u8 + 1; n]).collect();
        let msgs: Vec<NewMessage<'_>> = datas.iter().map(|d| NewMessage::new(kind::ATTRIBUTE, 0, d)).collect();
        let b = encode_v1(&msgs, min).unwrap();
        let oh = ObjectHeader::parse(&view(&b), Address(0), &Limits::default()).unwrap();
        proptest::prop_assert_eq!(oh.messages.len(), msgs.len());
        for (m, d) in oh.messages.iter().zip(&datas) {
            proptest::prop_assert_eq!(&m.data[..d.len()], &d[..]);
        }
        proptest::prop_assert_eq!(usize::from(u16::from_le_bytes([b[2], b[3]])), oh.slots.len());
        let v2 = encode_v2(&msgs, 0x04, min).unwrap();
        let oh = ObjectHeader::parse(&view(&v2), Address(0), &Limits::default()).unwrap();
        proptest::prop_assert_eq!(oh.messages.len(), msgs.len());
    }
}
