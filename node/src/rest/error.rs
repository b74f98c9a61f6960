//! The one table from node errors (and storage's error kinds) to HTTP status and OpenSearch
//! error `type`, and the OpenSearch error body built from them.
//!
//! It owns every status and type string the REST surface reports for a failure. It must never
//! decide whether something failed: callers hand it errors.

use axum::http::StatusCode;
use serde_json::{json, Map, Value};
use tandem_storage::translog::TranslogError;
use tandem_storage::EngineError;

use crate::error::{NodeError, ParseKind};

/// Status and OpenSearch type of an error.
pub fn status_and_type(error: &NodeError) -> (StatusCode, &'static str) {
    match error {
        NodeError::IndexNotFound { .. } | NodeError::NotAnAlias { .. } => {
            (StatusCode::NOT_FOUND, "index_not_found_exception")
        }
        NodeError::IndexAlreadyExists { .. } => {
            (StatusCode::BAD_REQUEST, "resource_already_exists_exception")
        }
        NodeError::InvalidIndexName { .. } => {
            (StatusCode::BAD_REQUEST, "invalid_index_name_exception")
        }
        NodeError::IndexClosed { .. } => (StatusCode::BAD_REQUEST, "index_closed_exception"),
        NodeError::IllegalArgument(_) => (StatusCode::BAD_REQUEST, "illegal_argument_exception"),
        NodeError::Validation(_) => (
            StatusCode::BAD_REQUEST,
            "action_request_validation_exception",
        ),
        NodeError::Parse { kind, .. } => (StatusCode::BAD_REQUEST, parse_type(*kind)),
        NodeError::DocumentParse { .. } => (StatusCode::BAD_REQUEST, "mapper_parsing_exception"),
        NodeError::VersionConflict { .. } => {
            (StatusCode::CONFLICT, "version_conflict_engine_exception")
        }
        NodeError::DocumentMissing { .. } => (StatusCode::NOT_FOUND, "document_missing_exception"),
        NodeError::Mapping(mapping) => (StatusCode::BAD_REQUEST, mapping.kind.opensearch_type()),
        NodeError::Engine(engine) => engine_status_and_type(engine),
        NodeError::AliasesNotFound(_) => (StatusCode::NOT_FOUND, "aliases_not_found_exception"),
        NodeError::ResourceNotFound(_) => (StatusCode::NOT_FOUND, "resource_not_found_exception"),
        NodeError::ContentTooLong { .. } => {
            (StatusCode::PAYLOAD_TOO_LARGE, "content_too_long_exception")
        }
        NodeError::NoHandler { .. } => (StatusCode::BAD_REQUEST, "illegal_argument_exception"),
        NodeError::MethodNotAllowed { .. } => {
            (StatusCode::METHOD_NOT_ALLOWED, "illegal_argument_exception")
        }
        NodeError::Unsupported(_) => (StatusCode::BAD_REQUEST, "illegal_argument_exception"),
        NodeError::Blocked { block, .. } if block.starts_with("TOO_MANY_REQUESTS") => {
            (StatusCode::TOO_MANY_REQUESTS, "cluster_block_exception")
        }
        NodeError::Blocked { .. } => (StatusCode::FORBIDDEN, "cluster_block_exception"),
        NodeError::ShardsUnavailable { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no_shard_available_action_exception",
        ),
        NodeError::Search(search) => (
            StatusCode::from_u16(search.status()).unwrap_or(StatusCode::BAD_REQUEST),
            search.error_type(),
        ),
        NodeError::State(_) | NodeError::Internal(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "exception")
        }
    }
}

fn parse_type(kind: ParseKind) -> &'static str {
    match kind {
        ParseKind::Json => "json_parse_exception",
        ParseKind::Parsing => "parsing_exception",
        ParseKind::XContent => "x_content_parse_exception",
        ParseKind::MapperParsing => "mapper_parsing_exception",
        ParseKind::Parse => "parse_exception",
    }
}

