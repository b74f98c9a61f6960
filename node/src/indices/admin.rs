//! Index administration: create, delete, open, close, settings updates and aliases.
//!
//! It owns the order of each change (shards created before the state names them; state
//! persisted before shards are deleted) and the response-independent validation. It must
//! never build HTTP responses.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};
use tandem_storage::Mapping;

use super::{close_handle, names, settings, IndexService};
use crate::cluster_state::{index_dir, IndexMeta, IndexState};
use crate::error::{NodeError, NodeResult, ParseKind};

/// OpenSearch's internal id of version 2.19.0, printed as `index.version.created`.
pub const VERSION_CREATED_ID: &str = "136407827";

/// What `PUT /<index>` asks for.
#[derive(Debug, Default, Clone)]
pub struct CreateIndex {
    /// `settings` (any shape).
    pub settings: Option<Value>,
    /// `mappings`.
    pub mappings: Option<Value>,
    /// `aliases`.
    pub aliases: Option<Value>,
}

impl CreateIndex {
    /// Splits a create-index body, refusing unknown top-level keys as OpenSearch does.
    pub fn from_body(body: Option<Value>) -> NodeResult<CreateIndex> {
        let Some(body) = body else {
            return Ok(CreateIndex::default());
        };
        let Value::Object(object) = body else {
            return Err(NodeError::parse(
                ParseKind::Parse,
                "request body must be an object",
            ));
        };
        let mut request = CreateIndex::default();
        for (key, value) in object {
            match key.as_str() {
                "settings" => request.settings = Some(value),
                "mappings" => request.mappings = Some(value),
                "aliases" => request.aliases = Some(value),
                other => {
                    return Err(NodeError::parse(
                        ParseKind::Parse,
                        format!("unknown key [{other}] for create index"),
                    ))
                }
            }
        }
        Ok(request)
    }
}

impl IndexService {
    /// Creates an index: shards first, then the state that names them.
    pub fn create_index(&self, name: &str, request: CreateIndex) -> NodeResult<IndexMeta> {
        names::validate_index_name(name)?;
        let _admin = self.admin.lock();
        {
            let state = self.state.lock();
            if let Some(meta) = state.indices.get(name) {
                return Err(NodeError::IndexAlreadyExists {
                    index: name.to_string(),
                    uuid: meta.uuid.clone(),
                });
            }
            if !state.resolve_alias(name).is_empty() {
                return Err(NodeError::InvalidIndexName {
                    index: name.to_string(),
                    reason: "already exists as alias".into(),
                });
            }
        }
        let meta = self.new_meta(name, &request)?;
        let handle = self.open_shards(&meta, true)?;
        let persisted = self.update_state(|state| {
            state.indices.insert(name.to_string(), meta.clone());
            Ok(())
        });
        if let Err(error) = persisted {
            drop(handle);
            let _ = std::fs::remove_dir_all(index_dir(&self.data, &meta.uuid));
            return Err(error);
        }
        self.open.write().insert(name.to_string(), Arc::new(handle));
        Ok(meta)
    }

