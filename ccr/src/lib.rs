//! tandem-ccr: the replication shell. It owns the I/O around the pure logic of
//! `tandem-replication`: the leader's [`leader::LeaderService`] answers followers' requests
//! arriving over the transport from the node's local shards, and (later) the follower runner
//! drives follower shard tasks over transport connections.
//!
//! It reaches the node only through the [`leader::LocalCluster`] trait, so the node decides how
//! indices are found and this crate never learns about REST or cluster state files. Blocking
//! storage calls (long polls, pins, chunk reads) run on tokio's blocking pool.

pub mod leader;

pub use leader::{LeaderIndex, LeaderService, LocalCluster};
