//! The leader side: answering one changes request from a follower shard.
//!
//! The answer holds operations `from_seq_no..` up to the request's limits, never beyond the
//! leader's global checkpoint (no follower may hold an operation the leader could still lose),
//! in seq-no order as the translog's own record bytes. When nothing is available yet the call
//! long-polls through [`LeaderShard::wait_for_change`], which also returns when the index
//! metadata (mapping, settings, aliases) gets newer than what the follower reports, so metadata
//! changes travel without waiting for a document. Newer metadata rides along in the answer.
//! This module blocks only inside `wait_for_change`; it never writes.

use std::sync::{Arc, Weak};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tandem_storage::engine::{Changes, EngineError};
use tandem_storage::translog::TranslogError;
use tandem_storage::ShardEngine;
use tandem_wire::limits::{CHANGES_OPS_BYTES_MAX, CHANGES_OPS_MAX, POLL_WAIT_MS_MAX};
use tandem_wire::{
    ErrorKind, MetadataVersions, OpsBatch, RemoteError, ShardChangesRequest, ShardChangesResponse,
};

/// How often a long poll looks at the metadata on its own while it waits for operations. A
/// change wakes the shards registered with [`MetadataCell::wake_on_change`] at once; this only
/// bounds the delay for a shard nobody registered.
const METADATA_RECHECK: Duration = Duration::from_secs(1);

/// The leader index's metadata as followers receive it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeaderMetadata {
    /// Versions of the three parts.
    pub versions: MetadataVersions,
    /// The mapping JSON.
    pub mapping: Bytes,
    /// The settings JSON.
    pub settings: Bytes,
    /// The aliases JSON.
    pub aliases: Bytes,
}

/// What the changes service needs from a leader shard.
pub trait LeaderShard {
    /// Operations `from_seq_no..=to_seq_no` within the limits, never beyond the global
    /// checkpoint.
    fn read_changes(
        &self,
        from_seq_no: i64,
        to_seq_no: i64,
        ops_max: usize,
        bytes_max: usize,
    ) -> Result<Changes, EngineError>;

    /// The index metadata now.
    fn metadata(&self) -> LeaderMetadata;

    /// Blocks until operations at `from_seq_no` are readable, the metadata is newer than
    /// `known`, or `timeout` passes.
    fn wait_for_change(&self, from_seq_no: i64, known: MetadataVersions, timeout: Duration);
}

/// The leader index's current metadata, shared by the node (which updates it) and its
/// shards' changes services (which wait on it).
#[derive(Debug, Default)]
pub struct MetadataCell {
    metadata: Mutex<LeaderMetadata>,
    /// The index's shards, whose long polls wait on their global checkpoint and are woken
    /// there when the metadata changes.
    shards: Mutex<Vec<Weak<ShardEngine>>>,
}

impl MetadataCell {
    /// A cell holding `metadata`.
    pub fn new(metadata: LeaderMetadata) -> MetadataCell {
        MetadataCell {
            metadata: Mutex::new(metadata),
            shards: Mutex::new(Vec::new()),
        }
    }

    /// Wakes `shard`'s long polls whenever the metadata changes (a shard of this index).
    pub fn wake_on_change(&self, shard: &Arc<ShardEngine>) {
        let mut shards = self.shards.lock();
        shards.retain(|known| known.strong_count() > 0);
        shards.push(Arc::downgrade(shard));
    }

    /// The metadata now.
    pub fn get(&self) -> LeaderMetadata {
        self.metadata.lock().clone()
    }

    /// Replaces the metadata and wakes waiting long polls.
    pub fn set(&self, metadata: LeaderMetadata) {
        *self.metadata.lock() = metadata;
        for shard in self.shards.lock().iter().filter_map(Weak::upgrade) {
            shard.wake_checkpoint_waiters();
        }
    }

    /// Whether some version is newer than `known`.
    pub fn is_newer_than(&self, known: MetadataVersions) -> bool {
        is_newer(self.metadata.lock().versions, known)
    }
}

