//! Engine tests against plain models: primary semantics, replica idempotence in any order,
//! recovery after crashes simulated by dropping the engine without closing it.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::mapping::Mapping;
use crate::record::{encode, OpType, Operation};

fn small_config(role: ShardRole) -> EngineConfig {
    EngineConfig {
        role,
        indexing_memory_bytes: 15 * 1024 * 1024,
        translog_generation_bytes_max: 1024 * 1024,
        ..EngineConfig::primary()
    }
}

fn dynamic_mapping() -> Arc<Mapping> {
    Arc::new(Mapping::empty())
}

fn keyword_mapping() -> Arc<Mapping> {
    Arc::new(
        Mapping::from_json(
            &json!({"properties": {"n": {"type": "long"}, "k": {"type": "keyword"}}}),
            1,
        )
        .expect("mapping"),
    )
}

fn index(id: &str, source: serde_json::Value) -> WriteRequest {
    WriteRequest::Index(IndexRequest {
        id: id.into(),
        source: Bytes::from(source.to_string()),
        routing: None,
        create_only: false,
        version_check: VersionCheck::None,
        auto_generated_id: false,
    })
}

fn delete(id: &str) -> WriteRequest {
    WriteRequest::Delete(DeleteRequest {
        id: id.into(),
        routing: None,
        version_check: VersionCheck::None,
    })
}

fn write_one(engine: &ShardEngine, request: WriteRequest) -> Result<WriteResult, EngineError> {
    let mut results = engine.write_batch(&[request]).expect("batch");
    assert_eq!(results.len(), 1);
    results.remove(0)
}

fn source_of(engine: &ShardEngine, id: &str) -> Option<serde_json::Value> {
    engine
        .get(id)
        .expect("get")
        .map(|found| serde_json::from_slice(&found.source).expect("json"))
}

#[test]
fn primary_assigns_seq_nos_and_versions_like_opensearch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("s"),
        small_config(ShardRole::Primary),
        keyword_mapping(),
    )
    .expect("create");
    let first = write_one(&engine, index("1", json!({"n": 1}))).expect("index");
    assert_eq!(
        (first.seq_no, first.version, first.outcome),
        (0, 1, WriteOutcome::Created)
    );
    let second = write_one(&engine, index("1", json!({"n": 2}))).expect("index");
    assert_eq!(
        (second.seq_no, second.version, second.outcome),
        (1, 2, WriteOutcome::Updated)
    );
    assert_eq!(
        source_of(&engine, "1"),
        Some(json!({"n": 2})),
        "real-time get before refresh"
    );

    let conflict = write_one(
        &engine,
        WriteRequest::Index(IndexRequest {
            create_only: true,
            ..match index("1", json!({"n": 3})) {
                WriteRequest::Index(request) => request,
                WriteRequest::Delete(_) => unreachable!(),
            }
        }),
    )
    .expect_err("create of an existing doc");
    assert_eq!(
        conflict.to_string(),
        "[1]: version conflict, document already exists (current version [2])"
    );
    let stale = write_one(
        &engine,
        WriteRequest::Delete(DeleteRequest {
            id: "1".into(),
            routing: None,
            version_check: VersionCheck::IfSeqNo {
                seq_no: 0,
                primary_term: 1,
            },
        }),
    )
    .expect_err("stale if_seq_no");
    assert!(stale
        .to_string()
        .contains("required seqNo [0], primary term [1]. current document has seqNo [1]"));

    let deleted = write_one(&engine, delete("1")).expect("delete");
    assert_eq!(
        (deleted.seq_no, deleted.version, deleted.outcome),
        (2, 3, WriteOutcome::Deleted)
    );
    let missing = write_one(&engine, delete("1")).expect("delete again");
    assert_eq!(missing.outcome, WriteOutcome::NotFound);
    assert_eq!(source_of(&engine, "1"), None);
    let reborn = write_one(&engine, index("1", json!({"n": 5}))).expect("index after delete");
    assert_eq!(reborn.version, 5, "versions continue across a tombstone");

    engine.refresh(false).expect("refresh");
    assert_eq!(engine.searcher().num_docs(), 1);
    assert_eq!(
        source_of(&engine, "1"),
        Some(json!({"n": 5})),
        "get after refresh"
    );
    let stats = engine.seq_no_stats();
    assert_eq!(
        (
            stats.max_seq_no,
            stats.local_checkpoint,
            stats.global_checkpoint
        ),
        (4, 4, 4)
    );
}

