//! One follower shard's replication task, as a state machine.
//!
//! Call order (as quinn-proto's `Connection`): feed inputs with [`FollowerShardTask::handle`],
//! then drain [`FollowerShardTask::poll_command`] and execute each command in the order given
//! (requests may run concurrently; `Apply` and `InstallMetadata` must run in order), then ask
//! [`FollowerShardTask::poll_timeout`] when to call `handle(Event::Tick)` next. Time is
//! `now_ms`, a monotonic millisecond count from the caller; nothing here reads a clock.
//!
//! Phases: BOOTSTRAPPING copies the leader's pinned commit in chunks (several in flight,
//! resumable after a pause), SYNCING reads operations with wire's `ChangesCursor` and hands
//! them out strictly in seq-no order, PAUSED waits for a resume, FAILED only for a stop. A
//! retryable failure backs off and asks again; a permanent one (history gone, leader index
//! deleted) pauses with an `AutoPaused: ` reason and never skips an operation.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use tandem_wire::{
    ChangesCursor, CursorConfig, CursorError, MetadataVersions, RequestId, ShardChangesRequest,
    ShardChangesResponse, ShardTarget, SnapshotManifest,
};

/// Reason shown for a user's pause (OpenSearch's text).
pub const USER_PAUSE_REASON: &str = "User initiated";
/// Prefix of the reason of a pause the task decided itself (OpenSearch's text).
pub const AUTO_PAUSE_PREFIX: &str = "AutoPaused: ";

/// Tunables of one follower shard task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowerConfig {
    /// How changes are read.
    pub cursor: CursorConfig,
    /// Bytes asked for per file chunk during bootstrap.
    pub chunk_bytes: u64,
    /// Chunk requests in flight during bootstrap.
    pub chunks_in_flight_max: usize,
    /// First back-off after a retryable failure.
    pub backoff_initial_ms: u64,
    /// Longest back-off.
    pub backoff_max_ms: u64,
    /// How often the retention lease on the leader is renewed (well inside its period).
    pub lease_renew_interval_ms: u64,
}

impl Default for FollowerConfig {
    fn default() -> Self {
        FollowerConfig {
            cursor: CursorConfig::default(),
            chunk_bytes: 8 * 1024 * 1024,
            chunks_in_flight_max: 4,
            backoff_initial_ms: 100,
            backoff_max_ms: 30_000,
            lease_renew_interval_ms: 30_000,
        }
    }
}

/// Where a task starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// No local shard yet: bootstrap from a leader commit.
    Bootstrap,
    /// A local shard whose operations up to `local_checkpoint` are applied.
    Sync {
        /// The follower shard's local checkpoint.
        local_checkpoint: i64,
        /// The metadata versions the follower index has.
        versions: MetadataVersions,
    },
}

/// The task's phase, as `_status` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Copying the leader's commit.
    Bootstrapping,
    /// Reading and applying operations.
    Syncing,
    /// Stopped until resumed; the reason says who paused it and why.
    Paused {
        /// `User initiated` or `AutoPaused: ...`.
        reason: String,
    },
    /// The bootstrap cannot complete; the index can only be stopped.
    Failed {
        /// Why.
        reason: String,
    },
}

/// How a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth asking again after a back-off (lost connection, timeout, overloaded leader).
    Retryable(String),
    /// Asking again cannot help (history gone, leader index deleted or closed).
    Permanent(String),
}

