//! Append, sync, reopen; reading by location; replay order; async durability; tragic close;
//! group commit.

use std::fs;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::support::*;
use crate::record::{self, RecordError};
use crate::translog::{
    Durability, Translog, TranslogConfig, TranslogError, GENERATION_HEADER_BYTES,
};

#[test]
fn synced_ops_survive_reopen_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let ops: Vec<_> = (0..10).map(op).collect();
    let translog = create(dir.path(), config());
    let uuid = translog.uuid();
    for op in &ops {
        translog.append(op).unwrap();
    }
    translog.sync().unwrap();
    drop(translog);
    let translog = reopen(dir.path(), config());
    assert_eq!(translog.uuid(), uuid);
    assert_eq!(replay(&translog), ops);
    let above_four: Vec<_> = translog.iter_from(4).unwrap().map(Result::unwrap).collect();
    assert_eq!(above_four, ops[5..]);
    let stats = translog.stats();
    assert_eq!(stats.generation, 2, "open starts a new generation");
    assert_eq!(stats.ops, 10);
    assert_eq!(stats.max_seq_no, 9);
    assert_eq!(translog.durable_max_seq_no(), 9);
}

#[test]
fn reopen_after_rolls_keeps_every_generation() {
    let dir = tempfile::tempdir().unwrap();
    let ops: Vec<_> = (0..60).map(|seq| op_sized(seq, 1, 100)).collect();
    let translog = create(dir.path(), small_config());
    for op in &ops {
        translog.append(op).unwrap();
    }
    translog.sync().unwrap();
    let generations = translog.stats().generations;
    assert!(generations > 3, "rolled by size: {generations}");
    drop(translog);
    let translog = reopen(dir.path(), small_config());
    assert_eq!(replay(&translog), ops);
    assert_eq!(translog.stats().generations, generations + 1);
    drop(translog);
    let translog = reopen(dir.path(), small_config());
    assert_eq!(
        replay(&translog),
        ops,
        "a second reopen sees the same history"
    );
}

#[test]
fn replay_follows_append_order_not_seq_no_order() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in [5, 3, 4, 1] {
        translog.append(&op(seq)).unwrap();
        if seq == 3 {
            translog.roll_generation().unwrap();
        }
    }
    let seqs: Vec<_> = replay(&translog).iter().map(|op| op.seq_no).collect();
    assert_eq!(seqs, [5, 3, 4, 1]);
    let above: Vec<_> = translog
        .iter_from(3)
        .unwrap()
        .map(|op| op.unwrap().seq_no)
        .collect();
    assert_eq!(above, [5, 4]);
}

#[test]
fn read_finds_buffered_written_and_sealed_ops() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    let first = translog.append(&op(0)).unwrap();
    assert_eq!(first.offset, GENERATION_HEADER_BYTES as u64);
    assert!(!translog.is_durable(first));
    assert_eq!(translog.read(first).unwrap(), op(0), "from the buffer");
    translog.sync_to(first).unwrap();
    assert!(translog.is_durable(first));
    let second = translog.append(&op(1)).unwrap();
    assert_eq!(translog.read(first).unwrap(), op(0), "from the file");
    assert_eq!(
        translog.read(second).unwrap(),
        op(1),
        "from the buffer after a flush"
    );
    translog.roll_generation().unwrap();
    assert!(
        translog.is_durable(second),
        "a roll makes everything durable"
    );
    assert_eq!(translog.read(second).unwrap(), op(1), "from the sealed map");
    let bogus = crate::translog::Location {
        offset: second.offset + 1,
        ..second
    };
    assert!(translog.read(bogus).is_err());
    let gone = crate::translog::Location {
        generation: 99,
        ..second
    };
    assert!(matches!(
        translog.read(gone),
        Err(TranslogError::LocationNotFound { .. })
    ));
}

#[test]
fn append_record_stores_the_bytes_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    let mut bytes = Vec::new();
    record::encode(&op(0), &mut bytes).unwrap();
    let location = translog.append_record(&bytes).unwrap();
    translog.sync().unwrap();
    assert_eq!(translog.read(location).unwrap(), op(0));
    let batch = translog.read_ops(0, 0, 10, 1 << 20).unwrap();
    assert_eq!(batch.records.as_ref(), bytes.as_slice());

    let mut damaged = bytes.clone();
    *damaged.last_mut().unwrap() ^= 1;
    let err = translog.append_record(&damaged).unwrap_err();
    assert!(
        matches!(err, TranslogError::Record(RecordError::Corrupt { .. })),
        "{err}"
    );
    let mut two = bytes.clone();
    two.extend_from_slice(&bytes);
    assert!(
        translog.append_record(&two).is_err(),
        "exactly one record per call"
    );
    assert!(translog.append_record(&bytes[..10]).is_err());
    assert_eq!(translog.stats().ops, 1, "refused records leave no trace");
}

#[test]
fn invalid_operations_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    let bad = crate::record::Operation {
        seq_no: -3,
        ..op(0)
    };
    assert!(matches!(
        translog.append(&bad),
        Err(TranslogError::Record(RecordError::Invalid { .. }))
    ));
    translog.append(&op(0)).unwrap();
    translog.sync().unwrap();
    assert_eq!(replay(&translog), [op(0)]);
}

#[test]
fn unsynced_tail_is_not_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in 0..5 {
        translog.append(&op(seq)).unwrap();
    }
    translog.sync().unwrap();
    for seq in 5..8 {
        translog.append(&op(seq)).unwrap();
    }
    // Pushes the tail into the file without syncing it.
    assert_eq!(translog.iter_from(-1).unwrap().count(), 8);
    drop(translog);
    let translog = reopen(dir.path(), config());
    assert_eq!(replay(&translog), (0..5).map(op).collect::<Vec<_>>());
}