#[test]
fn external_versions_must_grow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("s"),
        small_config(ShardRole::Primary),
        keyword_mapping(),
    )
    .expect("create");
    let external = |version| {
        WriteRequest::Index(IndexRequest {
            version_check: VersionCheck::External { version },
            ..match index("e", json!({"n": version})) {
                WriteRequest::Index(request) => request,
                WriteRequest::Delete(_) => unreachable!(),
            }
        })
    };
    assert_eq!(write_one(&engine, external(10)).expect("v10").version, 10);
    let error = write_one(&engine, external(10)).expect_err("same version");
    assert_eq!(
        error.to_string(),
        "[e]: version conflict, current version [10] is higher or equal to the one provided [10]"
    );
    assert_eq!(write_one(&engine, external(11)).expect("v11").version, 11);
}

#[test]
fn new_fields_stop_the_batch_for_a_mapping_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("s"),
        small_config(ShardRole::Primary),
        dynamic_mapping(),
    )
    .expect("create");
    let requests = [index("1", json!({"a": 1})), index("2", json!({"a": 2}))];
    let results = engine.write_batch(&requests).expect("batch");
    assert_eq!(
        results.len(),
        1,
        "processing stops at the document needing a mapping"
    );
    let Err(EngineError::MappingUpdateRequired { proposed }) = &results[0] else {
        panic!("expected a mapping update, got {results:?}");
    };
    assert_eq!(engine.seq_no_stats().max_seq_no, -1, "nothing was written");
    engine
        .set_mapping(Arc::new((**proposed).clone()))
        .expect("install");
    let results = engine.write_batch(&requests).expect("batch");
    assert!(results.iter().all(Result::is_ok));
    engine.refresh(false).expect("refresh");
    assert_eq!(engine.searcher().num_docs(), 2);
}

#[test]
fn recovery_replays_the_translog_after_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    {
        let engine =
            ShardEngine::create(&path, small_config(ShardRole::Primary), keyword_mapping())
                .expect("create");
        for round in 0..30 {
            write_one(
                &engine,
                index(&format!("d{}", round % 10), json!({"n": round})),
            )
            .expect("index");
            if round == 12 {
                engine.refresh(false).expect("refresh");
            }
        }
        write_one(&engine, delete("d3")).expect("delete");
        // Dropped without close: only what request durability synced survives.
    }
    let engine = ShardEngine::open(&path, small_config(ShardRole::Primary), keyword_mapping())
        .expect("reopen");
    assert_eq!(engine.searcher().num_docs(), 9);
    assert_eq!(source_of(&engine, "d9"), Some(json!({"n": 29})));
    assert_eq!(source_of(&engine, "d3"), None);
    let stats = engine.seq_no_stats();
    assert_eq!((stats.max_seq_no, stats.local_checkpoint), (30, 30));
    let next = write_one(&engine, index("d9", json!({"n": 99}))).expect("index after recovery");
    assert_eq!((next.seq_no, next.version), (31, 4));
}

fn encode_op(operation: &Operation) -> Bytes {
    let mut buffer = Vec::new();
    encode(operation, &mut buffer).expect("encode");
    Bytes::from(buffer)
}

fn replica_op(seq_no: i64, id: u8, delete: bool) -> Operation {
    Operation {
        seq_no,
        primary_term: 1,
        op_type: if delete {
            OpType::Delete
        } else {
            OpType::Index
        },
        id: format!("id{id}"),
        routing: None,
        version: seq_no + 1,
        mapping_version: 1,
        auto_generated_id: false,
        source: if delete {
            Bytes::new()
        } else {
            Bytes::from(json!({"n": seq_no, "k": format!("v{seq_no}")}).to_string())
        },
    }
}