/// Inputs to the task.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The leader pinned a commit: here are its files, and how many bytes of each the follower
    /// already holds from an earlier, interrupted copy.
    ManifestReceived {
        /// The pinned commit.
        manifest: SnapshotManifest,
        /// Bytes already written per file name.
        already_written: BTreeMap<String, u64>,
    },
    /// The manifest request failed.
    ManifestFailed(Failure),
    /// A chunk was received, verified and written.
    ChunkWritten {
        /// File name.
        file: String,
        /// Offset of the chunk.
        offset: u64,
        /// Its length.
        len: u64,
    },
    /// A chunk request failed.
    ChunkFailed {
        /// File name.
        file: String,
        /// Offset asked for.
        offset: u64,
        /// Why.
        failure: Failure,
    },
    /// Every file was verified and the shard opened at this checkpoint.
    SnapshotInstalled {
        /// The installed commit's local checkpoint.
        local_checkpoint: i64,
    },
    /// Installing the copied files failed (damaged files).
    SnapshotInstallFailed(String),
    /// An answer to a changes request.
    ChangesAnswered {
        /// The request.
        id: RequestId,
        /// The answer.
        response: ShardChangesResponse,
    },
    /// A changes request failed.
    ChangesFailed {
        /// The request.
        id: RequestId,
        /// Why.
        failure: Failure,
    },
    /// A batch was applied; the follower shard's local checkpoint is now this.
    Applied {
        /// Local checkpoint after the batch.
        local_checkpoint: i64,
    },
    /// Applying failed in a way a retry cannot fix (a mapping the follower cannot install).
    ApplyFailed(String),
    /// Renewing the retention lease failed. A lease the leader no longer has (it expired
    /// while the leader was out of reach) means history may already be gone: the task
    /// pauses, as OpenSearch's does, rather than read on without a guarantee.
    LeaseRenewFailed(Failure),
    /// Time passed.
    Tick,
    /// `_pause`.
    Pause,
    /// `_resume`.
    Resume,
}

/// Work for the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Take a retention lease on the leader shard, pin a commit and send its manifest.
    RequestManifest,
    /// Fetch `len` bytes of `file` from `offset` of pin `pin_id`, verify and write them.
    FetchChunk {
        /// The pin.
        pin_id: u64,
        /// File name.
        file: String,
        /// Offset.
        offset: u64,
        /// Length.
        len: u64,
    },
    /// Verify every copied file against the manifest and open the shard.
    InstallSnapshot {
        /// The manifest copied.
        manifest: SnapshotManifest,
    },
    /// Let the leader drop the pin.
    ReleaseSnapshot {
        /// The pin.
        pin_id: u64,
    },
    /// Send a changes request.
    SendChanges {
        /// Pass it back with the outcome.
        id: RequestId,
        /// The request.
        request: ShardChangesRequest,
    },
    /// Install newer index metadata before applying what follows.
    InstallMetadata {
        /// The versions after the install.
        versions: MetadataVersions,
        /// New mapping JSON, if newer.
        mapping: Option<Bytes>,
        /// New settings JSON, if newer.
        settings: Option<Bytes>,
        /// New aliases JSON, if newer.
        aliases: Option<Bytes>,
    },
    /// Apply these operations (in order with other `Apply` commands).
    Apply {
        /// The records to apply.
        records: Bytes,
        /// The leader's max seq-no of updates and deletes, read with them.
        max_seq_no_of_updates_or_deletes: i64,
        /// First seq-no of the batch.
        first_seq_no: i64,
        /// Last seq-no of the batch.
        last_seq_no: i64,
    },
    /// Renew the retention lease on the leader to keep history from this seq-no on.
    RenewLease {
        /// The first seq-no the follower still needs.
        retaining_seq_no: i64,
    },
}

/// Bootstrap progress, for `_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BootstrapProgress {
    /// Files in the commit.
    pub files_total: usize,
    /// Bytes in the commit.
    pub bytes_total: u64,
    /// Bytes copied so far.
    pub bytes_done: u64,
}

#[derive(Debug)]
struct Bootstrap {
    manifest: Option<SnapshotManifest>,
    pending: VecDeque<(String, u64, u64)>,
    in_flight: usize,
    progress: BootstrapProgress,
    manifest_requested: bool,
    installing: bool,
}

