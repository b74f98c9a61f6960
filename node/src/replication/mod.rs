//! Cross-cluster replication on the node: the QUIC transport (server and client), the leader
//! service answering followers from this node's indices, the remote clusters named by
//! `cluster.remote.<alias>.seeds`, and the replication service running follower indices.
//!
//! It owns start-up and shutdown of those parts and the glue between them and the index
//! service ([`leader::LeaderIndices`], [`follower::FollowerIndices`]). It must never decide
//! replication semantics itself: those live in `tandem-ccr`.

pub mod autofollow;
pub mod follower;
pub mod leader;
pub mod pins;

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};
use tandem_ccr::{LeaderClient, LeaderService, LeaderStats, RemoteClusters, ReplicationService};
use tandem_replication::FollowerConfig;
use tandem_transport::{CaTrust, Identity, TransportClient, TransportServer, Trust};
use tandem_wire::NodeIdentity;
use thiserror::Error;

use crate::config::{remote_alias, seed_list, NodeConfig};
use crate::indices::IndexService;
use autofollow::AutoFollow;
use follower::FollowerIndices;
use leader::LeaderIndices;
use pins::FilePinStore;

/// How often follower progress is folded into the persisted replication state.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);
/// How often a follower shard renews its lease on the leader: often enough that a lease
/// period of a few seconds (as tests set it) only expires leases of paused followers.
const LEASE_RENEW_INTERVAL_MS: u64 = 1_000;
/// The folder of the generated transport certificate under `path.data`.
const CERTS_DIR_NAME: &str = "certs";

/// Why replication could not start.
#[derive(Debug, Error)]
pub enum ReplicationStartError {
    /// The transport could not be set up (identity, trust, socket).
    #[error("transport: {0}")]
    Transport(String),
    /// The persisted replication state could not be read.
    #[error("replication state: {0}")]
    State(String),
}

/// The follower-side service type of the node.
pub type NodeReplicationService = ReplicationService<FollowerIndices>;

/// Remote aliases over the transport client.
pub struct TransportRemotes {
    client: TransportClient,
}

impl RemoteClusters for TransportRemotes {
    fn client(&self, alias: &str) -> Option<Arc<dyn LeaderClient>> {
        self.client
            .remote(alias)
            .map(|remote| remote as Arc<dyn LeaderClient>)
    }
}

/// Replication on a running node.
pub struct Replication {
    /// The follower side: `_plugins/_replication` calls.
    pub service: Arc<NodeReplicationService>,
    /// Connections to remote clusters.
    pub client: TransportClient,
    /// Auto-follow rules and their poller.
    pub autofollow: Arc<AutoFollow>,
    /// What the leader service served, per index.
    leader_stats: LeaderStats,
    indices: Arc<IndexService>,
    follow_all: bool,
    /// The bound transport address.
    pub transport_addr: SocketAddr,
    server: parking_lot::Mutex<Option<TransportServer>>,
    progress: tokio::task::JoinHandle<()>,
    /// Seeds registered per alias, to notice removals.
    registered: parking_lot::Mutex<BTreeMap<String, Vec<String>>>,
}

impl std::fmt::Debug for Replication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replication")
            .field("transport_addr", &self.transport_addr)
            .finish_non_exhaustive()
    }
}

fn identity_and_trust(config: &NodeConfig) -> Result<(Identity, Trust), ReplicationStartError> {
    let failed =
        |error: &dyn std::fmt::Display| ReplicationStartError::Transport(error.to_string());
    let pem = &config.transport_pem;
    match (&pem.cert, &pem.key, &pem.trusted_cas) {
        (Some(cert), Some(key), Some(cas)) => {
            let identity = Identity::from_pem_files(cert, key).map_err(|e| failed(&e))?;
            let trust = CaTrust::from_pem_file(cas, &config.nodes_dn)
                .map_err(|e| failed(&e))?
                .with_hostname_verification(config.transport_hostname_verification);
            Ok((identity, Trust::Ca(trust)))
        }
        (None, None, None) => {
            let dir = config.path_data.join(CERTS_DIR_NAME);
            let identity =
                Identity::load_or_generate(&dir, &config.node_name).map_err(|e| failed(&e))?;
            Ok((identity, Trust::Pinned))
        }
        _ => Err(ReplicationStartError::Transport(
            "plugins.security.ssl.transport.pemcert_filepath, pemkey_filepath and pemtrustedcas_filepath must be set together".into(),
        )),
    }
}

