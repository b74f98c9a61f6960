//! The chaos proxy: relays UDP datagrams (QUIC) between clients and one upstream address,
//! applying a seeded [`plan::FaultPlan`] to each direction: delay, jitter (reordering), loss,
//! duplication, and partitions that drop everything for a while.
//!
//! Each client address gets its own upstream socket, so the upstream sees distinct peers. The
//! relay keeps bounded state: at most [`CLIENTS_MAX`] clients and [`DATAGRAMS_IN_FLIGHT_MAX`]
//! delayed datagrams; past those it drops, which is what a congested link does too. It binds
//! only where told (tests use 127.0.0.1) and never interprets the bytes it carries.

pub mod plan;
mod relay;

pub use plan::{FaultConfig, FaultPlan, PlanError, Verdict};
pub use relay::{ChaosProxy, ProxyConfig, ProxyError, ProxyStats};

/// Most client addresses relayed at once.
pub const CLIENTS_MAX: usize = 1024;
/// Most datagrams waiting for their delivery time, over both directions.
pub const DATAGRAMS_IN_FLIGHT_MAX: usize = 65_536;
/// Largest datagram relayed, in bytes (the largest UDP payload).
pub const DATAGRAM_BYTES_MAX: usize = 65_535;
