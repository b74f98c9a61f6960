//! Proptest strategies that generate valid messages of every kind, for the round-trip,
//! truncation and corruption properties.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::*;
use crate::limits::{FILE_CHUNK_BYTES_MAX, SHARDS_PER_INDEX_MAX};
use crate::SEQ_NO_NONE;

/// A non-empty name: mostly plain, sometimes any printable unicode.
fn name(max_chars: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => regex(&format!("[a-z0-9._-]{{1,{max_chars}}}")),
        1 => regex(&format!("\\PC{{1,{}}}", max_chars / 4)),
    ]
}

fn regex(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(pattern).expect("test regexes are valid")
}

fn blob(len_max: usize) -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..len_max).prop_map(Bytes::from)
}

fn seq_no() -> impl Strategy<Value = i64> {
    prop_oneof![Just(SEQ_NO_NONE), 0..1_000_000i64, Just(i64::MAX / 2)]
}

fn identity() -> impl Strategy<Value = NodeIdentity> {
    (
        name(40),
        name(22),
        name(20),
        prop_oneof![Just(String::new()), name(40)],
        any::<bool>(),
    )
        .prop_map(
            |(cluster_name, cluster_uuid, node_id, node_name, is_follower_node)| NodeIdentity {
                cluster_name,
                cluster_uuid,
                node_id,
                node_name,
                is_follower_node,
            },
        )
}

fn handshake() -> impl Strategy<Value = Handshake> {
    (1u16..10, 0u16..10, identity()).prop_map(|(min, extra, identity)| Handshake {
        protocol_version_min: min,
        protocol_version_max: min + extra,
        identity,
    })
}

fn shard() -> impl Strategy<Value = ShardTarget> {
    (name(22), 0..SHARDS_PER_INDEX_MAX).prop_map(|(index_uuid, shard_id)| ShardTarget {
        index_uuid,
        shard_id,
    })
}

fn versions() -> impl Strategy<Value = MetadataVersions> {
    (any::<u64>(), any::<u64>(), any::<u64>()).prop_map(|(mapping, settings, aliases)| {
        MetadataVersions {
            mapping,
            settings,
            aliases,
        }
    })
}

fn index_state() -> impl Strategy<Value = IndexState> {
    prop_oneof![Just(IndexState::Open), Just(IndexState::Closed)]
}

fn versioned_json() -> impl Strategy<Value = VersionedJson> {
    (any::<u64>(), blob(64)).prop_map(|(version, json)| VersionedJson { version, json })
}

fn index_metadata() -> impl Strategy<Value = IndexMetadata> {
    (
        (
            name(40),
            name(22),
            1..=SHARDS_PER_INDEX_MAX,
            index_state(),
            any::<bool>(),
        ),
        (versioned_json(), versioned_json(), versioned_json()),
    )
        .prop_map(
            |(
                (name, uuid, number_of_shards, state, is_follower_index),
                (settings, mapping, aliases),
            )| {
                IndexMetadata {
                    name,
                    uuid,
                    number_of_shards,
                    state,
                    is_follower_index,
                    settings,
                    mapping,
                    aliases,
                }
            },
        )
}

