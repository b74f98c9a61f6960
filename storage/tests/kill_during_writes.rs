//! A child process writes documents with `request` durability and reports each acknowledged
//! id; the parent kills it with SIGKILL mid-stream, reopens the shard and checks that every
//! acknowledged write is there, intact, and nothing that was never attempted is.
//!
//! The child is this same test binary, re-run with `CRASH_CHILD_SHARD_DIR` set.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};

const CHILD_DIR_VAR: &str = "CRASH_CHILD_SHARD_DIR";
const CHILD_ROUND_VAR: &str = "CRASH_CHILD_ROUND";
const WRITER_THREADS: usize = 3;
const ACKS_BEFORE_KILL_MIN: usize = 150;
const CHILD_RUN_MAX: Duration = Duration::from_secs(60);

fn config() -> EngineConfig {
    EngineConfig {
        indexing_memory_bytes: 15 * 1024 * 1024,
        translog_generation_bytes_max: 1024 * 1024,
        ..EngineConfig::primary()
    }
}

fn mapping() -> Arc<Mapping> {
    let json = serde_json::json!({"properties": {"round": {"type": "long"}, "n": {"type": "long"}, "body": {"type": "text"}}});
    Arc::new(Mapping::from_json(&json, 1).expect("mapping"))
}

fn open_or_create(dir: &Path) -> ShardEngine {
    if dir.exists() {
        ShardEngine::open(dir, config(), mapping()).expect("open")
    } else {
        ShardEngine::create(dir, config(), mapping()).expect("create")
    }
}

fn document(round: usize, thread: usize, n: usize) -> (String, Bytes) {
    let id = format!("r{round}-t{thread}-{n}");
    let body = format!(
        "round {round} thread {thread} document {n} {}",
        "padding ".repeat(n % 7)
    );
    let source = serde_json::json!({"round": round, "n": n, "body": body}).to_string();
    (id, Bytes::from(source))
}

/// The child: writes until killed, printing `acked <id>` after each durable write.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR_VAR) else {
        return;
    };
    let round: usize = std::env::var(CHILD_ROUND_VAR)
        .expect("round")
        .parse()
        .expect("round");
    let engine = Arc::new(open_or_create(Path::new(&dir)));
    let handles: Vec<_> = (0..WRITER_THREADS)
        .map(|thread| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                for n in 0.. {
                    let (id, source) = document(round, thread, n);
                    let request = WriteRequest::Index(IndexRequest {
                        id: id.clone(),
                        source,
                        routing: None,
                        create_only: false,
                        version_check: VersionCheck::None,
                        auto_generated_id: false,
                    });
                    let results = engine.write_batch(&[request]).expect("write");
                    results
                        .into_iter()
                        .next()
                        .expect("one result")
                        .expect("indexed");
                    println!("acked {id}");
                    if n % 97 == 0 {
                        engine.refresh(false).expect("refresh");
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("writer");
    }
}

fn run_child_and_kill(dir: &Path, round: usize) -> BTreeSet<String> {
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_VAR, dir)
        .env(CHILD_ROUND_VAR, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("child stdout");
    let mut acked = BTreeSet::new();
    let started = Instant::now();
    // Kill after a varying number of acks so the kill lands at different points.
    let kill_after = ACKS_BEFORE_KILL_MIN + round * 37;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(id) = line.strip_prefix("acked ") {
            acked.insert(id.to_string());
        }
        if acked.len() >= kill_after || started.elapsed() > CHILD_RUN_MAX {
            break;
        }
    }
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    assert!(
        acked.len() >= kill_after,
        "child acknowledged only {} writes",
        acked.len()
    );
    acked
}

#[test]
fn every_acknowledged_write_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shard = dir.path().join("shard");
    let mut all_acked = BTreeSet::new();
    for round in 0..3 {
        all_acked.extend(run_child_and_kill(&shard, round));
        let engine = ShardEngine::open(&shard, config(), mapping()).expect("reopen after kill -9");
        for id in &all_acked {
            let found = engine
                .get(id)
                .expect("get")
                .unwrap_or_else(|| panic!("acknowledged {id} lost"));
            let parts: Vec<&str> = id
                .split(['r', '-', 't'])
                .filter(|p| !p.is_empty())
                .collect();
            let (round, thread, n) = (
                parts[0].parse().expect("round"),
                parts[1].parse().expect("thread"),
                parts[2].parse().expect("n"),
            );
            assert_eq!(found.source, document(round, thread, n).1, "{id} intact");
        }
        let stats = engine.seq_no_stats();
        assert_eq!(
            stats.local_checkpoint, stats.max_seq_no,
            "no hole after recovery"
        );
        engine.refresh(false).expect("refresh");
        let docs = engine.searcher().num_docs() as usize;
        assert!(
            docs >= all_acked.len(),
            "{docs} documents, {} acknowledged",
            all_acked.len()
        );
        // Unacknowledged writes may or may not be there, but only writes that were attempted:
        // at most one in flight per writer thread per round.
        assert!(
            docs <= all_acked.len() + WRITER_THREADS * (round + 1),
            "{docs} documents"
        );
        engine.close().expect("close");
    }
}
