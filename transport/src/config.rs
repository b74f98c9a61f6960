//! `TransportConfig`: every limit and default of the QUIC transport, derived by written
//! arithmetic from the link we size for (1 Gbit/s, 100 ms round trip), validated at startup,
//! and mapped onto quinn's `TransportConfig` and `ServerConfig`.
//!
//! This module owns numbers and their relations only; it must never open a socket, read a file
//! or build TLS state. The mapping to quinn goes through [`QuicParameters`], a plain struct, so
//! tests can check what we hand quinn without reading quinn's private fields.

use std::time::Duration;

use crate::error::ConfigError;

/// Bandwidth of the link the defaults are sized for: 1 Gbit/s (a cross-region replication link).
pub const LINK_BITS_PER_SECOND: u64 = 1_000_000_000;
/// Round-trip time of the link the defaults are sized for.
pub const LINK_RTT_MS: u64 = 100;
/// Bandwidth-delay product of that link: 1 Gbit/s / 8 × 100 ms = 12.5 MB. A flow-control
/// window below it caps throughput below the link rate, whatever the congestion controller does.
pub const LINK_BDP_BYTES: u64 = LINK_BITS_PER_SECOND / 8 * LINK_RTT_MS / 1000;

/// One stream (one shard's request) may fill the whole link: at least one BDP, rounded up to
/// 16 MiB so a 10 MB file chunk plus its frame never waits for a window update mid-frame.
pub const STREAM_RECEIVE_WINDOW_BYTES_DEFAULT: u64 = 16 * 1024 * 1024;
/// The connection carries several shards at once: four BDPs (50 MB), so a few streams at full
/// window share the link without stalling each other.
pub const CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT: u64 = 4 * LINK_BDP_BYTES;
/// Bytes we keep unacknowledged in flight on send: as much as the peer lets us receive.
pub const SEND_WINDOW_BYTES_DEFAULT: u64 = CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT;
/// Ceiling for any window setting: a window is memory a peer may make us buffer.
pub const WINDOW_BYTES_MAX: u64 = 1024 * 1024 * 1024;

/// Concurrent requests (bidirectional streams) a peer may open on one connection: 64 in-flight
/// changes requests per shard (wire's `REQUESTS_IN_FLIGHT_MAX`) for a few shards at once.
pub const CONCURRENT_STREAMS_DEFAULT: u32 = 256;
/// Kernel UDP buffers: quinn reads the socket in bursts, and at 1 Gbit/s 8 MiB absorbs about
/// 67 ms of arrivals while the endpoint task is busy (performance anchors §3.4: 4–8 MB).
pub const UDP_BUFFER_BYTES_DEFAULT: u64 = 8 * 1024 * 1024;
/// Largest UDP payload we send (MTU discovery's ceiling) and accept: jumbo-frame Ethernet's
/// (9000 − 40 IPv6 − 8 UDP). On loopback and jumbo-frame LANs it carries six times the data of
/// a 1452-byte packet per crypto call and syscall; on a 1500-byte path MTU discovery stops at
/// what the path carries (quinn: a high bound is safe, it only lengthens the search). quinn's
/// receive buffer grows linearly with it (32 batches × 64 GRO segments × this, reserved
/// lazily).
pub const UDP_PAYLOAD_BYTES_DEFAULT: u64 = 8952;
/// QUIC's minimum datagram size.
pub const UDP_PAYLOAD_BYTES_MIN: u64 = 1200;
/// The largest UDP payload IPv6 permits.
pub const UDP_PAYLOAD_BYTES_MAX: u64 = 65_527;
/// Ceiling for the UDP buffer settings.
pub const UDP_BUFFER_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// Handshakes in progress above which a server asks unvalidated sources to prove their address
/// with a stateless Retry first (one extra round trip, no state kept for spoofed sources).
pub const HANDSHAKES_BEFORE_RETRY_MAX: usize = 64;

