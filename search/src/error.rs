//! Search failures and the one table mapping them to OpenSearch's error `type`, `reason` and
//! HTTP status.
//!
//! Two families exist, as in OpenSearch. Request errors (a malformed body, a bad parameter) are
//! found before any shard runs and render as a plain error object. Shard errors (a value that
//! does not fit a field's type, too many clauses) are found while a shard compiles or runs the
//! query; when every shard fails they render as `search_phase_execution_exception` with the
//! shard causes under `root_cause` and `failed_shards`, and when only some fail the response
//! lists them under `_shards.failures`. This module must never decide how a query runs.

use serde_json::{json, Map, Value};

/// Why a search or count request failed as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// The body does not parse as the search DSL (`parsing_exception`, 400).
    #[error("{0}")]
    Parsing(String),
    /// A value in the body has the wrong shape (`x_content_parse_exception`, 400).
    #[error("{0}")]
    XContentParse(String),
    /// A parameter is out of range or contradicts another (`illegal_argument_exception`, 400).
    #[error("{0}")]
    IllegalArgument(String),
    /// Aggregations would create more buckets than `AGG_BUCKETS_MAX`
    /// (`too_many_buckets_exception`, 400).
    #[error("{0}")]
    TooManyBuckets(String),
    /// Every shard failed (`search_phase_execution_exception`).
    #[error("all shards failed")]
    AllShardsFailed {
        /// The search phase that failed (`query` or `fetch`).
        phase: &'static str,
        /// One entry per failed shard, in shard order.
        failures: Vec<ShardFailure>,
    },
}

/// One shard's failure.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardFailure {
    /// The index the shard belongs to.
    pub index: String,
    /// The shard number.
    pub shard: u32,
    /// What went wrong.
    pub cause: FailureCause,
}

/// The cause of a shard failure, with its OpenSearch type.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureCause {
    /// The OpenSearch error type.
    pub kind: FailureKind,
    /// OpenSearch's reason text.
    pub reason: String,
}

/// The OpenSearch error types a shard failure is reported as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// `query_shard_exception` (400): the query does not fit the index's mapping.
    QueryShard,
    /// `illegal_argument_exception` (400).
    IllegalArgument,
    /// `parse_exception` (400): a value (a date) does not parse in the field's format.
    Parse,
    /// `too_many_clauses` (400): more leaf clauses than `QUERY_CLAUSES_MAX`.
    TooManyClauses,
    /// `too_many_buckets_exception` (400): more buckets than `AGG_BUCKETS_MAX`.
    TooManyBuckets,
    /// `exception` (500): the index could not be read.
    Internal,
}

impl FailureKind {
    /// The OpenSearch `type` string.
    pub fn opensearch_type(self) -> &'static str {
        match self {
            FailureKind::QueryShard => "query_shard_exception",
            FailureKind::IllegalArgument => "illegal_argument_exception",
            FailureKind::Parse => "parse_exception",
            FailureKind::TooManyClauses => "too_many_clauses",
            FailureKind::TooManyBuckets => "too_many_buckets_exception",
            FailureKind::Internal => "exception",
        }
    }

    /// The HTTP status OpenSearch answers with.
    pub fn status(self) -> u16 {
        match self {
            FailureKind::Internal => 500,
            _ => 400,
        }
    }
}

impl FailureCause {
    pub(crate) fn query_shard(reason: impl Into<String>) -> FailureCause {
        FailureCause {
            kind: FailureKind::QueryShard,
            reason: reason.into(),
        }
    }

    pub(crate) fn illegal_argument(reason: impl Into<String>) -> FailureCause {
        FailureCause {
            kind: FailureKind::IllegalArgument,
            reason: reason.into(),
        }
    }

    /// A `text` field asked for per-document values (sorting, aggregations, doc values).
    pub(crate) fn text_field_data(path: &str) -> FailureCause {
        FailureCause::illegal_argument(format!(
            "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [{path}] in order to load field data by uninverting the inverted index. Note that this can use significant memory."
        ))
    }

    pub(crate) fn parse(reason: impl Into<String>) -> FailureCause {
        FailureCause {
            kind: FailureKind::Parse,
            reason: reason.into(),
        }
    }

    pub(crate) fn internal(reason: impl Into<String>) -> FailureCause {
        FailureCause {
            kind: FailureKind::Internal,
            reason: reason.into(),
        }
    }
}

impl From<tantivy::TantivyError> for FailureCause {
    fn from(error: tantivy::TantivyError) -> FailureCause {
        FailureCause::internal(format!("index error: {error}"))
    }
}

impl ShardFailure {
    /// The cause as OpenSearch prints it under `root_cause` and `reason`.
    pub fn cause_json(&self) -> Value {
        json!({
            "type": self.cause.kind.opensearch_type(),
            "reason": self.cause.reason,
            "index": self.index,
        })
    }

    /// The entry OpenSearch prints under `_shards.failures` and `failed_shards`.
    pub fn to_json(&self) -> Value {
        json!({
            "shard": self.shard,
            "index": self.index,
            "reason": self.cause_json(),
        })
    }
}

