//! `GET /_remote/info`: the remote clusters configured by `cluster.remote.<alias>.seeds` (node
//! settings, then persistent, then transient cluster settings, later ones winning).
//!
//! It owns that merge and the response shape. Connections do not exist yet (the QUIC transport
//! comes later), so every remote reports `connected: false`. It must never open connections.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::RestResponse;
use crate::config::{remote_alias, seed_list};
use crate::error::NodeResult;
use crate::node::Node;

/// `GET /_remote/info`.
pub(super) fn info(node: &Node) -> NodeResult<RestResponse> {
    let state = node.indices.state();
    let mut remotes: BTreeMap<String, Vec<String>> = node.config.remote_seeds.clone();
    for layer in [&state.persistent, &state.transient] {
        for (key, value) in layer {
            if let Some(alias) = remote_alias(key) {
                remotes.insert(alias.to_string(), seed_list(value));
            }
        }
    }
    let body: Map<String, Value> = remotes
        .into_iter()
        .filter(|(_, seeds)| !seeds.is_empty())
        .map(|(alias, seeds)| {
            let entry = json!({
                "connected": false,
                "mode": "sniff",
                "seeds": seeds,
                "num_nodes_connected": 0,
                "max_connections_per_cluster": 3,
                "initial_connect_timeout": "30s",
                "skip_unavailable": false,
            });
            (alias, entry)
        })
        .collect();
    Ok(RestResponse::ok(Value::Object(body)))
}
