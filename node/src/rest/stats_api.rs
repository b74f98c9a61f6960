//! `GET [/<index>]/_stats[/<metric>]`: per-index statistics from the shard engines (documents,
//! store, translog), with the counters tandem does not keep reported as zeros.
//!
//! It owns the shape clients (opensearch-py, opensearch-benchmark) read. It must never change
//! state.

use serde_json::{json, Map, Value};

use super::index_api::resolve_options;
use super::{RestRequest, RestResponse};
use crate::error::NodeResult;
use crate::indices::ResolveOptions;
use crate::node::Node;

#[derive(Default, Clone, Copy)]
struct Totals {
    docs: u64,
    deleted: u64,
    store_bytes: u64,
    translog_ops: u64,
    translog_bytes: u64,
    uncommitted_ops: u64,
}

impl Totals {
    fn add(&mut self, other: Totals) {
        self.docs += other.docs;
        self.deleted += other.deleted;
        self.store_bytes += other.store_bytes;
        self.translog_ops += other.translog_ops;
        self.translog_bytes += other.translog_bytes;
        self.uncommitted_ops += other.uncommitted_ops;
    }

    fn to_json(self) -> Value {
        json!({
            "docs": {"count": self.docs, "deleted": self.deleted},
            "store": {"size_in_bytes": self.store_bytes, "reserved_in_bytes": 0},
            "indexing": {"index_total": 0, "index_time_in_millis": 0, "index_current": 0,
                "index_failed": 0, "delete_total": 0, "delete_time_in_millis": 0,
                "delete_current": 0, "noop_update_total": 0, "is_throttled": false,
                "throttle_time_in_millis": 0},
            "get": {"total": 0, "time_in_millis": 0, "exists_total": 0, "exists_time_in_millis": 0,
                "missing_total": 0, "missing_time_in_millis": 0, "current": 0},
            "search": {"open_contexts": 0, "query_total": 0, "query_time_in_millis": 0,
                "query_current": 0, "fetch_total": 0, "fetch_time_in_millis": 0, "fetch_current": 0,
                "scroll_total": 0, "scroll_time_in_millis": 0, "scroll_current": 0},
            "merges": {"current": 0, "current_docs": 0, "current_size_in_bytes": 0, "total": 0,
                "total_time_in_millis": 0, "total_docs": 0, "total_size_in_bytes": 0,
                "total_stopped_time_in_millis": 0, "total_throttled_time_in_millis": 0,
                "total_auto_throttle_in_bytes": 0},
            "refresh": {"total": 0, "total_time_in_millis": 0, "external_total": 0,
                "external_total_time_in_millis": 0, "listeners": 0},
            "flush": {"total": 0, "periodic": 0, "total_time_in_millis": 0},
            "warmer": {"current": 0, "total": 0, "total_time_in_millis": 0},
            "query_cache": {"memory_size_in_bytes": 0, "total_count": 0, "hit_count": 0,
                "miss_count": 0, "cache_size": 0, "cache_count": 0, "evictions": 0},
            "fielddata": {"memory_size_in_bytes": 0, "evictions": 0},
            "completion": {"size_in_bytes": 0},
            "segments": {"count": 0, "memory_in_bytes": 0, "terms_memory_in_bytes": 0,
                "stored_fields_memory_in_bytes": 0, "term_vectors_memory_in_bytes": 0,
                "norms_memory_in_bytes": 0, "points_memory_in_bytes": 0,
                "doc_values_memory_in_bytes": 0, "index_writer_memory_in_bytes": 0,
                "version_map_memory_in_bytes": 0, "fixed_bit_set_memory_in_bytes": 0,
                "max_unsafe_auto_id_timestamp": -1, "file_sizes": {}},
            "translog": {"operations": self.translog_ops, "size_in_bytes": self.translog_bytes,
                "uncommitted_operations": self.uncommitted_ops,
                "uncommitted_size_in_bytes": self.translog_bytes,
                "earliest_last_modified_age": 0},
            "request_cache": {"memory_size_in_bytes": 0, "evictions": 0, "hit_count": 0,
                "miss_count": 0},
            "recovery": {"current_as_source": 0, "current_as_target": 0,
                "throttle_time_in_millis": 0},
        })
    }
}

/// `GET [/<index>]/_stats[/<metric>]`.
pub(super) fn stats(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let options = resolve_options(request, ResolveOptions::default())?;
    let names = node.indices.resolve(index.unwrap_or("_all"), options)?;
    let mut all = Totals::default();
    let mut shards_total = 0u32;
    let mut per_index = Map::new();
    for name in names {
        let Ok(handle) = node.indices.handle(&name) else {
            continue;
        };
        let mut totals = Totals::default();
        for shard in &handle.shards {
            let stats = shard.stats();
            totals.add(Totals {
                docs: stats.docs_count,
                deleted: stats.docs_deleted,
                store_bytes: stats.store_bytes,
                translog_ops: stats.translog.ops,
                translog_bytes: stats.translog.total_bytes,
                uncommitted_ops: stats.uncommitted_ops,
            });
        }
        let shards = u32::try_from(handle.shards.len()).unwrap_or(u32::MAX);
        shards_total += shards;
        all.add(totals);
        per_index.insert(
            name.clone(),
            json!({
                "uuid": handle.uuid,
                "primaries": totals.to_json(),
                "total": totals.to_json(),
            }),
        );
    }
    Ok(RestResponse::ok(json!({
        "_shards": {"total": shards_total, "successful": shards_total, "failed": 0},
        "_all": {"primaries": all.to_json(), "total": all.to_json()},
        "indices": per_index,
    })))
}
