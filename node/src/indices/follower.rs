//! Follower indices of cross-cluster replication, as the index service holds them: created
//! from the leader's metadata with no shard data, shards appearing one by one as their
//! bootstraps finish (the index serves once all are there), leader metadata installed in
//! place, and the replication block that keeps clients from changing anything.
//!
//! It owns the rule that a follower index is never changed by clients: writes, mappings,
//! settings, aliases, close and delete are refused with OpenSearch's `cluster_block_exception`
//! until replication stops ([`IndexService::unfollow`]). It must never talk to a leader.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};
use tandem_replication::LeaderMetadata;
use tandem_storage::{EngineConfig, Mapping, ShardEngine, ShardRole};
use tandem_wire::MetadataVersions;

use super::{settings, IndexService};
use crate::cluster_state::{index_dir, FollowerSettings, IndexMeta, IndexState};
use crate::error::{NodeError, NodeResult};

/// OpenSearch's description of the replication block.
pub const REPLICATION_BLOCK: &str = "FORBIDDEN/1000/index read-only(cross-cluster-replication)";

/// Leader settings never copied to a follower (spec §3.5), besides the index's identity.
const SETTINGS_NOT_COPIED: &[&str] = &[
    "index.plugins.replication.translog.retention_lease.pruning.enabled",
    "index.blocks.read_only",
    "index.blocks.read",
    "index.blocks.write",
    "index.blocks.metadata",
    "index.blocks.read_only_allow_delete",
    "index.routing.rebalance.enable",
    "index.routing.allocation.enable",
    "index.soft_deletes.retention_lease.period",
    "index.write.wait_for_active_shards",
];

/// Settings that name the follower index itself and never come from the leader.
const IDENTITY_SETTINGS: &[&str] = &[
    "index.uuid",
    "index.creation_date",
    "index.provided_name",
    "index.version.created",
    "index.number_of_shards",
];

/// The leader's view of an index: what followers are sent.
pub fn leader_metadata(meta: &IndexMeta) -> LeaderMetadata {
    let settings: Map<String, Value> = meta
        .settings
        .iter()
        .map(|(key, value)| (key.clone(), Value::from(value.clone())))
        .collect();
    let aliases: Map<String, Value> = meta
        .aliases
        .iter()
        .map(|(alias, body)| (alias.clone(), body.clone()))
        .collect();
    LeaderMetadata {
        versions: MetadataVersions {
            mapping: meta.mapping_version,
            settings: meta.settings_version,
            aliases: meta.aliases_version,
        },
        mapping: bytes::Bytes::from(meta.mapping.to_string()),
        settings: bytes::Bytes::from(Value::Object(settings).to_string()),
        aliases: bytes::Bytes::from(Value::Object(aliases).to_string()),
    }
}

/// The engine configuration of a follower shard of `meta`.
pub fn follower_engine_config(meta: &IndexMeta) -> EngineConfig {
    EngineConfig {
        role: ShardRole::Replica,
        ..settings::engine_config(&meta.settings)
    }
}

/// Flat settings from a JSON object of strings (the wire's settings document).
fn flat_settings(json: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let value: Value = serde_json::from_slice(json).map_err(|error| error.to_string())?;
    let Value::Object(object) = value else {
        return Err("leader settings are not an object".into());
    };
    Ok(object
        .into_iter()
        .map(|(key, value)| (key, crate::config::value_text(&value)))
        .collect())
}

