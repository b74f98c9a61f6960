//! `_cat` endpoints: `indices`, `health`, `count`, `shards`, `aliases`, `nodes`: the rows
//! (values as OpenSearch prints them); `cat_table` lays them out.
//!
//! It owns the values of each row. It must never change state.

use chrono::{TimeZone, Utc};

use super::cat_columns::{ALIASES, COUNT, HEALTH, INDICES, NODES, SHARDS};
use super::cat_table::{render, Row};
use super::index_api::resolve_options;
use super::{RestRequest, RestResponse};
use crate::cluster_state::IndexState;
use crate::error::{NodeError, NodeResult};
use crate::indices::ResolveOptions;
use crate::node::Node;

/// `GET /_cat/<kind>[/<index>]`.
pub(super) fn cat(
    node: &Node,
    request: &RestRequest,
    kind: &str,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let (columns, rows) = match kind {
        "indices" => (INDICES, indices_rows(node, request, index)?),
        "health" => (HEALTH, health_rows(node)),
        "count" => (COUNT, count_rows(node, request, index)?),
        "shards" => (SHARDS, shard_rows(node, request, index)?),
        "aliases" => (ALIASES, alias_rows(node, index)),
        "nodes" => (NODES, node_rows(node)),
        _ => {
            return Err(NodeError::NoHandler {
                uri: request.path.clone(),
                method: request.method.to_string(),
            })
        }
    };
    render(request, columns, rows)
}

/// A byte count as `_cat` prints it: in the unit of `bytes=` when given, else human-readable.
fn size_text(request: &RestRequest, bytes: u64) -> String {
    let divisor: u64 = match request.params.str("bytes") {
        Some("b") => 1,
        Some("k" | "kb") => 1 << 10,
        Some("m" | "mb") => 1 << 20,
        Some("g" | "gb") => 1 << 30,
        Some("t" | "tb") => 1 << 40,
        Some("p" | "pb") => 1 << 50,
        _ => return human_bytes(bytes),
    };
    (bytes / divisor).to_string()
}

fn human_bytes(bytes: u64) -> String {
    let units = [
        ("pb", 1u64 << 50),
        ("tb", 1 << 40),
        ("gb", 1 << 30),
        ("mb", 1 << 20),
        ("kb", 1 << 10),
    ];
    for (unit, size) in units {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            let text = format!("{value:.1}");
            return format!("{}{unit}", text.trim_end_matches(".0"));
        }
    }
    format!("{bytes}b")
}

