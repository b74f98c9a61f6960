//! `QuicParameters`: the values `TransportConfig` hands quinn, as a plain struct tests can
//! read, and their application to quinn's `TransportConfig` and `ServerConfig`. Every limit is
//! set explicitly; none is left to quinn's defaults. It must never decide a value: that is
//! `TransportConfig`'s job.

use std::sync::Arc;
use std::time::Duration;

use quinn::congestion::{BbrConfig, CubicConfig};
use quinn::{IdleTimeout, MtuDiscoveryConfig, VarInt};

use super::{CongestionController, IDLE_TIMEOUT_MS_MAX};
use crate::error::ConfigError;

/// The values set on quinn's configs, explicitly, none left to quinn's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuicParameters {
    /// `TransportConfig::stream_receive_window`.
    pub stream_receive_window_bytes: u64,
    /// `TransportConfig::receive_window`.
    pub receive_window_bytes: u64,
    /// `TransportConfig::send_window`.
    pub send_window_bytes: u64,
    /// `TransportConfig::max_concurrent_bidi_streams`.
    pub bidi_streams_max: u32,
    /// `TransportConfig::max_concurrent_uni_streams`.
    pub uni_streams_max: u32,
    /// Whether `datagram_receive_buffer_size` is set.
    pub datagrams_enabled: bool,
    /// `TransportConfig::max_idle_timeout`.
    pub idle_timeout: Duration,
    /// `TransportConfig::keep_alive_interval`.
    pub keep_alive_interval: Duration,
    /// `TransportConfig::initial_rtt`.
    pub initial_rtt: Duration,
    /// `TransportConfig::congestion_controller_factory`.
    pub congestion: CongestionController,
    /// `ServerConfig::migration`.
    pub migration: bool,
    /// `ServerConfig::max_incoming`.
    pub incoming_handshakes_max: usize,
    /// `ServerConfig::incoming_buffer_size`.
    pub incoming_buffer_bytes_max: u64,
    /// `ServerConfig::incoming_buffer_size_total`.
    pub incoming_buffer_total_bytes_max: u64,
    /// `MtuDiscoveryConfig::upper_bound` and `EndpointConfig::max_udp_payload_size`.
    pub udp_payload_bytes_max: u16,
}

impl QuicParameters {
    /// quinn's per-connection transport config.
    pub fn transport_config(&self) -> Result<quinn::TransportConfig, ConfigError> {
        let mut transport = quinn::TransportConfig::default();
        transport
            .stream_receive_window(varint(
                "stream_receive_window_bytes",
                self.stream_receive_window_bytes,
            )?)
            .receive_window(varint("receive_window_bytes", self.receive_window_bytes)?)
            .send_window(self.send_window_bytes)
            .max_concurrent_bidi_streams(VarInt::from_u32(self.bidi_streams_max))
            .max_concurrent_uni_streams(VarInt::from_u32(self.uni_streams_max))
            .max_idle_timeout(Some(idle_timeout(self.idle_timeout)?))
            .keep_alive_interval(Some(self.keep_alive_interval))
            .initial_rtt(self.initial_rtt);
        let mut mtu_discovery = MtuDiscoveryConfig::default();
        mtu_discovery.upper_bound(self.udp_payload_bytes_max);
        transport.mtu_discovery_config(Some(mtu_discovery));
        if !self.datagrams_enabled {
            transport.datagram_receive_buffer_size(None);
        }
        match self.congestion {
            CongestionController::Cubic => {
                transport.congestion_controller_factory(Arc::new(CubicConfig::default()))
            }
            CongestionController::Bbr => {
                transport.congestion_controller_factory(Arc::new(BbrConfig::default()))
            }
        };
        Ok(transport)
    }

    /// quinn's endpoint config: what a peer may send us.
    pub fn endpoint_config(&self) -> Result<quinn::EndpointConfig, ConfigError> {
        let mut endpoint = quinn::EndpointConfig::default();
        endpoint
            .max_udp_payload_size(self.udp_payload_bytes_max)
            .map_err(|_| ConfigError::OutOfRange {
                name: "udp_payload_bytes_max",
                value: u64::from(self.udp_payload_bytes_max),
                min: super::UDP_PAYLOAD_BYTES_MIN,
                max: super::UDP_PAYLOAD_BYTES_MAX,
            })?;
        Ok(endpoint)
    }

    /// Applies the server-only limits to quinn's server config.
    pub fn apply_to_server(&self, server: &mut quinn::ServerConfig) -> Result<(), ConfigError> {
        server
            .transport_config(Arc::new(self.transport_config()?))
            .migration(self.migration)
            .max_incoming(self.incoming_handshakes_max)
            .incoming_buffer_size(self.incoming_buffer_bytes_max)
            .incoming_buffer_size_total(self.incoming_buffer_total_bytes_max);
        Ok(())
    }
}

fn varint(name: &'static str, value: u64) -> Result<VarInt, ConfigError> {
    VarInt::from_u64(value).map_err(|_| ConfigError::OutOfRange {
        name,
        value,
        min: 0,
        max: VarInt::MAX.into_inner(),
    })
}

fn idle_timeout(value: Duration) -> Result<IdleTimeout, ConfigError> {
    IdleTimeout::try_from(value).map_err(|_| ConfigError::OutOfRange {
        name: "idle_timeout_ms",
        value: u64::try_from(value.as_millis()).unwrap_or(u64::MAX),
        min: 1,
        max: IDLE_TIMEOUT_MS_MAX,
    })
}
