//! The index service: the node's indices, their metadata in the cluster state and their open
//! shard engines, and name resolution (wildcards, comma lists, aliases).
//!
//! It owns the rule that metadata is persisted before shards see it (a mapping is written to
//! `state.json` before `set_mapping`). Every method here may block (fsync, tantivy commits):
//! async callers run it on the blocking pool. It must never speak HTTP.

pub mod admin;
pub mod follower;
mod mapping;
pub mod names;
pub mod refresher;
mod reopen;
pub mod routing;
pub mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use tandem_replication::MetadataCell;
use tandem_storage::{Mapping, ShardEngine};

use crate::cluster_state::{index_dir, ClusterState, IndexMeta, IndexState};
use crate::error::{NodeError, NodeResult};

/// An open index: its shard engines and what writes to it need.
#[derive(Debug)]
pub struct IndexHandle {
    /// Index name.
    pub name: String,
    /// Index uuid.
    pub uuid: String,
    /// Primary shards, by shard number.
    pub shards: Vec<Arc<ShardEngine>>,
    /// Serializes mapping changes of this index.
    pub mapping_lock: Mutex<()>,
    /// `index.refresh_interval` (`None` = never).
    pub refresh_interval: Mutex<Option<Duration>>,
    /// When the scheduler last refreshed it.
    pub last_refresh: Mutex<Instant>,
    /// `index.number_of_replicas` (configured; one node never assigns them).
    pub replicas: AtomicU32,
    /// `index.blocks.*` on writes: the block's description and whether deletes pass.
    pub write_block: Mutex<Option<(&'static str, bool)>>,
    /// Mapping, settings and aliases with their versions, as followers are sent them (long
    /// polls wait on it, so a change reaches followers at once).
    pub metadata: Arc<MetadataCell>,
}

impl IndexHandle {
    /// The shard a routing value (or id) goes to.
    pub fn shard_of(&self, routing: &str) -> u32 {
        let count = u32::try_from(self.shards.len()).expect("shard count is at most 1024");
        routing::shard_for(routing, count)
    }

    /// The engine of shard `shard`.
    pub fn shard(&self, shard: u32) -> &Arc<ShardEngine> {
        &self.shards[shard as usize]
    }
}

/// How an index expression resolves.
#[derive(Debug, Clone, Copy)]
pub struct ResolveOptions {
    /// Missing concrete names are skipped instead of failing.
    pub ignore_unavailable: bool,
    /// An expression matching nothing is fine.
    pub allow_no_indices: bool,
    /// Wildcards match open indices.
    pub expand_open: bool,
    /// Wildcards match closed indices.
    pub expand_closed: bool,
    /// Aliases resolve to their indices (delete-index refuses them).
    pub match_aliases: bool,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            ignore_unavailable: false,
            allow_no_indices: true,
            expand_open: true,
            expand_closed: true,
            match_aliases: true,
        }
    }
}

/// All indices of the node.
#[derive(Debug)]
pub struct IndexService {
    data: PathBuf,
    state: Mutex<ClusterState>,
    open: RwLock<BTreeMap<String, Arc<IndexHandle>>>,
    /// Follower indices whose bootstrap has not finished on every shard: the shards done so far.
    pending: Mutex<BTreeMap<String, Vec<Option<Arc<ShardEngine>>>>>,
    /// Serializes index creation, deletion, open and close.
    admin: Mutex<()>,
}

impl IndexService {
    /// Loads the cluster state from `data` and opens every open index's shards.
    pub fn open(data: &Path) -> NodeResult<IndexService> {
        let state = match ClusterState::load(data)? {
            Some(state) => state,
            None => {
                let state = ClusterState {
                    cluster_uuid: crate::ids::base64_uuid(),
                    ..ClusterState::default()
                };
                state.persist(data)?;
                state
            }
        };
        let service = IndexService {
            data: data.to_path_buf(),
            state: Mutex::new(state.clone()),
            open: RwLock::new(BTreeMap::new()),
            pending: Mutex::new(BTreeMap::new()),
            admin: Mutex::new(()),
        };
        warn_dangling(data, &state);
        for meta in state.indices.values() {
            if meta.state == IndexState::Open && meta.follower.is_some() {
                service.open_follower(meta)?;
            } else if meta.state == IndexState::Open {
                let handle = service.open_shards(meta, false)?;
                service
                    .open
                    .write()
                    .insert(meta.name.clone(), Arc::new(handle));
            }
        }
        Ok(service)
    }

    /// A copy of the cluster state.
    pub fn state(&self) -> ClusterState {
        self.state.lock().clone()
    }

