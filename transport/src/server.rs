//! `TransportServer`: the quinn endpoint on `transport.port`, its accept loop and the admission
//! of each connection (connection limit, ALPN, loopback rule or `nodes_dn`), before any stream
//! of it is read.
//!
//! It owns the endpoint and the tasks it spawns, and stops them in [`TransportServer::shutdown`].
//! Serving the streams of an admitted connection is `serve`'s job. It must never read a request
//! from a connection that was not admitted, and never hold more connections than configured.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use quinn::crypto::rustls::{HandshakeData, QuicServerConfig};
use rustls_pki_types::CertificateDer;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::config::{TransportConfig, HANDSHAKES_BEFORE_RETRY_MAX};
use crate::dn::subject_dn;
use crate::error::{codes, SetupError};
use crate::handler::{PeerInfo, RequestHandler};
use crate::identity::{Fingerprint, Identity};
use crate::serve::{serve_connection, ServeLimits};
use crate::socket::{bind_udp, tune_udp};
use crate::tls::{server_tls_config, ALPN};
use crate::trust::{admit_dn, admit_unauthenticated, Admission, Trust};

/// How long shutdown waits for connections to say goodbye before dropping them.
pub const SHUTDOWN_DRAIN_MS_MAX: u64 = 2_000;

/// Scheduler turns shutdown gives quinn's driver to drop the socket.
const SOCKET_RELEASE_YIELDS_MAX: usize = 8;

/// A running transport server. Dropping it without [`TransportServer::shutdown`] closes the
/// endpoint abruptly.
#[derive(Debug)]
pub struct TransportServer {
    endpoint: quinn::Endpoint,
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    accept_task: tokio::task::JoinHandle<()>,
}

/// What every connection task needs.
struct ServerShared {
    config: TransportConfig,
    trust: Trust,
    handler: Arc<dyn RequestHandler>,
    connections: Arc<Semaphore>,
    /// Handshakes accepted and not yet finished.
    handshaking: AtomicUsize,
    shutdown: watch::Receiver<bool>,
}

impl TransportServer {
    /// Binds `socket` (already bound by the caller, e.g. to `network.host:transport.port`)
    /// and starts accepting connections. Must run inside a tokio runtime.
    pub fn start(
        config: TransportConfig,
        identity: &Identity,
        trust: Trust,
        handler: Arc<dyn RequestHandler>,
        socket: std::net::UdpSocket,
    ) -> Result<(TransportServer, SocketAddr), SetupError> {
        let parameters = config.quic_parameters()?;
        tune_udp(&socket, &config);
        let tls = server_tls_config(identity, &trust)?;
        let crypto =
            QuicServerConfig::try_from(tls).map_err(|error| SetupError::Quic(error.to_string()))?;
        let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
        parameters.apply_to_server(&mut server_config)?;
        let requested = socket.local_addr().map_err(|source| SetupError::Bind {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        let endpoint = quinn::Endpoint::new(
            parameters.endpoint_config()?,
            Some(server_config),
            socket,
            Arc::new(quinn::TokioRuntime),
        )
        .map_err(|source| SetupError::Bind {
            addr: requested,
            source,
        })?;
        let local_addr = endpoint.local_addr().map_err(|source| SetupError::Bind {
            addr: requested,
            source,
        })?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(ServerShared {
            connections: Arc::new(Semaphore::new(config.connections_max as usize)),
            handshaking: AtomicUsize::new(0),
            config,
            trust,
            handler,
            shutdown: shutdown_rx,
        });
        let accept_task = tokio::spawn(accept_loop(endpoint.clone(), shared));
        tracing::info!(%local_addr, fingerprint = %identity.fingerprint(), "transport listening");
        Ok((
            TransportServer {
                endpoint,
                local_addr,
                shutdown,
                accept_task,
            },
            local_addr,
        ))
    }

    /// Binds a UDP socket on `addr` and starts; see [`TransportServer::start`].
    pub fn bind(
        config: TransportConfig,
        identity: &Identity,
        trust: Trust,
        handler: Arc<dyn RequestHandler>,
        addr: SocketAddr,
    ) -> Result<(TransportServer, SocketAddr), SetupError> {
        let socket = bind_udp(addr)?;
        Self::start(config, identity, trust, handler, socket)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, closes every connection with [`codes::SERVER_SHUTDOWN`] (in-flight
    /// requests fail as retryable on the client) and waits briefly for the goodbyes to leave.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        self.endpoint
            .close(codes::SERVER_SHUTDOWN, b"server shutting down");
        let drain = Duration::from_millis(SHUTDOWN_DRAIN_MS_MAX);
        let _ = tokio::time::timeout(drain, self.endpoint.wait_idle()).await;
        let _ = self.accept_task.await;
        // The socket closes when quinn's endpoint driver task sees the last handle go; give it
        // a few turns so a restart on the same port usually finds it free (not guaranteed on a
        // multi-threaded runtime, hence the bounded wait and no promise in the docs).
        drop(self.endpoint);
        for _ in 0..SOCKET_RELEASE_YIELDS_MAX {
            tokio::task::yield_now().await;
        }
        tracing::info!(local_addr = %self.local_addr, "transport stopped");
    }
}

async fn accept_loop(endpoint: quinn::Endpoint, shared: Arc<ServerShared>) {
    let mut shutdown = shared.shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            incoming = endpoint.accept() => {
                let Some(incoming) = incoming else { break };
                route_incoming(incoming, &shared, &mut connections);
            }
        }
    }
    connections.shutdown().await;
}

/// Decides what to do with a connection attempt before any handshake work: ask for address
/// validation under load, refuse past the connection limit, or handshake on its own task.
fn route_incoming(
    incoming: quinn::Incoming,
    shared: &Arc<ServerShared>,
    connections: &mut JoinSet<()>,
) {
    let remote = incoming.remote_address();
    let handshaking = shared.handshaking.load(Ordering::Relaxed);
    if needs_retry(
        incoming.remote_address_validated(),
        incoming.may_retry(),
        handshaking,
    ) {
        tracing::debug!(%remote, handshaking, "asking for address validation");
        if let Err(error) = incoming.retry() {
            error.into_incoming().ignore();
        }
        return;
    }
    let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
        tracing::warn!(%remote, "connection limit reached, refusing");
        incoming.refuse();
        return;
    };
    let shared = shared.clone();
    connections.spawn(async move {
        handle_incoming(incoming, shared).await;
        drop(permit);
    });
}

