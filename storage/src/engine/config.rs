//! How a shard engine is configured.

use std::time::Duration;

use crate::translog::Durability;

/// Default retention of history for followers (`index.plugins.replication.translog.retention_size`).
pub const RETENTION_BYTES_DEFAULT: u64 = 512 * 1024 * 1024;
/// Default retention lease period (`index.soft_deletes.retention_lease.period`).
pub const RETENTION_LEASE_PERIOD_DEFAULT: Duration = Duration::from_secs(12 * 60 * 60);
/// Default size at which the translog rolls to a new generation.
pub const TRANSLOG_GENERATION_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;
/// Default indexing memory of one shard's tantivy writer.
pub const INDEXING_MEMORY_BYTES_DEFAULT: usize = 64 * 1024 * 1024;
/// tantivy refuses writer budgets below this per indexing thread.
pub const INDEXING_MEMORY_BYTES_PER_THREAD_MIN: usize = 15 * 1024 * 1024;
/// How long a delete's tombstone keeps its version for a primary (`index.gc_deletes`).
pub const TOMBSTONE_RETENTION_DEFAULT: Duration = Duration::from_secs(60);

/// Whether the shard assigns seq-nos or takes them from a leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardRole {
    /// Accepts client writes and assigns seq-nos; fills holes on open.
    Primary,
    /// Applies operations with seq-nos assigned elsewhere (a follower); never fills holes.
    Replica,
}

/// Everything a shard engine needs to know besides its directory and mapping.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Primary or replica.
    pub role: ShardRole,
    /// The primary term written into new operations (>= 1).
    pub primary_term: u64,
    /// `index.translog.durability`.
    pub durability: Durability,
    /// Size at which the translog rolls a new generation, in bytes.
    pub translog_generation_bytes_max: u64,
    /// History kept for retention leases beyond what recovery needs, in bytes.
    pub retention_bytes_max: u64,
    /// A lease not renewed for this long expires.
    pub retention_lease_period: Duration,
    /// tantivy writer memory budget, in bytes.
    pub indexing_memory_bytes: usize,
    /// tantivy indexing threads.
    pub indexing_threads: usize,
    /// How long a primary remembers a deleted document's version.
    pub tombstone_retention: Duration,
}

impl EngineConfig {
    /// A primary with OpenSearch's defaults.
    pub fn primary() -> EngineConfig {
        EngineConfig {
            role: ShardRole::Primary,
            primary_term: 1,
            durability: Durability::Request,
            translog_generation_bytes_max: TRANSLOG_GENERATION_BYTES_DEFAULT,
            retention_bytes_max: RETENTION_BYTES_DEFAULT,
            retention_lease_period: RETENTION_LEASE_PERIOD_DEFAULT,
            indexing_memory_bytes: INDEXING_MEMORY_BYTES_DEFAULT,
            indexing_threads: 1,
            tombstone_retention: TOMBSTONE_RETENTION_DEFAULT,
        }
    }

    /// A replica (follower) with OpenSearch's defaults.
    pub fn replica() -> EngineConfig {
        EngineConfig {
            role: ShardRole::Replica,
            ..EngineConfig::primary()
        }
    }

    /// Checks the values against each other; a bad config is refused before anything opens.
    pub fn validate(&self) -> Result<(), String> {
        if self.primary_term == 0 {
            return Err("primary term must be at least 1".into());
        }
        if self.indexing_threads == 0 {
            return Err("indexing threads must be at least 1".into());
        }
        let per_thread = self.indexing_memory_bytes / self.indexing_threads;
        if per_thread < INDEXING_MEMORY_BYTES_PER_THREAD_MIN {
            return Err(format!(
                "indexing memory of {} bytes is below {} bytes per thread",
                self.indexing_memory_bytes, INDEXING_MEMORY_BYTES_PER_THREAD_MIN
            ));
        }
        if self.translog_generation_bytes_max < 1024 * 1024 {
            return Err("translog generation size must be at least 1 MiB".into());
        }
        Ok(())
    }
}