/// A shard engine and its index's metadata cell, as the node serves them.
#[derive(Debug)]
pub struct EngineLeaderShard<'a> {
    /// The leader shard.
    pub engine: &'a ShardEngine,
    /// The index's metadata.
    pub metadata: &'a MetadataCell,
}

impl LeaderShard for EngineLeaderShard<'_> {
    fn read_changes(
        &self,
        from_seq_no: i64,
        to_seq_no: i64,
        ops_max: usize,
        bytes_max: usize,
    ) -> Result<Changes, EngineError> {
        self.engine
            .read_changes(from_seq_no, to_seq_no, ops_max, bytes_max)
    }

    fn metadata(&self) -> LeaderMetadata {
        self.metadata.get()
    }

    fn wait_for_change(&self, from_seq_no: i64, known: MetadataVersions, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // Read before looking at the metadata: a change made after the look wakes the
            // wait below instead of being missed.
            let wakes = self.engine.checkpoint_wakes();
            if self.metadata.is_newer_than(known) {
                return;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return;
            }
            let slice = (deadline - now).min(METADATA_RECHECK);
            let global_checkpoint =
                self.engine
                    .wait_for_global_checkpoint(from_seq_no, wakes, slice);
            if global_checkpoint >= from_seq_no || self.engine.is_closing() {
                return;
            }
        }
    }
}

/// Answers one changes request. Blocking: it may long-poll up to the request's wait.
pub fn serve_changes(
    shard: &dyn LeaderShard,
    request: &ShardChangesRequest,
) -> Result<ShardChangesResponse, RemoteError> {
    let ops_max = request.ops_max.clamp(1, CHANGES_OPS_MAX) as usize;
    let bytes_max = request.bytes_max.clamp(1, CHANGES_OPS_BYTES_MAX) as usize;
    let to_seq_no = request.from_seq_no.saturating_add(ops_max as i64 - 1);
    let mut changes = read(shard, request, to_seq_no, ops_max, bytes_max)?;
    let mut metadata = shard.metadata();
    let nothing_new =
        changes.records.is_empty() && !is_newer(metadata.versions, request.known_versions);
    if nothing_new && request.poll_wait_ms > 0 {
        let wait_ms = request.poll_wait_ms.min(POLL_WAIT_MS_MAX);
        shard.wait_for_change(
            request.from_seq_no,
            request.known_versions,
            Duration::from_millis(u64::from(wait_ms)),
        );
        changes = read(shard, request, to_seq_no, ops_max, bytes_max)?;
        metadata = shard.metadata();
    }
    Ok(response(changes, metadata, request.known_versions))
}

fn read(
    shard: &dyn LeaderShard,
    request: &ShardChangesRequest,
    to_seq_no: i64,
    ops_max: usize,
    bytes_max: usize,
) -> Result<Changes, RemoteError> {
    shard
        .read_changes(request.from_seq_no, to_seq_no, ops_max, bytes_max)
        .map_err(|error| to_remote_error(&error, request.from_seq_no, to_seq_no))
}

fn response(
    changes: Changes,
    metadata: LeaderMetadata,
    known: MetadataVersions,
) -> ShardChangesResponse {
    let records = &changes.records;
    let ops = match (records.first_seq_no(), records.last_seq_no()) {
        (Some(first_seq_no), Some(last_seq_no)) => OpsBatch {
            count: u32::try_from(records.count()).expect("a batch is capped at CHANGES_OPS_MAX"),
            first_seq_no,
            last_seq_no,
            records: records.bytes().clone(),
        },
        _ => OpsBatch::empty(),
    };
    let newer = |current: u64, known: u64, json: &Bytes| (current > known).then(|| json.clone());
    ShardChangesResponse {
        ops,
        global_checkpoint: changes.global_checkpoint,
        max_seq_no: changes.max_seq_no.max(changes.global_checkpoint),
        history_min_seq_no: changes.history_min_seq_no.max(0),
        max_seq_no_of_updates_or_deletes: changes.max_seq_no_of_updates,
        versions: metadata.versions,
        mapping: newer(metadata.versions.mapping, known.mapping, &metadata.mapping),
        settings: newer(
            metadata.versions.settings,
            known.settings,
            &metadata.settings,
        ),
        aliases: newer(metadata.versions.aliases, known.aliases, &metadata.aliases),
    }
}

