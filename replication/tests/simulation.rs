//! Deterministic simulation of one follower shard following one leader shard.
//!
//! Both shards are real storage engines in temp folders; between them the follower task runs
//! over a simulated link in virtual time, seeded: every message is delayed, some are lost (the
//! sender then sees a timeout) and some answers arrive twice. Meanwhile the leader takes
//! writes, updates and deletes of a small id space, grows its mapping dynamically, refreshes and
//! flushes; the follower is paused and resumed once. After every step: the follower never holds
//! an operation beyond the leader's global checkpoint. After a fault-free phase: the follower
//! holds exactly the leader's documents (id, seq-no, version, source) and the same checkpoint.
//! A failing run prints its seed; `SIMULATION_SEED=n` replays one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use tandem_replication::follower::{Failure, Start};
use tandem_replication::{
    serve_changes, Command, EngineLeaderShard, Event, FollowerConfig, FollowerShardTask,
    LeaderMetadata, MetadataCell, Phase,
};
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::snapshot::SnapshotInstaller;
use tandem_storage::{EngineConfig, EngineError, Mapping, ShardEngine, ShardRole};
use tandem_wire::{CursorConfig, MetadataVersions, ShardTarget, SnapshotFile, SnapshotManifest};

const IDS: u64 = 40;
const FAULTY_STEPS: u64 = 400;
const QUIET_STEPS_MAX: u64 = 5_000;
const LEASE_ID: &str = "follower-shard-0";
const TIMEOUT_MS: u64 = 250;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn engine_config(role: ShardRole) -> EngineConfig {
    EngineConfig {
        role,
        indexing_memory_bytes: 15 * 1024 * 1024,
        translog_generation_bytes_max: 1024 * 1024,
        ..EngineConfig::primary()
    }
}

/// What travels to the follower, at a time.
enum Delivery {
    Event(Event),
}

struct Simulation {
    rng: Rng,
    now_ms: u64,
    sequence: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    deliveries: BTreeMap<u64, Delivery>,
    leader: ShardEngine,
    metadata: MetadataCell,
    follower: Option<ShardEngine>,
    installer: Option<SnapshotInstaller>,
    installed_metadata: Option<LeaderMetadata>,
    task: FollowerShardTask,
    follower_dir: std::path::PathBuf,
    loss_percent: u64,
    applied_batches: u64,
}

