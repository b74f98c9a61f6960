//! Cluster state: index metadata, persistent cluster settings and the node's identity, and
//! how they survive restarts (`state.json`, `node.json`, both durable files).
//!
//! It owns the serialized shapes and the read/write of those two files. It must never open
//! shards or talk HTTP: the index service decides what changes, this module only records it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tandem_storage::durable_file::{self, DurableFileError};

use crate::error::{NodeError, NodeResult};

/// Magic of `state.json`.
const STATE_MAGIC: [u8; 8] = *b"TNDSTATE";
/// Magic of `node.json`.
const NODE_MAGIC: [u8; 8] = *b"TNDNODE1";
/// Format version of both files.
const FORMAT_VERSION: u32 = 1;
/// The cluster state file name under `path.data`.
pub const STATE_FILE_NAME: &str = "state.json";
/// The node identity file name under `path.data`.
pub const NODE_FILE_NAME: &str = "node.json";

/// Open or closed, as `_cat/indices` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndexState {
    /// Serving reads and writes.
    Open,
    /// Shards closed; metadata kept.
    Close,
}

/// Everything known about one index besides its shards' data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// The index name.
    pub name: String,
    /// The index uuid (names its folder).
    pub uuid: String,
    /// Flat settings with their `index.` prefix, values as OpenSearch prints them (strings).
    pub settings: BTreeMap<String, String>,
    /// The mapping as JSON.
    pub mapping: Value,
    /// The mapping version.
    pub mapping_version: u64,
    /// Aliases with their (verbatim) definitions.
    pub aliases: BTreeMap<String, Value>,
    /// Open or closed.
    pub state: IndexState,
    /// Creation time, epoch milliseconds.
    pub creation_date_millis: i64,
    /// Number of primary shards.
    pub number_of_shards: u32,
    /// Configured replicas (stored, not applied on one node).
    pub number_of_replicas: u32,
    /// OpenSearch's `settings_version`: grows with every settings change (followers compare it).
    #[serde(default = "first_version")]
    pub settings_version: u64,
    /// OpenSearch's `aliases_version`: grows with every alias change.
    #[serde(default = "first_version")]
    pub aliases_version: u64,
    /// Set on a follower index of cross-cluster replication (read-only for clients until
    /// replication stops): the leader's settings last seen and the user's overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follower: Option<FollowerSettings>,
}

/// A follower index's settings sources: its settings are the leader's (minus a blocklist)
/// with the overrides on top.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowerSettings {
    /// The leader index's settings, flat, as last received.
    pub leader: BTreeMap<String, String>,
    /// Settings the user set with `_start` or `_update`, flat.
    pub overrides: BTreeMap<String, String>,
}

fn first_version() -> u64 {
    1
}

impl IndexMeta {
    /// Bumps `settings_version` and `aliases_version` where `self` differs from `before`, so
    /// every change that reaches the state file carries a new version.
    pub fn bump_versions_since(&mut self, before: &IndexMeta) {
        if self.settings != before.settings && self.settings_version <= before.settings_version {
            self.settings_version = before.settings_version + 1;
        }
        if self.aliases != before.aliases && self.aliases_version <= before.aliases_version {
            self.aliases_version = before.aliases_version + 1;
        }
    }
}

/// The persisted cluster state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    /// The cluster uuid shown by `GET /`.
    pub cluster_uuid: String,
    /// Indices by name.
    pub indices: BTreeMap<String, IndexMeta>,
    /// Persistent cluster settings, flat keys.
    pub persistent: BTreeMap<String, Value>,
    /// Transient cluster settings (lost on restart, as in OpenSearch).
    #[serde(skip)]
    pub transient: BTreeMap<String, Value>,
}

/// The node's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeIdentity {
    /// Node id, stable across restarts.
    pub node_id: String,
    /// The cluster name it was first started with.
    pub cluster_name: String,
}

impl ClusterState {
    /// Reads `state.json` under `data`, or `None` when there is none yet.
    pub fn load(data: &Path) -> NodeResult<Option<ClusterState>> {
        let path = data.join(STATE_FILE_NAME);
        read_json(&path, STATE_MAGIC)
    }

    /// Writes `state.json` under `data` durably (blocks on fsync).
    pub fn persist(&self, data: &Path) -> NodeResult<()> {
        write_json(&data.join(STATE_FILE_NAME), STATE_MAGIC, self)
    }

    /// The index an alias or name points at, names first.
    pub fn resolve_alias(&self, name: &str) -> Vec<String> {
        if self.indices.contains_key(name) {
            return vec![name.to_string()];
        }
        self.indices
            .values()
            .filter(|meta| meta.aliases.contains_key(name))
            .map(|meta| meta.name.clone())
            .collect()
    }
}

impl NodeIdentity {
    /// Reads `node.json`, creating it with a fresh id on first start.
    pub fn load_or_create(data: &Path, cluster_name: &str) -> NodeResult<NodeIdentity> {
        let path = data.join(NODE_FILE_NAME);
        if let Some(identity) = read_json(&path, NODE_MAGIC)? {
            return Ok(identity);
        }
        let identity = NodeIdentity {
            node_id: crate::ids::base64_uuid(),
            cluster_name: cluster_name.to_string(),
        };
        write_json(&path, NODE_MAGIC, &identity)?;
        Ok(identity)
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, magic: [u8; 8]) -> NodeResult<Option<T>> {
    match durable_file::read(path, magic, FORMAT_VERSION..=FORMAT_VERSION) {
        Ok((_, payload)) => serde_json::from_slice(&payload).map(Some).map_err(|error| {
            NodeError::State(format!("{} is unreadable: {error}", path.display()))
        }),
        Err(DurableFileError::NotFound { .. }) => Ok(None),
        Err(error) => Err(NodeError::State(error.to_string())),
    }
}

fn write_json<T: Serialize>(path: &Path, magic: [u8; 8], value: &T) -> NodeResult<()> {
    let payload = serde_json::to_vec(value).map_err(|error| NodeError::State(error.to_string()))?;
    durable_file::write_atomic(path, magic, FORMAT_VERSION, &payload)
        .map_err(|error| NodeError::State(error.to_string()))
}

/// Where an index's shards live.
pub fn index_dir(data: &Path, uuid: &str) -> PathBuf {
    data.join("indices").join(uuid)
}

#[cfg(test)]
mod tests {
    //! Round trip of the state file.
    use super::*;

    #[test]
    fn state_survives_a_write_and_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut state = ClusterState {
            cluster_uuid: "abc".into(),
            ..ClusterState::default()
        };
        state
            .persistent
            .insert("cluster.remote.a.seeds".into(), Value::from("h:1"));
        state.persist(dir.path()).expect("persist");
        let read = ClusterState::load(dir.path())
            .expect("load")
            .expect("exists");
        assert_eq!(read, state);
        assert!(ClusterState::load(&dir.path().join("none"))
            .expect("ok")
            .is_none());
    }

    #[test]
    fn node_id_is_stable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = NodeIdentity::load_or_create(dir.path(), "c").expect("create");
        let second = NodeIdentity::load_or_create(dir.path(), "c").expect("read");
        assert_eq!(first, second);
    }
}
