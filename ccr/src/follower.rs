//! The follower runner: one tokio task per follower shard, driving the pure
//! `FollowerShardTask` against a [`LeaderClient`] and the local shard.
//!
//! Requests (manifest, chunks, changes, lease renewals) run as their own tasks so several are
//! in flight; their outcomes come back as events. Metadata installs and batch applies run in
//! the runner itself, in the order the task emits them, on the blocking pool. The node learns
//! what it needs through [`FollowerHooks`]: mapping installs at index level, the shard once it
//! is installed, and progress for `_status`. Pause, resume and stop arrive on a bounded control
//! channel. The runner never decides replication policy; the task does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tandem_replication::follower::{Failure, Start};
use tandem_replication::{Command, Event, FollowerConfig, FollowerShardTask, Phase};
use tandem_storage::snapshot::{SnapshotFile, SnapshotInstaller, SnapshotManifest};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tandem_wire::{
    FileChunkRequest, LeaseAction, Message, MetadataVersions, RetentionLeaseRequest,
    ShardChangesRequest, ShardTarget, SnapshotRelease, SnapshotStart,
};
use tokio::sync::mpsc;

use crate::client::{CallError, LeaderClient};

/// Events waiting for the runner, from its own request tasks.
pub const EVENTS_QUEUED_MAX: usize = 1024;
/// Control messages waiting for the runner.
pub const CONTROLS_QUEUED_MAX: usize = 16;
/// Time a control request (manifest, release, lease) may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(30);
/// Extra time a long poll gets beyond its wait before it counts as lost.
const LONG_POLL_MARGIN: Duration = Duration::from_secs(10);

/// What the node provides to a follower shard's runner.
pub trait FollowerHooks: Send + Sync + 'static {
    /// The follower index's mapping, for opening an installed shard.
    fn mapping(&self) -> Arc<Mapping>;
    /// Installs newer leader metadata at index level (persisting it) and returns the mapping
    /// the shard must use from now on.
    fn install_metadata(
        &self,
        versions: MetadataVersions,
        mapping: Option<Bytes>,
        settings: Option<Bytes>,
        aliases: Option<Bytes>,
    ) -> Result<Arc<Mapping>, String>;
    /// The shard is installed and open: the node serves reads from it from now on.
    fn shard_ready(&self, shard_id: u32, engine: Arc<ShardEngine>);
    /// The task's phase changed or progressed.
    fn progress(&self, shard_id: u32, status: ShardReplicationStatus);
}

/// What `_status` shows of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardReplicationStatus {
    /// The task's phase.
    pub phase: Phase,
    /// The follower shard's local checkpoint.
    pub follower_checkpoint: i64,
    /// The highest leader global checkpoint seen.
    pub leader_checkpoint: i64,
    /// Bytes copied and total, while bootstrapping.
    pub bootstrap_bytes: Option<(u64, u64)>,
    /// Retryable failures so far (`failed_read_requests`).
    pub retries: u64,
    /// Operations received from the leader.
    pub operations_read: u64,
    /// Operations applied.
    pub operations_written: u64,
    /// Time spent applying, in milliseconds.
    pub total_write_time_millis: u64,
}

/// Where one follower shard lives and what it follows.
#[derive(Debug, Clone)]
pub struct FollowerShardSpec {
    /// The leader shard.
    pub leader: ShardTarget,
    /// This shard's folder (created by the bootstrap).
    pub shard_dir: PathBuf,
    /// The retention lease id on the leader.
    pub lease_id: String,
    /// The lease source.
    pub lease_source: String,
    /// Engine configuration of the follower shard (its role is forced to replica).
    pub engine_config: EngineConfig,
    /// Task tunables.
    pub task_config: FollowerConfig,
}

/// Control of a running follower shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// `_pause`.
    Pause,
    /// `_resume`.
    Resume,
    /// `_stop`: the runner ends.
    Stop,
}

/// A running follower shard.
pub struct FollowerRunner {
    control: mpsc::Sender<Control>,
    task: tokio::task::JoinHandle<()>,
}

impl FollowerRunner {
    /// Starts following: from a bootstrap, or from an open local shard; `start_paused` when
    /// the replication was paused before a restart (nothing is requested until a resume).
    pub fn spawn(
        client: Arc<dyn LeaderClient>,
        hooks: Arc<dyn FollowerHooks>,
        spec: FollowerShardSpec,
        existing: Option<Arc<ShardEngine>>,
        start_paused: Option<String>,
    ) -> FollowerRunner {
        let (control, control_rx) = mpsc::channel(CONTROLS_QUEUED_MAX);
        let task = tokio::spawn(run(client, hooks, spec, existing, start_paused, control_rx));
        FollowerRunner { control, task }
    }