    /// Runs `change` on the cluster state and persists it; nothing changes if either fails.
    pub fn update_state<T>(
        &self,
        change: impl FnOnce(&mut ClusterState) -> NodeResult<T>,
    ) -> NodeResult<T> {
        let mut state = self.state.lock();
        let mut next = state.clone();
        let result = change(&mut next)?;
        for (name, meta) in next.indices.iter_mut() {
            if let Some(before) = state.indices.get(name).filter(|b| b.uuid == meta.uuid) {
                meta.bump_versions_since(before);
            }
        }
        next.persist(&self.data)?;
        let changed: Vec<IndexMeta> = next
            .indices
            .values()
            .filter(|meta| state.indices.get(&meta.name) != Some(*meta))
            .cloned()
            .collect();
        *state = next;
        drop(state);
        let open = self.open.read();
        for meta in changed {
            if let Some(handle) = open.get(&meta.name) {
                handle.metadata.set(follower::leader_metadata(&meta));
            }
        }
        Ok(result)
    }

    /// Changes transient settings (memory only).
    pub fn update_transient(&self, change: impl FnOnce(&mut ClusterState)) {
        change(&mut self.state.lock());
    }

    /// A cluster setting in force: transient over persistent.
    pub fn cluster_setting(&self, key: &str) -> Option<serde_json::Value> {
        let state = self.state.lock();
        state
            .transient
            .get(key)
            .or_else(|| state.persistent.get(key))
            .cloned()
    }

    /// Whether `action.auto_create_index` lets a write create `index`: `true`, `false`, or a
    /// comma list of `+pattern`/`-pattern` where the first match decides.
    pub fn auto_create_allowed(&self, index: &str) -> bool {
        let Some(value) = self.cluster_setting("action.auto_create_index") else {
            return true;
        };
        let text = crate::config::value_text(&value);
        match text.as_str() {
            "true" | "" => true,
            "false" => false,
            patterns => {
                for pattern in patterns.split(',').map(str::trim) {
                    let (allow, glob) = match pattern.strip_prefix('-') {
                        Some(glob) => (false, glob),
                        None => (true, pattern.trim_start_matches('+')),
                    };
                    if names::glob_match(glob, index) {
                        return allow;
                    }
                }
                false
            }
        }
    }

    /// Metadata of one index by exact name.
    pub fn meta(&self, name: &str) -> NodeResult<IndexMeta> {
        self.state
            .lock()
            .indices
            .get(name)
            .cloned()
            .ok_or_else(|| NodeError::no_index(name))
    }

    /// The open index named `name` (or the single index an alias points to).
    pub fn handle(&self, name: &str) -> NodeResult<Arc<IndexHandle>> {
        if let Some(handle) = self.open.read().get(name) {
            return Ok(handle.clone());
        }
        if self.pending.lock().contains_key(name) {
            return Err(NodeError::ShardsUnavailable {
                index: name.to_string(),
            });
        }
        let state = self.state.lock();
        if let Some(meta) = state.indices.get(name) {
            return Err(NodeError::IndexClosed {
                index: meta.name.clone(),
                uuid: meta.uuid.clone(),
            });
        }
        let targets = state.resolve_alias(name);
        drop(state);
        match targets.as_slice() {
            [single] => self.handle(single),
            [] => Err(NodeError::no_index(name)),
            _ => Err(NodeError::illegal(format!(
                "no write index is defined for alias [{name}]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index"
            ))),
        }
    }

    /// Every open index.
    pub fn open_handles(&self) -> Vec<Arc<IndexHandle>> {
        self.open.read().values().cloned().collect()
    }

    /// Resolves an index expression (comma list, wildcards, `_all`, aliases, `-exclusions`)
    /// to concrete index names, sorted.
    pub fn resolve(&self, expression: &str, options: ResolveOptions) -> NodeResult<Vec<String>> {
        let state = self.state.lock();
        let mut found: Vec<String> = Vec::new();
        let expandable = |meta: &IndexMeta| match meta.state {
            IndexState::Open => options.expand_open,
            IndexState::Close => options.expand_closed,
        };
        let parts: Vec<&str> = expression.split(',').map(str::trim).collect();
        let mut saw_wildcard = false;
        for (position, part) in parts.iter().enumerate() {
            if names::is_all(part) {
                saw_wildcard = true;
                found.extend(
                    state
                        .indices
                        .values()
                        .filter(|meta| expandable(meta) && !meta.name.starts_with('.'))
                        .map(|meta| meta.name.clone()),
                );
            } else if let Some(excluded) = part.strip_prefix('-').filter(|_| position > 0) {
                found.retain(|name| !names::glob_match(excluded, name));
            } else if part.contains('*') {
                saw_wildcard = true;
                let before = found.len();
                for meta in state.indices.values().filter(|meta| expandable(meta)) {
                    let alias_hit = options.match_aliases
                        && meta
                            .aliases
                            .keys()
                            .any(|alias| names::glob_match(part, alias));
                    if names::glob_match(part, &meta.name) || alias_hit {
                        found.push(meta.name.clone());
                    }
                }
                if found.len() == before && !options.allow_no_indices {
                    return Err(NodeError::no_index(*part));
                }
            } else {
                let is_alias = !state.indices.contains_key(*part);
                let targets = state.resolve_alias(part);
                if is_alias && !targets.is_empty() && !options.match_aliases {
                    if options.ignore_unavailable {
                        continue;
                    }
                    return Err(NodeError::illegal(format!(
                        "The provided expression [{part}] matches an alias, specify the corresponding concrete indices instead."
                    )));
                }
                if targets.is_empty() && !options.ignore_unavailable {
                    return Err(NodeError::no_index(*part));
                }
                found.extend(targets);
            }
        }
        found.sort();
        found.dedup();
        if found.is_empty() && !options.allow_no_indices {
            let shown = if saw_wildcard { expression } else { parts[0] };
            return Err(NodeError::no_index(shown));
        }
        Ok(found)
    }

