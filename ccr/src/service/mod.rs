//! The replication API's semantics, independent of HTTP: `_start`, `_status`, `_pause`,
//! `_resume`, `_stop`, `_update` and `follower_stats`, with OpenSearch's validation order,
//! state rules, response shapes and error strings (spec §2). The node's REST layer parses
//! requests into these calls and renders what they return; the node itself is reached through
//! [`FollowerNode`], and leaders through [`RemoteClusters`].
//!
//! State lives in memory (running shard tasks, their progress) and in one durable file (every
//! follower index's leader, state, reason and overrides), written before a call returns, so a
//! restarted node continues where it was ([`ReplicationService::restore`]). This module never
//! touches index data itself.

mod error;
mod names;
mod state;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use tandem_replication::{FollowerConfig, Phase};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tandem_wire::{
    ErrorKind, IndexMetadata, IndexMetadataRequest, LeaseAction, Message, MetadataVersions,
    RetentionLeaseRequest, ShardTarget,
};

pub use error::ReplicationError;
pub use names::index_name_problems;
pub use state::{FollowerRecord, OverallState, ReplicationState, STATE_FILE_NAME};

use crate::client::{CallError, LeaderClient};
use crate::follower::{
    Control, FollowerHooks, FollowerRunner, FollowerShardSpec, ShardReplicationStatus,
};

/// Reason of a replication a user started or paused.
pub const USER_INITIATED: &str = "User initiated";
/// Time a control call to the leader may take.
const LEADER_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Leaders by remote alias (the node registers aliases from `cluster.remote.<alias>.seeds`).
pub trait RemoteClusters: Send + Sync + 'static {
    /// The client of `alias`, or `None` when no such remote cluster is configured.
    fn client(&self, alias: &str) -> Option<Arc<dyn LeaderClient>>;
}

/// What the service needs from the node that holds follower indices.
pub trait FollowerNode: Send + Sync + 'static {
    /// This cluster's name (it names the retention leases on leaders).
    fn cluster_name(&self) -> String;
    /// Whether an index (or alias) with this name exists.
    fn index_exists(&self, name: &str) -> bool;
    /// Creates the follower index from the leader's metadata and the overrides, with no shard
    /// data yet, read-only for clients (the replication block).
    fn create_follower_index(
        &self,
        name: &str,
        leader: &IndexMetadata,
        overrides: &Value,
    ) -> Result<(), ReplicationError>;
    /// Where shard `shard` of index `name` lives.
    fn shard_dir(&self, name: &str, shard: u32) -> PathBuf;
    /// Engine configuration for a follower shard of `name`.
    fn engine_config(&self, name: &str) -> EngineConfig;
    /// The open shards of a follower index after a restart (`None` for a shard whose bootstrap
    /// did not finish).
    fn open_shards(&self, name: &str) -> Vec<Option<Arc<ShardEngine>>>;
    /// The follower index's mapping.
    fn mapping(&self, name: &str) -> Arc<Mapping>;
    /// Installs newer leader metadata at index level (persisted) and returns the mapping.
    fn install_metadata(
        &self,
        name: &str,
        versions: MetadataVersions,
        mapping: Option<Bytes>,
        settings: Option<Bytes>,
        aliases: Option<Bytes>,
    ) -> Result<Arc<Mapping>, String>;
    /// A shard finished its bootstrap and is open.
    fn shard_ready(&self, name: &str, shard: u32, engine: Arc<ShardEngine>);
    /// Replication stopped: lift the block and make the index a normal writable index.
    fn unfollow(&self, name: &str) -> Result<(), ReplicationError>;
    /// Replication stopped before the bootstrap finished: remove the partial index.
    fn delete_index(&self, name: &str) -> Result<(), ReplicationError>;
}

struct Running {
    runners: Vec<FollowerRunner>,
    statuses: Arc<Mutex<BTreeMap<u32, ShardReplicationStatus>>>,
}

/// The follower side of cross-cluster replication on one node.
pub struct ReplicationService<N: FollowerNode> {
    node: Arc<N>,
    remotes: Arc<dyn RemoteClusters>,
    data_dir: PathBuf,
    task_config: FollowerConfig,
    inner: tokio::sync::Mutex<Inner>,
}

struct Inner {
    state: ReplicationState,
    running: BTreeMap<String, Running>,
}

struct Hooks<N: FollowerNode> {
    node: Arc<N>,
    index: String,
    statuses: Arc<Mutex<BTreeMap<u32, ShardReplicationStatus>>>,
}