impl Simulation {
    fn new(seed: u64, dir: &Path) -> Simulation {
        let mapping = Arc::new(Mapping::empty());
        let leader = ShardEngine::create(
            &dir.join("leader"),
            engine_config(ShardRole::Primary),
            mapping.clone(),
        )
        .expect("leader");
        let metadata = MetadataCell::new(metadata_of(&mapping));
        let config = FollowerConfig {
            cursor: CursorConfig {
                ops_per_request_max: 7,
                bytes_per_request_max: 4096,
                requests_in_flight_max: 3,
                poll_wait_ms: 50,
            },
            chunk_bytes: 4096,
            chunks_in_flight_max: 3,
            backoff_initial_ms: 20,
            backoff_max_ms: 400,
            lease_renew_interval_ms: 1_000,
        };
        let shard = ShardTarget {
            index_uuid: "leader".into(),
            shard_id: 0,
        };
        Simulation {
            rng: Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1),
            now_ms: 0,
            sequence: 0,
            queue: BinaryHeap::new(),
            deliveries: BTreeMap::new(),
            leader,
            metadata,
            follower: None,
            installer: None,
            installed_metadata: None,
            task: FollowerShardTask::new(config, shard, Start::Bootstrap, 0),
            follower_dir: dir.join("follower"),
            loss_percent: 15,
            applied_batches: 0,
        }
    }

    fn deliver_at(&mut self, at_ms: u64, delivery: Delivery) {
        self.sequence += 1;
        self.queue.push(Reverse((at_ms, self.sequence)));
        self.deliveries.insert(self.sequence, delivery);
    }

    fn delay(&mut self) -> u64 {
        1 + self.rng.below(30)
    }

    /// A request crosses the link and its answer comes back, or it is lost and times out.
    fn round_trip(&mut self, answer: Event, failed: impl FnOnce(Failure) -> Event) {
        if self.rng.chance(self.loss_percent) {
            let at = self.now_ms + TIMEOUT_MS;
            self.deliver_at(
                at,
                Delivery::Event(failed(Failure::Retryable("timed out".into()))),
            );
            return;
        }
        let at = self.now_ms + self.delay() + self.delay();
        let duplicate = self.rng.chance(5);
        if duplicate {
            if let Event::ChangesAnswered { id, response } = &answer {
                let again = Event::ChangesAnswered {
                    id: *id,
                    response: response.clone(),
                };
                let later = at + self.delay();
                self.deliver_at(later, Delivery::Event(again));
            }
        }
        self.deliver_at(at, Delivery::Event(answer));
    }

    fn execute(&mut self, command: Command) {
        match command {
            Command::RequestManifest => {
                let _ = self
                    .leader
                    .add_retention_lease(LEASE_ID, 0, "ccr", self.now_ms);
                let manifest = self.leader.pin_snapshot().expect("pin");
                self.installed_metadata = Some(self.metadata.get());
                let wire_manifest = SnapshotManifest {
                    pin_id: manifest.pin_id,
                    local_checkpoint: manifest.local_checkpoint,
                    max_seq_no: manifest.max_seq_no,
                    files: manifest
                        .files
                        .iter()
                        .map(|f| SnapshotFile {
                            name: f.name.clone(),
                            size_bytes: f.size_bytes,
                            crc32: f.crc32,
                        })
                        .collect(),
                };
                let already_written = match &mut self.installer {
                    Some(installer) => installer.replace_manifest(manifest).expect("new pin"),
                    None => {
                        let installer = SnapshotInstaller::begin(&self.follower_dir, manifest)
                            .expect("installer");
                        self.installer = Some(installer);
                        BTreeMap::new()
                    }
                };
                self.round_trip(
                    Event::ManifestReceived {
                        manifest: wire_manifest,
                        already_written,
                    },
                    Event::ManifestFailed,
                );
            }
            Command::FetchChunk {
                pin_id,
                file,
                offset,
                len,
            } => {
                let chunk = self
                    .leader
                    .read_snapshot_chunk(pin_id, &file, offset, len as usize)
                    .expect("chunk");
                if let Some(installer) = &self.installer {
                    installer
                        .write_chunk(&file, offset, &chunk)
                        .expect("write chunk");
                }
                let written = Event::ChunkWritten {
                    file: file.clone(),
                    offset,
                    len: chunk.len() as u64,
                };
                self.round_trip(written, |failure| Event::ChunkFailed {
                    file,
                    offset,
                    failure,
                });
            }
            Command::InstallSnapshot { .. } => {
                let installer = self
                    .installer
                    .take()
                    .expect("an installer while bootstrapping");
                let metadata = self
                    .installed_metadata
                    .clone()
                    .expect("metadata at the pin");
                let mapping = mapping_of(&metadata);
                let follower = installer
                    .finish(engine_config(ShardRole::Replica), mapping)
                    .expect("install");
                let local_checkpoint = follower.seq_no_stats().local_checkpoint;
                self.follower = Some(follower);
                self.task
                    .handle(Event::SnapshotInstalled { local_checkpoint }, self.now_ms);
            }
            Command::ReleaseSnapshot { pin_id } => {
                let _ = self.leader.release_snapshot(pin_id);
            }
            Command::SendChanges { id, mut request } => {
                // The simulated link carries the long poll: the leader answers at once.
                request.poll_wait_ms = 0;
                let shard = EngineLeaderShard {
                    engine: &self.leader,
                    metadata: &self.metadata,
                };
                match serve_changes(&shard, &request) {
                    Ok(response) => {
                        let empty = response.ops.is_empty();
                        let answer = Event::ChangesAnswered { id, response };
                        if empty {
                            let at = self.now_ms + 50;
                            self.deliver_at(at, Delivery::Event(answer));
                        } else {
                            self.round_trip(answer, |failure| Event::ChangesFailed { id, failure });
                        }
                    }
                    Err(error) => {
                        let failure = if error.is_retryable() {
                            Failure::Retryable(error.reason.clone())
                        } else {
                            Failure::Permanent(error.reason.clone())
                        };
                        self.round_trip(
                            Event::ChangesFailed {
                                id,
                                failure: failure.clone(),
                            },
                            |_| Event::ChangesFailed { id, failure },
                        );
                    }
                }
            }
            Command::InstallMetadata {
                versions, mapping, ..
            } => {
                if let (Some(follower), Some(mapping)) = (&self.follower, mapping) {
                    let json: serde_json::Value =
                        serde_json::from_slice(&mapping).expect("mapping json");
                    let mapping = Mapping::from_json(&json, versions.mapping).expect("mapping");
                    if mapping.version >= follower.mapping().version {
                        follower
                            .set_mapping(Arc::new(mapping))
                            .expect("install mapping");
                    }
                }
            }
            Command::Apply {
                records,
                max_seq_no_of_updates_or_deletes,
                last_seq_no,
                ..
            } => {
                let follower = self
                    .follower
                    .as_ref()
                    .expect("a follower shard while syncing");
                let leader_global_checkpoint = self.leader.global_checkpoint();
                assert!(last_seq_no <= leader_global_checkpoint, "applied {last_seq_no} beyond the leader's global checkpoint {leader_global_checkpoint}");
                let outcome = follower
                    .apply_replica_batch(&records, max_seq_no_of_updates_or_deletes)
                    .expect("apply");
                self.applied_batches += 1;
                self.task.handle(
                    Event::Applied {
                        local_checkpoint: outcome.local_checkpoint,
                    },
                    self.now_ms,
                );
            }
            Command::RenewLease { retaining_seq_no } => {
                self.leader
                    .renew_retention_lease(LEASE_ID, retaining_seq_no, self.now_ms)
                    .expect("renew");
            }
        }
    }

    fn run_commands(&mut self) {
        while let Some(command) = self.task.poll_command() {
            self.execute(command);
        }
    }

    fn leader_writes(&mut self) {
        let count = 1 + self.rng.below(6);
        let mut requests = Vec::new();
        for _ in 0..count {
            let id = format!("doc-{}", self.rng.below(IDS));
            if self.rng.chance(20) {
                requests.push(WriteRequest::Delete(
                    tandem_storage::engine::DeleteRequest {
                        id,
                        routing: None,
                        version_check: VersionCheck::None,
                    },
                ));
                continue;
            }
            // Field names grow over time, so the mapping changes mid-stream.
            let field = format!("f{}", self.rng.below(3 + self.now_ms / 400));
            let source = serde_json::json!({ field: self.rng.below(1000), "title": format!("t{}", self.rng.below(9)) });
            requests.push(WriteRequest::Index(IndexRequest {
                id,
                source: Bytes::from(source.to_string()),
                routing: None,
                create_only: false,
                version_check: VersionCheck::None,
                auto_generated_id: false,
            }));
        }
        let mut remaining: &[WriteRequest] = &requests;
        while !remaining.is_empty() {
            let results = self.leader.write_batch(remaining).expect("leader batch");
            let processed = results.len();
            match results.last() {
                Some(Err(EngineError::MappingUpdateRequired { proposed })) => {
                    let proposed = Arc::new((**proposed).clone());
                    self.leader
                        .set_mapping(proposed.clone())
                        .expect("leader mapping");
                    self.metadata.set(metadata_of(&proposed));
                    remaining = &remaining[processed - 1..];
                }
                _ => remaining = &remaining[processed..],
            }
        }
        if self.rng.chance(10) {
            self.leader.refresh(false).expect("refresh");
        }
        if self.rng.chance(3) {
            self.leader.flush().expect("flush");
        }
    }

    fn step(&mut self, faulty: bool) {
        self.now_ms += 5;
        if faulty && self.rng.chance(60) {
            self.leader_writes();
        }
        while let Some(Reverse((at, sequence))) = self.queue.peek().copied() {
            if at > self.now_ms {
                break;
            }
            self.queue.pop();
            let Some(Delivery::Event(event)) = self.deliveries.remove(&sequence) else {
                continue;
            };
            self.task.handle(event, self.now_ms);
            self.run_commands();
        }
        if self.task.poll_timeout().is_some_and(|at| at <= self.now_ms) {
            self.task.handle(Event::Tick, self.now_ms);
        }
        self.run_commands();
        if let Some(follower) = &self.follower {
            let follower_checkpoint = follower.seq_no_stats().local_checkpoint;
            assert!(
                follower_checkpoint <= self.leader.global_checkpoint(),
                "follower ahead of the leader"
            );
        }
    }

    fn caught_up(&self) -> bool {
        let Some(follower) = &self.follower else {
            return false;
        };
        self.task.phase() == &Phase::Syncing
            && follower.seq_no_stats().local_checkpoint == self.leader.global_checkpoint()
    }
}