/// Under load, a source that has not proven its address gets a stateless Retry first, so
/// spoofed Initials cost no connection state (RFC 9000 §8.1).
fn needs_retry(address_validated: bool, may_retry: bool, handshaking: usize) -> bool {
    !address_validated && may_retry && handshaking >= HANDSHAKES_BEFORE_RETRY_MAX
}

/// Counts a handshake in progress until dropped.
struct Handshaking<'a>(&'a AtomicUsize);

impl<'a> Handshaking<'a> {
    fn start(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Handshaking<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn handle_incoming(incoming: quinn::Incoming, shared: Arc<ServerShared>) {
    let remote = incoming.remote_address();
    let handshaking = Handshaking::start(&shared.handshaking);
    let connecting = match incoming.accept() {
        Ok(connecting) => connecting,
        Err(error) => {
            tracing::debug!(%remote, %error, "connection attempt failed");
            return;
        }
    };
    let handshake = Duration::from_millis(shared.config.connect_timeout_ms);
    let connection = match tokio::time::timeout(handshake, connecting).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            tracing::info!(%remote, %error, "handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!(%remote, "handshake timed out");
            return;
        }
    };
    drop(handshaking);
    let peer = match admit(&connection, &shared) {
        Ok(peer) => peer,
        Err((code, reason)) => {
            tracing::warn!(%remote, %code, reason = %reason, "connection refused");
            connection.close(code, reason.as_bytes());
            return;
        }
    };
    tracing::info!(
        %remote,
        connection_id = peer.connection_id,
        dn = peer.subject_dn.as_deref().unwrap_or("-"),
        "peer connected"
    );
    let limits = ServeLimits::from_config(&shared.config);
    serve_connection(
        connection,
        peer,
        shared.handler.clone(),
        limits,
        shared.shutdown.clone(),
    )
    .await;
}

/// Checks ALPN and the trust rule; the peer's description if admitted.
fn admit(
    connection: &quinn::Connection,
    shared: &ServerShared,
) -> Result<PeerInfo, (quinn::VarInt, String)> {
    let remote_addr = connection.remote_address();
    let alpn = connection
        .handshake_data()
        .and_then(|data| data.downcast::<HandshakeData>().ok())
        .and_then(|data| data.protocol)
        .unwrap_or_default();
    if alpn != ALPN {
        return Err((codes::ALPN_MISMATCH, "alpn mismatch".to_owned()));
    }
    let leaf = peer_leaf(connection);
    let fingerprint = leaf.as_ref().map(|leaf| Fingerprint::of(leaf.as_ref()));
    let subject_dn = leaf.as_ref().and_then(|leaf| subject_dn(leaf).ok());
    let admission = match &shared.trust {
        Trust::Pinned => {
            admit_unauthenticated(remote_addr, shared.config.allow_unauthenticated_remote)
        }
        Trust::Ca(ca) => admit_dn(subject_dn.as_deref(), ca.nodes_dn()),
    };
    if let Admission::Refuse { code, reason } = admission {
        return Err((code, reason));
    }
    Ok(PeerInfo {
        remote_addr,
        fingerprint,
        subject_dn,
        alpn,
        connection_id: connection.stable_id() as u64,
    })
}

/// The peer's leaf certificate, if it presented one.
pub(crate) fn peer_leaf(connection: &quinn::Connection) -> Option<CertificateDer<'static>> {
    connection
        .peer_identity()
        .and_then(|identity| identity.downcast::<Vec<CertificateDer<'static>>>().ok())
        .and_then(|chain| chain.into_iter().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unvalidated_sources_are_asked_to_retry_only_under_load() {
        let load = HANDSHAKES_BEFORE_RETRY_MAX;
        assert!(
            !needs_retry(false, true, load - 1),
            "no load: accept directly"
        );
        assert!(needs_retry(false, true, load), "under load: retry first");
        assert!(!needs_retry(true, true, load), "validated address: accept");
        assert!(!needs_retry(false, false, load), "already retried: accept");
    }
}