    /// Opens (or creates) the shards of an index.
    fn open_shards(&self, meta: &IndexMeta, create: bool) -> NodeResult<IndexHandle> {
        let mapping = Arc::new(Mapping::from_json(&meta.mapping, meta.mapping_version)?);
        let config = settings::engine_config(&meta.settings);
        let dir = index_dir(&self.data, &meta.uuid);
        let mut shards = Vec::with_capacity(meta.number_of_shards as usize);
        for shard in 0..meta.number_of_shards {
            let shard_dir = dir.join(shard.to_string());
            let engine = if create {
                ShardEngine::create(&shard_dir, config.clone(), mapping.clone())?
            } else {
                ShardEngine::open(&shard_dir, config.clone(), mapping.clone())?
            };
            shards.push(Arc::new(engine));
        }
        tracing::info!(index = %meta.name, uuid = %meta.uuid, shards = shards.len(), "index opened");
        Ok(self.handle_of(meta, shards))
    }

    /// The handle of an index whose shards are open.
    fn handle_of(&self, meta: &IndexMeta, shards: Vec<Arc<ShardEngine>>) -> IndexHandle {
        let metadata = Arc::new(MetadataCell::new(follower::leader_metadata(meta)));
        for shard in &shards {
            metadata.wake_on_change(shard);
        }
        IndexHandle {
            name: meta.name.clone(),
            uuid: meta.uuid.clone(),
            shards,
            mapping_lock: Mutex::new(()),
            refresh_interval: Mutex::new(settings::refresh_interval(&meta.settings)),
            last_refresh: Mutex::new(Instant::now()),
            replicas: AtomicU32::new(meta.number_of_replicas),
            write_block: Mutex::new(settings::write_block(&meta.settings)),
            metadata,
        }
    }

    /// Closes every shard (refresh + sync) at shutdown.
    pub fn close_all(&self) {
        let handles: Vec<Arc<IndexHandle>> = std::mem::take(&mut *self.open.write())
            .into_values()
            .collect();
        for handle in handles {
            close_handle(handle);
        }
    }
}

/// Logs index folders the cluster state does not name (left by a crash between creating
/// shards and recording them, or between forgetting an index and removing its files). They
/// are kept, not deleted: an operator decides.
fn warn_dangling(data: &Path, state: &ClusterState) {
    let Ok(entries) = std::fs::read_dir(data.join("indices")) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let known = state.indices.values().any(|meta| meta.uuid == name);
        if !known && !name.starts_with('.') {
            tracing::warn!(folder = %entry.path().display(), "index folder not in the cluster state");
        }
    }
}

/// How long closing an index waits for borrowers of its engines (followers' long polls, which
/// end within one poll interval once told) before settling for a refresh and a sync.
const BORROWERS_WAIT: Duration = Duration::from_secs(5);

/// Closes an index's engines; engines still borrowed elsewhere after [`BORROWERS_WAIT`] are
/// refreshed and synced instead.
fn close_handle(handle: Arc<IndexHandle>) {
    let name = handle.name.clone();
    let shards = match Arc::try_unwrap(handle) {
        Ok(handle) => handle.shards,
        Err(shared) => shared.shards.clone(),
    };
    for shard in &shards {
        shard.begin_close();
    }
    let deadline = Instant::now() + BORROWERS_WAIT;
    while shards.iter().any(|shard| Arc::strong_count(shard) > 1) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    for (number, shard) in shards.into_iter().enumerate() {
        let result = match Arc::try_unwrap(shard) {
            Ok(engine) => engine.close(),
            Err(shared) => shared.refresh(true).and_then(|_| shared.sync_translog()),
        };
        if let Err(error) = result {
            tracing::error!(index = %name, shard = number, %error, "closing shard failed");
        }
    }
}
