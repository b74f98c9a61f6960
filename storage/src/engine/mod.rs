//! The shard engine: one shard's documents, seq-nos, translog and tantivy index together.
//!
//! A primary assigns seq-nos and checks versions; a replica (a follower) applies operations
//! that carry a leader's seq-nos, idempotently and in any order. Both write the translog first
//! and tantivy second, under one lock, so a seq-no is never assigned without its record and
//! the translog order is the apply order that recovery replays. Searchability comes from
//! `refresh` (a tantivy commit plus reader reload); real-time GET comes from the live version
//! map and the translog. The engine never talks to a network and never reads a wall clock for
//! anything that persists: lease calls take `now_millis`.
//!
//! Blocking: every call here may block on a lock, an fsync or a commit. Async callers use a
//! blocking pool.

mod config;
mod error;
mod feed;
mod lookup;
mod open;
mod payload;
mod refresh;
mod version_map;
mod write;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tantivy::{Index, IndexReader, IndexWriter, Searcher, TantivyDocument};

use crate::leases::{RetentionLease, RetentionLeases};
use crate::mapping::{Mapping, ShardSchema};
use crate::record::RecordBatch;
use crate::seqno::{CheckpointTracker, GlobalCheckpoint};
use crate::snapshot::SnapshotPins;
use crate::translog::{Durability, Location, Translog, TranslogStats};

pub use config::{
    EngineConfig, ShardRole, INDEXING_MEMORY_BYTES_DEFAULT, INDEXING_MEMORY_BYTES_PER_THREAD_MIN,
    RETENTION_BYTES_DEFAULT, RETENTION_LEASE_PERIOD_DEFAULT, TOMBSTONE_RETENTION_DEFAULT,
    TRANSLOG_GENERATION_BYTES_DEFAULT,
};
pub use error::EngineError;
pub use feed::INDEX_FEED_BYTES_MAX;
pub(crate) use open::{hex as hex_id, recommit, translog_config as translog_config_for};
pub use payload::{random_id, CommitPayload};
pub use refresh::RefreshOutcome;
pub use version_map::{DocState, VERSION_MAP_ENTRIES_SOFT_MAX};
pub use write::{
    DeleteRequest, IndexRequest, ReplicaApplyOutcome, VersionCheck, WriteOutcome, WriteRequest,
    WriteResult, MAX_SEQ_NO_OF_UPDATES_UNKNOWN,
};

/// Sub-directory of a shard holding the tantivy index.
pub const INDEX_DIR_NAME: &str = "index";
/// Sub-directory of a shard holding the translog.
pub const TRANSLOG_DIR_NAME: &str = "translog";
/// How often a waiter for the global checkpoint re-checks async-durability syncs (with
/// request durability it is woken instead).
const GLOBAL_CHECKPOINT_POLL: Duration = Duration::from_millis(20);

/// A document as a real-time GET sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct GetResult {
    /// Seq-no, term and version of the operation that wrote it.
    pub state: DocState,
    /// The `_source` bytes as given.
    pub source: Bytes,
    /// The routing it was written with.
    pub routing: Option<String>,
}

/// Seq-no statistics of a shard (OpenSearch's `seq_no` stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqNoStats {
    /// Highest seq-no processed.
    pub max_seq_no: i64,
    /// Every seq-no at or below is processed.
    pub local_checkpoint: i64,
    /// Every seq-no at or below is durable; followers read up to here.
    pub global_checkpoint: i64,
}

/// A batch of history read for a follower.
#[derive(Debug, Clone)]
pub struct Changes {
    /// The records, in seq-no order, as their own bytes.
    pub records: RecordBatch,
    /// The global checkpoint when read.
    pub global_checkpoint: i64,
    /// The max seq-no when read.
    pub max_seq_no: i64,
    /// The max seq-no of updates and deletes, read after the records: it covers them.
    pub max_seq_no_of_updates: i64,
    /// The lowest seq-no history can still be read from.
    pub history_min_seq_no: i64,
}

/// Sizes and counts of a shard.
#[derive(Debug, Clone)]
pub struct ShardStats {
    /// Live documents visible to search.
    pub docs_count: u64,
    /// Deleted documents not yet merged away.
    pub docs_deleted: u64,
    /// Bytes of the index directory.
    pub store_bytes: u64,
    /// Seq-no statistics.
    pub seq_no: SeqNoStats,
    /// Translog statistics.
    pub translog: TranslogStats,
    /// Operations since the last commit.
    pub uncommitted_ops: u64,
    /// Local checkpoint of the last commit.
    pub committed_local_checkpoint: i64,
}

