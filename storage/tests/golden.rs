//! Golden files: bytes written by format version 1 of every file tandem writes for a shard
//! (translog generations and checkpoint, retention leases, the commit payload) and of one
//! operation record. Today's code must keep reading them; a format change that breaks this
//! needs a new version and a new golden set, not an edited one.
//!
//! Regenerate (only when adding a new format version) with `TANDEM_BLESS_GOLDEN=1`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::record::{decode, encode, OpType, Operation};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};

const BLESS_VAR: &str = "TANDEM_BLESS_GOLDEN";

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|value| value == "1")
}

fn golden_operation() -> Operation {
    Operation {
        seq_no: 41,
        primary_term: 3,
        op_type: OpType::Index,
        id: "golden-1".into(),
        routing: Some("user-7".into()),
        version: 5,
        mapping_version: 2,
        auto_generated_id: false,
        source: Bytes::from_static(br#"{"title":"golden","n":1}"#),
    }
}

#[test]
fn record_format_v1_still_decodes_and_encodes_identically() {
    let path = golden_dir().join("record-v1.bin");
    let mut encoded = Vec::new();
    encode(&golden_operation(), &mut encoded).expect("encode");
    if blessing() {
        std::fs::write(&path, &encoded).expect("bless");
    }
    let golden = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("missing {}; bless with {BLESS_VAR}=1", path.display()));
    let (decoded, used) = decode(&golden).expect("golden record decodes");
    assert_eq!(used, golden.len());
    assert_eq!(decoded, golden_operation());
    assert_eq!(encoded, golden, "the v1 encoding must not change");
}

fn config() -> EngineConfig {
    EngineConfig {
        indexing_memory_bytes: 15 * 1024 * 1024,
        ..EngineConfig::primary()
    }
}

fn mapping() -> Arc<Mapping> {
    let json =
        serde_json::json!({"properties": {"title": {"type": "text"}, "n": {"type": "long"}}});
    Arc::new(Mapping::from_json(&json, 1).expect("mapping"))
}

fn write_golden_shard(path: &Path) {
    let engine = ShardEngine::create(path, config(), mapping()).expect("create");
    let requests: Vec<WriteRequest> = (0..5)
        .map(|n| {
            WriteRequest::Index(IndexRequest {
                id: format!("doc-{n}"),
                source: Bytes::from(format!(r#"{{"title":"golden {n}","n":{n}}}"#)),
                routing: None,
                create_only: false,
                version_check: VersionCheck::None,
                auto_generated_id: false,
            })
        })
        .collect();
    for result in engine.write_batch(&requests[..3]).expect("batch") {
        result.expect("indexed");
    }
    engine.refresh(false).expect("commit the first three");
    engine
        .add_retention_lease("golden-follower", 1, "ccr", 1_700_000_000_000)
        .expect("lease");
    for result in engine.write_batch(&requests[3..]).expect("batch") {
        result.expect("indexed");
    }
    // Dropped, not closed: the last two operations live only in the translog.
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else if !entry.file_name().to_string_lossy().ends_with(".lock") {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_shard_written_by_format_v1_opens_and_replays() {
    let golden = golden_dir().join("shard-v1");
    if blessing() {
        let _ = std::fs::remove_dir_all(&golden);
        let scratch = tempfile::tempdir().expect("tempdir");
        write_golden_shard(&scratch.path().join("s"));
        copy_tree(&scratch.path().join("s"), &golden);
    }
    assert!(
        golden.is_dir(),
        "missing {}; bless with {BLESS_VAR}=1",
        golden.display()
    );
    let scratch = tempfile::tempdir().expect("tempdir");
    let shard = scratch.path().join("s");
    copy_tree(&golden, &shard);
    let engine = ShardEngine::open(&shard, config(), mapping()).expect("golden shard opens");
    for n in 0..5 {
        let found = engine
            .get(&format!("doc-{n}"))
            .expect("get")
            .expect("golden document");
        assert_eq!(
            found.source,
            Bytes::from(format!(r#"{{"title":"golden {n}","n":{n}}}"#))
        );
        assert_eq!(found.state.seq_no, n);
    }
    let leases = engine.retention_leases();
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].id, "golden-follower");
    assert_eq!(engine.seq_no_stats().local_checkpoint, 4);
}
