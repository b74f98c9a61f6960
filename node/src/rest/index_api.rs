//! Index endpoints: create, get, exists, delete, `_mapping`, `_settings`, `_refresh`,
//! `_flush`, `_open`, `_close` and aliases.
//!
//! It owns parameter handling (indices options) and response shapes of these endpoints. It
//! must never change metadata except through the index service.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::{RestRequest, RestResponse};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::indices::admin::CreateIndex;
use crate::indices::{names, settings, IndexService, ResolveOptions};
use crate::node::Node;

/// Indices options from `ignore_unavailable`, `allow_no_indices`, `expand_wildcards`.
pub(super) fn resolve_options(
    request: &RestRequest,
    defaults: ResolveOptions,
) -> NodeResult<ResolveOptions> {
    let params = &request.params;
    let mut options = defaults;
    options.ignore_unavailable = params.bool("ignore_unavailable", defaults.ignore_unavailable)?;
    options.allow_no_indices = params.bool("allow_no_indices", defaults.allow_no_indices)?;
    let expand = params.list("expand_wildcards");
    if !expand.is_empty() {
        options.expand_open = false;
        options.expand_closed = false;
        for value in expand {
            match value.as_str() {
                "open" => options.expand_open = true,
                "closed" => options.expand_closed = true,
                "all" => {
                    options.expand_open = true;
                    options.expand_closed = true;
                }
                "none" | "hidden" => {}
                other => {
                    return Err(NodeError::illegal(format!(
                        "No enum constant org.opensearch.action.support.IndicesOptions.WildcardStates.{}",
                        other.to_ascii_uppercase()
                    )))
                }
            }
        }
    }
    Ok(options)
}

