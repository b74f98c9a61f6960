//! Message properties over every kind: round trips through frames, truncation, trailing bytes,
//! byte changes, and limits checked before allocation.

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;

use super::strategies::message;
use super::*;
use crate::limits::{INDEX_NAME_BYTES_MAX, SNAPSHOT_FILES_MAX};
use crate::FrameDecoder;

/// The body of a message's encoded frame, joined.
fn body_of(message: &Message) -> Bytes {
    let frame = Frame::decode_exact(message.encode().expect("valid messages encode").to_bytes())
        .expect("encoded frames decode");
    frame.body
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_message_round_trips_through_a_frame(message in message()) {
        let encoded = message.encode()?;
        let mut decoder = FrameDecoder::new(crate::FRAME_BODY_BYTES_MAX);
        for chunk in encoded.chunks() {
            decoder.feed(chunk);
        }
        let frame = decoder.decode()?.expect("a whole frame was fed");
        prop_assert_eq!(frame.kind, message.kind());
        prop_assert_eq!(Message::decode(&frame)?, message);
    }

    #[test]
    fn every_strict_prefix_of_a_body_is_refused(message in message()) {
        let body = body_of(&message);
        for cut in 0..body.len() {
            let decoded = Message::decode_body(message.kind(), body.slice(..cut));
            prop_assert!(decoded.is_err(), "cut at {}", cut);
        }
    }

    #[test]
    fn a_trailing_byte_is_refused(message in message(), extra in any::<u8>()) {
        let mut body = body_of(&message).to_vec();
        body.push(extra);
        prop_assert!(Message::decode_body(message.kind(), Bytes::from(body)).is_err());
    }

    /// Bodies are not checksummed on their own (the frame is), so a changed byte may still
    /// be a valid message; then encoding it again must give back exactly those bytes.
    #[test]
    fn a_changed_body_byte_is_refused_or_decodes_canonically(
        message in message(),
        position in any::<prop::sample::Index>(),
        xor in 1u8..=255,
    ) {
        let body = body_of(&message);
        prop_assume!(!body.is_empty());
        let mut changed = body.to_vec();
        changed[position.index(body.len())] ^= xor;
        if let Ok(decoded) = Message::decode_body(message.kind(), Bytes::from(changed.clone())) {
            prop_assert_eq!(body_of(&decoded), Bytes::from(changed));
        }
    }

}

#[test]
fn large_records_travel_as_their_own_chunk_and_come_back_as_a_slice() {
    let records = Bytes::from(vec![0xAB; 10_000]);
    let response = ShardChangesResponse {
        ops: OpsBatch {
            count: 3,
            first_seq_no: 5,
            last_seq_no: 7,
            records: records.clone(),
        },
        global_checkpoint: 7,
        max_seq_no: 9,
        history_min_seq_no: 0,
        max_seq_no_of_updates_or_deletes: 4,
        versions: MetadataVersions::default(),
        mapping: Some(Bytes::from_static(b"{}")),
        settings: None,
        aliases: None,
    };
    let encoded = response.encode().unwrap();
    assert!(encoded
        .chunks()
        .iter()
        .any(|chunk| chunk.as_ptr() == records.as_ptr()));
    let frame = Frame::decode_exact(encoded.to_bytes()).unwrap();
    let decoded = ShardChangesResponse::decode_frame(&frame).unwrap();
    let body_range = frame.body.as_ptr() as usize..frame.body.as_ptr() as usize + frame.body.len();
    assert!(body_range.contains(&(decoded.ops.records.as_ptr() as usize)));
    assert_eq!(decoded, response);
}

#[test]
fn decode_response_separates_answers_errors_and_wrong_kinds() {
    let ack = Frame::decode_exact(Ack.encode().unwrap().to_bytes()).unwrap();
    assert_eq!(decode_response::<Ack>(&ack), Ok(Ok(Ack)));
    let error = RemoteError::index_not_found("x");
    let error_frame = Frame::decode_exact(error.encode().unwrap().to_bytes()).unwrap();
    assert_eq!(decode_response::<Ack>(&error_frame), Ok(Err(error)));
    assert_eq!(
        decode_response::<IndexList>(&ack),
        Err(WireError::UnexpectedKind {
            expected: "index_list",
            found: "ack"
        })
    );
}

#[test]
fn over_limit_string_is_refused_before_allocation() {
    let mut body = BytesMut::new();
    body.put_u16(u16::MAX);
    assert_eq!(
        Message::decode_body(MessageKind::IndexMetadataRequest, body.freeze()),
        Err(WireError::FieldTooLong {
            field: "index_name",
            len: u64::from(u16::MAX),
            max: INDEX_NAME_BYTES_MAX as u64
        })
    );
    let long = IndexMetadataRequest {
        index_name: "x".repeat(INDEX_NAME_BYTES_MAX + 1),
    };
    assert!(matches!(long.encode(), Err(WireError::FieldTooLong { .. })));
}