/// Ceiling for `concurrent_streams_max`.
pub const CONCURRENT_STREAMS_MAX: u32 = 4096;
/// Connections a server keeps at once (followers are a handful of nodes).
pub const CONNECTIONS_DEFAULT: u32 = 256;
/// Ceiling for `connections_max`.
pub const CONNECTIONS_MAX: u32 = 65_536;
/// Handshakes a server holds before accepting them (quinn's default is 65 536; we expect
/// a handful of peers, so a flood of Initials is cut short).
pub const INCOMING_HANDSHAKES_MAX: usize = 1024;
/// Bytes buffered for one connection attempt before it is accepted (no 0-RTT, so little).
pub const INCOMING_BUFFER_BYTES_MAX: u64 = 64 * 1024;
/// Bytes buffered across all connection attempts before they are accepted.
pub const INCOMING_BUFFER_TOTAL_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// A connection silent this long is dead; quinn's default.
pub const IDLE_TIMEOUT_MS_DEFAULT: u64 = 30_000;
/// Keep-alive pings keep a long-polling connection from idling out.
pub const KEEP_ALIVE_INTERVAL_MS_DEFAULT: u64 = 5_000;
/// Keep-alives per idle timeout at least: two may be lost before the connection dies.
pub const KEEP_ALIVES_PER_IDLE_TIMEOUT_MIN: u64 = 3;
/// Longest idle timeout we accept (QUIC encodes it in milliseconds as a varint; we stay sane).
pub const IDLE_TIMEOUT_MS_MAX: u64 = 10 * 60 * 1000;
/// A connection attempt (resolve, handshake) that takes longer is abandoned for the next seed.
pub const CONNECT_TIMEOUT_MS_DEFAULT: u64 = 10_000;
/// First RTT estimate before any sample: the link we size for.
pub const INITIAL_RTT_MS_DEFAULT: u64 = LINK_RTT_MS;

/// First reconnect delay after a connection is lost.
pub const BACKOFF_INITIAL_MS_DEFAULT: u64 = 100;
/// Longest reconnect delay (before jitter).
pub const BACKOFF_MAX_MS_DEFAULT: u64 = 30_000;

/// Longest a server waits for a request frame once a stream is open.
pub const REQUEST_READ_MS_MAX_DEFAULT: u64 = 10_000;
/// Longest a handler may take for one request: the longest long-poll (wire's
/// `POLL_WAIT_MS_MAX`, five minutes) plus a minute to answer.
pub const HANDLER_MS_MAX_DEFAULT: u64 = tandem_wire::limits::POLL_WAIT_MS_MAX as u64 + 60_000;
/// Ceiling for `handler_ms_max`: an hour is past any long poll or file chunk.
pub const HANDLER_MS_MAX_CEILING: u64 = 60 * 60 * 1000;
/// Frames a server writes for one request at most (file chunks: a 10 GB file at 10 MB chunks
/// is 1 000 frames; this bounds a runaway handler, not a legitimate answer).
pub const RESPONSE_FRAMES_MAX: u64 = 1 << 20;
/// Frames a response channel holds before the handler waits for the network (backpressure).
pub const RESPONSE_CHANNEL_FRAMES_MAX: usize = 4;

const _: () = assert!(LINK_BDP_BYTES == 12_500_000);
const _: () = assert!(STREAM_RECEIVE_WINDOW_BYTES_DEFAULT >= LINK_BDP_BYTES);
const _: () = assert!(CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT >= 2 * LINK_BDP_BYTES);
const _: () =
    assert!(CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT >= STREAM_RECEIVE_WINDOW_BYTES_DEFAULT);
const _: () = assert!(CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT <= WINDOW_BYTES_MAX);
// A whole file chunk frame fits one stream window, so a chunk never waits on a window update.
const _: () = assert!(
    STREAM_RECEIVE_WINDOW_BYTES_DEFAULT
        >= tandem_wire::limits::FILE_CHUNK_BYTES_DEFAULT as u64
            + tandem_wire::FRAME_HEADER_BYTES as u64
            + 64
);
const _: () = assert!(
    KEEP_ALIVE_INTERVAL_MS_DEFAULT * KEEP_ALIVES_PER_IDLE_TIMEOUT_MIN <= IDLE_TIMEOUT_MS_DEFAULT
);
const _: () = assert!(IDLE_TIMEOUT_MS_DEFAULT <= IDLE_TIMEOUT_MS_MAX);
const _: () = assert!(CONNECT_TIMEOUT_MS_DEFAULT <= IDLE_TIMEOUT_MS_DEFAULT);
const _: () = assert!(CONCURRENT_STREAMS_DEFAULT <= CONCURRENT_STREAMS_MAX);
const _: () = assert!(UDP_BUFFER_BYTES_DEFAULT <= UDP_BUFFER_BYTES_MAX);
const _: () = assert!(
    UDP_PAYLOAD_BYTES_MIN <= UDP_PAYLOAD_BYTES_DEFAULT
        && UDP_PAYLOAD_BYTES_DEFAULT <= UDP_PAYLOAD_BYTES_MAX
);
const _: () = assert!(HANDLER_MS_MAX_DEFAULT <= HANDLER_MS_MAX_CEILING);
const _: () = assert!(HANDSHAKES_BEFORE_RETRY_MAX <= INCOMING_HANDSHAKES_MAX);
const _: () = assert!(CONNECTIONS_DEFAULT <= CONNECTIONS_MAX);
const _: () = assert!(BACKOFF_INITIAL_MS_DEFAULT <= BACKOFF_MAX_MS_DEFAULT);
const _: () = assert!(HANDLER_MS_MAX_DEFAULT > tandem_wire::limits::POLL_WAIT_MS_MAX as u64);

