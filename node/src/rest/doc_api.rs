//! Document endpoints: `_doc` (index, get, head, delete), `_create`, `_source`, `_update` and
//! `_mget`.
//!
//! It owns reading parameters and bodies into `docs` requests and the responses back. It must
//! never touch an engine directly.

use axum::http::StatusCode;
use serde_json::{Map, Value};
use tandem_storage::engine::{DeleteRequest, IndexRequest, WriteRequest};

use super::{model, params::validate_id, RestRequest, RestResponse};
use crate::docs::get::{get_doc, get_doc_searchable, GetOutcome};
use crate::docs::update::{update_doc, UpdateRequest};
use crate::docs::{version_check, write_one, SingleWrite};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::node::Node;

fn check_of(request: &RestRequest) -> NodeResult<tandem_storage::engine::VersionCheck> {
    let params = &request.params;
    let if_seq_no = params.i64("if_seq_no")?;
    let if_primary_term = params
        .i64("if_primary_term")?
        .map(|term| u64::try_from(term).unwrap_or(0));
    version_check(
        if_seq_no,
        if_primary_term,
        params.i64("version")?,
        params.str("version_type"),
    )
}

/// `PUT/POST /<index>/_doc[/<id>]`, `PUT/POST /<index>/_create/<id>`.
pub(super) fn index(
    node: &Node,
    request: &RestRequest,
    index: &str,
    id: Option<&str>,
    create: bool,
) -> NodeResult<RestResponse> {
    let params = &request.params;
    let Some(body) = request.body.clone() else {
        return Err(NodeError::parse(
            ParseKind::Parse,
            "request body is required",
        ));
    };
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
        return Err(NodeError::DocumentParse {
            cause: error.to_string(),
        });
    }
    let check = check_of(request)?;
    let op_type = params.str("op_type");
    let create_only = match op_type {
        None | Some("index") => create,
        Some("create") => true,
        Some(other) => {
            return Err(NodeError::illegal(format!(
                "opType must be 'create' or 'index', found: [{other}]"
            )))
        }
    };
    if let Some(id) = id {
        validate_id(id)?;
    }
    let auto_generated_id = id.is_none();
    let write = SingleWrite {
        index: index.to_string(),
        request: WriteRequest::Index(IndexRequest {
            id: id.map_or_else(crate::ids::auto_doc_id, str::to_string),
            source: body,
            routing: params.str("routing").map(str::to_string),
            create_only: create_only || auto_generated_id,
            version_check: check,
            auto_generated_id,
        }),
        refresh: params.refresh()?,
    };
    let ack = write_one(&node.indices, write)?;
    let (status, body) = model::write_ack(&ack);
    Ok(RestResponse::json(status, body))
}

/// `DELETE /<index>/_doc/<id>`.
pub(super) fn delete(
    node: &Node,
    request: &RestRequest,
    index: &str,
    id: &str,
) -> NodeResult<RestResponse> {
    let params = &request.params;
    let write = SingleWrite {
        index: index.to_string(),
        request: WriteRequest::Delete(DeleteRequest {
            id: id.to_string(),
            routing: params.str("routing").map(str::to_string),
            version_check: check_of(request)?,
        }),
        refresh: params.refresh()?,
    };
    let ack = write_one(&node.indices, write)?;
    let (status, body) = model::write_ack(&ack);
    Ok(RestResponse::json(status, body))
}

/// `GET/HEAD /<index>/_doc/<id>` and `/_source/<id>`.
pub(super) fn get(
    node: &Node,
    request: &RestRequest,
    index: &str,
    id: &str,
    head: bool,
    source_only: bool,
) -> NodeResult<RestResponse> {
    let params = &request.params;
    let refresh = params.bool("refresh", false)?;
    let realtime = params.bool("realtime", true)?;
    let outcome = read_doc(node, index, id, params.str("routing"), realtime, refresh)?;
    if let (Some(doc), Some(version)) = (&outcome.doc, params.i64("version")?) {
        let external = matches!(
            params.str("version_type"),
            Some("external" | "external_gte")
        );
        if doc.state.version != version || (external && doc.state.version < version) {
            return Err(NodeError::VersionConflict {
                index: outcome.index.clone(),
                uuid: outcome.target.handle.uuid.clone(),
                shard: outcome.target.shard,
                reason: format!(
                    "[{id}]: version conflict, current version [{}] is different than the one provided [{version}]",
                    doc.state.version
                ),
            });
        }
    }
    let filter = model::source_filter(params)?;
    if source_only {
        let Some(doc) = &outcome.doc else {
            if head {
                return Ok(RestResponse::status(StatusCode::NOT_FOUND));
            }
            return Err(NodeError::ResourceNotFound(format!(
                "Document not found [{}]/[_doc]/[{id}]",
                outcome.index
            )));
        };
        if !source_enabled(node, &outcome.index) {
            if head {
                return Ok(RestResponse::status(StatusCode::NOT_FOUND));
            }
            return Err(NodeError::ResourceNotFound(format!(
                "Source not found [{}]/[_doc]/[{id}]",
                outcome.index
            )));
        }
        if head {
            return Ok(RestResponse::status(StatusCode::OK));
        }
        return Ok(RestResponse::ok(filter.apply(&doc.source)));
    }
    let status = if outcome.doc.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    if head {
        return Ok(RestResponse::status(status));
    }
    let stored = params
        .str("stored_fields")
        .map(|_| params.list("stored_fields"));
    let body = decorate(
        node,
        &outcome,
        model::get_body(&outcome, &filter, stored.as_deref()),
        stored.as_deref(),
    );
    Ok(RestResponse::json(status, body))
}

