//! `_plugins/_replication/*`: the cross-cluster replication API, sent to the follower (and
//! `leader_stats` to the leader). Requests are parsed here and answered by the replication
//! service of `tandem-ccr`, whose errors already carry OpenSearch's status, type and reason.
//!
//! It owns the route table of this API and the rendering of its errors. It runs on the async
//! runtime (the service awaits the leader); it must never block: index changes the service
//! asks for are short metadata writes.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tandem_ccr::ReplicationError;

use super::{RestRequest, RestResponse};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::node::Node;
use crate::replication::follower::{flat_overrides, replication_error};

/// Whether the path belongs to this API.
pub fn is_replication_path(segments: &[String]) -> bool {
    segments.len() >= 2 && segments[0] == "_plugins" && segments[1] == "_replication"
}

/// Answers one request of this API.
pub async fn handle(node: &Node, request: &RestRequest) -> NodeResult<RestResponse> {
    let segments: Vec<&str> = request.segments[2..].iter().map(String::as_str).collect();
    let method = &request.method;
    let (get, put, post, delete) = (
        method == Method::GET,
        method == Method::PUT,
        method == Method::POST,
        method == Method::DELETE,
    );
    let allowed: &[&str] = match segments.as_slice() {
        [_, "_status"] => &["verbose", "pretty", "human", "error_trace", "filter_path"],
        _ => &["pretty", "human", "error_trace", "filter_path"],
    };
    request.params.check_allowed(&request.path, allowed)?;
    let service = &node.replication.service;
    let answer = match segments.as_slice() {
        ["follower_stats"] if get => Ok(service.follower_stats().await),
        ["leader_stats"] if get => Ok(node.replication.leader_stats()),
        ["autofollow_stats"] if get => Ok(node.replication.autofollow.stats()),
        ["_autofollow"] if post => {
            let body = body(request)?;
            node.replication.autofollow.create(&body).await
        }
        ["_autofollow"] if delete => {
            let body = body(request)?;
            node.replication.autofollow.delete(&body).await
        }
        [index, "_start"] if put || post => {
            let body = body(request)?;
            service.start(index, &body).await
        }
        [index, "_status"] if get => {
            let verbose = request.params.bool("verbose", false)?;
            Ok(service.status(index, verbose).await)
        }
        [index, "_pause"] if post || put => service.pause(index, &body(request)?).await,
        [index, "_resume"] if post || put => service.resume(index, &body(request)?).await,
        [index, "_stop"] if post || put => service.stop(index, &body(request)?).await,
        [index, "_update"] if put || post => update(node, index, &body(request)?).await,
        _ => {
            return Err(NodeError::NoHandler {
                uri: request.path.clone(),
                method: method.to_string(),
            })
        }
    };
    Ok(match answer {
        Ok(body) => RestResponse::ok(body),
        Err(error) => error_response(&error),
    })
}

/// The body as JSON (`{}` when empty).
fn body(request: &RestRequest) -> NodeResult<Value> {
    Ok(request.json(ParseKind::Json)?.unwrap_or_else(|| json!({})))
}

/// `_update`: validate the overrides, store them with the replication, apply them now.
async fn update(node: &Node, index: &str, body: &Value) -> Result<Value, ReplicationError> {
    let settings = body.get("settings").unwrap_or(body);
    let overrides = flat_overrides(settings).map_err(|error| replication_error(&error))?;
    let answer = node.replication.service.update(index, body).await?;
    let indices = node.indices.clone();
    let name = index.to_string();
    tokio::task::spawn_blocking(move || indices.set_follower_overrides(&name, overrides))
        .await
        .map_err(|error| ReplicationError::replication(error.to_string()))?
        .map_err(|error| replication_error(&error))?;
    Ok(answer)
}

/// A replication error as OpenSearch renders it.
pub fn error_response(error: &ReplicationError) -> RestResponse {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    RestResponse::json(status, error.to_json())
}
