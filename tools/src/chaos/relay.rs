//! The async shell of the chaos proxy: sockets, timers and the client table.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::plan::{FaultConfig, FaultPlan, PlanError, Verdict};
use super::{CLIENTS_MAX, DATAGRAMS_IN_FLIGHT_MAX, DATAGRAM_BYTES_MAX};

/// Where to listen, where to relay, and what to break.
#[derive(Debug, Clone, Copy)]
pub struct ProxyConfig {
    /// Address clients send to.
    pub listen: SocketAddr,
    /// Address datagrams are relayed to.
    pub upstream: SocketAddr,
    /// Faults on the way to the upstream.
    pub to_upstream: FaultConfig,
    /// Faults on the way back to clients.
    pub to_client: FaultConfig,
    /// Seed of both plans; printed so a run can be replayed.
    pub seed: u64,
}

/// Why the proxy could not start.
#[derive(Debug, Error)]
pub enum ProxyError {
    /// A fault setting is out of range.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A socket could not be bound.
    #[error("cannot bind {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

/// Counters of what the proxy did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ProxyStats {
    /// Datagrams received from either side.
    pub received: u64,
    /// Datagrams dropped by the plan, a partition or a full queue.
    pub dropped: u64,
    /// Datagrams sent (copies included).
    pub sent: u64,
}