/// `POST /<index>/_update/<id>`.
pub(super) fn update(
    node: &Node,
    request: &RestRequest,
    index: &str,
    id: &str,
) -> NodeResult<RestResponse> {
    let params = &request.params;
    let body = request.required_json(ParseKind::Json)?;
    let if_seq_no = params.i64("if_seq_no")?;
    let if_primary_term = params
        .i64("if_primary_term")?
        .map(|term| u64::try_from(term).unwrap_or(0));
    let retries = params.i64("retry_on_conflict")?.unwrap_or(0);
    let mut update = UpdateRequest {
        index: index.to_string(),
        id: id.to_string(),
        routing: params.str("routing").map(str::to_string),
        doc: None,
        upsert: None,
        doc_as_upsert: false,
        detect_noop: true,
        retry_on_conflict: u32::try_from(retries.max(0)).unwrap_or(u32::MAX),
        if_seq_no: if_seq_no.zip(if_primary_term),
        refresh: params.refresh()?,
        source_filter: None,
    };
    update.parse_body(body)?;
    let mut filter = update.source_filter.clone();
    if params.str("_source").is_some()
        || params.str("_source_includes").is_some()
        || params.str("_source_excludes").is_some()
    {
        filter = Some(model::source_filter(params)?);
    }
    update.source_filter = filter.filter(|filter| !filter.disabled);
    let outcome = update_doc(&node.indices, &update)?;
    let status = if outcome.result == "created" {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let name = outcome.target.handle.name.clone();
    let body = model::update_body(&name, id, &outcome);
    Ok(RestResponse::json(status, Value::Object(body)))
}

/// Real-time or searchable-only read.
pub(super) fn read_doc(
    node: &Node,
    index: &str,
    id: &str,
    routing: Option<&str>,
    realtime: bool,
    refresh: bool,
) -> NodeResult<GetOutcome> {
    if realtime {
        return get_doc(&node.indices, index, id, routing, refresh);
    }
    if refresh {
        get_doc(&node.indices, index, id, routing, true)?;
    }
    get_doc_searchable(&node.indices, index, id, routing)
}

/// Whether the index keeps `_source` visible (`_source.enabled` is not false).
fn source_enabled(node: &Node, index: &str) -> bool {
    node.indices.meta(index).map_or(true, |meta| {
        meta.mapping.pointer("/_source/enabled") != Some(&Value::Bool(false))
    })
}

/// Hides `_source` when the mapping disables it and adds `fields` for stored fields.
pub(super) fn decorate(
    node: &Node,
    outcome: &GetOutcome,
    mut body: Value,
    stored: Option<&[String]>,
) -> Value {
    if !source_enabled(node, &outcome.index) {
        if let Value::Object(object) = &mut body {
            object.remove("_source");
        }
    }
    let (Some(stored), Some(doc)) = (stored, &outcome.doc) else {
        return body;
    };
    let Ok(meta) = node.indices.meta(&outcome.index) else {
        return body;
    };
    let Ok(mapping) = tandem_storage::Mapping::from_json(&meta.mapping, meta.mapping_version)
    else {
        return body;
    };
    let mut fields = Map::new();
    for name in stored.iter().filter(|name| !name.starts_with('_')) {
        let is_stored = mapping
            .field(name)
            .is_some_and(|field| field.extra.get("store") == Some(&Value::Bool(true)));
        if !is_stored {
            continue;
        }
        let value = name
            .split('.')
            .try_fold(&doc.source, |value, part| value.get(part));
        match value {
            Some(Value::Array(items)) => {
                fields.insert(name.clone(), Value::Array(items.clone()));
            }
            Some(Value::Null) | None => {}
            Some(other) => {
                fields.insert(name.clone(), Value::Array(vec![other.clone()]));
            }
        }
    }
    if !fields.is_empty() {
        if let Value::Object(object) = &mut body {
            object.insert("fields".into(), Value::Object(fields));
        }
    }
    body
}