/// The documents a history of operations leaves: for each id, its highest-seq-no operation.
fn model(operations: &[Operation]) -> BTreeMap<String, i64> {
    let mut latest: BTreeMap<String, &Operation> = BTreeMap::new();
    for operation in operations {
        let entry = latest.entry(operation.id.clone()).or_insert(operation);
        if operation.seq_no > entry.seq_no {
            *entry = operation;
        }
    }
    latest
        .into_iter()
        .filter(|(_, operation)| operation.op_type == OpType::Index)
        .map(|(id, operation)| (id, operation.seq_no))
        .collect()
}

fn documents(engine: &ShardEngine, ids: impl Iterator<Item = String>) -> BTreeMap<String, i64> {
    ids.filter_map(|id| {
        engine
            .get(&id)
            .expect("get")
            .map(|found| (id, found.state.seq_no))
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn replica_apply_in_any_order_with_duplicates_equals_in_order_apply(
        kinds in proptest::collection::vec((0u8..6, proptest::bool::weighted(0.3)), 1..40),
        order_seed in any::<u64>(),
        duplicate_every in 2usize..5,
        refresh_every in 3usize..9,
    ) {
        let history: Vec<Operation> = kinds
            .iter()
            .enumerate()
            .map(|(seq_no, (id, delete))| replica_op(seq_no as i64, *id, *delete))
            .collect();
        let mut shuffled: Vec<Operation> = history.clone();
        // A seeded Fisher-Yates shuffle keeps failures replayable from the printed inputs.
        let mut state = order_seed | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        let with_duplicates: Vec<&Operation> = shuffled
            .iter()
            .enumerate()
            .flat_map(|(index, op)| {
                if index % duplicate_every == 0 { vec![op, op] } else { vec![op] }
            })
            .collect();

        let dir = tempfile::tempdir().expect("tempdir");
        let engine = ShardEngine::create(&dir.path().join("r"), small_config(ShardRole::Replica), keyword_mapping())
            .expect("create");
        for (index, operation) in with_duplicates.iter().enumerate() {
            engine.apply_replica_batch(&encode_op(operation), MAX_SEQ_NO_OF_UPDATES_UNKNOWN).expect("apply");
            if index % refresh_every == 0 {
                engine.refresh(false).expect("refresh");
            }
        }
        let last = history.len() as i64 - 1;
        prop_assert_eq!(engine.seq_no_stats().local_checkpoint, last);
        let ids = || (0u8..6).map(|id| format!("id{id}"));
        prop_assert_eq!(documents(&engine, ids()), model(&history));
        engine.refresh(false).expect("refresh");
        prop_assert_eq!(engine.searcher().num_docs() as usize, model(&history).len());

        // And the same after a crash and recovery.
        drop(engine);
        let engine = ShardEngine::open(&dir.path().join("r"), small_config(ShardRole::Replica), keyword_mapping())
            .expect("reopen");
        prop_assert_eq!(documents(&engine, ids()), model(&history));
        prop_assert_eq!(engine.seq_no_stats().local_checkpoint, last);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A replica fed the primary's history in order, with the bound read alongside, skips
    /// lookups for ids the primary created and still ends with exactly the primary's
    /// documents (no second live copy of an updated id, no resurrected delete).
    #[test]
    fn replica_with_the_primarys_update_bound_ends_with_the_primarys_documents(
        writes in proptest::collection::vec((0u8..6, 0u8..10), 1..60),
        read_ops in 1usize..9,
        primary_refresh_every in 2usize..12,
        replica_refresh_every in 1usize..4,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let primary = ShardEngine::create(&dir.path().join("p"), small_config(ShardRole::Primary), keyword_mapping())
            .expect("primary");
        let mut updates_and_deletes = -1;
        for (index, (id, kind)) in writes.iter().enumerate() {
            let id = format!("id{id}");
            let existed = primary.get(&id).expect("get").is_some();
            let request = if *kind < 3 { delete(&id) } else { index_request(&id, index) };
            let result = write_one(&primary, request).expect("write");
            if existed || *kind < 3 {
                updates_and_deletes = result.seq_no;
            }
            if index % primary_refresh_every == 0 {
                primary.refresh(false).expect("refresh");
            }
        }
        prop_assert_eq!(primary.max_seq_no_of_updates_or_deletes(), updates_and_deletes);

        let replica = ShardEngine::create(&dir.path().join("r"), small_config(ShardRole::Replica), keyword_mapping())
            .expect("replica");
        let last = writes.len() as i64 - 1;
        let mut from = 0;
        let mut reads = 0;
        while from <= last {
            let changes = primary.read_changes(from, last, read_ops, 1 << 20).expect("changes");
            prop_assert!(changes.max_seq_no_of_updates >= updates_and_deletes.min(changes.records.last_seq_no().unwrap_or(-1)));
            replica
                .apply_replica_batch(changes.records.bytes(), changes.max_seq_no_of_updates)
                .expect("apply");
            from = changes.records.last_seq_no().expect("not empty") + 1;
            reads += 1;
            if reads % replica_refresh_every == 0 {
                replica.refresh(false).expect("refresh");
            }
        }
        let ids = || (0u8..6).map(|id| format!("id{id}"));
        let on_primary: BTreeMap<String, i64> = documents(&primary, ids());
        prop_assert_eq!(documents(&replica, ids()), on_primary.clone());
        primary.refresh(false).expect("refresh");
        replica.refresh(false).expect("refresh");
        prop_assert_eq!(replica.searcher().num_docs() as usize, on_primary.len());
        prop_assert_eq!(primary.searcher().num_docs(), replica.searcher().num_docs());
    }
}

fn index_request(id: &str, n: usize) -> WriteRequest {
    index(id, json!({"n": n, "k": format!("v{n}")}))
}

#[test]
fn a_damaged_record_applies_nothing_and_a_refused_document_stops_the_batch_there() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replica = ShardEngine::create(
        &dir.path().join("r"),
        small_config(ShardRole::Replica),
        keyword_mapping(),
    )
    .expect("create");
    let operations: Vec<Operation> = (0..200)
        .map(|seq_no| replica_op(seq_no, 1, false))
        .collect();
    let batch = crate::record::RecordBatch::encode(&operations).expect("encode");
    let mut damaged = batch.bytes().to_vec();
    let last = damaged.len() - 3;
    damaged[last] ^= 0x40;
    assert!(replica
        .apply_replica_batch(&Bytes::from(damaged), MAX_SEQ_NO_OF_UPDATES_UNKNOWN)
        .is_err());
    assert_eq!(replica.seq_no_stats().local_checkpoint, -1);

    let mut refused = operations.clone();
    refused[150].source = Bytes::from_static(br#"{"n": "not a number"}"#);
    let batch = crate::record::RecordBatch::encode(&refused).expect("encode");
    let error = replica
        .apply_replica_batch(batch.bytes(), MAX_SEQ_NO_OF_UPDATES_UNKNOWN)
        .expect_err("refused document");
    assert!(matches!(error, EngineError::Mapping(_)), "{error:?}");
    assert_eq!(replica.seq_no_stats().local_checkpoint, 149);
    assert_eq!(
        replica.get("id1").expect("get").map(|d| d.state.seq_no),
        Some(149)
    );
}

#[test]
fn replica_refuses_ops_needing_a_newer_mapping_and_applies_after_install() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("r"),
        small_config(ShardRole::Replica),
        keyword_mapping(),
    )
    .expect("create");
    let mut operation = replica_op(0, 1, false);
    operation.mapping_version = 2;
    let error = engine
        .apply_replica_batch(&encode_op(&operation), MAX_SEQ_NO_OF_UPDATES_UNKNOWN)
        .expect_err("needs mapping");
    assert!(matches!(
        error,
        EngineError::NeedsMappingVersion {
            required: 2,
            current: 1
        }
    ));
    let mut newer = (*keyword_mapping()).clone();
    newer.version = 2;
    engine.set_mapping(Arc::new(newer)).expect("install");
    let outcome = engine
        .apply_replica_batch(&encode_op(&operation), MAX_SEQ_NO_OF_UPDATES_UNKNOWN)
        .expect("apply");
    assert_eq!(outcome.applied, 1);
}

#[test]
fn replica_leaves_gaps_open_and_a_promoted_primary_fills_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("r"),
        small_config(ShardRole::Replica),
        keyword_mapping(),
    )
    .expect("create");
    engine
        .apply_replica_batch(
            &encode_op(&replica_op(0, 1, false)),
            MAX_SEQ_NO_OF_UPDATES_UNKNOWN,
        )
        .expect("apply");
    engine
        .apply_replica_batch(
            &encode_op(&replica_op(2, 2, false)),
            MAX_SEQ_NO_OF_UPDATES_UNKNOWN,
        )
        .expect("apply");
    assert_eq!(engine.seq_no_stats().local_checkpoint, 0);
    engine.promote_to_primary(1).expect("promote");
    assert_eq!(engine.seq_no_stats().local_checkpoint, 2);
    let next = write_one(&engine, index("new", json!({"n": 1}))).expect("write");
    assert_eq!(next.seq_no, 3);
}