/// The congestion controller of every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CongestionController {
    /// quinn's default and the safe choice (performance anchors §3.4).
    #[default]
    Cubic,
    /// BBRv1 from quinn: better on lossy long links, marked experimental by quinn.
    Bbr,
}

impl CongestionController {
    /// Parses a setting value: `cubic` or `bbr`.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        match value.to_ascii_lowercase().as_str() {
            "cubic" => Ok(Self::Cubic),
            "bbr" => Ok(Self::Bbr),
            _ => Err(ConfigError::UnknownCongestionController {
                value: value.to_owned(),
            }),
        }
    }
}

/// Every tunable of the transport. Build with [`TransportConfig::default`], change fields, and
/// call [`TransportConfig::validate`] (the server and client do it again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// Flow-control window of one stream (one request).
    pub stream_receive_window_bytes: u64,
    /// Flow-control window of the whole connection.
    pub connection_receive_window_bytes: u64,
    /// Unacknowledged bytes we keep in flight.
    pub send_window_bytes: u64,
    /// Concurrent requests per connection.
    pub concurrent_streams_max: u32,
    /// Connections a server serves at once.
    pub connections_max: u32,
    /// A silent connection is closed after this long.
    pub idle_timeout_ms: u64,
    /// Interval of keep-alive pings on an otherwise quiet connection.
    pub keep_alive_interval_ms: u64,
    /// Time allowed for one connection attempt to one seed.
    pub connect_timeout_ms: u64,
    /// First RTT estimate.
    pub initial_rtt_ms: u64,
    /// Congestion controller.
    pub congestion: CongestionController,
    /// Demo mode only: serve unauthenticated peers that are not on loopback.
    pub allow_unauthenticated_remote: bool,
    /// First reconnect delay.
    pub backoff_initial_ms: u64,
    /// Longest reconnect delay.
    pub backoff_max_ms: u64,
    /// Longest wait for a request frame on an open stream.
    pub request_read_ms_max: u64,
    /// Longest time a handler may take for one request.
    pub handler_ms_max: u64,
    /// `SO_RCVBUF` of the UDP socket (the kernel may cap it).
    pub udp_receive_buffer_bytes: u64,
    /// `SO_SNDBUF` of the UDP socket (the kernel may cap it).
    pub udp_send_buffer_bytes: u64,
    /// Largest UDP payload sent (MTU discovery's ceiling) and accepted.
    pub udp_payload_bytes_max: u64,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            stream_receive_window_bytes: STREAM_RECEIVE_WINDOW_BYTES_DEFAULT,
            connection_receive_window_bytes: CONNECTION_RECEIVE_WINDOW_BYTES_DEFAULT,
            send_window_bytes: SEND_WINDOW_BYTES_DEFAULT,
            concurrent_streams_max: CONCURRENT_STREAMS_DEFAULT,
            connections_max: CONNECTIONS_DEFAULT,
            idle_timeout_ms: IDLE_TIMEOUT_MS_DEFAULT,
            keep_alive_interval_ms: KEEP_ALIVE_INTERVAL_MS_DEFAULT,
            connect_timeout_ms: CONNECT_TIMEOUT_MS_DEFAULT,
            initial_rtt_ms: INITIAL_RTT_MS_DEFAULT,
            congestion: CongestionController::default(),
            allow_unauthenticated_remote: false,
            backoff_initial_ms: BACKOFF_INITIAL_MS_DEFAULT,
            backoff_max_ms: BACKOFF_MAX_MS_DEFAULT,
            request_read_ms_max: REQUEST_READ_MS_MAX_DEFAULT,
            handler_ms_max: HANDLER_MS_MAX_DEFAULT,
            udp_receive_buffer_bytes: UDP_BUFFER_BYTES_DEFAULT,
            udp_send_buffer_bytes: UDP_BUFFER_BYTES_DEFAULT,
            udp_payload_bytes_max: UDP_PAYLOAD_BYTES_DEFAULT,
        }
    }
}

