//! The leader service against real shard engines, called as the transport server calls it.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tandem_ccr::{LeaderIndex, LeaderService, LocalCluster};
use tandem_replication::{LeaderMetadata, MetadataCell};
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteRequest};
use tandem_storage::{EngineConfig, Mapping, ShardEngine};
use tandem_transport::{PeerInfo, RequestHandler, Response};
use tandem_wire::{
    ErrorKind, FileChunkRequest, Handshake, IndexMetadataRequest, LeaseAction, Message,
    MetadataVersions, NodeIdentity, RetentionLeaseRequest, ShardChangesRequest, ShardTarget,
    SnapshotRelease, SnapshotStart, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN,
};

struct Cluster {
    indices: Mutex<Vec<LeaderIndex>>,
    follower_mode: bool,
}

impl LocalCluster for Cluster {
    fn identity(&self) -> NodeIdentity {
        NodeIdentity {
            cluster_name: "leader-cluster".into(),
            cluster_uuid: "uuid-1".into(),
            node_id: "node-1".into(),
            node_name: "leader".into(),
            is_follower_node: self.follower_mode,
        }
    }
    fn is_follower_cluster(&self) -> bool {
        self.follower_mode
    }
    fn software_version(&self) -> String {
        "2.19.0".into()
    }
    fn index_by_name(&self, name: &str) -> Option<LeaderIndex> {
        self.indices.lock().iter().find(|i| i.name == name).cloned()
    }
    fn index_by_uuid(&self, uuid: &str) -> Option<LeaderIndex> {
        self.indices.lock().iter().find(|i| i.uuid == uuid).cloned()
    }
    fn indices_matching(&self, _pattern: &str) -> Vec<LeaderIndex> {
        self.indices.lock().clone()
    }
    fn index_count(&self) -> usize {
        self.indices.lock().len()
    }
}

fn peer() -> PeerInfo {
    PeerInfo {
        remote_addr: "127.0.0.1:40000".parse().expect("address"),
        fingerprint: None,
        subject_dn: None,
        alpn: b"tandem-ccr/1".to_vec(),
        connection_id: 1,
    }
}

fn leader_index(dir: &std::path::Path, name: &str, is_follower_index: bool) -> LeaderIndex {
    let mapping = Mapping::from_json(
        &serde_json::json!({"properties": {"n": {"type": "long"}}}),
        1,
    )
    .expect("mapping");
    let config = EngineConfig {
        indexing_memory_bytes: 15 << 20,
        ..EngineConfig::primary()
    };
    let engine =
        ShardEngine::create(&dir.join(name), config, Arc::new(mapping.clone())).expect("engine");
    let requests: Vec<WriteRequest> = (0..20)
        .map(|n| {
            WriteRequest::Index(IndexRequest {
                id: format!("d{n}"),
                source: Bytes::from(format!("{{\"n\":{n}}}")),
                routing: None,
                create_only: false,
                version_check: VersionCheck::None,
                auto_generated_id: false,
            })
        })
        .collect();
    for result in engine.write_batch(&requests).expect("batch") {
        result.expect("indexed");
    }
    let metadata = LeaderMetadata {
        versions: MetadataVersions {
            mapping: 1,
            settings: 1,
            aliases: 1,
        },
        mapping: Bytes::from(mapping.to_json().to_string()),
        settings: Bytes::from_static(b"{}"),
        aliases: Bytes::from_static(b"{}"),
    };
    LeaderIndex {
        name: name.into(),
        uuid: format!("{name}-uuid"),
        shards: vec![Arc::new(engine)],
        metadata: Arc::new(MetadataCell::new(metadata)),
        is_follower_index,
        closed: false,
        is_hidden: false,
    }
}

fn service(dir: &std::path::Path, follower_mode: bool) -> LeaderService<Cluster> {
    let indices = vec![
        leader_index(dir, "leader-01", false),
        leader_index(dir, "follower-x", true),
    ];
    LeaderService::new(Arc::new(Cluster {
        indices: Mutex::new(indices),
        follower_mode,
    }))
}

async fn ask(service: &LeaderService<Cluster>, request: Message) -> Message {
    match service.handle(peer(), request).await {
        Response::Message(message) => message,
        other => panic!("expected one message, got {other:?}"),
    }
}

fn shard(index: &str) -> ShardTarget {
    ShardTarget {
        index_uuid: format!("{index}-uuid"),
        shard_id: 0,
    }
}