    /// Sends a control message; returns false if the runner has ended.
    pub async fn send(&self, control: Control) -> bool {
        self.control.send(control).await.is_ok()
    }

    /// Stops the runner and waits for it.
    pub async fn stop(self) {
        let _ = self.control.send(Control::Stop).await;
        let _ = self.task.await;
    }
}

struct Runner {
    client: Arc<dyn LeaderClient>,
    hooks: Arc<dyn FollowerHooks>,
    spec: FollowerShardSpec,
    engine: Option<Arc<ShardEngine>>,
    installer: Arc<Mutex<Option<SnapshotInstaller>>>,
    manifests: Arc<Mutex<BTreeMap<u64, SnapshotManifest>>>,
    events: mpsc::Sender<Event>,
    started: Instant,
    operations_read: u64,
    operations_written: u64,
    total_write_time_millis: u64,
}

async fn run(
    client: Arc<dyn LeaderClient>,
    hooks: Arc<dyn FollowerHooks>,
    spec: FollowerShardSpec,
    existing: Option<Arc<ShardEngine>>,
    start_paused: Option<String>,
    mut control: mpsc::Receiver<Control>,
) {
    let (events, mut event_rx) = mpsc::channel(EVENTS_QUEUED_MAX);
    let start = match &existing {
        Some(engine) => Start::Sync {
            local_checkpoint: engine.seq_no_stats().local_checkpoint,
            versions: MetadataVersions::default(),
        },
        None => Start::Bootstrap,
    };
    let mut runner = Runner {
        client,
        hooks,
        engine: existing,
        installer: Arc::new(Mutex::new(None)),
        manifests: Arc::new(Mutex::new(BTreeMap::new())),
        events,
        started: Instant::now(),
        operations_read: 0,
        operations_written: 0,
        total_write_time_millis: 0,
        spec,
    };
    let mut task = FollowerShardTask::new(
        runner.spec.task_config,
        runner.spec.leader.clone(),
        start,
        0,
    );
    if let Some(reason) = start_paused {
        task.pause_with_reason(reason);
    }
    loop {
        while let Some(command) = task.poll_command() {
            if let Some(event) = runner.execute(command).await {
                task.handle(event, runner.now_ms());
            }
        }
        runner.report(&task);
        let sleep_ms = task
            .poll_timeout()
            .map_or(60_000, |at| at.saturating_sub(runner.now_ms()));
        tokio::select! {
            event = event_rx.recv() => {
                let Some(event) = event else { return };
                if let Event::ChangesAnswered { response, .. } = &event {
                    runner.operations_read += u64::from(response.ops.count);
                }
                task.handle(event, runner.now_ms());
            }
            command = control.recv() => match command {
                Some(Control::Pause) => task.handle(Event::Pause, runner.now_ms()),
                Some(Control::Resume) => task.handle(Event::Resume, runner.now_ms()),
                Some(Control::Stop) | None => return,
            },
            () = tokio::time::sleep(Duration::from_millis(sleep_ms)) => {
                task.handle(Event::Tick, runner.now_ms());
            }
        }
    }
}

impl Runner {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn report(&self, task: &FollowerShardTask) {
        let status = ShardReplicationStatus {
            phase: task.phase().clone(),
            follower_checkpoint: task.local_checkpoint(),
            leader_checkpoint: task.leader_checkpoint(),
            bootstrap_bytes: task
                .bootstrap_progress()
                .map(|p| (p.bytes_done, p.bytes_total)),
            retries: task.retries(),
            operations_read: self.operations_read,
            operations_written: self.operations_written,
            total_write_time_millis: self.total_write_time_millis,
        };
        self.hooks.progress(self.spec.leader.shard_id, status);
    }