/// One follower shard's task.
#[derive(Debug)]
pub struct FollowerShardTask {
    config: FollowerConfig,
    shard: ShardTarget,
    phase: Phase,
    bootstrap: Option<Bootstrap>,
    cursor: Option<ChangesCursor>,
    local_checkpoint: i64,
    leader_checkpoint: i64,
    versions: MetadataVersions,
    commands: VecDeque<Command>,
    retry_at_ms: Option<u64>,
    backoff_ms: u64,
    lease_renew_at_ms: u64,
    retries: u64,
    now_ms: u64,
}

impl FollowerShardTask {
    /// A task for `shard`, starting as `start` at time `now_ms`.
    pub fn new(config: FollowerConfig, shard: ShardTarget, start: Start, now_ms: u64) -> Self {
        let mut task = FollowerShardTask {
            config,
            shard,
            phase: Phase::Bootstrapping,
            bootstrap: None,
            cursor: None,
            local_checkpoint: -1,
            leader_checkpoint: -1,
            versions: MetadataVersions::default(),
            commands: VecDeque::new(),
            retry_at_ms: None,
            backoff_ms: config.backoff_initial_ms,
            lease_renew_at_ms: now_ms + config.lease_renew_interval_ms,
            retries: 0,
            now_ms,
        };
        match start {
            Start::Bootstrap => task.begin_bootstrap(),
            Start::Sync {
                local_checkpoint,
                versions,
            } => {
                task.local_checkpoint = local_checkpoint;
                task.versions = versions;
                task.begin_sync();
            }
        }
        task
    }

    /// The phase now.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The follower shard's local checkpoint as last reported.
    pub fn local_checkpoint(&self) -> i64 {
        self.local_checkpoint
    }

    /// The highest leader global checkpoint seen.
    pub fn leader_checkpoint(&self) -> i64 {
        self.leader_checkpoint
    }

    /// Bootstrap progress, while bootstrapping.
    pub fn bootstrap_progress(&self) -> Option<BootstrapProgress> {
        self.bootstrap.as_ref().map(|bootstrap| bootstrap.progress)
    }

    /// Retryable failures seen so far (for `follower_stats`).
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// The metadata versions the follower index has.
    pub fn versions(&self) -> MetadataVersions {
        self.versions
    }

    /// Pauses with `reason` (a task restored paused after a restart).
    pub fn pause_with_reason(&mut self, reason: String) {
        self.pause(reason);
    }

