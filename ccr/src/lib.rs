//! tandem-ccr: the replication shell. It owns the I/O around the pure logic of
//! `tandem-replication`: the leader's [`leader::LeaderService`] answers followers' requests
//! arriving over the transport from the node's local shards, and the [`follower::FollowerRunner`]
//! drives one follower shard task over a [`client::LeaderClient`] (a transport connection, or a
//! leader in the same process).
//!
//! It reaches the node only through the [`leader::LocalCluster`] trait, so the node decides how
//! indices are found and this crate never learns about REST or cluster state files. Blocking
//! storage calls (long polls, pins, chunk reads) run on tokio's blocking pool.

pub mod client;
pub mod follower;
pub mod leader;
pub mod service;

pub use client::{CallError, InProcessLeader, LeaderClient};
pub use follower::{
    Control, FollowerHooks, FollowerRunner, FollowerShardSpec, ShardReplicationStatus,
};
pub use leader::{LeaderIndex, LeaderIndexStats, LeaderService, LeaderStats, LocalCluster};
pub use service::{FollowerNode, RemoteClusters, ReplicationError, ReplicationService};
