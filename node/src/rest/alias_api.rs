//! Alias endpoints: `GET/HEAD [/<index>]/_alias[/<name>]`, `PUT`/`DELETE /<index>/_alias/<name>`
//! and `POST /_aliases` actions.
//!
//! It owns their parameters and responses. It must never change metadata except through the
//! index service.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::index_api::resolve;
use super::{RestRequest, RestResponse};
use crate::cluster_state::IndexMeta;
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::indices::{names, IndexService, ResolveOptions};
use crate::node::Node;

/// `GET [/<index>]/_alias[/<name>]`.
pub(super) fn get_alias(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
    name: Option<&str>,
) -> NodeResult<RestResponse> {
    let patterns: Vec<&str> = name
        .map(|name| name.split(',').collect())
        .unwrap_or_default();
    let mut out = Map::new();
    let mut matched = false;
    for index_name in resolve(node, request, index)? {
        let meta: IndexMeta = node.indices.meta(&index_name)?;
        let aliases = IndexService::aliases_json(&meta);
        let selected: Map<String, Value> = aliases
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(alias, _)| {
                patterns.is_empty()
                    || patterns
                        .iter()
                        .any(|p| names::is_all(p) || names::glob_match(p, alias))
            })
            .map(|(alias, body)| (alias.clone(), body.clone()))
            .collect();
        if !selected.is_empty() {
            matched = true;
        }
        if patterns.is_empty() || !selected.is_empty() {
            out.insert(index_name, json!({"aliases": selected}));
        }
    }
    if !patterns.is_empty() && !matched {
        let missing = patterns.join(",");
        return Ok(RestResponse::json(
            StatusCode::NOT_FOUND,
            json!({"error": format!("alias [{missing}] missing"), "status": 404}),
        ));
    }
    Ok(RestResponse::ok(Value::Object(out)))
}

/// `PUT /<index>/_alias/<name>`.
pub(super) fn put_alias(
    node: &Node,
    request: &RestRequest,
    index: &str,
    name: &str,
) -> NodeResult<RestResponse> {
    let body = request.json(ParseKind::Json)?.unwrap_or_else(|| json!({}));
    let names = resolve(node, request, Some(index))?;
    node.indices.put_alias(&names, name, body)?;
    Ok(RestResponse::ok(json!({"acknowledged": true})))
}

/// `DELETE /<index>/_alias/<name>`.
pub(super) fn delete_alias(
    node: &Node,
    request: &RestRequest,
    index: &str,
    name: &str,
) -> NodeResult<RestResponse> {
    let names = resolve(node, request, Some(index))?;
    node.indices.delete_alias(&names, name)?;
    Ok(RestResponse::ok(json!({"acknowledged": true})))
}

/// `POST /_aliases` with `add`, `remove` and `remove_index` actions.
pub(super) fn update_aliases(node: &Node, request: &RestRequest) -> NodeResult<RestResponse> {
    let body = request.required_json(ParseKind::Json)?;
    let actions = body
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            NodeError::Validation(vec!["At least one action should be specified.".into()])
        })?;
    for action in actions {
        let Some((kind, spec)) = action.as_object().and_then(|object| object.iter().next()) else {
            return Err(NodeError::parse(
                ParseKind::Parsing,
                "an alias action must be an object",
            ));
        };
        let indices: Vec<String> = match (spec.get("index"), spec.get("indices")) {
            (Some(Value::String(index)), _) => vec![index.clone()],
            (_, Some(Value::Array(list))) => list
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => {
                return Err(NodeError::Validation(vec![
                    "One of [index] or [indices] is required".into(),
                ]))
            }
        };
        let mut names = Vec::new();
        for index in &indices {
            names.extend(node.indices.resolve(index, ResolveOptions::default())?);
        }
        match kind.as_str() {
            "add" => {
                let alias = alias_name(spec)?;
                let mut definition = spec.as_object().cloned().unwrap_or_default();
                for key in ["index", "indices", "alias", "aliases"] {
                    definition.remove(key);
                }
                node.indices
                    .put_alias(&names, &alias, Value::Object(definition))?;
            }
            "remove" => node.indices.delete_alias(&names, &alias_name(spec)?)?,
            "remove_index" => node.indices.delete_indices(&names)?,
            other => {
                return Err(NodeError::parse(
                    ParseKind::Parsing,
                    format!("[aliases] unknown field [{other}]"),
                ))
            }
        }
    }
    Ok(RestResponse::ok(json!({"acknowledged": true})))
}

fn alias_name(spec: &Value) -> NodeResult<String> {
    spec.get("alias")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| NodeError::Validation(vec!["[alias] is required".into()]))
}
