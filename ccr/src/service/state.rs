//! What the replication service persists: remote clusters' seeds and every follower index's
//! replication (leader, state, reason, overrides), in one durable file rewritten whole.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tandem_storage::durable_file::{self, DurableFileError};

const STATE_MAGIC: [u8; 8] = *b"TNDMREPL";
const STATE_FORMAT_VERSION: u32 = 1;
/// File name of the replication state in the node's data folder.
pub const STATE_FILE_NAME: &str = "replication.tnd";

/// The state of one follower index's replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OverallState {
    /// Bootstrapping or syncing.
    Running,
    /// Paused by a user or by the task itself.
    Paused,
    /// The bootstrap could not complete.
    Failed,
}

/// One follower index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerRecord {
    /// The remote alias.
    pub leader_alias: String,
    /// The leader index name.
    pub leader_index: String,
    /// The leader index uuid at start (a recreated leader index is another index).
    pub leader_uuid: String,
    /// Shard count.
    pub shards: u32,
    /// State.
    pub state: OverallState,
    /// Reason of the state (`User initiated`, `AutoPaused: ...`).
    pub reason: String,
    /// Settings overriding the leader's, as given to `_start` or `_update`.
    pub overrides: serde_json::Value,
    /// Whether every shard finished its bootstrap.
    pub bootstrapped: bool,
}

/// Everything persisted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicationState {
    /// Remote alias → seeds.
    pub remotes: BTreeMap<String, Vec<String>>,
    /// Follower index → its replication.
    pub followers: BTreeMap<String, FollowerRecord>,
}

impl ReplicationState {
    /// Loads the state from the data folder; empty if none was written yet.
    pub fn load(data_dir: &Path) -> Result<ReplicationState, String> {
        let path = data_dir.join(STATE_FILE_NAME);
        match durable_file::read(&path, STATE_MAGIC, 1..=STATE_FORMAT_VERSION) {
            Ok((_, payload)) => serde_json::from_slice(&payload).map_err(|error| {
                format!(
                    "replication state {} is unreadable: {error}",
                    path.display()
                )
            }),
            Err(DurableFileError::NotFound { .. }) => Ok(ReplicationState::default()),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Writes the state durably (blocks on fsync).
    pub fn save(&self, data_dir: &Path) -> Result<(), String> {
        let payload = serde_json::to_vec(self).map_err(|error| error.to_string())?;
        durable_file::write_atomic(
            &data_dir.join(STATE_FILE_NAME),
            STATE_MAGIC,
            STATE_FORMAT_VERSION,
            &payload,
        )
        .map_err(|error| error.to_string())
    }
}
