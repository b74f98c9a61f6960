//! Creating a shard and opening one after a restart or crash.
//!
//! Open loads the last tantivy commit, checks that its payload names this shard's translog,
//! replays every translog operation above the commit's local checkpoint with replica
//! semantics (idempotent), commits, and on a primary fills any seq-no hole with no-ops.
//! Damage anywhere in the committed or checkpointed data fails the open with the file named;
//! nothing is silently dropped.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use tantivy::directory::MmapDirectory;
use tantivy::{Index, ReloadPolicy};

use super::feed::IndexFeed;
use super::payload::{random_id, CommitPayload};
use super::{
    EngineConfig, EngineError, PersistState, ShardEngine, ShardRole, WriteState, INDEX_DIR_NAME,
    TRANSLOG_DIR_NAME,
};
use crate::leases::RetentionLeases;
use crate::mapping::{Mapping, ShardSchema};
use crate::seqno::{CheckpointTracker, GlobalCheckpoint, NO_OPS_PERFORMED};
use crate::snapshot::SnapshotPins;
use crate::translog::{Translog, TranslogConfig};

impl ShardEngine {
    /// Creates a new, empty shard at `dir` (which must not exist) and opens it.
    ///
    /// Creation happens in a sibling temp directory renamed into place, so a crash leaves
    /// either no shard or a whole one.
    pub fn create(
        dir: &Path,
        config: EngineConfig,
        mapping: Arc<Mapping>,
    ) -> Result<ShardEngine, EngineError> {
        config.validate().map_err(EngineError::IllegalArgument)?;
        if dir.exists() {
            return Err(EngineError::IllegalState(format!(
                "shard directory {} already exists",
                dir.display()
            )));
        }
        let staging = staging_dir(dir);
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(staging.join(INDEX_DIR_NAME)).map_err(EngineError::io(&staging))?;
        let translog = Translog::create(
            &staging.join(TRANSLOG_DIR_NAME),
            translog_config(&config),
            config.primary_term,
            0,
        )?;
        let payload = CommitPayload {
            translog_uuid: hex(&translog.uuid()),
            history_uuid: random_id(),
            local_checkpoint: NO_OPS_PERFORMED,
            max_seq_no: NO_OPS_PERFORMED,
            mapping_version: mapping.version,
        };
        translog.close()?;
        write_empty_commit(&staging.join(INDEX_DIR_NAME), &config, &payload)?;
        crate::durable_file::fsync_dir(&staging).map_err(|error| EngineError::Corrupt {
            path: staging.clone(),
            reason: error.to_string(),
        })?;
        std::fs::rename(&staging, dir).map_err(EngineError::io(dir))?;
        if let Some(parent) = dir.parent() {
            let _ = crate::durable_file::fsync_dir(parent);
        }
        ShardEngine::open(dir, config, mapping)
    }