/// Storage's errors: bad input is a 4xx with the type OpenSearch uses, the rest is a 500.
fn engine_status_and_type(error: &EngineError) -> (StatusCode, &'static str) {
    match error {
        EngineError::VersionConflict { .. } => {
            (StatusCode::CONFLICT, "version_conflict_engine_exception")
        }
        EngineError::Mapping(mapping) => (StatusCode::BAD_REQUEST, mapping.kind.opensearch_type()),
        EngineError::MappingUpdateRequired { .. } | EngineError::NeedsMappingVersion { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "mapper_exception")
        }
        EngineError::IllegalArgument(_) => (StatusCode::BAD_REQUEST, "illegal_argument_exception"),
        EngineError::IllegalState(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "illegal_state_exception")
        }
        EngineError::Translog(TranslogError::HistoryGone { .. }) => {
            (StatusCode::BAD_REQUEST, "resource_not_found_exception")
        }
        EngineError::Corrupt { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "corrupt_index_exception")
        }
        EngineError::Failed(_) => (StatusCode::INTERNAL_SERVER_ERROR, "engine_exception"),
        EngineError::SnapshotNotFound(_) => (StatusCode::NOT_FOUND, "resource_not_found_exception"),
        EngineError::Translog(_)
        | EngineError::Record(_)
        | EngineError::Lease(_)
        | EngineError::Index(_)
        | EngineError::IndexFeed(_)
        | EngineError::Io { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "exception"),
    }
}

/// The `{type, reason, ...}` object OpenSearch puts in `root_cause` and `error`.
pub fn cause(error: &NodeError) -> Map<String, Value> {
    let (_, kind) = status_and_type(error);
    let mut object = Map::new();
    object.insert("type".into(), json!(kind));
    object.insert("reason".into(), json!(error.to_string()));
    match error {
        NodeError::IndexNotFound { index } | NodeError::NotAnAlias { index } => {
            object.insert("resource.type".into(), json!("index_or_alias"));
            object.insert("resource.id".into(), json!(index));
            object.insert("index_uuid".into(), json!("_na_"));
            object.insert("index".into(), json!(index));
        }
        NodeError::IndexAlreadyExists { index, uuid } | NodeError::IndexClosed { index, uuid } => {
            object.insert("index_uuid".into(), json!(uuid));
            object.insert("index".into(), json!(index));
        }
        NodeError::InvalidIndexName { index, .. } => {
            object.insert("index_uuid".into(), json!("_na_"));
            object.insert("index".into(), json!(index));
        }
        NodeError::VersionConflict {
            index, uuid, shard, ..
        }
        | NodeError::DocumentMissing {
            index, uuid, shard, ..
        } => {
            object.insert("index_uuid".into(), json!(uuid));
            object.insert("shard".into(), json!(shard.to_string()));
            object.insert("index".into(), json!(index));
        }
        _ => {}
    }
    object
}

/// The whole OpenSearch error body and its status.
pub fn error_body(error: &NodeError) -> (StatusCode, Value) {
    let (status, _) = status_and_type(error);
    if let NodeError::Search(search) = error {
        // The search crate renders its own bodies (grouped shard failures, `phase`).
        return (status, search.to_json());
    }
    let cause = cause(error);
    let mut top = cause.clone();
    if let NodeError::DocumentParse { cause } = error {
        top.insert(
            "caused_by".into(),
            json!({"type": "json_parse_exception", "reason": cause}),
        );
    }
    let mut error_object = Map::new();
    error_object.insert(
        "root_cause".into(),
        Value::Array(vec![Value::Object(cause)]),
    );
    for (key, value) in top {
        error_object.insert(key, value);
    }
    (
        status,
        json!({"error": Value::Object(error_object), "status": status.as_u16()}),
    )
}

#[cfg(test)]
mod tests {
    //! The table's rows for the errors clients depend on.
    use super::*;

    #[test]
    fn index_not_found_has_opensearch_shape() {
        let (status, body) = error_body(&NodeError::no_index("x"));
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["status"], 404);
        assert_eq!(body["error"]["type"], "index_not_found_exception");
        assert_eq!(body["error"]["reason"], "no such index [x]");
        assert_eq!(body["error"]["index_uuid"], "_na_");
        assert_eq!(body["error"]["root_cause"][0]["resource.id"], "x");
    }

    #[test]
    fn conflicts_are_409_and_validation_is_400() {
        let conflict = NodeError::VersionConflict {
            index: "i".into(),
            uuid: "u".into(),
            shard: 0,
            reason: "r".into(),
        };
        assert_eq!(status_and_type(&conflict).0, StatusCode::CONFLICT);
        let validation = NodeError::Validation(vec!["a".into(), "b".into()]);
        assert_eq!(validation.to_string(), "Validation Failed: 1: a;2: b;");
        assert_eq!(status_and_type(&validation).0, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn too_long_bodies_are_413() {
        let error = NodeError::ContentTooLong { bytes: 2, max: 1 };
        assert_eq!(status_and_type(&error).0, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
