//! Parsing of `_bulk` bodies: action/metadata lines and their source lines into items.
//!
//! It owns the line format and OpenSearch's messages for malformed lines. It must never run
//! an item.

use std::collections::BTreeSet;

use bytes::Bytes;
use serde_json::{Map, Value};
use tandem_storage::engine::{DeleteRequest, IndexRequest, WriteRequest};

use super::{BulkAction, BulkDefaults, Item, Plan, BULK_ITEMS_MAX};
use crate::docs::source::body_source_filter;
use crate::docs::update::UpdateRequest;
use crate::docs::{version_check, RefreshPolicy};
use crate::error::{NodeError, NodeResult, ParseKind};

/// Splits the body into items.
pub(super) fn parse(
    body: &Bytes,
    defaults: &BulkDefaults<'_>,
    aliases: &BTreeSet<String>,
) -> NodeResult<Vec<Item>> {
    let mut lines = body
        .split(|byte| *byte == b'\n')
        .enumerate()
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace));
    let mut items = Vec::new();
    while let Some((number, line)) = lines.next() {
        if items.len() >= BULK_ITEMS_MAX {
            return Err(NodeError::illegal(format!(
                "a bulk request may hold at most {BULK_ITEMS_MAX} items"
            )));
        }
        let (mut action, meta) = parse_action(line, number + 1)?;
        if action == BulkAction::Index
            && meta.get("op_type").and_then(Value::as_str) == Some("create")
        {
            action = BulkAction::Create;
        }
        let index = meta_string(&meta, "_index")
            .or_else(|| defaults.index.map(str::to_string))
            .ok_or_else(|| NodeError::Validation(vec!["index is missing".into()]))?;
        let id = meta_string(&meta, "_id");
        let routing =
            meta_string(&meta, "routing").or_else(|| defaults.routing.map(str::to_string));
        let source = if action == BulkAction::Delete {
            None
        } else {
            let Some((_, source)) = lines.next() else {
                return Err(NodeError::illegal(
                    "The bulk request must be terminated by a newline [\\n]",
                ));
            };
            Some(source)
        };
        let id_text = id.clone().unwrap_or_default();
        let require_alias = meta
            .get("require_alias")
            .and_then(Value::as_bool)
            .unwrap_or(defaults.require_alias);
        // A view into the request body: source bytes are not copied.
        let source = source.map(|line| body.slice_ref(line));
        let plan = plan(action, &index, id, routing.clone(), &meta, source).and_then(|mut plan| {
            if let Plan::Update(update) = &mut plan {
                if update.source_filter.is_none() {
                    update.source_filter = meta
                        .get("_source")
                        .map(body_source_filter)
                        .or_else(|| defaults.source_filter.clone());
                }
            }
            if require_alias && !aliases.contains(&index) {
                return Err(NodeError::NotAnAlias {
                    index: index.clone(),
                });
            }
            Ok(plan)
        });
        let id = match &plan {
            Ok(Plan::Write(WriteRequest::Index(request))) => request.id.clone(),
            _ => id_text,
        };
        items.push(Item {
            action,
            index,
            id,
            routing,
            plan,
        });
    }
    Ok(items)
}

fn parse_action(line: &[u8], number: usize) -> NodeResult<(BulkAction, Map<String, Value>)> {
    let value: Value = serde_json::from_slice(line).map_err(|error| {
        NodeError::parse(
            ParseKind::Json,
            format!("Malformed action/metadata line [{number}]: {error}"),
        )
    })?;
    let Value::Object(object) = value else {
        return Err(NodeError::illegal(format!(
            "Malformed action/metadata line [{number}], expected START_OBJECT or END_OBJECT but found [VALUE_STRING]"
        )));
    };
    let Some((name, meta)) = object.into_iter().next() else {
        return Err(NodeError::illegal(format!(
            "Malformed action/metadata line [{number}], expected FIELD_NAME but found [END_OBJECT]"
        )));
    };
    let action = match name.as_str() {
        "index" => BulkAction::Index,
        "create" => BulkAction::Create,
        "update" => BulkAction::Update,
        "delete" => BulkAction::Delete,
        other => {
            return Err(NodeError::illegal(format!(
                "Malformed action/metadata line [{number}], expected one of [create, delete, index, update] but found [{other}]"
            )))
        }
    };
    let Value::Object(meta) = meta else {
        return Err(NodeError::illegal(format!(
            "Malformed action/metadata line [{number}], expected START_OBJECT but found [{}]",
            meta
        )));
    };
    for key in meta.keys() {
        let known = [
            "_index",
            "_id",
            "routing",
            "_routing",
            "if_seq_no",
            "if_primary_term",
            "version",
            "version_type",
            "op_type",
            "pipeline",
            "require_alias",
            "retry_on_conflict",
            "_source",
            "_type",
        ];
        if !known.contains(&key.as_str()) {
            return Err(NodeError::illegal(format!(
                "Action/metadata line [{number}] contains an unknown parameter [{key}]"
            )));
        }
    }
    Ok((action, meta))
}

