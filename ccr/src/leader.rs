//! The leader side of the transport: answering followers.
//!
//! One [`LeaderService`] per node serves every request a follower sends: handshake, cluster
//! info, index listing and metadata, shard changes (long polls on the blocking pool), snapshot
//! pins with their file chunks, and retention leases. It refuses to lead when the node is in
//! follower-cluster mode, and refuses to serve a follower index (no chaining), on the wire as
//! well as on the follower's REST side. It never changes an index except its retention leases
//! and snapshot pins.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tandem_replication::{serve_changes, EngineLeaderShard, MetadataCell};
use tandem_storage::engine::EngineError;
use tandem_storage::leases::LeaseError;
use tandem_storage::ShardEngine;
use tandem_transport::{response_stream, BoxFuture, PeerInfo, RequestHandler, Response};
use tandem_wire::limits::FILE_CHUNK_BYTES_MAX;
use tandem_wire::{
    negotiate_version, Ack, ErrorKind, FileChunk, FileChunkRequest, HandshakeAck, IndexList,
    IndexMetadata, IndexState, IndexSummary, LeaseAction, Message, NodeIdentity, RemoteClusterInfo,
    RemoteError, RetentionLeaseRequest, ShardTarget, SnapshotFile, SnapshotManifest, SnapshotStart,
    VersionedJson, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN,
};

/// One local index as followers see it.
#[derive(Debug, Clone)]
pub struct LeaderIndex {
    /// Index name.
    pub name: String,
    /// Index uuid (shard-level requests name the index by uuid).
    pub uuid: String,
    /// Its shards, by shard id.
    pub shards: Vec<Arc<ShardEngine>>,
    /// Its mapping, settings and aliases with their versions.
    pub metadata: Arc<MetadataCell>,
    /// Whether it is itself a follower index (then it cannot be followed).
    pub is_follower_index: bool,
    /// Whether it is closed.
    pub closed: bool,
    /// Whether it is hidden or dot-prefixed.
    pub is_hidden: bool,
}

/// What the leader service needs from the node.
pub trait LocalCluster: Send + Sync + 'static {
    /// This node's identity.
    fn identity(&self) -> NodeIdentity;
    /// Whether the node runs in follower-cluster mode (it then leads no one).
    fn is_follower_cluster(&self) -> bool;
    /// The node's software version string.
    fn software_version(&self) -> String;
    /// An index by name.
    fn index_by_name(&self, name: &str) -> Option<LeaderIndex>;
    /// An index by uuid.
    fn index_by_uuid(&self, uuid: &str) -> Option<LeaderIndex>;
    /// Indices whose names match an OpenSearch pattern (`*` wildcards, comma lists).
    fn indices_matching(&self, pattern: &str) -> Vec<LeaderIndex>;
    /// How many indices the node holds.
    fn index_count(&self) -> usize;
}

/// What one leader index served to followers since the node started (`leader_stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaderIndexStats {
    /// Operations sent.
    pub operations_read: u64,
    /// Bytes of operation records sent.
    pub bytes_read: u64,
    /// Time spent reading them from the translog, milliseconds.
    pub total_read_time_translog_millis: u64,
    /// Translog size of the index's shards last seen, bytes.
    pub translog_size_bytes: u64,
}

/// Counters per leader index name, shared between the service and whoever renders them.
pub type LeaderStats =
    Arc<parking_lot::Mutex<std::collections::BTreeMap<String, LeaderIndexStats>>>;

/// Shard `target.shard_id` of `index`.
fn shard_of(index: &LeaderIndex, target: &ShardTarget) -> Result<Arc<ShardEngine>, RemoteError> {
    index
        .shards
        .get(target.shard_id as usize)
        .cloned()
        .ok_or_else(|| {
            RemoteError::new(
                ErrorKind::ShardNotAvailable,
                format!("[{}][{}] no such shard", index.name, target.shard_id),
            )
        })
}

/// Answers followers' requests from the node's local shards.
pub struct LeaderService<C: LocalCluster> {
    cluster: Arc<C>,
    stats: LeaderStats,
}

impl<C: LocalCluster> LeaderService<C> {
    /// A service over `cluster`.
    pub fn new(cluster: Arc<C>) -> Self {
        LeaderService {
            cluster,
            stats: LeaderStats::default(),
        }
    }

    /// The counters of what this service served, per leader index.
    pub fn stats(&self) -> LeaderStats {
        self.stats.clone()
    }