    fn new_meta(&self, name: &str, request: &CreateIndex) -> NodeResult<IndexMeta> {
        let uuid = crate::ids::base64_uuid();
        let now_millis = chrono::Utc::now().timestamp_millis();
        let mut flat: BTreeMap<String, String> = BTreeMap::new();
        if let Some(given) = &request.settings {
            for (key, value) in settings::normalize(given)? {
                if let Some(value) = value {
                    flat.insert(key, value);
                }
            }
        }
        flat.entry("index.number_of_shards".into())
            .or_insert_with(|| "1".into());
        flat.entry("index.number_of_replicas".into())
            .or_insert_with(|| "1".into());
        settings::validate(&flat)?;
        flat.insert("index.uuid".into(), uuid.clone());
        flat.insert("index.creation_date".into(), now_millis.to_string());
        flat.insert("index.provided_name".into(), name.to_string());
        flat.insert("index.version.created".into(), VERSION_CREATED_ID.into());
        let mapping = match &request.mappings {
            Some(json) => Mapping::from_json(json, 1)?,
            None => Mapping::empty(),
        };
        let aliases = match &request.aliases {
            Some(Value::Object(aliases)) => {
                for alias in aliases.keys() {
                    names::validate_index_name(alias)?;
                }
                aliases.clone().into_iter().collect()
            }
            Some(_) => return Err(NodeError::illegal("aliases must be an object")),
            None => BTreeMap::new(),
        };
        Ok(IndexMeta {
            name: name.to_string(),
            uuid,
            number_of_shards: settings::int_setting(&flat, "index.number_of_shards", 1),
            number_of_replicas: settings::int_setting(&flat, "index.number_of_replicas", 1),
            settings: flat,
            mapping: mapping.to_json(),
            mapping_version: mapping.version,
            aliases,
            state: IndexState::Open,
            creation_date_millis: now_millis,
            settings_version: 1,
            aliases_version: 1,
            follower: None,
        })
    }

    /// Deletes indices by name: state first, then shards and files.
    pub fn delete_indices(&self, names: &[String]) -> NodeResult<()> {
        for name in names {
            self.check_not_follower(name)?;
        }
        self.delete_indices_unchecked(names)
    }