#[test]
fn changes_come_in_seq_no_order_up_to_the_global_checkpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("r"),
        small_config(ShardRole::Replica),
        keyword_mapping(),
    )
    .expect("create");
    for seq_no in [3, 1, 0, 2, 5] {
        engine
            .apply_replica_batch(
                &encode_op(&replica_op(seq_no, seq_no as u8, false)),
                MAX_SEQ_NO_OF_UPDATES_UNKNOWN,
            )
            .expect("apply");
    }
    let changes = engine.read_changes(0, 100, 100, 1 << 20).expect("changes");
    let seq_nos: Vec<i64> = changes
        .records
        .iter()
        .map(|op| op.expect("op").seq_no)
        .collect();
    assert_eq!(
        seq_nos,
        vec![0, 1, 2, 3],
        "never beyond the global checkpoint"
    );
    assert_eq!(changes.global_checkpoint, 3);
}

#[test]
fn snapshots_install_as_a_replica_with_the_same_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let leader = ShardEngine::create(
        &dir.path().join("leader"),
        small_config(ShardRole::Primary),
        keyword_mapping(),
    )
    .expect("create");
    for n in 0..50 {
        write_one(&leader, index(&format!("d{n}"), json!({"n": n, "k": "x"}))).expect("index");
    }
    write_one(&leader, delete("d7")).expect("delete");
    let manifest = leader.pin_snapshot().expect("pin");
    // Writes after the pin must not disturb the pinned files.
    for n in 50..60 {
        write_one(&leader, index(&format!("d{n}"), json!({"n": n}))).expect("index");
    }
    leader.refresh(false).expect("refresh");
    assert_eq!(manifest.local_checkpoint, 50);

    let installer =
        crate::snapshot::SnapshotInstaller::begin(&dir.path().join("follower"), manifest.clone())
            .expect("begin");
    for file in &manifest.files {
        let mut offset = 0;
        while offset < file.size_bytes {
            let chunk = leader
                .read_snapshot_chunk(manifest.pin_id, &file.name, offset, 1000)
                .expect("chunk");
            installer
                .write_chunk(&file.name, offset, &chunk)
                .expect("write");
            offset += chunk.len() as u64;
        }
    }
    leader.release_snapshot(manifest.pin_id).expect("release");
    let follower = installer
        .finish(small_config(ShardRole::Replica), keyword_mapping())
        .expect("install");
    assert_eq!(follower.searcher().num_docs(), 49);
    assert_eq!(follower.seq_no_stats().local_checkpoint, 50);
    assert_eq!(
        follower.get("d3").expect("get").map(|d| d.state.seq_no),
        Some(3)
    );

    // Then it catches up from the leader's history.
    let changes = leader
        .read_changes(51, 1000, 1000, 1 << 20)
        .expect("changes");
    follower
        .apply_replica_batch(changes.records.bytes(), changes.max_seq_no_of_updates)
        .expect("apply");
    follower.refresh(false).expect("refresh");
    assert_eq!(follower.searcher().num_docs(), 59);
}

