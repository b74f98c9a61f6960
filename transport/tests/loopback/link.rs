//! Idle timeout and keep-alive on a real link: a UDP relay on loopback between follower and
//! leader that can black-hole every datagram (a partition that drops, not refuses). Keep-alives
//! hold a quiet connection open; a partition kills it after the idle timeout, retryably; the
//! follower reconnects once the link heals.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tandem_transport::{Identity, TransportConfig, Trust};
use tandem_wire::{Message, SnapshotRelease};
use tokio::net::UdpSocket;

use crate::support::*;

/// Datagrams larger than this are not QUIC from our endpoints.
const DATAGRAM_BYTES_MAX: usize = 65_536;

/// Relays datagrams between one client and `server`, dropping all while `black_hole` is set.
async fn start_relay(server: SocketAddr, black_hole: Arc<AtomicBool>) -> SocketAddr {
    let front = UdpSocket::bind(loopback()).await.expect("front socket");
    let back = UdpSocket::bind(loopback()).await.expect("back socket");
    back.connect(server).await.expect("connect back");
    let addr = front.local_addr().expect("front addr");
    tokio::spawn(async move {
        let mut client: Option<SocketAddr> = None;
        let mut from_client = vec![0u8; DATAGRAM_BYTES_MAX];
        let mut from_server = vec![0u8; DATAGRAM_BYTES_MAX];
        loop {
            tokio::select! {
                received = front.recv_from(&mut from_client) => {
                    let Ok((len, source)) = received else { return };
                    client = Some(source);
                    if !black_hole.load(Ordering::SeqCst) {
                        let _ = back.send(&from_client[..len]).await;
                    }
                }
                received = back.recv(&mut from_server) => {
                    let Ok(len) = received else { return };
                    if let (Some(client), false) = (client, black_hole.load(Ordering::SeqCst)) {
                        let _ = front.send_to(&from_server[..len], client).await;
                    }
                }
            }
        }
    });
    addr
}

fn short_idle_config() -> TransportConfig {
    TransportConfig {
        idle_timeout_ms: 1_000,
        keep_alive_interval_ms: 250,
        connect_timeout_ms: 1_000,
        request_read_ms_max: 1_000,
        backoff_initial_ms: 10,
        backoff_max_ms: 100,
        ..TransportConfig::default()
    }
}

fn release() -> Message {
    Message::SnapshotRelease(SnapshotRelease { pin_id: 5 })
}

#[tokio::test]
async fn keep_alives_hold_a_quiet_connection_and_a_partition_ends_it_retryably() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server_with(&identity, Trust::Pinned, loopback(), short_idle_config());
    let black_hole = Arc::new(AtomicBool::new(false));
    let relay = start_relay(server.addr, black_hole.clone()).await;
    let follower = Identity::generate("follower").expect("identity");
    let (client, _pins) = start_client_with(&follower, Trust::Pinned, short_idle_config());
    let remote = client
        .connect_alias("leader", vec![relay.to_string()])
        .await
        .expect("connect");
    remote
        .request(&release(), Duration::from_secs(2))
        .await
        .expect("first request");

    // Quiet for more than twice the idle timeout: keep-alives keep the connection.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(
        remote.is_connected(),
        "keep-alives should hold the connection open"
    );
    remote
        .request(&release(), Duration::from_secs(2))
        .await
        .expect("same connection");

    // A partition that drops everything: the idle timeout ends the connection.
    black_hole.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1_600)).await;
    assert!(
        !remote.is_connected(),
        "idle timeout should have closed the connection"
    );
    let error = remote
        .request(&release(), Duration::from_millis(500))
        .await
        .expect_err("partitioned");
    assert!(error.is_retryable(), "{error}");

    // The link heals: the next requests reconnect.
    black_hole.store(false, Ordering::SeqCst);
    let mut answered = false;
    for _ in 0..40 {
        if remote
            .request(&release(), Duration::from_millis(1_000))
            .await
            .is_ok()
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "reconnected after the partition healed");
    client.shutdown().await;
    server.server.shutdown().await;
}