struct Shared {
    started: Instant,
    to_upstream: Mutex<FaultPlan>,
    to_client: Mutex<FaultPlan>,
    in_flight: AtomicUsize,
    received: AtomicU64,
    dropped: AtomicU64,
    sent: AtomicU64,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

fn lock(plan: &Mutex<FaultPlan>) -> MutexGuard<'_, FaultPlan> {
    // A plan is plain data; a panic elsewhere cannot leave it half-updated.
    plan.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running proxy. Dropping it stops it.
pub struct ChaosProxy {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl ChaosProxy {
    /// Binds `config.listen` and starts relaying.
    pub async fn start(config: ProxyConfig) -> Result<ChaosProxy, ProxyError> {
        config.to_upstream.validate()?;
        config.to_client.validate()?;
        let listener = UdpSocket::bind(config.listen)
            .await
            .map_err(|source| ProxyError::Bind {
                address: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| ProxyError::Bind {
            address: config.listen,
            source,
        })?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            to_upstream: Mutex::new(FaultPlan::new(config.to_upstream, config.seed)),
            to_client: Mutex::new(FaultPlan::new(config.to_client, config.seed ^ 0x5555)),
            in_flight: AtomicUsize::new(0),
            received: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(
            Arc::new(listener),
            config.upstream,
            shared.clone(),
            stopped,
        ));
        tracing::info!(%local_addr, upstream = %config.upstream, seed = config.seed, "chaos proxy started");
        Ok(ChaosProxy {
            local_addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// The address clients send to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Drops every datagram in both directions for `duration` (packets vanish; nothing is
    /// refused, as on a real partition).
    pub fn partition(&self, duration: Duration) {
        let until = self.shared.now_ms() + u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        lock(&self.shared.to_upstream).partition_until(until);
        lock(&self.shared.to_client).partition_until(until);
    }

    /// What the proxy did so far.
    pub fn stats(&self) -> ProxyStats {
        ProxyStats {
            received: self.shared.received.load(Ordering::Relaxed),
            dropped: self.shared.dropped.load(Ordering::Relaxed),
            sent: self.shared.sent.load(Ordering::Relaxed),
        }
    }

    /// Stops relaying and waits for the relay task.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run(
    listener: Arc<UdpSocket>,
    upstream: SocketAddr,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut clients: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut pumps: Vec<JoinHandle<()>> = Vec::new();
    let mut buffer = vec![0u8; DATAGRAM_BYTES_MAX];
    loop {
        let (len, client) = tokio::select! {
            _ = stopped.changed() => break,
            received = listener.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                Err(error) => {
                    tracing::debug!(%error, "chaos proxy receive failed");
                    continue;
                }
            },
        };
        shared.received.fetch_add(1, Ordering::Relaxed);
        let upstream_socket = match clients.get(&client) {
            Some(socket) => socket.clone(),
            None if clients.len() >= CLIENTS_MAX => {
                shared.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            None => {
                let bind: SocketAddr = if upstream.is_ipv4() {
                    ([127, 0, 0, 1], 0).into()
                } else {
                    (std::net::Ipv6Addr::LOCALHOST, 0).into()
                };
                let Ok(socket) = UdpSocket::bind(bind).await else {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let socket = Arc::new(socket);
                clients.insert(client, socket.clone());
                pumps.push(tokio::spawn(pump_back(
                    socket.clone(),
                    listener.clone(),
                    client,
                    shared.clone(),
                    stopped.clone(),
                )));
                socket
            }
        };
        let verdict = lock(&shared.to_upstream).decide(shared.now_ms());
        schedule(
            verdict,
            buffer[..len].to_vec(),
            upstream_socket,
            upstream,
            &shared,
        );
    }
    for pump in pumps {
        pump.abort();
    }
}

/// Relays what the upstream answers one client.
async fn pump_back(
    socket: Arc<UdpSocket>,
    listener: Arc<UdpSocket>,
    client: SocketAddr,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut buffer = vec![0u8; DATAGRAM_BYTES_MAX];
    loop {
        let len = tokio::select! {
            _ = stopped.changed() => return,
            received = socket.recv_from(&mut buffer) => match received {
                Ok((len, _)) => len,
                Err(_) => continue,
            },
        };
        shared.received.fetch_add(1, Ordering::Relaxed);
        let verdict = lock(&shared.to_client).decide(shared.now_ms());
        schedule(
            verdict,
            buffer[..len].to_vec(),
            listener.clone(),
            client,
            &shared,
        );
    }
}

fn schedule(
    verdict: Verdict,
    datagram: Vec<u8>,
    socket: Arc<UdpSocket>,
    target: SocketAddr,
    shared: &Arc<Shared>,
) {
    let Verdict::Deliver {
        at_ms,
        duplicate_at_ms,
    } = verdict
    else {
        shared.dropped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    for when in std::iter::once(at_ms).chain(duplicate_at_ms) {
        if shared.in_flight.fetch_add(1, Ordering::Relaxed) >= DATAGRAMS_IN_FLIGHT_MAX {
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let deadline = shared.started + Duration::from_millis(when);
        let (socket, datagram, shared) = (socket.clone(), datagram.clone(), shared.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline.into()).await;
            if socket.send_to(&datagram, target).await.is_ok() {
                shared.sent.fetch_add(1, Ordering::Relaxed);
            }
            shared.in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn echo_server() -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind echo");
        let address = socket.local_addr().expect("echo address");
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 2048];
            while let Ok((len, from)) = socket.recv_from(&mut buffer).await {
                let _ = socket.send_to(&buffer[..len], from).await;
            }
        });
        address
    }

    async fn proxy(upstream: SocketAddr, faults: FaultConfig) -> ChaosProxy {
        ChaosProxy::start(ProxyConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            upstream,
            to_upstream: faults,
            to_client: faults,
            seed: 42,
        })
        .await
        .expect("proxy")
    }

    /// Sends `count` datagrams and counts the echoes that come back within `wait`.
    async fn echoes(proxy: SocketAddr, count: usize, wait: Duration) -> (usize, Duration) {
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
        let started = Instant::now();
        for n in 0..count {
            client.send_to(&n.to_le_bytes(), proxy).await.expect("send");
        }
        let mut received = 0;
        let mut first = None;
        let mut buffer = [0u8; 64];
        while let Ok(Ok(_)) = tokio::time::timeout(wait, client.recv_from(&mut buffer)).await {
            first.get_or_insert_with(|| started.elapsed());
            received += 1;
        }
        (received, first.unwrap_or(wait))
    }

    #[tokio::test]
    async fn delay_applies_both_ways_and_nothing_is_lost_without_loss() {
        let upstream = echo_server().await;
        let faults = FaultConfig {
            delay_ms: 40,
            ..FaultConfig::NONE
        };
        let proxy = proxy(upstream, faults).await;
        let (received, first) = echoes(proxy.local_addr(), 50, Duration::from_millis(500)).await;
        assert_eq!(received, 50);
        assert!(first >= Duration::from_millis(80), "round trip {first:?}");
        proxy.stop().await;
    }

    #[tokio::test]
    async fn loss_drops_a_share_in_each_direction() {
        let upstream = echo_server().await;
        let faults = FaultConfig {
            loss: 0.5,
            ..FaultConfig::NONE
        };
        let proxy = proxy(upstream, faults).await;
        let (received, _) = echoes(proxy.local_addr(), 400, Duration::from_millis(300)).await;
        assert!(
            (40..=170).contains(&received),
            "{received} of 400 came back"
        );
        assert!(proxy.stats().dropped > 0);
        proxy.stop().await;
    }

    #[tokio::test]
    async fn a_partition_drops_everything_until_it_heals() {
        let upstream = echo_server().await;
        let proxy = proxy(upstream, FaultConfig::NONE).await;
        proxy.partition(Duration::from_millis(300));
        let (during, _) = echoes(proxy.local_addr(), 20, Duration::from_millis(150)).await;
        assert_eq!(during, 0);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (after, _) = echoes(proxy.local_addr(), 20, Duration::from_millis(200)).await;
        assert_eq!(after, 20);
        proxy.stop().await;
    }
}
