//! `_update`: partial documents, upserts and no-op detection, as a read, a merge and a
//! conditional write (`if_seq_no`), retried on conflict.
//!
//! It owns the merge semantics (objects merge key by key, everything else replaces) and the
//! retry loop. It must never bypass the engine's version check: a concurrent write between
//! the read and the write makes the write fail and the loop read again.

use bytes::Bytes;
use serde_json::Value;
use tandem_storage::engine::{IndexRequest, VersionCheck, WriteOutcome, WriteRequest};

use super::get::get_doc;
use super::source::{body_source_filter, SourceFilter};
use super::{refresh_after, target, write_to_shard, DocTarget, RefreshPolicy};
use crate::error::{NodeError, NodeResult, ParseKind};
use crate::indices::IndexService;

/// Most retries `retry_on_conflict` may ask for.
pub const UPDATE_RETRIES_MAX: u32 = 1000;

/// A parsed `_update` request.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// The index.
    pub index: String,
    /// The id.
    pub id: String,
    /// Routing.
    pub routing: Option<String>,
    /// The partial document.
    pub doc: Option<Value>,
    /// The document to create if missing.
    pub upsert: Option<Value>,
    /// Use `doc` as the upsert.
    pub doc_as_upsert: bool,
    /// Report `noop` when the merge changes nothing.
    pub detect_noop: bool,
    /// Extra attempts after a version conflict.
    pub retry_on_conflict: u32,
    /// Explicit `if_seq_no`/`if_primary_term`.
    pub if_seq_no: Option<(i64, u64)>,
    /// Refresh policy.
    pub refresh: RefreshPolicy,
    /// `_source` asked for in the response's `get` (body, metadata or parameters).
    pub source_filter: Option<SourceFilter>,
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct UpdateOutcome {
    /// `created`, `updated` or `noop`.
    pub result: &'static str,
    /// Version after.
    pub version: i64,
    /// Seq-no after.
    pub seq_no: i64,
    /// Term after.
    pub primary_term: u64,
    /// The document after the update.
    pub source: Value,
    /// Where it lives.
    pub target: DocTarget,
    /// `forced_refresh`.
    pub forced_refresh: bool,
    /// The `_source` filter of `get` in the response, if asked for.
    pub source_filter: Option<SourceFilter>,
}

impl UpdateRequest {
    /// Parses an `_update` body.
    pub fn parse_body(&mut self, body: Value) -> NodeResult<()> {
        let Value::Object(object) = body else {
            return Err(NodeError::parse(
                ParseKind::Parse,
                "request body must be an object",
            ));
        };
        for (key, value) in object {
            match key.as_str() {
                "doc" => self.doc = Some(value),
                "upsert" => self.upsert = Some(value),
                "doc_as_upsert" => self.doc_as_upsert = value.as_bool().unwrap_or(false),
                "detect_noop" => self.detect_noop = value.as_bool().unwrap_or(true),
                "_source" => self.source_filter = Some(body_source_filter(&value)),
                "script" | "scripted_upsert" => {
                    return Err(NodeError::Unsupported(
                        "scripted updates are not supported".into(),
                    ))
                }
                other => {
                    let known = [
                        "doc",
                        "upsert",
                        "doc_as_upsert",
                        "detect_noop",
                        "_source",
                        "script",
                        "scripted_upsert",
                    ];
                    let hint = known
                        .iter()
                        .find(|candidate| edit_distance(other, candidate) <= 2)
                        .map(|candidate| format!(" did you mean [{candidate}]?"))
                        .unwrap_or_default();
                    return Err(NodeError::parse(
                        ParseKind::XContent,
                        format!("[UpdateRequest] unknown field [{other}]{hint}"),
                    ));
                }
            }
        }
        if self.doc.is_none() && self.upsert.is_none() {
            return Err(NodeError::Validation(vec![
                "script or doc is missing".into()
            ]));
        }
        Ok(())
    }
}

/// Runs an update.
pub fn update_doc(indices: &IndexService, request: &UpdateRequest) -> NodeResult<UpdateOutcome> {
    let attempts = request.retry_on_conflict.min(UPDATE_RETRIES_MAX) + 1;
    let mut last_error = None;
    for _ in 0..attempts {
        match update_once(indices, request) {
            Err(error @ NodeError::VersionConflict { .. }) if request.if_seq_no.is_none() => {
                last_error = Some(error);
            }
            other => return other,
        }
    }
    Err(last_error.unwrap_or_else(|| NodeError::Internal("update made no attempt".into())))
}