    async fn answer(&self, peer: &PeerInfo, request: Message) -> Result<Response, RemoteError> {
        let message = match request {
            Message::Handshake(hello) => {
                let protocol_version =
                    negotiate_version(&hello, PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX).map_err(
                        |error| RemoteError::new(ErrorKind::VersionMismatch, error.to_string()),
                    )?;
                tracing::info!(peer = %peer.remote_addr, cluster = %hello.identity.cluster_name, "follower connected");
                Message::HandshakeAck(HandshakeAck {
                    protocol_version,
                    identity: self.cluster.identity(),
                })
            }
            Message::RemoteClusterInfoRequest(_) => Message::RemoteClusterInfo(RemoteClusterInfo {
                identity: self.cluster.identity(),
                software_version: self.cluster.software_version(),
                node_count: 1,
                index_count: u32::try_from(self.cluster.index_count()).unwrap_or(u32::MAX),
            }),
            Message::ListIndicesRequest(request) => {
                self.refuse_if_follower_cluster()?;
                let indices = self
                    .cluster
                    .indices_matching(&request.pattern)
                    .into_iter()
                    .map(|index| IndexSummary {
                        name: index.name,
                        uuid: index.uuid,
                        state: state_of(index.closed),
                        is_follower_index: index.is_follower_index,
                        is_hidden: index.is_hidden,
                    })
                    .collect();
                Message::IndexList(IndexList { indices })
            }
            Message::IndexMetadataRequest(request) => {
                self.refuse_if_follower_cluster()?;
                let index = self
                    .cluster
                    .index_by_name(&request.index_name)
                    .ok_or_else(|| RemoteError::index_not_found(&request.index_name))?;
                Message::IndexMetadata(metadata_of(&index))
            }
            Message::ShardChangesRequest(request) => {
                let index = self.leader_index(&request.shard)?;
                let shard = shard_of(&index, &request.shard)?;
                let name = index.name.clone();
                let stats = self.stats.clone();
                let answer = tokio::task::spawn_blocking(move || {
                    let leader = EngineLeaderShard {
                        engine: &shard,
                        metadata: &index.metadata,
                    };
                    let started = std::time::Instant::now();
                    let answer = serve_changes(&leader, &request);
                    if let Ok(answer) = &answer {
                        let mut stats = stats.lock();
                        let entry = stats.entry(name).or_default();
                        entry.operations_read += u64::from(answer.ops.count);
                        entry.bytes_read += answer.ops.records.len() as u64;
                        if answer.ops.count > 0 {
                            entry.total_read_time_translog_millis +=
                                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                        }
                        entry.translog_size_bytes = index
                            .shards
                            .iter()
                            .map(|shard| shard.translog_stats().total_bytes)
                            .sum();
                    }
                    answer
                })
                .await
                .map_err(internal)??;
                Message::ShardChanges(answer)
            }
            Message::SnapshotStart(start) => Message::SnapshotManifest(self.pin(start).await?),
            Message::FileChunkRequest(request) => return self.chunks(request),
            Message::SnapshotRelease(release) => {
                let shard = self.shard_with_pin(release.pin_id)?;
                tokio::task::spawn_blocking(move || shard.release_snapshot(release.pin_id))
                    .await
                    .map_err(internal)?
                    .map_err(|error| {
                        RemoteError::new(ErrorKind::ResourceNotFound, error.to_string())
                    })?;
                Message::Ack(Ack)
            }
            Message::RetentionLease(request) => {
                self.lease(request).await?;
                Message::Ack(Ack)
            }
            other => {
                return Err(RemoteError::new(
                    ErrorKind::InvalidRequest,
                    format!("[{}] is not a request", other.kind().name()),
                ))
            }
        };
        Ok(Response::Message(message))
    }

    fn refuse_if_follower_cluster(&self) -> Result<(), RemoteError> {
        if self.cluster.is_follower_cluster() {
            return Err(RemoteError::new(
                ErrorKind::FollowerRefusesToLead,
                "this cluster follows another cluster and cannot be followed",
            ));
        }
        Ok(())
    }

    fn leader_index(&self, target: &ShardTarget) -> Result<LeaderIndex, RemoteError> {
        self.refuse_if_follower_cluster()?;
        let index = self
            .cluster
            .index_by_uuid(&target.index_uuid)
            .ok_or_else(|| RemoteError::index_not_found(&target.index_uuid))?;
        if index.is_follower_index {
            return Err(RemoteError::chaining_refused(&index.name));
        }
        if index.closed {
            return Err(RemoteError::index_closed());
        }
        Ok(index)
    }

    fn leader_shard(&self, target: &ShardTarget) -> Result<Arc<ShardEngine>, RemoteError> {
        shard_of(&self.leader_index(target)?, target)
    }

    async fn pin(&self, start: SnapshotStart) -> Result<SnapshotManifest, RemoteError> {
        let shard = self.leader_shard(&start.shard)?;
        tokio::task::spawn_blocking(move || {
            // The lease comes first: history after the pinned commit must survive the copy.
            match shard.add_retention_lease(&start.lease_id, 0, &start.lease_source, now_millis()) {
                Ok(_) | Err(EngineError::Lease(LeaseError::AlreadyExists(_))) => {}
                Err(error) => return Err(internal(error)),
            }
            let manifest = shard.pin_snapshot().map_err(internal)?;
            let renewed = shard.renew_retention_lease(
                &start.lease_id,
                manifest.local_checkpoint + 1,
                now_millis(),
            );
            if let Err(error) = renewed {
                tracing::debug!(%error, "lease already retains less history than the pin");
            }
            Ok(SnapshotManifest {
                pin_id: manifest.pin_id,
                local_checkpoint: manifest.local_checkpoint,
                max_seq_no: manifest.max_seq_no,
                files: manifest
                    .files
                    .into_iter()
                    .map(|file| SnapshotFile {
                        name: file.name,
                        size_bytes: file.size_bytes,
                        crc32: file.crc32,
                    })
                    .collect(),
            })
        })
        .await
        .map_err(internal)?
    }

