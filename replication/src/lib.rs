//! tandem-replication: the logic of cross-cluster replication, without I/O.
//!
//! - [`leader`]: how a leader shard answers a follower's changes request: a plain function of
//!   the shard's state (operations up to its global checkpoint, in seq-no order, as the
//!   translog's own record bytes, plus any newer index metadata), with the long-poll wait behind
//!   a seam.
//! - [`follower`]: one follower shard's task as a state machine in the handle/poll style of
//!   quinn-proto: events in (answers, failures, applied batches, timers, pause/resume), commands
//!   out (send this request, apply this batch, install this mapping, renew the lease, back off).
//!   It bootstraps from a pinned leader commit, then syncs with several requests in flight
//!   (wire's `ChangesCursor`), never skips an operation, and pauses with a reason on a
//!   permanent failure.
//!
//! This crate never opens a socket, never starts a thread or a runtime and never reads a clock:
//! time comes in as `now_ms`, and the node's shell executes the commands against the transport
//! and the storage engine. The deterministic simulation in `tests/` runs both sides over a
//! seeded faulty link.

pub mod follower;
pub mod leader;

pub use follower::{Command, Event, FollowerConfig, FollowerShardTask, Phase};
pub use leader::{serve_changes, EngineLeaderShard, LeaderMetadata, LeaderShard, MetadataCell};