#[test]
fn close_makes_everything_durable() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in 0..3 {
        translog.append(&op(seq)).unwrap();
    }
    translog.close().unwrap();
    let translog = reopen(dir.path(), config());
    assert_eq!(replay(&translog).len(), 3);
}

#[test]
fn create_refuses_an_existing_translog_and_open_needs_one() {
    let dir = tempfile::tempdir().unwrap();
    let err = Translog::open(dir.path(), config(), 1).unwrap_err();
    assert!(matches!(err, TranslogError::NotFound { .. }), "{err}");
    drop(create(dir.path(), config()));
    let err = Translog::create(dir.path(), config(), 1, 0).unwrap_err();
    assert!(matches!(err, TranslogError::AlreadyExists { .. }), "{err}");
}

#[test]
fn create_removes_generations_left_without_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(generation_path(dir.path(), 1), b"half a header").unwrap();
    let translog = create(dir.path(), config());
    translog.append(&op(0)).unwrap();
    translog.sync().unwrap();
}

#[test]
fn config_bounds_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let too_fast = TranslogConfig {
        durability: Durability::Async {
            sync_interval: Duration::from_millis(10),
        },
        ..config()
    };
    assert!(matches!(
        Translog::create(dir.path(), too_fast, 1, 0),
        Err(TranslogError::InvalidConfig { .. })
    ));
    let too_small = TranslogConfig {
        generation_bytes_max: 10,
        ..config()
    };
    assert!(matches!(
        Translog::create(dir.path(), too_small, 1, 0),
        Err(TranslogError::InvalidConfig { .. })
    ));
    assert!(matches!(
        Translog::create(dir.path(), config(), 0, 0),
        Err(TranslogError::InvalidArgument { .. })
    ));
}

#[test]
fn translogs_get_distinct_uuids() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert_ne!(
        create(a.path(), config()).uuid(),
        create(b.path(), config()).uuid()
    );
}

#[test]
fn async_durability_syncs_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let config = TranslogConfig {
        durability: Durability::Async {
            sync_interval: Duration::from_millis(100),
        },
        ..config()
    };
    let translog = Translog::create(dir.path(), config.clone(), 1, 0).unwrap();
    let location = translog.append(&op(0)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !translog.is_durable(location) {
        assert!(Instant::now() < deadline, "background sync never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    translog.close().unwrap();
    let translog = Translog::open(dir.path(), config, 1).unwrap();
    assert_eq!(replay(&translog), [op(0)]);
}

#[test]
fn a_failed_fsync_closes_the_translog() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    translog.append(&op(0)).unwrap();
    translog.sync().unwrap();
    let unsynced = translog.append(&op(1)).unwrap();
    translog
        .shared
        .fail_next_fsync
        .store(true, Ordering::SeqCst);
    assert!(matches!(translog.sync(), Err(TranslogError::Io { .. })));
    assert!(!translog.is_durable(unsynced));
    assert!(matches!(
        translog.append(&op(2)),
        Err(TranslogError::Closed { .. })
    ));
    assert!(matches!(
        translog.sync_to(unsynced),
        Err(TranslogError::Closed { .. })
    ));
    assert!(matches!(
        translog.roll_generation(),
        Err(TranslogError::Closed { .. })
    ));
    assert_eq!(translog.read(unsynced).unwrap(), op(1), "reads still work");
    drop(translog);
    let translog = reopen(dir.path(), config());
    assert_eq!(replay(&translog), [op(0)], "only what a checkpoint covered");
}

#[test]
fn concurrent_appenders_share_fsyncs() {
    const THREADS: i64 = 4;
    const OPS_PER_THREAD: i64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let translog = Arc::new(create(dir.path(), config()));
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let translog = Arc::clone(&translog);
            std::thread::spawn(move || {
                for i in 0..OPS_PER_THREAD {
                    let location = translog.append(&op(thread * OPS_PER_THREAD + i)).unwrap();
                    translog.sync_to(location).unwrap();
                    assert!(translog.is_durable(location));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let stats = translog.stats();
    let appends = (THREADS * OPS_PER_THREAD) as u64;
    assert!(
        stats.fsyncs <= appends,
        "{} fsyncs for {appends} appends",
        stats.fsyncs
    );
    assert_eq!(translog.durable_max_seq_no(), THREADS * OPS_PER_THREAD - 1);
    drop(translog);
    let translog = reopen(dir.path(), config());
    let recovered = replay(&translog);
    assert_eq!(recovered.len() as u64, appends);
    for thread in 0..THREADS {
        let own: Vec<_> = recovered
            .iter()
            .map(|op| op.seq_no)
            .filter(|seq| seq / OPS_PER_THREAD == thread)
            .collect();
        let expected: Vec<_> = (thread * OPS_PER_THREAD..(thread + 1) * OPS_PER_THREAD).collect();
        assert_eq!(own, expected, "each thread's ops stay in its order");
    }
}

#[test]
fn concurrent_appends_while_syncing_and_rolling_stay_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let translog = Arc::new(create(dir.path(), small_config()));
    let syncer = {
        let translog = Arc::clone(&translog);
        std::thread::spawn(move || {
            for _ in 0..50 {
                translog.sync().unwrap();
            }
        })
    };
    for seq in 0..300 {
        translog.append(&op_sized(seq, 1, 40)).unwrap();
    }
    syncer.join().unwrap();
    translog.sync().unwrap();
    let batch = translog.read_ops(0, 299, 1000, usize::MAX).unwrap();
    assert_eq!(batch.ops, 300);
    drop(translog);
    let translog = reopen(dir.path(), small_config());
    assert_eq!(replay(&translog).len(), 300);
}