pub(crate) struct WriteState {
    pub(crate) versions: version_map::VersionMap,
    pub(crate) processed: CheckpointTracker,
    pub(crate) next_seq_no: i64,
    pub(crate) mapping: Arc<Mapping>,
    pub(crate) role: ShardRole,
    pub(crate) primary_term: u64,
    pub(crate) uncommitted_ops: u64,
    /// Index feed operations decided under this lock; handed over before it is let go.
    pub(crate) staged: feed::StagedOps,
}

/// Operations appended to the translog, waiting for a sync to make them count as persisted.
pub(crate) struct PersistState {
    pending: VecDeque<(Location, i64)>,
    tracker: CheckpointTracker,
}

/// One shard.
pub struct ShardEngine {
    dir: PathBuf,
    config: EngineConfig,
    schema: ShardSchema,
    index: Index,
    reader: IndexReader,
    translog: Translog,
    history_uuid: String,
    /// tantivy's writer: the feed adds and deletes under its read lock, a commit takes it
    /// whole once the feed is drained.
    writer: Arc<RwLock<IndexWriter<TantivyDocument>>>,
    feed: feed::IndexFeed,
    write: Mutex<WriteState>,
    persisted: Mutex<PersistState>,
    global_checkpoint: GlobalCheckpoint,
    leases: Mutex<RetentionLeases>,
    committed_local_checkpoint: Mutex<i64>,
    refresh_lock: Mutex<()>,
    pub(crate) snapshots: Mutex<SnapshotPins>,
    failure: Mutex<Option<String>>,
    /// Set when the shard is being closed: waiters stop waiting, so whoever borrowed the
    /// engine (a follower's long poll) lets go of it promptly.
    closing: std::sync::atomic::AtomicBool,
    /// The highest seq-no processed, mirrored out of the write lock so a follower's changes
    /// read never waits behind a bulk that holds it.
    max_seq_no: std::sync::atomic::AtomicI64,
    /// The highest seq-no of an operation that deleted or replaced a live document (or a
    /// higher one: it starts at the max seq-no when a shard opens, since what the operations
    /// before were is not recorded). A primary raises it as it writes and hands it to
    /// followers with each read of its history; a replica gets it from there. Operations
    /// above it created their ids, so a replica whose local checkpoint has reached it can
    /// index without looking the id up (OpenSearch's replicas do the same).
    max_seq_no_of_updates: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for ShardEngine {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ShardEngine")
            .field("dir", &self.dir)
            .field("role", &self.role())
            .finish_non_exhaustive()
    }
}

impl ShardEngine {
    /// The shard's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The shard's history id (changes when a shard's history is replaced).
    pub fn history_uuid(&self) -> &str {
        &self.history_uuid
    }

    /// The fixed schema, for building queries.
    pub fn schema(&self) -> &ShardSchema {
        &self.schema
    }

    /// The tantivy index, for its tokenizers when building queries.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// A searcher over the last refresh.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Primary or replica.
    pub fn role(&self) -> ShardRole {
        self.write.lock().role
    }

    /// The mapping the shard indexes with.
    pub fn mapping(&self) -> Arc<Mapping> {
        self.write.lock().mapping.clone()
    }

    /// Installs a newer mapping of the index. A version older than the shard's is refused.
    pub fn set_mapping(&self, mapping: Arc<Mapping>) -> Result<(), EngineError> {
        let mut state = self.write.lock();
        if mapping.version < state.mapping.version {
            return Err(EngineError::IllegalArgument(format!(
                "mapping version {} is older than the shard's {}",
                mapping.version, state.mapping.version
            )));
        }
        state.mapping = mapping;
        Ok(())
    }

    /// Seq-no statistics.
    pub fn seq_no_stats(&self) -> SeqNoStats {
        let (max_seq_no, local_checkpoint) = {
            let state = self.write.lock();
            (state.processed.max_seq_no(), state.processed.checkpoint())
        };
        SeqNoStats {
            max_seq_no,
            local_checkpoint,
            global_checkpoint: self.global_checkpoint(),
        }
    }