impl Replication {
    /// Binds the transport on `network.host:transport.port`, starts the leader service and
    /// restores the follower indices' replication.
    pub async fn start(
        config: &NodeConfig,
        indices: Arc<IndexService>,
        node_id: &str,
    ) -> Result<Replication, ReplicationStartError> {
        let (identity, trust) = identity_and_trust(config)?;
        let transport = config.transport.clone();
        let cluster_uuid = indices.state().cluster_uuid;
        let leader = LeaderIndices {
            indices: indices.clone(),
            identity: NodeIdentity {
                cluster_name: config.cluster_name.clone(),
                cluster_uuid,
                node_id: node_id.to_string(),
                node_name: config.node_name.clone(),
                is_follower_node: config.follow_all_leader_alias.is_some(),
            },
            follower_cluster: config.follow_all_leader_alias.is_some(),
        };
        let handler = Arc::new(LeaderService::new(Arc::new(leader)));
        let leader_stats = handler.stats();
        let addr = SocketAddr::new(config.network_host, config.transport_port);
        let (server, transport_addr) =
            TransportServer::bind(transport.clone(), &identity, trust.clone(), handler, addr)
                .map_err(|e| ReplicationStartError::Transport(e.to_string()))?;
        let pins = FilePinStore::open(&config.path_data).map_err(ReplicationStartError::State)?;
        let client_bind = match config.network_host {
            IpAddr::V6(_) => SocketAddr::from(([0u16; 8], 0)),
            IpAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], 0)),
        };
        let client = TransportClient::new(transport, &identity, trust, Arc::new(pins), client_bind)
            .map_err(|e| ReplicationStartError::Transport(e.to_string()))?;
        let remotes = Arc::new(TransportRemotes {
            client: client.clone(),
        });
        let follower = Arc::new(FollowerIndices {
            indices: indices.clone(),
            cluster_name: config.cluster_name.clone(),
        });
        let service = Arc::new(
            ReplicationService::open(
                follower,
                remotes,
                config.path_data.clone(),
                FollowerConfig {
                    lease_renew_interval_ms: LEASE_RENEW_INTERVAL_MS,
                    ..FollowerConfig::default()
                },
            )
            .map_err(ReplicationStartError::State)?,
        );
        let progress = {
            let service = service.clone();
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(PROGRESS_INTERVAL);
                loop {
                    ticks.tick().await;
                    service.note_progress().await;
                }
            })
        };
        let autofollow = AutoFollow::start(
            service.clone(),
            client.clone(),
            indices.clone(),
            &config.path_data,
            config.follow_all_leader_alias.clone(),
            config.autofollow_poll_interval,
        )
        .map_err(ReplicationStartError::State)?;
        let replication = Replication {
            service,
            autofollow,
            leader_stats,
            indices: indices.clone(),
            follow_all: config.follow_all_leader_alias.is_some(),
            client,
            transport_addr,
            server: parking_lot::Mutex::new(Some(server)),
            progress,
            registered: parking_lot::Mutex::new(BTreeMap::new()),
        };
        replication.sync_remotes(&remote_seeds(config, &indices));
        replication.service.restore().await;
        Ok(replication)
    }

    /// Registers the remote aliases in `seeds` (connecting in the background) and forgets
    /// those no longer named, clearing their certificate pins.
    pub fn sync_remotes(&self, seeds: &BTreeMap<String, Vec<String>>) {
        let mut registered = self.registered.lock();
        for alias in registered.keys() {
            if !seeds.contains_key(alias) {
                self.client.remove_alias(alias);
            }
        }
        for (alias, list) in seeds {
            if registered.get(alias) == Some(list) {
                continue;
            }
            match self.client.register_alias(alias, list.clone()) {
                Ok(remote) => {
                    let (client, alias, list) = (self.client.clone(), alias.clone(), list.clone());
                    drop(remote);
                    tokio::runtime::Handle::current().spawn(async move {
                        if let Err(error) = client.connect_alias(&alias, list).await {
                            tracing::info!(%alias, %error, "remote cluster not reachable yet");
                        }
                    });
                }
                Err(error) => tracing::warn!(%alias, %error, "remote cluster not registered"),
            }
        }
        *registered = seeds.clone();
    }

    /// `GET _plugins/_replication/leader_stats`: what followers read from this node.
    pub fn leader_stats(&self) -> Value {
        let stats = self.leader_stats.lock().clone();
        let mut index_stats = Map::new();
        let mut total = tandem_ccr::LeaderIndexStats::default();
        for (name, index) in stats {
            if self.indices.meta(&name).is_err() {
                continue;
            }
            total.operations_read += index.operations_read;
            total.bytes_read += index.bytes_read;
            total.total_read_time_translog_millis += index.total_read_time_translog_millis;
            total.translog_size_bytes += index.translog_size_bytes;
            index_stats.insert(name, leader_stats_json(&index));
        }
        let mut body = leader_stats_json(&total);
        body["num_replicated_indices"] = json!(index_stats.len());
        body["index_stats"] = Value::Object(index_stats);
        body
    }

    /// What `GET /` says of replication: a follower-cluster node is a follower, rebuilding
    /// while any follower index bootstraps; a node others follow is a leader; else nothing.
    pub async fn role(&self) -> Option<Value> {
        if self.follow_all {
            let status = self.service.follower_stats().await;
            let rebuilding = status["num_bootstrapping_indices"].as_u64().unwrap_or(0) > 0;
            let state = if rebuilding {
                "rebuilding"
            } else {
                "following"
            };
            return Some(json!({"role": "follower", "state": state}));
        }
        let leading = self.indices.open_handles().iter().any(|handle| {
            handle.shards.iter().any(|shard| {
                shard
                    .retention_leases()
                    .iter()
                    .any(|lease| lease.id.starts_with("replication:"))
            })
        });
        leading.then(|| json!({"role": "leader"}))
    }

    /// Whether `alias` is connected now.
    pub fn is_connected(&self, alias: &str) -> bool {
        self.client
            .remote(alias)
            .is_some_and(|remote| remote.is_connected())
    }

    /// Stops the follower tasks' timer, the server and the client.
    pub async fn shutdown(&self) {
        self.progress.abort();
        self.service.note_progress().await;
        self.service.shutdown().await;
        let server = self.server.lock().take();
        if let Some(server) = server {
            server.shutdown().await;
        }
        self.client.shutdown().await;
    }
}

fn leader_stats_json(stats: &tandem_ccr::LeaderIndexStats) -> Value {
    json!({
        "operations_read": stats.operations_read,
        "translog_size_bytes": stats.translog_size_bytes,
        "operations_read_lucene": 0,
        "operations_read_translog": stats.operations_read,
        "total_read_time_lucene_millis": 0,
        "total_read_time_translog_millis": stats.total_read_time_translog_millis,
        "bytes_read": stats.bytes_read,
    })
}

/// The remote seeds in force: node settings, then persistent, then transient cluster
/// settings, later layers winning; an empty list removes an alias.
pub fn remote_seeds(config: &NodeConfig, indices: &IndexService) -> BTreeMap<String, Vec<String>> {
    let state = indices.state();
    let mut remotes: BTreeMap<String, Vec<String>> = config.remote_seeds.clone();
    for layer in [&state.persistent, &state.transient] {
        for (key, value) in layer {
            if let Some(alias) = remote_alias(key) {
                remotes.insert(alias.to_string(), seed_list(value));
            }
        }
    }
    remotes.retain(|_, seeds| !seeds.is_empty());
    remotes
}
