//! Frame layer tests: round trips, split feeding, corruption, truncation and limits.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::limits::{CONTROL_BODY_BYTES_MAX, FRAME_BODY_BYTES_MAX};

fn frame(kind: MessageKind, flags: FrameFlags, body: &[u8]) -> Frame {
    Frame {
        kind,
        flags,
        body: Bytes::copy_from_slice(body),
    }
}

fn encoded(frame: &Frame) -> Bytes {
    frame
        .encode()
        .expect("test frames are within limits")
        .to_bytes()
}

/// Decodes everything fed, feeding `bytes` in pieces cut at `cuts`.
fn decode_split(bytes: &[u8], cuts: &[usize]) -> Result<Vec<Frame>, WireError> {
    let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
    let mut frames = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(bytes.len());
    points.sort_unstable();
    for end in points {
        decoder.feed(&bytes[start..end]);
        start = end;
        while let Some(frame) = decoder.decode()? {
            frames.push(frame);
        }
    }
    decoder.finish()?;
    Ok(frames)
}

fn any_frame() -> impl Strategy<Value = Frame> {
    let kinds = proptest::sample::select(MessageKind::ALL.to_vec());
    (
        kinds,
        any::<bool>(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(kind, more, body)| {
            let flags = if more && kind.is_streamed() {
                FrameFlags::MORE
            } else {
                FrameFlags::NONE
            };
            frame(kind, flags, &body)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn frames_fed_at_any_split_points_decode_to_the_same_frames(
        frames in proptest::collection::vec(any_frame(), 1..5),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut stream = BytesMut::new();
        for frame in &frames {
            stream.put_slice(&encoded(frame));
        }
        prop_assert_eq!(decode_split(&stream, &cuts)?, frames);
    }

    #[test]
    fn every_truncation_needs_more_and_ending_there_is_an_error(frame in any_frame()) {
        let bytes = encoded(&frame);
        for cut in 0..bytes.len() {
            let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
            decoder.feed(&bytes[..cut]);
            prop_assert_eq!(decoder.decode(), Ok(None));
            prop_assert!(decoder.bytes_wanted() >= 1);
            if cut > 0 {
                let ended = WireError::StreamEndedMidFrame { buffered: cut };
                prop_assert_eq!(decoder.finish(), Err(ended));
            }
        }
    }

    #[test]
    fn every_single_byte_change_is_a_typed_error(frame in any_frame(), xor in 1u8..=255) {
        let bytes = encoded(&frame);
        for position in 0..bytes.len() {
            let mut corrupt = bytes.to_vec();
            corrupt[position] ^= xor;
            let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
            decoder.feed(&corrupt);
            prop_assert!(decoder.decode().is_err(), "byte {} accepted", position);
            prop_assert_eq!(decoder.decode(), Err(WireError::DecoderPoisoned));
        }
    }
}

#[test]
fn empty_body_round_trips() {
    let ack = frame(MessageKind::Ack, FrameFlags::NONE, b"");
    assert_eq!(encoded(&ack).len(), FRAME_HEADER_BYTES);
    assert_eq!(Frame::decode_exact(encoded(&ack)), Ok(ack));
}

#[test]
fn body_shares_the_received_buffer() {
    let chunk = frame(MessageKind::FileChunk, FrameFlags::MORE, &[7u8; 64]);
    let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
    decoder.feed(&encoded(&chunk));
    let decoded = decoder.decode().unwrap().unwrap();
    assert_eq!(decoded, chunk);
    assert_eq!(decoder.buffered_bytes(), 0);
    decoder.finish().unwrap();
}

/// A header whose crc is right but whose fields are whatever the test wants.
fn raw_header(magic: [u8; 2], version: u8, flags: u8, kind: u16, body_len: u32) -> Vec<u8> {
    let mut header = BytesMut::new();
    header.put_slice(&magic);
    header.put_u8(version);
    header.put_u8(flags);
    header.put_u16(kind);
    header.put_u32(body_len);
    header.put_u32(0);
    let crc = crc32fast::hash(&header);
    header.put_u32(crc);
    header.to_vec()
}

fn decode_header_only(bytes: Vec<u8>) -> Result<Option<Frame>, WireError> {
    let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
    decoder.feed(&bytes);
    decoder.decode()
}

#[test]
fn oversized_body_length_is_refused_from_the_header_alone() {
    let kind = MessageKind::Handshake.as_u16();
    let claimed = CONTROL_BODY_BYTES_MAX + 1;
    let result = decode_header_only(raw_header(
        FRAME_MAGIC,
        FRAME_FORMAT_VERSION,
        0,
        kind,
        claimed,
    ));
    assert_eq!(
        result,
        Err(WireError::BodyTooLarge {
            kind: "handshake",
            len: u64::from(claimed),
            max: CONTROL_BODY_BYTES_MAX
        })
    );
    let huge = decode_header_only(raw_header(
        FRAME_MAGIC,
        FRAME_FORMAT_VERSION,
        0,
        MessageKind::ShardChanges.as_u16(),
        u32::MAX,
    ));
    assert!(matches!(huge, Err(WireError::BodyTooLarge { len, .. }) if len == u64::from(u32::MAX)));
}

#[test]
fn decoder_cap_applies_below_the_kind_limit() {
    let mut decoder = FrameDecoder::new(16);
    decoder.feed(&encoded(&frame(
        MessageKind::Error,
        FrameFlags::NONE,
        &[0u8; 17],
    )));
    assert!(matches!(
        decoder.decode(),
        Err(WireError::BodyTooLarge { max: 16, .. })
    ));
}

#[test]
fn header_fields_give_specific_errors() {
    let kind = MessageKind::Ack.as_u16();
    assert_eq!(
        decode_header_only(raw_header(*b"HT", FRAME_FORMAT_VERSION, 0, kind, 0)),
        Err(WireError::BadMagic { found: *b"HT" })
    );
    assert_eq!(
        decode_header_only(raw_header(FRAME_MAGIC, 9, 0, kind, 0)),
        Err(WireError::UnsupportedFrameVersion { found: 9 })
    );
    assert_eq!(
        decode_header_only(raw_header(FRAME_MAGIC, FRAME_FORMAT_VERSION, 0, 0x7777, 0)),
        Err(WireError::UnknownKind { kind: 0x7777 })
    );
    assert_eq!(
        decode_header_only(raw_header(FRAME_MAGIC, FRAME_FORMAT_VERSION, 0x80, kind, 0)),
        Err(WireError::UnknownFlags { flags: 0x80 })
    );
    assert!(matches!(
        decode_header_only(raw_header(FRAME_MAGIC, FRAME_FORMAT_VERSION, 1, kind, 0)),
        Err(WireError::InvalidValue { field: "flags", .. })
    ));
}

#[test]
fn encoding_refuses_what_decoding_would_refuse() {
    let big = frame(
        MessageKind::Ack,
        FrameFlags::NONE,
        &vec![0u8; CONTROL_BODY_BYTES_MAX as usize + 1],
    );
    assert!(matches!(big.encode(), Err(WireError::BodyTooLarge { .. })));
    let streamed_ack = frame(MessageKind::Ack, FrameFlags::MORE, b"");
    assert!(matches!(
        streamed_ack.encode(),
        Err(WireError::InvalidValue { .. })
    ));
}

#[test]
fn decode_exact_refuses_short_and_long_input() {
    let bytes = encoded(&frame(MessageKind::Ack, FrameFlags::NONE, b""));
    let short = bytes.slice(..bytes.len() - 1);
    assert!(matches!(
        Frame::decode_exact(short),
        Err(WireError::StreamEndedMidFrame { .. })
    ));
    let mut long = bytes.to_vec();
    long.push(0);
    assert!(matches!(
        Frame::decode_exact(Bytes::from(long)),
        Err(WireError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn bytes_wanted_counts_down_to_the_end_of_the_frame() {
    let bytes = encoded(&frame(MessageKind::Error, FrameFlags::NONE, &[1u8; 10]));
    let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
    assert_eq!(decoder.bytes_wanted(), FRAME_HEADER_BYTES);
    decoder.feed(&bytes[..FRAME_HEADER_BYTES]);
    assert_eq!(decoder.decode(), Ok(None));
    assert_eq!(decoder.bytes_wanted(), 10);
    decoder.feed(&bytes[FRAME_HEADER_BYTES..]);
    assert!(decoder.decode().unwrap().is_some());
}

#[test]
fn request_decoder_refuses_answers_and_big_bodies_from_the_header() {
    let mut server = FrameDecoder::for_requests();
    server.feed(&encoded(&frame(MessageKind::Ack, FrameFlags::NONE, b""))[..FRAME_HEADER_BYTES]);
    assert_eq!(
        server.decode(),
        Err(WireError::UnexpectedKind {
            expected: "request",
            found: "ack"
        })
    );
    let claims_big = raw_header(
        FRAME_MAGIC,
        FRAME_FORMAT_VERSION,
        0,
        MessageKind::Handshake.as_u16(),
        CONTROL_BODY_BYTES_MAX + 1,
    );
    let mut server = FrameDecoder::for_requests();
    server.feed(&claims_big);
    assert!(matches!(
        server.decode(),
        Err(WireError::BodyTooLarge { .. })
    ));
}

#[test]
fn response_decoder_refuses_requests() {
    let mut client = FrameDecoder::for_responses(FRAME_BODY_BYTES_MAX);
    client.feed(&encoded(&frame(
        MessageKind::SnapshotRelease,
        FrameFlags::NONE,
        &[0; 8],
    )));
    assert!(matches!(
        client.decode(),
        Err(WireError::UnexpectedKind {
            expected: "response",
            ..
        })
    ));
    let mut client = FrameDecoder::for_responses(FRAME_BODY_BYTES_MAX);
    client.feed(&encoded(&frame(MessageKind::Ack, FrameFlags::NONE, b"")));
    assert!(client.decode().unwrap().is_some());
}

#[test]
fn a_header_claiming_a_large_body_allocates_nothing_yet() {
    let header = raw_header(
        FRAME_MAGIC,
        FRAME_FORMAT_VERSION,
        0,
        MessageKind::IndexList.as_u16(),
        FRAME_BODY_BYTES_MAX,
    );
    let mut decoder = FrameDecoder::new(FRAME_BODY_BYTES_MAX);
    decoder.feed(&header);
    assert_eq!(decoder.decode(), Ok(None));
    assert_eq!(decoder.buffered_bytes(), FRAME_HEADER_BYTES);
    assert_eq!(decoder.bytes_wanted(), FRAME_BODY_BYTES_MAX as usize);
}