    /// Deletes indices, follower indices included (replication's own clean-up).
    pub(super) fn delete_indices_unchecked(&self, names: &[String]) -> NodeResult<()> {
        let _admin = self.admin.lock();
        let metas: Vec<IndexMeta> = self.update_state(|state| {
            Ok(names
                .iter()
                .filter_map(|name| state.indices.remove(name))
                .collect())
        })?;
        for meta in metas {
            if let Some(handle) = self.open.write().remove(&meta.name) {
                // Followers' long polls let go of the engines instead of waiting out their poll.
                for shard in &handle.shards {
                    shard.begin_close();
                }
                drop(handle);
            }
            let dir = index_dir(&self.data, &meta.uuid);
            if let Err(error) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(index = %meta.name, %error, "removing index files failed");
            }
            tracing::info!(index = %meta.name, "index deleted");
        }
        Ok(())
    }

    /// Closes indices: state first, then the shards (refreshed and synced).
    pub fn close_indices(&self, names: &[String]) -> NodeResult<()> {
        for name in names {
            self.check_not_follower(name)?;
        }
        let _admin = self.admin.lock();
        self.update_state(|state| {
            for name in names {
                if let Some(meta) = state.indices.get_mut(name) {
                    meta.state = IndexState::Close;
                }
            }
            Ok(())
        })?;
        for name in names {
            if let Some(handle) = self.open.write().remove(name) {
                close_handle(handle);
            }
        }
        Ok(())
    }

    /// Opens closed indices.
    pub fn open_indices(&self, names: &[String]) -> NodeResult<()> {
        let _admin = self.admin.lock();
        for name in names {
            if self.open.read().contains_key(name) {
                continue;
            }
            let meta = self.meta(name)?;
            let handle = self.open_shards(&meta, false)?;
            self.update_state(|state| {
                if let Some(meta) = state.indices.get_mut(name) {
                    meta.state = IndexState::Open;
                }
                Ok(())
            })?;
            self.open.write().insert(name.clone(), Arc::new(handle));
        }
        Ok(())
    }

    /// Updates index settings; `None` values reset to the default.
    pub fn update_settings(
        &self,
        names: &[String],
        changes: &BTreeMap<String, Option<String>>,
    ) -> NodeResult<()> {
        for name in names {
            self.check_not_follower(name)?;
        }
        for key in changes.keys() {
            if settings::is_final(key) {
                let described: Vec<String> = names
                    .iter()
                    .filter_map(|name| self.meta(name).ok())
                    .map(|meta| format!("{}/{}", meta.name, meta.uuid))
                    .collect();
                return Err(NodeError::illegal(format!(
                    "Can't update non dynamic settings [[{key}]] for open indices [[{}]]",
                    described.join(", ")
                )));
            }
        }
        self.update_state(|state| {
            for name in names {
                let meta = state
                    .indices
                    .get_mut(name)
                    .ok_or_else(|| NodeError::no_index(name))?;
                let mut next = meta.settings.clone();
                for (key, value) in changes {
                    match value {
                        Some(value) => next.insert(key.clone(), value.clone()),
                        None => next.remove(key),
                    };
                }
                settings::validate(&next)?;
                meta.number_of_replicas =
                    settings::int_setting(&next, "index.number_of_replicas", 1);
                meta.settings = next;
            }
            Ok(())
        })?;
        for name in names {
            if let (Some(handle), Ok(meta)) = (self.open.read().get(name), self.meta(name)) {
                *handle.refresh_interval.lock() = settings::refresh_interval(&meta.settings);
                handle.replicas.store(
                    meta.number_of_replicas,
                    std::sync::atomic::Ordering::Relaxed,
                );
                *handle.write_block.lock() = settings::write_block(&meta.settings);
            }
        }
        // Translog settings are read when a shard opens; reopen so they apply now.
        if changes
            .keys()
            .any(|key| key.starts_with("index.translog.") || key == settings::RETENTION_SIZE_KEY)
        {
            for name in names {
                self.reopen(name)?;
            }
        }
        Ok(())
    }

    /// Adds (or replaces) an alias on indices.
    pub fn put_alias(&self, names: &[String], alias: &str, body: Value) -> NodeResult<()> {
        for name in names {
            self.check_not_follower(name)?;
        }
        names::validate_index_name(alias).map_err(|_| NodeError::InvalidIndexName {
            index: alias.to_string(),
            reason: "must be lowercase and must not contain special characters".into(),
        })?;
        self.update_state(|state| {
            if state.indices.contains_key(alias) {
                return Err(NodeError::InvalidIndexName {
                    index: alias.to_string(),
                    reason: "an index or data stream exists with the same name as the alias".into(),
                });
            }
            for name in names {
                let meta = state
                    .indices
                    .get_mut(name)
                    .ok_or_else(|| NodeError::no_index(name))?;
                meta.aliases.insert(alias.to_string(), body.clone());
            }
            Ok(())
        })
    }

    /// Removes aliases matching `pattern` from indices; fails when none matched.
    pub fn delete_alias(&self, names: &[String], pattern: &str) -> NodeResult<()> {
        for name in names {
            self.check_not_follower(name)?;
        }
        self.update_state(|state| {
            let mut removed = 0;
            for name in names {
                if let Some(meta) = state.indices.get_mut(name) {
                    let before = meta.aliases.len();
                    meta.aliases.retain(|alias, _| {
                        !(names::is_all(pattern) || names::glob_match(pattern, alias))
                    });
                    removed += before - meta.aliases.len();
                }
            }
            if removed == 0 {
                return Err(NodeError::AliasesNotFound(format!(
                    "aliases [{pattern}] missing"
                )));
            }
            Ok(())
        })
    }

    /// The alias definitions of an index as OpenSearch prints them.
    pub fn aliases_json(meta: &IndexMeta) -> Value {
        Value::Object(
            meta.aliases
                .iter()
                .map(|(alias, body)| (alias.clone(), clean_alias(body)))
                .collect::<Map<String, Value>>(),
        )
    }
}

/// An alias body without the keys OpenSearch does not echo.
fn clean_alias(body: &Value) -> Value {
    let mut out = Map::new();
    if let Value::Object(object) = body {
        for (key, value) in object {
            match key.as_str() {
                "routing" => {
                    out.insert("index_routing".into(), value.clone());
                    out.insert("search_routing".into(), value.clone());
                }
                "filter" | "index_routing" | "search_routing" | "is_write_index" | "is_hidden" => {
                    out.insert(key.clone(), value.clone());
                }
                _ => {}
            }
        }
    }
    Value::Object(out)
}