#[test]
fn a_corrupted_snapshot_file_is_refused_on_install() {
    let dir = tempfile::tempdir().expect("tempdir");
    let leader = ShardEngine::create(
        &dir.path().join("leader"),
        small_config(ShardRole::Primary),
        keyword_mapping(),
    )
    .expect("create");
    write_one(&leader, index("a", json!({"n": 1}))).expect("index");
    let manifest = leader.pin_snapshot().expect("pin");
    let installer =
        crate::snapshot::SnapshotInstaller::begin(&dir.path().join("follower"), manifest.clone())
            .expect("begin");
    for file in &manifest.files {
        let mut chunk = leader
            .read_snapshot_chunk(manifest.pin_id, &file.name, 0, usize::MAX)
            .expect("chunk")
            .to_vec();
        if file.name.ends_with(".store") && !chunk.is_empty() {
            chunk[0] ^= 0xff;
        }
        installer.write_chunk(&file.name, 0, &chunk).expect("write");
    }
    let error = installer
        .finish(small_config(ShardRole::Replica), keyword_mapping())
        .expect_err("corrupt file");
    assert!(matches!(error, EngineError::Corrupt { .. }), "{error}");
}

#[test]
fn leases_hold_history_back_from_trimming() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = ShardEngine::create(
        &dir.path().join("s"),
        small_config(ShardRole::Primary),
        keyword_mapping(),
    )
    .expect("create");
    engine
        .add_retention_lease("follower", 0, "ccr", 1)
        .expect("lease");
    for n in 0..20 {
        write_one(&engine, index(&format!("d{n}"), json!({"n": n}))).expect("index");
    }
    engine.flush().expect("flush");
    let changes = engine
        .read_changes(0, 100, 100, 1 << 20)
        .expect("history kept for the lease");
    assert_eq!(changes.records.iter().count(), 20);
    engine.remove_retention_lease("follower").expect("remove");
    engine.flush().expect("flush");
    let error = engine
        .read_changes(0, 100, 100, 1 << 20)
        .expect_err("history released");
    assert!(
        matches!(
            error,
            EngineError::Translog(crate::translog::TranslogError::HistoryGone { .. })
        ),
        "{error}"
    );
}

