//! `read_ops` against a model: seq_no order whatever the append order, limits, durability,
//! gaps, duplicates.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::support::*;
use crate::record::{self, Operation, RecordBatch};
use crate::translog::{OpsBatch, TranslogError};

#[derive(Debug, Clone)]
struct Query {
    from: i64,
    to: i64,
    ops_max: usize,
    bytes_max: usize,
}

/// What `read_ops` must return for `query`, given every stored op and the durable seq_nos.
fn expected(
    stored: &BTreeMap<i64, Operation>,
    durable: &BTreeSet<i64>,
    query: &Query,
) -> Result<Vec<Operation>, i64> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    if query.ops_max == 0 {
        return Ok(out);
    }
    for seq in query.from..=query.to {
        let Some(op) = stored.get(&seq) else {
            let later_exists = stored.range(seq..=query.to).next().is_some();
            if out.is_empty() && later_exists {
                return Err(seq);
            }
            break;
        };
        if !durable.contains(&seq) {
            break;
        }
        let len = record::encoded_len(op);
        if !out.is_empty() && bytes + len > query.bytes_max {
            break;
        }
        bytes += len;
        out.push(op.clone());
        if out.len() == query.ops_max {
            break;
        }
    }
    Ok(out)
}

fn check(batch: &OpsBatch, query: &Query, ops: &[Operation]) {
    assert_eq!(batch.ops, ops.len(), "{query:?}");
    assert_eq!(batch.first_seq_no, query.from);
    assert_eq!(batch.last_seq_no, query.from + ops.len() as i64 - 1);
    let decoded: Vec<_> = RecordBatch::new(batch.records.clone())
        .unwrap()
        .iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(decoded, ops, "{query:?}");
}

fn scenario() -> impl Strategy<Value = (Vec<i64>, Vec<bool>, usize, Vec<Query>)> {
    (1i64..60).prop_flat_map(|n| {
        let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
        let dropped = proptest::collection::vec(proptest::bool::weighted(0.08), n as usize);
        let synced = 0..=n as usize;
        let query = (0..n + 3, 0..n + 3, 0usize..20, 0usize..2000).prop_map(
            |(from, len, ops_max, bytes_max)| Query {
                from,
                to: from + len - 1,
                ops_max,
                bytes_max,
            },
        );
        (
            order,
            dropped,
            synced,
            proptest::collection::vec(query, 1..12),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn read_ops_matches_the_model((order, dropped, synced, queries) in scenario()) {
        let dir = tempfile::tempdir().unwrap();
        let translog = create(dir.path(), small_config());
        let mut stored = BTreeMap::new();
        let mut locations = BTreeMap::new();
        let kept: Vec<i64> = order.into_iter().filter(|seq| !dropped[*seq as usize]).collect();
        for (index, seq) in kept.iter().enumerate() {
            if index == synced {
                translog.sync().unwrap();
            }
            let op = op_sized(*seq, 1, (*seq as usize * 7) % 90);
            locations.insert(*seq, translog.append(&op).unwrap());
            stored.insert(*seq, op);
        }
        if synced >= kept.len() {
            translog.sync().unwrap();
        }
        // The durable mark, not read_ops, says what is durable (rolls by size add to syncs).
        let durable: BTreeSet<i64> = locations
            .iter()
            .filter(|(_, location)| translog.is_durable(**location))
            .map(|(seq, _)| *seq)
            .collect();
        let synced_seqs = &kept[..synced.min(kept.len())];
        prop_assert!(synced_seqs.iter().all(|seq| durable.contains(seq)), "a sync covers everything before it");
        for query in &queries {
            let result = translog.read_ops(query.from, query.to, query.ops_max, query.bytes_max);
            match expected(&stored, &durable, query) {
                Ok(ops) => check(&result.unwrap(), query, &ops),
                Err(missing) => prop_assert!(
                    matches!(result, Err(TranslogError::HistoryIncomplete { missing_seq_no }) if missing_seq_no == missing),
                    "{:?} gave {:?}, expected missing {}", query, result, missing
                ),
            }
        }
    }
}

#[test]
fn only_durable_ops_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in 0..5 {
        translog.append(&op(seq)).unwrap();
    }
    translog.sync().unwrap();
    for seq in 5..10 {
        translog.append(&op(seq)).unwrap();
    }
    assert_eq!(translog.read_ops(0, 9, 100, usize::MAX).unwrap().ops, 5);
    let pending = translog.read_ops(5, 9, 100, usize::MAX).unwrap();
    assert_eq!(
        (pending.ops, pending.first_seq_no, pending.last_seq_no),
        (0, 5, 4)
    );
    translog.sync().unwrap();
    assert_eq!(translog.read_ops(0, 9, 100, usize::MAX).unwrap().ops, 10);
}

#[test]
fn at_least_one_op_even_past_bytes_max() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    translog.append(&op_sized(0, 1, 500)).unwrap();
    translog.append(&op_sized(1, 1, 500)).unwrap();
    translog.sync().unwrap();
    let batch = translog.read_ops(0, 1, 10, 1).unwrap();
    assert_eq!((batch.ops, batch.last_seq_no), (1, 0));
}

#[test]
fn a_gap_is_history_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    for seq in [0, 1, 2, 4, 5] {
        translog.append(&op(seq)).unwrap();
    }
    translog.sync().unwrap();
    let prefix = translog.read_ops(0, 5, 100, usize::MAX).unwrap();
    assert_eq!(prefix.last_seq_no, 2, "stops before the gap");
    let err = translog.read_ops(3, 5, 100, usize::MAX).unwrap_err();
    assert!(
        matches!(err, TranslogError::HistoryIncomplete { missing_seq_no: 3 }),
        "{err}"
    );
}