impl<N: FollowerNode> FollowerHooks for Hooks<N> {
    fn mapping(&self) -> Arc<Mapping> {
        self.node.mapping(&self.index)
    }
    fn install_metadata(
        &self,
        versions: MetadataVersions,
        mapping: Option<Bytes>,
        settings: Option<Bytes>,
        aliases: Option<Bytes>,
    ) -> Result<Arc<Mapping>, String> {
        self.node
            .install_metadata(&self.index, versions, mapping, settings, aliases)
    }
    fn shard_ready(&self, shard_id: u32, engine: Arc<ShardEngine>) {
        self.node.shard_ready(&self.index, shard_id, engine);
    }
    fn progress(&self, shard_id: u32, status: ShardReplicationStatus) {
        self.statuses.lock().insert(shard_id, status);
    }
}

impl<N: FollowerNode> ReplicationService<N> {
    /// A service persisting into `data_dir`, with the state found there (call
    /// [`ReplicationService::restore`] to restart its tasks).
    pub fn open(
        node: Arc<N>,
        remotes: Arc<dyn RemoteClusters>,
        data_dir: PathBuf,
        task_config: FollowerConfig,
    ) -> Result<Self, String> {
        let state = ReplicationState::load(&data_dir)?;
        Ok(ReplicationService {
            node,
            remotes,
            data_dir,
            task_config,
            inner: tokio::sync::Mutex::new(Inner {
                state,
                running: BTreeMap::new(),
            }),
        })
    }

    /// Restarts the shard tasks of every replicated index after a node restart: running ones
    /// continue from their checkpoints (or their bootstrap), paused ones wait for a resume.
    pub async fn restore(&self) {
        let mut inner = self.inner.lock().await;
        let records: Vec<(String, FollowerRecord)> = inner
            .state
            .followers
            .iter()
            .map(|(name, record)| (name.clone(), record.clone()))
            .collect();
        for (name, record) in records {
            if record.state == OverallState::Failed {
                continue;
            }
            let paused = (record.state == OverallState::Paused).then(|| record.reason.clone());
            match self.spawn(&name, &record, paused) {
                Ok(running) => {
                    inner.running.insert(name, running);
                }
                Err(error) => tracing::warn!(index = %name, %error, "replication not restored"),
            }
        }
    }

    /// `PUT _plugins/_replication/<follower>/_start`.
    pub async fn start(&self, follower: &str, body: &Value) -> Result<Value, ReplicationError> {
        let request = StartRequest::parse(follower, body)?;
        let client = self
            .remotes
            .client(&request.leader_alias)
            .ok_or_else(|| ReplicationError::no_such_remote(&request.leader_alias))?;
        let metadata = match client
            .call(
                Message::IndexMetadataRequest(IndexMetadataRequest {
                    index_name: request.leader_index.clone(),
                }),
                LEADER_CALL_TIMEOUT,
            )
            .await
        {
            Ok(Message::IndexMetadata(metadata)) => metadata,
            Ok(other) => {
                return Err(ReplicationError::replication(format!(
                    "unexpected answer [{}]",
                    other.kind().name()
                )))
            }
            Err(error) => return Err(leader_error(&error, &request.leader_index)),
        };
        if metadata.is_follower_index {
            return Err(ReplicationError::illegal_argument(format!(
                "Cannot Replicate a Replicated Index {}",
                request.leader_index
            )));
        }
        let mut inner = self.inner.lock().await;
        if self.node.index_exists(follower) || inner.state.followers.contains_key(follower) {
            return Err(ReplicationError::illegal_argument(format!(
                "Cant use same index again for replication. Delete the index:{follower}"
            )));
        }
        self.node
            .create_follower_index(follower, &metadata, &request.settings)?;
        let record = FollowerRecord {
            leader_alias: request.leader_alias,
            leader_index: request.leader_index,
            leader_uuid: metadata.uuid.clone(),
            shards: metadata.number_of_shards,
            state: OverallState::Running,
            reason: USER_INITIATED.to_string(),
            overrides: request.settings,
            bootstrapped: false,
        };
        inner
            .state
            .followers
            .insert(follower.to_string(), record.clone());
        self.persist(&inner)?;
        let running = self.spawn(follower, &record, None)?;
        inner.running.insert(follower.to_string(), running);
        Ok(json!({"acknowledged": true}))
    }

