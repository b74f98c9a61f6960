//! Translog settings: when data becomes durable, and when generations roll.
//!
//! It owns the defaults and bounds of `index.translog.durability`, `index.translog.sync_interval`
//! and the generation roll size, and their validation. It must never read the environment or
//! files: callers build the config from index settings.

use std::time::Duration;

use super::TranslogError;

/// OpenSearch's default `index.translog.sync_interval`.
pub const SYNC_INTERVAL_DEFAULT: Duration = Duration::from_secs(5);
/// OpenSearch's smallest accepted `index.translog.sync_interval`.
pub const SYNC_INTERVAL_MIN: Duration = Duration::from_millis(100);
/// Default size at which the active generation is sealed and a new one started, in bytes.
pub const GENERATION_BYTES_MAX_DEFAULT: u64 = 64 * 1024 * 1024;
/// Smallest accepted `generation_bytes_max`, in bytes. Tiny generations only waste files;
/// this floor is low so tests can roll often.
pub const GENERATION_BYTES_MAX_MIN: u64 = 1024;

/// When appended operations become durable without an explicit [`sync`](super::Translog::sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `index.translog.durability: request`: nothing syncs in the background; the caller
    /// syncs (usually [`sync_to`](super::Translog::sync_to)) before acknowledging a request.
    Request,
    /// `index.translog.durability: async`: a background thread owned by the translog syncs
    /// every `sync_interval`. Operations acknowledged since the last sync are lost on a crash.
    Async {
        /// Time between background syncs; at least [`SYNC_INTERVAL_MIN`].
        sync_interval: Duration,
    },
}

/// Settings of one shard's translog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslogConfig {
    /// When appended operations become durable.
    pub durability: Durability,
    /// Size in bytes past which the active generation is sealed and a new one started; at least
    /// [`GENERATION_BYTES_MAX_MIN`]. A generation may end up one record larger than this.
    pub generation_bytes_max: u64,
}

impl Default for TranslogConfig {
    fn default() -> Self {
        TranslogConfig {
            durability: Durability::Request,
            generation_bytes_max: GENERATION_BYTES_MAX_DEFAULT,
        }
    }
}

impl TranslogConfig {
    /// Checks every bound; [`Translog::create`](super::Translog::create) and
    /// [`Translog::open`](super::Translog::open) call it.
    pub fn validate(&self) -> Result<(), TranslogError> {
        if let Durability::Async { sync_interval } = self.durability {
            if sync_interval < SYNC_INTERVAL_MIN {
                return Err(TranslogError::InvalidConfig {
                    reason: format!(
                        "sync_interval {sync_interval:?} is below the minimum {SYNC_INTERVAL_MIN:?}"
                    ),
                });
            }
        }
        if self.generation_bytes_max < GENERATION_BYTES_MAX_MIN {
            return Err(TranslogError::InvalidConfig {
                reason: format!(
                    "generation_bytes_max {} is below the minimum {GENERATION_BYTES_MAX_MIN}",
                    self.generation_bytes_max
                ),
            });
        }
        Ok(())
    }
}
