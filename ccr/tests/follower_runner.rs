//! A follower runner following a real leader engine: bootstrap from a pinned commit, syncing
//! while the leader keeps writing, pause and resume, then equality shard-wide. Once with the
//! leader in the same process, once over QUIC on loopback with generated, pinned certificates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tandem_ccr::{
    Control, FollowerHooks, FollowerRunner, FollowerShardSpec, InProcessLeader, LeaderClient,
    LeaderIndex, LeaderService, LocalCluster, ShardReplicationStatus,
};
use tandem_replication::{FollowerConfig, LeaderMetadata, MetadataCell, Phase};
use tandem_storage::engine::{EngineError, IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tandem_transport::{
    Identity, MemoryPinStore, PeerInfo, RequestHandler, TransportClient, TransportConfig,
    TransportServer, Trust,
};
use tandem_wire::{CursorConfig, MetadataVersions, NodeIdentity, ShardTarget};

struct Cluster {
    index: LeaderIndex,
}

impl LocalCluster for Cluster {
    fn identity(&self) -> NodeIdentity {
        NodeIdentity {
            cluster_name: "leader-cluster".into(),
            cluster_uuid: "leader-uuid".into(),
            node_id: "n1".into(),
            node_name: "leader".into(),
            is_follower_node: false,
        }
    }
    fn is_follower_cluster(&self) -> bool {
        false
    }
    fn software_version(&self) -> String {
        "2.19.0".into()
    }
    fn index_by_name(&self, name: &str) -> Option<LeaderIndex> {
        (name == self.index.name).then(|| self.index.clone())
    }
    fn index_by_uuid(&self, uuid: &str) -> Option<LeaderIndex> {
        (uuid == self.index.uuid).then(|| self.index.clone())
    }
    fn indices_matching(&self, _pattern: &str) -> Vec<LeaderIndex> {
        vec![self.index.clone()]
    }
    fn index_count(&self) -> usize {
        1
    }
}

#[derive(Default)]
struct Hooks {
    mapping: Mutex<Option<Arc<Mapping>>>,
    engine: Mutex<Option<Arc<ShardEngine>>>,
    status: Mutex<Option<ShardReplicationStatus>>,
}

impl FollowerHooks for Hooks {
    fn mapping(&self) -> Arc<Mapping> {
        self.mapping
            .lock()
            .clone()
            .unwrap_or_else(|| Arc::new(Mapping::empty()))
    }
    fn install_metadata(
        &self,
        versions: MetadataVersions,
        mapping: Option<Bytes>,
        _settings: Option<Bytes>,
        _aliases: Option<Bytes>,
    ) -> Result<Arc<Mapping>, String> {
        if let Some(json) = mapping {
            let json: serde_json::Value =
                serde_json::from_slice(&json).map_err(|e| e.to_string())?;
            let mapping = Mapping::from_json(&json, versions.mapping).map_err(|e| e.to_string())?;
            *self.mapping.lock() = Some(Arc::new(mapping));
        }
        Ok(self.mapping())
    }
    fn shard_ready(&self, _shard_id: u32, engine: Arc<ShardEngine>) {
        *self.engine.lock() = Some(engine);
    }
    fn progress(&self, _shard_id: u32, status: ShardReplicationStatus) {
        *self.status.lock() = Some(status);
    }
}

struct Leader {
    engine: Arc<ShardEngine>,
    metadata: Arc<MetadataCell>,
    next: u64,
}

impl Leader {
    fn new(dir: &std::path::Path) -> Leader {
        let config = EngineConfig {
            indexing_memory_bytes: 15 << 20,
            ..EngineConfig::primary()
        };
        let engine = ShardEngine::create(&dir.join("leader"), config, Arc::new(Mapping::empty()))
            .expect("leader");
        let metadata = Arc::new(MetadataCell::new(metadata_of(&Mapping::empty())));
        Leader {
            engine: Arc::new(engine),
            metadata,
            next: 0,
        }
    }

    fn index(&self) -> LeaderIndex {
        LeaderIndex {
            name: "leader-01".into(),
            uuid: "leader-01-uuid".into(),
            shards: vec![self.engine.clone()],
            metadata: self.metadata.clone(),
            is_follower_index: false,
            closed: false,
            is_hidden: false,
        }
    }

    /// Writes `count` documents (new ids, updates and deletes), growing the mapping.
    fn write(&mut self, count: u64) {
        let mut requests = Vec::new();
        for _ in 0..count {
            self.next += 1;
            let id = format!("doc-{}", self.next % 97);
            if self.next % 11 == 0 {
                requests.push(WriteRequest::Delete(
                    tandem_storage::engine::DeleteRequest {
                        id,
                        routing: None,
                        version_check: VersionCheck::None,
                    },
                ));
                continue;
            }
            let field = format!("field_{}", self.next / 150);
            let source =
                serde_json::json!({ "n": self.next, field: format!("value {}", self.next) });
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
            let results = self.engine.write_batch(remaining).expect("write");
            let processed = results.len();
            if let Some(Err(EngineError::MappingUpdateRequired { proposed })) = results.last() {
                let proposed = Arc::new((**proposed).clone());
                self.engine.set_mapping(proposed.clone()).expect("mapping");
                self.metadata.set(metadata_of(&proposed));
                remaining = &remaining[processed - 1..];
            } else {
                remaining = &remaining[processed..];
            }
        }
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

fn spec(dir: &std::path::Path) -> FollowerShardSpec {
    FollowerShardSpec {
        leader: ShardTarget {
            index_uuid: "leader-01-uuid".into(),
            shard_id: 0,
        },
        shard_dir: dir.join("follower"),
        lease_id: "follower-cluster:follower-01:0".into(),
        lease_source: "ccr".into(),
        engine_config: EngineConfig {
            indexing_memory_bytes: 15 << 20,
            ..EngineConfig::replica()
        },
        task_config: FollowerConfig {
            cursor: CursorConfig {
                ops_per_request_max: 50,
                poll_wait_ms: 200,
                ..CursorConfig::default()
            },
            chunk_bytes: 4096,
            ..FollowerConfig::default()
        },
    }
}

async fn caught_up(leader: &Leader, hooks: &Hooks) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let follower = hooks.engine.lock().clone();
        if let Some(follower) = follower {
            if follower.seq_no_stats().local_checkpoint == leader.engine.global_checkpoint() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no convergence: {:?}",
            hooks.status.lock()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_equal(leader: &Leader, hooks: &Hooks) {
    let follower = hooks.engine.lock().clone().expect("follower shard");
    for n in 0..97 {
        let id = format!("doc-{n}");
        let on_leader = leader.engine.get(&id).expect("get");
        let on_follower = follower.get(&id).expect("get");
        assert_eq!(
            on_leader.map(|d| (d.state.seq_no, d.state.version, d.source)),
            on_follower.map(|d| (d.state.seq_no, d.state.version, d.source)),
            "{id}"
        );
    }
}

async fn follow(client: Arc<dyn LeaderClient>, mut leader: Leader, dir: &std::path::Path) {
    let hooks = Arc::new(Hooks::default());
    let runner = FollowerRunner::spawn(client, hooks.clone(), spec(dir), None, None);
    leader.write(300);
    caught_up(&leader, &hooks).await;
    assert_eq!(
        hooks.status.lock().as_ref().map(|s| s.phase.clone()),
        Some(Phase::Syncing)
    );
    assert!(runner.send(Control::Pause).await);
    leader.write(200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let paused_at = hooks
        .engine
        .lock()
        .as_ref()
        .expect("engine")
        .seq_no_stats()
        .local_checkpoint;
    assert!(
        paused_at < leader.engine.global_checkpoint(),
        "nothing replicates while paused"
    );
    assert!(runner.send(Control::Resume).await);
    leader.write(100);
    caught_up(&leader, &hooks).await;
    assert_equal(&leader, &hooks);
    let follower_mapping = hooks.engine.lock().as_ref().expect("engine").mapping();
    assert_eq!(
        follower_mapping.version,
        leader.engine.mapping().version,
        "mapping followed"
    );
    runner.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_leader_in_the_same_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut leader = Leader::new(dir.path());
    leader.write(500);
    leader.engine.refresh(false).expect("refresh");
    let service: Arc<dyn RequestHandler> = Arc::new(LeaderService::new(Arc::new(Cluster {
        index: leader.index(),
    })));
    let peer = PeerInfo {
        remote_addr: "127.0.0.1:1".parse().expect("address"),
        fingerprint: None,
        subject_dn: None,
        alpn: Vec::new(),
        connection_id: 0,
    };
    follow(
        Arc::new(InProcessLeader::new(service, peer)),
        leader,
        dir.path(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_a_leader_over_quic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut leader = Leader::new(dir.path());
    leader.write(500);
    let service: Arc<dyn RequestHandler> = Arc::new(LeaderService::new(Arc::new(Cluster {
        index: leader.index(),
    })));
    let server_identity = Identity::generate("leader").expect("identity");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let (server, address) = TransportServer::start(
        TransportConfig::default(),
        &server_identity,
        Trust::Pinned,
        service,
        socket,
    )
    .expect("server");
    let client_identity = Identity::generate("follower").expect("identity");
    let client = TransportClient::new(
        TransportConfig::default(),
        &client_identity,
        Trust::Pinned,
        Arc::new(MemoryPinStore::default()),
        "127.0.0.1:0".parse().expect("address"),
    )
    .expect("client");
    let remote = client
        .connect_alias("my-connection-alias", vec![address.to_string()])
        .await
        .expect("connect");
    follow(remote, leader, dir.path()).await;
    client.shutdown().await;
    server.shutdown().await;
}