    /// Runs one command: ordered work inline (its event, if any, is returned), requests as
    /// tasks whose outcome comes back on the event channel.
    async fn execute(&mut self, command: Command) -> Option<Event> {
        match command {
            Command::RequestManifest => self.spawn_manifest(),
            Command::FetchChunk {
                pin_id,
                file,
                offset,
                len,
            } => self.spawn_chunk(pin_id, file, offset, len),
            Command::InstallSnapshot { .. } => return Some(self.install().await),
            Command::ReleaseSnapshot { pin_id } => {
                let client = self.client.clone();
                tokio::spawn(async move {
                    let release = Message::SnapshotRelease(SnapshotRelease { pin_id });
                    let _ = client.call(release, CONTROL_TIMEOUT).await;
                });
            }
            Command::SendChanges { id, request } => self.spawn_changes(id, request),
            Command::InstallMetadata {
                versions,
                mapping,
                settings,
                aliases,
            } => {
                match self
                    .hooks
                    .install_metadata(versions, mapping, settings, aliases)
                {
                    Ok(mapping) => {
                        if let Some(engine) = &self.engine {
                            if let Err(error) = engine.set_mapping(mapping) {
                                return Some(Event::ApplyFailed(error.to_string()));
                            }
                        }
                    }
                    Err(reason) => return Some(Event::ApplyFailed(reason)),
                }
            }
            Command::Apply {
                records,
                max_seq_no_of_updates_or_deletes,
                first_seq_no,
                last_seq_no,
            } => {
                let started = Instant::now();
                let event = self.apply(records, max_seq_no_of_updates_or_deletes).await;
                tracing::debug!(
                    first_seq_no,
                    last_seq_no,
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "batch applied"
                );
                if matches!(event, Event::Applied { .. }) {
                    self.operations_written +=
                        u64::try_from(last_seq_no - first_seq_no + 1).unwrap_or(0);
                    self.total_write_time_millis +=
                        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                }
                return Some(event);
            }
            Command::RenewLease { retaining_seq_no } => {
                let client = self.client.clone();
                let request = Message::RetentionLease(RetentionLeaseRequest {
                    shard: self.spec.leader.clone(),
                    lease_id: self.spec.lease_id.clone(),
                    action: LeaseAction::Renew {
                        retaining_seq_no,
                        source: self.spec.lease_source.clone(),
                    },
                });
                let events = self.events.clone();
                tokio::spawn(async move {
                    if let Err(error) = client.call(request, CONTROL_TIMEOUT).await {
                        tracing::warn!(%error, "retention lease renewal failed");
                        let _ = events.send(Event::LeaseRenewFailed(error.failure())).await;
                    }
                });
            }
        }
        None
    }

    fn spawn_manifest(&self) {
        let (client, events, installer, manifests) = (
            self.client.clone(),
            self.events.clone(),
            self.installer.clone(),
            self.manifests.clone(),
        );
        let shard_dir = self.spec.shard_dir.clone();
        let request = Message::SnapshotStart(SnapshotStart {
            shard: self.spec.leader.clone(),
            lease_id: self.spec.lease_id.clone(),
            lease_source: self.spec.lease_source.clone(),
        });
        tokio::spawn(async move {
            let event = match client.call(request, CONTROL_TIMEOUT).await {
                Ok(Message::SnapshotManifest(manifest)) => {
                    let local = SnapshotManifest {
                        pin_id: manifest.pin_id,
                        files: manifest
                            .files
                            .iter()
                            .map(|f| SnapshotFile {
                                name: f.name.clone(),
                                size_bytes: f.size_bytes,
                                crc32: f.crc32,
                            })
                            .collect(),
                        local_checkpoint: manifest.local_checkpoint,
                        max_seq_no: manifest.max_seq_no,
                        history_uuid: String::new(),
                        mapping_version: 0,
                    };
                    manifests.lock().insert(manifest.pin_id, local.clone());
                    let prepared = tokio::task::spawn_blocking(move || {
                        let mut slot = installer.lock();
                        match slot.as_mut() {
                            Some(existing) => existing.replace_manifest(local),
                            None => SnapshotInstaller::begin(&shard_dir, local).map(|fresh| {
                                *slot = Some(fresh);
                                BTreeMap::new()
                            }),
                        }
                    })
                    .await;
                    match prepared {
                        Ok(Ok(already_written)) => Event::ManifestReceived {
                            manifest,
                            already_written,
                        },
                        Ok(Err(error)) => {
                            Event::ManifestFailed(Failure::Permanent(error.to_string()))
                        }
                        Err(error) => Event::ManifestFailed(Failure::Retryable(error.to_string())),
                    }
                }
                Ok(other) => Event::ManifestFailed(unexpected(&other)),
                Err(error) => Event::ManifestFailed(error.failure()),
            };
            let _ = events.send(event).await;
        });
    }