    /// `GET _plugins/_replication/<follower>/_status`.
    pub async fn status(&self, follower: &str, verbose: bool) -> Value {
        let inner = self.inner.lock().await;
        let Some(record) = inner.state.followers.get(follower) else {
            return json!({"status": "REPLICATION NOT IN PROGRESS"});
        };
        let mut body = Map::new();
        let statuses = inner
            .running
            .get(follower)
            .map(|running| running.statuses.lock().clone())
            .unwrap_or_default();
        let status = match record.state {
            OverallState::Paused => "PAUSED",
            OverallState::Failed => "FAILED",
            OverallState::Running => {
                let bootstrapping = statuses
                    .values()
                    .next()
                    .is_none_or(|status| status.phase == Phase::Bootstrapping);
                if bootstrapping {
                    "BOOTSTRAPPING"
                } else {
                    "SYNCING"
                }
            }
        };
        body.insert("status".into(), Value::from(status));
        body.insert("reason".into(), Value::from(record.reason.clone()));
        body.insert(
            "leader_alias".into(),
            Value::from(record.leader_alias.clone()),
        );
        body.insert(
            "leader_index".into(),
            Value::from(record.leader_index.clone()),
        );
        body.insert("follower_index".into(), Value::from(follower));
        if record.state != OverallState::Running {
            return Value::Object(body);
        }
        render_progress(&mut body, follower, record.shards, &statuses, verbose);
        Value::Object(body)
    }

    /// `POST _plugins/_replication/<follower>/_pause`. Accepted during a bootstrap too (the
    /// copy continues on resume).
    pub async fn pause(&self, follower: &str, body: &Value) -> Result<Value, ReplicationError> {
        let reason = parse_pause(body)?;
        let mut inner = self.inner.lock().await;
        let record = inner
            .state
            .followers
            .get_mut(follower)
            .ok_or_else(|| ReplicationError::not_replicated(follower))?;
        match record.state {
            OverallState::Paused => {
                return Err(ReplicationError::already_exists(format!(
                    "Index {follower} is already paused"
                )))
            }
            OverallState::Failed => {
                return Err(ReplicationError::illegal_state(
                    "Cannot pause when in FAILED state",
                ))
            }
            OverallState::Running => {}
        }
        record.state = OverallState::Paused;
        record.reason = reason;
        self.persist(&inner)?;
        if let Some(running) = inner.running.get(follower) {
            for runner in &running.runners {
                runner.send(Control::Pause).await;
            }
        }
        Ok(json!({"acknowledged": true}))
    }

    /// `POST _plugins/_replication/<follower>/_resume`.
    pub async fn resume(&self, follower: &str, body: &Value) -> Result<Value, ReplicationError> {
        reject_unknown_fields(body, "ResumeReplicationRequestParser", &[])?;
        let mut inner = self.inner.lock().await;
        let record = inner
            .state
            .followers
            .get(follower)
            .cloned()
            .ok_or_else(|| ReplicationError::not_replicated(follower))?;
        if record.state != OverallState::Paused {
            return Err(ReplicationError::already_exists(format!(
                "Replication on Index {follower} is already running"
            )));
        }
        if record.bootstrapped {
            self.check_leases(follower, &record).await?;
        }
        if let Some(stored) = inner.state.followers.get_mut(follower) {
            stored.state = OverallState::Running;
            stored.reason = USER_INITIATED.to_string();
        }
        self.persist(&inner)?;
        match inner.running.get(follower) {
            Some(running) => {
                for runner in &running.runners {
                    runner.send(Control::Resume).await;
                }
            }
            None => {
                let running = self.spawn(follower, &record, None)?;
                inner.running.insert(follower.to_string(), running);
            }
        }
        Ok(json!({"acknowledged": true}))
    }

    /// `POST _plugins/_replication/<follower>/_stop`: the index becomes a normal writable
    /// index (or goes away if its bootstrap had not finished); leases are removed best-effort.
    pub async fn stop(&self, follower: &str, body: &Value) -> Result<Value, ReplicationError> {
        reject_unknown_fields(body, "StopReplicationRequestParser", &[])?;
        let mut inner = self.inner.lock().await;
        let record = inner
            .state
            .followers
            .get(follower)
            .cloned()
            .ok_or_else(|| ReplicationError::not_replicated(follower))?;
        if let Some(running) = inner.running.remove(follower) {
            for runner in running.runners {
                runner.stop().await;
            }
        }
        let bootstrapped =
            record.bootstrapped || self.node.open_shards(follower).iter().all(Option::is_some);
        if bootstrapped {
            self.node.unfollow(follower)?;
        } else {
            self.node.delete_index(follower)?;
        }
        if let Some(client) = self.remotes.client(&record.leader_alias) {
            for shard in 0..record.shards {
                let request = self.lease_request(follower, &record, shard, LeaseAction::Remove);
                if let Err(error) = client.call(request, LEADER_CALL_TIMEOUT).await {
                    tracing::info!(index = %follower, shard, %error, "lease not removed on the leader");
                }
            }
        }
        inner.state.followers.remove(follower);
        self.persist(&inner)?;
        Ok(json!({"acknowledged": true}))
    }