    /// The shard holding a pin: pin ids are unique across the node's shards.
    fn shard_with_pin(&self, pin_id: u64) -> Result<Arc<ShardEngine>, RemoteError> {
        self.cluster
            .indices_matching("*")
            .into_iter()
            .flat_map(|index| index.shards)
            .find(|shard| shard.snapshot_pins().contains(&pin_id))
            .ok_or_else(|| {
                RemoteError::new(
                    ErrorKind::ResourceNotFound,
                    format!("snapshot pin [{pin_id}] not found"),
                )
            })
    }

    fn chunks(&self, request: FileChunkRequest) -> Result<Response, RemoteError> {
        let shard = self.shard_with_pin(request.pin_id)?;
        let (sender, response) = response_stream();
        tokio::spawn(async move {
            let chunk_bytes = u64::from(request.chunk_bytes_max.clamp(1, FILE_CHUNK_BYTES_MAX));
            let end = request.offset.saturating_add(request.length);
            let mut offset = request.offset;
            while offset < end {
                let len = usize::try_from(chunk_bytes.min(end - offset)).unwrap_or(usize::MAX);
                let (shard, name) = (shard.clone(), request.file_name.clone());
                let pin_id = request.pin_id;
                let read = tokio::task::spawn_blocking(move || {
                    shard.read_snapshot_chunk(pin_id, &name, offset, len)
                })
                .await;
                let message = match read {
                    Ok(Ok(data)) if !data.is_empty() => {
                        let read_len = data.len() as u64;
                        let chunk = Message::FileChunk(FileChunk::new(offset, data));
                        offset += read_len;
                        chunk
                    }
                    Ok(Ok(_)) => Message::Error(RemoteError::new(
                        ErrorKind::InvalidRequest,
                        format!("offset {offset} is past the end of the file"),
                    )),
                    Ok(Err(error)) => Message::Error(internal(error)),
                    Err(error) => Message::Error(internal(error)),
                };
                let last = matches!(message, Message::Error(_));
                if sender.send(message).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(response)
    }

    async fn lease(&self, request: RetentionLeaseRequest) -> Result<(), RemoteError> {
        let shard = self.leader_shard(&request.shard)?;
        let lease_id = request.lease_id.clone();
        tokio::task::spawn_blocking(move || match request.action {
            LeaseAction::Add {
                retaining_seq_no,
                source,
            } => shard
                .add_retention_lease(&lease_id, retaining_seq_no, &source, now_millis())
                .map(|_| ()),
            LeaseAction::Renew {
                retaining_seq_no, ..
            } => shard
                .renew_retention_lease(&lease_id, retaining_seq_no, now_millis())
                .map(|_| ()),
            LeaseAction::Remove => shard.remove_retention_lease(&lease_id).map(|_| ()),
        })
        .await
        .map_err(internal)?
        .map_err(|error| match error {
            EngineError::Lease(LeaseError::NotFound(id)) => {
                RemoteError::retention_lease_not_found(&id)
            }
            EngineError::Lease(LeaseError::AlreadyExists(id)) => {
                RemoteError::retention_lease_already_exists(&id)
            }
            other => internal(other),
        })
    }
}

impl<C: LocalCluster> RequestHandler for LeaderService<C> {
    fn handle<'a>(&'a self, peer: PeerInfo, request: Message) -> BoxFuture<'a, Response> {
        Box::pin(async move {
            match self.answer(&peer, request).await {
                Ok(response) => response,
                Err(error) => Response::Message(Message::Error(error)),
            }
        })
    }
}

fn metadata_of(index: &LeaderIndex) -> IndexMetadata {
    let metadata = index.metadata.get();
    let versioned = |version: u64, json: &Bytes| VersionedJson {
        version,
        json: json.clone(),
    };
    IndexMetadata {
        name: index.name.clone(),
        uuid: index.uuid.clone(),
        number_of_shards: u32::try_from(index.shards.len()).unwrap_or(u32::MAX),
        state: state_of(index.closed),
        is_follower_index: index.is_follower_index,
        settings: versioned(metadata.versions.settings, &metadata.settings),
        mapping: versioned(metadata.versions.mapping, &metadata.mapping),
        aliases: versioned(metadata.versions.aliases, &metadata.aliases),
    }
}

fn state_of(closed: bool) -> IndexState {
    if closed {
        IndexState::Closed
    } else {
        IndexState::Open
    }
}

fn internal(error: impl std::fmt::Display) -> RemoteError {
    RemoteError::new(ErrorKind::Internal, error.to_string())
}

/// Leases persist across restarts, so they are stamped with wall-clock time.
fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
        })
}
