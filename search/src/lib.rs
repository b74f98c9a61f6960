//! tandem-search: OpenSearch's `_search` and `_count` requests, parsed into tandem's own query
//! tree, compiled against each shard's mapping into tantivy queries, run over the shards'
//! searchers, and answered in OpenSearch's response shapes.
//!
//! Flow: [`SearchRequest::from_json`] (body) and [`SearchRequest::apply_params`] (URL) build a
//! request whose query is a [`QueryAst`]; [`search`] compiles it per shard, collects hits,
//! totals and aggregations, merges them and fetches the final page; [`count`] counts. Errors
//! are [`SearchError`]s that know their OpenSearch `type`, `reason` and status. This crate
//! must never do I/O beyond reading the searchers it is given, never read a clock for query
//! semantics (`now` is part of the request) and never know about HTTP.

pub mod aggs;
pub mod ast;
pub mod dsl;
pub mod error;
pub mod limits;
pub mod request;

mod columns;
mod compile;
mod datemath;
mod dates;
mod decimal_format;
mod execute;
mod fetch_fields;
mod glob;
mod response;

#[cfg(test)]
mod tests;

pub use aggs::AggRequest;
pub use ast::QueryAst;
pub use dsl::parse_query;
pub use error::{FailureCause, FailureKind, SearchError, ShardFailure};
pub use execute::{count, search, SearchResponse, ShardTarget};
pub use request::{CountRequest, SearchRequest, SortSpec, SourceFilter, TrackTotalHits};