    /// Opens the shard at `dir`, recovering from its last commit and translog.
    pub fn open(
        dir: &Path,
        config: EngineConfig,
        mapping: Arc<Mapping>,
    ) -> Result<ShardEngine, EngineError> {
        config.validate().map_err(EngineError::IllegalArgument)?;
        let index_dir = dir.join(INDEX_DIR_NAME);
        let corrupt = |reason: String| EngineError::Corrupt {
            path: index_dir.clone(),
            reason,
        };
        SnapshotPins::clear_leftovers(dir)?;
        let directory = MmapDirectory::open(&index_dir).map_err(|e| corrupt(e.to_string()))?;
        let index = Index::open(directory).map_err(|e| corrupt(e.to_string()))?;
        let schema = ShardSchema::from_schema(index.schema())
            .ok_or_else(|| corrupt("the index schema is not a tandem shard schema".into()))?;
        let metas = index.load_metas().map_err(|e| corrupt(e.to_string()))?;
        let payload_text = metas
            .payload
            .ok_or_else(|| corrupt("the last commit has no payload".into()))?;
        let payload = CommitPayload::decode(&payload_text).map_err(corrupt)?;
        if payload.mapping_version > mapping.version {
            return Err(EngineError::IllegalState(format!(
                "the shard was committed with mapping version {} but was given version {}",
                payload.mapping_version, mapping.version
            )));
        }
        let translog = Translog::open(
            &dir.join(TRANSLOG_DIR_NAME),
            translog_config(&config),
            config.primary_term,
        )?;
        if hex(&translog.uuid()) != payload.translog_uuid {
            return Err(EngineError::Corrupt {
                path: dir.join(TRANSLOG_DIR_NAME),
                reason: format!(
                    "translog {} does not belong to the commit, which names translog {}",
                    hex(&translog.uuid()),
                    payload.translog_uuid
                ),
            });
        }
        let writer = Arc::new(RwLock::new(index.writer_with_num_threads(
            config.indexing_threads,
            config.indexing_memory_bytes,
        )?));
        let feed = IndexFeed::start(
            &dir.file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            writer.clone(),
        )
        .map_err(|source| EngineError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let leases = RetentionLeases::load(dir)?;
        let checkpoint = payload.local_checkpoint;
        let engine = ShardEngine {
            dir: dir.to_path_buf(),
            schema,
            index,
            reader,
            translog,
            history_uuid: payload.history_uuid.clone(),
            writer,
            feed,
            write: Mutex::new(WriteState {
                versions: Default::default(),
                processed: CheckpointTracker::new(checkpoint),
                next_seq_no: checkpoint + 1,
                mapping,
                role: config.role,
                primary_term: config.primary_term,
                uncommitted_ops: 0,
                staged: Default::default(),
            }),
            persisted: Mutex::new(PersistState {
                pending: VecDeque::new(),
                tracker: CheckpointTracker::new(checkpoint),
            }),
            global_checkpoint: GlobalCheckpoint::new(checkpoint),
            leases: Mutex::new(leases),
            committed_local_checkpoint: Mutex::new(checkpoint),
            refresh_lock: Mutex::new(()),
            snapshots: Mutex::new(SnapshotPins::new(dir)),
            failure: Mutex::new(None),
            closing: std::sync::atomic::AtomicBool::new(false),
            max_seq_no: std::sync::atomic::AtomicI64::new(checkpoint),
            max_seq_no_of_updates: std::sync::atomic::AtomicI64::new(
                payload.max_seq_no.max(checkpoint),
            ),
            config,
        };
        engine.replay_translog(checkpoint)?;
        if engine.config.role == ShardRole::Primary {
            engine.fill_seq_no_gaps()?;
        }
        engine.refresh(true)?;
        Ok(engine)
    }

    /// Re-applies translog operations above the commit, in translog order.
    fn replay_translog(&self, committed_checkpoint: i64) -> Result<(), EngineError> {
        let mut replayed = 0u64;
        for operation in self.translog.iter_from(committed_checkpoint)? {
            let operation = operation?;
            self.apply_recovered(&operation)?;
            replayed += 1;
        }
        let processed = {
            let mut state = self.write.lock();
            state.next_seq_no = state.processed.max_seq_no() + 1;
            state.processed.clone()
        };
        // Everything replayed came from the checkpointed, durable part of the translog.
        let recovered_checkpoint = processed.checkpoint();
        let recovered_max = processed.max_seq_no();
        // Whether the operations before were updates is not recorded: assume they all were.
        self.advance_max_seq_no_of_updates_or_deletes(recovered_max);
        self.persisted.lock().tracker = processed;
        self.global_checkpoint.advance_to(recovered_checkpoint);
        tracing::info!(
            shard = %self.dir.display(),
            replayed,
            local_checkpoint = recovered_checkpoint,
            max_seq_no = recovered_max,
            "shard recovered from translog"
        );
        Ok(())
    }
}

pub(crate) fn translog_config(config: &EngineConfig) -> TranslogConfig {
    TranslogConfig {
        durability: config.durability,
        generation_bytes_max: config.translog_generation_bytes_max,
    }
}

/// Writes the first commit of a new index, whose payload ties it to its translog.
pub(crate) fn write_empty_commit(
    index_dir: &Path,
    config: &EngineConfig,
    payload: &CommitPayload,
) -> Result<(), EngineError> {
    let schema = ShardSchema::build();
    let directory = MmapDirectory::open(index_dir).map_err(|error| EngineError::Corrupt {
        path: index_dir.to_path_buf(),
        reason: error.to_string(),
    })?;
    let index = Index::create(directory, schema.schema, Default::default())?;
    let mut writer = index.writer_with_num_threads::<tantivy::TantivyDocument>(
        1,
        config
            .indexing_memory_bytes
            .min(super::config::INDEXING_MEMORY_BYTES_PER_THREAD_MIN * 2),
    )?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload.encode());
    prepared.commit()?;
    writer.wait_merging_threads()?;
    crate::durable_file::fsync_dir(index_dir).map_err(|error| EngineError::Corrupt {
        path: index_dir.to_path_buf(),
        reason: error.to_string(),
    })?;
    Ok(())
}

fn staging_dir(dir: &Path) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(|name| name.to_os_string())
        .unwrap_or_default();
    name.push(".creating");
    dir.with_file_name(name)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Re-commits an installed index under this shard's own payload (its translog and history).
pub(crate) fn recommit(
    index_dir: &Path,
    config: &EngineConfig,
    payload: &CommitPayload,
) -> Result<(), EngineError> {
    let corrupt = |reason: String| EngineError::Corrupt {
        path: index_dir.to_path_buf(),
        reason,
    };
    let directory = MmapDirectory::open(index_dir).map_err(|e| corrupt(e.to_string()))?;
    let index = Index::open(directory).map_err(|e| corrupt(e.to_string()))?;
    ShardSchema::from_schema(index.schema())
        .ok_or_else(|| corrupt("the received index is not a tandem shard".into()))?;
    let mut writer = index.writer_with_num_threads::<tantivy::TantivyDocument>(
        1,
        config
            .indexing_memory_bytes
            .min(super::config::INDEXING_MEMORY_BYTES_PER_THREAD_MIN * 2),
    )?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload.encode());
    prepared.commit()?;
    writer.wait_merging_threads()?;
    crate::durable_file::fsync_dir(index_dir).map_err(|error| corrupt(error.to_string()))
}
