//! The running node: the data folder lock, identity, index service, refresh scheduler and
//! HTTP server, started in order and stopped in reverse on SIGTERM or Ctrl-C.
//!
//! It owns start-up and shutdown order. It must never serve a data folder another process
//! holds (an exclusive lock on `<path.data>/node.lock`).

use std::fs::File;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use fs4::fs_std::FileExt;
use thiserror::Error;

use crate::cluster_state::NodeIdentity;
use crate::config::NodeConfig;
use crate::error::NodeError;
use crate::indices::refresher::Refresher;
use crate::indices::IndexService;
use crate::replication::Replication;

/// The lock file under `path.data`.
pub const LOCK_FILE_NAME: &str = "node.lock";

/// Why the node could not start or stopped badly.
#[derive(Debug, Error)]
pub enum StartError {
    /// The data folder could not be used.
    #[error("data folder {path}: {reason}")]
    DataFolder {
        /// The folder.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Another process holds the data folder.
    #[error("data folder {0} is locked by another process")]
    Locked(String),
    /// State or shards could not be opened.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// The HTTP port could not be bound.
    #[error("cannot bind http to {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The server failed.
    #[error("http server failed: {0}")]
    Serve(std::io::Error),
    /// The transport or replication could not start.
    #[error(transparent)]
    Replication(#[from] crate::replication::ReplicationStartError),
}

/// Shared state of a running node.
#[derive(Debug)]
pub struct Node {
    /// Settings it started with.
    pub config: NodeConfig,
    /// Its persisted identity.
    pub identity: NodeIdentity,
    /// Its indices.
    pub indices: Arc<IndexService>,
    /// When it started.
    pub started: Instant,
    /// The bound HTTP address.
    pub http_addr: SocketAddr,
    /// Cross-cluster replication: transport, leader service, follower indices.
    pub replication: Arc<Replication>,
}

/// Starts the node and runs it until SIGTERM or Ctrl-C; then closes every shard.
pub async fn run(config: NodeConfig) -> Result<(), StartError> {
    let data = config.path_data.clone();
    let folder_error = |reason: String| StartError::DataFolder {
        path: data.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(&data).map_err(|error| folder_error(error.to_string()))?;
    let lock =
        File::create(data.join(LOCK_FILE_NAME)).map_err(|error| folder_error(error.to_string()))?;
    if !FileExt::try_lock_exclusive(&lock).unwrap_or(false) {
        return Err(StartError::Locked(data.display().to_string()));
    }
    for key in &config.ignored_keys {
        tracing::info!(setting = %key, "setting accepted and ignored");
    }
    let identity = NodeIdentity::load_or_create(&data, &config.cluster_name)?;
    let open_data = data.clone();
    let indices = tokio::task::spawn_blocking(move || IndexService::open(&open_data))
        .await
        .map_err(|error| NodeError::Internal(error.to_string()))??;
    let indices = Arc::new(indices);
    let refresher =
        Refresher::start(indices.clone()).map_err(|error| folder_error(error.to_string()))?;
    let replication =
        Arc::new(Replication::start(&config, indices.clone(), &identity.node_id).await?);
    let addr = SocketAddr::new(config.network_host, config.http_port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let http_addr = listener.local_addr().map_err(StartError::Serve)?;
    tracing::info!(
        node = %config.node_name,
        node_id = %identity.node_id,
        cluster = %config.cluster_name,
        http = %http_addr,
        transport = %replication.transport_addr,
        data = %data.display(),
        "tandem started"
    );
    let node = Arc::new(Node {
        config,
        identity,
        indices: indices.clone(),
        started: Instant::now(),
        http_addr,
        replication: replication.clone(),
    });
    let served = crate::rest::serve(listener, node, shutdown_signal()).await;
    tracing::info!("shutting down: closing shards");
    replication.shutdown().await;
    refresher.stop();
    let closing = indices.clone();
    let _ = tokio::task::spawn_blocking(move || closing.close_all()).await;
    drop(lock);
    served.map_err(StartError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
