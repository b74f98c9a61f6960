//! `_mget`: many GETs in one request, with per-document errors (a missing index is an error
//! in that document's slot, never a failed request).
//!
//! It owns the body shape (`docs` or `ids`). It must never write.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::doc_api::{decorate, read_doc};
use super::{model, RestBody, RestRequest, RestResponse};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::node::Node;

/// `GET/POST [/<index>]/_mget`.
pub(super) fn mget(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let params = &request.params;
    let body = request.required_json(ParseKind::Json)?;
    let Value::Object(object) = body else {
        return Err(NodeError::parse(
            ParseKind::Parsing,
            "request body must be an object",
        ));
    };
    let mut specs: Vec<Map<String, Value>> = Vec::new();
    for (key, value) in &object {
        match (key.as_str(), value) {
            ("docs", Value::Array(docs)) => {
                for doc in docs {
                    match doc {
                        Value::Object(doc) => specs.push(doc.clone()),
                        _ => return Err(NodeError::illegal("docs array element should include an object")),
                    }
                }
            }
            ("ids", Value::Array(ids)) => {
                if index.is_none() {
                    return Err(NodeError::Validation(vec!["index is missing for doc 0".into()]));
                }
                for id in ids {
                    let mut spec = Map::new();
                    spec.insert("_id".into(), id.clone());
                    specs.push(spec);
                }
            }
            (other, _) => {
                return Err(NodeError::parse(
                    ParseKind::Parsing,
                    format!("unknown parameter [{other}] in request body or parameter is of the wrong type[{}]", type_name(value)),
                ))
            }
        }
    }
    if specs.is_empty() {
        return Err(NodeError::Validation(vec!["no documents to get".into()]));
    }
    let mut problems = Vec::new();
    for (position, spec) in specs.iter().enumerate() {
        if spec.get("_index").is_none() && index.is_none() {
            problems.push(format!("index is missing for doc {position}"));
        }
        if spec.get("_id").is_none_or(Value::is_null) {
            problems.push(format!("id is missing for doc {position}"));
        }
    }
    if !problems.is_empty() {
        return Err(NodeError::Validation(problems));
    }
    let default_filter = model::source_filter(params)?;
    let refresh = params.bool("refresh", false)?;
    let realtime = params.bool("realtime", true)?;
    let mut docs = Vec::with_capacity(specs.len());
    for spec in &specs {
        let doc_index = spec
            .get("_index")
            .and_then(Value::as_str)
            .or(index)
            .unwrap_or_default();
        let id = match &spec["_id"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let routing = spec
            .get("routing")
            .or_else(|| spec.get("_routing"))
            .and_then(|value| {
                value
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| value.as_i64().map(|n| n.to_string()))
            })
            .or_else(|| params.str("routing").map(str::to_string));
        let filter = spec.get("_source").map_or_else(
            || default_filter.clone(),
            crate::docs::source::body_source_filter,
        );
        let stored = match spec.get("stored_fields") {
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
            ),
            Some(Value::String(text)) => Some(text.split(',').map(str::to_string).collect()),
            _ => params
                .str("stored_fields")
                .map(|_| params.list("stored_fields")),
        };
        let stored: Option<Vec<String>> = stored;
        match read_doc(node, doc_index, &id, routing.as_deref(), realtime, refresh) {
            Ok(outcome) => {
                let body = model::get_body(&outcome, &filter, stored.as_deref());
                docs.push(decorate(node, &outcome, body, stored.as_deref()));
            }
            Err(error) => {
                let (_, body) = super::error::error_body(&error);
                docs.push(json!({"_index": doc_index, "_id": id, "error": body["error"].clone()}));
            }
        }
    }
    Ok(RestResponse {
        status: StatusCode::OK,
        body: RestBody::Json(json!({ "docs": docs })),
    })
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
        Value::String(_) => "VALUE_STRING",
        Value::Number(_) => "VALUE_NUMBER",
        Value::Bool(_) => "VALUE_BOOLEAN",
        Value::Null => "VALUE_NULL",
    }
}
