//! Cluster endpoints: `_cluster/health`, `_cluster/settings`, `_nodes` and `_nodes/stats`, as
//! one node reports them.
//!
//! It owns health arithmetic (yellow when replicas are configured, since one node can never
//! assign them) and the cluster settings namespace. It must never open shards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::index_api::resolve_options;
use super::{RestRequest, RestResponse};
use crate::config::{flatten, remote_alias, seed_list, validate_seeds};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::indices::{settings, ResolveOptions};
use crate::node::Node;

/// OpenSearch's default `timeout` of `_cluster/health` waits.
const HEALTH_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// How often a waiting health request looks again.
const HEALTH_POLL: Duration = Duration::from_millis(50);

/// Top-level namespaces of cluster settings tandem accepts.
const CLUSTER_SETTING_PREFIXES: &[&str] = &[
    "cluster.",
    "action.",
    "indices.",
    "search.",
    "search_backpressure.",
    "logger.",
    "plugins.",
    "transport.",
    "http.",
    "network.",
    "thread_pool.",
    "script.",
    "ingest.",
    "snapshot.",
    "persistent_tasks.",
    "xpack.",
    "opendistro.",
    "segrep.",
    "remote_store.",
];

#[derive(Default)]
struct Counts {
    primaries: u32,
    active: u32,
    unassigned: u32,
}

fn color(unassigned_replicas: u32) -> &'static str {
    if unassigned_replicas > 0 {
        "yellow"
    } else {
        "green"
    }
}

fn rank(status: &str) -> u8 {
    match status {
        "green" => 0,
        "yellow" => 1,
        _ => 2,
    }
}

/// `GET /_cluster/health[/<index>]`.
pub(super) fn health(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let timeout = match request.params.str("timeout") {
        Some(text) => settings::parse_time(text)
            .map_err(NodeError::illegal)?
            .unwrap_or(HEALTH_TIMEOUT_DEFAULT),
        None => HEALTH_TIMEOUT_DEFAULT,
    };
    let deadline = Instant::now() + timeout;
    loop {
        let response = health_once(node, request, index)?;
        if response.status == StatusCode::OK || Instant::now() >= deadline {
            return Ok(response);
        }
        std::thread::sleep(HEALTH_POLL);
    }
}

/// One evaluation of the health conditions; 408 while a `wait_for_*` condition does not hold.
fn health_once(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let params = &request.params;
    let level = params.str("level").unwrap_or("cluster");
    let names = match index {
        Some(index) => node
            .indices
            .resolve(index, resolve_options(request, ResolveOptions::default())?),
        None => node.indices.resolve("_all", ResolveOptions::default()),
    };
    let (names, missing) = match names {
        Ok(names) => (names, false),
        Err(NodeError::IndexNotFound { .. }) => (Vec::new(), true),
        Err(error) => return Err(error),
    };
    let mut total = Counts::default();
    let mut per_index = Map::new();
    for name in &names {
        let meta = node.indices.meta(name)?;
        let unassigned = meta.number_of_shards * meta.number_of_replicas;
        total.primaries += meta.number_of_shards;
        total.active += meta.number_of_shards;
        total.unassigned += unassigned;
        if level == "indices" || level == "shards" {
            let mut entry = json!({
                "status": color(unassigned),
                "number_of_shards": meta.number_of_shards,
                "number_of_replicas": meta.number_of_replicas,
                "active_primary_shards": meta.number_of_shards,
                "active_shards": meta.number_of_shards,
                "relocating_shards": 0,
                "initializing_shards": 0,
                "unassigned_shards": unassigned,
            });
            if level == "shards" {
                let shards: Map<String, Value> = (0..meta.number_of_shards)
                    .map(|shard| {
                        (
                            shard.to_string(),
                            json!({
                                "status": color(meta.number_of_replicas),
                                "primary_active": true,
                                "active_shards": 1,
                                "relocating_shards": 0,
                                "initializing_shards": 0,
                                "unassigned_shards": meta.number_of_replicas,
                            }),
                        )
                    })
                    .collect();
                entry["shards"] = Value::Object(shards);
            }
            per_index.insert(name.clone(), entry);
        }
    }
    let status = if missing {
        "red"
    } else {
        color(total.unassigned)
    };
    let mut timed_out = missing;
    if let Some(wanted) = params.str("wait_for_status") {
        if rank(status) > rank(wanted) {
            timed_out = true;
        }
    }
    if let Some(nodes) = params.str("wait_for_nodes") {
        if !nodes_condition_holds(nodes) {
            timed_out = true;
        }
    }
    if let Some(active) = params.str("wait_for_active_shards") {
        if let Ok(wanted) = active.parse::<u32>() {
            if wanted > total.active {
                timed_out = true;
            }
        }
    }
    let all = total.active + total.unassigned;
    let percent = if all == 0 {
        100.0
    } else {
        f64::from(total.active) * 100.0 / f64::from(all)
    };
    let mut body = json!({
        "cluster_name": node.config.cluster_name,
        "status": status,
        "timed_out": timed_out,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "discovered_master": true,
        "discovered_cluster_manager": true,
        "active_primary_shards": total.primaries,
        "active_shards": total.active,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": total.unassigned,
        "delayed_unassigned_shards": 0,
        "number_of_pending_tasks": 0,
        "number_of_in_flight_fetch": 0,
        "task_max_waiting_in_queue_millis": 0,
        "active_shards_percent_as_number": percent,
    });
    if level == "indices" || level == "shards" {
        body["indices"] = Value::Object(per_index);
    }
    let status_code = if timed_out {
        StatusCode::REQUEST_TIMEOUT
    } else {
        StatusCode::OK
    };
    Ok(RestResponse::json(status_code, body))
}

