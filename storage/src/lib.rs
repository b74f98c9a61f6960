//! tandem-storage: everything one shard keeps on disk.
//!
//! It owns the translog (write-ahead log) and its record codec, sequence-number checkpoints,
//! retention leases, the mapping of OpenSearch documents onto tantivy, the shard engine that
//! applies operations as a primary or as a replica, crash recovery, and commit snapshots used to
//! bootstrap followers.
//!
//! It must never know about networks, HTTP or the replication protocol: callers hand it
//! operations and bytes and get typed results back. It must never block an async runtime
//! thread on purpose either: every call that may fsync, commit or merge says so in its docs,
//! and async callers run those on a blocking pool.

#![warn(missing_docs)]

pub mod durable_file;
pub mod engine;
pub mod leases;
pub mod mapping;
pub mod record;
pub mod seqno;
pub mod snapshot;
pub mod translog;

pub use engine::{EngineConfig, EngineError, ShardEngine, ShardRole};
pub use mapping::Mapping;