fn update_once(indices: &IndexService, request: &UpdateRequest) -> NodeResult<UpdateOutcome> {
    let routing = request.routing.as_deref().unwrap_or(&request.id);
    let target = target(indices, &request.index, routing, true)?;
    let current = match get_doc(
        indices,
        &target.handle.name,
        &request.id,
        request.routing.as_deref(),
        false,
    ) {
        Ok(outcome) => outcome.doc,
        Err(error) => return Err(error),
    };
    let (new_source, check, create) = match current {
        None => {
            let upsert = if request.doc_as_upsert {
                request.doc.clone()
            } else {
                request.upsert.clone()
            };
            let Some(upsert) = upsert else {
                return Err(NodeError::DocumentMissing {
                    index: target.handle.name.clone(),
                    uuid: target.handle.uuid.clone(),
                    shard: target.shard,
                    id: request.id.clone(),
                });
            };
            (upsert, VersionCheck::None, true)
        }
        Some(found) => {
            if let Some((seq_no, term)) = request.if_seq_no {
                if found.state.seq_no != seq_no || found.state.primary_term != term {
                    return Err(NodeError::VersionConflict {
                        index: target.handle.name.clone(),
                        uuid: target.handle.uuid.clone(),
                        shard: target.shard,
                        reason: format!(
                            "[{}]: version conflict, required seqNo [{seq_no}], primary term [{term}]. current document has seqNo [{}] and primary term [{}]",
                            request.id, found.state.seq_no, found.state.primary_term
                        ),
                    });
                }
            }
            let mut merged = found.source.clone();
            if let Some(doc) = &request.doc {
                merge(&mut merged, doc);
            }
            if request.detect_noop && merged == found.source {
                return Ok(UpdateOutcome {
                    result: "noop",
                    version: found.state.version,
                    seq_no: found.state.seq_no,
                    primary_term: found.state.primary_term,
                    source: merged,
                    target,
                    forced_refresh: false,
                    source_filter: request.source_filter.clone(),
                });
            }
            let check = VersionCheck::IfSeqNo {
                seq_no: found.state.seq_no,
                primary_term: found.state.primary_term,
            };
            (merged, check, false)
        }
    };
    let bytes =
        serde_json::to_vec(&new_source).map_err(|error| NodeError::Internal(error.to_string()))?;
    let write = WriteRequest::Index(IndexRequest {
        id: request.id.clone(),
        source: Bytes::from(bytes),
        routing: request.routing.clone(),
        create_only: create,
        version_check: check,
        auto_generated_id: false,
    });
    let mut results = write_to_shard(indices, &target, std::slice::from_ref(&write))?;
    let result = results
        .pop()
        .ok_or_else(|| NodeError::Internal("no result for an update".into()))??;
    let forced_refresh = refresh_after(&target, request.refresh)?;
    Ok(UpdateOutcome {
        result: match result.outcome {
            WriteOutcome::Created => "created",
            _ => "updated",
        },
        version: result.version,
        seq_no: result.seq_no,
        primary_term: result.primary_term,
        source: new_source,
        target,
        forced_refresh,
        source_filter: request.source_filter.clone(),
    })
}

/// Merges `patch` into `base`: objects key by key, anything else replaces.
pub fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// Levenshtein distance, for "did you mean" hints on misspelled body fields.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (row, left_char) in left.chars().enumerate() {
        let mut current = vec![row + 1];
        for (column, right_char) in right.iter().enumerate() {
            let substitution = previous[column] + usize::from(left_char != *right_char);
            current.push(
                substitution
                    .min(previous[column + 1] + 1)
                    .min(current[column] + 1),
            );
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    //! Merge semantics.
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_merge_and_scalars_replace() {
        let mut base = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge(&mut base, &json!({"a": {"b": 3}, "d": [2], "e": true}));
        assert_eq!(base, json!({"a": {"b": 3, "c": 2}, "d": [2], "e": true}));
    }
}
