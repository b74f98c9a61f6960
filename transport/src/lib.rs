//! tandem-transport: the QUIC transport between nodes, the async shell around `tandem-wire`
//! (as `quinn` is to `quinn-proto`).
//!
//! It owns the quinn endpoint on `transport.port` (UDP), TLS identities and trust, admission of
//! peers, and the mapping "one request = one bidirectional stream". It knows frames and
//! messages only as `tandem-wire` types; what a request *means* is the node's
//! [`RequestHandler`], and what to do after a failure is the caller's, helped by
//! [`TransportError::is_retryable`]. **It must never interpret a request, retry one by itself,
//! serve a stream of a connection it has not admitted, or accept 0-RTT data.**
//!
//! # How a request travels
//!
//! ```text
//! follower                                            leader
//! RemoteConnection::request(msg, timeout)
//!   connection(): live one, or dial seeds in order    accept loop: connection limit,
//!   (backoff + jitter after failures; demo mode:        handshake, ALPN, admission
//!    pin check of the leader certificate)               (loopback rule or nodes_dn)
//!   open_bi, write frame chunks, finish  ───────────▶ serve_stream: FrameDecoder::for_requests,
//!                                                       one frame, then end of stream
//!                                                     handler.handle(PeerInfo, Message)
//!   FrameDecoder::for_responses, kind check  ◀──────  one frame, or chunks flagged MORE
//! ```
//!
//! # Design choices
//!
//! - **Limits from written arithmetic** ([`config`]): the link is 1 Gbit/s × 100 ms, so the
//!   bandwidth-delay product is 12.5 MB; a stream window of 16 MiB (≥ 1 BDP, fits a 10 MB file
//!   chunk) and a connection window of 4 BDP, instead of quinn's 100 Mbit/s defaults. Streams,
//!   connections, pre-handshake buffers, idle timeout and keep-alive are all set explicitly;
//!   unidirectional streams and datagrams are off. Relations are `const` asserts, and
//!   [`TransportConfig::validate`] checks them again for values set at run time (keep-alive at
//!   least three times per idle timeout).
//! - **Before the handshake**: at most `connections_max` connections (more are refused),
//!   quinn's pre-handshake buffers capped, and once 64 handshakes are in progress a source
//!   that has not proven its address gets a stateless Retry first. UDP socket buffers are
//!   raised to 8 MiB (logged if the kernel caps them).
//! - **TLS** ([`tls`]): TLS 1.3 only with ring, ALPN `tandem-ccr/1`, `max_early_data_size = 0`,
//!   no tickets, client resumption disabled and `enable_early_data = false`: no 0-RTT anywhere.
//! - **Two trust modes** ([`trust`]). With OpenSearch's transport PEM settings: mutual TLS
//!   (WebPKI verifiers, no unauthenticated clients), then the client's subject DN, formatted as
//!   OpenSearch does, must match `plugins.security.nodes_dn` ([`dn`]) or the connection is
//!   closed with an application code before any stream is read. The follower verifies the
//!   leader's chain (and host name unless turned off), but does not apply `nodes_dn` to it,
//!   as OpenSearch applies it to inbound transport only. Without the settings (demos): a
//!   generated identity in the data folder ([`identity`]), the follower pins the leader's
//!   SHA-256 fingerprint on first connect ([`PinStore`]) and refuses a changed one with an
//!   error naming the alias and both fingerprints; the leader serves such peers on loopback
//!   only unless `allow_unauthenticated_remote` is set. The pinned verifier still checks the
//!   leader's TLS 1.3 signature, so the pin proves key possession, not just a copied
//!   certificate. Demo mode pins one certificate per alias: a multi-node leader cluster in
//!   demo mode would need one pin per seed (not supported; use certificates).
//! - **One stream per request** (`serve`, [`exchange`]): the server reads exactly one
//!   request frame and the end of the stream, runs the handler on its own task under a time
//!   limit, and writes one frame or a bounded stream (MORE on all but the last, backpressure
//!   through a channel of [`config::RESPONSE_CHANNEL_FRAMES_MAX`]). A malformed request gets
//!   an `invalid_request` error frame and a stopped stream; the connection and its other
//!   streams are untouched. Frames are written as their chunks, never joined.
//! - **One connection per alias** ([`client`]): a request on a dead connection re-dials the
//!   seeds in order, serialized by an async lock; after failures the next dial waits an
//!   exponential, "equal jitter" backoff ([`backoff`], seeded for tests). If the wait ends after
//!   the caller's deadline the request fails at once with the last error, so callers never hang.
//! - **Errors** ([`error`]): retryable (timed out, connection lost, unreachable, stream reset)
//!   versus fatal (pin mismatch, not allowed, TLS failure, ALPN mismatch, protocol error).

pub mod backoff;
pub mod client;
pub mod config;
pub mod dn;
pub mod error;
pub mod exchange;
pub mod handler;
pub mod identity;
pub mod remote;
mod serve;
pub mod server;
mod socket;
pub mod tls;
pub mod trust;

pub use client::TransportClient;
pub use config::{CongestionController, QuicParameters, TransportConfig};
pub use dn::NodesDn;
pub use error::{codes, ConfigError, IdentityError, SetupError, TransportError};
pub use exchange::ResponseFrames;
pub use handler::{
    response_stream, BoxFuture, PeerInfo, RequestHandler, Response, ResponseClosed, ResponseSender,
};
pub use identity::{Fingerprint, Identity};
pub use remote::RemoteConnection;
pub use server::TransportServer;
pub use tls::ALPN;
pub use trust::{CaTrust, MemoryPinStore, PinStore, Trust};