impl TransportConfig {
    /// Checks every value against its bounds and the relations between them.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range(
            "stream_receive_window_bytes",
            self.stream_receive_window_bytes,
            1,
            WINDOW_BYTES_MAX,
        )?;
        in_range(
            "connection_receive_window_bytes",
            self.connection_receive_window_bytes,
            self.stream_receive_window_bytes,
            WINDOW_BYTES_MAX,
        )?;
        in_range(
            "send_window_bytes",
            self.send_window_bytes,
            1,
            WINDOW_BYTES_MAX,
        )?;
        in_range(
            "concurrent_streams_max",
            u64::from(self.concurrent_streams_max),
            1,
            u64::from(CONCURRENT_STREAMS_MAX),
        )?;
        in_range(
            "connections_max",
            u64::from(self.connections_max),
            1,
            u64::from(CONNECTIONS_MAX),
        )?;
        in_range(
            "idle_timeout_ms",
            self.idle_timeout_ms,
            1,
            IDLE_TIMEOUT_MS_MAX,
        )?;
        if self.keep_alive_interval_ms == 0
            || self
                .keep_alive_interval_ms
                .saturating_mul(KEEP_ALIVES_PER_IDLE_TIMEOUT_MIN)
                > self.idle_timeout_ms
        {
            return Err(ConfigError::KeepAliveTooSlow {
                keep_alive_interval_ms: self.keep_alive_interval_ms,
                idle_timeout_ms: self.idle_timeout_ms,
                keep_alives_min: KEEP_ALIVES_PER_IDLE_TIMEOUT_MIN,
            });
        }
        in_range(
            "connect_timeout_ms",
            self.connect_timeout_ms,
            1,
            self.idle_timeout_ms,
        )?;
        in_range(
            "initial_rtt_ms",
            self.initial_rtt_ms,
            1,
            self.idle_timeout_ms,
        )?;
        in_range(
            "backoff_initial_ms",
            self.backoff_initial_ms,
            1,
            self.backoff_max_ms,
        )?;
        in_range(
            "backoff_max_ms",
            self.backoff_max_ms,
            1,
            IDLE_TIMEOUT_MS_MAX,
        )?;
        in_range(
            "request_read_ms_max",
            self.request_read_ms_max,
            1,
            self.idle_timeout_ms,
        )?;
        in_range(
            "handler_ms_max",
            self.handler_ms_max,
            1,
            HANDLER_MS_MAX_CEILING,
        )?;
        in_range(
            "udp_receive_buffer_bytes",
            self.udp_receive_buffer_bytes,
            1,
            UDP_BUFFER_BYTES_MAX,
        )?;
        in_range(
            "udp_send_buffer_bytes",
            self.udp_send_buffer_bytes,
            1,
            UDP_BUFFER_BYTES_MAX,
        )?;
        in_range(
            "udp_payload_bytes_max",
            self.udp_payload_bytes_max,
            UDP_PAYLOAD_BYTES_MIN,
            UDP_PAYLOAD_BYTES_MAX,
        )?;
        Ok(())
    }

    /// What we hand quinn, as plain values (validated first).
    pub fn quic_parameters(&self) -> Result<QuicParameters, ConfigError> {
        self.validate()?;
        Ok(QuicParameters {
            stream_receive_window_bytes: self.stream_receive_window_bytes,
            receive_window_bytes: self.connection_receive_window_bytes,
            send_window_bytes: self.send_window_bytes,
            bidi_streams_max: self.concurrent_streams_max,
            // We never use unidirectional streams or datagrams: a peer may not open any.
            uni_streams_max: 0,
            datagrams_enabled: false,
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            keep_alive_interval: Duration::from_millis(self.keep_alive_interval_ms),
            initial_rtt: Duration::from_millis(self.initial_rtt_ms),
            congestion: self.congestion,
            // Server-to-server peers have fixed addresses; migration only widens what a
            // spoofer can try.
            migration: false,
            incoming_handshakes_max: INCOMING_HANDSHAKES_MAX,
            incoming_buffer_bytes_max: INCOMING_BUFFER_BYTES_MAX,
            incoming_buffer_total_bytes_max: INCOMING_BUFFER_TOTAL_BYTES_MAX,
            udp_payload_bytes_max: u16::try_from(self.udp_payload_bytes_max)
                .expect("validated against UDP_PAYLOAD_BYTES_MAX"),
        })
    }
}

fn in_range(name: &'static str, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
    if value < min || value > max {
        return Err(ConfigError::OutOfRange {
            name,
            value,
            min,
            max,
        });
    }
    Ok(())
}

mod quic;
#[cfg(test)]
mod tests;

pub use quic::QuicParameters;