fn meta_string(meta: &Map<String, Value>, key: &str) -> Option<String> {
    match meta
        .get(key)
        .or_else(|| (key == "routing").then(|| meta.get("_routing")).flatten())?
    {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn plan(
    action: BulkAction,
    index: &str,
    id: Option<String>,
    routing: Option<String>,
    meta: &Map<String, Value>,
    source: Option<Bytes>,
) -> NodeResult<Plan> {
    let if_seq_no = meta.get("if_seq_no").and_then(Value::as_i64);
    let if_primary_term = meta.get("if_primary_term").and_then(Value::as_u64);
    let version = meta.get("version").and_then(Value::as_i64);
    let version_type = meta.get("version_type").and_then(Value::as_str);
    match action {
        BulkAction::Index | BulkAction::Create => {
            let check = version_check(if_seq_no, if_primary_term, version, version_type)?;
            let create_only = action == BulkAction::Create
                || meta.get("op_type").and_then(Value::as_str) == Some("create");
            let auto_generated_id = id.is_none();
            let id = id.unwrap_or_else(crate::ids::auto_doc_id);
            crate::rest::params::validate_id(&id)?;
            Ok(Plan::Write(WriteRequest::Index(IndexRequest {
                id,
                source: source.unwrap_or_default(),
                routing,
                create_only: create_only || auto_generated_id,
                version_check: check,
                auto_generated_id,
            })))
        }
        BulkAction::Delete => {
            let id = id.ok_or_else(|| NodeError::Validation(vec!["id is missing".into()]))?;
            let check = version_check(if_seq_no, if_primary_term, version, version_type)?;
            Ok(Plan::Write(WriteRequest::Delete(DeleteRequest {
                id,
                routing,
                version_check: check,
            })))
        }
        BulkAction::Update => {
            let id = id.ok_or_else(|| NodeError::Validation(vec!["id is missing".into()]))?;
            let body: Value = serde_json::from_slice(source.as_deref().unwrap_or_default())
                .map_err(|error| NodeError::parse(ParseKind::Json, error.to_string()))?;
            let mut request = UpdateRequest {
                index: index.to_string(),
                id,
                routing,
                doc: None,
                upsert: None,
                doc_as_upsert: false,
                detect_noop: true,
                retry_on_conflict: meta
                    .get("retry_on_conflict")
                    .and_then(Value::as_u64)
                    .map_or(0, |retries| u32::try_from(retries).unwrap_or(u32::MAX)),
                if_seq_no: if_seq_no.zip(if_primary_term),
                refresh: RefreshPolicy::None,
                source_filter: None,
            };
            request.parse_body(body)?;
            Ok(Plan::Update(Box::new(request)))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Line format rules: actions, metadata keys, auto ids and OpenSearch's messages.
    use super::*;

    fn items(body: &str) -> NodeResult<Vec<Item>> {
        let body = Bytes::copy_from_slice(body.as_bytes());
        parse(&body, &BulkDefaults::default(), &BTreeSet::new())
    }

    #[test]
    fn actions_and_sources_pair_up() {
        let body = "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"f\":1}\n{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{\"index\":{\"_index\":\"a\"}}\n{\"f\":2}\n";
        let parsed = items(body).expect("valid bulk");
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[1].action, BulkAction::Delete);
        assert_eq!(parsed[2].id.len(), 20, "an auto id has OpenSearch's length");
    }

    #[test]
    fn op_type_create_in_metadata_makes_a_create() {
        let body = "{\"index\":{\"_index\":\"a\",\"op_type\":\"create\"}}\n{}\n";
        assert_eq!(items(body).expect("valid")[0].action, BulkAction::Create);
    }

    #[test]
    fn malformed_metadata_fails_the_request_with_opensearch_messages() {
        let error = items("{\"explode\":{}}\n{}\n").expect_err("refused");
        assert!(error
            .to_string()
            .contains("expected one of [create, delete, index, update]"));
        let error = items("{\"index\":{\"_index\":\"a\",\"bogus\":1}}\n{}\n").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "Action/metadata line [1] contains an unknown parameter [bogus]"
        );
        let error = items("{\"index\":{}}\n{}\n").expect_err("refused");
        assert_eq!(error.to_string(), "Validation Failed: 1: index is missing;");
    }

    #[test]
    fn a_bad_item_is_an_item_error() {
        let body = "{\"index\":{\"_index\":\"a\",\"_id\":\"\"}}\n{}\n{\"index\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{}\n";
        let parsed = items(body).expect("the request itself is fine");
        assert!(parsed[0].plan.is_err());
        assert!(parsed[1].plan.is_ok());
    }
}