fn index_list() -> impl Strategy<Value = IndexList> {
    let summary = (
        name(40),
        name(22),
        index_state(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(name, uuid, state, is_follower_index, is_hidden)| IndexSummary {
                name,
                uuid,
                state,
                is_follower_index,
                is_hidden,
            },
        );
    vec(summary, 0..6).prop_map(|indices| IndexList { indices })
}

fn changes_request() -> impl Strategy<Value = ShardChangesRequest> {
    (
        shard(),
        0..i64::MAX / 2,
        1..=crate::limits::CHANGES_OPS_MAX,
        1..=crate::limits::CHANGES_OPS_BYTES_MAX,
    )
        .prop_flat_map(|(shard, from_seq_no, ops_max, bytes_max)| {
            (0..=crate::limits::POLL_WAIT_MS_MAX, versions()).prop_map(
                move |(poll_wait_ms, known_versions)| ShardChangesRequest {
                    shard: shard.clone(),
                    from_seq_no,
                    ops_max,
                    bytes_max,
                    poll_wait_ms,
                    known_versions,
                },
            )
        })
}

/// A valid answer: an empty batch, or a contiguous range within history and checkpoint.
fn changes_response() -> impl Strategy<Value = ShardChangesResponse> {
    let batch = prop_oneof![
        Just(OpsBatch::empty()),
        (0..1_000_000i64, 1u32..500, blob(200)).prop_map(|(first_seq_no, count, mut records)| {
            if records.is_empty() {
                records = Bytes::from_static(b"r");
            }
            OpsBatch {
                count,
                first_seq_no,
                last_seq_no: first_seq_no + i64::from(count) - 1,
                records,
            }
        }),
    ];
    let metadata = (
        option::of(blob(64)),
        option::of(blob(64)),
        option::of(blob(64)),
    );
    (
        batch,
        0..1000i64,
        0..1000i64,
        0..1000i64,
        0..=1000i64,
        versions(),
        metadata,
    )
        .prop_map(
            |(
                ops,
                gcp_extra,
                max_extra,
                history_back,
                updates_back,
                versions,
                (mapping, settings, aliases),
            )| {
                let base = if ops.is_empty() {
                    SEQ_NO_NONE
                } else {
                    ops.last_seq_no
                };
                let global_checkpoint = base + gcp_extra;
                let history_floor = if ops.is_empty() {
                    global_checkpoint.max(0)
                } else {
                    ops.first_seq_no
                };
                let max_seq_no = global_checkpoint + max_extra;
                ShardChangesResponse {
                    global_checkpoint,
                    max_seq_no,
                    history_min_seq_no: (history_floor - history_back).max(0),
                    max_seq_no_of_updates_or_deletes: (max_seq_no - updates_back).max(SEQ_NO_NONE),
                    ops,
                    versions,
                    mapping,
                    settings,
                    aliases,
                }
            },
        )
}

fn manifest() -> impl Strategy<Value = SnapshotManifest> {
    let file = (file_name(), any::<u64>(), any::<u32>()).prop_map(|(name, size_bytes, crc32)| {
        SnapshotFile {
            name,
            size_bytes,
            crc32,
        }
    });
    (any::<u64>(), seq_no(), 0..100i64, vec(file, 0..6)).prop_map(
        |(pin_id, local_checkpoint, extra, mut files)| {
            files.sort_by(|a, b| a.name.cmp(&b.name));
            files.dedup_by(|a, b| a.name == b.name);
            SnapshotManifest {
                pin_id,
                local_checkpoint,
                max_seq_no: local_checkpoint.saturating_add(extra),
                files,
            }
        },
    )
}

fn file_name() -> impl Strategy<Value = String> {
    regex("[a-z0-9_-][a-z0-9._-]{0,30}")
}

fn chunk_request() -> impl Strategy<Value = FileChunkRequest> {
    (
        any::<u64>(),
        file_name(),
        0..u64::MAX / 2,
        1..u64::MAX / 2,
        1..=FILE_CHUNK_BYTES_MAX,
    )
        .prop_map(
            |(pin_id, file_name, offset, length, chunk_bytes_max)| FileChunkRequest {
                pin_id,
                file_name,
                offset,
                length,
                chunk_bytes_max,
            },
        )
}

fn lease_request() -> impl Strategy<Value = RetentionLeaseRequest> {
    let action = prop_oneof![
        (0..i64::MAX, name(40)).prop_map(|(retaining_seq_no, source)| LeaseAction::Add {
            retaining_seq_no,
            source
        }),
        (0..i64::MAX, name(40)).prop_map(|(retaining_seq_no, source)| LeaseAction::Renew {
            retaining_seq_no,
            source
        }),
        Just(LeaseAction::Remove),
    ];
    (shard(), name(80), action).prop_map(|(shard, lease_id, action)| RetentionLeaseRequest {
        shard,
        lease_id,
        action,
    })
}

fn remote_error() -> impl Strategy<Value = RemoteError> {
    (proptest::sample::select(ErrorKind::ALL.to_vec()), ".{0,60}")
        .prop_map(|(kind, reason)| RemoteError::new(kind, reason))
}

/// Any valid message of any kind.
pub(crate) fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        handshake().prop_map(Message::Handshake),
        (1u16..10, identity()).prop_map(|(protocol_version, identity)| Message::HandshakeAck(
            HandshakeAck {
                protocol_version,
                identity
            }
        )),
        remote_error().prop_map(Message::Error),
        Just(Message::Ack(Ack)),
        Just(Message::RemoteClusterInfoRequest(RemoteClusterInfoRequest)),
        (identity(), "[a-z0-9. ]{0,20}", 1u32.., any::<u32>()).prop_map(
            |(identity, software_version, node_count, index_count)| Message::RemoteClusterInfo(
                RemoteClusterInfo {
                    identity,
                    software_version,
                    node_count,
                    index_count
                }
            )
        ),
        name(60).prop_map(|pattern| Message::ListIndicesRequest(ListIndicesRequest { pattern })),
        index_list().prop_map(Message::IndexList),
        name(60).prop_map(
            |index_name| Message::IndexMetadataRequest(IndexMetadataRequest { index_name })
        ),
        index_metadata().prop_map(Message::IndexMetadata),
        changes_request().prop_map(Message::ShardChangesRequest),
        changes_response().prop_map(Message::ShardChanges),
        (shard(), name(80), name(40)).prop_map(|(shard, lease_id, lease_source)| {
            Message::SnapshotStart(SnapshotStart {
                shard,
                lease_id,
                lease_source,
            })
        }),
        manifest().prop_map(Message::SnapshotManifest),
        chunk_request().prop_map(Message::FileChunkRequest),
        (0..u64::MAX / 2, blob(300))
            .prop_map(|(offset, data)| Message::FileChunk(FileChunk::new(offset, data))),
        any::<u64>().prop_map(|pin_id| Message::SnapshotRelease(SnapshotRelease { pin_id })),
        lease_request().prop_map(Message::RetentionLease),
    ]
}