    /// The next command to execute.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// When the task next wants a `Tick`.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.phase {
            Phase::Paused { .. } | Phase::Failed { .. } => None,
            _ => Some(match self.retry_at_ms {
                Some(retry_at) => retry_at.min(self.lease_renew_at_ms),
                None => self.lease_renew_at_ms,
            }),
        }
    }

    /// Feeds one input at time `now_ms`.
    pub fn handle(&mut self, event: Event, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        match event {
            Event::Pause => self.pause(USER_PAUSE_REASON.to_string()),
            Event::Resume => self.resume(),
            Event::Tick => self.tick(),
            event if matches!(self.phase, Phase::Paused { .. } | Phase::Failed { .. }) => {
                // Answers to requests sent before a pause are dropped: a resume asks again
                // from the checkpoint, so nothing is lost and nothing applied twice.
                if let Event::Applied { local_checkpoint } = event {
                    self.local_checkpoint = self.local_checkpoint.max(local_checkpoint);
                }
            }
            Event::ManifestReceived {
                manifest,
                already_written,
            } => self.manifest_received(manifest, &already_written),
            Event::ManifestFailed(failure) => self.bootstrap_failed(failure),
            Event::ChunkFailed {
                file,
                offset,
                failure: Failure::Retryable(_),
            } => self.chunk_failed(file, offset),
            Event::ChunkFailed { failure, .. } => self.bootstrap_failed(failure),
            Event::ChunkWritten { len, .. } => self.chunk_written(len),
            Event::SnapshotInstalled { local_checkpoint } => self.installed(local_checkpoint),
            Event::SnapshotInstallFailed(reason) => {
                self.phase = Phase::Failed { reason };
                self.bootstrap = None;
            }
            Event::ChangesAnswered { id, response } => self.answered(id, response),
            Event::ChangesFailed { id, failure } => self.changes_failed(id, failure),
            Event::Applied { local_checkpoint } => {
                self.local_checkpoint = self.local_checkpoint.max(local_checkpoint);
            }
            Event::ApplyFailed(reason) => self.pause(format!("{AUTO_PAUSE_PREFIX}{reason}")),
            // A renewal that did not get through is tried again at the next interval.
            Event::LeaseRenewFailed(Failure::Retryable(_)) => {}
            Event::LeaseRenewFailed(Failure::Permanent(reason)) => {
                self.pause(format!("{AUTO_PAUSE_PREFIX}{reason}"))
            }
        }
        self.plan();
    }

    fn begin_bootstrap(&mut self) {
        self.phase = Phase::Bootstrapping;
        self.bootstrap = Some(Bootstrap {
            manifest: None,
            pending: VecDeque::new(),
            in_flight: 0,
            progress: BootstrapProgress::default(),
            manifest_requested: false,
            installing: false,
        });
        self.plan();
    }

    fn begin_sync(&mut self) {
        self.phase = Phase::Syncing;
        let cursor = ChangesCursor::new(
            self.config.cursor,
            self.local_checkpoint,
            self.leader_checkpoint.max(-1),
        );
        match cursor {
            Ok(cursor) => self.cursor = Some(cursor),
            Err(error) => self.pause(format!("{AUTO_PAUSE_PREFIX}{error}")),
        }
        self.plan();
    }

    fn pause(&mut self, reason: String) {
        if matches!(self.phase, Phase::Failed { .. }) {
            return;
        }
        if let Some(bootstrap) = &mut self.bootstrap {
            // Chunks in flight are abandoned; what was written stays and is resumed.
            bootstrap.in_flight = 0;
            bootstrap.pending.clear();
            bootstrap.manifest_requested = false;
            bootstrap.installing = false;
            if let Some(manifest) = bootstrap.manifest.take() {
                self.commands.push_back(Command::ReleaseSnapshot {
                    pin_id: manifest.pin_id,
                });
            }
        }
        self.cursor = None;
        self.retry_at_ms = None;
        // Requests not yet sent are dropped; work already received (metadata, batches) and pin
        // releases still run, so nothing is lost and no pin leaks.
        self.commands.retain(|command| {
            matches!(
                command,
                Command::Apply { .. }
                    | Command::InstallMetadata { .. }
                    | Command::ReleaseSnapshot { .. }
            )
        });
        self.phase = Phase::Paused { reason };
    }

    fn resume(&mut self) {
        if !matches!(self.phase, Phase::Paused { .. }) {
            return;
        }
        self.backoff_ms = self.config.backoff_initial_ms;
        if self.bootstrap.is_some() {
            self.begin_bootstrap();
        } else {
            // The pause may have lasted a while: tell the leader at once what is still needed.
            self.renew_lease_now();
            self.begin_sync();
        }
    }

    fn renew_lease_now(&mut self) {
        self.lease_renew_at_ms = self.now_ms + self.config.lease_renew_interval_ms;
        self.commands.push_back(Command::RenewLease {
            retaining_seq_no: self.local_checkpoint + 1,
        });
    }

    fn tick(&mut self) {
        if matches!(self.phase, Phase::Paused { .. } | Phase::Failed { .. }) {
            return;
        }
        if self
            .retry_at_ms
            .is_some_and(|retry_at| self.now_ms >= retry_at)
        {
            self.retry_at_ms = None;
        }
        if self.now_ms >= self.lease_renew_at_ms {
            if self.phase == Phase::Syncing {
                self.renew_lease_now();
            } else {
                self.lease_renew_at_ms = self.now_ms + self.config.lease_renew_interval_ms;
            }
        }
        self.plan();
    }

    fn manifest_received(
        &mut self,
        manifest: SnapshotManifest,
        already_written: &BTreeMap<String, u64>,
    ) {
        let chunk_bytes = self.config.chunk_bytes.max(1);
        let Some(bootstrap) = &mut self.bootstrap else {
            return;
        };
        bootstrap.manifest_requested = false;
        bootstrap.progress = BootstrapProgress {
            files_total: manifest.files.len(),
            bytes_total: manifest.total_bytes(),
            bytes_done: 0,
        };
        for file in &manifest.files {
            let written = already_written
                .get(&file.name)
                .copied()
                .unwrap_or(0)
                .min(file.size_bytes);
            bootstrap.progress.bytes_done += written;
            let mut offset = written;
            while offset < file.size_bytes {
                let len = chunk_bytes.min(file.size_bytes - offset);
                bootstrap
                    .pending
                    .push_back((file.name.clone(), offset, len));
                offset += len;
            }
        }
        bootstrap.manifest = Some(manifest);
        self.backoff_ms = self.config.backoff_initial_ms;
    }

    fn chunk_written(&mut self, len: u64) {
        if let Some(bootstrap) = &mut self.bootstrap {
            bootstrap.in_flight = bootstrap.in_flight.saturating_sub(1);
            bootstrap.progress.bytes_done += len;
        }
    }

    /// A lost chunk is asked again (after a back-off); the pin and the rest of the copy stay.
    fn chunk_failed(&mut self, file: String, offset: u64) {
        let chunk_bytes = self.config.chunk_bytes.max(1);
        let Some(bootstrap) = &mut self.bootstrap else {
            return;
        };
        let Some(size_bytes) = bootstrap.manifest.as_ref().and_then(|manifest| {
            manifest
                .files
                .iter()
                .find(|candidate| candidate.name == file)
                .map(|candidate| candidate.size_bytes)
        }) else {
            return;
        };
        bootstrap.in_flight = bootstrap.in_flight.saturating_sub(1);
        let len = chunk_bytes.min(size_bytes.saturating_sub(offset));
        bootstrap.pending.push_front((file, offset, len));
        self.retries += 1;
        self.back_off();
    }

    fn bootstrap_failed(&mut self, failure: Failure) {
        match failure {
            Failure::Retryable(_) => {
                self.retries += 1;
                // Start the copy over from a fresh pin after the back-off; written bytes stay.
                if let Some(bootstrap) = &mut self.bootstrap {
                    bootstrap.pending.clear();
                    bootstrap.in_flight = 0;
                    bootstrap.manifest_requested = false;
                    if let Some(manifest) = bootstrap.manifest.take() {
                        self.commands.push_back(Command::ReleaseSnapshot {
                            pin_id: manifest.pin_id,
                        });
                    }
                }
                self.back_off();
            }
            Failure::Permanent(reason) => {
                self.phase = Phase::Failed { reason };
            }
        }
    }

    fn installed(&mut self, local_checkpoint: i64) {
        if let Some(manifest) = self
            .bootstrap
            .take()
            .and_then(|bootstrap| bootstrap.manifest)
        {
            self.commands.push_back(Command::ReleaseSnapshot {
                pin_id: manifest.pin_id,
            });
            self.leader_checkpoint = self.leader_checkpoint.max(manifest.local_checkpoint);
        }
        self.local_checkpoint = local_checkpoint;
        self.renew_lease_now();
        self.begin_sync();
    }

    fn answered(&mut self, id: RequestId, response: ShardChangesResponse) {
        let Some(cursor) = &mut self.cursor else {
            return;
        };
        match cursor.handle_response(id, response) {
            Ok(()) => {}
            // A duplicate, or an answer to a request from before a pause: nothing to do.
            Err(CursorError::UnknownRequest(_)) => return,
            Err(_) => {
                // A refused answer: its range is asked again, after backing off from a leader
                // that answers badly.
                self.retries += 1;
                self.back_off();
                return;
            }
        }
        self.backoff_ms = self.config.backoff_initial_ms;
        self.leader_checkpoint = self
            .leader_checkpoint
            .max(cursor.leader_global_checkpoint());
        let mut ordered = Vec::new();
        while let Some(ready) = cursor.poll_ready() {
            let newer = ready.versions.mapping > self.versions.mapping
                || ready.versions.settings > self.versions.settings
                || ready.versions.aliases > self.versions.aliases;
            if newer {
                ordered.push(Command::InstallMetadata {
                    versions: ready.versions,
                    mapping: ready.mapping.clone(),
                    settings: ready.settings.clone(),
                    aliases: ready.aliases.clone(),
                });
                self.versions = ready.versions;
            }
            if !ready.ops.is_empty() {
                ordered.push(Command::Apply {
                    records: ready.ops.records,
                    max_seq_no_of_updates_or_deletes: ready.max_seq_no_of_updates_or_deletes,
                    first_seq_no: ready.ops.first_seq_no,
                    last_seq_no: ready.ops.last_seq_no,
                });
            }
        }
        // The next reads go out before the applies: the leader serves them while the
        // follower applies, instead of the follower asking only once an apply is done.
        self.plan();
        self.commands.extend(ordered);
    }

    fn changes_failed(&mut self, id: RequestId, failure: Failure) {
        let Some(cursor) = &mut self.cursor else {
            return;
        };
        if cursor.handle_failure(id).is_err() {
            return;
        }
        match failure {
            Failure::Retryable(_) => {
                self.retries += 1;
                self.back_off();
            }
            Failure::Permanent(reason) => self.pause(format!("{AUTO_PAUSE_PREFIX}{reason}")),
        }
    }

    fn back_off(&mut self) {
        self.retry_at_ms = Some(self.now_ms + self.backoff_ms);
        self.backoff_ms = (self.backoff_ms * 2).min(self.config.backoff_max_ms);
    }

    /// Emits the requests the current state allows.
    fn plan(&mut self) {
        if self.retry_at_ms.is_some() {
            return;
        }
        match self.phase {
            Phase::Bootstrapping => self.plan_bootstrap(),
            Phase::Syncing => self.plan_sync(),
            Phase::Paused { .. } | Phase::Failed { .. } => {}
        }
    }

    fn plan_bootstrap(&mut self) {
        let chunks_in_flight_max = self.config.chunks_in_flight_max.max(1);
        let Some(bootstrap) = &mut self.bootstrap else {
            return;
        };
        let Some(manifest) = &bootstrap.manifest else {
            if !bootstrap.manifest_requested {
                bootstrap.manifest_requested = true;
                self.commands.push_back(Command::RequestManifest);
            }
            return;
        };
        while bootstrap.in_flight < chunks_in_flight_max {
            let Some((file, offset, len)) = bootstrap.pending.pop_front() else {
                break;
            };
            bootstrap.in_flight += 1;
            self.commands.push_back(Command::FetchChunk {
                pin_id: manifest.pin_id,
                file,
                offset,
                len,
            });
        }
        if bootstrap.pending.is_empty() && bootstrap.in_flight == 0 && !bootstrap.installing {
            bootstrap.installing = true;
            self.commands.push_back(Command::InstallSnapshot {
                manifest: manifest.clone(),
            });
        }
    }

    fn plan_sync(&mut self) {
        let Some(cursor) = &mut self.cursor else {
            return;
        };
        while let Some(planned) = cursor.poll_request() {
            self.commands.push_back(Command::SendChanges {
                id: planned.id,
                request: planned.to_message(self.shard.clone(), self.versions),
            });
        }
    }
}

#[cfg(test)]
mod tests;