fn metadata_of(mapping: &Mapping) -> LeaderMetadata {
    LeaderMetadata {
        versions: MetadataVersions {
            mapping: mapping.version,
            settings: 1,
            aliases: 1,
        },
        mapping: Bytes::from(mapping.to_json().to_string()),
        settings: Bytes::from_static(b"{}"),
        aliases: Bytes::from_static(b"{}"),
    }
}

fn mapping_of(metadata: &LeaderMetadata) -> Arc<Mapping> {
    let json: serde_json::Value = serde_json::from_slice(&metadata.mapping).expect("mapping json");
    Arc::new(Mapping::from_json(&json, metadata.versions.mapping).expect("mapping"))
}

fn run(seed: u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sim = Simulation::new(seed, dir.path());
    // Some history before the follower starts, so the bootstrap copies real segments.
    for _ in 0..30 {
        sim.leader_writes();
    }
    for step in 0..FAULTY_STEPS {
        if step == FAULTY_STEPS / 2 {
            sim.task.handle(Event::Pause, sim.now_ms);
            sim.run_commands();
        }
        if step == FAULTY_STEPS / 2 + 40 {
            sim.task.handle(Event::Resume, sim.now_ms);
            sim.run_commands();
        }
        sim.step(true);
    }
    sim.loss_percent = 0;
    let mut quiet = 0;
    while !sim.caught_up() {
        quiet += 1;
        assert!(
            quiet < QUIET_STEPS_MAX,
            "seed {seed}: no convergence; phase {:?}",
            sim.task.phase()
        );
        sim.step(false);
    }
    let follower = sim.follower.as_ref().expect("follower");
    for n in 0..IDS {
        let id = format!("doc-{n}");
        let on_leader = sim.leader.get(&id).expect("leader get");
        let on_follower = follower.get(&id).expect("follower get");
        assert_eq!(
            on_leader
                .as_ref()
                .map(|d| (d.state.seq_no, d.state.version, d.source.clone())),
            on_follower
                .as_ref()
                .map(|d| (d.state.seq_no, d.state.version, d.source.clone())),
            "seed {seed}: {id} differs"
        );
    }
    eprintln!(
        "seed {seed}: {} batches applied, {} retries, mapping version {}, leader checkpoint {}",
        sim.applied_batches,
        sim.task.retries(),
        follower.mapping().version,
        sim.leader.global_checkpoint()
    );
    assert!(
        sim.applied_batches > 0,
        "seed {seed}: nothing was replicated"
    );
    assert!(
        sim.task.retries() > 0,
        "seed {seed}: the link never failed a request"
    );
    assert!(
        follower.mapping().version > 2,
        "seed {seed}: the mapping never changed mid-stream"
    );
    follower.refresh(false).expect("refresh");
    sim.leader.refresh(false).expect("refresh");
    assert_eq!(
        follower.searcher().num_docs(),
        sim.leader.searcher().num_docs(),
        "seed {seed}"
    );
}

#[test]
fn follower_converges_to_the_leader_over_a_lossy_link() {
    let seeds: Vec<u64> = match std::env::var("SIMULATION_SEED") {
        Ok(seed) => vec![seed.parse().expect("SIMULATION_SEED is a number")],
        Err(_) => vec![1, 2, 3, 0xdead_beef],
    };
    for seed in seeds {
        eprintln!("simulation seed {seed}");
        run(seed);
    }
}
