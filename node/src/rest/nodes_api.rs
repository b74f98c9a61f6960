//! `_nodes` and `_nodes/stats`: the one node's description and statistics, in the shapes
//! opensearch-py and opensearch-benchmark read.
//!
//! It owns those shapes; JVM figures are zeros because there is no JVM. It must never change
//! state.

use serde_json::{json, Value};

use super::RestResponse;
use crate::error::NodeResult;
use crate::node::Node;

fn node_base(node: &Node) -> Value {
    let address = node.http_addr.to_string();
    json!({
        "name": node.config.node_name,
        "transport_address": format!("{}:{}", node.config.network_host, node.config.transport_port),
        "host": node.config.network_host.to_string(),
        "ip": node.config.network_host.to_string(),
        "version": super::root::VERSION_NUMBER,
        "build_type": "tar",
        "build_hash": "fd9a9d90df25bea1af2c6a85039692e815b894f5",
        "roles": ["cluster_manager", "data", "ingest", "remote_cluster_client"],
        "attributes": node.config.node_attributes,
        "http": {
            "bound_address": [address],
            "publish_address": address,
            "max_content_length_in_bytes": node.config.http_content_bytes_max,
        },
    })
}

fn nodes_header(node: &Node) -> Value {
    json!({"total": 1, "successful": 1, "failed": 0, "cluster_name": node.config.cluster_name})
}

/// `GET /_nodes`.
pub(super) fn nodes(node: &Node) -> NodeResult<RestResponse> {
    let mut info = node_base(node);
    info["settings"] = json!({
        "cluster": {"name": node.config.cluster_name},
        "node": {"name": node.config.node_name},
        "path": {"data": [node.config.path_data.display().to_string()]},
    });
    info["os"] = json!({"name": std::env::consts::OS, "arch": std::env::consts::ARCH, "available_processors": available_processors(), "allocated_processors": available_processors()});
    info["process"] = json!({"id": std::process::id(), "mlockall": false});
    info["jvm"] = json!({"pid": std::process::id(), "version": "none", "vm_name": "tandem (no jvm)", "mem": {"heap_max_in_bytes": 0}, "gc_collectors": ["young", "old"]});
    let mut header = nodes_header(node);
    let cluster_name = header["cluster_name"].take();
    Ok(RestResponse::ok(json!({
        "_nodes": {"total": 1, "successful": 1, "failed": 0},
        "cluster_name": cluster_name,
        "nodes": { node.identity.node_id.clone(): info },
    })))
}

fn available_processors() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `GET /_nodes/stats`: the fields opensearch-py and opensearch-benchmark read; JVM figures
/// are zeros because there is no JVM.
pub(super) fn nodes_stats(node: &Node) -> NodeResult<RestResponse> {
    let (mut docs, mut deleted, mut store, mut translog_ops, mut translog_bytes) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for handle in node.indices.open_handles() {
        for shard in &handle.shards {
            let stats = shard.stats();
            docs += stats.docs_count;
            deleted += stats.docs_deleted;
            store += stats.store_bytes;
            translog_ops += stats.uncommitted_ops;
            translog_bytes += stats.translog.total_bytes;
        }
    }
    let collector = json!({"collection_count": 0, "collection_time_in_millis": 0});
    let mut stats = node_base(node);
    stats["timestamp"] = json!(chrono::Utc::now().timestamp_millis());
    stats["indices"] = json!({
        "docs": {"count": docs, "deleted": deleted},
        "store": {"size_in_bytes": store, "reserved_in_bytes": 0},
        "indexing": {"index_total": 0, "index_time_in_millis": 0, "index_current": 0, "index_failed": 0, "delete_total": 0, "delete_time_in_millis": 0, "throttle_time_in_millis": 0},
        "get": {"total": 0, "time_in_millis": 0, "exists_total": 0, "missing_total": 0, "current": 0},
        "search": {"open_contexts": 0, "query_total": 0, "query_time_in_millis": 0, "fetch_total": 0, "fetch_time_in_millis": 0, "scroll_total": 0},
        "merges": {"current": 0, "total": 0, "total_time_in_millis": 0, "total_docs": 0, "total_size_in_bytes": 0, "total_throttled_time_in_millis": 0},
        "refresh": {"total": 0, "total_time_in_millis": 0},
        "flush": {"total": 0, "total_time_in_millis": 0},
        "query_cache": {"memory_size_in_bytes": 0, "evictions": 0, "hit_count": 0, "miss_count": 0},
        "fielddata": {"memory_size_in_bytes": 0, "evictions": 0},
        "segments": {"count": 0, "memory_in_bytes": 0, "terms_memory_in_bytes": 0, "stored_fields_memory_in_bytes": 0, "doc_values_memory_in_bytes": 0, "points_memory_in_bytes": 0, "norms_memory_in_bytes": 0, "term_vectors_memory_in_bytes": 0, "index_writer_memory_in_bytes": 0, "version_map_memory_in_bytes": 0, "fixed_bit_set_memory_in_bytes": 0},
        "translog": {"operations": translog_ops, "size_in_bytes": translog_bytes, "uncommitted_operations": translog_ops, "uncommitted_size_in_bytes": translog_bytes},
        "request_cache": {"memory_size_in_bytes": 0, "evictions": 0, "hit_count": 0, "miss_count": 0},
    });
    stats["os"] = json!({"timestamp": stats["timestamp"], "cpu": {"percent": 0, "load_average": {}}, "mem": {"total_in_bytes": 0, "free_in_bytes": 0, "used_in_bytes": 0}});
    stats["process"] = json!({"timestamp": stats["timestamp"], "open_file_descriptors": 0, "max_file_descriptors": 0, "cpu": {"percent": 0, "total_in_millis": 0}, "mem": {"total_virtual_in_bytes": 0}});
    stats["jvm"] = json!({
        "timestamp": stats["timestamp"],
        "uptime_in_millis": u64::try_from(node.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "mem": {"heap_used_in_bytes": 0, "heap_used_percent": 0, "heap_committed_in_bytes": 0, "heap_max_in_bytes": 0, "non_heap_used_in_bytes": 0, "non_heap_committed_in_bytes": 0, "pools": {}},
        "threads": {"count": 0, "peak_count": 0},
        "gc": {"collectors": {"young": collector.clone(), "old": collector}},
        "buffer_pools": {},
        "classes": {"current_loaded_count": 0, "total_loaded_count": 0, "total_unloaded_count": 0},
    });
    stats["thread_pool"] = json!({});
    stats["fs"] = json!({"timestamp": stats["timestamp"], "total": {}, "data": []});
    stats["transport"] = json!({"server_open": 0, "rx_count": 0, "rx_size_in_bytes": 0, "tx_count": 0, "tx_size_in_bytes": 0});
    stats["http"] = json!({"current_open": 0, "total_opened": 0});
    stats["breakers"] = json!({});
    let header = nodes_header(node);
    Ok(RestResponse::ok(json!({
        "_nodes": {"total": 1, "successful": 1, "failed": 0},
        "cluster_name": header["cluster_name"],
        "nodes": { node.identity.node_id.clone(): stats },
    })))
}