    /// `PUT _plugins/_replication/<follower>/_update`: replaces the stored overrides.
    pub async fn update(&self, follower: &str, body: &Value) -> Result<Value, ReplicationError> {
        let settings = body
            .get("settings")
            .cloned()
            .unwrap_or_else(|| body.clone());
        if !settings.is_object() {
            return Err(ReplicationError::illegal_argument(
                "settings must be an object",
            ));
        }
        let mut inner = self.inner.lock().await;
        let record = inner
            .state
            .followers
            .get_mut(follower)
            .ok_or_else(|| ReplicationError::not_replicated(follower))?;
        if record.state == OverallState::Failed {
            return Err(ReplicationError::illegal_state(
                "Cannot update settings when in FAILED state",
            ));
        }
        record.overrides = settings;
        self.persist(&inner)?;
        Ok(json!({"acknowledged": true}))
    }

    /// Stops every shard task (node shutdown) without changing any replication's state, so a
    /// restart continues each one where it was.
    pub async fn shutdown(&self) {
        let mut inner = self.inner.lock().await;
        let running = std::mem::take(&mut inner.running);
        for (_, index) in running {
            for runner in index.runners {
                runner.stop().await;
            }
        }
    }

    /// `GET _plugins/_replication/follower_stats`.
    pub async fn follower_stats(&self) -> Value {
        let inner = self.inner.lock().await;
        stats::render(&inner.state, &inner.running)
    }

    /// Whether `index` is a follower index (its writes are blocked).
    pub async fn is_follower_index(&self, index: &str) -> bool {
        self.inner.lock().await.state.followers.contains_key(index)
    }

    /// Marks every shard of `follower` bootstrapped once all report syncing; persisted so a
    /// stop after a restart knows the index is whole.
    pub async fn note_progress(&self) {
        let mut inner = self.inner.lock().await;
        let mut changed = false;
        let Inner { state, running } = &mut *inner;
        for (name, record) in state.followers.iter_mut() {
            let Some(running) = running.get(name) else {
                continue;
            };
            let statuses = running.statuses.lock();
            let all_syncing = statuses.len() == record.shards as usize
                && statuses
                    .values()
                    .all(|status| status.phase != Phase::Bootstrapping);
            if all_syncing && !record.bootstrapped {
                record.bootstrapped = true;
                changed = true;
            }
            for status in statuses.values() {
                if let Phase::Paused { reason } = &status.phase {
                    if reason.starts_with(tandem_replication::follower::AUTO_PAUSE_PREFIX)
                        && record.state == OverallState::Running
                    {
                        record.state = OverallState::Paused;
                        record.reason = reason.clone();
                        changed = true;
                    }
                }
                if let Phase::Failed { reason } = &status.phase {
                    record.state = OverallState::Failed;
                    record.reason = reason.clone();
                    changed = true;
                }
            }
        }
        if changed {
            if let Err(error) = self.persist(&inner) {
                tracing::warn!(%error, "replication state not saved");
            }
        }
    }

    fn lease_request(
        &self,
        follower: &str,
        record: &FollowerRecord,
        shard: u32,
        action: LeaseAction,
    ) -> Message {
        Message::RetentionLease(RetentionLeaseRequest {
            shard: ShardTarget {
                index_uuid: record.leader_uuid.clone(),
                shard_id: shard,
            },
            lease_id: self.lease_id(follower, shard),
            action,
        })
    }

    fn lease_id(&self, follower: &str, shard: u32) -> String {
        format!(
            "replication:{}:{follower}:{shard}",
            self.node.cluster_name()
        )
    }

