//! The node's indices as the replication service sees them ([`FollowerNode`]).

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tandem_ccr::{FollowerNode, ReplicationError};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tandem_wire::{IndexMetadata, MetadataVersions};

use crate::error::NodeError;
use crate::indices::follower::{follower_engine_config, FollowerIndexSpec};
use crate::indices::{settings, IndexService};

/// The node's follower indices.
pub struct FollowerIndices {
    pub(super) indices: Arc<IndexService>,
    pub(super) cluster_name: String,
}

/// A node error as the replication API reports it.
pub fn replication_error(error: &NodeError) -> ReplicationError {
    let (status, error_type) = crate::rest::error::status_and_type(error);
    ReplicationError {
        status: status.as_u16(),
        error_type,
        reason: error.to_string(),
        extra: Vec::new(),
    }
}

/// Flat override settings from a `settings` object of `_start` or `_update`.
pub fn flat_overrides(
    overrides: &Value,
) -> Result<std::collections::BTreeMap<String, String>, NodeError> {
    if overrides.as_object().is_none_or(|object| object.is_empty()) {
        return Ok(Default::default());
    }
    let flat = settings::normalize(overrides)?;
    let flat: std::collections::BTreeMap<String, String> = flat
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key, value)))
        .collect();
    settings::validate(&flat)?;
    Ok(flat)
}

impl FollowerNode for FollowerIndices {
    fn cluster_name(&self) -> String {
        self.cluster_name.clone()
    }

    fn index_exists(&self, name: &str) -> bool {
        !self.indices.state().resolve_alias(name).is_empty()
    }

    fn create_follower_index(
        &self,
        name: &str,
        leader: &IndexMetadata,
        overrides: &Value,
    ) -> Result<(), ReplicationError> {
        let overrides = flat_overrides(overrides).map_err(|e| replication_error(&e))?;
        let spec = FollowerIndexSpec {
            number_of_shards: leader.number_of_shards,
            leader_settings: leader.settings.json.clone(),
            mapping: (leader.mapping.json.clone(), leader.mapping.version),
            aliases: leader.aliases.json.clone(),
            overrides,
        };
        self.indices
            .create_follower_index(name, &spec)
            .map_err(|e| replication_error(&e))
    }

    fn shard_dir(&self, name: &str, shard: u32) -> PathBuf {
        self.indices.shard_path(name, shard).unwrap_or_else(|_| {
            PathBuf::from(format!("missing-index-{name}")).join(shard.to_string())
        })
    }

    fn engine_config(&self, name: &str) -> EngineConfig {
        match self.indices.meta(name) {
            Ok(meta) => follower_engine_config(&meta),
            Err(_) => EngineConfig::replica(),
        }
    }

    fn open_shards(&self, name: &str) -> Vec<Option<Arc<ShardEngine>>> {
        self.indices.follower_shards(name)
    }

    fn mapping(&self, name: &str) -> Arc<Mapping> {
        self.indices
            .meta(name)
            .ok()
            .and_then(|meta| Mapping::from_json(&meta.mapping, meta.mapping_version).ok())
            .map_or_else(|| Arc::new(Mapping::empty()), Arc::new)
    }

    fn install_metadata(
        &self,
        name: &str,
        versions: MetadataVersions,
        mapping: Option<Bytes>,
        settings: Option<Bytes>,
        aliases: Option<Bytes>,
    ) -> Result<Arc<Mapping>, String> {
        self.indices
            .install_leader_metadata(name, versions, mapping, settings, aliases)
    }

    fn shard_ready(&self, name: &str, shard: u32, engine: Arc<ShardEngine>) {
        self.indices.follower_shard_ready(name, shard, engine);
    }

    fn unfollow(&self, name: &str) -> Result<(), ReplicationError> {
        self.indices
            .unfollow(name)
            .map_err(|e| replication_error(&e))
    }

    fn delete_index(&self, name: &str) -> Result<(), ReplicationError> {
        self.indices
            .remove_follower_index(name)
            .map_err(|e| replication_error(&e))
    }
}
