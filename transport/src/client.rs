//! `TransportClient`: the follower side. One quinn endpoint and one [`RemoteConnection`] per
//! remote alias (`cluster.remote.<alias>.seeds`); the connection itself lives in `remote`.
//!
//! It owns the alias table: registering, re-seeding and removing aliases (removal clears the
//! certificate pin). It must never hold two [`RemoteConnection`]s for one alias, and never
//! retry a request itself: retrying is the caller's decision, helped by
//! [`TransportError::is_retryable`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use quinn::crypto::rustls::QuicClientConfig;
use tokio::time::Instant;

use crate::backoff::Jitter;
use crate::config::TransportConfig;
use crate::error::{codes, SetupError, TransportError};
use crate::identity::Identity;
use crate::remote::RemoteConnection;
use crate::server::SHUTDOWN_DRAIN_MS_MAX;
use crate::socket::{bind_udp, tune_udp};
use crate::tls::client_tls_config;
use crate::trust::{PinStore, Trust};

/// Seeds per alias at most (`cluster.remote.<alias>.seeds`).
pub const SEEDS_MAX: usize = 64;

/// The follower's transport. Cheap to clone.
#[derive(Clone)]
pub struct TransportClient {
    shared: Arc<ClientShared>,
}

/// What the client and its remotes share.
pub(crate) struct ClientShared {
    pub(crate) endpoint: quinn::Endpoint,
    pub(crate) client_config: quinn::ClientConfig,
    pub(crate) config: TransportConfig,
    pub(crate) pinned_mode: bool,
    pub(crate) pin_store: Arc<dyn PinStore>,
    remotes: Mutex<HashMap<String, Arc<RemoteConnection>>>,
    jitter_seed: Mutex<Jitter>,
}

impl std::fmt::Debug for TransportClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportClient")
            .field("local_addr", &self.shared.endpoint.local_addr().ok())
            .field("pinned_mode", &self.shared.pinned_mode)
            .finish_non_exhaustive()
    }
}

impl TransportClient {
    /// A client bound to `bind` (`0.0.0.0:0` in a node; `127.0.0.1:0` in tests). Must run
    /// inside a tokio runtime.
    pub fn new(
        config: TransportConfig,
        identity: &Identity,
        trust: Trust,
        pin_store: Arc<dyn PinStore>,
        bind: SocketAddr,
    ) -> Result<Self, SetupError> {
        let parameters = config.quic_parameters()?;
        let tls = client_tls_config(identity, &trust)?;
        let crypto =
            QuicClientConfig::try_from(tls).map_err(|error| SetupError::Quic(error.to_string()))?;
        let mut client_config = quinn::ClientConfig::new(Arc::new(crypto));
        client_config.transport_config(Arc::new(parameters.transport_config()?));
        let socket = bind_udp(bind)?;
        tune_udp(&socket, &config);
        let endpoint = quinn::Endpoint::new(
            parameters.endpoint_config()?,
            None,
            socket,
            Arc::new(quinn::TokioRuntime),
        )
        .map_err(|source| SetupError::Bind { addr: bind, source })?;
        let shared = ClientShared {
            endpoint,
            client_config,
            config,
            pinned_mode: matches!(trust, Trust::Pinned),
            pin_store,
            remotes: Mutex::new(HashMap::new()),
            jitter_seed: Mutex::new(Jitter::from_entropy()),
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    /// Makes reconnect jitter replayable (tests, simulations).
    pub fn set_jitter_seed(&self, seed: u64) {
        *self.shared.jitter_seed.lock() = Jitter::from_seed(seed);
    }

    /// Registers `alias` with its seeds (replacing the seeds of a known alias, which keeps its
    /// connection) and connects if not connected.
    pub async fn connect_alias(
        &self,
        alias: &str,
        seeds: Vec<String>,
    ) -> Result<Arc<RemoteConnection>, TransportError> {
        let remote = self.register_alias(alias, seeds)?;
        let deadline =
            Instant::now() + Duration::from_millis(self.shared.config.connect_timeout_ms);
        remote.connection(deadline).await?;
        Ok(remote)
    }

    /// Registers `alias` without connecting; the first request connects.
    pub fn register_alias(
        &self,
        alias: &str,
        seeds: Vec<String>,
    ) -> Result<Arc<RemoteConnection>, TransportError> {
        if seeds.is_empty() || seeds.len() > SEEDS_MAX {
            return Err(TransportError::Unreachable {
                alias: alias.to_owned(),
                reason: format!("{} seeds given, expected 1..={SEEDS_MAX}", seeds.len()),
            });
        }
        let mut remotes = self.shared.remotes.lock();
        if let Some(remote) = remotes.get(alias) {
            remote.set_seeds(seeds);
            return Ok(remote.clone());
        }
        let jitter = Jitter::from_seed(self.shared.jitter_seed.lock().next_u64());
        let remote = Arc::new(RemoteConnection::new(
            alias,
            seeds,
            self.shared.clone(),
            jitter,
        ));
        remotes.insert(alias.to_owned(), remote.clone());
        Ok(remote)
    }

    /// The registered alias, if any.
    pub fn remote(&self, alias: &str) -> Option<Arc<RemoteConnection>> {
        self.shared.remotes.lock().get(alias).cloned()
    }

    /// Forgets `alias`: closes its connection and clears its certificate pin, so the next
    /// registration trusts whatever certificate it meets first.
    pub fn remove_alias(&self, alias: &str) {
        let removed = self.shared.remotes.lock().remove(alias);
        if let Some(remote) = removed {
            remote.close();
        }
        self.shared.pin_store.unpin(alias);
        tracing::info!(alias, "remote alias removed, pin cleared");
    }

    /// Closes every connection and the endpoint.
    pub async fn shutdown(&self) {
        let remotes: Vec<_> = self
            .shared
            .remotes
            .lock()
            .drain()
            .map(|(_, remote)| remote)
            .collect();
        for remote in remotes {
            remote.close();
        }
        self.shared
            .endpoint
            .close(codes::CLOSED, b"client shutting down");
        let drain = Duration::from_millis(SHUTDOWN_DRAIN_MS_MAX);
        let _ = tokio::time::timeout(drain, self.shared.endpoint.wait_idle()).await;
    }
}
