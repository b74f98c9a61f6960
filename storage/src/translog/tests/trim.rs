//! Trimming: keep_from, committed_seq_no, the byte cap, and a crash between checkpoint and
//! unlink.

use std::fs;
use std::path::Path;

use super::support::*;
use crate::translog::{Translog, TranslogError};

/// Generations 1..=3 sealed with seq_nos 0..10, 10..20, 20..30; 30..35 in the active one.
fn four_generations(dir: &Path) -> Translog {
    let translog = create(dir, config());
    for seq in 0..35 {
        translog.append(&op(seq)).unwrap();
        if seq % 10 == 9 {
            translog.roll_generation().unwrap();
        }
    }
    translog.sync().unwrap();
    translog
}

#[test]
fn trim_deletes_generations_below_keep_from() {
    let dir = tempfile::tempdir().unwrap();
    let translog = four_generations(dir.path());
    let before = translog.stats();
    let outcome = translog.trim(15, 100, u64::MAX).unwrap();
    assert_eq!(outcome.generations_deleted, 1);
    assert_eq!(outcome.history_min_seq_no, 10);
    assert!(!outcome.cap_exceeded);
    assert_eq!(
        outcome.bytes_released + outcome.bytes_retained,
        before.total_bytes
    );
    assert!(!generation_path(dir.path(), 1).exists());
    assert!(generation_path(dir.path(), 2).exists());
    assert_eq!(translog.history_min_seq_no(), 10);
    let err = translog.read_ops(5, 20, 100, usize::MAX).unwrap_err();
    assert!(
        matches!(
            err,
            TranslogError::HistoryGone {
                requested: 5,
                available_from: 10
            }
        ),
        "{err}"
    );
    assert_eq!(translog.read_ops(10, 34, 100, usize::MAX).unwrap().ops, 25);
    drop(translog);
    let translog = reopen(dir.path(), config());
    assert_eq!(
        translog.history_min_seq_no(),
        10,
        "history_min_seq_no is durable"
    );
    assert_eq!(replay(&translog).first().unwrap().seq_no, 10);
}

#[test]
fn trim_never_deletes_ops_above_committed() {
    let dir = tempfile::tempdir().unwrap();
    let translog = four_generations(dir.path());
    let outcome = translog.trim(1000, 15, 0).unwrap();
    assert_eq!(
        outcome.generations_deleted, 1,
        "generation 2 holds ops above 15"
    );
    assert!(outcome.cap_exceeded);
    assert_eq!(translog.iter_from(15).unwrap().count(), 19);
}

#[test]
fn the_byte_cap_overrides_keep_from_but_not_committed() {
    let dir = tempfile::tempdir().unwrap();
    let translog = four_generations(dir.path());
    let outcome = translog.trim(0, 25, 1).unwrap();
    assert_eq!(
        outcome.generations_deleted, 2,
        "generation 3 holds ops above 25"
    );
    assert!(outcome.cap_exceeded);
    assert_eq!(outcome.history_min_seq_no, 20);
    assert!(outcome.bytes_retained > 1);
    let unbounded = translog.trim(0, 25, u64::MAX).unwrap();
    assert_eq!(unbounded.generations_deleted, 0);
    assert_eq!(unbounded.history_min_seq_no, 20, "never decreases");
}

#[test]
fn trim_never_deletes_the_active_generation() {
    let dir = tempfile::tempdir().unwrap();
    let translog = four_generations(dir.path());
    let outcome = translog.trim(i64::MAX, i64::MAX, 0).unwrap();
    assert_eq!(outcome.generations_deleted, 3);
    assert_eq!(translog.stats().generations, 1);
    assert_eq!(outcome.history_min_seq_no, 30);
    translog.append(&op(35)).unwrap();
    translog.sync().unwrap();
    assert_eq!(translog.read_ops(30, 35, 100, usize::MAX).unwrap().ops, 6);
}

#[test]
fn a_crash_between_checkpoint_and_unlink_is_finished_by_open() {
    let dir = tempfile::tempdir().unwrap();
    let translog = four_generations(dir.path());
    let saved = fs::read(generation_path(dir.path(), 1)).unwrap();
    translog.trim(10, 100, u64::MAX).unwrap();
    drop(translog);
    fs::write(generation_path(dir.path(), 1), saved).unwrap();
    let translog = reopen(dir.path(), config());
    assert!(!generation_path(dir.path(), 1).exists());
    assert_eq!(translog.history_min_seq_no(), 10);
    assert_eq!(replay(&translog).len(), 25);
}
