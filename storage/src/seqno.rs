//! Sequence numbers and checkpoints.
//!
//! Every operation on a shard has a sequence number (seq-no). The *local checkpoint* is the
//! highest seq-no at or below which every operation has been processed; the *global
//! checkpoint* of a single-copy shard is the highest seq-no at or below which every operation
//! is durable in the translog, which is what followers may read up to. Both start at
//! [`NO_OPS_PERFORMED`]. This module only counts: it never touches disk or assigns seq-nos on
//! its own.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

/// The checkpoint of a shard that has processed nothing (OpenSearch's `-1`).
pub const NO_OPS_PERFORMED: i64 = -1;
/// Seq-nos processed above the checkpoint, beyond which a tracker refuses more: a gap this
/// wide means a caller is feeding operations from far ahead of what it has filled.
pub const PROCESSED_AHEAD_OPS_MAX: usize = 4 * 1024 * 1024;

/// Tracks which seq-nos have been processed and derives the checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointTracker {
    checkpoint: i64,
    max_seq_no: i64,
    processed_above: BTreeSet<i64>,
}

impl CheckpointTracker {
    /// A tracker whose seq-nos up to `checkpoint` are all processed and none above.
    pub fn new(checkpoint: i64) -> CheckpointTracker {
        assert!(
            checkpoint >= NO_OPS_PERFORMED,
            "checkpoint {checkpoint} below -1"
        );
        CheckpointTracker {
            checkpoint,
            max_seq_no: checkpoint,
            processed_above: BTreeSet::new(),
        }
    }

    /// The local checkpoint.
    pub fn checkpoint(&self) -> i64 {
        self.checkpoint
    }

    /// The highest seq-no marked processed.
    pub fn max_seq_no(&self) -> i64 {
        self.max_seq_no
    }

    /// Whether `seq_no` has been processed already.
    pub fn contains(&self, seq_no: i64) -> bool {
        seq_no <= self.checkpoint || self.processed_above.contains(&seq_no)
    }

    /// Whether another seq-no above the checkpoint may be marked.
    pub fn has_room(&self) -> bool {
        self.processed_above.len() < PROCESSED_AHEAD_OPS_MAX
    }

    /// Marks `seq_no` processed and advances the checkpoint over any filled gap. Returns
    /// `false` if it was processed already (the caller must then treat the op as a duplicate).
    pub fn mark_processed(&mut self, seq_no: i64) -> bool {
        assert!(seq_no >= 0, "seq_no {seq_no} is negative");
        if self.contains(seq_no) {
            return false;
        }
        self.max_seq_no = self.max_seq_no.max(seq_no);
        if seq_no != self.checkpoint + 1 {
            self.processed_above.insert(seq_no);
            return true;
        }
        self.checkpoint = seq_no;
        while self.processed_above.remove(&(self.checkpoint + 1)) {
            self.checkpoint += 1;
        }
        debug_assert!(self
            .processed_above
            .first()
            .is_none_or(|first| *first > self.checkpoint + 1));
        true
    }

    /// The seq-nos between the checkpoint and the highest processed one that are missing.
    pub fn gaps(&self) -> Vec<i64> {
        (self.checkpoint + 1..self.max_seq_no)
            .filter(|seq_no| !self.processed_above.contains(seq_no))
            .collect()
    }
}

/// The global checkpoint, with a way to wait for it to pass a seq-no, or for a wake-up.
#[derive(Debug)]
pub struct GlobalCheckpoint {
    state: Mutex<CheckpointWaitState>,
    advanced: Condvar,
}

#[derive(Debug)]
struct CheckpointWaitState {
    value: i64,
    /// Counts [`GlobalCheckpoint::wake`] calls, so a waiter that read it before checking
    /// something else never misses a wake-up given in between.
    wakes: u64,
}

impl GlobalCheckpoint {
    /// Starts at `value`.
    pub fn new(value: i64) -> GlobalCheckpoint {
        GlobalCheckpoint {
            state: Mutex::new(CheckpointWaitState { value, wakes: 0 }),
            advanced: Condvar::new(),
        }
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.state.lock().value
    }

    /// Raises the value (never lowers it) and wakes waiters.
    pub fn advance_to(&self, value: i64) {
        let mut state = self.state.lock();
        if value > state.value {
            state.value = value;
            self.advanced.notify_all();
        }
    }

    /// Wake-ups given so far.
    pub fn wakes(&self) -> u64 {
        self.state.lock().wakes
    }

    /// Wakes every waiter without changing the value (something else they watch changed).
    pub fn wake(&self) {
        self.state.lock().wakes += 1;
        self.advanced.notify_all();
    }

    /// Blocks until the value is at least `seq_no`, the wake-up count is no longer
    /// `since_wakes`, or `timeout` passes; returns the value then. Blocking: async callers run
    /// it on a blocking pool.
    pub fn wait_for(&self, seq_no: i64, since_wakes: u64, timeout: Duration) -> i64 {
        let deadline = Instant::now() + timeout;
        let mut state = self.state.lock();
        while state.value < seq_no && state.wakes == since_wakes {
            if self.advanced.wait_until(&mut state, deadline).timed_out() {
                break;
            }
        }
        state.value
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn checkpoint_advances_only_over_filled_gaps() {
        let mut tracker = CheckpointTracker::new(NO_OPS_PERFORMED);
        assert!(tracker.mark_processed(1));
        assert_eq!(tracker.checkpoint(), -1);
        assert_eq!(tracker.gaps(), vec![0]);
        assert!(tracker.mark_processed(0));
        assert_eq!(tracker.checkpoint(), 1);
        assert!(!tracker.mark_processed(1), "a duplicate is reported");
        assert!(tracker.gaps().is_empty());
    }

    proptest! {
        #[test]
        fn any_order_with_duplicates_reaches_the_same_checkpoint(
            mut seq_nos in proptest::collection::vec(0i64..64, 0..200)
        ) {
            let mut tracker = CheckpointTracker::new(NO_OPS_PERFORMED);
            for seq_no in &seq_nos {
                tracker.mark_processed(*seq_no);
            }
            seq_nos.sort_unstable();
            seq_nos.dedup();
            let expected = seq_nos
                .iter()
                .enumerate()
                .take_while(|(index, seq_no)| *index as i64 == **seq_no)
                .count() as i64 - 1;
            prop_assert_eq!(tracker.checkpoint(), expected);
            for seq_no in &seq_nos {
                prop_assert!(tracker.contains(*seq_no));
            }
        }
    }

    #[test]
    fn waiting_returns_when_advanced_or_timed_out() {
        let global = std::sync::Arc::new(GlobalCheckpoint::new(-1));
        let waiter = {
            let global = global.clone();
            std::thread::spawn(move || global.wait_for(5, global.wakes(), Duration::from_secs(10)))
        };
        std::thread::sleep(Duration::from_millis(20));
        global.advance_to(7);
        assert_eq!(waiter.join().expect("waiter"), 7);
        assert_eq!(
            global.wait_for(100, global.wakes(), Duration::from_millis(5)),
            7
        );
    }
}