/// The follower's settings: the leader's minus what is never copied, the overrides on top,
/// the follower's identity kept.
fn desired_settings(
    current: &BTreeMap<String, String>,
    leader: &BTreeMap<String, String>,
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut next: BTreeMap<String, String> = leader
        .iter()
        .filter(|(key, _)| {
            !SETTINGS_NOT_COPIED.contains(&key.as_str())
                && !IDENTITY_SETTINGS.contains(&key.as_str())
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    for key in IDENTITY_SETTINGS {
        if let Some(value) = current.get(*key) {
            next.insert((*key).to_string(), value.clone());
        }
    }
    for (key, value) in overrides {
        if !IDENTITY_SETTINGS.contains(&key.as_str()) {
            next.insert(key.clone(), value.clone());
        }
    }
    next
}

/// Aliases as a follower holds them: `is_write_index` forced off.
fn follower_aliases(json: &[u8]) -> Result<BTreeMap<String, Value>, String> {
    let value: Value = serde_json::from_slice(json).map_err(|error| error.to_string())?;
    let Value::Object(object) = value else {
        return Err("leader aliases are not an object".into());
    };
    Ok(object
        .into_iter()
        .map(|(alias, mut body)| {
            if let Some(flag) = body.get_mut("is_write_index") {
                *flag = Value::Bool(false);
            }
            (alias, body)
        })
        .collect())
}

/// What a follower index is created from.
#[derive(Debug, Clone)]
pub struct FollowerIndexSpec {
    /// Shard count (the leader's).
    pub number_of_shards: u32,
    /// The leader's settings document.
    pub leader_settings: bytes::Bytes,
    /// The leader's mapping document and version.
    pub mapping: (bytes::Bytes, u64),
    /// The leader's aliases document.
    pub aliases: bytes::Bytes,
    /// Settings the user asked to override (flat).
    pub overrides: BTreeMap<String, String>,
}

impl IndexService {
    /// Refuses client changes to a follower index with the replication block.
    pub fn check_not_follower(&self, name: &str) -> NodeResult<()> {
        if self.is_follower(name) {
            return Err(NodeError::Blocked {
                index: name.to_string(),
                block: REPLICATION_BLOCK,
            });
        }
        Ok(())
    }

    /// Whether `name` is a follower index.
    pub fn is_follower(&self, name: &str) -> bool {
        self.state
            .lock()
            .indices
            .get(name)
            .is_some_and(|meta| meta.follower.is_some())
    }

    /// The name of the index with `uuid` (followers name leader indices by uuid).
    pub fn name_of_uuid(&self, uuid: &str) -> Option<String> {
        self.state
            .lock()
            .indices
            .values()
            .find(|meta| meta.uuid == uuid)
            .map(|meta| meta.name.clone())
    }

    /// How many indices the node holds.
    pub fn index_count(&self) -> usize {
        self.state.lock().indices.len()
    }

    /// Creates follower index `name` with no shard data: it serves once every shard has
    /// finished its bootstrap ([`IndexService::follower_shard_ready`]).
    pub fn create_follower_index(&self, name: &str, spec: &FollowerIndexSpec) -> NodeResult<()> {
        super::names::validate_index_name(name)?;
        let _admin = self.admin.lock();
        let leader_settings = flat_settings(&spec.leader_settings).map_err(NodeError::illegal)?;
        let aliases = follower_aliases(&spec.aliases).map_err(NodeError::illegal)?;
        let mapping_json: Value = serde_json::from_slice(&spec.mapping.0)
            .map_err(|e| NodeError::illegal(e.to_string()))?;
        let mapping = Mapping::from_json(&mapping_json, spec.mapping.1)?;
        let uuid = crate::ids::base64_uuid();
        let now_millis = chrono::Utc::now().timestamp_millis();
        let mut identity = BTreeMap::new();
        identity.insert("index.uuid".to_string(), uuid.clone());
        identity.insert("index.creation_date".to_string(), now_millis.to_string());
        identity.insert("index.provided_name".to_string(), name.to_string());
        identity.insert(
            "index.version.created".to_string(),
            super::admin::VERSION_CREATED_ID.to_string(),
        );
        identity.insert(
            "index.number_of_shards".to_string(),
            spec.number_of_shards.to_string(),
        );
        let flat = desired_settings(&identity, &leader_settings, &spec.overrides);
        settings::validate(&flat)?;
        let meta = IndexMeta {
            name: name.to_string(),
            uuid: uuid.clone(),
            number_of_shards: spec.number_of_shards,
            number_of_replicas: settings::int_setting(&flat, "index.number_of_replicas", 1),
            settings: flat,
            mapping: mapping.to_json(),
            mapping_version: mapping.version,
            aliases,
            state: IndexState::Open,
            creation_date_millis: now_millis,
            settings_version: 1,
            aliases_version: 1,
            follower: Some(FollowerSettings {
                leader: leader_settings,
                overrides: spec.overrides.clone(),
            }),
        };
        let dir = index_dir(&self.data, &uuid);
        std::fs::create_dir_all(&dir).map_err(|error| NodeError::Internal(error.to_string()))?;
        self.update_state(|state| {
            if state.indices.contains_key(name) || !state.resolve_alias(name).is_empty() {
                return Err(NodeError::IndexAlreadyExists {
                    index: name.to_string(),
                    uuid: uuid.clone(),
                });
            }
            state.indices.insert(name.to_string(), meta.clone());
            Ok(())
        })?;
        self.pending
            .lock()
            .insert(name.to_string(), vec![None; spec.number_of_shards as usize]);
        tracing::info!(index = %name, uuid = %uuid, shards = spec.number_of_shards, "follower index created");
        Ok(())
    }

    /// Where shard `shard` of follower index `name` lives (or will).
    pub fn shard_path(&self, name: &str, shard: u32) -> NodeResult<PathBuf> {
        let meta = self.meta(name)?;
        Ok(index_dir(&self.data, &meta.uuid).join(shard.to_string()))
    }

    /// The shards of a follower index: all of them once it serves, else those whose
    /// bootstrap finished.
    pub fn follower_shards(&self, name: &str) -> Vec<Option<Arc<ShardEngine>>> {
        if let Some(handle) = self.open.read().get(name) {
            return handle.shards.iter().cloned().map(Some).collect();
        }
        self.pending.lock().get(name).cloned().unwrap_or_default()
    }

    /// A follower shard finished its bootstrap; once every shard has, the index serves.
    pub fn follower_shard_ready(&self, name: &str, shard: u32, engine: Arc<ShardEngine>) {
        let complete = {
            let mut pending = self.pending.lock();
            let Some(slots) = pending.get_mut(name) else {
                return;
            };
            if let Some(slot) = slots.get_mut(shard as usize) {
                *slot = Some(engine);
            }
            if slots.iter().all(Option::is_some) {
                pending.remove(name)
            } else {
                None
            }
        };
        let Some(slots) = complete else {
            return;
        };
        let Ok(meta) = self.meta(name) else {
            return;
        };
        self.publish_follower(&meta, slots.into_iter().flatten().collect());
        tracing::info!(index = %name, "follower index serving");
    }

    /// Makes a follower index whose shards are all open serve reads, under the replication
    /// block.
    fn publish_follower(&self, meta: &IndexMeta, shards: Vec<Arc<ShardEngine>>) {
        let handle = self.handle_of(meta, shards);
        *handle.write_block.lock() = Some((REPLICATION_BLOCK, false));
        self.open
            .write()
            .insert(meta.name.clone(), Arc::new(handle));
    }

    /// Installs newer leader metadata into follower index `name` (persisted first) and
    /// returns its mapping.
    pub fn install_leader_metadata(
        &self,
        name: &str,
        versions: MetadataVersions,
        mapping: Option<bytes::Bytes>,
        leader_settings: Option<bytes::Bytes>,
        aliases: Option<bytes::Bytes>,
    ) -> Result<Arc<Mapping>, String> {
        let new_mapping = match &mapping {
            Some(json) => {
                let value: Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
                Some(Mapping::from_json(&value, versions.mapping).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        let leader_settings = leader_settings.as_deref().map(flat_settings).transpose()?;
        let aliases = aliases.as_deref().map(follower_aliases).transpose()?;
        let meta = self
            .update_state(|state| {
                let meta = state
                    .indices
                    .get_mut(name)
                    .ok_or_else(|| NodeError::no_index(name))?;
                if let Some(mapping) = &new_mapping {
                    if mapping.version > meta.mapping_version {
                        meta.mapping = mapping.to_json();
                        meta.mapping_version = mapping.version;
                    }
                }
                if let Some(leader) = leader_settings {
                    let sources = meta.follower.get_or_insert_with(FollowerSettings::default);
                    sources.leader = leader;
                    meta.settings =
                        desired_settings(&meta.settings, &sources.leader, &sources.overrides);
                    meta.number_of_replicas =
                        settings::int_setting(&meta.settings, "index.number_of_replicas", 1);
                }
                if let Some(aliases) = &aliases {
                    meta.aliases = aliases.clone();
                }
                Ok(meta.clone())
            })
            .map_err(|error| error.to_string())?;
        if let Some(handle) = self.open.read().get(name) {
            *handle.refresh_interval.lock() = settings::refresh_interval(&meta.settings);
        }
        Mapping::from_json(&meta.mapping, meta.mapping_version)
            .map(Arc::new)
            .map_err(|error| error.to_string())
    }

    /// Replaces the settings overrides of follower index `name` (`_update`) and applies them
    /// over the leader's settings last seen.
    pub fn set_follower_overrides(
        &self,
        name: &str,
        overrides: BTreeMap<String, String>,
    ) -> NodeResult<()> {
        self.update_state(|state| {
            let meta = state
                .indices
                .get_mut(name)
                .ok_or_else(|| NodeError::no_index(name))?;
            let Some(sources) = meta.follower.as_mut() else {
                return Err(NodeError::illegal(format!(
                    "No replication in progress for index:{name}"
                )));
            };
            sources.overrides = overrides;
            let next = desired_settings(&meta.settings, &sources.leader, &sources.overrides);
            settings::validate(&next)?;
            meta.number_of_replicas = settings::int_setting(&next, "index.number_of_replicas", 1);
            meta.settings = next;
            Ok(())
        })
    }

    /// Replication stopped: the follower index becomes a normal writable index whose shards
    /// assign their own seq-nos from where the leader's history ended.
    pub fn unfollow(&self, name: &str) -> NodeResult<()> {
        let handle = self.open.read().get(name).cloned();
        if let Some(handle) = &handle {
            for engine in &handle.shards {
                engine.promote_to_primary(2)?;
            }
        }
        let meta = self.update_state(|state| {
            let meta = state
                .indices
                .get_mut(name)
                .ok_or_else(|| NodeError::no_index(name))?;
            meta.follower = None;
            Ok(meta.clone())
        })?;
        if let Some(handle) = handle {
            *handle.write_block.lock() = settings::write_block(&meta.settings);
        }
        tracing::info!(index = %name, "replication stopped: index is writable");
        Ok(())
    }

    /// Removes a follower index whose bootstrap never finished (replication stopped, or the
    /// bootstrap failed).
    pub fn remove_follower_index(&self, name: &str) -> NodeResult<()> {
        self.pending.lock().remove(name);
        self.delete_indices_unchecked(&[name.to_string()])
    }

    /// Opens a follower index found at start-up: shards whose bootstrap finished are opened
    /// as replicas; the index serves only if all are there.
    pub(super) fn open_follower(&self, meta: &IndexMeta) -> NodeResult<()> {
        let config = follower_engine_config(meta);
        let mapping = Arc::new(Mapping::from_json(&meta.mapping, meta.mapping_version)?);
        let dir = index_dir(&self.data, &meta.uuid);
        let mut slots: Vec<Option<Arc<ShardEngine>>> = Vec::new();
        for shard in 0..meta.number_of_shards {
            let shard_dir = dir.join(shard.to_string());
            if shard_dir.exists() {
                let engine = ShardEngine::open(&shard_dir, config.clone(), mapping.clone())?;
                slots.push(Some(Arc::new(engine)));
            } else {
                slots.push(None);
            }
        }
        if slots.iter().all(Option::is_some) {
            self.publish_follower(meta, slots.into_iter().flatten().collect());
        } else {
            self.pending.lock().insert(meta.name.clone(), slots);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn desired_settings_keep_identity_drop_blocklist_and_apply_overrides() {
        let current = map(&[("index.uuid", "F"), ("index.number_of_shards", "2")]);
        let leader = map(&[
            ("index.uuid", "L"),
            ("index.number_of_shards", "2"),
            ("index.blocks.write", "true"),
            ("index.refresh_interval", "5s"),
            ("index.number_of_replicas", "1"),
        ]);
        let overrides = map(&[("index.number_of_replicas", "0")]);
        let next = desired_settings(&current, &leader, &overrides);
        assert_eq!(next.get("index.uuid").map(String::as_str), Some("F"));
        assert!(!next.contains_key("index.blocks.write"));
        assert_eq!(
            next.get("index.refresh_interval").map(String::as_str),
            Some("5s")
        );
        assert_eq!(
            next.get("index.number_of_replicas").map(String::as_str),
            Some("0")
        );
    }

    #[test]
    fn follower_aliases_are_never_write_aliases() {
        let aliases =
            follower_aliases(br#"{"a":{"is_write_index":true},"b":{}}"#).expect("aliases");
        assert_eq!(aliases["a"]["is_write_index"], Value::Bool(false));
        assert!(follower_aliases(b"[1]").is_err());
    }
}
