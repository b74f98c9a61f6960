//! `RemoteConnection`: one remote alias, its seeds and its one QUIC connection. A request on a
//! dead connection re-dials the seeds in order under an async lock (so an alias never dials
//! twice at once), after an exponential, jittered backoff once dials have failed, and in demo
//! mode checks the leader's certificate against the pin before any request is sent.
//!
//! It must never send a request on a connection whose certificate it has not accepted, never
//! keep two connections for one alias, and never retry a request itself.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tandem_wire::{decode_response, Frame, Message, RemoteError, WireMessage};
use tokio::time::Instant;

use crate::backoff::{backoff_base_ms, jittered_ms, Jitter};
use crate::client::ClientShared;
use crate::error::{codes, from_connection_error, TransportError};
use crate::exchange::{send_request, ResponseFrames};
use crate::identity::Fingerprint;
use crate::server::peer_leaf;
use crate::trust::check_pin;

/// Addresses one seed host may resolve to that we try.
const ADDRESSES_PER_SEED_MAX: usize = 8;

/// One remote alias: its seeds and its one connection.
pub struct RemoteConnection {
    alias: String,
    seeds: Mutex<Vec<String>>,
    shared: Arc<ClientShared>,
    /// The connection requests use; checked without waiting on `link`.
    current: Mutex<Option<quinn::Connection>>,
    /// Set when the alias is removed or the client shut down: never dial again.
    closed: AtomicBool,
    // An async mutex: a request waits while another one reconnects, so one alias never dials
    // twice at once.
    link: tokio::sync::Mutex<Link>,
}

impl std::fmt::Debug for RemoteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConnection")
            .field("alias", &self.alias)
            .finish_non_exhaustive()
    }
}

struct Link {
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<TransportError>,
    jitter: Jitter,
}

impl RemoteConnection {
    pub(crate) fn new(
        alias: &str,
        seeds: Vec<String>,
        shared: Arc<ClientShared>,
        jitter: Jitter,
    ) -> Self {
        Self {
            alias: alias.to_owned(),
            seeds: Mutex::new(seeds),
            shared,
            current: Mutex::new(None),
            closed: AtomicBool::new(false),
            link: tokio::sync::Mutex::new(Link {
                failures: 0,
                retry_at: None,
                last_error: None,
                jitter,
            }),
        }
    }

    /// Replaces the seeds; the current connection, if any, stays.
    pub(crate) fn set_seeds(&self, seeds: Vec<String>) {
        *self.seeds.lock() = seeds;
    }