#[test]
fn over_limit_list_is_refused_before_allocation() {
    let mut body = BytesMut::new();
    body.put_u64(1);
    body.put_i64(0);
    body.put_i64(0);
    body.put_u32(SNAPSHOT_FILES_MAX + 1);
    assert!(matches!(
        Message::decode_body(MessageKind::SnapshotManifest, body.freeze()),
        Err(WireError::TooManyItems { field: "files", .. })
    ));
    let mut claims_many = BytesMut::new();
    claims_many.put_u32(1000);
    assert_eq!(
        Message::decode_body(MessageKind::IndexList, claims_many.freeze()),
        Err(WireError::Truncated { field: "indices" })
    );
}

fn response(
    ops: OpsBatch,
    global_checkpoint: i64,
    history_min_seq_no: i64,
) -> ShardChangesResponse {
    ShardChangesResponse {
        ops,
        global_checkpoint,
        max_seq_no: global_checkpoint.max(20),
        history_min_seq_no,
        max_seq_no_of_updates_or_deletes: -1,
        versions: MetadataVersions::default(),
        mapping: None,
        settings: None,
        aliases: None,
    }
}

fn batch(first_seq_no: i64, last_seq_no: i64, count: u32) -> OpsBatch {
    OpsBatch {
        count,
        first_seq_no,
        last_seq_no,
        records: Bytes::from_static(b"records"),
    }
}

#[test]
fn changes_rules_are_enforced_on_encode() {
    let beyond_checkpoint = response(batch(5, 9, 5), 8, 0);
    assert!(matches!(
        beyond_checkpoint.encode(),
        Err(WireError::InvalidValue { field: "ops", .. })
    ));
    let below_history = response(batch(5, 9, 5), 9, 6);
    assert!(below_history.encode().is_err());
    let not_contiguous = response(batch(5, 9, 4), 9, 0);
    assert!(not_contiguous.encode().is_err());
    let empty_with_bytes = response(
        OpsBatch {
            records: Bytes::from_static(b"x"),
            ..OpsBatch::empty()
        },
        9,
        0,
    );
    assert!(empty_with_bytes.encode().is_err());
    for bad_bound in [-2, 21] {
        let mut bad = response(batch(5, 9, 5), 9, 0);
        bad.max_seq_no_of_updates_or_deletes = bad_bound;
        assert!(
            matches!(
                bad.encode(),
                Err(WireError::InvalidValue {
                    field: "max_seq_no_of_updates_or_deletes",
                    ..
                })
            ),
            "{bad_bound}"
        );
    }
    assert!(response(batch(5, 9, 5), 9, 5).encode().is_ok());
    assert!(response(OpsBatch::empty(), -1, 0).encode().is_ok());
}

#[test]
fn changes_request_range_and_budgets_are_checked() {
    let valid = ShardChangesRequest {
        shard: ShardTarget {
            index_uuid: "u".into(),
            shard_id: 0,
        },
        from_seq_no: 0,
        ops_max: 10,
        bytes_max: 1024,
        poll_wait_ms: 1000,
        known_versions: MetadataVersions::default(),
    };
    assert_eq!(valid.to_seq_no(), 9);
    assert!(valid.encode().is_ok());
    assert!(ShardChangesRequest {
        from_seq_no: -1,
        ..valid.clone()
    }
    .encode()
    .is_err());
    assert!(ShardChangesRequest {
        ops_max: 0,
        ..valid.clone()
    }
    .encode()
    .is_err());
    assert!(ShardChangesRequest {
        from_seq_no: i64::MAX,
        ..valid.clone()
    }
    .encode()
    .is_err());
    assert!(ShardChangesRequest {
        bytes_max: 0,
        ..valid.clone()
    }
    .encode()
    .is_err());
    assert!(ShardChangesRequest {
        poll_wait_ms: u32::MAX,
        ..valid
    }
    .encode()
    .is_err());
}

#[test]
fn only_empty_messages_decode_from_an_empty_body() {
    let empty_bodies = [MessageKind::Ack, MessageKind::RemoteClusterInfoRequest];
    for kind in MessageKind::ALL {
        let decoded = Message::decode_body(kind, Bytes::new());
        assert_eq!(decoded.is_ok(), empty_bodies.contains(&kind), "{kind}");
    }
}