fn shard_with_history(path: &std::path::Path) {
    let engine = ShardEngine::create(path, small_config(ShardRole::Primary), keyword_mapping())
        .expect("create");
    for n in 0..20 {
        write_one(&engine, index(&format!("d{n}"), json!({"n": n}))).expect("index");
    }
    // Not closed: the operations live only in the translog above the first commit.
}

fn translog_generation_files(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(path.join(TRANSLOG_DIR_NAME))
        .expect("translog dir")
        .map(|entry| entry.expect("entry").path())
        .filter(|file| {
            file.extension()
                .is_some_and(|extension| extension == "tlog")
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_flipped_byte_inside_the_translog_refuses_to_open_the_shard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    shard_with_history(&path);
    let largest = translog_generation_files(&path)
        .into_iter()
        .max_by_key(|file| std::fs::metadata(file).expect("metadata").len())
        .expect("a generation with records");
    let mut bytes = std::fs::read(&largest).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&largest, bytes).expect("write");
    let error = ShardEngine::open(&path, small_config(ShardRole::Primary), keyword_mapping())
        .expect_err("corruption must refuse the open");
    let message = error.to_string();
    assert!(
        message.contains(
            &largest
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string()
        ),
        "{message}"
    );
}

#[test]
fn a_translog_from_another_shard_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    shard_with_history(&first);
    shard_with_history(&second);
    std::fs::remove_dir_all(second.join(TRANSLOG_DIR_NAME)).expect("remove");
    copy_dir(
        &first.join(TRANSLOG_DIR_NAME),
        &second.join(TRANSLOG_DIR_NAME),
    );
    let error = ShardEngine::open(&second, small_config(ShardRole::Primary), keyword_mapping())
        .expect_err("foreign translog");
    assert!(matches!(error, EngineError::Corrupt { .. }), "{error}");
    assert!(
        error.to_string().contains("does not belong to the commit"),
        "{error}"
    );
}

#[test]
fn a_damaged_commit_payload_refuses_to_open_the_shard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s");
    shard_with_history(&path);
    let meta_path = path.join(INDEX_DIR_NAME).join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).expect("meta");
    let damaged = meta.replace("\\\"local_checkpoint\\\":", "\\\"local_checkpoint\\\":1");
    assert_ne!(meta, damaged, "the payload is where we expect it");
    std::fs::write(&meta_path, damaged).expect("write");
    let error = ShardEngine::open(&path, small_config(ShardRole::Primary), keyword_mapping())
        .expect_err("damaged payload");
    assert!(error.to_string().contains("checksum mismatch"), "{error}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
    }
}