    /// Announces that the shard is closing: waits on its global checkpoint end at once, so
    /// borrowers return the engine and the closer can close it.
    pub fn begin_close(&self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.global_checkpoint.wake();
    }

    /// Wakes everyone waiting on the global checkpoint without changing it: for a caller that
    /// waits on something else as well (a leader's long poll also watches index metadata).
    pub fn wake_checkpoint_waiters(&self) {
        self.global_checkpoint.wake();
    }

    /// Wake-ups given by [`ShardEngine::wake_checkpoint_waiters`] so far: read it before
    /// checking the other condition, and pass it to
    /// [`ShardEngine::wait_for_global_checkpoint`].
    pub fn checkpoint_wakes(&self) -> u64 {
        self.global_checkpoint.wakes()
    }

    /// Whether [`ShardEngine::begin_close`] was called.
    pub fn is_closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The global checkpoint: every seq-no at or below it is durable.
    pub fn global_checkpoint(&self) -> i64 {
        self.advance_persisted();
        self.global_checkpoint.get()
    }

    /// Blocks until the global checkpoint reaches `seq_no`, the wake-up count is no longer
    /// `since_wakes` (read with [`ShardEngine::checkpoint_wakes`]), the shard begins to
    /// close, or `timeout` passes; returns the global checkpoint then.
    pub fn wait_for_global_checkpoint(
        &self,
        seq_no: i64,
        since_wakes: u64,
        timeout: Duration,
    ) -> i64 {
        // With request durability every sync goes through `make_durable`, which advances the
        // checkpoint and wakes waiters; an async sync happens on the translog's own thread,
        // so only then do waiters look again now and then.
        let recheck = match self.config.durability {
            Durability::Async { .. } => GLOBAL_CHECKPOINT_POLL,
            Durability::Request => timeout,
        };
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let current = self.global_checkpoint();
            let now = std::time::Instant::now();
            if current >= seq_no
                || now >= deadline
                || self.is_closing()
                || self.checkpoint_wakes() != since_wakes
            {
                return current;
            }
            self.global_checkpoint
                .wait_for(seq_no, since_wakes, (deadline - now).min(recheck));
        }
    }

    /// Reads operations `from_seq_no..=to_seq_no` in seq-no order, never beyond the global
    /// checkpoint, as the translog's own record bytes. An empty batch means nothing is
    /// available yet at `from_seq_no`. History trimmed away is
    /// [`crate::translog::TranslogError::HistoryGone`].
    pub fn read_changes(
        &self,
        from_seq_no: i64,
        to_seq_no: i64,
        ops_max: usize,
        bytes_max: usize,
    ) -> Result<Changes, EngineError> {
        let global_checkpoint = self.global_checkpoint();
        // Read after the checkpoint: every operation below it was written, and so counted,
        // before.
        let max_seq_no_of_updates = self.max_seq_no_of_updates_or_deletes();
        let max_seq_no = self.max_seq_no.load(std::sync::atomic::Ordering::Acquire);
        let history_min_seq_no = self.translog.history_min_seq_no();
        let upper = to_seq_no.min(global_checkpoint);
        let records = if from_seq_no > upper {
            if from_seq_no < history_min_seq_no {
                return Err(crate::translog::TranslogError::HistoryGone {
                    requested: from_seq_no,
                    available_from: history_min_seq_no,
                }
                .into());
            }
            RecordBatch::new(Bytes::new())?
        } else {
            let batch = self
                .translog
                .read_ops(from_seq_no, upper, ops_max, bytes_max)?;
            RecordBatch::new(batch.records)?
        };
        Ok(Changes {
            records,
            global_checkpoint,
            max_seq_no: max_seq_no.max(max_seq_no_of_updates),
            max_seq_no_of_updates,
            history_min_seq_no,
        })
    }

    /// The highest seq-no of an operation that deleted or replaced a document (an upper
    /// bound: see the field).
    pub fn max_seq_no_of_updates_or_deletes(&self) -> i64 {
        self.max_seq_no_of_updates
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Raises the bound (never lowers it).
    pub(crate) fn advance_max_seq_no_of_updates_or_deletes(&self, seq_no: i64) {
        self.max_seq_no_of_updates
            .fetch_max(seq_no, std::sync::atomic::Ordering::SeqCst);
    }

    /// Adds a retention lease. Durable when it returns.
    pub fn add_retention_lease(
        &self,
        id: &str,
        retaining_seq_no: i64,
        source: &str,
        now_millis: u64,
    ) -> Result<RetentionLease, EngineError> {
        Ok(self
            .leases
            .lock()
            .add(id, retaining_seq_no, source, now_millis)?)
    }

    /// Renews a retention lease. Durable when it returns.
    pub fn renew_retention_lease(
        &self,
        id: &str,
        retaining_seq_no: i64,
        now_millis: u64,
    ) -> Result<RetentionLease, EngineError> {
        Ok(self.leases.lock().renew(id, retaining_seq_no, now_millis)?)
    }

    /// Removes a retention lease. Durable when it returns.
    pub fn remove_retention_lease(&self, id: &str) -> Result<RetentionLease, EngineError> {
        Ok(self.leases.lock().remove(id)?)
    }

    /// Expires leases not renewed within `period` before `now_millis`; returns them.
    pub fn expire_retention_leases(
        &self,
        now_millis: u64,
        period: Duration,
    ) -> Result<Vec<RetentionLease>, EngineError> {
        let period_millis = u64::try_from(period.as_millis()).unwrap_or(u64::MAX);
        Ok(self.leases.lock().expire(now_millis, period_millis)?)
    }

    /// All retention leases.
    pub fn retention_leases(&self) -> Vec<RetentionLease> {
        self.leases.lock().all()
    }

    /// Translog statistics.
    pub fn translog_stats(&self) -> TranslogStats {
        self.translog.stats()
    }

    /// Sizes and counts.
    pub fn stats(&self) -> ShardStats {
        let searcher = self.searcher();
        let docs_count = searcher.num_docs();
        let docs_deleted = searcher
            .segment_readers()
            .iter()
            .map(|segment| u64::from(segment.num_deleted_docs()))
            .sum();
        let uncommitted_ops = self.write.lock().uncommitted_ops;
        ShardStats {
            docs_count,
            docs_deleted,
            store_bytes: dir_bytes(&self.dir.join(INDEX_DIR_NAME)),
            seq_no: self.seq_no_stats(),
            translog: self.translog.stats(),
            uncommitted_ops,
            committed_local_checkpoint: *self.committed_local_checkpoint.lock(),
        }
    }

    /// Makes every operation processed so far durable (an explicit translog sync).
    pub fn sync_translog(&self) -> Result<(), EngineError> {
        self.check_not_failed()?;
        self.translog.sync().map_err(|error| self.fail(error))?;
        self.advance_persisted();
        Ok(())
    }

    /// Syncs, commits and stops the engine.
    pub fn close(self) -> Result<(), EngineError> {
        if self.check_not_failed().is_ok() {
            self.refresh(true)?;
            self.sync_translog()?;
        }
        let ShardEngine {
            translog,
            writer,
            feed,
            ..
        } = self;
        translog.close()?;
        feed.close().map_err(EngineError::IndexFeed)?;
        let writer = Arc::into_inner(writer)
            .ok_or_else(|| EngineError::IllegalState("the index writer is still shared".into()))?;
        writer.into_inner().wait_merging_threads()?;
        Ok(())
    }

    /// Marks persisted every pending operation the translog now reports durable.
    fn advance_persisted(&self) {
        let mut persisted = self.persisted.lock();
        let PersistState { pending, tracker } = &mut *persisted;
        while let Some((location, seq_no)) = pending.front() {
            if !self.translog.is_durable(*location) {
                break;
            }
            tracker.mark_processed(*seq_no);
            pending.pop_front();
        }
        self.global_checkpoint.advance_to(tracker.checkpoint());
    }

    fn check_not_failed(&self) -> Result<(), EngineError> {
        match &*self.failure.lock() {
            Some(reason) => Err(EngineError::Failed(reason.clone())),
            None => Ok(()),
        }
    }

    /// Records a fatal write-path failure: nothing more is accepted until reopened.
    fn fail(&self, error: impl Into<EngineError>) -> EngineError {
        let error = error.into();
        let mut failure = self.failure.lock();
        if failure.is_none() {
            tracing::error!(shard = %self.dir.display(), %error, "shard engine failed");
            *failure = Some(error.to_string());
        }
        error
    }
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.metadata().ok())
                .filter(|metadata| metadata.is_file())
                .map(|metadata| metadata.len())
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