pub(super) fn resolve(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<Vec<String>> {
    let options = resolve_options(request, ResolveOptions::default())?;
    node.indices.resolve(index.unwrap_or("_all"), options)
}

/// `PUT /<index>`.
pub(super) fn create(node: &Node, request: &RestRequest, index: &str) -> NodeResult<RestResponse> {
    let body = request.json(ParseKind::Json)?;
    if let Some(mappings) = body.as_ref().and_then(|body| body.get("mappings")) {
        refuse_type_wrapper(
            mappings,
            "The mapping definition cannot be nested under a type [_doc] unless include_type_name is set to true.",
        )?;
    }
    let meta = node
        .indices
        .create_index(index, CreateIndex::from_body(body)?)?;
    Ok(RestResponse::ok(json!({
        "acknowledged": true,
        "shards_acknowledged": true,
        "index": meta.name,
    })))
}

/// `GET /<index>`.
pub(super) fn get(node: &Node, request: &RestRequest, index: &str) -> NodeResult<RestResponse> {
    let flat = request.params.bool("flat_settings", false)?;
    let mut out = Map::new();
    for name in resolve(node, request, Some(index))? {
        let meta = node.indices.meta(&name)?;
        out.insert(
            name,
            json!({
                "aliases": IndexService::aliases_json(&meta),
                "mappings": meta.mapping,
                "settings": settings::render(&meta.settings, flat),
            }),
        );
    }
    Ok(RestResponse::ok(Value::Object(out)))
}

/// `HEAD /<index>`.
pub(super) fn exists(node: &Node, request: &RestRequest, index: &str) -> NodeResult<RestResponse> {
    let options = resolve_options(
        request,
        ResolveOptions {
            allow_no_indices: false,
            ..ResolveOptions::default()
        },
    )?;
    let status = match node.indices.resolve(index, options) {
        Ok(found) if !found.is_empty() => StatusCode::OK,
        _ => StatusCode::NOT_FOUND,
    };
    Ok(RestResponse::status(status))
}

/// `DELETE /<index>`.
pub(super) fn delete(node: &Node, request: &RestRequest, index: &str) -> NodeResult<RestResponse> {
    let defaults = ResolveOptions {
        match_aliases: false,
        ..ResolveOptions::default()
    };
    let names = node
        .indices
        .resolve(index, resolve_options(request, defaults)?)?;
    node.indices.delete_indices(&names)?;
    Ok(RestResponse::ok(json!({"acknowledged": true})))
}

/// `GET [/<index>]/_mapping`.
pub(super) fn get_mapping(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let mut out = Map::new();
    for name in resolve(node, request, index)? {
        let meta = node.indices.meta(&name)?;
        out.insert(name, json!({"mappings": meta.mapping}));
    }
    Ok(RestResponse::ok(Value::Object(out)))
}

/// `PUT /<index>/_mapping`.
pub(super) fn put_mapping(
    node: &Node,
    request: &RestRequest,
    index: &str,
) -> NodeResult<RestResponse> {
    let body = request.required_json(ParseKind::Json)?;
    refuse_type_wrapper(&body, "Types cannot be provided in put mapping requests")?;
    let names = resolve(node, request, Some(index))?;
    if names.is_empty() {
        return Err(NodeError::no_index(index));
    }
    for name in names {
        node.indices.put_mapping(&name, &body)?;
    }
    Ok(RestResponse::ok(json!({"acknowledged": true})))
}

/// `GET [/<index>]/_settings[/<name>]`.
pub(super) fn get_settings(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
    name: Option<&str>,
) -> NodeResult<RestResponse> {
    let flat = request.params.bool("flat_settings", false)?;
    let include_defaults = request.params.bool("include_defaults", false)?;
    let patterns: Vec<&str> = name
        .map(|name| name.split(',').collect())
        .unwrap_or_default();
    let mut out = Map::new();
    for index_name in resolve(node, request, index)? {
        let meta = node.indices.meta(&index_name)?;
        let selected: BTreeMap<String, String> = meta
            .settings
            .iter()
            .filter(|(key, _)| {
                patterns.is_empty()
                    || patterns.iter().any(|pattern| {
                        names::is_all(pattern)
                            || names::glob_match(pattern, key)
                            || names::glob_match(&format!("index.{pattern}"), key)
                    })
            })
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if !patterns.is_empty() && selected.is_empty() {
            continue;
        }
        let mut entry = json!({"settings": settings::render(&selected, flat)});
        if include_defaults {
            let defaults: BTreeMap<String, String> = settings::defaults()
                .into_iter()
                .filter(|(key, _)| !meta.settings.contains_key(key))
                .collect();
            entry["defaults"] = settings::render(&defaults, flat);
        }
        out.insert(index_name, entry);
    }
    Ok(RestResponse::ok(Value::Object(out)))
}

/// `PUT [/<index>]/_settings`.
pub(super) fn put_settings(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let body = request.required_json(ParseKind::Json)?;
    let given = match body.get("settings") {
        Some(inner) if body.as_object().is_some_and(|object| object.len() == 1) => inner.clone(),
        _ => body,
    };
    let changes = settings::normalize(&given)?;
    let names = resolve(node, request, index)?;
    node.indices.update_settings(&names, &changes)?;
    Ok(RestResponse::ok(json!({"acknowledged": true})))
}

/// `POST [/<index>]/_refresh` and `_flush`.
pub(super) fn refresh(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
    flush: bool,
) -> NodeResult<RestResponse> {
    let names = resolve(node, request, index)?;
    let (mut total, mut successful) = (0u32, 0u32);
    for name in names {
        let meta = node.indices.meta(&name)?;
        let handle = match node.indices.handle(&name) {
            Ok(handle) => handle,
            // A closed index named outright is an error; one a wildcard matched is skipped.
            Err(error @ NodeError::IndexClosed { .. }) if index.is_some_and(is_concrete) => {
                return Err(error)
            }
            Err(_) => continue,
        };
        total += meta.number_of_shards * (1 + meta.number_of_replicas);
        for shard in &handle.shards {
            if flush {
                shard.flush()?;
            } else {
                shard.refresh(false)?;
            }
            successful += 1;
        }
    }
    Ok(RestResponse::ok(
        json!({"_shards": {"total": total, "successful": successful, "failed": 0}}),
    ))
}

/// `POST /<index>/_open` and `_close`.
pub(super) fn open_close(
    node: &Node,
    request: &RestRequest,
    index: &str,
    open: bool,
) -> NodeResult<RestResponse> {
    let options = resolve_options(request, ResolveOptions::default())?;
    let names = node.indices.resolve(index, options)?;
    if open {
        node.indices.open_indices(&names)?;
        return Ok(RestResponse::ok(
            json!({"acknowledged": true, "shards_acknowledged": true}),
        ));
    }
    node.indices.close_indices(&names)?;
    let closed: Map<String, Value> = names
        .iter()
        .map(|name| (name.clone(), json!({"closed": true})))
        .collect();
    Ok(RestResponse::ok(json!({
        "acknowledged": true,
        "shards_acknowledged": true,
        "indices": closed,
    })))
}

/// OpenSearch 2.x refuses mappings nested under a type name.
fn refuse_type_wrapper(mappings: &Value, reason: &str) -> NodeResult<()> {
    let wrapped = mappings.as_object().is_some_and(|object| {
        object.len() == 1 && object.get("_doc").is_some_and(Value::is_object)
    });
    if wrapped {
        return Err(NodeError::illegal(reason));
    }
    Ok(())
}

/// Whether an index expression names indices outright (no wildcard, not `_all`).
fn is_concrete(expression: &str) -> bool {
    !expression.contains('*') && !names::is_all(expression)
}
