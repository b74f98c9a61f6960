//! Trimming: deleting whole sealed generations that no reader needs any more.
//!
//! Rules: only a prefix of the oldest sealed generations is deleted, so the retained ones stay
//! consecutive; never the active generation; never a generation holding an operation above
//! `committed_seq_no`, which crash recovery replays. First go the generations whose operations
//! are all below `keep_from_seq_no` (what retention leases and peer recovery still want);
//! then, while the retained bytes pass the byte cap, older generations even if wanted. The new
//! `history_min_seq_no` (one past the highest seq_no deleted; never lower than before) is
//! checkpointed before any file is unlinked, so a crash in between leaves files that open
//! deletes, never a checkpoint promising deleted operations. It must never unlink first.

use std::fs;

use super::checkpoint::{Checkpoint, NO_OPS_SEQ_NO};
use super::generation::fsync_dir;
use super::{Result, Shared, TrimOutcome};

impl Shared {
    pub(super) fn trim(
        &self,
        keep_from_seq_no: i64,
        committed_seq_no: i64,
        retention_bytes_max: u64,
    ) -> Result<TrimOutcome> {
        self.check_open()?;
        let mut checkpoint = self.checkpoint.lock();
        let current = checkpoint.current().clone();
        let plan = plan(
            &current,
            keep_from_seq_no,
            committed_seq_no,
            retention_bytes_max,
        );
        if plan.delete == 0 {
            return Ok(TrimOutcome {
                history_min_seq_no: current.history_min_seq_no,
                generations_deleted: 0,
                bytes_released: 0,
                bytes_retained: plan.bytes_retained,
                cap_exceeded: plan.cap_exceeded,
            });
        }
        let deleted = &current.generations[..plan.delete];
        let deleted_max_seq_no = deleted
            .iter()
            .map(|gen| gen.max_seq_no)
            .max()
            .unwrap_or(NO_OPS_SEQ_NO);
        let history_min_seq_no = current
            .history_min_seq_no
            .max(deleted_max_seq_no.saturating_add(1));
        let next = Checkpoint {
            uuid: current.uuid,
            history_min_seq_no,
            generations: current.generations[plan.delete..].to_vec(),
        };
        self.write_checkpoint(&mut checkpoint, next)?;
        let removed: Vec<_> = {
            let mut state = self.state.write();
            let removed = deleted
                .iter()
                .filter_map(|gen| state.sealed.remove(&gen.generation))
                .collect();
            state.index = state.index.split_off(&history_min_seq_no);
            state.history_min_seq_no = history_min_seq_no;
            removed
        };
        drop(checkpoint);
        // The checkpoint no longer names these files: a failed unlink only leaves garbage
        // that the next open deletes, so it is logged, not fatal.
        for gen in &removed {
            if let Err(err) = fs::remove_file(&gen.path) {
                tracing::warn!(file = %gen.path.display(), error = %err, "could not delete trimmed translog generation");
            }
        }
        if let Err(err) = fsync_dir(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %err, "could not sync translog directory after trim");
        }
        Ok(TrimOutcome {
            history_min_seq_no,
            generations_deleted: plan.delete,
            bytes_released: deleted.iter().map(|gen| gen.bytes).sum(),
            bytes_retained: plan.bytes_retained,
            cap_exceeded: plan.cap_exceeded,
        })
    }
}

struct TrimPlan {
    /// How many of the oldest generations to delete.
    delete: usize,
    bytes_retained: u64,
    cap_exceeded: bool,
}

fn plan(
    checkpoint: &Checkpoint,
    keep_from_seq_no: i64,
    committed_seq_no: i64,
    retention_bytes_max: u64,
) -> TrimPlan {
    let generations = &checkpoint.generations;
    // The last entry is the active generation, never deleted.
    let sealed = &generations[..generations.len() - 1];
    let mut bytes_retained: u64 = generations.iter().map(|gen| gen.bytes).sum();
    let deletable = |index: usize| sealed[index].max_seq_no <= committed_seq_no;
    let mut delete = 0;
    while delete < sealed.len() && sealed[delete].max_seq_no < keep_from_seq_no && deletable(delete)
    {
        bytes_retained -= sealed[delete].bytes;
        delete += 1;
    }
    let cap_exceeded = bytes_retained > retention_bytes_max;
    while bytes_retained > retention_bytes_max && delete < sealed.len() && deletable(delete) {
        bytes_retained -= sealed[delete].bytes;
        delete += 1;
    }
    TrimPlan {
        delete,
        bytes_retained,
        cap_exceeded,
    }
}