#[test]
fn history_below_the_minimum_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let translog = crate::translog::Translog::create(dir.path(), config(), 1, 10).unwrap();
    translog.append(&op(10)).unwrap();
    translog.sync().unwrap();
    let err = translog.read_ops(9, 10, 10, usize::MAX).unwrap_err();
    assert!(
        matches!(
            err,
            TranslogError::HistoryGone {
                requested: 9,
                available_from: 10
            }
        ),
        "{err}"
    );
    assert_eq!(translog.read_ops(10, 10, 10, usize::MAX).unwrap().ops, 1);
}

#[test]
fn a_duplicate_seq_no_serves_the_highest_term() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), config());
    translog.append(&op_sized(0, 1, 1)).unwrap();
    translog.append(&op_sized(0, 2, 2)).unwrap();
    translog.append(&op_sized(0, 1, 3)).unwrap();
    translog.sync().unwrap();
    let batch = translog.read_ops(0, 0, 10, usize::MAX).unwrap();
    let ops: Vec<_> = RecordBatch::new(batch.records)
        .unwrap()
        .iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ops, [op_sized(0, 2, 2)]);
    drop(translog);
    let translog = reopen(dir.path(), config());
    let batch = translog.read_ops(0, 0, 10, usize::MAX).unwrap();
    let ops: Vec<_> = RecordBatch::new(batch.records)
        .unwrap()
        .iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        ops,
        [op_sized(0, 2, 2)],
        "the same after rebuilding the index"
    );
    assert_eq!(replay(&translog).len(), 3, "replay still sees every record");
}

#[test]
fn read_ops_spans_sealed_reopened_and_active_generations() {
    let dir = tempfile::tempdir().unwrap();
    let translog = create(dir.path(), small_config());
    for seq in (0..40).rev() {
        translog.append(&op_sized(seq, 1, 60)).unwrap();
    }
    translog.sync().unwrap();
    drop(translog);
    let translog = reopen(dir.path(), small_config());
    for seq in 40..50 {
        translog.append(&op(seq)).unwrap();
    }
    translog.sync().unwrap();
    let batch = translog.read_ops(0, 49, 1000, usize::MAX).unwrap();
    let seqs: Vec<_> = RecordBatch::new(batch.records)
        .unwrap()
        .iter()
        .map(|op| op.unwrap().seq_no)
        .collect();
    assert_eq!(seqs, (0..50).collect::<Vec<_>>());
}