fn indices_rows(node: &Node, request: &RestRequest, index: Option<&str>) -> NodeResult<Vec<Row>> {
    let options = resolve_options(request, ResolveOptions::default())?;
    let names = node.indices.resolve(index.unwrap_or("_all"), options)?;
    let wanted_health = request.params.str("health");
    if let Some(health) = wanted_health.filter(|h| !["green", "yellow", "red"].contains(h)) {
        return Err(NodeError::illegal(format!(
            "No enum constant org.opensearch.cluster.health.ClusterHealthStatus.{}",
            health.to_ascii_uppercase()
        )));
    }
    let mut rows = Vec::new();
    for name in names {
        let meta = node.indices.meta(&name)?;
        // A follower index still copying its shards has no active primaries yet.
        let handle = match node.indices.handle(&name) {
            Ok(handle) => Some(handle),
            Err(NodeError::ShardsUnavailable { .. } | NodeError::IndexClosed { .. }) => None,
            Err(error) => return Err(error),
        };
        let health = if handle.is_none() && meta.state != IndexState::Close {
            "red"
        } else if meta.number_of_replicas > 0 {
            "yellow"
        } else {
            "green"
        };
        if wanted_health.is_some_and(|wanted| wanted != health) {
            continue;
        }
        let mut row = Row::new();
        row.insert("health", Some(health.into()));
        row.insert("index", Some(name.clone()));
        row.insert("uuid", Some(meta.uuid.clone()));
        row.insert("pri", Some(meta.number_of_shards.to_string()));
        row.insert("rep", Some(meta.number_of_replicas.to_string()));
        row.insert("creation.date", Some(meta.creation_date_millis.to_string()));
        row.insert(
            "creation.date.string",
            Some(iso_millis(meta.creation_date_millis)),
        );
        if meta.state == IndexState::Close {
            row.insert("status", Some("close".into()));
        } else {
            row.insert("status", Some("open".into()));
            let (mut docs, mut deleted, mut store) = (0, 0, 0);
            for shard in handle.iter().flat_map(|handle| handle.shards.iter()) {
                let stats = shard.stats();
                docs += stats.docs_count;
                deleted += stats.docs_deleted;
                store += stats.store_bytes;
            }
            row.insert("docs.count", Some(docs.to_string()));
            row.insert("docs.deleted", Some(deleted.to_string()));
            row.insert("store.size", Some(size_text(request, store)));
            row.insert("pri.store.size", Some(size_text(request, store)));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn iso_millis(millis: i64) -> String {
    Utc.timestamp_millis_opt(millis)
        .single()
        .map(|time| time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn clock_columns(row: &mut Row) {
    let now = Utc::now();
    row.insert("epoch", Some(now.timestamp().to_string()));
    row.insert("timestamp", Some(now.format("%H:%M:%S").to_string()));
}

fn health_rows(node: &Node) -> Vec<Row> {
    let state = node.indices.state();
    let primaries: u32 = state
        .indices
        .values()
        .map(|meta| meta.number_of_shards)
        .sum();
    let unassigned: u32 = state
        .indices
        .values()
        .map(|meta| meta.number_of_shards * meta.number_of_replicas)
        .sum();
    let mut row = Row::new();
    clock_columns(&mut row);
    let percent = if primaries + unassigned == 0 {
        100.0
    } else {
        f64::from(primaries) * 100.0 / f64::from(primaries + unassigned)
    };
    for (key, value) in [
        ("cluster", node.config.cluster_name.clone()),
        (
            "status",
            if unassigned > 0 {
                "yellow".into()
            } else {
                "green".into()
            },
        ),
        ("node.total", "1".into()),
        ("node.data", "1".into()),
        ("discovered_cluster_manager", "true".into()),
        ("shards", primaries.to_string()),
        ("pri", primaries.to_string()),
        ("relo", "0".into()),
        ("init", "0".into()),
        ("unassign", unassigned.to_string()),
        ("pending_tasks", "0".into()),
        ("max_task_wait_time", "-".into()),
        ("active_shards_percent", format!("{percent:.1}%")),
    ] {
        row.insert(key, Some(value));
    }
    vec![row]
}

fn count_rows(node: &Node, request: &RestRequest, index: Option<&str>) -> NodeResult<Vec<Row>> {
    let options = resolve_options(request, ResolveOptions::default())?;
    let mut count = 0;
    for name in node.indices.resolve(index.unwrap_or("_all"), options)? {
        if let Ok(handle) = node.indices.handle(&name) {
            count += handle
                .shards
                .iter()
                .map(|shard| shard.stats().docs_count)
                .sum::<u64>();
        }
    }
    let mut row = Row::new();
    clock_columns(&mut row);
    row.insert("count", Some(count.to_string()));
    Ok(vec![row])
}

fn shard_rows(node: &Node, request: &RestRequest, index: Option<&str>) -> NodeResult<Vec<Row>> {
    let options = resolve_options(request, ResolveOptions::default())?;
    let mut rows = Vec::new();
    for name in node.indices.resolve(index.unwrap_or("_all"), options)? {
        let meta = node.indices.meta(&name)?;
        let handle = node.indices.handle(&name).ok();
        for shard in 0..meta.number_of_shards {
            let mut row = Row::new();
            row.insert("index", Some(name.clone()));
            row.insert("shard", Some(shard.to_string()));
            row.insert("prirep", Some("p".into()));
            if let Some(handle) = &handle {
                let stats = handle.shard(shard).stats();
                row.insert("state", Some("STARTED".into()));
                row.insert("docs", Some(stats.docs_count.to_string()));
                row.insert("store", Some(size_text(request, stats.store_bytes)));
                row.insert("ip", Some(node.config.network_host.to_string()));
                row.insert("node", Some(node.config.node_name.clone()));
            } else {
                row.insert("state", Some("CLOSED".into()));
            }
            rows.push(row);
            for _ in 0..meta.number_of_replicas {
                let mut replica = Row::new();
                replica.insert("index", Some(name.clone()));
                replica.insert("shard", Some(shard.to_string()));
                replica.insert("prirep", Some("r".into()));
                replica.insert("state", Some("UNASSIGNED".into()));
                rows.push(replica);
            }
        }
    }
    Ok(rows)
}

fn node_rows(node: &Node) -> Vec<Row> {
    let mut row = Row::new();
    for (key, value) in [
        ("ip", node.config.network_host.to_string()),
        ("heap.percent", "0".into()),
        ("ram.percent", "0".into()),
        ("cpu", "0".into()),
        ("node.role", "dimr".into()),
        (
            "node.roles",
            "cluster_manager,data,ingest,remote_cluster_client".into(),
        ),
        ("cluster_manager", "*".into()),
        ("name", node.config.node_name.clone()),
        ("id", node.identity.node_id.clone()),
    ] {
        row.insert(key, Some(value));
    }
    vec![row]
}

fn alias_rows(node: &Node, name: Option<&str>) -> Vec<Row> {
    let state = node.indices.state();
    let mut rows = Vec::new();
    for meta in state.indices.values() {
        for (alias, body) in &meta.aliases {
            if name.is_some_and(|pattern| !crate::indices::names::glob_match(pattern, alias)) {
                continue;
            }
            let text = |key: &str| body.get(key).map(crate::config::value_text);
            let mut row = Row::new();
            row.insert("alias", Some(alias.clone()));
            row.insert("index", Some(meta.name.clone()));
            row.insert(
                "filter",
                Some(if body.get("filter").is_some() {
                    "*".into()
                } else {
                    "-".into()
                }),
            );
            row.insert(
                "routing.index",
                Some(
                    text("index_routing")
                        .or_else(|| text("routing"))
                        .unwrap_or_else(|| "-".into()),
                ),
            );
            row.insert(
                "routing.search",
                Some(
                    text("search_routing")
                        .or_else(|| text("routing"))
                        .unwrap_or_else(|| "-".into()),
                ),
            );
            row.insert(
                "is_write_index",
                Some(text("is_write_index").unwrap_or_else(|| "-".into())),
            );
            rows.push(row);
        }
    }
    rows
}
