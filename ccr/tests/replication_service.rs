//! The replication API's semantics against real engines: the getting-started walkthrough
//! (start, status, pause, resume, stop) and its error matrix, with the leader in process.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tandem_ccr::{
    FollowerNode, InProcessLeader, LeaderClient, LeaderIndex, LeaderService, LocalCluster,
    RemoteClusters, ReplicationError, ReplicationService,
};
use tandem_replication::{FollowerConfig, LeaderMetadata, MetadataCell};
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tandem_transport::{PeerInfo, RequestHandler};
use tandem_wire::{CursorConfig, IndexMetadata, MetadataVersions, NodeIdentity};

struct Leader {
    index: LeaderIndex,
}

impl LocalCluster for Leader {
    fn identity(&self) -> NodeIdentity {
        NodeIdentity {
            cluster_name: "leader-cluster".into(),
            cluster_uuid: "u".into(),
            node_id: "n".into(),
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

struct Remotes {
    client: Arc<dyn LeaderClient>,
}

impl RemoteClusters for Remotes {
    fn client(&self, alias: &str) -> Option<Arc<dyn LeaderClient>> {
        (alias == "my-connection-alias").then(|| self.client.clone())
    }
}

#[derive(Default)]
struct TestIndex {
    mapping: Option<Arc<Mapping>>,
    shards: Vec<Option<Arc<ShardEngine>>>,
    writable: bool,
}

struct Node {
    dir: PathBuf,
    indices: Mutex<BTreeMap<String, TestIndex>>,
}

impl FollowerNode for Node {
    fn cluster_name(&self) -> String {
        "follower-cluster".into()
    }
    fn index_exists(&self, name: &str) -> bool {
        self.indices.lock().contains_key(name)
    }
    fn create_follower_index(
        &self,
        name: &str,
        leader: &IndexMetadata,
        _overrides: &Value,
    ) -> Result<(), ReplicationError> {
        let json: Value = serde_json::from_slice(&leader.mapping.json)
            .map_err(|e| ReplicationError::illegal_argument(e.to_string()))?;
        let mapping = Mapping::from_json(&json, leader.mapping.version)
            .map_err(|e| ReplicationError::illegal_argument(e.to_string()))?;
        let index = TestIndex {
            mapping: Some(Arc::new(mapping)),
            shards: vec![None; leader.number_of_shards as usize],
            writable: false,
        };
        self.indices.lock().insert(name.to_string(), index);
        Ok(())
    }
    fn shard_dir(&self, name: &str, shard: u32) -> PathBuf {
        self.dir.join(name).join(shard.to_string())
    }
    fn engine_config(&self, _name: &str) -> EngineConfig {
        EngineConfig {
            indexing_memory_bytes: 15 << 20,
            ..EngineConfig::replica()
        }
    }
    fn open_shards(&self, name: &str) -> Vec<Option<Arc<ShardEngine>>> {
        self.indices
            .lock()
            .get(name)
            .map(|index| index.shards.clone())
            .unwrap_or_default()
    }
    fn mapping(&self, name: &str) -> Arc<Mapping> {
        self.indices
            .lock()
            .get(name)
            .and_then(|index| index.mapping.clone())
            .unwrap_or_else(|| Arc::new(Mapping::empty()))
    }
    fn install_metadata(
        &self,
        name: &str,
        versions: MetadataVersions,
        mapping: Option<Bytes>,
        _settings: Option<Bytes>,
        _aliases: Option<Bytes>,
    ) -> Result<Arc<Mapping>, String> {
        let mut indices = self.indices.lock();
        let index = indices.get_mut(name).ok_or("no index")?;
        if let Some(json) = mapping {
            let json: Value = serde_json::from_slice(&json).map_err(|e| e.to_string())?;
            index.mapping = Some(Arc::new(
                Mapping::from_json(&json, versions.mapping).map_err(|e| e.to_string())?,
            ));
        }
        Ok(index
            .mapping
            .clone()
            .unwrap_or_else(|| Arc::new(Mapping::empty())))
    }
    fn shard_ready(&self, name: &str, shard: u32, engine: Arc<ShardEngine>) {
        if let Some(index) = self.indices.lock().get_mut(name) {
            index.shards[shard as usize] = Some(engine);
        }
    }
    fn unfollow(&self, name: &str) -> Result<(), ReplicationError> {
        let mut indices = self.indices.lock();
        let index = indices
            .get_mut(name)
            .ok_or_else(|| ReplicationError::not_replicated(name))?;
        for engine in index.shards.iter().flatten() {
            engine
                .promote_to_primary(1)
                .map_err(|e| ReplicationError::illegal_state(e.to_string()))?;
        }
        index.writable = true;
        Ok(())
    }
    fn delete_index(&self, name: &str) -> Result<(), ReplicationError> {
        self.indices.lock().remove(name);
        Ok(())
    }
}

fn leader_engine(dir: &std::path::Path) -> (Arc<ShardEngine>, Arc<MetadataCell>) {
    let mapping = Mapping::from_json(&json!({"properties": {"The Shining": {"type": "text"}}}), 2)
        .expect("mapping");
    let config = EngineConfig {
        indexing_memory_bytes: 15 << 20,
        ..EngineConfig::primary()
    };
    let engine = Arc::new(
        ShardEngine::create(&dir.join("leader"), config, Arc::new(mapping.clone()))
            .expect("leader"),
    );
    let metadata = Arc::new(MetadataCell::new(LeaderMetadata {
        versions: MetadataVersions {
            mapping: 2,
            settings: 1,
            aliases: 1,
        },
        mapping: Bytes::from(mapping.to_json().to_string()),
        settings: Bytes::from_static(b"{}"),
        aliases: Bytes::from_static(b"{}"),
    }));
    (engine, metadata)
}

fn index_doc(engine: &ShardEngine, id: &str) {
    let request = WriteRequest::Index(IndexRequest {
        id: id.into(),
        source: Bytes::from_static(br#"{"The Shining": "Stephen King"}"#),
        routing: None,
        create_only: false,
        version_check: VersionCheck::None,
        auto_generated_id: false,
    });
    engine
        .write_batch(&[request])
        .expect("write")
        .remove(0)
        .expect("indexed");
}

async fn wait_status(
    service: &ReplicationService<Node>,
    expected: &str,
    leader: &ShardEngine,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        service.note_progress().await;
        let status = service.status("follower-01", false).await;
        let caught_up =
            status["syncing_details"]["follower_checkpoint"] == json!(leader.global_checkpoint());
        if status["status"] == expected && (expected != "SYNCING" || caught_up) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "status never reached {expected}: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_getting_started_walkthrough_and_its_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, metadata) = leader_engine(dir.path());
    let leader_index = LeaderIndex {
        name: "leader-01".into(),
        uuid: "leader-01-uuid".into(),
        shards: vec![engine.clone()],
        metadata,
        is_follower_index: false,
        closed: false,
        is_hidden: false,
    };
    let handler: Arc<dyn RequestHandler> = Arc::new(LeaderService::new(Arc::new(Leader {
        index: leader_index,
    })));
    let peer = PeerInfo {
        remote_addr: "127.0.0.1:1".parse().expect("addr"),
        fingerprint: None,
        subject_dn: None,
        alpn: Vec::new(),
        connection_id: 0,
    };
    let remotes = Arc::new(Remotes {
        client: Arc::new(InProcessLeader::new(handler, peer)),
    });
    let node = Arc::new(Node {
        dir: dir.path().join("follower"),
        indices: Mutex::new(BTreeMap::new()),
    });
    let config = FollowerConfig {
        cursor: CursorConfig {
            poll_wait_ms: 100,
            ..CursorConfig::default()
        },
        ..FollowerConfig::default()
    };
    let service = ReplicationService::open(node.clone(), remotes, dir.path().to_path_buf(), config)
        .expect("service");

    let error = service
        .start(
            "follower-01",
            &json!({"leader_alias": "my-connection-alias"}),
        )
        .await
        .expect_err("missing");
    assert_eq!(
        error.reason,
        "Validation Failed: 1: Mandatory params [leader_index] are missing for the request;"
    );
    let error = service
        .start(
            "follower-01",
            &json!({"leader_alias": "nope", "leader_index": "leader-01"}),
        )
        .await
        .expect_err("alias");
    assert_eq!(
        (error.status, error.error_type, error.reason.as_str()),
        (
            404,
            "no_such_remote_cluster_exception",
            "no such remote cluster: [nope]"
        )
    );
    let error = service
        .start(
            "follower-01",
            &json!({"leader_alias": "my-connection-alias", "leader_index": "missing"}),
        )
        .await
        .expect_err("index");
    assert_eq!(
        (error.status, error.reason.as_str()),
        (404, "no such index [missing]")
    );
    let error = service
        .start(
            "Follower",
            &json!({"leader_alias": "my-connection-alias", "leader_index": "leader-01"}),
        )
        .await
        .expect_err("name");
    assert_eq!(
        error.reason,
        "Validation Failed: 1: Value Follower must be lowercase;"
    );
    assert_eq!(
        service.status("follower-01", false).await,
        json!({"status": "REPLICATION NOT IN PROGRESS"})
    );

    let start = json!({"leader_alias": "my-connection-alias", "leader_index": "leader-01",
                       "use_roles": {"leader_cluster_role": "all_access", "follower_cluster_role": "all_access"}});
    assert_eq!(
        service.start("follower-01", &start).await.expect("start"),
        json!({"acknowledged": true})
    );
    let error = service
        .start("follower-01", &start)
        .await
        .expect_err("again");
    assert_eq!(
        error.reason,
        "Cant use same index again for replication. Delete the index:follower-01"
    );

    let status = wait_status(&service, "SYNCING", &engine).await;
    assert_eq!(
        status["syncing_details"],
        json!({"leader_checkpoint": -1, "follower_checkpoint": -1, "seq_no": 0})
    );
    assert_eq!(status["reason"], "User initiated");
    index_doc(&engine, "1");
    let status = wait_status(&service, "SYNCING", &engine).await;
    assert_eq!(status["syncing_details"]["follower_checkpoint"], 0);

    assert_eq!(
        service
            .pause("follower-01", &json!({}))
            .await
            .expect("pause"),
        json!({"acknowledged": true})
    );
    let paused = service.status("follower-01", false).await;
    assert_eq!(
        paused,
        json!({"status": "PAUSED", "reason": "User initiated", "leader_alias": "my-connection-alias", "leader_index": "leader-01", "follower_index": "follower-01"})
    );
    let error = service
        .pause("follower-01", &json!({}))
        .await
        .expect_err("paused twice");
    assert_eq!(
        (error.error_type, error.reason.as_str()),
        (
            "resource_already_exists_exception",
            "Index follower-01 is already paused"
        )
    );
    index_doc(&engine, "2");
    service
        .resume("follower-01", &json!({}))
        .await
        .expect("resume");
    let error = service
        .resume("follower-01", &json!({}))
        .await
        .expect_err("running");
    assert_eq!(
        error.reason,
        "Replication on Index follower-01 is already running"
    );
    let status = wait_status(&service, "SYNCING", &engine).await;
    assert_eq!(
        status["syncing_details"]["follower_checkpoint"], 1,
        "the write made while paused arrived"
    );

    let stats = service.follower_stats().await;
    assert_eq!(stats["num_syncing_indices"], 1);
    assert_eq!(
        stats["index_stats"]["follower-01"]["follower_checkpoint"],
        1
    );

    service.stop("follower-01", &json!({})).await.expect("stop");
    assert_eq!(
        service.status("follower-01", false).await,
        json!({"status": "REPLICATION NOT IN PROGRESS"})
    );
    assert!(
        node.indices.lock()["follower-01"].writable,
        "a stopped follower becomes writable"
    );
    let error = service
        .stop("follower-01", &json!({}))
        .await
        .expect_err("stopped twice");
    assert_eq!(
        error.reason,
        "No replication in progress for index:follower-01"
    );
    assert!(
        engine.retention_leases().is_empty(),
        "the lease on the leader was removed"
    );
}