fn is_newer(current: MetadataVersions, known: MetadataVersions) -> bool {
    current.mapping > known.mapping
        || current.settings > known.settings
        || current.aliases > known.aliases
}

/// How a storage failure reads to a follower: lost history is final for the follower (it must
/// say so, never skip); anything else is worth a retry.
fn to_remote_error(error: &EngineError, from_seq_no: i64, to_seq_no: i64) -> RemoteError {
    match error {
        EngineError::Translog(TranslogError::HistoryGone { available_from, .. }) => {
            RemoteError::history_gone(from_seq_no, to_seq_no, *available_from)
        }
        EngineError::Translog(TranslogError::HistoryIncomplete { missing_seq_no }) => {
            RemoteError::history_gone(from_seq_no, to_seq_no, missing_seq_no + 1)
        }
        other => RemoteError::new(ErrorKind::Internal, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tandem_storage::engine::{EngineConfig, IndexRequest, VersionCheck, WriteRequest};
    use tandem_storage::Mapping;

    use super::*;

    /// Longest a woken long poll may take to return: well under the fallback re-check.
    const WOKEN_WITHIN: Duration = Duration::from_millis(900);
    const LONG_POLL: Duration = Duration::from_secs(30);

    fn leader(dir: &std::path::Path) -> (Arc<ShardEngine>, Arc<MetadataCell>) {
        let engine = ShardEngine::create(
            &dir.join("leader"),
            EngineConfig::primary(),
            Arc::new(Mapping::empty()),
        )
        .expect("engine");
        let engine = Arc::new(engine);
        let metadata = Arc::new(MetadataCell::new(LeaderMetadata::default()));
        metadata.wake_on_change(&engine);
        (engine, metadata)
    }

    /// Runs a long poll for operations at seq-no 0 on its own thread; returns how long it took.
    fn long_poll(
        engine: &Arc<ShardEngine>,
        metadata: &Arc<MetadataCell>,
    ) -> std::thread::JoinHandle<Duration> {
        let (engine, metadata) = (engine.clone(), metadata.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let shard = EngineLeaderShard {
                engine: &engine,
                metadata: &metadata,
            };
            shard.wait_for_change(0, MetadataVersions::default(), LONG_POLL);
            started.elapsed()
        })
    }

    #[test]
    fn a_long_poll_is_woken_by_a_metadata_change_an_operation_and_a_close() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (engine, metadata) = leader(dir.path());

        let waiting = long_poll(&engine, &metadata);
        std::thread::sleep(Duration::from_millis(50));
        let mut newer = LeaderMetadata::default();
        newer.versions.mapping += 1;
        metadata.set(newer.clone());
        assert!(waiting.join().expect("poll") < WOKEN_WITHIN);

        let metadata = Arc::new(MetadataCell::new(newer));
        metadata.wake_on_change(&engine);
        let waiting = long_poll(&engine, &metadata);
        std::thread::sleep(Duration::from_millis(50));
        let write = WriteRequest::Index(IndexRequest {
            id: "1".into(),
            source: Bytes::from_static(b"{}"),
            routing: None,
            create_only: false,
            version_check: VersionCheck::None,
            auto_generated_id: false,
        });
        engine.write_batch(&[write]).expect("write");
        assert!(waiting.join().expect("poll") < WOKEN_WITHIN);

        let waiting = std::thread::spawn({
            let (engine, metadata) = (engine.clone(), metadata.clone());
            move || {
                let started = Instant::now();
                let shard = EngineLeaderShard {
                    engine: &engine,
                    metadata: &metadata,
                };
                shard.wait_for_change(1, metadata.get().versions, LONG_POLL);
                started.elapsed()
            }
        });
        std::thread::sleep(Duration::from_millis(50));
        engine.begin_close();
        assert!(waiting.join().expect("poll") < WOKEN_WITHIN);
    }
}
