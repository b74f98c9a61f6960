//! Refresh (commit + reader reload), flush and translog retention.
//!
//! A refresh commits tantivy with a payload naming the local checkpoint it covers, makes the
//! commit's directory entry durable, reloads the searcher, then lets the version map drop what
//! the searcher now shows and the translog drop generations nothing needs: not recovery (all
//! at or below the committed checkpoint) and not a retention lease (up to the size cap).

use super::feed::FeedOp;
use super::open::hex;
use super::payload::CommitPayload;
use super::{EngineError, ShardEngine};
use crate::translog::TrimOutcome;

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// Whether a new commit was made (nothing changed otherwise).
    pub committed: bool,
    /// The local checkpoint the last commit covers.
    pub committed_local_checkpoint: i64,
}

impl ShardEngine {
    /// Makes every processed operation searchable and committed. Skips the commit when nothing
    /// changed unless `force`. Blocking: a tantivy commit (fsyncs); writes wait while it runs.
    pub fn refresh(&self, force: bool) -> Result<RefreshOutcome, EngineError> {
        self.check_not_failed()?;
        let _refreshing = self.refresh_lock.lock();
        // The commit marker is queued under the write lock, so it covers exactly the
        // operations up to the checkpoint; tantivy commits on the feed's thread while writers
        // go on queueing behind it.
        let (refreshed_epoch, local_checkpoint, committed) = {
            let mut state = self.write.lock();
            if state.uncommitted_ops == 0 && !force {
                return Ok(RefreshOutcome {
                    committed: false,
                    committed_local_checkpoint: *self.committed_local_checkpoint.lock(),
                });
            }
            let local_checkpoint = state.processed.checkpoint();
            let payload = CommitPayload {
                translog_uuid: hex(&self.translog.uuid()),
                history_uuid: self.history_uuid.clone(),
                local_checkpoint,
                max_seq_no: state.processed.max_seq_no(),
                mapping_version: state.mapping.version,
            };
            let (done, committed) = std::sync::mpsc::sync_channel(1);
            state.staged.stage(
                FeedOp::Commit {
                    payload: payload.encode(),
                    done,
                },
                0,
            );
            self.hand_over_staged(&mut state)?;
            state.uncommitted_ops = 0;
            (state.versions.begin_refresh(), local_checkpoint, committed)
        };
        let commit_started = std::time::Instant::now();
        committed
            .recv()
            .unwrap_or_else(|_| Err("the index feed stopped before committing".into()))
            .map_err(|reason| self.fail(EngineError::IndexFeed(reason)))?;
        tracing::debug!(
            local_checkpoint,
            elapsed_us = commit_started.elapsed().as_micros() as u64,
            "committed"
        );
        // tantivy renames meta.json without syncing the directory; recovery must find this
        // commit before the translog below it may go.
        let index_dir = self.dir.join(super::INDEX_DIR_NAME);
        crate::durable_file::fsync_dir(&index_dir).map_err(|error| {
            self.fail(EngineError::Corrupt {
                path: index_dir.clone(),
                reason: error.to_string(),
            })
        })?;
        self.reader.reload()?;
        {
            let mut state = self.write.lock();
            let checkpoint = state.processed.checkpoint();
            state.versions.finish_refresh(
                refreshed_epoch,
                checkpoint,
                self.config.tombstone_retention,
            );
        }
        *self.committed_local_checkpoint.lock() = local_checkpoint;
        self.trim_translog()?;
        Ok(RefreshOutcome {
            committed: true,
            committed_local_checkpoint: local_checkpoint,
        })
    }

    /// OpenSearch's flush: a commit, a new translog generation, and trimming.
    pub fn flush(&self) -> Result<RefreshOutcome, EngineError> {
        let outcome = self.refresh(true)?;
        self.translog.roll_generation().map_err(|e| self.fail(e))?;
        self.trim_translog()?;
        Ok(outcome)
    }

    /// Whether enough has changed since the last refresh that the version map should be
    /// emptied by one.
    pub fn needs_refresh(&self) -> bool {
        self.write.lock().versions.len() >= super::version_map::VERSION_MAP_ENTRIES_SOFT_MAX
    }

    /// Drops translog generations that neither recovery nor any retention lease needs, up to
    /// the retention size cap; leases whose history the cap released are marked.
    pub fn trim_translog(&self) -> Result<TrimOutcome, EngineError> {
        let committed = *self.committed_local_checkpoint.lock();
        let mut leases = self.leases.lock();
        let recovery_needs_from = committed + 1;
        let keep_from = leases
            .min_retaining_seq_no()
            .map_or(recovery_needs_from, |lease_from| {
                lease_from.min(recovery_needs_from)
            });
        let outcome = self
            .translog
            .trim(keep_from, committed, self.config.retention_bytes_max)?;
        if outcome.cap_exceeded {
            leases.mark_history_lost_below(outcome.history_min_seq_no)?;
        }
        Ok(outcome)
    }
}