fn changes(index: &str) -> Message {
    Message::ShardChangesRequest(ShardChangesRequest {
        shard: shard(index),
        from_seq_no: 0,
        ops_max: 100,
        bytes_max: 1 << 20,
        poll_wait_ms: 0,
        known_versions: MetadataVersions::default(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_handshake_metadata_and_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = service(dir.path(), false);
    let hello = Message::Handshake(Handshake {
        protocol_version_min: PROTOCOL_VERSION_MIN,
        protocol_version_max: PROTOCOL_VERSION_MAX,
        identity: NodeIdentity {
            cluster_name: "follower-cluster".into(),
            cluster_uuid: "uuid-2".into(),
            node_id: "node-2".into(),
            node_name: "follower".into(),
            is_follower_node: false,
        },
    });
    assert!(matches!(
        ask(&service, hello).await,
        Message::HandshakeAck(_)
    ));
    let missing = ask(
        &service,
        Message::IndexMetadataRequest(IndexMetadataRequest {
            index_name: "nope".into(),
        }),
    )
    .await;
    assert!(
        matches!(missing, Message::Error(ref e) if e.kind == ErrorKind::IndexNotFound),
        "{missing:?}"
    );
    let Message::ShardChanges(answer) = ask(&service, changes("leader-01")).await else {
        panic!("changes")
    };
    assert_eq!((answer.ops.first_seq_no, answer.ops.last_seq_no), (0, 19));
    assert!(answer.mapping.is_some(), "newer metadata rides along");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_chaining_and_leading_in_follower_cluster_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = service(dir.path(), false);
    let chained = ask(&service, changes("follower-x")).await;
    assert!(
        matches!(chained, Message::Error(ref e) if e.kind == ErrorKind::ChainingRefused),
        "{chained:?}"
    );
    let follower_mode = self::service(&dir.path().join("other"), true);
    let refused = ask(&follower_mode, changes("leader-01")).await;
    assert!(
        matches!(refused, Message::Error(ref e) if e.kind == ErrorKind::FollowerRefusesToLead),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_streams_chunks_and_releases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = service(dir.path(), false);
    let start = Message::SnapshotStart(SnapshotStart {
        shard: shard("leader-01"),
        lease_id: "f1".into(),
        lease_source: "ccr".into(),
    });
    let Message::SnapshotManifest(manifest) = ask(&service, start).await else {
        panic!("manifest")
    };
    assert_eq!(manifest.local_checkpoint, 19);
    let file = manifest
        .files
        .iter()
        .max_by_key(|f| f.size_bytes)
        .expect("a file")
        .clone();
    let request = Message::FileChunkRequest(FileChunkRequest {
        pin_id: manifest.pin_id,
        file_name: file.name.clone(),
        offset: 0,
        length: file.size_bytes,
        chunk_bytes_max: 64,
    });
    let Response::Stream(mut chunks) = service.handle(peer(), request).await else {
        panic!("a stream")
    };
    let mut bytes = Vec::new();
    while let Some(message) = chunks.recv().await {
        let Message::FileChunk(chunk) = message else {
            panic!("chunk: {message:?}")
        };
        assert_eq!(chunk.offset, bytes.len() as u64);
        assert_eq!(chunk.crc32, crc32fast::hash(&chunk.data));
        bytes.extend_from_slice(&chunk.data);
    }
    assert_eq!(bytes.len() as u64, file.size_bytes);
    assert_eq!(crc32fast::hash(&bytes), file.crc32);
    let release = || {
        Message::SnapshotRelease(SnapshotRelease {
            pin_id: manifest.pin_id,
        })
    };
    assert!(matches!(ask(&service, release()).await, Message::Ack(_)));
    assert!(
        matches!(ask(&service, release()).await, Message::Error(ref e) if e.kind == ErrorKind::ResourceNotFound)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manages_retention_leases_with_opensearch_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = service(dir.path(), false);
    let lease = |action| {
        Message::RetentionLease(RetentionLeaseRequest {
            shard: shard("leader-01"),
            lease_id: "f2".into(),
            action,
        })
    };
    let add = || {
        lease(LeaseAction::Add {
            retaining_seq_no: 5,
            source: "ccr".into(),
        })
    };
    assert!(matches!(ask(&service, add()).await, Message::Ack(_)));
    assert!(
        matches!(ask(&service, add()).await, Message::Error(ref e) if e.kind == ErrorKind::RetentionLeaseAlreadyExists)
    );
    let renew = lease(LeaseAction::Renew {
        retaining_seq_no: 9,
        source: "ccr".into(),
    });
    assert!(matches!(ask(&service, renew).await, Message::Ack(_)));
    assert!(matches!(
        ask(&service, lease(LeaseAction::Remove)).await,
        Message::Ack(_)
    ));
    let gone = ask(&service, lease(LeaseAction::Remove)).await;
    assert!(
        matches!(gone, Message::Error(ref e) if e.kind == ErrorKind::RetentionLeaseNotFound),
        "{gone:?}"
    );
}
