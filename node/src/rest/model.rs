//! Response shapes: OpenSearch's JSON for writes, GETs, bulk items and updates, built from
//! the typed outcomes of `docs`.
//!
//! It owns field names and their order. It must never run operations.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use tandem_storage::engine::{WriteOutcome, WriteResult};

use super::params::Params;
use crate::docs::get::GetOutcome;
use crate::docs::source::SourceFilter;
use crate::docs::update::UpdateOutcome;
use crate::docs::WriteAck;
use crate::error::NodeResult;

/// `_shards` of a write: the primary succeeded; configured replicas do not exist on one node.
pub fn shards(total: u32, successful: u32) -> Value {
    json!({"total": total, "successful": successful, "failed": 0})
}

/// OpenSearch's `result` word.
pub fn result_word(outcome: WriteOutcome) -> &'static str {
    match outcome {
        WriteOutcome::Created => "created",
        WriteOutcome::Updated => "updated",
        WriteOutcome::Deleted => "deleted",
        WriteOutcome::NotFound => "not_found",
    }
}

/// The status of a write result.
pub fn write_status(outcome: WriteOutcome) -> StatusCode {
    match outcome {
        WriteOutcome::Created => StatusCode::CREATED,
        WriteOutcome::NotFound => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

/// The body of an index/create/delete response (and of a bulk item, without `status`).
pub fn write_body(
    index: &str,
    id: &str,
    result: &WriteResult,
    shards_total: u32,
    forced_refresh: bool,
) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("_index".into(), json!(index));
    body.insert("_id".into(), json!(id));
    body.insert("_version".into(), json!(result.version));
    body.insert("result".into(), json!(result_word(result.outcome)));
    if forced_refresh {
        body.insert("forced_refresh".into(), json!(true));
    }
    body.insert("_shards".into(), shards(shards_total, 1));
    body.insert("_seq_no".into(), json!(result.seq_no));
    body.insert("_primary_term".into(), json!(result.primary_term));
    body
}

/// A single write's response.
pub fn write_ack(ack: &WriteAck) -> (StatusCode, Value) {
    let body = write_body(
        &ack.index,
        &ack.id,
        &ack.result,
        ack.shards_total,
        ack.forced_refresh,
    );
    (write_status(ack.result.outcome), Value::Object(body))
}

/// An update's response.
pub fn update_body(index: &str, id: &str, outcome: &UpdateOutcome) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("_index".into(), json!(index));
    body.insert("_id".into(), json!(id));
    body.insert("_version".into(), json!(outcome.version));
    body.insert("result".into(), json!(outcome.result));
    if outcome.forced_refresh {
        body.insert("forced_refresh".into(), json!(true));
    }
    let noop = outcome.result == "noop";
    body.insert(
        "_shards".into(),
        if noop {
            shards(0, 0)
        } else {
            shards(outcome.target.shards_total, 1)
        },
    );
    body.insert("_seq_no".into(), json!(outcome.seq_no));
    body.insert("_primary_term".into(), json!(outcome.primary_term));
    if let Some(filter) = outcome
        .source_filter
        .as_ref()
        .filter(|filter| !filter.disabled)
    {
        body.insert(
            "get".into(),
            json!({
                "_seq_no": outcome.seq_no,
                "_primary_term": outcome.primary_term,
                "found": true,
                "_source": filter.apply(&outcome.source),
            }),
        );
    }
    body
}

/// The `_source` filter the parameters ask for; `None` means "do not return `_source`".
pub fn source_filter(params: &Params) -> NodeResult<SourceFilter> {
    let mut filter = SourceFilter::default();
    if let Some(value) = params.str("_source") {
        match value {
            "false" => filter.disabled = true,
            "true" | "" => {}
            _ => filter.includes = params.list("_source"),
        }
    }
    filter.includes.extend(params.list("_source_includes"));
    filter.excludes.extend(params.list("_source_excludes"));
    filter.requested = ["_source", "_source_includes", "_source_excludes"]
        .iter()
        .any(|key| params.str(key).is_some());
    Ok(filter)
}

/// A GET response body.
pub fn get_body(
    outcome: &GetOutcome,
    filter: &SourceFilter,
    stored_fields: Option<&[String]>,
) -> Value {
    let mut body = Map::new();
    body.insert("_index".into(), json!(outcome.index));
    body.insert("_id".into(), json!(outcome.id));
    match &outcome.doc {
        None => {
            body.insert("found".into(), json!(false));
        }
        Some(doc) => {
            body.insert("_version".into(), json!(doc.state.version));
            body.insert("_seq_no".into(), json!(doc.state.seq_no));
            body.insert("_primary_term".into(), json!(doc.state.primary_term));
            body.insert("found".into(), json!(true));
            if let Some(routing) = &doc.routing {
                body.insert("_routing".into(), json!(routing));
            }
            let explicit_source = filter.requested;
            let source_listed =
                stored_fields.is_none_or(|fields| fields.iter().any(|f| f == "_source"));
            if !filter.disabled && (source_listed || explicit_source) {
                body.insert("_source".into(), filter.apply(&doc.source));
            }
        }
    }
    Value::Object(body)
}