    /// The alias.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// Sends `request` on a new stream and returns its one answer frame (the success answer or
    /// an error frame: decode it with `tandem_wire::decode_response`). Connecting, if needed,
    /// counts against `timeout`.
    pub async fn request(
        &self,
        request: &Message,
        timeout: Duration,
    ) -> Result<Frame, TransportError> {
        let deadline = Instant::now() + timeout;
        let exchange = async {
            let connection = self.connection(deadline).await?;
            let (send, recv) = self.send(&connection, request).await?;
            ResponseFrames::new(&self.alias, request.kind(), send, recv, timeout)
                .single()
                .await
        };
        match tokio::time::timeout_at(deadline, exchange).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out(timeout)),
        }
    }

    /// [`RemoteConnection::request`] and decode: `Ok(Ok(answer))`, `Ok(Err(remote error))`
    /// for a typed error from the leader, `Err` for a transport or protocol failure.
    pub async fn call<T: WireMessage>(
        &self,
        request: &Message,
        timeout: Duration,
    ) -> Result<Result<T, RemoteError>, TransportError> {
        let frame = self.request(request, timeout).await?;
        decode_response::<T>(&frame).map_err(|error| TransportError::Protocol {
            alias: self.alias.clone(),
            reason: format!("bad {} answer: {error}", frame.kind),
        })
    }

    /// Sends `request` and returns its answer frames as they arrive (a chunked file answer);
    /// each frame must arrive within `frame_timeout`.
    pub async fn request_stream(
        &self,
        request: &Message,
        frame_timeout: Duration,
    ) -> Result<ResponseFrames, TransportError> {
        let deadline = Instant::now() + frame_timeout;
        let open = async {
            let connection = self.connection(deadline).await?;
            self.send(&connection, request).await
        };
        match tokio::time::timeout_at(deadline, open).await {
            Ok(Ok((send, recv))) => Ok(ResponseFrames::new(
                &self.alias,
                request.kind(),
                send,
                recv,
                frame_timeout,
            )),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(self.timed_out(frame_timeout)),
        }
    }

    /// Whether a connection is up right now.
    pub fn is_connected(&self) -> bool {
        self.live_connection().is_some()
    }

    /// Smoothed round-trip time of the current connection.
    pub fn rtt(&self) -> Option<Duration> {
        self.live_connection().map(|connection| connection.rtt())
    }

    /// Fingerprint of the certificate the current connection's peer presented.
    pub fn peer_fingerprint(&self) -> Option<Fingerprint> {
        let connection = self.live_connection()?;
        peer_leaf(&connection).map(|leaf| Fingerprint::of(leaf.as_ref()))
    }

    fn live_connection(&self) -> Option<quinn::Connection> {
        let current = self.current.lock();
        current
            .as_ref()
            .filter(|connection| connection.close_reason().is_none())
            .cloned()
    }

    async fn send(
        &self,
        connection: &quinn::Connection,
        request: &Message,
    ) -> Result<(quinn::SendStream, quinn::RecvStream), TransportError> {
        send_request(connection, &self.alias, request).await
    }

    fn timed_out(&self, timeout: Duration) -> TransportError {
        TransportError::TimedOut {
            alias: self.alias.clone(),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Some(connection) = self.current.lock().take() {
            connection.close(codes::CLOSED, b"remote alias removed");
        }
    }

    /// The live connection, dialling if needed. Waits out the backoff when it ends before
    /// `deadline`, and otherwise fails at once with the last error.
    pub(crate) async fn connection(
        &self,
        deadline: Instant,
    ) -> Result<quinn::Connection, TransportError> {
        if let Some(connection) = self.live_connection() {
            return Ok(connection);
        }
        let mut link = self.link.lock().await;
        // Another request may have reconnected while this one waited for the lock.
        if let Some(connection) = self.live_connection() {
            return Ok(connection);
        }
        if self.closed.load(Ordering::SeqCst) {
            return Err(TransportError::Shutdown);
        }
        if let Some(retry_at) = link.retry_at {
            if retry_at > deadline {
                return Err(link
                    .last_error
                    .clone()
                    .unwrap_or_else(|| self.unreachable("backing off")));
            }
            tokio::time::sleep_until(retry_at).await;
        }
        match self.dial().await {
            Ok(connection) => {
                link.failures = 0;
                link.retry_at = None;
                link.last_error = None;
                *self.current.lock() = Some(connection.clone());
                if self.closed.load(Ordering::SeqCst) {
                    connection.close(codes::CLOSED, b"remote alias removed");
                    return Err(TransportError::Shutdown);
                }
                Ok(connection)
            }
            Err(error) => {
                link.failures = link.failures.saturating_add(1);
                let base = backoff_base_ms(
                    self.shared.config.backoff_initial_ms,
                    self.shared.config.backoff_max_ms,
                    link.failures,
                );
                let delay_ms = jittered_ms(base, &mut link.jitter);
                link.retry_at = Some(Instant::now() + Duration::from_millis(delay_ms));
                link.last_error = Some(error.clone());
                tracing::warn!(
                    alias = %self.alias,
                    failures = link.failures,
                    delay_ms,
                    %error,
                    "connect failed"
                );
                Err(error)
            }
        }
    }

    /// Tries the seeds in order; the first accepted connection wins. A pin mismatch stops at
    /// once: it is a security event, not an outage.
    async fn dial(&self) -> Result<quinn::Connection, TransportError> {
        let seeds = self.seeds.lock().clone();
        let mut failures = Vec::new();
        for seed in &seeds {
            match self.dial_seed(seed).await {
                Ok(connection) => return Ok(connection),
                Err(error @ TransportError::PinMismatch { .. }) => return Err(error),
                Err(error) => failures.push((seed.clone(), error)),
            }
        }
        // Every seed failed for a reason retrying cannot fix (a certificate, an allowlist):
        // report the first such reason, fatal. Otherwise some seed may come back: list them
        // all, retryable.
        if failures.iter().all(|(_, error)| !error.is_retryable()) {
            if let Some((_, error)) = failures.into_iter().next() {
                return Err(error);
            }
            return Err(self.unreachable("no seed"));
        }
        let reasons: Vec<String> = failures
            .iter()
            .map(|(seed, error)| format!("{seed}: {error}"))
            .collect();
        Err(self.unreachable(&reasons.join("; ")))
    }

    async fn dial_seed(&self, seed: &str) -> Result<quinn::Connection, TransportError> {
        let (host, addresses) = resolve(seed)
            .await
            .map_err(|reason| self.unreachable(&reason))?;
        let mut last = self.unreachable(&format!("{seed} resolved to no address"));
        for address in addresses.into_iter().take(ADDRESSES_PER_SEED_MAX) {
            let connecting = self
                .shared
                .endpoint
                .connect_with(self.shared.client_config.clone(), address, &host)
                .map_err(|error| self.unreachable(&error.to_string()))?;
            let connect_timeout = Duration::from_millis(self.shared.config.connect_timeout_ms);
            let connection = match tokio::time::timeout(connect_timeout, connecting).await {
                Ok(Ok(connection)) => connection,
                Ok(Err(error)) => {
                    last = match from_connection_error(&self.alias, &error) {
                        TransportError::ConnectionLost { reason, .. } => self.unreachable(&reason),
                        other => other,
                    };
                    continue;
                }
                Err(_) => {
                    last = self.unreachable(&format!("handshake with {address} timed out"));
                    continue;
                }
            };
            self.accept_certificate(&connection)?;
            tracing::info!(alias = %self.alias, %address, "connected to remote");
            return Ok(connection);
        }
        Err(last)
    }

    /// Demo mode: trust on first use. Mutual TLS: rustls already verified the chain.
    fn accept_certificate(&self, connection: &quinn::Connection) -> Result<(), TransportError> {
        if !self.shared.pinned_mode {
            return Ok(());
        }
        let Some(leaf) = peer_leaf(connection) else {
            connection.close(codes::PIN_MISMATCH, b"no server certificate");
            return Err(TransportError::Tls {
                alias: self.alias.clone(),
                reason: "no server certificate".into(),
            });
        };
        let found = Fingerprint::of(leaf.as_ref());
        match check_pin(self.shared.pin_store.as_ref(), &self.alias, found) {
            Ok(outcome) => {
                tracing::info!(
                    alias = %self.alias,
                    fingerprint = %found,
                    ?outcome,
                    "leader certificate accepted"
                );
                Ok(())
            }
            Err(error) => {
                connection.close(codes::PIN_MISMATCH, b"certificate pin mismatch");
                tracing::error!(alias = %self.alias, %error, "leader certificate refused");
                Err(error)
            }
        }
    }

    fn unreachable(&self, reason: &str) -> TransportError {
        TransportError::Unreachable {
            alias: self.alias.clone(),
            reason: reason.to_owned(),
        }
    }
}

/// Splits `host:port` (`[v6]:port` too) and resolves it; the host is the TLS server name.
async fn resolve(seed: &str) -> Result<(String, Vec<SocketAddr>), String> {
    let (host, port) = seed
        .rsplit_once(':')
        .ok_or_else(|| format!("seed [{seed}] has no port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("seed [{seed}] has a bad port"))?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok((host, vec![SocketAddr::new(ip, port)]));
    }
    let addresses = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|error| format!("cannot resolve [{host}]: {error}"))?
        .collect();
    Ok((host, addresses))
}