    fn spawn_chunk(&self, pin_id: u64, file: String, offset: u64, len: u64) {
        let (client, events, installer) = (
            self.client.clone(),
            self.events.clone(),
            self.installer.clone(),
        );
        let chunk_bytes_max = u32::try_from(len).unwrap_or(u32::MAX).max(1);
        let request = Message::FileChunkRequest(FileChunkRequest {
            pin_id,
            file_name: file.clone(),
            offset,
            length: len,
            chunk_bytes_max,
        });
        tokio::spawn(async move {
            let outcome = fetch_chunk(client, installer, request, &file, offset, len).await;
            let event = match outcome {
                Ok(()) => Event::ChunkWritten { file, offset, len },
                Err(failure) => Event::ChunkFailed {
                    file,
                    offset,
                    failure,
                },
            };
            let _ = events.send(event).await;
        });
    }

    async fn install(&mut self) -> Event {
        let Some(installer) = self.installer.lock().take() else {
            return Event::SnapshotInstallFailed("no copy to install".into());
        };
        let config = self.spec.engine_config.clone();
        let mapping = self.hooks.mapping();
        let installed =
            tokio::task::spawn_blocking(move || installer.finish(config, mapping)).await;
        match installed {
            Ok(Ok(engine)) => {
                let engine = Arc::new(engine);
                let local_checkpoint = engine.seq_no_stats().local_checkpoint;
                self.hooks
                    .shard_ready(self.spec.leader.shard_id, engine.clone());
                self.engine = Some(engine);
                Event::SnapshotInstalled { local_checkpoint }
            }
            Ok(Err(error)) => Event::SnapshotInstallFailed(error.to_string()),
            Err(error) => Event::SnapshotInstallFailed(error.to_string()),
        }
    }

    fn spawn_changes(&self, id: tandem_wire::RequestId, request: ShardChangesRequest) {
        let (client, events) = (self.client.clone(), self.events.clone());
        let timeout = Duration::from_millis(u64::from(request.poll_wait_ms)) + LONG_POLL_MARGIN;
        tokio::spawn(async move {
            let event = match client
                .call(Message::ShardChangesRequest(request), timeout)
                .await
            {
                Ok(Message::ShardChanges(response)) => Event::ChangesAnswered { id, response },
                Ok(other) => Event::ChangesFailed {
                    id,
                    failure: unexpected(&other),
                },
                Err(error) => Event::ChangesFailed {
                    id,
                    failure: error.failure(),
                },
            };
            let _ = events.send(event).await;
        });
    }

    async fn apply(&self, records: Bytes, max_seq_no_of_updates: i64) -> Event {
        let Some(engine) = self.engine.clone() else {
            return Event::ApplyFailed("no follower shard to apply to".into());
        };
        let applied = tokio::task::spawn_blocking(move || {
            engine.apply_replica_batch(&records, max_seq_no_of_updates)
        })
        .await;
        match applied {
            Ok(Ok(outcome)) => Event::Applied {
                local_checkpoint: outcome.local_checkpoint,
            },
            Ok(Err(error)) => Event::ApplyFailed(error.to_string()),
            Err(error) => Event::ApplyFailed(error.to_string()),
        }
    }
}

async fn fetch_chunk(
    client: Arc<dyn LeaderClient>,
    installer: Arc<Mutex<Option<SnapshotInstaller>>>,
    request: Message,
    file: &str,
    offset: u64,
    len: u64,
) -> Result<(), Failure> {
    let messages = client
        .call_stream(request, CONTROL_TIMEOUT)
        .await
        .map_err(|error: CallError| error.failure())?;
    let mut expected = offset;
    let mut chunks = Vec::with_capacity(messages.len());
    for message in messages {
        let Message::FileChunk(chunk) = message else {
            return Err(unexpected(&message));
        };
        if chunk.offset != expected || crc32fast::hash(&chunk.data) != chunk.crc32 {
            return Err(Failure::Retryable(format!(
                "damaged chunk of [{file}] at {}",
                chunk.offset
            )));
        }
        expected += chunk.data.len() as u64;
        chunks.push(chunk);
    }
    if expected != offset + len {
        return Err(Failure::Retryable(format!(
            "short answer for [{file}] at {offset}"
        )));
    }
    let file = file.to_string();
    tokio::task::spawn_blocking(move || {
        let slot = installer.lock();
        let Some(installer) = slot.as_ref() else {
            return Err(Failure::Retryable("the copy was restarted".into()));
        };
        for chunk in chunks {
            installer
                .write_chunk(&file, chunk.offset, &chunk.data)
                .map_err(|error| Failure::Retryable(error.to_string()))?;
        }
        Ok(())
    })
    .await
    .map_err(|error| Failure::Retryable(error.to_string()))?
}

fn unexpected(message: &Message) -> Failure {
    Failure::Retryable(format!("unexpected answer [{}]", message.kind().name()))
}