impl SearchError {
    /// The OpenSearch `type` of the top-level error.
    pub fn error_type(&self) -> &'static str {
        match self {
            SearchError::Parsing(_) => "parsing_exception",
            SearchError::XContentParse(_) => "x_content_parse_exception",
            SearchError::IllegalArgument(_) => "illegal_argument_exception",
            SearchError::TooManyBuckets(_) => "too_many_buckets_exception",
            SearchError::AllShardsFailed { .. } => "search_phase_execution_exception",
        }
    }

    /// The OpenSearch `reason` of the top-level error.
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// The HTTP status: 400 for request errors; for shard failures the first failure's, unless
    /// a later one is a server error (as OpenSearch decides).
    pub fn status(&self) -> u16 {
        match self {
            SearchError::AllShardsFailed { failures, .. } => {
                let mut status = failures.first().map_or(503, |f| f.cause.kind.status());
                for failure in failures.iter().skip(1) {
                    if failure.cause.kind.status() >= 500 {
                        status = failure.cause.kind.status();
                    }
                }
                status
            }
            _ => 400,
        }
    }

    /// The whole error body the node sends: `{"error": {...}, "status": N}`.
    ///
    /// Request errors render as `{"root_cause": [{type, reason}], "type", "reason"}`. Shard
    /// failures render as `search_phase_execution_exception` with `phase`, `grouped: true`,
    /// the distinct causes under `root_cause` and one entry per distinct (index, cause) under
    /// `failed_shards`.
    pub fn to_json(&self) -> Value {
        let error = match self {
            SearchError::AllShardsFailed { phase, failures } => {
                let grouped = group_failures(failures);
                let root_cause: Vec<Value> = grouped.iter().map(|f| f.cause_json()).collect();
                let failed_shards: Vec<Value> = grouped.iter().map(|f| f.to_json()).collect();
                json!({
                    "root_cause": root_cause,
                    "type": self.error_type(),
                    "reason": self.reason(),
                    "phase": phase,
                    "grouped": true,
                    "failed_shards": failed_shards,
                })
            }
            _ => {
                let mut cause = Map::new();
                cause.insert("type".into(), Value::from(self.error_type()));
                cause.insert("reason".into(), Value::from(self.reason()));
                let mut error = cause.clone();
                error.insert(
                    "root_cause".into(),
                    Value::Array(vec![Value::Object(cause)]),
                );
                // Keep OpenSearch's key order: root_cause first.
                let mut ordered = Map::new();
                for key in ["root_cause", "type", "reason"] {
                    if let Some(value) = error.remove(key) {
                        ordered.insert(key.into(), value);
                    }
                }
                Value::Object(ordered)
            }
        };
        json!({ "error": error, "status": self.status() })
    }
}

/// One failure per distinct (index, type, reason), as OpenSearch's `grouped` output.
fn group_failures(failures: &[ShardFailure]) -> Vec<&ShardFailure> {
    let mut grouped: Vec<&ShardFailure> = Vec::new();
    for failure in failures {
        let seen = grouped
            .iter()
            .any(|g| g.index == failure.index && g.cause == failure.cause);
        if !seen {
            grouped.push(failure);
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(index: &str, shard: u32, kind: FailureKind, reason: &str) -> ShardFailure {
        ShardFailure {
            index: index.into(),
            shard,
            cause: FailureCause {
                kind,
                reason: reason.into(),
            },
        }
    }

    #[test]
    fn request_errors_render_with_a_root_cause() {
        let error = SearchError::Parsing("unknown query [foo]".into());
        assert_eq!(error.status(), 400);
        assert_eq!(
            error.to_json(),
            json!({
                "error": {
                    "root_cause": [{"type": "parsing_exception", "reason": "unknown query [foo]"}],
                    "type": "parsing_exception",
                    "reason": "unknown query [foo]",
                },
                "status": 400,
            })
        );
    }

    #[test]
    fn shard_failures_are_grouped_by_index_and_cause() {
        let error = SearchError::AllShardsFailed {
            phase: "query",
            failures: vec![
                failure("a", 0, FailureKind::QueryShard, "bad number"),
                failure("a", 1, FailureKind::QueryShard, "bad number"),
                failure("b", 0, FailureKind::QueryShard, "bad number"),
            ],
        };
        let body = error.to_json();
        assert_eq!(body["status"], 400);
        assert_eq!(body["error"]["type"], "search_phase_execution_exception");
        assert_eq!(body["error"]["reason"], "all shards failed");
        assert_eq!(
            body["error"]["root_cause"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(body["error"]["failed_shards"][1]["index"], "b");
    }

    #[test]
    fn a_server_error_on_any_shard_makes_the_status_5xx() {
        let error = SearchError::AllShardsFailed {
            phase: "query",
            failures: vec![
                failure("a", 0, FailureKind::QueryShard, "x"),
                failure("a", 1, FailureKind::Internal, "y"),
            ],
        };
        assert_eq!(error.status(), 500);
    }
}