    async fn check_leases(
        &self,
        follower: &str,
        record: &FollowerRecord,
    ) -> Result<(), ReplicationError> {
        let client = self
            .remotes
            .client(&record.leader_alias)
            .ok_or_else(|| ReplicationError::no_such_remote(&record.leader_alias))?;
        let shards = self.node.open_shards(follower);
        for (shard, engine) in shards.iter().enumerate() {
            let retaining_seq_no = engine
                .as_ref()
                .map_or(0, |engine| engine.seq_no_stats().local_checkpoint + 1);
            let shard = u32::try_from(shard).unwrap_or(u32::MAX);
            let action = LeaseAction::Renew {
                retaining_seq_no,
                source: "replication".into(),
            };
            let request = self.lease_request(follower, record, shard, action);
            match client.call(request, LEADER_CALL_TIMEOUT).await {
                Ok(_) => {}
                Err(CallError::Remote(error))
                    if matches!(
                        error.kind,
                        ErrorKind::RetentionLeaseNotFound | ErrorKind::IndexNotFound
                    ) =>
                {
                    return Err(ReplicationError::not_found(format!(
                        "Retention lease doesn't exist. Replication can't be resumed for {follower}. Use force_resume=true to restore from snapshot."
                    )));
                }
                Err(error) => return Err(leader_error(&error, &record.leader_index)),
            }
        }
        Ok(())
    }

    fn spawn(
        &self,
        follower: &str,
        record: &FollowerRecord,
        paused: Option<String>,
    ) -> Result<Running, ReplicationError> {
        let client = self
            .remotes
            .client(&record.leader_alias)
            .ok_or_else(|| ReplicationError::no_such_remote(&record.leader_alias))?;
        let statuses = Arc::new(Mutex::new(BTreeMap::new()));
        let hooks: Arc<dyn FollowerHooks> = Arc::new(Hooks {
            node: self.node.clone(),
            index: follower.to_string(),
            statuses: statuses.clone(),
        });
        let open = self.node.open_shards(follower);
        let runners = (0..record.shards)
            .map(|shard| {
                let spec = FollowerShardSpec {
                    leader: ShardTarget {
                        index_uuid: record.leader_uuid.clone(),
                        shard_id: shard,
                    },
                    shard_dir: self.node.shard_dir(follower, shard),
                    lease_id: self.lease_id(follower, shard),
                    lease_source: "replication".into(),
                    engine_config: self.node.engine_config(follower),
                    task_config: self.task_config,
                };
                let existing = open.get(shard as usize).cloned().flatten();
                FollowerRunner::spawn(
                    client.clone(),
                    hooks.clone(),
                    spec,
                    existing,
                    paused.clone(),
                )
            })
            .collect();
        Ok(Running { runners, statuses })
    }

    fn persist(&self, inner: &Inner) -> Result<(), ReplicationError> {
        inner.state.save(&self.data_dir).map_err(|reason| {
            ReplicationError::replication(format!("failed to save replication state: {reason}"))
        })
    }
}

mod stats;

struct StartRequest {
    leader_alias: String,
    leader_index: String,
    settings: Value,
}

impl StartRequest {
    fn parse(follower: &str, body: &Value) -> Result<StartRequest, ReplicationError> {
        reject_unknown_fields(
            body,
            "FollowIndexRequestParser",
            &["leader_alias", "leader_index", "use_roles", "settings"],
        )?;
        let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
        let (leader_alias, leader_index) = (text("leader_alias"), text("leader_index"));
        let missing: Vec<&str> = [
            ("leader_alias", &leader_alias),
            ("leader_index", &leader_index),
        ]
        .iter()
        .filter(|(_, value)| value.is_none())
        .map(|(key, _)| *key)
        .collect();
        if !missing.is_empty() {
            return Err(ReplicationError::validation(&[format!(
                "Mandatory params [{}] are missing for the request",
                missing.join(", ")
            )]));
        }
        let (leader_alias, leader_index) = (
            leader_alias.unwrap_or_default(),
            leader_index.unwrap_or_default(),
        );
        let mut problems = index_name_problems(&leader_index);
        problems.extend(index_name_problems(follower));
        problems.extend(use_roles_problem(body));
        if !problems.is_empty() {
            return Err(ReplicationError::validation(&problems));
        }
        let settings = body.get("settings").cloned().unwrap_or_else(|| json!({}));
        Ok(StartRequest {
            leader_alias,
            leader_index,
            settings,
        })
    }
}