/// `wait_for_nodes` (`N`, `>=N`, `<=N`, `>N`, `<N`) against our single node.
fn nodes_condition_holds(condition: &str) -> bool {
    let (op, number) = ["ge(", ">=", "<=", "le(", ">", "<", "gt(", "lt("]
        .iter()
        .find_map(|op| {
            condition
                .strip_prefix(op)
                .map(|rest| (*op, rest.trim_end_matches(')')))
        })
        .unwrap_or(("=", condition));
    let Ok(wanted) = number.trim().parse::<u32>() else {
        return false;
    };
    match op {
        ">=" | "ge(" => 1 >= wanted,
        "<=" | "le(" => 1 <= wanted,
        ">" | "gt(" => 1 > wanted,
        "<" | "lt(" => 1 < wanted,
        _ => wanted == 1,
    }
}

fn render_settings(values: &BTreeMap<String, Value>, flat: bool) -> Value {
    if flat {
        return Value::Object(values.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
    }
    let mut root = Map::new();
    for (key, value) in values {
        settings::insert_nested(&mut root, key, value.clone());
    }
    Value::Object(root)
}

/// `GET /_cluster/settings`.
pub(super) fn get_settings(node: &Node, request: &RestRequest) -> NodeResult<RestResponse> {
    let flat = request.params.bool("flat_settings", false)?;
    let state = node.indices.state();
    let mut body = json!({
        "persistent": render_settings(&state.persistent, flat),
        "transient": render_settings(&state.transient, flat),
    });
    if request.params.bool("include_defaults", false)? {
        let mut defaults = BTreeMap::new();
        defaults.insert("cluster.name".to_string(), json!(node.config.cluster_name));
        defaults.insert("node.name".to_string(), json!(node.config.node_name));
        defaults.insert(
            "path.data".to_string(),
            json!([node.config.path_data.display().to_string()]),
        );
        defaults.insert(
            "http.port".to_string(),
            json!(node.config.http_port.to_string()),
        );
        defaults.insert(
            "transport.port".to_string(),
            json!(node.config.transport_port.to_string()),
        );
        defaults.insert(
            "network.host".to_string(),
            json!(node.config.network_host.to_string()),
        );
        defaults.insert("action.auto_create_index".to_string(), json!("true"));
        for (attribute, value) in &node.config.node_attributes {
            defaults.insert(format!("node.attr.{attribute}"), json!(value));
        }
        body["defaults"] = render_settings(&defaults, flat);
    }
    Ok(RestResponse::ok(body))
}

fn validate_cluster_setting(scope: &str, key: &str, value: &Value) -> NodeResult<()> {
    if !CLUSTER_SETTING_PREFIXES
        .iter()
        .any(|prefix| key.starts_with(prefix))
    {
        return Err(NodeError::illegal(format!(
            "{scope} setting [{key}], not recognized"
        )));
    }
    if value.is_null() {
        return Ok(());
    }
    if remote_alias(key).is_some() {
        validate_seeds(&seed_list(value)).map_err(NodeError::illegal)?;
    }
    let text = crate::config::value_text(value);
    match key {
        "search_backpressure.mode"
            if !["monitor_only", "enforced", "disabled"].contains(&text.as_str()) =>
        {
            Err(NodeError::illegal(format!(
                "Invalid SearchBackpressureMode: {text}"
            )))
        }
        "cluster.routing.allocation.enable"
            if !["all", "primaries", "new_primaries", "none"].contains(&text.as_str()) =>
        {
            Err(NodeError::illegal(format!(
                "Illegal allocation.enable value [{}]",
                text.to_ascii_uppercase()
            )))
        }
        _ => Ok(()),
    }
}

/// `PUT /_cluster/settings`.
pub(super) fn put_settings(node: &Node, request: &RestRequest) -> NodeResult<RestResponse> {
    let flat_out = request.params.bool("flat_settings", false)?;
    let body = request.required_json(ParseKind::Json)?;
    let mut persistent = BTreeMap::new();
    let mut transient = BTreeMap::new();
    if let Value::Object(object) = &body {
        for (key, value) in object {
            match key.as_str() {
                "persistent" => flatten("", value, &mut persistent),
                "transient" => flatten("", value, &mut transient),
                other => {
                    return Err(NodeError::parse(
                        ParseKind::Parse,
                        format!("unknown key [{other}] in cluster settings request"),
                    ))
                }
            }
        }
    }
    persistent.remove("");
    transient.remove("");
    for (key, value) in &persistent {
        validate_cluster_setting("persistent", key, value)?;
    }
    for (key, value) in &transient {
        validate_cluster_setting("transient", key, value)?;
    }
    let stringify = |value: &Value| match value {
        Value::Array(_) | Value::String(_) | Value::Null => value.clone(),
        other => Value::String(crate::config::value_text(other)),
    };
    let applied_persistent: BTreeMap<String, Value> = persistent
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.clone(), stringify(value)))
        .collect();
    let applied_transient: BTreeMap<String, Value> = transient
        .iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(key, value)| (key.clone(), stringify(value)))
        .collect();
    node.indices.update_state(|state| {
        apply_changes(&mut state.persistent, &persistent, &stringify);
        Ok(())
    })?;
    node.indices
        .update_transient(|state| apply_changes(&mut state.transient, &transient, &stringify));
    let remotes_changed = persistent
        .keys()
        .chain(transient.keys())
        .any(|key| remote_alias(key).is_some());
    if remotes_changed {
        let seeds = crate::replication::remote_seeds(&node.config, &node.indices);
        node.replication.sync_remotes(&seeds);
    }
    Ok(RestResponse::ok(json!({
        "acknowledged": true,
        "persistent": render_settings(&applied_persistent, flat_out),
        "transient": render_settings(&applied_transient, flat_out),
    })))
}

fn apply_changes(
    target: &mut BTreeMap<String, Value>,
    changes: &BTreeMap<String, Value>,
    stringify: &dyn Fn(&Value) -> Value,
) {
    for (key, value) in changes {
        if value.is_null() {
            let prefix = key.trim_end_matches('*');
            if key.ends_with('*') {
                target.retain(|existing, _| !existing.starts_with(prefix));
            } else {
                target.remove(key);
            }
        } else {
            target.insert(key.clone(), stringify(value));
        }
    }
}
