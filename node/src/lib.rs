//! tandem-node: the server. Configuration, the OpenSearch REST API, indices and their shards.
//!
//! It owns everything between a socket and a shard engine: settings, cluster state, index
//! administration, document routing, and the REST surface in OpenSearch's dialect. It must
//! never encode operations itself (storage's record codec is the only encoding) and never
//! block the async runtime: engine calls run on the blocking pool.

pub mod cluster_state;
pub mod config;
pub mod docs;
pub mod error;
pub mod ids;
pub mod indices;
pub mod node;
pub mod replication;
pub mod rest;
