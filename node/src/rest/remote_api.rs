//! `GET /_remote/info`: the remote clusters configured by `cluster.remote.<alias>.seeds` (node
//! settings, then persistent, then transient cluster settings, later ones winning).
//!
//! It owns the response shape; the merge is `replication::remote_seeds`, and `connected` is
//! the transport's view of the alias's one connection. It must never open connections.

use serde_json::{json, Map, Value};

use super::RestResponse;
use crate::error::NodeResult;
use crate::node::Node;

/// `GET /_remote/info`.
pub(super) fn info(node: &Node) -> NodeResult<RestResponse> {
    let remotes = crate::replication::remote_seeds(&node.config, &node.indices);
    let body: Map<String, Value> = remotes
        .into_iter()
        .map(|(alias, seeds)| {
            let connected = node.replication.is_connected(&alias);
            let entry = json!({
                "connected": connected,
                "mode": "sniff",
                "seeds": seeds,
                "num_nodes_connected": u32::from(connected),
                "max_connections_per_cluster": 3,
                "initial_connect_timeout": "30s",
                "skip_unavailable": false,
            });
            (alias, entry)
        })
        .collect();
    Ok(RestResponse::ok(Value::Object(body)))
}
