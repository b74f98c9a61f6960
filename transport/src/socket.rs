//! The UDP socket under an endpoint: bound on loopback or `network.host`, with kernel buffers
//! sized for the link, since Linux's default receive buffer (about 208 KiB, under 150 full
//! QUIC packets) drops bursts long before quinn's flow-control windows are full.
//!
//! It owns socket options only; it must never read or write datagrams (quinn does).

use std::net::{SocketAddr, UdpSocket};

use socket2::SockRef;

use crate::config::TransportConfig;
use crate::error::SetupError;

/// Binds `addr`; [`tune_udp`] is applied by the endpoint that takes the socket.
pub(crate) fn bind_udp(addr: SocketAddr) -> Result<UdpSocket, SetupError> {
    UdpSocket::bind(addr).map_err(|source| SetupError::Bind { addr, source })
}

/// Applies the configured buffer sizes. The kernel may cap them (`net.core.rmem_max`,
/// `wmem_max`); that is logged, not an error, because the transport still works, only slower
/// on long fat links.
pub(crate) fn tune_udp(socket: &UdpSocket, config: &TransportConfig) {
    let sock = SockRef::from(socket);
    let wanted_receive = usize::try_from(config.udp_receive_buffer_bytes).unwrap_or(usize::MAX);
    let wanted_send = usize::try_from(config.udp_send_buffer_bytes).unwrap_or(usize::MAX);
    if let Err(error) = sock.set_recv_buffer_size(wanted_receive) {
        tracing::warn!(%error, wanted = wanted_receive, "cannot set udp receive buffer");
    }
    if let Err(error) = sock.set_send_buffer_size(wanted_send) {
        tracing::warn!(%error, wanted = wanted_send, "cannot set udp send buffer");
    }
    let granted_receive = sock.recv_buffer_size().unwrap_or(0);
    let granted_send = sock.send_buffer_size().unwrap_or(0);
    // Linux reports twice the value set (bookkeeping overhead), so compare against half.
    if granted_receive < wanted_receive / 2 || granted_send < wanted_send / 2 {
        tracing::warn!(
            wanted_receive,
            granted_receive,
            wanted_send,
            granted_send,
            "kernel capped udp buffers; raise net.core.rmem_max and wmem_max for long fat links"
        );
    }
}