/// The validation problem of a request's `use_roles`, if any: when given, both roles are named.
pub fn use_roles_problem(body: &Value) -> Option<String> {
    let roles = body
        .get("use_roles")
        .filter(|roles| roles.as_object().is_some_and(|o| !o.is_empty()))?;
    let complete = ["leader_cluster_role", "follower_cluster_role"]
        .iter()
        .all(|key| roles.get(key).and_then(Value::as_str).is_some());
    (!complete).then(|| "Need roles for leader_cluster_role and follower_cluster_role".into())
}

fn parse_pause(body: &Value) -> Result<String, ReplicationError> {
    reject_unknown_fields(body, "PauseReplicationRequestParser", &["reason"])?;
    Ok(body
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or(USER_INITIATED)
        .to_string())
}

/// Refuses a body with a key outside `known`, as OpenSearch's request parser `parser` does.
pub fn reject_unknown_fields(
    body: &Value,
    parser: &str,
    known: &[&str],
) -> Result<(), ReplicationError> {
    let Some(object) = body.as_object() else {
        return Ok(());
    };
    if let Some(unknown) = object.keys().find(|key| !known.contains(&key.as_str())) {
        return Err(ReplicationError {
            status: 400,
            error_type: "x_content_parse_exception",
            reason: format!("[1:2] [{parser}] unknown field [{unknown}]"),
            extra: Vec::new(),
        });
    }
    Ok(())
}

fn leader_error(error: &CallError, leader_index: &str) -> ReplicationError {
    match error {
        CallError::Remote(remote) if remote.kind == ErrorKind::IndexNotFound => {
            ReplicationError::index_not_found(leader_index)
        }
        CallError::Remote(remote) if remote.kind == ErrorKind::ChainingRefused => {
            ReplicationError::illegal_argument(format!(
                "Cannot Replicate a Replicated Index {leader_index}"
            ))
        }
        CallError::Remote(remote) => ReplicationError {
            status: remote.http_status(),
            error_type: remote.opensearch_type(),
            reason: remote.reason.clone(),
            extra: Vec::new(),
        },
        CallError::Transport { reason, .. } => {
            ReplicationError::replication(format!("leader unreachable: {reason}"))
        }
    }
}

fn render_progress(
    body: &mut Map<String, Value>,
    follower: &str,
    shards: u32,
    statuses: &BTreeMap<u32, ShardReplicationStatus>,
    verbose: bool,
) {
    let syncing: Vec<&ShardReplicationStatus> = statuses
        .values()
        .filter(|s| s.phase != Phase::Bootstrapping)
        .collect();
    let bootstrapping: Vec<&ShardReplicationStatus> = statuses
        .values()
        .filter(|s| s.phase == Phase::Bootstrapping)
        .collect();
    if !syncing.is_empty() || statuses.is_empty() {
        let leader: i64 = syncing.iter().map(|s| s.leader_checkpoint).sum::<i64>()
            - i64::from(shards) * i64::from(syncing.is_empty());
        let follower_checkpoint: i64 = syncing.iter().map(|s| s.follower_checkpoint).sum::<i64>()
            - i64::from(shards) * i64::from(syncing.is_empty());
        body.insert(
            "syncing_details".into(),
            json!({"leader_checkpoint": leader, "follower_checkpoint": follower_checkpoint, "seq_no": follower_checkpoint + 1}),
        );
    }
    if !bootstrapping.is_empty() {
        body.insert("bootstrap_details".into(), bootstrap_json(&bootstrapping));
    }
    if verbose {
        let details: Vec<Value> = statuses
            .iter()
            .map(|(shard, status)| {
                let id = format!("[{follower}][{shard}]");
                if status.phase == Phase::Bootstrapping {
                    json!({"shard_id": id, "bootstrap_task_details": bootstrap_json(&[status])})
                } else {
                    json!({"shard_id": id, "syncing_task_details": {
                        "leader_checkpoint": status.leader_checkpoint,
                        "follower_checkpoint": status.follower_checkpoint,
                        "seq_no": status.follower_checkpoint + 1}})
                }
            })
            .collect();
        body.insert("shard_replication_details".into(), Value::Array(details));
    }
}

fn bootstrap_json(statuses: &[&ShardReplicationStatus]) -> Value {
    let (done, total) = statuses
        .iter()
        .filter_map(|status| status.bootstrap_bytes)
        .fold((0u64, 0u64), |(done, total), (d, t)| (done + d, total + t));
    let percent = if total == 0 {
        0.0
    } else {
        (done as f64 * 1000.0 / total as f64).round() / 10.0
    };
    json!({"bytes_total": total, "bytes_recovered": done, "bytes_percent": percent})
}
