//! `POST [/<index>]/_bulk`: runs the items and renders OpenSearch's per-item response with the
//! `errors` flag.
//!
//! It owns the bulk response shape. It must never fail the whole request for one bad item.

use std::time::Instant;

use serde_json::{json, Map, Value};

use super::{error::cause, model, RestRequest, RestResponse};
use crate::docs::bulk::{run_bulk, BulkDefaults, ItemDone};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::node::Node;

/// `POST [/<index>]/_bulk`.
pub(super) fn bulk(
    node: &Node,
    request: &RestRequest,
    index: Option<&str>,
) -> NodeResult<RestResponse> {
    let started = Instant::now();
    let Some(body) = &request.body else {
        return Err(NodeError::parse(
            ParseKind::Parse,
            "request body is required",
        ));
    };
    let refresh = request.params.refresh()?;
    let source_filter =
        Some(model::source_filter(&request.params)?).filter(|filter| filter.requested);
    let defaults = BulkDefaults {
        index,
        routing: request.params.str("routing"),
        require_alias: request.params.bool("require_alias", false)?,
        source_filter,
    };
    let items = run_bulk(&node.indices, body, &defaults, refresh)?;
    let mut errors = false;
    let mut rendered = Vec::with_capacity(items.len());
    for item in items {
        let mut entry = match item.outcome {
            Ok(ItemDone::Write {
                result,
                shards_total,
            }) => {
                let mut body =
                    model::write_body(&item.index, &item.id, &result, shards_total, false);
                body.insert(
                    "status".into(),
                    json!(model::write_status(result.outcome).as_u16()),
                );
                body
            }
            Ok(ItemDone::Update(outcome)) => {
                let mut body = model::update_body(&item.index, &item.id, &outcome);
                let status = if outcome.result == "created" {
                    201
                } else {
                    200
                };
                body.insert("status".into(), json!(status));
                body
            }
            Err(error) => {
                errors = true;
                let (status, _) = super::error::status_and_type(&error);
                let mut body = Map::new();
                body.insert("_index".into(), json!(item.index));
                body.insert("_id".into(), json!(item.id));
                body.insert("status".into(), json!(status.as_u16()));
                body.insert("error".into(), Value::Object(cause(&error)));
                body
            }
        };
        entry.remove("forced_refresh");
        rendered.push(json!({ item.action.name(): Value::Object(entry) }));
    }
    let took_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(RestResponse::ok(json!({
        "took": took_ms,
        "errors": errors,
        "items": rendered,
    })))
}
